//! Partners as a claim's words name them: by the name the partner record keeps (issue 62: a
//! manager or a partner reads names, never ids). A partner whose record is gone is named by
//! [`UNKNOWN`], never by its id. The reasons are written once, when the claim is opened or
//! decided, and signed with the decision: a name changed later does not change them, and an
//! older decision (written with ids) keeps its words and still verifies.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use crate::domain::{Handle, PartnerId};
use crate::platform::store::{Store, StoreError};

/// A partner 10x no longer has a record of, in words.
pub const UNKNOWN: &str = "a partner no longer in the program";

/// The names of the partners a claim's words mention.
#[derive(Default)]
pub struct Names(HashMap<PartnerId, String>);

impl Names {
    /// The names of `ids` (each read once). Round trips: ONE read per distinct partner.
    pub async fn of(
        store: &dyn Store,
        handle: &Handle,
        ids: Vec<PartnerId>,
    ) -> Result<Names, StoreError> {
        let mut names = HashMap::new();
        for id in ids {
            if let Entry::Vacant(slot) = names.entry(id) {
                let name = name_of(store, handle, slot.key()).await?;
                slot.insert(name);
            }
        }
        Ok(Names(names))
    }

    /// `id`'s name, else [`UNKNOWN`].
    pub fn get(&self, id: &PartnerId) -> &str {
        self.0.get(id).map_or(UNKNOWN, String::as_str)
    }
}

/// One partner's name, else [`UNKNOWN`]. Round trips: ONE read.
pub async fn name_of(
    store: &dyn Store,
    handle: &Handle,
    id: &PartnerId,
) -> Result<String, StoreError> {
    Ok(crate::partners::get(store, handle, id)
        .await?
        .map(|p| p.name)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| UNKNOWN.to_owned()))
}
