//! A link row as a file's reader finds it, before its checks (`links_sources::check_row`), with
//! the names the file gives its fields (the report names a refused row's field so).

use std::borrow::Cow;
use std::sync::Arc;

use crate::domain::Tracking;

/// The file as a whole cannot be read (not the format its source writes).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// The field names of one source (reported in errors as the export names them: a dashboard's
/// CSV by its own header's words).
#[derive(Clone, Debug)]
pub struct Names {
    pub slug: Cow<'static, str>,
    pub destination: Cow<'static, str>,
    pub title: Cow<'static, str>,
    pub clicks: Cow<'static, str>,
    pub tags: Cow<'static, str>,
    pub revenue: Cow<'static, str>,
    pub created: Cow<'static, str>,
}

impl Names {
    pub const fn of(slug: &'static str, destination: &'static str, title: &'static str) -> Self {
        Names {
            slug: Cow::Borrowed(slug),
            destination: Cow::Borrowed(destination),
            title: Cow::Borrowed(title),
            clicks: Cow::Borrowed("clicks"),
            tags: Cow::Borrowed("tags"),
            revenue: Cow::Borrowed("revenue"),
            created: Cow::Borrowed("created"),
        }
    }
}

/// A row as read, before its checks.
pub struct RawRow {
    pub row: u64,
    /// The line it starts on (a CSV's).
    pub line: Option<u64>,
    pub names: Arc<Names>,
    pub slug: Option<String>,
    pub destination: Option<String>,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub tracking: Tracking,
    pub clicks: Result<Option<u64>, String>,
    /// The old tool's revenue of the link, in US cents (Dub's export).
    pub revenue: Result<Option<i64>, String>,
    /// When the old tool created it.
    pub created: Result<Option<crate::domain::time::Timestamp>, String>,
    /// The CSV reader could not take the record (broken quoting, a wrong number of fields).
    pub unreadable: Option<String>,
}

impl RawRow {
    /// A row of nothing read yet, at `row`.
    pub fn at(row: u64, line: Option<u64>, names: Arc<Names>) -> Self {
        RawRow {
            row,
            line,
            names,
            slug: None,
            destination: None,
            title: None,
            tags: vec![],
            tracking: Tracking::default(),
            clicks: Ok(None),
            revenue: Ok(None),
            created: Ok(None),
            unreadable: None,
        }
    }
}

/// The line a record starts on.
pub fn line_of(record: &csv::StringRecord) -> Option<u64> {
    record.position().map(csv::Position::line)
}

/// The last path segment of a short URL (`https://bit.ly/Spring_Sale` → `Spring_Sale`).
pub fn back_half(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (_, path) = rest.split_once('/')?;
    let path = path.split(['?', '#']).next().unwrap_or("");
    (!path.is_empty()).then(|| path.to_owned())
}
