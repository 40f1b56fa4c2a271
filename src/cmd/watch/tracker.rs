//! The table over time: each look at it compared with the last, socket by socket, keyed by the
//! kernel's socket cookie, which is never reused.
//!
//! A look is one sock_diag dump (per table and family, with the kernel's bytecode filter; with
//! `-N all`, one per namespace); a socket it lists for the first time is *added*, one whose
//! state, Recv-Q or Send-Q (and with `-i` its byte rates) moved is *changed*, and one it no
//! longer lists is *removed*. Each is reported as the dump lists it, so the first look (the
//! snapshot) streams out rather than being built in memory. Between looks the kernel's destroy
//! events say when a socket goes away, also one that came and went between two looks.
//!
//! A TCP socket that closes first may live on as a FIN-WAIT-2 or TIME-WAIT minisocket with the
//! same cookie: the kernel frees the full socket (a destroy event) and lists the minisocket in
//! its place. So when those states are watched, the destruction of a TCP socket is held until
//! the next look decides: listed again, it changed state; not listed, it was removed when the
//! event said.
//!
//! Memory is what the diff needs and no more: per socket one [`Entry`] of 80 bytes (cookie,
//! state, queues, the endpoints packed, flags), in one vector sorted by cookie; a unix socket's
//! name and, with `-i`, the rates' counters on the side. No copy of the kernel's record is
//! kept. An unchanged socket costs a binary search and a few comparisons per look.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};

use crate::filter;
use crate::procs::{Processes, Scope};
use crate::socket::{
    Details, Endpoints, InetEndpoints, Netid, NetlinkEndpoints, PacketEndpoints, Socket, StateSet,
    TcpState, UnixEndpoints, UnixName,
};
use crate::source::destroyed::{self, EventError};
use crate::source::query::{Query, QueryError, Warnings};
use crate::source::transitions::{Transition, Transitions};
use crate::sys::clock;
use crate::wire::events::{Event, EventQueue};
use crate::wire::netlink::DiagError;

/// A socket's identity: its cookie, or for sockets read from /proc (which have none) a hash of
/// what identifies them there, with the top bit set.
pub type Key = u64;

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

/// Listed by the look under way.
const SEEN: u16 = 1;
/// Added by the latest look.
const ADDED_NOW: u16 = 1 << 1;
/// Changed by the latest look.
const CHANGED_NOW: u16 = 1 << 2;
/// Listed by the first look: it existed before watch started.
const BEFORE_START: u16 = 1 << 3;
/// Destroyed, waiting for the next look (see the module's documentation).
const CLOSING: u16 = 1 << 4;
/// Removed; dropped from the vector at the end of the look.
const GONE: u16 = 1 << 5;
/// Inet endpoints: IPv6.
const V6: u16 = 1 << 6;
/// Inet endpoints: `v6only` known, and its value.
const V6ONLY_KNOWN: u16 = 1 << 7;
const V6ONLY: u16 = 1 << 8;
/// A unix socket with a name (kept on the side), abstract or a path.
const NAMED: u16 = 1 << 9;
const ABSTRACT: u16 = 1 << 10;
/// Added from a transition, not yet listed by a look: its queues, inode and owner are the
/// look's to fill in, which is no change.
const UNLISTED: u16 = 1 << 11;

/// A socket the tracker follows: what the diff needs and what identifies the socket when it
/// is gone, packed (80 bytes).
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: Key,
    /// The endpoints, packed by [`pack`]: two addresses, two ports and the interface for an
    /// inet socket; the peer's inode for a unix one; the address of a packet or netlink one.
    ends: [u8; 40],
    inode: u32,
    /// `u32::MAX` when the kernel did not say.
    uid: u32,
    pub recv_q: u32,
    pub send_q: u32,
    /// When a look first listed it, in milliseconds after the clock's anchor.
    first_seen_ms: u32,
    /// Its namespace, an index into the tracker's (`-N all`).
    pub ns: u16,
    pub netid: Netid,
    pub state: TcpState,
    flags: u16,
}

impl Entry {
    fn new(socket: &Socket<'_>, key: Key, ns: u16, at: Instant) -> Entry {
        let (ends, flags) = pack(socket);
        Entry {
            key,
            ends,
            inode: socket.inode.min(u64::from(u32::MAX)) as u32,
            uid: socket.uid.unwrap_or(u32::MAX),
            recv_q: socket.recv_q,
            send_q: socket.send_q,
            first_seen_ms: since_anchor(at),
            ns,
            netid: socket.netid,
            state: socket.state,
            flags,
        }
    }

    /// Whether the kernel destroyed it and the next look has yet to say what became of it.
    pub fn closing(&self) -> bool {
        self.flags & CLOSING != 0
    }

    /// Whether it was there when watch started (listed by the first look): its lifetime is
    /// then only a lower bound.
    pub fn seen_since_start(&self) -> bool {
        self.flags & BEFORE_START != 0
    }

    /// Whether the latest look added it (not the first look's snapshot).
    pub fn added_now(&self) -> bool {
        self.flags & ADDED_NOW != 0
    }

    /// Whether the latest look changed it ([`Tracker::changes`] says what).
    pub fn changed_now(&self) -> bool {
        self.flags & CHANGED_NOW != 0
    }

    /// When a look first listed it.
    pub fn first_seen(&self) -> Instant {
        clock::anchor_mono() + Duration::from_millis(u64::from(self.first_seen_ms))
    }

    /// How long it has been followed at `now`; with [`Entry::seen_since_start`], a lower
    /// bound of its age.
    pub fn lifetime(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.first_seen())
    }

    /// The socket as last listed, its endpoints borrowing `name` (a unix socket's, from
    /// [`Tracker::socket`]).
    fn socket<'a>(&self, name: Option<&'a [u8]>) -> Socket<'a> {
        Socket {
            netid: self.netid,
            state: self.state,
            recv_q: self.recv_q,
            send_q: self.send_q,
            inode: u64::from(self.inode),
            uid: (self.uid != u32::MAX).then_some(self.uid),
            cookie: (self.key & 1 << 63 == 0).then_some(self.key),
            mark: None,
            cgroup_id: None,
            endpoints: unpack(self, name),
            details: Details::default(),
        }
    }
}

fn since_anchor(at: Instant) -> u32 {
    at.saturating_duration_since(clock::anchor_mono())
        .as_millis()
        .min(u128::from(u32::MAX)) as u32
}

/// Packs the endpoints of `socket` into an entry's 40 bytes and flags.
fn pack(socket: &Socket<'_>) -> ([u8; 40], u16) {
    let mut ends = [0u8; 40];
    let mut flags = 0;
    match socket.endpoints {
        Endpoints::Inet(inet) => {
            for (at, addr) in [(0, inet.local), (16, inet.peer)] {
                match addr.ip() {
                    IpAddr::V4(ip) => ends[at..at + 4].copy_from_slice(&ip.octets()),
                    IpAddr::V6(ip) => {
                        ends[at..at + 16].copy_from_slice(&ip.octets());
                        flags |= V6;
                    }
                }
            }
            ends[32..34].copy_from_slice(&inet.local.port().to_ne_bytes());
            ends[34..36].copy_from_slice(&inet.peer.port().to_ne_bytes());
            ends[36..40].copy_from_slice(&inet.ifindex.to_ne_bytes());
            match inet.v6only {
                Some(true) => flags |= V6ONLY_KNOWN | V6ONLY,
                Some(false) => flags |= V6ONLY_KNOWN,
                None => {}
            }
        }
        Endpoints::Unix(unix) => {
            ends[0..4].copy_from_slice(&unix.peer_inode.to_ne_bytes());
            match unix.name {
                UnixName::Unnamed => {}
                UnixName::Path(_) => flags |= NAMED,
                UnixName::Abstract(_) => flags |= NAMED | ABSTRACT,
            }
        }
        Endpoints::Packet(packet) => {
            ends[0..2].copy_from_slice(&packet.protocol.to_ne_bytes());
            ends[2..6].copy_from_slice(&packet.ifindex.to_ne_bytes());
        }
        Endpoints::Netlink(netlink) => {
            ends[0] = netlink.protocol;
            ends[1] = u8::from(netlink.connected);
            ends[2..6].copy_from_slice(&netlink.portid.to_ne_bytes());
            ends[6..10].copy_from_slice(&netlink.dst_portid.to_ne_bytes());
            ends[10..14].copy_from_slice(&netlink.dst_group.to_ne_bytes());
        }
    }
    (ends, flags)
}

/// The endpoints [`pack`] packed.
fn unpack<'a>(entry: &Entry, name: Option<&'a [u8]>) -> Endpoints<'a> {
    let e = &entry.ends;
    let u16_at = |at: usize| u16::from_ne_bytes([e[at], e[at + 1]]);
    let u32_at = |at: usize| u32::from_ne_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
    match entry.netid {
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => {
            Endpoints::Unix(UnixEndpoints {
                name: match name {
                    Some(name) if entry.flags & ABSTRACT != 0 => UnixName::Abstract(name),
                    Some(name) => UnixName::Path(name),
                    None => UnixName::Unnamed,
                },
                peer_inode: u32_at(0),
            })
        }
        Netid::PacketRaw | Netid::PacketDgram => Endpoints::Packet(PacketEndpoints {
            protocol: u16_at(0),
            ifindex: u32_at(2),
        }),
        Netid::Netlink => Endpoints::Netlink(NetlinkEndpoints {
            protocol: e[0],
            connected: e[1] != 0,
            portid: u32_at(2),
            dst_portid: u32_at(6),
            dst_group: u32_at(10),
        }),
        _ => {
            let ip = |at: usize| -> IpAddr {
                if entry.flags & V6 != 0 {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(&e[at..at + 16]);
                    IpAddr::V6(Ipv6Addr::from(octets))
                } else {
                    IpAddr::V4(Ipv4Addr::new(e[at], e[at + 1], e[at + 2], e[at + 3]))
                }
            };
            Endpoints::Inet(InetEndpoints {
                local: SocketAddr::new(ip(0), u16_at(32)),
                peer: SocketAddr::new(ip(16), u16_at(34)),
                ifindex: u32_at(36),
                v6only: (entry.flags & V6ONLY_KNOWN != 0).then_some(entry.flags & V6ONLY != 0),
            })
        }
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

/// A destruction the next look will confirm.
#[derive(Clone, Copy)]
struct Held {
    /// The socket as the destroy event gave it.
    socket: Entry,
    at: Stamp,
    /// How many looks were done when it arrived.
    after: u64,
    /// Whether a look had listed it (an entry is closing), or not (it came and went).
    listed: bool,
    bytes: Option<(u64, u64)>,
}

/// The rates' state of one socket (`-i`).
#[derive(Clone, Copy, Default)]
struct RateState {
    /// tcp_info's `bytes_received` and `bytes_acked`, and when they were read.
    counters: Option<(u64, u64, Instant)>,
    rates: Option<Rates>,
}

/// Who holds sockets (`-p`, `-T`), scanned again when a look meets a socket it does not know.
struct Owners {
    scope: Scope,
    table: Processes,
    /// The look of the latest scan: at most one per look.
    scanned_in: u64,
}

/// What the kernel tells between looks: its TCP state transitions and its destroy events,
/// where watch has them.
#[derive(Default)]
pub struct Feeds<'f> {
    pub transitions: Option<&'f mut Transitions>,
    pub destroys: Option<&'f mut EventQueue>,
}

pub struct Tracker {
    /// Sorted by key; entries marked GONE are dropped at the end of each look.
    entries: Vec<Entry>,
    /// Added by the look under way, merged into `entries` when its dumps are done.
    pending: Vec<Entry>,
    /// The names of named unix sockets.
    names: HashMap<Key, Box<[u8]>>,
    /// With `-i`.
    rates: Option<HashMap<Key, RateState>>,
    /// What the latest look changed.
    changes: HashMap<Key, Changes>,
    /// Looks done.
    looks: u64,
    /// Sockets followed, those being destroyed left out.
    live: usize,
    /// Keys removed lately, with the look that removed them: a destroy event that comes late
    /// for one of them is not news.
    recent: HashMap<Key, u64>,
    /// Destroy events waiting for the next look.
    held: HashMap<Key, Held>,
    /// The byte counts of TCP sockets that live on as TIME-WAIT or FIN-WAIT-2 entries.
    bytes: HashMap<Key, (u64, u64)>,
    /// The held destructions of TCP sockets no look listed, by namespace and endpoints: such
    /// a socket had no cookie until its destroy event made one, so the TIME-WAIT entry that
    /// takes its place is listed under a cookie of its own.
    unlisted: HashMap<(u16, [u8; 40]), Key>,
    /// Whether a destroyed TCP socket may live on as a listed minisocket.
    defer_tcp: bool,
    totals: Totals,
    /// With `-N all`, the namespaces' names, by index.
    namespaces: Vec<String>,
    /// The index of each namespace by its inode, for the kernel's transitions (which name a
    /// socket's namespace by inode); without `-N all`, every transition is of namespace 0.
    netns_index: Option<HashMap<u64, u16>>,
    /// When the latest look began: a transition from before it is already in what it listed.
    look_began: Option<Instant>,
    owners: Option<Owners>,
    /// The ring buffer's count of lost transitions when last read.
    transitions_lost: u64,
    warned_inconsistent: bool,
    /// Reused from one look to the next.
    gone: Vec<usize>,
    held_gone: Vec<(u64, Key)>,
}

/// What a look dumps: calls its argument with each socket listed and the index of its
/// namespace.
pub type Dump<'d> = dyn FnMut(&mut dyn FnMut(u16, &Socket<'_>) -> io::Result<()>) -> Result<Warnings, TrackError>
    + 'd;

impl Tracker {
    pub fn new(query: &Query, rates: bool) -> Tracker {
        let defer_tcp =
            query.states.contains(TcpState::FinWait2) || query.states.contains(TcpState::TimeWait);
        Tracker {
            entries: Vec::new(),
            pending: Vec::new(),
            names: HashMap::new(),
            rates: rates.then(HashMap::new),
            changes: HashMap::new(),
            looks: 0,
            live: 0,
            recent: HashMap::new(),
            held: HashMap::new(),
            bytes: HashMap::new(),
            unlisted: HashMap::new(),
            defer_tcp,
            totals: Totals::default(),
            namespaces: Vec::new(),
            netns_index: None,
            look_began: None,
            owners: None,
            transitions_lost: 0,
            warned_inconsistent: false,
            gone: Vec::new(),
            held_gone: Vec::new(),
        }
    }

    /// Names the namespaces an index in [`Dump`] stands for (`-N all`): the records then
    /// carry them.
    pub fn set_namespaces(&mut self, names: Vec<String>) {
        self.namespaces = names;
    }

    /// Names each namespace's index by its inode (`-N all` with the kernel's transitions).
    pub fn set_namespace_inodes(&mut self, inodes: HashMap<u64, u16>) {
        self.netns_index = Some(inodes);
    }

    /// Adds the owners of each socket (`-p`, `-T`): one scan now, another when a look meets
    /// a socket it does not know.
    pub fn with_processes(mut self, scope: Option<Scope>) -> Result<Tracker, TrackError> {
        if let Some(scope) = scope {
            self.owners = Some(Owners {
                scope,
                table: Processes::scan(scope)?,
                scanned_in: 0,
            });
        }
        Ok(self)
    }

    /// The process table, if `-p` or `-T` asked for one.
    pub fn processes(&self) -> Option<&Processes> {
        self.owners.as_ref().map(|o| &o.table)
    }

    /// The sockets followed, ordered by cookie (the order the kernel made them in).
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.flags & GONE == 0)
    }

    /// The socket an entry stands for, as last listed (without its details).
    pub fn socket<'t>(&'t self, entry: &Entry) -> Socket<'t> {
        let name = if entry.flags & NAMED != 0 {
            self.names.get(&entry.key).map(|name| &name[..])
        } else {
            None
        };
        entry.socket(name)
    }

    /// What the latest look changed in `entry`.
    pub fn changes(&self, entry: &Entry) -> Changes {
        if entry.changed_now() {
            self.changes.get(&entry.key).copied().unwrap_or_default()
        } else {
            Changes::default()
        }
    }

    /// The byte rates of `entry`, with `-i`, once two looks have read its counters.
    pub fn rates(&self, entry: &Entry) -> Option<Rates> {
        self.rates.as_ref()?.get(&entry.key)?.rates
    }

    /// The namespace of `entry`, with `-N all`.
    pub fn netns(&self, entry: &Entry) -> Option<&str> {
        self.namespace(entry.ns)
    }

    fn namespace(&self, ns: u16) -> Option<&str> {
        self.namespaces.get(usize::from(ns)).map(String::as_str)
    }

    /// The TCP sockets followed, as last known, for a look that asks for each by itself;
    /// `None` when they are more than `limit`.
    pub fn tcp_sockets(&self, limit: usize) -> Option<Vec<Socket<'static>>> {
        let tcp = self
            .entries
            .iter()
            .filter(|e| e.netid == Netid::Tcp && e.flags & GONE == 0);
        if tcp.clone().count() > limit {
            return None;
        }
        Some(tcp.map(|e| e.socket(None)).collect())
    }

    /// How many sockets there are (those being destroyed left out).
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many looks have been done.
    pub fn looks(&self) -> u64 {
        self.looks
    }

    /// Sockets added and removed since the start.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// One look at the table: the transitions and destroy events waiting, the dumps (each
    /// socket reported as listed), the events that came during them, and what the look no
    /// longer listed. The first look is the snapshot. Returns whether the kernel dropped
    /// events.
    pub fn look(
        &mut self,
        query: &Query,
        dump: &mut Dump<'_>,
        mut feeds: Feeds<'_>,
        sink: &mut dyn Sink,
    ) -> Result<bool, TrackError> {
        let mut overrun = self.take_all(query, &mut feeds, sink)?;
        let at = Stamp::now();
        let look = self.looks + 1;
        self.changes.clear();
        self.look_began = Some(at.mono);
        let warnings = dump(&mut |ns, socket| self.observe(socket, ns, look, at, sink))?;
        self.dumped(look, at, warnings, sink)?;
        overrun |= self.take_all(query, &mut feeds, sink)?;
        self.sweep(look, sink)?;
        Ok(overrun)
    }

    /// The kernel's transitions, then its destroy events: a socket's transitions come before
    /// its destruction. Returns whether either was lost.
    pub fn take_all(
        &mut self,
        query: &Query,
        feeds: &mut Feeds<'_>,
        sink: &mut dyn Sink,
    ) -> Result<bool, TrackError> {
        let mut overrun = false;
        if let Some(transitions) = feeds.transitions.as_deref_mut() {
            overrun |= self.take_transitions(query, transitions, sink)?;
        }
        if let Some(events) = feeds.destroys.as_deref_mut() {
            overrun |= self.take_events(query, events, sink)?;
        }
        Ok(overrun)
    }

    /// Applies the transitions waiting in the ring buffer; returns whether the ring buffer
    /// overflowed since the last call (then reported to the sink).
    pub fn take_transitions(
        &mut self,
        query: &Query,
        transitions: &mut Transitions,
        sink: &mut dyn Sink,
    ) -> Result<bool, TrackError> {
        let (now, now_ns) = (Instant::now(), clock::monotonic_ns());
        transitions.drain(|t| -> Result<(), TrackError> {
            // A record the kernel wrote is whole; a short one is a bug, not news.
            if let Ok(t) = t {
                let at = now
                    .checked_sub(Duration::from_nanos(now_ns.saturating_sub(t.at_ns)))
                    .unwrap_or(now);
                self.transition(query, &t, at, sink)?;
            }
            Ok(())
        })?;
        let lost = transitions.lost().unwrap_or(0);
        if lost > self.transitions_lost {
            self.transitions_lost = lost;
            sink.overrun(Stamp::now())?;
            return Ok(true);
        }
        Ok(false)
    }

    /// One transition of a TCP socket, at `at`.
    fn transition(
        &mut self,
        query: &Query,
        t: &Transition,
        at: Instant,
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        // The latest look listed what happened before it began.
        if self.look_began.is_none_or(|began| at < began) {
            return Ok(());
        }
        let ns = match &self.netns_index {
            None => 0,
            Some(index) => match index.get(&t.netns) {
                Some(&ns) => ns,
                // A namespace the latest walk did not know: the next look finds its sockets.
                None => return Ok(()),
            },
        };
        let key = t.cookie & !(1 << 63);
        let stamp = Stamp::at(at);
        let found = self.entries.binary_search_by_key(&key, |e| e.key);
        let existing = found.ok().filter(|&i| self.entries[i].flags & GONE == 0);
        if t.new == TcpState::Close {
            // The destroy event that follows says the rest (and a TIME-WAIT entry may take
            // the socket's place under the same cookie): the state it closed from is kept.
            if let Some(i) = existing {
                self.entries[i].state = t.old;
            }
            return Ok(());
        }
        let socket = transition_socket(t, key);
        let matches = query.states.contains(t.new)
            && filter::wanted(query.filter.as_ref(), &socket, &query.context);
        match existing {
            Some(i) if self.entries[i].flags & CLOSING != 0 => Ok(()),
            Some(i) if matches => {
                let entry = &mut self.entries[i];
                // A client end added at SYN-SENT had no local port yet.
                if let Endpoints::Inet(ends) = unpack(entry, None) {
                    if ends.local.port() == 0 && t.sport != 0 {
                        let (packed, flags) = pack(&socket);
                        entry.ends = packed;
                        entry.flags = (entry.flags & !(V6 | V6ONLY_KNOWN | V6ONLY)) | flags;
                    }
                }
                let before = entry.state;
                if before == t.new {
                    return Ok(());
                }
                entry.state = t.new;
                let changes = Changes {
                    state: Some((before, t.new)),
                    ..Changes::default()
                };
                let entry = self.entries[i];
                let socket = self.socket(&entry);
                sink.changed(
                    &Found {
                        entry: &entry,
                        socket: &socket,
                        changes,
                        netns: self.namespace(entry.ns),
                        processes: self.owners.as_ref().map(|o| &o.table),
                        source: Source::Event,
                    },
                    stamp,
                )?;
                Ok(())
            }
            Some(i) => {
                // It left the states or the filter watched.
                let mut entry = self.entries[i];
                entry.state = t.new;
                sink.removed(&Removal {
                    socket: self.socket(&entry),
                    at: stamp,
                    lifetime: Some(entry.lifetime(at)),
                    seen_since_start: entry.seen_since_start(),
                    source: Source::Event,
                    netns: self.namespace(entry.ns),
                    bytes: None,
                })?;
                self.forget(i);
                Ok(())
            }
            None if matches && !self.recent.contains_key(&key) => {
                // Born (or come into the filter) while watched: its first state, at the
                // kernel's moment, and its lifetime counted from here.
                let mut entry = Entry::new(&socket, key, ns, at);
                entry.flags |= UNLISTED;
                let i = found.unwrap_or_else(|i| i);
                match found {
                    // A removed entry still in the vector until the look ends.
                    Ok(i) => self.entries[i] = entry,
                    Err(i) => self.entries.insert(i, entry),
                }
                self.live += 1;
                self.totals.added += 1;
                if let Some(rates) = &mut self.rates {
                    rates.insert(key, RateState::default());
                }
                let entry = self.entries[i];
                let socket = self.socket(&entry);
                sink.added(
                    &Found {
                        entry: &entry,
                        socket: &socket,
                        changes: Changes::default(),
                        netns: self.namespace(entry.ns),
                        processes: self.owners.as_ref().map(|o| &o.table),
                        source: Source::Event,
                    },
                    stamp,
                )?;
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Ends the dumps of look `look`.
    fn dumped(
        &mut self,
        look: u64,
        at: Stamp,
        warnings: Warnings,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        self.merge();
        self.looks = look;
        if warnings.inconsistent && !self.warned_inconsistent {
            self.warned_inconsistent = true;
            sink.warn(
                "a socket table changed while the kernel was listing it; a look may miss a \
                 socket, which then shows as removed and added again",
            )?;
        }
        if look == 1 {
            sink.snapshot(self, at)?;
        }
        Ok(())
    }

    /// Compares one listed socket with what the last look saw, and reports it.
    fn observe(
        &mut self,
        socket: &Socket<'_>,
        ns: u16,
        look: u64,
        at: Stamp,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let key = key(socket);
        let counters = match &self.rates {
            Some(_) => socket.details.tcp_info.map(|info| {
                let info = info.get();
                (info.bytes_received.get(), info.bytes_acked.get(), at.mono)
            }),
            None => None,
        };
        let found = self.entries.binary_search_by_key(&key, |e| e.key);
        let index = match found {
            Ok(i) if self.entries[i].flags & (GONE | SEEN) == 0 => i,
            Ok(i) if self.entries[i].flags & SEEN != 0 => return Ok(()),
            _ => return self.add(socket, key, ns, look, at, counters, found.ok(), sink),
        };
        let entry = &mut self.entries[index];
        entry.flags = (entry.flags & !(ADDED_NOW | CHANGED_NOW)) | SEEN;
        if entry.flags & CLOSING != 0 {
            // Listed again after its destroy event: a minisocket took its place, and the
            // socket's last byte counts stay for its removal.
            entry.flags &= !CLOSING;
            if let Some(held) = self.held.remove(&key) {
                if let Some(bytes) = held.bytes {
                    self.bytes.insert(key, bytes);
                }
            }
            self.live += 1;
        }
        if entry.flags & UNLISTED != 0 {
            // Born from a transition: what only a listing says (inode, owner, a listener's
            // backlog) is filled in, silently; a state or a queue that moved since birth (a
            // TIME-WAIT entry in its place, bytes waiting) is a change.
            let kept = entry.flags & !(UNLISTED | V6 | V6ONLY_KNOWN | V6ONLY);
            let born = *entry;
            *entry = Entry::new(socket, key, born.ns, at.mono);
            entry.first_seen_ms = born.first_seen_ms;
            entry.state = born.state;
            entry.recv_q = born.recv_q;
            if born.state != TcpState::Listen {
                entry.send_q = born.send_q;
            }
            entry.flags |= kept;
        }
        let mut changes = Changes::default();
        if entry.state != socket.state {
            changes.state = Some((entry.state, socket.state));
        }
        if entry.recv_q != socket.recv_q {
            changes.recv_q = Some((entry.recv_q, socket.recv_q));
        }
        if entry.send_q != socket.send_q {
            changes.send_q = Some((entry.send_q, socket.send_q));
        }
        if let Some(rates) = &mut self.rates {
            let state = rates.entry(key).or_default();
            let new = match (state.counters, counters) {
                (Some((rx0, tx0, t0)), Some((rx1, tx1, t1))) if t1 > t0 => {
                    let per_second = |delta: u64| {
                        let nanos = (t1 - t0).as_nanos().max(1);
                        (u128::from(delta) * 1_000_000_000 / nanos) as u64
                    };
                    Some(Rates {
                        bytes_in: per_second(rx1.saturating_sub(rx0)),
                        bytes_out: per_second(tx1.saturating_sub(tx0)),
                    })
                }
                _ => None,
            };
            state.counters = counters;
            // A first rate of zero is no news; a socket that stops reporting keeps its last.
            let news = match (state.rates, new) {
                (old, Some(new)) if old != Some(new) => old.is_some() || new != Rates::default(),
                _ => false,
            };
            if news {
                changes.rates = Some((state.rates, new));
            }
            if new.is_some() {
                state.rates = new;
            }
        }
        if changes.is_empty() {
            return Ok(());
        }
        entry.state = socket.state;
        entry.recv_q = socket.recv_q;
        entry.send_q = socket.send_q;
        entry.flags |= CHANGED_NOW;
        self.changes.insert(key, changes);
        let entry = &self.entries[index];
        let found = Found {
            entry,
            socket,
            changes,
            netns: self.namespaces.get(usize::from(ns)).map(String::as_str),
            processes: self.owners.as_ref().map(|o| &o.table),
            source: Source::Poll,
        };
        if look == 1 {
            sink.snapshot_socket(&found, at)
        } else {
            sink.changed(&found, at)
        }
    }

    /// A socket no look listed before (or one removed and listed again).
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        socket: &Socket<'_>,
        key: Key,
        ns: u16,
        look: u64,
        at: Stamp,
        counters: Option<(u64, u64, Instant)>,
        removed: Option<usize>,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        self.recent.remove(&key);
        if look > 1
            && socket.netid == Netid::Tcp
            && matches!(socket.state, TcpState::TimeWait | TcpState::FinWait2)
            && !self.unlisted.is_empty()
        {
            // The socket a destroy event named went on as this entry: one socket, added
            // now under the entry's cookie, never removed as the other.
            if let Some(before) = self.unlisted.remove(&(ns, pack(socket).0)) {
                if let Some(bytes) = self.held.remove(&before).and_then(|held| held.bytes) {
                    self.bytes.insert(key, bytes);
                }
            }
        }
        let mut entry = Entry::new(socket, key, ns, at.mono);
        entry.flags |= SEEN | if look == 1 { BEFORE_START } else { ADDED_NOW };
        if let Endpoints::Unix(UnixEndpoints {
            name: UnixName::Path(name) | UnixName::Abstract(name),
            ..
        }) = socket.endpoints
        {
            self.names.insert(key, name.into());
        }
        if let Some(rates) = &mut self.rates {
            rates.insert(
                key,
                RateState {
                    counters,
                    rates: None,
                },
            );
        }
        self.live += 1;
        if look > 1 {
            self.totals.added += 1;
        }
        if let Some(owners) = &mut self.owners {
            let unknown = socket.inode != 0 && owners.table.owners(socket.inode).next().is_none();
            if unknown && look > 1 && owners.scanned_in != look {
                owners.scanned_in = look;
                if let Ok(table) = Processes::scan(owners.scope) {
                    owners.table = table;
                }
            }
        }
        // A socket removed earlier (still in the vector until the look ends) is revived in
        // place; a new one waits in `pending` until the dumps are done.
        let entry = match removed {
            Some(i) => {
                self.entries[i] = entry;
                &self.entries[i]
            }
            None => {
                self.pending.push(entry);
                &self.pending[self.pending.len() - 1]
            }
        };
        let found = Found {
            entry,
            socket,
            changes: Changes::default(),
            netns: self.namespaces.get(usize::from(ns)).map(String::as_str),
            processes: self.owners.as_ref().map(|o| &o.table),
            source: Source::Poll,
        };
        if look == 1 {
            sink.snapshot_socket(&found, at)
        } else {
            sink.added(&found, at)
        }
    }

    /// Moves the entries the look added into the sorted vector, in place.
    fn merge(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable_by_key(|e| e.key);
        self.pending.dedup_by_key(|e| e.key);
        if self.entries.is_empty() {
            std::mem::swap(&mut self.entries, &mut self.pending);
            self.pending = Vec::new();
            return;
        }
        let (n, m) = (self.entries.len(), self.pending.len());
        self.entries.reserve_exact(m);
        self.entries.extend_from_slice(&self.pending);
        let (mut i, mut j, mut k) = (n, m, n + m);
        while j > 0 {
            k -= 1;
            if i > 0 && self.entries[i - 1].key > self.pending[j - 1].key {
                self.entries[k] = self.entries[i - 1];
                i -= 1;
            } else {
                self.entries[k] = self.pending[j - 1];
                j -= 1;
            }
        }
        self.pending.clear();
    }

    /// Reads the destroy events queued and reports or holds each; returns whether the kernel
    /// dropped some (then reported to the sink).
    pub fn take_events(
        &mut self,
        query: &Query,
        events: &mut EventQueue,
        sink: &mut dyn Sink,
    ) -> Result<bool, TrackError> {
        let mut overrun = false;
        events.take(|event| -> Result<(), TrackError> {
            match event {
                Event::Destroyed {
                    group,
                    payload,
                    at,
                    source,
                } => {
                    let socket = destroyed::decode(group, payload)?;
                    self.destroyed_socket(query, socket, source, Stamp::at(at), sink)?;
                }
                Event::Overrun { at, .. } => {
                    // One line per burst of overruns is enough.
                    if !overrun {
                        sink.overrun(Stamp::at(at))?;
                    }
                    overrun = true;
                }
            }
            Ok(())
        })?;
        Ok(overrun)
    }

    /// A socket the kernel destroyed at `at`.
    fn destroyed_socket(
        &mut self,
        query: &Query,
        socket: Socket<'_>,
        ns: u16,
        at: Stamp,
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        let key = key(&socket);
        if self.recent.contains_key(&key) || self.held.contains_key(&key) {
            return Ok(());
        }
        let defer = self.defer_tcp && socket.netid == Netid::Tcp;
        let netns = self.namespaces.get(usize::from(ns)).map(String::as_str);
        let found = self.entries.binary_search_by_key(&key, |e| e.key);
        // A connection's byte counts; a listener's say nothing.
        let was_listening = found.is_ok_and(|i| self.entries[i].state == TcpState::Listen);
        let bytes = tcp_bytes(&socket).filter(|_| !was_listening);
        if let Ok(i) = found {
            let entry = self.entries[i];
            if entry.flags & GONE != 0 {
                return Ok(());
            }
            if defer {
                self.entries[i].flags |= CLOSING;
                self.live -= 1;
                self.held.insert(
                    key,
                    Held {
                        socket: Entry::new(&socket, key, ns, entry.first_seen()),
                        at,
                        after: self.looks,
                        listed: true,
                        bytes,
                    },
                );
                return Ok(());
            }
            sink.removed(&Removal {
                socket,
                at,
                lifetime: Some(entry.lifetime(at.mono)),
                seen_since_start: entry.seen_since_start(),
                source: Source::Destroy,
                netns,
                bytes,
            })?;
            self.forget(i);
        } else if filter::wanted(query.filter.as_ref(), &socket, &query.context)
            && might_be_listed(query, &socket)
        {
            if defer {
                let entry = Entry::new(&socket, key, ns, at.mono);
                self.unlisted.insert((ns, entry.ends), key);
                self.held.insert(
                    key,
                    Held {
                        socket: entry,
                        at,
                        after: self.looks,
                        listed: false,
                        bytes,
                    },
                );
                return Ok(());
            }
            self.recent.insert(key, self.looks);
            self.totals.added += 1;
            self.totals.removed += 1;
            sink.removed(&Removal {
                socket,
                at,
                lifetime: None,
                seen_since_start: false,
                source: Source::Destroy,
                netns,
                bytes,
            })?;
        }
        Ok(())
    }

    /// Removes what look `look` did not list, settles the destructions held for it, and drops
    /// the removed entries.
    fn sweep(&mut self, look: u64, sink: &mut dyn Sink) -> Result<(), TrackError> {
        self.gone.clear();
        for (i, entry) in self.entries.iter_mut().enumerate() {
            if entry.flags & GONE != 0 {
                continue;
            }
            if entry.flags & SEEN != 0 {
                entry.flags &= !SEEN;
                continue;
            }
            // Born from a transition while the look's dumps ran or after them: theirs to
            // list next time.
            let began = self.look_began.unwrap_or_else(clock::anchor_mono);
            if entry.flags & UNLISTED != 0 && entry.first_seen() + Duration::from_millis(1) >= began
            {
                continue;
            }
            let waiting = entry.flags & CLOSING != 0
                && self.held.get(&entry.key).is_some_and(|h| h.after >= look);
            if !waiting {
                self.gone.push(i);
            }
        }
        let now = Stamp::now();
        for g in 0..self.gone.len() {
            let i = self.gone[g];
            let entry = self.entries[i];
            let held = if entry.flags & CLOSING != 0 {
                self.held.remove(&entry.key)
            } else {
                None
            };
            let removal = match &held {
                Some(held) => Removal {
                    socket: held.socket.socket(None),
                    at: held.at,
                    lifetime: Some(entry.lifetime(held.at.mono)),
                    seen_since_start: entry.seen_since_start(),
                    source: Source::Destroy,
                    netns: self.namespace(entry.ns),
                    bytes: held.bytes,
                },
                None => Removal {
                    socket: self.socket(&entry),
                    at: now,
                    lifetime: Some(entry.lifetime(now.mono)),
                    seen_since_start: entry.seen_since_start(),
                    source: Source::Poll,
                    netns: self.namespace(entry.ns),
                    bytes: self.bytes.get(&entry.key).copied(),
                },
            };
            sink.removed(&removal)?;
            self.forget(i);
        }
        self.held_gone.clear();
        for (key, held) in &self.held {
            if !held.listed && held.after < look {
                self.held_gone.push((held.after, *key));
            }
        }
        self.held_gone.sort_unstable();
        for g in 0..self.held_gone.len() {
            let key = self.held_gone[g].1;
            let held = self.held.remove(&key).expect("listed above");
            self.unlisted.remove(&(held.socket.ns, held.socket.ends));
            // Listed by this look (a minisocket), it was reported as added.
            let listed = self
                .entries
                .binary_search_by_key(&key, |e| e.key)
                .is_ok_and(|i| self.entries[i].flags & GONE == 0);
            if !listed {
                self.recent.insert(key, look);
                self.totals.added += 1;
                self.totals.removed += 1;
                sink.removed(&Removal {
                    socket: held.socket.socket(None),
                    at: held.at,
                    lifetime: None,
                    seen_since_start: false,
                    source: Source::Destroy,
                    netns: self.namespace(held.socket.ns),
                    bytes: held.bytes,
                })?;
            }
        }
        self.entries.retain(|e| e.flags & GONE == 0);
        self.recent.retain(|_, removed| *removed + 2 >= look);
        Ok(())
    }

    /// Marks entry `i` removed (it leaves the vector at the end of the look), remembering its
    /// key for a while.
    fn forget(&mut self, i: usize) {
        let entry = &mut self.entries[i];
        if entry.flags & CLOSING == 0 {
            self.live -= 1;
        }
        entry.flags = (entry.flags & !CLOSING) | GONE;
        let key = entry.key;
        self.totals.removed += 1;
        if entry.flags & NAMED != 0 {
            self.names.remove(&key);
        }
        if let Some(rates) = &mut self.rates {
            rates.remove(&key);
        }
        self.bytes.remove(&key);
        self.recent.insert(key, self.looks);
    }
}

/// Whether a socket destroyed before any look listed it could have been listed: in one of the
/// states asked for. A destroyed TCP socket is always closed, so its state is guessed from its
/// peer: without one it was listening or only bound, with one connected. A UDP socket keeps
/// its state (UNCONN or ESTAB).
fn might_be_listed(query: &Query, socket: &Socket<'_>) -> bool {
    let was = match (socket.netid, socket.endpoints) {
        (Netid::Tcp, Endpoints::Inet(ends)) if ends.peer.port() == 0 => {
            StateSet::single(TcpState::Listen)
                .with(TcpState::Close)
                .with(TcpState::BoundInactive)
        }
        (Netid::Tcp, _) => StateSet::CONNECTED,
        _ => StateSet::single(socket.state),
    };
    !query.states.intersection(was).is_empty()
}

/// tcp_info's `bytes_acked` and `bytes_received`, where the record has them.
fn tcp_bytes(socket: &Socket<'_>) -> Option<(u64, u64)> {
    let info = socket.details.tcp_info?;
    let info = info.get();
    Some((info.bytes_acked.get(), info.bytes_received.get()))
}

/// The socket a transition describes, in its new state: no queues, no inode, and at SYN-SENT
/// no local port yet (the kernel picks it just after).
fn transition_socket(t: &Transition, key: Key) -> Socket<'static> {
    Socket {
        netid: Netid::Tcp,
        state: t.new,
        recv_q: 0,
        send_q: 0,
        inode: 0,
        uid: None,
        cookie: Some(key),
        mark: None,
        cgroup_id: None,
        endpoints: Endpoints::Inet(InetEndpoints {
            local: SocketAddr::new(t.src, t.sport),
            peer: SocketAddr::new(t.dst, t.dport),
            ifindex: 0,
            v6only: None,
        }),
        details: Details::default(),
    }
}

/// The key of a socket: its cookie, or a hash for sockets read from /proc.
fn key(socket: &Socket<'_>) -> Key {
    if let Some(cookie) = socket.cookie {
        return cookie & !(1 << 63);
    }
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    socket.netid.hash(&mut hasher);
    socket.inode.hash(&mut hasher);
    match socket.endpoints {
        Endpoints::Inet(ends) => {
            ends.local.hash(&mut hasher);
            ends.peer.hash(&mut hasher);
        }
        Endpoints::Unix(ends) => {
            if let UnixName::Path(name) | UnixName::Abstract(name) = ends.name {
                name.hash(&mut hasher);
            }
        }
        Endpoints::Packet(ends) => ends.hash(&mut hasher),
        Endpoints::Netlink(ends) => ends.hash(&mut hasher),
    }
    hasher.finish() | 1 << 63
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::filter::Context;
    use crate::socket::{Details, FamilySet, InetEndpoints, NetidSet, StateSet};
    use crate::wire::Extensible;
    use crate::wire::tcp::TcpInfo;

    /// What a sink was told, one word per call.
    #[derive(Default)]
    struct Recorder(Vec<String>);

    impl Sink for Recorder {
        fn snapshot(&mut self, tracker: &Tracker, _: Stamp) -> std::io::Result<()> {
            self.0.push(format!("snapshot {}", tracker.len()));
            Ok(())
        }
        fn added(&mut self, found: &Found<'_>, _: Stamp) -> std::io::Result<()> {
            let s = found.socket;
            self.0
                .push(format!("added {} {}", s.cookie.unwrap(), s.state.name()));
            Ok(())
        }
        fn changed(&mut self, found: &Found<'_>, _: Stamp) -> std::io::Result<()> {
            let s = found.socket;
            self.0
                .push(format!("changed {} {}", s.cookie.unwrap(), s.state.name()));
            Ok(())
        }
        fn removed(&mut self, removal: &Removal<'_>) -> std::io::Result<()> {
            let how = match (removal.source, removal.lifetime) {
                (Source::Destroy, Some(_)) => "destroy",
                (Source::Destroy, None) => "unseen",
                (Source::Poll, _) => "poll",
                (Source::Event, _) => "event",
            };
            let cookie = removal.socket.cookie.unwrap();
            self.0.push(format!("removed {cookie} {how}"));
            Ok(())
        }
        fn tick(&mut self, _: &Tracker, _: Stamp) -> std::io::Result<()> {
            Ok(())
        }
        fn warn(&mut self, _: &str) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn query(states: StateSet) -> Query {
        Query {
            context: Context {
                ephemeral: (32768, 60999),
            },
            ..Query::new(
                NetidSet::EMPTY.with(Netid::Tcp).with(Netid::Udp),
                FamilySet::single(crate::socket::Family::Inet),
                states,
            )
        }
    }

    fn socket(netid: Netid, cookie: u64, state: TcpState, recv_q: u32) -> Socket<'static> {
        let addr = |text: &str| text.parse::<SocketAddr>().unwrap();
        Socket {
            netid,
            state,
            recv_q,
            send_q: 0,
            inode: 0,
            uid: Some(0),
            cookie: Some(cookie),
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Inet(InetEndpoints {
                local: addr("127.0.0.1:55000"),
                peer: addr(&format!("127.0.0.1:{}", 40000 + cookie)),
                ifindex: 0,
                v6only: None,
            }),
            details: Details::default(),
        }
    }

    /// One look listing `sockets`, with `between` destroyed after its dump.
    fn look(
        tracker: &mut Tracker,
        query: &Query,
        sockets: &[Socket<'_>],
        between: &[Socket<'_>],
        sink: &mut Recorder,
    ) {
        let at = Stamp::now();
        let look = tracker.looks + 1;
        tracker.changes.clear();
        for socket in sockets {
            tracker.observe(socket, 0, look, at, sink).unwrap();
        }
        tracker.dumped(look, at, Warnings::default(), sink).unwrap();
        for socket in between {
            tracker
                .destroyed_socket(query, *socket, 0, Stamp::now(), sink)
                .unwrap();
        }
        tracker.sweep(look, sink).unwrap();
    }

    /// What the memory target rests on: 80 bytes a socket.
    #[test]
    fn an_entry_is_small() {
        assert!(
            std::mem::size_of::<Entry>() <= 80,
            "{}",
            std::mem::size_of::<Entry>()
        );
    }

    #[test]
    fn added_changed_removed() {
        let q = query(StateSet::DEFAULT);
        let (mut tracker, mut sink) = (Tracker::new(&q, false), Recorder::default());
        let estab = socket(Netid::Tcp, 1, TcpState::Established, 0);
        look(&mut tracker, &q, &[], &[], &mut sink);
        look(&mut tracker, &q, &[estab], &[], &mut sink);
        look(&mut tracker, &q, &[estab], &[], &mut sink);
        let queued = socket(Netid::Tcp, 1, TcpState::Established, 10);
        look(&mut tracker, &q, &[queued], &[], &mut sink);
        assert_eq!(tracker.len(), 1);
        look(&mut tracker, &q, &[], &[], &mut sink);
        assert!(tracker.is_empty());
        assert_eq!(
            sink.0,
            [
                "snapshot 0",
                "added 1 ESTAB",
                "changed 1 ESTAB",
                "removed 1 poll"
            ]
        );
    }

    /// A destroyed TCP socket listed again (as a FIN-WAIT-2 minisocket) changed state; one
    /// not listed again was removed when the event said.
    #[test]
    fn tcp_destructions_wait_for_the_next_look() {
        let q = query(StateSet::DEFAULT);
        let (mut tracker, mut sink) = (Tracker::new(&q, false), Recorder::default());
        let (a, b) = (
            socket(Netid::Tcp, 1, TcpState::Established, 0),
            socket(Netid::Tcp, 2, TcpState::Established, 0),
        );
        look(&mut tracker, &q, &[a, b], &[], &mut sink);
        let closed = |cookie| socket(Netid::Tcp, cookie, TcpState::Close, 0);
        look(
            &mut tracker,
            &q,
            &[a, b],
            &[closed(1), closed(2)],
            &mut sink,
        );
        assert_eq!(tracker.len(), 0, "both being destroyed");
        let minisocket = socket(Netid::Tcp, 1, TcpState::FinWait2, 0);
        look(&mut tracker, &q, &[minisocket], &[], &mut sink);
        assert_eq!(
            sink.0,
            ["snapshot 2", "changed 1 FIN-WAIT-2", "removed 2 destroy"]
        );
        assert_eq!(tracker.len(), 1);
        // A late event for a socket already removed is no news.
        look(&mut tracker, &q, &[minisocket], &[closed(2)], &mut sink);
        assert_eq!(sink.0.len(), 3);
    }

    /// Without FIN-WAIT-2 and TIME-WAIT watched, or for UDP, a destruction is reported at
    /// once; a socket no look listed is reported if it could have been listed.
    #[test]
    fn other_destructions_are_reported_at_once() {
        let q = query(StateSet::single(TcpState::Established));
        let (mut tracker, mut sink) = (Tracker::new(&q, false), Recorder::default());
        let a = socket(Netid::Tcp, 1, TcpState::Established, 0);
        look(&mut tracker, &q, &[a], &[], &mut sink);
        let closed = |cookie| socket(Netid::Tcp, cookie, TcpState::Close, 0);
        tracker
            .destroyed_socket(&q, closed(1), 0, Stamp::now(), &mut sink)
            .unwrap();
        // Connected, never listed: reported.
        tracker
            .destroyed_socket(&q, closed(3), 0, Stamp::now(), &mut sink)
            .unwrap();
        // A listener (no peer) is not in the states watched: not reported.
        let mut listener = closed(4);
        if let Endpoints::Inet(ends) = &mut listener.endpoints {
            ends.peer = "0.0.0.0:0".parse().unwrap();
        }
        tracker
            .destroyed_socket(&q, listener, 0, Stamp::now(), &mut sink)
            .unwrap();
        // An unconnected UDP socket neither.
        let udp = socket(Netid::Udp, 5, TcpState::Close, 0);
        tracker
            .destroyed_socket(&q, udp, 0, Stamp::now(), &mut sink)
            .unwrap();
        assert_eq!(
            sink.0,
            ["snapshot 1", "removed 1 destroy", "removed 3 unseen"]
        );
        look(&mut tracker, &q, &[], &[], &mut sink);
        assert_eq!(sink.0.len(), 3);
    }

    /// With -i a moving byte count is a rate per second; a first rate of zero is no change.
    #[test]
    fn rates_from_tcp_info() {
        let q = query(StateSet::DEFAULT);
        let (mut tracker, mut sink) = (Tracker::new(&q, true), Recorder::default());
        let info = |received: u64| {
            let mut info = vec![0u8; std::mem::size_of::<TcpInfo>()];
            let offset = std::mem::offset_of!(TcpInfo, bytes_received);
            info[offset..offset + 8].copy_from_slice(&received.to_ne_bytes());
            info
        };
        let (still, moved) = (info(1000), info(1000 + 50_000));
        let mut a = socket(Netid::Tcp, 1, TcpState::Established, 0);
        a.details.tcp_info = Some(Extensible::parse(&still));
        look(&mut tracker, &q, &[a], &[], &mut sink);
        std::thread::sleep(Duration::from_millis(20));
        look(&mut tracker, &q, &[a], &[], &mut sink);
        assert_eq!(sink.0, ["snapshot 1"]);
        std::thread::sleep(Duration::from_millis(20));
        a.details.tcp_info = Some(Extensible::parse(&moved));
        look(&mut tracker, &q, &[a], &[], &mut sink);
        assert_eq!(sink.0, ["snapshot 1", "changed 1 ESTAB"]);
        let entry = tracker.entries().next().unwrap();
        let rates = tracker.rates(entry).unwrap();
        // 50 000 bytes in a little over 20 ms.
        assert!(
            rates.bytes_in > 100_000 && rates.bytes_in < 2_500_000,
            "{rates:?}"
        );
        assert_eq!(rates.bytes_out, 0);
        assert_eq!(
            tracker.changes(entry).rates.unwrap().0,
            Some(Rates::default())
        );
    }
}
