//! Names for numbers: services for ports, protocols for raw sockets, devices for interface
//! indexes, and (with `-r`) hosts for addresses.
//!
//! Each source is read at most once, when first needed, and every answer is cached, so naming
//! half a million sockets costs a hash lookup each.
//!
//! This is the resolver: the one place that asks the system (files under /etc and /proc, the
//! C library) what a number is called. Renderers and filters ask it; it knows nothing of them.

use std::collections::HashMap;
use std::ffi::CStr;
use std::net::{IpAddr, SocketAddr};

use socket2::SockAddr;

use crate::linknames::NetlinkProtocols;
use crate::netdb;
use crate::procs;
use crate::socket::Netid;

/// Where ss looks up names, read lazily.
pub struct Names {
    services: Option<HashMap<(u16, u8), Box<str>>>,
    protocols: Option<HashMap<u8, Box<str>>>,
    ephemeral: Option<(u16, u16)>,
    interfaces: HashMap<u32, Box<[u8]>>,
    hosts: HashMap<IpAddr, Option<Box<str>>>,
    cgroups: Option<HashMap<u64, Box<str>>>,
    netlink_protocols: Option<NetlinkProtocols>,
    processes: HashMap<i32, Option<Box<[u8]>>>,
}

impl Default for Names {
    fn default() -> Self {
        Names::new()
    }
}

impl Names {
    pub fn new() -> Names {
        Names {
            services: None,
            protocols: None,
            ephemeral: None,
            interfaces: HashMap::new(),
            hosts: HashMap::new(),
            cgroups: None,
            netlink_protocols: None,
            processes: HashMap::new(),
        }
    }

    /// Forgets what depends on the network namespace (interface names, the ephemeral port
    /// range), for the calling thread has moved to another one.
    pub fn new_namespace(&mut self) {
        self.interfaces.clear();
        self.ephemeral = None;
    }

    /// The service name ss shows for `port` of a socket in `netid`, if there is one.
    ///
    /// Like ss, ports in the kernel's ephemeral range (`ip_local_port_range`, both ends
    /// included) are never named: they were picked by the kernel, not by a service. For raw
    /// sockets the "port" is the IP protocol, named from /etc/protocols.
    pub fn service(&mut self, port: u16, netid: Netid) -> Option<&str> {
        if netid == Netid::Raw {
            let protocol = u8::try_from(port).ok()?;
            return self
                .protocols
                .get_or_insert_with(read_protocols)
                .get(&protocol)
                .map(|name| &**name);
        }
        let (low, high) = *self.ephemeral.get_or_insert_with(ephemeral_port_range);
        if (low..=high).contains(&port) {
            return None;
        }
        let protocol = netid.ip_protocol()?;
        self.services
            .get_or_insert_with(read_services)
            .get(&(port, protocol))
            .map(|name| &**name)
    }

    /// The name of interface `index`, or `if<index>` when it has none here, as ss prints it.
    /// Bytes: the kernel takes any name without `/`, `:` or white space, UTF-8 or not.
    pub fn interface(&mut self, index: u32) -> &[u8] {
        self.interfaces.entry(index).or_insert_with(|| {
            interface_name(index).unwrap_or_else(|| format!("if{index}").into_bytes().into())
        })
    }

    /// The path of cgroup `id` below the cgroup2 mount (`/` for the root), or
    /// `unreachable:ID` when it is not there, as ss writes it.
    pub fn cgroup_path(&mut self, id: u64) -> &str {
        self.cgroups
            .get_or_insert_with(read_cgroups)
            .entry(id)
            .or_insert_with(|| format!("unreachable:{id:x}").into())
    }

    /// The name of netlink protocol `protocol`, if it has one.
    pub fn netlink_protocol(&mut self, protocol: u8) -> Option<&str> {
        self.netlink_protocols
            .get_or_insert_with(NetlinkProtocols::load)
            .name(protocol)
    }

    /// The command name of process `pid`, if there is such a process (in `$PROC_ROOT`, by
    /// default /proc, as for ss).
    pub fn process_name(&mut self, pid: i32) -> Option<&[u8]> {
        if pid <= 0 {
            return None;
        }
        self.processes
            .entry(pid)
            .or_insert_with(|| procs::command_name(pid.unsigned_abs()))
            .as_deref()
    }

    /// The host name of `ip` by reverse lookup, if it has one. An IPv4-mapped IPv6 address is
    /// looked up as the IPv4 address it carries, as ss does.
    pub fn host(&mut self, ip: IpAddr) -> Option<&str> {
        self.hosts
            .entry(ip)
            .or_insert_with(|| reverse_lookup(ip.to_canonical()))
            .as_deref()
    }
}

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
fn read_services() -> HashMap<(u16, u8), Box<str>> {
    let text = netdb::read_services();
    let mut names = HashMap::new();
    for service in netdb::services(&text) {
        names
            .entry((service.port, service.protocol))
            .or_insert_with(|| service.name.into());
    }
    names
}

fn read_protocols() -> HashMap<u8, Box<str>> {
    let text = netdb::read_protocols();
    let mut names = HashMap::new();
    for (name, number) in netdb::protocols(&text) {
        names.entry(number).or_insert_with(|| name.into());
    }
    names
}

/// Every cgroup v2 by id: a cgroup's id is its directory's inode number. Walked once, when a
/// path is first asked for.
fn read_cgroups() -> HashMap<u64, Box<str>> {
    use std::os::unix::fs::MetadataExt;
    let mut paths = HashMap::new();
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let Some(root) = mounts.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup2").then(|| std::path::PathBuf::from(point))
    }) else {
        return paths;
    };
    let mut pending = vec![(root.clone(), String::from("/"))];
    while let Some((dir, path)) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        paths.insert(meta.ino(), path.clone().into_boxed_str());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = if path == "/" {
                    format!("/{name}")
                } else {
                    format!("{path}/{name}")
                };
                pending.push((entry.path(), child));
            }
        }
    }
    paths
}

fn interface_name(index: u32) -> Option<Box<[u8]>> {
    let mut buffer = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: the buffer holds IF_NAMESIZE bytes, as if_indextoname(3) requires; on success it
    // holds a NUL-terminated name, on failure the function returns NULL and we do not read it.
    let name = unsafe { libc::if_indextoname(index, buffer.as_mut_ptr()) };
    if name.is_null() {
        return None;
    }
    // SAFETY: if_indextoname returned non-NULL, so `buffer` holds a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(buffer.as_ptr()) };
    Some(name.to_bytes().into())
}

fn reverse_lookup(ip: IpAddr) -> Option<Box<str>> {
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
    fn a_port_range_is_two_numbers() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 65535"), Some((1024, 65535)));
        assert_eq!(parse_port_range("1024"), None);
        assert_eq!(parse_port_range(""), None);
    }

    #[test]
    fn loopback_is_looked_up_without_unsafe_address_building() {
        // Whatever /etc/hosts says, the call must not fail on the address we build.
        let mut names = Names::new();
        let _ = names.host(IpAddr::from([127, 0, 0, 1]));
        let _ = names.host(IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
    }
}
