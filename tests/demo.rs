//! `sockscope demo`: the article's connection, stage by stage, checked against the kernel
//! through ss at every stage.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{Netns, SOCKSCOPE, fold, reference::comparable, text};

const PROMPT: &str = "(Enter for the next stage, q to quit)";

/// The tables the demo printed, one per stage.
fn tables(output: &str) -> Vec<String> {
    let mut tables = Vec::new();
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("$ sockscope") {
            let table: Vec<&str> = lines.by_ref().take_while(|l| !l.is_empty()).collect();
            tables.push(table.join("\n"));
        }
    }
    tables
}

#[test]
fn the_tcp_walk_shows_the_articles_rows() {
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["demo", "--no-pause"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    let tables: Vec<String> = tables(&output).iter().map(|t| fold(t)).collect();
    assert_eq!(tables.len(), 7, "{output}");
    assert!(
        tables[0].contains("UNCONN 0 0 127.0.0.1:55000 0.0.0.0:*"),
        "{}",
        tables[0]
    );
    assert!(
        tables[1].contains("LISTEN 0 5 127.0.0.1:55000 0.0.0.0:*"),
        "{}",
        tables[1]
    );
    assert!(
        tables[2].contains("LISTEN 1 5 127.0.0.1:55000 0.0.0.0:*"),
        "{}",
        tables[2]
    );
    assert_eq!(
        tables[2].matches("ESTAB 0 0 127.0.0.1:").count(),
        2,
        "{}",
        tables[2]
    );
    assert!(
        tables[3].contains("LISTEN 0 5 127.0.0.1:55000 0.0.0.0:*"),
        "{}",
        tables[3]
    );
    let client = tables[4]
        .lines()
        .find(|l| l.starts_with("ESTAB 50 0 127.0.0.1:") && l.ends_with(" 127.0.0.1:55000"))
        .unwrap_or_else(|| panic!("no client row with 50 bytes waiting:\n{}", tables[4]));
    let client_port = client.split_whitespace().nth(3).unwrap().to_owned();
    assert!(
        tables[5].contains(&format!("FIN-WAIT-2 0 0 {client_port}")),
        "{}",
        tables[5]
    );
    assert!(
        tables[5].contains("CLOSE-WAIT 1 0 127.0.0.1:55000"),
        "{}",
        tables[5]
    );
    assert!(
        tables[6].contains(&format!("TIME-WAIT 0 0 {client_port}")),
        "{}",
        tables[6]
    );
    // Nothing left but the TIME-WAIT entry.
    let after = fold(&text(&ns.output("ss", &["-Htan"]).stdout));
    assert!(after.lines().all(|l| l.starts_with("TIME-WAIT")), "{after}");
    assert_eq!(after.lines().count(), 1, "{after}");
}

/// The demo pauses after each stage; there ss, run on the same namespace, must print the table
/// the demo printed (from the second stage: ss 6.1 cannot list bound-inactive sockets).
#[test]
fn ss_agrees_at_every_stage() {
    let ns = Netns::new();
    let mut child = ns
        .command(SOCKSCOPE)
        .args(["demo", "--pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut stage = String::new();
    let mut compared = 0;
    let mut failures = Vec::new();
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line != PROMPT {
            stage.push_str(&line);
            stage.push('\n');
            continue;
        }
        let shown = tables(&stage);
        assert_eq!(shown.len(), 1, "{stage}");
        if compared > 0 || !stage.starts_with("Stage 1 ") {
            let ss = ns.output(
                "ss",
                &[
                    "-tan",
                    "state",
                    "all",
                    "( sport = :55000 or dport = :55000 )",
                ],
            );
            let ss = text(&ss.stdout);
            if comparable(ss.trim_end_matches('\n')) != comparable(&shown[0]) {
                failures.push(format!("{stage}--- ss says\n{ss}"));
            }
        }
        compared += 1;
        stage.clear();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    drop(stdin);
    let status = crate::util::netns::wait_bounded(&mut child, Duration::from_secs(10));
    assert_eq!(
        compared, 6,
        "the demo paused {compared} times, not 6:\n{stage}"
    );
    assert!(status.success(), "{status:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_stages() {
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["demo", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stages: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(stages.len(), 7);
    for (i, stage) in stages.iter().enumerate() {
        assert_eq!(stage["stage"], i + 1);
        assert!(stage["call"].as_str().unwrap().contains('('));
        assert!(!stage["explanation"].as_str().unwrap().is_empty());
    }
    let listener = &stages[1]["sockets"][0];
    assert_eq!(listener["state"], "LISTEN");
    assert_eq!(listener["send_q"], 5);
    assert_eq!(listener["local_port"], 55000);
    let waiting = stages[4]["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["recv_q"] == 50)
        .expect("a socket with 50 bytes waiting");
    assert_eq!(waiting["peer_port"], 55000);
    assert_eq!(waiting["state"], "ESTAB");
}

#[test]
fn a_taken_port_is_a_clear_error_and_port_zero_picks_one() {
    let ns = Netns::new();
    let _taken = ns.run(|| std::net::TcpListener::bind("127.0.0.1:55000").unwrap());
    let out = ns.output(SOCKSCOPE, &["demo", "--no-pause"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "sockscope: port 55000 on 127.0.0.1 is already in use; choose another with --port N, \
         or --port 0 for any free port\n"
    );
    assert!(out.stdout.is_empty());
    let out = ns.output(SOCKSCOPE, &["demo", "--no-pause", "--port", "0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listening = fold(&tables(&text(&out.stdout))[1]);
    assert!(listening.contains("LISTEN 0 5 127.0.0.1:"), "{listening}");
    assert!(!listening.contains(":55000"), "{listening}");
}

#[test]
fn the_udp_walk() {
    let ns = Netns::new();
    let out = ns.output(
        SOCKSCOPE,
        &["demo", "--udp", "--no-pause", "--port", "5353"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tables: Vec<String> = tables(&text(&out.stdout)).iter().map(|t| fold(t)).collect();
    assert_eq!(tables.len(), 5);
    assert!(
        tables[0].contains("UNCONN 0 0 127.0.0.1:5353 0.0.0.0:*"),
        "{}",
        tables[0]
    );
    assert!(tables[1].contains("ESTAB 0 0 127.0.0.1:"), "{}", tables[1]);
    let waiting = tables[2]
        .lines()
        .find(|l| l.contains("127.0.0.1:5353 0.0.0.0:*"))
        .unwrap();
    let recv_q: u32 = waiting.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(recv_q >= 50, "{waiting}");
    assert!(
        tables[3].contains("UNCONN 0 0 127.0.0.1:5353"),
        "{}",
        tables[3]
    );
    assert_eq!(
        tables[4].lines().count(),
        1,
        "only the header:\n{}",
        tables[4]
    );
}

/// With --netns the demo makes its own namespace: run from a namespace that already has the
/// article's port taken, it still works.
#[test]
fn a_private_namespace() {
    let ns = Netns::new();
    let _taken = ns.run(|| std::net::TcpListener::bind("127.0.0.1:55000").unwrap());
    let out = ns.output(SOCKSCOPE, &["demo", "--netns", "--no-pause"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(tables(&text(&out.stdout)).len(), 7);
}

/// On a terminal keys drive the demo: Enter goes on, q quits. `script` gives it one.
#[test]
fn keys_on_a_terminal() {
    let ns = Netns::new();
    let run = |keys: &str| {
        let script = format!(
            "printf '{keys}' | script -qec '{SOCKSCOPE} demo' /dev/null; echo \"status $?\""
        );
        text(&ns.output("bash", &["-c", &script]).stdout)
    };
    let all = run(r"\n\n\n\n\n\n");
    assert!(all.contains("Stage 7 of 7"), "{all}");
    assert!(all.contains("[Enter] next stage"), "{all}");
    let quit = run("q");
    assert!(quit.contains("Stage 1 of 7"), "{quit}");
    assert!(!quit.contains("Stage 2 of 7"), "{quit}");
    assert!(quit.ends_with("status 0\n"), "{quit}");
}

/// Ctrl-C while the demo waits with a listener and a connection open: it closes its sockets
/// and exits as interrupted, leaving at most TIME-WAIT entries.
#[test]
fn interrupted_while_paused() {
    let ns = Netns::new();
    let mut child = ns
        .command(SOCKSCOPE)
        .args(["demo", "--pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut pauses = 0;
    while pauses < 4 && Instant::now() < deadline {
        match lines.next() {
            Some(Ok(line)) if line == PROMPT => {
                pauses += 1;
                if pauses < 4 {
                    stdin.write_all(b"\n").unwrap();
                    stdin.flush().unwrap();
                }
            }
            Some(Ok(_)) => continue,
            _ => panic!("the demo ended after {pauses} pauses"),
        }
    }
    let before = fold(&text(&ns.output("ss", &["-Htan"]).stdout));
    assert!(
        before.contains("LISTEN") && before.contains("ESTAB"),
        "{before}"
    );
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = crate::util::netns::wait_bounded(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    let left = fold(&text(&ns.output("ss", &["-Htan"]).stdout));
    assert!(
        left.lines().all(|l| l.starts_with("TIME-WAIT")),
        "the demo left sockets behind:\n{left}"
    );
}
