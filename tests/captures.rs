//! Round trips on replies this kernel really sent: every message of each capture under
//! `data/captures/` (made by `data/captures/capture.py` in a private network namespace) is parsed into
//! its typed header and attributes, emitted again, and must come out byte for byte; and each
//! decodes into a socket.

use std::collections::BTreeSet;

use netlink_packet_core::{Emitable, Nla};
use zerocopy::IntoBytes;

use sockscope::socket::Netid;
use sockscope::source::decode;
use sockscope::wire::inet::{self, InetDiagMsg};
use sockscope::wire::netlink::{SOCK_DIAG_BY_FAMILY, messages};
use sockscope::wire::netlink_diag::{self, NetlinkDiagMsg};
use sockscope::wire::packet::{self, PacketDiagMsg};
use sockscope::wire::unix::{self, UnixDiagMsg};

/// Parses and re-emits every sock_diag message of `$capture` as a `$msg`, checking each comes
/// out as it went in, and runs `$check` on it; gives the attribute kinds seen and how many
/// messages there were. A macro, for each family's `attributes()` is its own.
macro_rules! round_trip {
    ($capture:expr, $msg:ty, $check:expr $(,)?) => {{
        let capture: &[u8] = $capture;
        let mut kinds = BTreeSet::new();
        let mut count = 0usize;
        for message in messages(capture) {
            let (offset, message) = message.expect("a well-formed capture");
            if message.message_type() != SOCK_DIAG_BY_FAMILY {
                continue;
            }
            let payload = &capture[offset + 16..offset + message.length() as usize];
            let msg = <$msg>::parse(payload).expect("a diag message");
            let mut emitted = msg.header.as_bytes().to_vec();
            for attribute in msg.attributes() {
                let attribute = attribute.unwrap_or_else(|e| panic!("at byte {offset}: {e}"));
                kinds.insert(attribute.kind());
                let at = emitted.len();
                emitted.resize(at + attribute.buffer_len(), 0xaa);
                attribute.emit(&mut emitted[at..]);
            }
            assert_eq!(emitted, payload, "the message at byte {offset} re-emitted");
            #[allow(clippy::redundant_closure_call)]
            ($check)(&msg);
            count += 1;
        }
        (kinds, count)
    }};
}

#[test]
fn inet_replies_round_trip() {
    let tcp = include_bytes!("data/captures/inet_tcp.bin");
    let (kinds, count) = round_trip!(tcp, InetDiagMsg, |msg: &_| {
        let socket = decode::inet_socket(Netid::Tcp, msg).expect("a TCP socket");
        if let Some(ulp) = socket.details.ulp {
            assert_eq!(ulp.name, b"mptcp");
            // A listening subflow has no MPTCP state to report; a connected one has.
            let listening = socket.state == sockscope::socket::TcpState::Listen;
            assert_eq!(ulp.subflow.is_some(), !listening, "{socket:?}");
        }
    },);
    assert!(count >= 4, "{count} TCP sockets");
    for kind in [
        inet::INET_DIAG_MEMINFO,
        inet::INET_DIAG_INFO,
        inet::INET_DIAG_CONG,
        inet::INET_DIAG_TOS,
        inet::INET_DIAG_SKMEMINFO,
        inet::INET_DIAG_SHUTDOWN,
        inet::INET_DIAG_MARK,
        inet::INET_DIAG_BBRINFO,
        inet::INET_DIAG_CGROUP_ID,
        inet::INET_DIAG_SOCKOPT,
        // The MPTCP connection's subflows are TCP sockets with the mptcp ULP.
        inet::INET_DIAG_ULP_INFO,
    ] {
        assert!(kinds.contains(&kind), "no attribute {kind} in {kinds:?}");
    }
    let tcp6 = include_bytes!("data/captures/inet6_tcp.bin");
    let (kinds, _) = round_trip!(tcp6, InetDiagMsg, |msg: &_| {
        decode::inet_socket(Netid::Tcp, msg).expect("a TCP socket");
    },);
    assert!(kinds.contains(&inet::INET_DIAG_TCLASS), "{kinds:?}");
    assert!(kinds.contains(&inet::INET_DIAG_SKV6ONLY), "{kinds:?}");
    let udp = include_bytes!("data/captures/inet_udp.bin");
    round_trip!(udp, InetDiagMsg, |msg: &_| {
        decode::inet_socket(Netid::Udp, msg).expect("a UDP socket");
    },);
}

#[test]
fn mptcp_replies_round_trip() {
    let mptcp = include_bytes!("data/captures/mptcp.bin");
    let (kinds, count) = round_trip!(mptcp, InetDiagMsg, |msg: &_| {
        let socket = decode::inet_socket(Netid::Mptcp, msg).expect("an MPTCP socket");
        if let Some(info) = socket.details.mptcp_info {
            assert!(info.buffer_len() > 0);
        }
    },);
    assert!(count >= 2, "{count} MPTCP sockets");
    assert!(kinds.contains(&inet::INET_DIAG_INFO), "{kinds:?}");
}

#[test]
fn unix_replies_round_trip() {
    let capture = include_bytes!("data/captures/unix.bin");
    let (kinds, count) = round_trip!(capture, UnixDiagMsg, |msg: &_| {
        decode::unix_socket(msg).expect("a unix socket");
    },);
    assert!(count >= 5, "{count} unix sockets");
    for kind in [
        unix::UNIX_DIAG_NAME,
        unix::UNIX_DIAG_VFS,
        unix::UNIX_DIAG_PEER,
        unix::UNIX_DIAG_ICONS,
        unix::UNIX_DIAG_RQLEN,
        unix::UNIX_DIAG_MEMINFO,
        unix::UNIX_DIAG_SHUTDOWN,
        unix::UNIX_DIAG_UID,
    ] {
        assert!(kinds.contains(&kind), "no attribute {kind} in {kinds:?}");
    }
}

#[test]
fn packet_replies_round_trip() {
    let capture = include_bytes!("data/captures/packet.bin");
    let (kinds, count) = round_trip!(capture, PacketDiagMsg, |msg: &_| {
        decode::packet_socket(msg).expect("a packet socket");
    },);
    assert_eq!(count, 2);
    for kind in [
        packet::PACKET_DIAG_INFO,
        packet::PACKET_DIAG_FANOUT,
        packet::PACKET_DIAG_MEMINFO,
        packet::PACKET_DIAG_FILTER,
    ] {
        assert!(kinds.contains(&kind), "no attribute {kind} in {kinds:?}");
    }
}

#[test]
fn netlink_replies_round_trip() {
    let capture = include_bytes!("data/captures/netlink.bin");
    let (kinds, count) = round_trip!(capture, NetlinkDiagMsg, |msg: &_| {
        decode::netlink_socket(msg).expect("a netlink socket");
    },);
    assert!(count >= 2, "{count} netlink sockets");
    assert!(
        kinds.contains(&netlink_diag::NETLINK_DIAG_GROUPS),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&netlink_diag::NETLINK_DIAG_MEMINFO),
        "{kinds:?}"
    );
}
