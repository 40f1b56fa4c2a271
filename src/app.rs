//! The program: parse the command line, build the configuration, run the chosen mode, and map
//! errors to exit statuses.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches};

use crate::cli::{self, Cli, Command, DemoArgs, ExporterArgs, SelectionArgs, WatchArgs};
use crate::cmd::demo::{self, DemoOptions, Ending};
use crate::cmd::events;
use crate::cmd::exporter::{self, ExporterOptions};
use crate::cmd::summary::{self, Counters, Summary};
use crate::cmd::watch::{self, WatchOptions};
use crate::config::{Config, ConfigError, Format, Inputs, Mode, Namespaces, SummaryMode};
use crate::filter;
use crate::netns::{self, Home, Visit};
use crate::procs::Processes;
use crate::render::Renderer;
use crate::render::json::JsonRenderer;
use crate::render::table::TableRenderer;
use crate::socket::{Netid, OwnedSocket};
use crate::source::procnet::ProcError;
use crate::source::query::{self, Warnings};
use crate::sys::term;
use crate::wire::netlink::{DiagError, DiagSocket};

/// Output is written in blocks of this size.
const OUTPUT_BUFFER: usize = 64 * 1024;

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
    match &cli.command {
        Some(Command::Demo(args)) => demo(args),
        Some(Command::Watch(args)) => watch(args),
        Some(Command::Exporter(args)) => exporter(args),
        None => {
            // First of all, as in ss: everything after runs inside the namespace.
            if let Namespaces::Named(name) = Namespaces::of(&cli.listing.selection) {
                netns::enter_named(&name)?;
            }
            // Total counts every socket of the namespace, so the counters are read before
            // sockscope opens one of its own (to list, or to look up a host in a filter).
            let counters = cli.summary.then(summary::read_counters);
            let config = Config::new(&cli, &inputs(&cli.listing.selection))?;
            if let (Some(counters), Some(mode)) = (counters, config.summary) {
                show_summary(counters, config.output.format)?;
                if mode == SummaryMode::Alone {
                    return Ok(ExitCode::SUCCESS);
                }
            }
            match &config.mode {
                Mode::Events => events::follow(&config)?,
                Mode::Record(path) => record(&config, path)?,
                Mode::List | Mode::Kill => list(&config)?,
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// An argument the parser refused, in one line: status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ArgumentError(String);

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

fn watch(args: &WatchArgs) -> anyhow::Result<ExitCode> {
    if let Namespaces::Named(name) = Namespaces::of(&args.listing.selection) {
        netns::enter_named(&name)?;
    }
    let config = Config::watch(args, &inputs(&args.listing.selection))?;
    let options = WatchOptions {
        interval: args.interval,
        count: args.count,
        jsonl: args.jsonl,
        title: title(),
    };
    watch::run(&config, &options)?;
    Ok(ExitCode::SUCCESS)
}

fn exporter(args: &ExporterArgs) -> anyhow::Result<ExitCode> {
    // As for a listing, everything after runs inside the namespace, the server included.
    if let Namespaces::Named(name) = Namespaces::of(&args.selection) {
        netns::enter_named(&name)?;
    }
    let config = Config::exporter(args, &inputs(&args.selection))?;
    let mode = match (&args.textfile, args.once) {
        (Some(path), _) => exporter::Mode::Textfile(path.clone()),
        (None, true) => exporter::Mode::Once,
        (None, false) => exporter::Mode::Serve(args.listen),
    };
    let options = ExporterOptions {
        mode,
        max_series: args.max_series as usize,
        info: args.info,
    };
    exporter::run(config, &options)?;
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

/// The width `COLUMNS` gives, which ss 7.1 takes when the terminal's size cannot be read (on a
/// pipe, too): a positive number, or nothing.
fn columns() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&w: &usize| w > 0)
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
    let screen_width = term::width().or_else(columns);
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, io::stdout().lock());
    let mut renderer: Box<dyn Renderer> = match config.output.format {
        Format::Table => Box::new(
            TableRenderer::new(out, &config.output, screen_width).with_processes(processes.clone()),
        ),
        Format::Json => Box::new(
            JsonRenderer::new(out, config.output.details).with_processes(processes.clone()),
        ),
    };
    let warnings = if config.namespaces == Namespaces::All {
        list_namespaces(config, renderer.as_mut())?
    } else if config.mode == Mode::Kill {
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
    if let Some((path, line)) = &warnings.unreadable.first {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: skipped {} line(s) that do not read, the first at {}:{line}",
            warnings.unreadable.lines,
            path.display()
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
/// unknown state or table), 2 for an argument the parser refused, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    let status = err
        .chain()
        .find_map(|cause| {
            if cause.is::<ArgumentError>() {
                return Some(2);
            }
            cause
                .downcast_ref::<ConfigError>()
                .map(ConfigError::exit_status)
        })
        .unwrap_or(1);
    ExitCode::from(status)
}
