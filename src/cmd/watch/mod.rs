//! `sockscope watch`: the sockets a listing selects, followed over time.
//!
//! Every interval one look at the table ([`tracker::Tracker::look`]: one sock_diag dump per
//! table and family, filtered by the kernel), compared with the last look by socket cookie;
//! between looks the kernel's destroy events, so that a socket that opens and closes between
//! two looks is still seen. What is found goes to a [`tracker::Sink`]: the live view on a
//! terminal, JSON lines otherwise.

pub mod jsonl;
pub mod live;
pub mod tracker;

use std::collections::{HashMap, HashSet};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::config::{Config, Namespaces};
use crate::filter;
use crate::netns::{self, NsId, Walker};
use crate::socket::Netid;
use crate::source::destroyed;
use crate::source::procnet::ListenCounters;
use crate::source::query::{self, Query, Warnings};
use crate::source::transitions::{self, Interest, Transitions};
use crate::sys::output::{self, Stdout};
use crate::sys::term;
use crate::wire::events::{DestroyEvents, DestroyGroup, EventQueue};
use crate::wire::netlink::DiagSocket;
use jsonl::JsonLines;
use live::keys::Keyboard;
use live::{LiveOptions, LiveView, Reply};
use tracker::{Feeds, Sink, Stamp, TrackError, Tracker};

/// How to watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    pub interval: Duration,
    /// Stop after this many intervals.
    pub count: Option<u64>,
    /// JSON lines even on a terminal.
    pub jsonl: bool,
    /// The command line, for the live view's title.
    pub title: String,
    /// The filter's words as the command line gave them; `None` when it came from a file.
    pub filter: Option<Vec<String>>,
    /// How TCP is followed.
    pub source: Following,
}

/// How TCP is followed (`--source`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Following {
    /// The kernel's transitions where they can be had, else looks (said once).
    Auto,
    /// The kernel's transitions, or an error.
    Events,
    /// Looks only.
    Poll,
}

impl From<crate::cli::SourceArg> for Following {
    fn from(arg: crate::cli::SourceArg) -> Following {
        match arg {
            crate::cli::SourceArg::Auto => Following::Auto,
            crate::cli::SourceArg::Events => Following::Events,
            crate::cli::SourceArg::Poll => Following::Poll,
        }
    }
}

/// How the watch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// `--count` intervals went by.
    Counted,
    /// `q`, Ctrl-C or SIGTERM.
    Stopped,
}

/// Watches until `--count` intervals have passed, `q` is pressed on the live view, or Ctrl-C
/// or SIGTERM arrives (also while the output is blocked: see [`crate::sys::output`]).
pub fn run(config: &Config, options: &WatchOptions) -> anyhow::Result<Ending> {
    term::catch_interrupts();
    let groups = destroyed::groups(&config.query);
    let mut places = Places::new(config.namespaces == Namespaces::All)?;
    let mut warning = None;
    let mut queue = None;
    if !groups.is_empty() {
        let subscribed = EventQueue::new()
            .map_err(anyhow::Error::from)
            .and_then(|mut events| {
                places.subscribe(&groups, &mut events)?;
                Ok(events)
            });
        match subscribed {
            Ok(events) => queue = Some(events),
            Err(e) => {
                warning = Some(format!(
                    "cannot subscribe to the kernel's socket-destroy events ({e:#}); watching \
                     by looking only, so a socket that opens and closes between two looks is \
                     missed"
                ))
            }
        }
    }
    let mut transitions = None;
    if options.source != Following::Poll && config.query.tables.contains(Netid::Tcp) {
        match open_transitions(config) {
            Ok(opened) => transitions = Some(opened),
            Err(e) if options.source == Following::Events => {
                return Err(anyhow::Error::from(e).context("watch: kernel events unavailable"));
            }
            Err(e) => {
                let seconds = options.interval.as_secs_f64();
                let note =
                    format!("watch: kernel events unavailable ({e}); looking every {seconds}s");
                warning = Some(match warning {
                    Some(before) => format!("{before}\nsockscope: {note}"),
                    None => note,
                });
            }
        }
    }
    let live = !options.jsonl && io::stdout().is_terminal() && term::addressable();
    let out = BufWriter::with_capacity(64 * 1024, Stdout);
    let mut report = if live {
        // Said before the view takes the screen, where it stays readable.
        if let Some(warning) = warning.take() {
            let _ = writeln!(io::stderr(), "sockscope: warning: {warning}");
        }
        Report::Live(
            Box::new(LiveView::start(
                out,
                LiveOptions {
                    title: options.title.clone(),
                    filter: options.filter.clone(),
                    interval: options.interval,
                    numeric: config.output.numeric,
                    resolve: config.output.resolve,
                    show_netid: config.output.show_netid,
                    rates: config.output.details.info,
                    processes: config.processes.is_some(),
                    size: term::size().unwrap_or((80, 24)),
                },
            )?),
            Keyboard::stdin(),
        )
    } else {
        Report::Lines(Box::new(JsonLines::new(out, config.output.details)))
    };
    if let Some(warning) = warning {
        report.sink().warn(&warning)?;
    }
    let result = Tracker::new(&config.query, config.output.details.info)
        .with_processes(config.processes)
        .and_then(|mut tracker| {
            let mut watch = Watch {
                // The live view's `/` may change the filter for the looks that follow.
                query: config.query.clone(),
                config,
                options,
                places: &mut places,
                groups: &groups,
                events: queue.as_mut(),
                paused: false,
                transitions: transitions.as_mut(),
                walked: None,
            };
            watch.run(&mut tracker, &mut report)
        });
    // The terminal is put back before main reports an error.
    drop(report);
    match result {
        Ok(ending) => Ok(ending),
        // A signal while the output was blocked: the end asked for.
        Err(TrackError::Output(e)) if output::is_stopped(&e) => Ok(Ending::Stopped),
        // Kept as an io::Error, so that main sees a closed standard output.
        Err(TrackError::Output(e)) => Err(anyhow::Error::from(e)),
        Err(TrackError::Query(crate::source::query::QueryError::Output(e)))
            if output::is_stopped(&e) =>
        {
            Ok(Ending::Stopped)
        }
        Err(TrackError::Query(crate::source::query::QueryError::Output(e))) => {
            Err(anyhow::Error::from(e))
        }
        Err(other) => Err(anyhow::Error::from(other).context("watching sockets")),
    }
}

/// Where a look looks: this namespace, or with `-N all` every one, found again at each look.
struct Places {
    all: Option<AllNamespaces>,
    diag: Option<DiagSocket>,
}

/// `-N all`: the namespaces met so far, by identity, with their index in the tracker.
struct AllNamespaces {
    walker: Walker,
    known: HashMap<NsId, u16>,
    names: Vec<String>,
    /// The namespaces of the latest walk.
    walk: Vec<netns::Namespace>,
    subscribed: HashSet<NsId>,
}

impl Places {
    fn new(all: bool) -> anyhow::Result<Places> {
        Ok(if all {
            Places {
                all: Some(AllNamespaces {
                    walker: Walker::new()?,
                    known: HashMap::new(),
                    names: Vec::new(),
                    walk: Vec::new(),
                    subscribed: HashSet::new(),
                }),
                diag: None,
            }
        } else {
            Places {
                all: None,
                diag: Some(DiagSocket::open()?),
            }
        })
    }

    /// Subscribes to the destroy events of this namespace (with `-N all`, of each namespace
    /// found by the latest walk and not yet subscribed).
    fn subscribe(&mut self, groups: &[DestroyGroup], queue: &mut EventQueue) -> anyhow::Result<()> {
        let Some(all) = &mut self.all else {
            queue.add(DestroyEvents::subscribe(groups)?, 0)?;
            return Ok(());
        };
        if all.walk.is_empty() {
            all.refresh()?;
        }
        let fresh = all.walk.iter().filter(|ns| all.subscribed.insert(ns.id));
        all.walker.visit(fresh, |ns| -> anyhow::Result<()> {
            if let Ok(events) = DestroyEvents::subscribe(groups) {
                queue.add(events, all.known[&ns.id])?;
            }
            Ok(())
        })
    }
}

impl AllNamespaces {
    /// Walks the namespaces again, giving the new ones an index.
    fn refresh(&mut self) -> Result<(), netns::NetnsError> {
        self.walk = netns::all()?.namespaces;
        for ns in &self.walk {
            self.known.entry(ns.id).or_insert_with(|| {
                self.names.push(ns.name.clone());
                (self.names.len() - 1).min(usize::from(u16::MAX)) as u16
            });
        }
        Ok(())
    }
}

/// Where a watch's findings go: the live view, with the keys typed at it, or JSON lines.
enum Report<W: Write> {
    Live(Box<LiveView<W>>, Keyboard),
    Lines(Box<JsonLines<W>>),
}

impl<W: Write> Report<W> {
    fn sink(&mut self) -> &mut dyn Sink {
        match self {
            Report::Live(view, _) => &mut **view,
            Report::Lines(lines) => &mut **lines,
        }
    }

    /// Hands the live view this namespace's listen counters, read at `at`.
    fn listen_counters(&mut self, at: Stamp) {
        if let Report::Live(view, _) = self {
            if let Ok(counters) = ListenCounters::read() {
                view.listen_counters(counters, at);
            }
        }
    }
}

/// With the kernel's transitions, a TCP socket's state needs no look: a look asks for each
/// TCP socket it follows by itself (an exact sock_diag request, answered from the kernel's
/// hash tables) rather than walking the whole TCP table, while they are at most this many or
/// at most one in [`LOOKUP_SHARE`] of the table: asking for a socket costs about what walking
/// that many costs (BENCHMARKS.md).
const LOOKUP_FLOOR: usize = 2_000;
const LOOKUP_SHARE: u64 = 10;

/// How often a look walks the whole TCP table all the same, to find what the transitions
/// cannot say (a TIME-WAIT entry's end is told by lookups too; this is the safety net).
const RECONCILE: Duration = Duration::from_secs(60);

/// What one watch needs, borrowed for its run.
struct Watch<'w> {
    query: Query,
    /// For a filter typed in the live view, read as the command line's was.
    config: &'w Config,
    options: &'w WatchOptions,
    places: &'w mut Places,
    groups: &'w [DestroyGroup],
    events: Option<&'w mut EventQueue>,
    /// The live view's table holds still (space); the looks go on.
    paused: bool,
    /// The kernel's TCP state transitions, where they can be had.
    transitions: Option<&'w mut Transitions>,
    /// When a look last walked the whole TCP table; `None` to make the next one walk it.
    walked: Option<Instant>,
}

impl Watch<'_> {
    fn run<W: Write>(
        &mut self,
        tracker: &mut Tracker,
        report: &mut Report<W>,
    ) -> Result<Ending, TrackError> {
        // The base the listen counters grow from.
        report.listen_counters(Stamp::now());
        let mut overrun = self.look(tracker, report.sink())?;
        self.draw(tracker, report)?;
        let start = Instant::now();
        let mut intervals = 0u64;
        loop {
            let interval = self.options.interval.as_nanos().max(1);
            let after = |n: u64| start + Duration::from_nanos((interval * u128::from(n)) as u64);
            let mut next = after(intervals + 1);
            let now = Instant::now();
            if next < now {
                // A look took longer than the interval: the looks that are late are skipped
                // rather than made up.
                next = after(((now - start).as_nanos() / interval) as u64 + 1);
            }
            loop {
                if term::interrupted() {
                    return Ok(Ending::Stopped);
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                if overrun {
                    // Events were lost: a look at the whole table now finds what they would
                    // have said, as far as it can.
                    self.walked = None;
                    overrun = self.look(tracker, report.sink())?;
                    self.draw(tracker, report)?;
                    continue;
                }
                // The live view may hold a frame back (at most ten a second) until a moment.
                let (frame, keys) = match report {
                    Report::Live(view, keyboard) => (view.frame_due(now), keyboard.open()),
                    Report::Lines(_) => (None, false),
                };
                let timeout = frame.map_or(next - now, |due| due.min(next - now));
                let ready = wait(
                    [
                        self.events.as_deref().map(AsRawFd::as_raw_fd),
                        self.transitions.as_deref().map(AsRawFd::as_raw_fd),
                    ],
                    keys,
                    timeout,
                )
                .map_err(TrackError::Output)?;
                if ready.events {
                    let mut feeds = Feeds {
                        transitions: self.transitions.as_deref_mut(),
                        destroys: self.events.as_deref_mut(),
                    };
                    overrun |= tracker.take_all(&self.query, &mut feeds, report.sink())?;
                    report.sink().flush()?;
                }
                if ready.keys && self.keys(report)? == Reply::Quit {
                    return Ok(Ending::Stopped);
                }
                // The waits are short (see `wait`); the view is redrawn only for news, keys
                // or a resize, or for a frame it held back.
                if ready.woke || frame.is_some() {
                    self.draw(tracker, report)?;
                }
            }
            overrun |= self.look(tracker, report.sink())?;
            intervals += 1;
            let at = Stamp::now();
            report.listen_counters(at);
            report.sink().tick(tracker, at)?;
            self.draw(tracker, report)?;
            if self.options.count.is_some_and(|count| intervals >= count) {
                return Ok(Ending::Counted);
            }
        }
    }

    /// Hands the keys waiting to the live view and does what it answers: [`Reply::Quit`] is
    /// handed back, for the watch to end.
    fn keys<W: Write>(&mut self, report: &mut Report<W>) -> Result<Reply, TrackError> {
        let Report::Live(view, keyboard) = report else {
            return Ok(Reply::Nothing);
        };
        for key in keyboard.read()? {
            match view.key(key) {
                Reply::Nothing => {}
                Reply::Quit => return Ok(Reply::Quit),
                Reply::Pause => self.paused = !self.paused,
                Reply::Filter(words) => match self.config.refilter(&words) {
                    Ok(query) => {
                        self.query = query;
                        view.filtered(Ok(()));
                    }
                    Err(e) => view.filtered(Err(e.to_string())),
                },
            }
        }
        Ok(Reply::Nothing)
    }

    /// Lets the live view draw a frame (one it holds back is drawn when due), at a new size
    /// if the terminal was resized.
    fn draw<W: Write>(&self, tracker: &Tracker, report: &mut Report<W>) -> io::Result<()> {
        let Report::Live(view, _) = report else {
            return Ok(());
        };
        if term::resized() {
            if let Some(size) = term::size() {
                view.resize(size);
            }
        }
        view.draw(tracker, self.paused)
    }

    /// One look, in every place watched; returns whether destroy events were lost.
    fn look(&mut self, tracker: &mut Tracker, sink: &mut dyn Sink) -> Result<bool, TrackError> {
        let query = &self.query;
        if let Some(all) = &mut self.places.all {
            all.refresh()?;
            tracker.set_namespaces(all.names.clone());
            if self.transitions.is_some() {
                let inodes = all.known.iter().map(|(id, &index)| (id.inode, index));
                tracker.set_namespace_inodes(inodes.collect());
            }
            if let Some(events) = self.events.as_deref_mut() {
                // New namespaces' events from now on; one that cannot be joined is only
                // looked at.
                let _ = self.places.subscribe(self.groups, events);
            }
        }
        // With transitions, in one namespace, the TCP sockets followed are asked for one by
        // one, unless they are many or the table is due a walk.
        let due = self.walked.is_none_or(|at| at.elapsed() >= RECONCILE);
        let lookups = match (&self.transitions, &self.places.diag) {
            (Some(_), Some(_)) if query.tables.contains(Netid::Tcp) && !due => {
                let table = crate::source::procnet::tcp_table_size() / LOOKUP_SHARE;
                tracker.tcp_sockets(LOOKUP_FLOOR.max(table as usize))
            }
            _ => None,
        };
        if lookups.is_none() {
            self.walked = Some(Instant::now());
        }
        let places = &mut *self.places;
        let mut dump =
            |observe: &mut dyn FnMut(u16, &crate::socket::Socket<'_>) -> io::Result<()>| {
                dump_places(query, places, lookups.as_deref(), observe)
            };
        let feeds = Feeds {
            transitions: self.transitions.as_deref_mut(),
            destroys: self.events.as_deref_mut(),
        };
        let overrun = tracker.look(query, &mut dump, feeds, sink)?;
        sink.flush()?;
        // What could not be looked into, said once, where the watch says things.
        if let Some(all) = &mut self.places.all {
            for unreached in all.walker.unsaid() {
                sink.warn(&unreached.to_string())?;
            }
        }
        Ok(overrun)
    }
}

/// Dumps the table in each place, handing every socket to `observe` with its namespace;
/// with `tcp`, the TCP table is not walked: each of those sockets is asked for by itself.
fn dump_places(
    query: &Query,
    places: &mut Places,
    tcp: Option<&[crate::socket::Socket<'_>]>,
    observe: &mut dyn FnMut(u16, &crate::socket::Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, TrackError> {
    if let Some(diag) = &mut places.diag {
        let Some(tcp) = tcp else {
            return Ok(query::run(query, diag, &mut |s| observe(0, s))?);
        };
        let mut rest = query.clone();
        rest.tables = rest.tables.without(Netid::Tcp);
        let warnings = if rest.tables.is_empty() {
            Warnings::default()
        } else {
            query::run(&rest, diag, &mut |s| observe(0, s))?
        };
        // A client between SYN-SENT and its first reply has no port to be asked for by yet:
        // what its transitions said stands.
        let portless = |socket: &crate::socket::Socket<'_>| matches!(socket.endpoints, crate::socket::Endpoints::Inet(ends) if ends.local.port() == 0);
        let (unasked, asked): (Vec<_>, Vec<_>) = tcp.iter().cloned().partition(portless);
        for socket in &unasked {
            observe(0, socket)?;
        }
        query::lookup(query, diag, &asked, &mut |s| observe(0, s))?;
        return Ok(warnings);
    }
    let all = places.all.as_mut().expect("one of the two");
    let mut warnings = Warnings::default();
    let mut query = query.clone();
    all.walker
        .visit(&all.walk, |ns| -> Result<(), TrackError> {
            // The ephemeral port range is the namespace's own.
            query.context = filter::Context::from_system();
            let mut diag = DiagSocket::open()?;
            let index = all.known[&ns.id];
            warnings.absorb(query::run(&query, &mut diag, &mut |s| observe(index, s))?);
            Ok(())
        })?;
    Ok(warnings)
}

/// What [`wait`] found.
struct Ready {
    events: bool,
    /// Keys are waiting on standard input.
    keys: bool,
    /// Something woke the wait before its timeout: a descriptor, or a signal (a resize).
    woke: bool,
}

/// Waits until a destroy event, a transition or (on the live view) a key arrives, `timeout`
/// passes, or a signal interrupts; a tenth of a second at most, so that a signal that came
/// just before the wait is not missed for long.
fn wait(events: [Option<RawFd>; 2], keys: bool, timeout: Duration) -> io::Result<Ready> {
    let timeout = timeout.min(Duration::from_millis(100));
    let pollfd = |fd: Option<RawFd>| libc::pollfd {
        fd: fd.unwrap_or(-1),
        events: libc::POLLIN,
        revents: 0,
    };
    let stdin = (keys && io::stdin().is_terminal()).then_some(libc::STDIN_FILENO);
    let mut fds = [pollfd(events[0]), pollfd(events[1]), pollfd(stdin)];
    // Round up, so that the wait does not end just before the deadline and spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a live array of initialised pollfds for the whole call; poll ignores
    // entries whose descriptor is negative.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(Ready {
                events: false,
                keys: false,
                woke: true,
            });
        }
        return Err(e);
    }
    Ok(Ready {
        events: fds[0].revents != 0 || fds[1].revents != 0,
        keys: fds[2].revents != 0,
        woke: n > 0,
    })
}

/// The kernel's TCP transitions for what `config` watches: its namespace (every one with
/// `-N all`) and, where the filter names them, its ports.
fn open_transitions(config: &Config) -> Result<Transitions, transitions::Unavailable> {
    // `-N NAME` was entered before watch began: this thread's namespace is the watched one.
    let netns = match config.namespaces {
        Namespaces::All => None,
        Namespaces::Current | Namespaces::Named(_) => Some(
            transitions::netns_inode(std::path::Path::new("/proc/thread-self/ns/net"))
                .map_err(transitions::Unavailable::NoNetns)?,
        ),
    };
    let ports = config
        .query
        .filter
        .as_ref()
        .and_then(|expr| expr.port_set())
        .unwrap_or_default();
    Transitions::open(&Interest { netns, ports })
}
