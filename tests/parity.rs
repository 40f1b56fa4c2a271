//! The corners where sockscope and ss used to differ (issue 15), and what ss 7.1 added: each
//! case against the installed ss (after the documented 6.1/7.1 differences are taken out) and,
//! when `SOCKSCOPE_SS71` names it, exactly against ss 7.1.

use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::util::netns::{RUN_LIMIT, run_bounded};
use crate::util::{Both, Netns, SOCKSCOPE, TempDir, assert_all_same, reference, skip, still, text};

fn raw(domain: Domain, protocol: i32) -> Socket {
    Socket::new(domain, Type::RAW, Some(Protocol::from(protocol))).unwrap()
}

fn udp_at(at: SocketAddr) -> Socket {
    let socket = Socket::new(Domain::for_address(at), Type::DGRAM, None).unwrap();
    socket.bind(&SockAddr::from(at)).unwrap();
    socket
}

/// A listener on 127.0.0.1:5000 with one connection to it, data waiting on the server side.
fn connection() -> Vec<Socket> {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:5000").unwrap();
    let mut client = std::net::TcpStream::connect("127.0.0.1:5000").unwrap();
    let (server, _) = listener.accept().unwrap();
    client.write_all(&[7; 100]).unwrap();
    [
        Socket::from(std::os::fd::OwnedFd::from(listener)),
        Socket::from(std::os::fd::OwnedFd::from(client)),
        Socket::from(std::os::fd::OwnedFd::from(server)),
    ]
    .into()
}

/// Raw sockets of protocols with a name in /etc/protocols (ethernet, ipv6-icmp) and without
/// one (253, 200), in both families.
fn raw_sockets() -> Vec<Socket> {
    vec![
        raw(Domain::IPV4, 253),
        raw(Domain::IPV4, 143),
        raw(Domain::IPV6, 200),
        raw(Domain::IPV6, libc::IPPROTO_ICMPV6),
    ]
}

/// What ss 7.1 added: `-Q`, `COLUMNS` on a pipe, `rcv_wnd` in `-i`. ss 6.1 has none of them,
/// so these compare with 7.1 only.
#[test]
fn what_ss_71_added() {
    if reference::ss71().is_none() {
        return skip(&format!(
            "{} is not set: nothing to compare with ss 7.1",
            reference::SS71_VARIABLE
        ));
    }
    let ns = Netns::new();
    let _sockets = ns.run(connection);
    let mut failures = Vec::new();
    for (args, env) in [
        ("-tanQ", vec![]),
        ("-tan --no-queues", vec![]),
        ("-tanQe", vec![]),
        ("-tan", vec![("COLUMNS", "100")]),
        ("-tane", vec![("COLUMNS", "120")]),
        ("-tanQ", vec![("COLUMNS", "50")]),
        ("-tan", vec![("COLUMNS", "junk")]),
    ] {
        let args: Vec<&str> = args.split_whitespace().collect();
        let both = Both::run_71(&ns, &args, &env).expect("ss 7.1, checked above");
        failures.extend(both.mismatch());
    }
    let both = Both::run_71(&ns, &["-tni"], &[]).expect("ss 7.1, checked above");
    let (ss, ours) = (
        still(&text(&both.ss.stdout)),
        still(&text(&both.ours.stdout)),
    );
    if ss != ours {
        failures.push(both.mismatch().unwrap_or_default());
    }
    assert!(ours.contains("rcv_wnd:"), "{ours}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// An IPv4-compatible IPv6 address (`::1.2.3.4`) is printed as glibc's inet_ntop prints it.
#[test]
fn ipv4_compatible_ipv6_addresses_as_inet_ntop_prints_them() {
    let ns = Netns::new();
    for address in ["::1.2.3.4/128", "::0.1.0.0/128", "::2/128"] {
        ns.ip(&["addr", "add", address, "dev", "lo", "nodad"]);
    }
    let _sockets = ns.run(|| {
        ["::1.2.3.4", "::0.1.0.0", "::2"]
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let ip: Ipv6Addr = a.parse().unwrap();
                udp_at(SocketAddr::V6(SocketAddrV6::new(ip, 7000 + i as u16, 0, 0)))
            })
            .collect::<Vec<_>>()
    });
    assert_all_same(&ns, &["-uan", "-ua", "-uane", "-6uan"], &[], Both::mismatch);
}

/// Raw sockets: `ipproto-N` for a protocol /etc/protocols does not name, no empty detail line
/// with `-m`, `-A raw` keeps the State column, and both IP versions when both are asked for.
#[test]
fn raw_sockets_as_ss_lists_them() {
    let ns = Netns::new();
    let _sockets = ns.run(raw_sockets);
    assert_all_same(
        &ns,
        &[
            "-w",
            "-wa",
            "-wan",
            "-wam",
            "-wae",
            "-wai",
            "-waO -m",
            "-A raw",
            "-A raw -n",
            "-A raw -a",
            "-A raw,udp",
            "-A udp",
            "-4 -wa",
            "-6 -wa",
        ],
        &[],
        Both::mismatch,
    );
}

/// `-b` on TCP shows the timers too, as ss's does: a connection that gets no answer is in
/// SYN-SENT with its retransmission timer running.
#[test]
fn bpf_shows_tcp_timers() {
    let ns = Netns::new();
    // Packets to 10.9.0.0/24 go to the loopback, which drops them: no one answers.
    ns.ip(&["route", "add", "10.9.0.0/24", "dev", "lo"]);
    let _socket = ns.run(|| {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        socket.set_nonblocking(true).unwrap();
        let _ = socket.connect(&SockAddr::from(
            "10.9.0.2:80".parse::<SocketAddr>().unwrap(),
        ));
        socket
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    while !text(&ns.output(SOCKSCOPE, &["-Htn", "state", "syn-sent"]).stdout).contains("10.9.0.2") {
        assert!(Instant::now() < deadline, "no SYN-SENT socket");
        std::thread::sleep(Duration::from_millis(10));
    }
    // A retransmission may come between the two runs: its count moves too.
    let settled = |output: &[u8]| {
        let still = still(&text(output));
        let words: Vec<&str> = still
            .split(' ')
            .map(|w| {
                if w.starts_with("timer:(on,T,") {
                    "timer:(on,T,N)"
                } else {
                    w
                }
            })
            .collect();
        words.join(" ")
    };
    assert_all_same(&ns, &["-tnb", "-tnob", "-tn"], &[], |both| {
        let (ss, ours) = (settled(&both.ss.stdout), settled(&both.ours.stdout));
        (ss != ours).then(|| both.mismatch().unwrap_or_default())
    });
    let out = text(&ns.output(SOCKSCOPE, &["-tnb"]).stdout);
    assert!(out.contains("timer:(on,"), "{out}");
}

/// Terminals narrower than the column titles, through `script`.
#[test]
fn terminals_narrower_than_the_titles() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let mut sockets = connection();
        sockets.extend(raw_sockets());
        sockets
    });
    let mut failures = Vec::new();
    for columns in [1, 8, 20, 33, 45, 100, 200] {
        // -p on terminals is processes::terminal_layout_matches_ss, with holders: a socket
        // of the test process may be held for a while by another test's fork.
        for args in ["-tan", "-wan", "-tanH", "-tane", "-tanQ"] {
            let run = |program: &str| {
                let script = format!("stty cols {columns}; {program} {args}");
                let out = ns.output("script", &["-qec", &script, "/dev/null"]);
                text(&out.stdout).replace('\r', "")
            };
            let ours = run(SOCKSCOPE);
            let mut references = Vec::new();
            if !args.contains('Q') {
                let ss = run("ss");
                if reference::installed_is_71() {
                    references.push(("ss", ss, ours.clone()));
                } else {
                    references.push(("ss", reference::normalise(&ss), reference::normalise(&ours)));
                }
            }
            if let Some(ss71) = reference::ss71() {
                references.push(("ss 7.1", run(ss71), ours.clone()));
            }
            for (name, ss, ours) in references {
                if ss != ours {
                    failures.push(format!(
                        "{args} at {columns} columns:\n--- {name}\n{ss}--- sockscope\n{ours}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs `program args` in `ns` with /etc/services and /etc/protocols replaced, in a private
/// mount namespace, by the files given (`None`: left as they are).
fn with_databases(
    ns: &Netns,
    program: &str,
    args: &[&str],
    services: Option<&str>,
    protocols: Option<&str>,
) -> std::process::Output {
    let mut script = String::from("set -e; ");
    if let Some(services) = services {
        script.push_str(&format!("mount --bind '{services}' /etc/services; "));
    }
    if let Some(protocols) = protocols {
        script.push_str(&format!("mount --bind '{protocols}' /etc/protocols; "));
    }
    script.push_str("exec \"$@\"");
    let mut command = ns.command("unshare");
    command
        .args([
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
            program,
        ])
        .args(args);
    run_bounded(&mut command, RUN_LIMIT)
}

/// /etc/services and /etc/protocols holding a non-UTF-8 byte or a NUL keep every entry that
/// can be read; an empty /etc/protocols names no protocol (`ipproto-N`).
#[test]
fn databases_with_bad_bytes_keep_their_readable_entries() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let mut sockets = raw_sockets();
        sockets.push(udp_at("127.0.0.1:53".parse().unwrap()));
        sockets.push(udp_at("127.0.0.1:5353".parse().unwrap()));
        sockets.push(udp_at("127.0.0.1:123".parse().unwrap()));
        sockets
    });
    let dir = TempDir::new("parity");
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // A name that is not UTF-8 is the one entry sockscope leaves out (ss prints its bytes;
    // README), so none stands first for a port here.
    let mut services = b"# caf\xe9 services\ndomain 53/udp # na\xefve\n".to_vec();
    services.extend_from_slice(b"mdns 5353/udp\0junk\xff\nntp 123/udp \xffalias\n");
    let services = write("services", &services);
    let protocols = write(
        "protocols",
        b"ip 0 IP\nethernet 143 \xffEthernet\nipv6-icmp 58\n",
    );
    let empty = write("empty", b"");
    let mut failures = Vec::new();
    for (services, protocols) in [
        (Some(services.as_str()), None),
        (None, Some(protocols.as_str())),
        (Some(services.as_str()), Some(empty.as_str())),
    ] {
        for case in ["-ua", "-wa", "-A raw,udp -a"] {
            let args: Vec<&str> = case.split_whitespace().collect();
            let ours = with_databases(&ns, SOCKSCOPE, &args, services, protocols);
            assert!(ours.status.success(), "{}", text(&ours.stderr));
            let mut references = vec![("ss", "ss")];
            if let Some(ss71) = reference::ss71() {
                references.push(("ss 7.1", ss71));
            }
            for (name, program) in references {
                let ss = with_databases(&ns, program, &args, services, protocols);
                let (mut ss, mut ours) = (text(&ss.stdout), text(&ours.stdout));
                if name == "ss" && !reference::installed_is_71() {
                    (ss, ours) = (reference::normalise(&ss), reference::normalise(&ours));
                }
                if ss != ours {
                    failures.push(format!(
                        "{case} ({services:?}, {protocols:?}):\n--- {name}\n{ss}--- sockscope\n{ours}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Process names with control characters and bytes past ASCII show as ss 7.1 shows them (`.`
/// and `?`); ss 6.1 prints them raw, a newline included, so this compares with 7.1 only.
#[test]
fn process_names_are_escaped_as_ss_71_escapes_them() {
    use std::ffi::OsStr;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::process::CommandExt;

    let ns = Netns::new();
    let dir = TempDir::new("names");
    let listeners = ns.run(|| {
        (0..4)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect::<Vec<_>>()
    });
    // A process's name is the name it was run by: a link to sleep named so.
    let names: [&[u8]; 4] = [b"a\nb", b"t\tu\x7f", b"caf\xc3\xa9", b"h\xffi)x"];
    let mut children = Vec::new();
    for (name, listener) in names.iter().zip(&listeners) {
        let link = dir.join(OsStr::from_bytes(name));
        std::os::unix::fs::symlink("/bin/sleep", &link).unwrap();
        let fd = listener.as_raw_fd();
        let mut command = std::process::Command::new(&link);
        command.arg("30");
        // SAFETY: dup2 and fcntl are async-signal-safe; they give the child the listener as
        // fd 3, open across exec. When the listener already is fd 3, dup2 does nothing and
        // would leave it close-on-exec: its flag is cleared instead.
        unsafe {
            command.pre_exec(move || {
                let kept = if fd == 3 {
                    libc::fcntl(3, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, 3)
                };
                if kept < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        children.push(command.spawn().unwrap());
    }
    drop(listeners);
    let deadline = Instant::now() + Duration::from_secs(5);
    let ours = loop {
        let out = text(&ns.output(SOCKSCOPE, &["-tlpH"]).stdout);
        // One holder each: another test's fork may hold the listeners for a moment.
        let settled = out.matches("users:").count() == names.len() && !out.contains("),(");
        if settled {
            break out;
        }
        assert!(
            Instant::now() < deadline,
            "the listeners did not come to one holder each within 5 s:\n{out}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let reference = reference::ss71().map(|ss71| text(&ns.output(ss71, &["-tlpH"]).stdout));
    for mut child in children {
        let _ = child.kill();
        let _ = child.wait();
    }
    for expected in ["(\"a.b\",", "(\"t.u.\",", "(\"caf??\",", "(\"h?i\","] {
        assert!(ours.contains(expected), "{expected} in\n{ours}");
    }
    if let Some(ss) = reference {
        let sorted = |t: &str| {
            let mut lines: Vec<&str> = t.lines().collect();
            lines.sort_unstable();
            lines.join("\n")
        };
        crate::eqnice!(sorted(&ss), sorted(&ours));
    }
}

/// Gives `socket` a TCP-MD5 key for `peer`, for a prefix of it when `prefix` says.
fn md5_key(socket: &Socket, peer: std::net::IpAddr, prefix: Option<u8>, key: &[u8]) {
    use std::os::fd::AsRawFd;
    let mut option = [0u8; 216];
    let address = SockAddr::from(SocketAddr::new(peer, 0));
    // SAFETY: a SockAddr's storage is a sockaddr_storage, 128 bytes.
    let storage = unsafe {
        std::slice::from_raw_parts(address.as_ptr().cast::<u8>(), address.len() as usize)
    };
    option[..storage.len()].copy_from_slice(storage);
    option[128] = u8::from(prefix.is_some()); // TCP_MD5SIG_FLAG_PREFIX
    option[129] = prefix.unwrap_or(0);
    option[130..132].copy_from_slice(&(key.len() as u16).to_ne_bytes());
    option[136..136 + key.len()].copy_from_slice(key);
    let name = if prefix.is_some() { 32 } else { 14 }; // TCP_MD5SIG_EXT, TCP_MD5SIG
    // SAFETY: the option is a struct tcp_md5sig, as long as the kernel reads.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_TCP,
            name,
            option.as_ptr().cast(),
            option.len() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "TCP_MD5SIG: {}", std::io::Error::last_os_error());
}

/// `-i` shows the peers of a socket's TCP-MD5 keys as ss does (`md5keys:10.1.0.0/16=,...`),
/// never the keys: ss 6.1 leaks them in front of its output and 7.1 prints them after the
/// `=`, so both are taken out of ss's output before comparing.
#[test]
fn md5_keys_show_their_peers_and_no_secret() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let v4 = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        v4.bind(&SockAddr::from(
            "127.0.0.1:179".parse::<SocketAddr>().unwrap(),
        ))
        .unwrap();
        v4.listen(8).unwrap();
        md5_key(&v4, "127.0.0.2".parse().unwrap(), None, b"secret1");
        md5_key(&v4, "10.1.0.0".parse().unwrap(), Some(16), b"secret2");
        let v6 = Socket::new(Domain::IPV6, Type::STREAM, None).unwrap();
        v6.bind(&SockAddr::from("[::]:180".parse::<SocketAddr>().unwrap()))
            .unwrap();
        v6.listen(8).unwrap();
        md5_key(&v6, "2001:db8::1".parse().unwrap(), None, b"secret3");
        md5_key(&v6, "::1.2.3.4".parse().unwrap(), None, b"secret4");
        md5_key(&v6, "::ffff:127.0.0.3".parse().unwrap(), None, b"secret5");
        [v4, v6]
    });
    let without_secrets = |output: &str| {
        // 6.1's leak: the keys run into its first line, before the header.
        let output = match output.find("State") {
            Some(at) => &output[at..],
            None => output,
        };
        let peers_only = |word: &str| match word.find("md5keys:") {
            Some(at) => {
                let (head, list) = word.split_at(at + "md5keys:".len());
                let peers: Vec<&str> = list
                    .split(',')
                    .map(|peer| peer.split('=').next().unwrap_or(""))
                    .collect();
                format!("{head}{}=", peers.join("=,"))
            }
            None => word.to_owned(),
        };
        let lines: Vec<String> = output
            .lines()
            .map(|line| {
                line.split(' ')
                    .map(peers_only)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        reference::normalise(&lines.join("\n"))
    };
    let mut failures = Vec::new();
    for args in [["-tlni"], ["-tli"]] {
        let ours = text(&ns.output(SOCKSCOPE, &args).stdout);
        assert!(!ours.contains("secret"), "{ours}");
        assert!(
            ours.contains("md5keys:10.1.0.0/16=,127.0.0.2/32="),
            "{ours}"
        );
        assert!(ours.contains("::1.2.3.4/128="), "{ours}");
        let mut references = vec!["ss"];
        references.extend(reference::ss71());
        for program in references {
            let ss = text(&ns.output(program, &args).stdout);
            if without_secrets(&ss) != reference::normalise(&ours) {
                failures.push(format!(
                    "{args:?}:\n--- {program}\n{ss}--- sockscope\n{ours}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// JSON spells an IPv4-compatible IPv6 address as the table does.
#[test]
fn json_spells_ipv4_compatible_addresses_as_the_table() {
    let ns = Netns::new();
    ns.ip(&["addr", "add", "::1.2.3.4/128", "dev", "lo", "nodad"]);
    let _socket = ns.run(|| udp_at("[::1.2.3.4]:7000".parse().unwrap()));
    let out = text(&ns.output(SOCKSCOPE, &["-uan", "--json"]).stdout);
    assert!(out.contains("\"local_address\":\"::1.2.3.4\""), "{out}");
}

/// A timer's time left with the digits masked and its units kept: `4.990sec` is `N.NNNsec`.
fn timer_units(output: &[u8]) -> String {
    let mut out = String::new();
    for word in text(output).split_whitespace() {
        if let Some(rest) = word.strip_prefix("timer:(") {
            let mut parts = rest.splitn(3, ',');
            let name = parts.next().unwrap_or("");
            let time: String = parts
                .next()
                .unwrap_or("")
                .chars()
                .map(|c| if c.is_ascii_digit() { 'N' } else { c })
                .collect();
            out.push_str(&format!(
                "timer:({name},{time},{} ",
                parts.next().unwrap_or("")
            ));
        } else {
            out.push_str(word);
            out.push(' ');
        }
    }
    out
}

/// ss 7.1 ends a timer between 1 and 10 seconds in `sec` (`timer:(keepalive,8.990sec,0)`),
/// where 6.1 printed `8.990ms`: a keepalive timer set to 9 seconds, read at once, shows that
/// form. Against 7.1 the units are compared; against 6.1 the timer is masked whole.
#[test]
fn timers_of_seconds_end_in_sec_as_ss_71_prints_them() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let sockets = connection();
        let keepalive = socket2::TcpKeepalive::new()
            .with_time(Duration::from_secs(9))
            .with_interval(Duration::from_secs(9));
        for socket in &sockets[1..] {
            socket.set_tcp_keepalive(&keepalive).unwrap();
        }
        sockets
    });
    let both = Both::run(&ns, &["-tno"]);
    let ours = text(&both.ours.stdout);
    assert!(ours.contains("sec,0)"), "{ours}");
    let (ss, ours) = (still(&text(&both.ss.stdout)), still(&ours));
    crate::eqnice!(ss, ours);
    if let Some(exact) = &both.exact {
        crate::eqnice!(
            timer_units(&exact.ss.stdout),
            timer_units(&exact.ours.stdout)
        );
    }
    assert_eq!(ours.matches("timer:(keepalive,").count(), 2, "{ours}");
}

/// A listener that accepts no connection before its first data (`TCP_DEFER_ACCEPT`), and a
/// client connected to it that sends none: the server's half stays a request socket, which
/// the kernel reports as SYN-RECV.
fn deferred_handshake() -> Vec<Socket> {
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    let seconds: libc::c_int = 30;
    // SAFETY: a valid descriptor, and an option value of the size passed.
    let set = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(&listener),
            libc::IPPROTO_TCP,
            libc::TCP_DEFER_ACCEPT,
            (&seconds as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(
        set,
        0,
        "TCP_DEFER_ACCEPT: {}",
        std::io::Error::last_os_error()
    );
    let at = SockAddr::from("127.0.0.1:6000".parse::<SocketAddr>().unwrap());
    listener.bind(&at).unwrap();
    listener.listen(16).unwrap();
    let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    client.connect(&at).unwrap();
    vec![listener, client]
}

/// ss 7.1's `state big` asks for the kernel's request sockets too (6.1's did not), so a
/// handshake in progress shows as SYN-RECV; sockscope follows 7.1. `exclude syn-recv` takes
/// that row out in sockscope, as in 6.1, where 7.1 still lists it (README, "Where sockscope
/// differs from ss").
#[test]
fn request_sockets_under_state_big_as_ss_71_lists_them() {
    let ns = Netns::new();
    let _sockets = ns.run(deferred_handshake);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !text(&ns.output(SOCKSCOPE, &["-Htan", "state", "syn-recv"]).stdout).contains(":6000") {
        assert!(Instant::now() < deadline, "no SYN-RECV request socket");
        std::thread::sleep(Duration::from_millis(10));
    }
    let ours = text(&ns.output(SOCKSCOPE, &["-Htan", "state", "big"]).stdout);
    assert!(ours.contains("SYN-RECV"), "{ours}");
    let mut failures = Vec::new();
    for args in [
        "-tan state big",
        "-tan state big state listening",
        "-tn state big",
    ] {
        let args: Vec<&str> = args.split_whitespace().collect();
        let Some(both) = Both::run_71(&ns, &args, &[]) else {
            break; // reference::ss71 said why.
        };
        failures.extend(both.mismatch());
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Excluded, no state lists it; ss 6.1 agrees, ss 7.1 lists it regardless.
    let cases = [
        "-tan exclude syn-recv",
        "-tan state all exclude syn-recv",
        "-tan state big exclude syn-recv",
        "-tan state big exclude bucket",
    ];
    for args in cases {
        let args: Vec<&str> = args.split_whitespace().collect();
        let ours = text(&ns.output(SOCKSCOPE, &args).stdout);
        assert!(!ours.contains("SYN-RECV"), "{args:?}:\n{ours}");
        assert!(ours.contains("ESTAB"), "{args:?}:\n{ours}");
        let ss = text(&ns.output("ss", &args).stdout);
        if reference::installed_is_71() {
            assert!(ss.contains("SYN-RECV"), "{args:?}: ss 7.1 changed:\n{ss}");
        } else {
            crate::eqnice!(reference::normalise(&ss), reference::normalise(&ours));
        }
    }
    if let Some(ss71) = reference::ss71() {
        for args in cases {
            let args: Vec<&str> = args.split_whitespace().collect();
            let ss = text(&ns.output(ss71, &args).stdout);
            assert!(ss.contains("SYN-RECV"), "{args:?}: ss 7.1 changed:\n{ss}");
        }
    }
}

/// A `COLUMNS` no terminal could have (2^31 and past, where ss's `atoi` gives no width) is
/// ignored, as ss 7.1 ignores it: the output is as without it, not lines of 2^31 spaces.
#[test]
fn columns_past_any_terminal_are_ignored() {
    let ns = Netns::new();
    let _sockets = ns.run(connection);
    let plain = ns.output(SOCKSCOPE, &["-tan"]);
    let mut failures = Vec::new();
    for columns in ["2147483648", "4294967296", "99999999999999999999999"] {
        let env = [("COLUMNS", columns)];
        let mut command = ns.command(SOCKSCOPE);
        command.arg("-tan").envs(env);
        let ours = run_bounded(&mut command, RUN_LIMIT);
        assert_eq!(text(&ours.stdout), text(&plain.stdout), "COLUMNS={columns}");
        if let Some(both) = Both::run_71(&ns, &["-tan"], &env) {
            failures.extend(both.mismatch().map(|m| format!("COLUMNS={columns}: {m}")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// ss's `TCPDIAG_FILE` reads as in ss: up to the dump's first `NLMSG_DONE` (of a dump of both
/// IP versions, the IPv4 half), every socket there whatever states or IP version are asked;
/// sockscope's `--from-dump` reads all of it (tests/dump.rs). iproute2's own
/// `testsuite/tests/ss/ssfilter.t` depends on it (`.ci/run` runs it on sockscope).
#[test]
fn tcpdiag_file_reads_as_ss_reads_it() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let mut sockets = connection();
        let v6 = std::net::TcpListener::bind("[::1]:5001").unwrap();
        sockets.push(Socket::from(std::os::fd::OwnedFd::from(v6)));
        sockets
    });
    let file = std::env::temp_dir().join(format!(
        "sockscope-tcpdiag-{}-{}.dump",
        std::process::id(),
        crate::util::unique()
    ));
    let path = file.to_str().unwrap().to_owned();
    let made = ns.output("ss", &["-ta", "-D", &path]);
    assert!(made.status.success(), "{}", text(&made.stderr));
    let env = [("TCPDIAG_FILE", path.as_str())];
    let cases = [
        "-tan",
        "-t",
        "-tn",
        "-t6an",
        "-tln",
        "-tn state listening",
        "-tan sport = :5000",
        "-tanH dport = :5000",
    ];
    let results: Vec<Both> = cases
        .iter()
        .map(|case| Both::run_with(&ns, &case.split_whitespace().collect::<Vec<_>>(), &env))
        .collect();
    let _ = std::fs::remove_file(&file);
    let failures: Vec<String> = results.iter().filter_map(Both::mismatch).collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let v4_only = text(&results[0].ours.stdout);
    assert!(v4_only.contains("127.0.0.1:5000") && !v4_only.contains("[::1]:5001"));
}
