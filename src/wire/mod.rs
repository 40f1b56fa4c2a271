//! Kernel wire formats, in the style of netlink-packet-sock-diag: a packed zerocopy struct for
//! each kernel struct, byte order explicit, attributes as enums with an `Other` fallback.
//!
//! Everything here is a view over bytes the kernel sent (or a request we send); nothing knows
//! about sockscope's model or output. Where netlink-packet-sock-diag has what we need without
//! copying, we use it; where it lacks something (request attributes, zero-copy replies), the
//! missing piece is written here so that it could be upstreamed.

use std::mem::size_of;

use netlink_packet_core::{DecodeError, NLA_HEADER_SIZE, NlaBuffer};
use zerocopy::{FromBytes, Immutable, KnownLayout, Unaligned};

pub mod bytecode;
pub mod events;
pub mod inet;
pub mod netlink;
pub mod tcp;
pub mod unix;

/// Borrows an attribute's value for as long as the message lives (`NlaBuffer::value` only
/// lends it for as long as the `NlaBuffer`).
pub(crate) fn nla_value(nla: NlaBuffer<&[u8]>) -> &[u8] {
    let len = usize::from(nla.length());
    &nla.into_inner()[NLA_HEADER_SIZE..len]
}

pub(crate) fn until_nul(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    &value[..end]
}

pub(crate) fn u8_value(kind: u16, value: &[u8]) -> Result<u8, DecodeError> {
    value
        .first()
        .copied()
        .ok_or_else(|| short_attribute(kind, value, 1))
}

pub(crate) fn u32_value(kind: u16, value: &[u8]) -> Result<u32, DecodeError> {
    value
        .get(..4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_ne_bytes)
        .ok_or_else(|| short_attribute(kind, value, 4))
}

pub(crate) fn u64_value(kind: u16, value: &[u8]) -> Result<u64, DecodeError> {
    value
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_ne_bytes)
        .ok_or_else(|| short_attribute(kind, value, 8))
}

fn short_attribute(kind: u16, value: &[u8], want: usize) -> DecodeError {
    DecodeError::from(format!(
        "attribute {kind} has {} bytes, expected {want}",
        value.len()
    ))
}

pub(crate) fn struct_value<T: FromBytes + KnownLayout + Immutable + Unaligned>(
    kind: u16,
    value: &[u8],
) -> Result<&T, DecodeError> {
    T::ref_from_prefix(value).map(|(v, _)| v).map_err(|_| {
        DecodeError::from(format!(
            "attribute {kind} has {} bytes, expected {}",
            value.len(),
            size_of::<T>()
        ))
    })
}
