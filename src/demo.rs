//! `sockscope demo`: a TCP connection (or, with `--udp`, a UDP exchange) built one system call
//! at a time inside this process, with the kernel's own view of its sockets after each step.
//!
//! Nothing here is made up: every table is a sock_diag query through the normal path, filtered
//! to the demo's port and printed by the normal renderer. The explanations are ours; the walk
//! follows the server/client example of the article in `shared/seed-article.txt`.

use std::io::{self, IsTerminal, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Serialize;
use socket2::{Domain, Protocol, SockAddr, Socket as Sock, Type};

use crate::config::{Format, Output};
use crate::filter::{self, ParseOptions, Source};
use crate::names::Names;
use crate::netns;
use crate::query::{self, Query};
use crate::render::Renderer;
use crate::render::json::Record;
use crate::render::table::TableRenderer;
use crate::socket::{Endpoints, Family, FamilySet, Netid, OwnedSocket, StateSet, TcpState};
use crate::term;
use crate::wire::netlink::DiagSocket;

/// The article's port.
pub const DEFAULT_PORT: u16 = 55000;

/// How long to wait for the kernel to reach a stage's state before showing what it has.
const SETTLE: Duration = Duration::from_secs(2);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// Run straight through.
    Never,
    /// Wait for a key on the terminal: Enter (or space) goes on, q quits.
    Keys,
    /// Wait for a line on standard input: an empty one goes on, q quits.
    Lines,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    pub port: u16,
    pub udp: bool,
    pub netns: bool,
    pub json: bool,
    pub pause: Pause,
}

/// How the demo ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Finished,
    Quit,
    Interrupted,
}

impl DemoOptions {
    /// Pausing as the user asked: `--pause` always, `--no-pause` never, otherwise on a
    /// terminal (and never for JSON).
    pub fn pause_for(pause: bool, no_pause: bool, json: bool) -> Pause {
        let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
        match (pause, no_pause) {
            (true, _) if terminal => Pause::Keys,
            (true, _) => Pause::Lines,
            (false, true) => Pause::Never,
            (false, false) if terminal && !json => Pause::Keys,
            _ => Pause::Never,
        }
    }
}

pub fn run(options: &DemoOptions) -> anyhow::Result<Ending> {
    if options.netns {
        netns::enter_private()
            .context("--netns needs root (CAP_SYS_ADMIN) to create a private network namespace")?;
    }
    term::catch_interrupts();
    let _raw_keys = match options.pause {
        Pause::Keys => Some(term::RawKeys::enable().context("cannot read keys from the terminal")?),
        _ => None,
    };
    let stdout = io::stdout();
    let mut walk = Walk::new(options, stdout.lock())?;
    let ending = if options.udp { walk.udp() } else { walk.tcp() }?;
    if ending == Ending::Finished && !options.json {
        let note = "The demo has closed every socket it opened. Anything still listed above \
                    is the kernel's own bookkeeping, which it clears by itself.";
        for line in wrap(note, 78) {
            writeln!(walk.out, "{line}")?;
        }
    }
    walk.out.flush()?;
    Ok(ending)
}

/// What the walk needs between stages.
struct Walk<'o, W: Write> {
    options: &'o DemoOptions,
    out: W,
    diag: DiagSocket,
    query: Query,
    /// The sockscope command that shows the same table.
    command: String,
    stage: usize,
    stages: usize,
    names: Names,
}

/// One stage as JSON.
#[derive(Serialize)]
struct StageRecord<'a> {
    stage: usize,
    title: &'a str,
    call: String,
    explanation: &'a str,
    sockets: Vec<Record<'a, 'a>>,
}

impl<'o, W: Write> Walk<'o, W> {
    fn new(options: &'o DemoOptions, out: W) -> anyhow::Result<Walk<'o, W>> {
        let diag = DiagSocket::open()?;
        // The listing filter is built only once the port is known (with --port 0 the kernel
        // picks it), in `watch_port`.
        let table = if options.udp { Netid::Udp } else { Netid::Tcp };
        let states = if options.udp {
            StateSet::ALL
        } else {
            StateSet::ALL.with(TcpState::BoundInactive)
        };
        let query = Query::new(
            [table].into_iter().collect(),
            FamilySet::single(Family::Inet),
            states,
        );
        Ok(Walk {
            options,
            out,
            diag,
            query,
            command: String::new(),
            stage: 0,
            stages: if options.udp { 5 } else { 7 },
            names: Names::new(),
        })
    }

    /// From now on, list the sockets on `port` at either end.
    fn watch_port(&mut self, port: u16) -> anyhow::Result<()> {
        let text = format!("sport = :{port} or dport = :{port}");
        let expr = filter::parse(&Source::Args(vec![text.clone()]), &ParseOptions::default())?
            .expr
            .expect("a port filter");
        self.query.bytecode = filter::compile(&expr);
        self.query.filter = Some(expr);
        self.command = if self.options.udp {
            format!("sockscope -uan '( {text} )'")
        } else {
            format!("sockscope -tan state all state bound-inactive '( {text} )'")
        };
        Ok(())
    }

    /// The demo's sockets as the kernel lists them now.
    fn snapshot(&mut self) -> anyhow::Result<Vec<OwnedSocket>> {
        let mut sockets = Vec::new();
        query::run(&self.query, &mut self.diag, &mut |s| {
            sockets.push(OwnedSocket::new(s));
            Ok(())
        })?;
        Ok(sockets)
    }

    /// Shows one stage: the calls just made, what they mean, and the kernel's table once it
    /// has `settled` (or after a short wait, whatever it says then). Then waits if asked to.
    fn show(
        &mut self,
        title: &str,
        calls: &[&str],
        explanation: &str,
        settled: impl Fn(&[OwnedSocket]) -> bool,
    ) -> anyhow::Result<Option<Ending>> {
        self.stage += 1;
        let deadline = Instant::now() + SETTLE;
        let sockets = loop {
            let sockets = self.snapshot()?;
            if settled(&sockets) || Instant::now() > deadline || term::interrupted() {
                break sockets;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        if term::interrupted() {
            return Ok(Some(Ending::Interrupted));
        }
        if self.options.json {
            self.print_json(title, calls, explanation, &sockets)?;
        } else {
            self.print_text(title, calls, explanation, &sockets)?;
        }
        self.pause()
    }

    fn print_text(
        &mut self,
        title: &str,
        calls: &[&str],
        explanation: &str,
        sockets: &[OwnedSocket],
    ) -> io::Result<()> {
        let out = &mut self.out;
        writeln!(out, "Stage {} of {}: {title}", self.stage, self.stages)?;
        writeln!(out)?;
        for call in calls {
            writeln!(out, "    {call}")?;
        }
        writeln!(out)?;
        for line in wrap(explanation, 78) {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        writeln!(out, "$ {}", self.command)?;
        let output = Output {
            format: Format::Table,
            numeric: true,
            resolve: false,
            header: true,
            show_netid: false,
            show_state: true,
            details: Default::default(),
        };
        let mut table = TableRenderer::new(&mut *out, &output, term::width());
        for socket in sockets {
            table.socket(&socket.as_socket())?;
        }
        table.finish()?;
        writeln!(out)
    }

    fn print_json(
        &mut self,
        title: &str,
        calls: &[&str],
        explanation: &str,
        sockets: &[OwnedSocket],
    ) -> io::Result<()> {
        let views: Vec<_> = sockets.iter().map(OwnedSocket::as_socket).collect();
        let records = views
            .iter()
            .map(|socket| Record::new(socket, &mut self.names, Default::default()))
            .collect();
        let stage = StageRecord {
            stage: self.stage,
            title,
            call: calls.join("\n"),
            explanation,
            sockets: records,
        };
        serde_json::to_writer(&mut self.out, &stage)?;
        writeln!(self.out)?;
        self.out.flush()
    }

    /// Waits between stages if asked to; `Some` when the user wants to stop.
    fn pause(&mut self) -> anyhow::Result<Option<Ending>> {
        if self.stage == self.stages || self.options.pause == Pause::Never {
            return Ok(None);
        }
        match self.options.pause {
            Pause::Keys => {
                write!(self.out, "[Enter] next stage  [q] quit")?;
                self.out.flush()?;
                let ending = loop {
                    match term::read_byte()? {
                        Some(b'\n' | b'\r' | b' ') => break None,
                        Some(b'q' | b'Q') => break Some(Ending::Quit),
                        Some(_) => continue,
                        None if term::interrupted() => break Some(Ending::Interrupted),
                        None => break Some(Ending::Quit),
                    }
                };
                write!(self.out, "\r{:30}\r", "")?;
                Ok(ending)
            }
            Pause::Lines => {
                writeln!(self.out, "(Enter for the next stage, q to quit)")?;
                self.out.flush()?;
                // Byte by byte rather than with read_line, which would retry through Ctrl-C.
                let mut line = Vec::new();
                loop {
                    match term::read_byte()? {
                        Some(b'\n') => break,
                        Some(byte) => line.push(byte),
                        None if term::interrupted() => return Ok(Some(Ending::Interrupted)),
                        None => return Ok(Some(Ending::Quit)),
                    }
                }
                let quit = String::from_utf8_lossy(&line)
                    .trim()
                    .eq_ignore_ascii_case("q");
                Ok(quit.then_some(Ending::Quit))
            }
            Pause::Never => Ok(None),
        }
    }

    /// The article's walk: a TCP server and client on 127.0.0.1.
    fn tcp(&mut self) -> anyhow::Result<Ending> {
        let server = Sock::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        let port = bind(&server, self.options.port)?;
        self.watch_port(port)?;
        let bind_call = format!("bind(server, 127.0.0.1:{port});");
        let stage = self.show(
            "a socket with an address",
            &["server = socket(AF_INET, SOCK_STREAM, 0);", &bind_call],
            "The server owns a TCP socket tied to 127.0.0.1 and a port, and nothing more: \
             it is not listening, it has no peer, its queues are empty. The kernel leaves \
             such sockets out of its listings unless it is asked for bound-inactive ones \
             (-B, or state bound-inactive), and then reports them as UNCONN.",
            |s| !s.is_empty(),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        server.listen(5)?;
        let stage = self.show(
            "listening",
            &["listen(server, 5);"],
            "The socket is now passive: the kernel answers connection requests for it and \
             completes their handshakes on its own. On a listening socket the two queue \
             columns mean something else: Send-Q is the backlog given to listen() (5), and \
             Recv-Q counts connections that finished their handshake and wait for accept() \
             (none yet).",
            |s| has(s, |s| s.state == TcpState::Listen),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        let mut client = Sock::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))?;
        client.connect(&SockAddr::from(loopback(port)))?;
        let client_port = local_port(&client)?;
        let explanation = format!(
            "The client never called bind(), so the kernel gave it a port of its own, \
             {client_port}, from the ephemeral range. connect() returned once the three-way \
             handshake (SYN, SYN-ACK, ACK) was done: there are now two connected sockets, one \
             for each end, both ESTAB. The server's end is not in the server's hands yet: it \
             waits in the listener's accept queue, hence Recv-Q 1 on the LISTEN row."
        );
        let stage = self.show(
            "connected, not yet accepted",
            &[
                "client = socket(AF_INET, SOCK_STREAM, 0);",
                &format!("connect(client, 127.0.0.1:{port});"),
            ],
            &explanation,
            |s| {
                has(s, |s| s.state == TcpState::Listen && s.recv_q == 1)
                    && count(s, TcpState::Established) == 2
            },
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        let (mut connection, _) = server.accept()?;
        let stage = self.show(
            "accepted",
            &["connection = accept(server);"],
            "accept() took the connection off the queue, so the listener's Recv-Q is back \
             to 0, and the server now holds a socket for its end of the connection: the \
             ESTAB row whose local port is the listener's. The listener itself stays, ready \
             for the next client.",
            |s| has(s, |s| s.state == TcpState::Listen && s.recv_q == 0),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        connection.write_all(&[b'x'; 50])?;
        let stage = self.show(
            "data waiting to be read",
            &["write(connection, buffer, 50);"],
            "The server sent 50 bytes and the client has not read them. On a connected \
             socket Recv-Q counts bytes that arrived but that the application has not read \
             yet: the client's row shows 50. Send-Q counts bytes sent but not yet \
             acknowledged by the other end; over loopback the acknowledgement comes at once.",
            |s| has(s, |s| local(s) == Some(client_port) && s.recv_q == 50),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        let mut received = [0u8; 50];
        client.read_exact(&mut received)?;
        // Closing with unread data would reset the connection instead of closing it.
        drop(client);
        let stage = self.show(
            "the client closes first",
            &["read(client, buffer, 50);", "close(client);"],
            "The client read the data and closed its end: it sent a FIN, which the server's \
             kernel acknowledged. The client's socket now waits in FIN-WAIT-2 for the server \
             to close as well. The server's end is in CLOSE-WAIT: the peer is done and the \
             kernel waits for the server application to close too (its Recv-Q of 1 is the \
             FIN, which takes a sequence number).",
            |s| {
                has(s, |s| s.state == TcpState::FinWait2)
                    && has(s, |s| s.state == TcpState::CloseWait)
            },
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        drop(connection);
        drop(server);
        let stage = self.show(
            "the server closes",
            &["close(connection);", "close(server);"],
            "The server closed its end and its listener. Its FIN was acknowledged and its \
             socket is gone. The client, which closed first, keeps a TIME-WAIT entry for a \
             minute, so that a late packet of this connection cannot be taken for part of a \
             new one between the same addresses and ports.",
            |s| {
                has(s, |s| s.state == TcpState::TimeWait)
                    && !has(s, |s| {
                        matches!(s.state, TcpState::LastAck | TcpState::Listen)
                    })
            },
        )?;
        Ok(stage.unwrap_or(Ending::Finished))
    }

    /// The same walk for UDP, the article's next topic.
    fn udp(&mut self) -> anyhow::Result<Ending> {
        let server = Sock::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        let port = bind(&server, self.options.port)?;
        self.watch_port(port)?;
        let bind_call = format!("bind(server, 127.0.0.1:{port});");
        let stage = self.show(
            "a bound datagram socket",
            &["server = socket(AF_INET, SOCK_DGRAM, 0);", &bind_call],
            "A UDP socket needs no listen() and no accept(): once bound it receives datagrams \
             from anyone who sends to its address. With no fixed peer it is listed as UNCONN.",
            |s| !s.is_empty(),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        let client = Sock::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        client.connect(&SockAddr::from(loopback(port)))?;
        let client_port = local_port(&client)?;
        let explanation = format!(
            "For UDP, connect() sends nothing at all: it only records a default peer and gives \
             the socket a port ({client_port}). The kernel lists the client as ESTAB even \
             though no packet has been exchanged; the server is still UNCONN."
        );
        let stage = self.show(
            "a connected client",
            &[
                "client = socket(AF_INET, SOCK_DGRAM, 0);",
                &format!("connect(client, 127.0.0.1:{port});"),
            ],
            &explanation,
            |s| has(s, |s| s.state == TcpState::Established),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        client.send(&[b'x'; 50])?;
        let stage = self.show(
            "a datagram waiting",
            &["send(client, buffer, 50);"],
            "One 50-byte datagram waits on the server. For UDP, Recv-Q counts the memory the \
             waiting datagrams take in the kernel, headers and bookkeeping included, so it is \
             larger than the 50 bytes of payload.",
            |s| has(s, |s| local(s) == Some(port) && s.recv_q > 0),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        let mut buffer = [std::mem::MaybeUninit::new(0u8); 64];
        server.recv(&mut buffer)?;
        let stage = self.show(
            "read",
            &["recv(server, buffer, 64);"],
            "The server read the datagram, and its Recv-Q is empty again.",
            |s| has(s, |s| local(s) == Some(port) && s.recv_q == 0),
        )?;
        if let Some(ending) = stage {
            return Ok(ending);
        }

        drop(client);
        drop(server);
        let stage = self.show(
            "closed",
            &["close(client);", "close(server);"],
            "UDP has no closing handshake: both sockets are gone at once and leave nothing \
             behind.",
            |s| s.is_empty(),
        )?;
        Ok(stage.unwrap_or(Ending::Finished))
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Binds to 127.0.0.1:`port` (any free port for 0) and returns the port.
fn bind(socket: &Sock, port: u16) -> anyhow::Result<u16> {
    match socket.bind(&SockAddr::from(loopback(port))) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => bail!(
            "port {port} on 127.0.0.1 is already in use; choose another with --port N, or \
             --port 0 for any free port"
        ),
        Err(e) => Err(e).with_context(|| format!("cannot bind to 127.0.0.1:{port}")),
        Ok(()) => local_port(socket),
    }
}

fn local_port(socket: &Sock) -> anyhow::Result<u16> {
    socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .context("the socket has no inet address")
}

fn local(socket: &crate::socket::Socket<'_>) -> Option<u16> {
    match socket.endpoints {
        Endpoints::Inet(ends) => Some(ends.local.port()),
        _ => None,
    }
}

fn has(sockets: &[OwnedSocket], test: impl Fn(&crate::socket::Socket<'_>) -> bool) -> bool {
    sockets.iter().any(|s| test(&s.as_socket()))
}

fn count(sockets: &[OwnedSocket], state: TcpState) -> usize {
    sockets
        .iter()
        .filter(|s| s.as_socket().state == state)
        .count()
}

/// Breaks `text` into lines of at most `width` characters, at spaces.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("", 9), Vec::<String>::new());
    }
}
