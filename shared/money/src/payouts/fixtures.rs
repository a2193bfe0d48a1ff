//! What the payouts' tests build on: a partner's lines, one program's books in memory (its
//! store, queue and sealing keys) with a pending payout made as a run makes it, the partner's
//! payout method and the program's providers, and a Stripe of the test's own on loopback that
//! keeps what it was asked.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::domain::sealed::Keyring;
use crate::domain::time::Timestamp;
use crate::domain::{CommissionId, Currency, Handle, PartnerId, PayoutId};
use crate::kernel::io::Io;
use crate::ledger::model::{Commission, Kind, Status};
use crate::payout_methods::model::{Details, MethodRecord, Pending};
use crate::payout_providers::Credentials;
use crate::payouts::model::{Payout, PayoutStatus};
use crate::platform::queue::Queue;
use crate::platform::queue::embedded::EmbeddedQueue;
use crate::platform::store::embedded::EmbeddedStore;
use crate::platform::store::{Cond, Store, WriteOp};

pub(crate) fn partner() -> PartnerId {
    PartnerId::parse("pub-one").unwrap()
}

pub(crate) fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// An approved line of `partner()` of `minor` cents in EUR, available at `available_ms`.
pub(crate) fn line(minor: Option<i64>, available_ms: i64) -> Commission {
    let mut l = Commission::blank(
        CommissionId::new(),
        Kind::Conversion,
        partner(),
        minor,
        eur(),
        Status::Approved,
    );
    l.available_at = Timestamp::from_millis(available_ms);
    l
}

/// A pending payout `id` of `partner()` for `amounts` cents in EUR, as a run writes it (its
/// lines' pages not written).
pub(crate) fn payout_of(id: PayoutId, amounts: &[i64]) -> Payout {
    let now_ms = crate::platform::time::now_millis();
    Payout {
        payout_id: id,
        partner_id: partner(),
        amount_minor: amounts.iter().sum(),
        currency: eur(),
        commission_count: amounts.len(),
        commission_ids: Vec::new(),
        line_pages: 0,
        status: PayoutStatus::Pending,
        period_start: crate::domain::time::unix_millis_to_rfc3339(now_ms),
        period_end: crate::domain::time::unix_millis_to_rfc3339(now_ms),
        sequence: 1,
        created_at: crate::platform::time::timestamp(),
        paid_at: None,
        reference: None,
        reason: None,
        created_by: "test".into(),
        provider: None,
        merkle_root: String::new(),
        previous_statement_hash: None,
        statement_hash: String::new(),
        jws: String::new(),
        invoice_sequence: None,
        test: false,
        version: 1,
    }
}

/// `record` changed just now and not confirmed yet: its partner's payouts wait (the
/// account-takeover window).
pub(crate) fn unconfirmed(record: &MethodRecord) -> MethodRecord {
    let mut changed = record.clone();
    changed.pending = Some(Pending {
        changed_at: crate::platform::time::timestamp(),
        changed_by: "test".into(),
        previous: record.masked.clone(),
    });
    changed.version += 1;
    changed
}

/// One program's books in memory, and the keys its secrets are sealed with.
pub(crate) struct Books {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) queue: Arc<dyn Queue>,
    pub(crate) handle: Handle,
    pub(crate) keys: Keyring,
}

impl Books {
    pub(crate) fn new() -> Self {
        Books {
            store: Arc::new(EmbeddedStore::in_memory()),
            queue: Arc::new(EmbeddedQueue::in_memory()),
            handle: Handle::parse("acme").unwrap(),
            keys: Keyring::parse(&Keyring::generate_spec()).unwrap(),
        }
    }

    pub(crate) fn io(&self) -> Io<'_> {
        Io::new(&self.store, &self.queue)
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A pending payout of `partner()` holding new approved lines of `amounts` cents, as a run
    /// leaves it: its lines claimed, their ids and leaves in pages beside it, its pointer in the
    /// pending list.
    pub(crate) async fn payout(&self, amounts: &[i64]) -> Payout {
        let id = PayoutId::new();
        let now_ms = crate::platform::time::now_millis();
        let mut lines = Vec::with_capacity(amounts.len());
        for &minor in amounts {
            let mut l = line(Some(minor), now_ms);
            l.payout_id = Some(id.clone());
            let ops = l.create(&self.handle).unwrap();
            crate::ledger::emit::commit(self.io(), &self.handle, ops, Vec::new())
                .await
                .unwrap();
            lines.push(l);
        }
        let ids: Vec<CommissionId> = lines.iter().map(|l| l.commission_id.clone()).collect();
        let leaves: Vec<_> = lines
            .iter()
            .map(crate::payouts::statement::leaf_hash_of)
            .collect();
        let pages = crate::payouts::lines::write(self.store(), &self.handle, &id, (&ids, &leaves))
            .await
            .unwrap();
        let mut payout = payout_of(id.clone(), amounts);
        (payout.commission_count, payout.line_pages) = (ids.len(), pages);
        let ops = vec![
            WriteOp::Put {
                item: payout.item(&self.handle).unwrap(),
                cond: Cond::Absent,
            },
            crate::payouts::pending::entry_op(&self.handle, &id),
        ];
        self.store.transact(ops).await.unwrap();
        payout
    }

    /// The payout as stored now.
    pub(crate) async fn reread(&self, p: &Payout) -> Payout {
        crate::payouts::get(self.store(), &self.handle, &p.payout_id)
            .await
            .unwrap()
            .unwrap()
    }

    /// `p`'s lines as stored now, in its order.
    pub(crate) async fn lines_of(&self, p: &Payout) -> Vec<Commission> {
        let ids = crate::payouts::lines::ids(self.store(), &self.handle, p)
            .await
            .unwrap();
        crate::payouts::select::read_lines(self.store(), &self.handle, &ids)
            .await
            .unwrap()
    }

    /// `partner()`'s payout method of `details`, set for the first time.
    pub(crate) async fn method(&self, details: Details) -> MethodRecord {
        let first = crate::payout_methods::set::first_setting;
        let ops = first(&self.keys, &self.handle, &partner(), &details, "test").unwrap();
        self.store.transact(ops).await.unwrap();
        crate::payout_methods::get(self.store(), &self.handle, &partner())
            .await
            .unwrap()
            .unwrap()
    }

    /// `record` stored as it is, at its own version (a change of the method, or a confirmation).
    pub(crate) async fn put_method(&self, record: &MethodRecord) {
        let put = WriteOp::Put {
            item: record.item(&self.handle).unwrap(),
            cond: Cond::None,
        };
        self.store.write(put).await.unwrap();
    }

    /// `partner()` paid through a Stripe account of its own, which the program pays from its
    /// Stripe account, connected.
    pub(crate) async fn paid_through_stripe(&self) -> MethodRecord {
        let account = Details::StripeConnect {
            account_id: "acct_1PartnerOne".into(),
        };
        let method = self.method(account).await;
        self.connect_stripe().await;
        method
    }

    /// [`Books::paid_through_stripe`] with the method's change not yet confirmed, so a payout
    /// to it is held.
    pub(crate) async fn paid_through_stripe_unconfirmed(&self) {
        let method = self.paid_through_stripe().await;
        self.put_method(&unconfirmed(&method)).await;
    }

    /// The program's PayPal account connected.
    pub(crate) async fn connect_paypal(&self) {
        let paypal = Credentials::Paypal {
            client_id: "ProgramClientId0123".into(),
            client_secret: "ProgramClientSecret0123".into(),
            webhook_id: "WH0123456789".into(),
        };
        self.connect(&paypal).await;
    }

    /// The program's Stripe account connected.
    pub(crate) async fn connect_stripe(&self) {
        let stripe = Credentials::Stripe {
            secret_key: "sk_test_51ProgramOwnKey".into(),
            webhook_secret: "whsec_0123456789abcdef0123".into(),
        };
        self.connect(&stripe).await;
    }

    pub(crate) async fn connect(&self, credentials: &Credentials) {
        crate::payout_providers::put(
            self.store(),
            Ok(&self.keys),
            &self.handle,
            credentials,
            "test",
        )
        .await
        .unwrap();
    }
}

/// The types of the events sent so far and not read yet (`commission.created`, …), in the
/// order sent.
pub(crate) async fn events(queue: &dyn Queue) -> Vec<String> {
    let name = crate::platform::queue::QueueName::Events;
    let wait = std::time::Duration::from_secs(60);
    let got = queue.receive(name, 100, wait).await.unwrap();
    got.iter()
        .map(|m| {
            let event: Value = serde_json::from_str(&m.body).unwrap();
            event["type"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// One request the fake Stripe was asked.
#[derive(Clone, Debug)]
pub(crate) struct Asked {
    pub(crate) method: String,
    /// The path, query included.
    pub(crate) path: String,
    pub(crate) idempotency_key: Option<String>,
    /// The form sent, as written.
    pub(crate) body: String,
}

/// How the fake answers a request: a status and a JSON body, or nothing at all (the
/// connection closed after the request arrived: an answer lost on its way back).
pub(crate) enum Answer {
    Json(u16, Value),
    Lost,
}

type Answering = dyn Fn(&Asked, usize) -> Answer + Send + Sync;

/// A Stripe on a loopback port of the test's own, answering each request by the test's rule
/// (given the request and how many of the same method and path came before it), and keeping
/// every request asked. Stopped when dropped.
pub(crate) struct FakeStripe {
    pub(crate) base: String,
    asked: Arc<Mutex<Vec<Asked>>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeStripe {
    pub(crate) async fn start(
        answer: impl Fn(&Asked, usize) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let answer: Arc<Answering> = Arc::new(answer);
        let kept = asked.clone();
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (kept, answer) = (kept.clone(), answer.clone());
                tokio::spawn(async move { serve(socket, &kept, answer.as_ref()).await });
            }
        });
        FakeStripe {
            base,
            asked,
            server,
        }
    }

    pub(crate) fn asked(&self) -> Vec<Asked> {
        self.asked.lock().unwrap().clone()
    }

    /// The transfers asked for (`POST /v1/transfers`), answered or not.
    pub(crate) fn transfers(&self) -> Vec<Asked> {
        let asked = self.asked();
        asked
            .into_iter()
            .filter(|a| a.method == "POST" && a.path == "/v1/transfers")
            .collect()
    }
}

impl Drop for FakeStripe {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// One request on `socket`: read, kept, answered (one request per connection).
async fn serve(socket: tokio::net::TcpStream, kept: &Mutex<Vec<Asked>>, answer: &Answering) {
    let mut reader = BufReader::new(socket);
    let mut first = String::new();
    if reader.read_line(&mut first).await.is_err() {
        return;
    }
    let mut parts = first.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let (mut length, mut idempotency_key) = (0, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await.unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((header.as_str(), ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "idempotency-key" => idempotency_key = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).await.is_err() {
        return;
    }
    let asked = Asked {
        method: method.to_owned(),
        path: path.to_owned(),
        idempotency_key,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let before = {
        let mut all = kept.lock().unwrap();
        let n = all
            .iter()
            .filter(|a| a.method == asked.method && a.path == asked.path)
            .count();
        all.push(asked.clone());
        n
    };
    let Answer::Json(status, json) = answer(&asked, before) else {
        return;
    };
    let json = json.to_string();
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{json}",
        json.len()
    );
    let mut socket = reader.into_inner();
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}
