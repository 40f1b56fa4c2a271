//! From what the user typed to what sockscope will do: the validated configuration.
//!
//! This is where ss's option semantics live. Tables and families accumulate; each table or
//! family named adds the states it shows by default; `-a` and `-l` replace the states (the last
//! one given wins); the last of `-4`, `-6`, `-f inet`, `-f inet6` decides the IP version; and
//! tables and families then complete each other, so that `-4` means "every inet table, IPv4
//! only" and `-t -x` means "TCP on both IP versions, and unix sockets".
//!
//! Building a [`Config`] reads nothing: what it needs from files, the environment or the
//! system comes in [`Inputs`], gathered by the caller.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cli::{Cli, ExporterArgs, FamilyArg, ListingArgs, SelectionArgs, TABLES, WatchArgs};
use crate::filter::{self, Filter, FilterError, ParseOptions, Source};
use crate::procs::Scope;
use crate::socket::{Family, FamilySet, Netid, NetidSet, StateSet, TcpState};
use crate::source::query::Query;
use crate::source::request::{Attributes, Wanted};

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
    #[error("-E follows the kernel's events; it cannot be combined with {0}")]
    EventsWith(&'static str),
}

impl ConfigError {
    /// ss's exit status for the mistake: 255 for what it reports with its usage, 1 otherwise;
    /// 2, as for the argument parser's errors, for options sockscope cannot combine.
    pub fn exit_status(&self) -> u8 {
        match self {
            ConfigError::Filter(e) => e.exit_status(),
            ConfigError::SelinuxDisabled | ConfigError::SelinuxContexts => 1,
            ConfigError::JsonSummaryAndListing
            | ConfigError::KillWithoutFilter
            | ConfigError::AllNamespacesWith(_)
            | ConfigError::RecordWithoutTcp
            | ConfigError::DumpWithoutTcp
            | ConfigError::NoDestroyEvents
            | ConfigError::EventsWith(_) => 2,
            ConfigError::UnknownTable(_)
            | ConfigError::TwoFilters
            | ConfigError::FilterFile { .. } => 255,
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
    /// What to do with the sockets selected.
    pub mode: Mode,
    /// Which network namespaces (`-N`): a named one is entered before the configuration is
    /// built, every one is visited in turn.
    pub namespaces: Namespaces,
    /// What the options selected before the filter narrowed it, for [`Config::refilter`].
    selection: Selection,
}

/// What sockscope does with the sockets it selects; the modes exclude each other.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// List them.
    List,
    /// `-K`: close them, and list those closed.
    Kill,
    /// `-E`: follow them as the kernel destroys them, instead of listing the table.
    Events,
    /// `-D`: write the TCP table's raw replies here (`-`: standard output) instead of listing.
    Record(PathBuf),
}

/// The network namespaces `-N` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Namespaces {
    /// sockscope's own.
    Current,
    /// The one `-N NAME` names: a name under /run/netns, or a path when it holds a `/`.
    Named(OsString),
    /// Every one (`-N all`, `--all-netns`).
    All,
}

impl Namespaces {
    pub fn of(args: &SelectionArgs) -> Namespaces {
        match &args.net {
            _ if args.all_netns => Namespaces::All,
            Some(name) if name == "all" => Namespaces::All,
            Some(name) => Namespaces::Named(name.clone()),
            None => Namespaces::Current,
        }
    }
}

/// What the configuration needs from outside the command line, gathered by the caller so that
/// [`Config::new`] reads nothing.
#[derive(Clone, Debug)]
pub struct Inputs {
    /// The text of the `-F` file (or the reason it could not be read), when `-F` was given.
    pub filter_file: Option<Result<String, String>>,
    /// ss's `TCPDIAG_FILE`, when set and not empty.
    pub tcpdiag_file: Option<PathBuf>,
    /// Whether SELinux is enabled (ss's test: its file system is mounted), for `-Z` and `-z`.
    pub selinux: bool,
    /// What the filter needs to know of the namespace (the ephemeral port range).
    pub context: filter::Context,
}

/// What `-s` shows. As in ss, the summary is followed by a listing only when a table or a
/// family is named or a filter expression is given; `-a`, `-l`, `-n` and the like do not ask
/// for one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SummaryMode {
    Alone,
    ThenListing,
}

pub use crate::render::options::{DetailFlags, Format, Output};

/// Which states a command shows when none is asked for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Defaults {
    /// ss's: each table's and family's own (connected sockets, mostly).
    Listing,
    /// Every state, as with `-a`: watch's.
    Every,
}

/// The tables, families and states the options select, before the filter's states.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Selection {
    tables: NetidSet,
    families: FamilySet,
    states: StateSet,
    /// The states shown when the filter's states cancel out.
    default_states: StateSet,
    /// Whether a table or a family was named.
    named_something: bool,
    /// The last family option, which decides the family of a filter's addresses.
    last_family: Option<Family>,
}

impl Config {
    /// The configuration of a listing (and of `-s`, `-E`, `-K`, `-D`).
    pub fn new(cli: &Cli, inputs: &Inputs) -> Result<Config, ConfigError> {
        let args = &cli.listing;
        let mut selection = select(&args.selection, Defaults::Listing)?;
        let dump = dump_path(cli, &selection, inputs);
        tables_for_dumps(cli, &mut selection)?;
        let unfiltered = selection.clone();
        let filter = parse_filter(&args.selection, &mut selection, inputs)?;
        let summary = summary_mode(cli, &selection)?;
        let mode = mode(cli);
        let namespaces = Namespaces::of(&args.selection);
        check_combination(&mode, &namespaces, dump.is_some(), cli.summary)?;
        if cli.context || cli.contexts {
            return Err(if inputs.selinux {
                ConfigError::SelinuxContexts
            } else {
                ConfigError::SelinuxDisabled
            });
        }
        check_mode(&mode, &selection, &filter, cli.force)?;
        let format = if cli.json {
            Format::Json
        } else {
            Format::Table
        };
        let details = DetailFlags {
            no_queues: cli.no_queues,
            ..details(args, cli.oneline)
        };
        let output = selection.output(format, naming(args), !cli.no_header, details);
        let mut query = query(&selection, filter, &output, inputs);
        query.tcp_dump_as_ss = dump.is_some() && cli.from_dump.is_none();
        query.tcp_dump = dump;
        Ok(Config {
            query,
            output,
            summary,
            processes: processes(args),
            mode,
            namespaces,
            selection: unfiltered,
        })
    }

    /// The configuration of `watch`: a listing's selection, every state unless one is asked
    /// for.
    pub fn watch(args: &WatchArgs, inputs: &Inputs) -> Result<Config, ConfigError> {
        let args = &args.listing;
        let mut selection = select(&args.selection, Defaults::Every)?;
        let unfiltered = selection.clone();
        let filter = parse_filter(&args.selection, &mut selection, inputs)?;
        let output = selection.output(Format::Table, naming(args), true, details(args, false));
        Ok(Config {
            query: query(&selection, filter, &output, inputs),
            output,
            summary: None,
            processes: processes(args),
            mode: Mode::List,
            namespaces: Namespaces::of(&args.selection),
            selection: unfiltered,
        })
    }

    /// The configuration of `exporter`: a listing's selection, every state unless one is asked
    /// for, and with `-i` the TCP information its round-trip times come from.
    pub fn exporter(args: &ExporterArgs, inputs: &Inputs) -> Result<Config, ConfigError> {
        let mut selection = select(&args.selection, Defaults::Every)?;
        let unfiltered = selection.clone();
        let filter = parse_filter(&args.selection, &mut selection, inputs)?;
        let details = DetailFlags {
            info: args.info,
            ..DetailFlags::default()
        };
        let numbers = Naming {
            numeric: true,
            resolve: false,
        };
        let output = selection.output(Format::Table, numbers, false, details);
        Ok(Config {
            query: query(&selection, filter, &output, inputs),
            output,
            summary: None,
            processes: None,
            mode: Mode::List,
            namespaces: Namespaces::of(&args.selection),
            selection: unfiltered,
        })
    }
}

impl Config {
    /// The query the command line would have made with `words` as its filter expression: a
    /// filter typed into watch's live view means what it means there (its states replace the
    /// options', a family it names is listed alone), and replaces the command line's whole.
    pub fn refilter(&self, words: &[String]) -> Result<Query, ConfigError> {
        let mut selection = self.selection.clone();
        let filter = narrow(&mut selection, &Source::Args(words.to_vec()))?;
        let inputs = Inputs {
            filter_file: None,
            tcpdiag_file: None,
            selinux: false,
            context: self.query.context,
        };
        Ok(Query {
            tcp_dump: self.query.tcp_dump.clone(),
            ..query(&selection, filter, &self.output, &inputs)
        })
    }
}

/// How ports and addresses are shown: `-n` and `-r`.
#[derive(Clone, Copy)]
struct Naming {
    numeric: bool,
    resolve: bool,
}

fn naming(args: &ListingArgs) -> Naming {
    Naming {
        numeric: args.details.numeric,
        resolve: args.details.resolve,
    }
}

impl Selection {
    /// How the selected sockets are shown: every command's [`Output`] is built here. The
    /// Netid column shows when more than one table is listed, the State column unless one
    /// state alone is.
    fn output(&self, format: Format, naming: Naming, header: bool, details: DetailFlags) -> Output {
        Output {
            format,
            numeric: naming.numeric,
            resolve: naming.resolve,
            header,
            show_netid: self.tables.len() > 1,
            show_state: self.states.len() != 1,
            details,
        }
    }
}

/// The tables, families and states the options name.
fn select(args: &SelectionArgs, defaults: Defaults) -> Result<Selection, ConfigError> {
    let mut tables = NetidSet::EMPTY;
    let mut families = FamilySet::EMPTY;
    let mut states = StateSet::EMPTY;
    let mut named_something = false;

    for (flag, netid) in [
        (args.tcp, Netid::Tcp),
        (args.udp, Netid::Udp),
        (args.raw, Netid::Raw),
        (args.mptcp, Netid::Mptcp),
        (args.sctp, Netid::Sctp),
        (args.dccp, Netid::Dccp),
    ] {
        if flag {
            tables = tables.with(netid);
            states = states.union(table_default_states(netid));
            named_something = true;
        }
    }
    for item in args.query.iter().flat_map(|q| q.split(',')) {
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
                // ss gives a table named with -A the connected states, even UDP and raw
                // (which -u and -w give ESTABLISHED only), so that the State column stays.
                states = states.union(StateSet::DEFAULT);
            }
        }
        named_something = true;
    }

    let choices = family_choices(args);
    for &family in &choices {
        families = families.with(family);
        states = states.union(default_states(family));
        named_something = true;
    }

    if !named_something {
        tables = NetidSet::all();
        families = Family::ALL
            .into_iter()
            .fold(FamilySet::EMPTY, FamilySet::with);
        states = StateSet::DEFAULT;
    }
    if defaults == Defaults::Every {
        states = StateSet::ALL;
    }
    let default_states = states;
    if let Some(explicit) = explicit_states(args) {
        states = explicit;
    }

    let (tables, mut families) = merge_defaults(tables, families);
    let last_family = choices.last().copied();
    match last_family {
        Some(Family::Inet) => families = families.without(Family::Inet6),
        Some(Family::Inet6) => families = families.without(Family::Inet),
        _ => {}
    }
    Ok(Selection {
        tables,
        families,
        states,
        default_states,
        named_something,
        last_family,
    })
}

/// The filter from the command line or from `-F`; its states, if it names any, replace the
/// selection's (and if they cancel out, the tables' defaults apply).
fn parse_filter(
    args: &SelectionArgs,
    selection: &mut Selection,
    inputs: &Inputs,
) -> Result<Filter, ConfigError> {
    let source = match (&args.filter_file, &inputs.filter_file) {
        // As in ss, the command line may add states to a filter read from a file.
        (Some(_), _) if !filter::only_states(&args.expression) => {
            return Err(ConfigError::TwoFilters);
        }
        (Some(path), Some(text)) => {
            let text = text.as_ref().map_err(|message| ConfigError::FilterFile {
                path: path.display().to_string(),
                message: message.clone(),
            })?;
            Source::File {
                args: args.expression.clone(),
                lines: text.lines().map(str::to_owned).collect(),
            }
        }
        _ => Source::Args(args.expression.clone()),
    };
    narrow(selection, &source)
}

/// Reads the filter in `source`; its states, if it names any, replace the selection's (and if
/// they cancel out, the tables' defaults apply), and a family it names is the family listed.
fn narrow(selection: &mut Selection, source: &Source) -> Result<Filter, ConfigError> {
    let filter = filter::parse(
        source,
        &ParseOptions {
            default_family: selection.last_family,
            service_protocol: service_protocol(selection.tables),
        },
    )?;
    match filter.states {
        Some(named) if named.is_empty() => selection.states = selection.default_states,
        Some(named) => selection.states = named,
        None => {}
    }
    // A family named in the filter (`src inet6:*`) is the family listed, as in ss.
    if let Some(family) = filter.family {
        selection.families = FamilySet::EMPTY.with(family);
    }
    Ok(filter)
}

/// A dump holds the TCP table only: `--from-dump` lists that table alone, and `-D` needs it.
fn tables_for_dumps(cli: &Cli, selection: &mut Selection) -> Result<(), ConfigError> {
    if cli.from_dump.is_some() {
        if !selection.tables.contains(Netid::Tcp) {
            return Err(ConfigError::DumpWithoutTcp);
        }
        selection.tables = NetidSet::EMPTY.with(Netid::Tcp);
    }
    if cli.diag.is_some() && !selection.tables.contains(Netid::Tcp) {
        return Err(ConfigError::RecordWithoutTcp);
    }
    Ok(())
}

/// The dump to read the TCP table from: `--from-dump`, or ss's `TCPDIAG_FILE`, which replaces
/// the kernel's TCP table only when one is listed.
fn dump_path(cli: &Cli, selection: &Selection, inputs: &Inputs) -> Option<PathBuf> {
    match &cli.from_dump {
        Some(path) => Some(path.clone()),
        None if cli.diag.is_none()
            && !(cli.summary && summary_alone(cli, selection))
            && selection.tables.contains(Netid::Tcp) =>
        {
            inputs.tcpdiag_file.clone()
        }
        None => None,
    }
}

/// Whether `-s` would show the summary alone: no table, family or filter named.
fn summary_alone(cli: &Cli, selection: &Selection) -> bool {
    !selection.named_something && cli.listing.selection.expression.is_empty()
}

fn summary_mode(cli: &Cli, selection: &Selection) -> Result<Option<SummaryMode>, ConfigError> {
    Ok(match (cli.summary, summary_alone(cli, selection)) {
        (false, _) => None,
        (true, true) => Some(SummaryMode::Alone),
        (true, false) if cli.json => return Err(ConfigError::JsonSummaryAndListing),
        (true, false) => Some(SummaryMode::ThenListing),
    })
}

/// The mode: clap lets at most one of `-K`, `-E` and `-D` through.
fn mode(cli: &Cli) -> Mode {
    match (&cli.diag, cli.kill, cli.events) {
        (Some(path), _, _) => Mode::Record(path.clone()),
        (None, true, _) => Mode::Kill,
        (None, false, true) => Mode::Events,
        (None, false, false) => Mode::List,
    }
}

/// What the mode cannot be combined with, beyond what clap refuses: `-N all` only lists, and
/// `-E` follows the kernel, not a dump.
fn check_combination(
    mode: &Mode,
    namespaces: &Namespaces,
    reads_dump: bool,
    summary: bool,
) -> Result<(), ConfigError> {
    let all = *namespaces == Namespaces::All;
    match mode {
        Mode::Record(_) if all => Err(ConfigError::AllNamespacesWith("-D")),
        _ if all && reads_dump => Err(ConfigError::AllNamespacesWith("a dump to read")),
        _ if all && summary => Err(ConfigError::AllNamespacesWith("-s")),
        Mode::Kill if all => Err(ConfigError::AllNamespacesWith("-K")),
        Mode::Events if all => Err(ConfigError::AllNamespacesWith("-E")),
        Mode::Events if reads_dump => Err(ConfigError::EventsWith("a dump to read")),
        _ => Ok(()),
    }
}

/// What a mode needs: `-K` a filter (or `--force`), `-E` a table the kernel reports
/// destructions of.
fn check_mode(
    mode: &Mode,
    selection: &Selection,
    filter: &Filter,
    force: bool,
) -> Result<(), ConfigError> {
    match mode {
        Mode::Kill if filter.expr.is_none() && !force => Err(ConfigError::KillWithoutFilter),
        Mode::Events if !has_destroy_events(selection) => Err(ConfigError::NoDestroyEvents),
        _ => Ok(()),
    }
}

/// Whether the kernel announces the destruction of any socket selected: it does for TCP and
/// UDP, over IPv4 and IPv6.
fn has_destroy_events(selection: &Selection) -> bool {
    let tables = NetidSet::EMPTY.with(Netid::Tcp).with(Netid::Udp);
    let families = FamilySet::EMPTY.with(Family::Inet).with(Family::Inet6);
    selection.tables.intersects(tables) && selection.families.intersects(families)
}

fn details(args: &ListingArgs, oneline: bool) -> DetailFlags {
    let details = &args.details;
    DetailFlags {
        // As in ss, -b shows the timers too.
        timers: details.timers || details.bpf,
        extended: details.extended,
        memory: details.memory,
        info: details.info,
        oneline,
        tos: details.tos,
        cgroup: details.cgroup,
        sockopt: details.inet_sockopt,
        bpf: details.bpf,
        no_queues: false,
    }
}

/// The details shown that the kernel sends only when asked.
fn wanted(details: &DetailFlags) -> Wanted {
    Wanted {
        memory: details.memory,
        info: details.info,
        tos: details.tos,
        extended: details.extended,
        bpf: details.bpf,
    }
}

fn processes(args: &ListingArgs) -> Option<Scope> {
    if args.threads {
        Some(Scope::Threads)
    } else if args.processes {
        Some(Scope::Processes)
    } else {
        None
    }
}

fn query(selection: &Selection, filter: Filter, output: &Output, inputs: &Inputs) -> Query {
    let bytecode = filter.expr.as_ref().and_then(filter::compile);
    // The family a filter names is listed alone, from its own tables.
    let tables = match filter.family {
        Some(family) => selection.tables.intersection(family.tables()),
        None => selection.tables,
    };
    Query {
        tables,
        families: selection.families,
        states: selection.states,
        attributes: Attributes::for_details(wanted(&output.details)),
        filter: filter.expr,
        bytecode,
        context: inputs.context,
        tcp_dump: None,
        tcp_dump_as_ss: false,
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

/// `-a`, `-l` or `-B`: clap leaves only the last one given set.
fn explicit_states(args: &SelectionArgs) -> Option<StateSet> {
    if args.all {
        Some(StateSet::ALL)
    } else if args.listening {
        Some(listening_states())
    } else if args.bound_inactive {
        Some(StateSet::single(TcpState::BoundInactive))
    } else {
        None
    }
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

/// Every family option, in command-line order.
fn family_choices(args: &SelectionArgs) -> Vec<Family> {
    args.families()
        .into_iter()
        .map(|arg| match arg {
            FamilyArg::Unix => Family::Unix,
            FamilyArg::Inet => Family::Inet,
            FamilyArg::Inet6 => Family::Inet6,
            FamilyArg::Link => Family::Packet,
            FamilyArg::Netlink => Family::Netlink,
            FamilyArg::Vsock => Family::Vsock,
            FamilyArg::Tipc => Family::Tipc,
            FamilyArg::Xdp => Family::Xdp,
        })
        .collect()
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

/// The tables an `-A` item names: one of [`TABLES`], by its name or an alias.
pub fn table_group(name: &str) -> Option<NetidSet> {
    let (name, _) = TABLES
        .iter()
        .find(|(table, aliases)| *table == name || aliases.contains(&name))?;
    let one = |netid| Some(NetidSet::EMPTY.with(netid));
    match *name {
        "all" => Some(NetidSet::all()),
        "inet" => Some(Family::Inet.tables()),
        "unix" => Some(Family::Unix.tables()),
        "packet" => Some(Family::Packet.tables()),
        "vsock" => Some(Family::Vsock.tables()),
        "tcp" => one(Netid::Tcp),
        "udp" => one(Netid::Udp),
        "raw" => one(Netid::Raw),
        "mptcp" => one(Netid::Mptcp),
        "dccp" => one(Netid::Dccp),
        "sctp" => one(Netid::Sctp),
        "unix_stream" => one(Netid::UnixStream),
        "unix_dgram" => one(Netid::UnixDgram),
        "unix_seqpacket" => one(Netid::UnixSeqpacket),
        "packet_raw" => one(Netid::PacketRaw),
        "packet_dgram" => one(Netid::PacketDgram),
        "netlink" => one(Netid::Netlink),
        "vsock_stream" => one(Netid::VsockStream),
        "vsock_dgram" => one(Netid::VsockDgram),
        "tipc" => one(Netid::Tipc),
        "xdp" => one(Netid::Xdp),
        // A name in TABLES without a meaning here: the test below catches it.
        _ => None,
    }
}

#[cfg(test)]
mod tests;
