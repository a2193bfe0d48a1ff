//! Dub Partners' program as its dashboard exports it: the partners, commissions and payouts
//! CSVs (Program → Partners, Commissions, Payouts → Export), given together as one zip
//! (`source=dub-partners&format=zip`). The three files are read whole, checked, and turned
//! into the lists [`super::programs::dub`] reads (Dub's API shapes), so they come in as a pull
//! or a JSON file of Dub's would. Each file is told by its columns, not its name; a zip with
//! another file, a file twice, one missing, or one cut short is refused whole, in words,
//! before anything is staged.
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

use std::collections::{HashMap, HashSet};
use std::io::Read;

use serde_json::{Value, json};

use super::cells;
use super::cells::quoted;
use super::dashboard_csv::{loose, sniff_delimiter};
use super::links_sources::Unreadable;
use super::model::RowError;

/// The largest zip read (a request's body is smaller; an upload may come to this).
pub const MAX_ZIP_BYTES: u64 = 64 * 1024 * 1024;
/// The most one CSV of it may unpack to (a zip bomb is refused, not unpacked).
const MAX_CSV_BYTES: u64 = 256 * 1024 * 1024;

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

/// Reads the zip (at most [`MAX_ZIP_BYTES`]) into the program its three CSVs hold.
pub fn read(input: impl Read) -> Result<Program, Unreadable> {
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
    let tables = tables(bytes)?;
    let mut build = Build::default();
    build.partners(&tables[&Kind::Partners]);
    build.payouts(&tables[&Kind::Payouts])?;
    build.commissions(&tables[&Kind::Commissions])?;
    build.finish()
}

/// One CSV of the zip, read whole: its name, (loose) headers and records with their lines.
struct Table {
    file: String,
    headers: Vec<String>,
    records: Vec<(u64, csv::StringRecord)>,
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

/// The zip's three CSVs by kind: any other file, a kind twice or one missing refused whole.
fn tables(bytes: Vec<u8>) -> Result<HashMap<Kind, Table>, Unreadable> {
    let cut = |e: zip::result::ZipError| {
        Unreadable(format!(
            "The file is not a zip that can be read ({e}): it may be cut short. Download Dub's exports again and zip the three CSVs."
        ))
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(cut)?;
    let mut found: HashMap<Kind, Table> = HashMap::new();
    let mut extra = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(cut)?;
        let name = entry.name().map_err(cut)?.into_owned();
        // A folder, and what macOS's Compress adds beside the files, are not files of the export.
        let base = name.rsplit('/').next().unwrap_or(&name).to_owned();
        if entry.is_dir() || name.starts_with("__MACOSX/") || base == ".DS_Store" {
            continue;
        }
        let mut csv = Vec::new();
        (&mut entry)
            .take(MAX_CSV_BYTES + 1)
            .read_to_end(&mut csv)
            .map_err(|e| {
                Unreadable(format!(
                    "{base} in the zip could not be unpacked ({e}): the zip may be cut short. Download Dub's exports again."
                ))
            })?;
        if csv.len() as u64 > MAX_CSV_BYTES {
            return Err(Unreadable(format!(
                "{base} unpacks to more than {} MiB: export fewer rows in several imports.",
                MAX_CSV_BYTES / (1024 * 1024)
            )));
        }
        let Some(table) = table(&base, csv)? else {
            extra.push(base);
            continue;
        };
        let kind = Kind::of(&table.headers).expect("a table has a kind");
        if let Some(before) = found.get(&kind) {
            return Err(Unreadable(format!(
                "The zip holds two {} files ({} and {base}): keep one, and import again.",
                kind.words(),
                before.file
            )));
        }
        found.insert(kind, table);
    }
    check_set(&found, &extra)?;
    Ok(found)
}

/// Every kind found once and nothing else, or what is wrong, in words.
fn check_set(found: &HashMap<Kind, Table>, extra: &[String]) -> Result<(), Unreadable> {
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

/// One CSV read whole (UTF-8 with or without BOM, UTF-16, `,` or `;`), or `None` when its
/// columns are none of Dub's three files'.
fn table(name: &str, bytes: Vec<u8>) -> Result<Option<Table>, Unreadable> {
    let could_not = |e: std::io::Error| Unreadable(format!("{name} could not be read: {e}."));
    let reader = super::decode::Utf8Reader::new(std::io::Cursor::new(bytes)).map_err(could_not)?;
    let (delimiter, input) = sniff_delimiter(reader)?;
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
        Err(e) => return Err(Unreadable(format!("{name} could not be read: {e}."))),
    };
    if Kind::of(&headers).is_none() {
        return Ok(None);
    }
    let mut records = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Unreadable(format!("{name}: line {}: {e}.", i + 2)))?;
        let line = record.position().map_or(i as u64 + 2, csv::Position::line);
        records.push((line, record));
    }
    if let Some((line, last)) = records.last()
        && last.len() < headers.len()
        && !(last.len() == 1 && last[0].is_empty())
    {
        return Err(Unreadable(format!(
            "{name} ends in the middle of line {line}: it has {} of its {} columns. It looks cut short: download Dub's export again.",
            last.len(),
            headers.len()
        )));
    }
    Ok(Some(Table {
        file: name.to_owned(),
        headers,
        records,
    }))
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

/// The lists being built, with each item's origin.
#[derive(Default)]
struct Build {
    partners: Vec<Value>,
    partner_origins: Vec<(String, u64)>,
    known: HashSet<String>,
    commissions: Vec<Value>,
    commission_origins: Vec<(String, u64)>,
    payouts: Vec<Value>,
    refused: Vec<RowError>,
    skipped: u64,
}

impl Build {
    /// Partners as `GET /partners` answers them (no links: the export has none).
    fn partners(&mut self, t: &Table) {
        for (line, r) in &t.records {
            let id = t.cell(r, "id");
            if let Some(id) = &id {
                self.known.insert(id.clone());
            }
            self.partners
                .push(json!({"id": id, "name": t.cell(r, "name"), "email": t.cell(r, "email")}));
            self.partner_origins.push((t.file.clone(), *line));
        }
    }

    /// Payouts checked and counted skipped, as `GET /payouts` answers them.
    fn payouts(&mut self, t: &Table) -> Result<(), Unreadable> {
        need_partner_column(t, Kind::Payouts)?;
        for (line, r) in &t.records {
            match self.payout(t, *line, r) {
                Ok(item) => {
                    self.skipped += 1;
                    self.payouts.push(item);
                }
                Err(e) => self.refused.push(e),
            }
        }
        Ok(())
    }

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

    /// Commissions as `GET /commissions` answers them. Their customers are not taken: a
    /// customer is bound on its partner's link, and Dub's partners export has no links.
    fn commissions(&mut self, t: &Table) -> Result<(), Unreadable> {
        need_partner_column(t, Kind::Commissions)?;
        for (line, r) in &t.records {
            match money(t, *line, r, "earnings") {
                Ok(earnings) => {
                    self.commissions.push(json!({
                        "id": t.cell(r, "id"),
                        "partner": {"id": t.cell(r, "partnerid")},
                        "earnings": earnings,
                        "currency": t.cell(r, "currency"),
                        "status": t.cell(r, "status"),
                    }));
                    self.commission_origins.push((t.file.clone(), *line));
                }
                Err(e) => self.refused.push(e),
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Program, Unreadable> {
        let json = serde_json::to_vec(&json!({
            "partners": self.partners,
            "customers": [],
            "commissions": self.commissions,
            "payouts": self.payouts,
        }))
        .map_err(|e| Unreadable(format!("The zip's rows could not be kept: {e}.")))?;
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
