//! Writing a message: the message, its thread's counters and last message, the audit entry and
//! the mail to the other side, in ONE transaction, then the mail handed to its queue.

use serde_json::json;

use super::MessageError;
use super::model::{self, Message, Side};
use crate::domain::email::Email;
use crate::domain::time::Timestamp;
use crate::domain::{Handle, MessageId, PartnerId};
use crate::kernel::io::Io;
use crate::kernel::ratelimit;
use crate::mail::branding::Branding;
use crate::mail::{self, MailKind, Outgoing, Staged};
use crate::partners::{Partner, PartnerStatus};
use crate::platform::config::RateLimits;
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys, to_doc};

/// Messages one side of one thread may write per rate-limit window.
pub const MESSAGES_PER_WINDOW: u32 = 10;

/// Where the mail's links point: the public base URL of the console and portal.
#[derive(Clone, Debug)]
pub struct Links {
    pub base: String,
}

impl Links {
    fn reply(&self, handle: &Handle, to: Side) -> String {
        match to {
            Side::Partner => format!("{}/portal/{handle}#messages", self.base),
            Side::Merchant => format!("{}/?handle={handle}#messages", self.base),
        }
    }
}

/// One side writes `body` to `partner`'s thread (rate-limited per thread and side). Round
/// trips: ONE read of the partner, the rate-limit write, ONE read of the branding, ONE
/// transaction, the mail's send.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %partner, from = from.as_str()))]
pub async fn post(
    io: Io<'_>,
    limits: &RateLimits,
    links: &Links,
    handle: &Handle,
    partner: &PartnerId,
    from: Side,
    body: &str,
) -> Result<Message, MessageError> {
    let body = model::validate_body(body)?;
    let found = crate::partners::get(io.store.as_ref(), handle, partner)
        .await?
        .ok_or_else(|| MessageError::PartnerNotFound(partner.clone()))?;
    let bucket = bucket(partner, from);
    ratelimit::consume(
        io.store.as_ref(),
        limits,
        handle,
        &bucket,
        MESSAGES_PER_WINDOW,
    )
    .await
    .map_err(|e| match MessageError::from(e) {
        MessageError::Limited(l) => MessageError::Limited(l.of("this conversation")),
        other => other,
    })?;
    let message = Message {
        message_id: MessageId::new(),
        partner_id: partner.clone(),
        from,
        at: Timestamp::from_millis(crate::platform::time::now_millis()),
        body,
        subject: None,
        broadcast_id: None,
    };
    let branding = mail::branding::get(io.store.as_ref(), handle).await?;
    // A partner's message reaches the program: at its reply-to address, else its admins.
    let admins = match (from, branding.as_ref().and_then(|b| b.reply_to.as_ref())) {
        (Side::Partner, None) => {
            crate::people::admin_mail::recipients(io.store.as_ref(), handle).await?
        }
        _ => Vec::new(),
    };
    let program = Program {
        branding: branding.as_ref(),
        admins: &admins,
    };
    let written = write_to(io, links, handle, &found, program, message).await?;
    Ok(written.expect("a fresh message id is absent"))
}

/// One side of one thread's rate-limit bucket (`[a-z0-9_]`: the partner id hashed).
fn bucket(partner: &PartnerId, side: Side) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(partner.as_str().as_bytes());
    format!("msg_{}_{}", &hex::encode(digest)[..16], side.as_str())
}

/// Writes `message` to its partner's thread, mailed to the other side (named and addressed by
/// the handle's `branding`): `None` when a message of that id is there already (a broadcast
/// carried on twice), which writes nothing. Round trips: ONE transaction, then the mail's send.
pub async fn write(
    io: Io<'_>,
    links: &Links,
    handle: &Handle,
    partner: &Partner,
    branding: Option<&Branding>,
    message: Message,
) -> Result<Option<Message>, MessageError> {
    let program = Program {
        branding,
        admins: &[],
    };
    write_to(io, links, handle, partner, program, message).await
}

/// The program as a message's other side: its branding, and its admins' addresses (where a
/// partner's message goes when the branding has no reply-to address).
#[derive(Clone, Copy)]
pub struct Program<'a> {
    pub branding: Option<&'a Branding>,
    pub admins: &'a [Email],
}

/// The most admins one partner's message is mailed to (the transaction's size stays small).
const MAX_ADMINS_MAILED: usize = 20;

/// [`write`], the program's admins given.
async fn write_to(
    io: Io<'_>,
    links: &Links,
    handle: &Handle,
    partner: &Partner,
    program: Program<'_>,
    message: Message,
) -> Result<Option<Message>, MessageError> {
    let mut ops = thread_ops(handle, &message)?;
    let staged = staged_mail(links, handle, partner, program, &message)?;
    for one in &staged {
        ops.extend(one.ops.iter().cloned());
    }
    let target = format!("{}/{}", message.partner_id, message.message_id);
    ops.push(crate::kernel::audit::entry(
        handle,
        "message.sent",
        &target,
    )?);
    match io.store.transact(ops).await {
        Ok(()) => {}
        Err(StoreError::TxConflict { index: 0, .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    for one in &staged {
        mail::publish(io, one).await;
    }
    Ok(Some(message))
}

/// The message (absent before), the counter of the side it goes to, the thread's last message.
fn thread_ops(handle: &Handle, m: &Message) -> Result<Vec<WriteOp>, StoreError> {
    let at_ms = m.at.millis();
    let partner = &m.partner_id;
    let last = json!({
        "partnerId": partner,
        "lastAt": m.at,
        "lastFrom": m.from,
        "preview": model::preview(&m.body),
    });
    Ok(vec![
        WriteOp::Put {
            item: Item::new(
                keys::messages_pk(handle, partner),
                keys::message_sk(at_ms, m.message_id.as_str()),
                to_doc(m)?,
            ),
            cond: Cond::Absent,
        },
        WriteOp::Add {
            pk: keys::threads_pk(handle),
            sk: keys::thread_counts_sk(partner),
            deltas: vec![(m.from.other().as_str().to_owned(), 1.into())],
            cap: None,
            expires_at: None,
        },
        WriteOp::Put {
            item: Item::new(
                keys::threads_pk(handle),
                keys::thread_last_sk(partner),
                last,
            ),
            cond: Cond::None,
        },
    ])
}

/// The mails to the other side, staged for the message's transaction: to the partner's
/// address; or to the program's reply-to address, else each of its admins; none when that side
/// has no address (the message is in the thread either way) or the partner is suspended.
fn staged_mail(
    links: &Links,
    handle: &Handle,
    partner: &Partner,
    program: Program<'_>,
    m: &Message,
) -> Result<Vec<Staged>, MessageError> {
    let branding = program.branding;
    let name = branding.map_or_else(|| handle.to_string(), |b| b.name.clone());
    let parse = |t: &String| Email::parse("email", t).ok();
    let (to, from_name): (Vec<Email>, String) = match m.from {
        Side::Merchant if partner.status == PartnerStatus::Active => {
            (partner.email.iter().filter_map(parse).collect(), name)
        }
        Side::Merchant => (Vec::new(), name),
        Side::Partner => match branding.and_then(|b| b.reply_to.as_ref()) {
            Some(reply_to) => (parse(reply_to).into_iter().collect(), partner.name.clone()),
            None => (
                program
                    .admins
                    .iter()
                    .take(MAX_ADMINS_MAILED)
                    .cloned()
                    .collect(),
                partner.name.clone(),
            ),
        },
    };
    let one = to.len() == 1;
    to.into_iter()
        .map(|to| {
            // One mail per message and address (a retried message queues none again).
            let key = match one {
                true => m.message_id.to_string(),
                false => format!("{}#{}", m.message_id, to.as_str()),
            };
            let out = Outgoing {
                handle: Some(handle.clone()),
                to,
                kind: MailKind::Message,
                key,
                data: json!({
                    "from": from_name,
                    "subject": m.subject,
                    "body": m.body,
                    "replyUrl": links.reply(handle, m.from.other()),
                }),
            };
            Ok(mail::enqueue_ops(&out)?)
        })
        .collect()
}
