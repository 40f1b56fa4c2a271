//! The program: parse the command line, build the configuration, run the chosen mode, and map
//! errors to exit statuses.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches};

use crate::cli::Cli;
use crate::config::{Config, ConfigError, Format};
use crate::query;
use crate::render::Renderer;
use crate::render::json::JsonRenderer;
use crate::render::table::TableRenderer;
use crate::wire::netlink::DiagSocket;

/// Output is written in blocks of this size.
const OUTPUT_BUFFER: usize = 64 * 1024;

pub fn run() -> anyhow::Result<ExitCode> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).map_err(|e| e.exit())?;
    let config = Config::new(&cli, &matches)?;
    list(&config)?;
    Ok(ExitCode::SUCCESS)
}

/// Lists the sockets `config` selects on standard output.
pub fn list(config: &Config) -> anyhow::Result<()> {
    let mut diag = DiagSocket::open()?;
    let stdout = io::stdout();
    let screen_width = stdout.is_terminal().then(terminal_width).flatten();
    let out = BufWriter::with_capacity(OUTPUT_BUFFER, stdout.lock());
    let mut renderer: Box<dyn Renderer> = match config.output.format {
        Format::Table => Box::new(TableRenderer::new(out, &config.output, screen_width)),
        Format::Json => Box::new(JsonRenderer::new(out)),
    };
    let warnings = query::run(&config.query, &mut diag, &mut |s| renderer.socket(s))
        .context("listing sockets")?;
    renderer.finish()?;
    if warnings.inconsistent {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: a socket table changed while the kernel was listing it; \
             the listing may be inconsistent"
        );
    }
    Ok(())
}

/// The width of the terminal on standard output, if it says.
fn terminal_width() -> Option<usize> {
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointed-to struct, which lives on our
    // stack for the whole call; on failure it writes nothing and we do not read it.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// Whether the error is only that standard output was closed (`sockscope | head -1`), which
/// ends the program quietly and successfully.
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
