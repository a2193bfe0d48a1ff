//! A file's records read with a cap on each: a CSV row or a JSON list's item longer than
//! [`MAX_RECORD_BYTES`] fails the reading, the record named, instead of growing in memory
//! until the file ends (a quote never closed, a file with no line break, one endless item).
//! The parsers keep their own buffers; [`Bound::reader`] counts the bytes they pull from the
//! file, and each record's start is marked as the parser comes to it.

use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;

use super::raw_row::Unreadable;

/// The longest record read: a row of a links export is well under a kilobyte.
pub const MAX_RECORD_BYTES: u64 = 1024 * 1024;

/// The longest first line read to tell a CSV's delimiter by (the rest of a longer header row is
/// read as the file's first record, within [`MAX_RECORD_BYTES`]).
pub const MAX_SNIFF_BYTES: u64 = 64 * 1024;

/// The record being read: where it started in the bytes read, and whether one went past the
/// cap. Shared by the reader and the parser's caller on one thread.
#[derive(Clone)]
pub struct Bound(Rc<State>);

struct State {
    cap: u64,
    /// What the record is, with its article (`a row`, `an item`), for the refusal.
    what: Cell<&'static str>,
    read: Cell<u64>,
    start: Cell<u64>,
    /// Whether the bytes read now belong to a record (a JSON file's keys and skipped values
    /// between its items are not counted).
    active: Cell<bool>,
    over: Cell<bool>,
}

impl Bound {
    /// A record starts at the file's first byte.
    pub fn new(cap: u64) -> Self {
        Bound(Rc::new(State {
            cap,
            what: Cell::new("a value"),
            read: Cell::new(0),
            start: Cell::new(0),
            active: Cell::new(true),
            over: Cell::new(false),
        }))
    }

    /// `inner`, its bytes counted against the record being read.
    pub fn reader<R: Read>(&self, inner: R) -> Bounded<R> {
        Bounded {
            inner,
            bound: self.clone(),
        }
    }

    /// `what` (`a row`) starts at byte `at` of what was read (a CSV reader's position).
    pub fn start_at(&self, what: &'static str, at: u64) {
        self.0.what.set(what);
        self.0.start.set(at);
        self.0.active.set(true);
    }

    /// `what` (`an item`) starts here: at the bytes read so far (a parser reads ahead into its
    /// own buffer, so the cap holds within that buffer's size).
    pub fn begin(&self, what: &'static str) {
        self.start_at(what, self.0.read.get());
    }

    /// The record ended: the bytes read until the next one starts are not counted.
    pub fn end(&self) {
        self.0.active.set(false);
    }

    /// Whether a reading failed for a record past the cap.
    pub fn over(&self) -> bool {
        self.0.over.get()
    }

    /// The refusal of a file whose record at `place` (`row 2, from line 2`) went past the cap.
    pub fn refusal(&self, place: &str) -> Unreadable {
        let what = self.0.what.get();
        let cause = if what == "a row" {
            " (a quote never closed makes the rest of the file one row)"
        } else {
            ""
        };
        Unreadable(format!(
            "The file has {what} longer than {} ({place}), the most 10x reads{cause}: check the file there, and import it again.",
            words(self.0.cap)
        ))
    }
}

/// `bytes` in words, for a message.
pub fn words(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 && b % (1024 * 1024) == 0 => format!("{} MiB", b / (1024 * 1024)),
        b if b >= 1024 && b % 1024 == 0 => format!("{} KiB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// A file read through a [`Bound`]: a read that takes the record being read past its cap
/// fails (an I/O error the parser passes on; [`Bound::over`] tells it apart).
pub struct Bounded<R> {
    inner: R,
    bound: Bound,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let s = &self.bound.0;
        if s.active.get() && s.read.get().saturating_sub(s.start.get()) > s.cap {
            s.over.set(true);
            return Err(std::io::Error::other(format!(
                "a record is longer than {}",
                words(s.cap)
            )));
        }
        let n = self.inner.read(buf)?;
        s.read.set(s.read.get() + n as u64);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::new();
        let mut buf = [0u8; 16];
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(out),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn a_record_past_its_cap_fails_the_reading_and_says_so() {
        let bound = Bound::new(64);
        bound.start_at("a row", 0);
        let mut r = bound.reader(std::io::Cursor::new(vec![b'a'; 1_000]));
        let e = read_all(&mut r).unwrap_err();
        assert!(e.to_string().contains("longer than 64 bytes"), "{e}");
        assert!(bound.over());
        let refusal = bound.refusal("row 2, from line 2").0;
        assert!(
            refusal.starts_with("The file has a row longer than 64 bytes (row 2, from line 2)"),
            "{refusal}"
        );
    }

    #[test]
    fn records_each_within_the_cap_read_to_the_end() {
        let bound = Bound::new(64);
        let mut r = bound.reader(std::io::Cursor::new(vec![b'a'; 1_000]));
        let mut buf = [0u8; 32];
        let mut total = 0;
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            total += n;
            // Each 32 bytes are a record of their own.
            bound.begin("an item");
        }
        assert_eq!(total, 1_000);
        assert!(!bound.over());
    }

    #[test]
    fn bytes_between_records_are_not_counted() {
        let bound = Bound::new(64);
        bound.end();
        let mut r = bound.reader(std::io::Cursor::new(vec![b' '; 1_000]));
        assert_eq!(read_all(&mut r).unwrap().len(), 1_000);
        assert!(!bound.over());
    }

    #[test]
    fn a_cap_in_words() {
        assert_eq!(words(1024 * 1024), "1 MiB");
        assert_eq!(words(64 * 1024), "64 KiB");
        assert_eq!(words(100), "100 bytes");
    }
}
