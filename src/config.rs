//! From what the user typed to what sockscope will do: the validated configuration.
//!
//! This is where ss's option semantics live. Tables and families accumulate; each table or
//! family named adds the states it shows by default; `-a` and `-l` replace the states (the last
//! one given wins); the last of `-4`, `-6`, `-f inet`, `-f inet6` decides the IP version; and
//! tables and families then complete each other, so that `-4` means "every inet table, IPv4
//! only" and `-t -x` means "TCP on both IP versions, and unix sockets".

use std::ffi::OsStr;
use std::path::PathBuf;

use clap::ArgMatches;
use clap::parser::ValueSource;

use crate::cli::{Cli, FamilyArg};
use crate::events;
use crate::filter::{self, Filter, FilterError, ParseOptions, Source};
use crate::procs::Scope;
use crate::query::Query;
use crate::socket::{Family, FamilySet, Netid, NetidSet, StateSet, TcpState};
use crate::wire::{inet, netlink_diag, packet, unix};

/// A problem with the options, reported as one line.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("\"{0}\" is illegal socket table id")]
    UnknownTable(String),
    #[error(transparent)]
    Filter(#[from] FilterError),
    #[error("cannot read the filter from {path}: {message}")]
    FilterFile { path: String, message: String },
    #[error("give the filter either with -F or on the command line, not both")]
    TwoFilters,
    #[error(
        "--json cannot show the summary (-s) and a listing together; run sockscope once for each"
    )]
    JsonSummaryAndListing,
    #[error(
        "-K with no filter expression would close every socket listed; name the sockets \
         (for example -K dport = :8080), or add --force to close them all"
    )]
    KillWithoutFilter,
    #[error("SELinux is not enabled")]
    SelinuxDisabled,
    #[error("sockscope cannot show SELinux contexts (-Z, -z) yet")]
    SelinuxContexts,
    #[error("-N all lists sockets only; it cannot be combined with {0}")]
    AllNamespacesWith(&'static str),
    #[error("-D records the TCP table only, and the tables selected do not include it")]
    RecordWithoutTcp,
    #[error("a dump holds TCP sockets only, and --from-dump was asked for other tables")]
    DumpWithoutTcp,
    #[error("-E shows destroyed TCP and UDP sockets only; the kernel reports no others")]
    NoDestroyEvents,
    #[error("watch does not take {0}")]
    NotInWatch(String),
    #[error("-E follows the kernel's events; it cannot be combined with {0}")]
    EventsWith(&'static str),
}

impl ConfigError {
    /// ss's exit status for the mistake: 255 for what it reports with its usage, 1 otherwise;
    /// 2, as for the argument parser's errors, for options sockscope cannot combine.
    pub fn exit_status(&self) -> u8 {
        match self {
            ConfigError::Filter(e) => e.exit_status(),
            ConfigError::FilterFile { .. }
            | ConfigError::SelinuxDisabled
            | ConfigError::SelinuxContexts => 1,
            ConfigError::JsonSummaryAndListing
            | ConfigError::KillWithoutFilter
            | ConfigError::AllNamespacesWith(_)
            | ConfigError::RecordWithoutTcp
            | ConfigError::DumpWithoutTcp
            | ConfigError::NoDestroyEvents
            | ConfigError::EventsWith(_)
            | ConfigError::NotInWatch(_) => 2,
            _ => 255,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub query: Query,
    pub output: Output,
    /// `-s`: whether the socket usage summary is shown, and whether a listing follows it.
    pub summary: Option<SummaryMode>,
    /// Whose descriptors to read for the Process column (`-p`, `-T`); none without them.
    pub processes: Option<Scope>,
    /// `-K`: close the sockets listed, and list those closed.
    pub kill: bool,
    /// `-N all`: list every network namespace, one after the other.
    pub all_namespaces: bool,
    /// `-D`: write the TCP table's raw replies here (`-`: standard output) instead of listing.
    pub record: Option<PathBuf>,
    /// `-E`: follow destroyed sockets instead of listing the table.
    pub events: bool,
}

/// The network namespaces `-N` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespaces<'a> {
    /// sockscope's own.
    Current,
    /// The one `-N NAME` names: sockscope enters it before anything else.
    Named(&'a OsStr),
    /// Every one (`-N all`, `--all-netns`).
    All,
}

impl<'a> Namespaces<'a> {
    pub fn of(cli: &'a Cli) -> Namespaces<'a> {
        match cli.net.as_deref() {
            _ if cli.all_netns => Namespaces::All,
            Some(name) if name == "all" => Namespaces::All,
            Some(name) => Namespaces::Named(name),
            None => Namespaces::Current,
        }
    }
}

/// What `-s` shows. As in ss, the summary is followed by a listing only when a table or a
/// family is named or a filter expression is given; `-a`, `-l`, `-n` and the like do not ask
/// for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryMode {
    Alone,
    ThenListing,
}

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

/// What a family option contributed, in command-line order.
#[derive(Clone, Copy)]
struct FamilyChoice {
    index: usize,
    family: Family,
}

impl Config {
    pub fn new(cli: &Cli, matches: &ArgMatches) -> Result<Config, ConfigError> {
        let mut tables = NetidSet::EMPTY;
        let mut families = FamilySet::EMPTY;
        let mut states = StateSet::EMPTY;
        let mut chose_something = false;

        for (flag, netid) in [
            (cli.tcp, Netid::Tcp),
            (cli.udp, Netid::Udp),
            (cli.raw, Netid::Raw),
            (cli.mptcp, Netid::Mptcp),
            (cli.sctp, Netid::Sctp),
            (cli.dccp, Netid::Dccp),
        ] {
            if flag {
                tables = tables.with(netid);
                states = states.union(table_default_states(netid));
                chose_something = true;
            }
        }
        for item in cli.query.iter().flat_map(|q| q.split(',')) {
            let (exclude, name) = match item.strip_prefix('!') {
                Some(name) => (true, name),
                None => (false, item),
            };
            let named = table_group(name).ok_or_else(|| ConfigError::UnknownTable(item.into()))?;
            for netid in named.iter() {
                if exclude {
                    tables = tables.without(netid);
                } else {
                    tables = tables.with(netid);
                    states = states.union(table_default_states(netid));
                }
            }
            chose_something = true;
        }

        let choices = family_choices(cli, matches);
        for choice in &choices {
            families = families.with(choice.family);
            states = states.union(default_states(choice.family));
            chose_something = true;
        }

        if !chose_something {
            tables = NetidSet::all();
            families = Family::ALL
                .into_iter()
                .fold(FamilySet::EMPTY, FamilySet::with);
            states = StateSet::DEFAULT;
        }
        let default_states = states;
        if let Some(explicit) = explicit_states(cli, matches) {
            states = explicit;
        }

        let (tables, mut families) = merge_defaults(tables, families);
        let tables = match &cli.from_dump {
            Some(_) if !tables.contains(Netid::Tcp) => return Err(ConfigError::DumpWithoutTcp),
            Some(_) => NetidSet::EMPTY.with(Netid::Tcp),
            None => tables,
        };
        if cli.diag.is_some() && !tables.contains(Netid::Tcp) {
            return Err(ConfigError::RecordWithoutTcp);
        }
        let last_family = choices.iter().max_by_key(|c| c.index).map(|c| c.family);
        match last_family {
            Some(Family::Inet) => families = families.without(Family::Inet6),
            Some(Family::Inet6) => families = families.without(Family::Inet),
            _ => {}
        }

        let filter = read_filter(
            cli,
            &ParseOptions {
                default_family: last_family,
                service_protocol: service_protocol(tables),
            },
        )?;
        // States in the filter override -a, -l and -B; if they cancel out, the tables'
        // defaults apply.
        match filter.states {
            Some(named) if named.is_empty() => states = default_states,
            Some(named) => states = named,
            None => {}
        }

        let output = Output {
            format: if cli.json {
                Format::Json
            } else {
                Format::Table
            },
            numeric: cli.numeric,
            resolve: cli.resolve,
            header: !cli.no_header,
            show_netid: tables.len() > 1,
            show_state: states.len() != 1,
            details: DetailFlags {
                timers: cli.timers,
                extended: cli.extended,
                memory: cli.memory,
                info: cli.info,
                oneline: cli.oneline,
                tos: cli.tos,
                cgroup: cli.cgroup,
                sockopt: cli.inet_sockopt,
                bpf: cli.bpf,
            },
        };
        let summary = match (cli.summary, chose_something || !cli.expression.is_empty()) {
            (false, _) => None,
            (true, false) => Some(SummaryMode::Alone),
            (true, true) if cli.json => return Err(ConfigError::JsonSummaryAndListing),
            (true, true) => Some(SummaryMode::ThenListing),
        };
        // ss's TCPDIAG_FILE replaces the kernel's TCP table only when one is listed.
        let dump_path = match &cli.from_dump {
            Some(path) => Some(path.clone()),
            None if cli.diag.is_none()
                && summary != Some(SummaryMode::Alone)
                && tables.contains(Netid::Tcp) =>
            {
                std::env::var_os("TCPDIAG_FILE")
                    .filter(|p| !p.is_empty())
                    .map(PathBuf::from)
            }
            None => None,
        };
        let all_namespaces = Namespaces::of(cli) == Namespaces::All;
        if all_namespaces {
            if cli.diag.is_some() {
                return Err(ConfigError::AllNamespacesWith("-D"));
            }
            if dump_path.is_some() {
                return Err(ConfigError::AllNamespacesWith("a dump to read"));
            }
            if cli.summary {
                return Err(ConfigError::AllNamespacesWith("-s"));
            }
            if cli.kill {
                return Err(ConfigError::AllNamespacesWith("-K"));
            }
            if cli.events {
                return Err(ConfigError::AllNamespacesWith("-E"));
            }
        }
        let bytecode = filter.expr.as_ref().and_then(filter::compile);
        let query = Query {
            tables,
            families,
            states,
            inet_extensions: output.details.inet_extensions(),
            unix_show: output.details.unix_show(),
            packet_show: output.details.packet_show(),
            netlink_show: output.details.netlink_show(),
            filter: filter.expr,
            bytecode,
            context: filter::Context::from_system(),
            tcp_dump: dump_path,
        };
        let processes = if cli.threads {
            Some(Scope::Threads)
        } else if cli.processes {
            Some(Scope::Processes)
        } else {
            None
        };
        if cli.context || cli.contexts {
            // ss's test: the SELinux file system is mounted.
            return Err(
                if std::path::Path::new("/sys/fs/selinux/enforce").exists() {
                    ConfigError::SelinuxContexts
                } else {
                    ConfigError::SelinuxDisabled
                },
            );
        }
        if cli.kill && query.filter.is_none() && !cli.force {
            return Err(ConfigError::KillWithoutFilter);
        }
        if cli.events && events::groups(&query).is_empty() {
            return Err(ConfigError::NoDestroyEvents);
        }
        if cli.events {
            let other = [
                (cli.kill, "-K"),
                (cli.diag.is_some(), "-D"),
                (query.tcp_dump.is_some(), "a dump to read"),
            ];
            if let Some((_, option)) = other.into_iter().find(|(given, _)| *given) {
                return Err(ConfigError::EventsWith(option));
            }
        }
        Ok(Config {
            query,
            output,
            summary,
            processes,
            kill: cli.kill,
            all_namespaces,
            record: cli.diag.clone(),
            events: cli.events,
        })
    }
}

/// The states a table shows when it is named without `-a`, `-l` or a state filter: datagram
/// tables show their connected sockets only.
fn table_default_states(netid: Netid) -> StateSet {
    match netid {
        Netid::Udp | Netid::Raw => StateSet::single(TcpState::Established),
        _ => StateSet::DEFAULT,
    }
}

/// The states a family shows when it is named without `-a`, `-l` or a state filter: packet and
/// netlink sockets are never connected, so they show their only state.
fn default_states(family: Family) -> StateSet {
    match family {
        Family::Packet | Family::Netlink => StateSet::single(TcpState::Close),
        _ => StateSet::DEFAULT,
    }
}

/// `-a`, `-l` or `-B`, whichever came last.
fn explicit_states(cli: &Cli, matches: &ArgMatches) -> Option<StateSet> {
    [
        (cli.all, "all", StateSet::ALL),
        (cli.listening, "listening", listening_states()),
        (
            cli.bound_inactive,
            "bound_inactive",
            StateSet::single(TcpState::BoundInactive),
        ),
    ]
    .into_iter()
    .filter(|(given, _, _)| *given)
    .max_by_key(|(_, id, _)| last_index(matches, id))
    .map(|(_, _, states)| states)
}

/// The filter from the command line or from `-F`.
fn read_filter(cli: &Cli, options: &ParseOptions) -> Result<Filter, ConfigError> {
    let source = match &cli.filter_file {
        Some(_) if !cli.expression.is_empty() => return Err(ConfigError::TwoFilters),
        Some(path) => {
            let text = if path.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(path)
            }
            .map_err(|e| ConfigError::FilterFile {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            let without_comments = |line: &str| line.split('#').next().unwrap_or("").to_owned();
            Source::Lines(text.lines().map(without_comments).collect())
        }
        None => Source::Args(cli.expression.clone()),
    };
    Ok(filter::parse(&source, options)?)
}

/// Service names in a filter are looked up for the protocol listed: UDP alone, TCP alone, or
/// any when both or neither are.
fn service_protocol(tables: NetidSet) -> Option<u8> {
    match (tables.contains(Netid::Udp), tables.contains(Netid::Tcp)) {
        (true, false) => Some(libc::IPPROTO_UDP as u8),
        (false, true) => Some(libc::IPPROTO_TCP as u8),
        _ => None,
    }
}

fn listening_states() -> StateSet {
    StateSet::single(TcpState::Listen).with(TcpState::Close)
}

fn last_index(matches: &ArgMatches, id: &str) -> usize {
    if matches.value_source(id) != Some(ValueSource::CommandLine) {
        return 0;
    }
    matches
        .indices_of(id)
        .and_then(|indices| indices.max())
        .unwrap_or(0)
}

/// Every family option, with where it stood on the command line.
fn family_choices(cli: &Cli, matches: &ArgMatches) -> Vec<FamilyChoice> {
    let mut choices = Vec::new();
    for (flag, id, family) in [
        (cli.ipv4, "ipv4", Family::Inet),
        (cli.ipv6, "ipv6", Family::Inet6),
        (cli.unix, "unix", Family::Unix),
        (cli.packet, "packet", Family::Packet),
        (cli.vsock, "vsock", Family::Vsock),
        (cli.tipc, "tipc", Family::Tipc),
        (cli.xdp, "xdp", Family::Xdp),
    ] {
        if flag {
            choices.push(FamilyChoice {
                index: last_index(matches, id),
                family,
            });
        }
    }
    if let Some(indices) = matches.indices_of("family") {
        for (index, arg) in indices.zip(&cli.family) {
            choices.push(FamilyChoice {
                index,
                family: match arg {
                    FamilyArg::Unix => Family::Unix,
                    FamilyArg::Inet => Family::Inet,
                    FamilyArg::Inet6 => Family::Inet6,
                    FamilyArg::Link => Family::Packet,
                    FamilyArg::Netlink => Family::Netlink,
                    FamilyArg::Vsock => Family::Vsock,
                    FamilyArg::Tipc => Family::Tipc,
                    FamilyArg::Xdp => Family::Xdp,
                },
            });
        }
    }
    choices
}

/// Each table gets a family if none of its families was named, and each family named gets its
/// tables if none of them was named.
fn merge_defaults(mut tables: NetidSet, mut families: FamilySet) -> (NetidSet, FamilySet) {
    for netid in tables.iter() {
        if !netid.families().intersects(families) {
            families = families.union(netid.families());
        }
    }
    for family in families.iter() {
        if !family.tables().intersects(tables) {
            tables = tables.union(family.tables());
        }
    }
    (tables, families)
}

/// The tables an `-A` item names.
fn table_group(name: &str) -> Option<NetidSet> {
    let one = |netid| Some(NetidSet::EMPTY.with(netid));
    match name {
        "all" => Some(NetidSet::all()),
        "inet" => Some(
            [
                Netid::Tcp,
                Netid::Udp,
                Netid::Raw,
                Netid::Mptcp,
                Netid::Dccp,
                Netid::Sctp,
            ]
            .into_iter()
            .collect(),
        ),
        "unix" => Some(Family::Unix.tables()),
        "packet" => Some(Family::Packet.tables()),
        "vsock" => Some(Family::Vsock.tables()),
        "tcp" => one(Netid::Tcp),
        "udp" => one(Netid::Udp),
        "raw" => one(Netid::Raw),
        "mptcp" => one(Netid::Mptcp),
        "dccp" => one(Netid::Dccp),
        "sctp" => one(Netid::Sctp),
        "unix_stream" | "u_str" => one(Netid::UnixStream),
        "unix_dgram" | "u_dgr" => one(Netid::UnixDgram),
        "unix_seqpacket" | "u_seq" => one(Netid::UnixSeqpacket),
        "packet_raw" | "p_raw" => one(Netid::PacketRaw),
        "packet_dgram" | "p_dgr" => one(Netid::PacketDgram),
        "netlink" => one(Netid::Netlink),
        "vsock_stream" | "v_str" => one(Netid::VsockStream),
        "vsock_dgram" | "v_dgr" => one(Netid::VsockDgram),
        "tipc" => one(Netid::Tipc),
        "xdp" => one(Netid::Xdp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn config(args: &[&str]) -> Result<Config, ConfigError> {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        Config::new(&cli, &matches)
    }

    fn tables(args: &[&str]) -> Vec<Netid> {
        config(args).unwrap().query.tables.iter().collect()
    }

    fn families(args: &[&str]) -> (bool, bool) {
        let f = config(args).unwrap().query.families;
        (f.contains(Family::Inet), f.contains(Family::Inet6))
    }

    #[test]
    fn default_is_every_table_connected() {
        let c = config(&[]).unwrap();
        assert_eq!(c.query.states, StateSet::DEFAULT);
        assert!(c.output.show_netid && c.output.show_state);
        assert_eq!(tables(&[]), Netid::ALL);
    }

    #[test]
    fn last_of_all_and_listening_wins() {
        assert_eq!(config(&["-tal"]).unwrap().query.states, listening_states());
        assert_eq!(config(&["-tla"]).unwrap().query.states, StateSet::ALL);
        assert_eq!(
            config(&["-t", "-l"]).unwrap().query.states,
            listening_states()
        );
    }

    #[test]
    fn last_ip_version_wins() {
        assert_eq!(families(&["-t", "-6", "-4"]), (true, false));
        assert_eq!(
            families(&["-t", "-f", "inet", "-f", "inet6"]),
            (false, true)
        );
        assert_eq!(families(&["-t", "-4", "-6", "-f", "unix"]), (true, true));
        assert_eq!(families(&["-6", "-f", "unix", "-4"]), (true, false));
    }

    #[test]
    fn tables_and_families_complete_each_other() {
        assert_eq!(
            tables(&["-t", "-x"]),
            [
                Netid::UnixStream,
                Netid::UnixDgram,
                Netid::UnixSeqpacket,
                Netid::Tcp
            ]
        );
        assert_eq!(families(&["-t", "-x"]), (true, true));
        let inet = [
            Netid::Raw,
            Netid::Udp,
            Netid::Tcp,
            Netid::Mptcp,
            Netid::Dccp,
            Netid::Sctp,
        ];
        assert_eq!(tables(&["-4"]), inet);
        assert_eq!(families(&["-4"]), (true, false));
        assert_eq!(tables(&["-M"]), [Netid::Mptcp]);
        assert_eq!(tables(&["-0"]), [Netid::PacketRaw, Netid::PacketDgram]);
        assert!(!tables(&["-A", "all,!unix"]).contains(&Netid::UnixDgram));
        assert_eq!(tables(&["-A", "all,!unix"]).len(), Netid::ALL.len() - 3);
        assert_eq!(tables(&["-A", "unix_dgram"]), [Netid::UnixDgram]);
    }

    #[test]
    fn columns_follow_the_selection() {
        let single = config(&["-t"]).unwrap().output;
        assert!(!single.show_netid && single.show_state);
        // UDP lists established sockets only: one state, so no State column.
        let udp = config(&["-u"]).unwrap();
        assert_eq!(udp.query.states.bits(), 0x2);
        assert!(!udp.output.show_state);
        // The extension bits ss 6.1 asks for (seen with strace).
        let all = config(&["-tanmi", "--tos"]).unwrap();
        assert_eq!(all.query.inet_extensions, 0x7f);
        assert_eq!(config(&["-tane"]).unwrap().query.inet_extensions, 0);
        let unix = config(&["-x"]).unwrap().output;
        assert!(unix.show_netid);
    }

    #[test]
    fn summary_lists_only_what_is_named() {
        let mode = |args: &[&str]| config(args).map(|c| c.summary);
        assert_eq!(mode(&[]), Ok(None));
        assert_eq!(mode(&["-t"]), Ok(None));
        for args in [
            &["-s"][..],
            &["-s", "-a", "-n", "-H"],
            &["-s", "-l"],
            &["-sj"],
        ] {
            assert_eq!(mode(args), Ok(Some(SummaryMode::Alone)), "{args:?}");
        }
        for args in [
            &["-s", "-t"][..],
            &["-x", "-s"],
            &["-s", "-4"],
            &["-s", "-A", "tcp"],
            &["-s", "-f", "inet"],
            &["-s", "state", "established"],
            &["-s", "dport", "=", ":22"],
        ] {
            assert_eq!(mode(args), Ok(Some(SummaryMode::ThenListing)), "{args:?}");
        }
        let err = config(&["-s", "-j", "-t"]).unwrap_err();
        assert_eq!(err, ConfigError::JsonSummaryAndListing);
        assert_eq!(err.exit_status(), 2);
    }

    #[test]
    fn threads_imply_processes() {
        assert_eq!(config(&["-t"]).unwrap().processes, None);
        assert_eq!(config(&["-tp"]).unwrap().processes, Some(Scope::Processes));
        assert_eq!(config(&["-tT"]).unwrap().processes, Some(Scope::Threads));
        assert_eq!(
            config(&["-p", "--threads"]).unwrap().processes,
            Some(Scope::Threads)
        );
    }

    #[test]
    fn which_namespaces() {
        let of = |args: &[&str], expected: Namespaces<'_>| {
            let matches = Cli::command()
                .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
                .unwrap();
            let cli = Cli::from_arg_matches(&matches).unwrap();
            assert_eq!(Namespaces::of(&cli), expected, "{args:?}");
        };
        of(&[], Namespaces::Current);
        of(&["-N", "web"], Namespaces::Named(OsStr::new("web")));
        of(
            &["--net=/proc/1/ns/net"],
            Namespaces::Named(OsStr::new("/proc/1/ns/net")),
        );
        of(&["-N", "all"], Namespaces::All);
        of(&["--all-netns"], Namespaces::All);
        of(
            &["-N", "/run/netns/all"],
            Namespaces::Named(OsStr::new("/run/netns/all")),
        );
        assert!(config(&["-N", "all", "-t"]).unwrap().all_namespaces);
        for (args, what) in [
            (&["-N", "all", "-D", "x"][..], "-D"),
            (&["--all-netns", "-s"], "-s"),
            (&["-N", "all", "--from-dump", "x"], "a dump to read"),
            (&["-N", "all", "-K", "--force"], "-K"),
        ] {
            let err = config(args).unwrap_err();
            assert_eq!(err, ConfigError::AllNamespacesWith(what));
            assert_eq!(err.exit_status(), 2);
        }
    }

    #[test]
    fn dumps_are_of_the_tcp_table() {
        assert_eq!(
            config(&["-u", "-D", "x"]).unwrap_err(),
            ConfigError::RecordWithoutTcp
        );
        let recording = config(&["-D", "-", "-4"]).unwrap();
        assert_eq!(recording.record.as_deref(), Some(std::path::Path::new("-")));
        assert!(recording.query.tables.contains(Netid::Tcp));
        assert_eq!(
            config(&["-x", "--from-dump", "x"]).unwrap_err(),
            ConfigError::DumpWithoutTcp
        );
        // An empty dump: the replies to one request, none.
        let path =
            std::env::temp_dir().join(format!("sockscope-config-{}.dump", std::process::id()));
        let mut done = 20u32.to_ne_bytes().to_vec();
        done.extend_from_slice(&3u16.to_ne_bytes());
        done.extend_from_slice(&[0; 14]);
        std::fs::write(&path, &done).unwrap();
        let replay = config(&["--from-dump", path.to_str().unwrap(), "-4", "-a"]);
        std::fs::remove_file(&path).unwrap();
        let replay = replay.unwrap();
        assert_eq!(replay.query.tables.iter().collect::<Vec<_>>(), [Netid::Tcp]);
        assert!(!replay.output.show_netid);
        assert_eq!(replay.query.tcp_dump, Some(path));
    }

    #[test]
    fn bad_tables_are_errors() {
        assert_eq!(
            config(&["-A", "foo"]).unwrap_err(),
            ConfigError::UnknownTable("foo".into())
        );
        assert_eq!(
            config(&["-A", "tcp,!bar"]).unwrap_err(),
            ConfigError::UnknownTable("!bar".into())
        );
    }
}
