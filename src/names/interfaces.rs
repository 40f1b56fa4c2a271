//! Names of network devices by index, asked of the C library for the calling thread's
//! namespace.

use std::ffi::CStr;

pub(super) fn interface_name(index: u32) -> Option<Box<[u8]>> {
    let mut buffer = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: the buffer holds IF_NAMESIZE bytes, as if_indextoname(3) requires; on success it
    // holds a NUL-terminated name, on failure the function returns NULL and we do not read it.
    let name = unsafe { libc::if_indextoname(index, buffer.as_mut_ptr()) };
    if name.is_null() {
        return None;
    }
    // SAFETY: if_indextoname returned non-NULL, so `buffer` holds a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(buffer.as_ptr()) };
    Some(name.to_bytes().into())
}
