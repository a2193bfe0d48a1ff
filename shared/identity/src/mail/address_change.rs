//! `partner_email_changed`: a manager's change of a partner's email address (`PATCH
//! …/partners/{partnerId}`) mails the address the partner had, staged in the change's own
//! transaction, since every later notice (a change of payout details among them) goes to the
//! new address: the partner hears of it where they still read.

use crate::domain::{Handle, PartnerId};
use crate::kernel::io::Io;
use crate::partners::{Partner, PartnerError, PartnerFields};

/// [`crate::partners::update`] that tells the partner's old address when `fields` change it
/// (its link, to the partner's portal, absolute to `base`). Round trips: those of the update,
/// the mail in its transaction, then ONE send to the mail queue.
pub async fn update(
    io: Io<'_>,
    handle: &Handle,
    id: &PartnerId,
    fields: PartnerFields,
    base: &str,
) -> Result<Partner, PartnerError> {
    let (partner, told) = crate::partners::update(io.store.as_ref(), handle, id, fields, |b, a| {
        let staged = staged(handle, b, a, base);
        let ops = staged.iter().flat_map(|s| s.ops.iter().cloned()).collect();
        (ops, staged)
    })
    .await?;
    if let Some(staged) = &told {
        super::publish(io, staged).await;
    }
    Ok(partner)
}

/// The mail to the address `before` had, when `after` has another (`None`: the address is
/// unchanged, there was none, or it does not read as one, logged). Keyed by the partner's new
/// version: once per change.
fn staged(handle: &Handle, before: &Partner, after: &Partner, base: &str) -> Option<super::Staged> {
    let old = before.email.as_deref()?;
    if after.email.as_deref() == Some(old) {
        return None;
    }
    let Ok(to) = crate::domain::email::Email::parse("email", old) else {
        tracing::info!(partner = %before.partner_id, "no mail of the address change: the old address does not read as one");
        return None;
    };
    let mail = super::Outgoing {
        handle: Some(handle.clone()),
        to,
        kind: super::MailKind::PartnerEmailChanged,
        key: format!("partner-email:{}:{}", after.partner_id, after.version),
        data: serde_json::json!({
            "partnerName": before.name,
            "changedAt": after.updated_at.as_str(),
            "portalUrl": format!("{}/portal/{handle}", base.trim_end_matches('/')),
        }),
    };
    match super::enqueue_ops(&mail) {
        Ok(staged) => Some(staged),
        Err(e) => {
            tracing::warn!(error = %e, "the address change's mail could not be staged");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partners::{PartnerStatus, default_postback_events};
    use crate::platform::store::WriteOp;

    fn partner(email: Option<&str>) -> Partner {
        let now = crate::platform::time::timestamp();
        Partner {
            partner_id: PartnerId::parse("pb").unwrap(),
            name: "Bo".into(),
            email: email.map(str::to_owned),
            postback_url: None,
            postback_events: default_postback_events(),
            status: PartnerStatus::Active,
            version: 1,
            created_at: now.clone(),
            updated_at: now,
        }
    }

    /// The address a staged mail goes to (its record, the first write).
    fn recipient(staged: &super::super::Staged) -> String {
        match &staged.ops[0] {
            WriteOp::Put { item, .. } => item.doc["to"].as_str().unwrap().to_owned(),
            other => panic!("expected the mail's record, got {other:?}"),
        }
    }

    #[test]
    fn an_address_changed_is_told_to_the_address_it_was() {
        let handle = Handle::parse("shop").unwrap();
        let before = partner(Some("bo@example.org"));
        let mut after = partner(Some("mallory@example.org"));
        after.version = 2;
        let base = "https://app.example/";
        let told = staged(&handle, &before, &after, base).expect("a mail");
        assert_eq!(recipient(&told), "bo@example.org");
        // Taken away, it is told too.
        let gone = partner(None);
        let told = staged(&handle, &before, &gone, base).expect("a mail");
        assert_eq!(recipient(&told), "bo@example.org");
        // Unchanged, or none before: nobody to tell.
        assert!(staged(&handle, &before, &before, base).is_none());
        assert!(staged(&handle, &gone, &after, base).is_none());
    }
}
