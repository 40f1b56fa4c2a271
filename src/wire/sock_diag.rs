//! What every sock_diag family shares (`include/uapi/linux/sock_diag.h`, `include/net/sock.h`):
//! the socket's memory counts and its shutdown bits, decoded once here so that no renderer
//! reads them from bytes.

use netlink_packet_core::DecodeError;

pub const SK_MEMINFO_RMEM_ALLOC: usize = 0;
pub const SK_MEMINFO_RCVBUF: usize = 1;
pub const SK_MEMINFO_WMEM_ALLOC: usize = 2;
pub const SK_MEMINFO_SNDBUF: usize = 3;
pub const SK_MEMINFO_FWD_ALLOC: usize = 4;
pub const SK_MEMINFO_WMEM_QUEUED: usize = 5;
pub const SK_MEMINFO_OPTMEM: usize = 6;
pub const SK_MEMINFO_BACKLOG: usize = 7;
pub const SK_MEMINFO_DROPS: usize = 8;
pub const SK_MEMINFO_VARS: usize = 9;

/// `sk_shutdown` bits (`include/net/sock.h`).
pub const RCV_SHUTDOWN: u8 = 1;
pub const SEND_SHUTDOWN: u8 = 2;

/// `u32 [SK_MEMINFO_VARS]`, native-endian, indexed by `SK_MEMINFO_*`. Older kernels send
/// fewer; `len` says how many are real, and the rest read as 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkMemInfo {
    pub values: [u32; SK_MEMINFO_VARS],
    pub len: u8,
}

impl SkMemInfo {
    /// The counts from the attribute's value. A newer kernel's extra counts are left out; a
    /// trailing partial count is an error.
    pub fn parse(bytes: &[u8]) -> Result<SkMemInfo, DecodeError> {
        if bytes.len() % 4 != 0 {
            return Err(DecodeError::from(format!(
                "SK_MEMINFO has {} bytes, not a whole number of u32",
                bytes.len()
            )));
        }
        let mut mem = SkMemInfo::default();
        for (value, chunk) in mem.values.iter_mut().zip(bytes.chunks_exact(4)) {
            *value = u32::from_ne_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            mem.len += 1;
        }
        Ok(mem)
    }

    pub fn buffer_len(&self) -> usize {
        usize::from(self.len) * 4
    }

    /// Writes the counts back as the kernel sent them.
    pub fn emit(&self, buffer: &mut [u8]) {
        for (value, chunk) in self.values[..usize::from(self.len)]
            .iter()
            .zip(buffer.chunks_exact_mut(4))
        {
            chunk.copy_from_slice(&value.to_ne_bytes());
        }
    }

    pub fn get(&self, index: usize) -> u32 {
        self.values[index]
    }
}

/// A socket's `sk_shutdown`: which directions `shutdown(2)` closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shutdown(pub u8);

impl Shutdown {
    pub fn parse(bytes: &[u8]) -> Result<Shutdown, DecodeError> {
        bytes
            .first()
            .map(|&bits| Shutdown(bits))
            .ok_or_else(|| DecodeError::from("empty shutdown attribute"))
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[0] = self.0;
    }

    /// The socket receives no more.
    pub fn receive(&self) -> bool {
        self.0 & RCV_SHUTDOWN != 0
    }

    /// The socket sends no more.
    pub fn send(&self) -> bool {
        self.0 & SEND_SHUTDOWN != 0
    }
}

/// A list of native-endian `u32` the kernel sends end to end (unix_diag's pending inodes,
/// netlink_diag's group bitmap), borrowed from the message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct U32List<'a> {
    bytes: &'a [u8],
}

impl<'a> U32List<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<U32List<'a>, DecodeError> {
        if bytes.len() % 4 != 0 {
            return Err(DecodeError::from(format!(
                "a u32 list of {} bytes",
                bytes.len()
            )));
        }
        Ok(U32List { bytes })
    }

    pub fn len(&self) -> usize {
        self.bytes.len() / 4
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        self.bytes
            .chunks_exact(4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn buffer_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.bytes.len()].copy_from_slice(self.bytes);
    }

    /// The bytes it was parsed from, to keep a copy.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ne(values: &[u32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    #[test]
    fn skmeminfo_round_trips() {
        for count in [9, 8, 0] {
            let bytes = ne(&[1, 212992, 3, 4, 5, 6, 7, 8, 9][..count]);
            let mem = SkMemInfo::parse(&bytes).unwrap();
            assert_eq!(usize::from(mem.len), count);
            let mut out = vec![0; mem.buffer_len()];
            mem.emit(&mut out);
            assert_eq!(out, bytes);
        }
        assert_eq!(
            SkMemInfo::parse(&ne(&[1, 2]))
                .unwrap()
                .get(SK_MEMINFO_RCVBUF),
            2
        );
        assert!(SkMemInfo::parse(&[1, 2, 3]).is_err());
    }

    #[test]
    fn shutdown_round_trips() {
        for bits in 0..4 {
            let shutdown = Shutdown::parse(&[bits]).unwrap();
            assert_eq!(shutdown.receive(), bits & 1 != 0);
            assert_eq!(shutdown.send(), bits & 2 != 0);
            let mut out = [0];
            shutdown.emit(&mut out);
            assert_eq!(out, [bits]);
        }
        assert!(Shutdown::parse(&[]).is_err());
    }

    #[test]
    fn u32_lists_round_trip() {
        let bytes = ne(&[7, 0, 0xffff_ffff]);
        let list = U32List::parse(&bytes).unwrap();
        assert_eq!(list.iter().collect::<Vec<_>>(), [7, 0, 0xffff_ffff]);
        let mut out = vec![0; list.buffer_len()];
        list.emit(&mut out);
        assert_eq!(out, bytes);
        assert!(U32List::parse(&bytes[..5]).is_err());
    }
}
