//! The details ss prints after the columns: timers (`-o`), `-e`, `--tos`, `--cgroup`, and on
//! indented lines below (or on the same line with `-O`) `--inet-sockopt`, memory (`-m`) and
//! tcp_info (`-i`), each in ss's order, spelling and number formats.

use std::fmt::Write as _;

use super::names::Names;
use crate::config::DetailFlags;
use crate::socket::{Endpoints, Netid, SkMem, Socket, TcpState, Timer};
use crate::wire::tcp::{
    SOCKOPT_NAMES, TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN, TCPI_OPT_SACK, TCPI_OPT_SYN_DATA,
    TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE, TcpBbrInfo, TcpDctcpInfo, TcpInfo,
};

/// The name ss gives a timer kind.
pub fn timer_name(kind: u8) -> &'static str {
    match kind {
        1 => "on",
        2 => "keepalive",
        3 => "timewait",
        4 => "persist",
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
        if let Some(uid) = socket.uid.filter(|&uid| uid != 0) {
            let _ = write!(out, " uid:{uid}");
        }
        let _ = write!(
            out,
            " ino:{} sk:{:x}",
            socket.inode,
            socket.cookie.unwrap_or(0)
        );
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
        if let Some(bits) = details.sockopt {
            out.push_str(if flags.oneline { " " } else { "\n\t" });
            out.push_str("inet-sockopt: (");
            for (bit, name) in SOCKOPT_NAMES.iter().enumerate() {
                if bits & (1 << bit) != 0 {
                    out.push(' ');
                    out.push_str(name);
                }
            }
            out.push(')');
        }
    }
    // As in ss, the line for memory and tcp_info opens for every socket, even when the
    // kernel has nothing to fill it with (minisockets: SYN-RECV, TIME-WAIT), and tcp_info
    // alone opens it only for TCP.
    let tcp = matches!(socket.netid, Netid::Tcp | Netid::Mptcp | Netid::Dccp);
    if flags.memory || (flags.info && tcp) {
        if !flags.oneline {
            out.push_str("\n\t");
        }
        if flags.memory {
            write_memory(out, details.skmem, details.meminfo);
        }
        // tcp_info comes only when -i asks for it, except in destroy events (-E), which
        // always carry it: ss then prints it with -m too.
        if let Some(bytes) = details.tcp_info.filter(|_| flags.info || flags.memory) {
            // As in ss, the negotiated options come with -o (which -e implies).
            let options = flags.timers || flags.extended;
            write_tcp_info(out, socket, bytes, numeric, options);
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
        if let Some((inode, dev)) = details.vfs {
            // The kernel sends its internal encoding (major above bit 20); ss splits it with
            // glibc's major() and minor(), which expect the user-space one. We print what ss
            // prints.
            let (major, minor) = ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff));
            let _ = write!(out, " ino:{inode} dev:{major}/{minor}");
        }
        if let Some(pending) = details.pending {
            out.push_str(" peers:");
            for inode in pending.chunks_exact(4) {
                let inode = u32::from_ne_bytes(inode.try_into().expect("four bytes"));
                let _ = write!(out, " {inode}");
            }
        }
    }
}

fn write_timer(out: &mut String, timer: &Timer) {
    let _ = write!(out, " timer:({},", timer_name(timer.kind));
    push_duration(out, timer.expires_ms);
    let _ = write!(out, ",{})", timer.retransmits);
}

/// A timer's time to expiry as ss writes it: whole minutes from ten minutes up, minutes and
/// seconds from one minute, seconds from ten seconds, and below that milliseconds (with ss's
/// quirk of `1.696ms` for 1696 ms).
pub fn push_duration(out: &mut String, ms: u32) {
    let seconds = ms / 1000;
    let _ = match ms {
        600_000.. => write!(out, "{}min", seconds / 60),
        60_000.. if seconds % 60 == 0 => write!(out, "{}min", seconds / 60),
        60_000.. => write!(out, "{}min{}sec", seconds / 60, seconds % 60),
        10_000.. => write!(out, "{seconds}sec"),
        1000.. => write!(out, "{seconds}.{:03}ms", ms % 1000),
        _ => write!(out, "{ms}ms"),
    };
}

/// `<->`: the first mark is `-` once receiving is shut down, the last once sending is.
fn write_shutdown(out: &mut String, mask: u8) {
    out.push(' ');
    out.push(if mask & 1 != 0 { '-' } else { '<' });
    out.push('-');
    out.push(if mask & 2 != 0 { '-' } else { '>' });
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
    bytes: &[u8],
    numeric: bool,
    options: bool,
) {
    let info = TcpInfo::read(bytes);
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
    if let Some(dctcp) = details.dctcp.map(TcpDctcpInfo::read) {
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
    if let Some(bbr) = details.bbr.map(TcpBbrInfo::read) {
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
    if let Some(send) = send_rate(&info) {
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
    let counts: [(&str, u64); 2] = [
        ("rcv_ooopack", info.rcv_ooopack.get().into()),
        ("snd_wnd", info.snd_wnd.get().into()),
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
    for &(name, value) in counts {
        if value != 0 {
            let _ = write!(out, " {name}:{value}");
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
        let _ = write!(out, "{bps:.0}");
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

/// C's `%.Ng`: `precision` significant digits, trailing zeros removed, in exponent form
/// when the exponent is below -4 or not below the precision.
pub fn push_g(out: &mut String, value: f64, precision: usize) {
    if value == 0.0 {
        out.push('0');
        return;
    }
    let precision = precision.max(1);
    // Rounding to the significant digits decides the exponent (999999.5 is 1e+06).
    let mut scientific = StackText::default();
    let _ = write!(scientific, "{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.as_str().split_once('e').expect("an exponent");
    let exponent: i32 = exponent.parse().expect("a number");
    if exponent < -4 || exponent >= precision as i32 {
        out.push_str(trim_zeros(mantissa));
        let _ = write!(
            out,
            "e{}{:02}",
            if exponent < 0 { '-' } else { '+' },
            exponent.abs()
        );
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        let mut fixed = StackText::default();
        let _ = write!(fixed, "{value:.decimals$}");
        out.push_str(trim_zeros(fixed.as_str()));
    }
}

/// A short text on the stack, so that formatting a number allocates nothing. `%g` of an
/// `f64` needs at most a few dozen bytes; anything longer is cut.
struct StackText {
    bytes: [u8; 64],
    len: usize,
}

impl Default for StackText {
    fn default() -> Self {
        StackText {
            bytes: [0; 64],
            len: 0,
        }
    }
}

impl StackText {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        let end = self.len + text.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(text.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(value: f64, precision: usize) -> String {
        let mut out = String::new();
        push_g(&mut out, value, precision);
        out
    }

    #[test]
    fn percent_g_as_c_prints_it() {
        assert_eq!(g(204.0, 6), "204");
        assert_eq!(g(0.003, 6), "0.003");
        assert_eq!(g(5.144, 6), "5.144");
        assert_eq!(g(2.88671875, 6), "2.88672");
        assert_eq!(g(1234567.0, 6), "1.23457e+06");
        assert_eq!(g(0.00001, 6), "1e-05");
        assert_eq!(g(999999.5, 6), "1e+06");
        assert_eq!(g(87.381328120, 3), "87.4");
        assert_eq!(g(2.495171132, 3), "2.5");
        assert_eq!(g(131.072, 3), "131");
        assert_eq!(g(0.0, 6), "0");
    }

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

    /// Values ss printed for keepalive timers set to fire after known times.
    #[test]
    fn durations_as_ss_prints_them() {
        let cases = [
            (696, "696ms"),
            (1696, "1.696ms"),
            (9696, "9.696ms"),
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
