//! A rich socket table, built for real inside a private namespace: every kind of row ss can
//! print for the core tables.

use std::io::Write;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::netns::Netns;
use super::{SETTLE_LIMIT, TempDir, wait_readable};

/// The namespace and the sockets that fill it. Dropping it closes them all and removes the
/// directory holding the unix socket files.
pub struct RichTable {
    pub ns: Netns,
    pub dir: TempDir,
    sockets: Vec<Socket>,
}

impl Drop for RichTable {
    /// The sockets first, then the directory that holds the unix sockets' files.
    fn drop(&mut self) {
        self.sockets.clear();
    }
}

fn addr(text: &str) -> SockAddr {
    text.parse::<SocketAddr>()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .into()
}

fn tcp(domain: Domain) -> Socket {
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP)).unwrap();
    s.set_reuse_address(true).unwrap();
    s
}

fn listener(domain: Domain, at: &str, backlog: i32) -> Socket {
    let s = tcp(domain);
    s.bind(&addr(at)).unwrap();
    s.listen(backlog).unwrap();
    s
}

fn connect(domain: Domain, to: &SockAddr) -> Socket {
    let s = tcp(domain);
    s.connect(to).unwrap();
    s
}

fn unix(kind: Type, name: &[u8]) -> Socket {
    let s = Socket::new(Domain::UNIX, kind, None).unwrap();
    if !name.is_empty() {
        let path = std::ffi::OsStr::new(std::str::from_utf8(name).unwrap());
        s.bind(&SockAddr::unix(path).unwrap()).unwrap();
    }
    s
}

impl RichTable {
    pub fn new() -> RichTable {
        RichTable::inside(Netns::new())
    }

    /// The table built in `ns`, which must be empty but for its loopback.
    pub fn inside(ns: Netns) -> RichTable {
        // A veth pair gives the namespace link-local IPv6 addresses with a scope.
        ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        ns.ip(&["link", "set", "va", "up"]);
        ns.ip(&["link", "set", "vb", "up"]);
        ns.ip(&["addr", "add", "fe80::1/64", "dev", "va", "nodad"]);
        // Nobody answers on 10.9.0.2, so connections to it stay half-open.
        ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "va"]);
        ns.sysctl(&[
            // For as long as the test: a SYN retried 127 times and a SYN-ACK 255 times go on
            // for hours; the defaults (6 and 5) give up within two minutes.
            ("net.ipv4.tcp_syn_retries", "127"),
            ("net.ipv4.tcp_synack_retries", "255"),
            // The orphaned FIN-WAIT-2 end lives this long (the most the kernel allows, two
            // minutes; the default is one), for suites run on a loaded machine.
            ("net.ipv4.tcp_fin_timeout", "120"),
            // No neighbour solicitation for 10.9.0.2, so no packet waits for an answer that
            // never comes: after three seconds the kernel would answer each with a host
            // unreachable, which closes the SYN-SENT socket and drops the SYN-RECV entry.
            // Without it a neighbour fails at once, and its packets are dropped as if sent.
            ("net.ipv4.neigh.va.mcast_solicit", "0"),
            ("net.ipv4.neigh.va.app_solicit", "0"),
        ]);
        let dir = TempDir::new("test");
        let va = ns.run(|| interface_index("va"));
        let sockets = ns.run(|| {
            let sockets = build(&dir, va);
            settle(true);
            sockets
        });
        RichTable { ns, dir, sockets }
    }

    /// A path inside the table's private directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.path(name)
    }
}

/// What a table's TCP sockets are doing, from this thread's namespace's /proc/net/tcp{,6}:
/// each one's addresses, state and queues, without its timers.
fn tcp_rows() -> Vec<String> {
    let mut rows: Vec<String> = ["tcp", "tcp6"]
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
                .unwrap_or_default()
                .lines()
                .skip(1)
                .map(|line| {
                    line.split_whitespace()
                        .skip(1)
                        .take(4)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
        })
        .collect();
    rows.sort();
    rows
}

/// Waits (bounded) until no TCP socket of this thread's namespace is between states: until
/// every FIN has been acknowledged, so that ss and sockscope see the same table. With
/// `acked`, also until every connection's data has been acknowledged (a delayed ACK, late on
/// a loaded machine, would otherwise move a Send-Q between two listings), and until the table
/// read twice, 50 ms apart, is the same (a handshake's last ACK may still be on its way to a
/// listener's accept queue).
fn settle(acked: bool) {
    let deadline = Instant::now() + SETTLE_LIMIT;
    // FIN-WAIT-1, LAST-ACK, CLOSING.
    let closing = |state: &str| matches!(state, "04" | "09" | "0B");
    // ESTABLISHED, FIN-WAIT-2, CLOSE-WAIT with bytes sent but not yet acknowledged.
    let unacked = |state: &str, queues: &str| {
        matches!(state, "01" | "05" | "08") && !queues.starts_with("00000000:")
    };
    let mut last = Vec::new();
    loop {
        let rows = tcp_rows();
        let busy = rows.iter().any(|row| {
            let fields: Vec<&str> = row.split(' ').collect();
            closing(fields[2]) || (acked && unacked(fields[2], fields[3]))
        });
        if !busy && (!acked || rows == last) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "TCP sockets still moving after {SETTLE_LIMIT:?}:\n{}",
            rows.join("\n")
        );
        last = rows;
        std::thread::sleep(Duration::from_millis(if acked { 50 } else { 5 }));
    }
}

/// Sends a bare TCP SYN from each address of `from` to `to`, through one raw socket made on
/// the calling thread. The listener at `to` answers each with a SYN-ACK and keeps a SYN-RECV
/// entry (no descriptor) for the handshake, which no one completes.
pub fn send_syns(from: impl IntoIterator<Item = SocketAddrV4>, to: SocketAddrV4) {
    let checksum = |bytes: &[u8]| -> u16 {
        let mut sum: u32 = bytes
            .chunks(2)
            .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    };
    let raw = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(libc::IPPROTO_RAW)),
    )
    .unwrap();
    let destination = SockAddr::from(to);
    for from in from {
        let mut tcp = [0u8; 20];
        tcp[0..2].copy_from_slice(&from.port().to_be_bytes());
        tcp[2..4].copy_from_slice(&to.port().to_be_bytes());
        tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
        tcp[12] = 5 << 4; // header length: five words
        tcp[13] = 0x02; // SYN
        tcp[14..16].copy_from_slice(&65535u16.to_be_bytes());
        let mut pseudo = Vec::with_capacity(32);
        pseudo.extend_from_slice(&from.ip().octets());
        pseudo.extend_from_slice(&to.ip().octets());
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&tcp);
        let sum = checksum(&pseudo);
        tcp[16..18].copy_from_slice(&sum.to_be_bytes());
        let mut packet = vec![0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0];
        packet.extend_from_slice(&from.ip().octets());
        packet.extend_from_slice(&to.ip().octets());
        let sum = checksum(&packet);
        packet[10..12].copy_from_slice(&sum.to_be_bytes());
        packet.extend_from_slice(&tcp);
        raw.send_to(&packet, &destination)
            .expect("sending a SYN through a raw socket");
    }
}

fn interface_index(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: a valid NUL-terminated string.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert_ne!(index, 0, "no interface {name:?}");
    index
}

fn build(dir: &std::path::Path, va: u32) -> Vec<Socket> {
    let v4 = Domain::IPV4;
    let v6 = Domain::IPV6;
    let mut keep = Vec::new();

    // Listeners: IPv4 wildcard and loopback, IPv6 dual-stack, v6only and loopback, one on a
    // port in the ephemeral range that /etc/services names (dircproxy), one bound to a device.
    keep.push(listener(v4, "0.0.0.0:22", 128));
    let dual = tcp(v6);
    dual.set_only_v6(false).unwrap();
    dual.bind(&addr("[::]:8080")).unwrap();
    dual.listen(10).unwrap();
    // An IPv4 client of the dual-stack listener: the accepted socket is IPv6 with
    // IPv4-mapped addresses.
    let mapped_client = connect(v4, &addr("127.0.0.1:8080"));
    let (mapped, _) = dual.accept().unwrap();
    keep.extend([dual, mapped_client, mapped]);
    let only = tcp(v6);
    only.set_only_v6(true).unwrap();
    only.bind(&addr("[::]:8081")).unwrap();
    only.listen(10).unwrap();
    keep.push(only);
    keep.push(listener(v6, "[::1]:631", 7));
    keep.push(listener(v4, "127.0.0.1:57000", 3));
    let bound = tcp(v4);
    bound.bind_device(Some(b"lo")).unwrap();
    bound.bind(&addr("0.0.0.0:7000")).unwrap();
    bound.listen(4).unwrap();
    keep.push(bound);
    // A listener with a firewall mark.
    let marked = tcp(v4);
    marked.set_mark(0x10).unwrap();
    marked.bind(&addr("127.0.0.1:6000")).unwrap();
    marked.listen(2).unwrap();
    keep.push(marked);
    // Bound but neither listening nor connected: the kernel lists it only when asked.
    let idle = tcp(v4);
    idle.bind(&addr("127.0.0.1:55001")).unwrap();
    keep.push(idle);

    // A link-local listener with its scope.
    let link_local = tcp(v6);
    let scoped = SocketAddrV6::new("fe80::1".parse::<Ipv6Addr>().unwrap(), 9000, 0, va);
    link_local.bind(&SocketAddr::V6(scoped).into()).unwrap();
    link_local.listen(3).unwrap();
    keep.push(link_local);

    // The article's listener, with two connections waiting in its accept queue.
    let article = listener(v4, "127.0.0.1:55000", 5);
    let target = article.local_addr().unwrap();
    keep.push(connect(v4, &target));
    keep.push(connect(v4, &target));
    keep.push(article);

    // An established pair with unread data on both sides.
    let server = listener(v4, "127.0.0.1:5000", 16);
    let target = server.local_addr().unwrap();
    let mut client = connect(v4, &target);
    let (mut accepted, _) = server.accept().unwrap();
    client.write_all(&[b'c'; 7]).unwrap();
    accepted.write_all(&[b's'; 50]).unwrap();
    wait_readable(&client, 50);
    wait_readable(&accepted, 7);

    // FIN-WAIT-2 and CLOSE-WAIT: the server closes first and the client does not.
    let half = connect(v4, &target);
    let (half_accepted, _) = server.accept().unwrap();
    drop(half_accepted);

    // TIME-WAIT: the client closes first, then the server.
    let done = connect(v4, &target);
    let (done_accepted, _) = server.accept().unwrap();
    drop(done);
    drop(done_accepted);
    keep.extend([server, client, accepted, half]);

    // SYN-SENT: a connection to an address that never answers.
    let pending = tcp(v4);
    pending.set_nonblocking(true).unwrap();
    let _ = pending.connect(&addr("10.9.0.2:80"));
    keep.push(pending);

    // SYN-RECV: a handshake the peer never completes. A SYN from 10.9.0.2 is handed to the
    // listener; its SYN-ACK goes unanswered.
    let half_open = listener(v4, "10.9.0.1:5002", 8);
    send_syns(
        ["10.9.0.2:4444".parse().unwrap()],
        "10.9.0.1:5002".parse().unwrap(),
    );
    keep.push(half_open);

    // An IPv6 established pair.
    let server6 = listener(v6, "[::1]:5001", 5);
    let client6 = connect(v6, &server6.local_addr().unwrap());
    let (accepted6, _) = server6.accept().unwrap();
    keep.extend([server6, client6, accepted6]);

    // UDP: bound with a datagram waiting, connected, on both families.
    let udp = |domain| Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    let dns = udp(v4);
    dns.bind(&addr("0.0.0.0:53")).unwrap();
    let resolver = udp(v4);
    resolver.bind(&addr("127.0.0.1:40000")).unwrap();
    resolver.connect(&addr("127.0.0.1:53")).unwrap();
    resolver.send(b"query").unwrap();
    wait_readable(&dns, 5);
    let mdns = udp(v6);
    mdns.set_only_v6(false).unwrap();
    mdns.bind(&addr("[::]:5353")).unwrap();
    let mdns_client = udp(v6);
    mdns_client.connect(&addr("[::1]:5353")).unwrap();
    keep.extend([dns, resolver, mdns, mdns_client]);

    // Raw sockets, which this kernel can only list through /proc/net.
    keep.push(Socket::new(v4, Type::RAW, Some(Protocol::ICMPV4)).unwrap());
    keep.push(Socket::new(v6, Type::RAW, Some(Protocol::ICMPV6)).unwrap());

    // Unix: a named stream listener with a connection that has unread data, an abstract
    // listener, an unnamed stream pair, named and abstract datagram sockets (one name with a
    // NUL inside), a datagram pair, a seqpacket listener, and a socket that is neither bound
    // nor connected.
    let path = dir.join("app.sock");
    let app = unix(Type::STREAM, path.to_str().unwrap().as_bytes());
    app.listen(5).unwrap();
    let app_client = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    app_client.connect(&SockAddr::unix(&path).unwrap()).unwrap();
    let (mut app_accepted, _) = app.accept().unwrap();
    app_accepted.write_all(b"hello").unwrap();
    let abstract_listener = unix(Type::STREAM, b"\0sockscope-abstract");
    abstract_listener.listen(2).unwrap();
    let (a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None).unwrap();
    let dgram = unix(
        Type::DGRAM,
        dir.join("dg.sock").to_str().unwrap().as_bytes(),
    );
    let nul = unix(Type::DGRAM, b"\0with\0nul");
    let (c, d) = Socket::pair(Domain::UNIX, Type::DGRAM, None).unwrap();
    let seq = unix(Type::SEQPACKET, b"\0sockscope-seq");
    seq.listen(1).unwrap();
    let lonely = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
    keep.extend([
        app,
        app_client,
        app_accepted,
        abstract_listener,
        a,
        b,
        dgram,
        nul,
        c,
        d,
        seq,
        lonely,
    ]);
    keep
}

/// A table for the detail flags: TCP connections that carried traffic under three congestion
/// controls, a keepalive timer, a sender stuck on a zero window (retransmissions, backoff), a
/// half-closed connection, listeners with TOS, mark, priority, traffic class and socket
/// options set, one owned by another user, UDP with a datagram waiting, and a unix listener
/// with connections waiting to be accepted.
pub struct DetailTable {
    pub ns: Netns,
    /// Where the unix listener's file is.
    _dir: TempDir,
    sockets: Vec<Socket>,
}

impl Drop for DetailTable {
    /// The sockets first, then the directory that holds the unix sockets' files.
    fn drop(&mut self) {
        self.sockets.clear();
    }
}

impl DetailTable {
    pub fn new() -> DetailTable {
        let ns = Netns::new();
        let dir = TempDir::new("details");
        let sockets = ns.run(|| {
            let sockets = build_details(&dir);
            settle(false);
            sockets
        });
        DetailTable {
            ns,
            _dir: dir,
            sockets,
        }
    }
}

fn set_int(socket: &Socket, level: i32, option: i32, value: i32) {
    use std::os::fd::AsRawFd;
    // SAFETY: setsockopt reads an int from a live local for the given length.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            level,
            option,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    assert_eq!(
        rc,
        0,
        "setsockopt({level}, {option}): {}",
        std::io::Error::last_os_error()
    );
}

/// Waits (bounded) until everything `socket` sent is acknowledged, so that its tcp_info stops
/// moving (a delayed ACK otherwise arrives between two listings).
fn acknowledged(socket: &Socket) {
    use std::os::fd::AsRawFd;
    let deadline = Instant::now() + SETTLE_LIMIT;
    loop {
        let mut buffer = [0u8; 256];
        let mut len = buffer.len() as libc::socklen_t;
        // SAFETY: getsockopt writes at most `len` bytes into the live buffer.
        let rc = unsafe {
            libc::getsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_TCP,
                libc::TCP_INFO,
                buffer.as_mut_ptr().cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        let info = sockscope::wire::tcp::TcpInfo::read(&buffer[..len as usize]);
        if info.unacked.get() == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "data sent on loopback still unacknowledged after {SETTLE_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn build_details(dir: &std::path::Path) -> Vec<Socket> {
    let v4 = Domain::IPV4;
    let mut keep = Vec::new();
    let server = listener(v4, "127.0.0.1:5000", 64);
    let target = server.local_addr().unwrap();

    for congestion in ["cubic", "reno", "bbr"] {
        let mut client = tcp(v4);
        client.set_tcp_congestion(congestion.as_bytes()).unwrap();
        client.connect(&target).unwrap();
        let (mut accepted, _) = server.accept().unwrap();
        let mut buffer = vec![0u8; 65536];
        for _ in 0..20 {
            client.write_all(&[b'a'; 20000]).unwrap();
            let mut got = 0;
            while got < 20000 {
                got += std::io::Read::read(&mut accepted, &mut buffer).unwrap();
            }
            accepted.write_all(&[b'b'; 300]).unwrap();
            let mut got = 0;
            while got < 300 {
                got += std::io::Read::read(&mut client, &mut buffer).unwrap();
            }
        }
        acknowledged(&client);
        acknowledged(&accepted);
        keep.extend([client, accepted]);
    }

    let keepalive = tcp(v4);
    keepalive.set_keepalive(true).unwrap();
    keepalive.connect(&target).unwrap();
    keep.push(keepalive);
    keep.push(server.accept().unwrap().0);

    // A sender facing a receiver that never reads: a zero window, probes and backoff.
    let stuck = tcp(v4);
    stuck.set_recv_buffer_size(4096).unwrap();
    stuck.connect(&target).unwrap();
    let (blocked, _) = server.accept().unwrap();
    blocked.set_recv_buffer_size(4096).unwrap();
    stuck.set_nonblocking(true).unwrap();
    for _ in 0..1000 {
        if stuck.send(&[b'z'; 65536]).is_err() {
            break;
        }
    }
    keep.extend([stuck, blocked]);

    let half = connect(v4, &target);
    half.shutdown(std::net::Shutdown::Write).unwrap();
    keep.extend([half, server.accept().unwrap().0, server]);

    let marked = tcp(v4);
    set_int(&marked, libc::IPPROTO_IP, libc::IP_TOS, 0x10);
    marked.set_mark(0x42).unwrap();
    set_int(&marked, libc::SOL_SOCKET, libc::SO_PRIORITY, 3);
    marked.bind(&addr("127.0.0.1:6000")).unwrap();
    marked.listen(1).unwrap();
    keep.push(marked);

    let classy = tcp(Domain::IPV6);
    classy.set_only_v6(true).unwrap();
    set_int(&classy, libc::IPPROTO_IPV6, libc::IPV6_TCLASS, 0x20);
    classy.bind(&addr("[::]:6001")).unwrap();
    classy.listen(1).unwrap();
    keep.push(classy);

    let options = tcp(v4);
    set_int(&options, libc::IPPROTO_IP, libc::IP_RECVERR, 1);
    set_int(&options, libc::IPPROTO_IP, libc::IP_FREEBIND, 1);
    set_int(&options, libc::IPPROTO_IP, libc::IP_TRANSPARENT, 1);
    set_int(&options, libc::IPPROTO_IP, libc::IP_BIND_ADDRESS_NO_PORT, 1);
    options.bind(&addr("127.0.0.1:7002")).unwrap();
    options.listen(1).unwrap();
    keep.push(options);

    // A socket belongs to the file-system uid of the thread that makes it.
    // SAFETY: setfsuid changes only this thread's credentials, and they are restored below.
    unsafe { libc::setfsuid(65534) };
    let nobody = tcp(v4);
    // SAFETY: as above.
    unsafe { libc::setfsuid(0) };
    nobody.bind(&addr("127.0.0.1:7003")).unwrap();
    nobody.listen(1).unwrap();
    keep.push(nobody);

    let udp = |domain| Socket::new(domain, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    let dns = udp(v4);
    dns.bind(&addr("127.0.0.1:53")).unwrap();
    let resolver = udp(v4);
    resolver.connect(&addr("127.0.0.1:53")).unwrap();
    resolver.send(b"query").unwrap();
    wait_readable(&dns, 5);
    keep.extend([dns, resolver]);

    let path = dir.join("waiting.sock");
    let waiting = unix(Type::STREAM, path.to_str().unwrap().as_bytes());
    waiting.listen(5).unwrap();
    for _ in 0..2 {
        let client = Socket::new(Domain::UNIX, Type::STREAM, None).unwrap();
        client.connect(&SockAddr::unix(&path).unwrap()).unwrap();
        keep.push(client);
    }
    keep.push(waiting);
    let (mut a, b) = Socket::pair(Domain::UNIX, Type::STREAM, None).unwrap();
    a.write_all(b"hello").unwrap();
    keep.extend([a, b]);
    keep
}
