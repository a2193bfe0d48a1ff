//! What the accrual asks of partner risk: the reasons to hold a new line. Risk sits above the
//! ledger (an assessment reads the partner's recent lines), so the ledger names what it needs
//! here and its callers pass in the answer (`risk::Holds`, wired in `runtime::assembly` and at
//! the HTTP edge): the ledger imports nothing of `risk`.

use async_trait::async_trait;

use crate::domain::{Handle, PartnerId};
use crate::platform::store::{Store, StoreError};

#[async_trait]
pub trait RiskHolds: Send + Sync {
    /// The reasons to hold `partner`'s new line: under a plan that holds above `hold_above`,
    /// when its risk is above it; under the program's fraud rules, when a signal they hold on
    /// fired. None otherwise. Round trips: the implementation's.
    async fn reasons(
        &self,
        store: &dyn Store,
        handle: &Handle,
        partner: &PartnerId,
        hold_above: Option<u8>,
    ) -> Result<Vec<String>, StoreError>;
}
