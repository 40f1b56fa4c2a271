//! Sockets as the kernel destroys them, decoded into the model: which destroy groups report the
//! sockets a query lists, and the [`Socket`] each announcement describes.
//!
//! The kernel announces every TCP and UDP socket it frees on the sock_diag destroy groups
//! ([`crate::wire::events`]); each announcement is an `inet_diag_msg`, as in a dump reply, so
//! it decodes into the same [`Socket`] a listing gives. `-E` and `watch` both read them.

use std::io;

use netlink_packet_core::DecodeError;

use super::decode;
use super::query::Query;
use crate::socket::{Family, Netid, Socket};
use crate::wire::events::DestroyGroup;
use crate::wire::inet::InetDiagMsg;
use crate::wire::netlink::DiagError;

/// The destroy groups that report sockets `query` lists: TCP and UDP, of the IP versions it
/// asks for. Other tables have none.
pub fn groups(query: &Query) -> Vec<DestroyGroup> {
    DestroyGroup::ALL
        .into_iter()
        .filter(|group| {
            let family = if group.is_ipv6() {
                Family::Inet6
            } else {
                Family::Inet
            };
            query.tables.contains(netid(*group)) && query.families.contains(family)
        })
        .collect()
}

/// The table a group's sockets belong to.
fn netid(group: DestroyGroup) -> Netid {
    if group.protocol() == libc::IPPROTO_TCP as u8 {
        Netid::Tcp
    } else {
        Netid::Udp
    }
}

/// The socket a destroy message of `group` describes.
pub fn decode(group: DestroyGroup, payload: &[u8]) -> Result<Socket<'_>, EventError> {
    InetDiagMsg::parse(payload)
        .and_then(|msg| decode::inet_socket(netid(group), &msg))
        .map_err(|source| EventError::Decode {
            table: netid(group).name(),
            source,
        })
}

/// What can go wrong reading destroy events: subscribing, decoding, or writing what they say.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Diag(#[from] DiagError),
    #[error("cannot decode a destroyed {table} socket from the kernel")]
    Decode {
        table: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Output(#[from] io::Error),
}
