//! The values predicates take: HOST (`[FAMILY:]ADDRESS[/PREFIX][:PORT]`), ports, devices,
//! marks and cgroup paths.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use super::{Host, InetHost, IpFamily, NetlinkHost, PacketHost};
use crate::names::linknames::{self, NetlinkProtocols};
use crate::names::netdb;
use crate::socket::Family;

/// Why a value cannot be used, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError(pub String);

fn error<T>(message: String) -> Result<T, HostError> {
    Err(HostError(message))
}

/// A `sport`/`dport` operand: a port (with an optional family), or, when unix names are the
/// default, a name pattern as ss reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortSpec {
    Host(InetHost),
    Unix(Vec<u8>),
    /// A packet socket's "port" is its device.
    Packet(PacketHost),
    /// A netlink socket's is its port id.
    Netlink(NetlinkHost),
}

impl PortSpec {
    pub fn into_host(self) -> Host {
        match self {
            PortSpec::Host(host) => Host::Inet(host),
            PortSpec::Unix(pattern) => Host::Unix(pattern),
            PortSpec::Packet(host) => Host::Packet(host),
            PortSpec::Netlink(host) => Host::Netlink(host),
        }
    }

    /// The number a port comparison (`sport > :1024`) compares with, if there is one.
    pub fn number(&self) -> Option<i64> {
        match self {
            PortSpec::Host(host) => host.port.map(i64::from),
            PortSpec::Unix(_) => None,
            PortSpec::Packet(host) => host.ifindex.map(i64::from),
            PortSpec::Netlink(host) => host.portid.map(i64::from),
        }
    }
}

/// The family a `FAMILY:` prefix of a `src`, `dst`, `sport` or `dport` operand names, if it
/// has one. As in ss, such a prefix also becomes the family of the operands after it, and the
/// family listed.
pub fn explicit_family(text: &str) -> Option<Family> {
    split_family(text).0
}

/// A leading `FAMILY:`, if the text has one.
fn split_family(text: &str) -> (Option<Family>, &str) {
    if let Some((word, rest)) = text.split_once(':') {
        if let Some(family) = Family::ALL.into_iter().find(|f| f.name() == word) {
            return (Some(family), rest);
        }
    }
    (None, text)
}

fn ip_family(family: Option<Family>) -> Result<Option<IpFamily>, HostError> {
    match family {
        None => Ok(None),
        Some(Family::Inet) => Ok(Some(IpFamily::V4)),
        Some(Family::Inet6) => Ok(Some(IpFamily::V6)),
        Some(other) => error(format!(
            "filtering on {} addresses is not supported yet",
            other.name()
        )),
    }
}

/// The conditions a `src`/`dst` operand stands for: one, or one per address of a host name.
pub fn hosts(
    text: &str,
    default_family: Option<Family>,
    service_protocol: Option<u8>,
) -> Result<Vec<Host>, HostError> {
    let (explicit, rest) = split_family(text);
    match explicit.or(default_family) {
        Some(Family::Unix) => return Ok(vec![Host::Unix(rest.as_bytes().to_vec())]),
        Some(Family::Packet) => return Ok(vec![Host::Packet(packet_host(rest)?)]),
        Some(Family::Netlink) => return Ok(vec![Host::Netlink(netlink_host(rest)?)]),
        _ => {}
    }
    // Any vsock address: a condition every socket of the family listed (vsock) meets.
    if explicit == Some(Family::Vsock) && matches!(rest, "" | "*" | "*:*") {
        return Ok(vec![Host::Inet(InetHost {
            family: None,
            prefix: None,
            port: None,
            mapped_too: false,
        })]);
    }
    let named = ip_family(explicit)?;
    let family = match named {
        Some(family) => Some(family),
        None => ip_family(default_family).unwrap_or(None),
    };
    let (address, port) = split_port(rest)?;
    let port = match port {
        Some(port) => parse_port(port, service_protocol)?,
        None => None,
    };
    let host = |family: Option<IpFamily>, prefix| {
        Host::Inet(InetHost {
            family,
            prefix,
            port,
            mapped_too: named.is_none() && family == Some(IpFamily::V4),
        })
    };
    // `[]` and `[*]` are any address too, of either family, as in ss; so are iproute2's
    // words for it, `all`, `any` and `default`, which it never looks up as host names.
    if matches!(address, "" | "*" | "[]" | "[*]" | "all" | "any" | "default") {
        return Ok(vec![host(family, None)]);
    }
    // As in ss, an address of the other family than the one named (`inet6:`) or implied
    // (`-6`, `-f inet6`) is an error, not a condition nothing can match.
    let literal_of = |literal: IpFamily| match family {
        Some(family) if family != literal => error(format!(
            "\"{address}\" is an {} address, where the filter's family is {}",
            literal.name(),
            family.name()
        )),
        _ => Ok(()),
    };
    if let Some(inner) = address.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        let (ip, len) = with_prefix_len(inner, 128, |a| a.parse::<Ipv6Addr>().ok())
            .ok_or_else(|| HostError(format!("\"{address}\" is not an IPv6 address")))?;
        literal_of(IpFamily::V6)?;
        return Ok(vec![host(Some(IpFamily::V6), Some((IpAddr::V6(ip), len)))]);
    }
    // Without brackets, as in ss, everything up to the last colon is the address, unless a
    // prefix length follows that colon: `2001:db8::/64`, `::1:22` (port 22 of ::1).
    if address.contains(':') {
        let (ip, len) =
            with_prefix_len(address, 128, |a| a.parse::<Ipv6Addr>().ok()).ok_or_else(|| {
                HostError(format!(
                    "\"{address}\" is not an IPv6 address (without brackets, the part after \
                     the last \":\" is the port; write [{rest}] for the address alone)"
                ))
            })?;
        literal_of(IpFamily::V6)?;
        return Ok(vec![host(Some(IpFamily::V6), Some((IpAddr::V6(ip), len)))]);
    }
    if address.starts_with(|c: char| c.is_ascii_digit()) {
        // What iproute2 cannot read goes to the resolver, as in ss, whose C library reads
        // the other forms of inet_aton made of digits and dots (`2130706433`, `0177.1`).
        let (ip, len) = with_prefix_len(address, 32, parse_ipv4)
            .or_else(|| {
                // gethostbyname2 reads a name of digits and dots alone as a number.
                if !address.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
                    return None;
                }
                let resolved = resolve(address, IpFamily::V4).ok()?;
                Some((
                    resolved.into_iter().find_map(|ip| match ip {
                        IpAddr::V4(ip) => Some(ip),
                        IpAddr::V6(_) => None,
                    })?,
                    32,
                ))
            })
            .ok_or_else(|| HostError(format!("\"{address}\" is not an IPv4 address")))?;
        literal_of(IpFamily::V4)?;
        return Ok(vec![host(Some(IpFamily::V4), Some((IpAddr::V4(ip), len)))]);
    }
    // A host name: as ss does, look up its IPv4 addresses, and its IPv6 ones when it has
    // none, unless a family is named or implied.
    let addresses = match family {
        Some(family) => resolve(address, family).map_err(|why| {
            HostError(format!(
                "\"{address}\" has no {} address ({why})",
                family.name()
            ))
        })?,
        None => resolve(address, IpFamily::V4)
            .or_else(|_| resolve(address, IpFamily::V6))
            .map_err(|why| HostError(format!("cannot resolve \"{address}\": {why}")))?,
    };
    Ok(addresses
        .into_iter()
        .map(|ip| {
            let len = if ip.is_ipv4() { 32 } else { 128 };
            let family = if ip.is_ipv4() {
                IpFamily::V4
            } else {
                IpFamily::V6
            };
            host(Some(family), Some((ip, len)))
        })
        .collect())
}

/// The addresses of `family` that the resolver (`/etc/hosts`, DNS, as nsswitch.conf says)
/// gives for `name`, in its order, each once; the resolver's reason when there are none.
fn resolve(name: &str, family: IpFamily) -> Result<Vec<IpAddr>, String> {
    let Ok(c_name) = std::ffi::CString::new(name) else {
        return Err("a name holds no NUL".into());
    };
    // SAFETY: an all-zero addrinfo is a valid hints value (no flags, any protocol).
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match family {
        IpFamily::V4 => libc::AF_INET,
        IpFamily::V6 => libc::AF_INET6,
    };
    hints.ai_socktype = libc::SOCK_STREAM;
    let mut list: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: valid NUL-terminated name, valid hints, and an out pointer getaddrinfo fills.
    let status = unsafe { libc::getaddrinfo(c_name.as_ptr(), std::ptr::null(), &hints, &mut list) };
    if status != 0 {
        // SAFETY: gai_strerror returns a static NUL-terminated message for any status.
        let reason = unsafe { std::ffi::CStr::from_ptr(libc::gai_strerror(status)) };
        return Err(reason.to_string_lossy().into_owned());
    }
    let mut addresses: Vec<IpAddr> = Vec::new();
    let mut node = list;
    while !node.is_null() {
        // SAFETY: node is an element of the list getaddrinfo returned, not yet freed; its
        // ai_addr points to a sockaddr of the family it names.
        let entry = unsafe { &*node };
        let ip = match entry.ai_family {
            libc::AF_INET => {
                let sin = unsafe { &*(entry.ai_addr as *const libc::sockaddr_in) };
                Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    sin.sin_addr.s_addr,
                ))))
            }
            libc::AF_INET6 => {
                let sin6 = unsafe { &*(entry.ai_addr as *const libc::sockaddr_in6) };
                Some(IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr)))
            }
            _ => None,
        };
        if let Some(ip) = ip.filter(|ip| !addresses.contains(ip)) {
            addresses.push(ip);
        }
        node = entry.ai_next;
    }
    // SAFETY: list came from a successful getaddrinfo and is freed once.
    unsafe { libc::freeaddrinfo(list) };
    if addresses.is_empty() {
        return Err("no address".into());
    }
    Ok(addresses)
}

/// Splits `ADDRESS[:PORT]`, where an IPv6 address is in brackets.
fn split_port(text: &str) -> Result<(&str, Option<&str>), HostError> {
    if text.starts_with('[') {
        let Some(close) = text.find(']') else {
            return error(format!("\"{text}\" has no closing \"]\""));
        };
        let (address, after) = text.split_at(close + 1);
        return match after {
            "" => Ok((address, None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((address, Some(port))),
                None => error(format!("\"{after}\" after \"{address}\" is not a port")),
            },
        };
    }
    // The port follows the last colon, unless a prefix length does (`2001:db8::/64`).
    match text.rfind(':') {
        Some(colon) if !text[colon..].contains('/') => {
            Ok((&text[..colon], Some(&text[colon + 1..])))
        }
        _ => Ok((text, None)),
    }
}

/// `ADDRESS[/LEN]`, with `full` bits when no length is given.
fn with_prefix_len<T>(text: &str, full: u8, parse: impl Fn(&str) -> Option<T>) -> Option<(T, u8)> {
    let (address, len) = match text.split_once('/') {
        Some((address, len)) => (address, len.parse::<u8>().ok().filter(|&l| l <= full)?),
        None => (text, full),
    };
    Some((parse(address)?, len))
}

/// A dotted IPv4 address, possibly cut short as ss allows (`127/8`, `193.233.7/24`): the
/// missing bytes are zero.
fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let parts: Vec<&str> = text.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    for (octet, part) in octets.iter_mut().zip(&parts) {
        // Each part as strtoul reads it, hex and octal too (`010` is 8).
        *octet = u8::try_from(parse_number(part)?).ok()?;
    }
    Some(Ipv4Addr::from(octets))
}

/// A port: a number (decimal, `0x` hex or `0` octal, as strtoul reads it), a service name, or
/// `*`/nothing for any port.
fn parse_port(text: &str, service_protocol: Option<u8>) -> Result<Option<u16>, HostError> {
    if text.is_empty() || text == "*" {
        return Ok(None);
    }
    if let Some(number) = parse_number(text) {
        return match u16::try_from(number) {
            Ok(port) => Ok(Some(port)),
            Err(_) => error(format!("port {text} is out of range (0 to 65535)")),
        };
    }
    // ss reads -1 as any port, and other negative ports differently in the kernel and in user
    // space; a port is never negative.
    if text.strip_prefix('-').and_then(parse_number).is_some() {
        return error(format!("port {text} is out of range (0 to 65535)"));
    }
    match netdb::service_port(text, service_protocol) {
        Some(port) => Ok(Some(port)),
        None => error(format!("\"{text}\" is not a port number or a service name")),
    }
}

/// An unsigned number as strtoul(3) with base 0 reads it.
fn parse_number(text: &str) -> Option<u64> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let (digits, radix) = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
        (hex, 16)
    } else if text.len() > 1 && text.starts_with('0') {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    // from_str_radix takes a sign of its own.
    if digits.is_empty() || !digits.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// The operand of `sport`/`dport`: `[FAMILY:]:PORT`, `PORT` or `*`.
pub fn port_spec(
    text: &str,
    default_family: Option<Family>,
    service_protocol: Option<u8>,
) -> Result<PortSpec, HostError> {
    let (explicit, rest) = split_family(text);
    // `:PORT`, `PORT`, or `*:PORT` as in a HOST (ss drops the port of that last form and
    // matches every port).
    let port = rest
        .strip_prefix(':')
        .or_else(|| rest.strip_prefix("*:"))
        .unwrap_or(rest);
    match explicit.or(default_family) {
        Some(Family::Unix) => return Ok(PortSpec::Unix(rest.as_bytes().to_vec())),
        Some(Family::Packet) => {
            return Ok(PortSpec::Packet(PacketHost {
                protocol: None,
                ifindex: any_or(port, device)?,
            }));
        }
        Some(Family::Netlink) => {
            return Ok(PortSpec::Netlink(NetlinkHost {
                protocol: None,
                portid: netlink_portid(port)?,
            }));
        }
        _ => {}
    }
    let family = ip_family(explicit)?;
    let port = parse_port(port, service_protocol)?;
    Ok(PortSpec::Host(InetHost {
        family,
        prefix: None,
        port,
        mapped_too: false,
    }))
}

/// `None` for an empty or `*` part, which matches anything; otherwise what `parse` makes of it.
fn any_or<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, HostError>,
) -> Result<Option<T>, HostError> {
    match text {
        "" | "*" => Ok(None),
        text => parse(text).map(Some),
    }
}

/// `PROTOCOL[:DEVICE]` of a packet socket: an ethertype by name (`ip`, `ipv6`, `all`, ...) or
/// number, and a device by name or index.
fn packet_host(text: &str) -> Result<PacketHost, HostError> {
    let (protocol, device_part) = match text.split_once(':') {
        Some((protocol, device)) => (protocol, device),
        None => (text, ""),
    };
    let protocol = any_or(protocol, |name| {
        linknames::ethertype_number(name)
            .or_else(|| parse_number(name).and_then(|n| u16::try_from(n).ok()))
            .ok_or_else(|| {
                HostError(format!(
                    "\"{name}\" is not an ethertype (ip, ipv6, all, 0x88cc, ...)"
                ))
            })
    })?;
    Ok(PacketHost {
        protocol,
        ifindex: any_or(device_part, device)?,
    })
}

/// `PROTOCOL[:PORTID]` of a netlink socket: a protocol by name (`rtnl`, `genl`, ...) or number,
/// and a port id (`kernel` is 0; -1, like `*`, any).
fn netlink_host(text: &str) -> Result<NetlinkHost, HostError> {
    let (protocol, portid) = match text.split_once(':') {
        Some((protocol, portid)) => (protocol, portid),
        None => (text, ""),
    };
    let protocol = any_or(protocol, |name| {
        NetlinkProtocols::load()
            .number(name)
            .or_else(|| parse_number(name).and_then(|n| u8::try_from(n).ok()))
            .ok_or_else(|| {
                HostError(format!(
                    "\"{name}\" is not a netlink protocol (rtnl, genl, 16, ...)"
                ))
            })
    })?;
    Ok(NetlinkHost {
        protocol,
        portid: netlink_portid(portid)?,
    })
}

fn netlink_portid(text: &str) -> Result<Option<i32>, HostError> {
    let bad = || HostError(format!("\"{text}\" is not a netlink port id"));
    match text {
        "" | "*" | "-1" => Ok(None),
        "kernel" => Ok(Some(0)),
        _ => match text.strip_prefix('-') {
            // Port ids are 32 bits wide; the ones the kernel picks print as negative numbers.
            Some(digits) => parse_number(digits)
                .and_then(|n| i32::try_from(n).ok())
                .map(|n| Some(-n))
                .ok_or_else(bad),
            None => parse_number(text)
                .and_then(|n| u32::try_from(n).ok())
                .map(|n| Some(n as i32))
                .ok_or_else(bad),
        },
    }
}

/// A device by name; failing that, `ifN` (how ss prints the index of a device that is gone)
/// or an index as a number (decimal, `0x` hex or `0` octal).
pub fn device(name: &str) -> Result<u32, HostError> {
    let by_name = std::ffi::CString::new(name)
        .ok()
        // SAFETY: a valid NUL-terminated string; if_nametoindex only reads it.
        .map(|c_name| unsafe { libc::if_nametoindex(c_name.as_ptr()) })
        .filter(|&index| index != 0);
    if let Some(index) = by_name {
        return Ok(index);
    }
    let number = match name.strip_prefix("if") {
        // Decimal digits only, and never 0, which is no device.
        Some(digits) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            digits.parse::<u32>().ok().filter(|&index| index != 0)
        }
        Some(_) => None,
        None => parse_number(name).and_then(|n| u32::try_from(n).ok()),
    };
    number.ok_or_else(|| HostError(format!("no network device \"{name}\"")))
}

/// `MARK[/MASK]`; without a mask every bit counts. Each is a 32-bit number, which may be
/// written negative (`-1` is every bit), as ss reads it.
pub fn mark(text: &str) -> Result<(u32, u32), HostError> {
    let number = |part: &str| match part.strip_prefix('-') {
        Some(magnitude) => parse_number(magnitude)
            .filter(|&n| n <= 1 << 31)
            .map(|n| (n as u32).wrapping_neg()),
        None => parse_number(part).and_then(|n| u32::try_from(n).ok()),
    };
    let bad = || HostError(format!("\"{text}\" is not a mark (MARK or MARK/MASK)"));
    match text.split_once('/') {
        Some((mark, mask)) => Ok((number(mark).ok_or_else(bad)?, number(mask).ok_or_else(bad)?)),
        None => Ok((number(text).ok_or_else(bad)?, u32::MAX)),
    }
}

/// The id of a cgroup v2 path, relative to the cgroup2 mount: on 64-bit kernels a cgroup's id
/// is the inode number of its directory.
pub fn cgroup(path: &str) -> Result<u64, HostError> {
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let Some(mount) = mounts.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup2").then(|| PathBuf::from(point))
    }) else {
        return error("no cgroup2 file system is mounted".into());
    };
    let full = mount.join(path.trim_start_matches('/'));
    match std::fs::metadata(&full) {
        Ok(meta) => Ok(meta.ino()),
        Err(e) => error(format!("no cgroup \"{path}\" ({}: {e})", full.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each part as strtoul reads it, as iproute2 reads an address.
    #[test]
    fn ipv4_parts_in_any_base() {
        let v4 = |a: [u8; 4]| Some(Ipv4Addr::from(a));
        assert_eq!(parse_ipv4("010.0.0.1"), v4([8, 0, 0, 1]));
        assert_eq!(parse_ipv4("0x7f.0.0.1"), v4([127, 0, 0, 1]));
        assert_eq!(parse_ipv4("0x7f.1"), v4([127, 1, 0, 0]));
        assert_eq!(parse_ipv4("127.0.0.01"), v4([127, 0, 0, 1]));
        for bad in [
            "08.1",
            "127.0.0.256",
            "1.2.3.4.5",
            "0x",
            "1..2",
            "0x7f000001",
        ] {
            assert_eq!(parse_ipv4(bad), None, "{bad}");
        }
        assert_eq!(
            inet("any:22"),
            InetHost {
                family: None,
                prefix: None,
                port: Some(22),
                mapped_too: false,
            }
        );
    }

    fn inet(text: &str) -> InetHost {
        match hosts(text, None, None).unwrap().remove(0) {
            Host::Inet(host) => host,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn address_forms() {
        let h = inet("127.0.0.1:5000");
        assert_eq!(h.family, Some(IpFamily::V4));
        assert_eq!(h.prefix, Some(("127.0.0.1".parse().unwrap(), 32)));
        assert_eq!(h.port, Some(5000));
        assert!(h.mapped_too);
        let h = inet("193.233.7/24");
        assert_eq!(h.prefix, Some(("193.233.7.0".parse().unwrap(), 24)));
        let h = inet("[::1]:5001");
        assert_eq!(h.prefix, Some(("::1".parse().unwrap(), 128)));
        assert!(!h.mapped_too);
        let h = inet("[fe80::/64]");
        assert_eq!(h.prefix, Some(("fe80::".parse().unwrap(), 64)));
        let h = inet("*:22");
        assert_eq!((h.family, h.prefix, h.port), (None, None, Some(22)));
        let h = inet("inet:127.0.0.1");
        assert!(!h.mapped_too);
        let h = inet("inet6:*");
        assert_eq!((h.family, h.prefix), (Some(IpFamily::V6), None));
        let h = inet(":ssh");
        assert_eq!(h.port, Some(22));
        let h = inet("127.0.0.1:");
        assert_eq!(h.port, None);
        // Without brackets the port follows the last colon, unless a prefix length does.
        let h = inet("2001:db8::/64");
        assert_eq!(h.prefix, Some(("2001:db8::".parse().unwrap(), 64)));
        assert_eq!((h.family, h.port), (Some(IpFamily::V6), None));
        let h = inet("::1:22");
        assert_eq!(
            (h.prefix, h.port),
            (Some(("::1".parse().unwrap(), 128)), Some(22))
        );
        let h = inet("2001:db8::/64:");
        assert_eq!(h.port, None);
    }

    #[test]
    fn port_operands() {
        let port = |text: &str| match port_spec(text, None, None) {
            Ok(PortSpec::Host(host)) => Ok(host.port),
            Ok(other) => panic!("{other:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(port(":22"), Ok(Some(22)));
        assert_eq!(port("*:22"), Ok(Some(22)));
        assert_eq!(port("inet:*:22"), Ok(Some(22)));
        assert_eq!(port(":"), Ok(None));
        assert_eq!(port("*"), Ok(None));
        assert!(port(":-1").is_err());
        assert!(port(":0x").is_err());
    }

    #[test]
    fn devices() {
        assert_eq!(device("lo"), Ok(1));
        assert_eq!(device("if7"), Ok(7));
        assert_eq!(device("010"), Ok(8));
        assert_eq!(device("0x10"), Ok(16));
        for bad in [
            "if0",
            "if",
            "if0x3",
            "if3x",
            "ifx",
            "0x",
            "3x",
            "-1",
            "4294967296",
        ] {
            assert!(device(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_addresses() {
        for bad in [
            "1.2.3.4.5",
            "127.0.0.1/33",
            "::1",
            "2001:db8::",
            "::ffff:127.0.0.1",
            "[::1",
            "[::1]x",
            "[zz]",
            "127.0.0.1:99999",
            "127.0.0.1:nosuchservice",
            "link:eth0",
        ] {
            assert!(hosts(bad, None, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_names_when_unix_is_the_default() {
        assert_eq!(
            hosts("/run/*", Some(Family::Unix), None).unwrap(),
            [Host::Unix(b"/run/*".to_vec())]
        );
        assert_eq!(
            hosts("unix:@abs*", None, None).unwrap(),
            [Host::Unix(b"@abs*".to_vec())]
        );
    }

    #[test]
    fn ports_as_strtoul_reads_them() {
        assert_eq!(parse_port("0x16", None), Ok(Some(22)));
        assert_eq!(parse_port("022", None), Ok(Some(18)));
        assert_eq!(parse_port("+22", None), Ok(Some(22)));
        assert!(parse_port("65536", None).is_err());
        assert_eq!(parse_port("mdns", Some(17)), Ok(Some(5353)));
        assert!(parse_port("mdns", Some(6)).is_err());
    }

    #[test]
    fn marks() {
        assert_eq!(mark("0x10/0xff"), Ok((0x10, 0xff)));
        assert_eq!(mark("5"), Ok((5, u32::MAX)));
        assert!(mark("zz").is_err());
        assert!(mark("0x10/").is_err());
        assert!(mark("4294967296").is_err());
        assert_eq!(mark("-1"), Ok((u32::MAX, u32::MAX)));
        assert_eq!(mark("0x10/-16"), Ok((0x10, 0xffff_fff0)));
        assert!(mark("16x").is_err());
        assert!(mark("1/2/3").is_err());
    }
}
