//! Names for numbers: services for ports, protocols for raw sockets, devices for interface
//! indexes, and (with `-r`) hosts for addresses.
//!
//! Each source is read at most once, when first needed, and every answer is cached, so naming
//! half a million sockets costs a hash lookup each.
//!
//! This is the resolver: the one place that asks the system (files under /etc and /proc, the
//! C library) what a number is called. Renderers and filters ask it; it knows nothing of them.
//! Every name table is here too, for a filter reads names back into numbers: the network
//! databases ([`netdb`]) and the names of packet and netlink protocols ([`linknames`]).

use std::collections::HashMap;
use std::net::IpAddr;

use crate::procs;
use crate::socket::Netid;

mod cgroups;
mod hosts;
mod interfaces;
pub mod linknames;
pub mod netdb;
mod services;

use cgroups::read_cgroups;
use hosts::reverse_lookup;
use interfaces::interface_name;
use linknames::NetlinkProtocols;
pub use services::ephemeral_port_range;
use services::{read_protocols, read_services};

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
    /// sockets the "port" is the IP protocol, named from /etc/protocols (`ipproto-N` when it
    /// has no name there).
    pub fn service(&mut self, port: u16, netid: Netid) -> Option<&str> {
        if netid == Netid::Raw {
            // A protocol /etc/protocols does not name (or none, without the file) is
            // `ipproto-N`, as getprotobynumber's absence makes ss print it.
            let protocol = u8::try_from(port).ok()?;
            return Some(
                self.protocols
                    .get_or_insert_with(read_protocols)
                    .entry(protocol)
                    .or_insert_with(|| format!("ipproto-{protocol}").into()),
            );
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
