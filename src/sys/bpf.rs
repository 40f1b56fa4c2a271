//! The `bpf(2)` calls that load a program onto a tracepoint, and the BPF ring buffer it writes
//! to, read through `mmap` (`Documentation/bpf/ringbuf.rst`).
//!
//! Everything here is a thin, typed skin over the system calls: the attribute blocks are laid
//! out as `union bpf_attr` lays them out, every descriptor is an `OwnedFd` (closing the link
//! detaches the program; closing the last descriptor of a program or map frees it), and every failure carries the errno and, for a refused program,
//! the verifier's own words.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_LOOKUP_ELEM: libc::c_long = 1;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_RAW_TRACEPOINT_OPEN: libc::c_long = 17;

pub const BPF_MAP_TYPE_ARRAY: u32 = 2;
pub const BPF_MAP_TYPE_RINGBUF: u32 = 27;
pub const BPF_PROG_TYPE_TRACING: u32 = 26;
pub const BPF_TRACE_RAW_TP: u32 = 23;

/// `BPF_RINGBUF_BUSY_BIT` and `BPF_RINGBUF_DISCARD_BIT` of a record's length word, and the
/// header before every record.
const RINGBUF_BUSY: u32 = 1 << 31;
const RINGBUF_DISCARD: u32 = 1 << 30;
const RINGBUF_HEADER: usize = 8;

/// The attribute block every command takes: larger than any of ours, zeroed past them, as the
/// kernel demands.
const ATTR_LEN: usize = 128;

/// Why a program or map could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BpfError {
    #[error("{call}: {source}")]
    Call {
        call: &'static str,
        source: io::Error,
    },
    #[error("the kernel's verifier refused the program ({source}): {log}")]
    Verifier { source: io::Error, log: String },
}

impl BpfError {
    /// The errno, for telling "not allowed" from "not supported".
    pub fn errno(&self) -> Option<i32> {
        match self {
            BpfError::Call { source, .. } | BpfError::Verifier { source, .. } => {
                source.raw_os_error()
            }
        }
    }
}

fn call_error(call: &'static str) -> BpfError {
    BpfError::Call {
        call,
        source: io::Error::last_os_error(),
    }
}

/// An attribute block being filled in, field by field at the kernel's offsets.
struct Attr([u8; ATTR_LEN]);

impl Attr {
    fn new() -> Attr {
        Attr([0; ATTR_LEN])
    }

    fn u32(&mut self, at: usize, value: u32) -> &mut Attr {
        self.0[at..at + 4].copy_from_slice(&value.to_ne_bytes());
        self
    }

    fn u64(&mut self, at: usize, value: u64) -> &mut Attr {
        self.0[at..at + 8].copy_from_slice(&value.to_ne_bytes());
        self
    }

    /// A name of at most 15 bytes, NUL-terminated (`BPF_OBJ_NAME_LEN`).
    fn name(&mut self, at: usize, name: &str) -> &mut Attr {
        let len = name.len().min(15);
        self.0[at..at + len].copy_from_slice(&name.as_bytes()[..len]);
        self
    }

    fn bpf(&mut self, cmd: libc::c_long, call: &'static str) -> Result<OwnedFd, BpfError> {
        let fd = self
            .bpf_raw(cmd)
            .map_err(|source| BpfError::Call { call, source })?;
        // SAFETY: the kernel returned a new descriptor that nothing else owns.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    fn bpf_raw(&mut self, cmd: libc::c_long) -> io::Result<RawFd> {
        // SAFETY: the attribute block is ATTR_LEN bytes, laid out as the command expects; the
        // pointers written into it point at memory that outlives the call.
        let ret = unsafe {
            libc::syscall(
                libc::SYS_bpf,
                cmd,
                self.0.as_mut_ptr(),
                ATTR_LEN as libc::c_uint,
            )
        };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ret as RawFd)
    }
}

/// A map: `max_entries` values of `value_size` bytes under keys of `key_size`.
pub fn create_map(
    map_type: u32,
    name: &str,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
) -> Result<OwnedFd, BpfError> {
    Attr::new()
        .u32(0, map_type)
        .u32(4, key_size)
        .u32(8, value_size)
        .u32(12, max_entries)
        .name(28, name)
        .bpf(BPF_MAP_CREATE, "creating a BPF map")
}

/// The u64 under key `key` of an array map.
pub fn lookup_u64(map: &OwnedFd, key: u32) -> Result<u64, BpfError> {
    let key = key.to_ne_bytes();
    let mut value = [0u8; 8];
    Attr::new()
        .u32(0, map.as_raw_fd() as u32)
        .u64(8, key.as_ptr() as u64)
        .u64(16, value.as_mut_ptr() as u64)
        .bpf_raw(BPF_MAP_LOOKUP_ELEM)
        .map_err(|source| BpfError::Call {
            call: "reading a BPF map",
            source,
        })?;
    Ok(u64::from_ne_bytes(value))
}

/// What kind of program to load, and where it may attach.
#[derive(Clone, Copy, Debug)]
pub struct ProgramKind {
    pub prog_type: u32,
    pub expected_attach_type: u32,
    /// For a BTF-typed program: the kernel BTF's id of what it attaches to.
    pub attach_btf_id: u32,
}

/// Loads a program. Refused, it is loaded again with the verifier's log on, so that the error
/// says which instruction and why.
pub fn load_program(
    kind: ProgramKind,
    name: &str,
    insns: &[u8],
    license: &str,
) -> Result<OwnedFd, BpfError> {
    let license = CString::new(license).expect("a license has no NUL");
    let mut attr = Attr::new();
    attr.u32(0, kind.prog_type)
        .u32(4, (insns.len() / 8) as u32)
        .u64(8, insns.as_ptr() as u64)
        .u64(16, license.as_ptr() as u64)
        .name(48, name)
        .u32(68, kind.expected_attach_type)
        .u32(108, kind.attach_btf_id);
    match attr.bpf_raw(BPF_PROG_LOAD) {
        // SAFETY: a new descriptor that nothing else owns.
        Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
        Err(source) if source.raw_os_error() == Some(libc::EPERM) => Err(BpfError::Call {
            call: "loading a BPF program",
            source,
        }),
        Err(_) => {
            let mut log = vec![0u8; 1 << 20];
            attr.u32(24, 1)
                .u32(28, log.len() as u32)
                .u64(32, log.as_mut_ptr() as u64);
            match attr.bpf_raw(BPF_PROG_LOAD) {
                // SAFETY: as above.
                Ok(fd) => Ok(unsafe { OwnedFd::from_raw_fd(fd) }),
                Err(source) => {
                    let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                    let text = String::from_utf8_lossy(&log[..end]);
                    // The verifier's last lines say what it refused.
                    let tail: Vec<&str> = text.lines().rev().take(12).collect();
                    let log = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
                    Err(BpfError::Verifier { source, log })
                }
            }
        }
    }
}

/// Attaches a BTF-typed tracepoint program to the tracepoint its `attach_btf_id` names, until
/// the returned link is closed.
pub fn attach_raw_tracepoint(program: &OwnedFd) -> Result<OwnedFd, BpfError> {
    Attr::new()
        .u64(0, 0)
        .u32(8, program.as_raw_fd() as u32)
        .bpf(
            BPF_RAW_TRACEPOINT_OPEN,
            "attaching the BPF program to the tracepoint",
        )
}

/// The consumer's side of a BPF ring buffer: the map, its consumer page (read-write) and its
/// producer page followed by the data pages. The data is mapped once (the kernel also allows
/// twice, which makes a record that wraps one slice, at twice the memory): a record that wraps
/// is copied whole into `wrapped`.
pub struct RingBuffer {
    map: OwnedFd,
    size: usize,
    consumer: Mapping,
    producer: Mapping,
    wrapped: Vec<u8>,
}

struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

impl Mapping {
    fn new(
        fd: &OwnedFd,
        len: usize,
        prot: libc::c_int,
        offset: usize,
    ) -> Result<Mapping, BpfError> {
        // SAFETY: a fresh shared mapping of the map's descriptor; the kernel checks the
        // offset, length and protection against what a ring buffer allows.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                prot,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                offset as libc::off_t,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(call_error("mapping the BPF ring buffer"));
        }
        Ok(Mapping {
            ptr: NonNull::new(ptr.cast()).expect("mmap never returns NULL on success"),
            len,
        })
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `new` with this address and length.
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

// SAFETY: the mappings are only read and written through atomics and by the one owner.
unsafe impl Send for RingBuffer {}

impl RingBuffer {
    /// A ring buffer map of `size` bytes (a power of two, a multiple of the page size).
    pub fn new(name: &str, size: usize) -> Result<RingBuffer, BpfError> {
        let map = create_map(BPF_MAP_TYPE_RINGBUF, name, 0, 0, size as u32)?;
        let page = page_size();
        let consumer = Mapping::new(&map, page, libc::PROT_READ | libc::PROT_WRITE, 0)?;
        let producer = Mapping::new(&map, page + size, libc::PROT_READ, page)?;
        Ok(RingBuffer {
            map,
            size,
            consumer,
            producer,
            wrapped: Vec::new(),
        })
    }

    /// The map, for the program to name.
    pub fn map(&self) -> &OwnedFd {
        &self.map
    }

    /// Hands every record submitted so far to `f`, in order, and gives their space back to the
    /// kernel. Stops at the first record still being written, or at the first error of `f`
    /// (that record is taken: the error is the caller's).
    pub fn drain<E>(&mut self, mut f: impl FnMut(&[u8]) -> Result<(), E>) -> Result<usize, E> {
        let page = self.consumer.len;
        // SAFETY: both positions are u64s at the start of their pages, written by the kernel
        // (producer) and by us (consumer), read and written only atomically.
        let consumer_pos = unsafe { &*(self.consumer.ptr.as_ptr() as *const AtomicU64) };
        let producer_pos = unsafe { &*(self.producer.ptr.as_ptr() as *const AtomicU64) };
        let data = unsafe { self.producer.ptr.as_ptr().add(page) };
        let mut taken = 0;
        let mut at = consumer_pos.load(Ordering::Acquire);
        let result = loop {
            let end = producer_pos.load(Ordering::Acquire);
            if at >= end {
                break Ok(());
            }
            let offset = (at as usize) & (self.size - 1);
            // SAFETY: the header is a u32 inside the first copy of the data pages.
            let header = unsafe { &*(data.add(offset) as *const AtomicU32) };
            let word = header.load(Ordering::Acquire);
            if word & RINGBUF_BUSY != 0 {
                break Ok(());
            }
            let len = (word & !(RINGBUF_BUSY | RINGBUF_DISCARD)) as usize;
            let next = at + ((len + RINGBUF_HEADER + 7) & !7) as u64;
            let mut outcome = Ok(());
            if word & RINGBUF_DISCARD == 0 && len <= self.size - RINGBUF_HEADER {
                // The header never wraps (positions are 8-byte aligned, the size a multiple of
                // the page); the record may.
                let start = offset + RINGBUF_HEADER;
                let first = len.min(self.size - start);
                // SAFETY: `start..start + first` and `0..len - first` lie within the data
                // pages; the kernel does not touch a record until we move past it.
                let record = unsafe {
                    let head = std::slice::from_raw_parts(data.add(start), first);
                    if first == len {
                        head
                    } else {
                        let tail = std::slice::from_raw_parts(data, len - first);
                        self.wrapped.clear();
                        self.wrapped.extend_from_slice(head);
                        self.wrapped.extend_from_slice(tail);
                        &self.wrapped[..]
                    }
                };
                outcome = f(record);
                taken += 1;
            }
            at = next;
            consumer_pos.store(at, Ordering::Release);
            if let Err(e) = outcome {
                break Err(e);
            }
        };
        result.map(|()| taken)
    }
}

impl AsRawFd for RingBuffer {
    /// Readable (`poll`) when records are waiting.
    fn as_raw_fd(&self) -> RawFd {
        self.map.as_raw_fd()
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 { size as usize } else { 4096 }
}
