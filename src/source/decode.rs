//! From kernel replies to the socket model.
//!
//! Each function reads one reply in place and returns a [`Socket`] that borrows from it.
//! Attributes the model does not know are skipped; a malformed one is an error naming it.

use std::net::SocketAddr;

use netlink_packet_core::DecodeError;

use crate::socket::{
    Details, Endpoints, InetEndpoints, Netid, NetlinkEndpoints, PacketEndpoints, PacketInfo,
    PacketRing, SkMem, Socket, TcpState, Timer, UnixEndpoints, UnixName,
};
use crate::wire::Extensible;
use crate::wire::inet::{InetDiagAttr, InetDiagMsg};
use crate::wire::netlink_diag::{NETLINK_CONNECTED, NetlinkDiagAttr, NetlinkDiagMsg};
use crate::wire::packet::{PacketDiagAttr, PacketDiagMsg, PacketDiagRing};
use crate::wire::unix::{UnixDiagAttr, UnixDiagMsg};

/// A socket from an inet_diag reply of table `netid`.
pub fn inet_socket<'a>(netid: Netid, msg: &InetDiagMsg<'a>) -> Result<Socket<'a>, DecodeError> {
    let header = msg.header;
    let family = header.family;
    let (mut v6only, mut mark, mut cgroup_id) = (None, None, None);
    let mut details = Details {
        timer: timer(header.timer, header.expires.get(), header.retrans),
        ..Details::default()
    };
    for attribute in msg.attributes() {
        match attribute? {
            InetDiagAttr::V6Only(value) => v6only = Some(value),
            InetDiagAttr::Mark(value) => mark = Some(value),
            InetDiagAttr::CgroupId(value) => cgroup_id = Some(value),
            InetDiagAttr::Shutdown(value) => details.shutdown = Some(value),
            InetDiagAttr::SkMemInfo(mem) => details.skmem = Some(mem),
            InetDiagAttr::MemInfo(bytes) => details.meminfo = Some(meminfo(bytes)),
            InetDiagAttr::Info(bytes) if netid == Netid::Mptcp => {
                details.mptcp_info = Some(Extensible::parse(bytes))
            }
            InetDiagAttr::Info(bytes) => details.tcp_info = Some(Extensible::parse(bytes)),
            InetDiagAttr::UlpInfo(ulp) => details.ulp = Some(ulp),
            InetDiagAttr::Md5Sig(keys) => details.md5keys = Some(keys),
            InetDiagAttr::Cong(name) => details.congestion = Some(name),
            InetDiagAttr::BbrInfo(bbr) => details.bbr = Some(bbr),
            InetDiagAttr::DctcpInfo(dctcp) => details.dctcp = Some(dctcp),
            InetDiagAttr::Tos(value) => details.tos = Some(value),
            InetDiagAttr::TClass(value) => details.tclass = Some(value),
            InetDiagAttr::ClassId(value) => details.class_id = Some(value),
            InetDiagAttr::SockOpt(sockopt) => details.sockopt = Some(sockopt),
            _ => {}
        }
    }
    let id = &header.id;
    Ok(Socket {
        netid,
        state: TcpState::from_kernel(header.state),
        recv_q: header.rqueue.get(),
        send_q: header.wqueue.get(),
        inode: u64::from(header.inode.get()),
        uid: Some(header.uid.get()),
        cookie: Some(id.cookie()),
        mark,
        cgroup_id,
        endpoints: Endpoints::Inet(InetEndpoints {
            local: SocketAddr::new(id.source(family), id.sport.get()),
            peer: SocketAddr::new(id.destination(family), id.dport.get()),
            ifindex: id.ifindex.get(),
            v6only,
        }),
        details,
    })
}

/// The timer fields of `inet_diag_msg`; timer 0 means none is running.
fn timer(kind: u8, expires_ms: u32, retransmits: u8) -> Option<Timer> {
    (kind != 0).then_some(Timer {
        kind,
        expires_ms,
        retransmits,
    })
}

/// `struct inet_diag_meminfo`: rmem, wmem, fmem, tmem.
fn meminfo(bytes: &[u8]) -> [u32; 4] {
    let mut values = [0; 4];
    for (value, chunk) in values.iter_mut().zip(bytes.chunks_exact(4)) {
        *value = u32::from_ne_bytes(chunk.try_into().expect("four bytes"));
    }
    values
}

/// A socket from a unix_diag reply, or `None` for a socket type ss does not list.
pub fn unix_socket<'a>(msg: &UnixDiagMsg<'a>) -> Result<Option<Socket<'a>>, DecodeError> {
    let header = msg.header;
    let netid = match i32::from(header.kind) {
        libc::SOCK_STREAM => Netid::UnixStream,
        libc::SOCK_DGRAM => Netid::UnixDgram,
        libc::SOCK_SEQPACKET => Netid::UnixSeqpacket,
        _ => return Ok(None),
    };
    let mut socket = Socket {
        netid,
        state: TcpState::from_kernel(header.state),
        recv_q: 0,
        send_q: 0,
        inode: u64::from(header.inode.get()),
        uid: None,
        cookie: Some(header.cookie()),
        mark: None,
        cgroup_id: None,
        endpoints: Endpoints::Unix(UnixEndpoints {
            name: UnixName::Unnamed,
            peer_inode: 0,
        }),
        details: Details::default(),
    };
    let Endpoints::Unix(ref mut ends) = socket.endpoints else {
        unreachable!("built as a unix socket above")
    };
    for attribute in msg.attributes() {
        match attribute? {
            UnixDiagAttr::Name(raw) => ends.name = UnixName::from_sun_path(raw),
            UnixDiagAttr::Peer(inode) => ends.peer_inode = inode,
            UnixDiagAttr::Rqlen(rqlen) => {
                socket.recv_q = rqlen.rqueue.get();
                socket.send_q = rqlen.wqueue.get();
            }
            UnixDiagAttr::Uid(uid) => socket.uid = Some(uid),
            UnixDiagAttr::Shutdown(value) => socket.details.shutdown = Some(value),
            UnixDiagAttr::MemInfo(mem) => socket.details.skmem = Some(mem),
            UnixDiagAttr::Vfs(vfs) => socket.details.vfs = Some(*vfs),
            UnixDiagAttr::Icons(inodes) => socket.details.pending = Some(inodes),
            _ => {}
        }
    }
    Ok(Some(socket))
}

/// The receive and send queues of sockets whose diag reports them only as memory: the bytes
/// allocated for receiving and for sending (`skmem` r and t).
fn queues(skmem: Option<SkMem>) -> (u32, u32) {
    skmem.map_or((0, 0), |mem| (mem.values[0], mem.values[2]))
}

/// A socket from a packet_diag reply, or `None` for a socket type ss does not list.
pub fn packet_socket<'a>(msg: &PacketDiagMsg<'a>) -> Result<Option<Socket<'a>>, DecodeError> {
    let header = msg.header;
    let netid = match i32::from(header.kind) {
        libc::SOCK_RAW => Netid::PacketRaw,
        libc::SOCK_DGRAM => Netid::PacketDgram,
        _ => return Ok(None),
    };
    let mut details = Details::default();
    let (mut ifindex, mut uid) = (0, None);
    for attribute in msg.attributes() {
        match attribute? {
            PacketDiagAttr::Info(info) => {
                ifindex = info.index.get();
                details.packet.info = Some(PacketInfo {
                    version: info.version.get(),
                    copy_thresh: info.copy_thresh.get(),
                    flags: info.flags.get(),
                });
            }
            PacketDiagAttr::RxRing(ring) => details.packet.rx_ring = Some(packet_ring(ring)),
            PacketDiagAttr::TxRing(ring) => details.packet.tx_ring = Some(packet_ring(ring)),
            PacketDiagAttr::Fanout(fanout) => details.packet.fanout = Some(fanout),
            PacketDiagAttr::Uid(value) => uid = Some(value),
            PacketDiagAttr::MemInfo(mem) => details.skmem = Some(mem),
            PacketDiagAttr::Filter(program) => details.packet.filter = Some(program),
            _ => {}
        }
    }
    let (recv_q, send_q) = queues(details.skmem);
    Ok(Some(Socket {
        netid,
        state: TcpState::Close,
        recv_q,
        send_q,
        inode: u64::from(header.inode.get()),
        uid,
        cookie: Some(header.cookie()),
        mark: None,
        cgroup_id: None,
        endpoints: Endpoints::Packet(PacketEndpoints {
            protocol: header.num.get(),
            ifindex,
        }),
        details,
    }))
}

fn packet_ring(ring: &PacketDiagRing) -> PacketRing {
    PacketRing {
        block_size: ring.block_size.get(),
        block_nr: ring.block_nr.get(),
        frame_size: ring.frame_size.get(),
        frame_nr: ring.frame_nr.get(),
        retire_tmo: ring.retire_tmo.get(),
        sizeof_priv: ring.sizeof_priv.get(),
        features: ring.features.get(),
    }
}

/// A socket from a netlink_diag reply. ss shows every netlink socket as unconnected (UNCONN),
/// even one with a default destination, and so do we; the destination shows as its peer.
pub fn netlink_socket<'a>(msg: &NetlinkDiagMsg<'a>) -> Result<Socket<'a>, DecodeError> {
    let header = msg.header;
    let mut details = Details::default();
    for attribute in msg.attributes() {
        match attribute? {
            NetlinkDiagAttr::MemInfo(mem) => details.skmem = Some(mem),
            NetlinkDiagAttr::Groups(bitmap) => details.groups = Some(bitmap),
            _ => {}
        }
    }
    let (recv_q, send_q) = queues(details.skmem);
    Ok(Socket {
        netid: Netid::Netlink,
        state: TcpState::Close,
        recv_q,
        send_q,
        inode: u64::from(header.inode.get()),
        uid: None,
        cookie: Some(header.cookie()),
        mark: None,
        cgroup_id: None,
        endpoints: Endpoints::Netlink(NetlinkEndpoints {
            protocol: header.protocol,
            portid: header.portid.get(),
            dst_portid: header.dst_portid.get(),
            dst_group: header.dst_group.get(),
            connected: header.state == NETLINK_CONNECTED,
        }),
        details,
    })
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv6Addr};

    use super::*;

    /// An inet_diag reply captured from Linux 6.18 for a v6only TCP listener on `[::]:8081`
    /// (backlog 10): the header, then SHUTDOWN, SKV6ONLY, MARK, CGROUP_ID and SOCKOPT.
    const V6ONLY_LISTENER: [u8; 116] = [
        0x0a, 0x0a, 0x00, 0x00, 0x1f, 0x91, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xa5,
        0x9f, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xae, 0xf2, 0x02, 0x00, 0x05, 0x00, 0x08,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x00, 0x08, 0x00,
        0x0f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x15, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x06, 0x00, 0x16, 0x00, 0x12, 0x00, 0x00, 0x00,
    ];

    /// A unix_diag reply captured from Linux 6.18 for a stream listener on
    /// `/tmp/explore/cap.sock` (backlog 5): NAME, RQLEN, SHUTDOWN.
    const UNIX_LISTENER: [u8; 64] = [
        0x01, 0x01, 0x0a, 0x00, 0xaf, 0xf2, 0x02, 0x00, 0xa6, 0x9f, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x1a, 0x00, 0x00, 0x00, 0x2f, 0x74, 0x6d, 0x70, 0x2f, 0x65, 0x78, 0x70, 0x6c, 0x6f,
        0x72, 0x65, 0x2f, 0x63, 0x61, 0x70, 0x2e, 0x73, 0x6f, 0x63, 0x6b, 0x00, 0x00, 0x00, 0x0c,
        0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x05, 0x00, 0x06, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn decodes_an_inet_reply() {
        let msg = InetDiagMsg::parse(&V6ONLY_LISTENER).unwrap();
        let socket = inet_socket(Netid::Tcp, &msg).unwrap();
        assert_eq!(socket.state, TcpState::Listen);
        assert_eq!((socket.recv_q, socket.send_q), (0, 10));
        assert_eq!(socket.inode, 193198);
        assert_eq!(socket.cookie, Some(0x19fa5));
        assert_eq!(socket.uid, Some(0));
        assert_eq!((socket.mark, socket.cgroup_id), (Some(0), Some(1)));
        let Endpoints::Inet(ends) = socket.endpoints else {
            panic!("not inet")
        };
        assert_eq!(
            ends.local,
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 8081)
        );
        assert_eq!(ends.v6only, Some(true));
        assert_eq!(socket.details.shutdown, Some(crate::socket::Shutdown(0)));
        assert_eq!(socket.details.timer, None);
        assert_eq!(
            socket.details.sockopt,
            Some(crate::wire::tcp::InetDiagSockopt(0x12))
        );
        let kinds: Vec<_> = msg.attributes().map(Result::unwrap).collect();
        assert!(kinds.contains(&InetDiagAttr::CgroupId(1)));
        assert!(kinds.contains(&InetDiagAttr::Mark(0)));
    }

    #[test]
    fn a_truncated_reply_is_an_error() {
        assert!(InetDiagMsg::parse(&V6ONLY_LISTENER[..40]).is_err());
        // The last attribute cut short: its length runs past the message.
        let msg = InetDiagMsg::parse(&V6ONLY_LISTENER[..112]).unwrap();
        assert!(inet_socket(Netid::Tcp, &msg).is_err());
        // An attribute that claims less than its own header.
        let mut bad = V6ONLY_LISTENER;
        bad[72] = 2;
        let msg = InetDiagMsg::parse(&bad).unwrap();
        assert!(inet_socket(Netid::Tcp, &msg).is_err());
    }

    #[test]
    fn decodes_a_unix_reply() {
        let msg = UnixDiagMsg::parse(&UNIX_LISTENER).unwrap();
        let socket = unix_socket(&msg).unwrap().unwrap();
        assert_eq!(socket.netid, Netid::UnixStream);
        assert_eq!(socket.state, TcpState::Listen);
        assert_eq!((socket.recv_q, socket.send_q), (0, 5));
        assert_eq!(socket.inode, 193199);
        assert_eq!(
            socket.endpoints,
            Endpoints::Unix(UnixEndpoints {
                name: UnixName::Path(b"/tmp/explore/cap.sock"),
                peer_inode: 0
            })
        );
        assert!(UnixDiagMsg::parse(&UNIX_LISTENER[..10]).is_err());
    }
}
