//! What an import stores and answers: the job (its status, counts, the rows it could not take and
//! where the worker stands) and the staged rows the worker writes.

use serde::{Deserialize, Serialize};

use crate::domain::ImportId;
use crate::domain::time::Timestamp;
use crate::kernel::audit::Actor;

/// The tool an export comes from (the contract's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Source {
    #[serde(rename = "bitly")]
    Bitly,
    #[serde(rename = "rebrandly")]
    Rebrandly,
    #[serde(rename = "shortio")]
    ShortIo,
    #[serde(rename = "shlink")]
    Shlink,
    #[serde(rename = "dub")]
    Dub,
    #[serde(rename = "csv")]
    Csv,
    #[serde(rename = "dub-partners")]
    DubPartners,
    #[serde(rename = "rewardful")]
    Rewardful,
    #[serde(rename = "firstpromoter")]
    FirstPromoter,
    #[serde(rename = "partnerstack")]
    PartnerStack,
    #[serde(rename = "tolt")]
    Tolt,
}

impl Source {
    pub const ALL: [Source; 11] = [
        Source::Bitly,
        Source::Rebrandly,
        Source::ShortIo,
        Source::Shlink,
        Source::Dub,
        Source::Csv,
        Source::DubPartners,
        Source::Rewardful,
        Source::FirstPromoter,
        Source::PartnerStack,
        Source::Tolt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Bitly => "bitly",
            Source::Rebrandly => "rebrandly",
            Source::ShortIo => "shortio",
            Source::Shlink => "shlink",
            Source::Dub => "dub",
            Source::Csv => "csv",
            Source::DubPartners => "dub-partners",
            Source::Rewardful => "rewardful",
            Source::FirstPromoter => "firstpromoter",
            Source::PartnerStack => "partnerstack",
            Source::Tolt => "tolt",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// A partner program's export (partners, their customers and commissions): admins only.
    pub fn is_program(self) -> bool {
        matches!(
            self,
            Source::DubPartners
                | Source::Rewardful
                | Source::FirstPromoter
                | Source::PartnerStack
                | Source::Tolt
        )
    }
}

/// The export's format, as the request's `content-type` (or an upload's `format`) says.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Json,
    /// Dub Partners' three CSVs in one zip (`dub_zip`).
    Zip,
}

/// What an existing slug does to a row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Left as it is; the row is counted `skipped`.
    #[default]
    Skip,
    /// Replaced by the row; counted `updated`.
    Overwrite,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Running,
    Done,
    Failed,
}

/// What the rows came to (a dry run: what they would come to).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// A row that could not be imported: its number (a CSV's record, the header being row 1; a JSON
/// list's item, from 1), the field at fault and why, in words; a CSV's row also by the line it
/// starts on (a quoted cell may hold line breaks), and a zip's by the file in it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    pub row: u64,
    pub field: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl RowError {
    /// The order a person reads a report in: the file's, then its rows'.
    pub fn file_order(a: &RowError, b: &RowError) -> std::cmp::Ordering {
        (&a.file, a.row).cmp(&(&b.file, b.row))
    }
}

/// The most row errors a job keeps (the count of failed rows goes on).
pub const MAX_ERRORS: usize = 1_000;

/// The most bytes of row errors and notes, together, a job keeps: with the rest of the job
/// within a store item's 400 KiB, whatever the rows' cells held.
pub const MAX_ERROR_BYTES: usize = 300 * 1024;

/// The most characters of a kept row error's message and of its field: a message quotes a
/// cell shortened already ([`super::cells::quoted`]), a field is a column's name.
const MAX_MESSAGE_CHARS: usize = 500;
const MAX_FIELD_CHARS: usize = 100;

impl RowError {
    /// About the bytes it takes in the stored job (its JSON, escapes counted high).
    fn stored_bytes(&self) -> usize {
        fn digits(n: u64) -> usize {
            n.checked_ilog10().map_or(1, |d| d as usize + 1)
        }
        fn text(s: &str) -> usize {
            s.bytes()
                .map(|b| match b {
                    b'"' | b'\\' => 2,
                    0..=0x1f => 6,
                    _ => 1,
                })
                .sum()
        }
        let line = self.line.map_or(0, |l| 8 + digits(l));
        let file = self.file.as_deref().map_or(0, |f| 10 + text(f));
        40 + digits(self.row) + text(&self.field) + text(&self.message) + line + file
    }
}

/// The bytes `kept` take, as [`keep`] counts them.
pub fn kept_bytes(kept: &[RowError]) -> usize {
    kept.iter().map(RowError::stored_bytes).sum()
}

/// Adds `e`, its message and field shortened, to `kept` (whose errors take `used` bytes,
/// counted on) while they hold fewer than [`MAX_ERRORS`] and it fits in [`MAX_ERROR_BYTES`]
/// with them; whether it was added.
pub fn keep(kept: &mut Vec<RowError>, used: &mut usize, mut e: RowError) -> bool {
    if kept.len() >= MAX_ERRORS {
        return false;
    }
    e.message = super::cells::shortened(&e.message, MAX_MESSAGE_CHARS).into_owned();
    e.field = super::cells::shortened(&e.field, MAX_FIELD_CHARS).into_owned();
    let size = e.stored_bytes();
    if *used + size > MAX_ERROR_BYTES {
        return false;
    }
    *used += size;
    kept.push(e);
    true
}

/// An import, as stored and (less the worker's fields) answered.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub import_id: ImportId,
    pub source: Source,
    pub status: Status,
    pub dry_run: bool,
    pub on_conflict: OnConflict,
    pub counts: Counts,
    pub errors: Vec<RowError>,
    /// What could not come in of rows that came in (a partner's link, a customer's email):
    /// apart from `errors`, whose number is the failed count's.
    #[serde(default)]
    pub notes: Vec<RowError>,
    /// Notes past the most a job keeps ([`keep`]), counted (as `counts.failed` counts the
    /// errors past it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub notes_left_out: u64,
    /// Staged chunks, and the first not yet written (the worker's cursor).
    pub chunks: u64,
    pub cursor: u64,
    /// Who started it: the worker writes as them (the audit log's actor).
    pub actor: Actor,
    #[serde(default)]
    pub request_id: String,
    pub created_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// An import of an uploaded file: its key, until the worker has read and staged it
    /// (`imports::uploads::stage_pending`); `None` once staged (or never an upload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_upload: Option<PendingUpload>,
    /// A pull by API key: the key, sealed, and how far the worker has read the tool's lists,
    /// until every page is read and staged (`imports::pulled`); `None` then, and on failure:
    /// the key is forgotten.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_pull: Option<PendingPull>,
}

/// A pull by API key the worker has not read whole yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingPull {
    /// The tool pulled from (`dub`: its program, imported as `dub-partners`).
    pub tool: Source,
    /// The key and the tool's second value (`pull::Credentials`), sealed for this import.
    pub sealed: String,
    pub at: PullCursor,
}

/// Where a pull stands: the next page to read, and what was read before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PullCursor {
    /// The list being read (its place in the tool's lists); past the last one: all read.
    pub list: usize,
    /// The next page's number (a list paged by number).
    pub page: u64,
    /// The id of the last item read (a list paged after it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// Pages read (the tool's requests, its `429`s apart), and the items in them.
    pub pages: u64,
    pub items: u64,
    /// The pieces those items are kept in, numbered from 0.
    pub pieces: u64,
    /// Steps in a row the tool would not give the next page (a limited key, its own failure).
    #[serde(default)]
    pub stalls: u32,
}

impl PullCursor {
    /// A pull's first page.
    pub fn start() -> Self {
        Self {
            list: 0,
            page: 1,
            after: None,
            pages: 0,
            items: 0,
            pieces: 0,
            stalls: 0,
        }
    }
}

/// An uploaded file not yet read whole: its key in the uploads storage, its format, and how
/// far the worker's earlier invocations staged it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingUpload {
    pub key: String,
    pub format: Format,
    #[serde(default)]
    pub staged: Mark,
    /// The manager's map of its columns (a CSV of a tool 10x does not know).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_map: Option<ColumnMap>,
}

/// The file's first `chunks` chunks, staged, and the digest of their rows (a later reading of
/// another file at the same key does not come to it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    pub chunks: u64,
    #[serde(default)]
    pub digest: String,
}

impl Job {
    /// The bytes its errors and notes take ([`keep`]).
    fn kept_bytes(&self) -> usize {
        kept_bytes(&self.errors) + kept_bytes(&self.notes)
    }

    /// Adds rows' errors (kept as [`keep`] says) and counts them failed.
    pub fn fail_rows(&mut self, errors: impl IntoIterator<Item = RowError>) {
        let mut used = self.kept_bytes();
        for e in errors {
            self.counts.failed += 1;
            keep(&mut self.errors, &mut used, e);
        }
    }

    /// Adds the errors of rows counted failed already (a staging's refused rows).
    pub fn refused(&mut self, errors: impl IntoIterator<Item = RowError>) {
        let mut used = self.kept_bytes();
        for e in errors {
            keep(&mut self.errors, &mut used, e);
        }
    }

    /// Adds what could not come in of rows that came in (a partner's link or coupon code),
    /// without counting the rows failed; a note not kept is counted in `notes_left_out`.
    pub fn add_notes(&mut self, notes: impl IntoIterator<Item = RowError>) {
        let mut used = self.kept_bytes();
        for e in notes {
            if !keep(&mut self.notes, &mut used, e) {
                self.notes_left_out += 1;
            }
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A link row, read from an export and checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinkRow {
    pub row: u64,
    /// As the old tool had it (case and characters kept).
    pub slug: String,
    pub destination_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking: Option<crate::domain::Tracking>,
    /// The old tool's click total: history, never a live counter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
    /// The old tool's revenue of the link, in US cents (Dub's export): history too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_minor: Option<i64>,
    /// When the old tool created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
}

/// One staged chunk of rows: links, or a program's partners, or its commissions.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Chunk {
    #[serde(default)]
    pub rows: Vec<LinkRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<PartnerRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<CustomerRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commissions: Vec<CommissionRow>,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.rows.len() + self.partners.len() + self.customers.len() + self.commissions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A partner of a program's export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartnerRow {
    pub row: u64,
    pub partner_id: crate::domain::PartnerId,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Its referral links in the old tool (each a 10x link of a campaign of its own).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<ReferralLink>,
    /// Its coupon codes (each on the partner's first imported campaign).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coupons: Vec<String>,
    /// The address the old tool paid it at by PayPal: its payout method here, set with the
    /// partner (checked and sealed when written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout_email: Option<RowEmail>,
}

/// An address of a row as the export has it, with the field that holds it (named when it
/// cannot come in). Checked when the row is written, which keeps only what the address
/// becomes there: a payout method's sealed details, a customer's mask and keyed digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowEmail {
    pub address: String,
    pub field: String,
}

/// A partner's referral link in the old tool: its token (the slug here, case and characters
/// kept as an imported slug) and the URL it sent visitors to (the destination here), each
/// with the field the export names it by (reported when it cannot come in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReferralLink {
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub field: String,
}

/// A customer the old tool had bound to a partner (`boundBy: import`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerRow {
    pub row: u64,
    /// The merchant's own id of it when the export has one (a Stripe customer, the merchant's
    /// user id), else `import:{source}:{the tool's id}`: a reserved id nobody else can bind.
    pub customer_id: crate::domain::CustomerId,
    pub partner_id: crate::domain::PartnerId,
    /// The field that named its partner (reported when that partner was not imported).
    pub partner_field: String,
    /// The campaign of the partner's first referral link, which the customer is bound on
    /// (`None`: the partner has no link here to bind it to).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<crate::domain::CampaignId>,
    /// Its email in the old tool: kept masked and as a keyed digest, as a lead's is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<RowEmail>,
}

/// A past commission's status in the tool it comes from, as a ledger status here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PastStatus {
    /// Paid by the old tool: `paid` here, never paid again.
    Paid,
    /// Owed and payable: `approved`, paid by the next payout run.
    Due,
    /// Not yet payable there: `pending` here.
    Pending,
    /// Voided there: `rejected` here.
    Voided,
}

/// A past commission of a program's export.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommissionRow {
    pub row: u64,
    /// The old tool's id of it (one line per id, whatever the imports).
    pub external_id: String,
    pub partner_id: crate::domain::PartnerId,
    /// The field that named its partner, as the export names it.
    #[serde(default)]
    pub partner_field: String,
    pub amount_minor: i64,
    pub currency: crate::domain::Currency,
    pub status: PastStatus,
    /// When a pending one becomes payable (Rewardful's `due_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<Timestamp>,
}

/// An imported link's history (its own item, beside the link).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportedLink {
    pub import_id: ImportId,
    pub source: Source,
    pub original_slug: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clicks: Option<u64>,
    /// The old tool's revenue of it, in US cents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_minor: Option<i64>,
    /// When the old tool created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    pub imported_at: Timestamp,
}

/// A written row's outcome (its marker).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RowOutcome {
    Created,
    Updated,
}

/// 10x's fields a CSV's columns are read into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Field {
    /// The whole short link (`https://go.brand.com/Spring_Sale`): its path is the slug.
    ShortLink,
    /// The slug alone (`Spring_Sale`).
    Slug,
    /// A custom short link kept over the generated one (Bitly's custom back-halves).
    CustomLink,
    DestinationUrl,
    Title,
    Tags,
    Clicks,
    Revenue,
    CreatedAt,
    UtmSource,
    UtmMedium,
    UtmCampaign,
    UtmTerm,
    UtmContent,
}

impl Field {
    pub const ALL: [Field; 14] = [
        Field::ShortLink,
        Field::Slug,
        Field::CustomLink,
        Field::DestinationUrl,
        Field::Title,
        Field::Tags,
        Field::Clicks,
        Field::Revenue,
        Field::CreatedAt,
        Field::UtmSource,
        Field::UtmMedium,
        Field::UtmCampaign,
        Field::UtmTerm,
        Field::UtmContent,
    ];
}

/// A manager's map of a file's columns to 10x's fields (each field to the header of the column
/// that holds it, as the file writes it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap(pub std::collections::BTreeMap<Field, String>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::store::validate::MAX_ITEM_BYTES;

    fn job() -> Job {
        let options = crate::imports::Options {
            source: Source::Csv,
            format: Format::Csv,
            dry_run: false,
            on_conflict: OnConflict::Skip,
            column_map: None,
        };
        crate::imports::new_job(ImportId::new(), &options)
    }

    fn refused(row: u64, message: String) -> RowError {
        RowError {
            row,
            field: "slug".into(),
            message,
            line: Some(row),
            ..Default::default()
        }
    }

    #[test]
    fn a_thousand_rows_of_long_errors_and_notes_still_fit_the_jobs_item() {
        let mut job = job();
        job.fail_rows((2..1_002).map(|row| refused(row, "x".repeat(400))));
        job.add_notes((2..1_002).map(|row| refused(row, "\"".repeat(400))));
        let stored = serde_json::to_vec(&job).unwrap().len();
        assert!(stored < MAX_ITEM_BYTES - 64 * 1024, "{stored} bytes");
        assert_eq!(job.counts.failed, 1_000);
        // The first rows are the ones kept, as many as fit; the notes past them are counted.
        assert!(job.errors.len() > 500 && job.errors.len() < 1_000);
        assert_eq!(job.errors[0].row, 2);
        assert_eq!(job.notes_left_out, 1_000 - job.notes.len() as u64);
    }

    #[test]
    fn a_kept_error_says_at_most_500_characters() {
        let mut job = job();
        job.fail_rows([RowError {
            field: "h".repeat(10_000),
            ..refused(2, "é".repeat(410_000))
        }]);
        let kept = &job.errors[0];
        assert_eq!(kept.message.chars().count(), MAX_MESSAGE_CHARS + 1);
        assert!(kept.message.ends_with('…'));
        assert_eq!(kept.field.chars().count(), MAX_FIELD_CHARS + 1);
    }

    #[test]
    fn errors_past_a_thousand_are_counted_not_kept() {
        let mut job = job();
        // Added a chunk's rows at a time, as the worker adds them.
        for rows in (2..1_502).collect::<Vec<u64>>().chunks(100) {
            job.fail_rows(rows.iter().map(|&row| refused(row, "is missing".into())));
            job.add_notes(rows.iter().map(|&row| refused(row, "is missing".into())));
        }
        assert_eq!(job.counts.failed, 1_500);
        assert_eq!(job.errors.len(), MAX_ERRORS);
        assert_eq!(job.notes.len(), MAX_ERRORS);
        assert_eq!(job.notes_left_out, 500);
    }
}
