//! The demo's own network namespace, and the settings of it that the stages depend on.
//!
//! A private namespace holds nothing but the demo's sockets, so every table shows exactly the
//! walk (no TIME-WAIT left by an earlier run, no other program on the port), and its loopback
//! carries only the demo's packets. Root makes one directly. Anyone else first makes a user
//! namespace, in which this process holds every capability over what it creates: a network
//! namespace, its sysctls, a packet socket on its `lo`. unshare(CLONE_NEWUSER) refuses a
//! process with more than one thread, so this runs before the demo starts any.

use std::fs;
use std::io;

use crate::netns;

/// Where the demo runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A network namespace of its own, made by root.
    Private,
    /// A network namespace of its own, inside a user namespace of its own.
    PrivateUser,
    /// The namespace it was started in, shared with everything else there.
    Shared,
}

impl Place {
    pub fn is_private(self) -> bool {
        self != Place::Shared
    }
}

/// Moves this process (which must have a single thread) into a new network namespace with
/// its loopback up, inside a new user namespace when it is not privileged enough alone.
pub fn enter_private() -> io::Result<Place> {
    let first = match netns::enter_private() {
        Ok(()) => return Ok(Place::Private),
        Err(error) => error,
    };
    // SAFETY: geteuid and getegid cannot fail.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    // SAFETY: unshare changes only this process's namespaces, and it has one thread.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER) } != 0 {
        let second = io::Error::last_os_error();
        // Root that cannot make a network namespace says more than the user namespace does.
        return Err(if uid == 0 { first } else { second });
    }
    // The same ids inside as outside: files and sockets keep their owner. setgroups must be
    // refused before an unprivileged process may write its gid map.
    fs::write("/proc/self/setgroups", "deny")?;
    fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"))?;
    fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"))?;
    netns::enter_private()?;
    Ok(Place::PrivateUser)
}

/// The settings the TCP walk depends on, for its own namespace. Each is a reason below.
const TCP_SYSCTLS: &[(&str, &str)] = &[
    // A listener whose queue is full drops further SYNs (it does not reset them), and never
    // answers one with a SYN cookie: the backlog stage shows the plain drop.
    ("net/ipv4/tcp_abort_on_overflow", "0"),
    ("net/ipv4/tcp_syncookies", "0"),
    // A dropped SYN is sent again every second (not after 1, 2, 4, ... seconds), for two
    // minutes: the queue, once drained, takes the waiting client within a second.
    ("net/ipv4/tcp_syn_retries", "127"),
    ("net/ipv4/tcp_syn_linear_timeouts", "127"),
    // Small fixed buffers, so that the stage where the client stops reading fills them
    // quickly and the same way every time: no growing of the receive buffer.
    ("net/ipv4/tcp_rmem", "4096 32768 32768"),
    ("net/ipv4/tcp_wmem", "4096 16384 16384"),
    ("net/ipv4/tcp_moderate_rcvbuf", "0"),
];

/// Sets the TCP walk's sysctls in the current (private) namespace; returns the ones that
/// could not be set, with why.
pub fn set_tcp_sysctls() -> Vec<String> {
    let mut failed = Vec::new();
    for (name, value) in TCP_SYSCTLS {
        let path = format!("/proc/sys/{name}");
        if let Err(error) = fs::write(&path, value) {
            failed.push(format!("{} ({error})", name.replace('/', ".")));
        }
    }
    failed
}
