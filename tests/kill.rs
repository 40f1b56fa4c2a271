//! `-K`: closing sockets, against ss on twin namespaces.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::util::{Netns, SOCKSCOPE, reference::comparable, text};

/// A listener on 127.0.0.1:7000 with two connections from fixed client ports, and a connected
/// UDP socket: the same table, port for port, in every namespace it is built in.
struct Twin {
    ns: Netns,
    _listener: TcpListener,
    clients: Vec<TcpStream>,
    servers: Vec<TcpStream>,
    udp: UdpSocket,
}

impl Twin {
    fn new() -> Twin {
        let ns = Netns::new();
        let (listener, clients, servers, udp) = ns.run(|| {
            let listener = TcpListener::bind("127.0.0.1:7000").unwrap();
            let mut clients = Vec::new();
            let mut servers = Vec::new();
            for port in [41000, 41001] {
                let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
                let from: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
                client.bind(&from.into()).unwrap();
                let to: SocketAddr = "127.0.0.1:7000".parse().unwrap();
                client.connect(&to.into()).unwrap();
                clients.push(TcpStream::from(client));
                servers.push(listener.accept().unwrap().0);
            }
            let udp = UdpSocket::bind("127.0.0.1:7001").unwrap();
            udp.connect("127.0.0.1:7002").unwrap();
            (listener, clients, servers, udp)
        });
        for stream in clients.iter().chain(&servers) {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
        }
        Twin {
            ns,
            _listener: listener,
            clients,
            servers,
            udp,
        }
    }

    fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        self.ns.output(program, args)
    }
}

/// The header, then the rows sorted: the kernel's hash tables order sockets differently in
/// two namespaces.
fn sorted(output: &[u8]) -> String {
    let text = comparable(&text(output));
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1..].sort_unstable();
    lines.join("\n")
}

/// What reading from a socket says: data, end of file, or the error's kind.
fn read_outcome(mut stream: &TcpStream) -> Result<usize, ErrorKind> {
    let mut buf = [0u8; 16];
    stream.read(&mut buf).map_err(|e| e.kind())
}

#[test]
fn kill_closes_what_ss_closes_and_both_ends_see_it() {
    let (theirs, ours) = (Twin::new(), Twin::new());
    for args in [
        &["-K", "-tn", "dport", "=", ":7000"][..],
        &["-K", "-un", "dport", "=", ":7002"],
    ] {
        let ss = theirs.run("ss", args);
        let us = ours.run(SOCKSCOPE, args);
        assert!(us.status.success(), "{args:?}: {}", text(&us.stderr));
        crate::eqnice!(sorted(&ss.stdout), sorted(&us.stdout));
        assert_eq!(
            text(&us.stdout).lines().count(),
            if args[1] == "-tn" { 3 } else { 2 }
        );
    }
    // What is left is the same, and is only the listener: the server ends were reset.
    let after = ["-tuan"];
    crate::eqnice!(
        sorted(&theirs.run("ss", &after).stdout),
        sorted(&ours.run(SOCKSCOPE, &after).stdout)
    );
    assert_eq!(
        text(&ours.run(SOCKSCOPE, &["-tanH"]).stdout)
            .lines()
            .count(),
        1
    );
    for client in &ours.clients {
        assert_eq!(read_outcome(client), Err(ErrorKind::ConnectionAborted));
    }
    for server in &ours.servers {
        assert_eq!(read_outcome(server), Err(ErrorKind::ConnectionReset));
    }
    let mut buf = [0u8; 4];
    assert_eq!(
        ours.udp.recv(&mut buf).map_err(|e| e.kind()),
        Err(ErrorKind::ConnectionAborted)
    );
}

#[test]
fn kill_without_a_filter_refuses_unless_forced() {
    let twin = Twin::new();
    let out = twin.run(SOCKSCOPE, &["-K", "-t"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.starts_with("sockscope: -K with no filter") && stderr.lines().count() == 1);
    assert!(out.stdout.is_empty());
    // Nothing was closed.
    let mut client = &twin.clients[0];
    client.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    (&twin.servers[0]).read_exact(&mut buf).unwrap();

    // Closing one end resets the other, which is gone by the time its turn comes: each
    // connection is listed once, from whichever end the kernel's table gave first.
    let out = twin.run(SOCKSCOPE, &["-K", "-tn", "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let closed = text(&out.stdout);
    assert_eq!(
        closed
            .lines()
            .filter(|l| l.contains(":7000 ") || l.ends_with(":7000"))
            .count(),
        2,
        "{closed}"
    );
    let left = text(&twin.run(SOCKSCOPE, &["-tanH"]).stdout);
    assert!(
        left.lines().count() == 1 && left.starts_with("LISTEN"),
        "{left}"
    );
    for end in [&twin.clients[1], &twin.servers[1]] {
        let outcome = read_outcome(end);
        assert!(
            matches!(
                outcome,
                Err(ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset)
            ),
            "{outcome:?}"
        );
    }
}

#[test]
fn kill_without_the_capability_is_one_clear_error() {
    let twin = Twin::new();
    let out = twin.run(
        "setpriv",
        &[
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            SOCKSCOPE,
            "-K",
            "-tn",
            "sport",
            "=",
            ":7000",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        "sockscope: closing sockets (-K) needs CAP_NET_ADMIN: run sockscope as root\n"
    );
    // The connections still work.
    let mut server = &twin.servers[1];
    server.write_all(b"pong").unwrap();
    let mut buf = [0u8; 4];
    (&twin.clients[1]).read_exact(&mut buf).unwrap();
}
