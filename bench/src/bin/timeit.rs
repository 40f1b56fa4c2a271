//! `timeit [--timeout SECS] [--] COMMAND [ARG]...`: runs COMMAND once, with stdin and stdout
//! on /dev/null and stderr inherited, and prints one line on stdout:
//!
//! ```text
//! status=exit:0 wall_us=48213 maxrss_kib=3712 cpu_us=40120
//! ```
//!
//! `status` is `exit:N`, `signal:N`, or `timeout` when COMMAND ran longer than SECS and was
//! killed. `wall_us` is the wall time from just before the spawn to the reaping of the child,
//! `maxrss_kib` the child's peak resident set size and `cpu_us` its user and system time, as
//! wait4() reports them.
//!
//! The benchmark runner uses this instead of GNU time so that its results do not depend on
//! which `time` a machine has. Like GNU time, the peak RSS includes a floor: the kernel counts
//! the memory of the process that exec()'d the command, a copy of this small program. The
//! runner measures that floor with `true` and prints it.
//!
//! Exit status: 0 when the command was measured, whatever it did; 2 for bad arguments; 125
//! when the command could not be run.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use sockscope_bench::{cvt, poll_until, readable};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (timeout, command) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("timeit: {message}");
            eprintln!("usage: timeit [--timeout SECS] [--] COMMAND [ARG]...");
            return ExitCode::from(2);
        }
    };
    match measure(command, timeout) {
        Ok(m) => {
            println!(
                "status={} wall_us={} maxrss_kib={} cpu_us={}",
                m.status,
                m.wall.as_micros(),
                m.maxrss_kib,
                m.cpu_us
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("timeit: {}: {e}", command[0]);
            ExitCode::from(125)
        }
    }
}

fn parse(args: &[String]) -> Result<(Option<Duration>, &[String]), String> {
    let (timeout, rest) = match args {
        [flag, value, rest @ ..] if flag == "--timeout" => {
            let seconds = value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s > 0.0)
                .ok_or_else(|| format!("not a number of seconds: {value:?}"))?;
            (Some(Duration::from_secs_f64(seconds)), rest)
        }
        rest => (None, rest),
    };
    let command = match rest {
        [dashes, command @ ..] if dashes == "--" => command,
        command => command,
    };
    if command.is_empty() {
        return Err("no command".into());
    }
    Ok((timeout, command))
}

struct Measurement {
    status: String,
    wall: Duration,
    maxrss_kib: i64,
    /// User and system time together.
    cpu_us: i64,
}

fn measure(command: &[String], timeout: Option<Duration>) -> io::Result<Measurement> {
    let mut cmd = Command::new(&command[0]);
    cmd.args(&command[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    // An empty pre_exec hook makes std fork() instead of posix_spawn()ing with a vfork. That
    // lowers the peak RSS floor: at exec the kernel counts the memory of the process that
    // exec()s, and a vforked child shares all of ours, where a forked one has only its own
    // few copied pages.
    // SAFETY: the hook does nothing, so it is trivially async-signal-safe.
    unsafe { cmd.pre_exec(|| Ok(())) };
    let started = Instant::now();
    let child = cmd.spawn()?;
    let pid = child.id() as libc::pid_t;

    let mut timed_out = false;
    if let Some(timeout) = timeout {
        // Wait on a pidfd, which becomes readable when the child exits but leaves it unreaped:
        // until wait4() below, `pid` cannot name another process, so the kill is safe.
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
        let fd = cvt(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) } as libc::c_int)?;
        // SAFETY: the descriptor was just created and nothing else owns it.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut fds = [readable(std::os::fd::AsRawFd::as_raw_fd(&pidfd))];
        if poll_until(&mut fds, Some(started + timeout))? == 0 {
            timed_out = true;
            // SAFETY: `pid` is our unreaped child; see above.
            cvt(unsafe { libc::kill(pid, libc::SIGKILL) })?;
        }
    }

    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data that wait4 fills in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `status` and `usage` are valid for wait4 to write; `pid` is our child.
        match cvt(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }) {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let wall = started.elapsed();
    // The child is reaped: dropping `child` must not (and does not) wait for it again.
    drop(child);

    let status = if timed_out {
        "timeout".to_string()
    } else if libc::WIFEXITED(status) {
        format!("exit:{}", libc::WEXITSTATUS(status))
    } else {
        format!("signal:{}", libc::WTERMSIG(status))
    };
    Ok(Measurement {
        status,
        wall,
        maxrss_kib: usage.ru_maxrss,
        cpu_us: micros(usage.ru_utime) + micros(usage.ru_stime),
    })
}

fn micros(time: libc::timeval) -> i64 {
    time.tv_sec * 1_000_000 + time.tv_usec
}
