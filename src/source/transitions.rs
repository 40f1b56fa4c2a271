//! Every TCP state transition, as the kernel makes it: a BPF program on the
//! `sock:inet_sock_set_state` tracepoint writes each one into a ring buffer that watch reads.
//!
//! Looking at the socket table costs a walk of the whole table and still misses what happens
//! between two looks; the tracepoint fires at every transition of every TCP socket, with the
//! kernel's own moment, and costs nothing while nothing happens. The program is assembled here
//! ([`set_state_program`], like [`crate::wire::bytecode`]'s inet_diag programs) from what the
//! running kernel says of itself in its BTF: where each field of `struct sock` lies, and the
//! tracepoint's own type, which makes the program BTF-typed (`tp_btf`): its argument is the
//! socket itself, read in place, and it may ask for the socket's cookie.
//!
//! The cookie is what joins the events with everything else watch knows: sock_diag lists a
//! socket under it, the destroy event names it, and a TIME-WAIT entry inherits it from its
//! socket when the socket had one. The kernel makes a cookie the first time something asks;
//! the program asks at a socket's first transition, so every socket it reports has the cookie
//! it will keep to the end.
//!
//! The program keeps TCP only (the tracepoint also fires for SCTP, DCCP and MPTCP), keeps the
//! watched network namespace, drops in the kernel the ports a filter rules out where the
//! filter names its ports (`:8000`), and counts the records the ring buffer had no room for,
//! so that a loss is never silent.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::socket::{Details, Endpoints, InetEndpoints, Netid, Socket, TcpState};
use crate::sys::bpf::{
    self, BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, BpfError, ProgramKind,
    RingBuffer,
};
use crate::wire::bpf::{
    Asm, AsmError, BPF_FUNC_GET_SOCKET_COOKIE, BPF_FUNC_KTIME_GET_NS, BPF_FUNC_MAP_LOOKUP_ELEM,
    BPF_FUNC_PROBE_READ_KERNEL, BPF_FUNC_RINGBUF_RESERVE, BPF_FUNC_RINGBUF_SUBMIT, BpfInsn, R0, R1,
    R2, R3, R6, R7, R8, R9, R10, Size,
};
use crate::wire::btf::{BTF_KIND_TYPEDEF, Btf, BtfError};

/// The ring buffer's size: room for about 100,000 transitions between two reads (two bursts
/// of 20,000 connections at 12,000 a second lose none), 8 MiB of watch's memory.
const RING_SIZE: usize = 8 << 20;

/// The tracepoint's type in the kernel's BTF, which a BTF-typed program names to attach.
const TRACEPOINT_TYPE: &str = "btf_trace_inet_sock_set_state";

/// A ring record, as the program writes it and [`decode`] reads it.
const AT_TIME: usize = 0;
const AT_COOKIE: usize = 8;
const AT_NETNS: usize = 16;
const AT_FAMILY: usize = 20;
const AT_OLD: usize = 22;
const AT_NEW: usize = 23;
/// Both ports in network order (`inet_sport`, `skc_dport`).
const AT_SPORT: usize = 24;
const AT_DPORT: usize = 26;
const AT_SADDR: usize = 28;
const AT_DADDR: usize = 32;
const AT_SADDR6: usize = 40;
const AT_DADDR6: usize = 56;
const RECORD_LEN: usize = 72;

const AF_INET6: u16 = libc::AF_INET6 as u16;

/// Why transitions cannot be followed here: watch then looks, and says why once.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("cannot read the watched network namespace ({0})")]
    NoNetns(std::io::Error),
    #[error("no kernel BTF at /sys/kernel/btf/vmlinux ({0})")]
    NoBtf(std::io::Error),
    #[error("the kernel's BTF: {0}")]
    Btf(#[from] BtfError),
    #[error("{0}")]
    Asm(#[from] AsmError),
    #[error("{0}")]
    Bpf(#[from] BpfError),
}

impl Unavailable {
    /// Whether what is missing is the machine's, not sockscope's: privileges, the kernel's
    /// BTF, or a kernel too old for the tracepoint's BTF type, the ring buffer or `bpf()`
    /// itself. Anything else (the verifier refusing the program above all) is a fault of the
    /// program or its loader.
    pub fn is_environment(&self) -> bool {
        match self {
            Unavailable::NoBtf(_) | Unavailable::Btf(BtfError::NoType(_)) => true,
            Unavailable::Bpf(BpfError::Call { source, .. }) => matches!(
                source.raw_os_error(),
                Some(libc::EPERM | libc::EACCES | libc::ENOSYS | libc::EOPNOTSUPP)
            ),
            _ => self.is_permission(),
        }
    }

    /// Whether privileges are what is missing (not root, no CAP_BPF and CAP_PERFMON, or a
    /// seccomp profile that refuses `bpf()`).
    pub fn is_permission(&self) -> bool {
        match self {
            Unavailable::Bpf(e) => matches!(e.errno(), Some(libc::EPERM | libc::EACCES)),
            Unavailable::NoBtf(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
            _ => false,
        }
    }
}

/// Which transitions the kernel keeps; user space applies the rest of the filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    /// The network namespace, by the inode of its `/proc/PID/ns/net`; `None` keeps every one
    /// (`-N all`).
    pub netns: Option<u64>,
    /// Transitions of sockets with one of these ports at either end; empty keeps every port.
    pub ports: Vec<u16>,
}

/// Where the program finds what it reads, from the kernel's BTF: byte offsets in
/// `struct sock` (whose first member is `struct sock_common`), and of `ns.inum` in
/// `struct net`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockLayout {
    /// The tracepoint's type, for the kernel to attach the program to.
    pub tracepoint: u32,
    pub protocol: usize,
    pub family: usize,
    /// In `struct inet_sock`, which begins with `struct sock`: the local port as the socket
    /// was connected or bound. `skc_num` is not it: unhashing a closing socket zeroes it
    /// before the last transition.
    pub sport: usize,
    pub dport: usize,
    pub rcv_saddr: usize,
    pub daddr: usize,
    pub v6_rcv_saddr: usize,
    pub v6_daddr: usize,
    pub net: usize,
    pub net_inum: usize,
}

impl SockLayout {
    pub fn from_btf(btf: &Btf<'_>) -> Result<SockLayout, BtfError> {
        let sock = |path: &[&str], size: usize| -> Result<usize, BtfError> {
            let place = btf.place("sock", path)?;
            if place.size != size {
                return Err(BtfError::NoMember(
                    "sock".into(),
                    format!("{} of {size} bytes (it has {})", path.join("."), place.size),
                ));
            }
            Ok(place.offset)
        };
        let common = |member: &str, size| sock(&["__sk_common", member], size);
        let inum = btf.place("net", &["ns", "inum"])?;
        if inum.size != 4 {
            return Err(BtfError::NoMember(
                "net".into(),
                format!("ns.inum of 4 bytes (it has {})", inum.size),
            ));
        }
        Ok(SockLayout {
            tracepoint: btf
                .id_of(BTF_KIND_TYPEDEF, TRACEPOINT_TYPE)
                .ok_or_else(|| BtfError::NoType(TRACEPOINT_TYPE.into()))?,
            protocol: sock(&["sk_protocol"], 2)?,
            family: common("skc_family", 2)?,
            sport: {
                let place = btf.place("inet_sock", &["inet_sport"])?;
                if place.size != 2 {
                    return Err(BtfError::NoMember("inet_sock".into(), "inet_sport".into()));
                }
                place.offset
            },
            dport: common("skc_dport", 2)?,
            rcv_saddr: common("skc_rcv_saddr", 4)?,
            daddr: common("skc_daddr", 4)?,
            v6_rcv_saddr: common("skc_v6_rcv_saddr", 16)?,
            v6_daddr: common("skc_v6_daddr", 16)?,
            net: sock(&["__sk_common", "skc_net", "net"], 8)?,
            net_inum: inum.offset,
        })
    }
}

/// The program on `sock:inet_sock_set_state`. Its context (r1) is the tracepoint's
/// arguments, one u64 each: the socket, its old state and its new one.
///
/// Registers: r6 the socket, r7 the reserved ring record, r8 the socket's namespace inode, r9
/// its cookie. Stack: fp-8 the old state, fp-16 the new one, fp-24 the key of the lost-records
/// counter, fp-32 the local port.
pub fn set_state_program(
    sock: &SockLayout,
    interest: &Interest,
    ring: RawFd,
    lost: RawFd,
) -> Result<Vec<BpfInsn>, AsmError> {
    let off = |at: usize| at as i16;
    let mut asm = Asm::new();
    let out = asm.label();
    let keep_port = asm.label();
    let reserved = asm.label();

    // The arguments: the socket stays in r6, the states go to the stack.
    asm.load(Size::U64, R6, R1, 0);
    asm.load(Size::U64, R2, R1, 8);
    asm.store(Size::U64, R10, -8, R2);
    asm.load(Size::U64, R2, R1, 16);
    asm.store(Size::U64, R10, -16, R2);

    // TCP only: the tracepoint also fires for SCTP, DCCP and MPTCP.
    asm.load(Size::U16, R1, R6, off(sock.protocol));
    asm.jump_ne(R1, libc::IPPROTO_TCP, out);

    // The local port lies past `struct sock`, beyond what the verifier lets the program read
    // in place: read it with bpf_probe_read_kernel, which zeroes fp-32 if it cannot.
    asm.mov(R1, R10);
    asm.add_imm(R1, -32);
    asm.mov_imm(R2, 2);
    asm.mov(R3, R6);
    asm.add_imm(R3, sock.sport as i32);
    asm.call(BPF_FUNC_PROBE_READ_KERNEL);

    // The watched ports, at either end, both in network order. A client's local port is
    // still 0 at SYN-SENT, so its peer's port is what keeps its first transition.
    if !interest.ports.is_empty() {
        asm.load(Size::U16, R2, R10, -32);
        asm.load(Size::U16, R3, R6, off(sock.dport));
        for &port in &interest.ports {
            let port = i32::from(u16::from_ne_bytes(port.to_be_bytes()));
            asm.jump_eq(R2, port, keep_port);
            asm.jump_eq(R3, port, keep_port);
        }
        asm.jump_always(out);
    }
    asm.place(keep_port);

    // The socket's namespace: sk->__sk_common.skc_net.net->ns.inum.
    asm.load(Size::U64, R1, R6, off(sock.net));
    asm.load(Size::U32, R8, R1, off(sock.net_inum));
    if let Some(inode) = interest.netns {
        asm.jump32_ne(R8, inode as u32, out);
    }

    // The cookie, made now if nothing asked for it before: sock_diag and the destroy events
    // will name the socket by it.
    asm.mov(R1, R6);
    asm.call(BPF_FUNC_GET_SOCKET_COOKIE);
    asm.mov(R9, R0);

    // A ring record; where there is no room, count the loss in the array map's slot 0.
    asm.load_map_fd(R1, ring);
    asm.mov_imm(R2, RECORD_LEN as i32);
    asm.mov_imm(R3, 0);
    asm.call(BPF_FUNC_RINGBUF_RESERVE);
    asm.jump_ne(R0, 0, reserved);
    asm.store_imm(Size::U32, R10, -24, 0);
    asm.load_map_fd(R1, lost);
    asm.mov(R2, R10);
    asm.add_imm(R2, -24);
    asm.call(BPF_FUNC_MAP_LOOKUP_ELEM);
    asm.jump_eq(R0, 0, out);
    asm.mov_imm(R1, 1);
    asm.atomic_add(R0, 0, R1);
    asm.jump_always(out);
    asm.place(reserved);
    asm.mov(R7, R0);

    // The kernel's monotonic time, the cookie, the namespace and the two states.
    asm.call(BPF_FUNC_KTIME_GET_NS);
    asm.store(Size::U64, R7, off(AT_TIME), R0);
    asm.store(Size::U64, R7, off(AT_COOKIE), R9);
    asm.store(Size::U32, R7, off(AT_NETNS), R8);
    asm.load(Size::U64, R1, R10, -8);
    asm.store(Size::U8, R7, off(AT_OLD), R1);
    asm.load(Size::U64, R1, R10, -16);
    asm.store(Size::U8, R7, off(AT_NEW), R1);

    // The family, the ports and both forms of both addresses, copied from the socket.
    let copy = |asm: &mut Asm, size: Size, from: usize, to: usize| {
        asm.load(size, R1, R6, off(from));
        asm.store(size, R7, off(to), R1);
    };
    copy(&mut asm, Size::U16, sock.family, AT_FAMILY);
    asm.load(Size::U16, R1, R10, -32);
    asm.store(Size::U16, R7, off(AT_SPORT), R1);
    copy(&mut asm, Size::U16, sock.dport, AT_DPORT);
    copy(&mut asm, Size::U32, sock.rcv_saddr, AT_SADDR);
    copy(&mut asm, Size::U32, sock.daddr, AT_DADDR);
    asm.store_imm(Size::U32, R7, off(AT_DADDR + 4), 0);
    for half in [0, 8] {
        copy(
            &mut asm,
            Size::U64,
            sock.v6_rcv_saddr + half,
            AT_SADDR6 + half,
        );
        copy(&mut asm, Size::U64, sock.v6_daddr + half, AT_DADDR6 + half);
    }

    // Hand it to user space; the kernel wakes the reader.
    asm.mov(R1, R7);
    asm.mov_imm(R2, 0);
    asm.call(BPF_FUNC_RINGBUF_SUBMIT);

    asm.place(out);
    asm.mov_imm(R0, 0);
    asm.exit();
    asm.finish()
}

/// One transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// The kernel's monotonic clock, in nanoseconds (`CLOCK_MONOTONIC`, the clock of
    /// `Instant`).
    pub at_ns: u64,
    /// The inode of the socket's network namespace.
    pub netns: u64,
    /// The socket's cookie, as sock_diag lists it.
    pub cookie: u64,
    pub old: TcpState,
    pub new: TcpState,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

impl Transition {
    /// The socket the transition describes, in its new state, as the model has it: no
    /// queues, no inode (a look has them), and at SYN-SENT no local port yet.
    pub fn socket(&self) -> Socket<'static> {
        Socket {
            netid: Netid::Tcp,
            state: self.new,
            recv_q: 0,
            send_q: 0,
            inode: 0,
            uid: None,
            cookie: Some(self.cookie),
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Inet(InetEndpoints {
                local: SocketAddr::new(self.src, self.sport),
                peer: SocketAddr::new(self.dst, self.dport),
                ifindex: 0,
                v6only: None,
            }),
            details: Details::default(),
        }
    }
}

/// A ring record that does not read as the layout says.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a transition record of {0} bytes is too short")]
pub struct ShortRecord(pub usize);

/// Reads one ring record.
pub fn decode(data: &[u8]) -> Result<Transition, ShortRecord> {
    let data: &[u8; RECORD_LEN] = data
        .get(..RECORD_LEN)
        .and_then(|d| d.try_into().ok())
        .ok_or(ShortRecord(data.len()))?;
    let take = |at: usize, len: usize| &data[at..at + len];
    let u16_at = |at| u16::from_ne_bytes([data[at], data[at + 1]]);
    let u64_at = |at| u64::from_ne_bytes(take(at, 8).try_into().expect("8 bytes"));
    let v6 = u16_at(AT_FAMILY) == AF_INET6;
    let address = |v4: usize, v6_at: usize| -> IpAddr {
        if v6 {
            let octets: [u8; 16] = take(v6_at, 16).try_into().expect("16 bytes");
            IpAddr::V6(Ipv6Addr::from(octets))
        } else {
            let octets: [u8; 4] = take(v4, 4).try_into().expect("4 bytes");
            IpAddr::V4(Ipv4Addr::from(octets))
        }
    };
    Ok(Transition {
        at_ns: u64_at(AT_TIME),
        netns: u64::from(u32::from_ne_bytes(take(AT_NETNS, 4).try_into().expect("4"))),
        cookie: u64_at(AT_COOKIE),
        old: TcpState::from_kernel(data[AT_OLD]),
        new: TcpState::from_kernel(data[AT_NEW]),
        src: address(AT_SADDR, AT_SADDR6),
        sport: u16::from_be_bytes([data[AT_SPORT], data[AT_SPORT + 1]]),
        dst: address(AT_DADDR, AT_DADDR6),
        dport: u16::from_be_bytes([data[AT_DPORT], data[AT_DPORT + 1]]),
    })
}

/// The program loaded and attached, and the ring buffer it fills. Dropping it detaches the
/// program.
pub struct Transitions {
    ring: RingBuffer,
    lost: OwnedFd,
    _program: OwnedFd,
    _link: OwnedFd,
}

impl Transitions {
    /// Loads the program for `interest` and attaches it.
    pub fn open(interest: &Interest) -> Result<Transitions, Unavailable> {
        let btf_bytes = fs::read("/sys/kernel/btf/vmlinux").map_err(Unavailable::NoBtf)?;
        let sock = SockLayout::from_btf(&Btf::parse(&btf_bytes)?)?;
        drop(btf_bytes);
        let ring = RingBuffer::new("sockscope_tcp", RING_SIZE)?;
        let lost = bpf::create_map(BPF_MAP_TYPE_ARRAY, "sockscope_lost", 4, 8, 1)?;
        let program = set_state_program(&sock, interest, ring.map().as_raw_fd(), lost.as_raw_fd())?;
        let program = bpf::load_program(
            ProgramKind {
                prog_type: BPF_PROG_TYPE_TRACING,
                expected_attach_type: BPF_TRACE_RAW_TP,
                attach_btf_id: sock.tracepoint,
            },
            "sockscope_tcp",
            crate::wire::bpf::as_bytes(&program),
            // The kernel offers BTF-typed tracing only to GPL-compatible programs; this one is
            // ours, assembled at run time, and MIT is compatible with the GPL.
            "Dual MIT/GPL",
        )?;
        let link = bpf::attach_raw_tracepoint(&program)?;
        Ok(Transitions {
            ring,
            lost,
            _program: program,
            _link: link,
        })
    }

    /// Every transition written so far, in the order the kernel wrote them.
    pub fn drain<E>(
        &mut self,
        mut f: impl FnMut(Result<Transition, ShortRecord>) -> Result<(), E>,
    ) -> Result<usize, E> {
        self.ring.drain(|data| f(decode(data)))
    }

    /// How many transitions found the ring buffer full, since the start.
    pub fn lost(&self) -> Result<u64, BpfError> {
        bpf::lookup_u64(&self.lost, 0)
    }
}

impl AsRawFd for Transitions {
    /// Readable when transitions are waiting.
    fn as_raw_fd(&self) -> RawFd {
        self.ring.as_raw_fd()
    }
}

/// The inode of a network namespace file (`/proc/self/ns/net`, `/run/netns/NAME`), as the
/// program compares it.
pub fn netns_inode(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(fs::metadata(path)?.ino())
}

#[cfg(test)]
mod tests {
    use super::*;

    const AF_INET: u16 = libc::AF_INET as u16;

    fn layout() -> SockLayout {
        SockLayout {
            tracepoint: 38157,
            protocol: 516,
            family: 16,
            sport: 782,
            dport: 12,
            rcv_saddr: 4,
            daddr: 0,
            v6_rcv_saddr: 72,
            v6_daddr: 56,
            net: 48,
            net_inum: 184,
        }
    }

    #[test]
    fn a_ring_record_decodes() {
        let mut data = [0u8; RECORD_LEN];
        fn put(data: &mut [u8], at: usize, bytes: &[u8]) {
            data[at..at + bytes.len()].copy_from_slice(bytes);
        }
        put(&mut data, AT_TIME, &123_456_789u64.to_ne_bytes());
        put(&mut data, AT_COOKIE, &0x4b1du64.to_ne_bytes());
        put(&mut data, AT_NETNS, &4026531840u32.to_ne_bytes());
        put(&mut data, AT_FAMILY, &AF_INET.to_ne_bytes());
        put(&mut data, AT_OLD, &[2, 1]);
        put(&mut data, AT_SPORT, &44604u16.to_be_bytes());
        put(&mut data, AT_DPORT, &55000u16.to_be_bytes());
        put(&mut data, AT_SADDR, &[127, 0, 0, 1]);
        put(&mut data, AT_DADDR, &[127, 0, 0, 2]);
        let t = decode(&data).unwrap();
        assert_eq!(t.at_ns, 123_456_789);
        assert_eq!(t.netns, 4026531840);
        assert_eq!(t.cookie, 0x4b1d);
        assert_eq!((t.old, t.new), (TcpState::SynSent, TcpState::Established));
        assert_eq!(t.src, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!((t.sport, t.dport), (44604, 55000));
        assert_eq!(t.dst, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(decode(&data[..40]), Err(ShortRecord(40)));
        put(&mut data, AT_FAMILY, &AF_INET6.to_ne_bytes());
        put(&mut data, AT_DADDR6, &Ipv6Addr::LOCALHOST.octets());
        assert_eq!(decode(&data).unwrap().dst, IpAddr::V6(Ipv6Addr::LOCALHOST));
    }

    #[test]
    fn the_program_grows_with_what_it_keeps() {
        let all = set_state_program(&layout(), &Interest::default(), 3, 4).unwrap();
        let narrow = Interest {
            netns: Some(4026531840),
            ports: vec![22, 8000],
        };
        let some = set_state_program(&layout(), &narrow, 3, 4).unwrap();
        // Two compares a port, two loads and the jump out, one compare for the namespace.
        assert_eq!(some.len(), all.len() + 2 * 2 + 3 + 1);
        // The peer's port is compared in network order.
        assert!(
            some.iter()
                .any(|insn| insn.imm.get() == i32::from(u16::from_ne_bytes(8000u16.to_be_bytes())))
        );
    }
}
