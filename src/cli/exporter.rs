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

#[cfg(test)]
mod tests {
    use clap::FromArgMatches;

    use super::super::{Cli, Command, command, refused_in_exporter};

    #[test]
    fn exporter_takes_the_selection_options() {
        let matches = command()
            .try_get_matches_from(["sockscope", "exporter", "-t4", "-N", "all", "--once", ":22"])
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Some(Command::Exporter(args)) = &cli.command else {
            panic!("not exporter: {cli:?}")
        };
        assert!(args.once && args.textfile.is_none());
        assert_eq!(args.listen.to_string(), super::DEFAULT_LISTEN);
        let sub = matches.subcommand_matches("exporter").unwrap();
        let listing = Cli::from_arg_matches(sub).unwrap();
        assert!(listing.tcp && listing.ipv4 && !listing.udp);
        assert_eq!(listing.net.as_deref(), Some("all".as_ref()));
        assert_eq!(refused_in_exporter(sub), None);
        let refused = |args: &[&str]| {
            let matches = command()
                .try_get_matches_from(["sockscope", "exporter"].iter().chain(args))
                .unwrap();
            refused_in_exporter(matches.subcommand_matches("exporter").unwrap())
        };
        assert_eq!(refused(&["-p"]), Some("--processes".to_owned()));
        assert_eq!(refused(&["-j"]), Some("--json".to_owned()));
        for bad in [
            &["--once", "--textfile", "x.prom"][..],
            &["--listen", "nowhere"],
            &["--max-series", "0"],
        ] {
            assert!(
                command()
                    .try_get_matches_from(["sockscope", "exporter"].iter().chain(bad))
                    .is_err(),
                "{bad:?}"
            );
        }
    }
}
