//! `watch` on a terminal: a live view redrawn in place, as top draws.
//!
//! The alternate screen holds, from the top: a title line, the table of sockets (cells that
//! changed at the latest look in reverse video, a `+` before a row the latest look added and
//! a `*` before one it changed), a log of what happened, newest last, and a summary line. The
//! terminal is put back (main screen, cursor, input modes) when the view is dropped, which
//! happens on `q`, Ctrl-C, SIGTERM, errors and panics alike.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::clock;
use super::tracker::{Entry, Found, Rates, Removal, Sink, Source, Stamp, Tracker};
use crate::names::Names;
use crate::render::endpoint;
use crate::socket::{Socket, TcpState};
use crate::term::{self, RawKeys};

/// Log lines kept.
const LOG_LINES: usize = 500;

const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";
const REVERSE: &str = "\x1b[7m";
const PLAIN: &str = "\x1b[0m";

/// How the view is set up.
pub struct LiveOptions {
    /// What the title line says the view shows (the command line).
    pub title: String,
    pub interval: Duration,
    pub numeric: bool,
    pub show_netid: bool,
    /// `-i`: In/s and Out/s columns.
    pub rates: bool,
}

pub struct LiveView<W: Write> {
    out: W,
    options: LiveOptions,
    names: Names,
    log: VecDeque<String>,
    /// (columns, rows).
    size: (usize, usize),
    /// Sockets added and removed since the last tick, and the rates of the last interval.
    added: u32,
    removed: u32,
    last_tick: Option<Instant>,
    per_second: (f64, f64),
    frame: Vec<u8>,
    /// Single keys without echo, while the view lives (when standard input is a terminal).
    _keys: Option<RawKeys>,
}

impl<W: Write> LiveView<W> {
    /// Switches the terminal to the view.
    pub fn start(mut out: W, options: LiveOptions) -> io::Result<LiveView<W>> {
        term::catch_resize();
        let keys = if io::IsTerminal::is_terminal(&io::stdin()) {
            RawKeys::enable().ok()
        } else {
            None
        };
        out.write_all(ENTER)?;
        out.flush()?;
        Ok(LiveView {
            out,
            options,
            names: Names::new(),
            log: VecDeque::new(),
            size: term::size().unwrap_or((80, 24)),
            added: 0,
            removed: 0,
            last_tick: None,
            per_second: (0.0, 0.0),
            frame: Vec::new(),
            _keys: keys,
        })
    }

    fn log(&mut self, at: Stamp, text: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        let mut line = clock::time_of_day(at.wall);
        line.push(' ');
        line.push_str(&text);
        self.log.push_back(line);
    }

    /// `STATE local -> peer`.
    fn describe(&mut self, socket: &Socket<'_>) -> String {
        let (local, peer) = endpoints(socket, &mut self.names, self.options.numeric);
        format!("{} {local} -> {peer}", socket.state.name())
    }

    /// Draws the whole view.
    pub fn draw(&mut self, tracker: &Tracker) -> io::Result<()> {
        if term::resized() {
            self.size = term::size().unwrap_or(self.size);
        }
        let (cols, rows) = self.size;
        let mut lines: Vec<Line> = Vec::with_capacity(rows);

        let mut title = Line::default();
        let clock = clock::time_of_day(std::time::SystemTime::now());
        let every = format!("every {}s", seconds(self.options.interval));
        title.push(&self.options.title, false);
        let used = self.options.title.chars().count();
        let right = format!("{every}  {}", &clock[..8]);
        let gap = cols.saturating_sub(used + right.len()).max(2);
        title.push(&" ".repeat(gap), false);
        title.push(&right, false);
        lines.push(title);

        // The table, then the log, then the summary: the table gets what the log's last three
        // lines leave.
        let entries: Vec<&Entry> = tracker.entries().filter(|e| !e.closing()).collect();
        let fixed = 3; // title, header, summary
        let min_log = self.log.len().min(3) + usize::from(!self.log.is_empty());
        let space = rows.saturating_sub(fixed + min_log);
        let (shown, more) = if entries.len() > space {
            (space.saturating_sub(1), true)
        } else {
            (entries.len(), false)
        };
        let latest = tracker.looks();
        let table = self.table(tracker, &entries[..shown], latest);
        lines.extend(table);
        if more {
            let mut line = Line::default();
            line.push(&format!("  ... and {} more", entries.len() - shown), false);
            lines.push(line);
        }

        let log_space = rows.saturating_sub(lines.len() + 1);
        if log_space > 1 && !self.log.is_empty() {
            let mut rule = Line::default();
            rule.push(&"-".repeat(cols.min(100)), false);
            lines.push(rule);
            let n = self.log.len().min(log_space - 1);
            for text in self.log.iter().skip(self.log.len() - n) {
                let mut line = Line::default();
                line.push(text, false);
                lines.push(line);
            }
        }
        while lines.len() + 1 < rows {
            lines.push(Line::default());
        }
        lines.truncate(rows.saturating_sub(1));
        let mut summary = Line::default();
        summary.push(&self.summary(&entries), false);
        lines.push(summary);

        self.frame.clear();
        self.frame.extend_from_slice(b"\x1b[H");
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                self.frame.extend_from_slice(b"\r\n");
            }
            line.write(&mut self.frame, cols);
            self.frame.extend_from_slice(b"\x1b[K");
        }
        self.frame.extend_from_slice(b"\x1b[J");
        self.out.write_all(&self.frame)?;
        self.out.flush()
    }

    /// The header and one line per entry, columns fitted to their cells.
    fn table(&mut self, tracker: &Tracker, entries: &[&Entry], latest: u64) -> Vec<Line> {
        let mut headers = vec![" "];
        if self.options.show_netid {
            headers.push("Netid");
        }
        headers.extend([
            "State",
            "Recv-Q",
            "Send-Q",
            "Local Address:Port",
            "Peer Address:Port",
        ]);
        if self.options.rates {
            headers.extend(["In/s", "Out/s"]);
        }
        let mut rows: Vec<Vec<(String, bool)>> = Vec::with_capacity(entries.len());
        for entry in entries {
            let socket = tracker.socket(entry);
            let fresh = entry.changed_now();
            let c = &tracker.changes(entry);
            let rates = tracker.rates(entry);
            let mark = if entry.added_now() && latest > 1 {
                "+"
            } else if fresh {
                "*"
            } else {
                " "
            };
            let mut cells = vec![(mark.to_owned(), false)];
            if self.options.show_netid {
                cells.push((socket.netid.name().to_owned(), false));
            }
            cells.push((socket.state.name().to_owned(), fresh && c.state.is_some()));
            cells.push((
                (socket.recv_q as i32).to_string(),
                fresh && c.recv_q.is_some(),
            ));
            cells.push((
                (socket.send_q as i32).to_string(),
                fresh && c.send_q.is_some(),
            ));
            let (local, peer) = endpoints(&socket, &mut self.names, self.options.numeric);
            cells.push((local, false));
            cells.push((peer, false));
            if self.options.rates {
                let (before, after) = c.rates.unwrap_or((rates, rates));
                for pick in [|r: Rates| r.bytes_in, |r: Rates| r.bytes_out] {
                    let moved = fresh && before.map(pick) != after.map(pick);
                    let text = rates.map_or("-".to_owned(), |r| bytes(pick(r)));
                    cells.push((text, moved));
                }
            }
            rows.push(cells);
        }
        let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
        for cells in &rows {
            for (width, (text, _)) in widths.iter_mut().zip(cells) {
                *width = (*width).max(text.chars().count());
            }
        }
        // Addresses are right-aligned on their last colon, as in ss, by padding the left.
        let right = |i: usize| headers[i].ends_with("Port");
        let mut lines = Vec::with_capacity(rows.len() + 1);
        let mut header = Line::default();
        for (i, text) in headers.iter().enumerate() {
            header.cell(text, widths[i], right(i), false, i + 1 < headers.len());
        }
        lines.push(header);
        for cells in &rows {
            let mut line = Line::default();
            for (i, (text, marked)) in cells.iter().enumerate() {
                line.cell(text, widths[i], right(i), *marked, i + 1 < cells.len());
            }
            lines.push(line);
        }
        lines
    }

    /// `N sockets: ESTAB 3, LISTEN 1 | new 0.5/s, closed 0.0/s | q quits`.
    fn summary(&self, entries: &[&Entry]) -> String {
        let mut counts = [0usize; TcpState::ALL.len()];
        for entry in entries {
            counts[entry.state as usize] += 1;
        }
        let mut text = format!(
            "{} socket{}",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" }
        );
        let mut first = true;
        for state in TcpState::ALL {
            let n = counts[state as usize];
            if n > 0 {
                text.push_str(if first { ": " } else { ", " });
                first = false;
                let _ = write!(text, "{} {n}", state.name());
            }
        }
        let (new, closed) = self.per_second;
        let _ = write!(text, " | new {new:.1}/s, closed {closed:.1}/s | q quits");
        text
    }
}

impl<W: Write> Drop for LiveView<W> {
    fn drop(&mut self) {
        let _ = self.out.write_all(LEAVE);
        let _ = self.out.flush();
    }
}

impl<W: Write> Sink for LiveView<W> {
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let n = tracker.len();
        self.log(
            at,
            format!("watching: {n} socket{}", if n == 1 { "" } else { "s" }),
        );
        self.last_tick = Some(at.mono);
        self.draw(tracker)
    }

    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.added += 1;
        let text = self.describe(found.socket);
        self.log(at, format!("+ {text}"));
        Ok(())
    }

    fn changed(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        // Queues and rates move all the time; the table marks them. The log says when a
        // state changes.
        if let Some((before, _)) = found.changes.state {
            let text = self.describe(found.socket);
            self.log(at, format!("~ {text} (was {})", before.name()));
        }
        Ok(())
    }

    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()> {
        self.removed += 1;
        // The state is left out: a destroyed TCP socket is always closed.
        let (local, peer) = endpoints(&removal.socket, &mut self.names, self.options.numeric);
        let how = match (removal.lifetime, removal.source) {
            (Some(life), Source::Destroy) => format!("closed after {}s", seconds(life)),
            (Some(life), Source::Poll) => format!("gone after {}s", seconds(life)),
            (None, _) => "opened and closed between two looks".to_owned(),
        };
        self.log(removal.at, format!("- {local} -> {peer} {how}"));
        Ok(())
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        if let Some(last) = self.last_tick {
            let elapsed = at.mono.saturating_duration_since(last).as_secs_f64();
            if elapsed > 0.0 {
                self.per_second = (
                    f64::from(self.added) / elapsed,
                    f64::from(self.removed) / elapsed,
                );
            }
        }
        self.last_tick = Some(at.mono);
        self.added = 0;
        self.removed = 0;
        self.draw(tracker)
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        self.log(Stamp::now(), format!("! {message}"));
        Ok(())
    }

    fn refresh(&mut self, tracker: &Tracker) -> io::Result<()> {
        self.draw(tracker)
    }
}

/// A screen line: text with some stretches in reverse video, cut to the screen's width.
#[derive(Default)]
struct Line {
    parts: Vec<(String, bool)>,
}

impl Line {
    fn push(&mut self, text: &str, marked: bool) {
        self.parts.push((text.to_owned(), marked));
    }

    /// A cell padded to `width` (on the left when `right`), then a space unless it is last.
    fn cell(&mut self, text: &str, width: usize, right: bool, marked: bool, more: bool) {
        let pad = " ".repeat(width.saturating_sub(text.chars().count()));
        if right {
            self.push(&pad, false);
        }
        self.push(text, marked);
        if !right && more {
            self.push(&pad, false);
        }
        if more {
            self.push(" ", false);
        }
    }

    fn write(&self, out: &mut Vec<u8>, cols: usize) {
        let mut left = cols;
        for (text, marked) in &self.parts {
            if left == 0 {
                break;
            }
            let shown: String = text
                .chars()
                .filter(|c| !c.is_control())
                .take(left)
                .collect();
            left -= shown.chars().count();
            if *marked {
                out.extend_from_slice(REVERSE.as_bytes());
            }
            out.extend_from_slice(shown.as_bytes());
            if *marked {
                out.extend_from_slice(PLAIN.as_bytes());
            }
        }
    }
}

/// The two ends of a socket as the table writes them (render's one endpoint formatter):
/// `addr:port`, unix `name inode`, netlink `kernel` and `COMMAND/PID`. Watch takes no `-r`
/// yet, so addresses stay numeric; a `resolve` option would go into the style here.
fn endpoints(socket: &Socket<'_>, names: &mut Names, numeric: bool) -> (String, String) {
    let style = endpoint::Style {
        numeric,
        resolve: false,
    };
    let (local, peer) = endpoint::pair(socket, names, style);
    (
        String::from_utf8_lossy(&local).into_owned(),
        String::from_utf8_lossy(&peer).into_owned(),
    )
}

/// Bytes per second, short: `0`, `512B`, `1.5K`, `20.0M`, `3.1G`.
fn bytes(per_second: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "G"), (1 << 20, "M"), (1 << 10, "K")];
    if per_second == 0 {
        return "0".to_owned();
    }
    for (size, unit) in UNITS {
        if per_second >= size {
            return format!("{:.1}{unit}", per_second as f64 / size as f64);
        }
    }
    format!("{per_second}B")
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
        assert_eq!(bytes(0), "0");
        assert_eq!(bytes(512), "512B");
        assert_eq!(bytes(1536), "1.5K");
        assert_eq!(bytes(20 << 20), "20.0M");
        assert_eq!(seconds(Duration::from_millis(50)), "0.05");
        assert_eq!(seconds(Duration::from_millis(500)), "0.5");
        assert_eq!(seconds(Duration::from_millis(3200)), "3.2");
        assert_eq!(seconds(Duration::from_secs(75)), "75");
    }

    #[test]
    fn lines_are_cut_to_the_screen() {
        let mut line = Line::default();
        line.push("abc", false);
        line.push("def", true);
        let mut out = Vec::new();
        line.write(&mut out, 4);
        assert_eq!(out, b"abc\x1b[7md\x1b[0m");
    }
}
