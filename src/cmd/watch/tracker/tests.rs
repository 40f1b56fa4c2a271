//! The tracker's diff, on sockets made up for it.
use std::net::SocketAddr;

use super::entry::*;
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

/// A connection no look saw before its end: its destroy event makes its first cookie, and
/// its TIME-WAIT entry is listed under another. One socket, whichever the kernel says first.
#[test]
fn a_time_wait_entry_under_a_new_cookie_is_the_same_socket() {
    let q = query(StateSet::ALL);
    let ends = socket(Netid::Tcp, 5, TcpState::Close, 0).endpoints;
    let closed = Socket {
        endpoints: ends,
        ..socket(Netid::Tcp, 5, TcpState::Close, 0)
    };
    let entry = Socket {
        endpoints: ends,
        ..socket(Netid::Tcp, 9, TcpState::TimeWait, 0)
    };
    // The destroy event first, then the look that lists the entry.
    let (mut tracker, mut sink) = (Tracker::new(&q, false), Recorder::default());
    look(&mut tracker, &q, &[], &[], &mut sink);
    look(&mut tracker, &q, &[], &[closed], &mut sink);
    look(&mut tracker, &q, &[entry], &[], &mut sink);
    look(&mut tracker, &q, &[], &[], &mut sink);
    assert_eq!(
        sink.0,
        ["snapshot 0", "added 9 TIME-WAIT", "removed 9 poll"]
    );
    // The look that lists the entry first, then the destroy event.
    let (mut tracker, mut sink) = (Tracker::new(&q, false), Recorder::default());
    look(&mut tracker, &q, &[], &[], &mut sink);
    look(&mut tracker, &q, &[entry], &[closed], &mut sink);
    look(&mut tracker, &q, &[entry], &[], &mut sink);
    look(&mut tracker, &q, &[], &[], &mut sink);
    assert_eq!(
        sink.0,
        ["snapshot 0", "added 9 TIME-WAIT", "removed 9 poll"]
    );
    assert_eq!(
        tracker.totals(),
        Totals {
            added: 1,
            removed: 1
        }
    );
}
