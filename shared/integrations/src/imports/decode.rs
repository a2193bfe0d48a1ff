//! An export's bytes as text: exports come from spreadsheets as often as from the tools, so a
//! byte-order mark (UTF-8, UTF-16 LE or BE), UTF-16 without one (Excel's "Unicode text") and
//! Latin-1 (Windows-1252, its superset) are all read, with `encoding_rs`; the text parsers then
//! see UTF-8 only. A large file is decoded as it is read ([`Utf8Reader`]): its encoding is
//! told from its first [`SNIFF_BYTES`], the rest decoded a block at a time.

use std::io::Read;

use encoding_rs::{Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

/// How much of a streamed file tells its encoding: a file whose first 64 KiB are UTF-8 is read
/// as UTF-8 (a later byte that is not becomes U+FFFD, and the row holding it is then refused
/// or kept by its field's rule, never guessed at).
pub const SNIFF_BYTES: usize = 64 * 1024;

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

/// The encoding of a file that begins with `sample` (`whole`: the sample is the whole file), and
/// the length of its byte-order mark.
fn sniff(sample: &[u8], whole: bool) -> (&'static Encoding, usize) {
    if let Some((encoding, bom)) = Encoding::for_bom(sample) {
        return (encoding, bom);
    }
    // An even prefix: a UTF-16 file's parity is its length's only when it is whole.
    let even = &sample[..sample.len() & !1];
    if (whole || !even.is_empty())
        && let Some(encoding) = bomless_utf16(if whole { sample } else { even })
    {
        return (encoding, 0);
    }
    match std::str::from_utf8(sample) {
        Ok(_) => (UTF_8, 0),
        // Cut in the middle of a character at the sample's end: still UTF-8.
        Err(e) if !whole && e.error_len().is_none() => (UTF_8, 0),
        Err(_) => (WINDOWS_1252, 0),
    }
}

/// A reader of UTF-8 over a file in any of the encodings [`text`] reads, decoding a block at a
/// time (its memory does not grow with the file).
pub struct Utf8Reader<R> {
    inner: R,
    decoder: Decoder,
    encoding: &'static Encoding,
    input: Vec<u8>,
    start: usize,
    eof: bool,
    output: Vec<u8>,
    out_start: usize,
    out_end: usize,
    finished: bool,
}

impl<R: Read> Utf8Reader<R> {
    /// Reads the first [`SNIFF_BYTES`] of `inner` to tell its encoding.
    pub fn new(mut inner: R) -> std::io::Result<Self> {
        let mut input = Vec::with_capacity(SNIFF_BYTES);
        let eof = (&mut inner)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut input)
            .map(|n| n < SNIFF_BYTES)?;
        let (encoding, bom) = sniff(&input, eof);
        Ok(Self {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            encoding,
            input,
            start: bom,
            eof,
            output: vec![0; 16 * 1024],
            out_start: 0,
            out_end: 0,
            finished: false,
        })
    }

    /// The encoding the file is read as.
    pub fn encoding(&self) -> &'static str {
        self.encoding.name()
    }
}

impl<R: Read> Read for Utf8Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.out_start == self.out_end {
            if self.finished {
                return Ok(0);
            }
            if self.start == self.input.len() && !self.eof {
                self.input.clear();
                self.input.resize(16 * 1024, 0);
                let n = self.inner.read(&mut self.input)?;
                self.input.truncate(n);
                self.start = 0;
                self.eof = n == 0;
            }
            let last = self.eof;
            let (result, read, written, _) =
                self.decoder
                    .decode_to_utf8(&self.input[self.start..], &mut self.output, last);
            self.start += read;
            self.out_start = 0;
            self.out_end = written;
            if last && result == encoding_rs::CoderResult::InputEmpty {
                self.finished = true;
            }
        }
        let n = buf.len().min(self.out_end - self.out_start);
        buf[..n].copy_from_slice(&self.output[self.out_start..self.out_start + n]);
        self.out_start += n;
        Ok(n)
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

    fn streamed(bytes: &[u8]) -> (String, &'static str) {
        // A reader that gives a few bytes at a time: blocks cut characters in two.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(3);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = Utf8Reader::new(Trickle(bytes)).unwrap();
        let mut out = String::new();
        r.read_to_string(&mut out).unwrap();
        (out, r.encoding())
    }

    #[test]
    fn streams_each_encoding_as_text_reads_it() {
        let cases: Vec<Vec<u8>> = vec![
            "slug,é".into(),
            b"\xEF\xBB\xBFslug".to_vec(),
            utf16le("slug,é", true),
            utf16le("slug,é", false),
            b"caf\xE9".to_vec(),
            vec![],
        ];
        for bytes in cases {
            assert_eq!(streamed(&bytes), text(&bytes), "{bytes:?}");
        }
        // Longer than the sniffed part, with multi-byte characters across every block edge.
        let long = "é€😀,".repeat(SNIFF_BYTES / 8);
        assert_eq!(streamed(long.as_bytes()).0, long);
        // UTF-16 without its mark is told by its zero bytes: mostly ASCII, as exports are.
        let text16 = "slug,destination_url,é\n".repeat(SNIFF_BYTES / 16);
        assert_eq!(
            streamed(&utf16le(&text16, false)),
            (text16.clone(), "UTF-16LE")
        );
    }
}
