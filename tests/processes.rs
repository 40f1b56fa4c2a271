//! `-p` and `-T`: the processes and threads that hold each socket, compared with ss.
//!
//! The sockets are made by holder processes (see `util::holder`) inside a private namespace, so
//! their owners are known and stay put while both tools run. A fake `PROC_ROOT`, which ss reads
//! too, pins down the order and the names in cases a real /proc cannot be made to show.

use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::time::Instant;

use serde_json::Value;

use crate::util::netns::RUN_LIMIT;
use crate::util::{
    Both, Holder, Netns, SOCKSCOPE, Spec, TempDir, assert_all_same, layout_differences,
    on_terminal, reference, text,
};

/// The warning for processes whose descriptors cannot be read. Even root may meet one (the
/// init of some sandboxes), so the tests accept it everywhere.
const PARTIAL: &str = "sockscope: warning: permission denied reading the file descriptors of \
                       some processes; their sockets show no process\n";

/// What sockscope prints for `args` in `ns`; it must succeed with nothing on stderr but
/// [`PARTIAL`].
fn ours(ns: &Netns, args: &[&str]) -> String {
    let out = ns.output(SOCKSCOPE, args);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() && (stderr.is_empty() || stderr == PARTIAL),
        "sockscope {args:?}: {:?}\n{}",
        out.status,
        stderr
    );
    text(&out.stdout)
}

fn server(comm: &str, port: u16) -> Spec {
    Spec {
        comm: comm.into(),
        tcp: Some(port),
        ..Spec::default()
    }
}

/// Three processes: one with every kind of socket and several descriptors for one of them,
/// one with a name ss cuts short and a forked child, one with threads.
fn three_holders(ns: &Netns) -> [Holder; 3] {
    [
        Holder::start(
            ns,
            &Spec {
                udp: Some(7100),
                unix: Some("procs-a".into()),
                dups: 2,
                ..server("alpha", 7001)
            },
        ),
        Holder::start(
            ns,
            &Spec {
                unix: Some("procs-b".into()),
                child: Some("b-child".into()),
                ..server("we ird)x", 7002)
            },
        ),
        Holder::start(
            ns,
            &Spec {
                threads: 3,
                udp: Some(7200),
                ..server("q\"\\x", 7003)
            },
        ),
    ]
}

#[test]
fn several_processes_match_ss() {
    let ns = Netns::new();
    let _holders = three_holders(&ns);
    assert_all_same(
        &ns,
        &[
            "-tanp",
            "-tnp",
            "-tlp",
            "-tanpH",
            "-uanp",
            "-xanp",
            "-xp",
            "-A inet,unix -anp",
            "-tanp sport = :7002",
            "-tanp dport = :7003",
            "-ap -A unix_stream",
            "-tanp -4",
            "-tanp -6",
        ],
        &[],
        Both::mismatch,
    );
    // The comparison means something only if the owners were found.
    let listing = ours(&ns, &["-A", "inet,unix", "-anp"]);
    for owner in [
        "(\"alpha\",pid=",
        "(\"we ird\",pid=",
        "(\"b-child\",pid=",
        "(\"q\"\\x\",pid=",
    ] {
        assert!(listing.contains(owner), "no {owner} in\n{listing}");
    }
}

#[test]
fn threads_match_ss() {
    let ns = Netns::new();
    let holders = three_holders(&ns);
    assert_all_same(
        &ns,
        &[
            "-tanT",
            "-tanpT",
            "-tlT",
            "-uanT",
            "-xanT",
            "-A inet,unix -anT",
            "--threads -tan",
        ],
        &[],
        Both::mismatch,
    );
    // Each thread is listed, by its own name, for the sockets of its process.
    let listing = ours(&ns, &["-tlnT", "sport = :7003"]);
    let threaded = &holders[2];
    assert_eq!(threaded.tids.len(), 3);
    for (i, tid) in threaded.tids.iter().enumerate() {
        let owner = format!("(\"t{i}\",pid={},tid={tid},fd=", threaded.pid);
        assert!(listing.contains(&owner), "no {owner} in\n{listing}");
    }
}

/// A forked child holds the same descriptors as its parent: both are listed, the child (found
/// later in /proc) first.
#[test]
fn a_forked_child_shares_the_descriptor() {
    let ns = Netns::new();
    let holder = Holder::start(
        &ns,
        &Spec {
            child: Some("the-child".into()),
            ..server("parent", 7002)
        },
    );
    assert_all_same(
        &ns,
        &["-tanp", "-tlp", "-tanT", "-tanpH"],
        &[],
        Both::mismatch,
    );
    let listing = ours(&ns, &["-tlnH", "-p"]);
    let child = holder.child_pid.expect("a child");
    let fd = listing
        .split(&format!("(\"parent\",pid={},fd=", holder.pid))
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("the parent is not listed:\n{listing}"));
    let expected = format!(
        " users:((\"the-child\",pid={child},fd={fd}),(\"parent\",pid={},fd={fd}))",
        holder.pid
    );
    assert!(
        listing.trim_end().ends_with(&expected),
        "{expected} in\n{listing}"
    );
}

/// Processes that come and go while /proc is read do not make the scan fail: a holder keeps
/// forking children that hold its sockets and end within milliseconds.
#[test]
fn processes_ending_during_the_scan_are_skipped() {
    let ns = Netns::new();
    let holder = Holder::start(
        &ns,
        &Spec {
            churn: true,
            ..server("churner", 7004)
        },
    );
    let stable = format!("(\"churner\",pid={},", holder.pid);
    let deadline = Instant::now() + RUN_LIMIT;
    let mut saw_children = false;
    let mut last = String::new();
    // At least 30 runs, more until a child has been seen, within the deadline.
    for run in 0..1000 {
        if Instant::now() > deadline || (run >= 30 && saw_children) {
            break;
        }
        let args: &[&str] = if run % 2 == 0 { &["-tlnp"] } else { &["-tlnT"] };
        let listing = ours(&ns, args);
        assert!(listing.contains(&stable), "no {stable} in\n{listing}");
        saw_children |= listing
            .split("pid=")
            .skip(1)
            .filter_map(|rest| rest.split(',').next())
            .any(|pid| pid != holder.pid.to_string());
        last = listing;
    }
    assert!(saw_children, "no short-lived child was ever seen:\n{last}");
}

/// `processes` in JSON: the same owners, in the same order, with the whole name.
#[test]
fn json_lists_the_owners() {
    let ns = Netns::new();
    let holder = Holder::start(
        &ns,
        &Spec {
            child: Some("kid".into()),
            threads: 1,
            ..server("a)b", 7005)
        },
    );
    let child = holder.child_pid.unwrap();
    let listener = |args: &[&str]| -> Value {
        let mut all = vec!["--json", "-tl"];
        all.extend_from_slice(args);
        let value: Value = serde_json::from_str(&ours(&ns, &all)).unwrap();
        let records = value.as_array().unwrap();
        assert_eq!(records.len(), 1, "{value}");
        assert!(records[0].get("processes").is_some(), "{value}");
        records[0].clone()
    };
    let fd = |record: &Value| record["processes"][0]["fd"].clone();

    let record = listener(&["-p"]);
    let expected = serde_json::json!([
        {"comm": "kid", "pid": child, "fd": fd(&record)},
        {"comm": "a)b", "pid": holder.pid, "fd": fd(&record)},
    ]);
    assert_eq!(record["processes"], expected);

    // Each thread in the reverse of the kernel's order: the last started first, the main
    // thread last.
    let record = listener(&["-T"]);
    let fd = fd(&record);
    let expected = serde_json::json!([
        {"comm": "kid", "pid": child, "tid": child, "fd": fd},
        {"comm": "t0", "pid": holder.pid, "tid": holder.tids[0], "fd": fd},
        {"comm": "a)b", "pid": holder.pid, "tid": holder.pid, "fd": fd},
    ]);
    assert_eq!(record["processes"], expected);

    // A socket no process holds (the connection waiting to be accepted) has an empty list.
    let value: Value = serde_json::from_str(&ours(&ns, &["--json", "-tnp"])).unwrap();
    let empty = value
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["processes"] == serde_json::json!([]))
        .count();
    assert_eq!(empty, 1, "{value}");
    assert!(!ours(&ns, &["--json", "-tn"]).contains("processes"));
}

/// Without permission to read other users' processes both tools show what they can; sockscope
/// says once that the list is partial, when a socket it listed shows no process.
#[test]
fn another_users_processes_make_a_partial_list() {
    let ns = Netns::new();
    let _holder = Holder::start(&ns, &server("root-owned", 7006));
    let as_nobody = |program: &str| {
        ns.output(
            "setpriv",
            &[
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                program,
                "-tanp",
            ],
        )
    };
    let (ss, ours) = (as_nobody("ss"), as_nobody(SOCKSCOPE));
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    crate::eqnice!(
        reference::normalise(&text(&ss.stdout)),
        reference::normalise(&text(&ours.stdout))
    );
    if let Some(ss71) = reference::ss71() {
        crate::eqnice!(text(&as_nobody(ss71).stdout), text(&ours.stdout));
    }
    assert!(!text(&ours.stdout).contains("users:"));
    crate::eqnice!(PARTIAL, text(&ours.stderr));
    // Nothing listed, so no socket can be missing its process: no warning.
    let none = ns.output(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            SOCKSCOPE,
            "-tanp",
            "sport = :9",
        ],
    );
    assert!(none.status.success(), "{}", text(&none.stderr));
    crate::eqnice!("", text(&none.stderr));
}

/// A directory laid out like /proc for `PROC_ROOT`, its `net` the real one. Removed when
/// dropped.
struct FakeProc {
    root: TempDir,
}

impl FakeProc {
    fn new() -> FakeProc {
        let root = TempDir::new("fake-proc");
        symlink("/proc/net", root.join("net")).unwrap();
        FakeProc { root }
    }

    /// `ID/stat` with `comm` in its parentheses, and `ID/fd/N -> TARGET`.
    fn task(&self, id: &str, comm: &str, fds: &[(u32, String)]) -> &FakeProc {
        let dir = self.root.join(id);
        std::fs::create_dir_all(dir.join("fd")).unwrap();
        std::fs::write(dir.join("stat"), format!("{id} ({comm}) S 1 1 1 0 -1\n")).unwrap();
        for (fd, target) in fds {
            symlink(target, dir.join("fd").join(fd.to_string())).unwrap();
        }
        self
    }

    fn threads(&self, pid: &str, tids: &[&str]) -> &FakeProc {
        for tid in tids {
            std::fs::create_dir_all(self.root.join(pid).join("task").join(tid)).unwrap();
        }
        self
    }

    fn dir(&self, name: &str) -> &FakeProc {
        std::fs::create_dir_all(self.root.join(name)).unwrap();
        self
    }
}

fn socket_link(fd: &impl AsRawFd) -> String {
    // SAFETY: a zeroed stat is a valid value for fstat to overwrite.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat on an open descriptor, into a buffer of the right type.
    assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
    format!("socket:[{}]", st.st_ino)
}

/// Under `PROC_ROOT` both tools read a tree we made: the order is the file system's, not
/// sorted, and the names are ones a real process could not easily take.
#[test]
fn a_fake_proc_root_matches_ss() {
    let ns = Netns::new();
    let sockets = ns.run(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:7007").unwrap();
        let client = std::net::TcpStream::connect("127.0.0.1:7007").unwrap();
        let (server, _) = listener.accept().unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:7107").unwrap();
        udp.connect("127.0.0.1:7108").unwrap();
        let (x1, x2) = std::os::unix::net::UnixStream::pair().unwrap();
        (listener, client, server, udp, x1, x2)
    });
    let (l, c, s) = (
        socket_link(&sockets.0),
        socket_link(&sockets.1),
        socket_link(&sockets.2),
    );
    let (u, x1, x2) = (
        socket_link(&sockets.3),
        socket_link(&sockets.4),
        socket_link(&sockets.5),
    );
    let fake = FakeProc::new();
    fake.task(
        "7",
        "fa)ke",
        &[
            (3, l.clone()),
            (4, c.clone()),
            (10, l.clone()),
            (5, "pipe:[1]".into()),
            (6, "/dev/null".into()),
        ],
    )
    .task("123", "", &[(3, l.clone()), (8, s.clone())])
    .task(
        "4000",
        "x y",
        &[(1, u.clone()), (2, x1.clone()), (12, l.clone())],
    )
    .task("55", "q\"\\", &[(3, x2.clone()), (4, l.clone()), (5, c)])
    .threads("55", &["55", "56", "57"])
    .task("56", "thr)ead", &[(3, x2), (4, l)])
    .dir("self")
    .dir("abc");
    let root = fake.root.to_str().unwrap();
    assert_all_same(
        &ns,
        &[
            "-tanp", "-tanT", "-tlp", "-tlT", "-tanpH", "-uap", "-xap", "-xaT",
        ],
        &[("PROC_ROOT", root)],
        Both::mismatch,
    );
    // The comparison means something only if the owners were found.
    let listing = ours_with(&ns, &["-tlnp"], root);
    assert_eq!(listing.matches("pid=").count(), 6, "{listing}");
}

fn ours_with(ns: &Netns, args: &[&str], proc_root: &str) -> String {
    let mut command = ns.command(SOCKSCOPE);
    command.args(args).env("PROC_ROOT", proc_root);
    let out = crate::util::netns::run_bounded(&mut command, RUN_LIMIT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// On a terminal a long Process cell is no wider than the screen, as in ss, and the spare
/// width is shared out the same way; `script` gives both tools a terminal.
#[test]
fn terminal_layout_matches_ss() {
    let ns = Netns::new();
    let _holder = Holder::start(
        &ns,
        &Spec {
            dups: 6,
            child: Some("child".into()),
            threads: 2,
            unix: Some("procs-tty".into()),
            ..server("tty", 7008)
        },
    );
    let mut failures = Vec::new();
    for columns in [40, 80, 123, 200, 400] {
        for args in ["-tanp", "-tanpH", "-tlp", "-xap", "-tanT"] {
            // Only standard output: on some systems even root gets the partial warning.
            let run =
                |program: &str| on_terminal(&ns, columns, &format!("{program} {args} 2>/dev/null"));
            let ours = run(SOCKSCOPE);
            let (ss, installed) = reference::against_installed(|| run("ss"), &ours);
            let mut references = vec![("ss", ss, installed)];
            if let Some(ss71) = reference::ss71() {
                // ss 7.1's -T shows threads only with -p (README).
                let ss71 = if args.contains('T') {
                    format!("{ss71} -p")
                } else {
                    ss71.to_owned()
                };
                references.push(("ss 7.1", run(&ss71), ours.clone()));
            }
            failures.extend(layout_differences(args, columns, references));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
