//! Processes that hold sockets, for the `-p` and `-T` tests.
//!
//! A holder is this test binary run again as the single test [`hold`], which does its work
//! only when the environment asks for it. Started inside a namespace, it makes its sockets
//! there, gives itself a name, forks a child or starts threads that share them, prints one
//! `holder ready ...` line on stdout and waits until its standard input closes (or ten
//! minutes have passed). The test process itself holds none of these sockets, so the owners
//! ss and sockscope see are exactly the holders, and they stay put between the two runs.

use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::netns::{Netns, wait_bounded};

/// The variable that carries a holder's [`Spec`] to the re-run test binary.
const SPEC_VAR: &str = "SOCKSCOPE_TEST_HOLDER";

/// How long a holder lives at most, should the test that started it never close its stdin:
/// far longer than any test takes on a loaded machine (its sockets must outlive the test),
/// and still bounded.
const LIFETIME: Duration = Duration::from_secs(600);

/// What a holder makes and how it shares it.
#[derive(Clone, Debug, Default)]
pub struct Spec {
    /// Its name (written to /proc/self/comm; the kernel keeps 15 bytes).
    pub comm: String,
    /// A TCP listener on 127.0.0.1:PORT, one accepted connection (both ends held) and one
    /// connection left in the accept queue (its server end held by no one).
    pub tcp: Option<u16>,
    /// A UDP socket bound to 127.0.0.1:PORT and connected to PORT+1.
    pub udp: Option<u16>,
    /// A listener on this abstract unix name and a connected socket pair.
    pub unix: Option<String>,
    /// Extra descriptors for the TCP listener (dup).
    pub dups: usize,
    /// A forked child, with this name, holding every descriptor.
    pub child: Option<String>,
    /// Threads, named `t0`, `t1`, ...
    pub threads: usize,
    /// A thread that keeps forking children that hold the sockets and end within a few
    /// milliseconds, until the holder ends.
    pub churn: bool,
}

impl Spec {
    fn encode(&self) -> String {
        let opt = |v: &Option<u16>| v.map_or(String::new(), |p| p.to_string());
        [
            self.comm.clone(),
            opt(&self.tcp),
            opt(&self.udp),
            self.unix.clone().unwrap_or_default(),
            self.dups.to_string(),
            self.child.clone().unwrap_or_default(),
            self.threads.to_string(),
            u8::from(self.churn).to_string(),
        ]
        .join("\t")
    }

    fn decode(text: &str) -> Spec {
        let f: Vec<&str> = text.split('\t').collect();
        assert_eq!(f.len(), 8, "bad holder spec {text:?}");
        let port = |s: &str| (!s.is_empty()).then(|| s.parse().unwrap());
        let name = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Spec {
            comm: f[0].to_owned(),
            tcp: port(f[1]),
            udp: port(f[2]),
            unix: name(f[3]),
            dups: f[4].parse().unwrap(),
            child: name(f[5]),
            threads: f[6].parse().unwrap(),
            churn: f[7] == "1",
        }
    }
}

/// A running holder. Dropping it closes its stdin and waits for it (killing it, by pid, if it
/// does not end).
pub struct Holder {
    pub pid: u32,
    /// The forked child's pid, with [`Spec::child`].
    pub child_pid: Option<u32>,
    /// The thread the test harness runs the holder on (the main thread's id if it is that).
    pub runner: u32,
    /// The ids of the threads it started, with [`Spec::threads`].
    pub tids: Vec<u32>,
    process: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    /// Starts a holder in `ns` and waits (20 s at most) until its sockets exist.
    pub fn start(ns: &Netns, spec: &Spec) -> Holder {
        let exe = std::env::current_exe().expect("the test binary's path");
        let mut command = ns.command(exe.to_str().expect("a UTF-8 path"));
        command
            .args([
                "util::holder::hold",
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .env(SPEC_VAR, spec.encode())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut process = command.spawn().expect("starting a holder");
        let stdin = process.stdin.take();
        let stdout = process.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(ready) = line.strip_prefix("holder ready ") {
                    let _ = tx.send(ready.to_owned());
                }
            }
        });
        let ready = match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(ready) => ready,
            Err(_) => {
                let _ = process.kill();
                let _ = process.wait();
                let mut stderr = String::new();
                if let Some(mut e) = process.stderr.take() {
                    let _ = e.read_to_string(&mut stderr);
                }
                panic!("the holder {spec:?} did not get ready:\n{stderr}");
            }
        };
        // `PID CHILD RUNNER TID...`, CHILD 0 for none.
        let numbers: Vec<u32> = ready
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        Holder {
            pid: numbers[0],
            child_pid: (numbers[1] != 0).then_some(numbers[1]),
            runner: numbers[2],
            tids: numbers[3..].to_vec(),
            process,
            stdin,
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        wait_bounded(&mut self.process, Duration::from_secs(10));
    }
}

/// The holder itself, when this binary was started by [`Holder::start`]; in a normal test run
/// it does nothing.
#[test]
fn hold() {
    let Ok(spec) = std::env::var(SPEC_VAR) else {
        return;
    };
    let spec = Spec::decode(&spec);
    let mut sockets: Vec<Box<dyn std::any::Any>> = Vec::new();
    if let Some(port) = spec.tcp {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        let pending = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for _ in 0..spec.dups {
            sockets.push(Box::new(listener.try_clone().unwrap()));
        }
        sockets.extend([
            Box::new(listener) as Box<dyn std::any::Any>,
            Box::new(client),
            Box::new(server),
            Box::new(pending),
        ]);
    }
    if let Some(port) = spec.udp {
        let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        udp.connect(("127.0.0.1", port + 1)).unwrap();
        sockets.push(Box::new(udp));
    }
    if let Some(name) = &spec.unix {
        use std::os::linux::net::SocketAddrExt;
        let address = UnixAddr::from_abstract_name(name.as_bytes()).unwrap();
        sockets.push(Box::new(UnixListener::bind_addr(&address).unwrap()));
        sockets.push(Box::new(UnixStream::pair().unwrap()));
    }
    // The process's name is its main thread's, which this one may not be.
    std::fs::write("/proc/self/comm", spec.comm.as_bytes()).unwrap();

    let child = spec.child.as_deref().map_or(0, |name| {
        let name = std::ffi::CString::new(name).unwrap();
        // The child says on this pipe when it has its name.
        let mut named = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills the array it is given.
        assert_eq!(
            unsafe { libc::pipe2(named.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: the child only makes async-signal-safe system calls, then _exit.
        let pid = match unsafe { libc::fork() } {
            0 => unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                libc::prctl(libc::PR_SET_NAME, name.as_ptr());
                libc::write(named[1], b"n".as_ptr().cast(), 1);
                wait_for_eof();
                libc::_exit(0)
            },
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            pid => pid as u32,
        };
        let mut byte = 0u8;
        // SAFETY: reading one byte into a local, then closing the pipe we made.
        unsafe {
            libc::close(named[1]);
            assert_eq!(libc::read(named[0], (&mut byte as *mut u8).cast(), 1), 1);
            libc::close(named[0]);
        }
        pid
    });

    let mut tids = Vec::new();
    for i in 0..spec.threads {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("t{i}"))
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                tx.send(unsafe { libc::gettid() } as u32).unwrap();
                loop {
                    std::thread::park();
                }
            })
            .unwrap();
        tids.push(rx.recv().unwrap());
    }
    if spec.churn {
        std::thread::spawn(churn);
    }

    let tids: Vec<String> = tids.iter().map(u32::to_string).collect();
    // SAFETY: gettid has no preconditions.
    let runner = unsafe { libc::gettid() };
    println!(
        "holder ready {} {child} {runner} {}",
        std::process::id(),
        tids.join(" ")
    );
    wait_for_eof();
    drop(sockets);
    std::process::exit(0);
}

/// Forks children that hold every descriptor for 1 to 4 ms, one after another, at most 20000
/// of them; the holder's end ends it.
fn churn() {
    for i in 0..20_000u32 {
        // SAFETY: the child only sleeps and calls _exit.
        match unsafe { libc::fork() } {
            0 => unsafe {
                let pause = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000 * (1 + i64::from(i % 4)),
                };
                libc::nanosleep(&pause, std::ptr::null_mut());
                libc::_exit(0)
            },
            -1 => return,
            pid => {
                // SAFETY: reaping the child just forked.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            }
        }
    }
}

/// Blocks until standard input reaches its end, or [`LIFETIME`] has passed. Only system calls,
/// so a forked child may use it too.
fn wait_for_eof() {
    let deadline = Instant::now() + LIFETIME;
    let mut byte = 0u8;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut poll = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polling and reading our own standard input into a local byte.
        unsafe {
            let ready = libc::poll(&mut poll, 1, left.as_millis() as libc::c_int);
            if ready > 0 && libc::read(0, (&mut byte as *mut u8).cast(), 1) <= 0 {
                return;
            }
        }
    }
}
