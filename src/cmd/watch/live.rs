//! `watch` on a terminal: a live view, as top draws, for sockets.
//!
//! The alternate screen holds, from the top: a title line; a line of totals with sparklines of
//! the socket count and of new and closed sockets per second; the table of sockets (cells that
//! changed at the latest look in reverse video, a `+` before a row the latest look added and
//! a `*` before one it changed, a sparkline of each row's queue or rate over the last looks);
//! a log of what happened, newest last; and a status line. Keys sort, scroll, fold states into
//! one row each, pause, and edit the filter ([`crate::cli::LIVE_KEYS`]). Every line fits the
//! terminal's width ([`draw`]).
//!
//! The view is a few rooms, as bottom's is: the table's rows, sort and scroll ([`table`]), the
//! counts over the watch ([`stats`]), the filter line ([`steer`]), and the lines of a frame
//! ([`draw`]), written by [`screen`]. It reads nothing: the watch loop hands it what the
//! tracker found (as a [`Sink`]), the keys it read, and the listen counters it measured; it
//! answers a key with a [`Reply`], and draws when the loop asks.
//!
//! Frames are composed at most [`FRAMES_PER_SECOND`] times a second however fast events come,
//! and only the screen lines that changed are written. When the view ends, the terminal is
//! put back (main screen, cursor; the loop's [`keys::Keyboard`] puts back the input modes)
//! and a few lines on the normal screen say what was seen; that
//! happens on `q`, Ctrl-C, SIGTERM, `--count` and errors alike, and a panic leaves the
//! alternate screen before its message.
//!
//! The tracker's entries are read in one place, [`row`] and its few neighbours, so that the
//! view does not depend on how the tracker stores a socket.

mod draw;
pub mod keys;
mod screen;
mod stats;
mod steer;
mod table;
mod units;

use std::collections::{HashMap, VecDeque};
use std::io::{self, Write};
use std::time::{Duration, Instant};

use super::tracker::{
    Changes, Entry, Found, Key as EntryKey, Removal, Sink, Source, Stamp, Tracker,
};
use crate::names::Names;
use crate::render::endpoint;
use crate::socket::Socket;
use crate::source::procnet::ListenCounters;
use crate::sys::clock;
use crate::sys::term;
use draw::{Frame, Widths};
use keys::Key;
use screen::{Line, Screen, Style};
use stats::Stats;
use steer::{Edit, Steering};
use table::{Column, Hot, Row, Scroll, Shown, Table};
use units::Glyphs;

/// The most frames drawn in a second.
pub const FRAMES_PER_SECOND: u32 = 10;
const FRAME: Duration = Duration::from_nanos(1_000_000_000 / FRAMES_PER_SECOND as u64);

/// Log lines kept.
const LOG_LINES: usize = 500;
/// Sockets that left the filter whose age the view keeps, for their return.
const LEFT_KEPT: usize = 65_536;
/// How long a message on the status line stays.
const MESSAGE: Duration = Duration::from_secs(5);

const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";

/// How the view is set up.
pub struct LiveOptions {
    /// What the title line says the view shows (the command line).
    pub title: String,
    /// The filter's words as the command line gave them (`None` for `-F FILE`): what `/`
    /// opens on.
    pub filter: Option<Vec<String>>,
    pub interval: Duration,
    pub numeric: bool,
    /// `-r`: host names instead of addresses.
    pub resolve: bool,
    pub show_netid: bool,
    /// `-i`: rate columns, and sparklines of rates rather than queues.
    pub rates: bool,
    /// `-p`: a Process column (shown once the rows carry processes).
    pub processes: bool,
    /// The terminal's (columns, rows).
    pub size: (usize, usize),
}

/// What the loop does after a key.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply {
    Nothing,
    /// `q`, or Ctrl-C read as a key: the watch ends.
    Quit,
    /// Space: the table stops following the looks (which go on), or follows them again.
    Pause,
    /// Enter on the `/` line: the words of a filter, for the looks that follow; the loop says
    /// how it went with [`LiveView::filtered`].
    Filter(Vec<String>),
}

pub struct LiveView<W: Write> {
    out: W,
    options: LiveOptions,
    names: Names,
    glyphs: &'static Glyphs,
    table: Table,
    stats: Stats,
    steering: Steering,
    log: VecDeque<String>,
    ages: Ages,
    /// Sockets that left the filter and came into it in the look that applied it.
    refiltered: (usize, usize),
    widths: Widths,
    help: bool,
    message: Option<(String, Style, Instant)>,
    /// (columns, rows).
    size: (usize, usize),
    screen: Screen,
    frame: Vec<u8>,
    /// Whether something changed since the last frame, when that frame was drawn, and when
    /// the frame held back is due.
    dirty: bool,
    last_frame: Option<Instant>,
    due: Option<Instant>,
}

impl<W: Write> LiveView<W> {
    /// Switches the terminal to the view.
    pub fn start(mut out: W, options: LiveOptions) -> io::Result<LiveView<W>> {
        term::catch_resize();
        term::leave_on_panic(LEAVE);
        out.write_all(ENTER)?;
        out.flush()?;
        Ok(LiveView::new(out, options))
    }

    fn new(out: W, options: LiveOptions) -> LiveView<W> {
        LiveView {
            out,
            names: Names::new(),
            glyphs: if term::utf8() {
                &units::UNICODE
            } else {
                &units::ASCII
            },
            table: Table::default(),
            stats: Stats::new(options.rates),
            steering: Steering::new(&options.title, options.filter.as_deref()),
            log: VecDeque::new(),
            ages: Ages::default(),
            refiltered: (0, 0),
            widths: Widths::default(),
            help: false,
            message: None,
            size: options.size,
            screen: Screen::default(),
            frame: Vec::new(),
            dirty: true,
            last_frame: None,
            due: None,
            options,
        }
    }

    /// A key the loop read.
    pub fn key(&mut self, key: Key) -> Reply {
        self.dirty = true;
        if self.steering.editor().is_some() {
            return match self.steering.key(key) {
                Edit::Editing => Reply::Nothing,
                Edit::Apply(words) => Reply::Filter(words),
                Edit::Quit => Reply::Quit,
            };
        }
        if self.help && !matches!(key, Key::Char('q') | Key::Interrupt) {
            self.help = false;
            return Reply::Nothing;
        }
        let now = Instant::now();
        let options = &self.options;
        let shown = |column: Column| match column {
            Column::RateIn | Column::RateOut => options.rates,
            Column::Process => options.processes,
            _ => true,
        };
        match key {
            Key::Char('q') | Key::Interrupt => return Reply::Quit,
            Key::Char(' ') => return Reply::Pause,
            Key::Char('?') => self.help = true,
            Key::Char('s') => self.table.next_column(shown, now),
            Key::Char('S') => self.table.previous_column(shown, now),
            Key::Char('r') => self.table.reverse(now),
            Key::Char('f') => self.table.fold = self.table.fold.next(),
            Key::Char('/') => self.steering.open(),
            Key::Up => self.table.scroll(Scroll::Up),
            Key::Down => self.table.scroll(Scroll::Down),
            Key::PageUp => self.table.scroll(Scroll::PageUp),
            Key::PageDown => self.table.scroll(Scroll::PageDown),
            Key::Home => self.table.scroll(Scroll::Home),
            Key::End => self.table.scroll(Scroll::End),
            _ => {}
        }
        if matches!(key, Key::Char('s' | 'S' | 'r' | 'f')) {
            // Other rows on the page: columns fitted to them.
            self.widths.reset();
        }
        Reply::Nothing
    }

    /// What became of the filter of the last [`Reply::Filter`]: applied from the next look,
    /// or refused with the reason.
    pub fn filtered(&mut self, outcome: Result<(), String>) {
        match outcome {
            Ok(()) => {
                let text = self.steering.accepted();
                let shown = if text.is_empty() {
                    "every socket".to_owned()
                } else {
                    text
                };
                self.log(
                    Stamp::now(),
                    format!("filter: {shown} (from the next look)"),
                );
                self.refiltered = (0, 0);
                self.widths.reset();
                self.say(format!("filter {shown}, from the next look"), Style::Bold);
            }
            Err(reason) => {
                let said = self.steering.refused(&reason);
                self.say(format!("{said}; the filter is unchanged"), Style::Alert);
            }
        }
    }

    /// The listen counters the loop read at `at`, at the end of an interval: their growth
    /// since the last reading goes to the log, the header and the summary.
    pub fn listen_counters(&mut self, counters: ListenCounters, at: Stamp) {
        let Some(grew) = self.stats.listen_counters(counters) else {
            return;
        };
        if !grew.is_zero() {
            self.log(
                at,
                format!(
                    "! listen queue: ListenOverflows +{}, ListenDrops +{} in this namespace",
                    grew.overflows, grew.drops
                ),
            );
        }
    }

    /// The terminal is now `size` (columns, rows).
    pub fn resize(&mut self, size: (usize, usize)) {
        self.size = size;
        self.dirty = true;
    }

    /// How long the loop may wait before a frame the view held back is due.
    pub fn frame_due(&self, now: Instant) -> Option<Duration> {
        self.due.map(|due| due.saturating_duration_since(now))
    }

    /// Draws a frame if something changed and the last frame is old enough; otherwise notes
    /// when it will be ([`LiveView::frame_due`]). While `paused`, the table shows the rows it
    /// showed when the pause began.
    pub fn draw(&mut self, tracker: &Tracker, paused: bool) -> io::Result<()> {
        if let Some((_, _, at)) = &self.message {
            if at.elapsed() > MESSAGE {
                self.message = None;
                self.dirty = true;
            }
        }
        let now = Instant::now();
        if !self.dirty {
            self.due = None;
            return Ok(());
        }
        if let Some(last) = self.last_frame {
            if now < last + FRAME {
                self.due = Some(last + FRAME);
                return Ok(());
            }
        }
        self.due = None;
        self.dirty = false;
        self.last_frame = Some(now);
        let lines = self.compose(tracker, paused, now);
        self.frame.clear();
        self.screen.frame(&lines, self.size, &mut self.frame);
        if !self.frame.is_empty() {
            self.out.write_all(&self.frame)?;
            self.out.flush()?;
        }
        Ok(())
    }

    /// The lines of one frame.
    fn compose(&mut self, tracker: &Tracker, paused: bool, now: Instant) -> Vec<Line> {
        let style = self.style();
        let names = &mut self.names;
        let page = self.table.page(
            rows(tracker, &self.ages),
            |row, entry| shown(tracker, names, style, row, entry),
            paused,
            draw::space(self.size.1),
            now,
        );
        let title = self.steering.title();
        let frame = Frame {
            size: self.size,
            glyphs: self.glyphs,
            title: &title,
            interval: self.options.interval,
            look: tracker.looks(),
            show_netid: self.options.show_netid,
            rates: self.options.rates,
            paused,
            table: &self.table,
            stats: &self.stats,
            log: &self.log,
            editor: self.steering.editor(),
            message: self
                .message
                .as_ref()
                .map(|(text, style, _)| (&**text, *style)),
            help: self.help,
            now,
        };
        frame.lines(&page, &mut self.widths)
    }

    fn log(&mut self, at: Stamp, text: String) {
        if self.log.len() == LOG_LINES {
            self.log.pop_front();
        }
        let mut line = clock::time_of_day(at.wall);
        line.push(' ');
        line.push_str(&text);
        self.log.push_back(line);
        self.dirty = true;
    }

    fn style(&self) -> endpoint::Style {
        endpoint::Style {
            numeric: self.options.numeric,
            resolve: self.options.resolve,
        }
    }

    /// The local and peer text of a socket.
    fn ends(&mut self, socket: &Socket<'_>) -> (String, String) {
        let style = self.style();
        endpoints(socket, &mut self.names, style)
    }

    /// `STATE local -> peer`.
    fn describe(&mut self, socket: &Socket<'_>) -> String {
        let style = self.style();
        describe(socket, &mut self.names, style)
    }

    fn say(&mut self, text: String, style: Style) {
        self.message = Some((text, style, Instant::now()));
        self.dirty = true;
    }

    /// The end of an interval: rates, histories, peaks.
    fn record(&mut self, tracker: &Tracker, at: Stamp) {
        let style = self.style();
        let names = &mut self.names;
        let (look, sockets) = (tracker.looks(), tracker.len());
        self.stats
            .record(at.mono, look, sockets, rows(tracker, &self.ages), |entry| {
                describe(&socket(tracker, entry), names, style)
            });
        self.dirty = true;
    }
}

// The tracker's entries, read here only.

/// What the view knows of sockets' ages that the tracker does not: a socket that comes into
/// the filter when it changes was open before. Its age is then at least what it was when an
/// earlier filter showed it, or at least since that look (shown with `>`, as for the sockets
/// of the first look).
#[derive(Default)]
struct Ages {
    /// Sockets that came into the filter: when they were first seen, and whether that is a
    /// lower bound.
    joined: HashMap<EntryKey, (Instant, bool)>,
    /// Sockets that left the filter, the same: a socket that comes back has its age again.
    left: HashMap<EntryKey, (Instant, bool)>,
}

impl Ages {
    /// When an entry was first seen, and whether its age is a lower bound.
    fn of(&self, entry: &Entry) -> (Instant, bool) {
        self.joined
            .get(&entry.key)
            .copied()
            .unwrap_or((entry.first_seen(), entry.seen_since_start()))
    }

    /// A socket came into the filter when it changed.
    fn came(&mut self, entry: &Entry) {
        let age = self
            .left
            .remove(&entry.key)
            .unwrap_or((entry.first_seen(), true));
        self.joined.insert(entry.key, age);
    }

    /// A socket is gone; `left` when it left the filter rather than closed.
    fn went(&mut self, removal: &Removal<'_>, left: bool) {
        let Some(key) = removal.socket.cookie else {
            return;
        };
        let joined = self.joined.remove(&key);
        if !left {
            return;
        }
        let life = removal.lifetime.unwrap_or_default();
        let age = joined.unwrap_or((
            removal.at.mono.checked_sub(life).unwrap_or(removal.at.mono),
            removal.seen_since_start,
        ));
        if self.left.len() >= LEFT_KEPT {
            self.left.clear();
        }
        self.left.insert(key, age);
    }
}

/// The rows of the entries shown, in the tracker's order, each with its entry.
fn rows<'t>(tracker: &'t Tracker, ages: &'t Ages) -> impl Iterator<Item = (Row, &'t Entry)> {
    let latest = tracker.looks();
    tracker
        .entries()
        .filter_map(move |entry| Some((row(tracker, entry, latest, ages)?, entry)))
}

/// The row of an entry; `latest` is the number of the latest look. `None` for an entry the
/// kernel destroyed and the next look has yet to settle (not shown, not counted).
fn row(tracker: &Tracker, entry: &Entry, latest: u64, ages: &Ages) -> Option<Row> {
    if entry.closing() {
        return None;
    }
    let fresh = entry.changed_now();
    let c = if fresh {
        tracker.changes(entry)
    } else {
        Changes::default()
    };
    let (first_seen, before_start) = ages.of(entry);
    Some(Row {
        key: entry.key,
        seen: 0,
        netid: entry.netid,
        state: entry.state,
        recv_q: entry.recv_q,
        send_q: entry.send_q,
        rates: tracker.rates(entry),
        first_seen,
        before_start,
        mark: if entry.added_now() && latest > 1 {
            '+'
        } else if fresh {
            '*'
        } else {
            ' '
        },
        hot: Hot {
            state: fresh && c.state.is_some(),
            recv_q: fresh && c.recv_q.is_some(),
            send_q: fresh && c.send_q.is_some(),
            rates: fresh && c.rates.is_some(),
        },
    })
}

/// The socket of an entry, as it was last listed.
fn socket<'t>(tracker: &'t Tracker, entry: &Entry) -> Socket<'t> {
    tracker.socket(entry)
}

/// The process that holds an entry's socket, with `-p` or `-T`: the first holder's name and
/// pid, and how many more there are.
fn process(tracker: &Tracker, entry: &Entry) -> Option<String> {
    let processes = tracker.processes()?;
    let mut owners = processes.owners(tracker.socket(entry).inode);
    let first = owners.next()?;
    let mut text = format!("{}/{}", String::from_utf8_lossy(first.comm), first.pid);
    let more = owners.count();
    if more > 0 {
        text.push_str(&format!(" +{more}"));
    }
    Some(text)
}

/// A row with its text.
fn shown(
    tracker: &Tracker,
    names: &mut Names,
    style: endpoint::Style,
    row: Row,
    entry: &Entry,
) -> Shown {
    let (local, peer) = endpoints(&socket(tracker, entry), names, style);
    Shown {
        row,
        local,
        peer,
        process: process(tracker, entry),
    }
}

/// The two ends of a socket, as the table writes them: the one place that asks
/// [`endpoint::pair`].
fn endpoints(socket: &Socket<'_>, names: &mut Names, style: endpoint::Style) -> (String, String) {
    let (local, peer) = endpoint::pair(socket, names, style);
    (
        String::from_utf8_lossy(&local).into_owned(),
        String::from_utf8_lossy(&peer).into_owned(),
    )
}

/// `STATE local -> peer`.
fn describe(socket: &Socket<'_>, names: &mut Names, style: endpoint::Style) -> String {
    let (local, peer) = endpoints(socket, names, style);
    format!("{} {local} -> {peer}", socket.state.name())
}

impl<W: Write> Drop for LiveView<W> {
    fn drop(&mut self) {
        let _ = self.out.write_all(LEAVE);
        let summary = self.stats.summary();
        let _ = self.out.write_all(summary.as_bytes());
        let _ = self.out.flush();
    }
}

impl<W: Write> Sink for LiveView<W> {
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let n = tracker.len();
        self.stats.snapshot(n);
        self.log(
            at,
            format!("watching: {n} socket{}", if n == 1 { "" } else { "s" }),
        );
        self.record(tracker, at);
        Ok(())
    }

    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        if self.steering.refiltered() && found.source == Source::Poll {
            // Open before, not opened: said once at the end of the look.
            self.ages.came(found.entry);
            self.stats.joined();
            self.refiltered.1 += 1;
            return Ok(());
        }
        self.stats.added();
        let text = self.describe(found.socket);
        self.log(at, format!("+ {text}"));
        Ok(())
    }

    fn changed(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        // Queues and rates move all the time; the table marks them. The log says when a
        // state changes.
        self.dirty = true;
        if let Some((before, _)) = found.changes.state {
            let text = self.describe(found.socket);
            self.log(at, format!("~ {text} (was {})", before.name()));
        }
        Ok(())
    }

    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()> {
        let left = self.steering.refiltered() && removal.source == Source::Poll;
        self.ages.went(removal, left);
        if left {
            // Said once at the end of the look.
            self.refiltered.0 += 1;
            self.dirty = true;
            return Ok(());
        }
        let (local, peer) = self.ends(&removal.socket);
        self.stats.removed(removal.lifetime.is_none());
        // The state is left out: a destroyed TCP socket is always closed.
        let how = match (removal.lifetime, removal.source) {
            (Some(life), Source::Destroy) => format!("closed after {}", units::lifetime(life)),
            (Some(life), Source::Poll) => format!("gone after {}", units::lifetime(life)),
            (Some(life), Source::Event) => {
                format!("left the filter after {}", units::lifetime(life))
            }
            (None, _) => "opened and closed between two looks".to_owned(),
        };
        // What a closed TCP connection carried, tcplife's TX and RX.
        let carried = removal.bytes.map_or(String::new(), |(acked, received)| {
            format!(
                ", {} out, {} in",
                units::bytes(acked),
                units::bytes(received)
            )
        });
        self.log(removal.at, format!("- {local} -> {peer} {how}{carried}"));
        Ok(())
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        if self.steering.refiltered() {
            // Other rows: columns fitted to them.
            self.widths.reset();
            let (left, came) = std::mem::take(&mut self.refiltered);
            let sockets = |n: usize| format!("{n} socket{}", if n == 1 { "" } else { "s" });
            let text = match (left, came) {
                (0, 0) => None,
                (left, 0) => Some(format!("{} left the filter", sockets(left))),
                (0, came) => Some(format!("{} came into the filter", sockets(came))),
                (left, came) => Some(format!(
                    "{} left the filter, {} came into it",
                    sockets(left),
                    sockets(came)
                )),
            };
            if let Some(text) = text {
                self.log(at, text);
            }
        }
        self.steering.looked();
        self.record(tracker, at);
        Ok(())
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        self.log(Stamp::now(), format!("! {message}"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> LiveView<Vec<u8>> {
        LiveView::new(
            Vec::new(),
            LiveOptions {
                title: "sockscope watch".to_owned(),
                filter: Some(Vec::new()),
                interval: Duration::from_secs(1),
                numeric: true,
                resolve: false,
                show_netid: false,
                rates: false,
                processes: false,
                size: (80, 24),
            },
        )
    }

    fn keys(view: &mut LiveView<Vec<u8>>, text: &str) -> Vec<Reply> {
        text.chars().map(|c| view.key(Key::Char(c))).collect()
    }

    /// Keys get answers, not effects: the loop quits, pauses and applies filters.
    #[test]
    fn keys_are_answered_with_what_to_do() {
        let mut view = view();
        assert_eq!(view.key(Key::Char(' ')), Reply::Pause);
        assert_eq!(view.key(Key::Char('s')), Reply::Nothing);
        assert_eq!(view.table.sort, Column::State);
        // The help takes the next key, unless it quits.
        view.key(Key::Char('?'));
        assert!(view.help);
        assert_eq!(view.key(Key::Char(' ')), Reply::Nothing);
        assert!(!view.help);
        // While the filter is edited, q is a letter; Enter hands its words over.
        view.key(Key::Char('/'));
        assert!(
            keys(&mut view, "sport = :q")
                .iter()
                .all(|r| *r == Reply::Nothing)
        );
        let words = ["sport", "=", ":q"].map(str::to_owned).to_vec();
        assert_eq!(view.key(Key::Enter), Reply::Filter(words));
        view.filtered(Err("no such service".to_owned()));
        assert_eq!(view.steering.applied(), "");
        view.key(Key::Char('/'));
        keys(&mut view, ":80");
        view.key(Key::Enter);
        view.filtered(Ok(()));
        assert_eq!(view.steering.applied(), ":80");
        assert!(
            view.log
                .back()
                .unwrap()
                .ends_with("filter: :80 (from the next look)")
        );
        assert_eq!(view.key(Key::Char('q')), Reply::Quit);
        assert_eq!(view.key(Key::Interrupt), Reply::Quit);
    }
}
