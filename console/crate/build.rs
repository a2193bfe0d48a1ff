//! Lists the console's files for the binary: walks this folder (nothing outside it) and writes
//! `FILES`, each file `include_bytes!`'d, leaves first: a file comes after every file it refers
//! to, because the server hashes them in this order and rewrites each reference to the hashed
//! name of a file hashed before it. Two files that refer to each other stop the build.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

#[allow(dead_code, unreachable_pub)]
#[path = "refs.rs"]
mod refs;

/// Not assets: the Rust of this crate, and the scripts served at the API's root (`/t.js`,
/// `/embed.js`, on merchants' sites) rather than under `/console/`.
const SKIPPED: [&str; 3] = ["crate", "site", "target"];

fn main() {
    let root = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&root);
    let mut files = BTreeMap::new();
    walk(root, "", &mut files);
    let mut order = Vec::with_capacity(files.len());
    let mut state = BTreeMap::new();
    for name in files.keys() {
        visit(name, &files, &mut state, &mut order, &mut Vec::new());
    }
    let mut out = String::from(
        "/// The console's files (path in `console/`, bytes), leaves first: each after every file it refers to.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for name in &order {
        let path = root.join(name);
        writeln!(out, "    ({name:?}, include_bytes!({:?})),", path.display()).unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("files.rs");
    std::fs::write(dest, out).expect("writing files.rs");
}

/// The assets under `dir` (`prefix` its path in `console/`), with their text when it is text.
fn walk(dir: &Path, prefix: &str, files: &mut BTreeMap<String, String>) {
    println!("cargo:rerun-if-changed={}", dir.display());
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let entry = entry.expect("reading the console folder");
        let name = entry
            .file_name()
            .into_string()
            .expect("console file names are UTF-8");
        let path = entry.path();
        let inner = format!("{prefix}{name}");
        if name.starts_with('.') || SKIPPED.contains(&inner.as_str()) {
            continue;
        }
        if path.is_dir() {
            walk(&path, &format!("{inner}/"), files);
        } else if refs::EXTENSIONS.iter().any(|e| name.ends_with(e)) {
            println!("cargo:rerun-if-changed={}", path.display());
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{inner}: {e}"));
            files.insert(inner, String::from_utf8(bytes).unwrap_or_default());
        }
    }
}

/// Puts `name` in `order` after the files it refers to (depth first).
fn visit(
    name: &str,
    files: &BTreeMap<String, String>,
    state: &mut BTreeMap<String, bool>,
    order: &mut Vec<String>,
    path: &mut Vec<String>,
) {
    match state.get(name) {
        Some(true) => return,
        Some(false) => panic!(
            "console files refer to each other in a cycle: {} -> {name}",
            path.join(" -> ")
        ),
        None => {}
    }
    state.insert(name.to_owned(), false);
    path.push(name.to_owned());
    for reference in refs::references(name, &files[name]) {
        if reference.path != name && files.contains_key(&reference.path) {
            visit(&reference.path, files, state, order, path);
        }
    }
    path.pop();
    state.insert(name.to_owned(), true);
    order.push(name.to_owned());
}
