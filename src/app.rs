//! The program: parse the command line, build the configuration, run the chosen mode, and map
//! errors to exit statuses.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::{Context, bail};
use clap::{ArgMatches, FromArgMatches};

use crate::cli::{self, Cli, Command, DemoArgs, WatchArgs};
use crate::config::{Config, ConfigError, Format, Namespaces, SummaryMode};
use crate::demo::{self, DemoOptions, Ending};
use crate::events;
use crate::filter;
use crate::netns::{self, Home, Visit};
use crate::procnet::ProcError;
use crate::procs::Processes;
use crate::query::{self, Warnings};
use crate::render::Renderer;
use crate::render::json::JsonRenderer;
use crate::render::table::TableRenderer;
use crate::socket::{Netid, OwnedSocket};
use crate::summary::{self, Counters, Summary};
use crate::term;
use crate::watch::{self, WatchOptions};
use crate::wire::netlink::{DiagError, DiagSocket};

/// Output is written in blocks of this size.
const OUTPUT_BUFFER: usize = 64 * 1024;

pub fn run() -> anyhow::Result<ExitCode> {
    let matches = cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.exit())?;
    match &cli.command {
        Some(Command::Demo(args)) => demo(args),
        Some(Command::Watch(args)) => watch(args, &matches),
        None => {
            // First of all, as in ss: everything after runs inside the namespace.
            if let Namespaces::Named(name) = Namespaces::of(&cli) {
                netns::enter_named(name)?;
            }
            // Total counts every socket of the namespace, so the counters are read before
            // sockscope opens one of its own (to list, or to look up a host in a filter).
            let counters = cli.summary.then(summary::read_counters);
            let config = Config::new(&cli, &matches)?;
            if let (Some(counters), Some(mode)) = (counters, config.summary) {
                show_summary(counters, config.output.format)?;
                if mode == SummaryMode::Alone {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            if config.events {
                events::follow(&config)?;
            } else if let Some(path) = &config.record {
                record(&config, path)?;
            } else {
                list(&config)?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn demo(args: &DemoArgs) -> anyhow::Result<ExitCode> {
    let options = DemoOptions {
        port: args.port,
        udp: args.udp,
        netns: args.netns,
        json: args.json,
        pause: DemoOptions::pause_for(args.pause, args.no_pause, args.json),
    };
    Ok(match demo::run(&options)? {
        Ending::Finished | Ending::Quit => ExitCode::SUCCESS,
        // As a shell reports a program stopped by SIGINT.
        Ending::Interrupted => ExitCode::from(130),
    })
}

fn watch(args: &WatchArgs, matches: &ArgMatches) -> anyhow::Result<ExitCode> {
    let sub = matches
        .subcommand_matches("watch")
        .expect("parsed as watch");
    if let Some(option) = cli::refused_in_watch(sub) {
        return Err(ConfigError::NotInWatch(option).into());
    }
    // The listing options, parsed where watch took them.
    let mut listing = Cli::from_arg_matches(sub).map_err(|e| e.exit())?;
    // As in the listing: everything after runs inside the namespace.
    if let Namespaces::Named(name) = Namespaces::of(&listing) {
        netns::enter_named(name)?;
    }
    listing.expression = watch::expand_shorthand(std::mem::take(&mut listing.expression));
    let config = Config::new(&listing, sub)?;
    let options = WatchOptions {
        interval: args.interval,
        count: args.count,
        jsonl: args.jsonl,
        title: title(),
    };
    watch::run(&config, &options)?;
    Ok(ExitCode::SUCCESS)
}

/// The command line, for the live view's title: `sockscope watch -t :55000`.
fn title() -> String {
    let mut title = "sockscope".to_owned();
    for arg in std::env::args_os().skip(1) {
        let arg = arg.to_string_lossy();
        title.push(' ');
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            title.push('\'');
            title.push_str(&arg);
            title.push('\'');
        } else {
            title.push_str(&arg);
        }
    }
    title
}

/// Prints the socket usage summary on standard output, after a warning for each counters file
/// that could not be read (its figures are zero, as in ss).
fn show_summary(
    (counters, problems): (Counters, Vec<ProcError>),
    format: Format,
) -> anyhow::Result<()> {
    for problem in problems {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: {:#}",
            anyhow::Error::new(problem)
        );
    }
    let summary = Summary::from_counters(&counters);
    let mut out = BufWriter::new(io::stdout().lock());
    match format {
        Format::Table => summary::write_text(&summary, &mut out)?,
        Format::Json => summary::write_json(&summary, &mut out)?,
    }
    Ok(())
}

/// Lists the sockets `config` selects on standard output.
pub fn list(config: &Config) -> anyhow::Result<()> {
    // Before the sockets, as ss does: a socket made after this shows no process.
    let processes = config
        .processes
        .map(Processes::scan)
        .transpose()
        .context("finding the processes that hold sockets")?
        .map(Rc::new);
    let screen_width = term::width();
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
    let mut renderer: Box<dyn Renderer> = match config.output.format {
        Format::Table => Box::new(
            TableRenderer::new(out, &config.output, screen_width).with_processes(processes.clone()),
        ),
        Format::Json => Box::new(
            JsonRenderer::new(out, config.output.details).with_processes(processes.clone()),
        ),
    };
    let warnings = if config.all_namespaces {
        list_namespaces(config, renderer.as_mut())?
    } else if config.kill {
        let mut diag = DiagSocket::open()?;
        kill(config, &mut diag, renderer.as_mut())?
    } else {
        let mut diag = DiagSocket::open()?;
        query::run(&config.query, &mut diag, &mut |s| renderer.socket(s))
            .context("listing sockets")?
    };
    renderer.finish()?;
    if warnings.inconsistent {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: a socket table changed while the kernel was listing it; \
             the listing may be inconsistent"
        );
    }
    if let Some((tables, count)) = warnings.undecoded {
        let names: Vec<&str> = tables.iter().map(Netid::name).collect();
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: {count} {} socket(s) not shown: sockscope cannot decode this \
             table yet",
            names.join("/")
        );
    }
    if processes.is_some_and(|p| p.owners_may_be_missing()) {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: permission denied reading the file descriptors of some \
             processes; their sockets show no process"
        );
    }
    Ok(())
}

/// Lists the sockets of every network namespace (`-N all`) through one renderer, moving this
/// thread into each namespace in turn and back home at the end.
fn list_namespaces(config: &Config, renderer: &mut dyn Renderer) -> anyhow::Result<Warnings> {
    let walk = netns::all()?;
    if walk.unreadable > 0 {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: permission denied reading the network namespace of {} \
             process{}; a namespace only they are in is not listed",
            walk.unreadable,
            if walk.unreadable == 1 { "" } else { "es" }
        );
    }
    let mut home = Home::open()?;
    let mut query = config.query.clone();
    let mut warnings = Warnings::default();
    for ns in &walk.namespaces {
        match home.visit(ns) {
            Ok(Visit::Entered) => {}
            Ok(Visit::Gone) => continue,
            Err(e) => {
                let _ = writeln!(
                    io::stderr(),
                    "sockscope: warning: {e}; its sockets are not listed"
                );
                continue;
            }
        }
        // The ephemeral port range is the namespace's own.
        query.context = filter::Context::from_system();
        renderer.namespace(&ns.name);
        let mut diag = DiagSocket::open()?;
        let found = query::run(&query, &mut diag, &mut |s| renderer.socket(s))
            .with_context(|| format!("listing the sockets of network namespace {}", ns.name))?;
        warnings.absorb(found);
    }
    home.go_back()?;
    Ok(warnings)
}

/// Writes the kernel's raw replies for the TCP table to `path` (`-`: standard output), as ss's
/// `-D` does, and lists nothing.
fn record(config: &Config, path: &Path) -> anyhow::Result<()> {
    let out: Box<dyn Write> = if path.as_os_str() == "-" {
        Box::new(BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout()))
    } else {
        let file = File::create(path)
            .with_context(|| format!("cannot create the dump {}", path.display()))?;
        Box::new(BufWriter::with_capacity(OUTPUT_BUFFER, file))
    };
    let mut diag = DiagSocket::open()?;
    diag.record_to(out);
    let context = || format!("recording the TCP table to {}", path.display());
    query::record(&config.query, &mut diag).with_context(context)?;
    diag.finish_recording().with_context(context)?;
    Ok(())
}

/// Whether the error is only that standard output was closed (`sockscope | head -1`), which
/// ends the program quietly and successfully.
/// `-K`: lists the sockets that match, closes the TCP, UDP and raw ones, and renders those
/// the kernel closed. Sockets that went away in between are passed over, as in ss.
fn kill(
    config: &Config,
    diag: &mut DiagSocket,
    renderer: &mut dyn Renderer,
) -> anyhow::Result<query::Warnings> {
    let mut doomed = Vec::new();
    let warnings = query::run(&config.query, diag, &mut |s| {
        if query::destroyable(s) {
            doomed.push(OwnedSocket::new(s));
        }
        Ok(())
    })
    .context("listing sockets")?;
    for socket in &doomed {
        let socket = socket.as_socket();
        match query::destroy(diag, &socket) {
            Ok(()) => renderer.socket(&socket)?,
            Err(DiagError::Kernel { errno }) if errno == libc::ENOENT => {}
            Err(DiagError::Kernel { errno }) if errno == libc::EPERM || errno == libc::EACCES => {
                bail!("closing sockets (-K) needs CAP_NET_ADMIN: run sockscope as root");
            }
            Err(DiagError::Kernel { errno }) if errno == libc::EOPNOTSUPP => {
                bail!(
                    "this kernel cannot close {} sockets (it was built without \
                     CONFIG_INET_DIAG_DESTROY)",
                    socket.netid.name()
                );
            }
            Err(e) => return Err(e).context("closing a socket"),
        }
    }
    Ok(warnings)
}

pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// ss's exit statuses: 255 for what it reports with its usage text (a malformed filter, an
/// unknown state or table), 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    let status = err
        .chain()
        .find_map(|cause| cause.downcast_ref::<ConfigError>())
        .map_or(1, ConfigError::exit_status);
    ExitCode::from(status)
}
