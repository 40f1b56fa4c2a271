//! unix_diag (`include/uapi/linux/unix_diag.h`): the dump request and a zero-copy view of each
//! reply.
//!
//! The request is netlink-packet-sock-diag's `UnixRequest`; its reply type copies the name and
//! the pending-connection list into owned values, so the reply is read here in place.

use netlink_packet_core::DecodeError;
use netlink_packet_sock_diag::unix::{ShowFlags, StateFlags, UnixRequest};
use zerocopy::byteorder::{NativeEndian, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::sock_diag::{Shutdown, SkMemInfo};
use super::{DiagMsg, struct_value, u32_value};

pub use netlink_packet_sock_diag::{
    UDIAG_SHOW_ICONS, UDIAG_SHOW_MEMINFO, UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_RQLEN,
    UDIAG_SHOW_VFS,
};

/// `UDIAG_SHOW_UID` (Linux 5.3), which netlink-packet-sock-diag does not name.
pub const UDIAG_SHOW_UID: u32 = 1 << UNIX_DIAG_UID;

pub const UNIX_DIAG_NAME: u16 = 0;
pub const UNIX_DIAG_VFS: u16 = 1;
pub const UNIX_DIAG_PEER: u16 = 2;
pub const UNIX_DIAG_ICONS: u16 = 3;
pub const UNIX_DIAG_RQLEN: u16 = 4;
pub const UNIX_DIAG_MEMINFO: u16 = 5;
pub const UNIX_DIAG_SHUTDOWN: u16 = 6;
pub const UNIX_DIAG_UID: u16 = 7;

/// A dump request for every unix socket in `states` (a kernel state mask), with the attributes
/// named by `show` (`UDIAG_SHOW_*`).
pub fn dump_request(states: u32, show: u32) -> UnixRequest {
    UnixRequest {
        state_flags: StateFlags::from_bits_retain(states),
        inode: 0,
        show_flags: ShowFlags::from_bits_retain(show),
        cookie: [0xff; 8],
    }
}

/// `struct unix_diag_msg`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct UnixDiagMsgHeader {
    pub family: u8,
    pub kind: u8,
    pub state: u8,
    pub pad: u8,
    pub inode: U32<NativeEndian>,
    pub cookie: [U32<NativeEndian>; 2],
}

impl UnixDiagMsgHeader {
    pub fn cookie(&self) -> u64 {
        u64::from(self.cookie[1].get()) << 32 | u64::from(self.cookie[0].get())
    }
}

/// `struct unix_diag_rqlen`: for a listener the accept queue and backlog, otherwise the
/// receive and send queues.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct UnixDiagRqlen {
    pub rqueue: U32<NativeEndian>,
    pub wqueue: U32<NativeEndian>,
}

/// `struct unix_diag_vfs`: the inode and device of a socket's filesystem name.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct UnixDiagVfs {
    pub inode: U32<NativeEndian>,
    pub dev: U32<NativeEndian>,
}

/// `MINORBITS` (`include/linux/kdev_t.h`): the kernel's internal device number has the minor in
/// its low 20 bits and the major above.
pub const MINORBITS: u32 = 20;

impl UnixDiagVfs {
    /// The device's major number, from the kernel's internal encoding.
    pub fn major(&self) -> u32 {
        self.dev.get() >> MINORBITS
    }

    pub fn minor(&self) -> u32 {
        self.dev.get() & ((1 << MINORBITS) - 1)
    }

    /// What glibc's major(3) and minor(3) make of the number, which expect the user-space
    /// encoding (major in bits 8 to 19, minor in the low 8 and from bit 20): not the device,
    /// but what tools that pass the kernel's number to them print.
    pub fn user_space_split(&self) -> (u32, u32) {
        let dev = self.dev.get();
        ((dev >> 8) & 0xfff, (dev & 0xff) | ((dev >> 12) & !0xff))
    }
}

/// One reply of a dump, viewed in place.
pub type UnixDiagMsg<'a> = DiagMsg<'a, UnixDiagMsgHeader>;

impl<'a> UnixDiagMsg<'a> {
    pub fn attributes(&self) -> impl Iterator<Item = Result<UnixDiagAttr<'a>, DecodeError>> + 'a {
        self.raw_attributes()
            .map(|attribute| attribute.and_then(|(kind, value)| UnixDiagAttr::parse(kind, value)))
    }
}

/// A reply attribute, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnixDiagAttr<'a> {
    /// The raw `sun_path`: a leading NUL marks an abstract name.
    Name(&'a [u8]),
    Vfs(&'a UnixDiagVfs),
    Peer(u32),
    /// The inodes of connections waiting to be accepted (`u32` each).
    Icons(UnixDiagIcons<'a>),
    Rqlen(&'a UnixDiagRqlen),
    MemInfo(SkMemInfo),
    Shutdown(Shutdown),
    Uid(u32),
    Other {
        kind: u16,
        value: &'a [u8],
    },
}

impl<'a> UnixDiagAttr<'a> {
    pub fn parse(kind: u16, value: &'a [u8]) -> Result<UnixDiagAttr<'a>, DecodeError> {
        Ok(match kind {
            UNIX_DIAG_NAME => UnixDiagAttr::Name(value),
            UNIX_DIAG_VFS => UnixDiagAttr::Vfs(struct_value(kind, value)?),
            UNIX_DIAG_PEER => UnixDiagAttr::Peer(u32_value(kind, value)?),
            UNIX_DIAG_ICONS => UnixDiagAttr::Icons(UnixDiagIcons::parse(value)?),
            UNIX_DIAG_RQLEN => UnixDiagAttr::Rqlen(struct_value(kind, value)?),
            UNIX_DIAG_MEMINFO => UnixDiagAttr::MemInfo(SkMemInfo::parse(value)?),
            UNIX_DIAG_SHUTDOWN => UnixDiagAttr::Shutdown(Shutdown::parse(value)?),
            UNIX_DIAG_UID => UnixDiagAttr::Uid(u32_value(kind, value)?),
            _ => UnixDiagAttr::Other { kind, value },
        })
    }
}

/// `UNIX_DIAG_ICONS`: the inodes of the connections waiting on a listener, borrowed from the
/// message.
pub type UnixDiagIcons<'a> = super::sock_diag::U32List<'a>;

impl netlink_packet_core::Nla for UnixDiagAttr<'_> {
    fn value_len(&self) -> usize {
        match self {
            UnixDiagAttr::Name(v) | UnixDiagAttr::Other { value: v, .. } => v.len(),
            UnixDiagAttr::Vfs(_) => std::mem::size_of::<UnixDiagVfs>(),
            UnixDiagAttr::Peer(_) | UnixDiagAttr::Uid(_) => 4,
            UnixDiagAttr::Icons(icons) => icons.buffer_len(),
            UnixDiagAttr::Rqlen(_) => std::mem::size_of::<UnixDiagRqlen>(),
            UnixDiagAttr::MemInfo(mem) => mem.buffer_len(),
            UnixDiagAttr::Shutdown(_) => 1,
        }
    }

    fn kind(&self) -> u16 {
        match self {
            UnixDiagAttr::Name(_) => UNIX_DIAG_NAME,
            UnixDiagAttr::Vfs(_) => UNIX_DIAG_VFS,
            UnixDiagAttr::Peer(_) => UNIX_DIAG_PEER,
            UnixDiagAttr::Icons(_) => UNIX_DIAG_ICONS,
            UnixDiagAttr::Rqlen(_) => UNIX_DIAG_RQLEN,
            UnixDiagAttr::MemInfo(_) => UNIX_DIAG_MEMINFO,
            UnixDiagAttr::Shutdown(_) => UNIX_DIAG_SHUTDOWN,
            UnixDiagAttr::Uid(_) => UNIX_DIAG_UID,
            UnixDiagAttr::Other { kind, .. } => *kind,
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            UnixDiagAttr::Name(v) | UnixDiagAttr::Other { value: v, .. } => {
                buffer[..v.len()].copy_from_slice(v)
            }
            UnixDiagAttr::Vfs(vfs) => {
                let bytes = zerocopy::IntoBytes::as_bytes(*vfs);
                buffer[..bytes.len()].copy_from_slice(bytes)
            }
            UnixDiagAttr::Rqlen(rqlen) => {
                let bytes = zerocopy::IntoBytes::as_bytes(*rqlen);
                buffer[..bytes.len()].copy_from_slice(bytes)
            }
            UnixDiagAttr::Peer(v) | UnixDiagAttr::Uid(v) => {
                buffer[..4].copy_from_slice(&v.to_ne_bytes())
            }
            UnixDiagAttr::Icons(icons) => icons.emit(buffer),
            UnixDiagAttr::MemInfo(mem) => mem.emit(buffer),
            UnixDiagAttr::Shutdown(shutdown) => shutdown.emit(buffer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_numbers_split_both_ways() {
        // 8:1 (sda1) in the kernel's encoding.
        let vfs = UnixDiagVfs {
            inode: U32::new(1234),
            dev: U32::new(8 << 20 | 1),
        };
        assert_eq!((vfs.major(), vfs.minor()), (8, 1));
        assert_eq!(vfs.user_space_split(), (0, 0x801));
        let bytes = vfs.as_bytes().to_vec();
        assert_eq!(UnixDiagVfs::read_from_bytes(&bytes).unwrap(), vfs);
    }
}
