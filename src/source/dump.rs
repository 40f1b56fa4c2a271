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
//! A dump is read one message at a time ([`DumpReader`]), whatever its size: a file that is not
//! a dump is refused at its first header, and a large one is read in the memory of one message.
//! A file that can be read twice is checked whole before anything is listed, so that a
//! truncated dump is one error and never half a listing; a pipe is listed as it comes, and an
//! error ends the listing where it is found, as in ss.

use std::io::{self, Read};

use crate::socket::{Netid, Socket};
use crate::source::decode;
use crate::wire::inet::{InetDiagMsg, TCPDIAG_GETSOCK};
use crate::wire::netlink::{
    self, FrameError, NETLINK_HEADER_LEN, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, SOCK_DIAG_BY_FAMILY,
    leading_i32,
};

/// The longest message a dump may hold. The kernel sends a socket in well under a page; a
/// header claiming more is not a dump, and reading it would only fill memory.
const MAX_MESSAGE: usize = 1 << 20;

/// Why a file is not a dump sockscope can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("it is empty, not a sock_diag dump")]
    Empty,
    #[error(
        "it is not a sock_diag dump: the message at byte {offset} has type {kind} \
         and length {len}"
    )]
    Foreign { offset: u64, kind: u16, len: u32 },
    #[error(
        "it is truncated: the message at byte {offset} is {len} bytes long, \
         but only {left} bytes follow"
    )]
    Truncated {
        offset: u64,
        len: usize,
        left: usize,
    },
    #[error("it is truncated: it ends at byte {offset} without the kernel's NLMSG_DONE")]
    Unfinished { offset: u64 },
    #[error("it records an error from the kernel at byte {offset}: {}", std::io::Error::from_raw_os_error(*errno))]
    Kernel { offset: u64, errno: i32 },
    #[error("the socket at byte {offset} cannot be decoded: {message}")]
    Socket { offset: u64, message: String },
    #[error("the socket at byte {offset} has address family {family}, neither IPv4 nor IPv6")]
    Family { offset: u64, family: u8 },
    #[error("reading byte {offset} failed: {message}")]
    Read { offset: u64, message: String },
}

/// How much of a dump is read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Extent {
    /// All of it: the replies to every request, both IP versions (`--from-dump`).
    #[default]
    Whole,
    /// Up to its first `NLMSG_DONE`, as ss reads `TCPDIAG_FILE`: of a dump of both IP
    /// versions, the IPv4 sockets only. What follows is neither read nor checked.
    FirstRequest,
}

/// Reads a dump one netlink message at a time, holding only the current one.
pub struct DumpReader<R> {
    input: R,
    extent: Extent,
    /// Whether the extent's last `NLMSG_DONE` has been read: nothing more is.
    ended: bool,
    /// The current message, header included.
    message: Vec<u8>,
    /// Where the current message starts, and the next one.
    offset: u64,
    next: u64,
    /// Whether the last message read was an `NLMSG_DONE`: only there may the input end.
    done_at_end: bool,
    failed: bool,
}

impl<R: Read> DumpReader<R> {
    pub fn new(input: R) -> DumpReader<R> {
        DumpReader::with_extent(input, Extent::Whole)
    }

    pub fn with_extent(input: R, extent: Extent) -> DumpReader<R> {
        DumpReader {
            input,
            extent,
            ended: false,
            message: Vec::new(),
            offset: 0,
            next: 0,
            done_at_end: false,
            failed: false,
        }
    }

    /// The next socket of the dump, decoded in place, or `None` at its end. After an error,
    /// there is nothing more.
    pub fn next_socket(&mut self) -> Result<Option<Socket<'_>>, DumpError> {
        if self.failed || self.ended {
            return Ok(None);
        }
        let found = self.next_reply();
        self.failed = found.is_err();
        if found? {
            let offset = self.offset;
            let payload = &self.message[NETLINK_HEADER_LEN..];
            let decoded = socket(offset, payload);
            self.failed = decoded.is_err();
            return decoded.map(Some);
        }
        Ok(None)
    }

    /// Reads up to the next socket: true when the message read is one.
    fn next_reply(&mut self) -> Result<bool, DumpError> {
        loop {
            self.offset = self.next;
            let offset = self.offset;
            let mut header = [0u8; NETLINK_HEADER_LEN];
            let got = self.read_up_to(&mut header)?;
            match got {
                0 if offset == 0 => return Err(DumpError::Empty),
                0 if self.done_at_end => return Ok(false),
                0 => return Err(DumpError::Unfinished { offset }),
                NETLINK_HEADER_LEN => {}
                left => {
                    return Err(frame_error(
                        FrameError::ShortHeader { offset: 0, left },
                        offset,
                    ));
                }
            }
            let (len, kind) = netlink::header_fields(&header);
            let known = matches!(
                kind,
                NLMSG_NOOP | NLMSG_ERROR | NLMSG_DONE | SOCK_DIAG_BY_FAMILY | TCPDIAG_GETSOCK
            );
            if !known || (len as usize) < NETLINK_HEADER_LEN || len as usize > MAX_MESSAGE {
                return Err(DumpError::Foreign { offset, kind, len });
            }
            // The body grows as it arrives, so a header that lies about its length costs
            // only what follows it.
            let len = len as usize;
            self.message.clear();
            self.message.extend_from_slice(&header);
            let body = (&mut self.input)
                .take((netlink::align(len) - NETLINK_HEADER_LEN) as u64)
                .read_to_end(&mut self.message)
                .map_err(|e| read_error(offset, &e))?;
            // The last message may go without its padding.
            self.next = offset + (NETLINK_HEADER_LEN + body) as u64;
            if let Err(e) = netlink::message_at(&self.message, 0) {
                return Err(frame_error(e, offset));
            }
            self.message.truncate(len);
            self.done_at_end = false;
            match kind {
                NLMSG_DONE if self.extent == Extent::FirstRequest => {
                    self.ended = true;
                    return Ok(false);
                }
                NLMSG_DONE => self.done_at_end = true,
                NLMSG_ERROR => {
                    let code = leading_i32(&self.message[NETLINK_HEADER_LEN..]).unwrap_or(0);
                    if code != 0 {
                        return Err(DumpError::Kernel {
                            offset,
                            errno: -code,
                        });
                    }
                }
                NLMSG_NOOP => {}
                _ => return Ok(true),
            }
        }
    }

    /// Fills `buffer` unless the input ends first; how much it read.
    fn read_up_to(&mut self, buffer: &mut [u8]) -> Result<usize, DumpError> {
        let mut filled = 0;
        while filled < buffer.len() {
            match self.input.read(&mut buffer[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(read_error(self.offset + filled as u64, &e)),
            }
        }
        Ok(filled)
    }
}

/// Reads a whole dump, checking every message, and counts its sockets.
pub fn check<R: Read>(input: R) -> Result<u64, DumpError> {
    check_extent(input, Extent::Whole)
}

/// Reads the `extent` of a dump, checking every message in it, and counts its sockets.
pub fn check_extent<R: Read>(input: R, extent: Extent) -> Result<u64, DumpError> {
    let mut reader = DumpReader::with_extent(input, extent);
    let mut count = 0;
    while reader.next_socket()?.is_some() {
        count += 1;
    }
    Ok(count)
}

fn read_error(offset: u64, e: &io::Error) -> DumpError {
    DumpError::Read {
        offset,
        message: e.to_string(),
    }
}

/// A framing error of the message at `base`, in the dump's terms.
fn frame_error(e: FrameError, base: u64) -> DumpError {
    match e {
        FrameError::ShortHeader { left, .. } => DumpError::Truncated {
            offset: base,
            len: NETLINK_HEADER_LEN,
            left,
        },
        FrameError::BadLength { len, .. } => DumpError::Foreign {
            offset: base,
            kind: 0,
            len,
        },
        FrameError::Truncated { len, left, .. } => DumpError::Truncated {
            offset: base,
            len,
            left,
        },
    }
}

/// The socket must decode as a live listing decodes it, and be IPv4 or IPv6.
fn socket(offset: u64, payload: &[u8]) -> Result<Socket<'_>, DumpError> {
    let bad = |e: netlink_packet_core::DecodeError| DumpError::Socket {
        offset,
        message: e.to_string(),
    };
    let msg = InetDiagMsg::parse(payload).map_err(bad)?;
    let family = msg.header.family;
    if !matches!(i32::from(family), libc::AF_INET | libc::AF_INET6) {
        return Err(DumpError::Family { offset, family });
    }
    decode::inet_socket(Netid::Tcp, &msg).map_err(bad)
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

    /// The local ports of the dump's sockets, or its error.
    fn ports(bytes: &[u8]) -> Result<Vec<u16>, DumpError> {
        let mut reader = DumpReader::new(bytes);
        let mut ports = Vec::new();
        while let Some(socket) = reader.next_socket()? {
            let crate::socket::Endpoints::Inet(ends) = socket.endpoints else {
                panic!("a TCP socket");
            };
            ports.push(ends.local.port());
        }
        Ok(ports)
    }

    #[test]
    fn every_reply_of_every_request_is_read() {
        assert_eq!(ports(&two_families()), Ok(vec![5000, 5001, 6000]));
        assert_eq!(ports(&[done(), done()].concat()), Ok(vec![]));
        assert_eq!(check(&two_families()[..]), Ok(3));
    }

    /// ss's reading (`TCPDIAG_FILE`) ends at the first `NLMSG_DONE`, and what follows it,
    /// however bad, is not read.
    #[test]
    fn the_first_request_ends_at_its_done() {
        let first = |bytes: &[u8]| {
            let mut reader = DumpReader::with_extent(bytes, Extent::FirstRequest);
            let mut count = 0;
            while reader.next_socket()?.is_some() {
                count += 1;
            }
            Ok::<_, DumpError>(count)
        };
        assert_eq!(first(&two_families()), Ok(2));
        let junk_after = [&two_families()[..], b"not a dump"].concat();
        assert_eq!(first(&junk_after), Ok(2));
        assert_eq!(check_extent(&junk_after[..], Extent::FirstRequest), Ok(2));
        assert!(check(&junk_after[..]).is_err());
        assert_eq!(first(&two_families()[..40]).ok(), None);
    }

    #[test]
    fn a_cut_dump_is_an_error_wherever_it_is_cut() {
        let whole = two_families();
        // Cut right after the first NLMSG_DONE, it is a whole dump of IPv4 sockets.
        let first_done_end = whole.len() - message(20, &socket(10, 6000)).len() - done().len();
        assert_eq!(ports(&whole[..first_done_end]), Ok(vec![5000, 5001]));
        for end in (1..whole.len()).filter(|&end| end != first_done_end) {
            let err = ports(&whole[..end]).unwrap_err();
            assert!(
                matches!(
                    err,
                    DumpError::Truncated { .. } | DumpError::Unfinished { .. }
                ),
                "cut at {end}: {err}"
            );
        }
        assert_eq!(ports(&[]), Err(DumpError::Empty));
    }

    #[test]
    fn foreign_files_are_refused() {
        let err = ports(b"hello world, this is not a dump\n").unwrap_err();
        assert!(matches!(err, DumpError::Foreign { offset: 0, .. }), "{err}");
        let zero: Vec<u8> = message(20, &socket(2, 1)).iter().map(|_| 0).collect();
        assert!(matches!(
            ports(&zero),
            Err(DumpError::Foreign { offset: 0, .. })
        ));
        let refused = [message(NLMSG_ERROR, &(-22i32).to_ne_bytes()), done()].concat();
        assert_eq!(
            ports(&refused),
            Err(DumpError::Kernel {
                offset: 0,
                errno: 22
            })
        );
        let unix = [message(20, &socket(1, 1)), done()].concat();
        assert_eq!(
            ports(&unix),
            Err(DumpError::Family {
                offset: 0,
                family: 1
            })
        );
        let short = [message(20, &[2, 10, 0, 0]), done()].concat();
        assert!(matches!(
            ports(&short),
            Err(DumpError::Socket { offset: 0, .. })
        ));
        // A header claiming more than any socket takes is refused before it is read.
        let mut huge = message(20, &socket(2, 1));
        huge[..4].copy_from_slice(&u32::MAX.to_ne_bytes());
        assert!(matches!(
            ports(&huge),
            Err(DumpError::Foreign { offset: 0, .. })
        ));
    }

    /// An endless input that is not a dump is refused at its first header.
    #[test]
    fn endless_junk_is_refused_at_once() {
        for byte in [0u8, b'y', 0xff] {
            let err = ports_of(std::io::repeat(byte)).unwrap_err();
            assert!(matches!(err, DumpError::Foreign { offset: 0, .. }), "{err}");
        }
        let yes = b"y\n".repeat(64);
        assert!(matches!(
            ports_of(&yes[..]),
            Err(DumpError::Foreign { offset: 0, .. })
        ));
    }

    fn ports_of(input: impl Read) -> Result<u64, DumpError> {
        check(input)
    }

    /// Whatever the bytes, reading never panics: a mangled dump gives its sockets up to an
    /// error, or all of them.
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
            let _ = ports(&bytes);
        }
    }
}
