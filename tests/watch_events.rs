//! watch on the kernel's own TCP transitions (`--source events`): connections that live a few
//! tens of milliseconds between two looks are seen whole, at the kernel's moments, with their
//! lifetimes and byte counts; another namespace's never appear; without the privileges the
//! program needs, watch looks and says so once.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use crate::util::netns::{RUN_LIMIT, run_bounded};
use crate::util::{Named, Netns, SOCKSCOPE, text};
use crate::watch::Stream;
use sockscope::source::transitions::Interest;

/// Whether this machine lets sockscope load its program (as this test process, root like the
/// watch it starts, finds out); says why not where it does not. A program the verifier refuses
/// fails the test.
fn events_available(_ns: &Netns) -> bool {
    crate::transitions::open(&Interest::default()).is_some()
}

/// A wall-clock time from a line's RFC 3339 field.
fn time_of(line: &Value, field: &str) -> SystemTime {
    let text = line[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field}: {line}"));
    // 2026-12-07T00:17:54.104Z
    let (date, rest) = text.split_once('T').unwrap();
    let mut ymd = date.split('-').map(|p| p.parse::<i64>().unwrap());
    let (y, m, d) = (
        ymd.next().unwrap(),
        ymd.next().unwrap(),
        ymd.next().unwrap(),
    );
    let rest = rest.trim_end_matches('Z');
    let mut hms = rest.split(':');
    let h: u64 = hms.next().unwrap().parse().unwrap();
    let min: u64 = hms.next().unwrap().parse().unwrap();
    let sec: f64 = hms.next().unwrap().parse().unwrap();
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe - 719_468) as u64;
    let secs = days * 86_400 + h * 3600 + min * 60;
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_secs_f64(sec)
}

/// What the test's clock knows of a client end's life: it lived at least from the end of
/// `connect` to the start of `close` (`inner`), and at most from before `connect` to after
/// `close` (`outer`), give or take the moment its destruction is read.
struct Life {
    port: u16,
    began: SystemTime,
    ended: SystemTime,
    inner: Duration,
    outer: Duration,
}

/// One HTTP-like exchange on `listener`, the server closing first: 100 bytes up, 50 down,
/// about 30 ms in between. The client end is destroyed once its FIN is acknowledged, just
/// after its `close`.
fn exchange(listener: &TcpListener) -> Life {
    let began = SystemTime::now();
    let outer = Instant::now();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let inner = Instant::now();
    let (mut server, _) = listener.accept().unwrap();
    let port = client.local_addr().unwrap().port();
    client.write_all(&[1; 100]).unwrap();
    server.read_exact(&mut [0; 100]).unwrap();
    server.write_all(&[2; 50]).unwrap();
    client.read_exact(&mut [0; 50]).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    drop(server);
    // The client reads the server's FIN, then closes its end.
    assert_eq!(client.read(&mut [0; 1]).unwrap(), 0);
    let inner = inner.elapsed();
    drop(client);
    Life {
        port,
        began,
        ended: SystemTime::now(),
        inner,
        outer: outer.elapsed(),
    }
}

#[test]
fn short_connections_are_seen_whole() {
    let ns = Netns::new();
    if !events_available(&ns) {
        return;
    }
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55010").unwrap());
    // Looks far apart: everything below happens between two of them, or in the first.
    let mut stream = Stream::with_source(&ns, "events", &["-tn", "--interval", "5", ":55010"]);
    let mut connections = Vec::new();
    for _ in 0..5 {
        connections.push(ns.run(|| exchange(&listener)));
    }
    for life in &connections {
        let port = u64::from(life.port);
        // The exchanges ran one after the other, so their handshakes come in order (a
        // client's port may be taken again by the next one: its end leaves no TIME-WAIT).
        let established = stream.until("the client's ESTAB", |e| {
            e["type"] == "changed"
                && e["changes"]["state"] == serde_json::json!(["SYN-SENT", "ESTAB"])
        });
        assert_eq!(established["socket"]["local_port"], port, "{established}");
        assert_eq!(established["source"], "event", "{established}");
        let at = time_of(&established, "happened_at");
        // Both clocks are read to the millisecond.
        let slack = Duration::from_millis(2);
        assert!(
            at + slack >= life.began && at <= life.ended + slack,
            "ESTAB at {at:?} outside the connection's life {:?}..{:?}: {established}",
            life.began,
            life.ended
        );
        let cookie = established["socket"]["cookie"].clone();
        let removed = stream.until("the client's removal", |e| {
            e["type"] == "removed" && e["socket"]["cookie"] == cookie
        });
        let lifetime = removed["lifetime_ms"].as_u64().expect("a lifetime");
        let (inner, outer) = (life.inner.as_millis() as u64, life.outer.as_millis() as u64);
        assert!(
            inner <= lifetime + 1 && lifetime <= outer + 20,
            "lifetime {lifetime} ms against {inner}..{outer} ms measured: {removed}"
        );
        // tcp_info counts the SYN, and the FIN once acknowledged, as a byte each way.
        let acked = removed["bytes_acked"].as_u64().unwrap();
        let received = removed["bytes_received"].as_u64().unwrap();
        assert!((101..=102).contains(&acked), "{removed}");
        assert!((50..=51).contains(&received), "{removed}");
    }
    // The next look lists the server ends' TIME-WAIT entries.
    let tick = stream.until("the next look", |e| e["type"] == "tick");
    let lines = stream.stop();
    // Each end of each connection is added once, under one cookie: the client at SYN-SENT,
    // the server at SYN-RECV, both from the kernel's transitions.
    let about = |cookie: &Value, kind: &str| -> Vec<&Value> {
        lines
            .iter()
            .filter(|l| l["type"] == kind && l["socket"]["cookie"] == *cookie)
            .collect()
    };
    let added: Vec<&Value> = lines.iter().filter(|l| l["type"] == "added").collect();
    let first = |state: &str| {
        added
            .iter()
            .filter(|l| l["socket"]["state"] == state)
            .count()
    };
    assert_eq!((first("SYN-SENT"), first("SYN-RECV")), (5, 5), "{added:#?}");
    assert!(added.iter().all(|l| l["source"] == "event"), "{added:#?}");
    for line in &added {
        let cookie = &line["socket"]["cookie"];
        assert_eq!(about(cookie, "added").len(), 1, "{cookie}");
        if line["socket"]["state"] == "SYN-RECV" {
            // The server end closed first: it lives on as a TIME-WAIT entry of the same
            // cookie, a change and not a removal.
            let changes: Vec<&Value> = about(cookie, "changed")
                .into_iter()
                .map(|l| &l["changes"]["state"])
                .collect();
            assert_eq!(
                changes,
                [
                    &serde_json::json!(["SYN-RECV", "ESTAB"]),
                    &serde_json::json!(["ESTAB", "FIN-WAIT-1"]),
                    &serde_json::json!(["FIN-WAIT-1", "FIN-WAIT-2"]),
                    &serde_json::json!(["FIN-WAIT-2", "TIME-WAIT"]),
                ],
                "{cookie}"
            );
            assert!(about(cookie, "removed").is_empty(), "{cookie}");
        }
    }
    // The tick's totals are the stream's.
    let removed = lines.iter().filter(|l| l["type"] == "removed").count();
    assert_eq!(tick["added"], added.len() as u64, "{tick}");
    assert_eq!(tick["removed"], removed as u64, "{tick}");
}

#[test]
fn another_namespace_is_not_seen_and_n_watches_it() {
    let watched = Netns::new();
    if !events_available(&watched) {
        return;
    }
    let other = Named::new("events");
    let other_ns = other.netns();
    let here = watched.run(|| TcpListener::bind("127.0.0.1:55011").unwrap());
    let there = other_ns.run(|| TcpListener::bind("127.0.0.1:55011").unwrap());
    let mut stream = Stream::with_source(&watched, "events", &["-tn", "--interval", "5", ":55011"]);
    let mut elsewhere = Stream::with_source(
        &watched,
        "events",
        &["-tn", "--interval", "5", "-N", &other.name, ":55011"],
    );
    let far = u64::from(other_ns.run(|| exchange(&there)).port);
    let near = u64::from(watched.run(|| exchange(&here)).port);
    stream.until("this namespace's client", |e| {
        e["type"] == "changed" && e["socket"]["local_port"] == near
    });
    elsewhere.until("the other namespace's client", |e| {
        e["type"] == "changed" && e["socket"]["local_port"] == far
    });
    let lines = stream.stop();
    assert!(
        lines
            .iter()
            .all(|l| l["socket"]["local_port"] != far && l["socket"]["peer_port"] != far),
        "{lines:#?}"
    );
    let lines = elsewhere.stop();
    assert!(
        lines
            .iter()
            .all(|l| l["socket"]["local_port"] != near && l["socket"]["peer_port"] != near),
        "{lines:#?}"
    );
}

/// Without root, the program cannot be loaded: watch looks and says so once; asked for
/// events, it fails with one line and status 1.
#[test]
fn unprivileged_it_looks_and_says_so() {
    let ns = Netns::new();
    let _listener = ns.run(|| TcpListener::bind("127.0.0.1:55012").unwrap());
    let as_nobody = |args: &[&str]| {
        let mut command = ns.command("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(SOCKSCOPE)
            .args(args);
        run_bounded(&mut command, RUN_LIMIT)
    };
    let out = as_nobody(&["watch", "--count", "1", "--interval", "0.02", "-t"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("kernel events unavailable"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
    assert!(
        said[0].starts_with("sockscope: warning: watch: kernel events unavailable (")
            && said[0].ends_with("); looking every 0.02s"),
        "{stderr}"
    );
    let out = as_nobody(&["watch", "--source", "events", "--count", "1", "-t"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("sockscope: watch: kernel events unavailable"),
        "{stderr}"
    );
}

/// With transitions, a look asks for each socket it follows by itself: bytes waiting in a
/// queue still show, and the listener's accept queue too.
#[test]
fn queues_still_show() {
    let ns = Netns::new();
    if !events_available(&ns) {
        return;
    }
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55014").unwrap());
    let mut stream = Stream::with_source(&ns, "events", &["-tn", "--interval", "0.1", ":55014"]);
    let (_client, _server, _waiting) = ns.run(|| {
        let mut client = TcpStream::connect("127.0.0.1:55014").unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(&[1; 100]).unwrap();
        // A second client the server never accepts.
        let waiting = TcpStream::connect("127.0.0.1:55014").unwrap();
        (client, server, waiting)
    });
    stream.until("the server end's 100 bytes", |e| {
        e["type"] == "changed"
            && e["socket"]["local_port"] == 55014
            && e["changes"]["recv_q"] == serde_json::json!([0, 100])
    });
    stream.until("the accept queue", |e| {
        e["type"] == "changed"
            && e["socket"]["state"] == "LISTEN"
            && e["changes"]["recv_q"] == serde_json::json!([0, 1])
    });
    stream.stop();
}

/// The live view on the kernel's transitions: the handshake and the close in its log as
/// they happen, and a closed connection's lifetime and bytes.
#[test]
fn the_live_view_logs_transitions_and_bytes() {
    let ns = Netns::new();
    if !events_available(&ns) {
        return;
    }
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55015").unwrap());
    let mut command = ns.command(SOCKSCOPE);
    command.env("LC_ALL", "C.UTF-8").env("TERM", "xterm").args([
        "watch",
        "--source",
        "events",
        "--interval",
        "5",
        "-tn",
        ":55015",
    ]);
    let size = (160, 40);
    let mut view = crate::util::pty::Pty::spawn(&mut command, 160, 40);
    crate::live::until(&view, size, "the view", |s| s.contains("sockscope watch"));
    let (mut client, mut server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55015").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let port = client.local_addr().unwrap().port();
    crate::live::until(&view, size, "the handshake in the log", |s| {
        s.contains(&format!(
            "ESTAB 127.0.0.1:{port} -> 127.0.0.1:55015 (was SYN-SENT)"
        ))
    });
    client.write_all(&[1; 100]).unwrap();
    server.read_exact(&mut [0; 100]).unwrap();
    server.write_all(&[2; 50]).unwrap();
    client.read_exact(&mut [0; 50]).unwrap();
    drop(server);
    assert_eq!(client.read(&mut [0; 1]).unwrap(), 0);
    drop(client);
    let shown = crate::live::until(&view, size, "the closed connection's bytes", |s| {
        s.lines().any(|line| {
            line.contains(&format!(
                "- 127.0.0.1:{port} -> 127.0.0.1:55015 closed after"
            )) && line.contains("B out,")
        })
    });
    let line = shown
        .lines()
        .find(|line| line.contains(&format!("- 127.0.0.1:{port} ->")))
        .unwrap();
    // 100 bytes and the SYN and FIN out, 50 and the FIN in.
    assert!(line.contains("102 B out, 51 B in"), "{line}");
    view.send(b"q");
}

/// `-N all` with the kernel's transitions: each is put in its namespace by the namespace's
/// inode, and the record names it.
#[test]
fn in_every_namespace_by_inode() {
    let elsewhere = Netns::new();
    if !events_available(&elsewhere) {
        return;
    }
    let made = Named::new("eventsall");
    let named = made.netns();
    let listener = named.run(|| TcpListener::bind("127.0.0.1:55016").unwrap());
    let mut stream = Stream::with_source(
        &elsewhere,
        "events",
        &["-N", "all", "--interval", "0.2", "-tn", "sport = :55016"],
    );
    // A look has walked the namespaces, so that the transitions' inodes are known.
    stream.until("a look", |e| e["type"] == "tick");
    let (_client, _server) = named.run(|| {
        let client = TcpStream::connect("127.0.0.1:55016").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let added = stream.until("the server end, from its transition", |e| {
        e["type"] == "added" && e["socket"]["state"] == "SYN-RECV"
    });
    assert_eq!(added["source"], "event", "{added}");
    assert_eq!(added["socket"]["netns"], made.name.as_str(), "{added}");
    stream.stop();
}
