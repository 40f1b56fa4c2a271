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
//!
//! A burst of short connections makes tens of thousands of events a second, more than a
//! thread that also writes output keeps up with: [`EventQueue`] reads each subscription on a
//! thread of its own that does nothing else, into a large receive buffer, and queues the
//! datagrams for the consumer with the moment they were read.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

use super::netlink::{DiagError, SOCK_DIAG_BY_FAMILY, messages};

/// `SKNLGRP_*`: the sock_diag multicast groups.
pub const SKNLGRP_NONE: u32 = 0;
pub const SKNLGRP_INET_TCP_DESTROY: u32 = 1;
pub const SKNLGRP_INET_UDP_DESTROY: u32 = 2;
pub const SKNLGRP_INET6_TCP_DESTROY: u32 = 3;
pub const SKNLGRP_INET6_UDP_DESTROY: u32 = 4;

/// The receive buffer asked for: ss asks for 1 MiB, which a burst of short connections fills
/// in a tenth of a second. As root `SO_RCVBUFFORCE` gets it whole (the kernel doubles it for
/// its bookkeeping); without privilege the kernel caps it at `net.core.rmem_max`.
const RECEIVE_BUFFER: usize = 32 * 1024 * 1024;

/// The most [`EventQueue`] holds for its consumer; beyond it the readers wait, and the kernel's
/// buffer takes the rest (or overruns, which is then reported).
const QUEUE_LIMIT: usize = 64 * 1024 * 1024;

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
        size_receive_buffer(&socket);
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

/// Asks for [`RECEIVE_BUFFER`]: forced past `rmem_max` where the process may (CAP_NET_ADMIN),
/// else as much as `rmem_max` allows. A smaller buffer is no reason to fail.
fn size_receive_buffer(socket: &Socket) {
    let size = RECEIVE_BUFFER as libc::c_int;
    // SAFETY: setsockopt reads one c_int from a live local for the length given.
    let forced = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    } == 0;
    if !forced {
        let allowed = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .ok()
            .and_then(|text| text.trim().parse::<libc::c_int>().ok())
            .unwrap_or(size);
        let _ = socket.set_rx_buf_sz(allowed.clamp(1024 * 1024, size));
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

/// One thing an [`EventQueue`] read.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// A destroy message: its group and payload (an `inet_diag_msg` and its attributes).
    Destroyed {
        group: DestroyGroup,
        payload: &'a [u8],
        /// When it was read.
        at: Instant,
        /// The subscription it came through ([`EventQueue::add`]).
        source: u16,
    },
    /// The kernel's buffer overflowed (`ENOBUFS`): events were lost just before `at`.
    Overrun { at: Instant, source: u16 },
}

/// What a reader thread queued: datagrams' payloads back to back, and where each is.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    items: Vec<Item>,
}

#[derive(Clone, Copy)]
struct Item {
    at: Instant,
    source: u16,
    /// `None`: an overrun.
    group: Option<DestroyGroup>,
    start: usize,
    end: usize,
}

#[derive(Default)]
struct Queue {
    full: VecDeque<Batch>,
    /// Batches handed back by the consumer, to be filled again.
    free: Vec<Batch>,
    bytes: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    /// Signalled when the consumer took what was queued.
    room: Condvar,
    stop: AtomicBool,
    /// An eventfd, readable while something is queued.
    wake: OwnedFd,
}

/// Destroy events read on threads of their own, one per subscription, and queued.
pub struct EventQueue {
    shared: Arc<Shared>,
    /// Reused by [`EventQueue::take`].
    taken: VecDeque<Batch>,
}

impl EventQueue {
    pub fn new() -> io::Result<EventQueue> {
        // SAFETY: eventfd takes no pointers; a valid descriptor it returns is ours alone.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let wake = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(EventQueue {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                room: Condvar::new(),
                stop: AtomicBool::new(false),
                wake,
            }),
            taken: VecDeque::new(),
        })
    }

    /// Reads `events` from now on, on a thread of its own; its events carry `source`.
    pub fn add(&mut self, events: DestroyEvents, source: u16) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        std::thread::Builder::new()
            .name("destroy-events".into())
            .spawn(move || read_events(events, source, &shared))?;
        Ok(())
    }

    /// Calls `on_event` for everything queued, in the order read (per subscription).
    pub fn take<E>(
        &mut self,
        mut on_event: impl FnMut(Event<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut counter = 0u64;
        // SAFETY: reads 8 bytes into a live u64 from our eventfd; it is non-blocking.
        unsafe {
            libc::read(
                self.shared.wake.as_raw_fd(),
                (&mut counter as *mut u64).cast(),
                8,
            )
        };
        {
            let mut queue = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut queue.full, &mut self.taken);
            queue.bytes = 0;
        }
        self.shared.room.notify_all();
        let mut result = Ok(());
        for batch in &self.taken {
            if result.is_err() {
                break;
            }
            for item in &batch.items {
                let event = match item.group {
                    Some(group) => Event::Destroyed {
                        group,
                        payload: &batch.bytes[item.start..item.end],
                        at: item.at,
                        source: item.source,
                    },
                    None => Event::Overrun {
                        at: item.at,
                        source: item.source,
                    },
                };
                if let Err(e) = on_event(event) {
                    result = Err(e);
                    break;
                }
            }
        }
        let mut queue = self.shared.queue.lock().unwrap_or_else(|e| e.into_inner());
        for mut batch in self.taken.drain(..) {
            batch.bytes.clear();
            batch.items.clear();
            if queue.free.len() < 8 {
                queue.free.push(batch);
            }
        }
        result
    }
}

impl AsRawFd for EventQueue {
    /// Readable while events are queued.
    fn as_raw_fd(&self) -> RawFd {
        self.shared.wake.as_raw_fd()
    }
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        // The readers see it within their poll timeout and end; nobody waits for them.
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.room.notify_all();
    }
}

/// A reader thread: waits for datagrams, reads every one waiting into a batch, queues it.
fn read_events(mut events: DestroyEvents, source: u16, shared: &Shared) {
    let mut batch = Batch::default();
    while !shared.stop.load(Ordering::SeqCst) {
        match events.wait(Some(Duration::from_millis(100))) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        }
        let drained = events.drain(|group, payload| {
            let start = batch.bytes.len();
            batch.bytes.extend_from_slice(payload);
            batch.items.push(Item {
                at: Instant::now(),
                source,
                group: Some(group),
                start,
                end: batch.bytes.len(),
            });
            // A burst that never lets the socket run dry is handed over in pieces.
            if batch.bytes.len() >= BATCH_BYTES {
                push(shared, &mut batch);
            }
            Ok::<(), DiagError>(())
        });
        match drained {
            Ok(drained) if drained.overrun => batch.items.push(Item {
                at: Instant::now(),
                source,
                group: None,
                start: 0,
                end: 0,
            }),
            Ok(_) => {}
            Err(_) => return,
        }
        if !batch.items.is_empty() {
            push(shared, &mut batch);
        }
    }
}

/// A batch is handed to the consumer when it holds this much, or when the socket is empty.
const BATCH_BYTES: usize = 256 * 1024;

/// Queues `batch` for the consumer (waiting while the queue is full) and wakes it.
fn push(shared: &Shared, batch: &mut Batch) {
    let mut queue = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
    while queue.bytes > QUEUE_LIMIT && !shared.stop.load(Ordering::SeqCst) {
        queue = shared
            .room
            .wait_timeout(queue, Duration::from_millis(100))
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
    let was_empty = queue.full.is_empty();
    queue.bytes += batch.bytes.len();
    let next = queue.free.pop().unwrap_or_default();
    queue.full.push_back(std::mem::replace(batch, next));
    drop(queue);
    if was_empty {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a live u64 to the eventfd.
        unsafe { libc::write(shared.wake.as_raw_fd(), (&one as *const u64).cast(), 8) };
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
