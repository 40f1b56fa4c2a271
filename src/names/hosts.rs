//! Host names for addresses (`-r`), by reverse lookup through the C library.

use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr};

use socket2::SockAddr;

pub(super) fn reverse_lookup(ip: IpAddr) -> Option<Box<str>> {
    let address = SockAddr::from(SocketAddr::new(ip, 0));
    let mut host = [0 as libc::c_char; libc::NI_MAXHOST as usize];
    // SAFETY: `address` holds a valid socket address of `address.len()` bytes; `host` is
    // writable for its whole length, which is passed; no service buffer is requested.
    let rc = unsafe {
        libc::getnameinfo(
            address.as_ptr().cast(),
            address.len(),
            host.as_mut_ptr(),
            host.len() as libc::socklen_t,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    // SAFETY: on success getnameinfo wrote a NUL-terminated string into `host`.
    let name = unsafe { CStr::from_ptr(host.as_ptr()) };
    Some(name.to_string_lossy().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_looked_up() {
        // Whatever /etc/hosts says, the call must not fail on the address we build.
        let _ = reverse_lookup(IpAddr::from([127, 0, 0, 1]));
        let _ = reverse_lookup(IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    }
}
