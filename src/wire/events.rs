//! The kernel's socket-destroy notifications (`include/uapi/linux/sock_diag.h`): a
//! `NETLINK_SOCK_DIAG` socket joined to the `SKNLGRP_*_DESTROY` multicast groups.
//!
//! When a TCP or UDP socket is freed, the kernel sends every member of the matching group one
//! `SOCK_DIAG_BY_FAMILY` message holding an `inet_diag_msg`, as in a dump reply: the socket's
//! last state, queues and cookie (its inode is already 0), and always its tcp_info. ss's `-E`
//! reads these. The kernel lets any process join (sock_diag sets `NL_CFG_F_NONROOT_RECV`) and
//! sends it the events of its own network namespace.
//!
//! Reads never block: the caller waits for the descriptor to become readable (it may have other
//! things to wait for), then [`DestroyEvents::drain`] walks every waiting datagram in place.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use super::netlink::{DiagError, SOCK_DIAG_BY_FAMILY, messages};

/// `SKNLGRP_*`: the sock_diag multicast groups.
pub const SKNLGRP_NONE: u32 = 0;
pub const SKNLGRP_INET_TCP_DESTROY: u32 = 1;
pub const SKNLGRP_INET_UDP_DESTROY: u32 = 2;
pub const SKNLGRP_INET6_TCP_DESTROY: u32 = 3;
pub const SKNLGRP_INET6_UDP_DESTROY: u32 = 4;

/// ss asks for this much receive buffer, enough for a few thousand events between two reads.
const RECEIVE_BUFFER: usize = 1024 * 1024;

/// A destroy group: which protocol of which IP version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DestroyGroup {
    InetTcp,
    InetUdp,
    Inet6Tcp,
    Inet6Udp,
}

impl DestroyGroup {
    pub const ALL: [DestroyGroup; 4] = [
        DestroyGroup::InetTcp,
        DestroyGroup::InetUdp,
        DestroyGroup::Inet6Tcp,
        DestroyGroup::Inet6Udp,
    ];

    /// The group's number, `SKNLGRP_*`.
    pub const fn number(self) -> u32 {
        match self {
            DestroyGroup::InetTcp => SKNLGRP_INET_TCP_DESTROY,
            DestroyGroup::InetUdp => SKNLGRP_INET_UDP_DESTROY,
            DestroyGroup::Inet6Tcp => SKNLGRP_INET6_TCP_DESTROY,
            DestroyGroup::Inet6Udp => SKNLGRP_INET6_UDP_DESTROY,
        }
    }

    pub fn from_number(number: u32) -> Option<DestroyGroup> {
        DestroyGroup::ALL.into_iter().find(|g| g.number() == number)
    }

    /// The group's bit in `nl_groups` (group N is bit N - 1).
    const fn mask(self) -> u32 {
        1 << (self.number() - 1)
    }

    /// The IP protocol whose sockets the group reports.
    pub const fn protocol(self) -> u8 {
        match self {
            DestroyGroup::InetTcp | DestroyGroup::Inet6Tcp => libc::IPPROTO_TCP as u8,
            DestroyGroup::InetUdp | DestroyGroup::Inet6Udp => libc::IPPROTO_UDP as u8,
        }
    }

    pub const fn is_ipv6(self) -> bool {
        matches!(self, DestroyGroup::Inet6Tcp | DestroyGroup::Inet6Udp)
    }
}

/// How a [`DestroyEvents::drain`] went.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drained {
    /// Messages handed to the caller.
    pub messages: usize,
    /// The receive buffer overflowed since the last read (`ENOBUFS`): the kernel dropped some
    /// events.
    pub overrun: bool,
}

/// A sock_diag socket subscribed to destroy events.
pub struct DestroyEvents {
    socket: Socket,
    buffer: Vec<u8>,
}

impl DestroyEvents {
    /// Opens a socket and joins `groups`.
    pub fn subscribe(groups: &[DestroyGroup]) -> Result<DestroyEvents, DiagError> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(DiagError::Open)?;
        // As ss does; the kernel caps it at rmem_max, which is no reason to fail.
        let _ = socket.set_rx_buf_sz(RECEIVE_BUFFER as libc::c_int);
        let mask = groups.iter().fold(0, |mask, group| mask | group.mask());
        socket
            .bind(&SocketAddr::new(0, mask))
            .map_err(DiagError::Open)?;
        socket.set_non_blocking(true).map_err(DiagError::Open)?;
        Ok(DestroyEvents {
            socket,
            buffer: vec![0; 64 * 1024],
        })
    }

    /// Waits until an event is waiting, `timeout` has passed (`None`: no limit) or a signal
    /// arrives; returns whether an event is waiting.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<bool> {
        let mut fds = [libc::pollfd {
            fd: self.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = timeout.map_or(-1, |t| t.as_millis().min(i32::MAX as u128) as libc::c_int);
        // SAFETY: `fds` is a live array of one initialised pollfd for the whole call.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n > 0 && fds[0].revents != 0)
    }

    /// Reads every datagram waiting, without blocking, and calls `on_message` with the group
    /// and the payload (an `inet_diag_msg` and its attributes) of each destroy message.
    pub fn drain<E, F>(&mut self, mut on_message: F) -> Result<Drained, E>
    where
        E: From<DiagError>,
        F: FnMut(DestroyGroup, &[u8]) -> Result<(), E>,
    {
        let mut drained = Drained::default();
        loop {
            let (len, groups) = match self.receive() {
                Ok(Some(received)) => received,
                Ok(None) => return Ok(drained),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    drained.overrun = true;
                    continue;
                }
                Err(e) => return Err(DiagError::Receive(e).into()),
            };
            // The sender's address carries the group as a mask; the kernel sends each event
            // to one group.
            let Some(group) = (groups != 0)
                .then(|| groups.trailing_zeros() + 1)
                .and_then(DestroyGroup::from_number)
            else {
                continue;
            };
            for message in messages(&self.buffer[..len]) {
                let (_, message) = message?;
                if message.message_type() == SOCK_DIAG_BY_FAMILY {
                    drained.messages += 1;
                    on_message(group, message.payload())?;
                }
            }
        }
    }

    /// Reads the next datagram whole into the buffer: its length and the sender's groups, or
    /// `None` when nothing is waiting.
    fn receive(&mut self) -> io::Result<Option<(usize, u32)>> {
        let flags = libc::MSG_DONTWAIT;
        let pending = match retry(|| {
            self.socket.recv(
                &mut &mut [0u8; 0][..],
                flags | libc::MSG_PEEK | libc::MSG_TRUNC,
            )
        }) {
            Ok(pending) => pending,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
            Err(e) => return Err(e),
        };
        if pending > self.buffer.len() {
            self.buffer.resize(pending.next_power_of_two(), 0);
        }
        let mut sender = SocketAddr::new(0, 0);
        let received = retry(|| {
            let (n, from) = self.socket.recv_from(&mut &mut self.buffer[..], flags)?;
            sender = from;
            Ok(n)
        })?;
        Ok(Some((
            received.min(self.buffer.len()),
            sender.multicast_groups(),
        )))
    }
}

impl AsRawFd for DestroyEvents {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

fn retry(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_the_kernels() {
        assert_eq!(DestroyGroup::InetTcp.mask(), 0x1);
        assert_eq!(DestroyGroup::Inet6Tcp.mask(), 0x4);
        // ss -E -t binds to groups 1 and 3 (seen with strace: nl_groups=0x000005).
        let tcp = DestroyGroup::InetTcp.mask() | DestroyGroup::Inet6Tcp.mask();
        assert_eq!(tcp, 0x5);
        for group in DestroyGroup::ALL {
            assert_eq!(DestroyGroup::from_number(group.number()), Some(group));
        }
        assert_eq!(DestroyGroup::from_number(SKNLGRP_NONE), None);
    }
}
