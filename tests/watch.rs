//! `sockscope watch`: sockets followed over time in a private namespace, as JSON lines and on
//! a terminal.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::events::wait_subscribed;
use crate::util::netns::wait_bounded;
use crate::util::{Netns, SOCKSCOPE, text};

/// A running `sockscope watch --jsonl ...` and the events it printed so far.
struct Stream {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<Value>,
    /// Which of `seen` [`Stream::until`] returned.
    taken: Vec<bool>,
}

impl Stream {
    fn start(ns: &Netns, args: &[&str]) -> Stream {
        let mut child = ns
            .command(SOCKSCOPE)
            .args(["watch", "--jsonl"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
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
    fn until(&mut self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
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
    fn stop(mut self) -> Vec<Value> {
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
        self.seen
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

/// Waits (bounded) until `socket` has `n` bytes to read.
fn wait_readable(socket: &TcpStream, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = vec![0u8; n];
    while socket.peek(&mut buf).unwrap_or(0) < n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A connection is added, its queue fills and drains, it changes state as it closes, and it
/// is removed, in that order.
#[test]
fn a_connection_from_start_to_end() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let mut watch = Stream::start(&ns, &["--interval", "0.05", "-t", ":55000"]);
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
    between_two_looks(&["--interval", "1", "-t", ":55000"], Duration::from_secs(5));
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
    let script = format!("ulimit -n 4; exec {SOCKSCOPE} watch --count 2 --interval 0.02 -tl");
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
            "sockscope: watch does not take --summary\n",
        ),
        (
            &["watch", "-t", "--json"],
            "sockscope: watch does not take --json\n",
        ),
        (
            &["watch", "-p"],
            "sockscope: watch does not take --processes\n",
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
