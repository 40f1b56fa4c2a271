//! netlink_diag (`include/uapi/linux/netlink_diag.h`): the dump request for AF_NETLINK sockets
//! and a zero-copy view of each reply. netlink-packet-sock-diag does not cover this family.

use netlink_packet_core::DecodeError;
use zerocopy::byteorder::{NativeEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::sock_diag::SkMemInfo;
use super::{DiagMsg, emit_as_bytes, u32_value};

pub const NDIAG_SHOW_MEMINFO: u32 = 0x01;
pub const NDIAG_SHOW_GROUPS: u32 = 0x02;
pub const NDIAG_SHOW_RING_CFG: u32 = 0x04;
pub const NDIAG_SHOW_FLAGS: u32 = 0x08;

/// Every netlink protocol.
pub const NDIAG_PROTO_ALL: u8 = u8::MAX;

pub const NETLINK_DIAG_MEMINFO: u16 = 0;
pub const NETLINK_DIAG_GROUPS: u16 = 1;
pub const NETLINK_DIAG_RX_RING: u16 = 2;
pub const NETLINK_DIAG_TX_RING: u16 = 3;
pub const NETLINK_DIAG_FLAGS: u16 = 4;

/// `ndiag_state`.
pub const NETLINK_CONNECTED: u8 = 1;

/// `struct netlink_diag_req`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct NetlinkDiagReq {
    pub family: u8,
    pub protocol: u8,
    pub pad: U16<NativeEndian>,
    pub inode: U32<NativeEndian>,
    pub show: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl NetlinkDiagReq {
    /// A dump of every netlink socket of every protocol, with the attributes `show` names.
    pub fn dump(show: u32) -> NetlinkDiagReq {
        NetlinkDiagReq {
            family: libc::AF_NETLINK as u8,
            protocol: NDIAG_PROTO_ALL,
            pad: U16::new(0),
            inode: U32::new(0),
            show: U32::new(show),
            cookie: [U32::new(u32::MAX); 2],
        }
    }
}

emit_as_bytes!(NetlinkDiagReq);

/// `struct netlink_diag_msg`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct NetlinkDiagMsgHeader {
    pub family: u8,
    pub kind: u8,
    pub protocol: u8,
    pub state: u8,
    pub portid: U32<NativeEndian>,
    pub dst_portid: U32<NativeEndian>,
    pub dst_group: U32<NativeEndian>,
    pub inode: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl NetlinkDiagMsgHeader {
    pub fn cookie(&self) -> u64 {
        u64::from(self.cookie[1].get()) << 32 | u64::from(self.cookie[0].get())
    }
}

/// One reply of a dump, viewed in place.
pub type NetlinkDiagMsg<'a> = DiagMsg<'a, NetlinkDiagMsgHeader>;

impl<'a> NetlinkDiagMsg<'a> {
    pub fn attributes(
        &self,
    ) -> impl Iterator<Item = Result<NetlinkDiagAttr<'a>, DecodeError>> + 'a {
        self.raw_attributes().map(|attribute| {
            attribute.and_then(|(kind, value)| NetlinkDiagAttr::parse(kind, value))
        })
    }
}

/// A reply attribute, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetlinkDiagAttr<'a> {
    MemInfo(SkMemInfo),
    Groups(NetlinkGroups<'a>),
    /// `NDIAG_FLAG_*`.
    Flags(u32),
    Other {
        kind: u16,
        value: &'a [u8],
    },
}

impl<'a> NetlinkDiagAttr<'a> {
    pub fn parse(kind: u16, value: &'a [u8]) -> Result<NetlinkDiagAttr<'a>, DecodeError> {
        Ok(match kind {
            NETLINK_DIAG_MEMINFO => NetlinkDiagAttr::MemInfo(SkMemInfo::parse(value)?),
            NETLINK_DIAG_GROUPS => NetlinkDiagAttr::Groups(NetlinkGroups::parse(value)?),
            NETLINK_DIAG_FLAGS => NetlinkDiagAttr::Flags(u32_value(kind, value)?),
            _ => NetlinkDiagAttr::Other { kind, value },
        })
    }
}

/// `NETLINK_DIAG_GROUPS`: the multicast groups a socket joined, a bitmap of native-endian
/// `u32` words (group 1 is bit 0 of the first word), borrowed from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetlinkGroups<'a>(super::sock_diag::U32List<'a>);

impl<'a> NetlinkGroups<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<NetlinkGroups<'a>, DecodeError> {
        super::sock_diag::U32List::parse(bytes).map(NetlinkGroups)
    }

    /// Groups 1 to 32 as a mask, as `/proc/net/netlink` and ss show them.
    pub fn first_word(&self) -> u32 {
        self.0.iter().next().unwrap_or(0)
    }

    /// The numbers of the groups joined, lowest first.
    pub fn groups(&self) -> impl Iterator<Item = u32> + 'a {
        self.0.iter().enumerate().flat_map(|(index, word)| {
            (0..32)
                .filter(move |bit| word & (1 << bit) != 0)
                .map(move |bit| index as u32 * 32 + bit + 1)
        })
    }

    pub fn buffer_len(&self) -> usize {
        self.0.buffer_len()
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        self.0.emit(buffer)
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.0.as_bytes()
    }
}

impl netlink_packet_core::Nla for NetlinkDiagAttr<'_> {
    fn value_len(&self) -> usize {
        match self {
            NetlinkDiagAttr::MemInfo(mem) => mem.buffer_len(),
            NetlinkDiagAttr::Groups(groups) => groups.buffer_len(),
            NetlinkDiagAttr::Flags(_) => 4,
            NetlinkDiagAttr::Other { value, .. } => value.len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            NetlinkDiagAttr::MemInfo(_) => NETLINK_DIAG_MEMINFO,
            NetlinkDiagAttr::Groups(_) => NETLINK_DIAG_GROUPS,
            NetlinkDiagAttr::Flags(_) => NETLINK_DIAG_FLAGS,
            NetlinkDiagAttr::Other { kind, .. } => *kind,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            NetlinkDiagAttr::MemInfo(mem) => mem.emit(buffer),
            NetlinkDiagAttr::Groups(groups) => groups.emit(buffer),
            NetlinkDiagAttr::Flags(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            NetlinkDiagAttr::Other { value, .. } => buffer[..value.len()].copy_from_slice(value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_the_kernel() {
        assert_eq!(size_of::<NetlinkDiagReq>(), 20);
        assert_eq!(size_of::<NetlinkDiagMsgHeader>(), 28);
        assert_eq!(size_of::<crate::wire::packet::PacketDiagReq>(), 20);
        assert_eq!(size_of::<crate::wire::packet::PacketDiagMsgHeader>(), 16);
        assert_eq!(size_of::<crate::wire::packet::PacketDiagInfo>(), 24);
    }
}

#[cfg(test)]
mod groups {
    use super::*;

    #[test]
    fn group_bitmaps_round_trip() {
        let bytes: Vec<u8> = [0b101u32, 1 << 31]
            .iter()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        let groups = NetlinkGroups::parse(&bytes).unwrap();
        assert_eq!(groups.first_word(), 0b101);
        assert_eq!(groups.groups().collect::<Vec<_>>(), [1, 3, 64]);
        let mut out = vec![0; groups.buffer_len()];
        groups.emit(&mut out);
        assert_eq!(out, bytes);
        assert_eq!(NetlinkGroups::default().first_word(), 0);
    }
}
