//! The sock_diag netlink client: one `NETLINK_SOCK_DIAG` socket, dump requests, and the replies
//! walked in place.
//!
//! A dump is read until `NLMSG_DONE`. Every receive first asks the kernel how large the next
//! datagram is (`MSG_PEEK | MSG_TRUNC`), so the buffer always fits it and no message is ever
//! truncated; the buffer is reused from one read to the next, and each message is handed to the
//! caller as a slice of it, never copied. For `-D` each datagram can also be copied, as it
//! came, to a recorder.

use std::io::{self, Write};
use std::os::fd::{AsRawFd, RawFd};

use netlink_packet_core::{
    DecodeError, Emitable, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NetlinkBuffer,
    NetlinkHeader,
};
use netlink_sys::{Socket, SocketAddr, protocols::NETLINK_SOCK_DIAG};

pub use netlink_packet_sock_diag::SOCK_DIAG_BY_FAMILY;

/// `SOCK_DESTROY` (`include/uapi/linux/sock_diag.h`): close the socket a request names.
pub const SOCK_DESTROY: u16 = 21;

/// `NLMSG_NOOP`, `NLMSG_ERROR`, `NLMSG_DONE` (uapi/linux/netlink.h).
pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NETLINK_HEADER_LEN: usize = 16;

/// The kernel fills a dump reply up to 32 KiB; start a little above so the first read fits.
const INITIAL_BUFFER: usize = 64 * 1024;

/// What can go wrong talking to the kernel.
#[derive(Debug, thiserror::Error)]
pub enum DiagError {
    #[error("cannot open a sock_diag netlink socket")]
    Open(#[source] io::Error),
    #[error("sending a sock_diag request failed")]
    Send(#[source] io::Error),
    #[error("receiving from the kernel failed")]
    Receive(#[source] io::Error),
    /// The kernel answered with `NLMSG_ERROR`, or ended the dump with an error code.
    #[error("the kernel refused the request: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { errno: i32 },
    #[error("cannot write the dump")]
    Record(#[source] io::Error),
    #[error("malformed netlink message at byte {offset} of a {len}-byte reply")]
    Malformed {
        offset: usize,
        len: usize,
        #[source]
        source: DecodeError,
    },
    #[error("malformed reply of {len} bytes from the kernel")]
    Frame {
        len: usize,
        #[source]
        source: FrameError,
    },
}

impl DiagError {
    /// The kernel has no handler for the requested family or protocol (the diag module is
    /// missing), so the caller may fall back to `/proc/net`.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, DiagError::Kernel { errno } if *errno == libc::ENOENT
            || *errno == libc::EINVAL
            || *errno == libc::EOPNOTSUPP
            || *errno == libc::EPROTONOSUPPORT
            || *errno == libc::EAFNOSUPPORT)
    }
}

/// How a dump ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DumpStatus {
    /// The kernel set `NLM_F_DUMP_INTR`: the table changed while it was being walked, so the
    /// result may be inconsistent.
    pub interrupted: bool,
}

/// A netlink socket speaking sock_diag.
pub struct DiagSocket {
    socket: Socket,
    sequence: u32,
    buffer: Vec<u8>,
    request: Vec<u8>,
    /// [`DiagSocket::get_batch`]'s datagrams, [`BATCH_DATAGRAM_LEN`] bytes each.
    batch: Vec<u8>,
    /// Where every datagram of a dump is copied as it arrives (`-D`).
    recorder: Option<Box<dyn io::Write>>,
}

impl DiagSocket {
    pub fn open() -> Result<DiagSocket, DiagError> {
        let mut socket = Socket::new(NETLINK_SOCK_DIAG).map_err(DiagError::Open)?;
        socket
            .bind(&SocketAddr::new(0, 0))
            .map_err(DiagError::Open)?;
        Ok(DiagSocket {
            socket,
            sequence: 0x5c0_0000,
            buffer: vec![0; INITIAL_BUFFER],
            request: Vec::new(),
            batch: Vec::new(),
            recorder: None,
        })
    }

    /// Copies every datagram the kernel sends for later dumps to `out`, unchanged, as ss's
    /// `-D` does: the replies and the `NLMSG_DONE` of each dump that succeeds. A refusal
    /// (`NLMSG_ERROR`) is left out, so that a request retried without its filter leaves a
    /// file that reads back whole.
    pub fn record_to(&mut self, out: Box<dyn io::Write>) {
        self.recorder = Some(out);
    }

    /// Flushes and closes what [`DiagSocket::record_to`] was given.
    pub fn finish_recording(&mut self) -> Result<(), DiagError> {
        match self.recorder.take() {
            Some(mut out) => out.flush().map_err(DiagError::Record),
            None => Ok(()),
        }
    }

    /// Sends `payload` as a dump request of type `message_type` and calls `on_message` with
    /// the payload of every reply until the dump ends.
    ///
    /// The callback's error stops the dump and is returned; whatever the kernel still had to
    /// say is discarded by the next dump, which ignores replies to earlier sequence numbers.
    pub fn dump<E, F>(
        &mut self,
        message_type: u16,
        payload: &dyn Emitable,
        on_message: F,
    ) -> Result<DumpStatus, E>
    where
        E: From<DiagError>,
        F: FnMut(&[u8]) -> Result<(), E>,
    {
        self.exchange(
            message_type,
            NLM_F_REQUEST | NLM_F_DUMP,
            payload,
            on_message,
        )
    }

    /// Sends a request and reads its replies until the kernel ends them: `NLMSG_DONE` for a
    /// dump, an acknowledgement for a request with `NLM_F_ACK`, or an error for either.
    fn exchange<E, F>(
        &mut self,
        message_type: u16,
        flags: u16,
        payload: &dyn Emitable,
        mut on_message: F,
    ) -> Result<DumpStatus, E>
    where
        E: From<DiagError>,
        F: FnMut(&[u8]) -> Result<(), E>,
    {
        self.sequence = self.sequence.wrapping_add(1);
        let sequence = self.sequence;
        self.send(message_type, flags, payload)?;
        let dump = flags & NLM_F_DUMP != 0;

        let mut status = DumpStatus::default();
        loop {
            let len = self.receive()?;
            let mut ours = false;
            let mut done = false;
            for message in messages(&self.buffer[..len]) {
                let (start, message) = message?;
                if message.sequence_number() != sequence {
                    continue;
                }
                ours = true;
                if message.flags() & NLM_F_DUMP_INTR != 0 {
                    status.interrupted = true;
                }
                match message.message_type() {
                    NLMSG_DONE => {
                        if let Some(code) = leading_i32(message.payload()).filter(|&c| c < 0) {
                            return Err(DiagError::Kernel { errno: -code }.into());
                        }
                        done = true;
                        break;
                    }
                    NLMSG_ERROR => {
                        let code = leading_i32(message.payload()).ok_or(DiagError::Malformed {
                            offset: start,
                            len,
                            source: DecodeError::from("NLMSG_ERROR without an error code"),
                        })?;
                        if code == 0 {
                            // An acknowledgement: what a request waits for, and nothing a
                            // dump ends with.
                            if dump {
                                continue;
                            }
                            return Ok(status);
                        }
                        return Err(DiagError::Kernel { errno: -code }.into());
                    }
                    _ => on_message(message.payload())?,
                }
            }
            if let (true, Some(out)) = (ours, &mut self.recorder) {
                out.write_all(&self.buffer[..len])
                    .map_err(DiagError::Record)?;
            }
            if done {
                return Ok(status);
            }
        }
    }

    /// Sends `payload` as a request of type `message_type` that names one object, and waits
    /// for the kernel's acknowledgement (or its error).
    pub fn request(&mut self, message_type: u16, payload: &dyn Emitable) -> Result<(), DiagError> {
        self.exchange(message_type, NLM_F_REQUEST | NLM_F_ACK, payload, |_| Ok(()))
            .map(|_| ())
    }

    /// Sends every one of `payloads` as a request of type `message_type` naming one object,
    /// all in one datagram, and calls `on_answer` with each request's index and the kernel's
    /// answer to it: its reply's payload, or the error it gave (`ENOENT` for an object that is
    /// not there). The kernel handles the requests in order and answers each with one message
    /// (no acknowledgement is asked for: the answer settles a request), each in a datagram of
    /// its own; they are read [`BATCH_DATAGRAMS`] to a `recvmmsg` and matched to the requests
    /// by sequence number. A batch of 64 costs a few system calls, where asking one object at
    /// a time costs three or four each.
    pub fn get_batch<E, F>(
        &mut self,
        message_type: u16,
        payloads: &[&dyn Emitable],
        mut on_answer: F,
    ) -> Result<(), E>
    where
        E: From<DiagError>,
        F: FnMut(usize, Result<&[u8], i32>) -> Result<(), E>,
    {
        if payloads.is_empty() {
            return Ok(());
        }
        let first = self.sequence.wrapping_add(1);
        self.request.clear();
        for (i, payload) in payloads.iter().enumerate() {
            let start = self.request.len();
            let total = NETLINK_HEADER_LEN + payload.buffer_len();
            self.request.resize(start + align(total), 0);
            let mut header = NetlinkHeader::default();
            header.length = total as u32;
            header.message_type = message_type;
            header.flags = NLM_F_REQUEST;
            header.sequence_number = first.wrapping_add(i as u32);
            header.emit(&mut self.request[start..start + NETLINK_HEADER_LEN]);
            payload.emit(&mut self.request[start + NETLINK_HEADER_LEN..start + total]);
        }
        self.sequence = first.wrapping_add(payloads.len() as u32 - 1);
        loop {
            match self.socket.send(&self.request, 0) {
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DiagError::Send(e).into()),
            }
        }
        self.batch.resize(BATCH_DATAGRAMS * BATCH_DATAGRAM_LEN, 0);
        let mut settled = 0;
        while settled < payloads.len() {
            let want = (payloads.len() - settled).min(BATCH_DATAGRAMS);
            let lens = receive_many(self.socket.as_raw_fd(), &mut self.batch, want)
                .map_err(DiagError::Receive)?;
            for (d, &len) in lens.iter().enumerate() {
                let datagram = &self.batch[d * BATCH_DATAGRAM_LEN..][..len];
                for message in messages(datagram) {
                    let (start, message) = message?;
                    let index = message.sequence_number().wrapping_sub(first) as usize;
                    if index >= payloads.len() {
                        continue;
                    }
                    settled += 1;
                    if message.message_type() != NLMSG_ERROR {
                        on_answer(index, Ok(message.payload()))?;
                        continue;
                    }
                    let code = leading_i32(message.payload()).ok_or(DiagError::Malformed {
                        offset: start,
                        len,
                        source: DecodeError::from("NLMSG_ERROR without an error code"),
                    })?;
                    if code != 0 {
                        on_answer(index, Err(-code))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn send(
        &mut self,
        message_type: u16,
        flags: u16,
        payload: &dyn Emitable,
    ) -> Result<(), DiagError> {
        let total = NETLINK_HEADER_LEN + payload.buffer_len();
        self.request.clear();
        self.request.resize(total, 0);
        let mut header = NetlinkHeader::default();
        header.length = total as u32;
        header.message_type = message_type;
        header.flags = flags;
        header.sequence_number = self.sequence;
        header.emit(&mut self.request[..NETLINK_HEADER_LEN]);
        payload.emit(&mut self.request[NETLINK_HEADER_LEN..]);
        loop {
            match self.socket.send(&self.request, 0) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(DiagError::Send(e)),
            }
        }
    }

    /// Reads the next datagram whole into the buffer and returns its length.
    fn receive(&mut self) -> Result<usize, DiagError> {
        let pending = retry_eintr(|| {
            self.socket
                .recv(&mut &mut [0u8; 0][..], libc::MSG_PEEK | libc::MSG_TRUNC)
        })
        .map_err(DiagError::Receive)?;
        if pending > self.buffer.len() {
            self.buffer.resize(pending.next_power_of_two(), 0);
        }
        let received = retry_eintr(|| self.socket.recv(&mut &mut self.buffer[..], 0))
            .map_err(DiagError::Receive)?;
        Ok(received.min(self.buffer.len()))
    }
}

/// How many datagrams [`DiagSocket::get_batch`] reads with one `recvmmsg`, and how long each
/// may be: one answer to one request, an `inet_diag_msg` and its attributes, is far shorter.
const BATCH_DATAGRAMS: usize = 64;
const BATCH_DATAGRAM_LEN: usize = 8192;

/// Reads up to `want` datagrams into `buffer`'s slots of [`BATCH_DATAGRAM_LEN`] bytes with one
/// `recvmmsg`, waiting for the first only, and returns their lengths. A datagram longer than
/// its slot is an error, never a silent cut.
fn receive_many(fd: RawFd, buffer: &mut [u8], want: usize) -> io::Result<Vec<usize>> {
    let want = want.min(buffer.len() / BATCH_DATAGRAM_LEN);
    let mut iovecs: Vec<libc::iovec> = buffer
        .chunks_exact_mut(BATCH_DATAGRAM_LEN)
        .take(want)
        .map(|slot| libc::iovec {
            iov_base: slot.as_mut_ptr().cast(),
            iov_len: slot.len(),
        })
        .collect();
    // SAFETY: an all-zero mmsghdr is a valid empty one; each is pointed at its iovec below.
    let mut headers: Vec<libc::mmsghdr> =
        (0..want).map(|_| unsafe { std::mem::zeroed() }).collect();
    for (header, iovec) in headers.iter_mut().zip(iovecs.iter_mut()) {
        header.msg_hdr.msg_iov = iovec;
        header.msg_hdr.msg_iovlen = 1;
    }
    let received = loop {
        // SAFETY: `headers` holds `want` headers, each pointing at one iovec over its own slot
        // of `buffer`; all of them outlive the call.
        let n = unsafe {
            libc::recvmmsg(
                fd,
                headers.as_mut_ptr(),
                want as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if n >= 0 {
            break n as usize;
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    };
    headers[..received]
        .iter()
        .map(|header| {
            if header.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a sock_diag answer longer than 8 KiB",
                ));
            }
            Ok(header.msg_len as usize)
        })
        .collect()
}

fn retry_eintr(mut f: impl FnMut() -> io::Result<usize>) -> io::Result<usize> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// `NLMSG_ALIGN` (and `NLA_ALIGN`, the same): netlink pads messages and attributes to 4 bytes.
pub const fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// Why bytes do not frame as a netlink message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("the header of the message at byte {offset} is cut short: {left} bytes follow")]
    ShortHeader { offset: usize, left: usize },
    #[error("the message at byte {offset} gives a length of {len}, less than its header")]
    BadLength { offset: usize, len: u32 },
    #[error("the message at byte {offset} is {len} bytes long, but only {left} bytes follow")]
    Truncated {
        offset: usize,
        len: usize,
        left: usize,
    },
}

/// The length and type a message header gives, read without checking either.
pub fn header_fields(header: &[u8; NETLINK_HEADER_LEN]) -> (u32, u16) {
    let len = u32::from_ne_bytes([header[0], header[1], header[2], header[3]]);
    let kind = u16::from_ne_bytes([header[4], header[5]]);
    (len, kind)
}

/// The message at `offset` of `bytes`, checked to be whole, and where the next one starts.
pub fn message_at(
    bytes: &[u8],
    offset: usize,
) -> Result<(NetlinkBuffer<&[u8]>, usize), FrameError> {
    let rest = bytes.get(offset..).unwrap_or_default();
    let Some(header) = rest.first_chunk::<NETLINK_HEADER_LEN>() else {
        return Err(FrameError::ShortHeader {
            offset,
            left: rest.len(),
        });
    };
    let (len, _) = header_fields(header);
    if (len as usize) < NETLINK_HEADER_LEN {
        return Err(FrameError::BadLength { offset, len });
    }
    let len = len as usize;
    if len > rest.len() {
        return Err(FrameError::Truncated {
            offset,
            len,
            left: rest.len(),
        });
    }
    Ok((NetlinkBuffer::new(&rest[..len]), offset + align(len)))
}

/// The netlink messages of one datagram, in order, each with its offset. A message whose
/// header does not fit, or that claims more bytes than follow, is an error, and the last item.
pub fn messages(
    datagram: &[u8],
) -> impl Iterator<Item = Result<(usize, NetlinkBuffer<&[u8]>), DiagError>> {
    let mut offset = 0;
    std::iter::from_fn(move || {
        if offset >= datagram.len() {
            return None;
        }
        let start = offset;
        Some(match message_at(datagram, start) {
            Ok((message, next)) => {
                offset = next;
                Ok((start, message))
            }
            Err(source) => {
                offset = datagram.len();
                Err(DiagError::Frame {
                    len: datagram.len(),
                    source,
                })
            }
        })
    })
}

/// The error code at the start of an `NLMSG_ERROR` or `NLMSG_DONE` payload.
pub(crate) fn leading_i32(payload: &[u8]) -> Option<i32> {
    let bytes = payload.get(..4)?;
    Some(i32::from_ne_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u16, payload: &[u8]) -> Vec<u8> {
        let len = NETLINK_HEADER_LEN + payload.len();
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&(len as u32).to_ne_bytes());
        bytes.extend_from_slice(&kind.to_ne_bytes());
        bytes.extend_from_slice(&[0; 10]);
        bytes.extend_from_slice(payload);
        bytes.resize(align(len), 0);
        bytes
    }

    /// Messages come out padded apart, with their offsets; one cut short is an error, and the
    /// last item.
    #[test]
    fn messages_of_a_datagram() {
        let mut datagram = message(SOCK_DIAG_BY_FAMILY, b"abcde");
        datagram.extend(message(NLMSG_DONE, &0i32.to_ne_bytes()));
        let whole = datagram.len();
        datagram.extend(&message(SOCK_DIAG_BY_FAMILY, b"cut")[..18]);
        let mut walk = messages(&datagram);
        let (offset, first) = walk.next().unwrap().unwrap();
        assert_eq!((offset, first.message_type()), (0, SOCK_DIAG_BY_FAMILY));
        assert_eq!(first.payload(), b"abcde");
        let (offset, second) = walk.next().unwrap().unwrap();
        assert_eq!((offset, second.message_type()), (24, NLMSG_DONE));
        match walk.next() {
            Some(Err(DiagError::Frame { len, source })) => {
                assert_eq!(len, datagram.len());
                assert_eq!(
                    source,
                    FrameError::Truncated {
                        offset: whole,
                        len: 19,
                        left: 18
                    }
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(walk.next().is_none());
    }
}
