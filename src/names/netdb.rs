//! The network databases ss names things from: `/etc/services` and `/etc/protocols`.
//!
//! One parser for each file, used both ways: numbers to names when printing, names to numbers
//! when reading a filter.

/// One `/etc/services` entry: `name port/protocol aliases... # comment`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Service<'a> {
    pub name: &'a str,
    pub port: u16,
    /// The IP protocol number (`tcp` is 6).
    pub protocol: u8,
    line: &'a str,
}

impl<'a> Service<'a> {
    /// The entry's name and its aliases.
    pub fn names(&self) -> impl Iterator<Item = &'a str> {
        self.line
            .split_ascii_whitespace()
            .filter(|w| !w.contains('/'))
    }
}

pub fn read_services() -> String {
    readable_lines(&std::fs::read("/etc/services").unwrap_or_default())
}

pub fn read_protocols() -> String {
    readable_lines(&std::fs::read("/etc/protocols").unwrap_or_default())
}

/// The lines of a database file as its C readers see them: each line ends at a NUL and its
/// comment is dropped. A word that is not UTF-8 is left out: an alias alone, or the whole
/// entry when it is the name or the number, so that one bad byte loses one entry at most (ss
/// would print such a name's bytes) instead of the whole file.
fn readable_lines(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for line in bytes.split(|&b| b == b'\n') {
        let line = line.split(|&b| b == 0).next().unwrap_or_default();
        let line = line.split(|&b| b == b'#').next().unwrap_or_default();
        let mut words = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|w| !w.is_empty())
            .map(std::str::from_utf8);
        let (Some(Ok(name)), Some(Ok(number))) = (words.next(), words.next()) else {
            continue;
        };
        text.push_str(name);
        text.push(' ');
        text.push_str(number);
        for alias in words.flatten() {
            text.push(' ');
            text.push_str(alias);
        }
        text.push('\n');
    }
    text
}

/// The entries of an `/etc/services` text, in file order.
pub fn services(text: &str) -> impl Iterator<Item = Service<'_>> {
    text.lines().filter_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut fields = line.split_ascii_whitespace();
        let name = fields.next()?;
        let (port, protocol) = fields.next()?.split_once('/')?;
        Some(Service {
            name,
            port: port.parse().ok()?,
            protocol: protocol_number(protocol)?,
            line,
        })
    })
}

/// The IP protocol numbers /etc/services uses.
pub fn protocol_number(name: &str) -> Option<u8> {
    Some(match name {
        "tcp" => libc::IPPROTO_TCP,
        "udp" => libc::IPPROTO_UDP,
        "sctp" => libc::IPPROTO_SCTP,
        "dccp" => libc::IPPROTO_DCCP,
        _ => return None,
    } as u8)
}

/// The port of a service name (or alias), looked up in `protocol` or, when `None`, in any: the
/// first matching entry wins, as with getservbyname(3).
pub fn service_port(name: &str, protocol: Option<u8>) -> Option<u16> {
    let text = read_services();
    services(&text)
        .filter(|s| protocol.is_none_or(|p| p == s.protocol))
        .find(|s| s.names().any(|n| n == name))
        .map(|s| s.port)
}

/// The entries of an `/etc/protocols` text: `name number aliases... # comment`.
pub fn protocols(text: &str) -> impl Iterator<Item = (&str, u8)> {
    text.lines().filter_map(|line| {
        let mut fields = line.split('#').next()?.split_ascii_whitespace();
        Some((fields.next()?, fields.next()?.parse().ok()?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICES: &str = "\
# comment
ssh\t\t22/tcp\t\t\t# SSH Remote Login Protocol
domain\t\t53/tcp\t\t\t# Domain Name Server
domain\t\t53/udp
mdns\t\t5353/udp\t\t\t# Multicast DNS
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
bogus\t\tnotaport/tcp
";

    #[test]
    fn reads_services() {
        let entries: Vec<_> = services(SERVICES)
            .map(|s| (s.name, s.port, s.protocol))
            .collect();
        assert_eq!(
            entries,
            [
                ("ssh", 22, 6),
                ("domain", 53, 6),
                ("domain", 53, 17),
                ("mdns", 5353, 17),
                ("http", 80, 6)
            ]
        );
        let http = services(SERVICES).find(|s| s.port == 80).unwrap();
        assert_eq!(http.names().collect::<Vec<_>>(), ["http", "www"]);
    }

    #[test]
    fn a_bad_byte_or_a_nul_loses_one_entry_at_most() {
        let bytes = b"ssh 22/tcp # caf\xe9\nbad\xff 23/tcp\nhttp 80/tcp\0junk\xff\nmdns 5353/udp\n\
                      www 8080/tcp \xffalias web\n";
        let text = readable_lines(bytes);
        let names: Vec<_> = services(&text).map(|s| s.name).collect();
        assert_eq!(names, ["ssh", "http", "mdns", "www"]);
        let www = services(&text).find(|s| s.name == "www").unwrap();
        assert_eq!(www.names().collect::<Vec<_>>(), ["www", "web"]);
    }

    #[test]
    fn reads_protocols() {
        let text = "ip\t0\tIP\t\t# internet protocol\nicmp\t1\tICMP\n";
        assert_eq!(
            protocols(text).collect::<Vec<_>>(),
            [("ip", 0), ("icmp", 1)]
        );
    }
}
