//! A program partner's referral links and coupon codes (issue 64), written after the partner
//! the import created: each link is a 10x link (its token as an imported slug, case and
//! characters kept, [`ImportedSlug`]) and the primary link of a campaign of the partner's own,
//! so its clicks, its coupons and its customers attribute to the partner; each coupon code is
//! on the partner's first such campaign. Each write is idempotent (the campaign's id is derived
//! from the link's slug, a code is unique per handle), so a chunk done again after a crash, or a
//! re-run, writes nothing twice. What cannot come in is reported with the row and the field as
//! the export names it; the partner stays.

use sha2::{Digest, Sha256};

use crate::campaigns::{Campaign, CampaignStatus, GoalType};
use crate::domain::imported_slug::ImportedSlug;
use crate::domain::{CampaignId, CouponCode, Handle, LinkSpec, Slug};
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{LinkError, Precondition};

use super::ImportError;
use super::cells::quoted;
use super::model::{Job, PartnerRow, ReferralLink, RowError};

/// The campaign of an imported link: `imp_` and its slug (a hash of it when that is too long),
/// so a re-run finds the campaign it made.
pub fn campaign_id_for(slug: &Slug) -> CampaignId {
    let raw = format!("imp_{slug}");
    let id = if raw.len() <= 64 {
        raw
    } else {
        format!("imp_{}", &hex::encode(Sha256::digest(slug.as_str()))[..32])
    };
    CampaignId::parse(&id).expect("imp_ and a slug or hex digits is a campaign id")
}

fn note(p: &PartnerRow, field: &str, message: impl Into<String>) -> RowError {
    RowError {
        row: p.row,
        field: field.to_owned(),
        message: message.into(),
        ..Default::default()
    }
}

/// A link checked: its slug and spec, or why it cannot come in.
fn checked(p: &PartnerRow, l: &ReferralLink) -> Result<(ImportedSlug, LinkSpec), RowError> {
    let slug = ImportedSlug::parse(&l.token)
        .map_err(|e| note(p, &l.field, format!("{} {}", quoted(&l.token), e.message)))?;
    let url = l
        .url
        .clone()
        .ok_or_else(|| note(p, &l.field, "has no URL to send its visitors to"))?;
    let spec = LinkSpec {
        destination_url: url,
        title: Some(format!("{} (imported)", p.name)),
        tracking: None,
        routing_rules: vec![],
        campaign_id: None,
        forward_query: None,
        expires_at: None,
        expired_url: None,
        variants: None,
    };
    Ok((slug, spec))
}

/// What a dry run would report of the partner's links and codes.
pub(crate) fn would_note(p: &PartnerRow) -> Vec<RowError> {
    let mut notes = Vec::new();
    let mut any = false;
    for l in &p.links {
        match checked(p, l).and_then(|(s, spec)| {
            spec.validate()
                .map(|_| s)
                .map_err(|e| note(p, &l.field, e.message))
        }) {
            Ok(_) => any = true,
            Err(e) => notes.push(e),
        }
    }
    for code in &p.coupons {
        if let Err(e) = CouponCode::parse(code) {
            notes.push(note(
                p,
                "coupons",
                format!("{} {}", quoted(code), e.message),
            ));
        } else if !any {
            notes.push(note(
                p,
                "coupons",
                format!("{} needs a referral link to sit on", quoted(code)),
            ));
        }
    }
    notes
}

/// Writes the partner's links (each with its campaign) and coupon codes; what could not come
/// in, as notes.
pub(crate) async fn write(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    job: &Job,
    p: &PartnerRow,
) -> Result<Vec<RowError>, ImportError> {
    let mut notes = Vec::new();
    let mut first: Option<CampaignId> = None;
    for l in &p.links {
        match link(io, cache, handle, job, p, l).await? {
            Ok(id) => {
                first.get_or_insert(id);
            }
            Err(e) => notes.push(e),
        }
    }
    for code in &p.coupons {
        if let Err(e) = coupon(io, handle, p, code, first.as_ref()).await? {
            notes.push(e);
        }
    }
    Ok(notes)
}

/// One link and its campaign: created, or found from an earlier run.
async fn link(
    io: Io<'_>,
    cache: &LinkCache,
    handle: &Handle,
    job: &Job,
    p: &PartnerRow,
    l: &ReferralLink,
) -> Result<Result<CampaignId, RowError>, ImportError> {
    let (imported, spec) = match checked(p, l) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let slug = imported.native();
    let id = campaign_id_for(&slug);
    let store = io.store.as_ref();
    if let Some(c) = crate::campaigns::get(store, handle, &id).await? {
        return Ok(if c.partner_id.as_ref() == Some(&p.partner_id) {
            Ok(id)
        } else {
            Err(note(
                p,
                &l.field,
                format!("{} is another partner's link", quoted(&l.token)),
            ))
        });
    }
    let mut spec = match spec.validate() {
        Ok(s) => s,
        Err(e) => return Ok(Err(note(p, &l.field, e.message))),
    };
    spec.campaign_id = Some(id.clone());
    let mut campaign = Campaign::new(
        id.clone(),
        GoalType::Purchase,
        CampaignStatus::Active,
        slug.clone(),
        crate::platform::time::timestamp(),
    );
    campaign.partner_id = Some(p.partner_id.clone());
    let target = format!(
        "{id} ({}'s link {}, imported from {})",
        p.partner_id,
        l.token,
        job.source.as_str()
    );
    let mut extra = vec![
        crate::campaigns::create_op(handle, &campaign)?,
        crate::kernel::audit::entry(handle, "campaign.created", &target)?,
    ];
    if imported.needs_alias() {
        extra.push(crate::links::alias_op(handle, &imported)?);
    }
    match crate::links::upsert(io, cache, handle, &slug, spec, Precondition::Absent, extra).await {
        Ok(_) | Err(LinkError::Extra { index: 0, .. }) => Ok(Ok(id)),
        Err(LinkError::SlugTaken(_)) => Ok(Err(note(
            p,
            &l.field,
            format!("{} is taken here by another link", quoted(&l.token)),
        ))),
        Err(LinkError::Store(e)) => Err(e.into()),
        Err(other) => Ok(Err(note(p, &l.field, other.to_string()))),
    }
}

/// One coupon code, on the partner's first imported campaign.
async fn coupon(
    io: Io<'_>,
    handle: &Handle,
    p: &PartnerRow,
    raw: &str,
    campaign: Option<&CampaignId>,
) -> Result<Result<(), RowError>, ImportError> {
    let code = match CouponCode::parse(raw) {
        Ok(c) => c,
        Err(e) => {
            return Ok(Err(note(
                p,
                "coupons",
                format!("{} {}", quoted(raw), e.message),
            )));
        }
    };
    let Some(campaign) = campaign else {
        return Ok(Err(note(
            p,
            "coupons",
            format!("{} needs a referral link to sit on", quoted(raw)),
        )));
    };
    let store = io.store.as_ref();
    use crate::customers::coupons::{self, CouponError};
    match coupons::create(store, handle, &p.partner_id, code.clone(), campaign).await {
        Ok(_) => Ok(Ok(())),
        Err(CouponError::Taken(_)) => {
            let mine = coupons::lookup(store, handle, &code)
                .await?
                .is_some_and(|c| c.partner_id == p.partner_id);
            Ok(if mine {
                Ok(())
            } else {
                Err(note(
                    p,
                    "coupons",
                    format!("{} is another partner's code here", quoted(raw)),
                ))
            })
        }
        Err(CouponError::Store(e)) => Err(e.into()),
        Err(other) => Ok(Err(note(p, "coupons", other.to_string()))),
    }
}
