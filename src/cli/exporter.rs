//! `sockscope exporter`'s options: which sockets (the selection a listing takes), `-i`, and
//! where and how to answer.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::SelectionArgs;

/// The address `exporter` listens on unless told otherwise. 10058 lies outside 9100-9999, the
/// range the Prometheus wiki's default port allocations hand out to exporters (all of it taken
/// by now), and clear of the ports monitoring agents near it use (Zabbix's 10050 and 10051).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:10058";

#[derive(Debug, Args)]
pub struct ExporterArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,

    /// Add per port a histogram of round-trip times and the retransmitted segments of the
    /// live TCP connections
    #[arg(short = 'i', long)]
    pub info: bool,

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

    /// How often, in seconds, a look at the whole TCP table corrects the state counts the
    /// kernel's events keep; 0 looks at the whole table at every scrape
    ///
    /// Where the exporter follows the kernel's TCP events, a scrape takes the TCP connections'
    /// states from them and looks only at listeners, TIME-WAIT and SYN-RECV (which have no
    /// transitions); the queues and round-trip times of the TCP connections are then as of the
    /// latest reconciling look. The connections a reconciling look finds otherwise than the
    /// events said are counted in sockscope_reconcile_corrections_total.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(0..=86_400)
    )]
    pub reconcile: u64,
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::super::{Cli, Command};

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        let matches =
            Cli::command().try_get_matches_from(["sockscope", "exporter"].iter().chain(args))?;
        Cli::from_arg_matches(&matches)
    }

    #[test]
    fn exporter_takes_the_selection_options() {
        let cli = parse(&["-t4", "-N", "all", "--once", "-i", ":22"]).unwrap();
        let Some(Command::Exporter(args)) = &cli.command else {
            panic!("not exporter: {cli:?}")
        };
        assert!(args.once && args.textfile.is_none() && args.info);
        assert_eq!(args.reconcile, 60);
        assert_eq!(args.listen.to_string(), super::DEFAULT_LISTEN);
        let selection = &args.selection;
        assert!(selection.tcp && selection.ipv4.is_given() && !selection.udp);
        assert_eq!(selection.net.as_deref(), Some("all".as_ref()));
        for bad in [
            &["-p"][..],
            &["-j"],
            &["-e"],
            &["--once", "--textfile", "x.prom"],
            &["--listen", "nowhere"],
            &["--max-series", "0"],
            &["--reconcile", "-1"],
            &["--reconcile", "1s"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
