//! Which consumers and sinks run: the one place that knows every service, used by the local
//! server and the function binaries.

use std::sync::Arc;

use crate::kernel::consume::{BatchHandler, EventSink};
use crate::kernel::state::AppState;
use crate::runtime::workers::events::EventsWorker;

/// The sinks every events consumer applies (side by side: none reads what another writes).
pub fn sinks() -> Vec<Arc<dyn EventSink>> {
    vec![
        Arc::new(crate::analytics::aggregate::AnalyticsSink),
        Arc::new(crate::ledger::sink::CommissionsSink {
            risk: &crate::risk::Holds,
            confidence: Default::default(),
        }),
        // Coupon codes' sales and leak alerts (issue 63): an alert is an event of its own.
        Arc::new(crate::coupon_leaks::sink::CouponLeakSink),
        Arc::new(crate::webhooks::fanout::WebhookFanout),
        // Mail of the events that send it (issue 59), queued once per event.
        Arc::new(crate::mail::sink::MailSink),
        // Mail to the handle's admins (applications, claims, coupon leaks), once per event.
        Arc::new(crate::people::admin_mail::AdminMailSink),
        // The handles with events in a week, summed up to their admins the next (issue 59).
        Arc::new(crate::weekly::sink::WeeklySink),
    ]
}

/// The mail worker, with the files its messages carry (a paid payout's self-billing invoice).
pub fn mail_worker(state: &AppState) -> crate::mail::worker::MailWorker {
    crate::mail::worker::MailWorker::new(state.clone()).with_files(Arc::new(
        crate::payouts::invoice_mail::InvoiceFiles {
            state: state.clone(),
        },
    ))
}

/// The sinks the click stream's consumer applies before its own counters (`analytics::stream`
/// counts clicks there, exactly once per shard checkpoint).
pub fn click_sinks() -> Vec<Arc<dyn EventSink>> {
    vec![Arc::new(crate::webhooks::fanout::WebhookFanout)]
}

/// Every consumer of the product's queues, as the local server runs them.
pub fn handlers(state: &AppState) -> Vec<Arc<dyn BatchHandler>> {
    vec![
        Arc::new(EventsWorker {
            state: state.clone(),
            sinks: sinks(),
        }),
        Arc::new(crate::webhooks::delivery::DeliveryWorker::new(
            state.clone(),
        )),
        Arc::new(mail_worker(state)),
        Arc::new(crate::mail::feedback::FeedbackWorker::new(state.clone())),
        Arc::new(crate::imports::worker::ImportWorker::new(state.clone())),
    ]
}
