//! `--json`: the rows of the table as a JSON array of records, streamed one record per line.
//!
//! The schema is documented in the README and the man page; fields are added, never renamed.
//! Addresses and ports are always numeric here, whatever `-n` and `-r` say: JSON is for
//! programs.

use std::borrow::Cow;
use std::io::{self, Write};
use std::rc::Rc;

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::{Renderer, details, endpoint};
use crate::names::Names;
use crate::procs::{Owner, Processes};
use crate::render::options::DetailFlags;
use crate::socket::{
    Details, Endpoints, Netid, PacketDetails, PacketRing, SkMem, Socket, UnixName,
};
use crate::wire::Extensible;
use crate::wire::mptcp::{
    MPTCP_INFO_FLAG_FALLBACK, MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED, MptcpInfo, Subflow, UlpInfo,
};
use crate::wire::netlink_diag::NetlinkGroups;
use crate::wire::packet::SockFilterProgram;
use crate::wire::tcp::{InetDiagSockopt, TcpInfo};
use crate::wire::unix::UnixDiagIcons;

/// Fields written into a JSON object, each by name and in order; a field whose value is an
/// `Option` is null when absent.
macro_rules! json_entries {
    ($map:ident, { $($name:literal => $value:expr),+ $(,)? }) => {
        $($map.serialize_entry($name, &$value)?;)+
    };
}

/// A fixed list of fields as a JSON object, each by name and in order: the one way a kernel
/// struct is written out. A field whose value is an `Option` is null when absent.
macro_rules! json_object {
    (
        $type:ty,
        |$this:ident| $(let $bind:ident = $init:expr;)? { $($name:literal => $value:expr),+ $(,)? }
    ) => {
        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let $this = self;
                $(let $bind = $init;)?
                let mut map = serializer.serialize_map(None)?;
                json_entries!(map, { $($name => $value),+ });
                map.end()
            }
        }
    };
}

pub struct JsonRenderer<W: Write> {
    out: W,
    names: Names,
    records: u64,
    details: DetailFlags,
    /// Who holds each socket, for the `processes` field (`-p`, `-T`).
    processes: Option<Rc<Processes>>,
    /// The namespace of the sockets now arriving, for the `netns` field (`-N all`).
    netns: Option<Box<str>>,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W, details: DetailFlags) -> JsonRenderer<W> {
        JsonRenderer {
            out,
            names: Names::new(),
            records: 0,
            details,
            processes: None,
            netns: None,
        }
    }

    /// Adds each socket's owners from `processes`, read by the caller before the listing.
    pub fn with_processes(mut self, processes: Option<Rc<Processes>>) -> JsonRenderer<W> {
        self.processes = processes;
        self
    }
}

impl<W: Write> Renderer for JsonRenderer<W> {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.records == 0 { b"[\n" } else { b",\n" })?;
        self.records += 1;
        let record = Record::new(socket, &mut self.names, self.details)
            .with_processes(self.processes.as_deref())
            .with_netns(self.netns.as_deref());
        serde_json::to_writer(&mut self.out, &record).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.records == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }

    fn namespace(&mut self, name: &str) {
        self.netns = Some(name.into());
        self.names.new_namespace();
    }
}

/// One socket as a JSON object: the schema shared by every mode that prints sockets as JSON.
pub struct Record<'s, 'a> {
    socket: &'s Socket<'a>,
    /// Copied out of the name cache (only sockets bound to a device have one).
    interface: Option<Box<[u8]>>,
    cgroup: Option<Box<str>>,
    details: DetailFlags,
    /// With `-p` or `-T`: where to find the socket's owners.
    processes: Option<&'s Processes>,
    /// With `-N all`: the socket's network namespace.
    netns: Option<&'s str>,
}

impl<'s, 'a> Record<'s, 'a> {
    pub fn new(socket: &'s Socket<'a>, names: &mut Names, details: DetailFlags) -> Record<'s, 'a> {
        let interface = match socket.endpoints {
            Endpoints::Inet(ends) if ends.ifindex != 0 => {
                Some(names.interface(ends.ifindex).into())
            }
            Endpoints::Packet(ends) if ends.ifindex != 0 => {
                Some(names.interface(ends.ifindex).into())
            }
            _ => None,
        };
        let cgroup = socket
            .cgroup_id
            .filter(|_| details.extended || details.cgroup)
            .map(|id| names.cgroup_path(id).into());
        Record {
            socket,
            interface,
            cgroup,
            details,
            processes: None,
            netns: None,
        }
    }

    /// Adds the `netns` field, first: the namespace the socket is in.
    pub fn with_netns(mut self, netns: Option<&'s str>) -> Record<'s, 'a> {
        self.netns = netns;
        self
    }

    /// Adds the `processes` field, the socket's owners in `processes`.
    pub fn with_processes(mut self, processes: Option<&'s Processes>) -> Record<'s, 'a> {
        self.processes = processes;
        self
    }
}

impl Serialize for Record<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.socket;
        let mut map = serializer.serialize_map(None)?;
        if let Some(netns) = self.netns {
            map.serialize_entry("netns", netns)?;
        }
        map.serialize_entry("netid", s.netid.name())?;
        map.serialize_entry("state", s.state.name())?;
        map.serialize_entry("recv_q", &s.recv_q)?;
        map.serialize_entry("send_q", &s.send_q)?;
        map.serialize_entry("inode", &s.inode)?;
        map.serialize_entry("family", s.family().name())?;
        match s.endpoints {
            Endpoints::Inet(ends) => {
                map.serialize_entry("local_address", &Displayed(Address(ends.local.ip())))?;
                map.serialize_entry("local_port", &ends.local.port())?;
                map.serialize_entry("peer_address", &Displayed(Address(ends.peer.ip())))?;
                map.serialize_entry("peer_port", &ends.peer.port())?;
                self.serialize_interface(&mut map)?;
                map.serialize_entry("v6only", &ends.v6only.unwrap_or(false))?;
            }
            Endpoints::Unix(ends) => {
                serialize_name(
                    &mut map,
                    "path",
                    "path_bytes",
                    unix_path(ends.name).as_deref(),
                )?;
                map.serialize_entry("peer_inode", &ends.peer_inode)?;
            }
            Endpoints::Packet(ends) => {
                map.serialize_entry("protocol", &ends.protocol)?;
                self.serialize_interface(&mut map)?;
            }
            Endpoints::Netlink(ends) => {
                map.serialize_entry("protocol", &ends.protocol)?;
                map.serialize_entry("portid", &ends.portid)?;
                let peer = |value| ends.connected.then_some(value);
                map.serialize_entry("peer_portid", &peer(ends.dst_portid))?;
                map.serialize_entry("peer_group", &peer(ends.dst_group))?;
            }
        }
        self.serialize_details(&mut map)?;
        if let Some(processes) = self.processes {
            map.serialize_entry("processes", &OwnersOf(processes, s.inode))?;
        }
        map.end()
    }
}

/// The owners of one socket, as an array in the table's order.
struct OwnersOf<'p>(&'p Processes, u64);

impl Serialize for OwnersOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.owners(self.1).map(OwnerRecord))
    }
}

/// `{"comm":..,"pid":..,"tid":..,"fd":..}`, `tid` only with `-T`. The name is whole (the table
/// cuts it at a `)` as ss does); a name that is not UTF-8 also comes as `comm_bytes`.
struct OwnerRecord<'p>(Owner<'p>);

impl Serialize for OwnerRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let owner = &self.0;
        let mut map = serializer.serialize_map(None)?;
        serialize_name(&mut map, "comm", "comm_bytes", Some(owner.comm))?;
        map.serialize_entry("pid", &owner.pid)?;
        if let Some(tid) = owner.tid {
            map.serialize_entry("tid", &tid)?;
        }
        map.serialize_entry("fd", &owner.fd)?;
        map.end()
    }
}

impl Record<'_, '_> {
    /// The device an inet or packet socket is bound to, by name.
    fn serialize_interface<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        serialize_name(
            map,
            "interface",
            "interface_bytes",
            self.interface.as_deref(),
        )
    }

    /// The fields the detail flags add, each present (null when the kernel did not say) as
    /// soon as its flag is given.
    fn serialize_details<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let s = self.socket;
        let d = &s.details;
        let flags = &self.details;
        let inet = matches!(s.endpoints, Endpoints::Inet(_));
        let unix = matches!(s.endpoints, Endpoints::Unix(_));
        if flags.timers || flags.extended {
            map.serialize_entry(
                "timer",
                &d.timer.map(|t| TimerJson {
                    name: details::timer_name(t.kind),
                    expires_ms: t.expires_ms,
                    retrans: t.retransmits,
                }),
            )?;
        }
        if flags.extended {
            map.serialize_entry("uid", &s.uid)?;
            map.serialize_entry("cookie", &s.cookie.map(Hex))?;
            if inet {
                map.serialize_entry("mark", &s.mark)?;
            }
            map.serialize_entry(
                "shutdown",
                &d.shutdown.map(|shutdown| ShutdownJson {
                    receive: shutdown.receive(),
                    send: shutdown.send(),
                }),
            )?;
            if unix {
                map.serialize_entry(
                    "vfs",
                    &d.vfs.map(|vfs| Vfs {
                        inode: vfs.inode.get(),
                        dev: Device {
                            major: vfs.major(),
                            minor: vfs.minor(),
                        },
                    }),
                )?;
                map.serialize_entry("peers", &d.pending.map(Inodes))?;
            }
            match s.endpoints {
                Endpoints::Packet(_) => map.serialize_entry("packet", &PacketJson(&d.packet))?,
                Endpoints::Netlink(_) => {
                    map.serialize_entry("groups", &d.groups.map(Groups))?;
                }
                _ => {}
            }
        }
        if flags.bpf && matches!(s.endpoints, Endpoints::Packet(_)) {
            map.serialize_entry("bpf_filter", &d.packet.filter.map(BpfProgram))?;
        }
        if flags.extended || flags.cgroup {
            map.serialize_entry("cgroup", &self.cgroup)?;
        }
        if flags.tos && inet {
            map.serialize_entry("tos", &d.tos)?;
            map.serialize_entry("tclass", &d.tclass)?;
            map.serialize_entry("class_id", &d.class_id)?;
        }
        if flags.sockopt && inet {
            map.serialize_entry("inet_sockopt", &d.sockopt.map(SockOpts))?;
        }
        if flags.memory {
            map.serialize_entry("skmem", &d.skmem.map(SkMemJson))?;
        }
        if flags.info && inet && s.netid == Netid::Mptcp {
            map.serialize_entry("mptcp_info", &d.mptcp_info.map(MptcpInfoJson))?;
        } else if flags.info && inet {
            map.serialize_entry(
                "tcp_info",
                &d.tcp_info.map(|info| TcpInfoJson {
                    info: info.get(),
                    details: d,
                }),
            )?;
            map.serialize_entry("tcp_ulp", &d.ulp.map(UlpJson))?;
        }
        Ok(())
    }
}

/// A packet socket's `-e` details.
struct PacketJson<'p>(&'p PacketDetails<'p>);

json_object!(PacketJson<'_>, |this| let info = this.0.info; {
    "version" => info.map(|i| i.version),
    "copy_thresh" => info.map(|i| i.copy_thresh),
    "flags" => info.map(|i| PacketFlags(i.flags)),
    "rx_ring" => this.0.rx_ring.map(RingJson),
    "tx_ring" => this.0.tx_ring.map(RingJson),
    "fanout" => this.0.fanout.map(|fanout| FanoutJson {
        id: fanout.id,
        mode: fanout.type_flags,
        name: details::fanout_type(fanout.type_flags),
    }),
});

/// The `PDI_*` flags by the names ss gives them.
struct PacketFlags(u32);

impl Serialize for PacketFlags {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(
            details::PACKET_FLAG_NAMES
                .iter()
                .filter(|(bit, _)| self.0 & bit != 0)
                .map(|(_, name)| name),
        )
    }
}

struct RingJson(PacketRing);

json_object!(RingJson, |this| let ring = &this.0; {
    "block_size" => ring.block_size,
    "block_nr" => ring.block_nr,
    "frame_size" => ring.frame_size,
    "frame_nr" => ring.frame_nr,
    "retire_tmo" => ring.retire_tmo,
    "sizeof_priv" => ring.sizeof_priv,
    "features" => ring.features,
});

#[derive(Serialize)]
struct FanoutJson {
    id: u16,
    mode: u16,
    name: Option<&'static str>,
}

/// A classic BPF program as `[code, jt, jf, k]` instructions.
struct BpfProgram<'a>(SockFilterProgram<'a>);

impl Serialize for BpfProgram<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.instructions().map(|insn| {
            [
                u32::from(insn.code),
                u32::from(insn.jt),
                u32::from(insn.jf),
                insn.k,
            ]
        }))
    }
}

/// The multicast groups a netlink socket joined, by number (group 1 is bit 0).
struct Groups<'a>(NetlinkGroups<'a>);

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.groups())
    }
}

/// `struct mptcp_info`, every field by its kernel name without the `mptcpi_` prefix.
struct MptcpInfoJson<'a>(Extensible<'a, MptcpInfo>);

json_object!(MptcpInfoJson<'_>, |this| let i = this.0.get(); {
    "subflows" => i.subflows,
    "add_addr_signal" => i.add_addr_signal,
    "add_addr_accepted" => i.add_addr_accepted,
    "subflows_max" => i.subflows_max,
    "add_addr_signal_max" => i.add_addr_signal_max,
    "add_addr_accepted_max" => i.add_addr_accepted_max,
    "fallback" => i.flags.get() & MPTCP_INFO_FLAG_FALLBACK != 0,
    "remote_key" => i.flags.get() & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED != 0,
    "token" => Hex(u64::from(i.token.get())),
    "write_seq" => i.write_seq.get(),
    "snd_una" => i.snd_una.get(),
    "rcv_nxt" => i.rcv_nxt.get(),
    "local_addr_used" => i.local_addr_used,
    "local_addr_max" => i.local_addr_max,
    "csum_enabled" => i.csum_enabled != 0,
    "retransmits" => i.retransmits.get(),
    "bytes_retrans" => i.bytes_retrans.get(),
    "bytes_sent" => i.bytes_sent.get(),
    "bytes_received" => i.bytes_received.get(),
    "bytes_acked" => i.bytes_acked.get(),
    "subflows_total" => i.subflows_total,
    "last_data_sent_ms" => i.last_data_sent.get(),
    "last_data_recv_ms" => i.last_data_recv.get(),
    "last_ack_recv_ms" => i.last_ack_recv.get(),
});

/// A TCP socket's upper layer protocol, and for an MPTCP subflow its state.
struct UlpJson<'a>(UlpInfo<'a>);

json_object!(UlpJson<'_>, |this| {
    "name" => String::from_utf8_lossy(this.0.name),
    "mptcp_subflow" => this.0.subflow.map(SubflowJson),
});

struct SubflowJson(Subflow);

json_object!(SubflowJson, |this| let f = &this.0; {
    "flags" => f.flags,
    "token_rem" => Hex(u64::from(f.token_rem)),
    "token_loc" => Hex(u64::from(f.token_loc)),
    "id_rem" => f.id_rem,
    "id_loc" => f.id_loc,
    "relwrite_seq" => f.relwrite_seq,
    "map_seq" => f.map_seq,
    "map_sfseq" => f.map_sfseq,
    "ssn_offset" => f.ssn_offset,
    "map_datalen" => f.map_datalen,
});

#[derive(Serialize)]
struct TimerJson {
    name: &'static str,
    expires_ms: u32,
    retrans: u8,
}

#[derive(Serialize)]
struct ShutdownJson {
    receive: bool,
    send: bool,
}

#[derive(Serialize)]
struct Vfs {
    inode: u32,
    dev: Device,
}

#[derive(Serialize)]
struct Device {
    major: u32,
    minor: u32,
}

/// Inodes, lowest first as the kernel lists them.
struct Inodes<'a>(UnixDiagIcons<'a>);

impl Serialize for Inodes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter())
    }
}

struct SockOpts(InetDiagSockopt);

impl Serialize for SockOpts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.names())
    }
}

struct SkMemJson(SkMem);

impl Serialize for SkMemJson {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const NAMES: [&str; 9] = [
            "rmem_alloc",
            "rcvbuf",
            "wmem_alloc",
            "sndbuf",
            "fwd_alloc",
            "wmem_queued",
            "optmem",
            "backlog",
            "drops",
        ];
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in NAMES
            .iter()
            .zip(&self.0.values)
            .take(usize::from(self.0.len))
        {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// tcp_info in the kernel's own units, named with them; rates in bits per second.
struct TcpInfoJson<'a> {
    info: TcpInfo,
    details: &'a Details<'a>,
}

impl Serialize for TcpInfoJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let i = &self.info;
        let d = self.details;
        let rate = |bytes_per_second: u64| {
            (bytes_per_second != u64::MAX).then(|| bytes_per_second.saturating_mul(8))
        };
        let mut map = serializer.serialize_map(None)?;
        json_entries!(map, {
            "congestion" => d.congestion.map(|name| String::from_utf8_lossy(name)),
            "ca_state" => i.ca_state,
            "retransmits" => i.retransmits,
            "probes" => i.probes,
            "backoff" => i.backoff,
            "options" => TcpOptions(i.options),
            "snd_wscale" => i.snd_wscale(),
            "rcv_wscale" => i.rcv_wscale(),
            "delivery_rate_app_limited" => i.delivery_rate_app_limited(),
            "rto_us" => i.rto.get(),
            "ato_us" => i.ato.get(),
            "snd_mss" => i.snd_mss.get(),
            "rcv_mss" => i.rcv_mss.get(),
            "unacked" => i.unacked.get(),
            "sacked" => i.sacked.get(),
            "lost" => i.lost.get(),
            "retrans" => i.retrans.get(),
            "fackets" => i.fackets.get(),
            "last_data_sent_ms" => i.last_data_sent.get(),
            "last_ack_sent_ms" => i.last_ack_sent.get(),
            "last_data_recv_ms" => i.last_data_recv.get(),
            "last_ack_recv_ms" => i.last_ack_recv.get(),
            "pmtu" => i.pmtu.get(),
            "rcv_ssthresh" => i.rcv_ssthresh.get(),
            "rtt_us" => i.rtt.get(),
            "rttvar_us" => i.rttvar.get(),
            "snd_ssthresh" => i.snd_ssthresh.get(),
            "snd_cwnd" => i.snd_cwnd.get(),
            "advmss" => i.advmss.get(),
            "reordering" => i.reordering.get(),
            "rcv_rtt_us" => i.rcv_rtt.get(),
            "rcv_space" => i.rcv_space.get(),
            "total_retrans" => i.total_retrans.get(),
            "pacing_rate_bps" => rate(i.pacing_rate.get()),
            "max_pacing_rate_bps" => rate(i.max_pacing_rate.get()),
            "bytes_acked" => i.bytes_acked.get(),
            "bytes_received" => i.bytes_received.get(),
            "segs_out" => i.segs_out.get(),
            "segs_in" => i.segs_in.get(),
            "notsent_bytes" => i.notsent_bytes.get(),
            "min_rtt_us" => i.min_rtt.get(),
            "data_segs_in" => i.data_segs_in.get(),
            "data_segs_out" => i.data_segs_out.get(),
            "delivery_rate_bps" => rate(i.delivery_rate.get()),
            "busy_time_us" => i.busy_time.get(),
            "rwnd_limited_us" => i.rwnd_limited.get(),
            "sndbuf_limited_us" => i.sndbuf_limited.get(),
            "delivered" => i.delivered.get(),
            "delivered_ce" => i.delivered_ce.get(),
            "bytes_sent" => i.bytes_sent.get(),
            "bytes_retrans" => i.bytes_retrans.get(),
            "dsack_dups" => i.dsack_dups.get(),
            "reord_seen" => i.reord_seen.get(),
            "rcv_ooopack" => i.rcv_ooopack.get(),
            "snd_wnd" => i.snd_wnd.get(),
            "rcv_wnd" => i.rcv_wnd.get(),
            "rehash" => i.rehash.get(),
            "send_bps" => details::send_rate(i).map(|bps| bps.round() as u64),
        });
        if let Some(bbr) = d.bbr {
            map.serialize_entry(
                "bbr",
                &BbrJson {
                    bw_bps: bbr.bandwidth().saturating_mul(8),
                    min_rtt_us: bbr.min_rtt.get(),
                    pacing_gain: f64::from(bbr.pacing_gain.get()) / 256.0,
                    cwnd_gain: f64::from(bbr.cwnd_gain.get()) / 256.0,
                },
            )?;
        }
        if let Some(dctcp) = d.dctcp {
            map.serialize_entry(
                "dctcp",
                &DctcpJson {
                    enabled: dctcp.enabled.get() != 0,
                    ce_state: dctcp.ce_state.get(),
                    alpha: dctcp.alpha.get(),
                    ab_ecn: dctcp.ab_ecn.get(),
                    ab_tot: dctcp.ab_tot.get(),
                },
            )?;
        }
        map.end()
    }
}

/// The names of `tcpi_options` bits.
struct TcpOptions(u8);

impl Serialize for TcpOptions {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const NAMES: [&str; 6] = ["ts", "sack", "wscale", "ecn", "ecn_seen", "syn_data"];
        serializer.collect_seq(
            NAMES
                .iter()
                .enumerate()
                .filter(|(bit, _)| self.0 & (1 << bit) != 0)
                .map(|(_, name)| name),
        )
    }
}

#[derive(Serialize)]
struct BbrJson {
    bw_bps: u64,
    min_rtt_us: u32,
    pacing_gain: f64,
    cwnd_gain: f64,
}

#[derive(Serialize)]
struct DctcpJson {
    enabled: bool,
    ce_state: u16,
    alpha: u32,
    ab_ecn: u32,
    ab_tot: u32,
}

/// A unix name as the table shows it (the path, `@name` for an abstract name, every NUL shown
/// as `@`), or null when unnamed.
fn unix_path(name: UnixName<'_>) -> Option<Cow<'_, [u8]>> {
    match name {
        UnixName::Unnamed => None,
        UnixName::Path(path) => Some(Cow::Borrowed(path)),
        UnixName::Abstract(_) => {
            let mut text = Vec::new();
            endpoint::push_unix_name(&mut text, name);
            Some(Cow::Owned(text))
        }
    }
}

/// A name the kernel or /proc gives as bytes (a unix path, a process or interface name), as
/// the string field `key` (null for `None`). JSON strings are Unicode, so a name that is not
/// UTF-8 is shown there with U+FFFD in place of each bad sequence, and its exact bytes follow
/// in `bytes_key`, an array of integers: the one lossless form, present only when needed.
fn serialize_name<M: SerializeMap>(
    map: &mut M,
    key: &'static str,
    bytes_key: &'static str,
    name: Option<&[u8]>,
) -> Result<(), M::Error> {
    match name.map(std::str::from_utf8) {
        None => map.serialize_entry(key, &None::<&str>),
        Some(Ok(text)) => map.serialize_entry(key, text),
        Some(Err(_)) => {
            let name = name.unwrap_or_default();
            map.serialize_entry(key, &String::from_utf8_lossy(name))?;
            map.serialize_entry(bytes_key, name)
        }
    }
}

/// A number as a hexadecimal string (the socket cookie, as ss's `sk:` shows it).
pub(super) struct Hex(pub(super) u64);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:x}", self.0))
    }
}

/// Serializes through `Display` without an intermediate `String`.
struct Displayed<T>(T);

/// An address as the table spells it (IPv6 as inet_ntop prints it), without its brackets.
struct Address(std::net::IpAddr);

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            std::net::IpAddr::V4(v4) => v4.fmt(f),
            std::net::IpAddr::V6(v6) => super::endpoint::Inet6(v6).fmt(f),
        }
    }
}

impl<T: std::fmt::Display> Serialize for Displayed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Named<'a>(Option<&'a [u8]>);

    impl Serialize for Named<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(None)?;
            serialize_name(&mut map, "comm", "comm_bytes", self.0)?;
            map.end()
        }
    }

    #[test]
    fn names_that_are_not_utf8_add_their_bytes() {
        let json = |name| serde_json::to_string(&Named(name)).unwrap();
        assert_eq!(json(Some(b"sshd")), r#"{"comm":"sshd"}"#);
        assert_eq!(json(None), r#"{"comm":null}"#);
        assert_eq!(
            json(Some(b"a\xff")),
            "{\"comm\":\"a\u{fffd}\",\"comm_bytes\":[97,255]}"
        );
    }
}
