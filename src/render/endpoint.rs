//! The two ends of a socket, as ss writes them: the one formatter the table, the JSON records
//! and the live view share, so that they cannot drift apart.
//!
//! An endpoint is written as four cells, as the table lays them out: the local address (with
//! the `:` or ` ` that joins it to what follows), the local port, the peer address and the
//! peer port. A view that wants `addr:port` joins them; the table gives each its column.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};

use crate::names::Names;
use crate::names::linknames;
use crate::socket::{
    Endpoints, InetEndpoints, Netid, NetlinkEndpoints, PacketEndpoints, Socket, UnixEndpoints,
    UnixName,
};

/// How names are shown: ss's `-n` and `-r`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Style {
    /// `-n`: ports, protocols and netlink port ids as numbers.
    pub numeric: bool,
    /// `-r`: addresses as host names, where they have one.
    pub resolve: bool,
}

/// The four cells of an endpoint pair, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    LocalAddress,
    LocalPort,
    PeerAddress,
    PeerPort,
}

/// Where the cells go: one byte buffer, told where each cell ends.
pub trait Cells {
    fn text(&mut self) -> &mut Vec<u8>;
    fn end(&mut self, cell: Cell);
}

/// Writes both ends of `socket`.
pub fn write(cells: &mut impl Cells, socket: &Socket<'_>, names: &mut Names, style: Style) {
    match socket.endpoints {
        Endpoints::Inet(ends) => inet(cells, socket.netid, &ends, names, style),
        Endpoints::Unix(ends) => unix(cells, socket.inode, &ends),
        Endpoints::Packet(ends) => packet(cells, &ends, names, style),
        Endpoints::Netlink(ends) => netlink(cells, &ends, names, style),
    }
}

/// The two ends as `local` and `peer` text, each `address:port` (or for unix sockets
/// `name inode`): what a view that does not align columns shows.
pub fn pair(socket: &Socket<'_>, names: &mut Names, style: Style) -> (Vec<u8>, Vec<u8>) {
    #[derive(Default)]
    struct Pair {
        text: Vec<u8>,
        split: usize,
    }
    impl Cells for Pair {
        fn text(&mut self) -> &mut Vec<u8> {
            &mut self.text
        }
        fn end(&mut self, cell: Cell) {
            if cell == Cell::LocalPort {
                self.split = self.text.len();
            }
        }
    }
    let mut pair = Pair::default();
    write(&mut pair, socket, names, style);
    let peer = pair.text.split_off(pair.split);
    (pair.text, peer)
}

fn inet(
    cells: &mut impl Cells,
    netid: Netid,
    ends: &InetEndpoints,
    names: &mut Names,
    style: Style,
) {
    let v6only = ends.v6only == Some(true);
    host(cells.text(), ends.local.ip(), v6only, names, style);
    if ends.ifindex != 0 {
        cells.text().push(b'%');
        let name = names.interface(ends.ifindex);
        cells.text().extend_from_slice(name);
    }
    cells.text().push(b':');
    cells.end(Cell::LocalAddress);
    port(cells.text(), ends.local.port(), netid, names, style);
    cells.end(Cell::LocalPort);
    host(cells.text(), ends.peer.ip(), v6only, names, style);
    cells.text().push(b':');
    cells.end(Cell::PeerAddress);
    port(cells.text(), ends.peer.port(), netid, names, style);
    cells.end(Cell::PeerPort);
}

/// An address as ss prints it: `*` for the dual-stack wildcard, IPv6 in brackets, or the host
/// name with `-r`.
fn host(text: &mut Vec<u8>, ip: IpAddr, v6only: bool, names: &mut Names, style: Style) {
    if ip.is_unspecified() && ip.is_ipv6() && !v6only {
        text.push(b'*');
        return;
    }
    if style.resolve && !ip.is_unspecified() {
        if let Some(host) = names.host(ip) {
            let bracket = host.contains(':');
            if bracket {
                text.push(b'[');
            }
            text.extend_from_slice(host.as_bytes());
            if bracket {
                text.push(b']');
            }
            return;
        }
    }
    match ip {
        IpAddr::V4(v4) => push_ipv4(text, v4),
        // Writing to a Vec cannot fail.
        IpAddr::V6(v6) => {
            text.push(b'[');
            push_ipv6(text, v6);
            text.push(b']');
        }
    }
}

/// An IPv6 address as glibc's `inet_ntop` prints it, which ss uses: as RFC 5952 does (and
/// Rust), except that an IPv4-compatible address (96 zero bits, then anything but `0.0.0.x`)
/// ends in dotted IPv4, `::1.2.3.4`.
pub fn push_ipv6(text: &mut Vec<u8>, v6: std::net::Ipv6Addr) {
    // Writing to a Vec cannot fail.
    let _ = write!(text, "{}", Inet6(v6));
}

/// Displays an IPv6 address as [`push_ipv6`] writes it.
pub struct Inet6(pub std::net::Ipv6Addr);

impl std::fmt::Display for Inet6 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let segments = self.0.segments();
        if segments[..6] == [0; 6] && segments[6] != 0 {
            let [.., a, b, c, d] = self.0.octets();
            write!(f, "::{a}.{b}.{c}.{d}")
        } else {
            write!(f, "{}", self.0)
        }
    }
}

fn port(text: &mut Vec<u8>, port: u16, netid: Netid, names: &mut Names, style: Style) {
    if port == 0 {
        text.push(b'*');
        return;
    }
    if !style.numeric {
        if let Some(name) = names.service(port, netid) {
            text.extend_from_slice(name.as_bytes());
            return;
        }
    }
    push_number(text, port);
}

fn unix(cells: &mut impl Cells, inode: u64, ends: &UnixEndpoints<'_>) {
    let text = cells.text();
    match ends.name {
        UnixName::Unnamed => text.push(b'*'),
        name => push_unix_name(text, name),
    }
    text.push(b' ');
    cells.end(Cell::LocalAddress);
    push_number(cells.text(), inode);
    cells.end(Cell::LocalPort);
    cells.text().extend_from_slice(b"* ");
    cells.end(Cell::PeerAddress);
    push_number(cells.text(), ends.peer_inode);
    cells.end(Cell::PeerPort);
}

/// A unix socket's name as ss shows it: a path as it is; an abstract name after `@`, every NUL
/// in it shown as `@` too; nothing for an unnamed socket. Bytes, not text: a path need not be
/// UTF-8.
pub fn push_unix_name(text: &mut Vec<u8>, name: UnixName<'_>) {
    match name {
        UnixName::Unnamed => {}
        UnixName::Path(path) => text.extend_from_slice(path),
        UnixName::Abstract(name) => {
            text.push(b'@');
            text.extend(name.iter().map(|&b| if b == 0 { b'@' } else { b }));
        }
    }
}

/// `PROTOCOL:DEVICE`: the ethertype by name (by number in brackets with `-n` or when it has
/// none; `*` for every protocol), the device `*` when the socket is bound to none.
fn packet(cells: &mut impl Cells, ends: &PacketEndpoints, names: &mut Names, style: Style) {
    let text = cells.text();
    match linknames::ethertype_name(ends.protocol) {
        Some(name) if !style.numeric || ends.protocol == linknames::ETH_P_ALL => {
            text.extend_from_slice(name.as_bytes())
        }
        _ => {
            text.push(b'[');
            push_number(text, ends.protocol);
            text.push(b']');
        }
    }
    text.push(b':');
    cells.end(Cell::LocalAddress);
    if ends.ifindex == 0 {
        cells.text().push(b'*');
    } else {
        let name = names.interface(ends.ifindex);
        cells.text().extend_from_slice(name);
    }
    cells.end(Cell::LocalPort);
    cells.text().push(b'*');
    cells.end(Cell::PeerAddress);
    cells.end(Cell::PeerPort);
}

/// `PROTOCOL:PORTID`: the protocol by name unless `-n`; the port id as `kernel` for the
/// kernel's socket, as `COMMAND/PID` when a process has that pid (a process's first socket
/// usually gets its pid), else as a signed number. A connected socket's peer is
/// `GROUP:PORTID`.
fn netlink(cells: &mut impl Cells, ends: &NetlinkEndpoints, names: &mut Names, style: Style) {
    let text = cells.text();
    match names.netlink_protocol(ends.protocol) {
        Some(name) if !style.numeric => text.extend_from_slice(name.as_bytes()),
        _ => push_number(text, ends.protocol),
    }
    text.push(b':');
    cells.end(Cell::LocalAddress);
    let portid = ends.portid as i32;
    let text = cells.text();
    if style.numeric {
        push_number(text, portid);
    } else if portid == 0 {
        text.extend_from_slice(b"kernel");
    } else if let Some(command) = names.process_name(portid) {
        text.extend_from_slice(command);
        text.push(b'/');
        push_number(text, portid);
    } else {
        push_number(text, portid);
    }
    cells.end(Cell::LocalPort);
    if !ends.connected {
        cells.text().push(b'*');
        cells.end(Cell::PeerAddress);
    } else {
        push_number(cells.text(), ends.dst_group);
        cells.text().push(b':');
        cells.end(Cell::PeerAddress);
        push_number(cells.text(), ends.dst_portid as i32);
    }
    cells.end(Cell::PeerPort);
}

/// A dotted quad, without the formatting machinery of `Display`, which showed in profiles.
fn push_ipv4(text: &mut Vec<u8>, ip: Ipv4Addr) {
    let mut digits = itoa::Buffer::new();
    for (i, octet) in ip.octets().into_iter().enumerate() {
        if i > 0 {
            text.push(b'.');
        }
        text.extend_from_slice(digits.format(octet).as_bytes());
    }
}

pub(crate) fn push_number(text: &mut Vec<u8>, n: impl itoa::Integer) {
    text.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use super::*;
    use crate::socket::{Details, TcpState};

    fn socket(endpoints: Endpoints<'_>, netid: Netid) -> Socket<'_> {
        Socket {
            netid,
            state: TcpState::Listen,
            recv_q: 0,
            send_q: 0,
            inode: 42,
            uid: None,
            cookie: None,
            mark: None,
            cgroup_id: None,
            endpoints,
            details: Details::default(),
        }
    }

    #[test]
    fn pairs_join_the_cells() {
        let mut names = Names::new();
        let numeric = Style {
            numeric: true,
            resolve: false,
        };
        let inet = socket(
            Endpoints::Inet(InetEndpoints {
                local: SocketAddr::from(([127, 0, 0, 1], 80)),
                peer: SocketAddr::from(([0, 0, 0, 0], 0)),
                ifindex: 0,
                v6only: None,
            }),
            Netid::Tcp,
        );
        assert_eq!(
            pair(&inet, &mut names, numeric),
            (b"127.0.0.1:80".to_vec(), b"0.0.0.0:*".to_vec())
        );
        let unix = socket(
            Endpoints::Unix(UnixEndpoints {
                name: UnixName::Abstract(b"a\0b"),
                peer_inode: 7,
            }),
            Netid::UnixStream,
        );
        assert_eq!(
            pair(&unix, &mut names, numeric),
            (b"@a@b 42".to_vec(), b"* 7".to_vec())
        );
        let kernel = socket(
            Endpoints::Netlink(NetlinkEndpoints {
                protocol: 0,
                portid: 0,
                dst_portid: 0,
                dst_group: 0,
                connected: false,
            }),
            Netid::Netlink,
        );
        let (local, peer) = pair(&kernel, &mut names, Style::default());
        assert!(
            local.ends_with(b":kernel"),
            "{}",
            String::from_utf8_lossy(&local)
        );
        assert_eq!(peer, b"*");
    }
}
