//! Dub Partners' program as its dashboard exports it: the partners, commissions and payouts
//! CSVs (Program → Partners, Commissions, Payouts → Export), given together as one zip
//! (`source=dub-partners&format=zip`). The three files are unpacked and read a row at a time,
//! checked, and turned into the lists [`super::programs::dub`] reads (Dub's API shapes), so
//! they come in as a pull or a JSON file of Dub's would. Each file is told by its columns, not
//! its name; a zip with another file, a file twice, one missing, or one cut short is refused
//! whole, in words, before anything is staged, and so is one whose CSVs unpack past
//! [`MAX_UNPACKED_BYTES`] or hold more than [`MAX_ROWS`] rows (a zip bomb is never unpacked
//! whole).
//!
//! What each file's columns are (Dub's public code, read 2026-11-28: `exportPartnerColumns`
//! in `apps/web/lib/zod/schemas/partners.ts`, `COMMISSION_EXPORT_COLUMNS` in
//! `…/commissions.ts`, `PAYOUT_EXPORT_COLUMNS` in `…/payouts.ts`, written by `convertToCSV`):
//! - partners: labels as headers (`ID`, `Name`, `Email`, `Country`, `Status`, `Enrolled at`…).
//! - commissions: ids as headers (`id`, `type`, `amount`, `earnings`, `currency`, `status`,
//!   `createdAt`…, and when chosen `partnerId`); money as `currencyFormatter` writes it (`$1,234.50`), before April
//!   2026 integer cents; a cell starting with `=`, `+`, `-`, `@` or a tab is guarded by `'`.
//! - payouts: `id`, `amount`, `currency`, `status`, `periodStart`, `periodEnd`, `initiatedAt`,
//!   `paidAt`, and when chosen `partnerId`.
//!
//! Payouts are read for what they say of `processed` commissions (`programs::dub`: paid by
//! Dub when its payout is on its way) and counted `skipped`: nothing of them is written.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek};

use serde_json::{Value, json};

use super::cells;
use super::cells::quoted;
use super::dashboard_csv::{loose, sniff_delimiter};
use super::links_sources::Unreadable;
use super::model::RowError;

/// The largest zip read (a request's body is smaller; an upload may come to this).
pub const MAX_ZIP_BYTES: u64 = 64 * 1024 * 1024;
/// The most its CSVs may unpack to, all together: a zip bomb is refused as soon as its files
/// say they are larger, or as soon as their unpacking passes it, never unpacked whole.
pub const MAX_UNPACKED_BYTES: u64 = 64 * 1024 * 1024;
/// The most rows its CSVs may hold, all together (each is kept, as the lists
/// [`super::programs::dub`] reads, until the import is staged).
pub const MAX_ROWS: u64 = 200_000;

/// The kind of one of Dub's export files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Partners,
    Commissions,
    Payouts,
}

impl Kind {
    const ALL: [Kind; 3] = [Kind::Partners, Kind::Commissions, Kind::Payouts];

    fn words(self) -> &'static str {
        match self {
            Kind::Partners => "partners",
            Kind::Commissions => "commissions",
            Kind::Payouts => "payouts",
        }
    }

    /// Where the manager downloads it in Dub.
    fn where_in_dub(self) -> &'static str {
        match self {
            Kind::Partners => "Program → Partners → Export",
            Kind::Commissions => "Program → Commissions → Export, with the column Partner ID",
            Kind::Payouts => "Program → Payouts → Export, with the column Partner ID",
        }
    }

    /// The kind a file's (loose) headers say: a column only it has.
    fn of(headers: &[String]) -> Option<Kind> {
        let has = |h: &str| headers.iter().any(|x| x == h);
        if has("earnings") {
            Some(Kind::Commissions)
        } else if has("periodstart") || has("periodend") || has("initiatedat") {
            Some(Kind::Payouts)
        } else if has("enrolledat") || (has("id") && has("name") && has("email")) {
            Some(Kind::Partners)
        } else {
            None
        }
    }
}

/// The program read from the zip: the lists `programs::dub` reads, with where each item came
/// from, and the rows refused or skipped before it.
pub struct Program {
    /// `{"partners": […], "customers": […], "commissions": […]}` in Dub's API shapes.
    pub json: Vec<u8>,
    /// Each item's file and line, in the order `programs::each_row` numbers them.
    pub origins: Vec<(String, u64)>,
    /// Rows refused here (money, a status, a payout), with their file and line.
    pub refused: Vec<RowError>,
    /// The payouts read (kept by Dub: nothing of them is written).
    pub skipped: u64,
}

impl Program {
    /// A row refused by `programs::each_row`, named by its file and line.
    pub fn locate(&self, mut e: RowError) -> RowError {
        if let Some((file, line)) = usize::try_from(e.row)
            .ok()
            .and_then(|row| self.origins.get(row.checked_sub(1)?))
        {
            e.row = *line;
            e.line = Some(*line);
            e.file = Some(file.clone());
            // The CSVs' own name of the column (the lists name it as Dub's API does).
            if e.field == "partner.id" {
                e.field = "partnerId".into();
                e.message = e
                    .message
                    .replace("a partner of this file", "a partner of the partners CSV");
            }
        }
        e
    }
}

/// How much a zip's CSVs may come to: [`MAX_UNPACKED_BYTES`] and [`MAX_ROWS`].
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub bytes: u64,
    pub rows: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            bytes: MAX_UNPACKED_BYTES,
            rows: MAX_ROWS,
        }
    }
}

/// Reads the zip (at most [`MAX_ZIP_BYTES`]) into the program its three CSVs hold.
pub fn read(input: impl Read) -> Result<Program, Unreadable> {
    read_within(input, Limits::default())
}

/// [`read`] within `limits`: the files are told by their headers first, then unpacked and read
/// a row at a time, partners first (the payouts and commissions name them), each row kept only
/// as the item of its list.
pub fn read_within(input: impl Read, limits: Limits) -> Result<Program, Unreadable> {
    let mut bytes = Vec::new();
    input
        .take(MAX_ZIP_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Unreadable(format!("The zip could not be read: {e}.")))?;
    if bytes.len() as u64 > MAX_ZIP_BYTES {
        return Err(Unreadable(format!(
            "The zip exceeds {} MiB, the most read at once: export fewer rows (a date range) in several imports.",
            MAX_ZIP_BYTES / (1024 * 1024)
        )));
    }
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(cut)?;
    let budget = Budget::new(limits);
    let files = files(&mut archive, &budget)?;
    need_partner_column(&files[&Kind::Payouts].1, Kind::Payouts)?;
    need_partner_column(&files[&Kind::Commissions].1, Kind::Commissions)?;
    let mut build = Build::default();
    for kind in [Kind::Partners, Kind::Payouts, Kind::Commissions] {
        let (index, table) = &files[&kind];
        let mut each = |t: &Table, line: u64, r: &csv::StringRecord| build.row(kind, t, line, r);
        unpack(
            &mut archive,
            (*index, &table.file),
            &budget,
            Some(&mut each),
        )?;
    }
    build.finish()
}

/// The zip's refusal when it cannot be read as one.
fn cut(e: zip::result::ZipError) -> Unreadable {
    Unreadable(format!(
        "The file is not a zip that can be read ({e}): it may be cut short. Download Dub's exports again and zip the three CSVs."
    ))
}

/// One CSV of the zip: its name and (loose) headers.
struct Table {
    file: String,
    headers: Vec<String>,
}

impl Table {
    fn at(&self, header: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == header)
    }

    /// The cell of `header`, its formula guard undone, trimmed; `None` when empty or absent.
    fn cell(&self, record: &csv::StringRecord, header: &str) -> Option<String> {
        let raw = record.get(self.at(header)?)?;
        Some(cells::unguarded(raw.trim()).trim().to_owned()).filter(|c| !c.is_empty())
    }

    fn refuse(&self, line: u64, field: &str, message: impl Into<String>) -> RowError {
        RowError {
            row: line,
            field: field.into(),
            message: message.into(),
            line: Some(line),
            file: Some(self.file.clone()),
        }
    }
}

/// What the zip's CSVs may still unpack to and hold, shared by every reading of them.
struct Budget {
    limits: Limits,
    bytes_left: Cell<u64>,
    rows: Cell<u64>,
    /// An unpacking went past the bytes (its reading failed for it).
    over: Cell<bool>,
}

impl Budget {
    fn new(limits: Limits) -> Self {
        Budget {
            limits,
            bytes_left: Cell::new(limits.bytes),
            rows: Cell::new(0),
            over: Cell::new(false),
        }
    }

    fn too_large(&self) -> Unreadable {
        Unreadable(format!(
            "The zip's CSVs unpack to more than {} MiB, the most one import reads: export fewer rows (a date range) in several imports.",
            self.limits.bytes / (1024 * 1024)
        ))
    }

    /// `e`, or the budget's own refusal when the reading failed for it.
    fn or(&self, e: Unreadable) -> Unreadable {
        if self.over.get() { self.too_large() } else { e }
    }

    /// Counts a row, refusing the zip past [`Limits::rows`].
    fn row(&self) -> Result<(), Unreadable> {
        let rows = self.rows.get() + 1;
        self.rows.set(rows);
        if rows > self.limits.rows {
            return Err(Unreadable(format!(
                "The zip's CSVs hold more than {} rows, the most one import reads: export fewer rows (a date range) in several imports.",
                self.limits.rows
            )));
        }
        Ok(())
    }
}

/// A file of the zip as it unpacks, its bytes counted against the budget: past it, the
/// reading fails (and [`Budget::or`] says why), the rest left packed.
struct Unpacking<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Unpacking<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let left = self.budget.bytes_left.get();
        let Some(rest) = left.checked_sub(n as u64) else {
            self.budget.over.set(true);
            return Err(std::io::Error::other("the zip unpacks past its limit"));
        };
        self.budget.bytes_left.set(rest);
        Ok(n)
    }
}

/// The zip's three CSVs by kind, told by their headers (each file's first line unpacked): any
/// other file, a kind twice or one missing refused whole, and files that say they unpack past
/// the budget refused before any is.
fn files<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    budget: &Budget,
) -> Result<HashMap<Kind, (usize, Table)>, Unreadable> {
    let mut found: HashMap<Kind, (usize, Table)> = HashMap::new();
    let mut extra = Vec::new();
    let mut declared = 0u64;
    let mut names = Vec::new();
    for index in 0..archive.len() {
        let entry = archive.by_index(index).map_err(cut)?;
        let name = entry.name().map_err(cut)?.into_owned();
        // A folder, and what macOS's Compress adds beside the files, are not files of the export.
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        if entry.is_dir() || name.starts_with("__MACOSX/") || base == ".DS_Store" {
            continue;
        }
        declared = declared.saturating_add(entry.size());
        names.push((index, base));
    }
    if declared > budget.limits.bytes {
        return Err(budget.too_large());
    }
    for (index, base) in names {
        let Some(table) = unpack(archive, (index, &base), budget, None)? else {
            extra.push(base);
            continue;
        };
        let kind = Kind::of(&table.headers).expect("a table has a kind");
        if let Some((_, before)) = found.get(&kind) {
            return Err(Unreadable(format!(
                "The zip holds two {} files ({} and {base}): keep one, and import again.",
                kind.words(),
                before.file
            )));
        }
        found.insert(kind, (index, table));
    }
    check_set(&found, &extra)?;
    Ok(found)
}

/// Every kind found once and nothing else, or what is wrong, in words.
fn check_set(found: &HashMap<Kind, (usize, Table)>, extra: &[String]) -> Result<(), Unreadable> {
    if !extra.is_empty() {
        return Err(Unreadable(format!(
            "The zip holds {}, which {} none of Dub's partners, commissions or payouts CSVs: zip only those three, and import again.",
            extra.join(", "),
            if extra.len() == 1 { "is" } else { "are" }
        )));
    }
    let missing: Vec<String> = Kind::ALL
        .into_iter()
        .filter(|k| !found.contains_key(k))
        .map(|k| format!("Dub's {} CSV (in Dub: {})", k.words(), k.where_in_dub()))
        .collect();
    if !missing.is_empty() {
        return Err(Unreadable(format!(
            "The zip lacks {}: add {}, and import again.",
            missing.join(" and "),
            if missing.len() == 1 { "it" } else { "them" }
        )));
    }
    Ok(())
}

/// What each record of a CSV is given to, with its table and line.
type EachRecord<'e> = &'e mut dyn FnMut(&Table, u64, &csv::StringRecord) -> Result<(), Unreadable>;

/// File `index` of the zip (`name`), unpacked as a CSV (UTF-8 with or without BOM, UTF-16, `,`
/// or `;`) within the budget: its table, `None` when its columns are none of Dub's three
/// files'; with `each`, its records too, one at a time as they unpack (a last one cut short
/// refuses the file).
fn unpack<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    (index, name): (usize, &str),
    budget: &Budget,
    each: Option<EachRecord<'_>>,
) -> Result<Option<Table>, Unreadable> {
    let unpacked = |e: &dyn std::fmt::Display| {
        budget.or(Unreadable(format!(
            "{name} in the zip could not be unpacked ({e}): the zip may be cut short. Download Dub's exports again."
        )))
    };
    let entry = archive.by_index(index).map_err(cut)?;
    let reader = super::decode::Utf8Reader::new(Unpacking {
        inner: entry,
        budget,
    })
    .map_err(|e| unpacked(&e))?;
    let (delimiter, input) = sniff_delimiter(reader).map_err(|e| budget.or(e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|h| loose(cells::unguarded(h.trim())))
            .collect(),
        Err(e) if e.is_io_error() => return Err(unpacked(&e)),
        Err(e) => return Err(Unreadable(format!("{name} could not be read: {e}."))),
    };
    if Kind::of(&headers).is_none() {
        return Ok(None);
    }
    let table = Table {
        file: name.to_owned(),
        headers,
    };
    let Some(each) = each else {
        return Ok(Some(table));
    };
    let (mut record, mut at, mut short) = (csv::StringRecord::new(), 1u64, None);
    loop {
        at += 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => return Err(unpacked(&e)),
            Err(e) => return Err(Unreadable(format!("{name}: line {at}: {e}."))),
        }
        budget.row()?;
        let line = record.position().map_or(at, csv::Position::line);
        let cut_short =
            record.len() < table.headers.len() && !(record.len() == 1 && record[0].is_empty());
        short = cut_short.then_some((line, record.len()));
        each(&table, line, &record)?;
    }
    if let Some((line, len)) = short {
        return Err(Unreadable(format!(
            "{name} ends in the middle of line {line}: it has {len} of its {} columns. It looks cut short: download Dub's export again.",
            table.headers.len()
        )));
    }
    Ok(Some(table))
}

/// Dub's payout statuses (its `PayoutStatus`).
const PAYOUT_STATUSES: [&str; 7] = [
    "pending",
    "processing",
    "processed",
    "sent",
    "completed",
    "failed",
    "canceled",
];

/// The lists being built, each item's JSON as it is read (a list's items joined by commas),
/// with each item's origin.
#[derive(Default)]
struct Build {
    partners: Vec<u8>,
    partner_origins: Vec<(String, u64)>,
    known: HashSet<String>,
    commissions: Vec<u8>,
    commission_origins: Vec<(String, u64)>,
    payouts: Vec<u8>,
    refused: Vec<RowError>,
    skipped: u64,
}

/// Adds `item` to a list being built.
fn push(list: &mut Vec<u8>, item: &Value) -> Result<(), Unreadable> {
    if !list.is_empty() {
        list.push(b',');
    }
    serde_json::to_writer(list, item)
        .map_err(|e| Unreadable(format!("The zip's rows could not be kept: {e}.")))
}

impl Build {
    /// One record of a file of `kind`.
    fn row(
        &mut self,
        kind: Kind,
        t: &Table,
        line: u64,
        r: &csv::StringRecord,
    ) -> Result<(), Unreadable> {
        match kind {
            Kind::Partners => self.partner(t, line, r),
            Kind::Payouts => match self.payout(t, line, r) {
                Ok(item) => {
                    self.skipped += 1;
                    push(&mut self.payouts, &item)
                }
                Err(e) => {
                    self.refused.push(e);
                    Ok(())
                }
            },
            Kind::Commissions => self.commission(t, line, r),
        }
    }

    /// A partner as `GET /partners` answers it (no links: the export has none).
    fn partner(&mut self, t: &Table, line: u64, r: &csv::StringRecord) -> Result<(), Unreadable> {
        let id = t.cell(r, "id");
        if let Some(id) = &id {
            self.known.insert(id.clone());
        }
        let item = json!({"id": id, "name": t.cell(r, "name"), "email": t.cell(r, "email")});
        push(&mut self.partners, &item)?;
        self.partner_origins.push((t.file.clone(), line));
        Ok(())
    }

    /// A payout checked (counted skipped), as `GET /payouts` answers it.
    fn payout(&self, t: &Table, line: u64, r: &csv::StringRecord) -> Result<Value, RowError> {
        let id = t
            .cell(r, "id")
            .ok_or_else(|| t.refuse(line, "id", "is missing"))?;
        let partner = self.partner_of(t, line, r)?;
        let amount = money(t, line, r, "amount")?;
        let names = PAYOUT_STATUSES.join(", ");
        let status = t
            .cell(r, "status")
            .ok_or_else(|| t.refuse(line, "status", format!("is missing (one of {names})")))?;
        if !PAYOUT_STATUSES.contains(&status.as_str()) {
            let message = format!("{} is not one of {names}", quoted(&status));
            return Err(t.refuse(line, "status", message));
        }
        Ok(json!({
            "id": id,
            "amount": amount,
            "currency": t.cell(r, "currency"),
            "status": status,
            "partner": {"id": partner},
        }))
    }

    fn partner_of(&self, t: &Table, line: u64, r: &csv::StringRecord) -> Result<String, RowError> {
        let partner = t
            .cell(r, "partnerid")
            .ok_or_else(|| t.refuse(line, "partnerId", "is missing"))?;
        if !self.known.contains(&partner) {
            return Err(t.refuse(
                line,
                "partnerId",
                format!("{} is not a partner of the partners CSV", quoted(&partner)),
            ));
        }
        Ok(partner)
    }

    /// A commission as `GET /commissions` answers it. Its customer is not taken: a customer is
    /// bound on its partner's link, and Dub's partners export has no links.
    fn commission(
        &mut self,
        t: &Table,
        line: u64,
        r: &csv::StringRecord,
    ) -> Result<(), Unreadable> {
        match money(t, line, r, "earnings") {
            Ok(earnings) => {
                let item = json!({
                    "id": t.cell(r, "id"),
                    "partner": {"id": t.cell(r, "partnerid")},
                    "earnings": earnings,
                    "currency": t.cell(r, "currency"),
                    "status": t.cell(r, "status"),
                });
                push(&mut self.commissions, &item)?;
                self.commission_origins.push((t.file.clone(), line));
            }
            Err(e) => self.refused.push(e),
        }
        Ok(())
    }

    fn finish(self) -> Result<Program, Unreadable> {
        let mut json = Vec::with_capacity(
            self.partners.len() + self.commissions.len() + self.payouts.len() + 64,
        );
        for (key, items) in [
            ("{\"partners\":[", &self.partners),
            ("],\"customers\":[],\"commissions\":[", &self.commissions),
            ("],\"payouts\":[", &self.payouts),
        ] {
            json.extend_from_slice(key.as_bytes());
            json.extend_from_slice(items);
        }
        json.extend_from_slice(b"]}");
        let mut origins = self.partner_origins;
        origins.extend(self.commission_origins);
        Ok(Program {
            json,
            origins,
            refused: self.refused,
            skipped: self.skipped,
        })
    }
}

/// A commissions or payouts CSV exported without its partner's column names no partner.
fn need_partner_column(t: &Table, kind: Kind) -> Result<(), Unreadable> {
    if t.at("partnerid").is_some() {
        return Ok(());
    }
    Err(Unreadable(format!(
        "{} has no Partner ID column, so its {} name no partner: export it again in Dub ({}).",
        t.file,
        kind.words(),
        kind.where_in_dub()
    )))
}

/// The currencies whose marks Dub's `currencyFormatter` writes (`$`, `€`, `£`…); another
/// currency's amount is read as whole cents (the style before April 2026) or by its code.
const CURRENCIES: [cells::Currency; 5] = [
    cells::USD,
    cells::Currency {
        code: "EUR",
        name: "euros",
        marks: &["EUR", "€"],
    },
    cells::Currency {
        code: "GBP",
        name: "pounds sterling",
        marks: &["GBP", "£"],
    },
    cells::Currency {
        code: "CAD",
        name: "Canadian dollars",
        marks: &["CA$", "CAD"],
    },
    cells::Currency {
        code: "AUD",
        name: "Australian dollars",
        marks: &["A$", "AUD"],
    },
];

/// A money cell in minor units: `$1,234.50` or integer cents, in the row's currency.
fn money(t: &Table, line: u64, r: &csv::StringRecord, header: &str) -> Result<i64, RowError> {
    let cell = t
        .cell(r, header)
        .ok_or_else(|| t.refuse(line, header, "is missing"))?;
    let code = t
        .cell(r, "currency")
        .unwrap_or_else(|| "USD".into())
        .to_ascii_uppercase();
    let known = CURRENCIES.iter().find(|c| c.code == code);
    let other = cells::Currency {
        code: "",
        name: "its currency",
        marks: &[],
    };
    let minor = cells::money_minor(&cell, known.unwrap_or(&other))
        .map_err(|m| t.refuse(line, header, m))?;
    if minor < 0 {
        return Err(t.refuse(line, header, "must not be negative"));
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, body) in files {
            out.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(body).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    const PARTNERS: &[u8] = b"ID,Name,Email,Country,Status,Group,Enrolled at\npn_1,Kim Lee,kim@p.example,US,approved,Default,2026-01-02T00:00:00.000Z\n";
    const PAYOUTS: &[u8] = b"id,amount,currency,status,periodStart,periodEnd,initiatedAt,paidAt,partnerId\npo_1,$30.00,usd,sent,,,,,pn_1\n";

    #[test]
    fn money_in_both_styles_and_a_guarded_negative_amount_refused_by_its_file_and_line() {
        let commissions = b"id,type,amount,earnings,currency,status,partnerId\ncm_1,sale,\"$1,234.50\",\"$1,234.50\",usd,processed,pn_1\ncm_2,sale,5000,1500,usd,pending,pn_1\ncm_3,sale,$1.00,'-$1.00,usd,pending,pn_1\n";
        let zip = zip_of(&[
            ("partners.csv", PARTNERS),
            ("c.csv", commissions),
            ("payouts.csv", PAYOUTS),
        ]);
        let p = read(std::io::Cursor::new(zip)).unwrap();
        let v: Value = serde_json::from_slice(&p.json).unwrap();
        assert_eq!(v["commissions"][0]["earnings"], 123_450);
        assert_eq!(v["payouts"][0]["amount"], 3000);
        assert_eq!(v["commissions"][1]["earnings"], 1500);
        assert_eq!(p.refused.len(), 1);
        assert_eq!(p.refused[0].line, Some(4));
        assert_eq!(p.refused[0].file.as_deref(), Some("c.csv"));
        assert_eq!(p.skipped, 1);
    }

    const COMMISSIONS: &[u8] = b"id,type,amount,earnings,currency,status,partnerId\ncm_1,sale,$1.00,$0.50,usd,pending,pn_1\n";

    /// A partners CSV of `rows` rows of `name_len`-character names.
    fn partners(rows: usize, name_len: usize) -> Vec<u8> {
        let mut csv = b"ID,Name,Email\n".to_vec();
        let name = "n".repeat(name_len);
        for i in 0..rows {
            csv.extend_from_slice(format!("pn_{i},{name},p{i}@p.example\n").as_bytes());
        }
        csv
    }

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_zip_whose_files_say_they_unpack_past_the_limit_is_refused_before_any_is_unpacked() {
        let zip = zip_of(&[
            ("partners.csv", &partners(2_000, 1_000)),
            ("c.csv", COMMISSIONS),
            ("payouts.csv", PAYOUTS),
        ]);
        assert!(zip.len() < 100_000, "{} bytes", zip.len());
        let limits = Limits {
            bytes: MIB,
            rows: MAX_ROWS,
        };
        let e = read_within(std::io::Cursor::new(zip), limits)
            .err()
            .unwrap();
        assert!(
            e.0.starts_with("The zip's CSVs unpack to more than 1 MiB, the most one import reads"),
            "{}",
            e.0
        );
    }

    #[test]
    fn an_unpacking_past_the_limit_stops_there_whatever_the_zip_says() {
        let zip = zip_of(&[("partners.csv", &partners(2_000, 1_000))]);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        let budget = Budget::new(Limits {
            bytes: MIB,
            rows: MAX_ROWS,
        });
        let mut rows = 0;
        let mut each = |_: &Table, _: u64, _: &csv::StringRecord| {
            rows += 1;
            Ok(())
        };
        let e = unpack(&mut archive, (0, "partners.csv"), &budget, Some(&mut each))
            .err()
            .unwrap();
        assert!(e.0.contains("unpack to more than 1 MiB"), "{}", e.0);
        // Stopped within the limit: about 1 MiB of its 2 MiB of rows read.
        assert!(rows > 500 && rows < 1_100, "{rows} rows");
    }

    #[test]
    fn a_zip_of_more_rows_than_the_limit_is_refused_naming_it() {
        let zip = zip_of(&[
            ("partners.csv", &partners(2, 8)),
            ("c.csv", COMMISSIONS),
            ("payouts.csv", PAYOUTS),
        ]);
        let limits = Limits {
            bytes: MAX_UNPACKED_BYTES,
            rows: 3,
        };
        let e = read_within(std::io::Cursor::new(zip.clone()), limits)
            .err()
            .unwrap();
        assert!(
            e.0.starts_with("The zip's CSVs hold more than 3 rows, the most one import reads"),
            "{}",
            e.0
        );
        let limits = Limits { rows: 4, ..limits };
        let p = read_within(std::io::Cursor::new(zip), limits).unwrap();
        assert_eq!(p.origins.len(), 3);
    }

    #[test]
    fn a_missing_or_extra_file_and_a_cut_zip_are_named() {
        let e = read(std::io::Cursor::new(zip_of(&[("partners.csv", PARTNERS)])))
            .err()
            .unwrap();
        assert!(
            e.0.starts_with("The zip lacks Dub's commissions CSV"),
            "{}",
            e.0
        );
        assert!(e.0.contains("payouts CSV"), "{}", e.0);
        let extra = zip_of(&[
            ("partners.csv", PARTNERS),
            ("payouts.csv", PAYOUTS),
            ("notes.txt", b"hello"),
        ]);
        let e = read(std::io::Cursor::new(extra)).err().unwrap();
        assert!(e.0.contains("notes.txt"), "{}", e.0);
        let mut cut = zip_of(&[("partners.csv", PARTNERS), ("payouts.csv", PAYOUTS)]);
        cut.truncate(cut.len() / 2);
        let e = read(std::io::Cursor::new(cut)).err().unwrap();
        assert!(e.0.contains("cut short"), "{}", e.0);
    }
}
