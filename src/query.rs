//! Which requests answer a listing, and in what order.
//!
//! One sock_diag dump per table and address family, in ss's order (tables as [`Netid`] orders
//! them, IPv4 before IPv6), each socket decoded in place and handed to the caller. Where the
//! kernel has no diag module for a table, or the user set ss's `PROC_*` variables, the table is
//! read from `/proc/net` instead; and the TCP table may come from a dump taken earlier.

use std::io;
use std::sync::Arc;

use netlink_packet_core::DecodeError;

use crate::decode;
use crate::dump::Dump;
use crate::filter::{Context, Expr};
use crate::procnet::{self, ProcError};
use crate::socket::{Family, FamilySet, Netid, NetidSet, Socket, StateSet};
use crate::wire::bytecode::Bytecode;
use crate::wire::inet::{InetDiagMsg, InetDiagRequest};
use crate::wire::netlink::{DiagError, DiagSocket, DumpStatus, SOCK_DIAG_BY_FAMILY};
use crate::wire::unix::{self, UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_RQLEN, UnixDiagMsg};

/// What to ask the kernel for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Query {
    pub tables: NetidSet,
    /// Restricts the inet tables to IPv4, IPv6 or both.
    pub families: FamilySet,
    pub states: StateSet,
    /// The `idiag_ext` bits for inet requests.
    pub inet_extensions: u8,
    /// Extra `UDIAG_SHOW_*` bits for unix requests.
    pub unix_show: u32,
    /// Tested on every socket, whichever way it was listed.
    pub filter: Option<Expr>,
    /// Sent with inet requests so that the kernel drops most of what the filter rejects.
    pub bytecode: Option<Bytecode>,
    pub context: Context,
    /// Where the TCP table comes from instead of the kernel (`--from-dump`, `TCPDIAG_FILE`).
    pub tcp_dump: Option<Arc<Dump>>,
}

impl Query {
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
    #[error("cannot decode a {table} socket from the kernel: {source}")]
    Decode {
        table: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Proc(#[from] ProcError),
    #[error(transparent)]
    Output(#[from] io::Error),
}

/// Things worth one line on stderr that did not stop the listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Warnings {
    /// A table changed while the kernel walked it.
    pub inconsistent: bool,
}

/// The tables this version can list.
pub fn supported_tables() -> NetidSet {
    [
        Netid::UnixStream,
        Netid::UnixDgram,
        Netid::UnixSeqpacket,
        Netid::Raw,
        Netid::Udp,
        Netid::Tcp,
    ]
    .into_iter()
    .collect()
}

/// Runs `query` and calls `sink` for every socket, in ss's order.
pub fn run(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<Warnings, QueryError> {
    let mut warnings = Warnings::default();
    let mut unix_done = false;
    for netid in query.tables.iter() {
        match netid {
            // One dump answers for all three unix tables.
            Netid::UnixStream | Netid::UnixDgram | Netid::UnixSeqpacket if !unix_done => {
                unix_done = true;
                let status = unix_table(query, diag, sink)?;
                warnings.inconsistent |= status.interrupted;
            }
            Netid::Tcp if query.tcp_dump.is_some() => replay(query, sink)?,
            Netid::Raw | Netid::Udp | Netid::Tcp => {
                for family in [Family::Inet, Family::Inet6] {
                    if query.families.contains(family) {
                        let status = inet_table(query, netid, family, diag, sink)?;
                        warnings.inconsistent |= status.interrupted;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(warnings)
}

fn inet_table(
    query: &Query,
    netid: Netid,
    family: Family,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<DumpStatus, QueryError> {
    let v6 = family == Family::Inet6;
    let from_proc = |sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>| {
        procnet::inet_sockets(netid, v6, query.states, |s| {
            query.deliver(s, sink).map_err(QueryError::from)
        })
        .map(|()| DumpStatus::default())
    };
    if procnet::forced(netid) {
        return from_proc(sink);
    }
    let af = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
    let protocol = netid.ip_protocol().expect("an inet table");
    let mut request =
        InetDiagRequest::dump(af, protocol, query.states.bits(), query.inet_extensions);
    if netid == Netid::Raw {
        // raw_diag reads this byte as the protocol to match; IPPROTO_RAW means any.
        request.header.raw_protocol = protocol;
    }
    request.bytecode = query.bytecode.as_ref().map(Bytecode::as_bytes);
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
        other => other,
    }
}

fn unix_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<DumpStatus, QueryError> {
    let wanted = |netid| query.tables.contains(netid);
    let from_proc = |sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>| {
        procnet::unix_sockets(wanted, query.states, |s| {
            query.deliver(s, sink).map_err(QueryError::from)
        })
        .map(|()| DumpStatus::default())
    };
    if procnet::forced(Netid::UnixStream) {
        return from_proc(sink);
    }
    let show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN | query.unix_show;
    let request = unix::dump_request(query.states.bits(), show);
    let table = "unix";
    let result = diag.dump(SOCK_DIAG_BY_FAMILY, &request, |payload| {
        let msg =
            UnixDiagMsg::parse(payload).map_err(|source| QueryError::Decode { table, source })?;
        let socket =
            decode::unix_socket(&msg).map_err(|source| QueryError::Decode { table, source })?;
        if let Some(socket) = socket.filter(|s| wanted(s.netid)) {
            query.deliver(&socket, sink)?;
        }
        Ok::<(), QueryError>(())
    });
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() => from_proc(sink),
        other => other,
    }
}

/// Lists the TCP sockets of `query.tcp_dump`, in the dump's order, as a live listing would
/// list them: the states, IP versions and filter of `query` apply.
fn replay(
    query: &Query,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<(), QueryError> {
    let Some(dump) = &query.tcp_dump else {
        return Ok(());
    };
    let table = Netid::Tcp.name();
    for payload in dump.replies() {
        let msg =
            InetDiagMsg::parse(payload).map_err(|source| QueryError::Decode { table, source })?;
        let socket = decode::inet_socket(Netid::Tcp, &msg)
            .map_err(|source| QueryError::Decode { table, source })?;
        if query.states.contains(socket.state) && query.families.contains(socket.family()) {
            query.deliver(&socket, sink)?;
        }
    }
    Ok(())
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
            query.inet_extensions,
        );
        request.bytecode = query.bytecode.as_ref().map(Bytecode::as_bytes);
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
