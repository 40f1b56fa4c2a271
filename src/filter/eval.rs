//! Evaluating a filter in user space, on every socket, whichever table it came from.
//!
//! The rules are ss's. A condition on an address family a socket does not have is false. An
//! IPv4 address read without a family also matches its IPv4-mapped IPv6 form. For unix sockets
//! `src` matches the socket's own name as a case-insensitive glob (`@name` for an abstract
//! one), `dst` the peer's, which the kernel does not report, and port comparisons use the
//! inodes. `autobound` means a name the kernel chose: a port in the ephemeral range (an inet
//! socket; the kernel's bytecode asks instead whether the port was bound explicitly, and ss
//! applies both, so the two meanings intersect), no name or an autobind name (unix), a
//! negative port id (netlink), or protocol 0 on no device (packet).

use std::net::{IpAddr, SocketAddr};

use super::{Cond, End, Expr, Host, InetHost, IpFamily};
use crate::socket::{Endpoints, Socket, UnixName};

/// What evaluation needs to know about the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// `net.ipv4.ip_local_port_range`, both ends included.
    pub ephemeral: (u16, u16),
}

impl Context {
    /// The context of the network namespace this process is in.
    pub fn from_system() -> Context {
        Context {
            ephemeral: crate::names::ephemeral_port_range(),
        }
    }
}

/// How deep the evaluator's stack goes before it moves to the heap: a filter people type stays
/// far below, so evaluating it allocates nothing.
const INLINE_DEPTH: usize = 16;

/// What is left to do on the way back up from an operand.
#[derive(Clone, Copy)]
enum Pending<'e> {
    /// The left operand of this `and` or `or` is being evaluated.
    Right(&'e Expr),
    Negate,
}

/// The evaluator's stack: inline up to [`INLINE_DEPTH`], then on the heap.
struct Stack<'e> {
    inline: [Option<Pending<'e>>; INLINE_DEPTH],
    len: usize,
    spilled: Vec<Pending<'e>>,
}

impl<'e> Stack<'e> {
    fn push(&mut self, pending: Pending<'e>) {
        if self.len < INLINE_DEPTH {
            self.inline[self.len] = Some(pending);
            self.len += 1;
        } else {
            self.spilled.push(pending);
        }
    }

    fn pop(&mut self) -> Option<Pending<'e>> {
        if let Some(pending) = self.spilled.pop() {
            return Some(pending);
        }
        self.len = self.len.checked_sub(1)?;
        self.inline[self.len].take()
    }
}

impl Expr {
    /// Whether the socket passes, short-circuiting as `&&` and `||` do. The walk keeps its
    /// own stack (a left-folded chain is as deep as it is long): an `and` or `or` waits there
    /// while its left operand is evaluated, and its right operand then stands for it.
    pub fn matches(&self, socket: &Socket<'_>, context: &Context) -> bool {
        let mut stack = Stack {
            inline: [None; INLINE_DEPTH],
            len: 0,
            spilled: Vec::new(),
        };
        let mut node = self;
        loop {
            let mut value = loop {
                match node {
                    Expr::And(a, _) | Expr::Or(a, _) => {
                        stack.push(Pending::Right(node));
                        node = a;
                    }
                    Expr::Not(a) => {
                        stack.push(Pending::Negate);
                        node = a;
                    }
                    Expr::Cond(cond) => break cond.matches(socket, context),
                }
            };
            loop {
                match stack.pop() {
                    None => return value,
                    Some(Pending::Negate) => value = !value,
                    Some(Pending::Right(Expr::And(_, b))) if value => {
                        node = b;
                        break;
                    }
                    Some(Pending::Right(Expr::Or(_, b))) if !value => {
                        node = b;
                        break;
                    }
                    // `false and ...`, `true or ...`: decided by the left operand.
                    Some(Pending::Right(_)) => {}
                }
            }
        }
    }
}

impl Cond {
    fn matches(&self, socket: &Socket<'_>, context: &Context) -> bool {
        match (self, &socket.endpoints) {
            (Cond::Host(end, Host::Inet(host)), Endpoints::Inet(ends)) => {
                host.matches(if *end == End::Local {
                    ends.local
                } else {
                    ends.peer
                })
            }
            (Cond::Host(end, Host::Unix(pattern)), Endpoints::Unix(ends)) => match end {
                End::Local => unix_name_matches(pattern, ends.name),
                End::Peer => glob(pattern, b""),
            },
            (Cond::Host(end, Host::Packet(host)), Endpoints::Packet(ends)) => match end {
                End::Local => {
                    host.protocol.is_none_or(|p| p == ends.protocol)
                        && host.ifindex.is_none_or(|i| i == ends.ifindex)
                }
                // The peer of a packet socket is all zeros.
                End::Peer => {
                    host.protocol.is_none_or(|p| p == 0) && host.ifindex.is_none_or(|i| i == 0)
                }
            },
            (Cond::Host(end, Host::Netlink(host)), Endpoints::Netlink(ends)) => match end {
                End::Local => {
                    host.protocol.is_none_or(|p| p == ends.protocol)
                        && host.portid.is_none_or(|id| id == ends.portid as i32)
                }
                // ss gives the peer no address: only "anything" matches it.
                End::Peer => host.protocol.is_none() && host.portid.is_none(),
            },
            // A condition on another family matches only when it asks for nothing.
            (Cond::Host(_, host), _) => host.is_wildcard() && !matches!(host, Host::Unix(_)),
            (Cond::PortAtLeast(end, port), _) => port_of(socket, *end) >= *port,
            (Cond::PortAtMost(end, port), _) => port_of(socket, *end) <= *port,
            (Cond::Device(index), Endpoints::Inet(ends)) => ends.ifindex == *index,
            (Cond::Device(index), Endpoints::Packet(ends)) => ends.ifindex == *index,
            (Cond::Device(index), _) => *index == 0,
            (Cond::Mark { mark, mask }, _) => socket.mark.unwrap_or(0) & mask == *mark,
            (Cond::Cgroup(id), _) => socket.cgroup_id.unwrap_or(0) == *id,
            (Cond::Autobound, Endpoints::Inet(ends)) => {
                let (low, high) = context.ephemeral;
                (low..=high).contains(&ends.local.port())
            }
            (Cond::Autobound, Endpoints::Unix(ends)) => match ends.name {
                UnixName::Unnamed => true,
                // The names the kernel's autobind picks: five hex digits, abstract.
                UnixName::Abstract(name) => {
                    name.len() == 5 && name.iter().all(|b| b.is_ascii_hexdigit())
                }
                UnixName::Path(_) => false,
            },
            (Cond::Autobound, Endpoints::Packet(ends)) => ends.protocol == 0 && ends.ifindex == 0,
            // The kernel picks negative port ids (but for a process's first socket, which
            // gets its pid).
            (Cond::Autobound, Endpoints::Netlink(ends)) => (ends.portid as i32) < 0,
        }
    }
}

impl Host {
    /// Whether the condition names no address and no port.
    fn is_wildcard(&self) -> bool {
        match self {
            Host::Inet(host) => {
                host.family.is_none() && host.prefix.is_none() && host.port.is_none()
            }
            Host::Unix(_) => false,
            Host::Packet(host) => host.protocol.is_none() && host.ifindex.is_none(),
            Host::Netlink(host) => host.protocol.is_none() && host.portid.is_none(),
        }
    }
}

/// What `sport` and `dport` compare: the ports of an inet socket, the inodes of a unix one,
/// the device of a packet socket (its peer's is 0) and the port id of a netlink socket (ss
/// reads it as a signed number and gives the peer -1).
fn port_of(socket: &Socket<'_>, end: End) -> i64 {
    match (&socket.endpoints, end) {
        (Endpoints::Inet(ends), End::Local) => i64::from(ends.local.port()),
        (Endpoints::Inet(ends), End::Peer) => i64::from(ends.peer.port()),
        (Endpoints::Unix(_), End::Local) => socket.inode as i64,
        (Endpoints::Unix(ends), End::Peer) => i64::from(ends.peer_inode),
        (Endpoints::Packet(ends), End::Local) => i64::from(ends.ifindex),
        (Endpoints::Packet(_), End::Peer) => 0,
        (Endpoints::Netlink(ends), End::Local) => i64::from(ends.portid as i32),
        (Endpoints::Netlink(_), End::Peer) => -1,
    }
}

impl InetHost {
    fn matches(&self, address: SocketAddr) -> bool {
        if self.port.is_some_and(|port| port != address.port()) {
            return false;
        }
        let ip = address.ip();
        let Some((prefix, len)) = self.prefix else {
            return match self.family {
                None => true,
                Some(IpFamily::V4) => ip.is_ipv4(),
                Some(IpFamily::V6) => ip.is_ipv6(),
            };
        };
        match (prefix, ip) {
            (IpAddr::V4(p), IpAddr::V4(a)) => leading_bits_match(&p.octets(), &a.octets(), len),
            (IpAddr::V6(p), IpAddr::V6(a)) => leading_bits_match(&p.octets(), &a.octets(), len),
            (IpAddr::V4(p), IpAddr::V6(a)) if self.mapped_too => a
                .to_ipv4_mapped()
                .is_some_and(|a| leading_bits_match(&p.octets(), &a.octets(), len)),
            _ => false,
        }
    }
}

fn leading_bits_match(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = (usize::from(bits / 8), bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xffu8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// A unix name as ss matches it: the path, or `@` and the abstract name with every NUL shown
/// as `@`; an unnamed socket has the empty name.
fn unix_name_matches(pattern: &[u8], name: UnixName<'_>) -> bool {
    match name {
        UnixName::Unnamed => glob(pattern, b""),
        UnixName::Path(path) => glob(pattern, path),
        UnixName::Abstract(name) => {
            let mut shown = Vec::with_capacity(name.len() + 1);
            shown.push(b'@');
            shown.extend(name.iter().map(|&b| if b == 0 { b'@' } else { b }));
            glob(pattern, &shown)
        }
    }
}

/// A case-insensitive fnmatch(3) without flags: `*`, `?`, `[...]` (with `!` or `^` to
/// negate, and ranges) and `\` to escape; `*` matches `/` too.
pub fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    // Where to resume after the last `*`: the pattern after it, and the text it has taken.
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        let step = match pattern.get(p) {
            Some(b'*') => {
                backtrack = Some((p + 1, t));
                p += 1;
                continue;
            }
            Some(b'?') => Some(1),
            Some(b'[') => match class(&pattern[p..], text[t]) {
                Class::Matches(len) => Some(len),
                Class::Misses => None,
                Class::Unclosed => (text[t] == b'[').then_some(1),
            },
            Some(b'\\') if p + 1 < pattern.len() => {
                (pattern[p + 1].eq_ignore_ascii_case(&text[t])).then_some(2)
            }
            Some(&c) => c.eq_ignore_ascii_case(&text[t]).then_some(1),
            None => None,
        };
        match step {
            Some(len) => {
                p += len;
                t += 1;
            }
            None => match backtrack {
                Some((after_star, taken)) => {
                    p = after_star;
                    t = taken + 1;
                    backtrack = Some((after_star, taken + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

enum Class {
    /// The byte is in the class, which is this long.
    Matches(usize),
    Misses,
    /// No `]` closes the class: the `[` is an ordinary character.
    Unclosed,
}

/// Matches one byte against the `[...]` class at the start of `pattern`.
fn class(pattern: &[u8], byte: u8) -> Class {
    let mut i = 1;
    let negate = matches!(pattern.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let byte = byte.to_ascii_lowercase();
    let mut matched = false;
    let mut first = true;
    loop {
        let Some(&c) = pattern.get(i) else {
            return Class::Unclosed;
        };
        if c == b']' && !first {
            break;
        }
        first = false;
        let low = c.to_ascii_lowercase();
        if pattern.get(i + 1) == Some(&b'-') && pattern.get(i + 2).is_some_and(|&e| e != b']') {
            let high = pattern[i + 2].to_ascii_lowercase();
            matched |= (low..=high).contains(&byte);
            i += 3;
        } else {
            matched |= low == byte;
            i += 1;
        }
    }
    if matched != negate {
        Class::Matches(i + 1)
    } else {
        Class::Misses
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob(b"*", b""));
        assert!(glob(b"*", b"/tmp/a.sock"));
        assert!(glob(b"/tmp/*", b"/tmp/x/y.sock"));
        assert!(glob(b"*APP*", b"/run/app.sock"));
        assert!(glob(b"@abs*", b"@abstract-name"));
        assert!(!glob(b"@*", b"/tmp/a"));
        assert!(glob(b"/run/?.sock", b"/run/a.sock"));
        assert!(!glob(b"/run/?.sock", b"/run/ab.sock"));
        assert!(glob(b"[a-c]x", b"bx"));
        assert!(!glob(b"[!a-c]x", b"bx"));
        assert!(glob(b"\\*", b"*"));
        assert!(!glob(b"\\*", b"a"));
        assert!(glob(b"a*b*c", b"axxbyyc"));
        assert!(!glob(b"a*b*c", b"axxbyy"));
        assert!(glob(b"[x", b"[x"));
    }

    #[test]
    fn prefixes() {
        assert!(leading_bits_match(&[127, 0, 0, 1], &[127, 9, 9, 9], 8));
        assert!(!leading_bits_match(&[127, 0, 0, 1], &[128, 0, 0, 1], 1));
        assert!(leading_bits_match(&[10, 0, 0, 0], &[10, 0, 0, 255], 24));
        assert!(leading_bits_match(&[1, 2, 3, 4], &[5, 6, 7, 8], 0));
        assert!(!leading_bits_match(&[0b1010_0000], &[0b1011_0000], 4));
        assert!(leading_bits_match(&[0b1010_0000], &[0b1010_1111], 4));
    }
}
