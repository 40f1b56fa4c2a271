//! The `/proc/net` fallback, for tables whose sock_diag module this kernel lacks (raw_diag is
//! often missing), and when `PROC_ROOT` or `PROC_NET_*` is set, as ss does: the inet tables,
//! unix, packet and netlink.
//!
//! These files carry less than sock_diag: no bound device, no v6only flag, no listen backlog, no
//! unix peers or queues. What is missing is reported as ss reports it from the same files.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use crate::socket::{
    Details, Endpoints, InetEndpoints, Netid, NetlinkEndpoints, PacketEndpoints, Socket, StateSet,
    TcpState, Timer, UnixEndpoints, UnixName,
};

#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}:{line}: unexpected format", path.display())]
    Format { path: PathBuf, line: usize },
}

/// The lines of `/proc/net` files that did not read as their format and were passed over, as
/// ss passes over what it cannot read: how many, and the first of them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Skipped {
    pub lines: u64,
    /// The file and line number (from 1) of the first line skipped.
    pub first: Option<(PathBuf, usize)>,
}

impl Skipped {
    fn line(&mut self, path: &Path, number: usize) {
        self.lines += 1;
        self.first.get_or_insert_with(|| (path.to_owned(), number));
    }

    /// Adds what another file skipped.
    pub fn absorb(&mut self, other: Skipped) {
        self.lines += other.lines;
        if self.first.is_none() {
            self.first = other.first;
        }
    }
}

/// Where ss reads a `/proc/net` file from: `$PROC_NET_<NAME>`, else `$PROC_ROOT/net/<name>`.
pub(crate) fn proc_path(name: &str) -> PathBuf {
    let var = format!("PROC_NET_{}", name.to_ascii_uppercase());
    if let Some(path) = std::env::var_os(var) {
        return PathBuf::from(path);
    }
    let root = std::env::var_os("PROC_ROOT").unwrap_or_else(|| "/proc".into());
    PathBuf::from(root).join("net").join(name)
}

/// The namespace's counters of connections its listeners turned away, from the `TcpExt`
/// lines of `/proc/net/netstat`: the demo's backlog stage, the live view's listener health and
/// the exporter all read them here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ListenCounters {
    /// ListenOverflows: a handshake completed, or a SYN came, while a listener's accept
    /// queue was full.
    #[serde(rename = "ListenOverflows")]
    pub overflows: u64,
    /// ListenDrops: every SYN or ACK a listener dropped, for that or any other reason.
    #[serde(rename = "ListenDrops")]
    pub drops: u64,
}

impl ListenCounters {
    /// The counters of the calling thread's network namespace now (of the file ss's
    /// `PROC_ROOT` or `PROC_NET_NETSTAT` names, when set).
    pub fn read() -> io::Result<ListenCounters> {
        let path = if std::env::var_os("PROC_ROOT").is_some()
            || std::env::var_os("PROC_NET_NETSTAT").is_some()
        {
            proc_path("netstat")
        } else {
            // Not /proc/net, which is the namespace of the process's first thread.
            PathBuf::from("/proc/thread-self/net/netstat")
        };
        let text = std::fs::read_to_string(&path)?;
        ListenCounters::parse(&text).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} has no TcpExt ListenOverflows and ListenDrops",
                    path.display()
                ),
            )
        })
    }

    /// The counters in the text of `/proc/net/netstat`: a `TcpExt:` line of names, then a
    /// `TcpExt:` line of values in the same order.
    pub fn parse(text: &str) -> Option<ListenCounters> {
        let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
        let (names, values) = (lines.next()?, lines.next()?);
        let (mut overflows, mut drops) = (None, None);
        for (name, value) in names
            .split_whitespace()
            .zip(values.split_whitespace())
            .skip(1)
        {
            match name {
                "ListenOverflows" => overflows = value.parse().ok(),
                "ListenDrops" => drops = value.parse().ok(),
                _ => {}
            }
        }
        Some(ListenCounters {
            overflows: overflows?,
            drops: drops?,
        })
    }

    /// How much each grew since `before`.
    pub fn since(self, before: ListenCounters) -> ListenCounters {
        ListenCounters {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
        }
    }

    pub fn is_zero(self) -> bool {
        self == ListenCounters::default()
    }
}

/// How many TCP sockets the calling thread's namespace has in its tables, IPv4 and IPv6,
/// TIME-WAIT entries included: `inuse` and `tw` of `/proc/net/sockstat`'s `TCP:` line and
/// `inuse` of `sockstat6`'s `TCP6:` (0 where a file or a count is missing). What a walk of the
/// TCP table costs grows with it.
pub fn tcp_table_size() -> u64 {
    let read = |name: &str| {
        std::fs::read_to_string(Path::new("/proc/thread-self/net").join(name)).unwrap_or_default()
    };
    tcp_counts(&read("sockstat"), "TCP:", &["inuse", "tw"])
        + tcp_counts(&read("sockstat6"), "TCP6:", &["inuse"])
}

/// The sum of the `names` counts on the line that starts with `label` (`TCP: inuse 5 orphan
/// 0 tw 2 ...`).
fn tcp_counts(text: &str, label: &str, names: &[&str]) -> u64 {
    let Some(line) = text.lines().find(|line| line.starts_with(label)) else {
        return 0;
    };
    let words: Vec<&str> = line.split_whitespace().skip(1).collect();
    words
        .chunks(2)
        .filter(|pair| names.contains(&pair[0]))
        .filter_map(|pair| pair.get(1)?.parse::<u64>().ok())
        .sum()
}

/// The file name of an inet table in `/proc/net`.
fn inet_file(netid: Netid, v6: bool) -> Option<&'static str> {
    Some(match (netid, v6) {
        (Netid::Tcp, false) => "tcp",
        (Netid::Tcp, true) => "tcp6",
        (Netid::Udp, false) => "udp",
        (Netid::Udp, true) => "udp6",
        (Netid::Raw, false) => "raw",
        (Netid::Raw, true) => "raw6",
        _ => return None,
    })
}

/// Whether the user asked, through ss's environment variables, to read `netid` from /proc.
pub fn forced(netid: Netid) -> bool {
    if std::env::var_os("PROC_ROOT").is_some() {
        return true;
    }
    let name = match netid {
        Netid::Tcp => "PROC_NET_TCP",
        Netid::Udp => "PROC_NET_UDP",
        Netid::Raw => "PROC_NET_RAW",
        Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket => "PROC_NET_UNIX",
        Netid::PacketRaw | Netid::PacketDgram => "PROC_NET_PACKET",
        Netid::Netlink => "PROC_NET_NETLINK",
        _ => return false,
    };
    std::env::var_os(name).is_some()
}

/// Reads one inet table file and calls `f` for every socket whose state is in `states`. A
/// missing file is an empty table, as for ss; a line that does not read is skipped.
pub fn inet_sockets<E: From<ProcError>>(
    netid: Netid,
    v6: bool,
    states: StateSet,
    f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    let Some(name) = inet_file(netid, v6) else {
        return Ok(Skipped::default());
    };
    read_inet(&proc_path(name), netid, states, f)
}

/// [`inet_sockets`] of the file at `path`, read as a `netid` table.
pub fn read_inet<E: From<ProcError>>(
    path: &Path,
    netid: Netid,
    states: StateSet,
    mut f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    for_each_line(path, |line| {
        let line = std::str::from_utf8(line).map_err(|_| Malformed)?;
        let socket = parse_inet_line(netid, line).ok_or(Malformed)?;
        if states.contains(socket.state) {
            f(&socket).map_err(LineError::Stop)?;
        }
        Ok(())
    })
}

/// A line `for_each_line`'s callback could not read, or its caller's error.
enum LineError<E> {
    Malformed,
    Stop(E),
}

/// A line that does not read as the file's format.
struct Malformed;

impl<E> From<Malformed> for LineError<E> {
    fn from(_: Malformed) -> LineError<E> {
        LineError::Malformed
    }
}

/// Calls `f` with every line of a `/proc/net` table but its header (without its newline),
/// reusing one buffer. A missing file is an empty table, as for ss; a line `f` cannot read is
/// skipped and counted.
fn for_each_line<E: From<ProcError>>(
    path: &Path,
    mut f: impl FnMut(&[u8]) -> Result<(), LineError<E>>,
) -> Result<Skipped, E> {
    let mut skipped = Skipped::default();
    let Some(mut reader) = open(path)? else {
        return Ok(skipped);
    };
    let mut line = Vec::new();
    let mut number = 0;
    loop {
        line.clear();
        number += 1;
        let read = reader
            .read_until(b'\n', &mut line)
            .map_err(|source| ProcError::Read {
                path: path.to_owned(),
                source,
            })?;
        if read == 0 {
            return Ok(skipped);
        }
        if number == 1 {
            continue; // the header
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        match f(text) {
            Ok(()) => {}
            Err(LineError::Stop(e)) => return Err(e),
            Err(LineError::Malformed) => skipped.line(path, number),
        }
    }
}

/// Reads `/proc/net/packet` and calls `f` for every socket of `tables`-kind, in file order.
/// The file has no details: the Recv-Q is the memory allocated for receiving.
pub fn packet_sockets<E: From<ProcError>>(
    tables: impl Fn(Netid) -> bool,
    f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    read_packet(&proc_path("packet"), tables, f)
}

/// [`packet_sockets`] of the file at `path`.
pub fn read_packet<E: From<ProcError>>(
    path: &Path,
    tables: impl Fn(Netid) -> bool,
    mut f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    for_each_line(path, |line| {
        // sk RefCnt Type Proto Iface R Rmem User Inode
        let line = std::str::from_utf8(line).map_err(|_| Malformed)?;
        let mut fields = line.split_ascii_whitespace().skip(2);
        let mut next = || fields.next().ok_or(Malformed);
        let kind: i32 = next()?.parse().map_err(|_| Malformed)?;
        let protocol = u16::from_str_radix(next()?, 16).map_err(|_| Malformed)?;
        let ifindex = next()?.parse().map_err(|_| Malformed)?;
        let _running = next()?;
        let rmem = next()?.parse().map_err(|_| Malformed)?;
        let uid = next()?.parse().map_err(|_| Malformed)?;
        let inode = next()?.parse().map_err(|_| Malformed)?;
        let netid = match kind {
            libc::SOCK_RAW => Netid::PacketRaw,
            libc::SOCK_DGRAM => Netid::PacketDgram,
            _ => return Ok(()),
        };
        if !tables(netid) {
            return Ok(());
        }
        f(&Socket {
            netid,
            state: TcpState::Close,
            recv_q: rmem,
            send_q: 0,
            inode,
            uid: Some(uid),
            cookie: None,
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Packet(PacketEndpoints { protocol, ifindex }),
            details: Details::default(),
        })
        .map_err(LineError::Stop)
    })
}

/// Reads `/proc/net/netlink` and calls `f` for every socket, in file order. The file does not
/// say where a connected socket sends; it does give the kernel's (hashed) address of the
/// socket, which ss shows with `-e`.
pub fn netlink_sockets<E: From<ProcError>>(
    f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    read_netlink(&proc_path("netlink"), f)
}

/// [`netlink_sockets`] of the file at `path`.
pub fn read_netlink<E: From<ProcError>>(
    path: &Path,
    mut f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    for_each_line(path, |line| {
        // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        let line = std::str::from_utf8(line).map_err(|_| Malformed)?;
        let mut fields = line.split_ascii_whitespace();
        let mut next = || fields.next().ok_or(Malformed);
        let address = u64::from_str_radix(next()?, 16).map_err(|_| Malformed)?;
        let protocol = next()?.parse().map_err(|_| Malformed)?;
        let portid = next()?.parse().map_err(|_| Malformed)?;
        let groups = u32::from_str_radix(next()?, 16).map_err(|_| Malformed)?;
        let rmem = next()?.parse().map_err(|_| Malformed)?;
        let wmem = next()?.parse().map_err(|_| Malformed)?;
        let (_dump, _locks, _drops) = (next()?, next()?, next()?);
        let inode = next()?.parse().map_err(|_| Malformed)?;
        let groups = groups.to_ne_bytes();
        f(&Socket {
            netid: Netid::Netlink,
            state: TcpState::Close,
            recv_q: rmem,
            send_q: wmem,
            inode,
            uid: None,
            cookie: None,
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Netlink(NetlinkEndpoints {
                protocol,
                portid,
                dst_portid: 0,
                dst_group: 0,
                connected: false,
            }),
            details: Details {
                groups: crate::wire::netlink_diag::NetlinkGroups::parse(&groups).ok(),
                kernel_address: Some(address),
                ..Details::default()
            },
        })
        .map_err(LineError::Stop)
    })
}

fn open(path: &Path) -> Result<Option<BufReader<File>>, ProcError> {
    match File::open(path) {
        Ok(file) => Ok(Some(BufReader::new(file))),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ProcError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// One line of `/proc/net/{tcp,udp,raw}{,6}`:
/// `sl local rem st tx_queue:rx_queue tr:when retrnsmt uid timeout inode ...`.
fn parse_inet_line(netid: Netid, line: &str) -> Option<Socket<'static>> {
    let mut fields = line.split_ascii_whitespace();
    let _slot = fields.next()?;
    let local = parse_inet_address(fields.next()?)?;
    let peer = parse_inet_address(fields.next()?)?;
    let state = u8::from_str_radix(fields.next()?, 16).ok()?;
    let (tx, rx) = fields.next()?.split_once(':')?;
    let (timer, retransmits) = (fields.next()?, fields.next()?);
    let uid = fields.next()?.parse().ok()?;
    let probes = fields.next()?;
    let inode = fields.next()?.parse().ok()?;
    let timer = parse_timer(timer, retransmits, probes)?;
    // TCP lines go on with the reference count and the kernel's address of the socket,
    // which ss shows as the socket's cookie (`sk:`); ss shows nothing of the kind for the
    // other tables.
    let cookie = match netid {
        Netid::Tcp => {
            let _refcount = fields.next();
            Some(
                fields
                    .next()
                    .map_or(Some(0), |sk| u64::from_str_radix(sk, 16).ok())?,
            )
        }
        _ => None,
    };
    Some(Socket {
        netid,
        state: TcpState::from_kernel(state),
        recv_q: u32::from_str_radix(rx, 16).ok()?,
        send_q: u32::from_str_radix(tx, 16).ok()?,
        inode,
        uid: Some(uid),
        cookie,
        mark: None,
        cgroup_id: None,
        endpoints: Endpoints::Inet(InetEndpoints {
            local,
            peer,
            ifindex: 0,
            v6only: None,
        }),
        details: Details {
            timer,
            ..Details::default()
        },
    })
}

/// `tr:tm->when`, `retrnsmt` and the column headed `timeout`: the timer's kind and the jiffies
/// until it fires, in hex, the retransmissions in hex, and the probes sent in decimal. ss
/// shows the retransmissions with the retransmit timer and the probes with the others (the
/// persist timer's zero-window probes, the keepalives), and the time as milliseconds, taking
/// a jiffy for a hundredth of a second as /proc's USER_HZ does.
fn parse_timer(timer: &str, retransmits: &str, probes: &str) -> Option<Option<Timer>> {
    let (kind, when) = timer.split_once(':')?;
    let kind = u8::from_str_radix(kind, 16).ok()?;
    let ticks = u32::from_str_radix(when, 16).ok()?;
    let retransmits = u32::from_str_radix(retransmits, 16).ok()?;
    let probes: i64 = probes.parse().ok()?;
    let count = if kind == 1 {
        i64::from(retransmits)
    } else {
        probes
    };
    Some((kind != 0).then_some(Timer {
        kind,
        expires_ms: ticks.saturating_mul(10),
        retransmits: u8::try_from(count.max(0)).unwrap_or(u8::MAX),
    }))
}

/// `0100007F:0016`, or 32 hex digits for IPv6. The kernel prints each 32-bit word of the
/// network-order address as a host-order integer, so the bytes come back with `to_ne_bytes`.
fn parse_inet_address(field: &str) -> Option<SocketAddr> {
    let (address, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = address.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_ne_bytes())
    };
    let ip = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut octets = [0; 16];
            for i in 0..4 {
                octets[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(octets))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// `__SO_ACCEPTCON` in the Flags column: a listening socket.
const SO_ACCEPTCON: u32 = 1 << 16;

/// A unix socket read from `/proc/net/unix`, owning its name.
struct ProcUnix {
    netid: Netid,
    state: TcpState,
    inode: u64,
    name: Vec<u8>,
}

/// Reads `/proc/net/unix` and calls `f` for every socket of `tables`-kind in `states`, in the
/// order ss prints this file: by table, then by inode.
///
/// The kernel writes a name as it is, bytes that are not UTF-8 and newlines included: a name is
/// kept as bytes, and what a newline leaves of it on the next line is skipped like any line
/// that does not read.
pub fn unix_sockets<E: From<ProcError>>(
    tables: impl Fn(Netid) -> bool,
    states: StateSet,
    f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    read_unix(&proc_path("unix"), tables, states, f)
}

/// [`unix_sockets`] of the file at `path`.
pub fn read_unix<E: From<ProcError>>(
    path: &Path,
    tables: impl Fn(Netid) -> bool,
    states: StateSet,
    mut f: impl FnMut(&Socket<'_>) -> Result<(), E>,
) -> Result<Skipped, E> {
    let mut sockets = Vec::new();
    let skipped = for_each_line(path, |line| {
        if let Some(socket) = parse_unix_line(line).ok_or(Malformed)? {
            if tables(socket.netid) && states.contains(socket.state) {
                sockets.push(socket);
            }
        }
        Ok::<(), LineError<E>>(())
    })?;
    sockets.sort_by_key(|s| (s.netid, s.inode));
    for s in &sockets {
        let name = match s.name.split_first() {
            None => UnixName::Unnamed,
            Some((b'@', rest)) => UnixName::Abstract(rest),
            Some(_) => UnixName::Path(&s.name),
        };
        f(&Socket {
            netid: s.netid,
            state: s.state,
            recv_q: 0,
            send_q: 0,
            inode: s.inode,
            uid: None,
            cookie: None,
            mark: None,
            cgroup_id: None,
            endpoints: Endpoints::Unix(UnixEndpoints {
                name,
                peer_inode: 0,
            }),
            details: Details::default(),
        })?;
    }
    Ok(skipped)
}

/// `Num RefCount Protocol Flags Type St Inode [Path]`; `None` for a socket type ss skips. As
/// in ss, the name ends at the first white space.
fn parse_unix_line(line: &[u8]) -> Option<Option<ProcUnix>> {
    let mut fields = line
        .split(|b| b.is_ascii_whitespace())
        .filter(|field| !field.is_empty());
    let mut text = || std::str::from_utf8(fields.next()?).ok();
    let _address = text()?;
    let _refcount = text()?;
    let _protocol = text()?;
    let flags = u32::from_str_radix(text()?, 16).ok()?;
    let kind = i32::from_str_radix(text()?, 16).ok()?;
    let st = u8::from_str_radix(text()?, 16).ok()?;
    let inode = text()?.parse().ok()?;
    let name = fields.next().unwrap_or_default().to_vec();
    let netid = match kind {
        libc::SOCK_STREAM => Netid::UnixStream,
        libc::SOCK_DGRAM => Netid::UnixDgram,
        libc::SOCK_SEQPACKET => Netid::UnixSeqpacket,
        _ => return Some(None),
    };
    // St is the socket's `SS_*` state; ss reads an unconnected datagram socket as established,
    // since datagram sockets need no connection to exchange data.
    let state = if flags & SO_ACCEPTCON != 0 {
        TcpState::Listen
    } else {
        match st {
            1 if netid == Netid::UnixDgram => TcpState::Established,
            1 => TcpState::Close,
            2 => TcpState::SynSent,
            3 => TcpState::Established,
            4 => TcpState::Closing,
            _ => TcpState::Unknown,
        }
    };
    Some(Some(ProcUnix {
        netid,
        state,
        inode,
        name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_counters_from_tcpext_lines() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\n\
                    TcpExt: 0 7 9 100\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let counters = ListenCounters::parse(text).unwrap();
        assert_eq!((counters.overflows, counters.drops), (7, 9));
        assert_eq!(ListenCounters::parse("IpExt: A\nIpExt: 1\n"), None);
        assert_eq!(
            ListenCounters::parse("TcpExt: ListenDrops\nTcpExt: 1\n"),
            None
        );
        assert!(ListenCounters::read().is_ok());
    }

    #[test]
    fn parses_proc_net_tcp_lines() {
        let line = "   0: 0100007F:D6D8 0100007F:1388 01 00000000:00000032 00:00000000 00000000  \
                    1000        0 4320 1 0000000000000000 20 4 30 10 -1";
        let socket = parse_inet_line(Netid::Tcp, line).unwrap();
        assert_eq!(socket.state, TcpState::Established);
        assert_eq!((socket.recv_q, socket.send_q), (0x32, 0));
        assert_eq!(socket.uid, Some(1000));
        assert_eq!(socket.inode, 4320);
        let Endpoints::Inet(ends) = socket.endpoints else {
            panic!()
        };
        assert_eq!(ends.local, "127.0.0.1:55000".parse().unwrap());
        assert_eq!(ends.peer, "127.0.0.1:5000".parse().unwrap());
    }

    #[test]
    fn parses_ipv6_addresses() {
        let addr = parse_inet_address("00000000000000000000000001000000:1F91").unwrap();
        assert_eq!(addr, "[::1]:8081".parse().unwrap());
        assert!(parse_inet_address("0000:1F91").is_none());
        assert!(parse_inet_address("zzzzzzzz:0016").is_none());
    }

    #[test]
    fn parses_proc_net_unix_lines() {
        let listener = "00000000738cfb6e: 00000002 00000000 00010000 0001 01  4309 /tmp/a.sock";
        let s = parse_unix_line(listener.as_bytes()).unwrap().unwrap();
        assert_eq!(
            (s.netid, s.state, s.inode),
            (Netid::UnixStream, TcpState::Listen, 4309)
        );
        assert_eq!(s.name, b"/tmp/a.sock");
        let dgram = "000000004cc14492: 00000002 00000000 00000000 0002 01  4315";
        let s = parse_unix_line(dgram.as_bytes()).unwrap().unwrap();
        assert_eq!(s.state, TcpState::Established);
        assert!(parse_unix_line(b"garbage").is_none());
        let odd = b"0000000000000000: 00000002 00000000 00010000 0001 01 7 /tmp/\xff\n";
        let s = parse_unix_line(odd).unwrap().unwrap();
        assert_eq!(s.name, b"/tmp/\xff");
    }

    #[test]
    fn tcp_counts_read_sockstat_lines() {
        let sockstat =
            "sockets: used 212\nTCP: inuse 5 orphan 0 tw 2 alloc 7 mem 1\nUDP: inuse 1 mem 0\n";
        assert_eq!(tcp_counts(sockstat, "TCP:", &["inuse", "tw"]), 7);
        assert_eq!(tcp_counts("TCP6: inuse 3\n", "TCP6:", &["inuse"]), 3);
        assert_eq!(tcp_counts("", "TCP:", &["inuse"]), 0);
    }
}
