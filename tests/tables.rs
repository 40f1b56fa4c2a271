//! The packet, netlink and MPTCP tables against ss, on sockets made for real in a private
//! namespace: every kind of row and detail ss prints for them.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::util::{Both, Netns, assert_all_same, skip, still, text};

const SOL_PACKET: libc::c_int = 263;
const PACKET_ADD_MEMBERSHIP: libc::c_int = 1;
const PACKET_RX_RING: libc::c_int = 5;
const PACKET_AUXDATA: libc::c_int = 8;
const PACKET_ORIGDEV: libc::c_int = 9;
const PACKET_VERSION: libc::c_int = 10;
const PACKET_TX_RING: libc::c_int = 13;
const PACKET_LOSS: libc::c_int = 14;
const PACKET_VNET_HDR: libc::c_int = 15;
const PACKET_FANOUT: libc::c_int = 18;
const IPPROTO_MPTCP: libc::c_int = 262;

/// Netlink port ids above any pid, so that no process's name is printed for them.
const PORT_GROUPS: u32 = 2_000_000_042;
const PORT_CONNECTED: u32 = 2_000_000_777;
const PORT_PEER: u32 = 2_000_000_778;
const PORT_TO_KERNEL: u32 = 2_000_000_001;

fn check(result: libc::c_int, what: &str) {
    assert!(result >= 0, "{what}: {}", io::Error::last_os_error());
}

fn socket(domain: libc::c_int, kind: libc::c_int, protocol: libc::c_int) -> OwnedFd {
    // SAFETY: socket(2) with plain integer arguments; a non-negative result is a new fd that
    // nothing else owns.
    let fd = unsafe { libc::socket(domain, kind | libc::SOCK_CLOEXEC, protocol) };
    check(fd, "socket");
    // SAFETY: see above.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

fn set_option<T>(fd: &OwnedFd, level: libc::c_int, name: libc::c_int, value: &T, what: &str) {
    // SAFETY: `value` points to a live T of the size passed.
    let result = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    check(result, what);
}

fn interface(name: &str) -> i32 {
    let c_name = std::ffi::CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name, only read.
    let index = unsafe { libc::if_nametoindex(c_name.as_ptr()) };
    assert_ne!(index, 0, "no interface {name}");
    index as i32
}

/// A packet socket for `protocol` (host order), bound to `device` if one is named.
fn packet(kind: libc::c_int, protocol: u16, device: Option<&str>) -> OwnedFd {
    let fd = socket(libc::AF_PACKET, kind, i32::from(protocol.to_be()));
    if let Some(device) = device {
        // SAFETY: sockaddr_ll is plain data; all zeros is a valid value.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol.to_be();
        address.sll_ifindex = interface(device);
        // SAFETY: `address` is a sockaddr_ll of the size passed.
        let result = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        check(result, "binding a packet socket");
    }
    fd
}

/// A netlink socket bound to `portid` (0: the kernel picks) and `groups`.
fn netlink(kind: libc::c_int, protocol: libc::c_int, portid: u32, groups: u32) -> OwnedFd {
    let fd = socket(libc::AF_NETLINK, kind, protocol);
    let address = netlink_address(portid, groups);
    // SAFETY: `address` is a sockaddr_nl of the size passed.
    let result = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&address as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    check(result, "binding a netlink socket");
    fd
}

fn netlink_address(portid: u32, groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; all zeros is a valid value.
    let mut address: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    address.nl_family = libc::AF_NETLINK as u16;
    address.nl_pid = portid;
    address.nl_groups = groups;
    address
}

fn netlink_connect(fd: &OwnedFd, portid: u32, groups: u32) {
    let address = netlink_address(portid, groups);
    // SAFETY: `address` is a sockaddr_nl of the size passed.
    let result = unsafe {
        libc::connect(
            fd.as_raw_fd(),
            (&address as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    check(result, "connecting a netlink socket");
}

/// A unix datagram socket bound to `name`; an empty name asks the kernel to pick one.
fn unix_bound(name: &[u8]) -> OwnedFd {
    let fd = socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0);
    // SAFETY: sockaddr_un is plain data; all zeros is a valid value.
    let mut address: libc::sockaddr_un = unsafe { std::mem::zeroed() };
    address.sun_family = libc::AF_UNIX as u16;
    for (to, &from) in address.sun_path.iter_mut().zip(name) {
        *to = from as libc::c_char;
    }
    let len = std::mem::size_of::<libc::sa_family_t>() + name.len();
    // SAFETY: `address` is a sockaddr_un and `len` does not exceed its size.
    let result = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&address as *const libc::sockaddr_un).cast(),
            len as libc::socklen_t,
        )
    };
    check(result, "binding a unix socket");
    fd
}

/// `struct tpacket_req`.
#[repr(C)]
struct Ring {
    block_size: u32,
    block_nr: u32,
    frame_size: u32,
    frame_nr: u32,
}

/// `struct sock_filter` and `struct sock_fprog`.
#[repr(C)]
struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

#[repr(C)]
struct Program {
    len: u16,
    filter: *const Insn,
}

/// A namespace with two veth ends and packet and netlink sockets of every kind ss describes.
struct LinkTable {
    ns: Netns,
    _sockets: Vec<OwnedFd>,
}

impl LinkTable {
    fn new() -> LinkTable {
        let ns = Netns::new();
        ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        let sockets = ns.run(|| {
            let mut sockets = Vec::new();
            // IPv4 on lo, with TPACKET_V2 receive and transmit rings.
            let ringed = packet(libc::SOCK_RAW, 0x0800, Some("lo"));
            set_option(&ringed, SOL_PACKET, PACKET_VERSION, &1i32, "PACKET_VERSION");
            let ring = Ring {
                block_size: 4096,
                block_nr: 4,
                frame_size: 2048,
                frame_nr: 8,
            };
            set_option(&ringed, SOL_PACKET, PACKET_RX_RING, &ring, "PACKET_RX_RING");
            let ring = Ring {
                block_nr: 2,
                frame_nr: 4,
                ..ring
            };
            set_option(&ringed, SOL_PACKET, PACKET_TX_RING, &ring, "PACKET_TX_RING");
            sockets.push(ringed);
            // LLDP and an unnamed ethertype, made by another user, one on a veth.
            // SAFETY: setfsuid only changes this thread's file system uid, restored below.
            unsafe { libc::setfsuid(65534) };
            sockets.push(packet(libc::SOCK_DGRAM, 0x88cc, None));
            sockets.push(packet(libc::SOCK_DGRAM, 0x1234, Some("va")));
            // SAFETY: as above.
            unsafe { libc::setfsuid(0) };
            // IPv6 on lo in a load-balancing fanout group.
            let fanout = packet(libc::SOCK_RAW, 0x86dd, Some("lo"));
            set_option(
                &fanout,
                SOL_PACKET,
                PACKET_FANOUT,
                &(0x1234u32 | 1 << 16),
                "FANOUT",
            );
            sockets.push(fanout);
            // Every protocol on vb, with the option flags and a classic BPF program.
            let all = packet(libc::SOCK_RAW, 0x0003, Some("vb"));
            for option in [PACKET_AUXDATA, PACKET_ORIGDEV, PACKET_VNET_HDR, PACKET_LOSS] {
                set_option(&all, SOL_PACKET, option, &1i32, "packet option");
            }
            let program = [
                Insn {
                    code: 0x28,
                    jt: 0,
                    jf: 0,
                    k: 12,
                },
                Insn {
                    code: 0x15,
                    jt: 0,
                    jf: 1,
                    k: 0x0800,
                },
                Insn {
                    code: 0x06,
                    jt: 0,
                    jf: 0,
                    k: 0xffff,
                },
                Insn {
                    code: 0x06,
                    jt: 0,
                    jf: 0,
                    k: 0,
                },
            ];
            let fprog = Program {
                len: program.len() as u16,
                filter: program.as_ptr(),
            };
            set_option(
                &all,
                libc::SOL_SOCKET,
                libc::SO_ATTACH_FILTER,
                &fprog,
                "filter",
            );
            // struct packet_mreq: promiscuous on lo.
            let membership: [u8; 16] = {
                let mut m = [0u8; 16];
                m[..4].copy_from_slice(&interface("lo").to_ne_bytes());
                m[4..6].copy_from_slice(&1u16.to_ne_bytes());
                m
            };
            set_option(
                &all,
                SOL_PACKET,
                PACKET_ADD_MEMBERSHIP,
                &membership,
                "membership",
            );
            sockets.push(all);
            // Protocol 0, bound to nothing: it receives nothing.
            sockets.push(packet(libc::SOCK_RAW, 0, None));

            // rtnl: two autobound (the first gets the pid, shown as the process), one with a
            // fixed port id in groups 1 and 3 (listed twice by the kernel: once bound, once
            // as a group member).
            sockets.push(netlink(libc::SOCK_RAW, libc::NETLINK_ROUTE, 0, 0));
            sockets.push(netlink(libc::SOCK_RAW, libc::NETLINK_ROUTE, 0, 0));
            sockets.push(netlink(
                libc::SOCK_RAW,
                libc::NETLINK_ROUTE,
                PORT_GROUPS,
                0b101,
            ));
            // usersock: connected to a peer in group 5, and to the kernel.
            let connected = netlink(libc::SOCK_RAW, libc::NETLINK_USERSOCK, PORT_CONNECTED, 0);
            netlink_connect(&connected, PORT_PEER, 1 << 4);
            sockets.push(connected);
            sockets.push(netlink(
                libc::SOCK_RAW,
                libc::NETLINK_USERSOCK,
                PORT_PEER,
                0,
            ));
            let to_kernel = netlink(libc::SOCK_RAW, libc::NETLINK_USERSOCK, PORT_TO_KERNEL, 0);
            netlink_connect(&to_kernel, 0, 0);
            sockets.push(to_kernel);
            sockets.push(netlink(libc::SOCK_DGRAM, libc::NETLINK_GENERIC, 0, 0));

            // Unix sockets for `autobound`: one the kernel named (autobind), two abstract
            // names that look alike, one without a name.
            sockets.push(unix_bound(b""));
            sockets.push(unix_bound(b"\0abcde"));
            sockets.push(unix_bound(b"\0abcdef"));
            sockets.push(socket(libc::AF_UNIX, libc::SOCK_DGRAM, 0));
            sockets
        });
        LinkTable {
            ns,
            _sockets: sockets,
        }
    }
}

#[test]
fn packet_sockets_match_ss() {
    let table = LinkTable::new();
    assert_all_same(
        &table.ns,
        &[
            "-0a",
            "-0an",
            "-0",
            "-0 -l",
            "-0ae",
            "-0aeb",
            "-0aemb",
            "-0aO -e -b",
            "-b -0a",
            "-0am",
            "-0aO -m",
            "-0aH",
            "-0a -p",
            "-A packet -a",
            "-f link -a",
            "-0a state connected",
            "-0a src ip",
            "-0a src link:ipv6:lo",
            "-0a src all",
            "-0a src :vb",
            "-0a src *:va",
            "-0a src 0x1234",
            "-0a src IPv4",
            "-0a sport = :lo",
            "-0a sport gt :1",
            "-0a sport != :lo",
            "-0a dport = :0",
            "-0a dst *",
            "-0a dst ip",
            "-0a dev va",
            "-0a autobound",
            "-0a ( src ip or src lldp ) and not sport = :lo",
        ],
        &[],
        Both::mismatch,
    );
}

#[test]
fn bad_packet_and_netlink_addresses_are_errors_as_in_ss() {
    let table = LinkTable::new();
    for args in [
        &["-0a", "src", "bogus"][..],
        &["-0a", "src", "ip:nosuchdevice"],
        &["-0a", "src", "1.2.3.4"],
        &["-f", "netlink", "src", "256"],
        &["-f", "netlink", "src", "RTNL"],
        &["-f", "netlink", "src", "kernel"],
    ] {
        let both = Both::run(&table.ns, args);
        assert_eq!(both.ss.status.code(), Some(1), "ss {args:?}");
        assert_eq!(both.ours.status.code(), Some(1), "sockscope {args:?}");
        let stderr = text(&both.ours.stderr);
        assert!(
            stderr.starts_with("sockscope: filter: ") && stderr.lines().count() == 1,
            "{args:?}: {stderr}"
        );
    }
}

/// ss lists both packet tables when either is named; we list the one named.
#[test]
fn a_packet_table_lists_its_own_sockets() {
    let table = LinkTable::new();
    for (query, kind) in [("packet_raw", "p_raw"), ("packet_dgram", "p_dgr")] {
        let ours = table
            .ns
            .output(crate::util::SOCKSCOPE, &["-a", "-A", query]);
        let all = table.ns.output(crate::util::SOCKSCOPE, &["-0a"]);
        let expected: Vec<String> = text(&all.stdout)
            .lines()
            .skip(1)
            .filter(|line| line.starts_with(kind))
            .map(|line| {
                line[kind.len()..]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let got: Vec<String> = text(&ours.stdout)
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(got, expected, "-A {query}");
    }
}

/// The netlink table, without the two sock_diag sockets that differ by nature (each tool's
/// own, named after it, and the kernel's, whose queue holds the reply being read), and with
/// the rows sorted: the kernel walks a hash table that can be resized between two runs.
fn netlink_mismatch(both: &Both) -> Option<String> {
    let rows = |out: &[u8]| {
        let text = text(out);
        let mut lines = text.lines();
        let header = lines.next().unwrap_or("").to_owned();
        let mut rows: Vec<String> = lines.map(str::to_owned).collect();
        rows.sort();
        (header, rows)
    };
    if rows(&both.ss.stdout) == rows(&both.ours.stdout)
        && both.ss.status.code() == both.ours.status.code()
    {
        None
    } else {
        both.mismatch()
    }
}

#[test]
fn netlink_sockets_match_ss() {
    let table = LinkTable::new();
    let not_diag = "not src tcpdiag";
    let cases: Vec<String> = [
        "-f netlink",
        "-f netlink -n",
        "-f netlink -e",
        "-f netlink -m",
        "-f netlink -e -m -O",
        "-A netlink -l",
        "-A netlink -a -n -e",
        "-f netlink -p",
        "-f netlink -H",
        "-f netlink src rtnl",
        "-f netlink src rtnl:kernel",
        "-f netlink src netlink:usersock",
        "-f netlink src 16",
        "-f netlink src :2000000777",
        "-f netlink src rtnl:-1",
        "-f netlink sport gt :700",
        "-f netlink sport lt :700",
        "-f netlink sport = 2000000042",
        "-f netlink dst *",
        "-f netlink dport = :0",
        "-f netlink dport lt :5",
        "-f netlink dev 0",
    ]
    .iter()
    .map(|case| format!("{case} {not_diag}"))
    .collect();
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_all_same(&table.ns, &cases, &[], netlink_mismatch);
    // Connected-state and listening filters: netlink sockets are all UNCONN.
    assert_all_same(
        &table.ns,
        &["-A netlink", "-f netlink state established"],
        &[],
        netlink_mismatch,
    );
}

#[test]
fn everything_at_once_matches_ss() {
    let table = LinkTable::new();
    assert_all_same(
        &table.ns,
        &["-a not src tcpdiag", "-an not src tcpdiag"],
        &[],
        netlink_mismatch,
    );
}

/// `autobound` means "named by the kernel", which each family says its own way.
#[test]
fn autobound_as_ss_reads_it() {
    let table = LinkTable::new();
    assert_all_same(
        &table.ns,
        &["-xa autobound", "-xa not autobound", "-0a autobound"],
        &[],
        Both::mismatch,
    );
    assert_all_same(
        &table.ns,
        &[
            "-f netlink autobound",
            "-f netlink not autobound and not src tcpdiag",
        ],
        &[],
        netlink_mismatch,
    );
}

#[test]
fn json_describes_packet_and_netlink_sockets() {
    let table = LinkTable::new();
    let out = table.ns.output(
        crate::util::SOCKSCOPE,
        &["-0", "-f", "netlink", "-a", "-e", "-b", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let find = |test: &dyn Fn(&serde_json::Value) -> bool| {
        records
            .iter()
            .find(|r| test(r))
            .unwrap_or_else(|| panic!("no such record in {records:#?}"))
    };
    let ringed = find(&|r| r["netid"] == "p_raw" && r["protocol"] == 0x0800);
    assert_eq!(ringed["interface"], "lo");
    assert_eq!(ringed["packet"]["version"], 1);
    assert_eq!(ringed["packet"]["flags"], serde_json::json!(["running"]));
    assert_eq!(ringed["packet"]["rx_ring"]["frame_nr"], 8);
    assert_eq!(ringed["packet"]["tx_ring"]["block_nr"], 2);
    let fanout = find(&|r| r["protocol"] == 0x86dd);
    assert_eq!(fanout["packet"]["fanout"]["id"], 0x1234);
    assert_eq!(fanout["packet"]["fanout"]["name"], "lb");
    let all = find(&|r| r["protocol"] == 3);
    assert_eq!(all["bpf_filter"].as_array().unwrap().len(), 4);
    assert_eq!(
        all["bpf_filter"][1],
        serde_json::json!([0x15, 0, 1, 0x0800])
    );
    let lldp = find(&|r| r["protocol"] == 0x88cc);
    assert_eq!(lldp["uid"], 65534);
    assert_eq!(lldp["interface"], serde_json::Value::Null);
    let grouped = find(&|r| r["netid"] == "nl" && r["portid"] == PORT_GROUPS);
    assert_eq!(grouped["groups"], serde_json::json!([1, 3]));
    assert_eq!(grouped["peer_portid"], serde_json::Value::Null);
    let connected = find(&|r| r["portid"] == PORT_CONNECTED);
    assert_eq!(connected["protocol"], libc::NETLINK_USERSOCK);
    assert_eq!(connected["peer_portid"], PORT_PEER);
    assert_eq!(connected["peer_group"], 5);
}

/// An MPTCP connection with a second subflow from 127.0.0.2, data queued both ways.
struct MptcpTable {
    ns: Netns,
    _sockets: Vec<OwnedFd>,
}

impl MptcpTable {
    /// The table, or why this kernel cannot make one (it has no MPTCP).
    fn new() -> Result<MptcpTable, String> {
        let ns = Netns::new();
        let made = ns.run(|| {
            // SAFETY: socket(2) with integer arguments; the fd is closed right away.
            let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, IPPROTO_MPTCP) };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: the fd just made, closed once.
            unsafe { libc::close(fd) };
            Ok(())
        });
        match made {
            Ok(()) => {}
            // What socket(2) says when the protocol is not built in (or turned off).
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::EPROTONOSUPPORT | libc::EINVAL | libc::ENOPROTOOPT)
                ) =>
            {
                return Err(format!(
                    "this kernel has no MPTCP (socket(IPPROTO_MPTCP): {e})"
                ));
            }
            Err(e) => panic!("socket(IPPROTO_MPTCP): {e}"),
        }
        ns.ip(&["addr", "add", "127.0.0.2/8", "dev", "lo"]);
        ns.ip(&[
            "mptcp",
            "limits",
            "set",
            "subflow",
            "4",
            "add_addr_accepted",
            "4",
        ]);
        ns.ip(&[
            "mptcp",
            "endpoint",
            "add",
            "127.0.0.2",
            "dev",
            "lo",
            "subflow",
        ]);
        let sockets = ns.run(|| {
            use socket2::{Domain, Protocol, Socket, Type};
            let mptcp = |domain| {
                Socket::new(domain, Type::STREAM, Some(Protocol::from(IPPROTO_MPTCP))).unwrap()
            };
            let listener = mptcp(Domain::IPV4);
            listener
                .bind(
                    &"127.0.0.1:8443"
                        .parse::<std::net::SocketAddr>()
                        .unwrap()
                        .into(),
                )
                .unwrap();
            listener.listen(4).unwrap();
            let wildcard = mptcp(Domain::IPV6);
            wildcard
                .bind(&"[::]:8444".parse::<std::net::SocketAddr>().unwrap().into())
                .unwrap();
            wildcard.listen(3).unwrap();
            let client = mptcp(Domain::IPV4);
            client
                .connect(
                    &"127.0.0.1:8443"
                        .parse::<std::net::SocketAddr>()
                        .unwrap()
                        .into(),
                )
                .unwrap();
            let (server, _) = listener.accept().unwrap();
            client.send(&[b'x'; 100]).unwrap();
            server.send(&[b'y'; 50]).unwrap();
            [listener, wildcard, client, server]
                .map(OwnedFd::from)
                .into()
        });
        // The second subflow joins on its own; wait (bounded) until both ends have it.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let out = ns.output(
                "ss",
                &["-tanH", "src", "127.0.0.2", "or", "dst", "127.0.0.2"],
            );
            let subflows = text(&out.stdout);
            if subflows.lines().count() >= 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the second subflow did not join within 30 s:\n{subflows}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(MptcpTable {
            ns,
            _sockets: sockets,
        })
    }
}

#[test]
fn mptcp_sockets_match_ss() {
    let table = match MptcpTable::new() {
        Ok(table) => table,
        Err(why) => return skip(&why),
    };
    assert_all_same(
        &table.ns,
        &[
            "-M",
            "-Ma",
            "-Man",
            "-Mae",
            "-Mam",
            "-Mao",
            "-Ml -4",
            "-Ma sport = :8443",
            "-A mptcp -a",
            "-A inet -an",
        ],
        &[],
        Both::mismatch,
    );
    // A subflow's -i line ends with its ULP; the times since the last packet move (ss 7.1
    // prints them for the MPTCP socket too).
    let cases = ["-tani", "-tanie", "-Mai", "-Ma -O -i"];
    assert_all_same(&table.ns, &cases, &[], |both| {
        let (ss, ours) = (
            still(&text(&both.ss.stdout)),
            still(&text(&both.ours.stdout)),
        );
        (ss != ours).then(|| both.mismatch().unwrap_or_default())
    });
    let out = table.ns.output("ss", &["-tani"]);
    assert!(
        text(&out.stdout).contains("tcp-ulp-mptcp flags:Jjec"),
        "the fixture has no joined subflow:\n{}",
        text(&out.stdout)
    );
}

/// ss reads `/proc/net/packet` and `/proc/net/netlink` when `PROC_NET_PACKET`,
/// `PROC_NET_NETLINK` or `PROC_ROOT` says so (or the kernel has no diag module for them).
#[test]
fn packet_and_netlink_from_proc_match_ss() {
    let table = LinkTable::new();
    let env = [
        ("PROC_NET_PACKET", "/proc/net/packet"),
        ("PROC_NET_NETLINK", "/proc/net/netlink"),
    ];
    assert_all_same(
        &table.ns,
        &[
            "-0a",
            "-0an",
            "-0ae",
            "-0aemb",
            "-0a src ip",
            "-f netlink not src tcpdiag",
            "-f netlink -n not src tcpdiag",
            "-f netlink -e -m not src tcpdiag",
            "-f netlink src rtnl",
        ],
        &env,
        |both| {
            if both.args.iter().any(|arg| arg == "netlink") {
                netlink_mismatch(both)
            } else {
                both.mismatch()
            }
        },
    );
}

/// The base keys of packet and netlink records, in order: later versions may add keys, never
/// rename or remove one.
#[test]
fn the_packet_and_netlink_schema_is_stable() {
    let table = LinkTable::new();
    let out = table.ns.output(
        crate::util::SOCKSCOPE,
        &["--json", "-0", "-f", "netlink", "-a"],
    );
    let keys: Vec<crate::util::Keys> = serde_json::from_slice(&out.stdout).unwrap();
    let base = ["netid", "state", "recv_q", "send_q", "inode", "family"];
    let packet: Vec<&str> = base
        .iter()
        .copied()
        .chain(["protocol", "interface"])
        .collect();
    let netlink: Vec<&str> = base
        .iter()
        .copied()
        .chain(["protocol", "portid", "peer_portid", "peer_group"])
        .collect();
    for record in &keys {
        let names: Vec<&str> = record.0.iter().map(String::as_str).collect();
        assert!(names == packet || names == netlink, "{names:?}");
    }
    assert!(keys.iter().any(|k| k.0.len() == packet.len()));
    assert!(keys.iter().any(|k| k.0.len() == netlink.len()));
}
