//! `-s`: the socket usage summary must be ss's, byte for byte, on a real table and on counters
//! files given through ss's environment variables.

use std::io::Write;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::util::netns::RUN_LIMIT;
use crate::util::{Both, Netns, RichTable, SOCKSCOPE, TempDir, netns, skip, text};

/// The machine-wide counters (`TCP: alloc` and `orphan`, which give the first three figures of
/// the `TCP:` line) move with whatever else runs on the machine, between the two runs as much
/// as anywhere: other tests of the same run open and close TCP sockets all the time. The rest
/// of the summary is the namespace's own and must match at every attempt at which ss printed
/// it the same just before and just after sockscope. The machine-wide figures count when ss
/// printed them the same before and after too; the comparison is tried this many times, for a
/// minute at most, until they do.
const ATTEMPTS: usize = 100;

/// What a program printed on standard output; it must succeed without a word on stderr.
fn stdout(ns: &Netns, program: &str, args: &[&str]) -> String {
    let out = ns.output(program, args);
    assert!(
        out.status.success() && (program == "ss" || out.stderr.is_empty()),
        "{program} {} failed ({:?}): {}",
        args.join(" "),
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// What a comparison looks at.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scope {
    /// Every figure.
    All,
    /// All but the machine-wide ones ([`machine_wide`]).
    Namespace,
}

/// Positions, among the numbers of a summary ([`numbers_of_text`], [`numbers_of_json`]), of
/// the machine-wide figures: TCP sockets allocated, closed (allocated but in no table of
/// this namespace) and orphaned.
const MACHINE_WIDE: [usize; 3] = [1, 3, 4];

/// The summary with the machine-wide figures of its `TCP:` line (`TCP:   ALLOC (estab E,
/// closed C, orphaned O, timewait T)`) replaced by `*`, and those figures.
fn machine_wide(summary: &str) -> (String, Vec<String>) {
    let mut local = String::new();
    let mut figures = Vec::new();
    for line in summary.split_inclusive('\n') {
        if !line.starts_with("TCP:") || !line.contains("(estab ") {
            local.push_str(line);
            continue;
        }
        let mut word = 0;
        let masked: Vec<String> = line
            .split(' ')
            .map(|piece| {
                if piece.is_empty() {
                    return String::new();
                }
                word += 1;
                if [2, 6, 8].contains(&word) {
                    let digits = piece.trim_end_matches([',', ')', '\n']);
                    figures.push(digits.to_owned());
                    format!("*{}", &piece[digits.len()..])
                } else {
                    piece.to_owned()
                }
            })
            .collect();
        local.push_str(&masked.join(" "));
    }
    (local, figures)
}

/// Runs ss, sockscope and ss again until both ss runs print the same `view` of the output
/// and `agree(ss, ours, scope)` accepts sockscope's, the machine-wide figures included once
/// they stood still; returns what ss printed.
fn against_still_ss(
    ns: &Netns,
    ss_args: &[&str],
    our_args: &[&str],
    view: fn(&str) -> String,
    agree: impl Fn(&str, &str, Scope) -> Result<(), String>,
) -> String {
    let mut last = String::from("ss never printed the same thing twice in a row");
    // What ss printed the last time sockscope matched it but for the machine-wide figures.
    let mut matched_locally = None;
    let deadline = Instant::now() + RUN_LIMIT;
    for _ in 0..ATTEMPTS {
        if Instant::now() > deadline {
            break;
        }
        let before = stdout(ns, "ss", ss_args);
        let ours = stdout(ns, SOCKSCOPE, our_args);
        let after = stdout(ns, "ss", ss_args);
        let ((local_before, machine_before), (local_after, machine_after)) =
            (machine_wide(&before), machine_wide(&after));
        if view(&local_before) != view(&local_after) {
            continue;
        }
        let (before, ours) = (
            crate::util::reference::comparable(&before),
            crate::util::reference::comparable(&ours),
        );
        let scope = if machine_before == machine_after {
            Scope::All
        } else {
            Scope::Namespace
        };
        match agree(&before, &ours, scope) {
            Ok(()) if scope == Scope::All => return before,
            Ok(()) => matched_locally = Some(before),
            Err(why) => {
                last = format!(
                    "{why} ({scope:?})\n--- ss {}\n{before}--- sockscope {}\n{ours}---",
                    ss_args.join(" "),
                    our_args.join(" ")
                )
            }
        }
    }
    if let Some(before) = matched_locally {
        // The namespace's own figures matched; the machine's never stood still long enough
        // (counters_files_from_the_environment_match_ss reads every figure exactly).
        skip(&format!(
            "the machine-wide TCP figures of `{}` moved at each of {ATTEMPTS} attempts; only \
             the namespace's own were compared",
            our_args.join(" ")
        ));
        return before;
    }
    panic!(
        "sockscope never agreed with ss in {ATTEMPTS} attempts or {RUN_LIMIT:?}; the last \
         one:\n{last}"
    );
}

fn identical(ss: &str, ours: &str, scope: Scope) -> Result<(), String> {
    let same = match scope {
        Scope::All => ss == ours,
        Scope::Namespace => machine_wide(ss).0 == machine_wide(ours).0,
    };
    if same {
        Ok(())
    } else {
        Err("the outputs differ".into())
    }
}

/// Every number of ss's summary, in the order printed (the `IPv6` of the header aside).
fn numbers_of_text(summary: &str) -> Vec<i64> {
    summary
        .lines()
        .filter(|line| !line.starts_with("Transport"))
        .flat_map(|line| line.split(|c: char| !(c.is_ascii_digit() || c == '-')))
        .filter(|word| !word.is_empty())
        .map(|word| word.parse().unwrap())
        .collect()
}

/// The same numbers from the JSON form, checking its shape on the way.
fn numbers_of_json(json: &str) -> Result<Vec<i64>, String> {
    let value: Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
    let object = |value: &Value, keys: &[&str]| -> Result<serde_json::Map<String, Value>, String> {
        let map = value.as_object().ok_or("not an object")?.clone();
        let mut got: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut want = keys.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        if got != want {
            return Err(format!("keys {got:?}, expected {want:?}"));
        }
        Ok(map)
    };
    let int = |value: &Value| value.as_i64().ok_or(format!("{value} is not an integer"));
    let top = object(&value, &["total", "tcp", "transport"])?;
    let mut numbers = vec![int(&top["total"])?];
    let tcp_keys = ["total", "established", "closed", "orphaned", "timewait"];
    let tcp = object(&top["tcp"], &tcp_keys)?;
    for key in tcp_keys {
        numbers.push(int(&tcp[key])?);
    }
    let rows = ["raw", "udp", "tcp", "inet", "frag"];
    let transport = object(&top["transport"], &rows)?;
    for row in rows {
        let row = object(&transport[row], &["total", "ip", "ipv6"])?;
        for key in ["total", "ip", "ipv6"] {
            numbers.push(int(&row[key])?);
        }
    }
    if !json.ends_with("}\n") || json.lines().count() != 1 {
        return Err("not one object on one line".into());
    }
    Ok(numbers)
}

/// Sockets the reference table lacks, kept until dropped: an orphan (a closed TCP socket still
/// trying to deliver its data), fragments waiting for the rest of their packet, a TCP socket
/// never bound, and a UDP-Lite socket (which ss does not count as UDP).
struct Extras {
    _sockets: Vec<Socket>,
}

fn add_extras(ns: &Netns) -> Extras {
    // Incomplete packets are dropped after ipfrag_time seconds (30 by default).
    ns.sysctl(&[
        ("net.ipv4.ipfrag_time", "600"),
        ("net.ipv6.ip6frag_time", "600"),
    ]);
    let sockets = ns.run(|| {
        let mut keep = vec![orphan()];
        keep.push(Socket::new(Domain::IPV4, Type::STREAM, None).unwrap());
        // UDP-Lite may be missing from the kernel; then there is nothing to leave out.
        if let Ok(lite) = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDPLITE)) {
            lite.bind(&addr("127.0.0.1:7777")).unwrap();
            keep.push(lite);
        }
        send_first_fragments();
        keep
    });
    Extras { _sockets: sockets }
}

fn addr(text: &str) -> SockAddr {
    text.parse::<SocketAddr>().unwrap().into()
}

/// A connection whose client sends more than the server will ever read and then closes: the
/// client socket becomes an orphan in FIN-WAIT-1, probing the server's closed window. Returns
/// the server's end; closing it resets the orphan.
fn orphan() -> Socket {
    let listener = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
    listener.bind(&addr("[::1]:6100")).unwrap();
    listener.listen(1).unwrap();
    let client = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
    client.connect(&addr("[::1]:6100")).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_recv_buffer_size(4096).unwrap();
    client.set_nonblocking(true).unwrap();
    let chunk = [b'o'; 65536];
    let deadline = Instant::now() + Duration::from_secs(5);
    // Until the send buffer is full: the rest is stuck behind the server's closed window.
    while Instant::now() < deadline {
        match (&client).write(&chunk) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
            Err(e) => panic!("filling the orphan's send buffer: {e}"),
        }
    }
    drop(client);
    server
}

/// The first fragment of an IPv4 and of an IPv6 packet, without the rest: each leaves one
/// reassembly queue (the FRAG row) until ipfrag_time runs out.
fn send_first_fragments() {
    let raw = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(libc::IPPROTO_RAW)),
    )
    .unwrap();
    let mut packet = vec![
        0x45, 0, 0, 36, // version and header length, TOS, total length
        0x12, 0x34, 0x20, 0, // identification, "more fragments" at offset 0
        64, 17, 0, 0, // TTL, UDP, checksum (the kernel fills it in)
        127, 0, 0, 1, 127, 0, 0, 1,
    ];
    packet.extend_from_slice(&[0; 16]);
    raw.send_to(&packet, &addr("127.0.0.1:0")).unwrap();

    let raw6 = Socket::new(
        Domain::IPV6,
        Type::RAW,
        Some(Protocol::from(libc::IPPROTO_FRAGMENT)),
    )
    .unwrap();
    // A fragment header (next header UDP, offset 0, "more fragments", an identification).
    let mut fragment = vec![17, 0, 0, 1, 0, 0xab, 0xcd, 0xef];
    fragment.extend_from_slice(&[0; 16]);
    raw6.send_to(&fragment, &addr("[::1]:0")).unwrap();
}

#[test]
fn summary_matches_ss() {
    let table = RichTable::new();
    let _extras = add_extras(&table.ns);
    let ss = against_still_ss(&table.ns, &["-s"], &["-s"], whole, identical);
    against_still_ss(&table.ns, &["-s"], &["--summary"], whole, identical);

    // The table is not an empty one: every figure that can be nonzero is.
    let n = numbers_of_text(&ss);
    let [total, tcp, estab, _closed, orphaned, timewait] = n[..6] else {
        panic!("{ss}")
    };
    assert!(total > 20 && tcp > 10 && estab >= 4, "{ss}");
    assert!(orphaned >= 1 && timewait >= 1, "{ss}");
    for (row, name) in n[6..].chunks(3).zip(["RAW", "UDP", "TCP", "INET", "FRAG"]) {
        assert!(
            row[1] >= 1 && row[2] >= 1,
            "no {name} on both IP versions:\n{ss}"
        );
    }
}

fn whole(text: &str) -> String {
    text.to_owned()
}

/// All but the `Total:` line. A listing opens netlink sockets, which count in Total until the
/// kernel frees them, after an RCU grace period: the Total a run reads depends on how long ago
/// the previous run ended. `summary_matches_ss` compares Total, with no listing.
fn without_total(text: &str) -> String {
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.starts_with("Total: ") => lines.collect(),
        _ => format!("(no Total line)\n{text}"),
    }
}

fn identical_but_total(ss: &str, ours: &str, scope: Scope) -> Result<(), String> {
    identical(&without_total(ss), &without_total(ours), scope)
}

/// Without `--json`, ss's own options that do not name a table are ignored; naming tables or
/// giving a filter lists them after the summary.
#[test]
fn summary_then_listing_matches_ss() {
    let table = RichTable::new();
    for args in [
        "-s -a",
        "-s -l -n",
        "-s -H -r",
        "-as",
        "-s -t",
        "-s -tan",
        "-t -s -H",
        "-s -ua",
        "-s -x -a",
        "-s -A raw,tcp -l",
        "-s -f inet6 -a",
        "-s state established",
        "-s -n dport = :5000",
    ] {
        let args: Vec<&str> = args.split_whitespace().collect();
        against_still_ss(&table.ns, &args, &args, without_total, identical_but_total);
    }
}

#[test]
fn json_carries_the_same_numbers() {
    let table = RichTable::new();
    let _extras = add_extras(&table.ns);
    for args in [&["--json", "-s"][..], &["-s", "-j", "-a", "-n"]] {
        against_still_ss(&table.ns, &["-s"], args, whole, |ss, ours, scope| {
            let mut json = numbers_of_json(ours)?;
            let mut text = numbers_of_text(ss);
            if scope == Scope::Namespace {
                for i in MACHINE_WIDE {
                    for numbers in [&mut json, &mut text] {
                        if let Some(n) = numbers.get_mut(i) {
                            *n = 0;
                        }
                    }
                }
            }
            if json == text {
                Ok(())
            } else {
                Err(format!("numbers differ: {json:?}"))
            }
        });
    }
}

#[test]
fn json_with_a_listing_is_refused() {
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["-s", "--json", "-t"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("sockscope: --json cannot show the summary") && err.lines().count() == 1,
        "{err}"
    );
}

/// A directory standing for `$PROC_ROOT`, removed when dropped.
struct FakeProc {
    root: TempDir,
}

impl FakeProc {
    fn new(files: &[(&str, &str)]) -> FakeProc {
        let root = TempDir::new("proc");
        std::fs::create_dir_all(root.join("net")).unwrap();
        for (name, content) in files {
            std::fs::write(root.join("net").join(name), content).unwrap();
        }
        FakeProc { root }
    }

    fn path(&self, name: &str) -> String {
        self.root.path(name)
    }
}

const SOCKSTAT: &str = "sockets: used 111\nTCP: inuse 12 orphan 3 tw 4 alloc 50 mem 877\n\
                        UDP: inuse 5 mem 0\nUDPLITE: inuse 6\nRAW: inuse 7\nFRAG: inuse 8 memory 9\n";
const SOCKSTAT6: &str = "TCP6: inuse 22\nUDP6: inuse 23\nUDPLITE6: inuse 24\nRAW6: inuse 25\n\
                         FRAG6: inuse 26 memory 27\n";
const SNMP: &str = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn \
                    ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs\n\
                    Tcp: 1 200 120000 -1 26 2 0 12 9 2444\nUdp: InDatagrams\nUdp: 52\n";

/// With ss's variables both tools read the same files, so the output must be the same to the
/// byte, also when files are missing (ss then counts zero and says so on stderr).
#[test]
fn counters_files_from_the_environment_match_ss() {
    let ns = Netns::new();
    let full = FakeProc::new(&[
        ("sockstat", SOCKSTAT),
        ("sockstat6", SOCKSTAT6),
        ("snmp", SNMP),
    ]);
    let no_ipv6 = FakeProc::new(&[("sockstat", SOCKSTAT), ("snmp", SNMP)]);
    let no_sockstat = FakeProc::new(&[("sockstat6", SOCKSTAT6), ("snmp", SNMP)]);
    let no_snmp = FakeProc::new(&[("sockstat", SOCKSTAT), ("sockstat6", SOCKSTAT6)]);
    let odd = FakeProc::new(&[
        (
            "sockstat",
            "sockets: used 2\nTCP: inuse 9 orphan 0 tw 1 alloc 3\nRAW: inuse 1234567890\n",
        ),
        ("snmp", "Tcp: CurrEstab\nTcp: 7\n"),
    ]);
    let cases: Vec<(Vec<(&str, String)>, bool)> = vec![
        (vec![("PROC_ROOT", full.path(""))], false),
        (vec![("PROC_ROOT", no_ipv6.path(""))], false),
        (vec![("PROC_ROOT", no_sockstat.path(""))], true),
        (vec![("PROC_ROOT", no_snmp.path(""))], true),
        (vec![("PROC_ROOT", odd.path(""))], false),
        (vec![("PROC_ROOT", full.path("nothing-here"))], true),
        (
            vec![
                ("PROC_NET_SOCKSTAT", full.path("net/sockstat")),
                ("PROC_NET_SOCKSTAT6", full.path("net/sockstat6")),
                ("PROC_NET_SNMP", full.path("net/snmp")),
            ],
            false,
        ),
        // sockstat6 from the kernel: the namespace's own counts, all zero in a new one.
        (
            vec![
                ("PROC_NET_SOCKSTAT", full.path("net/sockstat")),
                ("PROC_NET_SNMP", odd.path("net/snmp")),
            ],
            false,
        ),
    ];
    for (env, warns) in &cases {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let both = Both::run_with(&ns, &["-s"], &env);
        if let Some(mismatch) = both.mismatch() {
            panic!("with {env:?}: {mismatch}");
        }
        let stderr = text(&both.ours.stderr);
        if *warns {
            assert!(
                stderr.starts_with("sockscope: warning: cannot read ")
                    && stderr
                        .lines()
                        .all(|l| l.starts_with("sockscope: warning: ")),
                "with {env:?}: {stderr}"
            );
        } else {
            assert_eq!(stderr, "", "with {env:?}");
        }
    }
    // The figures are the files', not the kernel's.
    let out = ns.output(SOCKSCOPE, &["-s"]);
    let both = Both::run_with(&ns, &["-s"], &[("PROC_ROOT", &full.path(""))]);
    let mut command = ns.command(SOCKSCOPE);
    command.arg("-s").env("PROC_ROOT", full.path(""));
    let from_files = netns::run_bounded(&mut command, RUN_LIMIT);
    assert_ne!(out.stdout, from_files.stdout);
    assert!(text(&from_files.stdout).starts_with("Total: 111\nTCP:   54 (estab 9, closed 20, "));
    assert!(both.mismatch().is_none());
}

#[test]
fn a_malformed_counters_file_is_a_warning() {
    let ns = Netns::new();
    let bad = FakeProc::new(&[
        ("sockstat", "sockets: used 4\nTCP: inuse many\n"),
        ("snmp", SNMP),
    ]);
    let mut command = ns.command(SOCKSCOPE);
    command.arg("-s").env("PROC_ROOT", bad.path(""));
    let out = netns::run_bounded(&mut command, RUN_LIMIT);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stderr),
        format!(
            "sockscope: warning: {}:2: unexpected format\n",
            Path::new(&bad.path("net/sockstat")).display()
        )
    );
    assert!(text(&out.stdout).starts_with("Total: 0\nTCP:   0 (estab 9, "));
}

/// Standard output is a pipe whose reader is already gone: the write fails with EPIPE, and
/// sockscope must end quietly with status 0.
#[test]
fn a_closed_stdout_ends_quietly() {
    let ns = Netns::new();
    for args in [&["-s"][..], &["-s", "--json"]] {
        let mut fds = [0; 2];
        // Close-on-exec: a program another test starts meanwhile must not inherit the read
        // end, which would keep the pipe open.
        // SAFETY: pipe2(2) fills the two descriptors, which are then owned here.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both descriptors are open and owned by nothing else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        drop(read);
        let mut child = ns
            .command(SOCKSCOPE)
            .args(args)
            .stdout(Stdio::from(write))
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = netns::wait_bounded(&mut child, RUN_LIMIT);
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        assert!(status.success(), "{args:?}: {status:?} {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
