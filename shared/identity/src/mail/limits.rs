//! Hourly limits (`TENX_MAIL_PER_HANDLE_HOUR`, `TENX_MAIL_PER_RECIPIENT_HOUR`): a mail over
//! either waits `queued` until the next hour, so a merchant's mistake cannot mail a list
//! thousands of times while a broadcast to a few hundred partners still goes out. ONE
//! transaction of two capped counter adds per send.

use crate::domain::Handle;
use crate::domain::email::key_of;
use crate::platform::mail::MailSettings;
use crate::platform::store::{CounterCap, Store, StoreError, WriteOp, keys};

/// Whether the send may go now; `Err(until_ms)`: over a limit, wait until then.
pub async fn admit(
    store: &dyn Store,
    settings: &MailSettings,
    handle: Option<&Handle>,
    email: &str,
    now_ms: i64,
) -> Result<Result<(), i64>, StoreError> {
    let hour = now_ms.div_euclid(3_600_000);
    let expires = Some((hour + 2) * 3600);
    let add = |who: Option<&str>, max: u32| {
        let (pk, sk) = keys::mail_rate(handle, hour, who);
        WriteOp::Add {
            pk,
            sk,
            deltas: vec![("n".into(), 1)],
            cap: Some(CounterCap {
                counter: "n".into(),
                max: i64::from(max),
            }),
            expires_at: expires,
        }
    };
    let key = key_of(email);
    let ops = vec![
        add(None, settings.per_handle_hour),
        add(Some(&key), settings.per_recipient_hour),
    ];
    match store.transact(ops).await {
        Ok(()) => Ok(Ok(())),
        Err(StoreError::TxConflict { .. }) => Ok(Err((hour + 1) * 3_600_000)),
        Err(e) => Err(e),
    }
}
