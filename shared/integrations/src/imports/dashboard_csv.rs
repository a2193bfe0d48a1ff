//! The link exports a manager downloads from a tool's dashboard, as CSV (no engineer, no API
//! key), and any other CSV read by a column map the manager made ([`ColumnMap`]). Headers are
//! matched loosely (case, spaces, `_` and `-` aside, in any order), the delimiter is told from
//! the header row (`,`, `;` as Excel writes in Europe, or a tab), cells have their formula
//! guard undone ([`cells::unguarded`]) and numbers, money and dates are read in the styles
//! spreadsheets write ([`cells`]). A file that is plainly another tool's, or one cut short
//! (its last row ends before its columns do), is refused whole, in words, before anything is
//! staged or written.
//!
//! What each reads (docs/imports.md says it with its source):
//! - `dub`: Dub's "Export links" (its public code, `exportLinksColumns`): `Short link` (the full
//!   short URL: its path is the slug), `Destination URL`, `Clicks`, `Revenue` (`$1,234.50`;
//!   before April 2026 a bare number of cents), `Created at`, `Tags` (`, `-separated).
//! - `bitly`: Bitly's links export (its help centre): `Bitlink` or `Short link`, `Custom
//!   bitlinks` (kept over the generated one), `Long URL`, `Title`, `Tags`, `Clicks` or
//!   `Engagements`, `Date created`.
//! - `shortio`: Short.io's links export (its help centre): `Path` (else the `Short URL`'s),
//!   `Original URL`, `Title`, `Tags`, `Clicks`, `Created at`.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::sync::Arc;

use serde::Serialize;

use super::bounded::{Bound, MAX_RECORD_BYTES, MAX_SNIFF_BYTES};
use super::cells::{self, DateOrder};
use super::model::Source;
pub use super::model::{ColumnMap, Field};
use super::raw_row::{Names, RawRow, Unreadable, back_half, line_of};

/// A tool's columns: each field with the header names it goes by (compared [`loose`]ly).
struct Tool {
    name: &'static str,
    columns: &'static [(Field, &'static [&'static str])],
    /// Headers only this tool's export has (to tell a file of it given as another's).
    marks: &'static [&'static str],
}

const DUB: Tool = Tool {
    name: "Dub",
    columns: &[
        (Field::ShortLink, &["shortlink", "link"]),
        (Field::DestinationUrl, &["destinationurl", "url"]),
        (Field::Title, &["title"]),
        (Field::Tags, &["tags"]),
        (Field::Clicks, &["clicks"]),
        (Field::Revenue, &["revenue", "saleamount"]),
        (Field::CreatedAt, &["createdat"]),
    ],
    marks: &["shortlink", "linkid"],
};

const BITLY: Tool = Tool {
    name: "Bitly",
    columns: &[
        (
            Field::ShortLink,
            &["bitlink", "bitlylink", "shortlink", "link", "shorturl"],
        ),
        (
            Field::CustomLink,
            &[
                "custombitlinks",
                "custombitlink",
                "custombackhalf",
                "customlink",
            ],
        ),
        (
            Field::DestinationUrl,
            &["longurl", "destinationurl", "destination"],
        ),
        (Field::Title, &["title"]),
        (Field::Tags, &["tags"]),
        (
            Field::Clicks,
            &["clicks", "totalclicks", "engagements", "totalengagements"],
        ),
        (
            Field::CreatedAt,
            &["datecreated", "createdat", "created", "creationdate"],
        ),
    ],
    marks: &["bitlink", "bitlylink", "longurl", "custombitlinks"],
};

const SHORTIO: Tool = Tool {
    name: "Short.io",
    columns: &[
        (Field::Slug, &["path", "slug"]),
        (
            Field::ShortLink,
            &["shorturl", "secureshorturl", "shortlink"],
        ),
        (
            Field::DestinationUrl,
            &["originalurl", "longurl", "destinationurl"],
        ),
        (Field::Title, &["title"]),
        (Field::Tags, &["tags"]),
        (Field::Clicks, &["clicks", "totalclicks"]),
        (Field::CreatedAt, &["createdat", "datecreated", "created"]),
    ],
    marks: &["originalurl", "idstring"],
};

/// Other files a manager may have at hand, to name them when given as a tool's.
const OTHERS: [(&str, &[&str]); 3] = [
    ("Shlink's (choose Shlink)", &["shortcode", "longurl"]),
    (
        "10x's own CSV (choose A spreadsheet in 10x's columns)",
        &["slug", "destinationurl"],
    ),
    (
        "a partner program's (partners, commissions or payouts), not a list of links",
        &["commission"],
    ),
];

fn tool_of(source: Source) -> Option<&'static Tool> {
    match source {
        Source::Dub => Some(&DUB),
        Source::Bitly => Some(&BITLY),
        Source::ShortIo => Some(&SHORTIO),
        _ => None,
    }
}

/// A header as compared: lower case, letters and digits only (`Short link`, `short_link`,
/// `ShortLink` and ` SHORT-LINK ` are one).
pub fn loose(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The columns found: each field's index and its header as the file writes it.
#[derive(Default)]
struct Columns {
    at: HashMap<Field, (usize, String)>,
    count: usize,
}

impl Columns {
    fn of_tool(tool: &Tool, headers: &csv::StringRecord) -> Self {
        let loose_headers: Vec<String> = headers.iter().map(loose).collect();
        let mut at = HashMap::new();
        for (field, names) in tool.columns {
            // The first of a field's names the file has wins (`Short link` over `Link`).
            let found = names
                .iter()
                .find_map(|n| loose_headers.iter().position(|h| h == n));
            if let Some(i) = found {
                at.insert(*field, (i, headers[i].trim().to_owned()));
            }
        }
        Columns {
            at,
            count: headers.len(),
        }
    }

    fn of_map(map: &ColumnMap, headers: &csv::StringRecord) -> Result<Self, Unreadable> {
        let mut at = HashMap::new();
        for (field, header) in &map.0 {
            let i = headers
                .iter()
                .position(|h| loose(h) == loose(header))
                .ok_or_else(|| {
                    Unreadable(format!(
                        "The file has no column “{header}” (the map reads {} from it); its columns are: {}.",
                        words(*field),
                        listed(headers)
                    ))
                })?;
            at.insert(*field, (i, headers[i].trim().to_owned()));
        }
        Ok(Columns {
            at,
            count: headers.len(),
        })
    }

    fn has_link(&self) -> bool {
        [Field::ShortLink, Field::Slug, Field::CustomLink]
            .iter()
            .any(|f| self.at.contains_key(f))
    }

    fn get<'r>(&self, record: &'r csv::StringRecord, field: Field) -> Option<&'r str> {
        let (i, _) = self.at.get(&field)?;
        record
            .get(*i)
            .map(|c| cells::unguarded(c.trim()))
            .filter(|c| !c.is_empty())
    }

    fn names(&self) -> Names {
        let name = |fields: &[Field], default: &'static str| {
            fields
                .iter()
                .find_map(|f| self.at.get(f).map(|(_, h)| h.clone().into()))
                .unwrap_or(default.into())
        };
        Names {
            slug: name(&[Field::Slug, Field::CustomLink, Field::ShortLink], "slug"),
            destination: name(&[Field::DestinationUrl], "destination"),
            title: name(&[Field::Title], "title"),
            clicks: name(&[Field::Clicks], "clicks"),
            tags: name(&[Field::Tags], "tags"),
            revenue: name(&[Field::Revenue], "revenue"),
            created: name(&[Field::CreatedAt], "created"),
        }
    }
}

/// A field in words, for a person.
pub fn words(field: Field) -> &'static str {
    match field {
        Field::ShortLink => "the short link",
        Field::Slug => "the short link's name (slug)",
        Field::CustomLink => "a custom short link",
        Field::DestinationUrl => "the destination",
        Field::Title => "the title",
        Field::Tags => "the tags",
        Field::Clicks => "the click total",
        Field::Revenue => "the revenue",
        Field::CreatedAt => "the date it was created",
        Field::UtmSource => "the UTM source (utm_source)",
        Field::UtmMedium => "the UTM medium (utm_medium)",
        Field::UtmCampaign => "the UTM campaign (utm_campaign)",
        Field::UtmTerm => "the UTM term (utm_term)",
        Field::UtmContent => "the UTM content (utm_content)",
    }
}

fn listed(headers: &csv::StringRecord) -> String {
    let names: Vec<String> = headers
        .iter()
        .filter(|h| !h.trim().is_empty())
        .take(12)
        .map(|h| format!("“{}”", cells::shortened(h.trim(), cells::QUOTED_CHARS)))
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// What a JSON file starts with (`{` or `[`), written by code point.
const JSON_OPENERS: [char; 2] = ['\u{7b}', '\u{5b}'];

/// Why a file is not `tool`'s links export, in words: whose it looks like, else its columns.
fn not_the_tools(tool: &Tool, headers: &csv::StringRecord) -> Unreadable {
    let loose_headers: Vec<String> = headers.iter().map(loose).collect();
    let has = |mark: &str| loose_headers.iter().any(|h| h.contains(mark));
    // The other files first: each is told by all its columns, a tool by one of its own.
    let looks = OTHERS
        .iter()
        .find(|(_, marks)| marks.iter().all(|m| has(m)))
        .map(|(name, _)| (*name).to_owned())
        .or_else(|| {
            [&DUB, &BITLY, &SHORTIO]
                .into_iter()
                .filter(|t| t.name != tool.name)
                .find(|t| t.marks.iter().any(|m| loose_headers.iter().any(|h| h == m)))
                .map(|t| format!("{}'s links export (choose {})", t.name, t.name))
        });
    if headers
        .get(0)
        .is_some_and(|h| h.trim_start().starts_with(JSON_OPENERS))
    {
        return Unreadable(format!(
            "This file is JSON (an answer of an API), not the CSV {}'s dashboard exports: send it as application/json, or export the links from the dashboard.",
            tool.name
        ));
    }
    let first = format!(
        "This file is not {}'s links export: its first row has no column of the short link and the destination",
        tool.name
    );
    Unreadable(match looks {
        Some(other) => format!("{first}. It looks like {other}."),
        None => format!("{first}; its columns are: {}.", listed(headers)),
    })
}

/// The file's delimiter, told from its header row (the one of `,` `;` and tab found most
/// outside quotes in its first [`MAX_SNIFF_BYTES`]; `,` when none is), and the file again
/// from its start.
pub fn sniff_delimiter<R: Read>(input: R) -> Result<(u8, impl Read), Unreadable> {
    let mut reader = std::io::BufReader::new(input);
    let mut first = Vec::new();
    (&mut reader)
        .take(MAX_SNIFF_BYTES)
        .read_until(b'\n', &mut first)
        .map_err(|e| Unreadable(format!("The file could not be read: {e}.")))?;
    let (mut quoted, mut counts) = (false, [0usize; 3]);
    for b in &first {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delimiter = match counts {
        [c, s, t] if s > c && s >= t => b';',
        [c, s, t] if t > c && t > s => b'\t',
        _ => b',',
    };
    Ok((delimiter, std::io::Cursor::new(first).chain(reader)))
}

/// Reads a dashboard's links CSV (`map`: any CSV, by the manager's column map) row by row
/// into [`RawRow`]s, in the file's order; `each` answers `false` to stop. A row is given to
/// `each` once the next is read: a last row that ends before its columns do is a file cut
/// short, refused whole. A row longer than [`MAX_RECORD_BYTES`] refuses the file.
pub(super) fn rows(
    source: Source,
    map: Option<&ColumnMap>,
    input: impl Read,
    each: &mut dyn FnMut(RawRow) -> bool,
) -> Result<(), Unreadable> {
    let (delimiter, input) = sniff_delimiter(input)?;
    let bound = Bound::new(MAX_RECORD_BYTES);
    bound.start_at("a row", 0);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bound.reader(input));
    let headers = reader
        .headers()
        .map_err(|e| over_or(&bound, 1, 1, || header_error(&e)))?
        .clone();
    let columns = match (map, tool_of(source)) {
        (Some(map), _) => Columns::of_map(map, &headers)?,
        (None, Some(tool)) => Columns::of_tool(tool, &headers),
        (None, None) => {
            return Err(Unreadable(format!(
                "The {} importer reads no CSV without a column map.",
                source.as_str()
            )));
        }
    };
    if !columns.has_link() || !columns.at.contains_key(&Field::DestinationUrl) {
        return Err(match tool_of(source) {
            Some(tool) if map.is_none() => not_the_tools(tool, &headers),
            _ => Unreadable(
                "The column map names no column of the short link (or its slug) and of the destination.".into(),
            ),
        });
    }
    let order = if delimiter == b';' {
        DateOrder::DayFirst
    } else {
        DateOrder::MonthFirst
    };
    let names = Arc::new(columns.names());
    let mut held: Option<(u64, csv::StringRecord)> = None;
    let mut record = csv::StringRecord::new();
    let mut row = 1u64;
    loop {
        row += 1;
        let line = reader.position().line();
        bound.start_at("a row", reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) if e.is_io_error() => {
                return Err(over_or(&bound, row, line, || {
                    Unreadable(format!("The file could not be read: {e}."))
                }));
            }
            Err(e) => return Err(Unreadable(format!("Row {row} cannot be read: {e}."))),
        }
        if let Some((n, previous)) = held.replace((row, record.clone()))
            && !each(raw_row(&columns, &names, &previous, n, order))
        {
            return Ok(());
        }
    }
    if let Some((n, last)) = held {
        if last.len() < columns.count && !(last.len() == 1 && last[0].is_empty()) {
            return Err(Unreadable(format!(
                "The file ends in the middle of row {n} (line {}): it has {} of its {} columns. It looks cut short: download the export again.",
                line_of(&last).unwrap_or(n),
                last.len(),
                columns.count
            )));
        }
        each(raw_row(&columns, &names, &last, n, order));
    }
    Ok(())
}

/// The first rows of a CSV as 10x reads them, for a person to map its columns by.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The header row's cells, as the file writes them.
    pub columns: Vec<String>,
    /// Up to [`PREVIEW_ROWS`] rows (formula guards undone).
    pub rows: Vec<Vec<String>>,
    /// `,`, `;` or a tab.
    pub delimiter: String,
    /// The columns 10x would read each field from, by their headers' names.
    pub column_map: ColumnMap,
}

/// How many rows a preview shows.
pub const PREVIEW_ROWS: usize = 5;

/// The names each field goes by in the files 10x knows, and in plain words.
const ANY_TOOL: &[(Field, &[&str])] = &[
    (
        Field::ShortLink,
        &[
            "shortlink",
            "bitlink",
            "bitlylink",
            "shorturl",
            "link",
            "shortlinkurl",
        ],
    ),
    (
        Field::Slug,
        &[
            "slug",
            "path",
            "key",
            "alias",
            "shortcode",
            "code",
            "backhalf",
            "slashtag",
        ],
    ),
    (
        Field::CustomLink,
        &[
            "custombitlinks",
            "custombitlink",
            "custombackhalf",
            "customlink",
        ],
    ),
    (
        Field::DestinationUrl,
        &[
            "destinationurl",
            "destination",
            "longurl",
            "originalurl",
            "url",
            "target",
            "targeturl",
            "redirecturl",
        ],
    ),
    (Field::Title, &["title", "name", "description"]),
    (Field::Tags, &["tags", "tag", "labels"]),
    (
        Field::Clicks,
        &["clicks", "totalclicks", "visits", "hits", "engagements"],
    ),
    (Field::Revenue, &["revenue", "saleamount", "sales"]),
    (
        Field::CreatedAt,
        &[
            "createdat",
            "datecreated",
            "created",
            "creationdate",
            "date",
        ],
    ),
    (Field::UtmSource, &["utmsource"]),
    (Field::UtmMedium, &["utmmedium"]),
    (Field::UtmCampaign, &["utmcampaign"]),
    (Field::UtmTerm, &["utmterm"]),
    (Field::UtmContent, &["utmcontent"]),
];

/// The map 10x guesses from a header row: each field from the first column going by one of its
/// names, no column read for two fields.
pub fn guess(headers: &[String]) -> ColumnMap {
    let loose_headers: Vec<String> = headers.iter().map(|h| loose(h)).collect();
    let mut taken = vec![false; headers.len()];
    let mut map = ColumnMap::default();
    for (field, names) in ANY_TOOL {
        let found = names
            .iter()
            .find_map(|n| (0..headers.len()).find(|&i| !taken[i] && loose_headers[i] == *n));
        if let Some(i) = found {
            taken[i] = true;
            map.0.insert(*field, headers[i].trim().to_owned());
        }
    }
    map
}

/// The header and first rows of a CSV file (any encoding [`super::decode`] reads; `,` `;` or
/// tab), with the map 10x guesses for it.
pub fn preview(input: impl Read) -> Result<Preview, Unreadable> {
    let (delimiter, input) = sniff_delimiter(input)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(input);
    let headers = reader.headers().map_err(|e| header_error(&e))?.clone();
    let columns: Vec<String> = headers.iter().map(|h| h.trim().to_owned()).collect();
    if columns.iter().all(String::is_empty) {
        return Err(Unreadable(
            "The file is empty: its first row names no column.".into(),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records().take(PREVIEW_ROWS) {
        // A cut-off last row of a file's first part is no fault of the file: the preview stops.
        let Ok(record) = record else { break };
        rows.push(
            record
                .iter()
                .map(|c| cells::unguarded(c).to_owned())
                .collect(),
        );
    }
    let column_map = guess(&columns);
    Ok(Preview {
        columns,
        rows,
        delimiter: char::from(delimiter).to_string(),
        column_map,
    })
}

/// The refusal of a CSV whose row `row` (from line `line`) went past the bound, else `other`.
pub(super) fn over_or(
    bound: &Bound,
    row: u64,
    line: u64,
    other: impl FnOnce() -> Unreadable,
) -> Unreadable {
    if bound.over() {
        bound.refusal(&format!("row {row}, from line {line}"))
    } else {
        other()
    }
}

fn header_error(e: &csv::Error) -> Unreadable {
    Unreadable(format!("The header row cannot be read: {e}."))
}

/// One record as a row of the link it describes.
fn raw_row(
    columns: &Columns,
    names: &Arc<Names>,
    record: &csv::StringRecord,
    row: u64,
    order: DateOrder,
) -> RawRow {
    let mut r = RawRow::at(row, line_of(record), names.clone());
    if record.len() != columns.count {
        r.unreadable = Some(format!(
            "the row has {} fields where the header has {} (broken quoting?)",
            record.len(),
            columns.count
        ));
        return r;
    }
    let get = |f: Field| columns.get(record, f);
    r.slug = get(Field::Slug).map(str::to_owned).or_else(|| {
        get(Field::CustomLink)
            .and_then(|c| c.split([',', ' ', '|', ';']).find(|s| !s.is_empty()))
            .or_else(|| get(Field::ShortLink))
            .and_then(back_half)
    });
    r.destination = get(Field::DestinationUrl).map(str::to_owned);
    r.title = get(Field::Title).map(str::to_owned);
    r.tags = get(Field::Tags)
        .map(|t| {
            t.split([',', '|', ';'])
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    r.clicks = get(Field::Clicks)
        .map(|c| cells::whole_count(c, "clicks"))
        .transpose();
    r.revenue = get(Field::Revenue)
        .map(|c| cells::money_minor(c, &cells::USD))
        .transpose();
    r.created = get(Field::CreatedAt)
        .map(|c| cells::date_time(c, order))
        .transpose();
    r.tracking = crate::domain::Tracking {
        utm_source: get(Field::UtmSource).map(str::to_owned),
        utm_medium: get(Field::UtmMedium).map(str::to_owned),
        utm_campaign: get(Field::UtmCampaign).map(str::to_owned),
        utm_term: get(Field::UtmTerm).map(str::to_owned),
        utm_content: get(Field::UtmContent).map(str::to_owned),
    };
    r
}

#[cfg(test)]
mod tests {
    use super::super::links_sources::parse;
    use super::super::model::Format;
    use super::*;

    #[test]
    fn dubs_export_in_both_money_styles_with_its_guard_undone() {
        let text = "Short link,Destination URL,Clicks,Revenue,Created at,Tags\n\
            https://dub.sh/launch,https://shop.example/launch,\"1,204\",\"$1,234.50\",2026-03-14T10:22:00.000Z,\"'-promo, spring\"\n\
            https://go.brand.com/Old_One,https://shop.example/old,7,123450,2025-11-02T08:00:00.000Z,\n";
        let p = parse(Source::Dub, Format::Csv, text).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].slug, "launch");
        assert_eq!(p.rows[0].clicks, Some(1204));
        assert_eq!(p.rows[0].revenue_minor, Some(123_450));
        assert_eq!(p.rows[0].tags, ["-promo", "spring"]);
        assert_eq!(p.rows[1].slug, "Old_One");
        assert_eq!(p.rows[1].revenue_minor, Some(123_450));
        assert_eq!(
            p.rows[1].created_at.as_ref().map(|t| &t.as_str()[..10]),
            Some("2025-11-02")
        );
    }

    #[test]
    fn headers_loosely_in_any_order_and_semicolons() {
        let text = "created AT;CLICKS;destination_url;short-link\n\
            14/03/2026;\"1.234\";https://shop.example/a;dub.sh/a\n";
        let p = parse(Source::Dub, Format::Csv, text).unwrap();
        assert!(p.errors.is_empty(), "{:?}", p.errors);
        assert_eq!(p.rows[0].slug, "a");
        assert_eq!(p.rows[0].clicks, Some(1234));
        assert_eq!(
            p.rows[0].created_at.as_ref().map(|t| &t.as_str()[..10]),
            Some("2026-03-14")
        );
    }

    #[test]
    fn another_tools_file_and_a_cut_file_are_refused_whole() {
        let bitly = "Bitlink,Long URL,Title\nbit.ly/x,https://a.example/,X\n";
        let e = parse(Source::Dub, Format::Csv, bitly).unwrap_err();
        assert!(e.0.contains("not Dub's links export"), "{e}");
        assert!(e.0.contains("Bitly's links export (choose Bitly)"), "{e}");
        let p = parse(Source::Bitly, Format::Csv, bitly).unwrap();
        assert_eq!(p.rows[0].slug, "x");
        let other = "name,email\nJane,j@example.com\n";
        let e = parse(Source::ShortIo, Format::Csv, other).unwrap_err();
        assert!(e.0.contains("“name”, “email”"), "{e}");
        let cut = "Short link,Destination URL,Clicks\nhttps://dub.sh/a,https://a.example/,1\nhttps://dub.sh/b,https://a.exa";
        let e = parse(Source::Dub, Format::Csv, cut).unwrap_err();
        assert!(e.0.contains("ends in the middle of row 3"), "{e}");
    }

    #[test]
    fn bad_cells_are_their_rows_errors_by_the_files_own_names() {
        let text = "Path,Original URL,Clicks,Created at\n\
            ok,https://a.example/,3,2026-01-02\n\
            few,https://a.example/,lots,2026-01-02\n\
            when,https://a.example/,1,someday\n\
            extra,https://a.example/,1,2026-01-02,x\n";
        let p = parse(Source::ShortIo, Format::Csv, text).unwrap();
        assert_eq!(p.rows.len(), 1);
        let at: Vec<_> = p
            .errors
            .iter()
            .map(|e| (e.row, e.field.as_str(), e.line))
            .collect();
        assert_eq!(
            at,
            [
                (3, "Clicks", Some(3)),
                (4, "Created at", Some(4)),
                (5, "row", Some(5))
            ]
        );
    }

    #[test]
    fn a_preview_guesses_a_map_from_the_headers() {
        let text = "Alias;Target URL;Hits;Note\nspring;https://a.example/s;5;'=1+1\n";
        let p = preview(text.as_bytes()).unwrap();
        assert_eq!(p.delimiter, ";");
        assert_eq!(p.columns, ["Alias", "Target URL", "Hits", "Note"]);
        assert_eq!(p.rows, [["spring", "https://a.example/s", "5", "=1+1"]]);
        let want: Vec<(Field, &str)> = vec![
            (Field::Slug, "Alias"),
            (Field::DestinationUrl, "Target URL"),
            (Field::Clicks, "Hits"),
        ];
        let got: Vec<(Field, &str)> = p
            .column_map
            .0
            .iter()
            .map(|(f, h)| (*f, h.as_str()))
            .collect();
        assert_eq!(got, want);
        assert!(preview("".as_bytes()).is_err());
    }

    #[test]
    fn a_column_map_reads_any_csv() {
        let text = "Code,Target,Hits\nspring,https://a.example/s,5\n";
        let mut map = ColumnMap::default();
        map.0.insert(Field::Slug, "code".into());
        map.0.insert(Field::DestinationUrl, "TARGET".into());
        map.0.insert(Field::Clicks, "Hits".into());
        let mut rows = vec![];
        super::rows(Source::Csv, Some(&map), text.as_bytes(), &mut |r| {
            rows.push((r.slug, r.clicks));
            true
        })
        .unwrap();
        assert_eq!(rows, [(Some("spring".into()), Ok(Some(5)))]);
        map.0.insert(Field::Title, "Name".into());
        let e = super::rows(Source::Csv, Some(&map), text.as_bytes(), &mut |_| true).unwrap_err();
        assert!(e.0.contains("no column “Name”"), "{e}");
    }
}
