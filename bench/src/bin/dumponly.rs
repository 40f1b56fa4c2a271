//! `dumponly`: the bare sock_diag dump that `ss -tan` asks for, and nothing else; the floor
//! the benchmarks compare sockscope with.
//!
//! It sends the requests ss 6.1 sends for `-tan` (one SOCK_DIAG_BY_FAMILY dump per family,
//! AF_INET then AF_INET6, protocol TCP, every state, no extensions, no attributes), reads
//! every reply into one reused 64 KiB buffer until NLMSG_DONE, looks at nothing but the
//! netlink headers, and prints the number of messages on stderr. Whatever sockscope or ss do
//! beyond this is decoding, filtering and printing.
//!
//! `dumponly --one-walk` sends instead the one request sockscope sends for `-tan`: the older
//! TCPDIAG_GETSOCK, which the kernel answers with both IP versions in one walk of its
//! tables.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::Duration;

use sockscope_bench::cvt;

/// From include/uapi/linux/sock_diag.h and inet_diag.h.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const TCPDIAG_GETSOCK: u16 = 18;
/// Bits 0 to 11: every TCP state ss knows, what ss sends for `-a`.
const ALL_STATES: u32 = 0xfff;
/// ss numbers its requests with this; kept so that a trace of both looks the same.
const SEQUENCE: u32 = 123456;
const BUFFER_SIZE: usize = 64 * 1024;
/// A dump that stalls this long is an error rather than a hang.
const RECEIVE_TIMEOUT: Duration = Duration::from_secs(30);

/// `struct inet_diag_sockid` from include/uapi/linux/inet_diag.h. Ports and addresses are
/// big-endian; a dump leaves them all zero.
#[repr(C)]
#[derive(Default)]
struct InetDiagSockId {
    idiag_sport: u16,
    idiag_dport: u16,
    idiag_src: [u32; 4],
    idiag_dst: [u32; 4],
    idiag_if: u32,
    idiag_cookie: [u32; 2],
}

/// `struct inet_diag_req_v2` from include/uapi/linux/inet_diag.h.
#[repr(C)]
#[derive(Default)]
struct InetDiagReqV2 {
    sdiag_family: u8,
    sdiag_protocol: u8,
    idiag_ext: u8,
    pad: u8,
    idiag_states: u32,
    id: InetDiagSockId,
}

/// `struct inet_diag_req`, the older request (TCPDIAG_GETSOCK); the kernel ignores its
/// family and answers with every IP version.
#[repr(C)]
#[derive(Default)]
struct InetDiagReq {
    idiag_family: u8,
    idiag_src_len: u8,
    idiag_dst_len: u8,
    idiag_ext: u8,
    id: InetDiagSockId,
    idiag_states: u32,
    idiag_dbs: u32,
}

/// One netlink message: the header and the request, with no attributes.
#[repr(C)]
struct Request<Body> {
    header: libc::nlmsghdr,
    body: Body,
}

// The layout the kernel expects, with no padding anywhere: 16 + 56 bytes.
const _: () = assert!(std::mem::size_of::<InetDiagSockId>() == 48);
const _: () = assert!(std::mem::size_of::<InetDiagReqV2>() == 56);
const _: () = assert!(std::mem::size_of::<Request<InetDiagReqV2>>() == 72);
const _: () = assert!(std::mem::size_of::<Request<InetDiagReq>>() == 76);

impl Request<InetDiagReqV2> {
    fn dump(family: u8) -> Request<InetDiagReqV2> {
        Request {
            header: libc::nlmsghdr {
                nlmsg_len: std::mem::size_of::<Request<InetDiagReqV2>>() as u32,
                nlmsg_type: SOCK_DIAG_BY_FAMILY,
                nlmsg_flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
                nlmsg_seq: SEQUENCE,
                nlmsg_pid: 0,
            },
            body: InetDiagReqV2 {
                sdiag_family: family,
                sdiag_protocol: libc::IPPROTO_TCP as u8,
                idiag_states: ALL_STATES,
                ..InetDiagReqV2::default()
            },
        }
    }
}

impl Request<InetDiagReq> {
    fn one_walk() -> Request<InetDiagReq> {
        Request {
            header: libc::nlmsghdr {
                nlmsg_len: std::mem::size_of::<Request<InetDiagReq>>() as u32,
                nlmsg_type: TCPDIAG_GETSOCK,
                nlmsg_flags: (libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16,
                nlmsg_seq: SEQUENCE,
                nlmsg_pid: 0,
            },
            body: InetDiagReq {
                idiag_states: ALL_STATES,
                ..InetDiagReq::default()
            },
        }
    }
}

impl<Body> Request<Body> {
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: both request types are repr(C), made only of integers, and have no padding
        // (their sizes are checked above), so all of their bytes are initialised; the slice
        // borrows `self`.
        unsafe {
            std::slice::from_raw_parts(
                (self as *const Request<Body>).cast::<u8>(),
                std::mem::size_of::<Request<Body>>(),
            )
        }
    }
}

fn main() -> ExitCode {
    let one_walk = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--one-walk") => true,
        Some(other) => {
            eprintln!("dumponly: unknown argument {other}; usage: dumponly [--one-walk]");
            return ExitCode::FAILURE;
        }
    };
    match dump_all(one_walk) {
        Ok(messages) => {
            eprintln!("{messages} messages");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("dumponly: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dump_all(one_walk: bool) -> io::Result<u64> {
    // SAFETY: socket() takes integers and returns a new descriptor or -1.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    })?;
    // SAFETY: the descriptor was just created and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let timeout = libc::timeval {
        tv_sec: RECEIVE_TIMEOUT.as_secs() as libc::time_t,
        tv_usec: 0,
    };
    // SAFETY: `timeout` is a timeval that outlives the call, and its size is passed with it.
    cvt(unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&timeout as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    })?;

    let mut buffer = vec![0u8; BUFFER_SIZE];
    let mut messages = 0;
    if one_walk {
        send(&socket, Request::one_walk().as_bytes())?;
        messages += receive_dump(&socket, &mut buffer)?;
        return Ok(messages);
    }
    for family in [libc::AF_INET, libc::AF_INET6] {
        send(&socket, Request::dump(family as u8).as_bytes())?;
        messages += receive_dump(&socket, &mut buffer)?;
    }
    Ok(messages)
}

fn send(socket: &OwnedFd, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: `bytes` is valid for its length; an unconnected netlink socket sends to the
    // kernel.
    let sent = cvt(unsafe {
        libc::send(socket.as_raw_fd(), bytes.as_ptr().cast(), bytes.len(), 0) as libc::c_int
    })?;
    if sent as usize != bytes.len() {
        return Err(io::Error::other("short send"));
    }
    Ok(())
}

/// Reads replies until NLMSG_DONE; returns how many messages came before it.
fn receive_dump(socket: &OwnedFd, buffer: &mut [u8]) -> io::Result<u64> {
    const HEADER: usize = std::mem::size_of::<libc::nlmsghdr>();
    let mut messages = 0;
    loop {
        // SAFETY: `buffer` is valid for writes of its whole length.
        let received = unsafe {
            libc::recv(
                socket.as_raw_fd(),
                buffer.as_mut_ptr().cast(),
                buffer.len(),
                0,
            )
        };
        let received = match received {
            -1 => return Err(io::Error::last_os_error()),
            0 => return Err(io::Error::other("the kernel closed the dump")),
            n => n as usize,
        };
        let mut offset = 0;
        while offset + HEADER <= received {
            let field = |at: usize| &buffer[offset + at..offset + at + 4];
            let length = u32::from_ne_bytes(field(0).try_into().unwrap()) as usize;
            let kind = u16::from_ne_bytes(field(4)[..2].try_into().unwrap());
            if length < HEADER || offset + length > received {
                return Err(io::Error::other(format!("bad message length {length}")));
            }
            match kind as libc::c_int {
                libc::NLMSG_DONE => return Ok(messages),
                libc::NLMSG_ERROR if length >= HEADER + 4 => {
                    let errno = i32::from_ne_bytes(field(HEADER).try_into().unwrap());
                    return Err(io::Error::from_raw_os_error(-errno));
                }
                _ => messages += 1,
            }
            // Messages are 4-byte aligned (NLMSG_ALIGN).
            offset += (length + 3) & !3;
        }
    }
}
