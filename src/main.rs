//! sockscope's entry: run the program ([`sockscope::app`]) and map its end to an exit status.

use std::io;
use std::process::ExitCode;

use sockscope::app::ArgumentError;
use sockscope::config::ConfigError;

fn main() -> ExitCode {
    match sockscope::app::run() {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sockscope: {err:#}");
            exit_code(&err)
        }
    }
}

/// Whether the error is only that standard output was closed (`sockscope | head -1`), which
/// ends the program quietly and successfully.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// ss's exit statuses: 255 for what it reports with its usage text (a malformed filter, an
/// unknown state or table), 2 for an argument the parser refused, 1 for everything else.
fn exit_code(err: &anyhow::Error) -> ExitCode {
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
