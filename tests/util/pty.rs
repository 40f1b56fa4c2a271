//! Programs run on a pseudo-terminal, for what only happens on a terminal: ss's `-E` prints
//! nothing through a pipe before it is killed, and `watch` draws its live view.
//!
//! The child gets the terminal as its standard input, output and error, in a session of its
//! own with the terminal as the controlling one, so that the kernel sends it SIGWINCH when the
//! test resizes the terminal. A thread collects everything it writes.

use std::fs::File;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::netns::wait_bounded;

pub struct Pty {
    master: File,
    /// The terminal's settings before the child started.
    initial: libc::termios,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Pty {
    /// Starts `command` on a new terminal of `cols` x `rows` (0 x 0: a terminal that does not
    /// say how large it is).
    pub fn spawn(command: &mut Command, cols: u16, rows: u16) -> Pty {
        let (mut master, mut slave) = (-1, -1);
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two descriptors into the live integers; the name pointer may
        // be null, the termios pointer too, and the winsize outlives the call.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &size,
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // openpty leaves both open across exec: a program another test starts meanwhile (a
        // holder lives as long as its test) would keep the terminal open after the child ends.
        for fd in [master, slave] {
            // SAFETY: F_SETFD on a descriptor openpty just gave us.
            assert_eq!(
                unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) },
                0
            );
        }
        // SAFETY: both descriptors were just opened by openpty and are owned by nobody else.
        let (master, slave) = unsafe { (File::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // SAFETY: tcgetattr fills the zeroed struct for the terminal just opened.
        let mut initial: libc::termios = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::tcgetattr(master.as_raw_fd(), &mut initial) },
            0
        );
        let io = |fd: &OwnedFd| Stdio::from(fd.try_clone().expect("dup the terminal"));
        command
            .stdin(io(&slave))
            .stdout(io(&slave))
            .stderr(io(&slave));
        // SAFETY: between fork and exec the closure only makes async-signal-safe system calls
        // (setsid, ioctl) on the child's own standard input.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
        // The command keeps its copies of the terminal until told otherwise; the reader sees
        // the end only once the child holds the last ones.
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        drop(slave);
        let output = Arc::new(Mutex::new(Vec::new()));
        let mut from = master.try_clone().expect("dup the terminal");
        let into = Arc::clone(&output);
        let reader = std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            // The read fails with EIO once the child and every copy of the terminal are gone.
            while let Ok(n @ 1..) = from.read(&mut buffer) {
                into.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Pty {
            master,
            initial,
            child,
            output,
            reader: Some(reader),
        }
    }

    /// The child's process id, for the tests that read its CPU time.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the child has written so far, with the terminal's `\r\n` made `\n`.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.output.lock().unwrap()).replace("\r\n", "\n")
    }

    /// The raw bytes written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) until `done` holds for the output; returns whether it did.
    pub fn wait_for(&self, limit: Duration, done: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if done(&self.text()) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        done(&self.text())
    }

    /// Types `bytes` on the terminal.
    pub fn send(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.master
            .write_all(bytes)
            .expect("writing to the terminal");
    }

    /// Makes the terminal `cols` x `rows`; the kernel signals the child.
    pub fn resize(&self, cols: u16, rows: u16) {
        let size = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a winsize from the pointer, which lives for the call.
        let rc = unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &size) };
        assert_eq!(rc, 0, "resizing the terminal");
    }

    /// The terminal's settings before the child started.
    pub fn initial_termios(&self) -> libc::termios {
        self.initial
    }

    /// The terminal's current settings, as the child left them.
    pub fn termios(&self) -> libc::termios {
        // SAFETY: tcgetattr fills the zeroed struct; the master reports the terminal's modes.
        let mut settings: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut settings) };
        assert_eq!(rc, 0, "tcgetattr");
        settings
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) on the pid of a child this test started and has not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
    }

    /// Waits (bounded) for the child to end and for its last output.
    pub fn wait(&mut self, limit: Duration) -> ExitStatus {
        let status = wait_bounded(&mut self.child, limit);
        if let Some(reader) = self.reader.take() {
            // The child is gone; the reader ends when the terminal has nothing more.
            let deadline = Instant::now() + Duration::from_secs(10);
            while !reader.is_finished() {
                assert!(
                    Instant::now() < deadline,
                    "the terminal was still open 10 s after its program ended"
                );
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = reader.join();
        }
        status
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
