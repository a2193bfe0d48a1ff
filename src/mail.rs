//! `tenx mail list|show`: the mail the local server sent, read from the Maildir of its data dir
//! (`{data-dir}/mail/new/*.eml`, issue 59). Thin: the reading is `tenx_shared::platform::mail`.
//! `tenx mail preview`: every kind's sample rendered to HTML files.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tenx_shared::platform::mail::{Maildir, read_message};

#[derive(clap::Subcommand)]
pub(crate) enum MailCommand {
    /// One line per message, oldest first: when, kind, recipient, subject, Message-ID.
    List {
        #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
        data_dir: PathBuf,
    },
    /// A message's headers of interest and its text part (`--html`: its HTML part; `--raw`: the
    /// whole file), by its Message-ID (or the start of it).
    Show {
        message_id: String,
        #[arg(long, env = "TENX_DATA_DIR", default_value = ".tenx")]
        data_dir: PathBuf,
        #[arg(long)]
        html: bool,
        #[arg(long)]
        raw: bool,
    },
    /// Every kind rendered with a sample of its fields, one HTML file each (`{kind}.html`) in
    /// `--out`: what each kind looks like in a mail reader (the screenshots in docs/mail/).
    Preview {
        #[arg(long)]
        out: PathBuf,
        /// The origin the samples' links are absolute to.
        #[arg(long, default_value = "https://acme.example")]
        base: String,
        /// The locale amounts and dates are written in (en, de, fr).
        #[arg(long, default_value = "en")]
        locale: String,
    },
}

pub(crate) fn run(command: MailCommand) -> anyhow::Result<()> {
    match command {
        MailCommand::Preview { out, base, locale } => preview(&out, &base, &locale),
        MailCommand::List { data_dir } => {
            for (_, m) in messages(&data_dir)? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    m.date, m.kind, m.to, m.subject, m.message_id
                );
            }
            Ok(())
        }
        MailCommand::Show {
            message_id,
            data_dir,
            html,
            raw,
        } => {
            let (_, m) = messages(&data_dir)?
                .into_iter()
                .find(|(_, m)| m.message_id.starts_with(&message_id))
                .with_context(|| format!("no message {message_id} in {}", data_dir.display()))?;
            if raw {
                print!("{}", m.raw);
                return Ok(());
            }
            println!(
                "Date: {}\nFrom: {}\nTo: {}\nSubject: {}\nMessage-ID: {}\nX-Tenx-Kind: {}",
                m.date, m.from, m.to, m.subject, m.message_id, m.kind
            );
            if let Some(u) = &m.list_unsubscribe {
                println!("List-Unsubscribe: {u}");
            }
            println!();
            print!("{}", if html { &m.html } else { &m.text });
            Ok(())
        }
    }
}

fn messages(
    data_dir: &Path,
) -> anyhow::Result<Vec<(PathBuf, tenx_shared::platform::mail::ReadMessage)>> {
    let files = Maildir::new(data_dir.join("mail"))
        .list()
        .with_context(|| format!("reading {}/mail/new", data_dir.display()))?;
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
        let m = read_message(&bytes).with_context(|| format!("{}: not a message", f.display()))?;
        out.push((f, m));
    }
    Ok(out)
}

/// Renders every kind's sample (`mail::preview`) as the worker does, branded as a sample shop,
/// into `{out}/{kind}.html`; prints each file's path.
fn preview(out: &Path, base: &str, locale: &str) -> anyhow::Result<()> {
    use tenx_shared::mail::branding::Branding;
    use tenx_shared::mail::locale::Locale;
    use tenx_shared::mail::render::{Frame, render};
    let locale =
        Locale::parse(locale).with_context(|| format!("--locale {locale}: one of en, de, fr"))?;
    let handle = tenx_shared::domain::Handle::parse("acme").context("the sample handle")?;
    let branding = Branding {
        name: "Acme Shoes".into(),
        color: Some("#b4431c".into()),
        reply_to: Some("partners@acme.example".into()),
        ..Branding::default()
    };
    let unsubscribe = format!("{base}/v2/public/unsubscribe?token=sample");
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for (kind, mut data) in tenx_shared::mail::preview::samples(base, &handle) {
        if kind == tenx_shared::mail::MailKind::PayoutMethodChanged {
            data["disputeUrl"] = format!("{base}/v2/public/payout-dispute?token=sample").into();
        }
        let frame = Frame {
            branding: &branding,
            locale,
            unsubscribe_url: kind.unsubscribable().then_some(unsubscribe.as_str()),
        };
        let rendered = render(kind, &data, &frame)?;
        let path = out.join(format!("{}.html", kind.as_str()));
        std::fs::write(&path, rendered.html)
            .with_context(|| format!("writing {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}
