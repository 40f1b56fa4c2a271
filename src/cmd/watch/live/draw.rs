//! A frame of the live view as lines, from what the other rooms hold: the title, the totals
//! with their sparklines, the table's page, the log, the status line, and the help over them.
//! It decides nothing and keeps nothing; [`super::screen`] writes the lines.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::super::tracker::Rates;
use super::screen::{Line, Style};
use super::stats::{HISTORY, Stats};
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
    /// The command line.
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
    pub editor: Option<&'a str>,
    pub message: Option<(&'a str, Style)>,
    /// The filter typed last.
    pub filter: Option<&'a str>,
    pub help: bool,
    pub now: Instant,
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

impl Frame<'_> {
    /// The lines of the frame, with `page` as the table.
    pub fn lines(&self, page: &Page) -> Vec<Line> {
        let (cols, rows) = self.size;
        let log_lines = log_lines(rows);
        let mut lines: Vec<Line> = Vec::with_capacity(rows);
        lines.push(self.title(cols));
        lines.push(self.totals(page.total));
        lines.extend(self.table(&page.rows));
        let table_end = FIXED - 1 + space(rows);
        while lines.len() < table_end {
            lines.push(Line::default());
        }
        if log_lines > 0 {
            let mut rule = Line::default();
            let rule_text: String = std::iter::repeat_n(self.glyphs.rule, cols.min(100)).collect();
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
        lines.push(self.status(page));
        if self.help {
            overlay(&mut lines, LIVE_KEYS, cols, self.glyphs);
        }
        lines
    }

    /// `sockscope watch -t :55000       PAUSED  look 12  every 1s  17:32:01`.
    fn title(&self, cols: usize) -> Line {
        let mut line = Line::default();
        line.push(self.title, Style::Bold);
        let clock = clock::time_of_day(std::time::SystemTime::now());
        let paused = if self.paused { "PAUSED  " } else { "" };
        let right = format!(
            "{paused}look {}  every {}  {}",
            self.look,
            seconds(self.interval),
            &clock[..8]
        );
        let used = self.title.chars().count();
        line.spaces(cols.saturating_sub(used + right.chars().count()).max(2));
        if !paused.is_empty() {
            line.push("PAUSED", Style::Alert);
            line.push(&right[paused.len() - 2..], Style::Plain);
        } else {
            line.push(&right, Style::Plain);
        }
        line
    }

    /// `sockets 12 ▁▂▅█  new 3.0/s ▁▃  closed 2.0/s ▂▁  ListenOverflows +3  ListenDrops +3`.
    fn totals(&self, sockets: usize) -> Line {
        let mut line = Line::default();
        let width = 16;
        let stats = self.stats;
        let (new, closed) = stats.per_second;
        let bars = &self.glyphs.bars;
        line.push(&format!("sockets {sockets} "), Style::Bold);
        line.push(
            &units::sparkline(stats.counts.iter().copied(), width, bars),
            Style::Plain,
        );
        line.push(&format!("  new {new:.1}/s "), Style::Bold);
        line.push(
            &units::sparkline(stats.news.iter().copied(), width, bars),
            Style::Plain,
        );
        line.push(&format!("  closed {closed:.1}/s "), Style::Bold);
        line.push(
            &units::sparkline(stats.closes.iter().copied(), width, bars),
            Style::Plain,
        );
        let grew = stats.listen_grew;
        if !grew.is_zero() {
            line.spaces(2);
            line.push(
                &format!(
                    "ListenOverflows +{}  ListenDrops +{}",
                    grew.overflows, grew.drops
                ),
                Style::Alert,
            );
        }
        line
    }

    /// The sort's arrow: down when the rows go largest first.
    fn arrow(&self) -> &'static str {
        if self.table.down() {
            self.glyphs.down
        } else {
            self.glyphs.up
        }
    }

    /// The header and one line per row, columns fitted to their cells.
    fn table(&self, shown: &[Shown]) -> Vec<Line> {
        let (rates, now) = (self.rates, self.now);
        let processes = shown.iter().any(|s| s.process.is_some());
        let sorted = |column: Column, name: &str| -> String {
            if self.table.sort != column {
                return name.to_owned();
            }
            format!("{name}{}", self.arrow())
        };
        // Each column: its header, whether it is right-aligned, and per row a cell.
        let mut columns: Vec<TableColumn> = Vec::new();
        let mut add = |header: String, right: bool, cell: &dyn Fn(&Shown) -> (String, Style)| {
            columns.push((header, right, shown.iter().map(cell).collect()));
        };
        let hot = |marked: bool| if marked { Style::Marked } else { Style::Plain };
        add(" ".to_owned(), false, &|s| {
            (s.row.mark.to_string(), Style::Plain)
        });
        if self.show_netid {
            add("Netid".to_owned(), false, &|s| {
                (s.row.netid.name().to_owned(), Style::Plain)
            });
        }
        add(sorted(Column::State, "State"), false, &|s| {
            (s.row.state.name().to_owned(), hot(s.row.hot.state))
        });
        add(sorted(Column::RecvQ, "Recv-Q"), true, &|s| {
            let r = &s.row;
            if r.listening() {
                let style = if r.accept_queue_full() {
                    Style::Alert
                } else {
                    hot(r.hot.recv_q)
                };
                (format!("{}/{}", r.recv_q, r.send_q), style)
            } else {
                (r.recv_q.to_string(), hot(r.hot.recv_q))
            }
        });
        add(sorted(Column::SendQ, "Send-Q"), true, &|s| {
            (s.row.send_q.to_string(), hot(s.row.hot.send_q))
        });
        add(sorted(Column::Local, "Local Address:Port"), false, &|s| {
            (s.local.clone(), Style::Plain)
        });
        add(sorted(Column::Peer, "Peer Address:Port"), false, &|s| {
            (s.peer.clone(), Style::Plain)
        });
        if rates {
            let rate = |s: &Shown, f: fn(&Rates) -> u64| match &s.row.rates {
                Some(r) => (units::rate(f(r)), hot(s.row.hot.rates)),
                None => (String::new(), Style::Plain),
            };
            add(sorted(Column::RateIn, "In"), true, &|s| {
                rate(s, |r| r.bytes_in)
            });
            add(sorted(Column::RateOut, "Out"), true, &|s| {
                rate(s, |r| r.bytes_out)
            });
        }
        add(sorted(Column::Age, "Age"), true, &|s| {
            let age = units::age(now.saturating_duration_since(s.row.first_seen));
            let over = if s.row.before_start { ">" } else { "" };
            (format!("{over}{age}"), Style::Plain)
        });
        let what = if rates {
            "Rate history"
        } else {
            "Queue history"
        };
        add(what.to_owned(), false, &|s| {
            let line = match self.stats.histories.get(&s.row.key) {
                Some(h) => units::sparkline(h.gauges.iter().copied(), HISTORY, &self.glyphs.bars),
                None => String::new(),
            };
            (line, Style::Plain)
        });
        if processes {
            add(sorted(Column::Process, "Process"), false, &|s| {
                (s.process.clone().unwrap_or_default(), Style::Plain)
            });
        }
        let widths: Vec<usize> = columns
            .iter()
            .map(|(header, _, cells)| {
                cells
                    .iter()
                    .map(|(text, _)| text.chars().count())
                    .chain([header.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let last = columns.len() - 1;
        let mut lines = Vec::with_capacity(shown.len() + 1);
        let mut header = Line::default();
        for (i, (text, right, _)) in columns.iter().enumerate() {
            header.cell(text, widths[i], *right, Style::Bold, i < last);
        }
        lines.push(header);
        for n in 0..shown.len() {
            let mut line = Line::default();
            for (i, (_, right, cells)) in columns.iter().enumerate() {
                let (text, style) = &cells[n];
                line.cell(text, widths[i], *right, *style, i < last);
            }
            lines.push(line);
        }
        lines
    }

    /// `2 sockets: ESTAB 1, LISTEN 1 | sort Recv-Q▼ | 1-2 of 2 | ? keys  q quits`, or the
    /// filter being edited, or a message.
    fn status(&self, page: &Page) -> Line {
        let mut line = Line::default();
        if let Some(editor) = self.editor {
            line.push("filter: ", Style::Bold);
            line.push(editor, Style::Plain);
            line.push(" ", Style::Marked);
            line.push("   Enter applies, Esc cancels", Style::Faint);
            return line;
        }
        if let Some((text, style)) = self.message {
            line.push(text, style);
            line.push("  |  ", Style::Plain);
        }
        let total = page.total;
        let mut text = format!("{total} socket{}", if total == 1 { "" } else { "s" });
        let mut first = true;
        for state in TcpState::ALL {
            let n = page.counts[state as usize];
            if n > 0 {
                text.push_str(if first { ": " } else { ", " });
                first = false;
                let _ = write!(text, "{} {n}", state.name());
            }
        }
        if self.table.sorted() {
            let _ = write!(text, " | sort {}{}", self.table.sort.name(), self.arrow());
        }
        let shown = page.rows.len();
        if shown < total {
            let first = self.table.first();
            let _ = write!(text, " | rows {}-{} of {total}", first + 1, first + shown);
        }
        if let Some(filter) = self.filter {
            let filter = if filter.is_empty() { "none" } else { filter };
            let _ = write!(text, " | filter {filter}");
        }
        let grew = self.stats.listen_grew;
        if !grew.is_zero() {
            let _ = write!(
                text,
                " | ListenOverflows +{}, ListenDrops +{}",
                grew.overflows, grew.drops
            );
        }
        line.push(&text, Style::Plain);
        if self.paused {
            line.push(" | ", Style::Plain);
            line.push("paused", Style::Alert);
        }
        line.push(" | ? keys  q quits", Style::Plain);
        line
    }
}

/// A column of the table: its header, whether it is right-aligned, and its cells.
type TableColumn = (String, bool, Vec<(String, Style)>);

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
