//! Private network namespaces for tests.
//!
//! A namespace is created by a short-lived thread that calls `unshare(CLONE_NEWNET)` and opens
//! its own `/proc/thread-self/ns/net`; the open file keeps the namespace alive. Nothing is named
//! under /var/run/netns, so nothing is left behind: the namespace goes away when the file and
//! every socket made in it are closed. Work that must happen inside it (making sockets,
//! running ss or sockscope) runs on a thread that has joined it with `setns`, or in a child
//! process that joins it before `exec`.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long a program a test starts may run before it counts as hung: far longer than any
/// takes, so that a machine loaded by other work does not fail a test, and still bounded.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

pub struct Netns {
    file: File,
}

impl Netns {
    /// A new, empty network namespace with its loopback up. Panics with a clear message when
    /// the test cannot create one (it needs root or CAP_SYS_ADMIN).
    pub fn new() -> Netns {
        let file = std::thread::spawn(|| -> io::Result<File> {
            // SAFETY: unshare only changes this thread's namespaces; the thread ends right after
            // opening the namespace file.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            File::open("/proc/thread-self/ns/net")
        })
        .join()
        .expect("namespace thread panicked")
        .unwrap_or_else(|e| {
            panic!(
                "cannot create a private network namespace ({e}); these tests need root \
                 (or CAP_SYS_ADMIN) and a kernel with network namespaces"
            )
        });
        let ns = Netns { file };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// The namespace of the file at `path` (`/run/netns/NAME`), with its loopback up.
    pub fn open(path: &str) -> Netns {
        let file = File::open(path).unwrap_or_else(|e| panic!("cannot open {path}: {e}"));
        let ns = Netns { file };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `f` on a thread inside the namespace: sockets it makes belong to the namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let fd = self.file.as_raw_fd();
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    enter(fd).expect("setns into the test namespace");
                    f()
                })
                .join()
                .expect("thread inside the namespace panicked")
        })
    }

    /// A command that runs inside the namespace, with a clean environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = clean_command(program);
        let fd = self.file.as_raw_fd();
        // SAFETY: the closure runs in the child between fork and exec and only calls setns(2),
        // which is async-signal-safe; it touches no memory shared with the parent.
        unsafe {
            command.pre_exec(move || enter(fd));
        }
        command
    }

    /// Starts `program args` inside the namespace with its standard output and error piped to
    /// the test, for a program that runs until the test stops it.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Child {
        let mut command = self.command(program);
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"))
    }

    /// Runs `program args` inside the namespace and returns what it printed, killing it if it
    /// has not finished within [`RUN_LIMIT`].
    pub fn output(&self, program: &str, args: &[&str]) -> Output {
        run_bounded(self.command(program).args(args), RUN_LIMIT)
    }

    /// `ip ARGS` in the namespace; panics if it fails.
    pub fn ip(&self, args: &[&str]) {
        let out = self.output("ip", args);
        assert!(
            out.status.success(),
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Sets each `(name, value)` sysctl of the namespace's own (`sysctl -w NAME=VALUE` run
    /// inside it); panics if one cannot be set.
    pub fn sysctl(&self, settings: &[(&str, &str)]) {
        let args: Vec<String> = settings
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let mut command = self.command("sysctl");
        command.arg("-qw").args(&args);
        let out = run_bounded(&mut command, RUN_LIMIT);
        assert!(
            out.status.success(),
            "sysctl -w {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The path of the namespace file, for tools that take one (`nsenter --net=PATH`).
    pub fn path(&self) -> String {
        format!("/proc/{}/fd/{}", std::process::id(), self.file.as_raw_fd())
    }
}

/// A command with a clean environment (a fixed `PATH`, `LC_ALL=C`, nothing else: no
/// `COLUMNS` or `NO_COLOR` of the caller's) and no standard input, run where the test runs.
///
/// Its signals are also clean: a signal ignored by whoever started the tests stays ignored
/// across fork and exec, and a suite started in the background by a script (`cargo test &`,
/// `nohup`) ignores SIGINT and SIGQUIT (and SIGHUP). ss, stopped with SIGINT by the `-E`
/// tests, would then run on until killed at its bound.
pub fn clean_command(program: &str) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    // SAFETY: the closure runs in the child between fork and exec and only calls signal(2),
    // which is async-signal-safe; it touches no memory shared with the parent.
    unsafe {
        command.pre_exec(|| {
            for signal in RESET_SIGNALS {
                if libc::signal(signal, libc::SIG_DFL) == libc::SIG_ERR {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    command
}

fn enter(fd: RawFd) -> io::Result<()> {
    // SAFETY: fd is an open namespace file owned by a live Netns.
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits for a child the test started, killing it (by its pid) if it outlives `limit`.
pub fn wait_bounded(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let status = child.wait().expect("waiting for a killed child");
            panic!("{} did not finish within {limit:?}: {status:?}", child.id());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs a command to completion; panics, after killing it (by its pid), if it outlives
/// `limit`.
pub fn run_bounded(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    let pid = child.id();
    let deadline = Instant::now() + limit;
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let out = child.wait_with_output();
        let _ = done_tx.send(());
        out
    });
    let mut killed = false;
    while done_rx.recv_timeout(Duration::from_millis(50)).is_err() {
        if Instant::now() > deadline {
            // SAFETY: kill(2) on the pid of a child we started and have not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            killed = true;
            break;
        }
    }
    let out = waiter
        .join()
        .expect("waiter thread")
        .expect("waiting for the command");
    assert!(
        !killed,
        "{command:?} did not finish within {limit:?} and was killed; it had printed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A namespace made with `ip netns add` under a name no other test uses; dropping it runs
/// `ip netns del` with that name, also when the test fails.
pub struct Named {
    pub name: String,
}

impl Named {
    pub fn new(tag: &str) -> Named {
        let name = format!(
            "sockscope-{tag}-{}-{}",
            std::process::id(),
            crate::util::unique()
        );
        // The first `ip netns add` on a machine makes /run/netns a mount point of its own;
        // two at once may each mount it. One at a time, then, for every test.
        static ADDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let adding = ADDING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let out = run_bounded(Command::new("ip").args(["netns", "add", &name]), RUN_LIMIT);
        drop(adding);
        assert!(
            out.status.success(),
            "ip netns add {name} failed ({}); these tests need root",
            String::from_utf8_lossy(&out.stderr)
        );
        Named { name }
    }

    pub fn path(&self) -> String {
        format!("/run/netns/{}", self.name)
    }

    pub fn netns(&self) -> Netns {
        Netns::open(&self.path())
    }
}

impl Drop for Named {
    fn drop(&mut self) {
        let _ = run_bounded(
            Command::new("ip").args(["netns", "del", &self.name]),
            RUN_LIMIT,
        );
    }
}

/// The signals [`clean_command`] gives their default dispositions.
const RESET_SIGNALS: [libc::c_int; 5] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGPIPE,
    libc::SIGTERM,
];

/// What [`clean_command`] promises: the program starts with none of those signals ignored,
/// however the test binary was started.
#[test]
fn a_clean_command_ignores_none_of_the_signals_tests_send() {
    let out = run_bounded(clean_command("cat").arg("/proc/self/status"), RUN_LIMIT);
    let status = String::from_utf8_lossy(&out.stdout);
    let ignored = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or_else(|| panic!("no SigIgn in\n{status}"));
    for signal in RESET_SIGNALS {
        assert_eq!(
            ignored & (1 << (signal - 1)),
            0,
            "signal {signal} ignored:\n{status}"
        );
    }
}
