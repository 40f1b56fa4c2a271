//! What a listing asks the kernel for beyond each socket's basics: the attribute bits of each
//! table's dump request, from the details the listing shows.
//!
//! The kernel sends memory counts, TCP information, traffic classes and the like only when a
//! request names them; the bits are the uapi headers' (`inet_diag.h`, `unix_diag.h`,
//! `packet_diag.h`, `netlink_diag.h`).

use crate::wire::{inet, netlink_diag, packet, unix};

/// The details a listing shows that the kernel sends only when asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    /// `-m`: memory counts.
    pub memory: bool,
    /// `-i`: TCP's internals and congestion control.
    pub info: bool,
    /// `--tos`: the type of service and traffic class.
    pub tos: bool,
    /// `-e`: packet rings and fanout, netlink groups, unix files and peers.
    pub extended: bool,
    /// `-b`: a packet socket's classic BPF filter.
    pub bpf: bool,
}

/// The attribute bits each table's dump request carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    /// The `idiag_ext` bits for inet requests.
    pub inet: u8,
    /// Extra `UDIAG_SHOW_*` bits for unix requests.
    pub unix: u32,
    /// The `PACKET_SHOW_*` bits for packet requests.
    pub packet: u32,
    /// The `NDIAG_SHOW_*` bits for netlink requests.
    pub netlink: u32,
}

impl Attributes {
    /// The bits that bring what `wanted` shows.
    pub fn for_details(wanted: Wanted) -> Attributes {
        Attributes {
            inet: inet_extensions(wanted),
            unix: unix_show(wanted),
            packet: packet_show(wanted),
            netlink: netlink_show(wanted),
        }
    }
}

/// The `idiag_ext` bits of inet requests.
fn inet_extensions(wanted: Wanted) -> u8 {
    let bit = |attribute: u16| 1u8 << (attribute - 1);
    let mut extensions = 0;
    if wanted.memory {
        extensions |= bit(inet::INET_DIAG_MEMINFO) | bit(inet::INET_DIAG_SKMEMINFO);
    }
    if wanted.info {
        extensions |=
            bit(inet::INET_DIAG_INFO) | bit(inet::INET_DIAG_VEGASINFO) | bit(inet::INET_DIAG_CONG);
    }
    if wanted.tos {
        extensions |= bit(inet::INET_DIAG_TOS) | bit(inet::INET_DIAG_TCLASS);
    }
    extensions
}

/// The `PACKET_SHOW_*` bits of packet requests: the queues come from the memory counts, so
/// those are always asked for.
fn packet_show(wanted: Wanted) -> u32 {
    let mut show = packet::PACKET_SHOW_INFO | packet::PACKET_SHOW_MEMINFO;
    if wanted.extended {
        show |= packet::PACKET_SHOW_RING_CFG | packet::PACKET_SHOW_FANOUT;
    }
    if wanted.bpf {
        show |= packet::PACKET_SHOW_FILTER;
    }
    show
}

/// The `NDIAG_SHOW_*` bits of netlink requests, memory always for the queues.
fn netlink_show(wanted: Wanted) -> u32 {
    let mut show = netlink_diag::NDIAG_SHOW_MEMINFO;
    if wanted.extended {
        show |= netlink_diag::NDIAG_SHOW_GROUPS;
    }
    show
}

/// The extra `UDIAG_SHOW_*` bits of unix requests.
fn unix_show(wanted: Wanted) -> u32 {
    let mut show = 0;
    if wanted.memory {
        show |= unix::UDIAG_SHOW_MEMINFO;
    }
    if wanted.extended {
        show |= unix::UDIAG_SHOW_VFS | unix::UDIAG_SHOW_ICONS;
    }
    show
}
