//! `sockscope watch`: the sockets a listing selects, followed over time.
//!
//! Every interval one look at the table ([`tracker::Tracker::look`]: one sock_diag dump per
//! table and family, filtered by the kernel), compared with the last look by socket cookie;
//! between looks the kernel's destroy events, so that a socket that opens and closes between
//! two looks is still seen. What is found goes to a [`tracker::Sink`]: the live view on a
//! terminal, JSON lines otherwise.

pub mod clock;
pub mod jsonl;
pub mod live;
pub mod tracker;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::events;
use crate::term;
use crate::wire::events::DestroyEvents;
use crate::wire::netlink::DiagSocket;
use jsonl::JsonLines;
use live::{LiveOptions, LiveView};
use tracker::{Sink, Stamp, TrackError, Tracker};

/// The shortest interval between two looks.
pub const MIN_INTERVAL: Duration = Duration::from_millis(10);

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
}

/// `watch :PORT` is short for both directions of the port: `( sport = :PORT or dport =
/// :PORT )`. Any other filter is left as it is.
pub fn expand_shorthand(expression: Vec<String>) -> Vec<String> {
    match expression.as_slice() {
        [word]
            if word.starts_with(':') && word.len() > 1 && !word.contains(char::is_whitespace) =>
        {
            ["(", "sport", "=", word, "or", "dport", "=", word, ")"]
                .map(str::to_owned)
                .to_vec()
        }
        _ => expression,
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
/// or SIGTERM arrives.
pub fn run(config: &Config, options: &WatchOptions) -> anyhow::Result<Ending> {
    term::catch_interrupts();
    let mut diag = DiagSocket::open()?;
    let groups = events::groups(&config.query);
    let mut warning = None;
    let mut events = if groups.is_empty() {
        None
    } else {
        match DestroyEvents::subscribe(&groups) {
            Ok(events) => Some(events),
            Err(e) => {
                warning = Some(format!(
                    "cannot subscribe to the kernel's socket-destroy events ({:#}); watching \
                     by looking only, so a socket that opens and closes between two looks is \
                     missed",
                    anyhow::Error::new(e)
                ));
                None
            }
        }
    };
    let live = !options.jsonl && io::stdout().is_terminal() && term::addressable();
    let steering = live.then(|| live::Steering::new(&config.query));
    let out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let mut sink: Box<dyn Sink> = if live {
        // Said before the view takes the screen, where it stays readable.
        if let Some(warning) = warning.take() {
            let _ = writeln!(io::stderr(), "sockscope: warning: {warning}");
        }
        Box::new(LiveView::start(
            out,
            LiveOptions {
                title: options.title.clone(),
                interval: options.interval,
                numeric: config.output.numeric,
                show_netid: config.output.show_netid,
                rates: config.output.details.info,
                processes: config.processes.is_some(),
                steering: steering.clone().expect("made for the live view"),
            },
        )?)
    } else {
        Box::new(JsonLines::new(out, config.output.details))
    };
    if let Some(warning) = warning {
        sink.warn(&warning)?;
    }
    let result = watch(
        config,
        options,
        &mut diag,
        events.as_mut(),
        &mut *sink,
        steering.as_ref(),
    );
    // The terminal is put back before main reports an error.
    drop(sink);
    result.map_err(|e| match e {
        // Kept as an io::Error, so that main sees a closed standard output.
        TrackError::Output(e) => anyhow::Error::from(e),
        TrackError::Query(crate::query::QueryError::Output(e)) => anyhow::Error::from(e),
        other => anyhow::Error::from(other).context("watching sockets"),
    })
}

fn watch(
    config: &Config,
    options: &WatchOptions,
    diag: &mut DiagSocket,
    mut events: Option<&mut DestroyEvents>,
    sink: &mut dyn Sink,
    steering: Option<&live::Steering>,
) -> Result<Ending, TrackError> {
    // The live view's `/` may change the filter for the looks that follow.
    let mut query = config.query.clone();
    let query = &mut query;
    let mut tracker = Tracker::new(query, config.output.details.info);
    tracker.look(query, diag, events.as_deref_mut(), sink)?;
    let start = Instant::now();
    let mut intervals = 0u64;
    loop {
        let interval = options.interval.as_nanos().max(1);
        let after = |n: u64| start + Duration::from_nanos((interval * u128::from(n)) as u64);
        let mut next = after(intervals + 1);
        let now = Instant::now();
        if next < now {
            // A look took longer than the interval: the looks that are late are skipped rather
            // than made up.
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
            // The live view may hold a frame back (at most ten a second) until a moment.
            let timeout = steering
                .and_then(|s| s.frame_due(now))
                .map_or(next - now, |due| due.min(next - now));
            let keys = steering.is_some_and(live::Steering::keys);
            let ready = wait(events.as_deref(), keys, timeout).map_err(TrackError::Output)?;
            if ready {
                if let Some(events) = events.as_deref_mut() {
                    tracker.take_events(query, events, sink)?;
                }
            }
            // The view reads the keys waiting; `q` stops as Ctrl-C does.
            sink.refresh(&tracker)?;
            if let Some(steering) = steering {
                steering.steer(query);
            }
        }
        tracker.look(query, diag, events.as_deref_mut(), sink)?;
        intervals += 1;
        sink.tick(&tracker, Stamp::now())?;
        if options.count.is_some_and(|count| intervals >= count) {
            return Ok(Ending::Counted);
        }
    }
}

/// Waits until a destroy event or (on the live view) a key arrives, `timeout` passes, or a
/// signal interrupts; says whether destroy events are waiting. The keys are left for the view
/// to read.
fn wait(events: Option<&DestroyEvents>, keys: bool, timeout: Duration) -> io::Result<bool> {
    let mut fds = [
        libc::pollfd {
            fd: events.map_or(-1, |e| e.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: if keys && io::stdin().is_terminal() {
                libc::STDIN_FILENO
            } else {
                -1
            },
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // Round up, so that the wait does not end just before the deadline and spin.
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128) as libc::c_int;
    // SAFETY: `fds` is a live array of two initialised pollfds for the whole call; poll
    // ignores entries whose descriptor is negative.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(false);
        }
        return Err(e);
    }
    Ok(fds[0].revents != 0)
}
