//! inet_diag (`include/uapi/linux/inet_diag.h`): the request with its attributes, and a
//! zero-copy view of each reply.
//!
//! netlink-packet-sock-diag's `InetRequest` cannot carry request attributes (the bytecode
//! filter, the protocol for MPTCP) nor the raw-socket protocol byte, and its reply type copies
//! every attribute into owned values and drops the timer fields of TIME-WAIT sockets. These types
//! keep its style (a packed zerocopy struct per kernel struct, attributes as an enum with an
//! `Other` fallback) but borrow from the receive buffer.

use std::mem::size_of;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use netlink_packet_core::{DecodeError, Emitable};

use super::mptcp::UlpInfo;
use super::sock_diag::{Shutdown, SkMemInfo};
use super::tcp::{InetDiagSockopt, TcpBbrInfo, TcpDctcpInfo};
use super::{DiagMsg, u8_value, u32_value, u64_value, until_nul};
use zerocopy::byteorder::{BigEndian, NativeEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// `INET_DIAG_REQ_*`: request attributes.
pub const INET_DIAG_REQ_BYTECODE: u16 = 1;
pub const INET_DIAG_REQ_PROTOCOL: u16 = 3;

/// `INET_DIAG_*`: reply attributes (and, below 9, the extension bits of `idiag_ext`).
pub const INET_DIAG_MEMINFO: u16 = 1;
pub const INET_DIAG_INFO: u16 = 2;
pub const INET_DIAG_VEGASINFO: u16 = 3;
pub const INET_DIAG_CONG: u16 = 4;
pub const INET_DIAG_TOS: u16 = 5;
pub const INET_DIAG_TCLASS: u16 = 6;
pub const INET_DIAG_SKMEMINFO: u16 = 7;
pub const INET_DIAG_SHUTDOWN: u16 = 8;
pub const INET_DIAG_DCTCPINFO: u16 = 9;
pub const INET_DIAG_PROTOCOL: u16 = 10;
pub const INET_DIAG_SKV6ONLY: u16 = 11;
pub const INET_DIAG_MARK: u16 = 15;
pub const INET_DIAG_BBRINFO: u16 = 16;
pub const INET_DIAG_CLASS_ID: u16 = 17;
pub const INET_DIAG_MD5SIG: u16 = 18;
pub const INET_DIAG_ULP_INFO: u16 = 19;

/// MPTCP's protocol number, too large for the request header's protocol byte.
pub const IPPROTO_MPTCP: u32 = 262;
pub const INET_DIAG_CGROUP_ID: u16 = 21;
pub const INET_DIAG_SOCKOPT: u16 = 22;

/// `struct inet_diag_sockid`. Ports and addresses are in network byte order, the interface and
/// cookie in host order.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
#[repr(C)]
pub struct InetDiagSockId {
    pub sport: U16<BigEndian>,
    pub dport: U16<BigEndian>,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub ifindex: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl InetDiagSockId {
    /// The 64-bit cookie, as ss prints it (`sk:`): the second word is the high half.
    pub fn cookie(&self) -> u64 {
        u64::from(self.cookie[1].get()) << 32 | u64::from(self.cookie[0].get())
    }

    /// The id of the socket with these ends, for a request that names one socket. An IPv4
    /// address takes the first four bytes of its field.
    pub fn new(
        local: SocketAddr,
        peer: SocketAddr,
        ifindex: u32,
        cookie: Option<u64>,
    ) -> InetDiagSockId {
        let raw = |ip: IpAddr| {
            let mut field = [0u8; 16];
            match ip {
                IpAddr::V4(v4) => field[..4].copy_from_slice(&v4.octets()),
                IpAddr::V6(v6) => field = v6.octets(),
            }
            field
        };
        // INET_DIAG_NOCOOKIE: any socket with these ends.
        let cookie = cookie.unwrap_or(u64::MAX);
        InetDiagSockId {
            sport: U16::new(local.port()),
            dport: U16::new(peer.port()),
            src: raw(local.ip()),
            dst: raw(peer.ip()),
            ifindex: U32::new(ifindex),
            cookie: [U32::new(cookie as u32), U32::new((cookie >> 32) as u32)],
        }
    }

    pub fn source(&self, family: u8) -> IpAddr {
        address(family, &self.src)
    }

    pub fn destination(&self, family: u8) -> IpAddr {
        address(family, &self.dst)
    }
}

fn address(family: u8, raw: &[u8; 16]) -> IpAddr {
    if i32::from(family) == libc::AF_INET6 {
        IpAddr::V6(Ipv6Addr::from(*raw))
    } else {
        IpAddr::V4(Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]))
    }
}

/// `struct inet_diag_req_v2` (the same layout as `struct inet_diag_req_raw`, whose fourth byte
/// selects the protocol of raw sockets).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagReqV2 {
    pub family: u8,
    pub protocol: u8,
    pub extensions: u8,
    pub raw_protocol: u8,
    pub states: U32<NativeEndian>,
    pub id: InetDiagSockId,
}

/// `TCPDIAG_GETSOCK`: the request type of the older inet_diag interface, TCP only, which the
/// kernel answers with the sockets of both IP versions in one walk of its tables.
pub const TCPDIAG_GETSOCK: u16 = 18;

/// `struct inet_diag_req`, the older interface's request header: no protocol byte (the
/// message type says TCP), and a family the kernel ignores.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagReqV1 {
    pub family: u8,
    pub src_len: u8,
    pub dst_len: u8,
    pub extensions: u8,
    pub id: InetDiagSockId,
    pub states: U32<NativeEndian>,
    pub dbs: U32<NativeEndian>,
}

/// A dump request for one family and protocol, with its optional attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InetDiagRequest<'a> {
    pub header: InetDiagReqV2,
    /// A compiled `INET_DIAG_REQ_BYTECODE` filter program.
    pub bytecode: Option<&'a [u8]>,
    /// `INET_DIAG_REQ_PROTOCOL`, for protocols that do not fit the header's byte (MPTCP).
    pub protocol: Option<u32>,
    /// Sent as a `TCPDIAG_GETSOCK` request ([`InetDiagReqV1`], both IP versions at once)
    /// rather than a `SOCK_DIAG_BY_FAMILY` one.
    pub compat: bool,
}

impl<'a> InetDiagRequest<'a> {
    pub fn dump(family: u8, protocol: u8, states: u32, extensions: u8) -> InetDiagRequest<'a> {
        InetDiagRequest {
            header: InetDiagReqV2 {
                family,
                protocol,
                extensions,
                raw_protocol: 0,
                states: U32::new(states),
                id: InetDiagSockId::default(),
            },
            bytecode: None,
            protocol: None,
            compat: false,
        }
    }

    fn header_len(&self) -> usize {
        if self.compat {
            size_of::<InetDiagReqV1>()
        } else {
            size_of::<InetDiagReqV2>()
        }
    }
}

impl Emitable for InetDiagRequest<'_> {
    fn buffer_len(&self) -> usize {
        self.header_len()
            + self.bytecode.map_or(0, |code| nla_len(code.len()))
            + self.protocol.map_or(0, |_| nla_len(4))
    }

    fn emit(&self, buffer: &mut [u8]) {
        let header_len = self.header_len();
        if self.compat {
            let header = InetDiagReqV1 {
                family: self.header.family,
                src_len: 0,
                dst_len: 0,
                extensions: self.header.extensions,
                id: self.header.id,
                states: self.header.states,
                dbs: U32::new(0),
            };
            buffer[..header_len].copy_from_slice(header.as_bytes());
        } else {
            buffer[..header_len].copy_from_slice(self.header.as_bytes());
        }
        let mut at = header_len;
        if let Some(code) = self.bytecode {
            at += emit_nla(&mut buffer[at..], INET_DIAG_REQ_BYTECODE, code);
        }
        if let Some(protocol) = self.protocol {
            emit_nla(
                &mut buffer[at..],
                INET_DIAG_REQ_PROTOCOL,
                &protocol.to_ne_bytes(),
            );
        }
    }
}

const fn nla_len(value_len: usize) -> usize {
    super::netlink::align(4 + value_len)
}

/// Writes one attribute (header, value, zero padding) and returns the bytes it took.
fn emit_nla(buffer: &mut [u8], kind: u16, value: &[u8]) -> usize {
    let len = 4 + value.len();
    buffer[0..2].copy_from_slice(&(len as u16).to_ne_bytes());
    buffer[2..4].copy_from_slice(&kind.to_ne_bytes());
    buffer[4..len].copy_from_slice(value);
    let padded = nla_len(value.len());
    buffer[len..padded].fill(0);
    padded
}

/// `struct inet_diag_msg`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagMsgHeader {
    pub family: u8,
    pub state: u8,
    pub timer: u8,
    pub retrans: u8,
    pub id: InetDiagSockId,
    pub expires: U32<NativeEndian>,
    pub rqueue: U32<NativeEndian>,
    pub wqueue: U32<NativeEndian>,
    pub uid: U32<NativeEndian>,
    pub inode: U32<NativeEndian>,
}

/// One reply of a dump, viewed in place.
pub type InetDiagMsg<'a> = DiagMsg<'a, InetDiagMsgHeader>;

impl<'a> InetDiagMsg<'a> {
    pub fn attributes(&self) -> impl Iterator<Item = Result<InetDiagAttr<'a>, DecodeError>> + 'a {
        self.raw_attributes()
            .map(|attribute| attribute.and_then(|(kind, value)| InetDiagAttr::parse(kind, value)))
    }
}

/// A reply attribute, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InetDiagAttr<'a> {
    /// `struct inet_diag_meminfo`.
    MemInfo(&'a [u8]),
    /// `struct tcp_info`, as long as this kernel makes it.
    Info(&'a [u8]),
    VegasInfo(&'a [u8]),
    /// The congestion control algorithm's name.
    Cong(&'a [u8]),
    Tos(u8),
    TClass(u8),
    SkMemInfo(SkMemInfo),
    Shutdown(Shutdown),
    DctcpInfo(TcpDctcpInfo),
    Protocol(u8),
    V6Only(bool),
    Mark(u32),
    BbrInfo(TcpBbrInfo),
    ClassId(u32),
    /// A malformed nest is left as `Other`, shown as nothing, as ss shows it.
    UlpInfo(UlpInfo<'a>),
    /// The socket's TCP-MD5 keys (sent to `CAP_NET_ADMIN` only).
    Md5Sig(Md5Keys<'a>),
    CgroupId(u64),
    SockOpt(InetDiagSockopt),
    Other {
        kind: u16,
        value: &'a [u8],
    },
}

impl<'a> InetDiagAttr<'a> {
    pub fn parse(kind: u16, value: &'a [u8]) -> Result<InetDiagAttr<'a>, DecodeError> {
        Ok(match kind {
            INET_DIAG_MEMINFO => InetDiagAttr::MemInfo(value),
            INET_DIAG_INFO => InetDiagAttr::Info(value),
            INET_DIAG_VEGASINFO => InetDiagAttr::VegasInfo(value),
            INET_DIAG_CONG => InetDiagAttr::Cong(until_nul(value)),
            INET_DIAG_TOS => InetDiagAttr::Tos(u8_value(kind, value)?),
            INET_DIAG_TCLASS => InetDiagAttr::TClass(u8_value(kind, value)?),
            INET_DIAG_SKMEMINFO => InetDiagAttr::SkMemInfo(SkMemInfo::parse(value)?),
            INET_DIAG_SHUTDOWN => InetDiagAttr::Shutdown(Shutdown::parse(value)?),
            INET_DIAG_DCTCPINFO => InetDiagAttr::DctcpInfo(TcpDctcpInfo::read(value)),
            INET_DIAG_PROTOCOL => InetDiagAttr::Protocol(u8_value(kind, value)?),
            INET_DIAG_SKV6ONLY => InetDiagAttr::V6Only(u8_value(kind, value)? != 0),
            INET_DIAG_MARK => InetDiagAttr::Mark(u32_value(kind, value)?),
            INET_DIAG_BBRINFO => InetDiagAttr::BbrInfo(TcpBbrInfo::read(value)),
            INET_DIAG_CLASS_ID => InetDiagAttr::ClassId(u32_value(kind, value)?),
            INET_DIAG_ULP_INFO => match UlpInfo::parse(value) {
                Ok(ulp) => InetDiagAttr::UlpInfo(ulp),
                Err(_) => InetDiagAttr::Other { kind, value },
            },
            INET_DIAG_CGROUP_ID => InetDiagAttr::CgroupId(u64_value(kind, value)?),
            INET_DIAG_MD5SIG => InetDiagAttr::Md5Sig(Md5Keys::parse(value)?),
            INET_DIAG_SOCKOPT => InetDiagAttr::SockOpt(InetDiagSockopt::parse(value)?),
            _ => InetDiagAttr::Other { kind, value },
        })
    }
}

impl netlink_packet_core::Nla for InetDiagAttr<'_> {
    fn value_len(&self) -> usize {
        match self {
            InetDiagAttr::MemInfo(v) | InetDiagAttr::Info(v) | InetDiagAttr::VegasInfo(v) => {
                v.len()
            }
            InetDiagAttr::Other { value: v, .. } => v.len(),
            InetDiagAttr::Md5Sig(keys) => keys.bytes.len(),
            InetDiagAttr::SockOpt(_) => 2,
            // nla_put_string: the name and its NUL.
            InetDiagAttr::Cong(name) => name.len() + 1,
            InetDiagAttr::Tos(_)
            | InetDiagAttr::TClass(_)
            | InetDiagAttr::Shutdown(_)
            | InetDiagAttr::Protocol(_)
            | InetDiagAttr::V6Only(_) => 1,
            InetDiagAttr::SkMemInfo(mem) => mem.buffer_len(),
            InetDiagAttr::DctcpInfo(_) => size_of::<TcpDctcpInfo>(),
            InetDiagAttr::BbrInfo(_) => size_of::<TcpBbrInfo>(),
            InetDiagAttr::Mark(_) | InetDiagAttr::ClassId(_) => 4,
            InetDiagAttr::CgroupId(_) => 8,
            InetDiagAttr::UlpInfo(ulp) => ulp.buffer_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            InetDiagAttr::MemInfo(_) => INET_DIAG_MEMINFO,
            InetDiagAttr::Info(_) => INET_DIAG_INFO,
            InetDiagAttr::VegasInfo(_) => INET_DIAG_VEGASINFO,
            InetDiagAttr::Cong(_) => INET_DIAG_CONG,
            InetDiagAttr::Tos(_) => INET_DIAG_TOS,
            InetDiagAttr::TClass(_) => INET_DIAG_TCLASS,
            InetDiagAttr::SkMemInfo(_) => INET_DIAG_SKMEMINFO,
            InetDiagAttr::Shutdown(_) => INET_DIAG_SHUTDOWN,
            InetDiagAttr::DctcpInfo(_) => INET_DIAG_DCTCPINFO,
            InetDiagAttr::Protocol(_) => INET_DIAG_PROTOCOL,
            InetDiagAttr::V6Only(_) => INET_DIAG_SKV6ONLY,
            InetDiagAttr::Mark(_) => INET_DIAG_MARK,
            InetDiagAttr::BbrInfo(_) => INET_DIAG_BBRINFO,
            InetDiagAttr::ClassId(_) => INET_DIAG_CLASS_ID,
            InetDiagAttr::UlpInfo(_) => INET_DIAG_ULP_INFO,
            InetDiagAttr::Md5Sig(_) => INET_DIAG_MD5SIG,
            InetDiagAttr::CgroupId(_) => INET_DIAG_CGROUP_ID,
            InetDiagAttr::SockOpt(_) => INET_DIAG_SOCKOPT,
            InetDiagAttr::Other { kind, .. } => *kind,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            InetDiagAttr::MemInfo(v)
            | InetDiagAttr::Info(v)
            | InetDiagAttr::VegasInfo(v)
            | InetDiagAttr::Other { value: v, .. } => buffer[..v.len()].copy_from_slice(v),
            InetDiagAttr::Md5Sig(keys) => buffer[..keys.bytes.len()].copy_from_slice(keys.bytes),
            InetDiagAttr::Cong(name) => {
                buffer[..name.len()].copy_from_slice(name);
                buffer[name.len()] = 0;
            }
            InetDiagAttr::Tos(v) | InetDiagAttr::TClass(v) | InetDiagAttr::Protocol(v) => {
                buffer[0] = *v
            }
            InetDiagAttr::V6Only(v) => buffer[0] = u8::from(*v),
            InetDiagAttr::Shutdown(shutdown) => shutdown.emit(buffer),
            InetDiagAttr::SkMemInfo(mem) => mem.emit(buffer),
            InetDiagAttr::DctcpInfo(info) => buffer[..size_of::<TcpDctcpInfo>()]
                .copy_from_slice(zerocopy::IntoBytes::as_bytes(info)),
            InetDiagAttr::BbrInfo(info) => buffer[..size_of::<TcpBbrInfo>()]
                .copy_from_slice(zerocopy::IntoBytes::as_bytes(info)),
            InetDiagAttr::Mark(v) | InetDiagAttr::ClassId(v) => {
                buffer[..4].copy_from_slice(&v.to_ne_bytes())
            }
            InetDiagAttr::CgroupId(v) => buffer[..8].copy_from_slice(&v.to_ne_bytes()),
            InetDiagAttr::UlpInfo(ulp) => ulp.emit(buffer),
            InetDiagAttr::SockOpt(sockopt) => sockopt.emit(buffer),
        }
    }
}

/// `struct tcp_diag_md5sig` (`include/uapi/linux/tcp.h`): one TCP-MD5 key of a socket.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TcpDiagMd5Sig {
    pub family: u8,
    pub prefixlen: u8,
    pub keylen: U16<NativeEndian>,
    pub addr: [u8; 16],
    pub key: [u8; TCP_MD5SIG_MAXKEYLEN],
}

/// `TCP_MD5SIG_MAXKEYLEN`.
pub const TCP_MD5SIG_MAXKEYLEN: usize = 80;

/// `INET_DIAG_MD5SIG`: the socket's keys, an array of [`TcpDiagMd5Sig`]. Only the peers they
/// are for are read out of it ([`Md5Keys::peers`]): the keys themselves are secrets, which
/// sockscope never shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Md5Keys<'a> {
    bytes: &'a [u8],
}

impl<'a> Md5Keys<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Md5Keys<'a>, DecodeError> {
        if bytes.len() % size_of::<TcpDiagMd5Sig>() != 0 {
            return Err(DecodeError::from(format!(
                "INET_DIAG_MD5SIG: {} bytes, not a whole number of tcp_diag_md5sig",
                bytes.len()
            )));
        }
        Ok(Md5Keys { bytes })
    }

    /// The bytes as the kernel sent them, for a copy that outlives the message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The address and prefix length each key is for, in the kernel's order.
    pub fn peers(&self) -> impl Iterator<Item = (IpAddr, u8)> + 'a {
        self.bytes
            .chunks_exact(size_of::<TcpDiagMd5Sig>())
            .filter_map(|chunk| TcpDiagMd5Sig::ref_from_bytes(chunk).ok())
            .map(|sig| {
                let ip = if sig.family == libc::AF_INET as u8 {
                    IpAddr::V4(Ipv4Addr::new(
                        sig.addr[0],
                        sig.addr[1],
                        sig.addr[2],
                        sig.addr[3],
                    ))
                } else {
                    IpAddr::V6(Ipv6Addr::from(sig.addr))
                };
                (ip, sig.prefixlen)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_keys_give_their_peers_only() {
        let mut bytes = vec![0u8; 200];
        bytes[0] = libc::AF_INET as u8;
        bytes[1] = 16;
        bytes[4..8].copy_from_slice(&[10, 1, 0, 0]);
        bytes[20..22].copy_from_slice(b"k2");
        bytes[100] = libc::AF_INET6 as u8;
        bytes[101] = 128;
        bytes[104..120].copy_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
        let keys = Md5Keys::parse(&bytes).unwrap();
        let peers: Vec<_> = keys.peers().collect();
        assert_eq!(
            peers,
            [
                ("10.1.0.0".parse().unwrap(), 16),
                ("2001:db8::1".parse().unwrap(), 128)
            ]
        );
        assert!(Md5Keys::parse(&bytes[..150]).is_err());
        let attr = InetDiagAttr::parse(INET_DIAG_MD5SIG, &bytes).unwrap();
        let mut emitted = vec![0; attr.buffer_len()];
        attr.emit(&mut emitted);
        assert_eq!(
            InetDiagAttr::parse(INET_DIAG_MD5SIG, &emitted[4..]).unwrap(),
            attr
        );
    }

    /// What ss 6.1 sends for `ss -tan` (seen with strace), after the netlink header.
    const SS_TAN_IPV4: [u8; 56] = {
        let mut bytes = [0; 56];
        bytes[0] = 2; // AF_INET
        bytes[1] = 6; // IPPROTO_TCP
        bytes[4] = 0xff; // every state
        bytes[5] = 0x0f;
        bytes
    };

    #[test]
    fn a_dump_request_is_what_ss_sends() {
        let request = InetDiagRequest::dump(2, 6, 0xfff, 0);
        assert_eq!(request.buffer_len(), SS_TAN_IPV4.len());
        let mut bytes = [0xaa; 56];
        request.emit(&mut bytes);
        assert_eq!(bytes, SS_TAN_IPV4);
        let parsed = InetDiagReqV2::ref_from_bytes(&bytes).unwrap();
        assert_eq!(*parsed, request.header);
    }

    #[test]
    fn compat_requests_have_the_older_header() {
        let request = InetDiagRequest {
            compat: true,
            bytecode: Some(&[1, 2, 3, 4]),
            ..InetDiagRequest::dump(0, 6, 0xfff, 2)
        };
        assert_eq!(size_of::<InetDiagReqV1>(), 60);
        assert_eq!(request.buffer_len(), 60 + 8);
        let mut bytes = vec![0xaa; request.buffer_len()];
        request.emit(&mut bytes);
        assert_eq!(&bytes[..4], &[0, 0, 0, 2]);
        assert_eq!(&bytes[52..60], &[0xff, 0x0f, 0, 0, 0, 0, 0, 0]);
        assert_eq!(&bytes[60..68], &[8, 0, 1, 0, 1, 2, 3, 4]);
    }

    #[test]
    fn ids_name_one_socket() {
        let local: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let peer: SocketAddr = "127.0.0.2:41000".parse().unwrap();
        let id = InetDiagSockId::new(local, peer, 3, Some(0x1_0000_0002));
        assert_eq!(id.as_bytes()[..4], [0x1b, 0x58, 0xa0, 0x28]);
        assert_eq!(id.source(libc::AF_INET as u8), local.ip());
        assert_eq!(id.destination(libc::AF_INET as u8), peer.ip());
        assert_eq!(id.cookie(), 0x1_0000_0002);
        assert_eq!(id.ifindex.get(), 3);
        let v6: SocketAddr = "[::1]:22".parse().unwrap();
        let id = InetDiagSockId::new(v6, v6, 0, None);
        assert_eq!(id.source(libc::AF_INET6 as u8), v6.ip());
        assert_eq!(id.cookie(), u64::MAX);
    }

    #[test]
    fn attributes_follow_the_header_aligned() {
        let code = [1, 2, 3, 4, 5, 6];
        let request = InetDiagRequest {
            bytecode: Some(&code),
            protocol: Some(IPPROTO_MPTCP),
            ..InetDiagRequest::dump(10, 6, 2, 0)
        };
        assert_eq!(request.buffer_len(), 56 + 12 + 8);
        let mut bytes = vec![0xaa; request.buffer_len()];
        request.emit(&mut bytes);
        assert_eq!(&bytes[56..68], &[10, 0, 1, 0, 1, 2, 3, 4, 5, 6, 0, 0]);
        assert_eq!(&bytes[68..76], &[8, 0, 3, 0, 6, 1, 0, 0]);
    }
}
