//! A rich socket table, built for real inside a private namespace: every kind of row ss can
//! print for the core tables.

use std::io::Write;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::netns::Netns;

/// The namespace and the sockets that fill it. Dropping it closes them all and removes the
/// directory holding the unix socket files.
pub struct RichTable {
    pub ns: Netns,
    pub dir: PathBuf,
    sockets: Vec<Socket>,
}

impl Drop for RichTable {
    fn drop(&mut self) {
        self.sockets.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
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

/// Waits (bounded) until `socket` has `n` bytes to read, so that both tools see them queued.
fn wait_readable(socket: &Socket, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut buf = [std::mem::MaybeUninit::new(0u8); 4096];
    loop {
        let queued = socket.peek(&mut buf).map(|len| len >= n).unwrap_or(false);
        if queued || Instant::now() > deadline {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

impl RichTable {
    pub fn new() -> RichTable {
        let ns = Netns::new();
        // A veth pair gives the namespace link-local IPv6 addresses with a scope.
        ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        ns.ip(&["link", "set", "va", "up"]);
        ns.ip(&["link", "set", "vb", "up"]);
        ns.ip(&["addr", "add", "fe80::1/64", "dev", "va", "nodad"]);
        // Nobody answers on 10.9.0.2, so connections to it stay half-open.
        ns.ip(&["addr", "add", "10.9.0.1/24", "dev", "va"]);
        let dir = std::env::temp_dir().join(format!(
            "sockscope-test-{}-{}",
            std::process::id(),
            super::unique()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let va = ns.run(|| interface_index("va"));
        let sockets = ns.run(|| {
            let sockets = build(&dir, va);
            settle();
            sockets
        });
        RichTable { ns, dir, sockets }
    }

    /// A path inside the table's private directory.
    pub fn path(&self, name: &str) -> String {
        self.dir.join(name).to_str().unwrap().to_owned()
    }
}

/// Waits (bounded) until no TCP socket of this thread's namespace is between states: until
/// every FIN has been acknowledged, so that ss and sockscope see the same table.
fn settle() {
    let deadline = Instant::now() + Duration::from_secs(5);
    let moving = |state: &str| matches!(state, "04" | "09" | "0B");
    while Instant::now() < deadline {
        let busy = ["tcp", "tcp6"].iter().any(|file| {
            std::fs::read_to_string(format!("/proc/thread-self/net/{file}"))
                .unwrap_or_default()
                .lines()
                .skip(1)
                .any(|line| line.split_whitespace().nth(3).is_some_and(moving))
        });
        if !busy {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends a bare TCP SYN from `from` to `to` through a raw socket.
fn send_syn(from: &str, to: &str) {
    let (from, to): (std::net::SocketAddrV4, std::net::SocketAddrV4) =
        (from.parse().unwrap(), to.parse().unwrap());
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
    let mut tcp = [0u8; 20];
    tcp[0..2].copy_from_slice(&from.port().to_be_bytes());
    tcp[2..4].copy_from_slice(&to.port().to_be_bytes());
    tcp[4..8].copy_from_slice(&1000u32.to_be_bytes());
    tcp[12] = 5 << 4; // header length: five words
    tcp[13] = 0x02; // SYN
    tcp[14..16].copy_from_slice(&65535u16.to_be_bytes());
    let mut pseudo = Vec::new();
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
    let raw = Socket::new(
        Domain::IPV4,
        Type::RAW,
        Some(Protocol::from(libc::IPPROTO_RAW)),
    )
    .unwrap();
    raw.send_to(&packet, &SocketAddr::V4(to).into())
        .expect("sending a SYN through a raw socket");
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
    send_syn("10.9.0.2:4444", "10.9.0.1:5002");
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
