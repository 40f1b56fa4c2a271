//! The two ss versions the output is compared with.
//!
//! sockscope's output follows ss 7.1. The installed ss (6.1 on Debian 12) is always run; its
//! output and ours are compared after [`normalise`] takes out the differences between 6.1 and
//! 7.1 documented in the README, and nothing else. When `SOCKSCOPE_SS71` names an ss 7.1 (CI
//! builds one, see `.ci/run`), ours is also compared with it exactly.

use std::sync::OnceLock;

/// The environment variable naming ss 7.1's binary.
pub const SS71_VARIABLE: &str = "SOCKSCOPE_SS71";

/// ss 7.1's binary, when `SOCKSCOPE_SS71` names one. When it does not, says so on stderr,
/// once per test binary.
pub fn ss71() -> Option<&'static str> {
    static PATH: OnceLock<Option<String>> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var(SS71_VARIABLE).ok().filter(|p| !p.is_empty());
        if path.is_none() {
            super::skip(&format!(
                "{SS71_VARIABLE} is not set: comparing with the installed ss only, not exactly \
                 with ss 7.1"
            ));
        }
        path
    })
    .as_deref()
}

/// Whether the installed `ss` prints as 7.1 does; if not (6.1), comparisons with it
/// [`normalise`] both sides.
pub fn installed_is_71() -> bool {
    static IS_71: OnceLock<bool> = OnceLock::new();
    *IS_71.get_or_init(|| {
        let out = std::process::Command::new("ss").arg("-V").output();
        let version = out.map(|o| super::text(&o.stdout)).unwrap_or_default();
        !version.contains("iproute2-6.") && !version.contains("iproute2-5.")
    })
}

/// What the installed ss printed (`ss()` runs it) and what sockscope printed, as they are to
/// be compared: unchanged when the installed ss is 7.1; else both through [`normalise`], with
/// a terminal's `\r` taken out, for 7.1 shares a terminal's width out over other columns (it
/// prints no Process title without `-p`, and gives the users a column of their own).
pub fn against_installed(ss: impl FnOnce() -> String, ours: &str) -> (String, String) {
    if installed_is_71() {
        return (ss(), ours.to_owned());
    }
    let normalised = |t: &str| normalise(&t.replace('\r', ""));
    (normalised(&ss()), normalised(ours))
}

/// The words ss 7.1 prints in `-i` that 6.1 does not know.
const NEW_IN_71: [&str; 2] = ["rcv_wnd:", "rehash:"];

/// What ss 7.1 added to an MPTCP socket's `-i` line.
const MPTCP_NEW_IN_71: [&str; 11] = [
    "local_addr_used:",
    "local_addr_max:",
    "retransmits:",
    "bytes_retrans:",
    "bytes_sent:",
    "bytes_received:",
    "bytes_acked:",
    "subflows_total:",
    "last_data_sent:",
    "last_data_recv:",
    "last_ack_recv:",
];

/// ss 6.1 prints MPTCP sequence numbers (of the socket and of a subflow's mapping) in hex,
/// 7.1 in decimal. A hex number made of digits alone cannot be told from a decimal one, so
/// the values are masked here; the exact comparison with ss 7.1 checks them.
fn sequence_masked(word: &str, names: &[&str]) -> String {
    for name in names {
        if word.starts_with(name) {
            return format!("{name}*");
        }
    }
    word.to_owned()
}

/// A timer between 1 and 10 seconds as 7.1 prints it: 6.1's `timer:(on,1.940ms,0)` is
/// `timer:(on,1.940sec,0)`.
fn seconds_as_71(word: &str) -> String {
    let mut parts: Vec<String> = word.split(',').map(str::to_owned).collect();
    if let Some(time) = parts.get_mut(1) {
        if let Some(seconds) = time.strip_suffix("ms").filter(|t| t.contains('.')) {
            *time = format!("{seconds}sec");
        }
    }
    parts.join(",")
}

/// Takes out of a listing what differs between ss 6.1 and 7.1 (README, "Which ss"): the
/// "Process" title (7.1 prints it only with `-p`/`-T`), the padding between cells (7.1 pads
/// no cell after the last one with content, and so aligns the details differently), trailing
/// white space, `-o`'s timers of seconds (6.1's `1.940ms` is 7.1's `1.940sec`), `-i`'s
/// `rcv_wnd:` and `rehash:`, and on an MPTCP socket's `-i` line 7.1's new
/// counts and its sequence numbers in decimal. Applied to both outputs alike.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mptcp = line.contains("subflows_max:");
        let subflow = line.contains("tcp-ulp-mptcp");
        let words: Vec<String> = line
            .split(' ')
            .filter(|w| !w.is_empty())
            .filter(|w| !NEW_IN_71.iter().any(|new| w.starts_with(new)))
            .filter(|w| !(mptcp && MPTCP_NEW_IN_71.iter().any(|new| w.starts_with(new))))
            .map(|w| match () {
                _ if w.starts_with("timer:(") => seconds_as_71(w),
                _ if mptcp => sequence_masked(w, &["write_seq:", "snd_una:", "rcv_nxt:"]),
                // 6.1's maplen is not always the same number as 7.1's in another base.
                _ if subflow && w.starts_with("maplen:") => "maplen:".to_owned(),
                _ if subflow => sequence_masked(w, &["seq:", "sfseq:", "ssnoff:"]),
                _ => w.to_owned(),
            })
            .collect();
        let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
        // The header: the first line, or the first after a summary (`-s -t`).
        let header = matches!(
            words.first(),
            Some(&"Netns" | &"Netid" | &"State" | &"Recv-Q" | &"Local")
        ) && words.iter().any(|w| w.starts_with("Address:Port"));
        if header {
            // 6.1 runs the title into a full Port column: "Address:PortProcess".
            match words.last().and_then(|w| w.strip_suffix("Process")) {
                Some("") => {
                    words.pop();
                }
                Some(rest) => *words.last_mut().unwrap() = rest,
                None => {}
            }
        }
        // A tab starts the details, after the padding of the cell before it.
        out.push_str(&words.join(" ").replace(" \t", "\t"));
        out.push('\n');
    }
    out
}

/// The local port (`:PORT`) of every bound-inactive TCP socket in `ns`.
pub fn bound_inactive(ns: &super::Netns) -> Vec<String> {
    let out = ns.output(super::SOCKSCOPE, &["-HtnB"]);
    super::text(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2))
        .filter_map(|local| local.rfind(':').map(|at| local[at..].to_owned()))
        .collect()
}

/// ss 7.1 asks the kernel for two more states in every TCP listing, so that even its default
/// one lists bound-inactive sockets (as `UNCONN`) and SYN-RECV request sockets; sockscope
/// lists them as 6.1 does (README, "Where sockscope differs from ss"). Drops those rows from
/// 7.1's output (`ours` has no SYN-RECV row, or the row's port is one of `bound`); `None` when
/// there are none, so that the comparison stays exact.
pub fn without_extra_states(ss71: &str, ours: &str, bound: &[String]) -> Option<String> {
    let ours_syn_recv = ours.contains("SYN-RECV");
    let extra = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        let bound_row = words.contains(&"UNCONN")
            && !words.contains(&"udp")
            && words
                .iter()
                .any(|w| bound.iter().any(|b| w.ends_with(b.as_str())));
        bound_row || (!ours_syn_recv && words.contains(&"SYN-RECV"))
    };
    if !ss71.lines().any(extra) {
        return None;
    }
    let mut out = String::new();
    for line in ss71.lines().filter(|l| !extra(l)) {
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}

/// ss 7.1's `state big` also asks the kernel for its request sockets, listed as SYN-RECV,
/// which 6.1's did not (README, "Which ss"). Drops those rows from `ours` for the comparison
/// with ss 6.1 when `big` is asked for and 6.1 listed none; `None` otherwise.
pub fn without_request_sockets(args: &[String], ss61: &str, ours: &str) -> Option<String> {
    let big = args.iter().any(|a| a.eq_ignore_ascii_case("big"));
    // The state is the first cell, or the second after a Netid.
    let row = |line: &&str| line.split_whitespace().take(2).any(|w| w == "SYN-RECV");
    if !big || ss61.lines().any(|l| row(&l)) || !ours.lines().any(|l| row(&l)) {
        return None;
    }
    Some(
        ours.lines()
            .filter(|l| !row(l))
            .map(|l| format!("{l}\n"))
            .collect(),
    )
}

/// Arguments for ss 7.1 that ask for what ours do, or `None` where 7.1 shows nothing to
/// compare: its `-T` shows no threads unless `-p` comes with it, and its `-e` and `-m` show
/// nothing of netlink sockets (README: ss 7.1's bugs, which sockscope does not copy).
pub fn args_for_71(args: &[String]) -> Option<Vec<String>> {
    let short = |flag: char| {
        args.iter()
            .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains(flag))
    };
    let long = |name: &str| args.iter().any(|a| a == name);
    let netlink = long("netlink") || args.iter().any(|a| a.contains("netlink"));
    if netlink && (short('e') || short('m') || long("--extended") || long("--memory")) {
        return None;
    }
    let mut args = args.to_vec();
    if (short('T') || long("--threads")) && !(short('p') || long("--processes")) {
        args.push("-p".to_owned());
    }
    Some(args)
}

/// `text` ready to compare with the other tool's: as it is when the installed ss is 7.1,
/// [`normalise`]d otherwise. For the tests that run the installed ss themselves.
pub fn comparable(text: &str) -> String {
    if installed_is_71() {
        text.to_owned()
    } else {
        normalise(text)
    }
}
