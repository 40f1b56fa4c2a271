//! What the tracker tells: the moments, changes, found and removed sockets and totals it hands
//! to a [`Sink`] (the live view, JSON lines), and its errors.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::Tracker;
use super::entry::Entry;
use crate::procs::Processes;
use crate::socket::{Socket, TcpState};
use crate::source::destroyed::EventError;
use crate::source::query::QueryError;
use crate::sys::clock;
use crate::wire::netlink::DiagError;

/// A moment, on the wall clock (for output) and on the monotonic one (for durations). The wall
/// time is derived from the monotonic one ([`clock::wall`]), so later stamps never print
/// earlier.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub wall: SystemTime,
    pub mono: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp::at(Instant::now())
    }

    pub fn at(mono: Instant) -> Stamp {
        Stamp {
            wall: clock::wall(mono),
            mono,
        }
    }
}

/// Bytes per second through a TCP socket, from the change of tcp_info's `bytes_received` and
/// `bytes_acked` between two looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rates {
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// What moved, each as (before, after).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    pub state: Option<(TcpState, TcpState)>,
    pub recv_q: Option<(u32, u32)>,
    pub send_q: Option<(u32, u32)>,
    pub rates: Option<(Option<Rates>, Option<Rates>)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }
}

/// A socket a look (or the snapshot) listed, as the kernel listed it, with what the tracker
/// knows of it.
pub struct Found<'a> {
    pub entry: &'a Entry,
    /// The whole record, from the dump.
    pub socket: &'a Socket<'a>,
    /// What the look changed (empty for an added socket).
    pub changes: Changes,
    /// With `-N all`: its namespace.
    pub netns: Option<&'a str>,
    /// With `-p` or `-T`: who holds sockets.
    pub processes: Option<&'a Processes>,
    /// A look, or a transition the kernel reported (then the moment given is its own).
    pub source: Source,
}

/// How something was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The kernel's destroy event, as it happened.
    Destroy,
    /// A look listed it, or no longer listed it.
    Poll,
    /// The kernel's own TCP state transition, as it happened
    /// ([`crate::source::transitions`]).
    Event,
}

/// A socket gone.
pub struct Removal<'a> {
    /// The socket as last known: as the destroy event gave it, or as last listed (then only
    /// what the tracker keeps: no details).
    pub socket: Socket<'a>,
    /// When it went: the destroy event's moment, or the look that no longer listed it.
    pub at: Stamp,
    /// Since a look first listed it; `None` when none did (it came and went between two).
    pub lifetime: Option<Duration>,
    /// Listed by the first look: `lifetime` is a lower bound.
    pub seen_since_start: bool,
    pub source: Source,
    /// With `-N all`: its namespace.
    pub netns: Option<&'a str>,
    /// A TCP socket's tcp_info `bytes_acked` and `bytes_received` at its end, from its
    /// destroy event (kept through a TIME-WAIT entry's life).
    pub bytes: Option<(u64, u64)>,
}

/// Where the tracker reports what it finds.
pub trait Sink {
    /// One socket of the first look, as the dump lists it (before [`Sink::snapshot`]).
    fn snapshot_socket(&mut self, _found: &Found<'_>, _at: Stamp) -> io::Result<()> {
        Ok(())
    }
    /// The first look is done: every socket listed has gone to [`Sink::snapshot_socket`].
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()>;
    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()>;
    fn changed(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()>;
    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()>;
    /// The kernel dropped destroy events just before `at` (its buffer overran); a look
    /// follows at once.
    fn overrun(&mut self, at: Stamp) -> io::Result<()> {
        let time = clock::time_of_day(at.wall);
        self.warn(&format!(
            "the kernel dropped socket-destroy events at {time} (they came faster than they \
             were read); a socket that came and went then may be missing"
        ))
    }
    /// The end of an interval: its look is done and reported.
    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()>;
    /// Something worth saying that did not stop the watch.
    fn warn(&mut self, message: &str) -> io::Result<()>;
    /// A batch of news is told: what is held goes out.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("cannot find the processes that hold sockets")]
    Processes(#[from] crate::procs::ScanError),
    /// `-N all`: walking or entering the namespaces.
    #[error(transparent)]
    Netns(#[from] crate::netns::NetnsError),
    /// Kept apart, so that a closed standard output can be told from a failure.
    #[error(transparent)]
    Output(#[from] io::Error),
}

impl From<DiagError> for TrackError {
    fn from(e: DiagError) -> TrackError {
        TrackError::Event(EventError::Diag(e))
    }
}

/// Sockets added and removed since the start, between-look ones included (a socket that came
/// and went between two looks counts in both).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub added: u64,
    pub removed: u64,
}
