//! Disposable email domains (issue 83): the community-maintained blocklist, committed as data
//! (`shared/data/disposable_email/`, refreshed by `scripts/update_disposable_domains.sh`; no
//! network at build or run time). An address is disposable when its domain, or a domain it is
//! under (`x.mailinator.com`), is listed. Read off the hot path only (partner risk), so the
//! list is split into lines once, on first use.

use std::sync::LazyLock;

static DOMAINS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut d: Vec<&'static str> = include_str!("../../../data/disposable_email/domains.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    // The file is sorted; sorting again costs nothing then and keeps the search right if not.
    d.sort_unstable();
    d
});

/// How many domains the list holds.
pub fn len() -> usize {
    DOMAINS.len()
}

/// The listed domain `email` is at or under, if any (`None` for an address of a real mailbox
/// provider, and for anything that is not an address).
pub fn domain_of(email: &str) -> Option<&'static str> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = domain.trim_end_matches('.').to_ascii_lowercase();
    let mut rest = domain.as_str();
    loop {
        if let Ok(i) = DOMAINS.binary_search(&rest) {
            return Some(DOMAINS[i]);
        }
        // Up one label; a bare top-level domain is never listed on its own.
        match rest.split_once('.') {
            Some((_, parent)) if parent.contains('.') => rest = parent,
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_domain_and_its_subdomains_are_disposable_and_mailbox_providers_are_not() {
        assert!(len() > 1000, "{}", len());
        assert_eq!(domain_of("jo@mailinator.com"), Some("mailinator.com"));
        assert_eq!(domain_of("Jo@MAILINATOR.com."), Some("mailinator.com"));
        assert_eq!(domain_of("jo@inbox.mailinator.com"), Some("mailinator.com"));
        for real in [
            "jo@gmail.com",
            "jo@outlook.com",
            "jo@yahoo.com",
            "jo@proton.me",
            "jo@icloud.com",
            "jo@example.com",
        ] {
            assert_eq!(domain_of(real), None, "{real}");
        }
        assert_eq!(domain_of("not an address"), None);
        assert_eq!(domain_of("jo@com"), None);
    }
}
