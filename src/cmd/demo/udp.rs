//! The same walk for UDP, the article's next topic.

use std::io::Write;

use socket2::{Domain, Protocol, SockAddr, Socket as Sock, Type};

use super::{Ending, Stage, Walk, has, local, local_port, loopback, settle, show};
use crate::socket::TcpState;

impl<W: Write> Walk<'_, W> {
    pub(super) fn udp(&mut self) -> anyhow::Result<Ending> {
        self.begin()?;
        let server = Sock::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        let (port, calls, mut explanation) =
            self.bind_server(&server, "server = socket(AF_INET, SOCK_DGRAM, 0);")?;
        explanation.push_str(
            "A UDP socket needs no listen() and no accept(): once bound it receives datagrams \
             from anyone who sends to its address. With no fixed peer it is listed as UNCONN.",
        );
        let sockets = settle!(self, |s| !s.is_empty());
        show!(
            self,
            Stage::new("a bound datagram socket", calls, explanation),
            sockets
        );

        self.begin()?;
        let client = Sock::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
        client.connect(&SockAddr::from(loopback(port)))?;
        let client_port = local_port(&client)?;
        self.name(&client, "client")?;
        let sockets = settle!(self, |s| has(s, |s| s.state == TcpState::Established));
        let stage = Stage::new(
            "a connected client",
            vec![
                "client = socket(AF_INET, SOCK_DGRAM, 0);".to_owned(),
                format!("connect(client, 127.0.0.1:{port});"),
            ],
            format!(
                "For UDP, connect() sends nothing at all: it only records a default peer and \
                 gives the socket a port ({client_port}). The kernel lists the client as ESTAB \
                 even though no packet has been exchanged; the server is still UNCONN."
            ),
        );
        show!(self, stage, sockets);

        self.begin()?;
        client.send(&[b'x'; 50])?;
        let sockets = settle!(self, |s| has(s, |s| local(s) == Some(port) && s.recv_q > 0));
        let stage = Stage::new(
            "a datagram waiting",
            vec!["send(client, buffer, 50);".to_owned()],
            "One 50-byte datagram went out, and waits on the server. No acknowledgement comes \
             back: UDP has none. For UDP, Recv-Q counts the memory the waiting datagrams take \
             in the kernel, headers and bookkeeping included, so it is larger than the 50 \
             bytes of payload."
                .to_owned(),
        );
        show!(self, stage, sockets);

        self.begin()?;
        let mut buffer = [std::mem::MaybeUninit::new(0u8); 64];
        server.recv(&mut buffer)?;
        let sockets = settle!(self, |s| has(s, |s| local(s) == Some(port)
            && s.recv_q == 0));
        let stage = Stage::new(
            "read",
            vec!["recv(server, buffer, 64);".to_owned()],
            "The server read the datagram, and its Recv-Q is empty again.".to_owned(),
        );
        show!(self, stage, sockets);

        self.begin()?;
        drop(client);
        drop(server);
        let sockets = settle!(self, |s| s.is_empty());
        let stage = Stage::new(
            "closed",
            vec!["close(client);".to_owned(), "close(server);".to_owned()],
            "UDP has no closing handshake: both sockets are gone at once, nothing went on the \
             wire, and nothing is left behind."
                .to_owned(),
        );
        let ending = self.show(&stage, &sockets)?;
        Ok(ending.unwrap_or(Ending::Finished))
    }
}
