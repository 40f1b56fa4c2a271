//! The terminal: its size and resizes, whether it can address its cursor, single keys without
//! Enter, and Ctrl-C that lets the program put the terminal back before it leaves.

use std::io::{self, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};

/// The width of the terminal on standard output, if it is one and says.
pub fn width() -> Option<usize> {
    if !io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: TIOCGWINSZ writes a `winsize` into the pointed-to struct, which lives on our
    // stack for the whole call; on failure it writes nothing and we do not read it.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// The size of the terminal on standard output, as (columns, rows), if it is one and says.
pub fn size() -> Option<(usize, usize)> {
    if !io::stdout().is_terminal() {
        return None;
    }
    // SAFETY: as in `width`.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) };
    (rc == 0 && size.ws_col > 0 && size.ws_row > 0)
        .then_some((usize::from(size.ws_col), usize::from(size.ws_row)))
}

static RESIZED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_resize(_: libc::c_int) {
    RESIZED.store(true, Ordering::SeqCst);
}

/// Catches SIGWINCH from now on: a resized terminal makes [`resized`] true once and interrupts
/// a blocking wait.
pub fn catch_resize() {
    // SAFETY: as in `catch_interrupts`.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_resize as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGWINCH, &action, std::ptr::null_mut());
    }
}

/// Whether the terminal was resized since the last call.
pub fn resized() -> bool {
    RESIZED.swap(false, Ordering::SeqCst)
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Catches SIGINT (and SIGTERM) from now on: instead of killing the program, they make
/// [`interrupted`] true and interrupt a blocking read, so the program can clean up and leave.
pub fn catch_interrupts() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe; the sigaction
    // struct is fully initialised (zeroed, then the handler set) before the call. Without
    // SA_RESTART a blocked read returns EINTR, which is what the callers want.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_interrupt as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut());
        libc::sigaction(libc::SIGTERM, &action, std::ptr::null_mut());
    }
}

/// Whether Ctrl-C (or SIGTERM) arrived since [`catch_interrupts`].
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Whether the terminal named by `TERM` can move its cursor: not when `TERM` is unset, empty,
/// `dumb`, or a name with no terminfo entry and none of the families every emulator belongs to.
/// Such a terminal gets plain lines, as a pipe does.
pub fn addressable() -> bool {
    let term = std::env::var_os("TERM").unwrap_or_default();
    term.to_str().is_some_and(addressable_term)
}

fn addressable_term(term: &str) -> bool {
    if term.is_empty() || term == "dumb" || term.contains('/') {
        return false;
    }
    const FAMILIES: [&str; 15] = [
        "xterm",
        "screen",
        "tmux",
        "vt1",
        "vt2",
        "linux",
        "rxvt",
        "alacritty",
        "kitty",
        "foot",
        "wezterm",
        "st-",
        "konsole",
        "gnome",
        "putty",
    ];
    if term == "st" || FAMILIES.iter().any(|family| term.starts_with(family)) {
        return true;
    }
    // The places ncurses looks, with the entry filed under its first letter (or, on some
    // systems, the letter's code in hex).
    let first = term.as_bytes()[0];
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("TERMINFO") {
        dirs.push(dir.into());
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(std::path::Path::new(&home).join(".terminfo"));
    }
    for dir in ["/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo"] {
        dirs.push(dir.into());
    }
    dirs.iter().any(|dir| {
        dir.join(char::from(first).to_string()).join(term).exists()
            || dir.join(format!("{first:x}")).join(term).exists()
    })
}

/// Whether the locale's characters are UTF-8 (`LC_ALL`, else `LC_CTYPE`, else `LANG`, the
/// first one set): the terminal then shows block elements and box drawing.
pub fn utf8() -> bool {
    let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
        .iter()
        .filter_map(std::env::var_os)
        .find(|value| !value.is_empty())
        .unwrap_or_default();
    let locale = locale.to_string_lossy().to_ascii_lowercase();
    locale.contains("utf-8") || locale.contains("utf8")
}

/// From now on a panic first writes `leave` to standard output (to leave the alternate
/// screen and show the cursor), so that its message lands on the normal screen.
pub fn leave_on_panic(leave: &'static [u8]) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        use std::io::Write;
        let mut out = io::stdout();
        let _ = out.write_all(leave);
        let _ = out.flush();
        previous(info);
    }));
}

/// The terminal on standard input switched to reading single keys without echo, for as long
/// as this lives. Ctrl-C still sends SIGINT.
pub struct RawKeys {
    saved: libc::termios,
}

impl RawKeys {
    pub fn enable() -> io::Result<RawKeys> {
        // SAFETY: tcgetattr fills the zeroed termios on success; we use it only then.
        let mut saved: libc::termios = unsafe { std::mem::zeroed() };
        if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut saved) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut raw = saved;
        raw.c_lflag &= !(libc::ICANON | libc::ECHO);
        raw.c_cc[libc::VMIN] = 1;
        raw.c_cc[libc::VTIME] = 0;
        // SAFETY: `raw` is a valid termios derived from the terminal's own.
        if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &raw) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(RawKeys { saved })
    }
}

impl Drop for RawKeys {
    fn drop(&mut self) {
        // SAFETY: restores the settings read in `enable`.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &self.saved) };
    }
}

/// Reads what standard input has waiting, without blocking: the number of bytes read into
/// `buffer`, 0 when there is nothing, `None` at the end of input.
pub fn read_waiting(buffer: &mut [u8]) -> io::Result<Option<usize>> {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one live pollfd for the call; a zero timeout never blocks.
    if unsafe { libc::poll(&mut fd, 1, 0) } <= 0 || fd.revents == 0 {
        return Ok(Some(0));
    }
    // SAFETY: reads at most `buffer.len()` bytes into the live buffer.
    let n = unsafe { libc::read(libc::STDIN_FILENO, buffer.as_mut_ptr().cast(), buffer.len()) };
    match n {
        0 => Ok(None),
        n if n > 0 => Ok(Some(n as usize)),
        _ => {
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock => Ok(Some(0)),
                _ => Err(e),
            }
        }
    }
}

/// Reads one byte from standard input; `None` at end of input or when interrupted.
pub fn read_byte() -> io::Result<Option<u8>> {
    let mut byte = 0u8;
    loop {
        if interrupted() {
            return Ok(None);
        }
        // SAFETY: reads at most one byte into a live one-byte buffer.
        let n = unsafe { libc::read(libc::STDIN_FILENO, (&mut byte as *mut u8).cast(), 1) };
        match n {
            1 => return Ok(Some(byte)),
            0 => return Ok(None),
            _ => {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminals_that_address_their_cursor() {
        assert!(addressable_term("xterm-256color"));
        assert!(addressable_term("tmux-256color"));
        assert!(addressable_term("linux"));
        assert!(!addressable_term(""));
        assert!(!addressable_term("dumb"));
        assert!(!addressable_term("no-such-terminal"));
        assert!(!addressable_term("../../etc/passwd"));
    }
}
