//! Which requests answer a listing, and in what order.
//!
//! One sock_diag dump per table and address family, in ss's order (tables as [`Netid`] orders
//! them, IPv4 before IPv6), each socket decoded in place and handed to the caller. Where the
//! kernel has no diag module for a table, or the user set ss's `PROC_*` variables, the table is
//! read from `/proc/net` instead; and the TCP table may come from a dump taken earlier.

use std::fs::File;
use std::io::{self, BufReader, Seek, SeekFrom};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use netlink_packet_core::{DecodeError, Emitable};
use zerocopy::byteorder::U16;
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

use crate::filter::{Context, End, Expr};
use crate::socket::{Endpoints, Family, FamilySet, Netid, NetidSet, Socket, StateSet, TcpState};
use crate::source::decode;
use crate::source::dump::{self, DumpError, DumpReader, Extent};
use crate::source::procnet::{self, ProcError, Skipped};
use crate::source::request::Attributes;
use crate::wire::DiagMsg;
use crate::wire::bytecode::Bytecode;
use crate::wire::inet::{
    IPPROTO_MPTCP, InetDiagMsg, InetDiagRequest, InetDiagSockId, TCPDIAG_GETSOCK,
};
use crate::wire::netlink::{DiagError, DiagSocket, DumpStatus, SOCK_DESTROY, SOCK_DIAG_BY_FAMILY};
use crate::wire::netlink_diag::{NetlinkDiagMsg, NetlinkDiagReq};
use crate::wire::other::OtherDiagRequest;
use crate::wire::packet::PacketDiagReq;
use crate::wire::unix::{self, UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_RQLEN};

/// What to ask the kernel for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub tables: NetidSet,
    /// Restricts the inet tables to IPv4, IPv6 or both.
    pub families: FamilySet,
    pub states: StateSet,
    /// What each table's requests ask for beyond the basics.
    pub attributes: Attributes,
    /// Tested on every socket, whichever way it was listed.
    pub filter: Option<Expr>,
    /// Sent with inet requests so that the kernel drops most of what the filter rejects.
    pub bytecode: Option<Bytecode>,
    pub context: Context,
    /// The dump the TCP table comes from instead of the kernel (`--from-dump`,
    /// `TCPDIAG_FILE`; `-` is standard input). It is read when the query runs.
    pub tcp_dump: Option<PathBuf>,
    /// Whether `tcp_dump` is ss's `TCPDIAG_FILE`, read as ss reads it: up to its first
    /// `NLMSG_DONE`, every socket there whatever the states and IP versions asked.
    pub tcp_dump_as_ss: bool,
}

impl Query {
    /// A query for the sockets of `tables` in `families` and `states`, with no details, no
    /// filter, and the ephemeral port range of this namespace.
    pub fn new(tables: NetidSet, families: FamilySet, states: StateSet) -> Query {
        Query {
            tables,
            families,
            states,
            attributes: Attributes::default(),
            filter: None,
            bytecode: None,
            context: Context::from_system(),
            tcp_dump: None,
            tcp_dump_as_ss: false,
        }
    }

    /// Has the kernel drop most of what the filter rejects from the `netid` table: the
    /// bytecode, and, for TCP and UDP, the ports every match has, in the request's socket id.
    /// The kernel compares those first, before it runs the bytecode or even takes a reference
    /// on the socket, which took a quarter off a port filter on 500k sockets (ss sends the
    /// bytecode alone). The socket id's ports are not tried on other tables, whose "port" may
    /// mean something else (a raw socket's protocol).
    fn filter_in_kernel<'q>(&'q self, netid: Netid, request: &mut InetDiagRequest<'q>) {
        request.bytecode = self.bytecode.as_ref().map(Bytecode::as_bytes);
        if let (Some(filter), Netid::Tcp | Netid::Udp) = (&self.filter, netid) {
            let port = |end| U16::new(filter.required_port(end).unwrap_or(0));
            request.header.id.sport = port(End::Local);
            request.header.id.dport = port(End::Peer);
        }
    }

    /// Hands `socket` to `sink` if the filter accepts it.
    fn deliver(
        &self,
        socket: &Socket<'_>,
        sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
    ) -> io::Result<()> {
        match &self.filter {
            Some(filter) if !filter.matches(socket, &self.context) => Ok(()),
            _ => sink(socket),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    Diag(#[from] DiagError),
    #[error("cannot decode a {table} socket from the kernel")]
    Decode {
        table: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Proc(#[from] ProcError),
    #[error("cannot read the dump {path}")]
    DumpOpen {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read the dump {path}")]
    Dump {
        path: String,
        #[source]
        source: DumpError,
    },
    /// Writing the listing failed: kept as the error's source, so that a closed standard
    /// output is still recognised as one up the chain.
    #[error("writing the listing")]
    Output(#[from] io::Error),
}

/// Things worth one line on stderr that did not stop the listing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    /// A table changed while the kernel walked it.
    pub inconsistent: bool,
    /// Tables whose sockets the kernel listed but sockscope cannot decode yet (their diag
    /// modules are missing where sockscope is tested), and how many sockets were skipped.
    pub undecoded: Option<(NetidSet, u64)>,
    /// Lines of `/proc/net` files that did not read and were passed over.
    pub unreadable: Skipped,
}

impl From<DumpStatus> for Warnings {
    fn from(status: DumpStatus) -> Warnings {
        Warnings {
            inconsistent: status.interrupted,
            ..Warnings::default()
        }
    }
}

impl From<Skipped> for Warnings {
    fn from(unreadable: Skipped) -> Warnings {
        Warnings {
            unreadable,
            ..Warnings::default()
        }
    }
}

impl Warnings {
    /// Adds what another run of the query found.
    pub fn absorb(&mut self, other: Warnings) {
        self.inconsistent |= other.inconsistent;
        self.unreadable.absorb(other.unreadable);
        if let Some((tables, count)) = other.undecoded {
            let (ours, total) = self.undecoded.get_or_insert((NetidSet::EMPTY, 0));
            *ours = ours.union(tables);
            *total += count;
        }
    }

    fn skipped(&mut self, netid: Netid) {
        let (tables, count) = self.undecoded.get_or_insert((NetidSet::EMPTY, 0));
        *tables = tables.with(netid);
        *count += 1;
    }
}

/// Runs `query` and calls `sink` for every socket, in ss's order.
pub fn run(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, QueryError> {
    let mut warnings = Warnings::default();
    let (mut unix_done, mut packet_done) = (false, false);
    for netid in query.tables.iter() {
        match netid {
            Netid::Netlink => warnings.absorb(netlink_table(query, diag, sink)?),
            // One dump answers for both packet tables, and one for the three unix tables.
            Netid::PacketRaw | Netid::PacketDgram if !packet_done => {
                packet_done = true;
                warnings.absorb(packet_table(query, diag, sink)?);
            }
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket if !unix_done => {
                unix_done = true;
                warnings.absorb(unix_table(query, diag, sink)?);
            }
            Netid::Tcp if query.tcp_dump.is_some() => replay(query, sink)?,
            Netid::Tcp
                if query.families.contains(Family::Inet)
                    && query.families.contains(Family::Inet6)
                    && !procnet::forced(netid) =>
            {
                warnings.absorb(tcp_table(query, diag, sink)?);
            }
            Netid::Raw | Netid::Udp | Netid::Tcp | Netid::Mptcp | Netid::Dccp => {
                for family in [Family::Inet, Family::Inet6] {
                    if query.families.contains(family) {
                        warnings.absorb(inet_table(query, netid, family, diag, sink)?);
                    }
                }
            }
            Netid::Sctp => {
                for family in [Family::Inet, Family::Inet6] {
                    if query.families.contains(family) {
                        let af = family_number(family);
                        let request = InetDiagRequest::dump(
                            af,
                            libc::IPPROTO_SCTP as u8,
                            query.states.bits(),
                            0,
                        );
                        count_only(netid, &request, diag, &mut warnings)?;
                    }
                }
            }
            Netid::VsockStream | Netid::VsockDgram => {
                let request = OtherDiagRequest::vsock(query.states.bits());
                count_only(netid, &request, diag, &mut warnings)?;
            }
            Netid::Tipc => {
                let request = OtherDiagRequest::tipc(query.states.bits());
                count_only(netid, &request, diag, &mut warnings)?;
            }
            Netid::Xdp => count_only(netid, &OtherDiagRequest::xdp(), diag, &mut warnings)?,
            _ => {}
        }
    }
    Ok(warnings)
}

fn family_number(family: Family) -> u8 {
    match family {
        Family::Inet6 => libc::AF_INET6 as u8,
        _ => libc::AF_INET as u8,
    }
}

/// Sends a dump request for a table sockscope cannot decode yet and counts the replies. A
/// kernel without the table's diag module (the usual case) lists nothing, as for ss.
fn count_only(
    netid: Netid,
    request: &dyn Emitable,
    diag: &mut DiagSocket,
    warnings: &mut Warnings,
) -> Result<(), QueryError> {
    let mut count = 0;
    let result = diag.dump(SOCK_DIAG_BY_FAMILY, request, |_| {
        count += 1;
        Ok::<(), QueryError>(())
    });
    for _ in 0..count {
        warnings.skipped(netid);
    }
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() => Ok(()),
        Err(e) => Err(e),
        Ok(status) => {
            warnings.absorb(status.into());
            Ok(())
        }
    }
}

/// The sink every table's sockets go to.
type Sink<'s> = &'s mut dyn FnMut(&Socket<'_>) -> io::Result<()>;

/// A table whose sockets are all UNCONN, as ss shows packet and netlink sockets: none when
/// that state is not asked for; else the kernel's dump, or /proc's file where the user asks
/// for it or the kernel has no diag module for the table.
fn unconnected_table(
    query: &Query,
    forced: Netid,
    sink: Sink<'_>,
    from_diag: impl FnOnce(Sink<'_>) -> Result<DumpStatus, QueryError>,
    from_proc: impl FnOnce(Sink<'_>) -> Result<Warnings, QueryError>,
) -> Result<Warnings, QueryError> {
    if !query.states.contains(TcpState::Close) {
        return Ok(Warnings::default());
    }
    if procnet::forced(forced) {
        return from_proc(sink);
    }
    match from_diag(&mut *sink).map(Warnings::from) {
        Err(QueryError::Diag(e)) if e.is_unsupported() => from_proc(sink),
        other => other,
    }
}

fn packet_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: Sink<'_>,
) -> Result<Warnings, QueryError> {
    let request = PacketDiagReq::dump(query.attributes.packet);
    unconnected_table(
        query,
        Netid::PacketRaw,
        sink,
        |sink| diag_table(query, diag, &request, "packet", decode::packet_socket, sink),
        |sink| {
            let wanted = |netid| query.tables.contains(netid);
            procnet::packet_sockets(wanted, |s| query.deliver(s, sink).map_err(QueryError::from))
                .map(Warnings::from)
        },
    )
}

fn netlink_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: Sink<'_>,
) -> Result<Warnings, QueryError> {
    let request = NetlinkDiagReq::dump(query.attributes.netlink);
    unconnected_table(
        query,
        Netid::Netlink,
        sink,
        |sink| diag_table(query, diag, &request, "netlink", netlink_listed, sink),
        |sink| {
            procnet::netlink_sockets(|s| query.deliver(s, sink).map_err(QueryError::from))
                .map(Warnings::from)
        },
    )
}

/// [`decode::netlink_socket`] in the shape [`diag_table`] takes: every netlink socket is
/// listed.
fn netlink_listed<'a>(msg: &NetlinkDiagMsg<'a>) -> Result<Option<Socket<'a>>, DecodeError> {
    decode::netlink_socket(msg).map(Some)
}

/// One dump of a table whose replies all have the fixed header `H`: each is decoded by
/// `decode` (which returns `None` for a socket ss does not list), kept if its table was asked
/// for, and delivered.
fn diag_table<H: FromBytes + KnownLayout + Immutable + Unaligned>(
    query: &Query,
    diag: &mut DiagSocket,
    request: &dyn Emitable,
    table: &'static str,
    decode: for<'a> fn(&DiagMsg<'a, H>) -> Result<Option<Socket<'a>>, DecodeError>,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<DumpStatus, QueryError> {
    diag.dump(SOCK_DIAG_BY_FAMILY, request, |payload| {
        let msg =
            DiagMsg::<H>::parse(payload).map_err(|source| QueryError::Decode { table, source })?;
        let socket = decode(&msg).map_err(|source| QueryError::Decode { table, source })?;
        if let Some(socket) = socket.filter(|s| query.tables.contains(s.netid)) {
            query.deliver(&socket, sink)?;
        }
        Ok(())
    })
}

/// Whether [`destroy`] can close `socket`: the kernel closes TCP, UDP and raw sockets.
pub fn destroyable(socket: &Socket<'_>) -> bool {
    matches!(socket.netid, Netid::Tcp | Netid::Udp | Netid::Raw)
        && matches!(socket.endpoints, Endpoints::Inet(_))
}

/// Asks the kernel to close `socket` (`SOCK_DESTROY`, which needs `CAP_NET_ADMIN`), as if it
/// had failed with ECONNABORTED; a TCP socket sends its peer a reset. `ENOENT` means it was
/// gone already.
pub fn destroy(diag: &mut DiagSocket, socket: &Socket<'_>) -> Result<(), DiagError> {
    let Endpoints::Inet(ends) = socket.endpoints else {
        return Err(DiagError::Kernel {
            errno: libc::EOPNOTSUPP,
        });
    };
    let family = if ends.local.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let protocol = socket.netid.ip_protocol().unwrap_or(0);
    let mut request =
        InetDiagRequest::dump(family_number(family), protocol, StateSet::ALL.bits(), 0);
    if socket.netid == Netid::Raw {
        // A raw socket's "port" is its protocol, which raw_diag matches on.
        request.header.raw_protocol = ends.local.port() as u8;
    }
    request.header.id = InetDiagSockId::new(ends.local, ends.peer, ends.ifindex, socket.cookie);
    diag.request(SOCK_DESTROY, &request)
}

/// How many TCP sockets [`lookup`] asks for in one datagram: their answers fit the socket's
/// receive buffer with room to spare.
const LOOKUP_BATCH: usize = 64;

/// Asks the kernel for TCP sockets by their endpoints and cookies (exact requests, which the
/// kernel answers from its hash tables without walking them, sent [`LOOKUP_BATCH`] to a
/// datagram), and delivers each that is still there as a listing would: `sockets` are what
/// is known of them. A socket that is gone (`ENOENT`), or whose endpoints another socket
/// took (`ESTALE`), is not delivered.
pub fn lookup(
    query: &Query,
    diag: &mut DiagSocket,
    sockets: &[Socket<'_>],
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<(), QueryError> {
    let table = Netid::Tcp.name();
    let requests: Vec<InetDiagRequest<'_>> = sockets
        .iter()
        .filter_map(|socket| {
            let Endpoints::Inet(ends) = socket.endpoints else {
                return None;
            };
            let family = if ends.local.is_ipv4() {
                Family::Inet
            } else {
                Family::Inet6
            };
            let mut request = InetDiagRequest::dump(
                family_number(family),
                libc::IPPROTO_TCP as u8,
                StateSet::ALL.bits(),
                query.attributes.inet,
            );
            request.header.id =
                InetDiagSockId::new(ends.local, ends.peer, ends.ifindex, socket.cookie);
            Some(request)
        })
        .collect();
    for batch in requests.chunks(LOOKUP_BATCH) {
        let payloads: Vec<&dyn netlink_packet_core::Emitable> = batch
            .iter()
            .map(|request| request as &dyn netlink_packet_core::Emitable)
            .collect();
        diag.get_batch(SOCK_DIAG_BY_FAMILY, &payloads, |_, answer| match answer {
            Ok(payload) => {
                let msg = InetDiagMsg::parse(payload)
                    .map_err(|source| QueryError::Decode { table, source })?;
                let socket = decode::inet_socket(Netid::Tcp, &msg)
                    .map_err(|source| QueryError::Decode { table, source })?;
                query.deliver(&socket, sink).map_err(QueryError::from)
            }
            Err(libc::ENOENT | libc::ESTALE) => Ok(()),
            Err(errno) => Err(QueryError::Diag(DiagError::Kernel { errno })),
        })?;
    }
    Ok(())
}

/// How much of the IPv6 half of the TCP table [`tcp_table`] keeps while it prints the IPv4
/// half; past this it asks the kernel again instead.
const IPV6_STASH_LIMIT: usize = 4 << 20;

/// Both IP versions of the TCP table from one walk of the kernel's tables, where ss walks them
/// twice (once per family): the older `TCPDIAG_GETSOCK` request returns both versions at
/// once. ss lists IPv4 before IPv6, so the IPv4 sockets go out as they arrive and the IPv6
/// replies wait in a buffer; if there are more of them than [`IPV6_STASH_LIMIT`] holds, the
/// buffer is dropped and the IPv6 half is asked for on its own, as ss does. A kernel that
/// refuses the request (or its bytecode) gets the two requests of ss.
fn tcp_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, QueryError> {
    let table = Netid::Tcp.name();
    let deliver = |payload: &[u8], sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>| {
        let msg =
            InetDiagMsg::parse(payload).map_err(|source| QueryError::Decode { table, source })?;
        let socket = decode::inet_socket(Netid::Tcp, &msg)
            .map_err(|source| QueryError::Decode { table, source })?;
        query.deliver(&socket, sink).map_err(QueryError::from)
    };
    let mut request = InetDiagRequest::dump(
        libc::AF_UNSPEC as u8,
        libc::IPPROTO_TCP as u8,
        query.states.bits(),
        query.attributes.inet,
    );
    request.compat = true;
    query.filter_in_kernel(Netid::Tcp, &mut request);
    let mut stash = Vec::new();
    let mut overflowed = false;
    let mut delivered = false;
    let result = diag.dump(TCPDIAG_GETSOCK, &request, |payload| {
        delivered = true;
        if payload.first() != Some(&(libc::AF_INET6 as u8)) {
            return deliver(payload, sink);
        }
        if overflowed {
            return Ok(());
        }
        if stash.len() + payload.len() + 4 > IPV6_STASH_LIMIT {
            overflowed = true;
            stash = Vec::new();
            return Ok(());
        }
        stash.extend_from_slice(&(payload.len() as u32).to_ne_bytes());
        stash.extend_from_slice(payload);
        Ok(())
    });
    let mut warnings = match result {
        Err(QueryError::Diag(DiagError::Kernel { .. })) if !delivered => {
            let mut warnings = inet_table(query, Netid::Tcp, Family::Inet, diag, sink)?;
            warnings.absorb(inet_table(query, Netid::Tcp, Family::Inet6, diag, sink)?);
            return Ok(warnings);
        }
        other => Warnings::from(other?),
    };
    if overflowed {
        warnings.absorb(inet_table(query, Netid::Tcp, Family::Inet6, diag, sink)?);
        return Ok(warnings);
    }
    let mut rest = &stash[..];
    while let Some((len, tail)) = rest.split_first_chunk::<4>() {
        let (payload, tail) = tail.split_at(u32::from_ne_bytes(*len) as usize);
        deliver(payload, sink)?;
        rest = tail;
    }
    Ok(warnings)
}

fn inet_table(
    query: &Query,
    netid: Netid,
    family: Family,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, QueryError> {
    let v6 = family == Family::Inet6;
    let from_proc = |sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>| {
        procnet::inet_sockets(netid, v6, query.states, |s| {
            query.deliver(s, sink).map_err(QueryError::from)
        })
        .map(Warnings::from)
    };
    if procnet::forced(netid) {
        return from_proc(sink);
    }
    let af = family_number(family);
    let protocol = netid.ip_protocol().expect("an inet table");
    let mut request =
        InetDiagRequest::dump(af, protocol, query.states.bits(), query.attributes.inet);
    if netid == Netid::Mptcp {
        // The header's protocol byte cannot hold IPPROTO_MPTCP (262): it goes in an attribute.
        request.protocol = Some(IPPROTO_MPTCP);
    }
    if netid == Netid::Raw {
        // raw_diag reads this byte as the protocol to match; IPPROTO_RAW means any.
        request.header.raw_protocol = protocol;
    }
    query.filter_in_kernel(netid, &mut request);
    let table = netid.name();
    let mut delivered = false;
    let mut dump = |request: &InetDiagRequest<'_>, delivered: &mut bool| {
        diag.dump(SOCK_DIAG_BY_FAMILY, request, |payload| {
            *delivered = true;
            let msg = InetDiagMsg::parse(payload)
                .map_err(|source| QueryError::Decode { table, source })?;
            let socket = decode::inet_socket(netid, &msg)
                .map_err(|source| QueryError::Decode { table, source })?;
            query.deliver(&socket, sink)?;
            Ok::<(), QueryError>(())
        })
    };
    let mut result = dump(&request, &mut delivered);
    if let Err(QueryError::Diag(DiagError::Kernel { .. })) = result {
        if request.bytecode.is_some() && !delivered {
            // An older kernel may not know every test (or, without CAP_NET_ADMIN, refuse
            // fwmark); user space filters anyway.
            request.bytecode = None;
            result = dump(&request, &mut delivered);
        }
    }
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() && !delivered => from_proc(sink),
        other => other.map(Warnings::from),
    }
}

fn unix_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, QueryError> {
    let wanted = |netid| query.tables.contains(netid);
    let from_proc = |sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>| {
        procnet::unix_sockets(wanted, query.states, |s| {
            query.deliver(s, sink).map_err(QueryError::from)
        })
        .map(Warnings::from)
    };
    if procnet::forced(Netid::UnixStream) {
        return from_proc(sink);
    }
    let show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | query.attributes.unix;
    let request = unix::dump_request(query.states.bits(), show);
    let result =
        diag_table(query, diag, &request, "unix", decode::unix_socket, sink).map(Warnings::from);
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() => from_proc(sink),
        other => other,
    }
}

/// Lists the TCP sockets of `query.tcp_dump`, in the dump's order, as a live listing would
/// list them: the states, IP versions and filter of `query` apply.
///
/// The dump is read one message at a time. A file that can be read again is checked whole
/// first, so that a bad one lists nothing; a pipe is listed as it arrives.
fn replay(
    query: &Query,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<(), QueryError> {
    let Some(path) = &query.tcp_dump else {
        return Ok(());
    };
    let shown = || path.display().to_string();
    let unreadable = |source| QueryError::DumpOpen {
        path: shown(),
        source,
    };
    let bad = |source| QueryError::Dump {
        path: shown(),
        source,
    };
    let extent = if query.tcp_dump_as_ss {
        Extent::FirstRequest
    } else {
        Extent::Whole
    };
    let mut file = open_dump(path).map_err(unreadable)?;
    if file.metadata().is_ok_and(|m| m.is_file()) {
        // Standard input may have been read from already: back to where it was.
        let start = file.stream_position().map_err(unreadable)?;
        dump::check_extent(BufReader::new(&file), extent).map_err(bad)?;
        file.seek(SeekFrom::Start(start)).map_err(unreadable)?;
    }
    let mut reader = DumpReader::with_extent(BufReader::new(file), extent);
    while let Some(socket) = reader.next_socket().map_err(bad)? {
        let asked = query.states.contains(socket.state) && query.families.contains(socket.family());
        if asked || query.tcp_dump_as_ss {
            query.deliver(&socket, sink)?;
        }
    }
    Ok(())
}

/// The dump at `path`; `-` is standard input, taken as a file so that a redirected one can be
/// checked before it is listed.
fn open_dump(path: &Path) -> io::Result<File> {
    if path.as_os_str() == "-" {
        return Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?));
    }
    File::open(path)
}

/// Sends the TCP requests of `query` (IPv4, then IPv6, as `query.families` allows), for
/// `diag` to record what the kernel answers (`-D`). The kernel applies the states and the
/// filter's bytecode; nothing is decoded.
pub fn record(query: &Query, diag: &mut DiagSocket) -> Result<(), QueryError> {
    for family in [Family::Inet, Family::Inet6] {
        if !query.families.contains(family) {
            continue;
        }
        let af = if family == Family::Inet6 {
            libc::AF_INET6
        } else {
            libc::AF_INET
        } as u8;
        let mut request = InetDiagRequest::dump(
            af,
            libc::IPPROTO_TCP as u8,
            query.states.bits(),
            query.attributes.inet,
        );
        query.filter_in_kernel(Netid::Tcp, &mut request);
        let ignore = |_: &[u8]| Ok::<(), QueryError>(());
        match diag.dump(SOCK_DIAG_BY_FAMILY, &request, ignore) {
            // As when listing: an older kernel may refuse the filter; the dump then holds
            // every socket in the states asked.
            Err(QueryError::Diag(DiagError::Kernel { .. })) if request.bytecode.is_some() => {
                request.bytecode = None;
                diag.dump(SOCK_DIAG_BY_FAMILY, &request, ignore)?;
            }
            other => {
                other?;
            }
        }
    }
    Ok(())
}
