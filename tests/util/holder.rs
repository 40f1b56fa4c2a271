//! Processes that hold sockets, for the `-p` and `-T` tests.
//!
//! A holder is the helper program `holder/main.rs` (the `holder` example target, which
//! `cargo test` builds with the tests). Started inside a namespace, it makes its sockets
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

mod spec;

pub use spec::Spec;

/// A running holder. Dropping it closes its stdin and waits for it (killing it, by pid, if it
/// does not end).
pub struct Holder {
    pub pid: u32,
    /// The forked child's pid, with [`Spec::child`].
    pub child_pid: Option<u32>,
    /// The ids of the threads it started, with [`Spec::threads`].
    pub tids: Vec<u32>,
    process: Child,
    stdin: Option<ChildStdin>,
}

impl Holder {
    /// Starts a holder in `ns` and waits (20 s at most) until its sockets exist.
    pub fn start(ns: &Netns, spec: &Spec) -> Holder {
        let program = program();
        let mut command = ns.command(program.to_str().expect("a UTF-8 path"));
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
        // `PID CHILD TID...`, CHILD 0 for none.
        let numbers: Vec<u32> = ready
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        Holder {
            pid: numbers[0],
            child_pid: (numbers[1] != 0).then_some(numbers[1]),
            tids: numbers[2..].to_vec(),
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

/// The holder program: cargo puts examples in `target/PROFILE/examples`, beside the `deps`
/// folder that holds this test binary.
fn program() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary lives in target/PROFILE/deps");
    let holder = profile.join("examples").join("holder");
    let built = std::fs::metadata(&holder).and_then(|m| m.modified());
    // Older than its source: built before the last change, by a `cargo test` long ago.
    let sources = ["main.rs", "spec.rs"].map(|file| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/util/holder");
        std::fs::metadata(path.join(file)).and_then(|m| m.modified())
    });
    let current = built.as_ref().is_ok_and(|built| {
        sources
            .iter()
            .all(|source| source.as_ref().is_ok_and(|source| source <= built))
    });
    assert!(
        current,
        "the holder program {} is missing or older than its source: `cargo test` builds it, \
         `cargo test --test integration` alone does not (run `cargo build --example holder`)",
        holder.display()
    );
    holder
}

#[test]
fn a_spec_survives_the_command_line() {
    let spec = Spec {
        comm: "a)b".into(),
        tcp: Some(7000),
        udp: None,
        unix: Some("@name".into()),
        dups: 2,
        child: Some("kid".into()),
        threads: 3,
        churn: true,
    };
    assert_eq!(Spec::decode(&spec.encode()), spec);
    assert_eq!(Spec::decode(&Spec::default().encode()), Spec::default());
}
