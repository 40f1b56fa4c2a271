//! The socket model: what the kernel reported about one socket, as plain data.
//!
//! Nothing here formats, filters or talks to the kernel. A [`Socket`] borrows its
//! variable-length parts (a unix path, ...) from the buffer it was decoded from, so a dump of
//! half a million sockets is decoded without one allocation per socket. The words are those of
//! `ss(8)` and the kernel's uapi headers.

use std::net::{IpAddr, SocketAddr};

use crate::wire::Extensible;
use crate::wire::inet::Md5Keys;
use crate::wire::mptcp::{MptcpInfo, UlpInfo};
use crate::wire::netlink_diag::NetlinkGroups;
use crate::wire::packet::{Fanout, SockFilterProgram};
pub use crate::wire::sock_diag::{Shutdown, SkMemInfo as SkMem};
use crate::wire::tcp::{InetDiagSockopt, TcpBbrInfo, TcpDctcpInfo, TcpInfo};
use crate::wire::unix::{UnixDiagIcons, UnixDiagVfs};

/// A set of `$item`s as the bits of a `u32`, bit N for the item numbered N, iterated in the
/// order of `$item::ALL`: one definition for the sets of tables, families and states, so that
/// they cannot drift apart.
macro_rules! bitset {
    ($(#[$meta:meta])* $set:ident of $item:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct $set(u32);

        impl $set {
            pub const EMPTY: $set = $set(0);

            const fn bit(item: $item) -> u32 {
                1 << item as u32
            }

            pub const fn single(item: $item) -> $set {
                $set($set::bit(item))
            }

            pub const fn with(self, item: $item) -> $set {
                $set(self.0 | $set::bit(item))
            }

            pub const fn without(self, item: $item) -> $set {
                $set(self.0 & !$set::bit(item))
            }

            pub const fn contains(self, item: $item) -> bool {
                self.0 & $set::bit(item) != 0
            }

            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }

            pub const fn len(self) -> u32 {
                self.0.count_ones()
            }

            pub const fn union(self, other: $set) -> $set {
                $set(self.0 | other.0)
            }

            pub const fn intersects(self, other: $set) -> bool {
                self.0 & other.0 != 0
            }

            pub const fn intersection(self, other: $set) -> $set {
                $set(self.0 & other.0)
            }

            pub fn iter(self) -> impl Iterator<Item = $item> {
                $item::ALL.into_iter().filter(move |&item| self.contains(item))
            }
        }

        impl FromIterator<$item> for $set {
            fn from_iter<I: IntoIterator<Item = $item>>(iter: I) -> Self {
                iter.into_iter().fold($set::EMPTY, $set::with)
            }
        }
    };
}

/// A socket table, named as ss names it in its Netid column (ss calls these "dbs").
///
/// The declaration order is the order in which ss prints the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Netid {
    Netlink,
    PacketRaw,
    PacketDgram,
    UnixStream,
    UnixDgram,
    UnixSeqpacket,
    Raw,
    Udp,
    Tcp,
    Mptcp,
    Dccp,
    Sctp,
    VsockStream,
    VsockDgram,
    Tipc,
    Xdp,
}

impl Netid {
    pub const ALL: [Netid; 16] = [
        Netid::Netlink,
        Netid::PacketRaw,
        Netid::PacketDgram,
        Netid::UnixStream,
        Netid::UnixDgram,
        Netid::UnixSeqpacket,
        Netid::Raw,
        Netid::Udp,
        Netid::Tcp,
        Netid::Mptcp,
        Netid::Dccp,
        Netid::Sctp,
        Netid::VsockStream,
        Netid::VsockDgram,
        Netid::Tipc,
        Netid::Xdp,
    ];

    /// The name in ss's Netid column.
    pub const fn name(self) -> &'static str {
        match self {
            Netid::Netlink => "nl",
            Netid::PacketRaw => "p_raw",
            Netid::PacketDgram => "p_dgr",
            Netid::UnixStream => "u_str",
            Netid::UnixDgram => "u_dgr",
            Netid::UnixSeqpacket => "u_seq",
            Netid::Raw => "raw",
            Netid::Udp => "udp",
            Netid::Tcp => "tcp",
            Netid::Mptcp => "mptcp",
            Netid::Dccp => "dccp",
            Netid::Sctp => "sctp",
            Netid::VsockStream => "v_str",
            Netid::VsockDgram => "v_dgr",
            Netid::Tipc => "tipc",
            Netid::Xdp => "xdp",
        }
    }

    /// The address families whose sockets live in this table.
    pub const fn families(self) -> FamilySet {
        match self {
            Netid::Netlink => FamilySet::single(Family::Netlink),
            Netid::PacketRaw | Netid::PacketDgram => FamilySet::single(Family::Packet),
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => {
                FamilySet::single(Family::Unix)
            }
            Netid::Raw | Netid::Udp | Netid::Tcp | Netid::Mptcp | Netid::Dccp | Netid::Sctp => {
                FamilySet::single(Family::Inet).with(Family::Inet6)
            }
            Netid::VsockStream | Netid::VsockDgram => FamilySet::single(Family::Vsock),
            Netid::Tipc => FamilySet::single(Family::Tipc),
            Netid::Xdp => FamilySet::single(Family::Xdp),
        }
    }

    /// The IP protocol of an inet table, as /etc/services and inet_diag know it.
    pub const fn ip_protocol(self) -> Option<u8> {
        match self {
            Netid::Tcp | Netid::Mptcp => Some(libc::IPPROTO_TCP as u8),
            Netid::Udp => Some(libc::IPPROTO_UDP as u8),
            Netid::Raw => Some(libc::IPPROTO_RAW as u8),
            Netid::Dccp => Some(libc::IPPROTO_DCCP as u8),
            Netid::Sctp => Some(libc::IPPROTO_SCTP as u8),
            _ => None,
        }
    }
}

bitset! {
    /// A set of tables, iterated in the order ss prints them.
    NetidSet of Netid
}

impl NetidSet {
    pub fn all() -> NetidSet {
        Netid::ALL.into_iter().collect()
    }
}

/// An address family, as `-f` names them (`link` is AF_PACKET).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Unix,
    Inet,
    Inet6,
    Packet,
    Netlink,
    Vsock,
    Tipc,
    Xdp,
}

impl Family {
    pub const ALL: [Family; 8] = [
        Family::Unix,
        Family::Inet,
        Family::Inet6,
        Family::Packet,
        Family::Netlink,
        Family::Vsock,
        Family::Tipc,
        Family::Xdp,
    ];

    /// The name `-f` knows the family by (AF_PACKET is `link`).
    pub const fn name(self) -> &'static str {
        match self {
            Family::Unix => "unix",
            Family::Inet => "inet",
            Family::Inet6 => "inet6",
            Family::Packet => "link",
            Family::Netlink => "netlink",
            Family::Vsock => "vsock",
            Family::Tipc => "tipc",
            Family::Xdp => "xdp",
        }
    }

    /// The tables that hold sockets of this family.
    pub fn tables(self) -> NetidSet {
        Netid::ALL
            .into_iter()
            .filter(|n| n.families().contains(self))
            .collect()
    }
}

bitset! {
    /// A set of address families.
    FamilySet of Family
}

/// A socket state, numbered as the kernel numbers TCP states (`include/net/tcp_states.h`).
///
/// Every table reports its sockets in these terms: an unconnected UDP or unix datagram socket
/// is `Close` (ss prints `UNCONN`), a connected one `Established`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    Unknown = 0,
    Established = 1,
    SynSent = 2,
    SynRecv = 3,
    FinWait1 = 4,
    FinWait2 = 5,
    TimeWait = 6,
    Close = 7,
    CloseWait = 8,
    LastAck = 9,
    Listen = 10,
    Closing = 11,
    NewSynRecv = 12,
    BoundInactive = 13,
}

impl TcpState {
    pub const ALL: [TcpState; 14] = [
        TcpState::Unknown,
        TcpState::Established,
        TcpState::SynSent,
        TcpState::SynRecv,
        TcpState::FinWait1,
        TcpState::FinWait2,
        TcpState::TimeWait,
        TcpState::Close,
        TcpState::CloseWait,
        TcpState::LastAck,
        TcpState::Listen,
        TcpState::Closing,
        TcpState::NewSynRecv,
        TcpState::BoundInactive,
    ];

    /// The state for a kernel state number; numbers the kernel may add later are `Unknown`.
    pub fn from_kernel(value: u8) -> TcpState {
        TcpState::ALL
            .get(usize::from(value))
            .copied()
            .unwrap_or(TcpState::Unknown)
    }

    /// The name in ss's State column.
    pub const fn name(self) -> &'static str {
        match self {
            TcpState::Unknown => "UNKNOWN",
            TcpState::Established => "ESTAB",
            TcpState::SynSent => "SYN-SENT",
            TcpState::SynRecv => "SYN-RECV",
            TcpState::FinWait1 => "FIN-WAIT-1",
            TcpState::FinWait2 => "FIN-WAIT-2",
            TcpState::TimeWait => "TIME-WAIT",
            TcpState::Close => "UNCONN",
            TcpState::CloseWait => "CLOSE-WAIT",
            TcpState::LastAck => "LAST-ACK",
            TcpState::Listen => "LISTEN",
            TcpState::Closing => "CLOSING",
            TcpState::NewSynRecv => "NEW-SYN-RECV",
            TcpState::BoundInactive => "BOUND-INACTIVE",
        }
    }
}

bitset! {
    /// A set of states, laid out as the kernel's `idiag_states` mask (bit N is state N).
    StateSet of TcpState
}

impl StateSet {
    /// Every state a socket can be listed in without asking for bound-inactive sockets, which
    /// the kernel only reports when asked by name. Bit 0 is set, as ss sets it.
    pub const ALL: StateSet = StateSet((1 << 12) - 1);

    /// ss's "connected": everything but listening and closed.
    pub const CONNECTED: StateSet = StateSet::ALL
        .without(TcpState::Listen)
        .without(TcpState::Close);

    /// What ss lists when no state is asked for: the connected states without the kernel's
    /// minisockets (SYN-RECV and TIME-WAIT), which are bookkeeping rather than connections an
    /// application holds.
    pub const DEFAULT: StateSet = StateSet::CONNECTED
        .without(TcpState::SynRecv)
        .without(TcpState::TimeWait);

    pub const fn from_bits(bits: u32) -> StateSet {
        StateSet(bits)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }
}

/// One socket. Plain data: the renderers decide how it looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Socket<'a> {
    pub netid: Netid,
    pub state: TcpState,
    /// For a listener: connections waiting to be accepted. Otherwise: bytes not yet read by
    /// the application (or, for unix sockets, what the kernel counts as queued).
    pub recv_q: u32,
    /// For a listener: the backlog. Otherwise: bytes not yet acknowledged by the peer (TCP) or
    /// still queued for sending.
    pub send_q: u32,
    pub inode: u64,
    pub uid: Option<u32>,
    /// The kernel's socket cookie: unique while the socket lives, never reused.
    pub cookie: Option<u64>,
    /// The firewall mark (`SO_MARK`); the kernel reports it to CAP_NET_ADMIN only.
    pub mark: Option<u32>,
    /// The id of the socket's cgroup v2.
    pub cgroup_id: Option<u64>,
    pub endpoints: Endpoints<'a>,
    /// What the kernel adds when asked (timers, memory, tcp_info, ...).
    pub details: Details<'a>,
}

/// Extra information about a socket, present when the kernel reported it, decoded: the
/// variable-length parts are `wire`'s typed views, borrowing the kernel's bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Details<'a> {
    pub timer: Option<Timer>,
    pub shutdown: Option<Shutdown>,
    pub skmem: Option<SkMem>,
    /// The older `inet_diag_meminfo`: receive queue, write queue, forward alloc, total
    /// write memory, from kernels without SK_MEMINFO.
    pub meminfo: Option<[u32; 4]>,
    /// `struct tcp_info`, as long as this kernel makes it.
    pub tcp_info: Option<Extensible<'a, TcpInfo>>,
    /// The congestion control algorithm's name.
    pub congestion: Option<&'a [u8]>,
    /// `struct tcp_bbr_info`, `struct tcp_dctcp_info`.
    pub bbr: Option<TcpBbrInfo>,
    pub dctcp: Option<TcpDctcpInfo>,
    pub tos: Option<u8>,
    pub tclass: Option<u8>,
    /// The net_cls class id, or the SO_PRIORITY when there is none.
    pub class_id: Option<u32>,
    pub sockopt: Option<InetDiagSockopt>,
    /// A unix socket's filesystem inode and device.
    pub vfs: Option<UnixDiagVfs>,
    /// A unix listener's waiting connections, by inode.
    pub pending: Option<UnixDiagIcons<'a>>,
    /// `struct mptcp_info`, as long as this kernel makes it.
    pub mptcp_info: Option<Extensible<'a, MptcpInfo>>,
    /// `INET_DIAG_ULP_INFO`: the upper layer protocol of a TCP socket (an MPTCP subflow, kTLS).
    pub ulp: Option<UlpInfo<'a>>,
    /// `INET_DIAG_MD5SIG`: the peers of a TCP socket's MD5 keys.
    pub md5keys: Option<Md5Keys<'a>>,
    /// A packet socket's `packet_diag` attributes.
    pub packet: PacketDetails<'a>,
    /// The multicast groups a netlink socket joined.
    pub groups: Option<NetlinkGroups<'a>>,
    /// The kernel's address of the socket as `/proc/net/netlink` shows it (hashed), which ss
    /// prints for netlink sockets read from there.
    pub kernel_address: Option<u64>,
}

/// What packet_diag tells about a packet socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketDetails<'a> {
    /// The ring version (`TPACKET_V1` is 0), the copy threshold and the `PDI_*` flags.
    pub info: Option<PacketInfo>,
    pub rx_ring: Option<PacketRing>,
    pub tx_ring: Option<PacketRing>,
    pub fanout: Option<Fanout>,
    /// The attached classic BPF program.
    pub filter: Option<SockFilterProgram<'a>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketInfo {
    pub version: u32,
    pub copy_thresh: u32,
    pub flags: u32,
}

/// A `PACKET_RX_RING`/`PACKET_TX_RING` configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketRing {
    pub block_size: u32,
    pub block_nr: u32,
    pub frame_size: u32,
    pub frame_nr: u32,
    pub retire_tmo: u32,
    pub sizeof_priv: u32,
    pub features: u32,
}

/// A TCP timer: `kind` 1 retransmit (ss's `on`), 2 keepalive, 3 TIME-WAIT, 4 zero-window
/// probe (`persist`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timer {
    pub kind: u8,
    pub expires_ms: u32,
    pub retransmits: u8,
}

impl Socket<'_> {
    pub fn family(&self) -> Family {
        match self.endpoints {
            Endpoints::Inet(inet) => match inet.local.ip() {
                IpAddr::V4(_) => Family::Inet,
                IpAddr::V6(_) => Family::Inet6,
            },
            Endpoints::Unix(_) => Family::Unix,
            Endpoints::Packet(_) => Family::Packet,
            Endpoints::Netlink(_) => Family::Netlink,
        }
    }
}

/// Where a socket is and what it is connected to, by family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoints<'a> {
    Inet(InetEndpoints),
    Unix(UnixEndpoints<'a>),
    Packet(PacketEndpoints),
    Netlink(NetlinkEndpoints),
}

/// The two ends of an inet socket. For raw sockets the "port" is the IP protocol number, as
/// the kernel reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InetEndpoints {
    pub local: SocketAddr,
    pub peer: SocketAddr,
    /// The device the socket is bound to (`SO_BINDTODEVICE`, or the scope of a link-local
    /// address); 0 when none.
    pub ifindex: u32,
    /// An IPv6 socket that does not accept IPv4 traffic. A wildcard socket without it is the
    /// dual-stack socket ss prints as `*`. `None` where the kernel did not say (IPv4 sockets,
    /// minisockets, tables read from /proc).
    pub v6only: Option<bool>,
}

/// The two ends of a unix socket: its own name and the inode of its peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnixEndpoints<'a> {
    pub name: UnixName<'a>,
    /// The peer socket's inode, 0 when unconnected.
    pub peer_inode: u32,
}

/// What a packet socket listens to: an ethertype (`ETH_P_ALL`, 3, for every one) on one
/// device, or on all of them when `ifindex` is 0. Packet sockets have no peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PacketEndpoints {
    /// The ethertype, in host order.
    pub protocol: u16,
    pub ifindex: u32,
}

/// A netlink socket's address: its protocol (`NETLINK_ROUTE`, ...) and port id (0 for the
/// kernel's socket; a process's first socket usually gets its pid), and where a connected
/// socket sends by default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NetlinkEndpoints {
    pub protocol: u8,
    pub portid: u32,
    pub dst_portid: u32,
    pub dst_group: u32,
    /// Whether `connect` gave the socket a default destination (which may be the kernel).
    pub connected: bool,
}

/// A unix socket's address, borrowed from the kernel's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixName<'a> {
    Unnamed,
    /// A filesystem path.
    Path(&'a [u8]),
    /// An abstract name, without its leading NUL byte.
    Abstract(&'a [u8]),
}

impl<'a> UnixName<'a> {
    /// The name from a `sun_path` as the kernel reports it: a leading NUL marks the abstract
    /// namespace, a filesystem path ends at its first NUL.
    pub fn from_sun_path(raw: &'a [u8]) -> UnixName<'a> {
        match raw {
            [] => UnixName::Unnamed,
            [0, rest @ ..] => UnixName::Abstract(rest),
            path => {
                let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
                UnixName::Path(&path[..end])
            }
        }
    }
}

impl<'a> Details<'a> {
    /// The bytes of every part that borrows from the kernel's message, in [`PARTS`] order.
    fn borrowed_parts(&self) -> [Option<&'a [u8]>; PARTS] {
        [
            self.tcp_info.map(|v| v.as_bytes()),
            self.congestion,
            self.pending.map(|v| v.as_bytes()),
            self.mptcp_info.map(|v| v.as_bytes()),
            self.ulp.map(|v| v.nested),
            self.md5keys.map(|v| v.as_bytes()),
            self.packet.filter.map(|v| v.as_bytes()),
            self.groups.map(|v| v.as_bytes()),
        ]
    }

    /// Points the borrowed parts at `parts`, which [`Details::borrowed_parts`] gave: they
    /// parsed once, so they parse again.
    fn with_parts(self, parts: [Option<&'a [u8]>; PARTS]) -> Details<'a> {
        let [
            tcp_info,
            congestion,
            pending,
            mptcp_info,
            ulp,
            md5keys,
            filter,
            groups,
        ] = parts;
        Details {
            tcp_info: tcp_info.map(Extensible::parse),
            congestion,
            pending: pending.and_then(|b| UnixDiagIcons::parse(b).ok()),
            mptcp_info: mptcp_info.map(Extensible::parse),
            ulp: ulp.and_then(|b| UlpInfo::parse(b).ok()),
            md5keys: md5keys.and_then(|b| Md5Keys::parse(b).ok()),
            packet: PacketDetails {
                filter: filter.and_then(|b| SockFilterProgram::parse(b).ok()),
                ..self.packet
            },
            groups: groups.and_then(|b| NetlinkGroups::parse(b).ok()),
            ..self
        }
    }
}

/// How many parts of [`Details`] borrow.
const PARTS: usize = 8;

/// A socket that owns its variable-length parts, to keep after the buffer it was decoded from
/// is reused: across dumps (watch) or between stages (demo).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedSocket {
    /// The socket, with its borrowed parts left out and kept below instead.
    socket: Socket<'static>,
    name: OwnedName,
    parts: [Option<Box<[u8]>>; PARTS],
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum OwnedName {
    None,
    Path(Box<[u8]>),
    Abstract(Box<[u8]>),
}

impl OwnedSocket {
    pub fn new(socket: &Socket<'_>) -> OwnedSocket {
        let details = socket.details;
        let parts = details.borrowed_parts().map(|part| part.map(Box::from));
        let (endpoints, name) = match socket.endpoints {
            Endpoints::Unix(ends) => (
                Endpoints::Unix(UnixEndpoints {
                    name: UnixName::Unnamed,
                    peer_inode: ends.peer_inode,
                }),
                match ends.name {
                    UnixName::Unnamed => OwnedName::None,
                    UnixName::Path(path) => OwnedName::Path(path.into()),
                    UnixName::Abstract(name) => OwnedName::Abstract(name.into()),
                },
            ),
            Endpoints::Inet(ends) => (Endpoints::Inet(ends), OwnedName::None),
            Endpoints::Packet(ends) => (Endpoints::Packet(ends), OwnedName::None),
            Endpoints::Netlink(ends) => (Endpoints::Netlink(ends), OwnedName::None),
        };
        OwnedSocket {
            socket: Socket {
                endpoints,
                details: Details {
                    tcp_info: None,
                    congestion: None,
                    pending: None,
                    mptcp_info: None,
                    ulp: None,
                    md5keys: None,
                    groups: None,
                    packet: PacketDetails {
                        filter: None,
                        ..details.packet
                    },
                    ..details
                },
                ..*socket
            },
            name,
            parts,
        }
    }

    /// The socket, borrowing from this copy.
    pub fn as_socket(&self) -> Socket<'_> {
        let mut socket: Socket<'_> = self.socket;
        socket.details = socket
            .details
            .with_parts(self.parts.each_ref().map(|part| part.as_deref()));
        if let Endpoints::Unix(ends) = &mut socket.endpoints {
            ends.name = match &self.name {
                OwnedName::None => UnixName::Unnamed,
                OwnedName::Path(path) => UnixName::Path(path),
                OwnedName::Abstract(name) => UnixName::Abstract(name),
            };
        }
        socket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_numbers_match_the_kernel() {
        for (i, state) in TcpState::ALL.iter().enumerate() {
            assert_eq!(*state as usize, i);
            assert_eq!(TcpState::from_kernel(i as u8), *state);
        }
        assert_eq!(TcpState::from_kernel(200), TcpState::Unknown);
    }

    #[test]
    fn connected_excludes_listen_and_close() {
        assert!(!StateSet::CONNECTED.contains(TcpState::Listen));
        assert!(!StateSet::CONNECTED.contains(TcpState::Close));
        assert!(StateSet::CONNECTED.contains(TcpState::TimeWait));
        // The masks ss 6.1 sends (seen with strace).
        assert_eq!(StateSet::DEFAULT.bits(), 0xb37);
        // The masks ss 6.1 sends (seen with strace).
        assert_eq!(StateSet::DEFAULT.bits(), 0xb37);
        assert!(!StateSet::ALL.contains(TcpState::BoundInactive));
        assert!(!StateSet::ALL.contains(TcpState::NewSynRecv));
        assert_eq!(StateSet::ALL.bits(), 0xfff);
    }

    #[test]
    fn netid_order_is_ss_order() {
        let mut sorted = Netid::ALL;
        sorted.sort();
        assert_eq!(sorted, Netid::ALL);
        let set = NetidSet::EMPTY.with(Netid::Tcp).with(Netid::UnixStream);
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Netid::UnixStream, Netid::Tcp]
        );
    }

    #[test]
    fn owned_copies_give_back_the_socket() {
        let socket = Socket {
            netid: Netid::UnixStream,
            state: TcpState::Listen,
            recv_q: 0,
            send_q: 5,
            inode: 42,
            uid: None,
            cookie: Some(7),
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Unix(UnixEndpoints {
                name: UnixName::Abstract(b"name"),
                peer_inode: 0,
            }),
            details: Details {
                pending: Some(UnixDiagIcons::parse(&[1, 0, 0, 0]).unwrap()),
                shutdown: Some(Shutdown(0)),
                ..Details::default()
            },
        };
        let owned = OwnedSocket::new(&socket);
        assert_eq!(owned.as_socket(), socket);
    }

    #[test]
    fn unix_names() {
        assert_eq!(UnixName::from_sun_path(b""), UnixName::Unnamed);
        assert_eq!(
            UnixName::from_sun_path(b"\0abs\0x"),
            UnixName::Abstract(b"abs\0x")
        );
        assert_eq!(
            UnixName::from_sun_path(b"/run/a.sock\0\0"),
            UnixName::Path(b"/run/a.sock")
        );
    }
}
