//! `sockscope exporter`'s own options. It takes the listing options too: [`super::command`]
//! adds those named in [`EXPORTER_OPTIONS`].

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

/// The address `exporter` listens on unless told otherwise. 10058 lies outside 9100-9999, the
/// range the Prometheus wiki's default port allocations hand out to exporters (all of it taken
/// by now), and clear of the ports monitoring agents near it use (Zabbix's 10050 and 10051).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:10058";

#[derive(Debug, Args)]
pub struct ExporterArgs {
    /// The address and port to answer scrapes on
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,

    /// Print the metrics once on standard output, in the Prometheus text format, and exit
    #[arg(long, conflicts_with_all = ["textfile", "listen"])]
    pub once: bool,

    /// Write the metrics once to PATH for node_exporter's textfile collector, and exit
    ///
    /// They are written to a temporary file in the same directory, then renamed over PATH, so
    /// the collector never reads half a file. PATH should end in .prom.
    #[arg(long, value_name = "PATH", conflicts_with = "listen")]
    pub textfile: Option<PathBuf>,

    /// The most series one metric family shows per namespace; the rest are added up in series
    /// labelled port="other"
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        value_parser = clap::value_parser!(u32).range(1..=100_000)
    )]
    pub max_series: u32,
}

/// The listing options `exporter` takes, by id: which tables, families and states to look at,
/// the filter, `-i` (round-trip times and retransmissions) and `-N`. The others are hidden
/// there and refused.
pub const EXPORTER_OPTIONS: [&str; 23] = [
    "all",
    "listening",
    "bound_inactive",
    "info",
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
    "family",
    "query",
    "filter_file",
    "expression",
    "net",
    "all_netns",
];
