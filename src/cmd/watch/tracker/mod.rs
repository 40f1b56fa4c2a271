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
//! With the kernel's TCP state transitions ([`crate::source::transitions`]), TCP sockets are
//! followed between looks too ([`kernel`]): a socket born while watched is added at its first
//! state and each transition is a change, at the kernel's moment, under the cookie the
//! program made for it, which sock_diag, the destroy event and a TIME-WAIT entry share.
//!
//! Memory is what the diff needs and no more: per socket one [`Entry`] of 80 bytes (cookie,
//! state, queues, the endpoints packed, flags), in one vector sorted by cookie; a unix socket's
//! name and, with `-i`, the rates' counters on the side. No copy of the kernel's record is
//! kept. An unchanged socket costs a binary search and a few comparisons per look.

mod entry;
mod kernel;
mod report;
#[cfg(test)]
mod tests;

pub use entry::Entry;
pub use report::{Changes, Found, Rates, Removal, Sink, Source, Stamp, Totals, TrackError};

use entry::{
    ADDED_NOW, BEFORE_START, CHANGED_NOW, CLOSING, GONE, NAMED, SEEN, UNLISTED, V6, V6ONLY,
    V6ONLY_KNOWN, pack,
};

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io;
use std::time::{Duration, Instant};

use crate::procs::{Processes, Scope};
use crate::socket::{Endpoints, Netid, Socket, StateSet, TcpState, UnixEndpoints, UnixName};
use crate::source::query::{Query, Warnings};
use crate::source::transitions::Transitions;
use crate::sys::clock;
use crate::wire::events::EventQueue;

/// A socket's identity: its cookie, or for sockets read from /proc (which have none) a hash of
/// what identifies them there, with the top bit set.
pub type Key = u64;

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
    /// The other way round: TIME-WAIT and FIN-WAIT-2 entries a look added lately, by
    /// namespace and endpoints, with that look, for a destroy event that comes after them.
    lately_closed: HashMap<(u16, [u8; 40]), (Key, u64)>,
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
            lately_closed: HashMap::new(),
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
        let found = self.found(&self.entries[index], socket, changes, Source::Poll);
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
        {
            // The socket a destroy event named went on as this entry: one socket, added
            // now under the entry's cookie, never removed as the other. Its destroy event
            // may also come after this look: it finds the entry here.
            let ends = (ns, pack(socket).0);
            match self.unlisted.remove(&ends) {
                Some(before) => {
                    if let Some(bytes) = self.held.remove(&before).and_then(|held| held.bytes) {
                        self.bytes.insert(key, bytes);
                    }
                }
                None => {
                    self.lately_closed.insert(ends, (key, look));
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
        let found = self.found(entry, socket, Changes::default(), Source::Poll);
        if look == 1 {
            sink.snapshot_socket(&found, at)
        } else {
            sink.added(&found, at)
        }
    }

    /// What the sink is told of `entry`, as `socket` shows it.
    fn found<'a>(
        &'a self,
        entry: &'a Entry,
        socket: &'a Socket<'a>,
        changes: Changes,
        source: Source,
    ) -> Found<'a> {
        Found {
            entry,
            socket,
            changes,
            netns: self.namespace(entry.ns),
            processes: self.owners.as_ref().map(|o| &o.table),
            source,
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
        self.lately_closed
            .retain(|_, (_, added)| *added + 2 >= look);
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
