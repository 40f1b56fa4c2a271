//! Which requests answer a listing, and in what order.
//!
//! One sock_diag dump per table and address family, in ss's order (tables as [`Netid`] orders
//! them, IPv4 before IPv6), each socket decoded in place and handed to the caller. Where the
//! kernel has no diag module for a table, or the user set ss's `PROC_*` variables, the table is
//! read from `/proc/net` instead.

use std::io;

use netlink_packet_core::DecodeError;

use crate::decode;
use crate::procnet::{self, ProcError};
use crate::socket::{Family, FamilySet, Netid, NetidSet, Socket, StateSet};
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
    if procnet::forced(netid) {
        procnet::inet_sockets(netid, v6, query.states, |s| {
            sink(s).map_err(QueryError::from)
        })?;
        return Ok(DumpStatus::default());
    }
    let af = if v6 { libc::AF_INET6 } else { libc::AF_INET } as u8;
    let protocol = netid.ip_protocol().expect("an inet table");
    let mut request =
        InetDiagRequest::dump(af, protocol, query.states.bits(), query.inet_extensions);
    if netid == Netid::Raw {
        // raw_diag reads this byte as the protocol to match; IPPROTO_RAW means any.
        request.header.raw_protocol = protocol;
    }
    let table = netid.name();
    let result = diag.dump(SOCK_DIAG_BY_FAMILY, &request, |payload| {
        let msg =
            InetDiagMsg::parse(payload).map_err(|source| QueryError::Decode { table, source })?;
        let socket = decode::inet_socket(netid, &msg)
            .map_err(|source| QueryError::Decode { table, source })?;
        sink(&socket)?;
        Ok::<(), QueryError>(())
    });
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() => {
            procnet::inet_sockets(netid, v6, query.states, |s| {
                sink(s).map_err(QueryError::from)
            })?;
            Ok(DumpStatus::default())
        }
        other => other,
    }
}

fn unix_table(
    query: &Query,
    diag: &mut DiagSocket,
    sink: &mut dyn FnMut(&Socket<'_>) -> io::Result<()>,
) -> Result<DumpStatus, QueryError> {
    let wanted = |netid| query.tables.contains(netid);
    if procnet::forced(Netid::UnixStream) {
        procnet::unix_sockets(wanted, query.states, |s| sink(s).map_err(QueryError::from))?;
        return Ok(DumpStatus::default());
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
            sink(&socket)?;
        }
        Ok::<(), QueryError>(())
    });
    match result {
        Err(QueryError::Diag(e)) if e.is_unsupported() => {
            procnet::unix_sockets(wanted, query.states, |s| sink(s).map_err(QueryError::from))?;
            Ok(DumpStatus::default())
        }
        other => other,
    }
}
