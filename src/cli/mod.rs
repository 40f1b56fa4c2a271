//! The command line, as syntax only: what the user typed, before anything is decided.
//!
//! The same clap definition produces `--help`, the man pages and the shell completions (see
//! [`doc`]); `config` turns a parsed [`Cli`] into decisions. The listing options that other
//! commands share are one struct, [`ListingArgs`], flattened into each, so a command accepts
//! exactly the options it supports and clap refuses the rest.

mod arrival;
mod doc;
mod errors;
mod exporter;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{ArgAction, ArgGroup, Args, Parser, Subcommand, ValueEnum};

pub use arrival::{FamilyFlag, FamilyOption};
pub use doc::{LIVE_KEYS, completions, man_pages};
pub use errors::one_line;
pub use exporter::{DEFAULT_LISTEN, ExporterArgs};

/// The demo server's port when `--port` is not given.
pub const DEMO_PORT: u16 = 55000;

#[derive(Debug, Parser)]
#[command(
    name = "sockscope",
    version,
    about = doc::ABOUT,
    long_about = doc::LONG_ABOUT,
    args_override_self = true,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true,
    max_term_width = 100,
    group(ArgGroup::new("mode").args(["kill", "events", "diag"]).multiple(false))
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub listing: ListingArgs,

    /// Do not print the header line
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,

    /// Do not print the Recv-Q and Send-Q columns
    #[arg(short = 'Q', long = "no-queues")]
    pub no_queues: bool,

    /// Print each socket's details on its line instead of on indented lines below it
    #[arg(short = 'O', long = "oneline")]
    pub oneline: bool,

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

    /// Print the sockets as a JSON array of records instead of a table
    ///
    /// One record per row the table would show, in the same order. The schema is in the README
    /// and in the JSON section of sockscope(8).
    #[arg(short = 'j', long)]
    pub json: bool,

    /// Print TCP and UDP sockets as the kernel destroys them, until interrupted
    ///
    /// The kernel announces each socket it frees; the table and family options and the filter
    /// expression choose which are shown, states do not (a destroyed TCP socket is closed:
    /// UNCONN). Each row is printed as it comes; with --json, one JSON record per line. Ctrl-C
    /// or SIGTERM ends it with status 0.
    #[arg(short = 'E', long = "events", conflicts_with = "from_dump")]
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
}

/// The options of a listing that other commands (`watch`) take too: which sockets, and which
/// of their details.
#[derive(Debug, Args)]
pub struct ListingArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,

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

    #[command(flatten)]
    pub details: DetailArgs,
}

/// Which sockets: the tables, families and states, the namespace, and the filter. Every
/// command that looks at sockets takes these (`exporter` no more than these and its own).
#[derive(Debug, Args)]
pub struct SelectionArgs {
    /// Show sockets in every state, listening ones included
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(
        short = 'a',
        long,
        action = ArgAction::SetTrue,
        overrides_with_all = ["listening", "bound_inactive"]
    )]
    pub all: bool,

    /// Show only listening sockets (and, for datagram tables, unconnected ones)
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(
        short = 'l',
        long,
        action = ArgAction::SetTrue,
        overrides_with_all = ["all", "bound_inactive"]
    )]
    pub listening: bool,

    /// Show only TCP sockets that are bound but neither listening nor connected
    ///
    /// The kernel lists them only when asked (Linux 6.5 and later); they show as UNCONN. Like
    /// -a and -l, the last of the three given wins.
    #[arg(
        short = 'B',
        long = "bound-inactive",
        action = ArgAction::SetTrue,
        overrides_with_all = ["all", "listening"]
    )]
    pub bound_inactive: bool,

    /// Show only IPv4 sockets (the same as -f inet)
    #[arg(short = '4', long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Inet))]
    pub ipv4: FamilyFlag,

    /// Show only IPv6 sockets (the same as -f inet6)
    #[arg(short = '6', long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Inet6))]
    pub ipv6: FamilyFlag,

    /// Show TCP sockets
    #[arg(short = 't', long)]
    pub tcp: bool,

    /// Show UDP sockets
    #[arg(short = 'u', long)]
    pub udp: bool,

    /// Show raw sockets
    #[arg(short = 'w', long)]
    pub raw: bool,

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
    #[arg(short = 'x', long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Unix))]
    pub unix: FamilyFlag,

    /// Show packet sockets (the same as -f link)
    ///
    /// The local address is the protocol (an ethertype: ip, ipv6, arp, * for all, or [NUMBER])
    /// and the device the socket is bound to (* for any).
    #[arg(short = '0', long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Link))]
    pub packet: FamilyFlag,

    /// Show vsock sockets (the same as -f vsock)
    #[arg(long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Vsock))]
    pub vsock: FamilyFlag,

    /// Show TIPC sockets (the same as -f tipc)
    #[arg(long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Tipc))]
    pub tipc: FamilyFlag,

    /// Show XDP sockets (the same as -f xdp)
    #[arg(long, action = ArgAction::SetTrue, value_parser = arrival::flag(FamilyArg::Xdp))]
    pub xdp: FamilyFlag,

    /// Show sockets of an address family; may be repeated
    ///
    /// Naming a family selects every table of that family. When -4, -6, -f inet and -f inet6
    /// are mixed, the one given last decides which IP version is shown, as in ss.
    #[arg(
        short = 'f',
        long,
        value_name = "FAMILY",
        action = ArgAction::Append,
        value_parser = arrival::family()
    )]
    pub family: Vec<FamilyOption>,

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
        value_parser = table_list(),
        hide_possible_values = true,
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

    /// The filter: [ state STATE | exclude STATE ]... [ EXPRESSION ]
    ///
    /// Its grammar is in the FILTER section of sockscope(8); `:PORT` is short for `( sport =
    /// :PORT or dport = :PORT )` wherever a condition may stand, and a filter with one may name
    /// its states after the expression too (`:22 state established`). Words may be given
    /// separately or quoted together; tokens are separated by white space, as in ss.
    #[arg(
        value_name = "FILTER",
        allow_hyphen_values = false,
        value_parser = filter_word(),
        hide_possible_values = true
    )]
    pub expression: Vec<String>,
}

impl SelectionArgs {
    /// Every family option given (`-4`, `-6`, `-x`, `-0`, `--vsock`, `--tipc`, `--xdp`, `-f`),
    /// in the order given.
    pub fn families(&self) -> Vec<FamilyArg> {
        let flags = [
            self.ipv4,
            self.ipv6,
            self.unix,
            self.packet,
            self.vsock,
            self.tipc,
            self.xdp,
        ];
        arrival::in_order(&flags, &self.family)
    }
}

/// The detail options: what is shown of each socket.
#[derive(Debug, Args)]
pub struct DetailArgs {
    /// Show service ports as numbers instead of names from /etc/services
    #[arg(short = 'n', long)]
    pub numeric: bool,

    /// Show host names instead of addresses, by reverse lookup
    #[arg(short = 'r', long)]
    pub resolve: bool,

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

    /// Show the IPv4 type of service, the IPv6 traffic class and the net_cls class id (or
    /// the SO_PRIORITY when there is none)
    #[arg(long = "tos")]
    pub tos: bool,

    /// Show the classic BPF filter attached to each packet socket, one instruction at a time
    /// (code jt jf k)
    #[arg(short = 'b', long = "bpf")]
    pub bpf: bool,

    /// Show the cgroup v2 the socket belongs to
    #[arg(long = "cgroup")]
    pub cgroup: bool,

    /// Show the inet socket options the kernel reports (recverr, freebind, transparent, ...)
    #[arg(long = "inet-sockopt")]
    pub inet_sockopt: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    #[command(about = doc::DEMO_ABOUT, long_about = doc::DEMO_LONG_ABOUT)]
    Demo(DemoArgs),

    #[command(
        about = doc::WATCH_ABOUT,
        long_about = doc::WATCH_LONG_ABOUT,
        args_override_self = true
    )]
    Watch(WatchArgs),

    #[command(
        about = doc::EXPORTER_ABOUT,
        long_about = doc::EXPORTER_LONG_ABOUT,
        args_override_self = true
    )]
    Exporter(ExporterArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The server's port (0 lets the kernel pick a free one)
    #[arg(long, default_value_t = DEMO_PORT, value_name = "PORT")]
    pub port: u16,

    /// Walk through a UDP exchange instead: bound, connected, a datagram waiting
    #[arg(long)]
    pub udp: bool,

    /// Insist on a private network namespace (the default wherever one can be made)
    #[arg(long)]
    pub netns: bool,

    /// Run in this network namespace: only the demo's sockets listed, packets only as root
    #[arg(long, conflicts_with = "netns")]
    pub no_netns: bool,

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

/// `watch`: the listing options it follows, and its own.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub listing: ListingArgs,

    /// Seconds between two looks at the table (fractions allowed, at least 0.01)
    #[arg(long, value_name = "SECS",
        default_value = "1",
        value_parser = parse_interval,
        allow_hyphen_values = true)]
    pub interval: std::time::Duration,

    /// Stop after N intervals
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,

    /// Print JSON lines even on a terminal (the default elsewhere)
    #[arg(long)]
    pub jsonl: bool,

    /// How TCP is followed: the kernel's own state transitions (events), looks at the table
    /// every interval (poll), or events where they can be had (auto)
    #[arg(long, value_name = "HOW", value_enum, default_value_t = SourceArg::Auto)]
    pub source: SourceArg,
}

/// `watch --source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SourceArg {
    /// Events where the kernel allows them, else looks (said once)
    Auto,
    /// The kernel's TCP state transitions; an error where they cannot be had
    Events,
    /// Looks at the table every interval only
    Poll,
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

/// The socket tables `-A` names, each with its short aliases; `!` before one removes it.
pub const TABLES: &[(&str, &[&str])] = &[
    ("all", &[]),
    ("inet", &[]),
    ("tcp", &[]),
    ("udp", &[]),
    ("raw", &[]),
    ("unix", &[]),
    ("unix_stream", &["u_str"]),
    ("unix_dgram", &["u_dgr"]),
    ("unix_seqpacket", &["u_seq"]),
    ("packet", &[]),
    ("packet_raw", &["p_raw"]),
    ("packet_dgram", &["p_dgr"]),
    ("netlink", &[]),
    ("mptcp", &[]),
    ("dccp", &[]),
    ("sctp", &[]),
    ("vsock", &[]),
    ("vsock_stream", &["v_str"]),
    ("vsock_dgram", &["v_dgr"]),
    ("tipc", &[]),
    ("xdp", &[]),
];

/// `-A`'s value: any text (config checks each name, with ss's message and status), offering
/// the table names for completion.
fn table_list() -> impl TypedValueParser<Value = String> {
    offering(
        TABLES
            .iter()
            .map(|(name, aliases)| PossibleValue::new(*name).aliases(aliases.iter().copied())),
    )
}

/// The state names a filter takes after `state` and `exclude`, offered for completion there
/// (and among the filter's words). Any word is accepted; the filter parser decides (a test
/// beside its table of state names checks that they and these words agree).
pub const STATE_WORDS: &[&str] = &[
    "established",
    "syn-sent",
    "syn-recv",
    "fin-wait-1",
    "fin-wait-2",
    "time-wait",
    "closed",
    "close-wait",
    "last-ack",
    "listening",
    "closing",
    "bound-inactive",
    "all",
    "connected",
    "synchronized",
    "bucket",
    "big",
    "unconnected",
    "close",
];

/// The other words of a filter offered for completion: `state` and `exclude`, and the
/// predicates and operators.
pub const FILTER_WORDS: &[&str] = &[
    "state",
    "exclude",
    "src",
    "dst",
    "sport",
    "dport",
    "dev",
    "fwmark",
    "cgroup",
    "autobound",
    "and",
    "or",
    "not",
];

fn filter_word() -> impl TypedValueParser<Value = String> {
    let words = STATE_WORDS.iter().chain(FILTER_WORDS);
    offering(words.map(|name| PossibleValue::new(*name)))
}

/// A parser that accepts any text but offers `values` to the completions.
fn offering(values: impl Iterator<Item = PossibleValue>) -> impl TypedValueParser<Value = String> {
    let values: Vec<PossibleValue> = values.collect();
    AnyText(PossibleValuesParser::new(values))
}

#[derive(Clone)]
struct AnyText(PossibleValuesParser);

impl TypedValueParser for AnyText {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// The command line as one line of text, for the live view's title: the words one space
/// apart, those that are empty or hold white space in single quotes.
pub fn command_line() -> String {
    let mut line = "sockscope".to_owned();
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy();
        line.push(' ');
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            line.push('\'');
            line.push_str(&arg);
            line.push('\'');
        } else {
            line.push_str(&arg);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }

    #[test]
    fn options_settle_their_order_as_they_are_read() {
        let selection = |args: &[&str]| {
            let matches = Cli::command()
                .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
                .unwrap();
            Cli::from_arg_matches(&matches).unwrap().listing.selection
        };
        let families = selection(&["-6", "-f", "unix", "-4x", "--family=inet6"]).families();
        use FamilyArg::*;
        assert_eq!(families, [Inet6, Unix, Inet, Unix, Inet6]);
        let states = selection(&["-a", "-B", "-l"]);
        assert!(states.listening && !states.all && !states.bound_inactive);
    }

    #[test]
    fn watch_takes_the_listing_options() {
        let matches = Cli::command()
            .try_get_matches_from(["sockscope", "watch", "-tnp", "--interval", "0.5", ":22"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Some(Command::Watch(args)) = &cli.command else {
            panic!("not watch: {cli:?}")
        };
        assert_eq!(args.interval, std::time::Duration::from_millis(500));
        assert!(
            args.listing.selection.tcp
                && args.listing.details.numeric
                && !args.listing.selection.udp
        );
        assert!(args.listing.processes);
        assert_eq!(args.listing.selection.expression, [":22"]);
        for refused in [&["-s"][..], &["-j"], &["-K"], &["-D", "x"]] {
            let args = ["sockscope", "watch"].iter().chain(refused);
            assert!(
                Cli::command().try_get_matches_from(args).is_err(),
                "{refused:?}"
            );
        }
        for bad in ["0", "0.001", "-1", "nan", "inf", "x", "100000"] {
            assert!(
                Cli::command()
                    .try_get_matches_from(["sockscope", "watch", "--interval", bad])
                    .is_err(),
                "{bad}"
            );
        }
    }
}
