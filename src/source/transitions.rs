//! Every TCP state transition, as the kernel makes it: a BPF program on the
//! `sock:inet_sock_set_state` tracepoint writes each one into a ring buffer that watch reads.
//!
//! Looking at the socket table costs a walk of the whole table and still misses what happens
//! between two looks; the tracepoint fires at every transition of every TCP socket, with the
//! kernel's own moment, and costs nothing while nothing happens. The program is assembled here
//! ([`set_state_program`], like [`crate::wire::bytecode`]'s inet_diag programs) from what the
//! running kernel says of itself: the record's layout from the tracepoint's `format` file in
//! tracefs, the way from a socket to its network namespace from the kernel's BTF. Nothing of
//! either is assumed.
//!
//! The program keeps TCP only (the tracepoint also fires for SCTP, DCCP and MPTCP), keeps the
//! watched network namespace (the record has none: it is read from the socket), drops in the
//! kernel the ports a filter rules out where the filter names its ports (`:8000`), and counts
//! the records the ring buffer had no room for, so that a loss is never silent.

use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use crate::socket::TcpState;
use crate::sys::bpf::{self, BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_TRACEPOINT, BpfError, RingBuffer};
use crate::wire::bpf::{
    Asm, AsmError, BPF_FUNC_KTIME_GET_NS, BPF_FUNC_MAP_LOOKUP_ELEM, BPF_FUNC_PROBE_READ_KERNEL,
    BPF_FUNC_RINGBUF_RESERVE, BPF_FUNC_RINGBUF_SUBMIT, BpfInsn, R0, R1, R2, R3, R6, R7, R8, R10,
    Size,
};
use crate::wire::btf::{Btf, BtfError};
use crate::wire::trace_format::{Format, FormatError};

/// The ring buffer's size: room for about 100,000 transitions between two reads.
const RING_SIZE: usize = 8 << 20;

/// Where each ring record keeps what the program adds to the tracepoint's record: the
/// kernel's monotonic time, then the socket's network namespace, then the tracepoint's record
/// from its first own field (offset 8, after the common fields) on.
const AT_TIME: usize = 0;
const AT_NETNS: usize = 8;
const AT_RECORD: usize = 16;
const COMMON_FIELDS: usize = 8;

const AF_INET6: u16 = libc::AF_INET6 as u16;

/// Why transitions cannot be followed here: watch then looks, and says why once.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("tracefs: {0}")]
    Tracefs(std::io::Error),
    #[error("no tracepoint sock:inet_sock_set_state ({0})")]
    NoTracepoint(std::io::Error),
    #[error("the tracepoint's format: {0}")]
    Format(#[from] FormatError),
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
    /// Whether privileges are what is missing (not root, no CAP_BPF and CAP_PERFMON, or a
    /// seccomp profile that refuses `bpf()`).
    pub fn is_permission(&self) -> bool {
        match self {
            Unavailable::Bpf(e) => matches!(e.errno(), Some(libc::EPERM | libc::EACCES)),
            Unavailable::Tracefs(e) | Unavailable::NoTracepoint(e) => {
                e.kind() == std::io::ErrorKind::PermissionDenied
            }
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

/// Where the fields of `sock:inet_sock_set_state`'s record are, from its `format` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetStateRecord {
    pub id: u32,
    pub size: usize,
    pub skaddr: usize,
    pub oldstate: usize,
    pub newstate: usize,
    pub sport: usize,
    pub dport: usize,
    pub family: usize,
    pub protocol: usize,
    pub saddr: usize,
    pub daddr: usize,
    pub saddr_v6: usize,
    pub daddr_v6: usize,
}

impl SetStateRecord {
    pub fn from_format(format: &Format) -> Result<SetStateRecord, FormatError> {
        let at = |name, size| format.field(name, size).map(|field| field.offset);
        Ok(SetStateRecord {
            id: format.id,
            size: format.size(),
            skaddr: at("skaddr", 8)?,
            oldstate: at("oldstate", 4)?,
            newstate: at("newstate", 4)?,
            sport: at("sport", 2)?,
            dport: at("dport", 2)?,
            family: at("family", 2)?,
            protocol: at("protocol", 2)?,
            saddr: at("saddr", 4)?,
            daddr: at("daddr", 4)?,
            saddr_v6: at("saddr_v6", 16)?,
            daddr_v6: at("daddr_v6", 16)?,
        })
    }

    /// The length of a ring record: the program's own fields and the tracepoint's, rounded up
    /// to whole u64s.
    fn ring_len(&self) -> usize {
        (AT_RECORD + self.size.saturating_sub(COMMON_FIELDS)).next_multiple_of(8)
    }
}

/// The way from a socket to its network namespace's inode, from the kernel's BTF: the byte
/// offset of `struct sock_common`'s `skc_net.net` pointer, and of `ns.inum` inside
/// `struct net`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetnsPath {
    pub sock_net: usize,
    pub net_inum: usize,
}

impl NetnsPath {
    pub fn from_btf(btf: &Btf<'_>) -> Result<NetnsPath, BtfError> {
        let net = btf.place("sock_common", &["skc_net", "net"])?;
        let inum = btf.place("net", &["ns", "inum"])?;
        if net.size != 8 || inum.size != 4 {
            return Err(BtfError::NoMember(
                "sock_common or net".into(),
                format!(
                    "skc_net.net of 8 bytes and ns.inum of 4 (found {} and {})",
                    net.size, inum.size
                ),
            ));
        }
        Ok(NetnsPath {
            sock_net: net.offset,
            net_inum: inum.offset,
        })
    }
}

/// The program on `sock:inet_sock_set_state`: its context (r1) is the tracepoint's record.
///
/// Registers: r6 the record, r7 the reserved ring record, r8 the socket's namespace inode.
/// Stack: fp-8 the `struct net *` read from the socket, fp-16 its inode, fp-24 the key of the
/// lost-records counter.
pub fn set_state_program(
    record: &SetStateRecord,
    netns: &NetnsPath,
    interest: &Interest,
    ring: RawFd,
    lost: RawFd,
) -> Result<Vec<BpfInsn>, AsmError> {
    let off = |at: usize| at as i16;
    let mut asm = Asm::new();
    let out = asm.label();
    let keep_port = asm.label();
    let reserved = asm.label();

    // Keep the record at hand for the whole program.
    asm.mov(R6, R1);

    // TCP only: the tracepoint also fires for SCTP, DCCP and MPTCP.
    asm.load(Size::U16, R1, R6, off(record.protocol));
    asm.jump_ne(R1, libc::IPPROTO_TCP, out);

    // The watched ports, at either end; a client's port is still 0 at SYN-SENT, so its peer's
    // port is what keeps its first transition.
    if !interest.ports.is_empty() {
        asm.load(Size::U16, R2, R6, off(record.sport));
        asm.load(Size::U16, R3, R6, off(record.dport));
        for &port in &interest.ports {
            asm.jump_eq(R2, i32::from(port), keep_port);
            asm.jump_eq(R3, i32::from(port), keep_port);
        }
        asm.jump_always(out);
    }
    asm.place(keep_port);

    // The socket's namespace: net = sk->__sk_common.skc_net.net (into fp-8), then
    // inum = net->ns.inum (into fp-16), each through bpf_probe_read_kernel, which zeroes its
    // destination when the read fails.
    asm.load(Size::U64, R3, R6, off(record.skaddr));
    asm.add_imm(R3, netns.sock_net as i32);
    asm.mov(R1, R10);
    asm.add_imm(R1, -8);
    asm.mov_imm(R2, 8);
    asm.call(BPF_FUNC_PROBE_READ_KERNEL);
    asm.load(Size::U64, R3, R10, -8);
    asm.add_imm(R3, netns.net_inum as i32);
    asm.mov(R1, R10);
    asm.add_imm(R1, -16);
    asm.mov_imm(R2, 4);
    asm.call(BPF_FUNC_PROBE_READ_KERNEL);
    asm.load(Size::U32, R8, R10, -16);

    // The watched namespace only.
    if let Some(inode) = interest.netns {
        asm.jump32_ne(R8, inode as u32, out);
    }

    // A ring record; where there is no room, count the loss in the array map's slot 0.
    asm.load_map_fd(R1, ring.as_raw_fd());
    asm.mov_imm(R2, record.ring_len() as i32);
    asm.mov_imm(R3, 0);
    asm.call(BPF_FUNC_RINGBUF_RESERVE);
    asm.jump_ne(R0, 0, reserved);
    asm.store_imm(Size::U32, R10, -24, 0);
    asm.load_map_fd(R1, lost.as_raw_fd());
    asm.mov(R2, R10);
    asm.add_imm(R2, -24);
    asm.call(BPF_FUNC_MAP_LOOKUP_ELEM);
    asm.jump_eq(R0, 0, out);
    asm.mov_imm(R1, 1);
    asm.atomic_add(R0, 0, R1);
    asm.jump_always(out);
    asm.place(reserved);
    asm.mov(R7, R0);

    // The kernel's monotonic time and the namespace.
    asm.call(BPF_FUNC_KTIME_GET_NS);
    asm.store(Size::U64, R7, off(AT_TIME), R0);
    asm.store(Size::U32, R7, off(AT_NETNS), R8);
    asm.store_imm(Size::U32, R7, off(AT_NETNS + 4), 0);

    // The tracepoint's record after its common fields, in the widest aligned pieces; user
    // space reads it with the same layout.
    let mut at = COMMON_FIELDS;
    while at < record.size {
        let width = [8, 4, 2, 1]
            .into_iter()
            .find(|&width| at % width == 0 && at + width <= record.size)
            .expect("a width of 1 always fits");
        let size = Size::of(width).expect("a load width");
        asm.load(size, R1, R6, off(at));
        asm.store(size, R7, off(AT_RECORD + at - COMMON_FIELDS), R1);
        at += width;
    }
    // Zero the padding, which the verifier would otherwise see as unwritten.
    let mut pad = AT_RECORD + record.size - COMMON_FIELDS;
    while pad < record.ring_len() {
        let width = if pad % 8 == 0 {
            8
        } else if pad % 4 == 0 {
            4
        } else {
            1
        };
        let width = width.min(record.ring_len() - pad);
        asm.store_imm(Size::of(width).unwrap_or(Size::U8), R7, off(pad), 0);
        pad += width;
    }

    // Hand it to user space; the consumer is woken by the kernel.
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
    /// The socket's kernel address: the same through a socket's life, and the only key its
    /// first transition has (a client's port is still 0 at SYN-SENT). Never shown.
    pub sk: u64,
    pub old: TcpState,
    pub new: TcpState,
    pub src: IpAddr,
    pub sport: u16,
    pub dst: IpAddr,
    pub dport: u16,
}

/// A ring record that does not read as the layout says.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("a transition record of {0} bytes is too short")]
pub struct ShortRecord(pub usize);

impl SetStateRecord {
    /// Reads one ring record.
    pub fn decode(&self, data: &[u8]) -> Result<Transition, ShortRecord> {
        if data.len() < self.ring_len() {
            return Err(ShortRecord(data.len()));
        }
        // Every field offset is checked against the record's size when the layout is read.
        let at = |field: usize| AT_RECORD + field - COMMON_FIELDS;
        let bytes = |field: usize, len: usize| &data[at(field)..at(field) + len];
        let u16_at = |field| u16::from_ne_bytes(bytes(field, 2).try_into().expect("2"));
        let i32_at = |field| i32::from_ne_bytes(bytes(field, 4).try_into().expect("4"));
        let u64_at =
            |offset: usize| u64::from_ne_bytes(data[offset..offset + 8].try_into().expect("8"));
        let state = |value: i32| TcpState::from_kernel(u8::try_from(value).unwrap_or(0));
        let address = |v4: usize, v6: usize| -> IpAddr {
            if u16_at(self.family) == AF_INET6 {
                let octets: [u8; 16] = bytes(v6, 16).try_into().expect("16");
                IpAddr::V6(Ipv6Addr::from(octets))
            } else {
                let octets: [u8; 4] = bytes(v4, 4).try_into().expect("4");
                IpAddr::V4(Ipv4Addr::from(octets))
            }
        };
        Ok(Transition {
            at_ns: u64_at(AT_TIME),
            netns: u64::from(u32::from_ne_bytes(
                data[AT_NETNS..AT_NETNS + 4].try_into().expect("4"),
            )),
            sk: u64::from_ne_bytes(bytes(self.skaddr, 8).try_into().expect("8")),
            old: state(i32_at(self.oldstate)),
            new: state(i32_at(self.newstate)),
            src: address(self.saddr, self.saddr_v6),
            sport: u16_at(self.sport),
            dst: address(self.daddr, self.daddr_v6),
            dport: u16_at(self.dport),
        })
    }
}

/// The program loaded and attached, and the ring buffer it fills. Dropping it detaches the
/// program.
pub struct Transitions {
    record: SetStateRecord,
    ring: RingBuffer,
    lost: OwnedFd,
    _program: OwnedFd,
    _attachment: OwnedFd,
}

impl Transitions {
    /// Loads the program for `interest` and attaches it.
    pub fn open(interest: &Interest) -> Result<Transitions, Unavailable> {
        let record = read_set_state_record()?;
        let btf_bytes = fs::read("/sys/kernel/btf/vmlinux").map_err(Unavailable::NoBtf)?;
        let netns = NetnsPath::from_btf(&Btf::parse(&btf_bytes)?)?;
        let ring = RingBuffer::new("sockscope_tcp", RING_SIZE)?;
        let lost = bpf::create_map(BPF_MAP_TYPE_ARRAY, "sockscope_lost", 4, 8, 1)?;
        let program = set_state_program(
            &record,
            &netns,
            interest,
            ring.map().as_raw_fd(),
            lost.as_raw_fd(),
        )?;
        let program = bpf::load_program(
            BPF_PROG_TYPE_TRACEPOINT,
            "sockscope_tcp",
            crate::wire::bpf::as_bytes(&program),
            // The helpers that read kernel memory are offered to GPL-compatible programs only;
            // the program is ours, assembled at run time, and sockscope's MIT licence is
            // compatible with the GPL.
            "Dual MIT/GPL",
        )?;
        let attachment = bpf::attach_tracepoint(&program, record.id)?;
        Ok(Transitions {
            record,
            ring,
            lost,
            _program: program,
            _attachment: attachment,
        })
    }

    /// Every transition written so far, in the order the kernel wrote them.
    pub fn drain<E>(
        &mut self,
        mut f: impl FnMut(Result<Transition, ShortRecord>) -> Result<(), E>,
    ) -> Result<usize, E> {
        let record = &self.record;
        self.ring.drain(|data| f(record.decode(data)))
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

/// The tracepoint's layout from tracefs.
fn read_set_state_record() -> Result<SetStateRecord, Unavailable> {
    let tracefs = bpf::tracefs().map_err(Unavailable::Tracefs)?;
    let path = tracefs.join("events/sock/inet_sock_set_state/format");
    let text = fs::read_to_string(&path).map_err(Unavailable::NoTracepoint)?;
    Ok(SetStateRecord::from_format(&Format::parse(&text)?)?)
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

    fn record() -> SetStateRecord {
        SetStateRecord {
            id: 1,
            size: 72,
            skaddr: 8,
            oldstate: 16,
            newstate: 20,
            sport: 24,
            dport: 26,
            family: 28,
            protocol: 30,
            saddr: 32,
            daddr: 36,
            saddr_v6: 40,
            daddr_v6: 56,
        }
    }

    #[test]
    fn a_ring_record_decodes() {
        let layout = record();
        let mut data = vec![0u8; layout.ring_len()];
        data[0..8].copy_from_slice(&123_456_789u64.to_ne_bytes());
        data[8..12].copy_from_slice(&4026531840u32.to_ne_bytes());
        let put = |data: &mut Vec<u8>, field: usize, bytes: &[u8]| {
            let at = AT_RECORD + field - COMMON_FIELDS;
            data[at..at + bytes.len()].copy_from_slice(bytes);
        };
        put(&mut data, 8, &0xffff_8880_1234_5678u64.to_ne_bytes());
        put(&mut data, 16, &2i32.to_ne_bytes());
        put(&mut data, 20, &1i32.to_ne_bytes());
        put(&mut data, 24, &44604u16.to_ne_bytes());
        put(&mut data, 26, &55000u16.to_ne_bytes());
        put(&mut data, 28, &AF_INET.to_ne_bytes());
        put(&mut data, 30, &6u16.to_ne_bytes());
        put(&mut data, 32, &[127, 0, 0, 1]);
        put(&mut data, 36, &[127, 0, 0, 2]);
        let t = layout.decode(&data).unwrap();
        assert_eq!(t.at_ns, 123_456_789);
        assert_eq!(t.netns, 4026531840);
        assert_eq!(t.sk, 0xffff_8880_1234_5678);
        assert_eq!((t.old, t.new), (TcpState::SynSent, TcpState::Established));
        assert_eq!(t.src, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!((t.sport, t.dport), (44604, 55000));
        assert_eq!(t.dst, IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
        assert_eq!(layout.decode(&data[..40]), Err(ShortRecord(40)));
    }

    #[test]
    fn the_program_names_what_it_keeps() {
        let netns = NetnsPath {
            sock_net: 48,
            net_inum: 184,
        };
        let all = set_state_program(&record(), &netns, &Interest::default(), 3, 4).unwrap();
        let narrow = Interest {
            netns: Some(4026531840),
            ports: vec![22, 8000],
        };
        let some = set_state_program(&record(), &netns, &narrow, 3, 4).unwrap();
        // Two compares a port, three instructions for loads and the jump out, one for the
        // namespace.
        assert_eq!(some.len(), all.len() + 2 * 2 + 3 + 1);
        // The record is copied in 8-byte pieces: 64 bytes after the common fields.
        let copies = all
            .iter()
            .filter(|insn| insn.code == 0x7b && insn.dst() == R7 && insn.off.get() >= 16)
            .count();
        assert_eq!(copies, 8);
    }
}
