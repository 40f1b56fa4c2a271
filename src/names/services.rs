//! Services for ports and protocols for raw sockets, from /etc/services and /etc/protocols,
//! and the ephemeral port range, whose ports are never named.

use std::collections::HashMap;

use super::netdb;

/// The calling thread's network namespace's ephemeral port range
/// (`net.ipv4.ip_local_port_range`, both ends included), or the kernel's default when it cannot
/// be read. The one reader of it: ss and the `autobound` filter both need it.
pub fn ephemeral_port_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    parse_port_range(&text).unwrap_or((32768, 60999))
}

fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text.split_ascii_whitespace().map(str::parse::<u16>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(low)), Some(Ok(high))) => Some((low, high)),
        _ => None,
    }
}

/// Port and protocol to name. The first entry for a port and protocol wins, as with
/// getservbyport(3).
pub(super) fn read_services() -> HashMap<(u16, u8), Box<str>> {
    let text = netdb::read_services();
    let mut names = HashMap::new();
    for service in netdb::services(&text) {
        names
            .entry((service.port, service.protocol))
            .or_insert_with(|| service.name.into());
    }
    names
}

pub(super) fn read_protocols() -> HashMap<u8, Box<str>> {
    let text = netdb::read_protocols();
    let mut names = HashMap::new();
    for (name, number) in netdb::protocols(&text) {
        names.entry(number).or_insert_with(|| name.into());
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_range_is_two_numbers() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 65535"), Some((1024, 65535)));
        assert_eq!(parse_port_range("1024"), None);
        assert_eq!(parse_port_range(""), None);
    }
}
