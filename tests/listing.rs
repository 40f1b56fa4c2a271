//! Listing sockets: sockscope and ss on the same table must print the same thing.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use crate::util::fixture::send_syns;
use crate::util::{
    Both, Netns, RichTable, SOCKSCOPE, assert_all_same, layout_differences, on_terminal, reference,
    text,
};

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
    ends_quietly_into_head(&ns, "-uan");
}

/// Past 65536 rows the table is written while the kernel is still being read: a closed
/// stdout then shows up in the middle of the listing, and must end it just as quietly.
///
/// The rows are handshakes left half-done: SYN-RECV entries need no descriptors and, unlike
/// TIME-WAIT ones (gone after 60 s, and taken over by later loopback connections under the
/// default `tcp_tw_reuse`), stay as long as the test, however slowly the machine makes them.
#[test]
fn a_closed_stdout_ends_quietly_while_streaming() {
    const ENTRIES: u32 = 75_000;
    let ns = Netns::new();
    // The SYN-ACKs go out of a veth pair towards addresses with no neighbour, to be dropped
    // before they reach a device: to TCP each was sent. (A packet a full backlog drops makes a
    // retransmission fail, and one queued for a neighbour that never answers comes back as a
    // host unreachable; either makes the kernel drop the entry.)
    ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
    ns.ip(&["link", "set", "va", "up"]);
    ns.ip(&["link", "set", "vb", "up"]);
    ns.ip(&["addr", "add", "10.9.0.1/16", "dev", "va"]);
    ns.sysctl(&[
        // No neighbour solicitation, so no queue waiting on one: a neighbour fails at once.
        ("net.ipv4.neigh.va.mcast_solicit", "0"),
        ("net.ipv4.neigh.va.app_solicit", "0"),
        // Each SYN makes an entry: never a cookie instead, and no queue limit in reach (the
        // kernel also ages entries out early once the queue is half full).
        ("net.ipv4.tcp_syncookies", "0"),
        ("net.ipv4.tcp_max_syn_backlog", "262144"),
        ("net.core.somaxconn", "262144"),
        // Each entry outlives the test: 255 SYN-ACK retries take hours, the default 5 a minute.
        ("net.ipv4.tcp_synack_retries", "255"),
    ]);
    let to: SocketAddrV4 = "10.9.0.1:5000".parse().unwrap();
    let _listener = ns.run(|| {
        let listener = TcpListener::bind(to).unwrap();
        socket2::SockRef::from(&listener).listen(262_144).unwrap();
        let mut missing: Vec<SocketAddrV4> = (0..ENTRIES)
            .map(|i| {
                let peer = Ipv4Addr::new(10, 9, 1 + (i / 60_000) as u8, 1);
                SocketAddrV4::new(peer, 1024 + (i % 60_000) as u16)
            })
            .collect();
        // A SYN can be lost on its way in (the kernel's per-CPU backlog, which every
        // namespace's loopback traffic shares, may be full): those without an entry are sent
        // again, a few rounds at most.
        for _ in 0..5 {
            send_syns(missing.iter().copied(), to);
            let present = half_open_peers(to);
            missing.retain(|peer| !present.contains(peer));
            if missing.is_empty() {
                break;
            }
        }
        listener
    });
    let rows = ns.output(SOCKSCOPE, &["-tanH", "state", "syn-recv"]).stdout;
    let count = text(&rows).lines().count();
    assert!(
        count > 65536,
        "too few SYN-RECV entries: {count} of {ENTRIES}"
    );
    ends_quietly_into_head(&ns, "-tan");
}

/// `sockscope ARGS | head -1` in `ns`: sockscope ends with status 0 and says nothing once
/// head has closed the pipe.
fn ends_quietly_into_head(ns: &Netns, args: &str) {
    let script = format!("{SOCKSCOPE} {args} | head -1; echo \"status ${{PIPESTATUS[0]}}\"");
    let out = ns.output("bash", &["-c", &script]);
    assert!(
        text(&out.stdout).ends_with("status 0\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr), "");
}

/// The peers of the SYN-RECV entries of the listener at `at`, from the calling thread's
/// `/proc/net/tcp` (addresses as the kernel's native-endian hex words, ports in hex).
fn half_open_peers(at: SocketAddrV4) -> HashSet<SocketAddrV4> {
    let address = |field: &str| {
        let (ip, port) = field.split_once(':')?;
        let ip = u32::from_str_radix(ip, 16).ok()?;
        let port = u16::from_str_radix(port, 16).ok()?;
        Some(SocketAddrV4::new(Ipv4Addr::from(ip.to_ne_bytes()), port))
    };
    std::fs::read_to_string("/proc/thread-self/net/tcp")
        .expect("reading /proc/net/tcp")
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().take(4).collect();
            match fields[..] {
                [_, local, peer, "03"] if address(local) == Some(at) => address(peer),
                _ => None,
            }
        })
        .collect()
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
            let run = |program: &str| on_terminal(&table.ns, columns, &format!("{program} {args}"));
            let ours = run(SOCKSCOPE);
            let (ss, installed) = reference::against_installed(|| run("ss"), &ours);
            let mut references = vec![("ss", ss, installed)];
            if let Some(ss71) = reference::ss71() {
                let ss = run(ss71);
                let bound = reference::bound_inactive(&table.ns);
                let (ss_text, ours_text) = (ss.replace('\r', ""), ours.replace('\r', ""));
                match reference::without_extra_states(&ss_text, &ours_text, &bound) {
                    Some(rest) => references.push((
                        "ss 7.1",
                        reference::normalise(&rest),
                        reference::normalise(&ours_text),
                    )),
                    None => references.push(("ss 7.1", ss, ours.clone())),
                }
            }
            if columns == 200 && args == "-tan" {
                // The comparison means something only if the table was spread.
                let header = ours.lines().next().unwrap_or("").trim_end_matches('\r');
                assert_eq!(header.len(), 200, "not spread over the terminal:\n{ours}");
            }
            failures.extend(layout_differences(args, columns, references));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
