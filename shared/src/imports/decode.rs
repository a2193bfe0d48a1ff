//! An export's bytes as text: exports come from spreadsheets as often as from the tools, so a
//! byte-order mark (UTF-8, UTF-16 LE or BE), UTF-16 without one (Excel's "Unicode text") and
//! Latin-1 (Windows-1252, its superset) are all read, with `encoding_rs`; the text parsers then
//! see UTF-8 only.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// The text of `bytes` and the encoding it was read as.
pub fn text(bytes: &[u8]) -> (String, &'static str) {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return (text.into_owned(), encoding.name());
    }
    if let Some(encoding) = bomless_utf16(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(bytes);
        return (text.into_owned(), encoding.name());
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => (text.to_owned(), UTF_8.name()),
        // Not UTF-8: Latin-1 as Windows writes it (every byte is a character; nothing refused).
        Err(_) => {
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            (text.into_owned(), WINDOWS_1252.name())
        }
    }
}

/// UTF-16 without a mark: text exports are mostly ASCII, so one byte of each pair is zero; which
/// one tells the byte order. (No UTF-8 or Latin-1 text holds NUL bytes.)
fn bomless_utf16(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 2 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let (mut even, mut odd) = (0usize, 0usize);
    for (i, b) in sample.iter().enumerate() {
        if *b == 0 {
            if i % 2 == 0 { even += 1 } else { odd += 1 }
        }
    }
    let pairs = sample.len() / 2;
    if odd * 2 > pairs && even == 0 {
        Some(UTF_16LE)
    } else if even * 2 > pairs && odd == 0 {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xFF, 0xFE] } else { vec![] };
        for u in s.encode_utf16() {
            out.extend_from_slice(&u.to_le_bytes());
        }
        out
    }

    #[test]
    fn reads_each_encoding() {
        assert_eq!(text("slug,é".as_bytes()).0, "slug,é");
        assert_eq!(text(b"\xEF\xBB\xBFslug").0, "slug");
        assert_eq!(text(&utf16le("slug,é", true)).0, "slug,é");
        assert_eq!(text(&utf16le("slug,é", false)).0, "slug,é");
        let be: Vec<u8> = "ab".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(text(&be).0, "ab");
        assert_eq!(text(b"caf\xE9").0, "café");
        assert_eq!(text(b"caf\xE9").1, "windows-1252");
    }
}
