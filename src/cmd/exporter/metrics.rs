//! What one scrape saw, added up into a bounded number of series, and written out through
//! prometheus-client in either text format.
//!
//! A [`Tally`] takes the decoded sockets of one namespace and keeps only sums: per table and
//! state, per listening address, and per service port (the local port a connection was
//! accepted on, else the remote port it goes to). Nothing is kept per socket, so a scrape of
//! half a million sockets holds a few thousand sums at most. [`Report::new`] then caps each
//! family at `--max-series` series, folding the smallest into `port="other"`.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::{IpAddr, SocketAddr};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel as _, EncodeLabelSet, EncodeLabelValue, EncodeMetric,
    LabelSetEncoder, LabelValueEncoder, NoLabelSet,
};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::{Registry, Unit};

use super::events::Sums;
use super::kept::Extras;
pub use super::series::{Address, Direction, Histogram, Port, RTT_BUCKETS, Rtt};
use crate::socket::{Endpoints, Netid, NetidSet, Socket, StateSet, TcpState};

/// The tables whose sockets have ports that name a service.
pub const PORT_TABLES: NetidSet = NetidSet::EMPTY
    .with(Netid::Tcp)
    .with(Netid::Udp)
    .with(Netid::Mptcp)
    .with(Netid::Dccp)
    .with(Netid::Sctp);

/// The address the exporter answers on. Its listener, the connections it accepts and the
/// scrapers' ends of them (when a scraper runs in the same namespace) are the exporter's own
/// traffic, not the machine's: they are left out of every metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Own(pub SocketAddr);

impl Own {
    /// Whether `socket` is one of the exporter's own.
    pub fn is(&self, socket: &Socket<'_>) -> bool {
        let Endpoints::Inet(ends) = socket.endpoints else {
            return false;
        };
        if socket.netid != Netid::Tcp {
            return false;
        }
        let ours = |end: SocketAddr| {
            end.port() == self.0.port() && (self.0.ip().is_unspecified() || end.ip() == self.0.ip())
        };
        // A scraper's end: its peer is us, on this machine.
        let here = ends.peer.ip().is_loopback() || ends.peer.ip() == ends.local.ip();
        ours(ends.local) || (ours(ends.peer) && here)
    }
}

/// What the sockets of one service port add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct PortSums {
    /// Connections by state.
    by_state: [u64; TcpState::ALL.len()],
    recv_q: u64,
    send_q: u64,
    /// With `-i`: the live TCP connections' round-trip times and retransmitted segments.
    rtt: Rtt,
    retransmitted: u64,
}

/// A listener's accept queue and backlog, summed over the sockets that share its address and
/// port (`SO_REUSEPORT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queue {
    pub length: u64,
    pub backlog: u64,
}

/// The ports a table serves on: 65536 bits.
struct PortSet(Box<[u64; 1024]>);

impl PortSet {
    fn new() -> PortSet {
        PortSet(Box::new([0; 1024]))
    }

    fn insert(&mut self, port: u16) {
        self.0[usize::from(port / 64)] |= 1 << (port % 64);
    }

    fn contains(&self, port: u16) -> bool {
        self.0[usize::from(port / 64)] & (1 << (port % 64)) != 0
    }
}

/// The sums of one namespace's sockets.
pub struct Tally {
    sockets: [[u64; TcpState::ALL.len()]; Netid::ALL.len()],
    seen: u64,
    /// Per table of [`PORT_TABLES`], the local ports of its listeners and unconnected sockets.
    served: [Option<PortSet>; Netid::ALL.len()],
    listeners: HashMap<(Netid, IpAddr, u16), Queue>,
    ports: HashMap<(Netid, u16, Direction), PortSums>,
    /// The exporter's own address, whose sockets are not counted.
    pub own: Option<Own>,
}

impl Default for Tally {
    fn default() -> Tally {
        Tally {
            sockets: [[0; TcpState::ALL.len()]; Netid::ALL.len()],
            seen: 0,
            served: Default::default(),
            listeners: HashMap::new(),
            ports: HashMap::new(),
            own: None,
        }
    }
}

impl Tally {
    /// Notes the port a listener, or an unconnected socket, serves on. Every one must be seen
    /// before the first connection is [added](Tally::add), so that connections to it count as
    /// inbound.
    pub fn serve(&mut self, socket: &Socket<'_>) {
        let Endpoints::Inet(inet) = socket.endpoints else {
            return;
        };
        if self.own.is_some_and(|own| own.is(socket)) {
            return;
        }
        if PORT_TABLES.contains(socket.netid)
            && matches!(socket.state, TcpState::Listen | TcpState::Close)
        {
            self.served[socket.netid as usize]
                .get_or_insert_with(PortSet::new)
                .insert(inet.local.port());
        }
    }

    /// Counts one socket the query selected; returns where a connection was counted, its
    /// direction and service port.
    pub fn add(&mut self, socket: &Socket<'_>) -> Option<(Direction, u16)> {
        if self.own.is_some_and(|own| own.is(socket)) {
            return None;
        }
        self.seen += 1;
        self.sockets[socket.netid as usize][socket.state as usize] += 1;
        let Endpoints::Inet(inet) = socket.endpoints else {
            return None;
        };
        if !PORT_TABLES.contains(socket.netid) {
            return None;
        }
        let local = inet.local.port();
        if socket.state == TcpState::Listen {
            // As ss -l shows: Recv-Q is the accept queue, Send-Q the backlog.
            let queue = self
                .listeners
                .entry((socket.netid, inet.local.ip(), local))
                .or_default();
            queue.length += u64::from(socket.recv_q);
            queue.backlog += u64::from(socket.send_q);
            return None;
        }
        let inbound = socket.state == TcpState::Close
            || self.served[socket.netid as usize]
                .as_ref()
                .is_some_and(|served| served.contains(local));
        let (port, direction) = if inbound {
            (local, Direction::Inbound)
        } else {
            (inet.peer.port(), Direction::Outbound)
        };
        let sums = self
            .ports
            .entry((socket.netid, port, direction))
            .or_default();
        sums.recv_q += u64::from(socket.recv_q);
        sums.send_q += u64::from(socket.send_q);
        // An unconnected socket is no connection; its queues count all the same.
        if socket.state == TcpState::Close {
            return None;
        }
        sums.by_state[socket.state as usize] += 1;
        if let Some(bytes) = socket.details.tcp_info {
            let info = bytes.get();
            sums.rtt.observe(f64::from(info.rtt.get()) / 1e6);
            sums.retransmitted += u64::from(info.total_retrans.get());
        }
        Some((direction, port))
    }

    /// Counts `count` TCP connections in `state` at `place` that the events kept, not looked
    /// at.
    pub fn add_kept(&mut self, (direction, port): (Direction, u16), state: TcpState, count: u64) {
        self.seen += count;
        self.sockets[Netid::Tcp as usize][state as usize] += count;
        let sums = self.ports.entry((Netid::Tcp, port, direction)).or_default();
        sums.by_state[state as usize] += count;
    }

    /// Adds the queues and round-trip times a reconciling look found of the kept TCP
    /// connections at `place`.
    pub fn add_extras(&mut self, (direction, port): (Direction, u16), extras: &Extras) {
        let sums = self.ports.entry((Netid::Tcp, port, direction)).or_default();
        sums.recv_q += extras.recv_q;
        sums.send_q += extras.send_q;
        sums.rtt.merge(&extras.rtt);
        sums.retransmitted += extras.retransmitted;
    }

    /// Counts `socket` when it is in `states`: for the first look, which asks for every
    /// listener whatever the user asked, to know which ports are served.
    pub fn add_if(&mut self, socket: &Socket<'_>, states: StateSet, selected: bool) {
        if selected && states.contains(socket.state) {
            self.add(socket);
        }
    }

    /// How many sockets were counted.
    pub fn seen(&self) -> u64 {
        self.seen
    }
}

/// Keeps the `max` largest series by `weight`, and adds the others up by their `folded` key.
/// Returns the series, the folded ones last, and how many were folded.
fn cap<K: Ord + Copy, V: Copy>(
    mut series: Vec<(K, V)>,
    max: usize,
    weight: impl Fn(&V) -> u64,
    folded: impl Fn(K) -> K,
    merge: impl Fn(&mut V, &V),
) -> (Vec<(K, V)>, u64) {
    if series.len() <= max {
        series.sort_by_key(|(key, _)| *key);
        return (series, 0);
    }
    // Largest first, ties by key, so that the same table gives the same series every time.
    series.sort_by(|(ka, va), (kb, vb)| weight(vb).cmp(&weight(va)).then(ka.cmp(kb)));
    let rest = series.split_off(max);
    let count = rest.len() as u64;
    series.sort_by_key(|(key, _)| *key);
    let mut others: Vec<(K, V)> = Vec::new();
    for (key, value) in rest {
        let key = folded(key);
        match others.iter_mut().find(|(k, _)| *k == key) {
            Some((_, sum)) => merge(sum, &value),
            None => others.push((key, value)),
        }
    }
    others.sort_by_key(|(key, _)| *key);
    series.extend(others);
    (series, count)
}

/// The metric families whose series are capped, as the folded counter labels them.
pub const CAPPED: [&str; 5] = [
    "listen_queue_length",
    "connections",
    "queue_bytes",
    "tcp_rtt_seconds",
    "tcp_retransmitted_segments",
];

/// One namespace's series, capped.
#[derive(Debug, Default)]
pub struct Namespace {
    /// The `netns` label, with `-N all`.
    pub name: Option<String>,
    pub sockets: Vec<((Netid, u8), u64)>,
    pub listeners: Vec<((Netid, Address, Port), Queue)>,
    pub connections: Vec<((Netid, Port, Direction, u8), u64)>,
    pub queues: Vec<((Netid, Port), (u64, u64))>,
    /// With `-i`.
    pub rtt: Option<Vec<((Netid, Port), Rtt)>>,
    pub retransmitted: Option<Vec<((Netid, Port), u64)>>,
    /// TcpExt's ListenOverflows and ListenDrops, when /proc/net/netstat could be read.
    pub listen_overflows: Option<u64>,
    pub listen_drops: Option<u64>,
    pub duration_seconds: f64,
    pub scraped: u64,
    /// Series folded in this scrape, by family in [`CAPPED`] order.
    pub folded: [u64; CAPPED.len()],
    /// Series folded in every scrape so far, this one included (the counter).
    pub folded_total: [u64; CAPPED.len()],
}

impl Namespace {
    /// Caps the series of `tally` at `max` per family.
    pub fn new(name: Option<String>, tally: &Tally, max: usize, info: bool) -> Namespace {
        let mut ns = Namespace {
            name,
            scraped: tally.seen,
            ..Namespace::default()
        };
        for netid in Netid::ALL {
            for state in TcpState::ALL {
                let count = tally.sockets[netid as usize][state as usize];
                if count > 0 {
                    ns.sockets.push(((netid, state as u8), count));
                }
            }
        }

        let listeners = tally
            .listeners
            .iter()
            .map(|(&(netid, ip, port), &queue)| {
                ((netid, Address::Ip(ip), Port::Number(port)), queue)
            })
            .collect();
        (ns.listeners, ns.folded[0]) = cap(
            listeners,
            max,
            |q| q.length.max(q.backlog),
            |(netid, _, _)| (netid, Address::Other, Port::Other),
            |a, b| {
                a.length += b.length;
                a.backlog += b.backlog;
            },
        );

        let mut connections = Vec::new();
        let mut queues: HashMap<(Netid, Port), (u64, u64)> = HashMap::new();
        let mut rtt: HashMap<(Netid, Port), Rtt> = HashMap::new();
        let mut retransmitted: HashMap<(Netid, Port), u64> = HashMap::new();
        for (&(netid, port, direction), sums) in &tally.ports {
            let port = Port::Number(port);
            for state in TcpState::ALL {
                let count = sums.by_state[state as usize];
                if count > 0 {
                    connections.push(((netid, port, direction, state as u8), count));
                }
            }
            let queue = queues.entry((netid, port)).or_default();
            queue.0 += sums.recv_q;
            queue.1 += sums.send_q;
            if sums.rtt.count > 0 {
                rtt.entry((netid, port)).or_default().merge(&sums.rtt);
                *retransmitted.entry((netid, port)).or_default() += sums.retransmitted;
            }
        }
        (ns.connections, ns.folded[1]) = cap(
            connections,
            max,
            |&count| count,
            |(netid, _, direction, state)| (netid, Port::Other, direction, state),
            |a, b| *a += b,
        );
        (ns.queues, ns.folded[2]) = cap(
            queues.into_iter().collect(),
            max,
            |&(recv, send)| recv + send,
            |(netid, _)| (netid, Port::Other),
            |a, b| {
                a.0 += b.0;
                a.1 += b.1;
            },
        );
        if info {
            let (series, folded) = cap(
                rtt.into_iter().collect(),
                max,
                |r| r.count,
                |(netid, _)| (netid, Port::Other),
                Rtt::merge,
            );
            ns.rtt = Some(series);
            ns.folded[3] = folded;
            let (series, folded) = cap(
                retransmitted.into_iter().collect(),
                max,
                |&count| count,
                |(netid, _)| (netid, Port::Other),
                |a, b| *a += b,
            );
            ns.retransmitted = Some(series);
            ns.folded[4] = folded;
        }
        ns
    }
}

/// What the kernel's events counted since the exporter started, when it follows them.
#[derive(Debug, Default)]
pub struct EventSeries {
    pub series: Vec<((Direction, Port), Sums)>,
    /// Whether the destroy events, and so the byte counters, are there.
    pub bytes: bool,
    /// Transitions the ring buffer had no room for.
    pub lost: u64,
    /// Times the destroy events' buffer overflowed.
    pub overruns: u64,
    /// Ports folded into `port="other"`.
    pub folded: u64,
    /// Where the TCP state counts are kept: the reconciling looks made and the connections
    /// they found otherwise than kept.
    pub reconciled: Option<(u64, u64)>,
}

/// Every namespace a scrape looked at, and what the events counted, ready to be written.
#[derive(Debug, Default)]
pub struct Report {
    pub namespaces: Vec<Namespace>,
    /// `None` where events are not followed: their metrics are then absent.
    pub events: Option<EventSeries>,
}

/// The two text formats a scraper may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4: for curl, promtool and node_exporter's
    /// textfile collector.
    Text,
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl Report {
    /// The report in `format`.
    pub fn encode(self, format: Format) -> String {
        let mut registry = Registry::with_prefix("sockscope");
        registry.register_collector(Box::new(self));
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String fails only if a collector does, and ours do not.
        let written = match format {
            Format::Text => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
            }
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        debug_assert!(written.is_ok());
        out
    }
}

/// A label value.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Str(&'a str),
    Port(Port),
    Address(Address),
}

impl EncodeLabelValue for Value<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        match self {
            Value::Str(text) => encoder.write_str(text),
            Value::Port(port) => write!(encoder, "{port}"),
            Value::Address(Address::Ip(ip)) => write!(encoder, "{ip}"),
            Value::Address(Address::Other) => encoder.write_str("other"),
        }
    }
}

/// A series' labels: `netns` first when there is one.
struct Labels<'a, const N: usize> {
    netns: Option<&'a str>,
    pairs: [(&'static str, Value<'a>); N],
}

impl<const N: usize> EncodeLabelSet for Labels<'_, N> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        if let Some(netns) = self.netns {
            ("netns", Value::Str(netns)).encode(encoder.encode_label())?;
        }
        for pair in &self.pairs {
            pair.encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

fn state_name(state: u8) -> &'static str {
    TcpState::from_kernel(state).name()
}

/// Writes one family: its descriptor, then a series for each item of each namespace. A
/// family no namespace has a series of is left out.
fn family<'n, T: 'n, const N: usize>(
    encoder: &mut DescriptorEncoder,
    namespaces: &'n [Namespace],
    (name, help, unit, kind): (&str, &str, Option<&Unit>, MetricType),
    items: impl Fn(&'n Namespace) -> &'n [T],
    labels: impl Fn(&'n T) -> [(&'static str, Value<'n>); N],
    write: impl Fn(&T, prometheus_client::encoding::MetricEncoder) -> fmt::Result,
) -> fmt::Result {
    if namespaces.iter().all(|ns| items(ns).is_empty()) {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, unit, kind)?;
    for ns in namespaces {
        for item in items(ns) {
            let set = Labels {
                netns: ns.name.as_deref(),
                pairs: labels(item),
            };
            write(item, metric.encode_family(&set)?)?;
        }
    }
    Ok(())
}

fn gauge(value: u64, metric: prometheus_client::encoding::MetricEncoder) -> fmt::Result {
    ConstGauge::new(value as i64).encode(metric)
}

fn counter(value: u64, metric: prometheus_client::encoding::MetricEncoder) -> fmt::Result {
    ConstCounter::new(value).encode(metric)
}

impl Collector for Report {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let ns = &self.namespaces[..];
        let e = &mut encoder;
        let netid = |n: Netid| ("netid", Value::Str(n.name()));
        let port = |p: Port| ("port", Value::Port(p));
        family(
            e,
            ns,
            (
                "sockets",
                "Sockets by table and state",
                None,
                MetricType::Gauge,
            ),
            |n| &n.sockets,
            |&((id, state), _)| [netid(id), ("state", Value::Str(state_name(state)))],
            |&(_, count), m| gauge(count, m),
        )?;
        let listener = |&((id, address, p), _): &((Netid, Address, Port), Queue)| {
            [
                netid(id),
                ("local_address", Value::Address(address)),
                port(p),
            ]
        };
        family(
            e,
            ns,
            (
                "listen_queue_length",
                "Connections waiting in a listener's accept queue (Recv-Q of ss -l)",
                None,
                MetricType::Gauge,
            ),
            |n| &n.listeners,
            listener,
            |(_, queue), m| gauge(queue.length, m),
        )?;
        family(
            e,
            ns,
            (
                "listen_backlog",
                "The most connections a listener's accept queue holds (Send-Q of ss -l)",
                None,
                MetricType::Gauge,
            ),
            |n| &n.listeners,
            listener,
            |(_, queue), m| gauge(queue.backlog, m),
        )?;
        family(
            e,
            ns,
            (
                "connections",
                "Connections by local listening port (inbound) or remote port (outbound), \
                 and state",
                None,
                MetricType::Gauge,
            ),
            |n| &n.connections,
            |&((id, p, direction, state), _)| {
                [
                    netid(id),
                    port(p),
                    ("direction", Value::Str(direction.name())),
                    ("state", Value::Str(state_name(state))),
                ]
            },
            |&(_, count), m| gauge(count, m),
        )?;
        let queue_labels = |queue: &'static str| {
            move |&((id, p), _): &((Netid, Port), (u64, u64))| {
                [netid(id), port(p), ("queue", Value::Str(queue))]
            }
        };
        let help = "Bytes in the receive queue (recv) and send queue (send) of the sockets of a \
                    port, listeners left out";
        if ns.iter().any(|n| !n.queues.is_empty()) {
            // Two series per port, one family.
            let mut metric =
                e.encode_descriptor("queue", help, Some(&Unit::Bytes), MetricType::Gauge)?;
            for n in ns {
                for item in &n.queues {
                    for (queue, bytes) in [("recv", item.1.0), ("send", item.1.1)] {
                        let set = Labels {
                            netns: n.name.as_deref(),
                            pairs: queue_labels(queue)(item),
                        };
                        gauge(bytes, metric.encode_family(&set)?)?;
                    }
                }
            }
        }
        let empty_rtt: &[((Netid, Port), Rtt)] = &[];
        family(
            e,
            ns,
            (
                "tcp_rtt",
                "Smoothed round-trip times of the live TCP connections of a port",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            ),
            |n| n.rtt.as_deref().unwrap_or(empty_rtt),
            |&((id, p), _)| [netid(id), port(p)],
            |(_, rtt), mut m| {
                let mut buckets = [(0.0, 0); RTT_BUCKETS.len() + 1];
                for (i, slot) in buckets.iter_mut().enumerate() {
                    let bound = RTT_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY);
                    *slot = (bound, rtt.buckets[i]);
                }
                m.encode_histogram::<NoLabelSet>(rtt.sum, rtt.count, &buckets, None)
            },
        )?;
        let empty: &[((Netid, Port), u64)] = &[];
        family(
            e,
            ns,
            (
                "tcp_retransmitted_segments",
                "Segments retransmitted over the lifetime of the live TCP connections of a port",
                None,
                MetricType::Gauge,
            ),
            |n| n.retransmitted.as_deref().unwrap_or(empty),
            |&((id, p), _)| [netid(id), port(p)],
            |&(_, count), m| gauge(count, m),
        )?;
        // The kernel's counters, one series per namespace that could read them.
        type Read = fn(&Namespace) -> Option<u64>;
        let kernel: [(&str, &str, Read); 2] = [
            (
                "tcp_listen_overflows",
                "Times a listener's accept queue was full (TcpExt ListenOverflows)",
                |n| n.listen_overflows,
            ),
            (
                "tcp_listen_drops",
                "Connection requests a listener dropped (TcpExt ListenDrops)",
                |n| n.listen_drops,
            ),
        ];
        for (name, help, value) in kernel {
            if ns.iter().all(|n| value(n).is_none()) {
                continue;
            }
            let mut metric = e.encode_descriptor(name, help, None, MetricType::Counter)?;
            for n in ns {
                if let Some(value) = value(n) {
                    let set = Labels::<0> {
                        netns: n.name.as_deref(),
                        pairs: [],
                    };
                    counter(value, metric.encode_family(&set)?)?;
                }
            }
        }
        let mut metric = e.encode_descriptor(
            "folded_series",
            "Series added up into port=\"other\" past --max-series, by metric family",
            None,
            MetricType::Counter,
        )?;
        for n in ns {
            // The -i families only where -i asked for them.
            let shown = if n.rtt.is_some() { CAPPED.len() } else { 3 };
            for (family, &count) in CAPPED.iter().zip(&n.folded_total).take(shown) {
                let set = Labels {
                    netns: n.name.as_deref(),
                    pairs: [("metric", Value::Str(family))],
                };
                counter(count, metric.encode_family(&set)?)?;
            }
        }
        if let Some(events) = &self.events {
            let set = Labels {
                netns: None,
                pairs: [("metric", Value::Str(EVENTS_CAPPED))],
            };
            counter(events.folded, metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "scrape_duration",
            "How long looking at the socket tables took",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for n in ns {
            let set = Labels::<0> {
                netns: n.name.as_deref(),
                pairs: [],
            };
            ConstGauge::new(n.duration_seconds).encode(metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "scrape_sockets",
            "Sockets the scrape counted",
            None,
            MetricType::Gauge,
        )?;
        for n in ns {
            let set = Labels::<0> {
                netns: n.name.as_deref(),
                pairs: [],
            };
            gauge(n.scraped, metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "events_available",
            "1 when the kernel's TCP events are followed and the tcp_connections metrics are \
             exported, 0 when they cannot be (no privilege, no BTF, -N all, --once)",
            None,
            MetricType::Gauge,
        )?;
        gauge(
            u64::from(self.events.is_some()),
            metric.encode_family(&Labels::<0> {
                netns: None,
                pairs: [],
            })?,
        )?;
        if let Some(events) = &self.events {
            encode_events(e, events)?;
        }
        Ok(())
    }
}

/// The folded-series counter's label for the families [`encode_events`] writes, which share
/// their series.
pub const EVENTS_CAPPED: &str = "tcp_connections";

/// The counters and histograms of the kernel's events, each a series per direction and port.
fn encode_events(e: &mut DescriptorEncoder, events: &EventSeries) -> fmt::Result {
    let labels = |&(direction, port): &(Direction, Port)| Labels {
        netns: None,
        pairs: [
            ("direction", Value::Str(direction.name())),
            ("port", Value::Port(port)),
        ],
    };
    type Take = fn(&Sums) -> u64;
    let mut counters: Vec<(&str, &str, Option<Unit>, Take)> = vec![
        (
            "tcp_connections_opened",
            "TCP connections that reached ESTAB, by local listening port (inbound) or remote \
             port (outbound)",
            None,
            |s| s.opened,
        ),
        (
            "tcp_connections_closed",
            "TCP connections that reached CLOSE after ESTAB",
            None,
            |s| s.closed,
        ),
        (
            "tcp_connections_failed",
            "TCP handshakes that ended in CLOSE: connects refused or timed out (SYN-SENT), \
             handshakes dropped (SYN-RECV)",
            None,
            |s| s.failed,
        ),
        (
            "tcp_connections_reset",
            "TCP connections that ended without the FIN exchange (ESTAB, CLOSE-WAIT or \
             FIN-WAIT-1 straight to CLOSE): a reset sent or received, or retransmissions given up",
            None,
            |s| s.reset,
        ),
    ];
    if events.bytes {
        counters.push((
            "tcp_acked",
            "Bytes the peer acknowledged, over the life of the TCP connections closed (tcp_info \
             bytes_acked at destroy)",
            Some(Unit::Bytes),
            |s| s.bytes_acked,
        ));
        counters.push((
            "tcp_received",
            "Bytes received over the life of the TCP connections closed (tcp_info \
             bytes_received at destroy)",
            Some(Unit::Bytes),
            |s| s.bytes_received,
        ));
    }
    for (name, help, unit, take) in counters {
        let mut metric = e.encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        for (key, sums) in &events.series {
            counter(take(sums), metric.encode_family(&labels(key))?)?;
        }
    }
    type Pick = fn(&Sums) -> &Histogram;
    let histograms: [(&str, &str, Pick); 2] = [
        (
            "tcp_handshake",
            "TCP handshake times: SYN-SENT to ESTAB for outbound connections (the connect \
             latency), SYN-RECV to ESTAB for inbound ones",
            |s| &s.handshake,
        ),
        (
            "tcp_connection_lifetime",
            "Lifetimes of the TCP connections closed, from the handshake's start to CLOSE",
            |s| &s.lifetime,
        ),
    ];
    for (name, help, pick) in histograms {
        let mut metric =
            e.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
        for (key, sums) in &events.series {
            let histogram = pick(sums);
            metric
                .encode_family(&labels(key))?
                .encode_histogram::<NoLabelSet>(
                    histogram.sum,
                    histogram.count,
                    &histogram.buckets(),
                    None,
                )?;
        }
    }
    let lost: [(&str, &str, u64); 2] = [
        (
            "events_lost",
            "TCP transitions the kernel had no room for in the ring buffer: the counters miss them",
            events.lost,
        ),
        (
            "events_overruns",
            "Times the socket-destroy events came faster than they were read and some were lost",
            events.overruns,
        ),
    ];
    let mut counters = lost.to_vec();
    if let Some((reconciles, corrections)) = events.reconciled {
        counters.push((
            "reconciles",
            "Looks at the whole TCP table that reconciled the state counts the events keep",
            reconciles,
        ));
        counters.push((
            "reconcile_corrections",
            "TCP connections a reconciling look found otherwise than the events had kept them \
             (in another state or port, or missing on either side)",
            corrections,
        ));
    }
    for (name, help, count) in counters {
        let mut metric = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        let set = Labels::<0> {
            netns: None,
            pairs: [],
        };
        counter(count, metric.encode_family(&set)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cap_keeps_the_largest_and_folds_the_rest() {
        let series = vec![
            ((1, Port::Number(80)), 5u64),
            ((1, Port::Number(443)), 50),
            ((1, Port::Number(22)), 1),
            ((2, Port::Number(53)), 2),
            ((2, Port::Number(25)), 3),
        ];
        let (kept, folded) = cap(series, 2, |&v| v, |(t, _)| (t, Port::Other), |a, b| *a += b);
        assert_eq!(folded, 3);
        assert_eq!(
            kept,
            [
                ((1, Port::Number(80)), 5),
                ((1, Port::Number(443)), 50),
                ((1, Port::Other), 1),
                ((2, Port::Other), 5),
            ]
        );
        let (kept, folded) = cap(
            vec![((1, Port::Number(1)), 1u64)],
            2,
            |&v| v,
            |k| k,
            |a, b| *a += b,
        );
        assert_eq!((kept.len(), folded), (1, 0));
    }
}
