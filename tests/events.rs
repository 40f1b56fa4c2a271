//! `-E`: destroyed sockets, compared with ss -E following the same namespace.
//!
//! Both tools join the kernel's destroy groups and receive the same messages, so the rows
//! must be the same, detail for detail. ss is run on a terminal: through a pipe it holds its
//! output until it is killed, and loses it.

use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::netns::wait_bounded;
use crate::util::pty::Pty;
use crate::util::{Netns, SOCKSCOPE, reference::comparable, text, wait_readable, wait_subscribed};

/// A connection to a listener on 127.0.0.1:55000 whose server end was closed with ten bytes
/// unread: the listener and the client end, still open.
fn closed_with_data_unread() -> (TcpListener, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:55000").unwrap();
    let mut client = TcpStream::connect("127.0.0.1:55000").unwrap();
    let (server, _) = listener.accept().unwrap();
    std::io::Write::write_all(&mut client, b"0123456789").unwrap();
    wait_readable(&server, 10);
    drop(server);
    (listener, client)
}

/// Sockets of every kind the destroy groups report, opened and closed one after the other:
/// a connection closed with data unread, an IPv6 client of an IPv4-mapped address, a UDP
/// socket with a datagram waiting, a connected IPv6 UDP socket, and a listener with a
/// connection still in its queue.
fn churn() {
    let (listener, client) = closed_with_data_unread();
    drop(client);
    let mapped = SocketAddr::new(Ipv4Addr::LOCALHOST.to_ipv6_mapped().into(), 55000);
    let queued = TcpStream::connect(mapped).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    drop(queued);
    let udp = UdpSocket::bind("127.0.0.1:5353").unwrap();
    udp.send_to(b"hello", "127.0.0.1:5353").unwrap();
    let mut buf = [0u8; 8];
    udp.peek_from(&mut buf).unwrap();
    drop(udp);
    let udp6 = UdpSocket::bind("[::1]:5354").unwrap();
    udp6.connect("[::1]:5353").unwrap();
    drop(udp6);
    std::thread::sleep(Duration::from_millis(20));
    drop(listener);
}

/// Waits until the two texts `read` gives (ss's and ours) are alike as [`comparable`] makes
/// them, ss's is not empty, and both have stayed the same for 200 ms; returns them. Panics,
/// showing both, if that has not happened within 10 s.
///
/// Alike, not only still: the kernel sends destroy events from a work queue, and on a loaded
/// machine either tool may be seconds behind the other.
fn settled(mut read: impl FnMut() -> (String, String)) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut last, mut since) = (read(), Instant::now());
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let now = read();
        if now != last {
            (last, since) = (now, Instant::now());
        }
        let (ss, ours) = (comparable(&last.0), comparable(&last.1));
        if !ss.is_empty() && ss == ours && since.elapsed() >= Duration::from_millis(200) {
            return last;
        }
        assert!(
            Instant::now() < deadline,
            "ss -E and sockscope -E did not print alike within 10 s:\n--- ss\n{ss}\n--- sockscope\n{ours}"
        );
    }
}

/// Collects a child's standard output on a thread.
fn collect(child: &mut Child) -> Arc<Mutex<Vec<u8>>> {
    let mut stdout = child.stdout.take().unwrap();
    let printed = Arc::new(Mutex::new(Vec::new()));
    let into = Arc::clone(&printed);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            into.lock().unwrap().extend_from_slice(&buffer[..n]);
        }
    });
    printed
}

/// Runs `ss -E ARGS` and `sockscope -E ARGS` side by side through [`churn`] and compares what
/// they printed.
fn compare(args: &[&str]) {
    let ns = Netns::new();
    let mut ss = Pty::spawn(ns.command("ss").arg("-E").args(args), 0, 0);
    let mut ours = ns.spawn(SOCKSCOPE, &[&["-E"], args].concat());
    let printed = collect(&mut ours);
    wait_subscribed(&ns, 2);
    ns.run(churn);
    let (ss_text, ours_text) = settled(|| (ss.text(), text(&printed.lock().unwrap())));
    ss.signal(libc::SIGINT);
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(ours.id() as libc::pid_t, libc::SIGINT) };
    let status = wait_bounded(&mut ours, Duration::from_secs(5));
    ss.wait(Duration::from_secs(5));
    let mut stderr = String::new();
    ours.stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "sockscope -E {args:?}: {status:?} {stderr}"
    );
    assert!(stderr.is_empty(), "{stderr}");
    crate::eqnice!(comparable(&ss_text), comparable(&ours_text));
}

#[test]
fn rows_are_ss_rows() {
    compare(&["-n"]);
    compare(&["-en"]);
}

#[test]
fn details_are_ss_details() {
    // Destroy messages always carry tcp_info; ss prints it with -i and with -m.
    compare(&["-tin"]);
    compare(&["-tmo", "-n"]);
}

#[test]
fn tables_families_and_filters_choose() {
    compare(&["-6n"]);
    compare(&["-uan"]);
    compare(&["-4n", "sport", "=", ":55000"]);
}

/// The header comes with the first event, even when the filter rejects it, and states do not
/// filter (State is hidden for a single state, as in a listing).
#[test]
fn header_and_states_as_in_ss() {
    compare(&["-n", "dport", "=", ":55000"]);
    compare(&["-tn", "state", "established"]);
}

/// With --json each destroyed socket is one record on one line, as soon as it is destroyed;
/// SIGTERM ends it with status 0.
#[test]
fn json_lines() {
    let ns = Netns::new();
    let mut child = ns.spawn(SOCKSCOPE, &["-E", "-t", "--json"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    wait_subscribed(&ns, 1);
    let _kept = ns.run(closed_with_data_unread);
    // The line is there before anything else happens: it is flushed as it is printed.
    let line = lines.next().unwrap().unwrap();
    let record: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(record["netid"], "tcp", "{line}");
    assert_eq!(record["state"], "UNCONN", "{line}");
    assert_eq!(record["recv_q"], 10, "{line}");
    assert_eq!(record["local_port"], 55000, "{line}");
    assert_eq!(record["inode"], 0, "{line}");
    // The cookie always, without -e: the key that joins a socket's lines.
    assert!(record["cookie"].as_str().is_some(), "{line}");
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = wait_bounded(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    assert!(lines.next().is_none());
}

/// A closed standard output ends -E quietly at the next event.
#[test]
fn a_closed_pipe_ends_it() {
    let ns = Netns::new();
    let mut child = ns.spawn(SOCKSCOPE, &["-E", "-H", "-u"]);
    wait_subscribed(&ns, 1);
    drop(child.stdout.take());
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        ns.run(|| drop(UdpSocket::bind("127.0.0.1:0").unwrap()));
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = wait_bounded(&mut child, Duration::from_secs(5));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{status:?} {stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// Unix and raw sockets have no destroy events: asking -E for them alone is an error, where
/// ss waits for events that never come.
#[test]
fn tables_without_events_are_an_error() {
    let ns = Netns::new();
    for args in [&["-E", "-x"][..], &["-E", "-w"], &["-E", "-A", "unix"]] {
        let out = ns.output(SOCKSCOPE, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            text(&out.stderr),
            "sockscope: -E shows destroyed TCP and UDP sockets only; the kernel reports no \
             others\n"
        );
    }
}

/// A burst of short connections: -E reports both ends of every one (its buffer and its
/// reader thread keep up), each end once.
#[test]
fn a_burst_loses_nothing() {
    const CONNECTIONS: usize = 3000;
    let ns = Netns::new();
    ns.sysctl(&[("net.ipv4.ip_local_port_range", "20000 60999")]);
    let mut child = ns.spawn(SOCKSCOPE, &["-E", "-t", "--json"]);
    let out = collect(&mut child);
    wait_subscribed(&ns, 1);
    let ports: Vec<u16> = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:55006").unwrap();
        let ports = (0..CONNECTIONS)
            .map(|_| {
                let client = TcpStream::connect("127.0.0.1:55006").unwrap();
                let port = client.local_addr().unwrap().port();
                drop(listener.accept().unwrap());
                drop(client);
                port
            })
            .collect();
        drop(listener);
        ports
    });
    let expected = 2 * CONNECTIONS + 1;
    let deadline = Instant::now() + Duration::from_secs(20);
    let count = || out.lock().unwrap().iter().filter(|&&b| b == b'\n').count();
    while count() < expected && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
    let status = wait_bounded(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{status:?}");
    let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
    let records: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.iter().any(|r| r["type"] == "overrun"), "overrun");
    let mut cookies = std::collections::HashSet::new();
    for record in &records {
        assert!(
            cookies.insert(record["cookie"].to_string()),
            "twice: {record}"
        );
    }
    // The server ends, by their peer (the client's port).
    let servers: std::collections::HashSet<u64> = records
        .iter()
        .filter(|r| r["local_port"] == 55006)
        .filter_map(|r| r["peer_port"].as_u64())
        .collect();
    let lost: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|p| !servers.contains(&u64::from(*p)))
        .collect();
    assert!(
        lost.is_empty(),
        "{} server ends lost: {:?}",
        lost.len(),
        &lost[..lost.len().min(10)]
    );
    assert_eq!(records.len(), expected, "socket ends reported");
}

/// ss 7.1 prints nothing until the first event, and lays its header out together with that
/// event's rows; so does sockscope, byte for byte, on terminals of 132 and 250 columns.
#[test]
fn the_header_comes_with_the_first_rows() {
    let Some(ss71) = crate::util::reference::ss71() else {
        crate::util::skip("SOCKSCOPE_SS71 names no ss 7.1 to compare -E's layout with");
        return;
    };
    for cols in [132, 250] {
        let ns = Netns::new();
        let mut ss = Pty::spawn(ns.command(ss71).args(["-E", "-tn"]), cols, 40);
        let mut ours = Pty::spawn(ns.command(SOCKSCOPE).args(["-E", "-tn"]), cols, 40);
        wait_subscribed(&ns, 2);
        // Both have waited for events a few times with none: sockscope's loop has been through
        // its idle path, where it used to print the header alone.
        wait_idle(ours.pid());
        let _kept = ns.run(closed_with_data_unread);
        // The server end's row: the header came with it.
        let deadline = Instant::now() + Duration::from_secs(10);
        let (ss_text, ours_text) = loop {
            let (a, b) = (ss.text(), ours.text());
            if a.lines().count() >= 2 && a == b {
                break (a, b);
            }
            assert!(
                Instant::now() < deadline,
                "at {cols} columns:\n--- ss 7.1\n{a}\n--- sockscope\n{b}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(ss_text.starts_with("State"), "{ss_text}");
        assert_eq!(ss_text, ours_text);
        ss.signal(libc::SIGINT);
        ours.signal(libc::SIGINT);
        ss.wait(Duration::from_secs(5));
        ours.wait(Duration::from_secs(5));
    }
}

/// Waits (bounded) until the main thread of process `pid` has gone to sleep three more times
/// (its voluntary context switches, from /proc): a loop waiting for events has woken and
/// waited again with nothing to do.
fn wait_idle(pid: u32) {
    let switches = || {
        let status = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/status")).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap()
    };
    let start = switches();
    let deadline = Instant::now() + Duration::from_secs(10);
    while switches() < start + 3 {
        assert!(
            Instant::now() < deadline,
            "process {pid} never waited three times"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
