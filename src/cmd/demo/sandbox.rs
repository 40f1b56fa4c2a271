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

/// The namespace's counters of connections its listeners turned away
/// (`/proc/net/netstat`, TcpExt).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListenCounters {
    /// SYNs and handshakes dropped because a listener's accept queue was full.
    #[serde(rename = "ListenOverflows")]
    pub overflows: u64,
    /// Every SYN a listener dropped, for that or any other reason.
    #[serde(rename = "ListenDrops")]
    pub drops: u64,
}

impl ListenCounters {
    /// The counters of this thread's namespace now.
    pub fn read() -> io::Result<ListenCounters> {
        let text = fs::read_to_string("/proc/thread-self/net/netstat")?;
        parse_netstat(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "/proc/net/netstat has no TcpExt ListenOverflows and ListenDrops",
            )
        })
    }
}

/// Finds ListenOverflows and ListenDrops in the text of `/proc/net/netstat`: each group is a
/// line of names and a line of values, both starting with the group's name.
fn parse_netstat(text: &str) -> Option<ListenCounters> {
    let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
    let names = lines.next()?.split_whitespace().skip(1);
    let values = lines.next()?.split_whitespace().skip(1);
    let mut counters = (None, None);
    for (name, value) in names.zip(values) {
        match name {
            "ListenOverflows" => counters.0 = value.parse().ok(),
            "ListenDrops" => counters.1 = value.parse().ok(),
            _ => {}
        }
    }
    Some(ListenCounters {
        overflows: counters.0?,
        drops: counters.1?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_listen_counters() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\n\
                    TcpExt: 0 3 4 17\n\
                    IpExt: InNoRoutes\n\
                    IpExt: 0\n";
        assert_eq!(
            parse_netstat(text),
            Some(ListenCounters {
                overflows: 3,
                drops: 4
            })
        );
        assert_eq!(parse_netstat("IpExt: A\nIpExt: 1\n"), None);
    }
}
