//! `watch` on a terminal: a live view, as top draws, for sockets.
//!
//! The alternate screen holds, from the top: a title line; a line of totals with sparklines of
//! the socket count and of new and closed sockets per second; the table of sockets (cells that
//! changed at the latest look in reverse video, a `+` before a row the latest look added and
//! a `*` before one it changed, a sparkline of each row's queue or rate over the last looks);
//! a log of what happened, newest last; and a status line. Keys sort, scroll, pause, and edit
//! the filter ([`crate::cli::LIVE_KEYS`]).
//!
//! Frames are composed at most [`FRAMES_PER_SECOND`] times a second however fast events come,
//! and only the screen lines that changed are written ([`screen`]). When the view ends, the
//! terminal is put back (main screen, cursor, input modes) and a few lines on the normal
//! screen say what was seen; that happens on `q`, Ctrl-C, SIGTERM, `--count` and errors alike,
//! and a panic leaves the alternate screen before its message.
//!
//! The tracker's entries are read in one place, [`row`] and its two neighbours, so that the
//! view does not depend on how the tracker stores a socket.

mod keys;
mod screen;
mod units;

use std::cell::{Cell, RefCell};
use std::cmp::Ordering;
use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::io::{self, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

use super::tracker::{Changes, Entry, Found, Key, Rates, Removal, Sink, Source, Stamp, Tracker};
use crate::cli::LIVE_KEYS;
use crate::config;
use crate::filter::{self, Filter, ParseOptions};
use crate::names::Names;
use crate::render::endpoint;
use crate::socket::{Family, FamilySet, Netid, NetidSet, Socket, StateSet, TcpState};
use crate::source::procnet::ListenCounters;
use crate::source::query::Query;
use crate::sys::clock;
use crate::sys::term::{self, RawKeys};
use keys::Key as Press;
use screen::{Line, Screen, Style};
use units::Glyphs;

/// The most frames drawn in a second.
pub const FRAMES_PER_SECOND: u32 = 10;
const FRAME: Duration = Duration::from_nanos(1_000_000_000 / FRAMES_PER_SECOND as u64);

/// Log lines kept.
const LOG_LINES: usize = 500;
/// Looks a row's sparkline and the header's remember.
const HISTORY: usize = 12;
const HEADER_HISTORY: usize = 30;
/// Connections the summary left on screen names.
const BUSIEST: usize = 3;
/// How long a message on the status line stays.
const MESSAGE: Duration = Duration::from_secs(5);

const ENTER: &[u8] = b"\x1b[?1049h\x1b[?25l";
const LEAVE: &[u8] = b"\x1b[?25h\x1b[?1049l";

/// How the view is set up.
pub struct LiveOptions {
    /// What the title line says the view shows (the command line).
    pub title: String,
    pub interval: Duration,
    pub numeric: bool,
    /// `-r`: host names instead of addresses.
    pub resolve: bool,
    pub show_netid: bool,
    /// `-i`: rate columns, and sparklines of rates rather than queues.
    pub rates: bool,
    /// `-p`: a Process column (shown once the rows carry processes).
    pub processes: bool,
    /// How a filter typed after `/` is read, and where it goes.
    pub steering: Steering,
}

/// What the view and the watch loop share: the view asks for a frame at a moment and for a
/// new filter; the loop waits no longer than that moment and puts the filter in its query.
#[derive(Clone)]
pub struct Steering(Rc<Shared>);

struct Shared {
    /// The states the command line asked for: a typed filter's states narrow them.
    states: StateSet,
    /// The tables and families the command line asked for: a typed filter's family prefix
    /// (`src inet6:*`) lists that family alone, as on the command line.
    tables: NetidSet,
    families: FamilySet,
    parse: ParseOptions,
    filter: RefCell<Option<Filter>>,
    due: Cell<Option<Instant>>,
    keys: Cell<bool>,
}

impl Steering {
    pub fn new(query: &Query) -> Steering {
        let family = match (
            query.families.contains(Family::Inet),
            query.families.contains(Family::Inet6),
        ) {
            (true, false) => Some(Family::Inet),
            (false, true) => Some(Family::Inet6),
            _ => None,
        };
        // As the command line's filter is read (config's `service_protocol`).
        let service_protocol = match (
            query.tables.contains(Netid::Udp),
            query.tables.contains(Netid::Tcp),
        ) {
            (true, false) => Some(libc::IPPROTO_UDP as u8),
            (false, true) => Some(libc::IPPROTO_TCP as u8),
            _ => None,
        };
        Steering(Rc::new(Shared {
            states: query.states,
            tables: query.tables,
            families: query.families,
            parse: ParseOptions {
                default_family: family,
                service_protocol,
            },
            filter: RefCell::new(None),
            due: Cell::new(None),
            keys: Cell::new(io::IsTerminal::is_terminal(&io::stdin())),
        }))
    }

    /// Whether the loop should wake up for keys on standard input.
    pub fn keys(&self) -> bool {
        self.0.keys.get()
    }

    /// How long the loop may wait before a frame the view held back is due.
    pub fn frame_due(&self, now: Instant) -> Option<Duration> {
        self.0
            .due
            .get()
            .map(|due| due.saturating_duration_since(now))
    }

    /// Puts a filter typed since the last call into `query`, for the looks that follow: its
    /// expression replaces the command line's (in user space and as kernel bytecode, as the
    /// command line's is), and its states narrow those the command line asked for.
    pub fn steer(&self, query: &mut Query) {
        let Some(filter) = self.0.filter.borrow_mut().take() else {
            return;
        };
        query.bytecode = filter.expr.as_ref().and_then(filter::compile);
        query.filter = filter.expr;
        query.states = match filter.states {
            Some(named) if !named.intersection(self.0.states).is_empty() => {
                named.intersection(self.0.states)
            }
            _ => self.0.states,
        };
        (query.tables, query.families) = match filter.family {
            Some(family) => (
                self.0.tables.intersection(family.tables()),
                FamilySet::EMPTY.with(family),
            ),
            None => (self.0.tables, self.0.families),
        };
    }
}

/// The columns a table can be sorted by, in the order `s` goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Seen,
    State,
    RecvQ,
    SendQ,
    RateIn,
    RateOut,
    Age,
    Local,
    Peer,
    Process,
}

impl Column {
    const CYCLE: [Column; 10] = [
        Column::Seen,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::RateIn,
        Column::RateOut,
        Column::Age,
        Column::Local,
        Column::Peer,
        Column::Process,
    ];

    fn name(self) -> &'static str {
        match self {
            Column::Seen => "first seen",
            Column::State => "state",
            Column::RecvQ => "Recv-Q",
            Column::SendQ => "Send-Q",
            Column::RateIn => "rate in",
            Column::RateOut => "rate out",
            Column::Age => "age",
            Column::Local => "local",
            Column::Peer => "peer",
            Column::Process => "process",
        }
    }

    /// Whether the natural order is largest first (queues, rates, age: what one looks for).
    fn descending(self) -> bool {
        matches!(
            self,
            Column::RecvQ | Column::SendQ | Column::RateIn | Column::RateOut | Column::Age
        )
    }

    fn by_text(self) -> bool {
        matches!(self, Column::Local | Column::Peer | Column::Process)
    }
}

/// What the view shows of one socket, copied from the tracker's entry.
#[derive(Clone, Copy, Debug)]
struct Row {
    key: Key,
    /// Position in the tracker's order (first seen first).
    seen: usize,
    netid: Netid,
    state: TcpState,
    recv_q: u32,
    send_q: u32,
    rates: Option<Rates>,
    first_seen: Instant,
    /// Listed by the first look: open since before the watch started, so its age is a
    /// lower bound.
    before_start: bool,
    /// `+` added by the latest look, `*` changed by it, or a blank.
    mark: char,
    /// Which cells the latest look changed.
    hot: Hot,
}

#[derive(Clone, Copy, Debug, Default)]
struct Hot {
    state: bool,
    recv_q: bool,
    send_q: bool,
    rates: bool,
}

impl Row {
    fn listening(&self) -> bool {
        self.state == TcpState::Listen
    }

    /// What the row's sparkline follows: bytes per second in and out with `-i`, otherwise
    /// the accept queue of a listener or the two queues of any other socket.
    fn gauge(&self, rates: bool) -> u64 {
        match self.rates {
            Some(r) if rates => r.bytes_in + r.bytes_out,
            _ if self.listening() => u64::from(self.recv_q),
            _ => u64::from(self.recv_q) + u64::from(self.send_q),
        }
    }

    /// Whether a listener's accept queue has reached its backlog.
    fn accept_queue_full(&self) -> bool {
        self.listening() && self.recv_q > 0 && self.recv_q >= self.send_q
    }

    fn compare(&self, other: &Row, column: Column, now: Instant) -> Ordering {
        let rate = |r: &Row, f: fn(&Rates) -> u64| r.rates.as_ref().map_or(0, f);
        match column {
            Column::State => (self.state as u8).cmp(&(other.state as u8)),
            Column::RecvQ => self.recv_q.cmp(&other.recv_q),
            Column::SendQ => self.send_q.cmp(&other.send_q),
            Column::RateIn => rate(self, |r| r.bytes_in).cmp(&rate(other, |r| r.bytes_in)),
            Column::RateOut => rate(self, |r| r.bytes_out).cmp(&rate(other, |r| r.bytes_out)),
            Column::Age => {
                let age = |r: &Row| now.saturating_duration_since(r.first_seen);
                age(self).cmp(&age(other))
            }
            Column::Seen | Column::Local | Column::Peer | Column::Process => Ordering::Equal,
        }
        .then(self.seen.cmp(&other.seen))
    }
}

// The tracker's entries, read here only.

/// The row of an entry; `latest` is the number of the latest look. `None` for an entry the
/// kernel destroyed and the next look has yet to settle (not shown, not counted).
fn row(tracker: &Tracker, entry: &Entry, latest: u64) -> Option<Row> {
    if entry.closing() {
        return None;
    }
    let fresh = entry.changed_now();
    let c = if fresh {
        tracker.changes(entry)
    } else {
        Changes::default()
    };
    Some(Row {
        key: entry.key,
        seen: 0,
        netid: entry.netid,
        state: entry.state,
        recv_q: entry.recv_q,
        send_q: entry.send_q,
        rates: tracker.rates(entry),
        first_seen: entry.first_seen(),
        before_start: entry.seen_since_start(),
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

/// A column of the table: its header, whether it is right-aligned, and its cells.
type TableColumn = (String, bool, Vec<(String, Style)>);

/// A row with its text, as drawn.
struct Shown {
    row: Row,
    local: String,
    peer: String,
    process: Option<String>,
}

/// A socket's last looks, for its sparkline, and what the summary keeps of it.
#[derive(Default)]
struct History {
    gauges: VecDeque<u64>,
    /// The look that last listed it.
    look: u64,
    peak: u64,
    /// Bytes moved (from the rates), with `-i`.
    moved: u64,
}

/// A connection among the busiest, for the summary.
struct Busy {
    key: Key,
    score: u64,
    text: String,
}

/// What the whole watch saw, for the lines it leaves on the screen.
#[derive(Default)]
struct Totals {
    looks: u64,
    seen: u64,
    opened: u64,
    closed: u64,
    peak_sockets: usize,
    peak_recv_q: u32,
    peak_send_q: u32,
    /// The fullest accept queue: (queue, backlog).
    peak_accept: Option<(u32, u32)>,
    listen: ListenCounters,
    busiest: Vec<Busy>,
}

/// The `/` line being edited.
struct Editor {
    text: String,
}

pub struct LiveView<W: Write> {
    out: W,
    options: LiveOptions,
    names: Names,
    log: VecDeque<String>,
    /// (columns, rows).
    size: (usize, usize),
    screen: Screen,
    frame: Vec<u8>,
    /// Whether something changed since the last frame, and when that frame was drawn.
    dirty: bool,
    last_frame: Option<Instant>,
    started: Instant,
    /// Sockets added and removed since the last tick, and the rates of the last interval.
    added: u32,
    removed: u32,
    last_tick: Option<Instant>,
    per_second: (f64, f64),
    /// Per look: sockets, and new and closed per second (in tenths).
    counts: VecDeque<u64>,
    news: VecDeque<u64>,
    closes: VecDeque<u64>,
    histories: HashMap<Key, History>,
    totals: Totals,
    /// The listen counters at the last tick, and how much they grew in its interval.
    listen: Option<ListenCounters>,
    listen_grew: ListenCounters,
    sort: Column,
    reversed: bool,
    /// The first row shown.
    scroll: usize,
    /// Rows the table showed in the last frame, for PgUp/PgDn.
    page: usize,
    /// While paused, the rows as they were, sorted.
    paused: Option<Vec<Shown>>,
    help: bool,
    editor: Option<Editor>,
    /// The filter typed last, shown on the status line.
    filter: Option<String>,
    /// A filter was typed and the look that applies it has not ended: the sockets that look
    /// no longer lists left the filter rather than closed.
    refiltered: bool,
    message: Option<(String, Style, Instant)>,
    pressed: Vec<Press>,
    glyphs: &'static Glyphs,
    /// Single keys without echo, while the view lives (when standard input is a terminal).
    _keys: Option<RawKeys>,
}

impl<W: Write> LiveView<W> {
    /// Switches the terminal to the view.
    pub fn start(mut out: W, options: LiveOptions) -> io::Result<LiveView<W>> {
        term::catch_resize();
        term::leave_on_panic(LEAVE);
        let keys = if options.steering.keys() {
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
            screen: Screen::default(),
            frame: Vec::new(),
            dirty: true,
            last_frame: None,
            started: Instant::now(),
            added: 0,
            removed: 0,
            last_tick: None,
            per_second: (0.0, 0.0),
            counts: VecDeque::new(),
            news: VecDeque::new(),
            closes: VecDeque::new(),
            histories: HashMap::new(),
            totals: Totals::default(),
            listen: ListenCounters::read().ok(),
            listen_grew: ListenCounters::default(),
            sort: Column::Seen,
            reversed: false,
            scroll: 0,
            page: 1,
            paused: None,
            help: false,
            editor: None,
            filter: None,
            refiltered: false,
            message: None,
            pressed: Vec::new(),
            glyphs: if term::utf8() {
                &units::UNICODE
            } else {
                &units::ASCII
            },
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
        self.dirty = true;
    }

    /// The local and peer text of a socket: the one place that asks [`endpoints`].
    fn ends(&mut self, socket: &Socket<'_>) -> (String, String) {
        let style = endpoint::Style {
            numeric: self.options.numeric,
            resolve: self.options.resolve,
        };
        endpoints(socket, &mut self.names, style)
    }

    /// `STATE local -> peer`.
    fn describe(&mut self, socket: &Socket<'_>) -> String {
        let (local, peer) = self.ends(socket);
        format!("{} {local} -> {peer}", socket.state.name())
    }

    fn say(&mut self, text: String, style: Style) {
        self.message = Some((text, style, Instant::now()));
        self.dirty = true;
    }

    /// Reads the keys waiting on standard input and acts on them.
    fn read_keys(&mut self) -> io::Result<()> {
        if !self.options.steering.keys() {
            return Ok(());
        }
        let mut buffer = [0u8; 256];
        loop {
            match term::read_waiting(&mut buffer)? {
                None => {
                    self.options.steering.0.keys.set(false);
                    break;
                }
                Some(0) => break,
                Some(n) => keys::parse(&buffer[..n], &mut self.pressed),
            }
        }
        let pressed = std::mem::take(&mut self.pressed);
        for &key in &pressed {
            self.press(key);
        }
        self.pressed = pressed;
        self.pressed.clear();
        Ok(())
    }

    fn press(&mut self, key: Press) {
        self.dirty = true;
        if let Some(editor) = &mut self.editor {
            match key {
                Press::Char(c) => editor.text.push(c),
                Press::Backspace => {
                    editor.text.pop();
                }
                Press::Kill => editor.text.clear(),
                Press::Escape => self.editor = None,
                Press::Enter => {
                    let text = self.editor.take().map(|e| e.text).unwrap_or_default();
                    self.apply_filter(text);
                }
                Press::Interrupt => term::stop(),
                _ => {}
            }
            return;
        }
        if self.help && !matches!(key, Press::Char('q') | Press::Interrupt) {
            self.help = false;
            return;
        }
        let page = self.page.max(1);
        match key {
            Press::Char('q') | Press::Interrupt => term::stop(),
            Press::Char('?') => self.help = true,
            Press::Char('s') => self.cycle(1),
            Press::Char('S') => self.cycle(Column::CYCLE.len() - 1),
            Press::Char('r') => {
                self.reversed = !self.reversed;
                self.resort();
            }
            // Pausing leaves the rows to be filled by the next frame; resuming (the guard took
            // the rows) falls through.
            Press::Char(' ') if self.paused.take().is_none() => self.paused = Some(Vec::new()),
            Press::Char('/') => {
                self.editor = Some(Editor {
                    text: self.filter.clone().unwrap_or_default(),
                })
            }
            Press::Up => self.scroll = self.scroll.saturating_sub(1),
            Press::Down => self.scroll = self.scroll.saturating_add(1),
            Press::PageUp => self.scroll = self.scroll.saturating_sub(page),
            Press::PageDown => self.scroll = self.scroll.saturating_add(page),
            Press::Home => self.scroll = 0,
            Press::End => self.scroll = usize::MAX,
            _ => {}
        }
    }

    /// Moves the sort `step` columns on (modulo the cycle), skipping those not shown.
    fn cycle(&mut self, step: usize) {
        let n = Column::CYCLE.len();
        let mut at = Column::CYCLE
            .iter()
            .position(|c| *c == self.sort)
            .unwrap_or(0);
        loop {
            at = (at + step) % n;
            let column = Column::CYCLE[at];
            let shown = match column {
                Column::RateIn | Column::RateOut => self.options.rates,
                Column::Process => self.options.processes,
                _ => true,
            };
            if shown {
                self.sort = column;
                break;
            }
        }
        self.reversed = false;
        self.resort();
    }

    /// Sorts the rows held while paused again, for a new order.
    fn resort(&mut self) {
        if let Some(mut rows) = self.paused.take() {
            self.sort_shown(&mut rows, Instant::now());
            self.paused = Some(rows);
        }
    }

    fn sort_shown(&self, rows: &mut [Shown], now: Instant) {
        let (column, reversed) = (self.sort, self.reversed != self.sort.descending());
        rows.sort_by(|a, b| {
            let order = match column {
                Column::Local => a.local.cmp(&b.local),
                Column::Peer => a.peer.cmp(&b.peer),
                Column::Process => a.process.cmp(&b.process),
                _ => Ordering::Equal,
            }
            .then_with(|| a.row.compare(&b.row, column, now));
            if reversed { order.reverse() } else { order }
        });
    }

    /// A typed filter: read as the command line's is, then handed to the loop.
    fn apply_filter(&mut self, text: String) {
        let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
        let words = config::expand_shorthand(&words);
        let parse = self.options.steering.0.parse;
        match filter::parse(&filter::Source::Args(words), &parse) {
            Ok(filter) => {
                *self.options.steering.0.filter.borrow_mut() = Some(filter);
                let shown = if text.trim().is_empty() {
                    "every socket".to_owned()
                } else {
                    text.trim().to_owned()
                };
                self.log(
                    Stamp::now(),
                    format!("filter: {shown} (from the next look)"),
                );
                self.say(format!("filter: {shown}"), Style::Bold);
                self.filter = Some(text.trim().to_owned());
                self.refiltered = true;
            }
            Err(e) => {
                self.say(format!("{e}; the filter is unchanged"), Style::Alert);
            }
        }
    }

    /// Draws a frame if something changed and the last frame is old enough; otherwise asks
    /// the loop to come back when it is.
    fn frame(&mut self, tracker: &Tracker) -> io::Result<()> {
        self.read_keys()?;
        if term::resized() {
            self.size = term::size().unwrap_or(self.size);
            self.dirty = true;
        }
        if let Some((_, _, at)) = &self.message {
            if at.elapsed() > MESSAGE {
                self.message = None;
                self.dirty = true;
            }
        }
        let now = Instant::now();
        let steering = &self.options.steering.0;
        if !self.dirty {
            steering.due.set(None);
            return Ok(());
        }
        if let Some(last) = self.last_frame {
            if now < last + FRAME {
                steering.due.set(Some(last + FRAME));
                return Ok(());
            }
        }
        steering.due.set(None);
        self.dirty = false;
        self.last_frame = Some(now);
        let lines = self.compose(tracker, now);
        self.frame.clear();
        self.screen.frame(&lines, self.size, &mut self.frame);
        if !self.frame.is_empty() {
            self.out.write_all(&self.frame)?;
            self.out.flush()?;
        }
        Ok(())
    }

    /// The lines of one frame.
    fn compose(&mut self, tracker: &Tracker, now: Instant) -> Vec<Line> {
        let (cols, rows) = self.size;
        // Title, totals, table header and status line; then the log's last lines.
        let fixed = 4;
        // The log's three lines and its rule, kept even while empty so that pages do not
        // change size; a small terminal has no log.
        let log_lines = if rows >= 12 { 4 } else { 0 };
        let space = rows.saturating_sub(fixed + log_lines).max(1);
        self.page = space;

        let mut counts = [0usize; TcpState::ALL.len()];
        let (total, shown) = if let Some(frozen) = self.paused.take() {
            let frozen = if frozen.is_empty() {
                // Just paused: every row, with its text, as it is now.
                let mut all = self.shown_all(tracker);
                self.sort_shown(&mut all, now);
                all
            } else {
                frozen
            };
            for shown in &frozen {
                counts[shown.row.state as usize] += 1;
            }
            let total = frozen.len();
            self.scroll = self.scroll.min(total.saturating_sub(space));
            let window: Vec<Shown> = frozen[self.scroll..(self.scroll + space).min(total)]
                .iter()
                .map(|s| Shown {
                    row: s.row,
                    local: s.local.clone(),
                    peer: s.peer.clone(),
                    process: s.process.clone(),
                })
                .collect();
            self.paused = Some(frozen);
            (total, window)
        } else if self.sort.by_text() {
            let mut all = self.shown_all(tracker);
            self.sort_shown(&mut all, now);
            for shown in &all {
                counts[shown.row.state as usize] += 1;
            }
            let total = all.len();
            self.scroll = self.scroll.min(total.saturating_sub(space));
            let end = (self.scroll + space).min(total);
            all.truncate(end);
            (total, all.split_off(self.scroll))
        } else {
            let latest = tracker.looks();
            let mut all: Vec<(Row, &Entry)> = tracker
                .entries()
                .filter_map(|entry| Some((row(tracker, entry, latest)?, entry)))
                .enumerate()
                .map(|(i, (mut row, entry))| {
                    row.seen = i;
                    (row, entry)
                })
                .collect();
            for (row, _) in &all {
                counts[row.state as usize] += 1;
            }
            let (column, reversed) = (self.sort, self.reversed != self.sort.descending());
            if column != Column::Seen || reversed {
                all.sort_unstable_by(|(a, _), (b, _)| {
                    let order = a.compare(b, column, now);
                    if reversed { order.reverse() } else { order }
                });
            }
            let total = all.len();
            self.scroll = self.scroll.min(total.saturating_sub(space));
            let end = (self.scroll + space).min(total);
            let window = all[self.scroll..end]
                .iter()
                .map(|(row, entry)| self.shown(tracker, *row, entry))
                .collect();
            (total, window)
        };

        let mut lines: Vec<Line> = Vec::with_capacity(rows);
        lines.push(self.title(cols));
        lines.push(self.totals(total));
        lines.extend(self.table(&shown, now));
        let table_end = fixed - 1 + space;
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
        lines.push(self.status(&counts, total, shown.len()));
        if self.help {
            overlay(&mut lines, LIVE_KEYS, cols, self.glyphs);
        }
        lines
    }

    /// A row with its text.
    fn shown(&mut self, tracker: &Tracker, row: Row, entry: &Entry) -> Shown {
        let (local, peer) = self.ends(&socket(tracker, entry));
        Shown {
            row,
            local,
            peer,
            process: process(tracker, entry),
        }
    }

    /// Every row, with its text, in the tracker's order.
    fn shown_all(&mut self, tracker: &Tracker) -> Vec<Shown> {
        let latest = tracker.looks();
        tracker
            .entries()
            .filter_map(|entry| Some((row(tracker, entry, latest)?, entry)))
            .enumerate()
            .map(|(i, (mut row, entry))| {
                row.seen = i;
                self.shown(tracker, row, entry)
            })
            .collect()
    }

    /// `sockscope watch -t :55000       PAUSED  every 1s  17:32:01`.
    fn title(&self, cols: usize) -> Line {
        let mut line = Line::default();
        line.push(&self.options.title, Style::Bold);
        let clock = clock::time_of_day(std::time::SystemTime::now());
        let paused = if self.paused.is_some() {
            "PAUSED  "
        } else {
            ""
        };
        let right = format!(
            "{paused}every {}  {}",
            seconds(self.options.interval),
            &clock[..8]
        );
        let used = self.options.title.chars().count();
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
        let (new, closed) = self.per_second;
        line.push(&format!("sockets {sockets} "), Style::Bold);
        line.push(
            &units::sparkline(self.counts.iter().copied(), width, &self.glyphs.bars),
            Style::Plain,
        );
        line.push(&format!("  new {new:.1}/s "), Style::Bold);
        line.push(
            &units::sparkline(self.news.iter().copied(), width, &self.glyphs.bars),
            Style::Plain,
        );
        line.push(&format!("  closed {closed:.1}/s "), Style::Bold);
        line.push(
            &units::sparkline(self.closes.iter().copied(), width, &self.glyphs.bars),
            Style::Plain,
        );
        let grew = self.listen_grew;
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

    /// The header and one line per row, columns fitted to their cells.
    fn table(&self, shown: &[Shown], now: Instant) -> Vec<Line> {
        let rates = self.options.rates;
        let processes = shown.iter().any(|s| s.process.is_some());
        let sorted = |column: Column, name: &str| -> String {
            if self.sort != column {
                return name.to_owned();
            }
            let down = self.reversed != column.descending();
            let g = self.glyphs;
            format!("{name}{}", if down { g.down } else { g.up })
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
        if self.options.show_netid {
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
            let line = match self.histories.get(&s.row.key) {
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
    fn status(&self, counts: &[usize], total: usize, shown: usize) -> Line {
        let mut line = Line::default();
        if let Some(editor) = &self.editor {
            line.push("filter: ", Style::Bold);
            line.push(&editor.text, Style::Plain);
            line.push(" ", Style::Marked);
            line.push("   Enter applies, Esc cancels", Style::Faint);
            return line;
        }
        if let Some((text, style, _)) = &self.message {
            line.push(text, *style);
            line.push("  |  ", Style::Plain);
        }
        let mut text = format!("{total} socket{}", if total == 1 { "" } else { "s" });
        let mut first = true;
        for state in TcpState::ALL {
            let n = counts[state as usize];
            if n > 0 {
                text.push_str(if first { ": " } else { ", " });
                first = false;
                let _ = write!(text, "{} {n}", state.name());
            }
        }
        if self.sort != Column::Seen || self.reversed {
            let down = self.reversed != self.sort.descending();
            let arrow = if down {
                self.glyphs.down
            } else {
                self.glyphs.up
            };
            let _ = write!(text, " | sort {}{arrow}", self.sort.name());
        }
        if shown < total {
            let _ = write!(
                text,
                " | rows {}-{} of {total}",
                self.scroll + 1,
                self.scroll + shown
            );
        }
        if let Some(filter) = &self.filter {
            let filter = if filter.is_empty() { "none" } else { filter };
            let _ = write!(text, " | filter {filter}");
        }
        let grew = self.listen_grew;
        if !grew.is_zero() {
            let _ = write!(
                text,
                " | ListenOverflows +{}, ListenDrops +{}",
                grew.overflows, grew.drops
            );
        }
        line.push(&text, Style::Plain);
        if self.paused.is_some() {
            line.push(" | ", Style::Plain);
            line.push("paused", Style::Alert);
        }
        line.push(" | ? keys  q quits", Style::Plain);
        line
    }

    /// The end of an interval: rates, histories, peaks.
    fn record(&mut self, tracker: &Tracker, at: Stamp) {
        if let Some(last) = self.last_tick {
            let elapsed = at.mono.saturating_duration_since(last).as_secs_f64();
            if elapsed > 0.0 {
                self.per_second = (
                    f64::from(self.added) / elapsed,
                    f64::from(self.removed) / elapsed,
                );
            }
        }
        let elapsed = self.last_tick.map_or(Duration::ZERO, |last| {
            at.mono.saturating_duration_since(last)
        });
        self.last_tick = Some(at.mono);
        self.added = 0;
        self.removed = 0;
        let sockets = tracker.len();
        push(&mut self.counts, sockets as u64, HEADER_HISTORY);
        push(
            &mut self.news,
            (self.per_second.0 * 10.0) as u64,
            HEADER_HISTORY,
        );
        push(
            &mut self.closes,
            (self.per_second.1 * 10.0) as u64,
            HEADER_HISTORY,
        );

        if let (Some(before), Some(now)) = (self.listen, ListenCounters::read().ok()) {
            let grew = now.since(before);
            self.listen = Some(now);
            self.listen_grew = grew;
            if !grew.is_zero() {
                self.totals.listen.overflows += grew.overflows;
                self.totals.listen.drops += grew.drops;
                self.log(
                    at,
                    format!(
                        "! listen queue: ListenOverflows +{}, ListenDrops +{} in this namespace",
                        grew.overflows, grew.drops
                    ),
                );
            }
        }

        let look = tracker.looks();
        let totals = &mut self.totals;
        totals.looks = look;
        totals.peak_sockets = totals.peak_sockets.max(sockets);
        let mut candidates: Vec<(Key, u64, &Entry)> = Vec::new();
        for entry in tracker.entries() {
            let Some(row) = row(tracker, entry, look) else {
                continue;
            };
            let history = self.histories.entry(row.key).or_default();
            push(&mut history.gauges, row.gauge(self.options.rates), HISTORY);
            history.look = look;
            if row.listening() {
                let fuller = totals.peak_accept.is_none_or(|(q, _)| row.recv_q > q);
                if fuller {
                    totals.peak_accept = Some((row.recv_q, row.send_q));
                }
                continue;
            }
            totals.peak_recv_q = totals.peak_recv_q.max(row.recv_q);
            totals.peak_send_q = totals.peak_send_q.max(row.send_q);
            let queued = u64::from(row.recv_q) + u64::from(row.send_q);
            history.peak = history.peak.max(queued);
            if let Some(r) = row.rates {
                let moved = (r.bytes_in + r.bytes_out) as f64 * elapsed.as_secs_f64();
                history.moved += moved as u64;
            }
            let score = if self.options.rates {
                history.moved
            } else {
                history.peak
            };
            let least = if totals.busiest.len() < BUSIEST {
                0
            } else {
                totals.busiest.iter().map(|b| b.score).min().unwrap_or(0)
            };
            if score > least {
                candidates.push((row.key, score, entry));
            }
        }
        self.histories.retain(|_, h| h.look == look);
        // Only the best few can enter the list: their text is made once each.
        candidates.sort_unstable_by_key(|(_, score, _)| std::cmp::Reverse(*score));
        candidates.truncate(BUSIEST);
        for (key, score, entry) in candidates {
            if let Some(busy) = self.totals.busiest.iter_mut().find(|b| b.key == key) {
                busy.score = score;
            } else {
                let text = self.describe(&socket(tracker, entry));
                self.totals.busiest.push(Busy { key, score, text });
            }
            let busiest = &mut self.totals.busiest;
            busiest.sort_by_key(|b| std::cmp::Reverse(b.score));
            busiest.truncate(BUSIEST);
        }
        self.dirty = true;
    }

    /// The lines left on the normal screen when the view ends.
    fn summary(&self) -> String {
        let t = &self.totals;
        let mut text = format!(
            "sockscope watch: watched {} ({} look{}): {} socket{} seen, {} opened, {} closed\n",
            units::span(self.started.elapsed()),
            t.looks,
            if t.looks == 1 { "" } else { "s" },
            t.seen,
            if t.seen == 1 { "" } else { "s" },
            t.opened,
            t.closed,
        );
        let _ = write!(
            text,
            "  peaks: {} socket{} at once, Recv-Q {}, Send-Q {}",
            t.peak_sockets,
            if t.peak_sockets == 1 { "" } else { "s" },
            units::bytes(u64::from(t.peak_recv_q)),
            units::bytes(u64::from(t.peak_send_q)),
        );
        if let Some((queue, backlog)) = t.peak_accept {
            let _ = write!(text, ", accept queue {queue}/{backlog}");
        }
        text.push('\n');
        if !t.listen.is_zero() {
            let _ = writeln!(
                text,
                "  listen queue overflows: ListenOverflows {}, ListenDrops {}",
                t.listen.overflows, t.listen.drops
            );
        }
        for (i, busy) in t.busiest.iter().enumerate() {
            let what = if self.options.rates {
                format!("{} moved", units::bytes(busy.score))
            } else {
                format!("queues up to {}", units::bytes(busy.score))
            };
            let head = if i == 0 { "busiest:" } else { "" };
            let _ = writeln!(text, "  {head:8} {} ({what})", busy.text);
        }
        text
    }
}

/// Appends `value`, keeping the last `keep`.
fn push(values: &mut VecDeque<u64>, value: u64, keep: usize) {
    if values.len() == keep {
        values.pop_front();
    }
    values.push_back(value);
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

impl<W: Write> Drop for LiveView<W> {
    fn drop(&mut self) {
        let _ = self.out.write_all(LEAVE);
        let summary = self.summary();
        let _ = self.out.write_all(summary.as_bytes());
        let _ = self.out.flush();
    }
}

impl<W: Write> Sink for LiveView<W> {
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let n = tracker.len();
        self.totals.seen += n as u64;
        self.log(
            at,
            format!("watching: {n} socket{}", if n == 1 { "" } else { "s" }),
        );
        self.record(tracker, at);
        self.frame(tracker)
    }

    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.added += 1;
        self.totals.seen += 1;
        self.totals.opened += 1;
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
        let (local, peer) = self.ends(&removal.socket);
        if self.refiltered && removal.source == Source::Poll {
            self.log(removal.at, format!("- {local} -> {peer} left the filter"));
            return Ok(());
        }
        self.removed += 1;
        self.totals.closed += 1;
        if removal.lifetime.is_none() {
            self.totals.seen += 1;
            self.totals.opened += 1;
        }
        // The state is left out: a destroyed TCP socket is always closed.
        let how = match (removal.lifetime, removal.source) {
            (Some(life), Source::Destroy) => format!("closed after {}", units::age(life)),
            (Some(life), Source::Poll) => format!("gone after {}", units::age(life)),
            (Some(life), Source::Event) => format!("left the filter after {}", units::age(life)),
            (None, _) => "opened and closed between two looks".to_owned(),
        };
        self.log(removal.at, format!("- {local} -> {peer} {how}"));
        Ok(())
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        self.refiltered = false;
        self.record(tracker, at);
        self.frame(tracker)
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        self.log(Stamp::now(), format!("! {message}"));
        Ok(())
    }

    fn refresh(&mut self, tracker: &Tracker) -> io::Result<()> {
        self.frame(tracker)
    }
}

/// The two ends of a socket, as the table writes them.
fn endpoints(socket: &Socket<'_>, names: &mut Names, style: endpoint::Style) -> (String, String) {
    let (local, peer) = endpoint::pair(socket, names, style);
    (
        String::from_utf8_lossy(&local).into_owned(),
        String::from_utf8_lossy(&peer).into_owned(),
    )
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

    /// A typed filter replaces the query's expression (and its bytecode); its states narrow
    /// the states watched, and states outside them are ignored.
    #[test]
    fn a_typed_filter_steers_the_query() {
        let states = StateSet::single(TcpState::Established).with(TcpState::Listen);
        let mut query = Query::new(
            NetidSet::EMPTY.with(Netid::Tcp),
            FamilySet::single(Family::Inet),
            states,
        );
        let steering = Steering::new(&query);
        assert_eq!(steering.0.parse.default_family, Some(Family::Inet));
        let typed = |text: &str| {
            let words = text.split_whitespace().map(str::to_owned).collect();
            filter::parse(&filter::Source::Args(words), &steering.0.parse).unwrap()
        };
        *steering.0.filter.borrow_mut() = Some(typed("state listening sport = :80"));
        steering.steer(&mut query);
        assert!(query.filter.is_some() && query.bytecode.is_some());
        assert_eq!(query.states, StateSet::single(TcpState::Listen));
        // Nothing new: nothing changes.
        steering.steer(&mut query);
        assert!(query.filter.is_some());
        *steering.0.filter.borrow_mut() = Some(typed("state time-wait"));
        steering.steer(&mut query);
        assert!(query.filter.is_none() && query.bytecode.is_none());
        assert_eq!(query.states, states);
        // A family prefix lists that family alone, as on the command line; the next filter
        // without one gives the command line's back.
        let both = Query::new(
            NetidSet::EMPTY.with(Netid::Tcp).with(Netid::Udp),
            FamilySet::single(Family::Inet).with(Family::Inet6),
            states,
        );
        let mut query = both.clone();
        let steering = Steering::new(&query);
        *steering.0.filter.borrow_mut() = Some(typed("src inet6:*"));
        steering.steer(&mut query);
        assert_eq!(query.families, FamilySet::single(Family::Inet6));
        *steering.0.filter.borrow_mut() = Some(typed("sport = :80"));
        steering.steer(&mut query);
        assert_eq!((query.tables, query.families), (both.tables, both.families));
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
