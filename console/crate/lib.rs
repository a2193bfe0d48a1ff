//! The web console (this folder): plain HTML, CSS and ES modules in folders by what the manager
//! and the partner see, embedded in the binary. `build.rs` lists the files, leaves first;
//! `tenx-api`'s `http::console` hashes and serves them.

pub mod refs;

include!(concat!(env!("OUT_DIR"), "/files.rs"));

/// The console's page (`/`).
pub const INDEX: &str = include_str!("../index.html");

/// The public partner program page (`/programs/{handle}`), a page of its own over the same
/// assets.
pub const PROGRAM_PAGE: &str = include_str!("../program_page/program.html");

/// The partner portal (`/portal/{handle}`), a page of its own over the same assets.
pub const PORTAL_PAGE: &str = include_str!("../portal/portal.html");

/// The pages by their path in `console/`.
pub const PAGES: [(&str, &str); 3] = [
    ("index.html", INDEX),
    ("program_page/program.html", PROGRAM_PAGE),
    ("portal/portal.html", PORTAL_PAGE),
];

/// The first-party script merchants embed on landing and checkout pages (`GET /t.js`).
pub const SCRIPT: &[u8] = include_bytes!("../site/t.js");

/// The referral dashboard element merchants embed in their own app (`GET /embed.js`).
pub const EMBED_SCRIPT: &[u8] = include_bytes!("../site/embed.js");

/// One of [`FILES`] by its path in `console/` (`portal/tax_words.js`).
pub fn file(path: &str) -> Option<&'static [u8]> {
    FILES
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

#[cfg(test)]
mod tests {
    use super::refs::{references, resolve};
    use super::*;

    fn texts() -> impl Iterator<Item = (&'static str, &'static str)> {
        let assets = FILES
            .iter()
            .filter_map(|(name, bytes)| Some((*name, std::str::from_utf8(bytes).ok()?)));
        PAGES.into_iter().chain(assets)
    }

    /// A page or module that imports a file the list lacks fails here, not in a browser.
    #[test]
    fn every_file_a_page_or_module_refers_to_is_listed() {
        let mut missing = Vec::new();
        for (from, text) in texts() {
            for r in references(from, text) {
                if file(&r.path).is_none() {
                    missing.push(format!("{from} refers to {:?}", &text[r.start..r.end]));
                }
            }
        }
        assert!(missing.is_empty(), "not console files: {missing:#?}");
    }

    /// Every `import … from '…'`, `import('…')` and `src="…"` is read as a reference (a name
    /// written otherwise, `'./ui'` or `'ui.js'`, would not be rewritten to its hashed name).
    #[test]
    fn every_import_and_script_source_is_a_reference() {
        let mut unread = Vec::new();
        for (from, text) in texts() {
            let starts: Vec<usize> = references(from, text).iter().map(|r| r.start).collect();
            for marker in [
                "from '",
                "from \"",
                "import('",
                "import(\"",
                "src=\"",
                "href=\"",
            ] {
                for (at, _) in text.match_indices(marker) {
                    let name = at + marker.len();
                    let line = text[name..].lines().next().unwrap_or("");
                    // A link elsewhere (`href="#/home"`, `https://…`) is not a console file.
                    let local = ["/console/", "./", "../"]
                        .iter()
                        .any(|p| line.starts_with(p));
                    let external = marker.ends_with("=\"") && !local;
                    if !external && !starts.contains(&name) {
                        unread.push(format!("{from}: {marker}{line}"));
                    }
                }
            }
        }
        assert!(unread.is_empty(), "not read as references: {unread:#?}");
    }

    /// The server hashes in this order: a file names only files hashed before it.
    #[test]
    fn files_come_after_the_files_they_refer_to() {
        let position = |path: &str| FILES.iter().position(|(n, _)| *n == path);
        for (i, (from, bytes)) in FILES.iter().enumerate() {
            let text = std::str::from_utf8(bytes).unwrap_or("");
            for r in references(from, text) {
                // A name of no file is the test above's.
                if let Some(j) = position(&r.path) {
                    assert!(j < i, "{from} refers to {} hashed after it", r.path);
                }
            }
        }
    }

    /// The walk takes every folder's assets and leaves out the pages, this crate's Rust and the
    /// merchants' scripts.
    #[test]
    fn the_list_is_the_folders_assets() {
        for path in [
            "main.js",
            "console.css",
            "icon.svg",
            "portal/main.js",
            "widgets/qr.js",
        ] {
            assert!(file(path).is_some(), "{path} is listed");
        }
        for name in FILES.iter().map(|(n, _)| *n) {
            assert!(
                !name.starts_with("crate/") && !name.starts_with("site/"),
                "{name}"
            );
            assert!(!name.ends_with(".html") && !name.contains('-'), "{name}");
        }
        assert!(SCRIPT.starts_with(b"/*") && !EMBED_SCRIPT.is_empty());
    }

    #[test]
    fn a_reference_resolves_from_its_files_folder() {
        let text = "import { h } from '../ui.js'; // the partner's 'x' \
                    const m = import(`./list.js`); src=\"/console/portal/main.js\"";
        let found: Vec<(bool, String)> = references("partners/page.js", text)
            .into_iter()
            .map(|r| (r.relative, r.path))
            .collect();
        assert_eq!(
            found,
            [
                (true, "ui.js".to_owned()),
                (true, "partners/list.js".to_owned()),
                (false, "portal/main.js".to_owned()),
            ]
        );
        assert_eq!(resolve(&[], "../ui.js"), None, "above the console");
        assert_eq!(resolve(&[], "/console/../x.js"), None);
        assert_eq!(resolve(&["a"], "./x.json"), None, "not an asset");
        assert_eq!(resolve(&["a"], "./x.js?v=1"), None);
        assert_eq!(resolve(&["a"], "https://x.com/a.js"), None);
    }
}
