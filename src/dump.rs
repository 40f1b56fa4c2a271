//! Dumps of the TCP table as the kernel sent it: what `-D` writes and `--from-dump` (or ss's
//! `TCPDIAG_FILE`) reads back.
//!
//! The format is ss's: the datagrams received for each inet_diag request (IPv4, then IPv6),
//! end to end and unchanged. Each is a run of netlink messages (a 16-byte `nlmsghdr`, then an
//! `inet_diag_msg` with its attributes, padded to 4 bytes), and each request's replies end with
//! `NLMSG_DONE`. There is no file header: the integers are in the byte order of the machine that
//! wrote the dump, and nothing says which namespace or when. A dump therefore reads on a machine
//! of the same byte order only, in sockscope as in ss.
//!
//! A dump is read whole and checked before anything is listed, so that a truncated or foreign
//! file is one error and never half a listing.

use std::fmt;

use crate::decode;
use crate::socket::Netid;
use crate::wire::inet::{InetDiagMsg, TCPDIAG_GETSOCK};
use crate::wire::netlink::{
    NETLINK_HEADER_LEN, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, SOCK_DIAG_BY_FAMILY, leading_i32,
};

/// Why a file is not a dump sockscope can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("it is empty, not a sock_diag dump")]
    Empty,
    #[error(
        "it is not a sock_diag dump: the message at byte {offset} has type {kind} \
         and length {len}"
    )]
    Foreign { offset: usize, kind: u16, len: u32 },
    #[error(
        "it is truncated: the message at byte {offset} is {len} bytes long, \
         but only {left} bytes follow"
    )]
    Truncated {
        offset: usize,
        len: usize,
        left: usize,
    },
    #[error("it is truncated: it ends at byte {offset} without the kernel's NLMSG_DONE")]
    Unfinished { offset: usize },
    #[error("it records an error from the kernel at byte {offset}: {}", std::io::Error::from_raw_os_error(*errno))]
    Kernel { offset: usize, errno: i32 },
    #[error("the socket at byte {offset} cannot be decoded: {message}")]
    Socket { offset: usize, message: String },
    #[error("the socket at byte {offset} has address family {family}, neither IPv4 nor IPv6")]
    Family { offset: usize, family: u8 },
}

/// A dump that has been read and checked: every message is whole, every socket decodes.
#[derive(Clone, PartialEq, Eq)]
pub struct Dump {
    bytes: Vec<u8>,
}

impl fmt::Debug for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dump({} bytes)", self.bytes.len())
    }
}

/// One netlink message of a dump, viewed in place.
struct Message<'a> {
    offset: usize,
    kind: u16,
    payload: &'a [u8],
}

impl Dump {
    /// Checks `bytes` and keeps them.
    pub fn parse(bytes: Vec<u8>) -> Result<Dump, DumpError> {
        if bytes.is_empty() {
            return Err(DumpError::Empty);
        }
        let mut done_at_end = false;
        for message in messages(&bytes) {
            let message = message?;
            done_at_end = false;
            match message.kind {
                NLMSG_DONE => done_at_end = true,
                NLMSG_ERROR => {
                    let code = leading_i32(message.payload).unwrap_or(0);
                    if code != 0 {
                        return Err(DumpError::Kernel {
                            offset: message.offset,
                            errno: -code,
                        });
                    }
                }
                SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK => check_socket(&message)?,
                _ => {}
            }
        }
        if !done_at_end {
            return Err(DumpError::Unfinished {
                offset: bytes.len(),
            });
        }
        Ok(Dump { bytes })
    }

    /// The `inet_diag_msg` of every socket, in the order the kernel sent them.
    pub fn replies(&self) -> impl Iterator<Item = &[u8]> {
        messages(&self.bytes).filter_map(|message| match message {
            Ok(m) if matches!(m.kind, SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK) => Some(m.payload),
            _ => None,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// The socket must decode as the listing will decode it.
fn check_socket(message: &Message<'_>) -> Result<(), DumpError> {
    let offset = message.offset;
    let bad = |e: netlink_packet_core::DecodeError| DumpError::Socket {
        offset,
        message: e.to_string(),
    };
    let msg = InetDiagMsg::parse(message.payload).map_err(bad)?;
    let family = msg.header.family;
    if !matches!(i32::from(family), libc::AF_INET | libc::AF_INET6) {
        return Err(DumpError::Family { offset, family });
    }
    decode::inet_socket(Netid::Tcp, &msg).map_err(bad)?;
    Ok(())
}

/// The messages of `bytes`, each checked to be whole and of a type a dump holds.
fn messages(bytes: &[u8]) -> impl Iterator<Item = Result<Message<'_>, DumpError>> {
    let mut offset = 0;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || offset >= bytes.len() {
            return None;
        }
        let result = message_at(bytes, offset);
        match &result {
            Ok((_, next)) => offset = *next,
            Err(_) => failed = true,
        }
        Some(result.map(|(message, _)| message))
    })
}

/// The message at `offset` and where the next one starts.
fn message_at(bytes: &[u8], offset: usize) -> Result<(Message<'_>, usize), DumpError> {
    let rest = &bytes[offset..];
    let Some(header) = rest.get(..NETLINK_HEADER_LEN) else {
        return Err(DumpError::Truncated {
            offset,
            len: NETLINK_HEADER_LEN,
            left: rest.len(),
        });
    };
    let len = u32::from_ne_bytes(header[0..4].try_into().expect("four bytes"));
    let kind = u16::from_ne_bytes(header[4..6].try_into().expect("two bytes"));
    let known = matches!(
        kind,
        NLMSG_NOOP | NLMSG_ERROR | NLMSG_DONE | SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK
    );
    if !known || (len as usize) < NETLINK_HEADER_LEN {
        return Err(DumpError::Foreign { offset, kind, len });
    }
    let len = len as usize;
    if len > rest.len() {
        return Err(DumpError::Truncated {
            offset,
            len,
            left: rest.len(),
        });
    }
    let next = offset + ((len + 3) & !3);
    Ok((
        Message {
            offset,
            kind,
            payload: &rest[NETLINK_HEADER_LEN..len],
        },
        next,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One netlink message: header and payload, padded.
    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = (NETLINK_HEADER_LEN + payload.len()) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&len.to_ne_bytes());
        out.extend_from_slice(&kind.to_ne_bytes());
        out.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
        out.extend_from_slice(&123456u32.to_ne_bytes());
        out.extend_from_slice(&4242u32.to_ne_bytes());
        out.extend_from_slice(payload);
        while out.len() % 4 != 0 {
            out.push(0);
        }
        out
    }

    /// An `inet_diag_msg` for 127.0.0.1:port, LISTEN, with a shutdown attribute.
    fn socket(family: u8, port: u16) -> Vec<u8> {
        let mut m = vec![family, 10, 0, 0];
        m.extend_from_slice(&port.to_be_bytes());
        m.extend_from_slice(&[0, 0]);
        let mut src = [0u8; 16];
        src[..4].copy_from_slice(&[127, 0, 0, 1]);
        m.extend_from_slice(&src);
        m.extend_from_slice(&[0; 16]);
        m.extend_from_slice(&[0; 4 + 8]); // ifindex, cookie
        m.extend_from_slice(&[0; 4]); // expires
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&5u32.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(&[5, 0, 8, 0, 0, 0, 0, 0]);
        m
    }

    fn done() -> Vec<u8> {
        message(NLMSG_DONE, &0i32.to_ne_bytes())
    }

    fn two_families() -> Vec<u8> {
        [
            message(20, &socket(2, 5000)),
            message(20, &socket(2, 5001)),
            done(),
            message(20, &socket(10, 6000)),
            done(),
        ]
        .concat()
    }

    #[test]
    fn every_reply_of_every_request_is_read() {
        let dump = Dump::parse(two_families()).unwrap();
        let ports: Vec<u16> = dump
            .replies()
            .map(|p| InetDiagMsg::parse(p).unwrap().header.id.sport.get())
            .collect();
        assert_eq!(ports, [5000, 5001, 6000]);
        let empty = Dump::parse([done(), done()].concat()).unwrap();
        assert_eq!(empty.replies().count(), 0);
    }

    #[test]
    fn a_cut_dump_is_an_error_wherever_it_is_cut() {
        let whole = two_families();
        // Cut right after the first NLMSG_DONE, it is a whole dump of IPv4 sockets.
        let first_done_end = whole.len() - message(20, &socket(10, 6000)).len() - done().len();
        assert!(Dump::parse(whole[..first_done_end].to_vec()).is_ok());
        for end in (1..whole.len()).filter(|&end| end != first_done_end) {
            let err = Dump::parse(whole[..end].to_vec()).unwrap_err();
            assert!(
                matches!(
                    err,
                    DumpError::Truncated { .. } | DumpError::Unfinished { .. }
                ),
                "cut at {end}: {err}"
            );
        }
        assert_eq!(Dump::parse(Vec::new()), Err(DumpError::Empty));
    }

    #[test]
    fn foreign_files_are_refused() {
        let text = b"hello world, this is not a dump\n".to_vec();
        let err = Dump::parse(text).unwrap_err();
        assert!(matches!(err, DumpError::Foreign { offset: 0, .. }), "{err}");
        let zero = message(20, &socket(2, 1)).iter().map(|_| 0).collect();
        assert!(matches!(
            Dump::parse(zero),
            Err(DumpError::Foreign { offset: 0, .. })
        ));
        let refused = [message(NLMSG_ERROR, &(-22i32).to_ne_bytes()), done()].concat();
        assert_eq!(
            Dump::parse(refused),
            Err(DumpError::Kernel {
                offset: 0,
                errno: 22
            })
        );
        let unix = [message(20, &socket(1, 1)), done()].concat();
        assert_eq!(
            Dump::parse(unix),
            Err(DumpError::Family {
                offset: 0,
                family: 1
            })
        );
        let short = [message(20, &[2, 10, 0, 0]), done()].concat();
        assert!(matches!(
            Dump::parse(short),
            Err(DumpError::Socket { offset: 0, .. })
        ));
    }

    /// Whatever the bytes, reading never panics, and what it accepts decodes.
    #[test]
    fn mangled_dumps_never_panic() {
        let whole = two_families();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2000 {
            let mut bytes = whole.clone();
            for _ in 0..1 + next() % 4 {
                let at = (next() as usize) % bytes.len();
                bytes[at] = next() as u8;
            }
            if let Ok(dump) = Dump::parse(bytes) {
                for payload in dump.replies() {
                    let msg = InetDiagMsg::parse(payload).unwrap();
                    decode::inet_socket(Netid::Tcp, &msg).unwrap();
                }
            }
        }
    }
}
