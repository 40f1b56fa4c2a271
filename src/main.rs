use std::process::ExitCode;

fn main() -> ExitCode {
    match sockscope::app::run() {
        Ok(code) => code,
        Err(err) if sockscope::app::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sockscope: {err:#}");
            sockscope::app::exit_code(&err)
        }
    }
}
