//! TCP's diagnostic structs: `struct tcp_info` (`include/uapi/linux/tcp.h`) and the
//! congestion controls' own (`include/uapi/linux/inet_diag.h`).
//!
//! The kernel grows `tcp_info` at its end from one version to the next and sends as much as it
//! has. [`TcpInfo::read`] copies what arrived over a zeroed struct, so an older kernel's
//! shorter struct reads as if the newer fields were 0, and a newer kernel's longer one is cut
//! to what we know. Nothing is ever rejected for its length.

use zerocopy::byteorder::{NativeEndian, U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::zero_extended;

/// `TCPI_OPT_*`: bits of `tcpi_options`.
pub const TCPI_OPT_TIMESTAMPS: u8 = 1;
pub const TCPI_OPT_SACK: u8 = 2;
pub const TCPI_OPT_WSCALE: u8 = 4;
pub const TCPI_OPT_ECN: u8 = 8;
pub const TCPI_OPT_ECN_SEEN: u8 = 16;
pub const TCPI_OPT_SYN_DATA: u8 = 32;

type U32N = U32<NativeEndian>;
type U64N = U64<NativeEndian>;

/// `struct tcp_info` as of Linux 6.18.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TcpInfo {
    pub state: u8,
    pub ca_state: u8,
    pub retransmits: u8,
    pub probes: u8,
    pub backoff: u8,
    pub options: u8,
    /// `tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4`: the send scale in the low nibble.
    pub wscale: u8,
    /// `tcpi_delivery_rate_app_limited : 1, tcpi_fastopen_client_fail : 2`.
    pub app_limited_and_fastopen: u8,
    pub rto: U32N,
    pub ato: U32N,
    pub snd_mss: U32N,
    pub rcv_mss: U32N,
    pub unacked: U32N,
    pub sacked: U32N,
    pub lost: U32N,
    pub retrans: U32N,
    pub fackets: U32N,
    pub last_data_sent: U32N,
    pub last_ack_sent: U32N,
    pub last_data_recv: U32N,
    pub last_ack_recv: U32N,
    pub pmtu: U32N,
    pub rcv_ssthresh: U32N,
    pub rtt: U32N,
    pub rttvar: U32N,
    pub snd_ssthresh: U32N,
    pub snd_cwnd: U32N,
    pub advmss: U32N,
    pub reordering: U32N,
    pub rcv_rtt: U32N,
    pub rcv_space: U32N,
    pub total_retrans: U32N,
    pub pacing_rate: U64N,
    pub max_pacing_rate: U64N,
    pub bytes_acked: U64N,
    pub bytes_received: U64N,
    pub segs_out: U32N,
    pub segs_in: U32N,
    pub notsent_bytes: U32N,
    pub min_rtt: U32N,
    pub data_segs_in: U32N,
    pub data_segs_out: U32N,
    pub delivery_rate: U64N,
    pub busy_time: U64N,
    pub rwnd_limited: U64N,
    pub sndbuf_limited: U64N,
    pub delivered: U32N,
    pub delivered_ce: U32N,
    pub bytes_sent: U64N,
    pub bytes_retrans: U64N,
    pub dsack_dups: U32N,
    pub reord_seen: U32N,
    pub rcv_ooopack: U32N,
    pub snd_wnd: U32N,
    pub rcv_wnd: U32N,
    pub rehash: U32N,
    pub total_rto: U16<NativeEndian>,
    pub total_rto_recoveries: U16<NativeEndian>,
    pub total_rto_time: U32N,
}

impl TcpInfo {
    /// The struct from however many bytes the kernel sent.
    pub fn read(bytes: &[u8]) -> TcpInfo {
        zero_extended(bytes)
    }

    pub fn snd_wscale(&self) -> u8 {
        self.wscale & 0x0f
    }

    pub fn rcv_wscale(&self) -> u8 {
        self.wscale >> 4
    }

    pub fn delivery_rate_app_limited(&self) -> bool {
        self.app_limited_and_fastopen & 1 != 0
    }
}

/// `struct tcp_bbr_info`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TcpBbrInfo {
    pub bw_lo: U32N,
    pub bw_hi: U32N,
    pub min_rtt: U32N,
    pub pacing_gain: U32N,
    pub cwnd_gain: U32N,
}

impl TcpBbrInfo {
    pub fn read(bytes: &[u8]) -> TcpBbrInfo {
        zero_extended(bytes)
    }

    /// The bottleneck bandwidth estimate, in bytes per second.
    pub fn bandwidth(&self) -> u64 {
        u64::from(self.bw_hi.get()) << 32 | u64::from(self.bw_lo.get())
    }
}

/// `struct tcp_dctcp_info`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct TcpDctcpInfo {
    pub enabled: U16<NativeEndian>,
    pub ce_state: U16<NativeEndian>,
    pub alpha: U32N,
    pub ab_ecn: U32N,
    pub ab_tot: U32N,
}

impl TcpDctcpInfo {
    pub fn read(bytes: &[u8]) -> TcpDctcpInfo {
        zero_extended(bytes)
    }
}

/// The names of `struct inet_diag_sockopt`'s bits, lowest first, as ss prints them.
pub const SOCKOPT_NAMES: [&str; 11] = [
    "recverr",
    "is_icsk",
    "freebind",
    "hdrincl",
    "mc_loop",
    "transparent",
    "mc_all",
    "nodefrag",
    "bind_addr_no_port",
    "recverr_rfc4884",
    "defer_connect",
];

/// `struct inet_diag_sockopt`: two bytes of one-bit fields, the first declared lowest (on a
/// little-endian machine, as the kernel lays out bitfields there), so bit `n` is
/// `SOCKOPT_NAMES[n]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InetDiagSockopt(pub u16);

impl InetDiagSockopt {
    pub fn parse(bytes: &[u8]) -> Result<InetDiagSockopt, netlink_packet_core::DecodeError> {
        match bytes {
            [low, high, ..] => Ok(InetDiagSockopt(u16::from_le_bytes([*low, *high]))),
            _ => Err(format!("INET_DIAG_SOCKOPT has {} bytes, expected 2", bytes.len()).into()),
        }
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[..2].copy_from_slice(&self.0.to_le_bytes());
    }

    /// The names of the options set, lowest bit first.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + use<> {
        let bits = self.0;
        SOCKOPT_NAMES
            .iter()
            .enumerate()
            .filter(move |(bit, _)| bits & (1 << bit) != 0)
            .map(|(_, name)| *name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_kernel() {
        // The size of struct tcp_info on Linux 6.18 (through tcpi_total_rto_time).
        assert_eq!(std::mem::size_of::<TcpInfo>(), 248);
        assert_eq!(std::mem::size_of::<TcpBbrInfo>(), 20);
        assert_eq!(std::mem::size_of::<TcpDctcpInfo>(), 16);
    }

    #[test]
    fn sockopt_round_trips() {
        let bytes = [0b0000_0101, 0b0000_0100];
        let sockopt = InetDiagSockopt::parse(&bytes).unwrap();
        assert_eq!(
            sockopt.names().collect::<Vec<_>>(),
            ["recverr", "freebind", "defer_connect"]
        );
        let mut out = [0; 2];
        sockopt.emit(&mut out);
        assert_eq!(out, bytes);
        assert!(InetDiagSockopt::parse(&[1]).is_err());
    }

    #[test]
    fn short_and_long_structs_are_read() {
        // A 104-byte struct from an old kernel: fields past it read as zero.
        let mut old = vec![0u8; 104];
        old[8..12].copy_from_slice(&204_000u32.to_ne_bytes()); // tcpi_rto
        let info = TcpInfo::read(&old);
        assert_eq!(info.rto.get(), 204_000);
        assert_eq!(info.bytes_sent.get(), 0);
        let longer = vec![7u8; 400];
        assert_eq!(TcpInfo::read(&longer).state, 7);
    }
}
