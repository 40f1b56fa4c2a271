//! The kernel part of watch's event source: the program assembled from this kernel's
//! tracepoint format and BTF goes through the kernel's verifier in every run, and streams the
//! transitions of connections made in the test's own namespace, and of no other.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use sockscope::socket::TcpState;
use sockscope::source::transitions::{Interest, Transition, Transitions, netns_inode};

use crate::util::{self, Netns};

/// The program loaded for `interest`, or `None` (said) where this machine cannot load it.
pub(crate) fn open(interest: &Interest) -> Option<Transitions> {
    match Transitions::open(interest) {
        Ok(transitions) => Some(transitions),
        Err(e) if e.is_environment() => {
            util::skip(&format!(
                "kernel events need root (or CAP_BPF and CAP_PERFMON) and a kernel with BTF \
                 ({e})"
            ));
            None
        }
        // Anything else, a refusal by the verifier above all, is a failure of the program.
        Err(e) => panic!("the event program cannot be loaded: {e}"),
    }
}

fn inode(ns: &Netns) -> u64 {
    netns_inode(Path::new(&ns.path())).expect("the namespace file's inode")
}

/// Drains transitions until `done` says the collection is complete, for at most 10 s.
fn collect(
    transitions: &mut Transitions,
    mut done: impl FnMut(&[Transition]) -> bool,
) -> Vec<Transition> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while !done(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the transitions did not all come within 10 s; seen: {seen:#?}"
        );
        let mut poll = libc::pollfd {
            fd: transitions.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one pollfd for the ring buffer's descriptor, which lives across the call.
        unsafe { libc::poll(&mut poll, 1, left.as_millis().min(1000) as i32) };
        transitions
            .drain(|t| -> Result<(), ()> {
                seen.push(t.expect("a whole record"));
                Ok(())
            })
            .unwrap();
    }
    seen
}

/// One connection to `port` in `ns`, the client closing first: 20 bytes each way.
fn connection(ns: &Netns, port: u16) -> (SocketAddr, SocketAddr) {
    ns.run(|| {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let ends = (client.local_addr().unwrap(), server.local_addr().unwrap());
        client.write_all(&[1; 20]).unwrap();
        server.read_exact(&mut [0; 20]).unwrap();
        server.write_all(&[2; 20]).unwrap();
        client.read_exact(&mut [0; 20]).unwrap();
        drop(client);
        // The server reads the client's FIN, then closes its end.
        assert_eq!(server.read(&mut [0; 1]).unwrap(), 0);
        drop(server);
        ends
    })
}

#[test]
fn every_transition_of_a_connection_comes_in_order() {
    let ns = Netns::new();
    let port = 41_000 + (std::process::id() % 1000) as u16;
    let interest = Interest {
        netns: Some(inode(&ns)),
        ports: vec![port],
    };
    let Some(mut transitions) = open(&interest) else {
        return;
    };
    let (client, _) = connection(&ns, port);
    // The client end reaches CLOSE after FIN-WAIT-2, the server end after LAST-ACK, and the
    // listener when it is closed.
    let seen = collect(&mut transitions, |seen| {
        seen.iter()
            .filter(|t| t.new == TcpState::Close && t.old != TcpState::SynSent)
            .count()
            >= 3
    });
    let mut by_socket: HashMap<u64, Vec<(TcpState, TcpState)>> = HashMap::new();
    let mut order = Vec::new();
    for t in &seen {
        assert_eq!(t.netns, interest.netns.unwrap());
        assert!(t.sport == port || t.dport == port, "{t:?}");
        if !by_socket.contains_key(&t.cookie) {
            order.push(t.cookie);
        }
        by_socket.entry(t.cookie).or_default().push((t.old, t.new));
    }
    for pair in seen.windows(2) {
        assert!(
            pair[0].at_ns <= pair[1].at_ns,
            "times go backwards: {pair:?}"
        );
    }
    use TcpState::*;
    let client_sk = seen
        .iter()
        .find(|t| t.sport == client.port())
        .map(|t| t.cookie)
        .expect("the client's transitions");
    assert_eq!(
        by_socket[&client_sk],
        [
            (Close, SynSent),
            (SynSent, Established),
            (Established, FinWait1),
            (FinWait1, FinWait2),
            (FinWait2, Close)
        ],
        "the client end: {seen:#?}"
    );
    // The client's port is 0 at SYN-SENT, chosen by the connect that follows.
    let first = seen.iter().find(|t| t.cookie == client_sk).unwrap();
    assert_eq!((first.sport, first.dport), (0, port));
    let listener = by_socket
        .iter()
        .find(|(_, steps)| steps.first() == Some(&(Close, Listen)))
        .expect("the listener's transitions");
    assert_eq!(listener.1, &[(Close, Listen), (Listen, Close)]);
    let server: Vec<_> = by_socket
        .values()
        .filter(|steps| steps.contains(&(Established, CloseWait)))
        .collect();
    // The server end is born as the listener's child at LISTEN -> SYN-RECV, when the
    // handshake's last ACK arrives, and is one socket from there to its CLOSE.
    assert_eq!(server.len(), 1, "{by_socket:#?}");
    assert_eq!(
        server[0].as_slice(),
        [
            (Listen, SynRecv),
            (SynRecv, Established),
            (Established, CloseWait),
            (CloseWait, LastAck),
            (LastAck, Close)
        ]
    );
    assert_eq!(transitions.lost().unwrap(), 0);
}

#[test]
fn another_namespaces_connections_are_not_seen() {
    let watched = Netns::new();
    let other = Netns::new();
    let port = 42_000 + (std::process::id() % 1000) as u16;
    let interest = Interest {
        netns: Some(inode(&watched)),
        ports: vec![],
    };
    let Some(mut transitions) = open(&interest) else {
        return;
    };
    connection(&other, port);
    connection(&watched, port);
    let seen = collect(&mut transitions, |seen| {
        seen.iter()
            .any(|t| t.old == TcpState::Listen && t.new == TcpState::Close)
    });
    assert!(
        seen.iter().all(|t| t.netns == interest.netns.unwrap()),
        "{seen:#?}"
    );
    // The other namespace's connection came first; none of it is there, and nothing else of
    // the watched namespace happened: every transition is the watched connection's.
    assert!(
        seen.iter().all(|t| t.sport == port || t.dport == port),
        "{seen:#?}"
    );
    assert_eq!(
        seen.first().map(|t| (t.old, t.new)),
        Some((TcpState::Close, TcpState::Listen))
    );
}

#[test]
fn the_verifier_accepts_every_shape_of_the_program() {
    for interest in [
        Interest::default(),
        Interest {
            netns: Some(1),
            ports: vec![],
        },
        Interest {
            netns: None,
            ports: (1..=64).collect(),
        },
    ] {
        if open(&interest).is_none() {
            return;
        }
    }
}

#[test]
fn an_events_cookie_is_the_one_sock_diag_lists() {
    let ns = Netns::new();
    let interest = Interest {
        netns: Some(inode(&ns)),
        ports: vec![],
    };
    let Some(mut transitions) = open(&interest) else {
        return;
    };
    // A connection left open, so that a listing sees both ends.
    let _ends = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        (listener, client, server)
    });
    let seen = collect(&mut transitions, |seen| {
        seen.iter()
            .filter(|t| t.new == TcpState::Established)
            .count()
            >= 2
    });
    let out = util::netns::run_bounded(
        ns.command(util::SOCKSCOPE).args(["-tane", "--json"]),
        util::netns::RUN_LIMIT,
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cookies: Vec<(String, u16)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["cookie"].as_str().unwrap().to_owned(),
                s["local_port"].as_u64().unwrap() as u16,
            )
        })
        .collect();
    for t in seen.iter().filter(|t| t.new == TcpState::Established) {
        assert!(
            cookies.contains(&(format!("{:x}", t.cookie), t.sport)),
            "{t:?} not in {cookies:?}"
        );
    }
}
