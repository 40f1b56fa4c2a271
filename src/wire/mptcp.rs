//! MPTCP's diagnostic structs (`include/uapi/linux/mptcp.h`): `struct mptcp_info`, which an
//! MPTCP socket sends as `INET_DIAG_INFO`, and the subflow attributes a TCP subflow nests in
//! `INET_DIAG_ULP_INFO` (`include/uapi/linux/inet_diag.h`).

use netlink_packet_core::{DecodeError, NlasIterator};
use zerocopy::byteorder::{NativeEndian, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

use super::{nla_value, u8_value, u32_value, u64_value, until_nul, zero_extended};

/// `INET_ULP_INFO_*`: the attributes nested in `INET_DIAG_ULP_INFO`.
pub const INET_ULP_INFO_NAME: u16 = 1;
pub const INET_ULP_INFO_TLS: u16 = 2;
pub const INET_ULP_INFO_MPTCP: u16 = 3;

/// `MPTCP_SUBFLOW_ATTR_*`: the attributes nested in `INET_ULP_INFO_MPTCP`.
pub const MPTCP_SUBFLOW_ATTR_TOKEN_REM: u16 = 1;
pub const MPTCP_SUBFLOW_ATTR_TOKEN_LOC: u16 = 2;
pub const MPTCP_SUBFLOW_ATTR_RELWRITE_SEQ: u16 = 3;
pub const MPTCP_SUBFLOW_ATTR_MAP_SEQ: u16 = 4;
pub const MPTCP_SUBFLOW_ATTR_MAP_SFSEQ: u16 = 5;
pub const MPTCP_SUBFLOW_ATTR_SSN_OFFSET: u16 = 6;
pub const MPTCP_SUBFLOW_ATTR_MAP_DATALEN: u16 = 7;
pub const MPTCP_SUBFLOW_ATTR_FLAGS: u16 = 8;
pub const MPTCP_SUBFLOW_ATTR_ID_REM: u16 = 9;
pub const MPTCP_SUBFLOW_ATTR_ID_LOC: u16 = 10;

/// `MPTCP_SUBFLOW_FLAG_*`.
pub const MPTCP_SUBFLOW_FLAG_MCAP_REM: u32 = 0x1;
pub const MPTCP_SUBFLOW_FLAG_MCAP_LOC: u32 = 0x2;
pub const MPTCP_SUBFLOW_FLAG_JOIN_REM: u32 = 0x4;
pub const MPTCP_SUBFLOW_FLAG_JOIN_LOC: u32 = 0x8;
pub const MPTCP_SUBFLOW_FLAG_BKUP_REM: u32 = 0x10;
pub const MPTCP_SUBFLOW_FLAG_BKUP_LOC: u32 = 0x20;
pub const MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED: u32 = 0x40;
pub const MPTCP_SUBFLOW_FLAG_CONNECTED: u32 = 0x80;
pub const MPTCP_SUBFLOW_FLAG_MAPVALID: u32 = 0x100;

/// `mptcpi_flags`.
pub const MPTCP_INFO_FLAG_FALLBACK: u32 = 0x1;
pub const MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED: u32 = 0x2;

type U32N = U32<NativeEndian>;
type U64N = U64<NativeEndian>;

/// `struct mptcp_info` as of Linux 6.18, in its natural alignment (the kernel's padding made
/// explicit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable)]
#[repr(C)]
pub struct MptcpInfo {
    pub subflows: u8,
    pub add_addr_signal: u8,
    pub add_addr_accepted: u8,
    pub subflows_max: u8,
    pub add_addr_signal_max: u8,
    pub add_addr_accepted_max: u8,
    pub pad0: [u8; 2],
    pub flags: U32N,
    pub token: U32N,
    pub write_seq: U64N,
    pub snd_una: U64N,
    pub rcv_nxt: U64N,
    pub local_addr_used: u8,
    pub local_addr_max: u8,
    pub csum_enabled: u8,
    pub pad1: u8,
    pub retransmits: U32N,
    pub bytes_retrans: U64N,
    pub bytes_sent: U64N,
    pub bytes_received: U64N,
    pub bytes_acked: U64N,
    pub subflows_total: u8,
    pub reserved: [u8; 3],
    pub last_data_sent: U32N,
    pub last_data_recv: U32N,
    pub last_ack_recv: U32N,
}

impl MptcpInfo {
    /// The struct from however many bytes the kernel sent.
    pub fn read(bytes: &[u8]) -> MptcpInfo {
        zero_extended(bytes)
    }
}

/// What a TCP socket's upper layer protocol reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UlpInfo<'a> {
    /// `mptcp`, `tls`, ...
    pub name: &'a [u8],
    pub subflow: Option<Subflow>,
    /// The nested attributes as the kernel sent them: what [`UlpInfo::emit`] writes back, for
    /// the kernel's order and padding of them are its own.
    pub nested: &'a [u8],
}

/// An MPTCP subflow, as its ULP reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subflow {
    pub token_rem: u32,
    pub token_loc: u32,
    pub relwrite_seq: u32,
    pub map_seq: u64,
    pub map_sfseq: u32,
    pub ssn_offset: u32,
    pub map_datalen: u16,
    pub flags: u32,
    pub id_rem: u8,
    pub id_loc: u8,
}

impl<'a> UlpInfo<'a> {
    /// Reads the attributes nested in `INET_DIAG_ULP_INFO`.
    pub fn parse(nested: &'a [u8]) -> Result<UlpInfo<'a>, DecodeError> {
        let mut info = UlpInfo {
            nested,
            ..UlpInfo::default()
        };
        for nla in NlasIterator::new(nested) {
            let nla = nla?;
            let kind = nla.kind();
            let value = nla_value(nla);
            match kind {
                INET_ULP_INFO_NAME => info.name = until_nul(value),
                INET_ULP_INFO_MPTCP => info.subflow = Some(Subflow::parse(value)?),
                _ => {}
            }
        }
        Ok(info)
    }

    pub fn buffer_len(&self) -> usize {
        self.nested.len()
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.nested.len()].copy_from_slice(self.nested);
    }
}

impl Subflow {
    fn parse(nested: &[u8]) -> Result<Subflow, DecodeError> {
        let mut subflow = Subflow::default();
        for nla in NlasIterator::new(nested) {
            let nla = nla?;
            let kind = nla.kind();
            let value = nla_value(nla);
            match kind {
                MPTCP_SUBFLOW_ATTR_TOKEN_REM => subflow.token_rem = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_TOKEN_LOC => subflow.token_loc = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_RELWRITE_SEQ => subflow.relwrite_seq = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_MAP_SEQ => subflow.map_seq = u64_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_MAP_SFSEQ => subflow.map_sfseq = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_SSN_OFFSET => subflow.ssn_offset = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_MAP_DATALEN => {
                    let bytes = value.get(..2).ok_or_else(|| {
                        DecodeError::from(format!("attribute {kind} has {} bytes", value.len()))
                    })?;
                    subflow.map_datalen = u16::from_ne_bytes([bytes[0], bytes[1]]);
                }
                MPTCP_SUBFLOW_ATTR_FLAGS => subflow.flags = u32_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_ID_REM => subflow.id_rem = u8_value(kind, value)?,
                MPTCP_SUBFLOW_ATTR_ID_LOC => subflow.id_loc = u8_value(kind, value)?,
                _ => {}
            }
        }
        Ok(subflow)
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    #[test]
    fn mptcp_info_has_the_kernels_size() {
        assert_eq!(size_of::<MptcpInfo>(), 96);
    }

    #[test]
    fn ulp_attributes() {
        // INET_ULP_INFO_NAME "mptcp", then INET_ULP_INFO_MPTCP holding TOKEN_LOC and FLAGS.
        let mut bytes = vec![10, 0, 1, 0];
        bytes.extend_from_slice(b"mptcp\0\0\0");
        bytes.extend_from_slice(&[20, 0, 3, 0x80]);
        bytes.extend_from_slice(&[8, 0, 2, 0]);
        bytes.extend_from_slice(&0x91874df2u32.to_ne_bytes());
        bytes.extend_from_slice(&[8, 0, 8, 0]);
        bytes.extend_from_slice(&0xc2u32.to_ne_bytes());
        let info = UlpInfo::parse(&bytes).unwrap();
        assert_eq!(info.name, b"mptcp");
        let subflow = info.subflow.unwrap();
        assert_eq!(subflow.token_loc, 0x91874df2);
        assert_eq!(subflow.flags, 0xc2);
    }
}
