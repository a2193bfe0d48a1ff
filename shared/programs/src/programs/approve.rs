//! Approval: a pending application becomes a partner with its own campaign, plan and link,
//! copied from the program's template, and a partner token, all in ONE store transaction with
//! the application's new status and the `partner.approved` event. Nothing half-done: either
//! every item is written or none is, and the application's version condition makes a second
//! approval (a retry, a double click, a concurrent manager) find it `approved` (`409`), never
//! create a second partner. The token is shown once: in this answer and in the event. An
//! approval asked again with the `idempotency-key` it was made with (a retry whose answer was
//! lost, a double click) answers the partner it made, without the token; asked again without
//! it, `409` naming the partner, whose manager mints a new token on the partner's page.

use super::model::{IssuedToken, PartnerApprovedData};
use super::{Application, ApplicationStatus, ProgramError};
use crate::campaigns::{Campaign, CampaignStatus};
use crate::domain::{
    ApplicationId, CampaignId, Handle, Link, PartnerId, RetryKey, Slug, ValidLinkSpec,
};
use crate::kernel::events::Event;
use crate::kernel::io::Io;
use crate::kernel::state::LinkCache;
use crate::links::{LinkError, Precondition};
use crate::plans::model::Plan;
use crate::platform::config::Config;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys};

/// What an approval created.
#[derive(Debug)]
pub struct Approved {
    pub application: Application,
    pub data: PartnerApprovedData,
}

/// What an approval answers.
#[derive(Debug)]
pub enum Approval {
    /// Made now: the partner, its campaign, link and token (shown this once).
    Made(Box<Approved>),
    /// Made before by this approval's key: the application, which names the partner it made.
    Again(Box<Application>),
}

/// The template's parts an approval copies.
struct Template {
    campaign: Campaign,
    plan: Plan,
    link: Link,
}

/// Approves a pending application. The partner's id (its campaign's and link's too) is made
/// from its name as people read it (`lena`), the next number when taken (`lena-2`): each try is
/// the transaction's own put-if-absent, so two approvals of two Lenas at once make two partners.
/// Round trips: the application, program, template campaign, plan and link reads, then per id
/// tried the new link's read and ONE transaction (link, `link.created`, campaign, partner, plan
/// (+ click registry), token record and listing, application, `partner.approved`: 9–10 items),
/// and ONE enqueue per event. Asked again with its key: the application's read alone.
#[tracing::instrument(skip_all, fields(handle = %handle, application = %id))]
pub async fn approve(
    io: Io<'_>,
    links: &LinkCache,
    config: &Config,
    handle: &Handle,
    (id, key): (&ApplicationId, Option<&RetryKey>),
    by: &str,
) -> Result<Approval, ProgramError> {
    use crate::partners::named;
    let key = key.map(RetryKey::digest);
    let application = match pending(io.store.as_ref(), handle, id).await {
        Ok(application) => application,
        Err(refused) => return again(io.store.as_ref(), handle, id, key.as_deref(), refused).await,
    };
    let template = template(io.store.as_ref(), handle).await?;
    let stem = named::stem(&application.name);
    for n in 1..=named::MAX_TRIES {
        let partner_id = PartnerId::parse(&named::nth(&stem, n))?;
        let made = approve_as(
            io,
            links,
            config,
            handle,
            (&application, &template),
            (&partner_id, key.as_deref()),
            by,
        );
        match made.await {
            Err(ProgramError::Taken(_)) => continue,
            Ok(made) => return Ok(Approval::Made(Box::new(made))),
            Err(refused) => {
                return again(io.store.as_ref(), handle, id, key.as_deref(), refused).await;
            }
        }
    }
    Err(ProgramError::Taken(format!(
        "partnerId: every id made from the name \"{}\" is taken ({stem} to {}); rename the \
         partners or links that hold them, or add this partner by hand under another name.",
        application.name,
        named::nth(&stem, named::MAX_TRIES)
    )))
}

/// An approval refused because the application is decided already: the same approval again
/// when it was approved with `key`, else `refused` as it is. Round trips: ONE read.
async fn again(
    store: &dyn Store,
    handle: &Handle,
    id: &ApplicationId,
    key: Option<&str>,
    refused: ProgramError,
) -> Result<Approval, ProgramError> {
    let ProgramError::State { .. } = refused else {
        return Err(refused);
    };
    let Some(key) = key else { return Err(refused) };
    match super::list::get(store, handle, id).await? {
        Some(a)
            if a.status == ApplicationStatus::Approved
                && a.approval_key.as_deref() == Some(key) =>
        {
            Ok(Approval::Again(Box::new(a.view())))
        }
        _ => Err(refused),
    }
}

/// One try of an approval under `partner_id`: `Taken` when that id is another partner's,
/// campaign's or link's (and the application is still pending), so the next id is tried.
async fn approve_as(
    io: Io<'_>,
    links: &LinkCache,
    config: &Config,
    handle: &Handle,
    (application, template): (&Application, &Template),
    (partner_id, key): (&PartnerId, Option<&str>),
    by: &str,
) -> Result<Approved, ProgramError> {
    let id = &application.application_id;
    let campaign_id = CampaignId::parse(partner_id.as_str())?;
    let slug = Slug::parse(partner_id.as_str())?;
    let (mut extra, approved) = writes(
        config,
        handle,
        (application, key),
        template,
        (partner_id, &campaign_id, &slug),
        by,
    )?;
    let mut event = Event::new(handle, &approved.data);
    extra.push(crate::kernel::outbox::record(&mut event));
    let mail = owner_mail(config, handle, &approved.data, &event)?;
    extra.extend(mail.iter().flat_map(|m| m.ops.iter().cloned()));
    let spec = link_spec(&template.link, &campaign_id, &application.name);
    match crate::links::upsert(io, links, handle, &slug, spec, Precondition::Absent, extra).await {
        Ok(_) => {}
        Err(LinkError::Extra { index, .. }) => {
            return Err(refusal(io.store.as_ref(), handle, id, Some(index), partner_id).await);
        }
        // The id's link exists (another partner's, or a concurrent approval of this one).
        Err(LinkError::SlugTaken(_)) => {
            return Err(refusal(io.store.as_ref(), handle, id, None, partner_id).await);
        }
        Err(e) => return Err(e.into()),
    }
    publish(io, &event).await;
    if let Some(mail) = &mail {
        crate::mail::publish(io, mail).await;
    }
    Ok(approved)
}

/// The approval's mail to the partner's contact, with a link that signs them in as the
/// partner's owner once (issue 61; never the token), staged in the approval's transaction and
/// keyed by the event, so the mail sink's copy of it (`mail::sink`) finds it queued already.
/// `None` when the address is not one we mail (the approval still stands).
fn owner_mail(
    config: &Config,
    handle: &Handle,
    data: &PartnerApprovedData,
    event: &Event,
) -> Result<Option<crate::mail::Staged>, ProgramError> {
    use crate::people::{model::PartnerRole, partnerships, secret};
    let Ok(email) = crate::domain::email::Email::parse("email", &data.email) else {
        return Ok(None);
    };
    let (token, _, op) =
        partnerships::link_op(handle, &data.partner_id, &email, PartnerRole::Owner)?;
    let base = crate::mail::unsubscribe::public_base(config);
    let mut staged = crate::mail::enqueue_ops(&crate::mail::Outgoing {
        handle: Some(handle.clone()),
        to: email,
        kind: crate::mail::MailKind::PartnerApproved,
        key: event.id.to_string(),
        data: serde_json::json!({
            "partnerName": data.name,
            "programUrl": format!("{base}/programs/{handle}"),
            "shortUrl": data.short_url,
            "signInLink": secret::link(&base, &token),
        }),
    })
    .map_err(|e| match e {
        crate::mail::MailError::Store(e) => ProgramError::Store(e),
        other => ProgramError::Store(StoreError::Other(other.to_string())),
    })?;
    staged.ops.insert(0, op);
    Ok(Some(staged))
}

/// The application, which must be pending (`409` naming its state otherwise).
async fn pending(
    store: &dyn Store,
    handle: &Handle,
    id: &ApplicationId,
) -> Result<Application, ProgramError> {
    let application = super::list::get(store, handle, id)
        .await?
        .ok_or_else(|| ProgramError::NotFound(id.clone()))?;
    match application.status {
        ApplicationStatus::Pending => Ok(application),
        status => Err(state_error(&application, status)),
    }
}

/// The `409` of an application that is no longer pending.
pub fn state_error(a: &Application, status: ApplicationStatus) -> ProgramError {
    let hint = match (&a.partner_id, status) {
        (Some(p), ApplicationStatus::Approved) => format!(
            "it was approved as partner {p}, whose token was shown once; a new one is made on \
             the partner's page."
        ),
        _ => "only a pending application can be approved or rejected.".to_owned(),
    };
    ProgramError::State {
        id: a.application_id.clone(),
        status: status.as_str(),
        hint,
    }
}

/// The program's template campaign with its plan and primary link (`409` naming `template`
/// when any is missing: approval refuses rather than create a partner it cannot pay).
async fn template(store: &dyn Store, handle: &Handle) -> Result<Template, ProgramError> {
    let program = super::settings::require(store, handle).await?;
    let id = program.template.map(|t| t.campaign_id).ok_or_else(|| {
        ProgramError::Template("the program has none; set template.campaignId first.".into())
    })?;
    let campaign = crate::campaigns::get(store, handle, &id)
        .await?
        .ok_or_else(|| ProgramError::Template(format!("campaign {id} no longer exists.")))?;
    let plan = crate::plans::current(store, handle, &id)
        .await?
        .ok_or_else(|| {
            ProgramError::Template(format!("campaign {id} has no commission plan to copy."))
        })?;
    let link = crate::links::load(store, handle, &campaign.primary_slug)
        .await?
        .ok_or_else(|| {
            ProgramError::Template(format!("campaign {id} has lost its primary link."))
        })?;
    Ok(Template {
        campaign,
        plan,
        link,
    })
}

/// The template's primary link, for the partner's campaign.
fn link_spec(template: &Link, campaign: &CampaignId, name: &str) -> ValidLinkSpec {
    ValidLinkSpec {
        destination_url: template.destination_url.clone(),
        title: Some(name.chars().take(crate::domain::MAX_TITLE_CHARS).collect()),
        tracking: template.tracking.clone(),
        routing_rules: template.routing_rules.clone(),
        campaign_id: Some(campaign.clone()),
        forward_query: template.forward_query,
        expiry: None,
        variants: template.variants.clone(),
    }
}

/// Every write but the link's (ordered: application, campaign, partner, then the rest), and
/// what the approval answers.
fn writes(
    config: &Config,
    handle: &Handle,
    (a, key): (&Application, Option<&str>),
    template: &Template,
    (partner_id, campaign_id, slug): (&PartnerId, &CampaignId, &Slug),
    by: &str,
) -> Result<(Vec<WriteOp>, Approved), ProgramError> {
    let now = crate::platform::time::timestamp();
    let mut campaign = Campaign::new(
        campaign_id.clone(),
        template.campaign.goal_type,
        CampaignStatus::Active,
        slug.clone(),
        now.clone(),
    );
    campaign.partner_id = Some(partner_id.clone());
    let (_, partner_op) = crate::partners::plan_create(
        handle,
        partner_id.clone(),
        a.name.clone(),
        Some(a.email.clone()),
    )?;
    let days = crate::partners::tokens::DEFAULT_EXPIRES_IN_DAYS;
    let (record, token, token_ops) =
        crate::partners::tokens::plan_mint(handle, partner_id, "program approval", days, by)?;
    let mut application = a.clone();
    application.status = ApplicationStatus::Approved;
    application.partner_id = Some(partner_id.clone());
    application.campaign_id = Some(campaign_id.clone());
    application.decided_at = Some(now);
    application.decided_by = Some(by.to_owned());
    application.version = a.version + 1;
    application.approval_key = key.map(str::to_owned);
    let mut ops = vec![
        update_op(handle, &application, a.version)?,
        crate::campaigns::create_op(handle, &campaign)?,
        partner_op,
    ];
    ops.extend(crate::plans::copy_ops(
        handle,
        &template.plan,
        campaign_id,
        by,
    )?);
    ops.extend(token_ops);
    ops.push(crate::kernel::audit::entry(
        handle,
        "application.approved",
        &format!("{} ({}, partner {partner_id})", a.application_id, a.email),
    )?);
    let data = PartnerApprovedData {
        application_id: a.application_id.clone(),
        partner_id: partner_id.clone(),
        campaign_id: campaign_id.clone(),
        slug: slug.clone(),
        short_url: config.short_url(handle.as_str(), slug.as_str()),
        name: a.name.clone(),
        email: a.email.clone(),
        partner_token: IssuedToken {
            token_id: crate::domain::TokenId::parse(&record.token_id)?,
            token,
            expires_at: record.expires_at,
        },
    };
    let approved = Approved {
        application: application.view(),
        data,
    };
    Ok((ops, approved))
}

/// The write of an application's next version, conditioned on the version it was read at.
pub fn update_op(handle: &Handle, a: &Application, read: u64) -> Result<WriteOp, StoreError> {
    let doc = crate::platform::store::to_doc(a)?;
    let pk = keys::applications_pk(handle);
    let item = Item::new(pk, a.application_id.as_str(), doc).with_version(a.version);
    Ok(WriteOp::Put {
        item,
        cond: Cond::Version(read),
    })
}

/// Why the transaction was refused, from the extra write whose condition failed (`None`: the
/// link's slug was taken). An application decided meanwhile (a concurrent approval) answers
/// its state, whichever write lost the race.
async fn refusal(
    store: &dyn Store,
    handle: &Handle,
    id: &ApplicationId,
    index: Option<usize>,
    partner: &PartnerId,
) -> ProgramError {
    if let Err(decided) = pending(store, handle, id).await {
        return decided;
    }
    match index {
        None => ProgramError::Taken(format!("slug: the link {partner} exists already.")),
        Some(1) => ProgramError::Taken(format!("campaignId: campaign {partner} exists already.")),
        Some(2) => ProgramError::Taken(format!("partnerId: partner {partner} exists already.")),
        Some(_) => ProgramError::Busy,
    }
}

/// Enqueues the committed event (its enqueue confirmed on its entry); on failure the outbox
/// sweeper sends it later.
async fn publish(io: Io<'_>, event: &Event) {
    let events = std::slice::from_ref(event);
    crate::kernel::outbox::publish(io.store.as_ref(), io.queue.as_ref(), events).await;
}
