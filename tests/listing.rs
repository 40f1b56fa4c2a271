//! Listing sockets: sockscope and ss on the same table must print the same thing.

use crate::util::{Both, Netns, RichTable, SOCKSCOPE, assert_all_same, text};

#[test]
fn tables_match_ss() {
    let table = RichTable::new();
    assert_all_same(
        &table.ns,
        &[
            "", "-n", "-H", "-t", "-tn", "-ta", "-tan", "-tl", "-tln", "-tlnH", "-tla", "-tal",
            "-u", "-ua", "-uan", "-ul", "-uln", "-w", "-wa", "-wan", "-wl", "-x", "-xa", "-xl",
            "-xan", "-xaH",
        ],
        &[],
        Both::mismatch,
    );
}

#[test]
fn families_and_table_selection_match_ss() {
    let table = RichTable::new();
    assert_all_same(
        &table.ns,
        &[
            "-4",
            "-6",
            "-4 -a -A tcp,udp",
            "-6 -an -A inet",
            "-tu",
            "-tua",
            "-tuan",
            "-tux",
            "-t -x",
            "-4 -x",
            "-x -6",
            "-A tcp",
            "-A tcp,udp -a",
            "-A unix_stream -a",
            "-A unix_dgram,unix_seqpacket -a",
            "-A all,!netlink,!packet -a",
            "-A all,!netlink,!packet -l",
            "-A inet -an",
            "-A unix -a",
            "-A raw,udp -l",
            "-f inet -a",
            "-f inet6 -a",
            "-f unix -a",
            "-f inet -f inet6 -t",
            "-t -6 -4",
            "-f inet -f unix -f inet6",
            "-6 -f unix -4",
            "-la -A raw,udp,tcp",
            "-al -A raw,udp,tcp",
            "--tcp --all --numeric",
            "--query=tcp --listening",
            "--socket=udp --all",
            "--family=inet6 --listening",
            "--ipv4 --unix",
        ],
        &[],
        Both::mismatch,
    );
}

#[test]
fn host_names_match_ss() {
    let table = RichTable::new();
    // Not -x: with -r, ss's resolver opens a unix socket of its own before it lists them.
    assert_all_same(&table.ns, &["-tanr", "-uar", "-r"], &[], Both::mismatch);
}

/// With ss's PROC_* variables set, both read /proc/net instead of asking sock_diag.
#[test]
fn proc_fallback_matches_ss() {
    let table = RichTable::new();
    let cases = [
        "-tan",
        "-ta",
        "-ua",
        "-wa",
        "-xa",
        "-x",
        "-a -A inet,unix",
        "-t6a",
    ];
    assert_all_same(&table.ns, &cases, &[("PROC_ROOT", "/proc")], Both::mismatch);
    assert_all_same(
        &table.ns,
        &["-tan", "-tl"],
        &[("PROC_NET_TCP", "/proc/net/tcp")],
        Both::mismatch,
    );
    assert_all_same(
        &table.ns,
        &["-xa"],
        &[("PROC_NET_UNIX", "/proc/net/unix")],
        Both::mismatch,
    );
}

/// The rows the reference table must produce, so that a silently empty listing cannot pass.
#[test]
fn the_reference_table_has_every_kind_of_row() {
    let table = RichTable::new();
    let out = table.ns.output(SOCKSCOPE, &["-an", "-A", "inet,unix"]);
    let listing = crate::util::fold(&text(&out.stdout));
    for row in [
        "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*",
        "tcp LISTEN 0 4 0.0.0.0%lo:7000 0.0.0.0:*",
        "tcp LISTEN 2 5 127.0.0.1:55000 0.0.0.0:*",
        "tcp LISTEN 0 10 *:8080 *:*",
        "tcp LISTEN 0 10 [::]:8081 [::]:*",
        "tcp LISTEN 0 3 [fe80::1]%va:9000 [::]:*",
        "tcp LISTEN 0 7 [::1]:631 [::]:*",
        "tcp FIN-WAIT-2 0 0 127.0.0.1:5000",
        "tcp TIME-WAIT 0 0 127.0.0.1:",
        "tcp SYN-SENT 0 1 10.9.0.1:",
        "tcp SYN-RECV 0 0 10.9.0.1:5002 10.9.0.2:4444",
        "udp UNCONN 0 0 *:5353 *:*",
        "raw UNCONN 0 0 0.0.0.0:1 0.0.0.0:*",
        "raw UNCONN 0 0 *:58 *:*",
        "u_str LISTEN 0 2 @sockscope-abstract",
        "u_seq LISTEN 0 1 @sockscope-seq",
        "u_dgr UNCONN 0 0 @with@nul",
    ] {
        assert!(
            listing.lines().any(|line| line.starts_with(row)),
            "no row starting with {row:?} in:\n{listing}"
        );
    }
    for pattern in [
        " 50 0 127.0.0.1:",
        " 7 0 127.0.0.1:5000 ",
        "CLOSE-WAIT 1 0 ",
    ] {
        assert!(listing.contains(pattern), "no {pattern:?} in:\n{listing}");
    }
    assert!(listing.contains(&format!("{} ", table.path("app.sock"))));
}

#[test]
fn a_closed_stdout_ends_quietly() {
    let table = RichTable::new();
    let script = format!("{SOCKSCOPE} -tan | head -1; echo \"status ${{PIPESTATUS[0]}}\"");
    let out = table.ns.output("bash", &["-c", &script]);
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("State "), "{stdout}");
    assert!(stdout.ends_with("status 0\n"), "{stdout}");
    assert_eq!(text(&out.stderr), "");
}

/// A listing far larger than the pipe buffer into a reader that stops early.
#[test]
fn a_closed_stdout_ends_quietly_on_a_large_table() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        (0..3000)
            .map(|i| std::net::UdpSocket::bind(("127.0.0.1", 20000 + i)).unwrap())
            .collect::<Vec<_>>()
    });
    let script = format!("{SOCKSCOPE} -uan | head -1; echo \"status ${{PIPESTATUS[0]}}\"");
    let out = ns.output("bash", &["-c", &script]);
    assert!(
        text(&out.stdout).ends_with("status 0\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "");
}

/// Past 65536 rows the table is written while the kernel is still being read: a closed
/// stdout then shows up in the middle of the listing, and must end it just as quietly.
#[test]
fn a_closed_stdout_ends_quietly_while_streaming() {
    let ns = Netns::new();
    ns.output(
        "sysctl",
        &["-qw", "net.ipv4.ip_local_port_range=1024 65000"],
    );
    // TIME-WAIT entries need no descriptors: 90000 of them fit under any open-files limit
    // (and each reused port pair replaces an entry, so more than 65536 are left).
    ns.run(|| {
        let listeners: Vec<std::net::TcpListener> = (0..3)
            .map(|i| std::net::TcpListener::bind(("127.0.0.1", 7000 + i)).unwrap())
            .collect();
        for i in 0..90_000u32 {
            let listener = &listeners[(i % 3) as usize];
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().unwrap();
            // The side that closes first keeps the TIME-WAIT entry.
            drop(client);
            drop(server);
        }
    });
    let rows = ns
        .output(SOCKSCOPE, &["-tanH", "state", "time-wait"])
        .stdout;
    assert!(
        text(&rows).lines().count() > 65536,
        "too few TIME-WAIT entries"
    );
    let script = format!("{SOCKSCOPE} -tan | head -1; echo \"status ${{PIPESTATUS[0]}}\"");
    let out = ns.output("bash", &["-c", &script]);
    assert!(
        text(&out.stdout).ends_with("status 0\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn bad_options_are_one_line_errors() {
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["-A", "foo"]);
    assert_eq!(out.status.code(), Some(255));
    assert_eq!(
        text(&out.stderr),
        "sockscope: \"foo\" is illegal socket table id\n"
    );
    let out = ns.output(SOCKSCOPE, &["--bogus"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ns.output(SOCKSCOPE, &["-f", "nonsense"]);
    assert_eq!(out.status.code(), Some(2));
}

/// -Z and -z fail as ss fails where SELinux is off (and say they cannot help where it is on).
#[test]
fn selinux_contexts_fail_as_in_ss() {
    let ns = Netns::new();
    let selinux = std::path::Path::new("/sys/fs/selinux/enforce").exists();
    for flag in ["-tlZ", "-xz"] {
        let ss = ns.output("ss", &[flag]);
        let ours = ns.output(SOCKSCOPE, &[flag]);
        assert_eq!(ours.status.code(), Some(1), "{flag}");
        assert!(ours.stdout.is_empty());
        if selinux {
            assert!(text(&ours.stderr).contains("cannot show SELinux contexts"));
        } else {
            assert_eq!(ss.status.code(), ours.status.code(), "{flag}");
            assert_eq!(text(&ours.stderr), "sockscope: SELinux is not enabled\n");
        }
    }
}

#[test]
fn version_and_help() {
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["-V"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("sockscope "));
    let out = ns.output(SOCKSCOPE, &["-h"]);
    assert!(out.status.success());
    assert!(text(&out.stdout).contains("--numeric"));
}

/// On a terminal both tools spread the columns over its width; `script` gives them one.
#[test]
fn terminal_layout_matches_ss() {
    let table = RichTable::new();
    let mut failures = Vec::new();
    for columns in [40, 66, 80, 123, 200] {
        for args in ["-tan", "-ua", "-xa", "-Hta"] {
            let run = |program: &str| {
                let script = format!("stty cols {columns}; {program} {args}");
                text(
                    &table
                        .ns
                        .output("script", &["-qec", &script, "/dev/null"])
                        .stdout,
                )
            };
            let (ss, ours) = (run("ss"), run(SOCKSCOPE));
            if columns == 200 && args == "-tan" {
                // The comparison means something only if the table was spread.
                let header = ours.lines().next().unwrap_or("").trim_end_matches('\r');
                assert_eq!(header.len(), 200, "not spread over the terminal:\n{ours}");
            }
            if ss != ours {
                failures.push(format!(
                    "{args} at {columns} columns:\n--- ss\n{ss}--- sockscope\n{ours}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
