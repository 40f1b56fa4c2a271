//! The walk of the article "Analysing the Stream Socket connection": a TCP server and client
//! on 127.0.0.1, and what its `listen(socket_fd, 5)` and its table's queues mean when pushed
//! further.

use std::io::{self, Read, Write};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket as Sock, Type};

use super::{
    Ending, SETTLE, Stage, Walk, count, find, has, local, local_port, loopback, settle, show,
};
use crate::cmd::demo::capture::Segment;
use crate::socket::TcpState;
use crate::source::procnet::ListenCounters;

/// The backlog given to listen(), as in the article.
const BACKLOG: i32 = 5;
/// The clients that come at once in the backlog stage: more than the queue holds.
const CROWD: usize = 7;
/// How long the backlog stage waits for the last client's SYN to be tried again. In the
/// demo's namespace that is every second; elsewhere the default doubles the wait each time.
const RETRY_PRIVATE: Duration = Duration::from_secs(3);
const RETRY_SHARED: Duration = Duration::from_secs(8);
/// Outside a private namespace (whose sysctls size every socket's buffers) the client's and
/// the server's buffers are set on the sockets, halved as the kernel doubles them.
const CLIENT_RCVBUF: usize = 16384;
const SERVER_SNDBUF: usize = 8192;
/// The most the server writes in the Send-Q stage, and how long a full buffer must stay full.
const WRITE_LIMIT: usize = 4 << 20;
const FULL_FOR: Duration = Duration::from_millis(100);

fn stream() -> io::Result<Sock> {
    Sock::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP))
}

impl<W: Write> Walk<'_, W> {
    pub(super) fn tcp(&mut self) -> anyhow::Result<Ending> {
        self.begin()?;
        let server = stream()?;
        let (port, calls, mut explanation) =
            self.bind_server(&server, "server = socket(AF_INET, SOCK_STREAM, 0);")?;
        explanation.push_str(
            "The server owns a TCP socket tied to 127.0.0.1 and a port, and nothing more: it \
             is not listening, it has no peer, its queues are empty, and nothing went on the \
             wire. The kernel leaves such sockets out of its listings unless asked for \
             bound-inactive ones, and then reports them as UNCONN.",
        );
        let sockets = settle!(self, |s| !s.is_empty());
        let mut stage = Stage::new("a socket with an address", calls, explanation);
        stage.bound_inactive = true;
        show!(self, stage, sockets);

        self.begin()?;
        server.listen(BACKLOG)?;
        let sockets = settle!(self, |s| has(s, |s| s.state == TcpState::Listen));
        let stage = Stage::new(
            "listening",
            vec![format!("listen(server, {BACKLOG});")],
            format!(
                "The socket is now passive: the kernel answers connection requests for it and \
                 completes their handshakes on its own. On a listening socket the two queue \
                 columns mean something else: Send-Q is the backlog given to listen() \
                 ({BACKLOG}), and Recv-Q counts connections that finished their handshake \
                 and wait for accept() (none yet)."
            ),
        );
        show!(self, stage, sockets);

        self.begin()?;
        let mut client = stream()?;
        if !self.place.is_private() {
            client.set_recv_buffer_size(CLIENT_RCVBUF)?;
        }
        client.connect(&SockAddr::from(loopback(port)))?;
        let client_port = local_port(&client)?;
        self.name(&client, "client")?;
        self.name_queued(&client, "queued")?;
        let sockets = settle!(self, |s| {
            has(s, |s| s.state == TcpState::Listen && s.recv_q == 1)
                && count(s, TcpState::Established) == 2
        });
        let stage = Stage::new(
            "connected, not yet accepted",
            vec![
                "client = socket(AF_INET, SOCK_STREAM, 0);".to_owned(),
                format!("connect(client, 127.0.0.1:{port});"),
            ],
            format!(
                "The client never called bind(), so the kernel gave it a port of its own, \
                 {client_port}, from the ephemeral range. connect() returned once the \
                 three-way handshake was done: the client's SYN (its first sequence number, \
                 shown as 0), the server kernel's SYN-ACK, the client's ACK. Each end now has \
                 a connected socket, both ESTAB. The server's end is not in the server's \
                 hands yet: it waits in the listener's accept queue (\"queued\"), hence \
                 Recv-Q 1 on the LISTEN row."
            ),
        );
        show!(self, stage, sockets);

        self.begin()?;
        let (mut connection, _) = server.accept()?;
        self.name(&connection, "connection")?;
        let sockets = settle!(self, |s| has(s, |s| s.state == TcpState::Listen
            && s.recv_q == 0));
        let stage = Stage::new(
            "accepted",
            vec!["connection = accept(server);".to_owned()],
            "accept() took the connection off the queue, so the listener's Recv-Q is back to \
             0, and the server now holds a socket for its end of the connection: the ESTAB \
             row whose local port is the listener's. Nothing went on the wire: the handshake \
             was over before accept() was called. The listener itself stays, ready for the \
             next client."
                .to_owned(),
        );
        show!(self, stage, sockets);

        if let Some(ending) = self.backlog(&server, port)? {
            return Ok(ending);
        }

        self.begin()?;
        connection.write_all(&[b'x'; 50])?;
        let sockets = settle!(self, |s| has(s, |s| local(s) == Some(client_port)
            && s.recv_q == 50));
        let stage = Stage::new(
            "data waiting to be read",
            vec!["write(connection, buffer, 50);".to_owned()],
            "The server sent 50 bytes (one segment, PSH: hand it to the application at once) \
             and the client has not read them. On a connected socket Recv-Q counts bytes that \
             arrived but that the application has not read yet: the client's row shows 50, \
             as in the article's table. Send-Q counts bytes sent but not yet acknowledged by \
             the other end. The article's table has 50 there too, on the server's row: its \
             ACK had not come back yet. Here it came at once over loopback (the second \
             packet), so the server's Send-Q is 0; the next stage keeps one from draining."
                .to_owned(),
        );
        show!(self, stage, sockets);

        let Some(written) = self.fill(&connection, client_port)? else {
            return Ok(Ending::Interrupted);
        };
        let Some(()) = self.catch_up(&mut client, client_port, 50 + written)? else {
            return Ok(Ending::Interrupted);
        };

        self.begin()?;
        // Closing with unread data would reset the connection instead of closing it; the
        // client has read everything.
        drop(client);
        let sockets = settle!(self, |s| {
            has(s, |s| s.state == TcpState::FinWait2) && has(s, |s| s.state == TcpState::CloseWait)
        });
        let stage = Stage::new(
            "the client closes first",
            vec!["close(client);".to_owned()],
            "The client closed its end: it sent a FIN, which the server's kernel acknowledged. \
             The client's socket now waits in FIN-WAIT-2 for the server to close as well. The \
             server's end is in CLOSE-WAIT: the peer is done and the kernel waits for the \
             server application to close too (its Recv-Q of 1 is the FIN, which takes a \
             sequence number)."
                .to_owned(),
        );
        show!(self, stage, sockets);

        self.begin()?;
        drop(connection);
        drop(server);
        let sockets = settle!(self, |s| {
            has(s, |s| s.state == TcpState::TimeWait)
                && !has(s, |s| {
                    matches!(s.state, TcpState::LastAck | TcpState::Listen)
                })
        });
        let stage = Stage::new(
            "the server closes",
            vec!["close(connection);".to_owned(), "close(server);".to_owned()],
            "The server closed its end and its listener. Its FIN was acknowledged and its \
             socket is gone; closing the listener sent nothing. The client, which closed \
             first, keeps a TIME-WAIT entry for a minute, so that a late packet of this \
             connection cannot be taken for part of a new one between the same addresses \
             and ports."
                .to_owned(),
        );
        let ending = self.show(&stage, &sockets)?;
        Ok(ending.unwrap_or(Ending::Finished))
    }

    /// Two stages: more clients than the backlog lets wait, then the server accepting them.
    fn backlog(&mut self, server: &Sock, port: u16) -> anyhow::Result<Option<Ending>> {
        self.begin()?;
        let before = ListenCounters::read().unwrap_or_default();
        let mut crowd = Vec::new();
        for n in 2..2 + CROWD {
            let client = stream()?;
            client.set_nonblocking(true)?;
            match client.connect(&SockAddr::from(loopback(port))) {
                Err(e) if e.raw_os_error() != Some(libc::EINPROGRESS) => return Err(e.into()),
                _ => {}
            }
            self.name(&client, &format!("client {n}"))?;
            self.name_queued(&client, &format!("queued {n}"))?;
            crowd.push(client);
            // One after the other: each takes its place in the queue before the next comes,
            // so that which one finds no room does not depend on timing.
            let queued = crowd.len().min(BACKLOG as usize + 1) as u32;
            if crowd.len() <= BACKLOG as usize + 1 {
                let done = self.settle(false, SETTLE, |s| {
                    has(s, |s| s.state == TcpState::Listen && s.recv_q == queued)
                })?;
                if done.is_none() {
                    return Ok(Some(Ending::Interrupted));
                }
            }
        }
        // The last one's SYN was dropped: wait for the counter that says so.
        let deadline = Instant::now() + SETTLE;
        let mut after = ListenCounters::read().unwrap_or_default();
        while after.overflows == before.overflows && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            after = ListenCounters::read().unwrap_or_default();
        }
        let full = BACKLOG as u32 + 1;
        let sockets = match self.settle(false, SETTLE, |s| {
            has(s, |s| s.state == TcpState::Listen && s.recv_q == full)
                && count(s, TcpState::SynSent) == CROWD - full as usize
        })? {
            Some(sockets) => sockets,
            None => return Ok(Some(Ending::Interrupted)),
        };
        let after = ListenCounters::read().unwrap_or(after);
        let waiting = find(&sockets, |s| s.state == TcpState::Listen).map_or(0, |s| s.recv_q);
        let stuck = count(&sockets, TcpState::SynSent);
        let last = 1 + CROWD;
        let mut stage = Stage::new(
            "more clients than the backlog",
            vec![
                format!("for (n = 2; n <= {last}; n++)  // one by one, non-blocking"),
                format!("    connect(client[n] = socket(...), 127.0.0.1:{port});"),
            ],
            format!(
                "Seven more clients connect while the server accepts none. The backlog of \
                 listen() bounds the accept queue, and Linux lets in one more than it says: \
                 {waiting} clients finished their handshake (their connect() succeeded) and \
                 wait there, Recv-Q {waiting} against Send-Q {BACKLOG} on the LISTEN row. \
                 For the last {stuck_clients} there was no room: the server's kernel dropped \
                 {its} SYN without an answer{why}, so {stuck_they} SYN-SENT and will send \
                 {its} SYN again. Each dropped SYN counts as a ListenOverflow (the queue was \
                 full) and as a ListenDrop (any SYN a listener dropped).",
                stuck_clients = if stuck == 1 {
                    "one".to_owned()
                } else {
                    stuck.to_string()
                },
                its = if stuck == 1 { "its" } else { "their" },
                stuck_they = if stuck == 1 {
                    "it stays in"
                } else {
                    "they stay in"
                },
                why = if self.place.is_private() {
                    " (no reset, no SYN cookie: both are off in this namespace)"
                } else {
                    ""
                },
            ),
        );
        stage.counters = Some((before, after));
        if let Some(ending) = self.show(&stage, &sockets)? {
            return Ok(Some(ending));
        }

        self.begin()?;
        let mut connections = Vec::new();
        let retry = if self.place.is_private() {
            RETRY_PRIVATE
        } else {
            RETRY_SHARED
        };
        server.set_nonblocking(true)?;
        let deadline = Instant::now() + retry;
        while connections.len() < CROWD
            && Instant::now() < deadline
            && !crate::sys::term::interrupted()
        {
            match server.accept() {
                Ok((connection, _)) => {
                    let n = 2 + connections.len();
                    connection.set_nonblocking(false)?;
                    self.name(&connection, &format!("connection {n}"))?;
                    connections.push(connection);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(e.into()),
            }
        }
        server.set_nonblocking(false)?;
        let accepted = connections.len();
        // Reset rather than closed: no FIN exchange, no TIME-WAIT entries in later tables.
        for client in &crowd {
            client.set_linger(Some(Duration::ZERO))?;
        }
        drop(crowd);
        drop(connections);
        let sockets = match self.settle(false, SETTLE, |s| {
            has(s, |s| s.state == TcpState::Listen && s.recv_q == 0)
                && count(s, TcpState::Established) == 2
        })? {
            Some(sockets) => sockets,
            None => return Ok(Some(Ending::Interrupted)),
        };
        let retried = if accepted == CROWD {
            format!(
                "The last client's SYN, sent again, found room once the queue emptied: its \
                 handshake is above, and it was accepted too, the {accepted}th."
            )
        } else {
            format!(
                "The last client's SYN was not tried again in time, so the server accepted \
                 {accepted}."
            )
        };
        let stage = Stage::new(
            "the queue drains",
            vec![
                format!("for (n = 2; n <= {last}; n++)"),
                "    connection[n] = accept(server);".to_owned(),
                format!("for (n = 2; n <= {last}; n++) {{  // reset: no TIME-WAIT"),
                "    setsockopt(client[n], SO_LINGER, {1, 0});".to_owned(),
                "    close(client[n]);".to_owned(),
                "    close(connection[n]);".to_owned(),
                "}".to_owned(),
            ],
            format!(
                "Each accept() took one connection off the queue, and the listener's Recv-Q is \
                 back to 0. {retried} Then the demo closed these extra connections with a \
                 linger time of 0, which sends a reset (RST) instead of the FIN exchange, so \
                 that they leave no TIME-WAIT entries: only the first connection remains."
            ),
        );
        self.show(&stage, &sockets)
    }

    /// The Send-Q stage: the server writes until its buffer is full while the client reads
    /// nothing. Returns how much the server wrote (`None` on Ctrl-C).
    fn fill(&mut self, connection: &Sock, client_port: u16) -> anyhow::Result<Option<usize>> {
        self.begin()?;
        if !self.place.is_private() {
            connection.set_send_buffer_size(SERVER_SNDBUF)?;
        }
        connection.set_nonblocking(true)?;
        let chunk = [b'y'; 65536];
        let mut written = 0;
        let started = Instant::now();
        let mut full_since: Option<Instant> = None;
        while written < WRITE_LIMIT && started.elapsed() < SETTLE {
            match (&*connection).write(&chunk) {
                Ok(n) => {
                    written += n;
                    full_since = None;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    // Full for now; full for good once the kernel has stopped making room.
                    let since = *full_since.get_or_insert_with(Instant::now);
                    if since.elapsed() >= FULL_FOR {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
            if crate::sys::term::interrupted() {
                return Ok(None);
            }
        }
        connection.set_nonblocking(false)?;
        let server_port = self.port;
        let Some(closed) = self.window_closes(client_port)? else {
            return Ok(None);
        };
        let sockets = match self.settle(true, SETTLE, |s| {
            has(s, |s| {
                local(s) == Some(server_port) && s.state == TcpState::Established && s.send_q > 0
            })
        })? {
            Some(sockets) => sockets,
            None => return Ok(None),
        };
        let client = find(&sockets, |s| local(s) == Some(client_port));
        let server = find(&sockets, |s| {
            local(s) == Some(server_port) && s.state == TcpState::Established
        });
        let (recv_q, rb, r) = client.map_or((0, 0, 0), |s| {
            let mem = s.details.skmem.unwrap_or_default().values;
            (s.recv_q, mem[1], mem[0])
        });
        let (send_q, tb, w) = server.map_or((0, 0, 0), |s| {
            let mem = s.details.skmem.unwrap_or_default().values;
            (s.send_q, mem[3], mem[5])
        });
        let window = match closed {
            true => {
                "With no room left it offered a window of 0 (win 0 in its last ACK), and the \
                 server's kernel stopped sending."
            }
            false => {
                "With no room left it offered no more window, and the server's kernel stopped \
                 sending."
            }
        };
        let stage = Stage {
            memory: true,
            ..Stage::new(
                "the client stops reading: Send-Q",
                vec![
                    "fcntl(connection, F_SETFL, O_NONBLOCK);".to_owned(),
                    "while (write(connection, buffer, 65536) > 0)".to_owned(),
                    "    ;  // until it fails with EAGAIN".to_owned(),
                ],
                format!(
                    "The server wrote {written} bytes before write() would block, and the \
                     client read none. The client's kernel took {recv_q} of them, the 50 \
                     included (its Recv-Q): all its receive buffer holds. -m shows why: the \
                     memory its queued data takes, r{r}, has reached the buffer's size, \
                     rb{rb}. {window} The other {send_q} bytes \
                     wait on the server's side, its Send-Q: written by the application, not \
                     yet acknowledged by the peer, here not even sent. They fill the send \
                     buffer (w{w} against tb{tb}), which is why write() refused more. The \
                     article's Send-Q 50 counted the same: bytes the peer had not acknowledged \
                     yet, 50 there, {send_q} here. Until the window opens, the server's kernel \
                     asks now and then with a window probe."
                ),
            )
        };
        Ok(self.show(&stage, &sockets)?.is_none().then_some(written))
    }

    /// Waits until the client's kernel has closed its window: its last ACK offers 0 bytes, or,
    /// without a capture, its Recv-Q has stopped growing. A small window left over is filled by
    /// the server's next probe, a few hundred milliseconds on. `Some(true)` when the capture
    /// saw the window close, `Some(false)` when it could not tell, `None` on Ctrl-C.
    fn window_closes(&mut self, client_port: u16) -> anyhow::Result<Option<bool>> {
        let deadline = Instant::now() + SETTLE * 2;
        let mut last = (0, Instant::now());
        while Instant::now() < deadline {
            if crate::sys::term::interrupted() {
                return Ok(None);
            }
            if self.capture.is_some() {
                let closed = self.collect()?.iter().rev().find_map(|p| match p.segment {
                    Segment::Tcp(tcp) if p.source.port() == client_port => Some(tcp.window),
                    _ => None,
                }) == Some(0);
                if closed {
                    return Ok(Some(true));
                }
            } else {
                let recv_q = find(&self.snapshot(false)?, |s| local(s) == Some(client_port))
                    .map_or(0, |s| s.recv_q);
                if recv_q != last.0 {
                    last = (recv_q, Instant::now());
                } else if last.1.elapsed() > Duration::from_millis(800) {
                    return Ok(Some(false));
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Some(false))
    }

    /// The client reads everything; both queues drain. `None` when the walk must stop.
    fn catch_up(
        &mut self,
        client: &mut Sock,
        client_port: u16,
        expected: usize,
    ) -> anyhow::Result<Option<()>> {
        self.begin()?;
        client.set_read_timeout(Some(Duration::from_millis(200)))?;
        let mut buffer = vec![0u8; 65536];
        let mut received = 0;
        let deadline = Instant::now() + SETTLE * 2;
        while received < expected && Instant::now() < deadline {
            match client.read(&mut buffer) {
                Ok(0) => break,
                Ok(n) => received += n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
            if crate::sys::term::interrupted() {
                return Ok(None);
            }
        }
        let server_port = self.port;
        let sockets = match self.settle(false, SETTLE, |s| {
            !has(s, |s| {
                (local(s) == Some(client_port) && s.recv_q > 0)
                    || (local(s) == Some(server_port)
                        && s.send_q > 0
                        && s.state == TcpState::Established)
            })
        })? {
            Some(sockets) => sockets,
            None => return Ok(None),
        };
        let stage = Stage::new(
            "the client catches up",
            vec![format!(
                "read(client, buffer, 65536);  // until all {expected}"
            )],
            format!(
                "The client read all {received} bytes. Each read made room in its receive \
                 buffer, and its kernel said so at once: an ACK with an open window (a window \
                 update). The server's kernel then sent what it still held. Both queues are \
                 empty again, and the server application took no part: it had handed the \
                 data over long before."
            ),
        );
        Ok(self.show(&stage, &sockets)?.is_none().then_some(()))
    }
}
