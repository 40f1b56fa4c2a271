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

mod encode;

pub use encode::{Format, Report};

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
