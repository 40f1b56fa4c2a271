//! packet_diag (`include/uapi/linux/packet_diag.h`): the dump request for AF_PACKET sockets and
//! a zero-copy view of each reply. netlink-packet-sock-diag does not cover this family.

use netlink_packet_core::DecodeError;
use zerocopy::byteorder::{NativeEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::sock_diag::SkMemInfo;
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
    Fanout(Fanout),
    Uid(u32),
    MemInfo(SkMemInfo),
    /// The attached classic BPF program.
    Filter(SockFilterProgram<'a>),
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
            PACKET_DIAG_FANOUT => PacketDiagAttr::Fanout(Fanout::parse(value)?),
            PACKET_DIAG_UID => PacketDiagAttr::Uid(u32_value(kind, value)?),
            PACKET_DIAG_MEMINFO => PacketDiagAttr::MemInfo(SkMemInfo::parse(value)?),
            PACKET_DIAG_FILTER => PacketDiagAttr::Filter(SockFilterProgram::parse(value)?),
            _ => PacketDiagAttr::Other { kind, value },
        })
    }
}

/// `PACKET_FANOUT_*` modes (`include/uapi/linux/if_packet.h`).
pub const PACKET_FANOUT_HASH: u16 = 0;
pub const PACKET_FANOUT_LB: u16 = 1;
pub const PACKET_FANOUT_CPU: u16 = 2;
pub const PACKET_FANOUT_ROLLOVER: u16 = 3;
pub const PACKET_FANOUT_RND: u16 = 4;
pub const PACKET_FANOUT_QM: u16 = 5;
pub const PACKET_FANOUT_CBPF: u16 = 6;
pub const PACKET_FANOUT_EBPF: u16 = 7;
/// `PACKET_FANOUT_FLAG_*`, above the mode.
pub const PACKET_FANOUT_FLAG_ROLLOVER: u16 = 0x1000;
pub const PACKET_FANOUT_FLAG_UNIQUEID: u16 = 0x2000;
pub const PACKET_FANOUT_FLAG_IGNORE_OUTGOING: u16 = 0x4000;
pub const PACKET_FANOUT_FLAG_DEFRAG: u16 = 0x8000;

/// `PACKET_DIAG_FANOUT`: the group id in the low 16 bits, the mode and its flags above.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fanout {
    pub id: u16,
    /// The mode (`PACKET_FANOUT_*`) with its `PACKET_FANOUT_FLAG_*` bits.
    pub type_flags: u16,
}

impl Fanout {
    pub fn parse(bytes: &[u8]) -> Result<Fanout, DecodeError> {
        let value = u32_value(PACKET_DIAG_FANOUT, bytes)?;
        Ok(Fanout::from_u32(value))
    }

    pub fn from_u32(value: u32) -> Fanout {
        Fanout {
            id: value as u16,
            type_flags: (value >> 16) as u16,
        }
    }

    pub fn to_u32(self) -> u32 {
        u32::from(self.id) | u32::from(self.type_flags) << 16
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[..4].copy_from_slice(&self.to_u32().to_ne_bytes());
    }
}

/// `struct sock_filter` (`include/uapi/linux/filter.h`): one classic BPF instruction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `PACKET_DIAG_FILTER`: the socket's classic BPF program, borrowed from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SockFilterProgram<'a> {
    bytes: &'a [u8],
}

impl<'a> SockFilterProgram<'a> {
    const INSN_LEN: usize = 8;

    pub fn parse(bytes: &'a [u8]) -> Result<SockFilterProgram<'a>, DecodeError> {
        if bytes.len() % Self::INSN_LEN != 0 {
            return Err(DecodeError::from(format!(
                "PACKET_DIAG_FILTER has {} bytes, not whole instructions",
                bytes.len()
            )));
        }
        Ok(SockFilterProgram { bytes })
    }

    /// How many instructions.
    pub fn len(&self) -> usize {
        self.bytes.len() / Self::INSN_LEN
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn instructions(&self) -> impl Iterator<Item = SockFilter> + 'a {
        self.bytes
            .chunks_exact(Self::INSN_LEN)
            .map(|insn| SockFilter {
                code: u16::from_ne_bytes([insn[0], insn[1]]),
                jt: insn[2],
                jf: insn[3],
                k: u32::from_ne_bytes([insn[4], insn[5], insn[6], insn[7]]),
            })
    }

    pub fn buffer_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        for (insn, out) in self
            .instructions()
            .zip(buffer.chunks_exact_mut(Self::INSN_LEN))
        {
            out[..2].copy_from_slice(&insn.code.to_ne_bytes());
            out[2] = insn.jt;
            out[3] = insn.jf;
            out[4..].copy_from_slice(&insn.k.to_ne_bytes());
        }
    }

    /// The bytes it was parsed from, to keep a copy.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

impl netlink_packet_core::Nla for PacketDiagAttr<'_> {
    fn value_len(&self) -> usize {
        match self {
            PacketDiagAttr::Info(_) => std::mem::size_of::<PacketDiagInfo>(),
            PacketDiagAttr::McList(v) | PacketDiagAttr::Other { value: v, .. } => v.len(),
            PacketDiagAttr::RxRing(_) | PacketDiagAttr::TxRing(_) => {
                std::mem::size_of::<PacketDiagRing>()
            }
            PacketDiagAttr::Fanout(_) | PacketDiagAttr::Uid(_) => 4,
            PacketDiagAttr::MemInfo(mem) => mem.buffer_len(),
            PacketDiagAttr::Filter(program) => program.buffer_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            PacketDiagAttr::Info(_) => PACKET_DIAG_INFO,
            PacketDiagAttr::McList(_) => PACKET_DIAG_MCLIST,
            PacketDiagAttr::RxRing(_) => PACKET_DIAG_RX_RING,
            PacketDiagAttr::TxRing(_) => PACKET_DIAG_TX_RING,
            PacketDiagAttr::Fanout(_) => PACKET_DIAG_FANOUT,
            PacketDiagAttr::Uid(_) => PACKET_DIAG_UID,
            PacketDiagAttr::MemInfo(_) => PACKET_DIAG_MEMINFO,
            PacketDiagAttr::Filter(_) => PACKET_DIAG_FILTER,
            PacketDiagAttr::Other { kind, .. } => *kind,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            PacketDiagAttr::Info(info) => {
                let bytes = info.as_bytes();
                buffer[..bytes.len()].copy_from_slice(bytes)
            }
            PacketDiagAttr::RxRing(ring) | PacketDiagAttr::TxRing(ring) => {
                let bytes = ring.as_bytes();
                buffer[..bytes.len()].copy_from_slice(bytes)
            }
            PacketDiagAttr::McList(v) | PacketDiagAttr::Other { value: v, .. } => {
                buffer[..v.len()].copy_from_slice(v)
            }
            PacketDiagAttr::Fanout(fanout) => fanout.emit(buffer),
            PacketDiagAttr::Uid(v) => buffer[..4].copy_from_slice(&v.to_ne_bytes()),
            PacketDiagAttr::MemInfo(mem) => mem.emit(buffer),
            PacketDiagAttr::Filter(program) => program.emit(buffer),
        }
    }
}

#[cfg(test)]
mod views {
    use super::*;

    #[test]
    fn fanout_round_trips() {
        let value: u32 = 7 | u32::from(PACKET_FANOUT_CPU | PACKET_FANOUT_FLAG_DEFRAG) << 16;
        let fanout = Fanout::parse(&value.to_ne_bytes()).unwrap();
        assert_eq!(fanout.id, 7);
        assert_eq!(
            fanout.type_flags,
            PACKET_FANOUT_CPU | PACKET_FANOUT_FLAG_DEFRAG
        );
        let mut out = [0; 4];
        fanout.emit(&mut out);
        assert_eq!(out, value.to_ne_bytes());
    }

    #[test]
    fn bpf_programs_round_trip() {
        // `ret #65535` and `ld [12]`, as tcpdump -dd would write them.
        let mut bytes = Vec::new();
        for (code, jt, jf, k) in [(0x28u16, 0u8, 0u8, 12u32), (0x06, 0, 0, 0xffff)] {
            bytes.extend_from_slice(&code.to_ne_bytes());
            bytes.extend_from_slice(&[jt, jf]);
            bytes.extend_from_slice(&k.to_ne_bytes());
        }
        let program = SockFilterProgram::parse(&bytes).unwrap();
        assert_eq!(program.len(), 2);
        let insns: Vec<_> = program.instructions().collect();
        assert_eq!(
            insns[0],
            SockFilter {
                code: 0x28,
                jt: 0,
                jf: 0,
                k: 12
            }
        );
        let mut out = vec![0; program.buffer_len()];
        program.emit(&mut out);
        assert_eq!(out, bytes);
        assert!(SockFilterProgram::parse(&bytes[..7]).is_err());
    }
}
