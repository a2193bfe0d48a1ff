//! Reading link exports: each shortener's own list answer or export file, as its documentation
//! shows it (the fixtures in `tests/fixtures/imports/` name the document each follows), into
//! checked [`LinkRow`]s and the rows that could not be read, each with its field.
//!
//! - `bitly`: the API's `GET /v4/groups/{group}/bitlinks` answer (`links[]`: `id`, `link`,
//!   `long_url`, `title`, `tags`, `custom_bitlinks`); a custom back-half is kept over the
//!   generated one.
//! - `rebrandly`: `GET /v1/links` (a list: `slashtag`, `destination`, `title`, `clicks`, `tags`).
//! - `shortio`: `GET /api/links` (`links[]`: `path`, `originalURL`, `title`, `tags`, `clicks`).
//! - `shlink`: `GET /rest/v3/short-urls` (`shortUrls.data[]`: `shortCode`, `longUrl`, `title`,
//!   `tags`, `visitsSummary.total`), or the web client's CSV export (`shortCode`, `longUrl`,
//!   `title`, `tags` separated by `|`, `visits`).
//! - `dub`: `GET /links` (a list: `key`, `url`, `title`, `tags[].name`, `clicks`, `utm_*`).
//! - `csv`: 10x's own columns (`docs/imports.md`): `slug`, `destination_url`, `title`, `tags`
//!   (`|`-separated), `utm_source` … `utm_content`, `clicks`.
//!
//! Cells are data: a formula (`=HYPERLINK(…)`) is text, kept as text or refused by the field's
//! rule (a destination must be an http(s) URL), never evaluated.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::bounded::{Bound, MAX_RECORD_BYTES};
use super::cells::quoted;
use super::dashboard_csv::over_or;
use super::model::{LinkRow, RowError, Source};
use crate::domain::imported_slug::ImportedSlug;
use crate::domain::{LinkSpec, Tracking};

/// What a file came to: the rows to write and the rows refused.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<LinkRow>,
    pub errors: Vec<RowError>,
}

pub use super::model::Format;
pub use super::raw_row::Unreadable;
use super::raw_row::{Names, RawRow, back_half, line_of};

const MAX_TAGS: usize = 20;
const MAX_TAG_LEN: usize = 64;

pub fn parse(source: Source, format: Format, text: &str) -> Result<Parsed, Unreadable> {
    let mut out = Parsed::default();
    each_row(source, format, None, text.as_bytes(), &mut |row| {
        match row {
            Ok(row) => out.rows.push(row),
            Err(e) => out.errors.push(e),
        }
        true
    })?;
    Ok(out)
}

/// Reads `reader`'s rows one at a time (UTF-8: [`super::decode::Utf8Reader`]), each given to
/// `each` checked, in the file's order; `each` answers `false` to stop reading. Nothing of the
/// file is kept but the checked slugs' digests (the duplicate check: 16 bytes a row).
pub fn each_row(
    source: Source,
    format: Format,
    column_map: Option<&super::dashboard_csv::ColumnMap>,
    reader: impl std::io::Read,
    each: &mut dyn FnMut(Result<LinkRow, RowError>) -> bool,
) -> Result<(), Unreadable> {
    let mut seen: HashMap<u128, u64> = HashMap::new();
    let mut checked = |r: RawRow| each(check_row(r, &mut seen));
    if let Some(map) = column_map {
        return match format {
            Format::Csv => super::dashboard_csv::rows(source, Some(map), reader, &mut checked),
            Format::Json | Format::Zip => Err(Unreadable("A column map reads a CSV file.".into())),
        };
    }
    match (source, format) {
        (Source::Csv, Format::Csv) => csv_rows(reader, &CSV_NAMES, csv_own, &mut checked),
        (Source::Shlink, Format::Csv) => csv_rows(reader, &SHLINK_CSV, csv_shlink, &mut checked),
        (Source::Dub | Source::Bitly | Source::ShortIo, Format::Csv) => {
            super::dashboard_csv::rows(source, None, reader, &mut checked)
        }
        (Source::Csv, Format::Json) => Err(Unreadable(
            "The csv importer reads a CSV file (text/csv).".into(),
        )),
        (_, Format::Csv) => Err(Unreadable(format!(
            "The {} importer reads the tool's JSON list answer (application/json).",
            source.as_str()
        ))),
        (_, Format::Json) => json_rows(source, reader, &mut checked),
        (_, Format::Zip) => Err(Unreadable(ZIP_ONLY.into())),
    }
}

/// What a zip of another source is told.
pub const ZIP_ONLY: &str = "Only Dub Partners' export comes as a zip (its partners, commissions and payouts CSVs): choose Dub Partners.";

/// A slug's digest for the duplicate check (a large file's slugs are not kept whole).
fn digest(native: &str) -> u128 {
    use sha2::Digest;
    let d = sha2::Sha256::digest(native.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_be_bytes(first)
}

/// Why a row's tags cannot be kept, in words.
fn tags_fault(tags: &[String]) -> Option<String> {
    if tags.len() > MAX_TAGS {
        return Some(format!("holds more than {MAX_TAGS} tags"));
    }
    let long = tags.iter().find(|t| t.chars().count() > MAX_TAG_LEN)?;
    Some(format!(
        "{} is longer than {MAX_TAG_LEN} characters",
        quoted(long)
    ))
}

fn check_row(r: RawRow, seen: &mut HashMap<u128, u64>) -> Result<LinkRow, RowError> {
    let err = |field: &str, message: String| RowError {
        row: r.row,
        field: field.to_owned(),
        message,
        line: r.line,
        ..Default::default()
    };
    if let Some(why) = &r.unreadable {
        return Err(err("row", why.clone()));
    }
    let slug = r
        .slug
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err(&r.names.slug, "is missing".into()))?;
    let imported = ImportedSlug::parse(slug)
        .map_err(|e| err(&r.names.slug, format!("{} {}", quoted(slug), e.message)))?;
    let destination = r
        .destination
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| err(&r.names.destination, "is missing".into()))?;
    let clicks = r.clicks.clone().map_err(|m| err(&r.names.clicks, m))?;
    let revenue = r.revenue.clone().map_err(|m| err(&r.names.revenue, m))?;
    let created = r.created.clone().map_err(|m| err(&r.names.created, m))?;
    if let Some(why) = tags_fault(&r.tags) {
        return Err(err(&r.names.tags, why));
    }
    let tracking = (r.tracking != Tracking::default()).then_some(r.tracking);
    let title = r.title.filter(|t| !t.trim().is_empty());
    // The same checks as a link written by the API (destination, title, UTM values).
    let spec = LinkSpec {
        destination_url: destination.to_owned(),
        title: title.clone(),
        tracking: tracking.clone(),
        routing_rules: vec![],
        campaign_id: None,
        forward_query: None,
        expires_at: None,
        expired_url: None,
        variants: None,
    };
    if let Err(e) = spec.validate() {
        let field = match e.field.as_str() {
            "destinationUrl" => &r.names.destination,
            "title" => &r.names.title,
            other => other,
        };
        return Err(err(field, e.message));
    }
    let key = digest(imported.native().as_str());
    if let Some(first) = seen.get(&key) {
        return Err(err(
            &r.names.slug,
            format!("{} appears again: row {first} already has it", quoted(slug)),
        ));
    }
    seen.insert(key, r.row);
    Ok(LinkRow {
        row: r.row,
        slug: slug.to_owned(),
        destination_url: destination.to_owned(),
        title,
        tags: r.tags,
        tracking,
        clicks,
        revenue_minor: revenue,
        created_at: created,
    })
}

// --- CSV -------------------------------------------------------------------------------------

static CSV_NAMES: Names = Names::of("slug", "destination_url", "title");

static SHLINK_CSV: Names = Names::of("shortCode", "longUrl", "title");

/// Reads CSV records by header name; a record the CSV reader cannot take (broken quoting, a
/// wrong number of fields) is that row's error, and reading goes on with the next.
fn csv_rows(
    input: impl std::io::Read,
    names: &Names,
    read: fn(&HashMap<String, usize>, &csv::StringRecord, u64, &Names) -> RawRow,
    each: &mut dyn FnMut(RawRow) -> bool,
) -> Result<(), Unreadable> {
    let (delimiter, input) = super::dashboard_csv::sniff_delimiter(input)?;
    let bound = Bound::new(MAX_RECORD_BYTES);
    bound.start_at("a row", 0);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(bound.reader(input));
    let headers = reader
        .headers()
        .map_err(|e| {
            over_or(&bound, 1, 1, || {
                Unreadable(format!("The header row cannot be read: {e}."))
            })
        })?
        .clone();
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim().to_owned(), i))
        .collect();
    for required in [&names.slug, &names.destination] {
        if !columns.contains_key(required.as_ref()) {
            return Err(Unreadable(format!(
                "The header row has no `{required}` column."
            )));
        }
    }
    let mut record = csv::StringRecord::new();
    let mut row = 1u64;
    loop {
        row += 1;
        let line = reader.position().line();
        bound.start_at("a row", reader.position().byte());
        let more = match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => each(read(&columns, &record, row, names)),
            Err(e) if e.is_io_error() => {
                return Err(over_or(&bound, row, line, || {
                    Unreadable(format!("The file could not be read: {e}."))
                }));
            }
            Err(e) => {
                // The row is reported, with what the reader says; it is not guessed at.
                let line = e.position().map(csv::Position::line);
                let mut raw = RawRow::at(row, line, Arc::new(names.clone()));
                raw.unreadable = Some(csv_error(&e));
                each(raw)
            }
        };
        if !more {
            break;
        }
    }
    Ok(())
}

fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!(
            "the row has {len} fields where the header has {expected_len} (broken quoting?)"
        ),
        _ => format!("the row cannot be read: {e}"),
    }
}

fn cell(
    columns: &HashMap<String, usize>,
    record: &csv::StringRecord,
    name: &str,
) -> Option<String> {
    columns
        .get(name)
        .and_then(|i| record.get(*i))
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
}

fn split_tags(raw: Option<String>) -> Vec<String> {
    raw.map(|t| {
        t.split('|')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

fn count(raw: Option<String>) -> Result<Option<u64>, String> {
    match raw {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| format!("{} is not a whole number of clicks", quoted(&v))),
    }
}

fn csv_own(
    columns: &HashMap<String, usize>,
    record: &csv::StringRecord,
    row: u64,
    names: &Names,
) -> RawRow {
    let get = |n: &str| cell(columns, record, n);
    RawRow {
        slug: get("slug"),
        destination: get("destination_url"),
        title: get("title"),
        tags: split_tags(get("tags")),
        tracking: Tracking {
            utm_source: get("utm_source"),
            utm_medium: get("utm_medium"),
            utm_campaign: get("utm_campaign"),
            utm_term: get("utm_term"),
            utm_content: get("utm_content"),
        },
        clicks: count(get("clicks")),
        ..RawRow::at(row, line_of(record), Arc::new(names.clone()))
    }
}

fn csv_shlink(
    columns: &HashMap<String, usize>,
    record: &csv::StringRecord,
    row: u64,
    names: &Names,
) -> RawRow {
    let get = |n: &str| cell(columns, record, n);
    RawRow {
        slug: get("shortCode"),
        destination: get("longUrl"),
        title: get("title"),
        tags: split_tags(get("tags")),
        tracking: Tracking::default(),
        clicks: count(get("visits")),
        ..RawRow::at(row, line_of(record), Arc::new(names.clone()))
    }
}

// --- JSON ------------------------------------------------------------------------------------

static BITLY: Names = Names::of("custom_bitlinks", "long_url", "title");
static REBRANDLY: Names = Names::of("slashtag", "destination", "title");
static SHORTIO: Names = Names::of("path", "originalURL", "title");
static SHLINK: Names = Names::of("shortCode", "longUrl", "title");
static DUB: Names = Names::of("key", "url", "title");

fn json_rows(
    source: Source,
    input: impl std::io::Read,
    each: &mut dyn FnMut(RawRow) -> bool,
) -> Result<(), Unreadable> {
    // Where each tool's answer holds its list (a list at the top is read too).
    let (path, names): (&[&str], _) = match source {
        Source::Bitly => (&["links"], &BITLY),
        Source::Rebrandly => (&[], &REBRANDLY),
        Source::ShortIo => (&["links"], &SHORTIO),
        Source::Shlink => (&["shortUrls", "data"], &SHLINK),
        Source::Dub => (&[], &DUB),
        other => {
            return Err(Unreadable(format!(
                "The {} importer does not read links.",
                other.as_str()
            )));
        }
    };
    let mut rows = 0u64;
    let mut stopped = false;
    let bound = Bound::new(MAX_RECORD_BYTES);
    let mut list = super::json_list::List {
        path,
        bound: &bound,
        found: false,
        each: &mut |item: Value| {
            rows += 1;
            let go_on = each(json_row(source, names, rows, &item));
            stopped = !go_on;
            go_on
        },
    };
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::new(bound.reader(input)));
    let read = serde::de::DeserializeSeed::deserialize(&mut list, &mut de).and_then(|()| de.end());
    let found = list.found;
    match read {
        Err(_) if stopped => Ok(()),
        Err(_) if bound.over() => Err(bound.refusal(&format!("after {rows} items read"))),
        Err(e) if e.is_io() => Err(Unreadable(format!("The file could not be read: {e}."))),
        Err(e) => Err(Unreadable(format!("The file is not JSON: {e}."))),
        Ok(()) if !found => Err(Unreadable(format!(
            "The file is not a {} list answer (no list of links in it).",
            source.as_str()
        ))),
        Ok(()) => Ok(()),
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned).or_else(|| text_of(t, "name")))
                .collect()
        })
        .unwrap_or_default()
}

fn json_count(v: Option<&Value>) -> Result<Option<u64>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(n) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("{} is not a whole number of clicks", quoted(&n.to_string()))),
    }
}

fn json_row(source: Source, names: &Names, row: u64, v: &Value) -> RawRow {
    let mut r = RawRow {
        destination: text_of(v, &names.destination),
        title: text_of(v, &names.title),
        tags: string_list(v.get("tags")),
        ..RawRow::at(row, None, Arc::new(names.clone()))
    };
    match source {
        Source::Bitly => {
            // A custom back-half (`go.brand.com/Spring_Sale`) is the link people have.
            r.slug = v
                .get("custom_bitlinks")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .and_then(back_half)
                .or_else(|| text_of(v, "id").as_deref().and_then(back_half));
        }
        Source::Rebrandly => {
            r.slug = text_of(v, "slashtag");
            r.clicks = json_count(v.get("clicks"));
        }
        Source::ShortIo => {
            r.slug = text_of(v, "path");
            r.clicks = json_count(v.get("clicks"));
        }
        Source::Shlink => {
            r.slug = text_of(v, "shortCode");
            r.clicks = json_count(
                v.pointer("/visitsSummary/total")
                    .or_else(|| v.get("visitsCount")),
            );
        }
        Source::Dub => {
            r.slug = text_of(v, "key");
            r.clicks = json_count(v.get("clicks"));
            r.tracking = Tracking {
                utm_source: text_of(v, "utm_source"),
                utm_medium: text_of(v, "utm_medium"),
                utm_campaign: text_of(v, "utm_campaign"),
                utm_term: text_of(v, "utm_term"),
                utm_content: text_of(v, "utm_content"),
            };
        }
        _ => {}
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_bad_rows_are_reported_and_the_rest_read() {
        let text = "slug,destination_url,title,tags,clicks\n\
            spring,https://a.example/s,Spring,a|b,12\n\
            Spring_Sale,https://a.example/S,,,\n\
            bad slug,https://a.example/x,,,\n\
            formula,=HYPERLINK(\"https://evil.example\"),,,\n\
            title-formula,https://a.example/t,=1+1,,\n\
            spring,https://a.example/again,,,\n\
            broken,\"https://a.example/q,,\n";
        let p = parse(Source::Csv, Format::Csv, text).unwrap();
        let slugs: Vec<_> = p.rows.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(slugs, ["spring", "Spring_Sale", "title-formula"]);
        assert_eq!(p.rows[0].tags, ["a", "b"]);
        assert_eq!(p.rows[0].clicks, Some(12));
        assert_eq!(p.rows[2].title.as_deref(), Some("=1+1"));
        let at: Vec<_> = p.errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(
            at,
            [(4, "slug"), (5, "destination_url"), (7, "slug"), (8, "row")]
        );
    }

    fn refusal(source: Source, format: Format, text: &str) -> String {
        parse(source, format, text).expect_err("refused").0
    }

    #[test]
    fn a_row_longer_than_the_cap_refuses_the_file_naming_it() {
        // A quote never closed: the rest of the file would be one cell.
        let open = format!(
            "slug,destination_url\nok,https://a.example/\nx,\"{}",
            "a,b\n".repeat(1_000_000)
        );
        let why = refusal(Source::Csv, Format::Csv, &open);
        assert!(
            why.starts_with("The file has a row longer than 1 MiB (row 3, from line 3), the most 10x reads (a quote never closed"),
            "{why}"
        );
        // No line break at all: the header row itself.
        let flat = format!("slug,destination_url{}", ",x".repeat(1_500_000));
        let why = refusal(Source::Csv, Format::Csv, &flat);
        assert!(
            why.contains("a row longer than 1 MiB (row 1, from line 1)"),
            "{why}"
        );
        // A dashboard's export, read by its own reader, the same.
        let dub = format!(
            "Short link,Destination URL\nd.to/x,\"{}",
            "a".repeat(3_000_000)
        );
        let why = refusal(Source::Dub, Format::Csv, &dub);
        assert!(
            why.contains("a row longer than 1 MiB (row 2, from line 2)"),
            "{why}"
        );
    }

    #[test]
    fn a_json_item_key_or_value_longer_than_the_cap_refuses_the_file() {
        let long = "a".repeat(1_500_000);
        let item = format!(r#"[{{"key":"k","url":"https://a.example/"}},{{"key":"{long}"}}]"#);
        let why = refusal(Source::Dub, Format::Json, &item);
        assert!(
            why.starts_with("The file has an item longer than 1 MiB (after 1 items read)"),
            "{why}"
        );
        let key = format!(r#"{{"{long}":1,"links":[]}}"#);
        let why = refusal(Source::Bitly, Format::Json, &key);
        assert!(why.contains("a key longer than 1 MiB"), "{why}");
        let value = format!(r#"{{"links":"{long}"}}"#);
        let why = refusal(Source::Bitly, Format::Json, &value);
        assert!(why.contains("a value longer than 1 MiB"), "{why}");
        // What is skipped is never held, so it may be long.
        let skipped = format!(r#"{{"meta":"{long}","links":[]}}"#);
        assert!(parse(Source::Bitly, Format::Json, &skipped).is_ok());
    }

    #[test]
    fn json_list_answers() {
        let bitly = r#"{"links":[{"id":"bit.ly/3xYz","long_url":"https://a.example/","custom_bitlinks":["https://go.brand.com/Spring_Sale"],"tags":["t"]}]}"#;
        let p = parse(Source::Bitly, Format::Json, bitly).unwrap();
        assert_eq!(p.rows[0].slug, "Spring_Sale");
        let dub = r#"[{"key":"x","url":"https://a.example/","clicks":-1}]"#;
        let p = parse(Source::Dub, Format::Json, dub).unwrap();
        assert_eq!((p.errors[0].row, p.errors[0].field.as_str()), (1, "clicks"));
        assert!(parse(Source::Dub, Format::Json, "{").is_err());
        assert!(parse(Source::Bitly, Format::Csv, "a,b").is_err());
    }
}
