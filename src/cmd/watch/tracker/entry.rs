//! What the tracker keeps of each socket: an [`Entry`] of 80 bytes, its endpoints packed, and
//! the flags that say where it stands.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::Key;
use crate::socket::{
    Details, Endpoints, InetEndpoints, Netid, NetlinkEndpoints, PacketEndpoints, Socket, TcpState,
    UnixEndpoints, UnixName,
};
use crate::sys::clock;

/// Listed by the look under way.
pub(super) const SEEN: u16 = 1;
/// Added by the latest look.
pub(super) const ADDED_NOW: u16 = 1 << 1;
/// Changed by the latest look.
pub(super) const CHANGED_NOW: u16 = 1 << 2;
/// Listed by the first look: it existed before watch started.
pub(super) const BEFORE_START: u16 = 1 << 3;
/// Destroyed, waiting for the next look (see the module's documentation).
pub(super) const CLOSING: u16 = 1 << 4;
/// Removed; dropped from the vector at the end of the look.
pub(super) const GONE: u16 = 1 << 5;
/// Inet endpoints: IPv6.
pub(super) const V6: u16 = 1 << 6;
/// Inet endpoints: `v6only` known, and its value.
pub(super) const V6ONLY_KNOWN: u16 = 1 << 7;
pub(super) const V6ONLY: u16 = 1 << 8;
/// A unix socket with a name (kept on the side), abstract or a path.
pub(super) const NAMED: u16 = 1 << 9;
pub(super) const ABSTRACT: u16 = 1 << 10;
/// Added from a transition, not yet listed by a look: its queues, inode and owner are the
/// look's to fill in, which is no change.
pub(super) const UNLISTED: u16 = 1 << 11;

/// A socket the tracker follows: what the diff needs and what identifies the socket when it
/// is gone, packed (80 bytes).
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub key: Key,
    /// The endpoints, packed by [`pack`]: two addresses, two ports and the interface for an
    /// inet socket; the peer's inode for a unix one; the address of a packet or netlink one.
    pub(super) ends: [u8; 40],
    pub(super) inode: u32,
    /// `u32::MAX` when the kernel did not say.
    pub(super) uid: u32,
    pub recv_q: u32,
    pub send_q: u32,
    /// When a look first listed it, in milliseconds after the clock's anchor.
    pub(super) first_seen_ms: u32,
    /// Its namespace, an index into the tracker's (`-N all`).
    pub ns: u16,
    pub netid: Netid,
    pub state: TcpState,
    pub(super) flags: u16,
}

impl Entry {
    pub(super) fn new(socket: &Socket<'_>, key: Key, ns: u16, at: Instant) -> Entry {
        let (ends, flags) = pack(socket);
        Entry {
            key,
            ends,
            inode: socket.inode.min(u64::from(u32::MAX)) as u32,
            uid: socket.uid.unwrap_or(u32::MAX),
            recv_q: socket.recv_q,
            send_q: socket.send_q,
            first_seen_ms: since_anchor(at),
            ns,
            netid: socket.netid,
            state: socket.state,
            flags,
        }
    }

    /// Whether the kernel destroyed it and the next look has yet to say what became of it.
    pub fn closing(&self) -> bool {
        self.flags & CLOSING != 0
    }

    /// Whether it was there when watch started (listed by the first look): its lifetime is
    /// then only a lower bound.
    pub fn seen_since_start(&self) -> bool {
        self.flags & BEFORE_START != 0
    }

    /// Whether the latest look added it (not the first look's snapshot).
    pub fn added_now(&self) -> bool {
        self.flags & ADDED_NOW != 0
    }

    /// Whether the latest look changed it ([`Tracker::changes`] says what).
    pub fn changed_now(&self) -> bool {
        self.flags & CHANGED_NOW != 0
    }

    /// When a look first listed it.
    pub fn first_seen(&self) -> Instant {
        clock::anchor_mono() + Duration::from_millis(u64::from(self.first_seen_ms))
    }

    /// How long it has been followed at `now`; with [`Entry::seen_since_start`], a lower
    /// bound of its age.
    pub fn lifetime(&self, now: Instant) -> Duration {
        now.saturating_duration_since(self.first_seen())
    }

    /// The socket as last listed, its endpoints borrowing `name` (a unix socket's, from
    /// [`Tracker::socket`]).
    pub(super) fn socket<'a>(&self, name: Option<&'a [u8]>) -> Socket<'a> {
        Socket {
            netid: self.netid,
            state: self.state,
            recv_q: self.recv_q,
            send_q: self.send_q,
            inode: u64::from(self.inode),
            uid: (self.uid != u32::MAX).then_some(self.uid),
            cookie: (self.key & 1 << 63 == 0).then_some(self.key),
            mark: None,
            cgroup_id: None,
            endpoints: unpack(self, name),
            details: Details::default(),
        }
    }
}

fn since_anchor(at: Instant) -> u32 {
    at.saturating_duration_since(clock::anchor_mono())
        .as_millis()
        .min(u128::from(u32::MAX)) as u32
}

/// Packs the endpoints of `socket` into an entry's 40 bytes and flags.
pub(super) fn pack(socket: &Socket<'_>) -> ([u8; 40], u16) {
    let mut ends = [0u8; 40];
    let mut flags = 0;
    match socket.endpoints {
        Endpoints::Inet(inet) => {
            for (at, addr) in [(0, inet.local), (16, inet.peer)] {
                match addr.ip() {
                    IpAddr::V4(ip) => ends[at..at + 4].copy_from_slice(&ip.octets()),
                    IpAddr::V6(ip) => {
                        ends[at..at + 16].copy_from_slice(&ip.octets());
                        flags |= V6;
                    }
                }
            }
            ends[32..34].copy_from_slice(&inet.local.port().to_ne_bytes());
            ends[34..36].copy_from_slice(&inet.peer.port().to_ne_bytes());
            ends[36..40].copy_from_slice(&inet.ifindex.to_ne_bytes());
            match inet.v6only {
                Some(true) => flags |= V6ONLY_KNOWN | V6ONLY,
                Some(false) => flags |= V6ONLY_KNOWN,
                None => {}
            }
        }
        Endpoints::Unix(unix) => {
            ends[0..4].copy_from_slice(&unix.peer_inode.to_ne_bytes());
            match unix.name {
                UnixName::Unnamed => {}
                UnixName::Path(_) => flags |= NAMED,
                UnixName::Abstract(_) => flags |= NAMED | ABSTRACT,
            }
        }
        Endpoints::Packet(packet) => {
            ends[0..2].copy_from_slice(&packet.protocol.to_ne_bytes());
            ends[2..6].copy_from_slice(&packet.ifindex.to_ne_bytes());
        }
        Endpoints::Netlink(netlink) => {
            ends[0] = netlink.protocol;
            ends[1] = u8::from(netlink.connected);
            ends[2..6].copy_from_slice(&netlink.portid.to_ne_bytes());
            ends[6..10].copy_from_slice(&netlink.dst_portid.to_ne_bytes());
            ends[10..14].copy_from_slice(&netlink.dst_group.to_ne_bytes());
        }
    }
    (ends, flags)
}

/// The endpoints [`pack`] packed.
pub(super) fn unpack<'a>(entry: &Entry, name: Option<&'a [u8]>) -> Endpoints<'a> {
    let e = &entry.ends;
    let u16_at = |at: usize| u16::from_ne_bytes([e[at], e[at + 1]]);
    let u32_at = |at: usize| u32::from_ne_bytes([e[at], e[at + 1], e[at + 2], e[at + 3]]);
    match entry.netid {
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => {
            Endpoints::Unix(UnixEndpoints {
                name: match name {
                    Some(name) if entry.flags & ABSTRACT != 0 => UnixName::Abstract(name),
                    Some(name) => UnixName::Path(name),
                    None => UnixName::Unnamed,
                },
                peer_inode: u32_at(0),
            })
        }
        Netid::PacketRaw | Netid::PacketDgram => Endpoints::Packet(PacketEndpoints {
            protocol: u16_at(0),
            ifindex: u32_at(2),
        }),
        Netid::Netlink => Endpoints::Netlink(NetlinkEndpoints {
            protocol: e[0],
            connected: e[1] != 0,
            portid: u32_at(2),
            dst_portid: u32_at(6),
            dst_group: u32_at(10),
        }),
        _ => {
            let ip = |at: usize| -> IpAddr {
                if entry.flags & V6 != 0 {
                    let mut octets = [0u8; 16];
                    octets.copy_from_slice(&e[at..at + 16]);
                    IpAddr::V6(Ipv6Addr::from(octets))
                } else {
                    IpAddr::V4(Ipv4Addr::new(e[at], e[at + 1], e[at + 2], e[at + 3]))
                }
            };
            Endpoints::Inet(InetEndpoints {
                local: SocketAddr::new(ip(0), u16_at(32)),
                peer: SocketAddr::new(ip(16), u16_at(34)),
                ifindex: u32_at(36),
                v6only: (entry.flags & V6ONLY_KNOWN != 0).then_some(entry.flags & V6ONLY != 0),
            })
        }
    }
}
