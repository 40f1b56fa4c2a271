//! Standard output for the modes that run until stopped (watch, `-E`): a write that would
//! block on a full pipe nobody reads gives way to SIGINT and SIGTERM.
//!
//! std retries a write that a signal interrupted, and a blocking write on a full pipe may not
//! even be interrupted when the signal came just before it. So each write first waits for the
//! descriptor to take data, a tenth of a second at a time, looking at the interrupt flag in
//! between, and then writes at most what a pipe with room takes at once. Once interrupted, a
//! write that cannot go through at once fails with [`Stopped`], which the caller takes for
//! the end it is (the terminal is still restored where it can be written).

use std::io::{self, Write};

use super::term;

/// A pipe with room (POLLOUT) takes this much without blocking.
const CHUNK: usize = 4096;

/// Standard output, written directly to descriptor 1 (no other buffer in between).
pub struct Stdout;

/// The error a write gives when a signal stopped it.
#[derive(Debug, thiserror::Error)]
#[error("stopped by a signal while the output was blocked")]
pub struct Stopped;

/// Whether `e` is [`Stopped`].
pub fn is_stopped(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let interrupted = term::interrupted();
            let ready = writable(if interrupted { 50 } else { 100 })?;
            if !ready {
                if interrupted {
                    return Err(io::Error::other(Stopped));
                }
                continue;
            }
            let len = buf.len().min(CHUNK);
            // SAFETY: writes at most `len` bytes from the live slice `buf`.
            let n = unsafe { libc::write(libc::STDOUT_FILENO, buf.as_ptr().cast(), len) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => continue,
                _ => return Err(e),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Waits up to `ms` for standard output to take data; a signal ends the wait early.
fn writable(ms: libc::c_int) -> io::Result<bool> {
    let mut fds = [libc::pollfd {
        fd: libc::STDOUT_FILENO,
        events: libc::POLLOUT,
        revents: 0,
    }];
    // SAFETY: `fds` is a live array of one initialised pollfd for the whole call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) };
    if n < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::Interrupted {
            Ok(false)
        } else {
            Err(e)
        };
    }
    // An error or hang-up is for the write to report.
    Ok(n > 0)
}
