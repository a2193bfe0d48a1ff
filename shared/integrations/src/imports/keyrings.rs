//! The secrets an import's rows are written with (issue 64), apart from the run that passes
//! them and the rows that use them.

/// The secrets a program's rows are written with: its partners' PayPal emails sealed as
/// payout methods, its customers' emails digested. A process without one still writes the
/// rows, without what it would have kept (noted on each row). Links need neither.
#[derive(Clone, Copy, Default)]
pub struct Keys<'a> {
    pub payout: Option<&'a crate::domain::sealed::Keyring>,
    pub email: Option<&'a crate::domain::CtxKeyring>,
}

impl<'a> Keys<'a> {
    /// Those `state` holds.
    pub fn of(state: &'a crate::kernel::state::AppState) -> Self {
        Self {
            payout: state.payout_key().ok(),
            email: state.ctx_keys().ok(),
        }
    }
}

/// What a process that writes imports holds (the imports worker): the payout keyring and the
/// ctx keyring, for [`Keys`].
pub const SECRETS: crate::platform::config::Secrets = crate::platform::config::Secrets {
    ctx_keys: true,
    payout_key: true,
    ..crate::platform::config::Secrets::NONE
};
