//! Processes that hold sockets, for the `-p` and `-T` tests.
//!
//! A holder is the helper program `examples/holder.rs`, which `cargo test` builds with the
//! tests (and `cargo install` leaves out). Started inside a namespace, it makes its sockets
//! there, gives itself a name, forks a child or starts threads that share them, prints one
//! `holder ready ...` line on stdout and waits until its standard input closes (or ten
//! minutes have passed). The test process itself holds none of these sockets, so the owners
//! ss and sockscope see are exactly the holders, and they stay put between the two runs.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::netns::{Netns, wait_bounded};

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
}

/// A running holder. Dropping it closes its stdin and waits for it (killing it, by pid, if it
/// does not end).
pub struct Holder {
    pub pid: u32,
    /// The forked child's pid, with [`Spec::child`].
    pub child_pid: Option<u32>,
    /// The thread that made the sockets (the holder's main thread, so far: its pid).
    pub runner: u32,
    /// The ids of the threads it started, with [`Spec::threads`].
    pub tids: Vec<u32>,
    process: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    /// Starts a holder in `ns` and waits (20 s at most) until its sockets exist.
    pub fn start(ns: &Netns, spec: &Spec) -> Holder {
        let exe = program();
        let mut command = ns.command(exe.to_str().expect("a UTF-8 path"));
        command
            .arg(spec.encode())
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

/// The holder program: `examples/holder.rs`, built next to the test binary's directory
/// (`target/debug/examples/` beside `target/debug/deps/`). Panics with what to run when it is
/// missing, as after `cargo test --test integration`, which builds no examples.
fn program() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/PROFILE/deps");
    let holder = profile.join("examples").join("holder");
    assert!(
        holder.is_file(),
        "the holder program {} is missing: run `cargo test` (which builds the examples) or \
         `cargo build --examples` first",
        holder.display()
    );
    holder
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        wait_bounded(&mut self.process, Duration::from_secs(10));
    }
}
