//! A frame of the live view as lines, from what the other rooms hold: the title, the totals
//! with their sparklines, the table's page, the log, the status line, and the help over them.
//! It decides nothing and keeps nothing but the table's column widths, which only grow (until
//! the terminal is resized) so that columns and sparklines keep their place from frame to
//! frame; [`super::screen`] writes the lines.
//!
//! Every line fits the terminal's width: the header and the status line are made of fields,
//! dropped or shortened whole, least needed first, when the terminal is too narrow; the table
//! leaves out its least needed columns; any other line too long ends at a word with an
//! ellipsis.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::super::tracker::Rates;
use super::screen::{Line, Style};
use super::stats::{HISTORY, Stats};
use super::steer::Editor;
use super::table::{Column, Page, Shown, Table};
use super::units::{self, Glyphs};
use crate::cli::LIVE_KEYS;
use crate::socket::TcpState;
use crate::sys::clock;

/// Title, totals, table header and status line.
const FIXED: usize = 4;

/// What one frame shows.
pub struct Frame<'a> {
    /// (columns, rows).
    pub size: (usize, usize),
    pub glyphs: &'static Glyphs,
    /// The command line, with the filter in force.
    pub title: &'a str,
    pub interval: Duration,
    /// The number of the latest look.
    pub look: u64,
    pub show_netid: bool,
    /// `-i`: rate columns, and sparklines of rates rather than queues.
    pub rates: bool,
    pub paused: bool,
    pub table: &'a Table,
    pub stats: &'a Stats,
    pub log: &'a VecDeque<String>,
    /// The `/` line being edited.
    pub editor: Option<&'a Editor>,
    pub message: Option<(&'a str, Style)>,
    pub help: bool,
    pub now: Instant,
}

/// The widths the table's columns have had, by column, for the terminal width they were
/// measured at: a column only grows, so the columns right of it keep their place.
#[derive(Default)]
pub struct Widths {
    cols: usize,
    seen: HashMap<&'static str, usize>,
}

impl Widths {
    /// Forgets the widths (a new terminal size, sort, fold or filter).
    pub fn reset(&mut self) {
        self.seen.clear();
    }
}

/// The lines of the log shown under the table: its three last lines and its rule, kept even
/// while empty so that pages do not change size; a small terminal has no log.
fn log_lines(rows: usize) -> usize {
    if rows >= 12 { 4 } else { 0 }
}

/// How many rows of the table a terminal of `rows` lines has room for.
pub fn space(rows: usize) -> usize {
    rows.saturating_sub(FIXED + log_lines(rows)).max(1)
}

/// A field of a line made of fields: its forms, widest first, and whether it may go when
/// even its narrowest does not fit.
struct Field {
    forms: Vec<Vec<(String, Style)>>,
    /// Fields go (or shrink) lowest first.
    need: u8,
    droppable: bool,
}

impl Field {
    fn new(need: u8, droppable: bool) -> Field {
        Field {
            forms: Vec::new(),
            need,
            droppable,
        }
    }

    fn form(mut self, parts: &[(&str, Style)]) -> Field {
        let form = parts.iter().map(|(t, s)| ((*t).to_owned(), *s)).collect();
        self.forms.push(form);
        self
    }

    fn plain(self, text: &str) -> Field {
        self.form(&[(text, Style::Plain)])
    }
}

fn form_width(form: &[(String, Style)]) -> usize {
    form.iter().map(|(t, _)| t.chars().count()).sum()
}

/// Lays out `fields` in order, `separator` between them, in at most `cols` columns: while the
/// line is too wide, the least needed field that can shrinks to its next form, or goes.
fn fields(fields: &[Field], separator: &str, cols: usize) -> Line {
    // Per field: the form used, or None once dropped.
    let mut chosen: Vec<Option<usize>> = fields
        .iter()
        .map(|f| (!f.forms.is_empty()).then_some(0))
        .collect();
    let gap = separator.chars().count();
    let width = |chosen: &[Option<usize>]| -> usize {
        let shown: Vec<usize> = fields
            .iter()
            .zip(chosen)
            .filter_map(|(f, c)| c.map(|c| form_width(&f.forms[c])))
            .collect();
        shown.iter().sum::<usize>() + gap * shown.len().saturating_sub(1)
    };
    while width(&chosen) > cols {
        let step = fields
            .iter()
            .enumerate()
            .filter(|(i, f)| match chosen[*i] {
                Some(c) => c + 1 < f.forms.len() || f.droppable,
                None => false,
            })
            .min_by_key(|(i, f)| (f.need, std::cmp::Reverse(*i)));
        let Some((i, f)) = step else { break };
        let next = chosen[i].map_or(0, |c| c + 1);
        chosen[i] = (next < f.forms.len()).then_some(next);
    }
    let mut line = Line::default();
    let mut first = true;
    for (field, c) in fields.iter().zip(&chosen) {
        let Some(c) = c else { continue };
        if !first {
            line.push(separator, Style::Plain);
        }
        first = false;
        for (text, style) in &field.forms[*c] {
            line.push(text, *style);
        }
    }
    line
}

impl Frame<'_> {
    /// The lines of the frame, with `page` as the table.
    pub fn lines(&self, page: &Page, widths: &mut Widths) -> Vec<Line> {
        let (cols, rows) = self.size;
        let log_lines = log_lines(rows);
        let mut lines: Vec<Line> = Vec::with_capacity(rows);
        lines.push(self.title(cols));
        lines.push(self.totals(page.total, cols));
        lines.extend(self.table(page, widths));
        let table_end = FIXED - 1 + space(rows);
        while lines.len() < table_end {
            lines.push(Line::default());
        }
        if log_lines > 0 {
            let mut rule = Line::default();
            let rule_text: String = std::iter::repeat_n(self.glyphs.rule, cols).collect();
            rule.push(&rule_text, Style::Faint);
            lines.push(rule);
            for text in self
                .log
                .iter()
                .skip((self.log.len() + 1).saturating_sub(log_lines))
            {
                lines.push(Line::plain(text));
            }
        }
        while lines.len() + 1 < rows {
            lines.push(Line::default());
        }
        lines.truncate(rows.saturating_sub(1));
        lines.push(self.status(page, cols));
        if self.help {
            overlay(&mut lines, LIVE_KEYS, cols, self.glyphs);
        }
        for line in &mut lines {
            line.fit(cols, self.glyphs.ellipsis);
        }
        lines
    }

    /// `sockscope watch -t :55000       PAUSED  look 12  every 1s  17:32:01`: the right
    /// part's fields go first (the interval, then the clock, then the look), then the title
    /// loses its first words, keeping the filter at its end.
    fn title(&self, cols: usize) -> Line {
        let clock = clock::time_of_day(std::time::SystemTime::now());
        let mut right: Vec<(u8, String)> = Vec::new();
        if self.paused {
            right.push((9, "PAUSED".to_owned()));
        }
        right.push((3, format!("look {}", self.look)));
        right.push((1, format!("every {}", seconds(self.interval))));
        right.push((2, clock[..8].to_owned()));
        let used = self.title.chars().count();
        let width = |right: &[(u8, String)]| -> usize {
            right
                .iter()
                .map(|(_, t)| t.chars().count() + 2)
                .sum::<usize>()
        };
        while used + width(&right) > cols {
            let least = right
                .iter()
                .enumerate()
                .filter(|(_, (need, _))| *need < 9)
                .min_by_key(|(_, (need, _))| *need)
                .map(|(i, _)| i);
            let Some(least) = least else { break };
            right.remove(least);
        }
        let mut line = Line::default();
        let room = cols.saturating_sub(width(&right));
        if used <= room {
            line.push(self.title, Style::Bold);
        } else {
            // Its end is kept, where the filter is: `… -tan state listening`.
            let chars: Vec<char> = self.title.chars().collect();
            let tail = &chars[used - room.saturating_sub(2).min(used)..];
            let start = tail.iter().position(|c| *c == ' ').map_or(0, |i| i + 1);
            let tail: String = tail[start..].iter().collect();
            line.push(&self.glyphs.ellipsis.to_string(), Style::Faint);
            line.spaces(1);
            line.push(&tail, Style::Bold);
            line.fit(room, self.glyphs.ellipsis);
        }
        let used = line.width();
        let right_width = width(&right).saturating_sub(2);
        line.spaces(cols.saturating_sub(used + right_width).max(2));
        for (i, (need, text)) in right.iter().enumerate() {
            if i > 0 {
                line.spaces(2);
            }
            let style = if *need == 9 {
                Style::Alert
            } else {
                Style::Plain
            };
            line.push(text, style);
        }
        line
    }

    /// `sockets   12 ▁▂▅█  new   3.0/s ▁▃  closed   2.0/s ▂▁  ListenOverflows +3  ListenDrops
    /// +3`. The numbers have steady widths and the sparklines a width set by the terminal's,
    /// so they stay in place; the listen counters, when they grew, shorten before the
    /// sparklines narrow, and the rates go before they do.
    fn totals(&self, sockets: usize, cols: usize) -> Line {
        let stats = self.stats;
        let (new, closed) = stats.per_second;
        let bars = &self.glyphs.bars;
        let sockets = format!("sockets {sockets:>4} ");
        let new = format!("new {:>5}/s ", units::per_second(new));
        let closed = format!("closed {:>5}/s ", units::per_second(closed));
        let grew = stats.listen_grew;
        // The fields with sparklines `spark` wide (none for 0), the listen counters' names
        // `long` or short.
        let build = |spark: usize, long: bool| -> Vec<Field> {
            let counter = |label: &str, values: &VecDeque<u64>, need: u8| {
                let field = Field::new(need, need < 6);
                if spark == 0 {
                    return field.form(&[(label.trim_end(), Style::Bold)]);
                }
                let line = units::sparkline(values.iter().copied(), spark, bars);
                field.form(&[(label, Style::Bold), (&line, Style::Plain)])
            };
            let mut all = vec![
                counter(&sockets, &stats.counts, 6),
                counter(&new, &stats.news, 4),
                counter(&closed, &stats.closes, 3),
            ];
            if !grew.is_zero() {
                let (overflows, drops) = if long {
                    ("ListenOverflows", "ListenDrops")
                } else {
                    ("overflows", "drops")
                };
                for (name, n) in [(overflows, grew.overflows), (drops, grew.drops)] {
                    let text = format!("{name} +{n}");
                    all.push(Field::new(5, true).form(&[(&text, Style::Alert)]));
                }
            }
            all
        };
        for spark in [16, 8, 0] {
            for long in [true, false] {
                let line = fields(&build(spark, long), "  ", usize::MAX);
                if line.width() <= cols {
                    return line;
                }
            }
        }
        // Narrower still: the rates go, then the listen counters.
        fields(&build(0, false), "  ", cols)
    }

    /// The sort's arrow: down when the rows go largest first.
    fn arrow(&self) -> &'static str {
        if self.table.down() {
            self.glyphs.down
        } else {
            self.glyphs.up
        }
    }

    /// The header, one line per row and one per folded state, columns fitted to their cells
    /// (and to the widths they had); the least needed columns go when the terminal is too
    /// narrow for all.
    fn table(&self, page: &Page, widths: &mut Widths) -> Vec<Line> {
        let shown = &page.rows;
        let (rates, now) = (self.rates, self.now);
        let processes = shown.iter().any(|s| s.process.is_some());
        let sorted = |column: Column, name: &str| -> String {
            if self.table.sort != column {
                return name.to_owned();
            }
            format!("{name}{}", self.arrow())
        };
        // Each column: its name, header, alignment, how much it is needed (0: always), and
        // per row a cell.
        let mut columns: Vec<TableColumn> = Vec::new();
        let mut add = |name: &'static str,
                       header: String,
                       right: bool,
                       need: u8,
                       cell: &dyn Fn(&Shown) -> (String, Style)| {
            columns.push(TableColumn {
                name,
                header,
                right,
                need,
                cells: shown.iter().map(cell).collect(),
            });
        };
        let hot = |marked: bool| if marked { Style::Marked } else { Style::Plain };
        add("mark", " ".to_owned(), false, 0, &|s| {
            (s.row.mark.to_string(), Style::Plain)
        });
        if self.show_netid {
            add("netid", "Netid".to_owned(), false, 4, &|s| {
                (s.row.netid.name().to_owned(), Style::Plain)
            });
        }
        add("state", sorted(Column::State, "State"), false, 0, &|s| {
            (s.row.state.name().to_owned(), hot(s.row.hot.state))
        });
        add("recv-q", sorted(Column::RecvQ, "Recv-Q"), true, 0, &|s| {
            let r = &s.row;
            if r.listening() {
                let style = if r.accept_queue_full() {
                    Style::Alert
                } else {
                    hot(r.hot.recv_q)
                };
                (format!("{}/{}", r.recv_q, r.send_q), style)
            } else {
                (units::queue(r.recv_q), hot(r.hot.recv_q))
            }
        });
        add("send-q", sorted(Column::SendQ, "Send-Q"), true, 3, &|s| {
            let r = &s.row;
            // A listener's backlog is in the Recv-Q column.
            let text = if r.listening() {
                r.send_q.to_string()
            } else {
                units::queue(r.send_q)
            };
            (text, hot(r.hot.send_q))
        });
        add(
            "local",
            sorted(Column::Local, "Local Address:Port"),
            false,
            0,
            &|s| (s.local.clone(), Style::Plain),
        );
        add(
            "peer",
            sorted(Column::Peer, "Peer Address:Port"),
            false,
            0,
            &|s| (s.peer.clone(), Style::Plain),
        );
        if rates {
            let rate = |s: &Shown, f: fn(&Rates) -> u64| match &s.row.rates {
                Some(r) => (units::rate(f(r)), hot(s.row.hot.rates)),
                None => (String::new(), Style::Plain),
            };
            add("in", sorted(Column::RateIn, "In"), true, 6, &|s| {
                rate(s, |r| r.bytes_in)
            });
            add("out", sorted(Column::RateOut, "Out"), true, 6, &|s| {
                rate(s, |r| r.bytes_out)
            });
        }
        add("age", sorted(Column::Age, "Age"), true, 2, &|s| {
            let age = units::age(now.saturating_duration_since(s.row.first_seen));
            let over = if s.row.before_start { ">" } else { "" };
            (format!("{over}{age}"), Style::Plain)
        });
        let what = if rates {
            "Rate history"
        } else {
            "Queue history"
        };
        add("history", what.to_owned(), false, 1, &|s| {
            let line = match self.stats.histories.get(&s.row.key) {
                Some(h) => units::sparkline(h.gauges.iter().copied(), HISTORY, &self.glyphs.bars),
                None => String::new(),
            };
            (line, Style::Plain)
        });
        if processes {
            add(
                "process",
                sorted(Column::Process, "Process"),
                false,
                5,
                &|s| (s.process.clone().unwrap_or_default(), Style::Plain),
            );
        }
        let cols = self.size.0;
        if widths.cols != cols {
            widths.cols = cols;
            widths.reset();
        }
        let mut width: Vec<usize> = columns
            .iter()
            .map(|c| {
                let now = c
                    .cells
                    .iter()
                    .map(|(text, _)| text.chars().count())
                    .chain([c.header.chars().count()])
                    .max()
                    .unwrap_or(0);
                let then = widths.seen.entry(c.name).or_default();
                *then = (*then).max(now);
                *then
            })
            .collect();
        // The least needed columns go while the table is wider than the terminal.
        let total = |width: &[usize]| width.iter().sum::<usize>() + width.len().saturating_sub(1);
        while total(&width) > cols {
            let least = columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.need > 0)
                .min_by_key(|(_, c)| c.need)
                .map(|(i, _)| i);
            let Some(least) = least else { break };
            columns.remove(least);
            width.remove(least);
        }
        let last = columns.len() - 1;
        let mut lines = Vec::with_capacity(shown.len() + page.folds.len() + 1);
        let mut header = Line::default();
        for (i, c) in columns.iter().enumerate() {
            header.cell(&c.header, width[i], c.right, Style::Bold, i < last);
        }
        lines.push(header);
        for n in 0..shown.len() {
            let mut line = Line::default();
            for (i, c) in columns.iter().enumerate() {
                let (text, style) = &c.cells[n];
                line.cell(text, width[i], c.right, *style, i < last);
            }
            lines.push(line);
        }
        // A folded state's line starts in the State column: `TIME-WAIT ×443`.
        let state_at: usize = columns
            .iter()
            .zip(&width)
            .take_while(|(c, _)| c.name != "state")
            .map(|(_, w)| w + 1)
            .sum();
        let room = space(self.size.1).saturating_sub(shown.len());
        for (state, n) in page.folds.iter().take(room) {
            let mut line = Line::default();
            line.spaces(state_at);
            line.push(state.name(), Style::Bold);
            line.push(&format!(" {}{n}", self.glyphs.times), Style::Bold);
            line.push("  folded (f)", Style::Faint);
            lines.push(line);
        }
        lines
    }

    /// `2 sockets: ESTAB 1, LISTEN 1 | sort Recv-Q▼ | rows 1-2 of 2 | ? keys  q quits`, or the
    /// filter being edited, or a message before it. Its fields go whole when the terminal is
    /// too narrow: first the listen counters (which the header shows too), then the sort, the
    /// fold, the rows shown, the hint, the message and the states' counts.
    fn status(&self, page: &Page, cols: usize) -> Line {
        if let Some(editor) = self.editor {
            return self.editor(editor, cols);
        }
        let mut all = Vec::new();
        if let Some((text, style)) = self.message {
            // Shortened at a word, down to a few words, only once the other fields but the
            // count and the pause have gone.
            let mut message = Field::new(7, false).form(&[(text, style)]);
            for room in [60, 40, 24, 12] {
                let mut cut = Line::default();
                cut.push(text, style);
                cut.fit(room, self.glyphs.ellipsis);
                if cut.width() < form_width(message.forms.last().unwrap()) {
                    message.forms.push(cut.parts().to_vec());
                }
            }
            all.push(message);
        }
        let total = page.total;
        let count = format!("{total} socket{}", if total == 1 { "" } else { "s" });
        let mut states = count.clone();
        let mut first = true;
        for state in TcpState::ALL {
            let n = page.counts[state as usize];
            if n > 0 {
                states.push_str(if first { ": " } else { ", " });
                first = false;
                let _ = write!(states, "{} {n}", state.name());
            }
        }
        all.push(Field::new(8, false).plain(&states).plain(&count));
        if self.table.sorted() {
            let sort = format!("sort {}{}", self.table.sort.name(), self.arrow());
            all.push(Field::new(3, true).plain(&sort));
        }
        if let Some(fold) = self.table.fold.name() {
            all.push(Field::new(4, true).plain(&format!("fold {fold}")));
        }
        let shown = page.rows.len();
        if shown < page.listed {
            let first = self.table.first();
            let rows = format!("rows {}-{} of {}", first + 1, first + shown, page.listed);
            all.push(Field::new(5, true).plain(&rows));
        }
        let grew = self.stats.listen_grew;
        if !grew.is_zero() {
            let (o, d) = (grew.overflows, grew.drops);
            // The header says them too.
            all.push(
                Field::new(2, true)
                    .form(&[(
                        &format!("ListenOverflows +{o}, ListenDrops +{d}"),
                        Style::Alert,
                    )])
                    .form(&[(&format!("overflows +{o}, drops +{d}"), Style::Alert)]),
            );
        }
        if self.paused {
            all.push(Field::new(9, false).form(&[("paused", Style::Alert)]));
        }
        all.push(Field::new(6, true).plain("? keys  q quits").plain("? keys"));
        fields(&all, " | ", cols)
    }

    /// `filter: sport = :80█   Enter applies, Esc cancels, Ctrl-U clears`: the selection in
    /// reverse video (the whole text as the line opens), else the cursor's cell; a text too
    /// long shows the part around the cursor.
    fn editor(&self, editor: &Editor, cols: usize) -> Line {
        let mut line = Line::default();
        line.push("filter: ", Style::Bold);
        let text: Vec<char> = editor.text().chars().collect();
        let cursor = editor.cursor();
        let room = cols.saturating_sub(8 + 1).max(1);
        let start = (cursor + 1).saturating_sub(room);
        let end = (start + room).min(text.len());
        let marked = |i: usize| match editor.selection() {
            Some((from, to)) => (from..to).contains(&i),
            None => i == cursor,
        };
        for (i, c) in text.iter().enumerate().take(end).skip(start) {
            let style = if marked(i) {
                Style::Marked
            } else {
                Style::Plain
            };
            line.push(&c.to_string(), style);
        }
        if cursor == text.len() && editor.selection().is_none() {
            line.push(" ", Style::Marked);
        }
        let hint = "   Enter applies, Esc cancels, Ctrl-U clears";
        if line.width() + hint.chars().count() <= cols {
            line.push(hint, Style::Faint);
        }
        line
    }
}

/// A column of the table.
struct TableColumn {
    /// Names the column for [`Widths`].
    name: &'static str,
    header: String,
    right: bool,
    /// The least needed goes first when the table is too wide; 0: never.
    need: u8,
    cells: Vec<(String, Style)>,
}

/// Draws `text` in a box over the middle of `lines`.
fn overlay(lines: &mut [Line], text: &str, cols: usize, g: &Glyphs) {
    let width = text.lines().map(|l| l.chars().count()).max().unwrap_or(0) + 4;
    let height = text.lines().count() + 2;
    let top = 2.min(lines.len().saturating_sub(height));
    let left = cols.saturating_sub(width) / 2;
    let rule: String = std::iter::repeat_n(g.rule, width - 2).collect();
    let [top_left, top_right, bottom_left, bottom_right] = g.corners;
    let mut boxed = vec![format!("{top_left}{rule}{top_right}")];
    for l in text.lines() {
        let pad = width - 4 - l.chars().count();
        boxed.push(format!("{} {l}{} {}", g.side, " ".repeat(pad), g.side));
    }
    boxed.push(format!("{bottom_left}{rule}{bottom_right}"));
    for (i, b) in boxed.iter().enumerate() {
        if let Some(line) = lines.get_mut(top + i) {
            let under: String = line.text().chars().take(left).collect();
            let mut new = Line::default();
            new.push(&under, Style::Plain);
            new.spaces(left.saturating_sub(under.chars().count()));
            new.push(b, Style::Bold);
            *line = new;
        }
    }
}

/// A duration in seconds, with a tenth when under a minute: `0.05`, `3.2`, `75`.
fn seconds(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s < 1.0 {
        let text = format!("{s:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else if s < 60.0 {
        format!("{s:.1}")
    } else {
        format!("{s:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(seconds(Duration::from_millis(50)), "0.05");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(seconds(Duration::from_millis(3200)), "3.2");
        assert_eq!(seconds(Duration::from_secs(75)), "75");
    }

    /// A frame at every width: no line wider than the terminal, the header's fields whole,
    /// the rule as wide as the terminal, the folded rows there.
    #[test]
    fn every_line_fits_every_width() {
        use super::super::table::{Fold, Hot, Row};
        use crate::socket::Netid;
        use crate::source::procnet::ListenCounters;
        let now = Instant::now();
        let mut stats = Stats::new(false);
        stats.listen_counters(ListenCounters::default());
        let counters = ListenCounters {
            overflows: 4,
            drops: 12,
        };
        stats.listen_counters(counters);
        stats.per_second = (138.0, 259.9);
        let row = |i: u64, state| Row {
            key: i,
            seen: 0,
            netid: Netid::Tcp,
            state,
            recv_q: 7_200_000,
            send_q: 0,
            rates: None,
            first_seen: now,
            before_start: true,
            mark: ' ',
            hot: Hot::default(),
        };
        let shown = |i| Shown {
            row: row(i, TcpState::Established),
            local: "[2001:db8::1]:55000".to_owned(),
            peer: format!("[2001:db8::2]:{}", 40000 + i),
            process: Some(format!("curl/{}", 1000 + i)),
        };
        let mut table = Table::default();
        table.fold = Fold::TimeWait;
        let mut counts = [0; TcpState::ALL.len()];
        counts[TcpState::Established as usize] = 12;
        counts[TcpState::SynSent as usize] = 4;
        counts[TcpState::TimeWait as usize] = 443;
        let page = Page {
            rows: (0..12).map(shown).collect(),
            total: 459,
            listed: 16,
            counts,
            folds: vec![(TcpState::TimeWait, 443)],
        };
        let log: VecDeque<String> = [
            "01:02:03 ! listen queue: ListenOverflows +4, ListenDrops +12 \
                                      in this namespace, and a few more words to be long enough",
        ]
        .map(str::to_owned)
        .into();
        for cols in [20, 40, 80, 100, 120, 200] {
            let frame = Frame {
                size: (cols, 30),
                glyphs: &units::UNICODE,
                title: "sockscope watch --source poll --interval 0.1 -tan state established :8000",
                interval: Duration::from_millis(100),
                look: 12,
                show_netid: true,
                rates: false,
                paused: true,
                table: &table,
                stats: &stats,
                log: &log,
                editor: None,
                message: Some(("filter sport = :8000, from the next look", Style::Bold)),
                help: false,
                now,
            };
            let lines = frame.lines(&page, &mut Widths::default());
            let texts: Vec<String> = lines.iter().map(Line::text).collect();
            for text in &texts {
                assert!(text.chars().count() <= cols, "{cols}: {texts:#?}");
            }
            if cols >= 20 {
                assert!(texts[0].contains(" :8000"), "{cols}: {texts:#?}");
            }
            let header = &texts[1];
            if cols >= 80 {
                for field in ["sockets  459", "new   138/s", "closed   260/s"] {
                    assert!(header.contains(field), "{cols}: {header}");
                }
            }
            let words: Vec<&str> = header.split_whitespace().collect();
            for pair in words.windows(2) {
                if pair[0].ends_with("verflows") || pair[0].ends_with("rops") {
                    assert!(["+4", "+12"].contains(&pair[1]), "{cols}: {header}");
                }
            }
            if cols >= 120 {
                let header = header.to_lowercase();
                assert!(header.contains("overflows +4  "), "{cols}: {header}");
                assert!(header.ends_with("drops +12"), "{cols}: {header}");
            }
            if cols >= 200 {
                assert!(header.contains("ListenOverflows +4"), "{cols}: {header}");
            }
            let rule = texts.iter().find(|t| t.starts_with('─')).unwrap();
            assert_eq!(rule.chars().count(), cols);
            if cols >= 40 {
                assert!(
                    texts.iter().any(|t| t.contains("TIME-WAIT ×443")),
                    "{texts:#?}"
                );
            }
            let status = texts.last().unwrap();
            if cols >= 40 {
                assert!(status.contains("paused"), "{cols}: {texts:#?}");
            }
            if cols >= 100 {
                assert!(
                    status.contains("459 sockets: ESTAB 12, SYN-SENT 4"),
                    "{status}"
                );
            }
        }
    }

    #[test]
    fn the_help_fits_an_80_column_terminal() {
        let widest = LIVE_KEYS.lines().map(|l| l.chars().count()).max().unwrap();
        assert!(widest + 4 <= 80, "{widest}");
        let mut lines = vec![Line::default(); 24];
        overlay(&mut lines, LIVE_KEYS, 80, &units::UNICODE);
        assert!(lines.iter().all(|l| l.width() <= 80));
        assert!(lines.iter().any(|l| l.text().contains("reverse the sort")));
    }
}
