//! Typed, prefixed ids (as in svix-server): `clk_…`, `cnv_…`, `evt_…`, `rcv_…`, `req_…`, `rev_…`,
//! `tok_…`, `wh_…`, `app_…`, each a prefix and 32 lower-case hex digits of a UUID (v7: time-ordered, so
//! listings sort by creation).
//! Built here and nowhere else; parsing checks the shape, so a path segment that is not one is
//! simply unknown.

use super::DomainError;
use super::ids::string_id;

const HEX_LEN: usize = 32;

/// The shape check every prefixed id shares.
fn well_formed(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self::from_uuid(uuid::Uuid::now_v7())
            }

            fn from_uuid(uuid: uuid::Uuid) -> Self {
                Self(format!("{}{}", $prefix, uuid.simple()))
            }

            pub fn parse(raw: &str) -> Result<Self, DomainError> {
                if well_formed(raw, $prefix) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(DomainError::new(
                        "id",
                        format!("`{raw}` is not a {} id ({}…).", stringify!($name), $prefix),
                    ))
                }
            }

            /// The 32 hex digits after the prefix.
            pub fn hex(&self) -> &str {
                &self.0[$prefix.len()..]
            }

            /// When the id was minted (unix milliseconds): a UUID v7 starts with its 48-bit
            /// timestamp. Ids are only minted here, always as v7.
            pub fn unix_millis(&self) -> i64 {
                i64::from_str_radix(&self.hex()[..12], 16).unwrap_or(0)
            }
        }

        string_id!($name);
    };
}

prefixed_id!(
    /// One click on a short link.
    ClickId,
    "clk_"
);
prefixed_id!(
    /// One recorded conversion.
    ConversionId,
    "cnv_"
);
prefixed_id!(
    /// One event: consumers dedupe on it, webhooks send it as `webhook-id`.
    EventId,
    "evt_"
);
prefixed_id!(
    /// One recovery of a subscription's failed deliveries (`POST …/recover`).
    RecoverId,
    "rcv_"
);
prefixed_id!(
    /// A request the server minted an id for (API Gateway's own request id is used when given).
    RequestId,
    "req_"
);
prefixed_id!(
    /// One reversal of a conversion.
    ReversalId,
    "rev_"
);
prefixed_id!(
    /// One line of the commission ledger.
    CommissionId,
    "com_"
);
prefixed_id!(
    /// One payout to a partner in one currency.
    PayoutId,
    "pay_"
);
prefixed_id!(
    /// A payout batch: pending payouts of one method, paid in one file (issue 46).
    BatchId,
    "bat_"
);
prefixed_id!(
    /// A personal access token's public id.
    TokenId,
    "tok_"
);
prefixed_id!(
    /// A webhook subscription.
    SubscriptionId,
    "wh_"
);
prefixed_id!(
    /// One application to a handle's partner program.
    ApplicationId,
    "app_"
);
prefixed_id!(
    /// One import of another tool's export (issue 64).
    ImportId,
    "imp_"
);
prefixed_id!(
    /// A person of a merchant's team (issue 60): an email identity.
    UserId,
    "usr_"
);
prefixed_id!(
    /// An invitation to become a member of a handle (issue 60).
    InvitationId,
    "inv_"
);
prefixed_id!(
    /// A person's passkey (issue 60): listed and removed by it.
    PasskeyId,
    "pk_"
);
prefixed_id!(
    /// A signed-in session's public id (listed and revoked by it; never the cookie's secret).
    SessionId,
    "ses_"
);
prefixed_id!(
    /// A signed notice to a partner of a plan change (issue 47).
    NoticeId,
    "ntc_"
);
prefixed_id!(
    /// A message in a partner's thread (issue 61).
    MessageId,
    "msg_"
);
prefixed_id!(
    /// A broadcast to the partners of a handle or of one group (issue 61).
    BroadcastId,
    "brd_"
);

impl MessageId {
    /// A broadcast's message to one partner: derived from both (time-ordered by the
    /// broadcast), so a broadcast carried on after a crash finds the messages it wrote.
    pub fn of_broadcast(broadcast: &BroadcastId, partner: &str) -> Self {
        let seed = format!("{}/{partner}", broadcast.as_str());
        Self(format!(
            "{}{}",
            Self::PREFIX,
            derived_hex(broadcast.unix_millis(), &seed)
        ))
    }
}

prefixed_id!(
    /// A partner's claim of a sale 10x did not credit to it (issue 63).
    ClaimId,
    "clm_"
);

prefixed_id!(
    /// An image a partner added to its claim (a screenshot of the order).
    AttachmentId,
    "att_"
);

impl ClaimId {
    /// The id of this claim's `kind` event (`claim.opened`, `claim.decided`): derived, so a
    /// retried write emits the same event.
    pub fn event_id(&self, kind: &str) -> EventId {
        let seed = format!("{kind}:{}", self.0);
        EventId(format!(
            "{}{}",
            EventId::PREFIX,
            derived_hex(self.unix_millis(), &seed)
        ))
    }
}

impl NoticeId {
    /// The notice of plan `version` of a campaign to a partner: derived (time-ordered by the
    /// save), so a retried save can only find it there.
    pub fn of_plan(at_ms: i64, seed: &str) -> Self {
        Self(format!("{}{}", Self::PREFIX, derived_hex(at_ms, seed)))
    }

    /// The id of its `plan.changed` event.
    pub fn event_id(&self) -> EventId {
        EventId(format!("{}{}", EventId::PREFIX, self.hex()))
    }
}

impl ClickId {
    /// The id of this click's `link.clicked` event: derived, so every copy of it is the same.
    pub fn event_id(&self) -> EventId {
        EventId(format!("{}{}", EventId::PREFIX, self.hex()))
    }
}

impl SubscriptionId {
    /// A subscription whose id follows from `seed` (a partner's postback: the same on every
    /// write): the first 128 bits of its SHA-256.
    pub fn of_seed(seed: &str) -> Self {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(seed.as_bytes());
        Self(format!("{}{}", Self::PREFIX, hex::encode(&digest[..16])))
    }
}

impl ReversalId {
    /// The id of this reversal's `conversion.reversed` event (derived, as for conversions).
    pub fn event_id(&self) -> EventId {
        EventId(format!("{}{}", EventId::PREFIX, self.hex()))
    }
}

impl ConversionId {
    /// The id of this conversion's event: derived, so the first enqueue, every sweep and every
    /// redelivery carry the same id, which is what consumers dedupe on.
    pub fn event_id(&self) -> EventId {
        EventId(format!("{}{}", EventId::PREFIX, self.hex()))
    }
}

impl EventId {
    /// An event whose id follows from `seed` and its time (an alert raised once per window:
    /// every copy of its raise is the same event).
    pub fn derived(unix_millis: i64, seed: &str) -> EventId {
        EventId(format!(
            "{}{}",
            EventId::PREFIX,
            derived_hex(unix_millis, seed)
        ))
    }
}

/// A time-ordered id hex derived from what it identifies: the time (unix ms) in the first 48
/// bits, as in a UUID v7, then the SHA-256 of `seed`. Every copy of the same thing gets the same id.
fn derived_hex(unix_millis: i64, seed: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed.as_bytes());
    let time = unix_millis.clamp(0, 0xffff_ffff_ffff).unsigned_abs();
    format!("{time:012x}{}", &hex::encode(digest)[..20])
}

impl CommissionId {
    /// The commission of a conversion: its UUID, so redeliveries, replays and sweeps can only
    /// find it already there.
    pub fn of_conversion(conversion: &ConversionId) -> Self {
        Self(format!("{}{}", Self::PREFIX, conversion.hex()))
    }

    /// The adjustment or clawback a reversal writes (one reversal per conversion).
    pub fn of_reversal(reversal: &ReversalId) -> Self {
        Self(format!("{}{}", Self::PREFIX, reversal.hex()))
    }

    /// The one line an approved claim writes (issue 63): its claim's UUID, so an approval
    /// repeated, raced or retried can only find it already there.
    pub fn of_claim(claim: &ClaimId) -> Self {
        Self(format!("{}{}", Self::PREFIX, claim.hex()))
    }

    /// Any other derived line (a day's click accrual, a late-click adjustment): `seed` names it.
    pub fn derived(unix_millis: i64, seed: &str) -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            derived_hex(unix_millis, seed)
        ))
    }

    /// The id of this commission's `kind` event (`commission.created`, …).
    pub fn event_id(&self, kind: &str) -> EventId {
        let seed = format!("{kind}:{}", self.0);
        EventId(format!(
            "{}{}",
            EventId::PREFIX,
            derived_hex(self.unix_millis(), &seed)
        ))
    }
}

impl PayoutId {
    /// The payout a run creates for one partner and currency: a retry with the same
    /// idempotency key resumes the same payout.
    pub fn of_run(unix_millis: i64, seed: &str) -> Self {
        Self(format!(
            "{}{}",
            Self::PREFIX,
            derived_hex(unix_millis, seed)
        ))
    }

    pub fn event_id(&self, kind: &str) -> EventId {
        let seed = format!("{kind}:{}", self.0);
        EventId(format!(
            "{}{}",
            EventId::PREFIX,
            derived_hex(self.unix_millis(), &seed)
        ))
    }

    /// The line that puts this payout's amount back on its partner's balance when its
    /// provider gives the payment back after it was paid: derived, so a second word of the
    /// same return writes nothing.
    pub fn returned_line_id(&self) -> CommissionId {
        let seed = format!("returned:{}", self.0);
        CommissionId(format!(
            "{}{}",
            CommissionId::PREFIX,
            derived_hex(self.unix_millis(), &seed)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_their_prefix_and_parse_back() {
        let click = ClickId::new();
        assert!(click.as_str().starts_with("clk_"));
        assert_eq!(ClickId::parse(click.as_str()).unwrap(), click);
        assert!(ClickId::parse("cnv_0123456789abcdef0123456789abcdef").is_err());
        assert!(ClickId::parse("clk_0123").is_err());
        assert!(ClickId::parse("clk_0123456789ABCDEF0123456789abcdef").is_err());
        assert!(TokenId::parse("tok_0123456789abcdef0123456789abcdef").is_ok());
    }

    #[test]
    fn derived_event_ids_share_the_uuid() {
        let conversion = ConversionId::parse("cnv_0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(
            conversion.event_id().as_str(),
            "evt_0123456789abcdef0123456789abcdef"
        );
        let click = ClickId::parse("clk_0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(click.event_id(), conversion.event_id());
    }

    #[test]
    fn derived_ids_are_stable_well_formed_and_distinct_per_seed() {
        let a = CommissionId::derived(1_700_000_000_000, "day:acme:alpha:2026-11-01");
        assert_eq!(
            a,
            CommissionId::derived(1_700_000_000_000, "day:acme:alpha:2026-11-01")
        );
        assert_ne!(
            a,
            CommissionId::derived(1_700_000_000_000, "day:acme:alpha:2026-11-02")
        );
        assert_eq!(CommissionId::parse(a.as_str()).unwrap(), a);
        assert_eq!(a.unix_millis(), 1_700_000_000_000);
        assert_ne!(
            a.event_id("commission.created"),
            a.event_id("commission.approved")
        );
        let conversion = ConversionId::new();
        let com = CommissionId::of_conversion(&conversion);
        assert_ne!(com.event_id("commission.created"), conversion.event_id());
    }

    #[test]
    fn ids_are_time_ordered() {
        let a = EventId::new();
        let b = EventId::new();
        assert!(a < b || a.as_str()[..16] == b.as_str()[..16]);
    }
}
