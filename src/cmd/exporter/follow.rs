//! The exporter's hold on the kernel's events: the transitions program and a destroy-event
//! subscription, read whenever they have something (the serving loop waits on both) and
//! before each scrape, into [`Happenings`].

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;
use std::time::{Duration, Instant};

use super::events::Happenings;
use super::kept::{Entry, Extras, Kept, Place};
use super::metrics::Own;
use crate::filter;
use crate::socket::{Endpoints, Family, Socket};
use crate::source::destroyed;
use crate::source::query::Query;
use crate::source::transitions::{self, Interest, Transition, Transitions, Unavailable};
use crate::sys::clock;
use crate::wire::events::{DestroyEvents, DestroyGroup};
use crate::wire::netlink::DiagError;

/// A destroyed socket, as far as the counters need it.
struct Destroyed {
    cookie: u64,
    ends: (SocketAddr, SocketAddr),
    bytes: (u64, u64),
}

/// The event sources and what they were counted into.
pub struct Follower {
    transitions: Transitions,
    /// `None` where the subscription failed: the byte counters are then absent.
    destroys: Option<DestroyEvents>,
    pub happenings: Happenings,
    /// Transitions the ring buffer had no room for, since the start.
    pub lost: u64,
    /// Times the destroy events' buffer overflowed.
    pub overruns: u64,
    /// Read from the destroy events, waiting for the transitions read after them.
    pending: Vec<Destroyed>,
    /// The TCP state counts, kept between reconciling looks; `None` with `--reconcile 0`.
    pub kept: Option<Kept>,
    /// How often a look reconciles them.
    reconcile: Duration,
    /// When the latest reconciling look was.
    reconciled: Option<Instant>,
    /// During a reconciling look: the transitions since it began.
    window: Option<Window>,
}

/// The transitions made while a reconciling look ran, which it may or may not have seen.
struct Window {
    began_ns: u64,
    transitions: Vec<(Transition, bool, Place)>,
    touched: HashSet<u64>,
}

impl Follower {
    /// Loads the transitions program for the namespace this thread is in and the ports the
    /// filter names, and subscribes to the TCP destroy groups `query` asks for.
    /// The subscription's failure is returned beside: the rest works without it.
    /// With a `reconcile` interval, the TCP state counts are kept between looks that far
    /// apart; with 0, every scrape looks.
    pub fn open(
        query: &Query,
        max_series: usize,
        reconcile: Duration,
    ) -> Result<(Follower, Option<DiagError>), Unavailable> {
        let netns = transitions::netns_inode(Path::new("/proc/thread-self/ns/net"))
            .map_err(Unavailable::NoNetns)?;
        let ports = query
            .filter
            .as_ref()
            .and_then(|expr| expr.port_set())
            .unwrap_or_default();
        let transitions = Transitions::open(&Interest {
            netns: Some(netns),
            ports,
        })?;
        let groups: Vec<DestroyGroup> = destroyed::groups(query)
            .into_iter()
            .filter(|g| g.protocol() == libc::IPPROTO_TCP as u8)
            .collect();
        let (destroys, failed) = match DestroyEvents::subscribe(&groups) {
            Ok(events) => (Some(events), None),
            Err(e) => (None, Some(e)),
        };
        Ok((
            Follower {
                transitions,
                destroys,
                happenings: Happenings::new(max_series, []),
                lost: 0,
                overruns: 0,
                pending: Vec::new(),
                kept: (!reconcile.is_zero()).then(Kept::default),
                reconcile,
                reconciled: None,
                window: None,
            },
            failed,
        ))
    }

    /// Whether the byte counters are kept.
    pub fn has_bytes(&self) -> bool {
        self.destroys.is_some()
    }

    /// The descriptors that become readable when events wait.
    pub fn fds(&self) -> [Option<RawFd>; 2] {
        [
            Some(self.transitions.as_raw_fd()),
            self.destroys.as_ref().map(AsRawFd::as_raw_fd),
        ]
    }

    /// Counts every event waiting. The destroy events are read first and counted last: the
    /// kernel writes a socket's last transition before it destroys the socket, so the
    /// transitions read in between include the close of every socket destroyed.
    pub fn pump(&mut self, query: &Query, own: Option<&Own>) {
        if let Some(destroys) = &mut self.destroys {
            let pending = &mut self.pending;
            let drained = destroys.drain(|group, payload| -> Result<(), DiagError> {
                let Ok(socket) = destroyed::decode(group, payload) else {
                    return Ok(());
                };
                let (Endpoints::Inet(ends), Some(cookie)) = (socket.endpoints, socket.cookie)
                else {
                    return Ok(());
                };
                if !counted(query, own, &socket) {
                    return Ok(());
                }
                let bytes = socket.details.tcp_info.map_or((0, 0), |info| {
                    let info = info.get();
                    (info.bytes_acked.get(), info.bytes_received.get())
                });
                pending.push(Destroyed {
                    cookie,
                    ends: (ends.local, ends.peer),
                    bytes,
                });
                Ok(())
            });
            if drained.is_ok_and(|d| d.overrun) {
                self.overruns += 1;
            }
        }
        let happenings = &mut self.happenings;
        let (kept, window) = (&mut self.kept, &mut self.window);
        let _ = self.transitions.drain(|t| -> Result<(), ()> {
            // A record the kernel wrote is whole; a short one is a bug, not news.
            if let Ok(t) = t {
                let socket = t.socket();
                let counted = counted(query, own, &socket);
                if let Some(kept) = kept {
                    let selected = counted && query.states.contains(t.new);
                    let place = happenings.place_of(&t);
                    kept.transition(&t, selected, place);
                    if let Some(window) = window.as_mut().filter(|w| t.at_ns >= w.began_ns) {
                        window.transitions.push((t, selected, place));
                        window.touched.insert(t.cookie);
                    }
                }
                happenings.transition(&t, counted);
            }
            Ok(())
        });
        for d in self.pending.drain(..) {
            happenings.destroyed(d.cookie, d.ends, d.bytes);
        }
        happenings.forget_before(clock::monotonic_ns());
        if let Ok(lost) = self.transitions.lost() {
            self.lost = lost;
        }
    }

    /// Whether the kept counts are due a reconciling look: the first, or `--reconcile` after
    /// the latest. `false` where nothing is kept.
    pub fn due(&self) -> bool {
        self.kept.is_some()
            && self
                .reconciled
                .is_none_or(|at| at.elapsed() >= self.reconcile)
    }

    /// A reconciling look begins: the transitions from now on are noted apart.
    pub fn begin_reconcile(&mut self, query: &Query, own: Option<&Own>) {
        self.pump(query, own);
        self.window = Some(Window {
            began_ns: clock::monotonic_ns(),
            transitions: Vec::new(),
            touched: HashSet::new(),
        });
    }

    /// The reconciling look failed: the transitions made meanwhile are already counted.
    pub fn abandon_reconcile(&mut self) {
        self.window = None;
    }

    /// The reconciling look found `fresh` and `extras`: they replace what was kept, and the
    /// transitions made while it looked are counted again on top.
    pub fn end_reconcile(
        &mut self,
        query: &Query,
        own: Option<&Own>,
        fresh: HashMap<u64, Entry>,
        extras: HashMap<Place, Extras>,
    ) {
        self.pump(query, own);
        let window = self.window.take();
        self.reconciled = Some(Instant::now());
        let (Some(kept), Some(window)) = (&mut self.kept, window) else {
            return;
        };
        kept.reconcile(fresh, extras, &window.touched);
        for (t, selected, place) in &window.transitions {
            kept.transition(t, *selected, *place);
        }
    }
}

/// Whether the exporter reports `socket`: of an IP version asked for (`-4`, `-6`), the
/// filter selects it, and it is not the exporter's own listener or one of its scrapes.
fn counted(query: &Query, own: Option<&Own>, socket: &Socket<'_>) -> bool {
    let Endpoints::Inet(ends) = socket.endpoints else {
        return false;
    };
    let family = if ends.local.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    query.families.contains(family)
        && own.is_none_or(|own| !own.is(socket))
        && filter::wanted(query.filter.as_ref(), socket, &query.context)
}
