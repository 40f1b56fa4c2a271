//! `sockscope demo`: the article's connection, stage by stage, checked against the kernel
//! through ss in the demo's own namespace at every stage, its packets, and its text on
//! terminals of several widths.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::netns::run_bounded;
use crate::util::pty::Pty;
use crate::util::{Netns, SOCKSCOPE, TempDir, fold, reference::comparable, text};

const PROMPT: &str = "(Enter for the next stage, q to quit)";
const STAGES: usize = 11;

/// A run takes two or three seconds; the bound leaves room for a machine under load.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs the demo (or `program`) with `args` in `ns`, bounded by [`LIMIT`].
fn run(ns: &Netns, program: &str, args: &[&str]) -> std::process::Output {
    let started = Instant::now();
    let out = run_bounded(ns.command(program).args(args), LIMIT);
    if !out.status.success() && out.stderr.is_empty() {
        eprintln!(
            "{program} {args:?} ended with {:?} after {:?}",
            out.status,
            started.elapsed()
        );
    }
    out
}

/// One table the demo printed: the command shown above it (its continuation lines joined)
/// and its lines, each row split from the label the demo gave it.
#[derive(Debug)]
struct Shown {
    command: String,
    header: String,
    /// (row, label); detail lines (a tab first) have no label.
    rows: Vec<(String, String)>,
}

impl Shown {
    /// The rows folded, without labels or detail lines, one per line.
    fn folded(&self) -> String {
        let rows: Vec<&str> = self
            .rows
            .iter()
            .filter(|(row, _)| !row.starts_with('\t'))
            .map(|(row, _)| row.as_str())
            .collect();
        fold(&rows.join("\n"))
    }

    /// The folded row labelled `label`.
    fn row(&self, label: &str) -> Option<String> {
        self.rows
            .iter()
            .find(|(_, l)| l == label)
            .map(|(row, _)| fold(row))
    }
}

/// The tables the demo printed, one per stage.
fn tables(output: &str) -> Vec<Shown> {
    let mut tables = Vec::new();
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        let Some(command) = line.strip_prefix("$ ") else {
            continue;
        };
        let mut command = command.to_owned();
        let mut header = None;
        while command.ends_with(" \\") {
            command.truncate(command.len() - 2);
            match lines.next() {
                Some(more) => {
                    command.push(' ');
                    command.push_str(more.trim());
                }
                None => break,
            }
        }
        // The introduction's nsenter command has no table under it.
        if command.starts_with("nsenter") {
            continue;
        }
        let mut rows = Vec::new();
        for line in lines.by_ref().take_while(|l| !l.is_empty()) {
            if header.is_none() {
                header = Some(line.to_owned());
            } else if line.starts_with('\t') {
                rows.push((line.to_owned(), String::new()));
            } else {
                // A label follows the row after two spaces or more, and has no double space.
                let (row, label) = line
                    .rsplit_once("  ")
                    .unwrap_or_else(|| panic!("a row without a label: {line:?}"));
                rows.push((row.trim_end().to_owned(), label.trim().to_owned()));
            }
        }
        tables.push(Shown {
            command,
            header: header.unwrap_or_default(),
            rows,
        });
    }
    tables
}

/// The port of the socket labelled `label`, from its row's local address.
fn local_port(table: &Shown, label: &str) -> String {
    let row = table
        .row(label)
        .unwrap_or_else(|| panic!("no {label} row:\n{table:?}"));
    let local = row.split_whitespace().nth(3).unwrap().to_owned();
    local.rsplit_once(':').unwrap().1.to_owned()
}

#[test]
fn the_tcp_walk_shows_the_articles_rows_and_more() {
    let ns = Netns::new();
    let out = run(&ns, SOCKSCOPE, &["demo", "--no-pause"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "", "no warnings as root");
    let output = text(&out.stdout);
    let tables = tables(&output);
    assert_eq!(tables.len(), STAGES, "{output}");
    let row = |stage: usize, label: &str| {
        tables[stage - 1]
            .row(label)
            .unwrap_or_else(|| panic!("stage {stage} has no {label} row:\n{output}"))
    };
    assert_eq!(row(1, "server"), "UNCONN 0 0 127.0.0.1:55000 0.0.0.0:*");
    assert_eq!(row(2, "server"), "LISTEN 0 5 127.0.0.1:55000 0.0.0.0:*");
    assert_eq!(row(3, "server"), "LISTEN 1 5 127.0.0.1:55000 0.0.0.0:*");
    let client = local_port(&tables[2], "client");
    assert_eq!(
        row(3, "queued"),
        format!("ESTAB 0 0 127.0.0.1:55000 127.0.0.1:{client}")
    );
    assert_eq!(row(4, "server"), "LISTEN 0 5 127.0.0.1:55000 0.0.0.0:*");
    assert!(row(4, "connection").starts_with("ESTAB 0 0 127.0.0.1:55000 "));
    // The backlog: one more than listen() asked for waits; the seventh is still trying.
    assert_eq!(row(5, "server"), "LISTEN 6 5 127.0.0.1:55000 0.0.0.0:*");
    assert!(row(5, "client 8").starts_with("SYN-SENT 0 1 127.0.0.1:"));
    for n in 2..=7 {
        assert!(row(5, &format!("queued {n}")).starts_with("ESTAB "));
    }
    // One dropped SYN, or more if the demo was slow enough for the client to try again.
    let flat = output.replace('\n', " ");
    let counters = flat
        .split("ListenOverflows ")
        .nth(1)
        .unwrap_or_else(|| panic!("no counters:\n{output}"));
    let (overflows, rest) = counters.split_once(" (was 0), ListenDrops ").unwrap();
    let drops = rest.split_whitespace().next().unwrap();
    assert!(overflows.parse::<u32>().unwrap() >= 1, "{counters}");
    assert_eq!(drops, overflows, "{counters}");
    assert_eq!(row(6, "server"), "LISTEN 0 5 127.0.0.1:55000 0.0.0.0:*");
    assert_eq!(tables[5].folded().lines().count(), 3, "{:?}", tables[5]);
    assert_eq!(
        row(7, "client"),
        format!("ESTAB 50 0 127.0.0.1:{client} 127.0.0.1:55000")
    );
    // The Send-Q stage: both queues hold data, and -m says how much memory.
    let send_q: u32 = row(8, "connection")
        .split(' ')
        .nth(2)
        .unwrap()
        .parse()
        .unwrap();
    let recv_q: u32 = row(8, "client").split(' ').nth(1).unwrap().parse().unwrap();
    assert!(send_q > 0 && recv_q > 50, "{:?}", tables[7]);
    assert!(
        tables[7].command.ends_with("-tanm"),
        "{}",
        tables[7].command
    );
    assert!(
        tables[7]
            .rows
            .iter()
            .any(|(row, _)| row.starts_with("\t skmem:(")),
        "{:?}",
        tables[7]
    );
    assert!(row(9, "client").starts_with("ESTAB 0 0 "));
    assert!(row(9, "connection").starts_with("ESTAB 0 0 "));
    assert_eq!(
        row(10, "client"),
        format!("FIN-WAIT-2 0 0 127.0.0.1:{client} 127.0.0.1:55000")
    );
    assert_eq!(
        row(10, "connection"),
        format!("CLOSE-WAIT 1 0 127.0.0.1:55000 127.0.0.1:{client}")
    );
    assert_eq!(
        row(11, "client"),
        format!("TIME-WAIT 0 0 127.0.0.1:{client} 127.0.0.1:55000")
    );
    assert_eq!(tables[10].folded().lines().count(), 1);
    // Everything happened in the demo's own namespace: nothing is left in this one.
    let after = text(&ns.output("ss", &["-Htan"]).stdout);
    assert_eq!(after, "", "{after}");
}

/// The ss installed here, or sockscope when the command shown is sockscope's.
fn shown_program(command: &str) -> (&'static str, Vec<String>) {
    let mut words = command.split_whitespace().map(str::to_owned);
    let program = match words.next().as_deref() {
        Some("ss") => "ss",
        Some("sockscope") => SOCKSCOPE,
        other => panic!("an unexpected command: {other:?}"),
    };
    (program, words.collect())
}

/// The demo pauses after each stage; there the command it shows, run in the demo's own
/// namespace, must print the table the demo printed.
#[test]
fn the_command_shown_agrees_at_every_stage() {
    let ns = Netns::new();
    let mut child = ns
        .command(SOCKSCOPE)
        .args(["demo", "--pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let demo_ns = format!("/proc/{}/ns/net", child.id());
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + LIMIT * 2;
    let mut stage = String::new();
    let mut compared = 0;
    let mut failures = Vec::new();
    let mut inside = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line != PROMPT {
            stage.push_str(&line);
            stage.push('\n');
            continue;
        }
        let inside = inside.get_or_insert_with(|| Netns::open(&demo_ns));
        let shown = tables(&stage);
        assert_eq!(shown.len(), 1, "{stage}");
        let shown = &shown[0];
        let (program, args) = shown_program(&shown.command);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = inside.output(program, &args);
        assert!(
            out.status.success(),
            "{} failed: {}",
            shown.command,
            text(&out.stderr)
        );
        let theirs = text(&out.stdout);
        let mut their_lines = theirs.lines();
        let their_header = their_lines.next().unwrap_or("").trim_end().to_owned();
        let their_rows: Vec<&str> = their_lines.filter(|l| !l.starts_with('\t')).collect();
        // The same rows; the demo orders them by role, ss in the kernel's hash order.
        let sorted = |rows: String| {
            let mut rows: Vec<String> = rows.lines().map(str::to_owned).collect();
            rows.sort_unstable();
            rows
        };
        if comparable(&their_header) != comparable(&shown.header)
            || sorted(fold(&their_rows.join("\n"))) != sorted(shown.folded())
        {
            failures.push(format!("{stage}--- {} says\n{theirs}", shown.command));
        }
        // What the new stages are about, in ss's own words.
        if stage.contains("more clients than the backlog") {
            let theirs = fold(&theirs);
            assert!(
                theirs.contains("LISTEN 6 5 127.0.0.1:55000 0.0.0.0:*"),
                "{theirs}"
            );
            assert_eq!(
                theirs.matches("SYN-SENT 0 1 127.0.0.1:").count(),
                1,
                "{theirs}"
            );
        }
        if stage.contains(": Send-Q\n") {
            let server_end = fold(&theirs)
                .lines()
                .find(|l| l.starts_with("ESTAB ") && l.contains(" 127.0.0.1:55000 127.0.0.1:"))
                .map(str::to_owned)
                .unwrap_or_default();
            let send_q: u32 = server_end.split(' ').nth(2).unwrap_or("0").parse().unwrap();
            assert!(send_q > 0, "{theirs}");
        }
        compared += 1;
        stage.clear();
        stdin.write_all(b"\n").unwrap();
        stdin.flush().unwrap();
    }
    drop(stdin);
    let status = crate::util::netns::wait_bounded(&mut child, Duration::from_secs(10));
    assert_eq!(
        compared,
        STAGES - 1,
        "the demo paused {compared} times, not {}:\n{stage}",
        STAGES - 1
    );
    assert!(status.success(), "{status:?}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The stage of `connect()` shows the three packets of the client's handshake, and nothing
/// else; returns the client's port.
fn assert_handshake(stage: &Value) -> String {
    let client = labelled(stage, "client")["local_port"].to_string();
    assert_eq!(
        packets(stage),
        [
            format!("SYN {client}>55000"),
            format!("SYN-ACK 55000>{client}"),
            format!("ACK {client}>55000"),
        ]
    );
    client
}

/// The kinds of a stage's packets and their ports, as "SYN 41234>55000".
fn packets(stage: &Value) -> Vec<String> {
    stage["packets"]
        .as_array()
        .unwrap_or_else(|| panic!("no packets: {stage}"))
        .iter()
        .map(|p| {
            let port = |end: &str| {
                p[end]
                    .as_str()
                    .unwrap()
                    .rsplit_once(':')
                    .unwrap()
                    .1
                    .to_owned()
            };
            format!(
                "{} {}>{}",
                p["kind"].as_str().unwrap_or("UDP"),
                port("source"),
                port("destination")
            )
        })
        .collect()
}

fn json_stages(out: &std::process::Output) -> Vec<Value> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn labelled<'v>(stage: &'v Value, label: &str) -> &'v Value {
    stage["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["label"] == label)
        .unwrap_or_else(|| panic!("no {label} socket: {stage}"))
}

#[test]
fn json_stages_with_their_packets() {
    let ns = Netns::new();
    let stages = json_stages(&run(&ns, SOCKSCOPE, &["demo", "--json"]));
    assert_eq!(stages.len(), STAGES);
    for (i, stage) in stages.iter().enumerate() {
        assert_eq!(stage["stage"], i + 1);
        assert!(stage["call"].as_str().unwrap().contains('('));
        assert!(!stage["explanation"].as_str().unwrap().is_empty());
        assert!(stage["packets"].is_array(), "{stage}");
        assert!(
            stage["sockets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|s| !s["label"].as_str().unwrap().is_empty()),
            "{stage}"
        );
    }
    let listener = labelled(&stages[1], "server");
    assert_eq!(listener["state"], "LISTEN");
    assert_eq!(listener["send_q"], 5);
    assert_eq!(listener["local_port"], 55000);
    // bind() and listen() send nothing; connect() sends the handshake.
    assert!(packets(&stages[0]).is_empty());
    assert!(packets(&stages[1]).is_empty());
    let client = assert_handshake(&stages[2]);
    assert_eq!(stages[2]["packets"][0]["seq"], 0);
    assert_eq!(stages[2]["packets"][1]["ack"], 1);
    let counters = &stages[4]["counters"];
    assert_eq!(counters["before"]["ListenOverflows"], 0);
    assert!(counters["after"]["ListenOverflows"].as_u64().unwrap() >= 1);
    assert_eq!(
        counters["after"]["ListenDrops"],
        counters["after"]["ListenOverflows"]
    );
    assert_eq!(labelled(&stages[4], "client 8")["state"], "SYN-SENT");
    let data = packets(&stages[6]);
    assert_eq!(data[0], format!("PSH 55000>{client}"));
    assert_eq!(stages[6]["packets"][0]["len"], 50);
    let waiting = labelled(&stages[6], "client");
    assert_eq!(waiting["recv_q"], 50);
    assert_eq!(waiting["peer_port"], 55000);
    assert!(
        labelled(&stages[7], "connection")["send_q"]
            .as_u64()
            .unwrap()
            > 0
    );
    // The client's window closed: its last word to the server offered nothing.
    let last_ack = stages[7]["packets"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|p| {
            p["source"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{client}"))
        })
        .unwrap();
    assert_eq!(last_ack["window"], 0, "{}", stages[7]["packets"]);
    assert_eq!(packets(&stages[9])[0], format!("FIN {client}>55000"));
}

/// A copy of the binary that any user can run, in a directory this test removes.
struct PublicCopy {
    dir: TempDir,
}

impl PublicCopy {
    fn new() -> PublicCopy {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("demo");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let binary = dir.join("sockscope");
        std::fs::copy(SOCKSCOPE, &binary).unwrap();
        std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
        PublicCopy { dir }
    }

    fn path(&self) -> String {
        self.dir.path("sockscope")
    }
}

/// As `nobody`: the demo makes its namespace inside a user namespace and captures there.
#[test]
fn an_unprivileged_user_sees_the_handshake() {
    let ns = Netns::new();
    let copy = PublicCopy::new();
    let binary = copy.path();
    let as_nobody = |args: &[&str]| {
        let mut all = vec![
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            binary.as_str(),
        ];
        all.extend_from_slice(args);
        run(&ns, "setpriv", &all)
    };
    let out = as_nobody(&["demo", "--json"]);
    assert_eq!(
        text(&out.stderr),
        "",
        "the user namespace and the capture work"
    );
    let stages = json_stages(&out);
    assert_eq!(stages.len(), STAGES);
    assert_handshake(&stages[2]);
    // In the shared namespace nobody may not capture: one warning, and no packets.
    let out = as_nobody(&["demo", "--json", "--no-netns", "--port", "0"]);
    let warnings = text(&out.stderr);
    assert_eq!(warnings.lines().count(), 1, "{warnings}");
    assert!(
        warnings.starts_with("sockscope: warning: cannot capture packets on lo"),
        "{warnings}"
    );
    let stages = json_stages(&out);
    assert_eq!(stages.len(), STAGES);
    assert!(stages.iter().all(|s| s["packets"].is_null()));
    assert_eq!(labelled(&stages[4], "server")["recv_q"], 6);
}

#[test]
fn a_taken_port_is_a_clear_error_and_port_zero_shows_the_choice() {
    let ns = Netns::new();
    let _taken = ns.run(|| std::net::TcpListener::bind("127.0.0.1:55000").unwrap());
    let out = run(&ns, SOCKSCOPE, &["demo", "--no-pause", "--no-netns"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "sockscope: port 55000 on 127.0.0.1 is already in use; choose another with --port N, \
         or --port 0 for any free port\n"
    );
    assert!(out.stdout.is_empty());
    let out = run(
        &ns,
        SOCKSCOPE,
        &["demo", "--no-pause", "--no-netns", "--port", "0"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    assert!(
        output.contains("    bind(server, 127.0.0.1:0);\n"),
        "{output}"
    );
    let tables = tables(&output);
    let port = local_port(&tables[0], "server");
    assert_ne!(port, "55000");
    assert!(
        output.contains(&format!("getsockname(server);  // 127.0.0.1:{port}\n")),
        "{output}"
    );
    // Outside its own namespace the demo lists only its sockets: not the listener on 55000.
    assert!(tables.iter().all(|t| !t.folded().contains(":55000")));
    assert!(tables[1].command.ends_with(&format!("dport = :{port}")));
}

#[test]
fn the_udp_walk() {
    let ns = Netns::new();
    let out = run(
        &ns,
        SOCKSCOPE,
        &["demo", "--udp", "--no-pause", "--port", "5353"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    let tables = tables(&output);
    assert_eq!(tables.len(), 5);
    assert_eq!(
        tables[0].row("server").unwrap(),
        "UNCONN 0 0 127.0.0.1:5353 0.0.0.0:*"
    );
    assert!(
        tables[1]
            .row("client")
            .unwrap()
            .starts_with("ESTAB 0 0 127.0.0.1:")
    );
    let waiting = tables[2].row("server").unwrap();
    let recv_q: u32 = waiting.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(recv_q >= 50, "{waiting}");
    let client = local_port(&tables[1], "client");
    assert!(
        output.contains(&format!(" {client} > 5353: UDP 50 bytes\n")),
        "{output}"
    );
    assert_eq!(
        tables[3].row("server").unwrap(),
        "UNCONN 0 0 127.0.0.1:5353 0.0.0.0:*"
    );
    assert!(tables[4].rows.is_empty(), "{:?}", tables[4]);
}

/// The demo's namespace is its own by default, and with --netns: a namespace that already
/// has the article's port taken does not matter.
#[test]
fn a_private_namespace() {
    let ns = Netns::new();
    let _taken = ns.run(|| std::net::TcpListener::bind("127.0.0.1:55000").unwrap());
    for args in [
        &["demo", "--no-pause"][..],
        &["demo", "--netns", "--no-pause"],
    ] {
        let out = run(&ns, SOCKSCOPE, args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(tables(&text(&out.stdout)).len(), STAGES);
    }
}

/// On a terminal keys drive the demo: Enter goes on, q quits. `script` gives it one.
#[test]
fn keys_on_a_terminal() {
    let ns = Netns::new();
    let run = |keys: &str| {
        let script = format!(
            "printf '{keys}' | script -qec '{SOCKSCOPE} demo' /dev/null; echo \"status $?\""
        );
        text(&run(&ns, "bash", &["-c", &script]).stdout)
    };
    let all = run(&r"\n".repeat(STAGES - 1));
    assert!(all.contains("Stage 11 of 11"), "{all}");
    assert!(all.contains("[Enter] next stage"), "{all}");
    let quit = run("q");
    assert!(quit.contains("Stage 1 of 11"), "{quit}");
    assert!(!quit.contains("Stage 2 of 11"), "{quit}");
    assert!(quit.ends_with("status 0\n"), "{quit}");
}

/// Ctrl-C while the demo waits with a listener and a connection open: it closes its sockets
/// and exits as interrupted, leaving at most TIME-WAIT entries (checked where they would be
/// seen: in the namespace it shares with --no-netns).
#[test]
fn interrupted_while_paused() {
    let ns = Netns::new();
    let mut child = ns
        .command(SOCKSCOPE)
        .args(["demo", "--pause", "--no-netns"])
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
    // In its own namespace too (where nothing could be left behind) it ends as interrupted.
    let mut child = ns
        .command(SOCKSCOPE)
        .args(["demo", "--pause"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let prompted = lines.any(|line| line.is_ok_and(|l| l == PROMPT));
    assert!(prompted, "the demo ended before its first pause");
    // SAFETY: kill(2) on the pid of the child this test started.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let status = crate::util::netns::wait_bounded(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
}

/// The demo's text on a terminal `cols` wide.
fn on_terminal(ns: &Netns, cols: u16) -> String {
    on_screen(ns, &["demo", "--no-pause"], cols, 50)
}

/// The text of sockscope with `args` on a terminal of `cols` by `rows`.
fn on_screen(ns: &Netns, args: &[&str], cols: u16, rows: u16) -> String {
    let mut command: Command = ns.command(SOCKSCOPE);
    command.args(args);
    let mut pty = Pty::spawn(&mut command, cols, rows);
    let status = pty.wait(LIMIT);
    assert!(status.success(), "{status:?}\n{}", pty.text());
    pty.text()
}

/// Blocks of the text (runs of lines between empty ones), as tables or as everything else.
fn blocks(output: &str) -> (Vec<Vec<&str>>, Vec<Vec<&str>>) {
    let (mut tables, mut prose) = (Vec::new(), Vec::new());
    let mut block: Vec<&str> = Vec::new();
    for line in output.lines().chain([""]) {
        if !line.is_empty() {
            block.push(line);
            continue;
        }
        if block.is_empty() {
            continue;
        }
        // A table block: the command (and its continuation lines), then the table.
        let at = block.iter().position(|l| l.starts_with("State "));
        match at {
            Some(at) if block[0].starts_with("$ ") => {
                prose.push(block[..at].to_vec());
                tables.push(block[at..].to_vec());
            }
            _ => prose.push(block.clone()),
        }
        block.clear();
    }
    (tables, prose)
}

/// The widest line of `lines`, tabs counted to the next multiple of 8 as a terminal does.
fn widest(lines: &[&str]) -> usize {
    let width = |line: &str| {
        line.chars()
            .fold(0, |at, c| if c == '\t' { (at / 8 + 1) * 8 } else { at + 1 })
    };
    lines.iter().map(|l| width(l)).max().unwrap_or(0)
}

/// The words of the prose but packets, with every number made `N`, which differs from run to
/// run (ports, times).
fn words(prose: &[Vec<&str>]) -> Vec<String> {
    // Packets differ from run to run in their number (an acknowledgement delayed or not).
    let packets = |block: &&Vec<&str>| {
        block[0].starts_with("Packets on lo:") || block[0].starts_with("While the demo waited:")
    };
    prose
        .iter()
        .filter(|block| !packets(block))
        .flatten()
        .flat_map(|line| line.split_whitespace())
        .filter(|word| *word != "\\")
        .map(|word| {
            let mut out = String::new();
            for c in word.chars() {
                if !c.is_ascii_digit() {
                    out.push(c);
                } else if !out.ends_with('N') {
                    out.push('N');
                }
            }
            out
        })
        .collect()
}

#[test]
fn text_fits_the_terminal() {
    let ns = Netns::new();
    let at_80 = on_terminal(&ns, 80);
    let (tables_80, prose_80) = blocks(&at_80);
    assert_eq!(tables_80.len(), STAGES, "{at_80}");
    let table_width: Vec<usize> = tables_80.iter().map(|t| widest(t)).collect();
    for cols in [60, 200] {
        let output = on_terminal(&ns, cols);
        let (tables, prose) = blocks(&output);
        assert_eq!(tables.len(), STAGES, "{output}");
        for block in &prose {
            assert!(
                widest(block) <= usize::from(cols),
                "at {cols} columns, a line is wider:\n{}",
                block.join("\n")
            );
        }
        // Wrapped differently, the words are the same: none was cut.
        assert_eq!(
            words(&prose),
            words(&prose_80),
            "at {cols} columns:\n{output}"
        );
        for (table, width) in tables.iter().zip(&table_width) {
            assert!(
                widest(table) <= *width,
                "at {cols} columns the table is wider than at 80:\n{}",
                table.join("\n")
            );
        }
    }
    // At 200 columns, prose takes the room: a paragraph is longer than 80 somewhere.
    let wide = on_terminal(&ns, 200);
    assert!(
        wide.lines()
            .any(|l| l.len() > 80 && !l.starts_with("State"))
    );
}

/// The lines of each stage, from its title to the empty line after its table.
fn stages(output: &str) -> Vec<Vec<&str>> {
    let mut stages: Vec<Vec<&str>> = Vec::new();
    for line in output.lines() {
        if line.starts_with("Stage ") && line.contains(" of ") {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push(line);
        }
    }
    // The last one is followed by the closing note, not by a prompt.
    if let Some(last) = stages.last_mut() {
        let end = last
            .iter()
            .rposition(|l| l.starts_with("State "))
            .unwrap_or(0);
        let table = last[end..].iter().take_while(|l| !l.is_empty()).count();
        last.truncate(end + table + 1);
    }
    stages
}

/// On a terminal of 100 columns and 40 lines, each stage and the prompt after it fit on the
/// screen (the packets are cut short for it), so that nothing scrolls away before the reader
/// is asked to go on; wider lines or a taller backlog stage would.
#[test]
fn each_stage_fits_a_terminal_of_40_lines() {
    let ns = Netns::new();
    for (args, count) in [
        (&["demo", "--no-pause"][..], STAGES),
        (&["demo", "--udp", "--no-pause"], 5),
    ] {
        let output = on_screen(&ns, args, 100, 40);
        let stages = stages(&output);
        assert_eq!(stages.len(), count, "{output}");
        for stage in &stages {
            // The stage's lines, then the prompt's.
            assert!(
                stage.len() < 40,
                "{args:?}: a stage of {} lines:\n{}",
                stage.len(),
                stage.join("\n")
            );
            assert!(widest(stage) <= 100, "{}", stage.join("\n"));
        }
        if args.len() == 2 {
            // The backlog stage needs its packets cut short; its last SYN, unanswered, stays.
            let backlog = stages[4].join("\n");
            assert!(backlog.contains(" more packets (all of them with --json)\n"));
            let packets: Vec<&&str> = stages[4]
                .iter()
                .skip_while(|l| !l.starts_with("Packets on lo:"))
                .take_while(|l| !l.is_empty())
                .collect();
            assert!(
                packets
                    .last()
                    .unwrap()
                    .ends_with("SYN seq 0, win 16384, mss 65495")
            );
        }
    }
}

/// Rows come in the demo's order, not the kernel's: the first server, client and connection,
/// then the numbered clients, their queued ends and their accepted ends, each by number.
#[test]
fn rows_keep_a_stable_order() {
    let ns = Netns::new();
    let out = run(&ns, SOCKSCOPE, &["demo", "--no-pause"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    let roles = ["server", "client", "queued", "connection"];
    let key = |label: &str| {
        let (role, number) = match label.rsplit_once(' ') {
            Some((role, n)) => (role, n.parse::<u32>().unwrap()),
            None => (label, 0),
        };
        let rank = roles.iter().position(|r| *r == role).unwrap();
        (number > 0, rank, number)
    };
    for table in tables(&output) {
        let labels: Vec<&str> = table
            .rows
            .iter()
            .filter(|(row, _)| !row.starts_with('\t'))
            .map(|(_, label)| label.as_str())
            .collect();
        let mut sorted = labels.clone();
        sorted.sort_by_key(|label| key(label));
        assert_eq!(labels, sorted, "{}", table.command);
    }
    let backlog = &tables(&output)[4];
    let labels: Vec<&str> = backlog.rows.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(
        labels[..5],
        ["server", "client", "connection", "client 2", "client 3"]
    );
}

/// The demo names the article it follows, and its numbers agree with its text: the Send-Q it
/// speaks of is the one its table shows. The UDP demo suggests a UDP listing.
#[test]
fn the_demo_names_its_article_and_its_numbers_agree() {
    let ns = Netns::new();
    let out = run(&ns, SOCKSCOPE, &["demo", "--no-pause"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let output = text(&out.stdout);
    let flat = output.split_whitespace().collect::<Vec<_>>().join(" ");
    for said in [
        "the article \"Analysing the Stream Socket connection\", whose server binds to \
         127.0.0.1:55000 and calls listen(fd, 5)",
        "so the server's Send-Q is 0",
    ] {
        assert!(flat.contains(said), "{said:?} in:\n{output}");
    }
    let tables = tables(&output);
    let send_q = |stage: usize| {
        let row = tables[stage - 1].row("connection").unwrap();
        row.split(' ').nth(2).unwrap().to_owned()
    };
    assert_eq!(send_q(7), "0");
    let held = send_q(8);
    assert!(
        flat.contains(&format!("50 there, {held} here")),
        "Send-Q {held}:\n{output}"
    );
    let out = run(&ns, SOCKSCOPE, &["demo", "--udp", "--no-pause"]);
    let output = text(&out.stdout);
    assert!(output.contains(" -n ss -uan\n"), "{output}");
    assert!(!output.contains("-tan"), "{output}");
}
