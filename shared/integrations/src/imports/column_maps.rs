//! A manager's column maps: how the CSV of a tool 10x does not know is read (its columns beside
//! 10x's fields), remembered per tool by the name the manager gave it, so the next file of the
//! same tool comes in without mapping it again. Owns `H#{handle}#IMPMAP` (one item per tool).

use serde::{Deserialize, Serialize};

use super::ImportError;
use super::dashboard_csv::{ColumnMap, Field, loose};
use crate::domain::Handle;
use crate::domain::time::Timestamp;
use crate::platform::store::{Item, Store, keys, to_doc};

/// A remembered map: the tool as the manager named it, and its columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SavedMap {
    pub tool: String,
    pub columns: ColumnMap,
    pub updated_at: Timestamp,
}

const MAX_TOOL: usize = 60;
const MAX_HEADER: usize = 200;

/// The key a tool's name is remembered by: `Link Tree`, `linktree` and `LinkTree ` are one.
fn tool_key(tool: &str) -> Result<String, ImportError> {
    let key = loose(tool);
    if key.is_empty() || tool.chars().count() > MAX_TOOL {
        return Err(ImportError::Unreadable(format!(
            "tool: the tool's name, 1 to {MAX_TOOL} characters with a letter or digit."
        )));
    }
    Ok(key)
}

/// Why `columns` cannot read a file of links, in words (`None`: it can).
pub fn check(columns: &ColumnMap) -> Result<(), ImportError> {
    let refuse = |why: String| Err(ImportError::Unreadable(format!("columns: {why}")));
    let has = |f: Field| columns.0.contains_key(&f);
    if !(has(Field::ShortLink) || has(Field::Slug) || has(Field::CustomLink)) {
        return refuse(
            "say which column holds the short link (or its name, the slug): shortLink, slug or customLink."
                .into(),
        );
    }
    if !has(Field::DestinationUrl) {
        return refuse("say which column holds the destination: destinationUrl.".into());
    }
    for (field, header) in &columns.0 {
        if header.trim().is_empty() || header.chars().count() > MAX_HEADER {
            return refuse(format!(
                "the column of {} is named by its header, 1 to {MAX_HEADER} characters.",
                super::dashboard_csv::words(*field)
            ));
        }
    }
    Ok(())
}

/// Remembers `columns` as the map of `tool` (replacing the one it had). ONE put.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn save(
    store: &dyn Store,
    handle: &Handle,
    tool: &str,
    columns: ColumnMap,
) -> Result<SavedMap, ImportError> {
    let key = tool_key(tool)?;
    check(&columns)?;
    let saved = SavedMap {
        tool: tool.trim().to_owned(),
        columns,
        updated_at: crate::platform::time::timestamp(),
    };
    let (pk, sk) = keys::import_column_map(handle, &key);
    crate::platform::store::put(store, Item::new(pk, sk, to_doc(&saved)?)).await?;
    Ok(saved)
}

/// The map remembered for `tool` (`None`: none yet). ONE read.
pub async fn get(
    store: &dyn Store,
    handle: &Handle,
    tool: &str,
) -> Result<Option<SavedMap>, ImportError> {
    let key = tool_key(tool)?;
    let (pk, sk) = keys::import_column_map(handle, &key);
    Ok(store.get(&pk, &sk).await?.map(|i| i.parse()).transpose()?)
}
