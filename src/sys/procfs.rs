//! The raw interface to /proc (or `$PROC_ROOT`): directories read entry by entry and links and
//! files read relative to an open directory, without allocating, for a walk over every
//! process's descriptors. What the entries mean is the caller's business (`procs`).

use std::ffi::CStr;
use std::io;
use std::os::fd::RawFd;
use std::ptr::NonNull;

/// `ID/LEAF` as a C string, in `buffer`.
pub fn relative<'b>(buffer: &'b mut Vec<u8>, id: u32, leaf: &[u8]) -> &'b CStr {
    buffer.clear();
    buffer.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    buffer.push(b'/');
    buffer.extend_from_slice(leaf);
    buffer.push(0);
    CStr::from_bytes_with_nul(buffer).expect("digits, a slash and a name without NUL")
}

/// A pid, tid or fd as /proc names it: decimal, without sign or leading zeros. Anything else
/// in those directories (`self`, `net`, ...) is not one.
pub fn decimal(name: &[u8]) -> Option<u32> {
    match name {
        [] | [b'0', _, ..] => None,
        _ if name.iter().all(u8::is_ascii_digit) => std::str::from_utf8(name).ok()?.parse().ok(),
        _ => None,
    }
}

/// An open directory, read entry by entry without allocating.
pub struct Dir {
    dir: NonNull<libc::DIR>,
}

impl Dir {
    /// Opens `path`, relative to the directory `at` (or `libc::AT_FDCWD`).
    pub fn open(at: RawFd, path: &CStr) -> io::Result<Dir> {
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC;
        // SAFETY: `path` is NUL-terminated; the descriptor returned is ours.
        let fd = unsafe { libc::openat(at, path.as_ptr(), flags) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is an open directory that nothing else uses; fdopendir takes it over.
        match NonNull::new(unsafe { libc::fdopendir(fd) }) {
            Some(dir) => Ok(Dir { dir }),
            None => {
                let error = io::Error::last_os_error();
                // SAFETY: fdopendir failed, so `fd` is still ours to close.
                unsafe { libc::close(fd) };
                Err(error)
            }
        }
    }

    /// The directory's descriptor, for opening what it holds.
    pub fn fd(&self) -> RawFd {
        // SAFETY: `dir` is open until drop.
        unsafe { libc::dirfd(self.dir.as_ptr()) }
    }

    /// The next entry's name; `None` at the end, or when the directory vanished (a process
    /// that ended) while being read.
    pub fn next_name(&mut self) -> Option<&CStr> {
        // SAFETY: `dir` is open; the entry stays valid until the next readdir or closedir on
        // it, and the returned borrow of `self` ends before either can happen.
        unsafe {
            let entry = libc::readdir(self.dir.as_ptr());
            if entry.is_null() {
                return None;
            }
            Some(CStr::from_ptr((*entry).d_name.as_ptr()))
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: `dir` came from fdopendir and is closed only here.
        unsafe { libc::closedir(self.dir.as_ptr()) };
    }
}

/// The target of the symbolic link `name` in the directory `at`; a target that does not fit
/// in `buffer` comes back cut short (a socket's always fits).
pub fn read_link<'b>(at: RawFd, name: &CStr, buffer: &'b mut [u8]) -> io::Result<&'b [u8]> {
    // SAFETY: `name` is NUL-terminated and `buffer` is writable for its length.
    let len =
        unsafe { libc::readlinkat(at, name.as_ptr(), buffer.as_mut_ptr().cast(), buffer.len()) };
    if len < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(&buffer[..len as usize])
}

/// The start of the file `path` in the directory `at`, as much as one read gives into `buffer`
/// (the whole of a /proc stat line).
pub fn read_file<'b>(at: RawFd, path: &CStr, buffer: &'b mut [u8]) -> io::Result<&'b [u8]> {
    // SAFETY: `path` is NUL-terminated; the descriptor returned is ours and closed below.
    let fd = unsafe { libc::openat(at, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is open and `buffer` is writable for its length.
    let len = unsafe { libc::read(fd, buffer.as_mut_ptr().cast(), buffer.len()) };
    let error = io::Error::last_os_error();
    // SAFETY: `fd` is ours and not used after this.
    unsafe { libc::close(fd) };
    if len < 0 {
        return Err(error);
    }
    Ok(&buffer[..len as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_canonical_decimals_are_ids() {
        assert_eq!(decimal(b"1"), Some(1));
        assert_eq!(decimal(b"0"), Some(0));
        assert_eq!(decimal(b"4194304"), Some(4_194_304));
        assert_eq!(decimal(b"4294967295"), Some(u32::MAX));
        for name in [
            &b""[..],
            b"self",
            b"thread-self",
            b"net",
            b".",
            b"..",
            b"007",
            b"9x",
            b"-1",
            b"+1",
            b"4294967296",
        ] {
            assert_eq!(decimal(name), None, "{}", String::from_utf8_lossy(name));
        }
    }
}
