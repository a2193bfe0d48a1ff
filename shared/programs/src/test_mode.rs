//! A handle's test mode: while it is on, a test sale (`POST …/test-sales`, the console's
//! "follow the short URL", a merchant's `test: true` conversion) walks the whole program in test
//! money: its commission line carries `test: true` and goes through the plan, holds, review,
//! payouts and the partner's portal, apart from every real figure. While it is off, a test
//! conversion is recorded and never counted or paid, as always.
//!
//! One item, `H#{handle}` / `TESTMODE`, replaced with a version-checked write; switching it is
//! the money context's decision (`test_books::switch`: not while a payout is open).

use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::time::Timestamp;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// Whether test mode is on, since when and by whom.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestMode {
    pub enabled: bool,
    /// When it was last switched (`None`: never).
    #[serde(default)]
    pub since: Option<Timestamp>,
    #[serde(default)]
    pub by: Option<String>,
    /// The stored item's version (0: never stored).
    #[serde(skip)]
    pub version: u64,
}

/// The handle's test mode (off when never switched). Round trips: ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn get(store: &dyn Store, handle: &Handle) -> Result<TestMode, StoreError> {
    let (pk, sk) = keys::test_mode(handle);
    let Some(item) = store.get(&pk, &sk).await? else {
        return Ok(TestMode::default());
    };
    let mut mode: TestMode = item.parse()?;
    mode.version = item.version;
    Ok(mode)
}

impl TestMode {
    /// Whether a test conversion received at `received` earns test money: test mode is on and
    /// has been since before it arrived (one received while it was off never earns, however
    /// late its commission is booked).
    pub fn covers(&self, received: &Timestamp) -> bool {
        self.enabled
            && self
                .since
                .as_ref()
                .is_some_and(|since| since.millis() <= received.millis())
    }

    /// The write that switches it to `enabled` now, at the version read (a concurrent switch
    /// cancels it).
    pub fn switched(
        &self,
        handle: &Handle,
        enabled: bool,
        by: &str,
    ) -> Result<(Self, WriteOp), StoreError> {
        let next = TestMode {
            enabled,
            since: Some(crate::platform::time::timestamp()),
            by: Some(by.to_owned()),
            version: self.version + 1,
        };
        let (pk, sk) = keys::test_mode(handle);
        let doc = crate::platform::store::to_doc(&next)?;
        let cond = match self.version {
            0 => Cond::Absent,
            v => Cond::Version(v),
        };
        let item = Item::new(pk, sk, doc).with_version(next.version);
        Ok((next, WriteOp::Put { item, cond }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_conversion_received_since_it_was_switched_on_is_covered() {
        let handle = Handle::parse("acme").unwrap();
        let (on, _) = TestMode::default()
            .switched(&handle, true, "usr_1")
            .unwrap();
        let since = on.since.clone().unwrap().millis();
        assert!(on.covers(&Timestamp::from_millis(since)));
        assert!(on.covers(&Timestamp::from_millis(since + 1)));
        assert!(
            !on.covers(&Timestamp::from_millis(since - 1)),
            "received while off"
        );
        let (off, _) = on.switched(&handle, false, "usr_1").unwrap();
        assert!(!off.covers(&Timestamp::from_millis(since + 1)));
        assert!(!TestMode::default().covers(&Timestamp::from_millis(since)));
    }

    #[test]
    fn a_first_switch_is_a_put_if_absent_and_a_later_one_is_version_checked() {
        let handle = Handle::parse("acme").unwrap();
        let (on, op) = TestMode::default()
            .switched(&handle, true, "usr_1")
            .unwrap();
        assert!(on.enabled && on.since.is_some() && on.version == 1);
        assert!(matches!(
            op,
            WriteOp::Put {
                cond: Cond::Absent,
                ..
            }
        ));
        let (off, op) = on.switched(&handle, false, "usr_1").unwrap();
        assert!(!off.enabled && off.version == 2);
        assert!(matches!(
            op,
            WriteOp::Put {
                cond: Cond::Version(1),
                ..
            }
        ));
    }
}
