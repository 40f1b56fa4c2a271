//! What happened between two scrapes, counted from the kernel's own events: every TCP state
//! transition ([`crate::source::transitions`]) and every socket the kernel destroys
//! ([`crate::source::destroyed`]).
//!
//! A look at the tables says what is there now; a connection that opens and closes between
//! two scrapes is not in it. The transitions are: [`Happenings`] turns them into counters per
//! service port (connections opened, closed, failed, reset; bytes each way) and histograms
//! (handshake times, lifetimes). It keeps one small entry per connection it saw being born,
//! until the connection ends, so that it can time the handshake and the life; the map is
//! bounded, and a connection past the bound is still counted, only not timed.
//!
//! The series are capped as the looks' are (`--max-series`), but a counter must never go
//! back: a port keeps its series from the moment it is first seen, and the ports that arrive
//! once the cap is reached go to `port="other"` for good.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;

use super::series::{Direction, Histogram, Port};
use crate::socket::TcpState;
use crate::source::transitions::Transition;

/// The upper bounds of the handshake time buckets, in seconds: from 50 µs (loopback) to 10 s
/// (a connect that needed its SYN sent again: after 1 s, then 3 s, then 7 s).
pub const HANDSHAKE_BUCKETS: [f64; 16] = [
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    3.0, 10.0,
];

/// The upper bounds of the lifetime buckets, in seconds: from a millisecond (a request on
/// loopback) to an hour.
pub const LIFETIME_BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
];

/// The most connections timed at once; more are counted but not timed.
pub const MAX_TIMED: usize = 1 << 20;

/// How long a closed connection waits for its destroy event, which says its bytes, before it
/// is forgotten (the destroy event may be lost, or never come for a socket still held open by
/// its process after the close).
const DESTROY_WAIT_NS: u64 = 60_000_000_000;

/// What happened to the connections of one service port, since the exporter started.
#[derive(Clone, Debug, PartialEq)]
pub struct Sums {
    /// Connections that reached ESTAB.
    pub opened: u64,
    /// Connections that reached CLOSE after ESTAB.
    pub closed: u64,
    /// Handshakes that ended in CLOSE: SYN-SENT (refused, timed out) or SYN-RECV.
    pub failed: u64,
    /// Connections that ended without the FIN exchange (see [`ends_in_reset`]).
    pub reset: u64,
    /// From the destroy events' tcp_info.
    pub bytes_acked: u64,
    pub bytes_received: u64,
    pub handshake: Histogram,
    pub lifetime: Histogram,
}

impl Default for Sums {
    fn default() -> Sums {
        Sums {
            opened: 0,
            closed: 0,
            failed: 0,
            reset: 0,
            bytes_acked: 0,
            bytes_received: 0,
            handshake: Histogram::new(&HANDSHAKE_BUCKETS),
            lifetime: Histogram::new(&LIFETIME_BUCKETS),
        }
    }
}

/// A connection whose birth was seen.
#[derive(Clone, Copy, Debug)]
struct Life {
    born_ns: u64,
    direction: Direction,
    port: u16,
}

/// Whether a connection that went from `old` straight to CLOSE ended without the FIN
/// exchange: a reset sent or received (`close()` with unread data, `SO_LINGER` 0, the peer's
/// RST), or retransmissions given up. A connection that ends normally goes through
/// FIN-WAIT-2, CLOSING or LAST-ACK.
pub fn ends_in_reset(old: TcpState) -> bool {
    matches!(
        old,
        TcpState::Established | TcpState::CloseWait | TcpState::FinWait1
    )
}

/// The counters and histograms, and what they need to remember between events.
pub struct Happenings {
    max_series: usize,
    series: BTreeMap<(Direction, Port), Sums>,
    /// The ports that went to `port="other"`, each counted once in `folded`.
    folded_ports: HashSet<(Direction, u16)>,
    /// Series folded since the start.
    pub folded: u64,
    /// Connections being timed, by cookie.
    lives: HashMap<u64, Life>,
    /// Connections closed whose destroy event has not come yet, by cookie, and the order in
    /// which they closed.
    ended: HashMap<u64, (Direction, u16)>,
    ended_order: VecDeque<(u64, u64)>,
    /// Listeners per local port, to tell where a connection born before the start belongs.
    listening: HashMap<u16, u32>,
}

impl Happenings {
    /// Nothing counted yet; `listening` are the local ports of the listeners a first look
    /// found.
    pub fn new(max_series: usize, listening: impl IntoIterator<Item = u16>) -> Happenings {
        let mut happenings = Happenings {
            max_series,
            series: BTreeMap::new(),
            folded_ports: HashSet::new(),
            folded: 0,
            lives: HashMap::new(),
            ended: HashMap::new(),
            ended_order: VecDeque::new(),
            listening: HashMap::new(),
        };
        for port in listening {
            happenings.listener(port);
        }
        happenings
    }

    /// A listener on local `port`, found by a look.
    pub fn listener(&mut self, port: u16) {
        *self.listening.entry(port).or_default() += 1;
    }

    /// The series so far, in label order, `port="other"` last of each direction.
    pub fn series(&self) -> impl Iterator<Item = (&(Direction, Port), &Sums)> {
        self.series.iter()
    }

    /// The series of `port`, made the first time, or `port="other"` past the cap.
    fn sums(&mut self, direction: Direction, port: u16) -> &mut Sums {
        let key = (direction, Port::Number(port));
        if !self.series.contains_key(&key) {
            let named = self.series.len() - self.folded_series();
            if named >= self.max_series {
                if self.folded_ports.insert((direction, port)) {
                    self.folded += 1;
                }
                return self.series.entry((direction, Port::Other)).or_default();
            }
        }
        self.series.entry(key).or_default()
    }

    fn folded_series(&self) -> usize {
        [Direction::Inbound, Direction::Outbound]
            .iter()
            .filter(|&&d| self.series.contains_key(&(d, Port::Other)))
            .count()
    }

    /// Where the socket of `t` is counted: where its birth placed it, else as [`classify`]
    /// says. To be asked before the transition is counted, which forgets a closed socket.
    ///
    /// [`classify`]: Happenings::classify
    pub fn place_of(&self, t: &Transition) -> (Direction, u16) {
        match (t.old, t.new) {
            (TcpState::Listen, TcpState::SynRecv) => (Direction::Inbound, t.sport),
            (TcpState::Close, TcpState::SynSent) => (Direction::Outbound, t.dport),
            _ => self
                .lives
                .get(&t.cookie)
                .map_or_else(|| self.classify(t), |l| (l.direction, l.port)),
        }
    }

    /// Where a connection whose birth was not seen belongs: inbound to its local port if a
    /// listener serves there, else outbound to its peer's.
    fn classify(&self, t: &Transition) -> (Direction, u16) {
        if t.sport != 0 && self.listening.contains_key(&t.sport) {
            (Direction::Inbound, t.sport)
        } else {
            (Direction::Outbound, t.dport)
        }
    }

    /// One transition; `counted` says whether the socket is one the exporter reports (the
    /// filter selects it, and it is not the exporter's own). Listeners are followed whatever
    /// the filter, to tell inbound from outbound.
    pub fn transition(&mut self, t: &Transition, counted: bool) {
        use TcpState::*;
        match (t.old, t.new) {
            (_, Listen) => self.listener(t.sport),
            (Listen, Close) => {
                if let Some(count) = self.listening.get_mut(&t.sport) {
                    *count -= 1;
                    if *count == 0 {
                        self.listening.remove(&t.sport);
                    }
                }
            }
            // A server's end is made from its listener when the handshake ends; a client's
            // at its SYN, before it has a local port.
            (Listen, SynRecv) => self.born(t, Direction::Inbound, t.sport),
            (Close, SynSent) => self.born(t, Direction::Outbound, t.dport),
            (SynSent | SynRecv, Established) => {
                let life = self.lives.get(&t.cookie).copied();
                if !counted {
                    return;
                }
                let (direction, port) =
                    life.map_or_else(|| self.classify(t), |l| (l.direction, l.port));
                let sums = self.sums(direction, port);
                sums.opened += 1;
                if let Some(life) = life {
                    sums.handshake.observe(seconds(t.at_ns, life.born_ns));
                }
            }
            (old, Close) => {
                let life = self.lives.remove(&t.cookie);
                let (direction, port) =
                    life.map_or_else(|| self.classify(t), |l| (l.direction, l.port));
                if !counted {
                    return;
                }
                if self.ended.len() < MAX_TIMED {
                    self.ended.insert(t.cookie, (direction, port));
                    self.ended_order.push_back((t.at_ns, t.cookie));
                }
                let sums = self.sums(direction, port);
                match old {
                    SynSent | SynRecv => sums.failed += 1,
                    Close => {}
                    _ => {
                        sums.closed += 1;
                        if ends_in_reset(old) {
                            sums.reset += 1;
                        }
                        if let Some(life) = life {
                            sums.lifetime.observe(seconds(t.at_ns, life.born_ns));
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn born(&mut self, t: &Transition, direction: Direction, port: u16) {
        if self.lives.len() < MAX_TIMED {
            self.lives.insert(
                t.cookie,
                Life {
                    born_ns: t.at_ns,
                    direction,
                    port,
                },
            );
        }
    }

    /// A destroyed TCP socket, with the bytes its tcp_info says it had acknowledged and
    /// received. It is counted under the port its close was (the transitions are read before
    /// the destroy events that came with them); a socket whose close was not seen is placed
    /// as a look would place it, and left out when it carried nothing (a listener).
    pub fn destroyed(&mut self, cookie: u64, ends: (SocketAddr, SocketAddr), bytes: (u64, u64)) {
        let (direction, port) = match self.ended.remove(&cookie) {
            Some(place) => place,
            None if bytes == (0, 0) => return,
            None => {
                let (local, peer) = ends;
                if self.listening.contains_key(&local.port()) {
                    (Direction::Inbound, local.port())
                } else {
                    (Direction::Outbound, peer.port())
                }
            }
        };
        let sums = self.sums(direction, port);
        sums.bytes_acked += bytes.0;
        sums.bytes_received += bytes.1;
    }

    /// Forgets the closed connections whose destroy event did not come within a minute of
    /// `now_ns`.
    pub fn forget_before(&mut self, now_ns: u64) {
        while let Some(&(at, cookie)) = self.ended_order.front() {
            if now_ns.saturating_sub(at) < DESTROY_WAIT_NS && self.ended.len() < MAX_TIMED {
                break;
            }
            self.ended_order.pop_front();
            self.ended.remove(&cookie);
        }
    }
}

fn seconds(at_ns: u64, since_ns: u64) -> f64 {
    at_ns.saturating_sub(since_ns) as f64 / 1e9
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use TcpState::*;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn t(at_ms: u64, cookie: u64, old: TcpState, new: TcpState, ports: (u16, u16)) -> Transition {
        Transition {
            at_ns: at_ms * 1_000_000,
            netns: 1,
            cookie,
            old,
            new,
            src: LOCAL,
            sport: ports.0,
            dst: LOCAL,
            dport: ports.1,
        }
    }

    fn of(h: &Happenings, direction: Direction, port: Port) -> Sums {
        h.series
            .get(&(direction, port))
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn a_connection_both_ends() {
        let mut h = Happenings::new(10, [8000]);
        // The client: SYN at 0 ms, ESTAB at 2 ms; the server's end is made at 2 ms.
        h.transition(&t(0, 1, Close, SynSent, (0, 8000)), true);
        h.transition(&t(2, 2, Listen, SynRecv, (8000, 40000)), true);
        h.transition(&t(2, 1, SynSent, Established, (40000, 8000)), true);
        h.transition(&t(2, 2, SynRecv, Established, (8000, 40000)), true);
        // The client closes first, the server follows; both go through FIN states.
        h.transition(&t(100, 1, Established, FinWait1, (40000, 8000)), true);
        h.transition(&t(100, 2, Established, CloseWait, (8000, 40000)), true);
        h.transition(&t(101, 2, CloseWait, LastAck, (8000, 40000)), true);
        h.transition(&t(101, 1, FinWait1, FinWait2, (40000, 8000)), true);
        h.transition(&t(102, 2, LastAck, Close, (8000, 40000)), true);
        h.transition(&t(102, 1, FinWait2, Close, (40000, 8000)), true);
        let l = (SocketAddr::new(LOCAL, 8000), SocketAddr::new(LOCAL, 40000));
        h.destroyed(2, l, (10, 20));
        h.destroyed(1, (l.1, l.0), (20, 10));
        let server = of(&h, Direction::Inbound, Port::Number(8000));
        let client = of(&h, Direction::Outbound, Port::Number(8000));
        for sums in [&server, &client] {
            assert_eq!(
                (sums.opened, sums.closed, sums.failed, sums.reset),
                (1, 1, 0, 0)
            );
            assert_eq!(sums.lifetime.count, 1);
        }
        assert_eq!(client.handshake.sum, 0.002);
        assert_eq!(server.handshake.sum, 0.0);
        assert_eq!(client.lifetime.sum, 0.102);
        assert_eq!((server.bytes_acked, server.bytes_received), (10, 20));
        assert_eq!((client.bytes_acked, client.bytes_received), (20, 10));
        assert!(h.lives.is_empty() && h.ended.is_empty());
    }

    #[test]
    fn refused_reset_and_unseen_births() {
        let mut h = Happenings::new(10, [22]);
        h.transition(&t(0, 1, Close, SynSent, (0, 9)), true);
        h.transition(&t(1, 1, SynSent, Close, (0, 9)), true);
        // Born before the start: placed as a look places it.
        h.transition(&t(5, 2, Established, Close, (22, 50000)), true);
        h.transition(&t(5, 3, CloseWait, LastAck, (50001, 443)), true);
        h.transition(&t(6, 3, LastAck, Close, (50001, 443)), true);
        assert_eq!(of(&h, Direction::Outbound, Port::Number(9)).failed, 1);
        let ssh = of(&h, Direction::Inbound, Port::Number(22));
        assert_eq!((ssh.closed, ssh.reset, ssh.lifetime.count), (1, 1, 0));
        assert_eq!(of(&h, Direction::Outbound, Port::Number(443)).closed, 1);
        // Not counted: nothing is.
        h.transition(&t(7, 4, Close, SynSent, (0, 9)), false);
        h.transition(&t(8, 4, SynSent, Close, (0, 9)), false);
        assert_eq!(of(&h, Direction::Outbound, Port::Number(9)).failed, 1);
        // A listener's destroy carries nothing and makes no series.
        let before = h.series.len();
        h.destroyed(
            9,
            (SocketAddr::new(LOCAL, 22), SocketAddr::new(LOCAL, 0)),
            (0, 0),
        );
        assert_eq!(h.series.len(), before);
    }

    #[test]
    fn the_cap_keeps_a_port_where_it_first_went() {
        let mut h = Happenings::new(2, []);
        for (cookie, port) in [(1, 80), (2, 443), (3, 25), (4, 80), (5, 53), (6, 25)] {
            h.transition(&t(0, cookie, Close, SynSent, (0, port)), true);
            h.transition(&t(1, cookie, SynSent, Established, (40000, port)), true);
        }
        let ports: Vec<_> = h.series.keys().map(|&(_, p)| p).collect();
        assert_eq!(ports, [Port::Number(80), Port::Number(443), Port::Other]);
        assert_eq!(of(&h, Direction::Outbound, Port::Other).opened, 3);
        assert_eq!(of(&h, Direction::Outbound, Port::Number(80)).opened, 2);
        assert_eq!(h.folded, 2);
    }
}
