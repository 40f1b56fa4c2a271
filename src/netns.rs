//! Network namespaces: running in a private one.

use std::io;

/// Moves this process (which must have a single thread) into a new, empty network namespace
/// and brings its loopback up. Needs CAP_SYS_ADMIN.
pub fn enter_private() -> io::Result<()> {
    // SAFETY: unshare only changes the calling thread's namespaces; the callers are
    // single-threaded, so the whole process moves.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    loopback_up()
}

/// Sets IFF_UP on `lo`, as `ip link set lo up` does.
fn loopback_up() -> io::Result<()> {
    // SAFETY: an AF_INET datagram socket is only used as a handle for interface ioctls and
    // closed below; `request` is a zeroed ifreq with a NUL-terminated name, which SIOCGIFFLAGS
    // fills and SIOCSIFFLAGS reads.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let mut result = Ok(());
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) != 0 {
            result = Err(io::Error::last_os_error());
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &request) != 0 {
                result = Err(io::Error::last_os_error());
            }
        }
        libc::close(fd);
        result
    }
}
