//! `sockscope watch`: sockets followed over time in a private namespace, as JSON lines and on
//! a terminal.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::netns::wait_bounded;
use crate::util::{Named, Netns, SOCKSCOPE, skip, text, wait_readable, wait_subscribed};

/// A running `sockscope watch --jsonl ...` and the events it printed so far.
pub(crate) struct Stream {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<Value>,
    /// Which of `seen` [`Stream::until`] returned.
    taken: Vec<bool>,
}

impl Stream {
    /// Watch by looking (`--source poll`): these tests follow the looks and destroy events;
    /// tests/watch_events.rs follows the kernel's transitions.
    pub(crate) fn start(ns: &Netns, args: &[&str]) -> Stream {
        Stream::with_source(ns, "poll", args)
    }

    pub(crate) fn with_source(ns: &Netns, source: &str, args: &[&str]) -> Stream {
        let watch = ["watch", "--jsonl", "--source", source];
        let mut child = ns.spawn(SOCKSCOPE, &[&watch[..], args].concat());
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut stream = Stream {
            child,
            lines,
            seen: Vec::new(),
            taken: Vec::new(),
        };
        stream.until("the snapshot", |e| e["type"] == "snapshot");
        stream
    }

    /// The first event not returned before that satisfies `wanted`, reading more (for at
    /// most 10 s) when none has yet.
    pub(crate) fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = (0..self.seen.len()).find(|&i| !self.taken[i] && wanted(&self.seen[i])) {
            self.taken[i] = true;
            return self.seen[i].clone();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no {what} within 10 s; the stream so far:\n{}", self.dump())
            });
            let event: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.seen.push(event.clone());
            let hit = wanted(&event);
            self.taken.push(hit);
            if hit {
                return event;
            }
        }
    }

    fn dump(&self) -> String {
        let lines: Vec<String> = self
            .seen
            .iter()
            .filter(|e| e["type"] != "tick")
            .map(Value::to_string)
            .collect();
        lines.join("\n")
    }

    /// Stops it with SIGTERM; it must end with status 0 and nothing on stderr.
    pub(crate) fn stop(mut self) -> Vec<Value> {
        // SAFETY: kill(2) on the pid of the child this test started.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_bounded(&mut self.child, Duration::from_secs(10));
        let mut stderr = String::new();
        let _ = self
            .child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr);
        assert!(status.success(), "{status:?} {stderr}");
        assert!(stderr.is_empty(), "{stderr}");
        // Whatever was left unread when it ended.
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            let event = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
            self.seen.push(event);
        }
        well_formed(&self.seen);
        self.seen
    }
}

/// `args` and a filter for port 55000 in a listing's default states (watch's default is every
/// state): these tests follow connections, not the listener or TIME-WAIT entries.
fn listing_states<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let filter = [
        "state",
        "connected",
        "exclude",
        "time-wait",
        "exclude",
        "syn-recv",
        "( sport = :55000 or dport = :55000 )",
    ];
    args.iter().copied().chain(filter).collect()
}

/// What every stream must be: `time` never goes backwards from one line to the next, a
/// `happened_at` is never after its line's `time`, and every socket record has its cookie.
fn well_formed(events: &[Value]) {
    let mut last = String::new();
    for event in events {
        let time = event["time"]
            .as_str()
            .unwrap_or_else(|| panic!("no time: {event}"));
        // RFC 3339 in UTC with milliseconds: the text orders as the time does.
        assert!(
            time >= last.as_str(),
            "time went back from {last} to {event}"
        );
        if let Some(happened) = event["happened_at"].as_str() {
            // A line from the kernel's transition always gives its moment, which may be the
            // line's own millisecond; otherwise the moment is given only when it is earlier.
            if event["source"] == "event" {
                assert!(happened <= time, "{event}");
            } else {
                assert!(happened < time, "{event}");
            }
        }
        last = time.to_owned();
        let records = match event["type"].as_str() {
            Some("snapshot") => event["sockets"].as_array().unwrap().iter().collect(),
            Some("added" | "changed" | "removed") => vec![&event["socket"]],
            _ => vec![],
        };
        for record in records {
            let cookie = record["cookie"]
                .as_str()
                .unwrap_or_else(|| panic!("{event}"));
            assert!(u64::from_str_radix(cookie, 16).is_ok(), "{event}");
        }
    }
}

/// Whether an event is about the socket with these ports.
fn about(event: &Value, kind: &str, local: u64, peer: u64) -> bool {
    event["type"] == kind
        && event["socket"]["local_port"] == local
        && event["socket"]["peer_port"] == peer
}

fn port(stream: &TcpStream) -> u64 {
    u64::from(stream.local_addr().unwrap().port())
}

/// A connection is added, its queue fills and drains, it changes state as it closes, and it
/// is removed, in that order.
#[test]
fn a_connection_from_start_to_end() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let mut watch = Stream::start(&ns, &listing_states(&["--interval", "0.05", "-t"]));
    let (mut client, server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55000").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let cport = port(&client);
    let added = watch.until("the server end added", |e| about(e, "added", 55000, cport));
    assert_eq!(added["socket"]["state"], "ESTAB");
    assert_eq!(added["socket"]["recv_q"], 0);
    assert!(added["time"].as_str().unwrap().ends_with('Z'));

    client.write_all(&[7; 100]).unwrap();
    wait_readable(&server, 100);
    let filled = watch.until("Recv-Q filling", |e| about(e, "changed", 55000, cport));
    assert_eq!(filled["changes"]["recv_q"], serde_json::json!([0, 100]));
    assert_eq!(filled["socket"]["recv_q"], 100);

    let mut buf = [0u8; 100];
    (&server).read_exact(&mut buf).unwrap();
    let drained = watch.until("Recv-Q draining", |e| about(e, "changed", 55000, cport));
    assert_eq!(drained["changes"]["recv_q"], serde_json::json!([100, 0]));

    drop(client);
    let closing = watch.until("CLOSE-WAIT", |e| about(e, "changed", 55000, cport));
    assert_eq!(
        closing["changes"]["state"],
        serde_json::json!(["ESTAB", "CLOSE-WAIT"])
    );
    drop(server);
    let removed = watch.until("the server end removed", |e| {
        about(e, "removed", 55000, cport)
    });
    assert_eq!(removed["source"], "destroy", "{removed}");
    assert!(removed["lifetime_ms"].as_u64().is_some(), "{removed}");
    // The client end, closed first, went through FIN-WAIT-2 to TIME-WAIT, which is not
    // watched by default: removed too.
    watch.until("the client end removed", |e| {
        about(e, "removed", cport, 55000)
    });
    let events = watch.stop();
    let ticks = events.iter().filter(|e| e["type"] == "tick").count();
    assert!(ticks >= 3, "{ticks} ticks");
    for tick in events.iter().filter(|e| e["type"] == "tick") {
        assert!(tick["count"].as_u64().unwrap() <= 2, "{tick}");
    }
    // The server end's story, in order: added, changed (at least the three changes above; a
    // look may also catch LAST-ACK), removed.
    let story: Vec<&str> = events
        .iter()
        .filter(|e| e["socket"]["local_port"] == 55000 && e["socket"]["peer_port"] == cport)
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    let (first, middle, last) = (story[0], &story[1..story.len() - 1], story[story.len() - 1]);
    assert!(
        first == "added" && last == "removed" && middle.len() >= 3,
        "{story:?}"
    );
    assert!(middle.iter().all(|&kind| kind == "changed"), "{story:?}");
}

/// A connection opened and closed between two looks still shows: the kernel's destroy events
/// report both ends, as sockets no look listed.
fn between_two_looks(args: &[&str], within: Duration) {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let mut watch = Stream::start(&ns, args);
    wait_subscribed(&ns, 1);
    let started = Instant::now();
    let cport = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55000").unwrap();
        let (server, _) = listener.accept().unwrap();
        let cport = port(&client);
        drop(client);
        drop(server);
        cport
    });
    for (local, peer) in [(55000, cport), (cport, 55000)] {
        let removed = watch.until("a removal", |e| about(e, "removed", local, peer));
        assert_eq!(removed["source"], "destroy", "{removed}");
        assert_eq!(removed["lifetime_ms"], Value::Null, "{removed}");
    }
    assert!(
        started.elapsed() < within,
        "{args:?}: {:?}",
        started.elapsed()
    );
    let events = watch.stop();
    assert!(
        !events.iter().any(|e| e["type"] == "added"),
        "{args:?}: {events:?}"
    );
}

/// With the default states a destroyed TCP socket may live on as a FIN-WAIT-2 or TIME-WAIT
/// entry, so the next look decides.
#[test]
fn a_connection_between_two_looks() {
    between_two_looks(
        &listing_states(&["--interval", "1", "-t"]),
        Duration::from_secs(5),
    );
}

/// With states that rule those entries out, the removal is reported at once, long before
/// the next look.
#[test]
fn a_connection_between_two_looks_reported_at_once() {
    between_two_looks(
        &[
            "--interval",
            "30",
            "-t",
            "state",
            "established",
            "( sport = :55000 or dport = :55000 )",
        ],
        Duration::from_secs(2),
    );
}

/// `--count N` ends the watch after N looks (each followed by a tick) with status 0.
#[test]
fn count_ends_it() {
    let ns = Netns::new();
    let _listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let out = ns.output(
        SOCKSCOPE,
        &["watch", "--count", "3", "--interval", "0.02", "-tl"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let events: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["snapshot", "tick", "tick", "tick"]);
    let sockets = events[0]["sockets"].as_array().unwrap();
    assert_eq!(sockets.len(), 1, "{}", events[0]);
    assert_eq!(sockets[0]["state"], "LISTEN");
    assert_eq!(sockets[0]["local_port"], 55000);
    assert!(events[1..].iter().all(|e| e["count"] == 1));
}

/// A closed standard output ends the watch quietly, with status 0.
#[test]
fn a_closed_pipe_ends_it() {
    let ns = Netns::new();
    let script = format!(
        "{SOCKSCOPE} watch --interval 0.02 -t | head -1 >/dev/null; echo \"status ${{PIPESTATUS[0]}}\""
    );
    let out = ns.output("bash", &["-c", &script]);
    assert_eq!(text(&out.stdout), "status 0\n", "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
}

/// Without destroy events (here: no descriptor left for their socket) watch still looks at
/// the table every interval, after one warning line.
#[test]
fn without_destroy_events_it_still_looks() {
    let ns = Netns::new();
    let _listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let script =
        format!("ulimit -n 4; exec {SOCKSCOPE} watch --source poll --count 2 --interval 0.02 -tl");
    let out = ns.output("bash", &["-c", &script]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "sockscope: warning: cannot subscribe to the kernel's socket-destroy events"
        ),
        "{stderr}"
    );
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert!(stdout.contains("\"local_port\":55000"), "{stdout}");
}

/// With -i, bytes flowing show as rates per second.
#[test]
fn rates_with_info() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let mut watch = Stream::start(&ns, &["--interval", "0.1", "-ti", ":55000"]);
    let (mut client, mut server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55000").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let cport = port(&client);
    watch.until("the server end added", |e| about(e, "added", 55000, cport));
    // 64 KiB every 5 ms for a third of a second: a steady stream that leaves the machine
    // (and the other tests) alone.
    let sender = std::thread::spawn(move || {
        let chunk = [1u8; 64 * 1024];
        for _ in 0..64 {
            client.write_all(&chunk).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let mut buf = vec![0u8; 64 * 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    server
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while Instant::now() < deadline {
        match server.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    sender.join().unwrap();
    let moving = watch.until("a rate", |e| {
        about(e, "changed", 55000, cport) && e["changes"]["bytes_in_per_sec"].is_array()
    });
    assert!(
        moving["changes"]["bytes_in_per_sec"][1].as_u64().unwrap() > 0,
        "{moving}"
    );
    assert!(moving["socket"]["tcp_info"].is_object(), "{moving}");
    watch.stop();
}

/// Options watch cannot use are refused, as is an interval under 10 ms.
#[test]
fn bad_options() {
    let ns = Netns::new();
    for (args, message) in [
        (
            &["watch", "-s"][..],
            "sockscope: unexpected argument '-s' found\n",
        ),
        (
            &["watch", "-t", "--json"],
            "sockscope: unexpected argument '--json' found (did you mean '--jsonl'?)\n",
        ),
        (
            &["watch", "-K"],
            "sockscope: unexpected argument '-K' found\n",
        ),
    ] {
        let out = ns.output(SOCKSCOPE, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(text(&out.stderr), message);
    }
    let out = ns.output(SOCKSCOPE, &["watch", "--interval", "0.001"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("the interval must be from 0.01 to 86400 seconds"),
        "{}",
        text(&out.stderr)
    );
    let out = ns.output(SOCKSCOPE, &["watch", "sport", "=", ":x:y"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
}
/// The client port of a connection to `port` a record is about (either end).
fn client_port(record: &Value, port: u64) -> Option<u64> {
    if record["local_port"] == port {
        record["peer_port"].as_u64()
    } else if record["peer_port"] == port {
        record["local_port"].as_u64()
    } else {
        None
    }
}

/// A burst of short connections to a watched port: every one shows in the stream (each end
/// reported added, or removed with `source: destroy`), told apart by its client port.
#[test]
fn a_burst_is_accounted_for() {
    const CONNECTIONS: usize = 3000;
    let ns = Netns::new();
    // Deterministic: enough ports, and no TIME-WAIT table to run out of.
    ns.sysctl(&[
        ("net.ipv4.ip_local_port_range", "20000 60999"),
        ("net.ipv4.tcp_max_tw_buckets", "262144"),
    ]);
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55001").unwrap());
    let mut watch = Stream::start(&ns, &["--interval", "0.2", "-t", ":55001"]);
    wait_subscribed(&ns, 1);
    let made: Vec<u64> = ns.run(move || {
        let accepter = std::thread::spawn(move || {
            for _ in 0..CONNECTIONS {
                let Ok((server, _)) = listener.accept() else {
                    break;
                };
                drop(server);
            }
        });
        let ports = (0..CONNECTIONS)
            .map(|_| {
                let client = TcpStream::connect("127.0.0.1:55001").unwrap();
                port(&client)
            })
            .collect();
        accepter.join().unwrap();
        ports
    });
    let mut missing: std::collections::BTreeSet<u64> = made.iter().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut read = 0;
    while !missing.is_empty() && Instant::now() < deadline {
        let event = watch.until("more lines", |e| e["type"] != "tick");
        read += 1;
        let counts = event["type"] == "added"
            || (event["type"] == "removed" && event["source"] == "destroy")
            || event["type"] == "changed";
        if let Some(client) = client_port(&event["socket"], 55001).filter(|_| counts) {
            missing.remove(&client);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {CONNECTIONS} connections never showed in {read} lines: {:?}...",
        missing.len(),
        missing.iter().take(10).collect::<Vec<_>>()
    );
    let events = watch.stop();
    assert!(!events.iter().any(|e| e["type"] == "overrun"));
}

/// A connection that was open before watch started says so when it goes: its lifetime is a
/// lower bound. One made while watching does not.
#[test]
fn a_socket_from_before_watch_is_marked() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55002").unwrap());
    let (old_client, old_server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55002").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let old = port(&old_client);
    let mut watch = Stream::start(&ns, &["--interval", "0.05", "-t", ":55002"]);
    let snapshot = watch.seen[0].clone();
    let listed = snapshot["sockets"].as_array().unwrap();
    assert!(
        listed.iter().any(|s| client_port(s, 55002) == Some(old)),
        "{snapshot}"
    );
    let (new_client, new_server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55002").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let new = port(&new_client);
    watch.until("the new one added", |e| about(e, "added", 55002, new));
    drop((old_client, old_server, new_client, new_server));
    let gone = watch.until("the old one removed", |e| about(e, "removed", 55002, old));
    assert_eq!(gone["seen_since_start"], true, "{gone}");
    assert!(gone["lifetime_ms"].as_u64().is_some(), "{gone}");
    let gone = watch.until("the new one removed", |e| about(e, "removed", 55002, new));
    assert!(gone.get("seen_since_start").is_none(), "{gone}");
    watch.stop();
}

/// Connections made and closed between two looks count as new and as closed in the ticks'
/// totals.
#[test]
fn totals_count_between_look_sockets() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55003").unwrap());
    // Established only: with every state (watch's default) each connection's TIME-WAIT
    // entry, a socket of its own, would be added at the next look too.
    let mut watch = Stream::start(
        &ns,
        &[
            "--interval",
            "1",
            "-t",
            "state",
            "established",
            "( sport = :55003 or dport = :55003 )",
        ],
    );
    wait_subscribed(&ns, 1);
    ns.run(|| {
        for _ in 0..10 {
            let client = TcpStream::connect("127.0.0.1:55003").unwrap();
            let (server, _) = listener.accept().unwrap();
            drop((client, server));
        }
    });
    // The totals of the ticks that follow, until all twenty ends are counted: on a loaded
    // machine the ten connections may straddle a look (30 ticks at most).
    let (mut added, mut removed, mut ticks) = (0, 0, Vec::new());
    while removed < 20 {
        assert!(
            ticks.len() < 30,
            "not 20 removed in {} ticks: {ticks:?}",
            ticks.len()
        );
        let tick = watch.until("a tick", |e| e["type"] == "tick");
        added += tick["added"].as_u64().unwrap_or(0);
        removed += tick["removed"].as_u64().unwrap_or(0);
        ticks.push(tick);
    }
    assert_eq!(added, removed, "{ticks:?}");
    watch.stop();
}

/// Twenty short HTTP-like connections whose server closes first, none seen by a look before
/// its end: the server end is destroyed (the destroy event makes its first cookie) and its
/// TIME-WAIT entry is listed under another. One socket all the same: added once, as the look
/// lists it, and never removed while listed; the client end came and went between looks.
#[test]
fn a_connection_ending_in_time_wait_is_one_socket() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55013").unwrap());
    let mut watch = Stream::start(&ns, &["--interval", "1", "-tn", ":55013"]);
    wait_subscribed(&ns, 1);
    let clients: Vec<u64> = ns.run(|| {
        (0..20)
            .map(|_| {
                let mut client = TcpStream::connect("127.0.0.1:55013").unwrap();
                let (server, _) = listener.accept().unwrap();
                let port = port(&client);
                drop(server);
                assert_eq!(client.read(&mut [0; 1]).unwrap(), 0);
                port
            })
            .collect()
    });
    for &client in &clients {
        watch.until("the server end's TIME-WAIT entry", |e| {
            about(e, "added", 55013, client) && e["socket"]["state"] == "TIME-WAIT"
        });
    }
    let tick = watch.until("the look's tick", |e| e["type"] == "tick");
    let lines = watch.stop();
    let count = |kind: &str, local: u64, peer: u64| {
        lines.iter().filter(|e| about(e, kind, local, peer)).count()
    };
    for &client in &clients {
        assert_eq!(count("added", 55013, client), 1, "server end of {client}");
        assert_eq!(count("removed", 55013, client), 0, "server end of {client}");
        assert_eq!(count("removed", client, 55013), 1, "client end {client}");
    }
    // The totals: every end added (the client's counted by its removal, which has no
    // lifetime), and only the clients removed.
    let added = lines.iter().filter(|e| e["type"] == "added").count();
    let between = lines
        .iter()
        .filter(|e| e["type"] == "removed" && e["lifetime_ms"].is_null())
        .count();
    let removed = lines.iter().filter(|e| e["type"] == "removed").count();
    assert_eq!(tick["added"], (added + between) as u64, "{tick}");
    assert_eq!(tick["removed"], removed as u64, "{tick}");
}

/// Whether the process `pid` is among the holders of `socket`, a socket as JSON with `-p`.
fn held_by(socket: &Value, pid: u64) -> bool {
    socket["processes"]
        .as_array()
        .is_some_and(|p| p.iter().any(|o| o["pid"] == pid))
}

/// `-N NAME` watches the sockets of a named namespace; `-p` adds who holds them.
#[test]
fn in_a_named_namespace_with_processes() {
    let made = Named::new("watch");
    let name = made.name.clone();
    let named = made.netns();
    let listener = named.run(|| TcpListener::bind("127.0.0.1:55004").unwrap());
    // Started outside the namespace: -N takes it there.
    let elsewhere = Netns::new();
    let mut watch = Stream::start(
        &elsewhere,
        &["-N", &name, "-p", "--interval", "0.05", "-ta", ":55004"],
    );
    let snapshot = watch.seen[0].clone();
    let sockets = snapshot["sockets"].as_array().unwrap();
    let found = sockets
        .iter()
        .find(|s| s["local_port"] == 55004 && s["state"] == "LISTEN")
        .unwrap_or_else(|| panic!("no listener in {snapshot}"));
    let pid = u64::from(std::process::id());
    assert!(held_by(found, pid), "{found}");
    // A socket made later: its owner comes from a second scan.
    let client = named.run(|| TcpStream::connect("127.0.0.1:55004").unwrap());
    let added = watch.until("the client added", |e| {
        about(e, "added", port(&client), 55004)
    });
    assert!(held_by(&added["socket"], pid), "{added}");
    watch.stop();
    drop(listener);
}

/// `-N all` looks in every namespace and says which each socket is in; a connection made in a
/// namespace while watching is reported there too.
#[test]
fn in_every_namespace() {
    let made = Named::new("watchall");
    let name = made.name.clone();
    let named = made.netns();
    let listener = named.run(|| TcpListener::bind("127.0.0.1:55007").unwrap());
    let elsewhere = Netns::new();
    let mut watch = Stream::start(
        &elsewhere,
        &["-N", "all", "--interval", "0.1", "-ta", "sport = :55007"],
    );
    let snapshot = watch.seen[0].clone();
    let ours: Vec<&Value> = snapshot["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "LISTEN")
        .collect();
    assert!(
        ours.iter().any(|s| s["netns"] == name.as_str()),
        "{snapshot}"
    );
    let (client, _server) = named.run(|| {
        let client = TcpStream::connect("127.0.0.1:55007").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let added = watch.until("the server end added", |e| {
        about(e, "added", 55007, port(&client))
    });
    assert_eq!(added["socket"]["netns"], name.as_str(), "{added}");
    watch.stop();
}

/// Where the kernel drops destroy events (here: watch and -E stopped with SIGSTOP while a
/// burst overruns the buffer an unprivileged process may have), they go on and say where the
/// hole is, with an `overrun` line; watch looks again at once.
#[test]
fn an_overrun_is_a_line_and_not_the_end() {
    let rmem_max: u64 = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    if rmem_max > 16 << 20 {
        return skip(&format!(
            "net.core.rmem_max is {rmem_max}, too large to overrun in a test"
        ));
    }
    // What the test counts on: unprivileged, the buffer is what rmem_max allows.
    let ns = Netns::new();
    ns.sysctl(&[("net.ipv4.ip_local_port_range", "20000 60999")]);
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55008").unwrap());
    for args in [
        // Connected sockets only: with watch's every-state default, the burst's TIME-WAIT
        // entries would flood the stream after SIGCONT.
        &[
            "watch",
            "--jsonl",
            "--interval",
            "0.2",
            "-t",
            "state",
            "connected",
            "exclude",
            "time-wait",
            "( sport = :55008 or dport = :55008 )",
        ][..],
        &["-E", "-t", "--json"],
    ] {
        let mut command = ns.command(SOCKSCOPE);
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Unprivileged, so that the buffer is what rmem_max allows.
        // SAFETY: the closure runs in the child between fork and exec and only calls
        // setgroups, setgid and setuid, which are async-signal-safe.
        unsafe {
            std::os::unix::process::CommandExt::pre_exec(&mut command, || {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            })
        };
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        wait_subscribed(&ns, 1);
        std::thread::sleep(Duration::from_millis(300));
        let pid = child.id() as libc::pid_t;
        // SAFETY: kill(2) on the pid of the child this test started.
        unsafe { libc::kill(pid, libc::SIGSTOP) };
        // Short connections until the kernel drops events for the stopped subscriber, as
        // /proc/net/netlink counts them (bounded).
        let dropped = ns.run(|| {
            let drops = || -> u64 {
                let table = std::fs::read_to_string("/proc/thread-self/net/netlink").unwrap();
                table
                    .lines()
                    .skip(1)
                    .map(|line| line.split_whitespace().collect::<Vec<_>>())
                    .filter(|f| f.get(1) == Some(&"4") && f.get(3) != Some(&"00000000"))
                    .filter_map(|f| f.get(8)?.parse::<u64>().ok())
                    .sum()
            };
            // The kernel sends the events from a work queue: they may come after the burst.
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut made = 0;
            while drops() == 0 && Instant::now() < deadline {
                if made < 60_000 {
                    for _ in 0..1000 {
                        drop(TcpStream::connect("127.0.0.1:55008").unwrap());
                        drop(listener.accept().unwrap());
                    }
                    made += 1000;
                } else {
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
            if drops() > 0 {
                Ok(())
            } else {
                Err(std::fs::read_to_string("/proc/thread-self/net/netlink").unwrap())
            }
        });
        if let Err(table) = dropped {
            panic!("{args:?}: the kernel dropped no event in 60,000 connections:\n{table}");
        }
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGCONT) };
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut overrun = None;
        let mut after = 0;
        while after == 0 && Instant::now() < deadline {
            let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) else {
                if overrun.is_some() {
                    // The line comes after the events the buffer held; more follow it.
                    ns.run(|| {
                        drop(TcpStream::connect("127.0.0.1:55008").unwrap());
                        drop(listener.accept().unwrap());
                    });
                }
                continue;
            };
            let event: Value = serde_json::from_str(&line).unwrap();
            if event["type"] == "overrun" {
                overrun.get_or_insert(event);
            } else if overrun.is_some() {
                after += 1;
            }
        }
        let overrun = overrun.unwrap_or_else(|| panic!("{args:?}: no overrun line"));
        assert!(overrun["time"].as_str().is_some(), "{overrun}");
        assert!(after > 0, "{args:?}: nothing after the overrun line");
        // SAFETY: as above.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = wait_bounded(&mut child, Duration::from_secs(5));
        assert!(status.success(), "{args:?} {status:?}");
    }
}

/// SIGTERM ends watch within two seconds even when its standard output is a full pipe that
/// nobody reads.
#[test]
fn sigterm_wins_over_a_full_pipe() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55005").unwrap());
    // Enough sockets for a snapshot far larger than a pipe holds.
    let _held: Vec<_> = ns.run(|| {
        (0..1500)
            .map(|_| {
                let client = TcpStream::connect("127.0.0.1:55005").unwrap();
                (client, listener.accept().unwrap().0)
            })
            .collect()
    });
    for args in [
        &["watch", "--jsonl", "--interval", "0.05", "-t"][..],
        &["-E", "--json"],
    ] {
        let mut child = ns
            .command(SOCKSCOPE)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let _unread = child.stdout.take();
        if args[0] == "-E" {
            wait_subscribed(&ns, 1);
            ns.run(|| {
                for _ in 0..1500 {
                    drop(TcpStream::connect("127.0.0.1:55005").unwrap());
                    drop(listener.accept().unwrap());
                }
            });
        }
        std::thread::sleep(Duration::from_millis(500));
        assert!(child.try_wait().unwrap().is_none(), "{args:?} ended early");
        let sent = Instant::now();
        // SAFETY: kill(2) on the pid of the child this test started.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_bounded(&mut child, Duration::from_secs(10));
        let took = sent.elapsed();
        assert!(took < Duration::from_secs(2), "{args:?} took {took:?}");
        assert!(status.success(), "{args:?} {status:?}");
    }
}
