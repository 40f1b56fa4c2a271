//! The command line, as syntax only: what the user typed, before anything is decided.
//!
//! The same clap definition produces `--help`, the man page and the shell completions (see
//! [`man_page`] and [`completions`]); `config` turns a parsed [`Cli`] into decisions.

use clap::{ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use clap_complete::Shell;

const ABOUT: &str = "Inspect the kernel's socket tables: a faithful, faster ss";

const LONG_ABOUT: &str = "\
sockscope asks the Linux kernel for its socket tables through netlink sock_diag and prints \
them the way ss(8) from iproute2 does: the same flags, the same columns, the same names. \
It can also print the same records as JSON for scripts.

Without options it lists the connected (non-listening) sockets of every table. Choose tables \
with -t, -u, -w, -x, -A or -f, and states with -l, -a or a filter.";

#[derive(Debug, Parser)]
#[command(
    name = "sockscope",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    args_override_self = true,
    args_conflicts_with_subcommands = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Show service ports as numbers instead of names from /etc/services
    #[arg(short = 'n', long)]
    pub numeric: bool,

    /// Show host names instead of addresses, by reverse lookup
    #[arg(short = 'r', long)]
    pub resolve: bool,

    /// Show sockets in every state, listening ones included
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(short = 'a', long, action = ArgAction::SetTrue)]
    pub all: bool,

    /// Show only listening sockets (and, for datagram tables, unconnected ones)
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(short = 'l', long, action = ArgAction::SetTrue)]
    pub listening: bool,

    /// Show only TCP sockets that are bound but neither listening nor connected
    ///
    /// The kernel lists them only when asked (Linux 6.5 and later); they show as UNCONN. Like
    /// -a and -l, the last of the three given wins.
    #[arg(short = 'B', long = "bound-inactive", action = ArgAction::SetTrue)]
    pub bound_inactive: bool,

    /// Do not print the header line
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,

    /// Show timers: which one runs (on, keepalive, timewait, persist), when it fires, and how
    /// many retransmissions it has seen; with -i also the TCP options in use (ts, sack, ecn)
    #[arg(short = 'o', long = "options")]
    pub timers: bool,

    /// Show details (and, as with -o, timers): owning uid (when not root), inode, socket
    /// cookie (sk:),
    /// fwmark, cgroup, v6only and which directions are shut down (<-> both open, --> no more
    /// receiving, <-- no more sending, --- neither); for unix sockets the file's inode and
    /// device and a listener's waiting peers
    #[arg(short = 'e', long = "extended")]
    pub extended: bool,

    /// Show memory use: skmem:(r,rb,t,tb,f,w,o,bl,d) = memory used and allowed for receiving,
    /// sending, forward allocation, queued for sending, options, backlog, and packets dropped
    #[arg(short = 'm', long = "memory")]
    pub memory: bool,

    /// Show TCP's internals from tcp_info: options, congestion control, RTT, windows, byte
    /// and segment counts, rates (human-readable unless -n) and more
    #[arg(short = 'i', long = "info")]
    pub info: bool,

    /// Print each socket's details on its line instead of on indented lines below it
    #[arg(short = 'O', long = "oneline")]
    pub oneline: bool,

    /// Show the IPv4 type of service, the IPv6 traffic class and the net_cls class id (or
    /// the SO_PRIORITY when there is none)
    #[arg(long = "tos")]
    pub tos: bool,

    /// Show the classic BPF filter attached to each packet socket, one instruction at a time
    /// (code jt jf k)
    #[arg(short = 'b', long = "bpf")]
    pub bpf: bool,

    /// Show the SELinux security context of the processes (-p) holding each socket
    ///
    /// As ss does, this fails when SELinux is not enabled. sockscope cannot show SELinux
    /// contexts yet: where SELinux is enabled it says so.
    #[arg(short = 'Z', long = "context")]
    pub context: bool,

    /// Like -Z, with the sockets' own contexts too
    #[arg(short = 'z', long = "contexts")]
    pub contexts: bool,

    /// Show TIPC socket details; TIPC sockets are not decoded yet, so this changes nothing
    #[arg(long = "tipcinfo")]
    pub tipcinfo: bool,

    /// Show the cgroup v2 the socket belongs to
    #[arg(long = "cgroup")]
    pub cgroup: bool,

    /// Show the inet socket options the kernel reports (recverr, freebind, transparent, ...)
    #[arg(long = "inet-sockopt")]
    pub inet_sockopt: bool,
    /// Show the processes that hold each socket: name, pid and file descriptor
    ///
    /// Every descriptor of every process is read from /proc once, before the sockets are
    /// listed. Without root, other users' processes cannot be read: their sockets show no
    /// process, and a warning says so.
    #[arg(short = 'p', long)]
    pub processes: bool,

    /// Like -p, with each thread of a process listed as an owner of its own (tid=)
    #[arg(short = 'T', long)]
    pub threads: bool,

    /// Print the sockets as a JSON array of records instead of a table
    ///
    /// One record per row the table would show, in the same order. The schema is in the README
    /// and in the JSON section below.
    #[arg(short = 'j', long)]
    pub json: bool,

    /// Print TCP and UDP sockets as the kernel destroys them, until interrupted
    ///
    /// The kernel announces each socket it frees; the table and family options and the filter
    /// expression choose which are shown, states do not (a destroyed TCP socket is closed:
    /// UNCONN). Each row is printed as it comes; with --json, one JSON record per line. Ctrl-C
    /// or SIGTERM ends it with status 0.
    #[arg(short = 'E', long = "events")]
    pub events: bool,

    /// Show how many sockets there are, from the kernel's counters, without listing any
    ///
    /// The counts come from /proc/net/sockstat, sockstat6 and snmp, as for ss -s, so this stays
    /// fast however many sockets there are: every socket of the namespace (Total), TCP sockets
    /// by condition, and the sockets in use of each transport protocol per IP version (FRAG
    /// counts IP fragments awaiting reassembly). ss's PROC_ROOT, PROC_NET_SOCKSTAT,
    /// PROC_NET_SOCKSTAT6 and PROC_NET_SNMP variables choose other files.
    ///
    /// Naming a table or a family, or giving a filter, lists those sockets after the summary;
    /// other options are ignored. With --json the summary is one JSON object of integers:
    /// total; tcp, with total, established, closed, orphaned and timewait; and transport, with
    /// raw, udp, tcp, inet and frag, each with total, ip and ipv6.
    #[arg(short = 's', long)]
    pub summary: bool,

    /// Show only IPv4 sockets (the same as -f inet)
    #[arg(short = '4', long, action = ArgAction::SetTrue)]
    pub ipv4: bool,

    /// Show only IPv6 sockets (the same as -f inet6)
    #[arg(short = '6', long, action = ArgAction::SetTrue)]
    pub ipv6: bool,

    /// Show TCP sockets
    #[arg(short = 't', long)]
    pub tcp: bool,

    /// Show UDP sockets
    #[arg(short = 'u', long)]
    pub udp: bool,

    /// Show raw sockets
    #[arg(short = 'w', long)]
    pub raw: bool,

    /// Close the sockets that match, and list those closed (TCP, UDP and raw; needs
    /// CAP_NET_ADMIN)
    ///
    /// The kernel aborts each socket as if it had failed (ECONNABORTED for its owner); a TCP
    /// socket sends its peer a reset. Without a filter expression every socket listed would be
    /// closed: sockscope refuses that unless --force is given (ss does not ask).
    #[arg(short = 'K', long)]
    pub kill: bool,

    /// With -K, close every socket listed even when no filter expression narrows them down
    #[arg(long, requires = "kill")]
    pub force: bool,

    /// Show MPTCP sockets
    #[arg(short = 'M', long)]
    pub mptcp: bool,

    /// Show SCTP sockets (the kernel lists them only with its sctp_diag module)
    #[arg(short = 'S', long)]
    pub sctp: bool,

    /// Show DCCP sockets (the kernel lists them only with its dccp_diag module)
    #[arg(short = 'd', long)]
    pub dccp: bool,

    /// Show unix domain sockets (the same as -f unix)
    #[arg(short = 'x', long, action = ArgAction::SetTrue)]
    pub unix: bool,

    /// Show packet sockets (the same as -f link)
    ///
    /// The local address is the protocol (an ethertype: ip, ipv6, arp, * for all, or [NUMBER])
    /// and the device the socket is bound to (* for any).
    #[arg(short = '0', long, action = ArgAction::SetTrue)]
    pub packet: bool,

    /// Show vsock sockets (the same as -f vsock)
    #[arg(long, action = ArgAction::SetTrue)]
    pub vsock: bool,

    /// Show TIPC sockets (the same as -f tipc)
    #[arg(long, action = ArgAction::SetTrue)]
    pub tipc: bool,

    /// Show XDP sockets (the same as -f xdp)
    #[arg(long, action = ArgAction::SetTrue)]
    pub xdp: bool,

    /// Show sockets of an address family; may be repeated
    ///
    /// Naming a family selects every table of that family. When -4, -6, -f inet and -f inet6
    /// are mixed, the one given last decides which IP version is shown, as in ss.
    #[arg(short = 'f', long, value_name = "FAMILY", action = ArgAction::Append)]
    pub family: Vec<FamilyArg>,

    /// The socket tables to list, separated by commas; a leading ! removes a table
    ///
    /// Tables: all, inet, tcp, udp, raw, unix, unix_stream, unix_dgram, unix_seqpacket, packet,
    /// packet_raw, packet_dgram, netlink, mptcp, dccp, sctp, vsock_stream, vsock_dgram, tipc,
    /// xdp. For example -A tcp,udp or -A all,!unix.
    #[arg(
        short = 'A',
        long = "query",
        visible_alias = "socket",
        value_name = "QUERY",
        action = ArgAction::Append
    )]
    pub query: Vec<String>,

    /// Read the filter from FILE (- for standard input), one or more words per line
    ///
    /// Text after # on a line is a comment. A filter cannot be given both with -F and on the
    /// command line.
    #[arg(short = 'F', long = "filter", value_name = "FILE")]
    pub filter_file: Option<std::path::PathBuf>,

    /// Run in network namespace NAME: one under /run/netns (as ip netns add makes them), or,
    /// when NAME holds a /, any namespace file, such as /proc/PID/ns/net
    ///
    /// sockscope enters it before anything else, as ss does, so sockets, /proc/net and the
    /// counters of -s are the namespace's; -p still finds the holders among all processes.
    /// -N all (the same as --all-netns) lists every namespace instead; a namespace that is
    /// really named all is -N /run/netns/all.
    #[arg(short = 'N', long = "net", value_name = "NAME")]
    pub net: Option<std::ffi::OsString>,

    /// List the sockets of every network namespace, with a Netns column (a netns field in JSON)
    ///
    /// The namespaces are sockscope's own, then every one named under /run/netns, then every
    /// other one a running process is in, each once. Each is named by its name under
    /// /run/netns, else as pid:N, N being the lowest-numbered process in it: enter it with -N
    /// /proc/N/ns/net or nsenter -t N -n. A namespace that cannot be entered is left out with
    /// a warning.
    #[arg(long = "all-netns", conflicts_with = "net")]
    pub all_netns: bool,

    /// Do not list: write the kernel's raw replies for the TCP table to FILE (- for standard
    /// output), as ss -D does
    ///
    /// The dump holds what the kernel sent about the TCP sockets in the states and IP
    /// versions asked, less those the filter's kernel part rejects, and reads back with
    /// --from-dump (or with ss and TCPDIAG_FILE). The TCP table must be among those selected.
    #[arg(short = 'D', long = "diag", value_name = "FILE")]
    pub diag: Option<std::path::PathBuf>,

    /// List the TCP sockets of a dump written by -D (by sockscope or by ss) instead of asking
    /// the kernel; - reads standard input
    ///
    /// States, -4 and -6, the filter and the output options apply as to a live listing, and
    /// only the TCP table is listed. ss's TCPDIAG_FILE variable works too: then, as in ss, the
    /// TCP table comes from that file and the other tables from the kernel.
    #[arg(long = "from-dump", value_name = "FILE", conflicts_with = "diag")]
    pub from_dump: Option<std::path::PathBuf>,

    /// The filter: [ state STATE | exclude STATE ]... [ EXPRESSION ]
    ///
    /// See FILTER below. Words may be given separately or quoted together; tokens are
    /// separated by white space, as in ss.
    #[arg(value_name = "FILTER", allow_hyphen_values = false)]
    pub expression: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build a TCP connection one system call at a time and show the kernel's view after each
    ///
    /// The demo makes a server and a client on 127.0.0.1 inside this process, as in the
    /// classic socket tutorial: socket and bind, listen, connect, accept, data left unread,
    /// and both ends closing. After each step it lists its own sockets through sock_diag, as
    /// sockscope always does, and says in a few words what changed and why.
    Demo(DemoArgs),

    /// Follow sockets over time: see them arrive, change state, fill their queues and go away
    ///
    /// Takes the listing options (-t, -u, -4, -l, -a, -A, -f, -n, -e, -o, -m, -i, ...) and a
    /// filter, as a listing does; `:PORT` alone is short for `( sport = :PORT or dport = :PORT
    /// )`. Every interval sockscope looks at the table once (one sock_diag request per table
    /// and family, the filter compiled for the kernel) and compares it with the last look by
    /// socket cookie: sockets added, changed (state, Recv-Q, Send-Q, and with -i the bytes in
    /// and out per second) and removed. Between looks it listens to the kernel's socket-destroy
    /// events, so a TCP or UDP connection that opens and closes between two looks is still
    /// reported, when it could have been in the states asked for (a destroyed TCP socket with a
    /// peer was connected, one without was listening or bound). A TCP socket that closes first
    /// lives on as FIN-WAIT-2 or TIME-WAIT under the same cookie, so its destruction is
    /// reported at the next look, as a change of state if that look lists it.
    ///
    /// The detail options (-e, -o, -m, -i, --tos, --cgroup, --inet-sockopt) add their fields to
    /// the JSON records (see sockscope(8)); the live view shows the columns, and with -i the
    /// bytes in and out per second.
    ///
    /// On a terminal the table is redrawn in place, changed cells in reverse video, with a log
    /// of what happened under it and a summary line; q, Ctrl-C or SIGTERM end it and put the
    /// terminal back. Otherwise, or with --jsonl, it prints one JSON object per line, flushed
    /// at once: {"type":"snapshot","time":T,"sockets":[...]} first, then
    /// {"type":"added"|"changed"|"removed","time":T,"socket":{...}} as they happen (changed
    /// with "changes":{"field":[before,after]}, removed with "source":"destroy"|"poll" and
    /// "lifetime_ms"), and {"type":"tick","time":T,"count":N} after each look. Times are RFC
    /// 3339 in UTC with milliseconds; sockets are --json records.
    #[command(args_override_self = true)]
    Watch(WatchArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The server's port (0 lets the kernel pick a free one)
    #[arg(long, default_value_t = crate::demo::DEFAULT_PORT, value_name = "PORT")]
    pub port: u16,

    /// Walk through a UDP exchange instead: bound, connected, a datagram waiting
    #[arg(long)]
    pub udp: bool,

    /// Run in a private network namespace, so nothing else appears (needs root)
    #[arg(long)]
    pub netns: bool,

    /// Print each stage as one JSON object per line, with the same socket records as --json
    #[arg(short = 'j', long)]
    pub json: bool,

    /// Do not wait between stages (the default when not on a terminal)
    #[arg(long, conflicts_with = "pause")]
    pub no_pause: bool,

    /// Wait between stages even when not on a terminal, for a line on standard input (q quits)
    #[arg(long)]
    pub pause: bool,
}

/// `watch`'s own options. It takes the listing options too: [`command`] adds them.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Seconds between two looks at the table (fractions allowed, at least 0.01)
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_interval)]
    pub interval: std::time::Duration,

    /// Stop after N intervals
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Print JSON lines even on a terminal (the default elsewhere)
    #[arg(long)]
    pub jsonl: bool,
}

/// `--interval`: a number of seconds, from 0.01 to a day.
fn parse_interval(text: &str) -> Result<std::time::Duration, String> {
    let seconds: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(0.01..=86_400.0).contains(&seconds) {
        return Err("the interval must be from 0.01 to 86400 seconds".to_owned());
    }
    Ok(std::time::Duration::from_secs_f64(seconds))
}

/// The listing options `watch` takes, by id. It refuses the others (they are hidden there):
/// `-s`, `-j`, `-H`, `-O`, `-p`, `-T`, `-r`, `-E`, `-K`, `-N`, `-D`, `--from-dump`, `-Z`,
/// `-z`, and whatever options come later until they are added here.
pub const WATCH_OPTIONS: [&str; 33] = [
    "numeric",
    "net",
    "all_netns",
    "processes",
    "threads",
    "all",
    "listening",
    "bound_inactive",
    "timers",
    "extended",
    "memory",
    "info",
    "tos",
    "cgroup",
    "inet_sockopt",
    "ipv4",
    "ipv6",
    "tcp",
    "udp",
    "raw",
    "mptcp",
    "sctp",
    "dccp",
    "unix",
    "packet",
    "vsock",
    "tipc",
    "xdp",
    "bpf",
    "family",
    "query",
    "filter_file",
    "expression",
];

/// The command line: [`Cli`], with the listing options added to `watch`.
pub fn command() -> clap::Command {
    let top = Cli::command();
    let listing: Vec<clap::Arg> = top
        .get_arguments()
        .map(|arg| {
            let arg = arg.clone();
            if WATCH_OPTIONS.contains(&arg.get_id().as_str()) {
                arg
            } else {
                arg.hide(true)
            }
        })
        .collect();
    top.mut_subcommand("watch", |watch| watch.args(listing))
}

/// The first option given to `watch` that it refuses, as it is spelled.
pub fn refused_in_watch(matches: &clap::ArgMatches) -> Option<String> {
    Cli::command()
        .get_arguments()
        .filter(|arg| {
            let id = arg.get_id().as_str();
            !WATCH_OPTIONS.contains(&id)
                && matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine)
        })
        .map(|arg| match (arg.get_long(), arg.get_short()) {
            (Some(long), _) => format!("--{long}"),
            (None, Some(short)) => format!("-{short}"),
            (None, None) => arg.get_id().to_string(),
        })
        .next()
}

/// The families `-f` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// Unix domain sockets
    Unix,
    /// IPv4 sockets
    Inet,
    /// IPv6 sockets
    Inet6,
    /// Packet sockets (AF_PACKET)
    Link,
    /// Netlink sockets
    Netlink,
    /// Virtual machine sockets (AF_VSOCK)
    Vsock,
    /// TIPC sockets
    Tipc,
    /// XDP sockets
    Xdp,
}

/// The man pages, by file name: sockscope(8) and one per subcommand, generated from the same
/// definition as `--help`.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let command = command();
    let mut pages = vec![("sockscope.8".to_owned(), man_page())];
    for sub in command.get_subcommands() {
        let name = format!("sockscope-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("sockscope {}", sub.get_name()));
        let man = clap_mangen::Man::new(page)
            .section("8")
            .date(MAN_DATE)
            .manual("System Manager's Manual");
        let mut out = Vec::new();
        man.render(&mut out).expect("writing to a Vec");
        pages.push((format!("{name}.8"), out));
    }
    pages
}

const MAN_DATE: &str = "2026-11-24";

/// The main man page.
fn man_page() -> Vec<u8> {
    let command = command();
    let man = clap_mangen::Man::new(command)
        .section("8")
        .date(MAN_DATE)
        .manual("System Manager's Manual");
    let mut out = Vec::new();
    man.render_title(&mut out).expect("writing to a Vec");
    man.render_name_section(&mut out).expect("writing to a Vec");
    man.render_synopsis_section(&mut out)
        .expect("writing to a Vec");
    man.render_description_section(&mut out)
        .expect("writing to a Vec");
    man.render_options_section(&mut out)
        .expect("writing to a Vec");
    man.render_subcommands_section(&mut out)
        .expect("writing to a Vec");
    out.extend_from_slice(MAN_EXTRA.as_bytes());
    man.render_version_section(&mut out)
        .expect("writing to a Vec");
    out
}

/// The sections clap does not generate, in roff.
const MAN_EXTRA: &str = r#".SH FILTER
\fB[ state \fISTATE\fB | exclude \fISTATE\fB ]... [ \fIEXPRESSION\fB ]\fR
.PP
\fBstate\fR adds a state to those listed (the first one replaces the default) and
\fBexclude\fR removes one (the first one starting from every state); they come before the
expression and override \fB\-a\fR, \fB\-l\fR and \fB\-B\fR. States are named without regard to
case: \fBestablished\fR, \fBsyn-sent\fR, \fBsyn-recv\fR, \fBfin-wait-1\fR, \fBfin-wait-2\fR,
\fBtime-wait\fR, \fBclosed\fR (also \fBclose\fR, \fBunconnected\fR), \fBclose-wait\fR,
\fBlast-ack\fR, \fBlistening\fR, \fBclosing\fR and \fBbound-inactive\fR, or the groups
\fBall\fR, \fBconnected\fR (all but listening and closed), \fBsynchronized\fR (connected but
not syn-sent), \fBbucket\fR (syn-recv and time-wait, the kernel's minisockets) and \fBbig\fR
(all but bucket).
.PP
The expression is made of these predicates:
.TP
\fBsrc\fR|\fBdst\fR [\fB=\fR] \fIHOST\fR
the local or the peer address.
.TP
\fBsport\fR|\fBdport\fR [\fIOP\fR] [\fIFAMILY\fB:\fR]\fB:\fIPORT\fR
the local or the peer port; \fIOP\fR is one of \fB= == eq\fR, \fB!= ne neq\fR,
\fB> gt\fR, \fB< lt\fR, \fB>= ge geq\fR, \fB<= le leq\fR (\fB=\fR when omitted). \fIPORT\fR
is a number or a service name from /etc/services.
.TP
\fBdev\fR [\fB=\fR|\fB!=\fR] \fINAME\fR|\fIINDEX\fR
the device the socket is bound to.
.TP
\fBfwmark\fR [\fB=\fR|\fB!=\fR] \fIMARK\fR[\fB/\fIMASK\fR]
the firewall mark, compared under the mask.
.TP
\fBcgroup\fR [\fB=\fR|\fB!=\fR] \fIPATH\fR
the cgroup v2 the socket belongs to, as a path below the cgroup2 mount.
.TP
\fBautobound\fR
a name the kernel chose rather than the application: a port in the ephemeral range, no unix
name or an autobind one (\fB@\fR and five hex digits), a negative netlink port id, a packet
socket of protocol 0 on no device.
.PP
\fIHOST\fR is \fB[\fIFAMILY\fB:]\fIADDRESS\fB[/\fIPREFIX\fB][:\fIPORT\fB]\fR: an IPv4
address (\fB10.0/16\fR, with missing bytes zero), an IPv6 address in brackets
(\fB[fe80::/64]:22\fR), a host name, or \fB*\fR for any; \fIFAMILY\fR is one of the \fB\-f\fR
names. With \fBunix:\fR, or when the last family option was \fB\-x\fR or \fB\-f unix\fR, the
address is a glob matched without regard to case against the socket's path or
\fB@\fIabstract\fR name. An IPv4 address given without a family also matches its
IPv4-mapped IPv6 form.
.PP
With \fBlink:\fR, or after \fB\-0\fR or \fB\-f link\fR, \fIHOST\fR is
\fIPROTOCOL\fB[:\fIDEVICE\fB]\fR: an ethertype by name (\fBip\fR, \fBipv6\fR, \fBarp\fR,
\fBall\fR, ..., without regard to case) or number, and a device by name or index; a packet
socket's port is its device (\fBsport = :eth0\fR). With \fBnetlink:\fR, or after \fB\-f
netlink\fR, it is \fIPROTOCOL\fB[:\fIPORTID\fB]\fR: a netlink protocol by its name in
/etc/iproute2/nl_protos (\fBrtnl\fR, \fBgenl\fR, ...) or number, and a port id
(\fBkernel\fR is 0; \fB*\fR or \fB-1\fR any); ports compare as signed numbers. In both,
\fB*\fR or nothing stands for any.
.PP
Predicates combine with \fBand\fR (also \fB&\fR, \fB&&\fR, or nothing at all), \fBor\fR
(\fB|\fR, \fB||\fR) and \fBnot\fR (\fB!\fR), grouped with parentheses. Tokens are separated by
white space. As in ss, \fBand\fR and \fBor\fR have no precedence over each other: a chain of
them is read from left to right, so \fBa or b and c\fR means \fB( a or b ) and c\fR;
\fBnot\fR applies to the term right after it. Use parentheses to say what you mean.
.PP
For TCP, UDP and raw sockets the expression is compiled to the kernel's inet_diag bytecode, so
the kernel drops what it rejects; every socket is also tested in user space, as ss does. For
\fBautobound\fR the two tests differ, as in ss: the kernel asks whether the port was bound
explicitly, user space whether it lies in the ephemeral range; a socket must pass both.
.PP
A filter that does not parse exits with status 255, a filter with a value that cannot be used
(an address, port, device, mark or cgroup) with status 1; the message gives the line and
column of the word at fault (the command line is line 1).
.SH OUTPUT
The table has the columns of ss: Netid (shown only when more than one table is listed),
State (hidden when a single state is selected), Recv\-Q, Send\-Q, Local Address:Port,
Peer Address:Port and Process.
.PP
For a listening TCP socket, Recv\-Q is the number of connections waiting in the accept queue
and Send\-Q the backlog given to
.BR listen (2).
For other sockets Recv\-Q counts bytes received but not yet read by the application, and
Send\-Q bytes sent but not yet acknowledged by the peer.
.PP
Addresses are printed as ss prints them: IPv6 addresses in brackets, \fB*\fR for the
dual\-stack wildcard, \fB[::]\fR for an IPv6\-only wildcard, \fB%\fIdev\fR after an address
bound to a device, and port \fB*\fR when there is none. Unix sockets show their path,
\fB@\fIname\fR for an abstract name or \fB*\fR when unnamed, with the inode where a port would
be. Packet sockets show \fIPROTOCOL\fB:\fIDEVICE\fR, the ethertype by name (in brackets by
number with \fB\-n\fR or when it has none; \fB*\fR for all) and \fB*\fR for no device.
Netlink sockets show \fIPROTOCOL\fB:\fIPORTID\fR, the port id as \fBkernel\fR for the
kernel's own socket, as \fICOMMAND\fB/\fIPID\fR when a process has that pid, else as a
signed number, and a connected socket's peer as \fIGROUP\fB:\fIPORTID\fR; packet and
netlink sockets are always UNCONN.
.PP
With \fB\-N all\fR a Netns column comes first: the namespace of each row, by its name under
/run/netns, or as \fBpid:\fIN\fR for the lowest-numbered process in it (\fB\-N
/proc/\fIN\fB/ns/net\fR enters it). The rows of each namespace follow each other: sockscope's
own namespace first, then the named ones by name, then the others by pid.
.PP
Column widths fit the content. When standard output is a terminal the columns are spread over
its width as ss does. Tables of more than 65536 rows are printed as they arrive: their widths
are fitted to the first rows and grow when a later row is wider.
.PP
With \fB\-p\fR the Process column lists, as ss lists them, every file descriptor that holds
the socket: \fBusers:((\(dq\fIname\fB\(dq,pid=\fIPID\fB,fd=\fIFD\fB),...)\fR, the process
found last in /proc first; \fB\-T\fR lists each thread of a process on its own, with
\fBtid=\fITID\fR. As in ss, a name is shown up to its first \fB)\fR and nothing in it is
escaped. /proc is read once, before the sockets are listed. Without root other users'
processes cannot be read: their sockets show no process, and a warning says so.
.SH JSON
With \fB\-\-json\fR each row becomes an object with these fields:
.TP
\fBnetid\fR, \fBstate\fR
strings, spelled as in the table (\fBtcp\fR, \fBESTAB\fR, ...).
.TP
\fBrecv_q\fR, \fBsend_q\fR, \fBinode\fR
integers.
.TP
\fBfamily\fR
\fBinet\fR, \fBinet6\fR or \fBunix\fR.
.TP
\fBlocal_address\fR, \fBlocal_port\fR, \fBpeer_address\fR, \fBpeer_port\fR, \fBinterface\fR, \fBv6only\fR
inet sockets only: addresses as plain text without brackets, ports as integers (0 where the
table shows \fB*\fR), the bound device or scope name or null, and whether an IPv6 socket
refuses IPv4 (a wildcard socket without it is the table's \fB*\fR).
.TP
\fBpath\fR, \fBpeer_inode\fR
unix sockets only: the name (\fB@\fIname\fR for an abstract name, null when unnamed) and the
peer's inode (0 when unconnected).
.TP
\fBprocesses\fR
with \fB\-p\fR or \fB\-T\fR only: the holders of the socket in the table's order (an empty
array when there is none), each an object with \fBcomm\fR (the whole name), \fBpid\fR and
\fBfd\fR, and \fBtid\fR with \fB\-T\fR.
.TP
\fBnetns\fR
with \fB\-N all\fR only, first in each object: the namespace, named as in the Netns column.
.PP
JSON output ignores \fB\-n\fR and \fB\-r\fR: addresses and ports are always numeric.
.SH ENVIRONMENT
.TP
\fBPROC_ROOT\fR, \fBPROC_NET_TCP\fR, \fBPROC_NET_TCP6\fR, \fBPROC_NET_UDP\fR, \fBPROC_NET_UDP6\fR, \fBPROC_NET_RAW\fR, \fBPROC_NET_RAW6\fR, \fBPROC_NET_UNIX\fR
As for ss: when set, the tables are read from these files (or from \fI$PROC_ROOT\fR/net)
instead of through sock_diag. sockscope also reads a table from /proc/net when the kernel has
no sock_diag module for it, as ss does for raw sockets on many kernels.
.TP
\fBTCPDIAG_FILE\fR
As for ss: when set, the TCP table is read from this dump (written by \fB\-D\fR) instead of
the kernel; other tables still come from the kernel. Unlike ss, sockscope reads every request's
replies in the dump (ss stops after the first, the IPv4 sockets of a whole dump), applies the
states and \fB\-4\fR/\fB\-6\fR as to a live listing, and refuses a dump that is truncated
or not a dump. \fB\-\-from\-dump\fR does the same and lists the TCP table only.
.SH EXIT STATUS
0 on success, also when standard output is closed early (for example by
\fBhead\fR(1)); 1 when the kernel cannot be asked or its answer cannot be read, for a
filter value that cannot be used, a namespace that cannot be entered, or a dump that cannot be
read or written; 2 for an unknown option, a bad option value or options that cannot be
combined; 255, as in ss, for a filter that does not parse, an unknown state name or an
unknown \fB\-A\fR table.
.SH SEE ALSO
.BR sockscope-demo (8),
.BR sockscope-watch (8),
.BR ss (8),
.BR sock_diag (7),
.BR netstat (8)
"#;

/// Shell completions, generated from the same definition as `--help`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "sockscope", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::*;

    #[test]
    fn verify_cli() {
        command().debug_assert();
    }

    #[test]
    fn watch_takes_the_listing_options() {
        let matches = command()
            .try_get_matches_from(["sockscope", "watch", "-tn", "--interval", "0.5", ":22"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Some(Command::Watch(args)) = &cli.command else {
            panic!("not watch: {cli:?}")
        };
        assert_eq!(args.interval, std::time::Duration::from_millis(500));
        let sub = matches.subcommand_matches("watch").unwrap();
        let listing = Cli::from_arg_matches(sub).unwrap();
        assert!(listing.tcp && listing.numeric && !listing.udp);
        assert_eq!(listing.expression, [":22"]);
        assert_eq!(refused_in_watch(sub), None);
        let sub = |args: &[&str]| {
            let matches = command()
                .try_get_matches_from(["sockscope", "watch"].iter().chain(args))
                .unwrap();
            refused_in_watch(matches.subcommand_matches("watch").unwrap())
        };
        assert_eq!(sub(&["-t", "-s"]), Some("--summary".to_owned()));
        assert_eq!(sub(&["-p"]), None);
        for bad in ["0", "0.001", "-1", "nan", "inf", "x", "100000"] {
            assert!(
                command()
                    .try_get_matches_from(["sockscope", "watch", "--interval", bad])
                    .is_err(),
                "{bad}"
            );
        }
    }
}
