//! What the kernel tells the tracker between looks: its TCP state transitions
//! ([`crate::source::transitions`]) and its destroy events ([`crate::source::destroyed`]).
//! Transitions come first: a socket's transitions come before its destruction.

use std::time::Instant;

use super::entry::{CLOSING, Entry, GONE, UNLISTED, V6, V6ONLY, V6ONLY_KNOWN, pack, unpack};
use super::{
    Changes, Held, RateState, Removal, Sink, Source, Stamp, TrackError, Tracker, key,
    might_be_listed,
};
use crate::filter;
use crate::socket::{Endpoints, Netid, Socket, TcpState};
use crate::source::destroyed;
use crate::source::query::Query;
use crate::source::transitions::{Transition, Transitions};
use crate::sys::clock;
use crate::wire::events::{Event, EventQueue};

impl Tracker {
    /// Applies the transitions waiting in the ring buffer; returns whether the ring buffer
    /// overflowed since the last call (then reported to the sink).
    pub fn take_transitions(
        &mut self,
        query: &Query,
        transitions: &mut Transitions,
        sink: &mut dyn Sink,
    ) -> Result<bool, TrackError> {
        transitions.drain(|t| -> Result<(), TrackError> {
            // A record the kernel wrote is whole; a short one is a bug, not news.
            if let Ok(t) = t {
                let at = clock::instant_at(t.at_ns);
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
    pub(super) fn transition(
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
        let socket = t.socket();
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
                sink.changed(&self.found(&entry, &socket, changes, Source::Event), stamp)?;
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
                let found = self.found(&entry, &socket, Changes::default(), Source::Event);
                sink.added(&found, stamp)?;
                Ok(())
            }
            None => Ok(()),
        }
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
    pub(super) fn destroyed_socket(
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
                // A look already listed the entry that took this socket's place, under a
                // cookie of its own: the same socket, which keeps its byte counts.
                if let Some((listed, _)) = self.lately_closed.remove(&(ns, entry.ends)) {
                    if let Some(bytes) = bytes {
                        self.bytes.insert(listed, bytes);
                    }
                    return Ok(());
                }
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
}

/// tcp_info's `bytes_acked` and `bytes_received`, where the record has them.
pub(super) fn tcp_bytes(socket: &Socket<'_>) -> Option<(u64, u64)> {
    let info = socket.details.tcp_info?;
    let info = info.get();
    Some((info.bytes_acked.get(), info.bytes_received.get()))
}
