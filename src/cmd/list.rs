//! The listing: the sockets a configuration selects, once, as a table or as JSON (`-N all`:
//! in every namespace); with `-K` those the kernel closed; with `-D` the kernel's raw replies
//! recorded instead.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;

use anyhow::{Context, bail};

use crate::config::{Config, Mode, Namespaces};
use crate::filter;
use crate::netns::{self, Walker};
use crate::procs::Processes;
use crate::render::{self, Arrival, Renderer};
use crate::socket::{Netid, OwnedSocket};
use crate::source::query::{self, Warnings};
use crate::sys::term;
use crate::wire::netlink::{DiagError, DiagSocket};

/// Output is written in blocks of this size.
const OUTPUT_BUFFER: usize = 64 * 1024;

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
    let mut renderer = render::renderer(
        out,
        &config.output,
        Arrival::Listing,
        screen_width,
        processes.clone(),
    );
    let warnings = if config.namespaces == Namespaces::All {
        every_namespace(config, renderer.as_mut())?
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
        warn(format_args!(
            "a socket table changed while the kernel was listing it; the listing may be \
             inconsistent"
        ));
    }
    if let Some((tables, count)) = warnings.undecoded {
        let names: Vec<&str> = tables.iter().map(Netid::name).collect();
        warn(format_args!(
            "{count} {} socket(s) not shown: sockscope cannot decode this table yet",
            names.join("/")
        ));
    }
    if let Some((path, line)) = &warnings.unreadable.first {
        warn(format_args!(
            "skipped {} line(s) that do not read, the first at {}:{line}",
            warnings.unreadable.lines,
            path.display()
        ));
    }
    if processes.is_some_and(|p| p.owners_may_be_missing()) {
        warn(format_args!(
            "permission denied reading the file descriptors of some processes; their sockets \
             show no process"
        ));
    }
    Ok(())
}

fn warn(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(io::stderr(), "sockscope: warning: {message}");
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

/// Lists the sockets of every network namespace (`-N all`) through one renderer.
fn every_namespace(config: &Config, renderer: &mut dyn Renderer) -> anyhow::Result<Warnings> {
    let walk = netns::all()?;
    if walk.unreadable > 0 {
        warn(format_args!(
            "permission denied reading the network namespace of {} process{}; a namespace \
             only they are in is not listed",
            walk.unreadable,
            if walk.unreadable == 1 { "" } else { "es" }
        ));
    }
    let mut walker = Walker::new()?;
    let mut query = config.query.clone();
    let mut warnings = Warnings::default();
    let visited = walker.visit(&walk.namespaces, |ns| -> anyhow::Result<()> {
        // The ephemeral port range is the namespace's own.
        query.context = filter::Context::from_system();
        renderer.namespace(&ns.name);
        let mut diag = DiagSocket::open()?;
        let found = query::run(&query, &mut diag, &mut |s| renderer.socket(s))
            .with_context(|| format!("listing the sockets of network namespace {}", ns.name))?;
        warnings.absorb(found);
        Ok(())
    });
    for unreached in walker.unsaid() {
        warn(format_args!("{unreached}"));
    }
    visited?;
    Ok(warnings)
}

/// Writes the kernel's raw replies for the TCP table to `path` (`-`: standard output), as ss's
/// `-D` does, and lists nothing.
pub fn record(config: &Config, path: &Path) -> anyhow::Result<()> {
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

/// `-K`: lists the sockets that match, closes the TCP, UDP and raw ones, and renders those
/// the kernel closed. Sockets that went away in between are passed over, as in ss.
fn kill(
    config: &Config,
    diag: &mut DiagSocket,
    renderer: &mut dyn Renderer,
) -> anyhow::Result<Warnings> {
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
