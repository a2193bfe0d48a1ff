//! The references between the console's files: a quoted name of another file, relative to the
//! file that names it (`'./ui.js'`, `"../widgets/picker.js"`: an ES module import, static or
//! dynamic, or a name handed to one) or from the console's root (`"/console/console.css"`: a
//! page's `src` and `href`). One reading for the build script (the files' order), the server
//! (each reference rewritten to its hashed name) and the tests (every reference names a file).

/// One reference in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Where the name is in the text, between its quotes (byte offsets).
    pub start: usize,
    pub end: usize,
    /// Written relative to the file (`./`, `../`), else from the root (`/console/`).
    pub relative: bool,
    /// The file it names, as its path in `console/` (`widgets/picker.js`).
    pub path: String,
}

/// The kinds of file a reference may name.
pub const EXTENSIONS: [&str; 4] = [".js", ".css", ".svg", ".png"];

/// Every reference in `text`, the file at `from` (its path in `console/`), in order.
pub fn references(from: &str, text: &str) -> Vec<Reference> {
    let folder: Vec<&str> = match from.rsplit_once('/') {
        Some((folder, _)) => folder.split('/').collect(),
        None => Vec::new(),
    };
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let quote = bytes[i];
        i += 1;
        if !matches!(quote, b'\'' | b'"' | b'`') {
            continue;
        }
        let rest = &text[i..];
        let Some(len) = rest.find(|c: char| c as u32 == u32::from(quote) || c.is_whitespace())
        else {
            break;
        };
        if rest.as_bytes()[len] != quote {
            continue;
        }
        if let Some((relative, path)) = resolve(&folder, &rest[..len]) {
            out.push(Reference {
                start: i,
                end: i + len,
                relative,
                path,
            });
            i += len + 1;
        }
    }
    out
}

/// The path in `console/` that `name` names from a file in `folder`, when it is a reference.
pub fn resolve(folder: &[&str], name: &str) -> Option<(bool, String)> {
    let (mut parts, rest, relative) = if let Some(rest) = name.strip_prefix("/console/") {
        (Vec::new(), rest, false)
    } else if name.starts_with("./") || name.starts_with("../") {
        (folder.to_vec(), name, true)
    } else {
        return None;
    };
    let plain = rest
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_./-".contains(&b));
    if !plain || !EXTENSIONS.iter().any(|e| rest.ends_with(e)) {
        return None;
    }
    for segment in rest.split('/') {
        match segment {
            "." => {}
            ".." => {
                parts.pop()?;
            }
            "" => return None,
            s => parts.push(s),
        }
    }
    Some((relative, parts.join("/")))
}
