//! How the renderers show sockets: the options a validated configuration hands them.
//!
//! They live here, not in the configuration, so that render depends on nothing above it; the
//! configuration builds them and re-exports them.

use crate::wire::{inet, netlink_diag, packet, unix};

/// How the sockets are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub numeric: bool,
    pub resolve: bool,
    pub header: bool,
    pub show_netid: bool,
    pub show_state: bool,
    pub details: DetailFlags,
}

/// Which details to show after the columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetailFlags {
    pub timers: bool,
    pub extended: bool,
    pub memory: bool,
    pub info: bool,
    pub oneline: bool,
    pub tos: bool,
    pub cgroup: bool,
    pub sockopt: bool,
    pub bpf: bool,
    /// `-Q`: the table leaves the Recv-Q and Send-Q columns out (the queues stay in JSON).
    pub no_queues: bool,
}

impl DetailFlags {
    /// The `idiag_ext` bits of inet requests these details need.
    pub fn inet_extensions(&self) -> u8 {
        let bit = |attribute: u16| 1u8 << (attribute - 1);
        let mut extensions = 0;
        if self.memory {
            extensions |= bit(inet::INET_DIAG_MEMINFO) | bit(inet::INET_DIAG_SKMEMINFO);
        }
        if self.info {
            extensions |= bit(inet::INET_DIAG_INFO)
                | bit(inet::INET_DIAG_VEGASINFO)
                | bit(inet::INET_DIAG_CONG);
        }
        if self.tos {
            extensions |= bit(inet::INET_DIAG_TOS) | bit(inet::INET_DIAG_TCLASS);
        }
        extensions
    }

    /// The `PACKET_SHOW_*` bits of packet requests: the queues come from the memory counts,
    /// so those are always asked for.
    pub fn packet_show(&self) -> u32 {
        let mut show = packet::PACKET_SHOW_INFO | packet::PACKET_SHOW_MEMINFO;
        if self.extended {
            show |= packet::PACKET_SHOW_RING_CFG | packet::PACKET_SHOW_FANOUT;
        }
        if self.bpf {
            show |= packet::PACKET_SHOW_FILTER;
        }
        show
    }

    /// The `NDIAG_SHOW_*` bits of netlink requests, memory always for the queues.
    pub fn netlink_show(&self) -> u32 {
        let mut show = netlink_diag::NDIAG_SHOW_MEMINFO;
        if self.extended {
            show |= netlink_diag::NDIAG_SHOW_GROUPS;
        }
        show
    }

    /// The extra `UDIAG_SHOW_*` bits of unix requests these details need.
    pub fn unix_show(&self) -> u32 {
        let mut show = 0;
        if self.memory {
            show |= unix::UDIAG_SHOW_MEMINFO;
        }
        if self.extended {
            show |= unix::UDIAG_SHOW_VFS | unix::UDIAG_SHOW_ICONS;
        }
        show
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}
