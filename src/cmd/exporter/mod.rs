//! `sockscope exporter`: the socket tables as Prometheus metrics, for people who watch many
//! machines.
//!
//! Each scrape looks at the kernel's tables once through the same [`query`] a listing uses
//! (no polling in between), adds the sockets up in a [`metrics::Tally`] without keeping any of
//! them, and writes the sums through prometheus-client. [`http`] answers the scrapes; `--once`
//! and `--textfile` write one scrape and end. While it answers scrapes, the exporter also
//! follows the kernel's TCP events where it may ([`follow`]), and counts in [`events`] what
//! happened between two scrapes.

pub mod events;
pub mod follow;
pub mod http;
pub mod kept;
pub mod metrics;
pub mod series;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::config::{Config, Namespaces};
use crate::filter;
use crate::netns::{self, Walker};
use crate::socket::{Netid, NetidSet, StateSet, TcpState};
use crate::source::procnet::ListenCounters;
use crate::source::query::{self, Query, Warnings};
use crate::sys::term;
use crate::wire::netlink::DiagSocket;

use follow::Follower;
use kept::{Entry, Extras, FOLLOWED, Kept, LOOKED_AT, Place};
use metrics::{CAPPED, EventSeries, Format, Namespace, Own, Report, Tally};

/// What the exporter does with its scrapes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Answer scrapes over HTTP on this address until killed.
    Serve(SocketAddr),
    /// Print one scrape on standard output.
    Once,
    /// Write one scrape to this file, atomically.
    Textfile(PathBuf),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExporterOptions {
    pub mode: Mode,
    /// The most series per family and namespace.
    pub max_series: usize,
    /// `-i`: round-trip times and retransmissions per port.
    pub info: bool,
    /// `--reconcile`: how often a look corrects the TCP state counts the events keep; 0
    /// looks at every scrape.
    pub reconcile: Duration,
}

/// The tables whose listeners live in their own hash, which the kernel walks alone when only
/// listeners are asked for: a first look at them costs next to nothing.
const STREAM_TABLES: NetidSet = NetidSet::EMPTY
    .with(Netid::Tcp)
    .with(Netid::Mptcp)
    .with(Netid::Dccp)
    .with(Netid::Sctp);

/// The socket tables as metrics, one scrape at a time.
pub struct Exporter {
    config: Config,
    options: ExporterOptions,
    /// Held for the whole of a scrape: two scrapes never look at once.
    state: Mutex<State>,
    /// The address answered on, whose sockets are the exporter's own.
    own: Option<Own>,
    /// The kernel's events, where they are followed.
    events: Option<Mutex<Follower>>,
}

#[derive(Default)]
struct State {
    /// The folded-series counter of each namespace seen, by its `netns` label.
    folded: Vec<(Option<String>, [u64; CAPPED.len()])>,
    /// Whether the warnings of a scrape were printed already: once is enough.
    warned: bool,
    /// `-N all`: the walk through the namespaces, from the first scrape on.
    walker: Option<Walker>,
}

impl Exporter {
    pub fn new(config: Config, options: ExporterOptions) -> Exporter {
        Exporter {
            config,
            options,
            state: Mutex::new(State::default()),
            own: None,
            events: None,
        }
    }

    /// Leaves the sockets of `own`, the address the exporter answers on, out of every metric.
    pub fn answering_on(mut self, own: Own) -> Exporter {
        self.own = Some(own);
        self
    }

    /// Follows the kernel's TCP events from now on, or says in one line on stderr why it
    /// cannot: the event metrics are then absent.
    pub fn follow_events(mut self) -> Exporter {
        match self.open_events() {
            Ok(Some(follower)) => self.events = Some(Mutex::new(follower)),
            Ok(None) => {}
            Err(why) => {
                let _ = writeln!(
                    io::stderr(),
                    "sockscope: warning: exporter: kernel events unavailable ({why}); the \
                     counters of connections opened, closed and failed are absent"
                );
            }
        }
        self
    }

    /// The event sources, `None` where no TCP socket is selected.
    fn open_events(&self) -> anyhow::Result<Option<Follower>> {
        let query = &self.config.query;
        if !query.tables.contains(Netid::Tcp) {
            return Ok(None);
        }
        if self.config.namespaces == Namespaces::All {
            anyhow::bail!("not with -N all");
        }
        let (mut follower, destroys) =
            Follower::open(query, self.options.max_series, self.options.reconcile)?;
        if let Some(e) = destroys {
            let _ = writeln!(
                io::stderr(),
                "sockscope: warning: exporter: cannot subscribe to the kernel's socket-destroy \
                 events ({e}); the byte counters are absent"
            );
        }
        // The listeners, looked at after the program is in place, so that none is missed:
        // they tell where a connection born before now belongs.
        let mut listeners = Query::new(
            NetidSet::single(Netid::Tcp),
            query.families,
            StateSet::single(TcpState::Listen),
        );
        listeners.context = query.context;
        let mut diag = DiagSocket::open()?;
        query::run(&listeners, &mut diag, &mut |socket| {
            if let crate::socket::Endpoints::Inet(ends) = socket.endpoints {
                follower.happenings.listener(ends.local.port());
            }
            Ok(())
        })
        .context("looking at the listeners")?;
        Ok(Some(follower))
    }

    /// Counts the events waiting, unless a scrape is looking (it counts them when it is
    /// done); says whether it could.
    pub fn pump(&self) -> bool {
        let Some(events) = &self.events else {
            return true;
        };
        let mut follower = match events.try_lock() {
            Ok(follower) => follower,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        follower.pump(&self.config.query, self.own.as_ref());
        true
    }

    /// The descriptors that become readable when events wait.
    pub fn event_fds(&self) -> [Option<std::os::fd::RawFd>; 2] {
        self.events.as_ref().map_or([None, None], |events| {
            events.lock().unwrap_or_else(|e| e.into_inner()).fds()
        })
    }

    /// Everything the events counted, read up to now.
    fn event_series(&self) -> Option<EventSeries> {
        let events = self.events.as_ref()?;
        let mut follower = events.lock().unwrap_or_else(|e| e.into_inner());
        follower.pump(&self.config.query, self.own.as_ref());
        Some(EventSeries {
            series: follower
                .happenings
                .series()
                .map(|(key, sums)| (*key, sums.clone()))
                .collect(),
            bytes: follower.has_bytes(),
            lost: follower.lost,
            overruns: follower.overruns,
            folded: follower.happenings.folded,
            reconciled: follower
                .kept
                .as_ref()
                .map(|kept| (kept.reconciles, kept.corrections)),
        })
    }

    /// Looks at the tables and writes what they hold in `format`.
    pub fn scrape(&self, format: Format) -> anyhow::Result<String> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (mut namespaces, warnings) = if self.config.namespaces == Namespaces::All {
            let walker = match &mut state.walker {
                Some(walker) => walker,
                walker => walker.insert(Walker::new()?),
            };
            self.every_namespace(walker)?
        } else {
            let (ns, warnings) = match &self.events {
                Some(events) => {
                    let mut follower = events.lock().unwrap_or_else(|e| e.into_inner());
                    self.following(&mut follower)?
                }
                None => self.one_namespace(None, &self.config.query, self.own, Looking::Whole)?,
            };
            (vec![ns], warnings)
        };
        for ns in &mut namespaces {
            let slot = match state.folded.iter().position(|(name, _)| *name == ns.name) {
                Some(slot) => slot,
                None => {
                    state.folded.push((ns.name.clone(), [0; CAPPED.len()]));
                    state.folded.len() - 1
                }
            };
            let totals = &mut state.folded[slot].1;
            for (total, folded) in totals.iter_mut().zip(ns.folded) {
                *total += folded;
            }
            ns.folded_total = *totals;
        }
        if !state.warned {
            state.warned = true;
            warn(warnings);
        }
        Ok(Report {
            namespaces,
            events: self.event_series(),
        }
        .encode(format))
    }

    /// A scrape while the events are followed: the TCP state counts they keep and a look at
    /// the rest, or a reconciling look at the whole when one is due.
    fn following(&self, follower: &mut Follower) -> anyhow::Result<(Namespace, Warnings)> {
        let query = &self.config.query;
        let own = self.own.as_ref();
        follower.pump(query, own);
        if !follower.due() {
            if let Some(kept) = &follower.kept {
                return self.one_namespace(None, query, self.own, Looking::Kept(kept));
            }
            return self.one_namespace(None, query, self.own, Looking::Whole);
        }
        follower.begin_reconcile(query, own);
        let mut fresh = Fresh::default();
        let looked = self.one_namespace(None, query, self.own, Looking::Reconciling(&mut fresh));
        match &looked {
            Ok(_) => follower.end_reconcile(query, own, fresh.entries, fresh.extras),
            // What is kept stays, and the next scrape tries again.
            Err(_) => follower.abandon_reconcile(),
        }
        looked
    }

    /// One look at the namespace this thread is in.
    fn one_namespace(
        &self,
        name: Option<String>,
        query: &Query,
        own: Option<Own>,
        mut looking: Looking<'_>,
    ) -> anyhow::Result<(Namespace, Warnings)> {
        let start = Instant::now();
        let mut tally = Tally::default();
        tally.own = own;
        let warnings =
            look(query, &mut tally, &mut looking).context("looking at the socket tables")?;
        if let Looking::Kept(kept) = looking {
            for (&(place, state), &count) in kept.sums() {
                tally.add_kept(place, state, count);
            }
            for (&place, extras) in &kept.extras {
                tally.add_extras(place, extras);
            }
        }
        let (overflows, drops) = listen_counters();
        let mut ns = Namespace::new(name, &tally, self.options.max_series, self.options.info);
        ns.listen_overflows = overflows;
        ns.listen_drops = drops;
        ns.duration_seconds = start.elapsed().as_secs_f64();
        Ok((ns, warnings))
    }

    /// `-N all`: one look in each namespace, this thread moving into each in turn and back.
    fn every_namespace(&self, walker: &mut Walker) -> anyhow::Result<(Vec<Namespace>, Warnings)> {
        let found = netns::all()?.namespaces;
        let mut query = self.config.query.clone();
        let mut warnings = Warnings::default();
        let mut namespaces = Vec::new();
        let visited = walker.visit(&found, |ns| -> anyhow::Result<()> {
            // The ephemeral port range is the namespace's own.
            query.context = filter::Context::from_system();
            let (look, seen) = self
                .one_namespace(
                    Some(ns.name.clone()),
                    &query,
                    self.own.filter(|_| ns.own),
                    Looking::Whole,
                )
                .with_context(|| format!("in network namespace {}", ns.name))?;
            warnings.absorb(seen);
            namespaces.push(look);
            Ok(())
        });
        for unreached in walker.unsaid() {
            let _ = writeln!(io::stderr(), "sockscope: warning: {unreached}");
        }
        visited?;
        Ok((namespaces, warnings))
    }
}

/// How a look goes with the TCP state counts the events keep.
enum Looking<'k> {
    /// At every socket: no events, or `--reconcile 0`.
    Whole,
    /// At every socket, noting the TCP connections in followed states into a fresh [`Kept`].
    Reconciling(&'k mut Fresh),
    /// At every socket but the TCP connections in followed states, which `Kept` counts.
    Kept(&'k Kept),
}

/// What a reconciling look found of the TCP connections in followed states.
#[derive(Default)]
struct Fresh {
    entries: HashMap<u64, Entry>,
    extras: HashMap<Place, Extras>,
}

impl Fresh {
    /// `socket`, counted at `place` by the tally.
    fn note(&mut self, socket: &crate::socket::Socket<'_>, place: Place) {
        let Some(cookie) = socket.cookie else {
            return;
        };
        self.entries.insert(
            cookie,
            Entry {
                state: socket.state,
                place,
                counted: true,
            },
        );
        let extras = self.extras.entry(place).or_default();
        extras.recv_q += u64::from(socket.recv_q);
        extras.send_q += u64::from(socket.send_q);
        if let Some(bytes) = socket.details.tcp_info {
            let info = bytes.get();
            extras.rtt.observe(f64::from(info.rtt.get()) / 1e6);
            extras.retransmitted += u64::from(info.total_retrans.get());
        }
    }
}

/// Asks for the sockets `query` selects and counts them in `tally`.
///
/// A connection is inbound when its local port is one a listener (or, for UDP, an unconnected
/// socket) serves on, so those are looked at first, whatever the states and the filter: the
/// listeners of TCP-like tables alone (the kernel then skips its table of connections), the
/// unconnected UDP sockets with them. The second look takes the rest of the states asked for,
/// with the filter in the kernel; where the events keep the TCP connections' states, only
/// the TCP states without transitions ([`LOOKED_AT`]). No socket is asked for twice.
fn look(
    query: &Query,
    tally: &mut Tally,
    looking: &mut Looking<'_>,
) -> Result<Warnings, query::QueryError> {
    let wanted = query.states;
    let listen = StateSet::single(TcpState::Listen);
    let unconnected = listen.with(TcpState::Close);
    let stream = query.tables.intersection(STREAM_TABLES);
    let datagram = query.tables.intersection(NetidSet::EMPTY.with(Netid::Udp));
    let other = NetidSet::from_iter(
        query
            .tables
            .iter()
            .filter(|&n| !stream.contains(n) && !datagram.contains(n)),
    );
    let minus = |serving: StateSet| StateSet::from_bits(wanted.bits() & !serving.bits());

    let mut diag = DiagSocket::open()?;
    let mut warnings = Warnings::default();
    for (tables, serving) in [(stream, listen), (datagram, unconnected)] {
        if tables.is_empty() {
            continue;
        }
        let mut first = query.clone();
        first.tables = tables;
        first.states = serving;
        first.filter = None;
        first.bytecode = None;
        let found = query::run(&first, &mut diag, &mut |socket| {
            tally.serve(socket);
            let selected = query
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(socket, &query.context));
            tally.add_if(socket, wanted, selected);
            Ok(())
        })?;
        warnings.absorb(found);
    }
    // Where the events keep TCP's connections, TCP is asked apart for the rest.
    let kept = matches!(looking, Looking::Kept(_));
    let tcp = NetidSet::EMPTY.with(Netid::Tcp).intersection(stream);
    let (stream, tcp_rest) = if kept {
        let others = NetidSet::from_iter(stream.iter().filter(|&n| n != Netid::Tcp));
        let looked_at = StateSet::from_bits(minus(listen).bits() & LOOKED_AT.bits());
        (others, looked_at)
    } else {
        (stream, StateSet::EMPTY)
    };
    for (tables, states) in [
        (stream, minus(listen)),
        (tcp, tcp_rest),
        (datagram, minus(unconnected)),
        (other, wanted),
    ] {
        // Bit 0 alone asks for nothing: ss sets it in every request.
        if tables.is_empty() || states.without(TcpState::Unknown).is_empty() {
            continue;
        }
        let mut rest = query.clone();
        rest.tables = tables;
        rest.states = states;
        let found = query::run(&rest, &mut diag, &mut |socket| {
            let place = tally.add(socket);
            if let (Looking::Reconciling(fresh), Some(place)) = (&mut *looking, place) {
                if socket.netid == Netid::Tcp && FOLLOWED.contains(socket.state) {
                    fresh.note(socket, place);
                }
            }
            Ok(())
        })?;
        warnings.absorb(found);
    }
    Ok(warnings)
}

/// TcpExt's ListenOverflows and ListenDrops from this namespace's `/proc/net/netstat`, `None`
/// when they cannot be read.
fn listen_counters() -> (Option<u64>, Option<u64>) {
    match ListenCounters::read() {
        Ok(counters) => (Some(counters.overflows), Some(counters.drops)),
        Err(_) => (None, None),
    }
}

/// The warnings of a listing, on stderr.
fn warn(warnings: Warnings) {
    if let Some((tables, count)) = warnings.undecoded {
        let names: Vec<&str> = tables.iter().map(Netid::name).collect();
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: {count} {} socket(s) not counted: sockscope cannot decode \
             this table yet",
            names.join("/")
        );
    }
}

/// Runs the exporter as `options` say.
pub fn run(config: Config, options: &ExporterOptions) -> anyhow::Result<()> {
    let exporter = Exporter::new(config, options.clone());
    match &options.mode {
        Mode::Once => {
            let text = exporter.scrape(Format::Text)?;
            let mut out = io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
            Ok(())
        }
        Mode::Textfile(path) => {
            let text = exporter.scrape(Format::Text)?;
            write_atomically(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))
        }
        Mode::Serve(address) => {
            term::catch_interrupts();
            let listener = std::net::TcpListener::bind(address)
                .with_context(|| format!("cannot listen on {address}"))?;
            let bound = listener.local_addr().unwrap_or(*address);
            let exporter = exporter.answering_on(Own(bound)).follow_events();
            let _ = writeln!(
                io::stderr(),
                "sockscope: exporter: listening on http://{bound}/metrics"
            );
            http::serve(listener, std::sync::Arc::new(exporter))
        }
    }
}

/// Writes `bytes` to a new file next to `path`, then renames it over `path`: a reader sees the
/// old file or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let mut temporary = name.to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = path.with_file_name(temporary);
    let written = File::create(&temporary).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&temporary, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&temporary);
            Err(e)
        }
    }
}
