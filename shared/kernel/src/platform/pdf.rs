//! Plain documents as PDF (invoices, tax forms' copies): lines of text on A4 pages, in the
//! standard Helvetica fonts (every reader has them: nothing is embedded), with an accent bar.
//! The file format is `pdf-writer`'s; this module only lays lines out, a new page when one is
//! full. Text is written in WinAnsiEncoding (Windows-1252, by `encoding_rs`): a character it
//! lacks is written `?`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 50.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// An `#rrggbb` colour as PDF's 0..1 components (the default blue when it does not parse).
pub fn rgb(hex: &str) -> (f32, f32, f32) {
    let h = hex.trim_start_matches('#');
    let part = |i: usize| {
        h.get(i..i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .map(|v| f32::from(v) / 255.0)
    };
    match (h.len(), part(0), part(2), part(4)) {
        (6, Some(r), Some(g), Some(b)) => (r, g, b),
        _ => (0.18, 0.36, 0.92),
    }
}

/// A document being written, top to bottom.
pub struct Sheet {
    title: String,
    accent: (f32, f32, f32),
    pages: Vec<Vec<u8>>,
    page: Content,
    y: f32,
}

/// One cell of a row: its left edge (points from the margin), its text, bold or not.
pub struct Cell<'a>(pub f32, pub &'a str, pub bool);

impl Sheet {
    pub fn new(title: &str, accent: (f32, f32, f32)) -> Self {
        let mut s = Sheet {
            title: title.to_owned(),
            accent,
            pages: Vec::new(),
            page: Content::new(),
            y: 0.0,
        };
        s.start_page();
        s
    }

    fn start_page(&mut self) {
        let (r, g, b) = self.accent;
        self.page.set_fill_rgb(r, g, b);
        self.page.rect(0.0, HEIGHT - 12.0, WIDTH, 12.0);
        self.page.fill_nonzero();
        self.page.set_fill_rgb(0.0, 0.0, 0.0);
        self.y = HEIGHT - MARGIN;
    }

    /// Room for `h` points more, else a new page.
    fn room(&mut self, h: f32) {
        if self.y - h < MARGIN {
            self.new_page();
        }
    }

    /// One row of cells at `size` points, then down a line.
    pub fn row(&mut self, size: f32, cells: &[Cell<'_>]) {
        self.room(size * 1.5);
        self.y -= size * 1.5;
        for Cell(x, text, bold) in cells {
            let bytes = win_ansi(text);
            self.page.begin_text();
            self.page.set_font(if *bold { BOLD } else { REGULAR }, size);
            self.page.next_line(MARGIN + x, self.y);
            self.page.show(Str(&bytes));
            self.page.end_text();
        }
    }

    /// A paragraph at `size` points, wrapped at the page's width (by characters: Helvetica's
    /// average width is about half its size: 95 characters at 10 points).
    pub fn text(&mut self, size: f32, bold: bool, text: &str) {
        // 495 points of line over half the size each.
        let per_line = match size {
            s if s >= 14.0 => 60,
            s if s >= 11.0 => 80,
            s if s >= 10.0 => 95,
            _ => 105,
        };
        for para in text.split('\n') {
            for line in wrap(para, per_line) {
                self.row(size, &[Cell(0.0, &line, bold)]);
            }
        }
    }

    /// The rest of this page left blank: what follows starts a new one.
    pub fn new_page(&mut self) {
        let full = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(full.finish().into_vec());
        self.start_page();
    }

    /// Blank space of `h` points.
    pub fn gap(&mut self, h: f32) {
        self.room(h);
        self.y -= h;
    }

    /// The PDF's bytes.
    pub fn finish(mut self) -> Vec<u8> {
        let last = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(last.finish().into_vec());
        let mut pdf = Pdf::new();
        let (catalog, tree, regular, bold, info) = (
            Ref::new(1),
            Ref::new(2),
            Ref::new(3),
            Ref::new(4),
            Ref::new(5),
        );
        pdf.catalog(catalog).pages(tree);
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("10x attribution"));
        let mut next = 6;
        let mut kids = Vec::new();
        for content in &self.pages {
            let (page_id, content_id) = (Ref::new(next), Ref::new(next + 1));
            next += 2;
            kids.push(page_id);
            let mut page = pdf.page(page_id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
            page.parent(tree);
            page.contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(REGULAR, regular);
            fonts.pair(BOLD, bold);
            fonts.finish();
            resources.finish();
            page.finish();
            pdf.stream(content_id, content);
        }
        let count = i32::try_from(kids.len()).unwrap_or(i32::MAX);
        pdf.pages(tree).kids(kids).count(count);
        for (id, name) in [(regular, "Helvetica"), (bold, "Helvetica-Bold")] {
            pdf.type1_font(id)
                .base_font(Name(name.as_bytes()))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.finish()
    }
}

/// `text` in Windows-1252, `?` for what it lacks (and for control characters).
fn win_ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(c.encode_utf8(&mut buf));
        if unmappable || c.is_control() {
            out.push(b'?');
        } else {
            out.extend_from_slice(&bytes);
        }
    }
    out
}

/// `text` cut at spaces into lines of at most `width` characters (a longer word alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_written_in_win_ansi_and_wrapped() {
        assert_eq!(win_ansi("€ 5 Müller ✓"), b"\x80 5 M\xfcller ?".to_vec());
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(rgb("#ff0000"), (1.0, 0.0, 0.0));
        let pdf = Sheet::new("T", rgb("#2f5bea")).finish();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
