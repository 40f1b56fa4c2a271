//! The screen, drawn by lines: each frame is a list of styled lines, and only the lines that
//! differ from the frame before are written, each with one cursor move. A live table under
//! churn changes a few rows per frame; rewriting those costs a small fraction of a full
//! redraw, and an idle view writes nothing at all.

/// How a stretch of text looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    /// Reverse video: a cell that changed at the latest look, the selected sort column.
    Marked,
    Bold,
    /// Bold reverse red: a full accept queue, an error.
    Alert,
    /// Faint: the rules and the hints.
    Faint,
}

impl Style {
    fn sgr(self) -> &'static [u8] {
        match self {
            Style::Plain => b"",
            Style::Marked => b"\x1b[7m",
            Style::Bold => b"\x1b[1m",
            Style::Alert => b"\x1b[1;7;31m",
            Style::Faint => b"\x1b[2m",
        }
    }
}

/// One screen line: stretches of text, each with its style.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    parts: Vec<(String, Style)>,
}

impl Line {
    pub fn plain(text: &str) -> Line {
        let mut line = Line::default();
        line.push(text, Style::Plain);
        line
    }

    pub fn push(&mut self, text: &str, style: Style) {
        match self.parts.last_mut() {
            Some((last, s)) if *s == style => last.push_str(text),
            _ => self.parts.push((text.to_owned(), style)),
        }
    }

    /// A cell padded to `width` (on the left when `right`), then a space unless it is last.
    pub fn cell(&mut self, text: &str, width: usize, right: bool, style: Style, more: bool) {
        let pad = width.saturating_sub(text.chars().count());
        if right {
            self.spaces(pad);
        }
        self.push(text, style);
        if !right && more {
            self.spaces(pad);
        }
        if more {
            self.spaces(1);
        }
    }

    pub fn spaces(&mut self, n: usize) {
        if n > 0 {
            self.push(&" ".repeat(n), Style::Plain);
        }
    }

    /// Its stretches of text, each with its style.
    pub fn parts(&self) -> &[(String, Style)] {
        &self.parts
    }

    /// How many columns the line takes.
    pub fn width(&self) -> usize {
        self.parts
            .iter()
            .map(|(text, _)| text.chars().count())
            .sum()
    }

    /// Cuts a line wider than `cols` after its last whole word that leaves room for the
    /// `ellipsis`, which then ends it; a single word wider than the terminal is cut where it
    /// must be.
    pub fn fit(&mut self, cols: usize, ellipsis: char) {
        if self.width() <= cols {
            return;
        }
        let chars: Vec<char> = self.text().chars().collect();
        let room = cols.saturating_sub(1);
        let keep = (1..=room.min(chars.len() - 1))
            .rev()
            .find(|&i| chars[i] == ' ' && chars[i - 1] != ' ')
            .unwrap_or(room);
        let mut left = keep;
        let mut parts = Vec::new();
        for (text, style) in self.parts.drain(..) {
            if left == 0 {
                break;
            }
            let taken: String = text.chars().take(left).collect();
            left -= taken.chars().count();
            parts.push((taken, style));
        }
        self.parts = parts;
        if cols > 0 {
            self.push(&ellipsis.to_string(), Style::Faint);
        }
    }

    /// The text without styles.
    pub fn text(&self) -> String {
        self.parts.iter().map(|(text, _)| text.as_str()).collect()
    }

    /// The line as the terminal gets it, cut to `cols` columns, control characters left out.
    fn render(&self, out: &mut Vec<u8>, cols: usize) {
        let mut left = cols;
        let mut buffer = [0u8; 4];
        for (text, style) in &self.parts {
            if left == 0 {
                break;
            }
            let styled = *style != Style::Plain;
            if styled {
                out.extend_from_slice(style.sgr());
            }
            for c in text.chars().filter(|c| !c.is_control()).take(left) {
                out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                left -= 1;
            }
            if styled {
                out.extend_from_slice(b"\x1b[0m");
            }
        }
    }
}

/// What the terminal shows, as last written.
#[derive(Default)]
pub struct Screen {
    /// Each row as last written, and the size it was written for.
    rows: Vec<Vec<u8>>,
    size: (usize, usize),
    scratch: Vec<u8>,
}

impl Screen {
    /// Appends to `out` what turns the last frame into `lines` on a `cols` x `rows` terminal:
    /// nothing when they are the same, everything after a resize.
    pub fn frame(&mut self, lines: &[Line], (cols, rows): (usize, usize), out: &mut Vec<u8>) {
        if self.size != (cols, rows) {
            self.size = (cols, rows);
            self.rows.clear();
            out.extend_from_slice(b"\x1b[H\x1b[2J");
        }
        self.rows.resize(rows, Vec::new());
        for (i, row) in self.rows.iter_mut().enumerate() {
            self.scratch.clear();
            if let Some(line) = lines.get(i) {
                line.render(&mut self.scratch, cols);
            }
            if *row == self.scratch {
                continue;
            }
            let _ = std::io::Write::write_fmt(out, format_args!("\x1b[{};1H", i + 1));
            out.extend_from_slice(&self.scratch);
            out.extend_from_slice(b"\x1b[K");
            std::mem::swap(row, &mut self.scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_cut_to_the_screen() {
        let mut line = Line::default();
        line.push("abc", Style::Plain);
        line.push("def", Style::Marked);
        let mut out = Vec::new();
        line.render(&mut out, 4);
        assert_eq!(out, b"abc\x1b[7md\x1b[0m");
    }

    #[test]
    fn long_lines_are_cut_between_words() {
        let mut line = Line::default();
        line.push("sockets 12", Style::Bold);
        line.push("  new 3.0/s", Style::Plain);
        let mut cut = line.clone();
        cut.fit(16, '~');
        assert_eq!(cut.text(), "sockets 12  new~");
        let mut cut = line.clone();
        cut.fit(14, '~');
        assert_eq!(cut.text(), "sockets 12~");
        assert_eq!(cut.parts[0], ("sockets 12".to_owned(), Style::Bold));
        let mut whole = line.clone();
        whole.fit(21, '~');
        assert_eq!(whole, line);
        let mut word = Line::plain("abcdefgh");
        word.fit(4, '~');
        assert_eq!(word.text(), "abc~");
    }

    #[test]
    fn only_changed_lines_are_written() {
        let mut screen = Screen::default();
        let mut out = Vec::new();
        let frame = [Line::plain("one"), Line::plain("two")];
        screen.frame(&frame, (10, 3), &mut out);
        assert_eq!(
            out,
            b"\x1b[H\x1b[2J\x1b[1;1Hone\x1b[K\x1b[2;1Htwo\x1b[K".as_slice()
        );
        out.clear();
        screen.frame(&frame, (10, 3), &mut out);
        assert!(out.is_empty());
        screen.frame(&[Line::plain("one"), Line::plain("2")], (10, 3), &mut out);
        assert_eq!(out, b"\x1b[2;1H2\x1b[K".as_slice());
        out.clear();
        screen.frame(&[Line::plain("one")], (10, 3), &mut out);
        assert_eq!(out, b"\x1b[2;1H\x1b[K".as_slice());
    }
}
