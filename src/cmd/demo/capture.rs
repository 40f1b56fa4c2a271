//! The packets on loopback, as the demo's steps send them: a packet socket on `lo`, read
//! between stages.
//!
//! A packet socket bound to one protocol (here IPv4) receives each frame once, as the device
//! hands it to the stack: on `lo` every packet is sent and received by this host, and only
//! the received copy reaches such a socket (the sent copy goes to `ETH_P_ALL` sockets only).
//! Sequence numbers are shown relative to each direction's first one, and windows scaled, as
//! tcpdump does; that takes the connection's SYN, which the demo always sees because the
//! capture starts before its first socket.

use std::collections::HashMap;
use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::segment::{
    Datagram, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TcpOption, Transport, tcp_options,
};

/// `linux/if_packet.h`.
const SOL_PACKET: libc::c_int = 263;
const PACKET_STATISTICS: libc::c_int = 6;
const PACKET_OUTGOING: u8 = 4;
/// `linux/sockios.h`: the time a socket's last packet arrived.
const SIOCGSTAMP: libc::c_ulong = 0x8906;

/// The bytes read of each packet: the longest IPv4 and TCP headers, no payload.
const SNAP: usize = 120;

/// One captured packet, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet {
    /// When it arrived, since the time `take` was given.
    pub at: Duration,
    pub source: SocketAddrV4,
    pub destination: SocketAddrV4,
    pub segment: Segment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Segment {
    Tcp(TcpSegment),
    Udp { len: usize },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpSegment {
    /// `TCP_SYN`, `TCP_ACK`, ...
    pub flags: u8,
    /// Relative to the sender's first sequence number, when its SYN was seen.
    pub seq: u32,
    /// Relative to the receiver's first sequence number; `None` without the ACK flag.
    pub ack: Option<u32>,
    /// The receive window the sender offers, in bytes (scaled when both ends agreed to).
    pub window: u32,
    /// Payload bytes.
    pub len: usize,
    /// The sender's maximum segment size, which a SYN carries.
    pub mss: Option<u16>,
    /// An empty segment one byte behind what the peer acknowledged: the sender asking a
    /// closed window whether it has opened (a zero-window probe).
    pub probe: bool,
}

impl TcpSegment {
    /// The segment's kind as the demo names it: SYN, SYN-ACK, FIN, RST, PSH, or ACK for one
    /// that carries only an acknowledgement or data without PSH.
    pub fn name(&self) -> String {
        let mut parts = Vec::new();
        for (bit, name) in [(TCP_SYN, "SYN"), (TCP_FIN, "FIN"), (TCP_RST, "RST")] {
            if self.flags & bit != 0 {
                parts.push(name);
            }
        }
        if self.flags & TCP_PSH != 0 && self.len > 0 {
            parts.push("PSH");
        }
        if self.flags & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK {
            parts.push("ACK");
        }
        if parts.is_empty() {
            parts.push("ACK");
        }
        parts.join("-")
    }
}

/// What the capture knows about one direction of a connection.
#[derive(Clone, Copy, Debug, Default)]
struct Direction {
    isn: Option<u32>,
    /// The window scale this end asked for in its SYN.
    wscale: Option<u8>,
    /// The highest acknowledgement this end sent, relative.
    acked: Option<u32>,
}

pub struct Capture {
    fd: OwnedFd,
    /// Only packets to or from this port are kept (all of the demo's involve the server).
    port: Option<u16>,
    /// By (source port, destination port).
    directions: HashMap<(u16, u16), Direction>,
    /// Packets the kernel dropped because the socket's buffer was full, since the last look.
    pub dropped: u64,
}

impl Capture {
    /// A packet socket on `lo`. Needs CAP_NET_RAW in the network namespace's user namespace.
    pub fn open() -> io::Result<Capture> {
        let protocol = (libc::ETH_P_IP as u16).to_be();
        // SAFETY: socket(2) with constant arguments; the result is checked and owned below.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                libc::c_int::from(protocol),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just opened and belongs to nobody else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: the name is a NUL-terminated C string.
        let ifindex = unsafe { libc::if_nametoindex(c"lo".as_ptr()) };
        if ifindex == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a zeroed sockaddr_ll is valid; the fields set are plain integers.
        let mut address: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        address.sll_family = libc::AF_PACKET as u16;
        address.sll_protocol = protocol;
        address.sll_ifindex = ifindex as i32;
        // SAFETY: bind reads a sockaddr_ll of the given size from a live struct.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&address as *const libc::sockaddr_ll).cast(),
                size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        // Room for a stage's packets between two looks: the kernel charges each one's whole
        // buffer, data included, however little of it is read. Forcing needs CAP_NET_ADMIN,
        // which the demo has in its own namespace; elsewhere the ordinary limit stays.
        let size: libc::c_int = 8 << 20;
        for option in [libc::SO_RCVBUFFORCE, libc::SO_RCVBUF] {
            // SAFETY: setsockopt reads an int from a live variable.
            let rc = unsafe {
                libc::setsockopt(
                    fd.as_raw_fd(),
                    libc::SOL_SOCKET,
                    option,
                    (&size as *const libc::c_int).cast(),
                    size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if rc == 0 {
                break;
            }
        }
        // Packets are stamped as they arrive only once the socket has asked for a stamp: ask
        // now (there is none yet), or the first packet would get the time it was read.
        // SAFETY: a zeroed timeval is valid; SIOCGSTAMP writes one into it, if anything.
        let mut time: libc::timeval = unsafe { std::mem::zeroed() };
        let _ = unsafe { libc::ioctl(fd.as_raw_fd(), SIOCGSTAMP, &mut time) };
        Ok(Capture {
            fd,
            port: None,
            directions: HashMap::new(),
            dropped: 0,
        })
    }

    /// From now on, keep only packets to or from `port`.
    pub fn watch_port(&mut self, port: u16) {
        self.port = Some(port);
    }

    /// The packets that arrived since the last call, their times counted from `since`.
    pub fn take(&mut self, since: SystemTime) -> io::Result<Vec<Packet>> {
        let mut packets = Vec::new();
        let mut buffer = [0u8; SNAP];
        loop {
            // SAFETY: a zeroed sockaddr_ll is valid for recvfrom to fill.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: recvfrom writes at most `buffer.len()` bytes into the live buffer and at
            // most `from_len` bytes into `from`.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buffer.as_mut_ptr().cast(),
                    buffer.len(),
                    0,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                let error = io::Error::last_os_error();
                match error.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(error),
                }
            }
            if from.sll_pkttype == PACKET_OUTGOING {
                continue;
            }
            let arrived = self.arrival()?;
            let Ok(datagram) = Datagram::parse(&buffer[..n as usize]) else {
                continue;
            };
            if let Some(packet) = self.decode(&datagram, arrived, since) {
                packets.push(packet);
            }
        }
        self.dropped += self.drops();
        Ok(packets)
    }

    /// When the packet just read arrived.
    fn arrival(&self) -> io::Result<SystemTime> {
        // SAFETY: SIOCGSTAMP writes a timeval into the live, zeroed struct.
        let mut time: libc::timeval = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), SIOCGSTAMP, &mut time) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(UNIX_EPOCH
            + Duration::from_secs(time.tv_sec as u64)
            + Duration::from_micros(time.tv_usec as u64))
    }

    /// Packets dropped for want of room since the last call (reading the counters resets them).
    fn drops(&self) -> u64 {
        let mut stats = [0u32; 2];
        let mut len = size_of::<[u32; 2]>() as libc::socklen_t;
        // SAFETY: PACKET_STATISTICS writes a `struct tpacket_stats` (two u32) into the live
        // array and its length into `len`.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                SOL_PACKET,
                PACKET_STATISTICS,
                stats.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc == 0 { u64::from(stats[1]) } else { 0 }
    }

    fn decode(
        &mut self,
        datagram: &Datagram<'_>,
        arrived: SystemTime,
        since: SystemTime,
    ) -> Option<Packet> {
        let (source_port, destination_port, segment) = match datagram.transport {
            Transport::Tcp {
                header,
                options,
                payload_len,
            } => {
                let ports = (header.source.get(), header.dest.get());
                (
                    ports.0,
                    ports.1,
                    Segment::Tcp(self.tcp(ports, header, options, payload_len)),
                )
            }
            Transport::Udp {
                header,
                payload_len,
            } => (
                header.source.get(),
                header.dest.get(),
                Segment::Udp { len: payload_len },
            ),
            Transport::Other(_) => return None,
        };
        if self
            .port
            .is_some_and(|port| port != source_port && port != destination_port)
        {
            return None;
        }
        Some(Packet {
            at: arrived.duration_since(since).unwrap_or_default(),
            source: SocketAddrV4::new(Ipv4Addr::from(datagram.ip.saddr), source_port),
            destination: SocketAddrV4::new(Ipv4Addr::from(datagram.ip.daddr), destination_port),
            segment,
        })
    }

    fn tcp(
        &mut self,
        (source, destination): (u16, u16),
        header: &super::segment::TcpHeader,
        options: &[u8],
        len: usize,
    ) -> TcpSegment {
        let flags = header.flags;
        let mut mss = None;
        if flags & TCP_SYN != 0 {
            let mut wscale = None;
            for option in tcp_options(options) {
                match option {
                    TcpOption::Mss(value) => mss = Some(value),
                    TcpOption::WindowScale(shift) => wscale = Some(shift.min(14)),
                    TcpOption::Other { .. } => {}
                }
            }
            // A new connection between the same ports starts afresh.
            let sent = self.directions.entry((source, destination)).or_default();
            *sent = Direction {
                isn: Some(header.seq.get()),
                wscale,
                acked: None,
            };
        }
        let sent = self
            .directions
            .get(&(source, destination))
            .copied()
            .unwrap_or_default();
        let received = self
            .directions
            .get(&(destination, source))
            .copied()
            .unwrap_or_default();
        let relative = |value: u32, isn: Option<u32>| value.wrapping_sub(isn.unwrap_or(0));
        let seq = relative(header.seq.get(), sent.isn);
        let ack = (flags & TCP_ACK != 0).then(|| relative(header.ack_seq.get(), received.isn));
        // Windows are scaled only once both ends offered a scale, and never in a SYN.
        let shift = match (sent.wscale, received.wscale) {
            (Some(shift), Some(_)) if flags & TCP_SYN == 0 => shift,
            _ => 0,
        };
        let window = u32::from(header.window.get()) << shift;
        let probe = len == 0
            && flags & (TCP_SYN | TCP_FIN | TCP_RST) == 0
            && received
                .acked
                .is_some_and(|acked| seq.wrapping_add(1) == acked);
        if let Some(ack) = ack {
            let entry = self.directions.entry((source, destination)).or_default();
            entry.acked = Some(entry.acked.map_or(ack, |before| before.max(ack)));
        }
        TcpSegment {
            flags,
            seq,
            ack,
            window,
            len,
            mss,
            probe,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(flags: u8, len: usize) -> TcpSegment {
        TcpSegment {
            flags,
            seq: 0,
            ack: None,
            window: 0,
            len,
            mss: None,
            probe: false,
        }
    }

    #[test]
    fn names() {
        assert_eq!(segment(TCP_SYN, 0).name(), "SYN");
        assert_eq!(segment(TCP_SYN | TCP_ACK, 0).name(), "SYN-ACK");
        assert_eq!(segment(TCP_ACK, 0).name(), "ACK");
        assert_eq!(segment(TCP_ACK, 8192).name(), "ACK");
        assert_eq!(segment(TCP_ACK | TCP_PSH, 50).name(), "PSH");
        assert_eq!(segment(TCP_ACK | TCP_FIN, 0).name(), "FIN");
        assert_eq!(segment(TCP_ACK | TCP_RST, 0).name(), "RST");
    }
}
