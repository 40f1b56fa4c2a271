//! The table over time: each look at it compared with the last, socket by socket, keyed by the
//! kernel's socket cookie, which is never reused.
//!
//! A look is one sock_diag dump (per table and family, with the kernel's bytecode filter); a
//! socket it lists for the first time is *added*, one whose state, Recv-Q or Send-Q (and with
//! `-i` its byte rates) moved is *changed*, and one it no longer lists is *removed*. Between
//! looks the kernel's destroy events say when a socket goes away, also one that came and went
//! between two looks.
//!
//! A TCP socket that closes first may live on as a FIN-WAIT-2 or TIME-WAIT minisocket with the
//! same cookie: the kernel frees the full socket (a destroy event) and lists the minisocket in
//! its place. So when those states are watched, the destruction of a TCP socket is held until
//! the next look decides: listed again, it changed state; not listed, it was removed when the
//! event said.
//!
//! An unchanged socket costs a hash lookup and a few comparisons per look, and no allocation:
//! its copy is only replaced when it changes.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant, SystemTime};

use netlink_packet_core::DecodeError;

use crate::events;
use crate::query::{self, Query, QueryError};
use crate::socket::{Endpoints, Netid, OwnedSocket, Socket, StateSet, TcpState, UnixName};
use crate::wire::events::{DestroyEvents, DestroyGroup, Drained};
use crate::wire::netlink::{DiagError, DiagSocket};

/// A socket's identity: its cookie, or for sockets read from /proc (which have none) a hash of
/// what identifies them there, with the top bit set.
pub type Key = u64;

/// A moment, on the wall clock (for output) and on the monotonic one (for durations).
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub wall: SystemTime,
    pub mono: Instant,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp {
            wall: SystemTime::now(),
            mono: Instant::now(),
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

/// A socket the tracker follows.
pub struct Entry {
    /// The socket as it was when it last changed.
    pub socket: OwnedSocket,
    pub key: Key,
    /// When a look first listed it.
    pub first_seen: Instant,
    pub rates: Option<Rates>,
    /// The changes of the latest look that changed it, and that look's number (for the live
    /// view's marks).
    pub changes: Changes,
    pub changed_in: u64,
    /// The look that added it.
    pub added_in: u64,
    /// The last look that listed it.
    seen: u64,
    /// Insertion order, for a stable display.
    order: u64,
    /// tcp_info's `bytes_received` and `bytes_acked`, and when they were read.
    counters: Option<(u64, u64, Instant)>,
    /// Destroyed, waiting for the next look (see the module's documentation).
    destroyed: Option<Destroyed>,
}

impl Entry {
    /// Whether the kernel destroyed it and the next look has yet to say what became of it.
    pub fn closing(&self) -> bool {
        self.destroyed.is_some()
    }
}

/// A destruction the next look will confirm.
struct Destroyed {
    record: OwnedSocket,
    at: Stamp,
    /// How many looks were done when it arrived.
    after: u64,
}

/// How a removal was learnt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// The kernel's destroy event, as it happened.
    Destroy,
    /// A look no longer listed it.
    Poll,
}

/// A socket gone.
pub struct Removal<'a> {
    /// The socket as last known: as the destroy event gave it, or as last listed.
    pub socket: Socket<'a>,
    pub at: Stamp,
    /// Since a look first listed it; `None` when none did (it came and went between two).
    pub lifetime: Option<Duration>,
    pub source: Source,
}

/// Where the tracker reports what it finds.
pub trait Sink {
    /// The first look: every socket listed.
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> std::io::Result<()>;
    fn added(&mut self, entry: &Entry, at: Stamp) -> std::io::Result<()>;
    fn changed(&mut self, entry: &Entry, at: Stamp) -> std::io::Result<()>;
    fn removed(&mut self, removal: &Removal<'_>) -> std::io::Result<()>;
    /// The end of an interval: its look is done and reported.
    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> std::io::Result<()>;
    /// Something worth saying that did not stop the watch.
    fn warn(&mut self, message: &str) -> std::io::Result<()>;
    /// Events have come between two looks (or the terminal was resized): show them.
    fn refresh(&mut self, _tracker: &Tracker) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackError {
    #[error(transparent)]
    Query(#[from] QueryError),
    #[error(transparent)]
    Diag(#[from] DiagError),
    #[error("cannot decode a destroyed {table} socket from the kernel")]
    Decode {
        table: &'static str,
        #[source]
        source: DecodeError,
    },
    /// Kept apart, so that a closed standard output can be told from a failure.
    #[error(transparent)]
    Output(#[from] std::io::Error),
}

pub struct Tracker {
    entries: HashMap<Key, Entry>,
    /// Insertion order → key.
    order: BTreeMap<u64, Key>,
    next_order: u64,
    /// Looks done.
    looks: u64,
    /// Keys removed lately, with the look that removed them: a destroy event that comes late
    /// for one of them is not news.
    recent: HashMap<Key, u64>,
    /// TCP sockets destroyed before any look listed them, waiting for the next look.
    unseen: HashMap<Key, Destroyed>,
    /// Whether `-i` asked for byte rates.
    rates: bool,
    /// Whether a destroyed TCP socket may live on as a listed minisocket.
    defer_tcp: bool,
    /// Entries whose destruction waits for the next look.
    closing: usize,
    warned_inconsistent: bool,
    warned_overrun: bool,
    // Reused from one look to the next.
    added: Vec<Key>,
    changed: Vec<Key>,
    gone: Vec<(u64, Key)>,
}

impl Tracker {
    pub fn new(query: &Query, rates: bool) -> Tracker {
        let defer_tcp =
            query.states.contains(TcpState::FinWait2) || query.states.contains(TcpState::TimeWait);
        Tracker {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_order: 0,
            looks: 0,
            recent: HashMap::new(),
            unseen: HashMap::new(),
            rates,
            defer_tcp,
            closing: 0,
            warned_inconsistent: false,
            warned_overrun: false,
            added: Vec::new(),
            changed: Vec::new(),
            gone: Vec::new(),
        }
    }

    /// The sockets followed, in the order they were first listed.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.order.values().map(|key| &self.entries[key])
    }

    /// How many sockets there are (those being destroyed left out).
    pub fn len(&self) -> usize {
        self.entries.len() - self.closing
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many looks have been done.
    pub fn looks(&self) -> u64 {
        self.looks
    }

    /// One look at the table: the destroy events waiting, one dump, what it changed, and the
    /// events that came during the dump. The first look reports a snapshot.
    pub fn look(
        &mut self,
        query: &Query,
        diag: &mut DiagSocket,
        mut events: Option<&mut DestroyEvents>,
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        if let Some(events) = events.as_deref_mut() {
            self.take_events(query, events, sink)?;
        }
        let at = Stamp::now();
        let look = self.looks + 1;
        let warnings = query::run(query, diag, &mut |socket| {
            self.observe(socket, look, at.mono);
            Ok(())
        })?;
        if warnings.inconsistent && !self.warned_inconsistent {
            self.warned_inconsistent = true;
            sink.warn(
                "a socket table changed while the kernel was listing it; a look may miss a \
                 socket, which then shows as removed and added again",
            )?;
        }
        self.report(look, at, sink)?;
        if let Some(events) = events {
            self.take_events(query, events, sink)?;
        }
        self.sweep(look, at, sink)
    }

    /// Ends look `look`: reports what it added and changed (the first look, a snapshot).
    fn report(&mut self, look: u64, at: Stamp, sink: &mut dyn Sink) -> Result<(), TrackError> {
        self.looks = look;
        if look == 1 {
            self.added.clear();
            self.changed.clear();
            sink.snapshot(self, at)?;
        } else {
            for i in 0..self.added.len() {
                sink.added(&self.entries[&self.added[i]], at)?;
            }
            for i in 0..self.changed.len() {
                sink.changed(&self.entries[&self.changed[i]], at)?;
            }
            self.added.clear();
            self.changed.clear();
        }
        Ok(())
    }

    /// Compares one listed socket with what the last look saw.
    fn observe(&mut self, socket: &Socket<'_>, look: u64, now: Instant) {
        let key = key(socket);
        let counters = if self.rates {
            socket.details.tcp_info.map(|info| {
                let info = info.get();
                (info.bytes_received.get(), info.bytes_acked.get(), now)
            })
        } else {
            None
        };
        let Some(entry) = self.entries.get_mut(&key) else {
            self.recent.remove(&key);
            let order = self.next_order;
            self.next_order += 1;
            self.order.insert(order, key);
            self.entries.insert(
                key,
                Entry {
                    socket: OwnedSocket::new(socket),
                    key,
                    first_seen: now,
                    rates: None,
                    changes: Changes::default(),
                    changed_in: 0,
                    added_in: look,
                    seen: look,
                    order,
                    counters,
                    destroyed: None,
                },
            );
            self.added.push(key);
            return;
        };
        entry.seen = look;
        if entry.destroyed.take().is_some() {
            // Listed again after its destroy event: a minisocket took its place.
            self.closing -= 1;
        }
        let before = entry.socket.as_socket();
        let mut changes = Changes::default();
        if before.state != socket.state {
            changes.state = Some((before.state, socket.state));
        }
        if before.recv_q != socket.recv_q {
            changes.recv_q = Some((before.recv_q, socket.recv_q));
        }
        if before.send_q != socket.send_q {
            changes.send_q = Some((before.send_q, socket.send_q));
        }
        let rates = match (entry.counters, counters) {
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
        entry.counters = counters;
        // A first rate of zero is no news; a socket that stops reporting keeps its last.
        let news = match (entry.rates, rates) {
            (old, Some(new)) if old != Some(new) => old.is_some() || new != Rates::default(),
            _ => false,
        };
        if news {
            changes.rates = Some((entry.rates, rates));
        }
        if rates.is_some() {
            entry.rates = rates;
        }
        if !changes.is_empty() {
            entry.socket = OwnedSocket::new(socket);
            entry.changes = changes;
            entry.changed_in = look;
            self.changed.push(key);
        }
    }

    /// Reads the destroy events waiting and reports or holds each.
    pub fn take_events(
        &mut self,
        query: &Query,
        events: &mut DestroyEvents,
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        let drained: Drained =
            events.drain(|group, payload| self.destroyed(query, group, payload, sink))?;
        if drained.overrun && !self.warned_overrun {
            self.warned_overrun = true;
            sink.warn(
                "the kernel dropped socket-destroy events (they came faster than they were \
                 read); a socket that came and went between two looks may be missing",
            )?;
        }
        Ok(())
    }

    fn destroyed(
        &mut self,
        query: &Query,
        group: DestroyGroup,
        payload: &[u8],
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        let socket = events::decode(group, payload).map_err(|source| TrackError::Decode {
            table: events::netid(group).name(),
            source,
        })?;
        self.destroyed_socket(query, socket, Stamp::now(), sink)
    }

    /// A socket the kernel destroyed at `at`.
    fn destroyed_socket(
        &mut self,
        query: &Query,
        socket: Socket<'_>,
        at: Stamp,
        sink: &mut dyn Sink,
    ) -> Result<(), TrackError> {
        let key = key(&socket);
        if self.recent.contains_key(&key) || self.unseen.contains_key(&key) {
            return Ok(());
        }
        let defer = self.defer_tcp && socket.netid == Netid::Tcp;
        let held = Destroyed {
            record: OwnedSocket::new(&socket),
            at,
            after: self.looks,
        };
        if let Some(entry) = self.entries.get_mut(&key) {
            if entry.destroyed.is_some() {
                return Ok(());
            }
            if defer {
                entry.destroyed = Some(held);
                self.closing += 1;
                return Ok(());
            }
            let entry = self.forget(key);
            sink.removed(&Removal {
                socket,
                at,
                lifetime: Some(at.mono.saturating_duration_since(entry.first_seen)),
                source: Source::Destroy,
            })?;
        } else if events::wanted(query, &socket) && might_be_listed(query, &socket) {
            if defer {
                self.unseen.insert(key, held);
                return Ok(());
            }
            self.recent.insert(key, self.looks);
            sink.removed(&Removal {
                socket,
                at,
                lifetime: None,
                source: Source::Destroy,
            })?;
        }
        Ok(())
    }

    /// Removes what look `look` did not list, and settles the destructions held for it.
    fn sweep(&mut self, look: u64, at: Stamp, sink: &mut dyn Sink) -> Result<(), TrackError> {
        self.gone.clear();
        for (key, entry) in &self.entries {
            let waiting = entry.destroyed.as_ref().is_some_and(|d| d.after >= look);
            if entry.seen != look && !waiting {
                self.gone.push((entry.order, *key));
            }
        }
        self.gone.sort_unstable();
        for i in 0..self.gone.len() {
            let key = self.gone[i].1;
            let entry = self.forget(key);
            let removal = match &entry.destroyed {
                Some(d) => Removal {
                    socket: d.record.as_socket(),
                    at: d.at,
                    lifetime: Some(d.at.mono.saturating_duration_since(entry.first_seen)),
                    source: Source::Destroy,
                },
                None => Removal {
                    socket: entry.socket.as_socket(),
                    at,
                    lifetime: Some(at.mono.saturating_duration_since(entry.first_seen)),
                    source: Source::Poll,
                },
            };
            sink.removed(&removal)?;
        }
        self.gone.clear();
        for (key, held) in &self.unseen {
            if held.after < look {
                self.gone.push((held.after, *key));
            }
        }
        self.gone.sort_unstable();
        for i in 0..self.gone.len() {
            let key = self.gone[i].1;
            let held = self.unseen.remove(&key).expect("listed above");
            // Listed by this look (a minisocket), it was reported as added.
            if !self.entries.contains_key(&key) {
                self.recent.insert(key, look);
                sink.removed(&Removal {
                    socket: held.record.as_socket(),
                    at: held.at,
                    lifetime: None,
                    source: Source::Destroy,
                })?;
            }
        }
        self.recent.retain(|_, removed| *removed + 2 >= look);
        Ok(())
    }

    /// Drops an entry, remembering its key for a while.
    fn forget(&mut self, key: Key) -> Entry {
        let entry = self.entries.remove(&key).expect("a followed socket");
        self.order.remove(&entry.order);
        if entry.destroyed.is_some() {
            self.closing -= 1;
        }
        self.recent.insert(key, self.looks);
        entry
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
        fn added(&mut self, entry: &Entry, _: Stamp) -> std::io::Result<()> {
            let s = entry.socket.as_socket();
            self.0
                .push(format!("added {} {}", s.cookie.unwrap(), s.state.name()));
            Ok(())
        }
        fn changed(&mut self, entry: &Entry, _: Stamp) -> std::io::Result<()> {
            let s = entry.socket.as_socket();
            self.0
                .push(format!("changed {} {}", s.cookie.unwrap(), s.state.name()));
            Ok(())
        }
        fn removed(&mut self, removal: &Removal<'_>) -> std::io::Result<()> {
            let how = match (removal.source, removal.lifetime) {
                (Source::Destroy, Some(_)) => "destroy",
                (Source::Destroy, None) => "unseen",
                (Source::Poll, _) => "poll",
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
        for socket in sockets {
            tracker.observe(socket, look, at.mono);
        }
        tracker.report(look, at, sink).unwrap();
        for socket in between {
            tracker
                .destroyed_socket(query, *socket, Stamp::now(), sink)
                .unwrap();
        }
        tracker.sweep(look, at, sink).unwrap();
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
            .destroyed_socket(&q, closed(1), Stamp::now(), &mut sink)
            .unwrap();
        // Connected, never listed: reported.
        tracker
            .destroyed_socket(&q, closed(3), Stamp::now(), &mut sink)
            .unwrap();
        // A listener (no peer) is not in the states watched: not reported.
        let mut listener = closed(4);
        if let Endpoints::Inet(ends) = &mut listener.endpoints {
            ends.peer = "0.0.0.0:0".parse().unwrap();
        }
        tracker
            .destroyed_socket(&q, listener, Stamp::now(), &mut sink)
            .unwrap();
        // An unconnected UDP socket neither.
        let udp = socket(Netid::Udp, 5, TcpState::Close, 0);
        tracker
            .destroyed_socket(&q, udp, Stamp::now(), &mut sink)
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
        let rates = entry.rates.unwrap();
        // 50 000 bytes in a little over 20 ms.
        assert!(
            rates.bytes_in > 100_000 && rates.bytes_in < 2_500_000,
            "{rates:?}"
        );
        assert_eq!(rates.bytes_out, 0);
        assert_eq!(entry.changes.rates.unwrap().0, Some(Rates::default()));
    }
}
