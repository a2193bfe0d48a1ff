//! A partner added by hand without an id (issue 62): its id is made from its name, as people
//! read it ("Jo's Deals" → `jos-deals`), and a name already taken gets a suffix (`jos-deals-2`).
//! Each try is the create's own put-if-absent, so two managers adding the same name at once
//! end with two partners, never one overwritten.

use super::{Partner, PartnerError, PartnerFields};
use crate::domain::{Handle, PartnerId};
use crate::platform::store::Store;

/// At most this many suffixes are tried before the name is answered as taken.
pub const MAX_TRIES: u32 = 20;

/// `name` as an id's stem: lower-case letters and digits, other runs as one hyphen, at most 40
/// characters; `partner` when nothing of it is left (a name of only symbols or other scripts).
pub fn stem(name: &str) -> String {
    let mut base = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if base.len() >= 40 {
            break;
        }
        if c.is_ascii_alphanumeric() {
            base.push(c);
        } else if !base.is_empty() && !base.ends_with('-') {
            base.push('-');
        }
    }
    let base = base.trim_end_matches('-');
    if base.is_empty() {
        "partner".to_owned()
    } else {
        base.to_owned()
    }
}

/// The `n`th id tried for a stem: the stem itself, then `stem-2`, `stem-3`, …
pub fn nth(stem: &str, n: u32) -> String {
    match n {
        0 | 1 => stem.to_owned(),
        n => format!("{stem}-{n}"),
    }
}

/// Creates the partner under the first free id of its name: the stem, then `-2`, `-3`, …
/// Round trips: the create's, once per id taken.
#[tracing::instrument(skip_all, fields(handle = %handle))]
pub async fn create(
    store: &dyn Store,
    handle: &Handle,
    name: String,
    fields: PartnerFields,
) -> Result<Partner, PartnerError> {
    let base = stem(&name);
    let mut taken = None;
    for n in 1..=MAX_TRIES {
        let raw = nth(&base, n);
        // A stem is always a valid id; were it not, the name is answered as taken.
        let Ok(id) = PartnerId::parse(&raw) else {
            break;
        };
        match super::create(store, handle, id, name.clone(), fields.clone()).await {
            Err(PartnerError::AlreadyExists(id)) => taken = Some(id),
            done => return done,
        }
    }
    Err(taken.map_or(PartnerError::Busy, PartnerError::AlreadyExists))
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn a_name_becomes_an_id_people_can_read() {
        assert_eq!(stem("Jo's Deals!"), "jo-s-deals");
        assert_eq!(stem("  Publisher One "), "publisher-one");
        assert_eq!(stem("Ünïcode Ltd"), "n-code-ltd");
        assert_eq!(stem("***"), "partner");
        assert!(stem(&"a".repeat(90)).len() <= 40);
    }

    #[test]
    fn a_taken_name_gets_the_next_number() {
        use super::nth;
        assert_eq!(nth("lena", 1), "lena");
        assert_eq!(nth("lena", 2), "lena-2");
        assert_eq!(nth("lena", 12), "lena-12");
    }
}
