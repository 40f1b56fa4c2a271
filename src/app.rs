//! The program: parse the command line, enter the namespace `-N` names, build the
//! configuration and run the chosen mode. `main` maps what it returns to an exit status.

use std::io;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{self, Cli, Command, DemoArgs, ExporterArgs, SelectionArgs};
use crate::cmd::demo::{self, DemoOptions, Ending};
use crate::cmd::exporter::{self, ExporterOptions};
use crate::cmd::watch::{self, WatchOptions};
use crate::cmd::{events, list, summary};
use crate::config::{Config, Inputs, Mode, Namespaces, SummaryMode};
use crate::filter;
use crate::netns;

pub fn run() -> anyhow::Result<ExitCode> {
    let matches = match Cli::command().try_get_matches() {
        Ok(matches) => matches,
        // --help and --version, on standard output.
        Err(e) if !e.use_stderr() => {
            e.print()?;
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(ArgumentError(cli::one_line(&e)).into()),
    };
    let cli = Cli::from_arg_matches(&matches).map_err(|e| ArgumentError(cli::one_line(&e)))?;
    let selection = match &cli.command {
        Some(Command::Demo(args)) => return demo(args),
        Some(Command::Watch(args)) => &args.listing.selection,
        Some(Command::Exporter(args)) => &args.selection,
        None => &cli.listing.selection,
    };
    // First of all, as in ss: everything after runs inside the namespace (an exporter's
    // server too).
    if let Namespaces::Named(name) = Namespaces::of(selection) {
        netns::enter_named(&name)?;
    }
    let inputs = inputs(selection);
    match &cli.command {
        Some(Command::Watch(args)) => {
            let config = Config::watch(args, &inputs)?;
            let options = WatchOptions {
                interval: args.interval,
                count: args.count,
                jsonl: args.jsonl,
                title: cli::command_line(),
                filter: (args.listing.selection.filter_file.is_none())
                    .then(|| args.listing.selection.expression.clone()),
                source: args.source.into(),
            };
            watch::run(&config, &options)?;
        }
        Some(Command::Exporter(args)) => {
            let config = Config::exporter(args, &inputs)?;
            exporter::run(config, &exporter_options(args))?;
        }
        _ => listing(&cli, &inputs).map_err(|e| cli.with_subcommand_hint(e))?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A listing, `-E`, `-D` or the summary: ss without a subcommand.
fn listing(cli: &Cli, inputs: &Inputs) -> anyhow::Result<()> {
    // Total counts every socket of the namespace, so the counters are read before sockscope
    // opens one of its own (to list, or to look up a host in a filter).
    let counters = cli.summary.then(summary::read_counters);
    let config = Config::new(cli, inputs)?;
    if let (Some(counters), Some(mode)) = (counters, config.summary) {
        summary::show(counters, config.output.format)?;
        if mode == SummaryMode::Alone {
            return Ok(());
        }
    }
    match &config.mode {
        Mode::Events => events::follow(&config),
        Mode::Record(path) => list::record(&config, path),
        Mode::List | Mode::Kill => list::list(&config),
    }
}

/// An argument the parser refused, in one line: status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ArgumentError(String);

/// What the configuration needs from files, the environment and the system.
fn inputs(args: &SelectionArgs) -> Inputs {
    Inputs {
        filter_file: args.filter_file.as_deref().map(|path| {
            if path.as_os_str() == "-" {
                io::read_to_string(io::stdin())
            } else {
                std::fs::read_to_string(path)
            }
            .map_err(|e| e.to_string())
        }),
        tcpdiag_file: std::env::var_os("TCPDIAG_FILE")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from),
        // ss's test: the SELinux file system is mounted.
        selinux: Path::new("/sys/fs/selinux/enforce").exists(),
        context: filter::Context::from_system(),
    }
}

fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let options = DemoOptions {
        port: args.port,
        udp: args.udp,
        namespace: DemoOptions::namespace_for(args.netns, args.no_netns),
        json: args.json,
        pause: DemoOptions::pause_for(args.pause, args.no_pause, args.json),
    };
    Ok(match demo::run(&options)? {
        Ending::Finished | Ending::Quit => ExitCode::SUCCESS,
        // As a shell reports a program stopped by SIGINT.
        Ending::Interrupted => ExitCode::from(130),
    })
}

fn exporter_options(args: &ExporterArgs) -> ExporterOptions {
    let mode = match (&args.textfile, args.once) {
        (Some(path), _) => exporter::Mode::Textfile(path.clone()),
        (None, true) => exporter::Mode::Once,
        (None, false) => exporter::Mode::Serve(args.listen),
    };
    ExporterOptions {
        mode,
        max_series: args.max_series as usize,
        info: args.info,
        reconcile: std::time::Duration::from_secs(args.reconcile),
    }
}
