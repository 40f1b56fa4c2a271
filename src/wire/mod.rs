//! Kernel wire formats, in the style of netlink-packet-sock-diag: a packed zerocopy struct for
//! each kernel struct, byte order explicit, attributes as enums with an `Other` fallback.
//!
//! Everything here is a view over bytes the kernel sent (or a request we send); nothing knows
//! about sockscope's model or output. Where netlink-packet-sock-diag has what we need without
//! copying, we use it; where it lacks something (request attributes, zero-copy replies), the
//! missing piece is written here so that it could be upstreamed.
//!
//! Every attribute the model uses is decoded here once, into a typed value or a borrowed view
//! with `parse` and `emit` (`sock_diag`: memory and shutdown; `tcp`: tcp_info, congestion
//! controls, sockopt; `packet`: fanout and BPF programs; `netlink_diag`: groups; `unix`: icons
//! and vfs), and each family's attribute enum is a `netlink_packet_core::Nla`, so a reply
//! re-emits byte for byte (tests/captures.rs, on replies of a real kernel). Renderers never read
//! attribute bytes.

use std::mem::size_of;

use netlink_packet_core::{DecodeError, NLA_HEADER_SIZE, NlaBuffer, NlasIterator};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub mod bpf;
pub mod btf;
pub mod bytecode;
pub mod events;
pub mod inet;
pub mod mptcp;
pub mod netlink;
pub mod netlink_diag;
pub mod other;
pub mod packet;
pub mod sock_diag;
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

/// A struct the kernel grows at its end, from however many bytes it sent: what arrived is
/// copied over a zeroed struct, so an older kernel's shorter one reads as if the newer fields
/// were 0, and a newer kernel's longer one is cut to what we know.
pub(crate) fn zero_extended<T: FromBytes + IntoBytes>(bytes: &[u8]) -> T {
    let mut value = T::new_zeroed();
    let target = value.as_mut_bytes();
    let len = bytes.len().min(target.len());
    target[..len].copy_from_slice(&bytes[..len]);
    value
}

/// One reply of a sock_diag dump, viewed in place: the family's fixed header, then its
/// attributes. Each family's module gives its instance an `attributes()` that names them.
#[derive(Clone, Copy, Debug)]
pub struct DiagMsg<'a, H> {
    pub header: &'a H,
    attributes: &'a [u8],
}

impl<'a, H: FromBytes + KnownLayout + Immutable + Unaligned> DiagMsg<'a, H> {
    pub fn parse(payload: &'a [u8]) -> Result<DiagMsg<'a, H>, DecodeError> {
        let (header, attributes) = H::ref_from_prefix(payload)
            .map_err(|_| DecodeError::buffer_too_small(payload.len(), size_of::<H>()))?;
        Ok(DiagMsg { header, attributes })
    }

    /// The attributes as kind and value, each value borrowed from the message.
    pub(crate) fn raw_attributes(
        &self,
    ) -> impl Iterator<Item = Result<(u16, &'a [u8]), DecodeError>> + 'a {
        NlasIterator::new(self.attributes).map(|nla| {
            let nla = nla?;
            Ok((nla.kind(), nla_value(nla)))
        })
    }
}

/// `Emitable` for requests that are one fixed kernel struct, sent as its bytes.
macro_rules! emit_as_bytes {
    ($($request:ty),+) => {$(
        impl netlink_packet_core::Emitable for $request {
            fn buffer_len(&self) -> usize {
                std::mem::size_of::<$request>()
            }

            fn emit(&self, buffer: &mut [u8]) {
                buffer[..std::mem::size_of::<$request>()]
                    .copy_from_slice(zerocopy::IntoBytes::as_bytes(self));
            }
        }
    )+};
}
pub(crate) use emit_as_bytes;

/// A kernel struct that grows at its end (`tcp_info`, `mptcp_info`), borrowed as the kernel
/// sent it: [`Extensible::get`] reads it over a zeroed struct, and the bytes stay as they
/// came, so that a longer struct from a newer kernel is re-emitted whole.
pub struct Extensible<'a, T> {
    bytes: &'a [u8],
    _struct: std::marker::PhantomData<T>,
}

impl<'a, T: FromBytes + IntoBytes> Extensible<'a, T> {
    /// Any length is accepted: what is missing reads as 0, what is extra is kept but unread.
    pub fn parse(bytes: &'a [u8]) -> Extensible<'a, T> {
        Extensible {
            bytes,
            _struct: std::marker::PhantomData,
        }
    }

    pub fn get(&self) -> T {
        zero_extended(self.bytes)
    }

    pub fn buffer_len(&self) -> usize {
        self.bytes.len()
    }

    pub fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.bytes.len()].copy_from_slice(self.bytes);
    }

    /// The bytes it was parsed from, to keep a copy.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

// By hand: a derive would ask `T` for the same traits, and a view is copied whatever it views.
impl<T> Clone for Extensible<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Extensible<'_, T> {}

impl<T> PartialEq for Extensible<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<T> Eq for Extensible<'_, T> {}

impl<T> std::fmt::Debug for Extensible<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensible")
            .field("struct", &std::any::type_name::<T>())
            .field("len", &self.bytes.len())
            .finish()
    }
}
