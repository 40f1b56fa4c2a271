//! Keys from the bytes a terminal sends: printable characters, and the escape sequences of
//! arrows, PgUp/PgDn and Home/End (both the `CSI` and the `SS3` forms terminals use). The
//! watch loop reads them ([`Keyboard`]) and hands them to the view one by one.

use std::io::{self, IsTerminal};

use crate::sys::term::{self, RawKeys};

/// The terminal on standard input, read a key at a time without echo while this lives.
pub struct Keyboard {
    /// Until the end of input (or when standard input is no terminal, from the start).
    open: bool,
    _raw: Option<RawKeys>,
}

impl Keyboard {
    /// Standard input's keys (none when it is no terminal).
    pub fn stdin() -> Keyboard {
        let open = io::stdin().is_terminal();
        Keyboard {
            open,
            _raw: if open { RawKeys::enable().ok() } else { None },
        }
    }

    /// Whether keys may still come.
    pub fn open(&self) -> bool {
        self.open
    }

    /// The keys waiting on standard input, without blocking.
    pub fn read(&mut self) -> io::Result<Vec<Key>> {
        let mut keys = Vec::new();
        let mut buffer = [0u8; 256];
        while self.open {
            match term::read_waiting(&mut buffer)? {
                None => self.open = false,
                Some(0) => break,
                Some(n) => parse(&buffer[..n], &mut keys),
            }
        }
        Ok(keys)
    }
}

/// A key the live view knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Enter,
    Backspace,
    Escape,
    /// Ctrl-U: clears the line being edited.
    Kill,
    /// Ctrl-C read as a key (when the terminal does not turn it into SIGINT).
    Interrupt,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
}

/// The keys in `bytes`, in order. A lone escape (nothing after it in the same read) is the
/// Escape key; sequences the view has no use for are skipped.
pub fn parse(bytes: &[u8], keys: &mut Vec<Key>) {
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        i += 1;
        let key = match byte {
            0x1b => match bytes.get(i) {
                Some(b'[') => {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len() && !(0x40..=0x7e).contains(&bytes[end]) {
                        end += 1;
                    }
                    i = (end + 1).min(bytes.len());
                    match (&bytes[start..end], bytes.get(end)) {
                        (_, Some(b'A')) => Some(Key::Up),
                        (_, Some(b'B')) => Some(Key::Down),
                        (_, Some(b'C')) => Some(Key::Right),
                        (_, Some(b'D')) => Some(Key::Left),
                        (_, Some(b'H')) => Some(Key::Home),
                        (_, Some(b'F')) => Some(Key::End),
                        (b"1" | b"7", Some(b'~')) => Some(Key::Home),
                        (b"4" | b"8", Some(b'~')) => Some(Key::End),
                        (b"5", Some(b'~')) => Some(Key::PageUp),
                        (b"6", Some(b'~')) => Some(Key::PageDown),
                        _ => None,
                    }
                }
                Some(b'O') if i + 1 < bytes.len() => {
                    i += 2;
                    match bytes[i - 1] {
                        b'A' => Some(Key::Up),
                        b'B' => Some(Key::Down),
                        b'C' => Some(Key::Right),
                        b'D' => Some(Key::Left),
                        b'H' => Some(Key::Home),
                        b'F' => Some(Key::End),
                        _ => None,
                    }
                }
                _ => Some(Key::Escape),
            },
            b'\r' | b'\n' => Some(Key::Enter),
            0x7f | 0x08 => Some(Key::Backspace),
            0x15 => Some(Key::Kill),
            0x03 => Some(Key::Interrupt),
            0x20..=0x7e => Some(Key::Char(char::from(byte))),
            0x80.. => {
                // A UTF-8 character: its length from the first byte.
                let len = match byte {
                    0xf0.. => 4,
                    0xe0.. => 3,
                    _ => 2,
                };
                let end = (i - 1 + len).min(bytes.len());
                let text = std::str::from_utf8(&bytes[i - 1..end]).ok();
                i = end;
                text.and_then(|t| t.chars().next()).map(Key::Char)
            }
            _ => None,
        };
        keys.extend(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(bytes: &[u8]) -> Vec<Key> {
        let mut keys = Vec::new();
        parse(bytes, &mut keys);
        keys
    }

    #[test]
    fn sequences_and_characters() {
        assert_eq!(
            keys(b"s\x1b[A\x1b[B\x1b[5~\x1b[6~\x1b[H\x1b[F\x1bOH\x1b[4~q"),
            [
                Key::Char('s'),
                Key::Up,
                Key::Down,
                Key::PageUp,
                Key::PageDown,
                Key::Home,
                Key::End,
                Key::Home,
                Key::End,
                Key::Char('q')
            ]
        );
        assert_eq!(keys(b"\x1b"), [Key::Escape]);
        assert_eq!(
            keys(b"a\x7f\r"),
            [Key::Char('a'), Key::Backspace, Key::Enter]
        );
        assert_eq!(keys("é".as_bytes()), [Key::Char('é')]);
        // An unknown sequence is skipped whole.
        assert_eq!(keys(b"\x1b[200~x"), [Key::Char('x')]);
    }
}
