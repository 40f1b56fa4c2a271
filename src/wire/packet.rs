//! packet_diag (`include/uapi/linux/packet_diag.h`): the dump request for AF_PACKET sockets and
//! a zero-copy view of each reply. netlink-packet-sock-diag does not cover this family.

use netlink_packet_core::DecodeError;
use zerocopy::byteorder::{NativeEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::{DiagMsg, emit_as_bytes, struct_value, u32_value};

pub const PACKET_SHOW_INFO: u32 = 0x01;
pub const PACKET_SHOW_MCLIST: u32 = 0x02;
pub const PACKET_SHOW_RING_CFG: u32 = 0x04;
pub const PACKET_SHOW_FANOUT: u32 = 0x08;
pub const PACKET_SHOW_MEMINFO: u32 = 0x10;
pub const PACKET_SHOW_FILTER: u32 = 0x20;

pub const PACKET_DIAG_INFO: u16 = 0;
pub const PACKET_DIAG_MCLIST: u16 = 1;
pub const PACKET_DIAG_RX_RING: u16 = 2;
pub const PACKET_DIAG_TX_RING: u16 = 3;
pub const PACKET_DIAG_FANOUT: u16 = 4;
pub const PACKET_DIAG_UID: u16 = 5;
pub const PACKET_DIAG_MEMINFO: u16 = 6;
pub const PACKET_DIAG_FILTER: u16 = 7;

/// `pdi_flags`.
pub const PDI_RUNNING: u32 = 0x1;
pub const PDI_AUXDATA: u32 = 0x2;
pub const PDI_ORIGDEV: u32 = 0x4;
pub const PDI_VNETHDR: u32 = 0x8;
pub const PDI_LOSS: u32 = 0x10;

/// `struct packet_diag_req`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct PacketDiagReq {
    pub family: u8,
    pub protocol: u8,
    pub pad: U16<NativeEndian>,
    pub inode: U32<NativeEndian>,
    pub show: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl PacketDiagReq {
    /// A dump of every packet socket with the attributes `show` names.
    pub fn dump(show: u32) -> PacketDiagReq {
        PacketDiagReq {
            family: libc::AF_PACKET as u8,
            protocol: 0,
            pad: U16::new(0),
            inode: U32::new(0),
            show: U32::new(show),
            cookie: [U32::new(u32::MAX); 2],
        }
    }
}

emit_as_bytes!(PacketDiagReq);

/// `struct packet_diag_msg`. `num` is the socket's protocol (an ethertype), in host order.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct PacketDiagMsgHeader {
    pub family: u8,
    pub kind: u8,
    pub num: U16<NativeEndian>,
    pub inode: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl PacketDiagMsgHeader {
    pub fn cookie(&self) -> u64 {
        u64::from(self.cookie[1].get()) << 32 | u64::from(self.cookie[0].get())
    }
}

/// `struct packet_diag_info`.
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
pub struct PacketDiagInfo {
    pub index: U32<NativeEndian>,
    pub version: U32<NativeEndian>,
    pub reserve: U32<NativeEndian>,
    pub copy_thresh: U32<NativeEndian>,
    pub tstamp: U32<NativeEndian>,
    pub flags: U32<NativeEndian>,
}

/// `struct packet_diag_ring`.
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
pub struct PacketDiagRing {
    pub block_size: U32<NativeEndian>,
    pub block_nr: U32<NativeEndian>,
    pub frame_size: U32<NativeEndian>,
    pub frame_nr: U32<NativeEndian>,
    pub retire_tmo: U32<NativeEndian>,
    pub sizeof_priv: U32<NativeEndian>,
    pub features: U32<NativeEndian>,
}

/// One reply of a dump, viewed in place.
pub type PacketDiagMsg<'a> = DiagMsg<'a, PacketDiagMsgHeader>;

impl<'a> PacketDiagMsg<'a> {
    pub fn attributes(&self) -> impl Iterator<Item = Result<PacketDiagAttr<'a>, DecodeError>> + 'a {
        self.raw_attributes()
            .map(|attribute| attribute.and_then(|(kind, value)| PacketDiagAttr::parse(kind, value)))
    }
}

/// A reply attribute, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketDiagAttr<'a> {
    Info(&'a PacketDiagInfo),
    /// `struct packet_diag_mclist` entries.
    McList(&'a [u8]),
    RxRing(&'a PacketDiagRing),
    TxRing(&'a PacketDiagRing),
    /// The fanout id in the low 16 bits, its mode and flags above.
    Fanout(u32),
    Uid(u32),
    /// `u32 [SK_MEMINFO_VARS]`.
    MemInfo(&'a [u8]),
    /// The attached classic BPF program: `struct sock_filter` entries (8 bytes each).
    Filter(&'a [u8]),
    Other {
        kind: u16,
        value: &'a [u8],
    },
}

impl<'a> PacketDiagAttr<'a> {
    pub fn parse(kind: u16, value: &'a [u8]) -> Result<PacketDiagAttr<'a>, DecodeError> {
        Ok(match kind {
            PACKET_DIAG_INFO => PacketDiagAttr::Info(struct_value(kind, value)?),
            PACKET_DIAG_MCLIST => PacketDiagAttr::McList(value),
            PACKET_DIAG_RX_RING => PacketDiagAttr::RxRing(struct_value(kind, value)?),
            PACKET_DIAG_TX_RING => PacketDiagAttr::TxRing(struct_value(kind, value)?),
            PACKET_DIAG_FANOUT => PacketDiagAttr::Fanout(u32_value(kind, value)?),
            PACKET_DIAG_UID => PacketDiagAttr::Uid(u32_value(kind, value)?),
            PACKET_DIAG_MEMINFO => PacketDiagAttr::MemInfo(value),
            PACKET_DIAG_FILTER => PacketDiagAttr::Filter(value),
            _ => PacketDiagAttr::Other { kind, value },
        })
    }
}
