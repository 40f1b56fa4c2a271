//! The headers of the packets the demo captures on loopback: IPv4 (RFC 791,
//! `include/uapi/linux/ip.h`), TCP (RFC 9293, `include/uapi/linux/tcp.h`) and UDP (RFC 768,
//! `include/uapi/linux/udp.h`).
//!
//! Written in the style of `wire`: a packed zerocopy struct for each header, byte order explicit
//! (everything on the wire is big-endian), and a typed view over one received packet that
//! borrows from the receive buffer. Only what the demo prints is decoded; the rest stays bytes.

use zerocopy::byteorder::{BigEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// `IPPROTO_*`: the protocol numbers of the IPv4 header.
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

/// TCP's flag bits, in the byte after the data offset.
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

/// `TCPOPT_*`: the TCP options the demo reads.
pub const TCPOPT_EOL: u8 = 0;
pub const TCPOPT_NOP: u8 = 1;
pub const TCPOPT_MSS: u8 = 2;
pub const TCPOPT_WINDOW: u8 = 3;

/// `struct iphdr`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct Ipv4Header {
    /// `version : 4, ihl : 4`: the version in the high nibble, the header length in 32-bit
    /// words in the low one.
    pub version_ihl: u8,
    pub tos: u8,
    pub tot_len: U16<BigEndian>,
    pub id: U16<BigEndian>,
    pub frag_off: U16<BigEndian>,
    pub ttl: u8,
    pub protocol: u8,
    pub check: U16<BigEndian>,
    pub saddr: [u8; 4],
    pub daddr: [u8; 4],
}

impl Ipv4Header {
    pub fn version(&self) -> u8 {
        self.version_ihl >> 4
    }

    /// The header's length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.version_ihl & 0x0f) * 4
    }
}

/// `struct tcphdr`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TcpHeader {
    pub source: U16<BigEndian>,
    pub dest: U16<BigEndian>,
    pub seq: U32<BigEndian>,
    pub ack_seq: U32<BigEndian>,
    /// `doff : 4, res1 : 4`: the data offset, in 32-bit words, in the high nibble.
    pub doff_res: u8,
    /// `TCP_FIN`, `TCP_SYN`, ... (and CWR, ECE, URG, which the demo does not name).
    pub flags: u8,
    pub window: U16<BigEndian>,
    pub check: U16<BigEndian>,
    pub urg_ptr: U16<BigEndian>,
}

impl TcpHeader {
    /// The header's length in bytes, options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.doff_res >> 4) * 4
    }
}

/// `struct udphdr`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct UdpHeader {
    pub source: U16<BigEndian>,
    pub dest: U16<BigEndian>,
    /// Header and payload.
    pub len: U16<BigEndian>,
    pub check: U16<BigEndian>,
}

/// What went wrong reading a packet: which header, and how many bytes there were.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SegmentError {
    #[error("an IPv4 header needs 20 bytes, the packet has {0}")]
    ShortIp(usize),
    #[error("not an IPv4 packet (version {0})")]
    NotIpv4(u8),
    #[error("the IPv4 header says it is {header} bytes long, in a packet of {len}")]
    BadIpLength { header: usize, len: usize },
    #[error("a TCP header needs {want} bytes, {have} follow the IPv4 header")]
    ShortTcp { want: usize, have: usize },
    #[error("a UDP header needs 8 bytes, {0} follow the IPv4 header")]
    ShortUdp(usize),
}

/// One IPv4 packet as captured. The capture may be cut short of the payload (the demo reads
/// only the headers); the payload's length comes from the headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    pub ip: &'a Ipv4Header,
    pub transport: Transport<'a>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp {
        header: &'a TcpHeader,
        /// The option bytes between the fixed header and the data.
        options: &'a [u8],
        payload_len: usize,
    },
    Udp {
        header: &'a UdpHeader,
        payload_len: usize,
    },
    /// Another protocol, by number.
    Other(u8),
}

impl<'a> Datagram<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Datagram<'a>, SegmentError> {
        let (ip, _) =
            Ipv4Header::ref_from_prefix(bytes).map_err(|_| SegmentError::ShortIp(bytes.len()))?;
        if ip.version() != 4 {
            return Err(SegmentError::NotIpv4(ip.version()));
        }
        let ip_len = ip.header_len();
        let total = usize::from(ip.tot_len.get());
        if ip_len < 20 || ip_len > bytes.len() || total < ip_len {
            return Err(SegmentError::BadIpLength {
                header: ip_len,
                len: bytes.len(),
            });
        }
        let rest = &bytes[ip_len..];
        let transport = match ip.protocol {
            IPPROTO_TCP => {
                let (header, _) =
                    TcpHeader::ref_from_prefix(rest).map_err(|_| SegmentError::ShortTcp {
                        want: 20,
                        have: rest.len(),
                    })?;
                let tcp_len = header.header_len();
                if tcp_len < 20 || tcp_len > rest.len() {
                    return Err(SegmentError::ShortTcp {
                        want: tcp_len.max(20),
                        have: rest.len(),
                    });
                }
                Transport::Tcp {
                    header,
                    options: &rest[20..tcp_len],
                    payload_len: total.saturating_sub(ip_len + tcp_len),
                }
            }
            IPPROTO_UDP => {
                let (header, _) = UdpHeader::ref_from_prefix(rest)
                    .map_err(|_| SegmentError::ShortUdp(rest.len()))?;
                Transport::Udp {
                    header,
                    payload_len: usize::from(header.len.get()).saturating_sub(8),
                }
            }
            other => Transport::Other(other),
        };
        Ok(Datagram { ip, transport })
    }
}

/// A TCP option the demo reads, or another one by kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    Mss(u16),
    WindowScale(u8),
    Other { kind: u8, value: &'a [u8] },
}

/// The options of a TCP header, in order; a malformed length ends the walk, as it ends the
/// kernel's.
pub fn tcp_options(mut bytes: &[u8]) -> impl Iterator<Item = TcpOption<'_>> {
    std::iter::from_fn(move || {
        loop {
            match *bytes {
                [] | [TCPOPT_EOL, ..] => return None,
                [TCPOPT_NOP, ref rest @ ..] => bytes = rest,
                [kind, len, ..] if usize::from(len) >= 2 && usize::from(len) <= bytes.len() => {
                    let value = &bytes[2..usize::from(len)];
                    bytes = &bytes[usize::from(len)..];
                    return Some(match (kind, value) {
                        (TCPOPT_MSS, &[high, low]) => {
                            TcpOption::Mss(u16::from_be_bytes([high, low]))
                        }
                        (TCPOPT_WINDOW, &[shift]) => TcpOption::WindowScale(shift),
                        _ => TcpOption::Other { kind, value },
                    });
                }
                _ => return None,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SYN captured on loopback (`connect` to 127.0.0.1:55000 from port 39842), as a packet
    /// socket of type SOCK_DGRAM hands it over: the IPv4 header, then TCP's with its options
    /// (MSS 65495, SACK permitted, timestamps, a NOP, window scale 7).
    const SYN: [u8; 60] = [
        0x45, 0x00, 0x00, 0x3c, 0x38, 0x6c, 0x40, 0x00, 0x40, 0x06, 0x04, 0x4e, 0x7f, 0x00, 0x00,
        0x01, 0x7f, 0x00, 0x00, 0x01, 0x9b, 0xa2, 0xd6, 0xd8, 0xcf, 0xac, 0x8a, 0x9a, 0x00, 0x00,
        0x00, 0x00, 0xa0, 0x02, 0x40, 0x00, 0xfe, 0x30, 0x00, 0x00, 0x02, 0x04, 0xff, 0xd7, 0x04,
        0x02, 0x08, 0x0a, 0x88, 0xf0, 0x4b, 0x34, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    #[test]
    fn a_captured_syn() {
        let packet = Datagram::parse(&SYN).unwrap();
        assert_eq!(packet.ip.saddr, [127, 0, 0, 1]);
        assert_eq!(packet.ip.tot_len.get(), 60);
        let Transport::Tcp {
            header,
            options,
            payload_len,
        } = packet.transport
        else {
            panic!("not TCP: {packet:?}");
        };
        assert_eq!(header.source.get(), 39842);
        assert_eq!(header.dest.get(), 55000);
        assert_eq!(header.seq.get(), 0xcfac_8a9a);
        assert_eq!(header.flags, TCP_SYN);
        assert_eq!(header.window.get(), 16384);
        assert_eq!(payload_len, 0);
        let read: Vec<_> = tcp_options(options).collect();
        assert_eq!(read[0], TcpOption::Mss(65495));
        assert_eq!(read[3], TcpOption::WindowScale(7));
        assert_eq!(read.len(), 4);
        // The views are the bytes: emitting them gives back what was captured.
        let mut emitted = packet.ip.as_bytes().to_vec();
        emitted.extend_from_slice(header.as_bytes());
        emitted.extend_from_slice(options);
        assert_eq!(emitted, SYN);
    }

    #[test]
    fn short_and_foreign_packets_are_errors() {
        assert_eq!(Datagram::parse(&SYN[..10]), Err(SegmentError::ShortIp(10)));
        let mut v6 = SYN;
        v6[0] = 0x60;
        assert_eq!(Datagram::parse(&v6), Err(SegmentError::NotIpv4(6)));
        assert!(matches!(
            Datagram::parse(&SYN[..30]),
            Err(SegmentError::ShortTcp { .. })
        ));
        // A TCP header whose data offset runs past the capture.
        let mut long = SYN;
        long[32] = 0xf0;
        assert!(matches!(
            Datagram::parse(&long),
            Err(SegmentError::ShortTcp { want: 60, .. })
        ));
    }

    #[test]
    fn options_stop_at_a_bad_length() {
        let read: Vec<_> = tcp_options(&[1, 1, 2, 4, 0x05, 0xb4, 3, 9, 7]).collect();
        assert_eq!(read, [TcpOption::Mss(1460)]);
        assert_eq!(tcp_options(&[0, 2, 4, 5, 180]).count(), 0);
    }
}
