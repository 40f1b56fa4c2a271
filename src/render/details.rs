//! The details ss prints after the columns: timers (`-o`), `-e`, `--tos`, `--cgroup`, and on
//! indented lines below (or on the same line with `-O`) `--inet-sockopt`, memory (`-m`) and
//! tcp_info (`-i`), each in ss's order, spelling and number formats.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::cformat::{push_g, push_integral};
use super::endpoint::Inet6;
use crate::names::Names;
use crate::render::options::DetailFlags;
use crate::socket::{Endpoints, Netid, Shutdown, SkMem, Socket, TcpState, Timer};
use crate::wire::inet::Md5Keys;
use crate::wire::mptcp::{
    MPTCP_INFO_FLAG_FALLBACK, MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED, MPTCP_SUBFLOW_FLAG_BKUP_LOC,
    MPTCP_SUBFLOW_FLAG_BKUP_REM, MPTCP_SUBFLOW_FLAG_CONNECTED,
    MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED, MPTCP_SUBFLOW_FLAG_JOIN_LOC, MPTCP_SUBFLOW_FLAG_JOIN_REM,
    MPTCP_SUBFLOW_FLAG_MAPVALID, MPTCP_SUBFLOW_FLAG_MCAP_LOC, MPTCP_SUBFLOW_FLAG_MCAP_REM,
    MptcpInfo, UlpInfo,
};
use crate::wire::packet::{
    PACKET_FANOUT_CPU, PACKET_FANOUT_HASH, PACKET_FANOUT_LB, PACKET_FANOUT_QM, PACKET_FANOUT_RND,
    PACKET_FANOUT_ROLLOVER, PDI_AUXDATA, PDI_LOSS, PDI_ORIGDEV, PDI_RUNNING, PDI_VNETHDR,
};
use crate::wire::tcp::{
    TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN, TCPI_OPT_SACK, TCPI_OPT_SYN_DATA, TCPI_OPT_TIMESTAMPS,
    TCPI_OPT_WSCALE, TcpInfo,
};

/// The name ss gives a timer kind.
pub fn timer_name(kind: u8) -> &'static str {
    match kind {
        1 => "on",
        2 => "keepalive",
        3 => "timewait",
        4 => "persist",
        // The delayed-ACK timer, which newer kernels report and ss 7.1 names.
        5 => "delack",
        _ => "unknown",
    }
}

/// Appends the details of `socket` to `out`, as text; `scratch` is a reused buffer for number
/// formatting.
pub fn write(
    out: &mut Vec<u8>,
    scratch: &mut String,
    socket: &Socket<'_>,
    flags: &DetailFlags,
    numeric: bool,
    names: &mut Names,
) {
    scratch.clear();
    match socket.endpoints {
        Endpoints::Inet(ends) => inet(scratch, socket, ends.v6only, flags, numeric, names),
        Endpoints::Unix(_) => unix(scratch, socket, flags),
        Endpoints::Packet(_) => packet(scratch, socket, flags),
        Endpoints::Netlink(_) => netlink(scratch, socket, flags),
    }
    out.extend_from_slice(scratch.as_bytes());
}

fn inet(
    out: &mut String,
    socket: &Socket<'_>,
    v6only: Option<bool>,
    flags: &DetailFlags,
    numeric: bool,
    names: &mut Names,
) {
    let details = &socket.details;
    // Sockets read from /proc carry a timer but none of sock_diag's other details; ss prints
    // only the timer for them.
    let from_diag = socket.cookie.is_some();
    if flags.timers || flags.extended {
        if let Some(timer) = details.timer {
            write_timer(out, &timer);
        }
    }
    if flags.extended && from_diag {
        write_identity(out, socket);
        if let Some(mark) = socket.mark.filter(|&mark| mark != 0) {
            let _ = write!(out, " fwmark:{mark:#x}");
        }
        if let Some(id) = socket.cgroup_id {
            let _ = write!(out, " cgroup:{}", names.cgroup_path(id));
        }
        if let Some(v6only) = v6only {
            let _ = write!(out, " v6only:{}", u8::from(v6only));
        }
        if let Some(shutdown) = details.shutdown {
            write_shutdown(out, shutdown);
        }
    }
    if flags.tos {
        if let Some(tos) = details.tos {
            out.push_str(" tos:");
            push_hash_hex(out, u64::from(tos));
        }
        if let Some(tclass) = details.tclass {
            out.push_str(" tclass:");
            push_hash_hex(out, u64::from(tclass));
        }
        if let Some(class_id) = details.class_id {
            out.push_str(" class_id:");
            push_hash_hex(out, u64::from(class_id));
        }
    }
    if flags.cgroup {
        if let Some(id) = socket.cgroup_id {
            let _ = write!(out, " cgroup:{}", names.cgroup_path(id));
        }
    }
    if flags.sockopt {
        if let Some(sockopt) = details.sockopt {
            out.push_str(if flags.oneline { " " } else { "\n\t" });
            out.push_str("inet-sockopt: (");
            for name in sockopt.names() {
                out.push(' ');
                out.push_str(name);
            }
            out.push(')');
        }
    }
    // As in ss, the line for memory and tcp_info opens for every socket, even when the
    // kernel has nothing to fill it with (minisockets: SYN-RECV, TIME-WAIT), and tcp_info
    // alone opens it only for TCP.
    // Raw sockets read from /proc have no memory to show: ss opens no line for them.
    let tcp = matches!(socket.netid, Netid::Tcp | Netid::Mptcp | Netid::Dccp);
    let proc_raw = !from_diag && socket.netid == Netid::Raw;
    if !proc_raw && (flags.memory || (flags.info && tcp)) {
        if !flags.oneline {
            out.push_str("\n\t");
        }
        if flags.memory {
            write_memory(out, details.skmem, details.meminfo);
        }
        // tcp_info comes only when -i asks for it, except in destroy events (-E), which
        // always carry it: ss then prints it with -m too.
        if let Some(info) = details.tcp_info.filter(|_| flags.info || flags.memory) {
            // As in ss, the negotiated options come with -o (which -e implies).
            let options = flags.timers || flags.extended;
            write_tcp_info(out, socket, &info.get(), numeric, options);
        }
        if let Some(info) = details.mptcp_info.filter(|_| flags.info) {
            write_mptcp_info(out, &info.get());
        }
        if let Some(keys) = details.md5keys.filter(|_| flags.info) {
            write_md5keys(out, &keys);
        }
        // A malformed nest was left out by the decoder: it shows as nothing, like a missing one.
        if let Some(ulp) = details.ulp.filter(|_| flags.info) {
            write_ulp(out, &ulp);
        }
    }
}

/// `-e`, `-b` and `-m` for a packet socket: owner, inode and cookie, then (each on its own
/// line unless `-O`) the ring version and flags, the rings, the fanout group and the BPF
/// filter; memory goes at the end of the last line.
fn packet(out: &mut String, socket: &Socket<'_>, flags: &DetailFlags) {
    let packet = &socket.details.packet;
    let line = if flags.oneline { " " } else { "\n\t" };
    if flags.extended {
        write_identity(out, socket);
        if let Some(info) = packet.info {
            let _ = write!(
                out,
                "{line}ver:{} cpy_thresh:{} flags(",
                info.version, info.copy_thresh
            );
            // ss leaves running's place blank when a socket has other flags but is not
            // running (its device is down): `flags(  auxdata )`.
            if info.flags == 0 {
                out.push_str(" 0");
            } else if info.flags & PDI_RUNNING == 0 {
                out.push(' ');
            }
            for &(bit, name) in &PACKET_FLAG_NAMES {
                if info.flags & bit != 0 {
                    out.push(' ');
                    out.push_str(name);
                }
            }
            out.push_str(" )");
        }
        for (name, ring) in [("ring_rx", packet.rx_ring), ("ring_tx", packet.tx_ring)] {
            if let Some(ring) = ring {
                let _ = write!(
                    out,
                    "{line}{name}(blk_size:{},blk_nr:{},frm_size:{},frm_nr:{},tmo:{},features:{:#x})",
                    ring.block_size,
                    ring.block_nr,
                    ring.frame_size,
                    ring.frame_nr,
                    ring.retire_tmo,
                    ring.features
                );
            }
        }
        if let Some(fanout) = packet.fanout {
            let _ = write!(out, "{line}fanout(id:{},type:", fanout.id);
            match fanout_type(fanout.type_flags) {
                Some(name) => out.push_str(name),
                None => {
                    let _ = write!(out, "{:#x}", fanout.type_flags);
                }
            }
            out.push(')');
        }
    }
    if flags.bpf {
        if let Some(program) = packet.filter {
            let _ = write!(out, "{line}bpf filter ({}): ", program.len());
            for insn in program.instructions() {
                let _ = write!(
                    out,
                    " {:#04x} {} {} {},",
                    insn.code, insn.jt, insn.jf, insn.k
                );
            }
        }
    }
    if flags.memory {
        write_memory(out, socket.details.skmem, None);
    }
}

/// `-e`'s first words for an inet or packet socket: its owner (when not root), inode and
/// cookie.
fn write_identity(out: &mut String, socket: &Socket<'_>) {
    if let Some(uid) = socket.uid.filter(|&uid| uid != 0) {
        let _ = write!(out, " uid:{uid}");
    }
    let _ = write!(
        out,
        " ino:{} sk:{:x}",
        socket.inode,
        socket.cookie.unwrap_or(0)
    );
}

/// The `PDI_*` flags of a packet socket, as ss names them.
pub const PACKET_FLAG_NAMES: [(u32, &str); 5] = [
    (PDI_RUNNING, "running"),
    (PDI_AUXDATA, "auxdata"),
    (PDI_ORIGDEV, "origdev"),
    (PDI_VNETHDR, "vnethdr"),
    (PDI_LOSS, "loss"),
];

/// The `PACKET_FANOUT_*` modes by name, as ss names them.
pub fn fanout_type(type_flags: u16) -> Option<&'static str> {
    Some(match type_flags {
        PACKET_FANOUT_HASH => "hash",
        PACKET_FANOUT_LB => "lb",
        PACKET_FANOUT_CPU => "cpu",
        PACKET_FANOUT_ROLLOVER => "roll",
        PACKET_FANOUT_RND => "random",
        PACKET_FANOUT_QM => "qm",
        _ => return None,
    })
}

/// `-e` and `-m` for a netlink socket. ss prints the kernel's socket and callback pointers,
/// which netlink_diag does not report (0; /proc/net/netlink gives a hashed socket address),
/// and the first 32 groups as a mask; memory follows a tab, on the same line even without
/// `-O`.
fn netlink(out: &mut String, socket: &Socket<'_>, flags: &DetailFlags) {
    if flags.extended {
        let groups = socket
            .details
            .groups
            .map_or(0, |groups| groups.first_word());
        let address = socket.details.kernel_address.unwrap_or(0);
        let _ = write!(out, " sk={address:x} cb=0 groups={groups:#010x}");
    }
    if flags.memory {
        if let Some(skmem) = socket.details.skmem {
            out.push('\t');
            write_memory(out, Some(skmem), None);
        }
    }
}

fn unix(out: &mut String, socket: &Socket<'_>, flags: &DetailFlags) {
    let details = &socket.details;
    if flags.memory {
        if let Some(skmem) = details.skmem {
            write_memory(out, Some(skmem), None);
        }
    }
    if flags.extended {
        if let Some(shutdown) = details.shutdown {
            write_shutdown(out, shutdown);
        }
        if let Some(vfs) = details.vfs {
            // ss splits the kernel's internal encoding with glibc's major() and minor(): we
            // print what ss prints.
            let (major, minor) = vfs.user_space_split();
            let _ = write!(out, " ino:{} dev:{major}/{minor}", vfs.inode.get());
        }
        if let Some(pending) = details.pending {
            out.push_str(" peers:");
            for inode in pending.iter() {
                let _ = write!(out, " {inode}");
            }
        }
    }
}

/// An MPTCP socket's line of `-i`, as ss 7.1 prints it: each count when it is not 0, the flags
/// by name, the sequence numbers in decimal.
fn write_mptcp_info(out: &mut String, info: &MptcpInfo) {
    let counts: [(&str, u64); 6] = [
        ("subflows", info.subflows.into()),
        ("add_addr_signal", info.add_addr_signal.into()),
        ("add_addr_accepted", info.add_addr_accepted.into()),
        ("subflows_max", info.subflows_max.into()),
        ("add_addr_signal_max", info.add_addr_signal_max.into()),
        ("add_addr_accepted_max", info.add_addr_accepted_max.into()),
    ];
    write_counts(out, &counts);
    if info.flags.get() & MPTCP_INFO_FLAG_FALLBACK != 0 {
        out.push_str(" fallback");
    }
    if info.flags.get() & MPTCP_INFO_FLAG_REMOTE_KEY_RECEIVED != 0 {
        out.push_str(" remote_key");
    }
    if info.token.get() != 0 {
        let _ = write!(out, " token:{:x}", info.token.get());
    }
    // ss 7.1 prints the sequence numbers in decimal (6.1 in hex) and the counts after them.
    let counts: [(&str, u64); 14] = [
        ("write_seq", info.write_seq.get()),
        ("snd_una", info.snd_una.get()),
        ("rcv_nxt", info.rcv_nxt.get()),
        ("local_addr_used", info.local_addr_used.into()),
        ("local_addr_max", info.local_addr_max.into()),
        ("retransmits", info.retransmits.get().into()),
        ("bytes_retrans", info.bytes_retrans.get()),
        ("bytes_sent", info.bytes_sent.get()),
        ("bytes_received", info.bytes_received.get()),
        ("bytes_acked", info.bytes_acked.get()),
        ("subflows_total", info.subflows_total.into()),
        ("last_data_sent", info.last_data_sent.get().into()),
        ("last_data_recv", info.last_data_recv.get().into()),
        ("last_ack_recv", info.last_ack_recv.get().into()),
    ];
    write_counts(out, &counts);
}

/// ` md5keys:PEER/PREFIX=,...`: the peers of the socket's TCP-MD5 keys as ss prints them, each
/// with an empty key. ss 6.1 leaks the keys' bytes in front of its output and 7.1 prints them
/// after the `=`; a listing is no place for secrets, so sockscope prints neither.
fn write_md5keys(out: &mut String, keys: &Md5Keys<'_>) {
    for (i, (ip, prefix)) in keys.peers().enumerate() {
        out.push_str(if i == 0 { " md5keys:" } else { "," });
        let _ = match ip {
            IpAddr::V4(v4) => write!(out, "{v4}/{prefix}="),
            IpAddr::V6(v6) => write!(out, "{}/{prefix}=", Inet6(v6)),
        };
    }
}

/// ` tcp-ulp-NAME`, and for an MPTCP subflow its flags (a letter each: MP_CAPABLE, JOIN and
/// backup, upper case for the peer's, lower case for ours; then fully established,
/// connected, mapping valid), tokens and ids (the peer's first), and its current mapping.
fn write_ulp(out: &mut String, ulp: &UlpInfo<'_>) {
    out.push_str(" tcp-ulp-");
    out.push_str(&String::from_utf8_lossy(ulp.name));
    let Some(subflow) = ulp.subflow else {
        return;
    };
    out.push_str(" flags:");
    for (bit, letter) in [
        (MPTCP_SUBFLOW_FLAG_MCAP_REM, 'M'),
        (MPTCP_SUBFLOW_FLAG_MCAP_LOC, 'm'),
        (MPTCP_SUBFLOW_FLAG_JOIN_REM, 'J'),
        (MPTCP_SUBFLOW_FLAG_JOIN_LOC, 'j'),
        (MPTCP_SUBFLOW_FLAG_BKUP_REM, 'B'),
        (MPTCP_SUBFLOW_FLAG_BKUP_LOC, 'b'),
        (MPTCP_SUBFLOW_FLAG_FULLY_ESTABLISHED, 'e'),
        (MPTCP_SUBFLOW_FLAG_CONNECTED, 'c'),
        (MPTCP_SUBFLOW_FLAG_MAPVALID, 'v'),
    ] {
        if subflow.flags & bit != 0 {
            out.push(letter);
        }
    }
    let _ = write!(
        out,
        " token:{:04x}(id:{})/{:04x}(id:{}) seq:{} sfseq:{} ssnoff:{} maplen:{}",
        subflow.token_rem,
        subflow.id_rem,
        subflow.token_loc,
        subflow.id_loc,
        subflow.map_seq,
        subflow.map_sfseq,
        subflow.ssn_offset,
        subflow.map_datalen
    );
}

fn write_timer(out: &mut String, timer: &Timer) {
    let _ = write!(out, " timer:({},", timer_name(timer.kind));
    push_duration(out, timer.expires_ms);
    let _ = write!(out, ",{})", timer.retransmits);
}

/// A timer's time to expiry as ss writes it: minutes, then seconds (dropped from ten minutes
/// up), then milliseconds in three digits (dropped from one minute, or ten seconds, up); the
/// seconds end in `.` when milliseconds follow, in `sec` otherwise, and the milliseconds end
/// in `sec` after seconds, in `ms` alone. So 1696 ms is `1.696sec` (ss 6.1 printed `1.696ms`),
/// 32 ms `032ms`, 1000 ms `1sec`, and 0 ms nothing at all.
pub fn push_duration(out: &mut String, ms: u32) {
    let minutes = ms / 60_000;
    let (mut seconds, mut millis) = (ms / 1000 % 60, ms % 1000);
    if minutes > 0 {
        millis = 0;
        let _ = write!(out, "{minutes}min");
        if minutes > 9 {
            seconds = 0;
        }
    }
    if seconds > 0 {
        if seconds > 9 {
            millis = 0;
        }
        let _ = write!(out, "{seconds}{}", if millis > 0 { "." } else { "sec" });
    }
    if millis > 0 {
        let unit = if seconds > 0 { "sec" } else { "ms" };
        let _ = write!(out, "{millis:03}{unit}");
    }
}

/// `<->`: the first mark is `-` once receiving is shut down, the last once sending is.
fn write_shutdown(out: &mut String, shutdown: Shutdown) {
    out.push(' ');
    out.push(if shutdown.receive() { '-' } else { '<' });
    out.push('-');
    out.push(if shutdown.send() { '-' } else { '>' });
}

fn write_memory(out: &mut String, skmem: Option<SkMem>, meminfo: Option<[u32; 4]>) {
    if let Some(mem) = skmem {
        let v = mem.values;
        let _ = write!(
            out,
            " skmem:(r{},rb{},t{},tb{},f{},w{},o{},bl{}",
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
        );
        if mem.len >= 9 {
            let _ = write!(out, ",d{}", v[8]);
        }
        out.push(')');
    } else if let Some([r, w, f, t]) = meminfo {
        let _ = write!(out, " mem:(r{r},w{w},f{f},t{t})");
    }
}

/// The tcp_info line, in ss's order; each field only when it says something.
fn write_tcp_info(
    out: &mut String,
    socket: &Socket<'_>,
    info: &TcpInfo,
    numeric: bool,
    options: bool,
) {
    let details = &socket.details;
    let ms = |usec: u32| f64::from(usec) / 1000.0;
    for (bit, name) in [
        (TCPI_OPT_TIMESTAMPS, " ts"),
        (TCPI_OPT_SACK, " sack"),
        (TCPI_OPT_ECN, " ecn"),
        (TCPI_OPT_ECN_SEEN, " ecnseen"),
        (TCPI_OPT_SYN_DATA, " fastopen"),
    ] {
        if options && info.options & bit != 0 {
            out.push_str(name);
        }
    }
    if let Some(name) = details.congestion {
        out.push(' ');
        out.push_str(&String::from_utf8_lossy(name));
    }
    if info.options & TCPI_OPT_WSCALE != 0 {
        let _ = write!(out, " wscale:{},{}", info.snd_wscale(), info.rcv_wscale());
    }
    if info.rto.get() != 0 {
        out.push_str(" rto:");
        push_g(out, ms(info.rto.get()), 6);
    }
    if info.backoff != 0 {
        let _ = write!(out, " backoff:{}", info.backoff);
    }
    if info.rtt.get() != 0 {
        out.push_str(" rtt:");
        push_g(out, ms(info.rtt.get()), 6);
        out.push('/');
        push_g(out, ms(info.rttvar.get()), 6);
    }
    if info.ato.get() != 0 {
        out.push_str(" ato:");
        push_g(out, ms(info.ato.get()), 6);
    }
    let counts: [(&str, u64); 5] = [
        ("mss", info.snd_mss.get().into()),
        ("pmtu", info.pmtu.get().into()),
        ("rcvmss", info.rcv_mss.get().into()),
        ("advmss", info.advmss.get().into()),
        ("cwnd", info.snd_cwnd.get().into()),
    ];
    write_counts(out, &counts);
    // Above 0xffff the threshold is the kernel's "infinite".
    let ssthresh = info.snd_ssthresh.get();
    if ssthresh != 0 && ssthresh < 0xffff {
        let _ = write!(out, " ssthresh:{ssthresh}");
    }
    let counts: [(&str, u64); 8] = [
        ("bytes_sent", info.bytes_sent.get()),
        ("bytes_retrans", info.bytes_retrans.get()),
        ("bytes_acked", info.bytes_acked.get()),
        ("bytes_received", info.bytes_received.get()),
        ("segs_out", info.segs_out.get().into()),
        ("segs_in", info.segs_in.get().into()),
        ("data_segs_out", info.data_segs_out.get().into()),
        ("data_segs_in", info.data_segs_in.get().into()),
    ];
    write_counts(out, &counts);
    if let Some(dctcp) = details.dctcp {
        if dctcp.enabled.get() != 0 {
            let _ = write!(
                out,
                " dctcp:(ce_state:{},alpha:{},ab_ecn:{},ab_tot:{})",
                dctcp.ce_state.get(),
                dctcp.alpha.get(),
                dctcp.ab_ecn.get(),
                dctcp.ab_tot.get()
            );
        } else {
            out.push_str(" dctcp:fallback_mode");
        }
    }
    if let Some(bbr) = details.bbr {
        out.push_str(" bbr:(bw:");
        push_rate(out, bbr.bandwidth() as f64 * 8.0, numeric);
        out.push_str("bps,mrtt:");
        push_g(out, ms(bbr.min_rtt.get()), 6);
        if bbr.pacing_gain.get() != 0 {
            out.push_str(",pacing_gain:");
            push_g(out, f64::from(bbr.pacing_gain.get()) / 256.0, 6);
        }
        if bbr.cwnd_gain.get() != 0 {
            out.push_str(",cwnd_gain:");
            push_g(out, f64::from(bbr.cwnd_gain.get()) / 256.0, 6);
        }
        out.push(')');
    }
    if let Some(send) = send_rate(info) {
        out.push_str(" send ");
        push_rate(out, send, numeric);
        out.push_str("bps");
    }
    let counts: [(&str, u64); 3] = [
        ("lastsnd", info.last_data_sent.get().into()),
        ("lastrcv", info.last_data_recv.get().into()),
        ("lastack", info.last_ack_recv.get().into()),
    ];
    write_counts(out, &counts);
    // All ones means no limit, which ss does not print.
    let set = |rate: u64| rate != 0 && rate != u64::MAX;
    if set(info.pacing_rate.get()) {
        out.push_str(" pacing_rate ");
        push_rate(out, info.pacing_rate.get() as f64 * 8.0, numeric);
        out.push_str("bps");
        if set(info.max_pacing_rate.get()) {
            out.push('/');
            push_rate(out, info.max_pacing_rate.get() as f64 * 8.0, numeric);
            out.push_str("bps");
        }
    }
    if info.delivery_rate.get() != 0 {
        out.push_str(" delivery_rate ");
        push_rate(out, info.delivery_rate.get() as f64 * 8.0, numeric);
        out.push_str("bps");
    }
    let counts: [(&str, u64); 2] = [
        ("delivered", info.delivered.get().into()),
        ("delivered_ce", info.delivered_ce.get().into()),
    ];
    write_counts(out, &counts);
    if info.delivery_rate_app_limited() {
        out.push_str(" app_limited");
    }
    let busy = info.busy_time.get();
    if busy != 0 {
        let _ = write!(out, " busy:{}ms", busy / 1000);
        for (name, limited) in [
            ("rwnd_limited", info.rwnd_limited.get()),
            ("sndbuf_limited", info.sndbuf_limited.get()),
        ] {
            if limited != 0 {
                let share = limited as f64 * 100.0 / busy as f64;
                let _ = write!(out, " {name}:{}ms({share:.1}%)", limited / 1000);
            }
        }
    }
    if info.unacked.get() != 0 {
        let _ = write!(out, " unacked:{}", info.unacked.get());
    }
    if info.retrans.get() != 0 || info.total_retrans.get() != 0 {
        let _ = write!(
            out,
            " retrans:{}/{}",
            info.retrans.get(),
            info.total_retrans.get()
        );
    }
    if info.lost.get() != 0 {
        let _ = write!(out, " lost:{}", info.lost.get());
    }
    // A listener's tcp_info reuses sacked for its backlog.
    if info.sacked.get() != 0 && socket.state != TcpState::Listen {
        let _ = write!(out, " sacked:{}", info.sacked.get());
    }
    let counts: [(&str, u64); 2] = [
        ("dsack_dups", info.dsack_dups.get().into()),
        ("fackets", info.fackets.get().into()),
    ];
    write_counts(out, &counts);
    if info.reordering.get() != 3 {
        let _ = write!(out, " reordering:{}", info.reordering.get());
    }
    if info.reord_seen.get() != 0 {
        let _ = write!(out, " reord_seen:{}", info.reord_seen.get());
    }
    if info.rcv_rtt.get() != 0 {
        out.push_str(" rcv_rtt:");
        push_g(out, ms(info.rcv_rtt.get()), 6);
    }
    let counts: [(&str, u64); 3] = [
        ("rcv_space", info.rcv_space.get().into()),
        ("rcv_ssthresh", info.rcv_ssthresh.get().into()),
        ("notsent", info.notsent_bytes.get().into()),
    ];
    write_counts(out, &counts);
    // All ones: no sample yet.
    if info.min_rtt.get() != 0 && info.min_rtt.get() != u32::MAX {
        out.push_str(" minrtt:");
        push_g(out, ms(info.min_rtt.get()), 6);
    }
    // rcv_wnd and rehash as ss 7.1 prints them.
    let counts: [(&str, u64); 4] = [
        ("rcv_ooopack", info.rcv_ooopack.get().into()),
        ("snd_wnd", info.snd_wnd.get().into()),
        ("rcv_wnd", info.rcv_wnd.get().into()),
        ("rehash", info.rehash.get().into()),
    ];
    write_counts(out, &counts);
}

/// The rate the congestion window allows over the smoothed RTT, in bits per second, as ss
/// works it out.
pub fn send_rate(info: &TcpInfo) -> Option<f64> {
    let (rtt, mss, cwnd) = (info.rtt.get(), info.snd_mss.get(), info.snd_cwnd.get());
    (rtt != 0 && mss != 0 && cwnd != 0)
        .then(|| f64::from(cwnd) * f64::from(mss) * 8_000_000.0 / f64::from(rtt))
}

/// ` name:value` for every non-zero value.
fn write_counts(out: &mut String, counts: &[(&str, u64)]) {
    let mut digits = itoa::Buffer::new();
    for &(name, value) in counts {
        if value != 0 {
            out.push(' ');
            out.push_str(name);
            out.push(':');
            out.push_str(digits.format(value));
        }
    }
}

/// C's `%#x`: `0` for zero, `0x...` otherwise.
fn push_hash_hex(out: &mut String, value: u64) {
    let _ = if value == 0 {
        write!(out, "0")
    } else {
        write!(out, "{value:#x}")
    };
}

/// A rate in bits per second: exact with `-n`, otherwise three significant digits and a
/// K/M/G/T suffix, as ss prints them.
fn push_rate(out: &mut String, bps: f64, numeric: bool) {
    if numeric {
        push_integral(out, bps);
        return;
    }
    for (limit, suffix) in [(1e12, 'T'), (1e9, 'G'), (1e6, 'M'), (1e3, 'K')] {
        if bps > limit {
            push_g(out, bps / limit, 3);
            out.push(suffix);
            return;
        }
    }
    push_g(out, bps, 6);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        let rate = |bps: f64, numeric| {
            let mut out = String::new();
            push_rate(&mut out, bps, numeric);
            out
        };
        assert_eq!(rate(87_381_328_120.0, false), "87.4G");
        assert_eq!(rate(1_872_921_600_000.0, false), "1.87T");
        assert_eq!(rate(917_300_156.0, false), "917M");
        assert_eq!(rate(54_613_333_333.33, true), "54613333333");
        assert_eq!(rate(349_242_666_666.67, true), "349242666667");
        assert_eq!(rate(0.0, false), "0");
    }

    /// Values ss 7.1 printed for keepalive timers set to fire after known times, and caught
    /// close to firing.
    #[test]
    fn durations_as_ss_prints_them() {
        let cases = [
            (0, ""),
            (32, "032ms"),
            (696, "696ms"),
            (1000, "1sec"),
            (1696, "1.696sec"),
            (1940, "1.940sec"),
            (9696, "9.696sec"),
            (10696, "10sec"),
            (59696, "59sec"),
            (60696, "1min"),
            (89696, "1min29sec"),
            (119_696, "1min59sec"),
            (120_696, "2min"),
            (599_696, "9min59sec"),
            (600_696, "10min"),
            (3_598_696, "59min"),
            (7_199_696, "119min"),
            (32_766_696, "546min"),
        ];
        for (ms, expected) in cases {
            let mut out = String::new();
            push_duration(&mut out, ms);
            assert_eq!(out, expected, "{ms} ms");
        }
    }
}
