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
pub mod metrics;

use std::fs::File;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

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
        let (mut follower, destroys) = Follower::open(query, self.options.max_series)?;
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

    /// Counts the events waiting.
    pub fn pump(&self) {
        if let Some(events) = &self.events {
            let mut follower = events.lock().unwrap_or_else(|e| e.into_inner());
            follower.pump(&self.config.query, self.own.as_ref());
        }
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
            let (ns, warnings) = self.one_namespace(None, &self.config.query, self.own)?;
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

    /// One look at the namespace this thread is in.
    fn one_namespace(
        &self,
        name: Option<String>,
        query: &Query,
        own: Option<Own>,
    ) -> anyhow::Result<(Namespace, Warnings)> {
        let start = Instant::now();
        let mut tally = Tally::default();
        tally.own = own;
        let warnings = look(query, &mut tally).context("looking at the socket tables")?;
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
                .one_namespace(Some(ns.name.clone()), &query, self.own.filter(|_| ns.own))
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

/// Asks for the sockets `query` selects and counts them in `tally`.
///
/// A connection is inbound when its local port is one a listener (or, for UDP, an unconnected
/// socket) serves on, so those are looked at first, whatever the states and the filter: the
/// listeners of TCP-like tables alone (the kernel then skips its table of connections), the
/// unconnected UDP sockets with them. The second look takes the rest of the states asked for,
/// with the filter in the kernel. No socket is asked for twice.
fn look(query: &Query, tally: &mut Tally) -> Result<Warnings, query::QueryError> {
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
    for (tables, states) in [
        (stream, minus(listen)),
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
            tally.add(socket);
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
