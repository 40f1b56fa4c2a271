//! Dump requests for the sock_diag families sockscope asks for but does not decode yet:
//! vsock (`include/uapi/linux/vm_sockets_diag.h`), TIPC (`tipc_sockets_diag.h`) and XDP
//! (`xdp_diag.h`). Kernels without their diag modules answer `ENOENT`; a kernel with them
//! answers with sockets that the caller counts and reports as not shown.

use netlink_packet_core::Emitable;

use crate::socket::Netid;

const AF_TIPC: u8 = 30;
const AF_VSOCK: u8 = 40;
const AF_XDP: u8 = 44;

/// `XDP_SHOW_INFO`.
const XDP_SHOW_INFO: u32 = 0x1;

/// One of the three requests, as the bytes of its kernel struct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OtherDiagRequest {
    bytes: [u8; 24],
    len: usize,
}

impl OtherDiagRequest {
    /// A dump of every socket of `netid`'s family in `states`, or `None` for a table that is
    /// not one of these.
    pub fn for_table(netid: Netid, states: u32) -> Option<OtherDiagRequest> {
        let mut bytes = [0u8; 24];
        let mut put = |offset: usize, value: u32| {
            bytes[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
        };
        let (family, len) = match netid {
            // struct vsock_diag_req: family, protocol, pad, states, ino, show, cookie[2].
            Netid::VsockStream | Netid::VsockDgram => {
                put(4, states);
                put(16, u32::MAX);
                put(20, u32::MAX);
                (AF_VSOCK, 24)
            }
            // struct tipc_sock_diag_req: family, protocol, pad, states.
            Netid::Tipc => {
                put(4, states);
                (AF_TIPC, 8)
            }
            // struct xdp_diag_req: family, protocol, pad, ino, show, cookie[2].
            Netid::Xdp => {
                put(8, XDP_SHOW_INFO);
                put(12, u32::MAX);
                put(16, u32::MAX);
                (AF_XDP, 20)
            }
            _ => return None,
        };
        bytes[0] = family;
        Some(OtherDiagRequest { bytes, len })
    }
}

impl Emitable for OtherDiagRequest {
    fn buffer_len(&self) -> usize {
        self.len
    }

    fn emit(&self, buffer: &mut [u8]) {
        buffer[..self.len].copy_from_slice(&self.bytes[..self.len]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_kernels_sizes() {
        let len = |netid| OtherDiagRequest::for_table(netid, 0).unwrap().buffer_len();
        assert_eq!(len(Netid::VsockStream), 24);
        assert_eq!(len(Netid::Tipc), 8);
        assert_eq!(len(Netid::Xdp), 20);
        assert!(OtherDiagRequest::for_table(Netid::Tcp, 0).is_none());
    }
}
