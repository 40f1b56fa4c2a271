//! Dump requests for the sock_diag families sockscope asks for but does not decode yet:
//! vsock (`include/uapi/linux/vm_sockets_diag.h`), TIPC (`tipc_sockets_diag.h`) and XDP
//! (`xdp_diag.h`). Kernels without their diag modules answer `ENOENT`; a kernel with them
//! answers with sockets that the caller counts and reports as not shown.

use netlink_packet_core::Emitable;

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
    /// `struct vsock_diag_req`: family, protocol, pad, states, ino, show, cookie[2]; a dump
    /// of every vsock socket in `states`.
    pub fn vsock(states: u32) -> OtherDiagRequest {
        let mut request = OtherDiagRequest::new(AF_VSOCK, 24);
        request.put(4, states);
        request.put(16, u32::MAX);
        request.put(20, u32::MAX);
        request
    }

    /// `struct tipc_sock_diag_req`: family, protocol, pad, states.
    pub fn tipc(states: u32) -> OtherDiagRequest {
        let mut request = OtherDiagRequest::new(AF_TIPC, 8);
        request.put(4, states);
        request
    }

    /// `struct xdp_diag_req`: family, protocol, pad, ino, show, cookie[2]; XDP sockets have
    /// no states.
    pub fn xdp() -> OtherDiagRequest {
        let mut request = OtherDiagRequest::new(AF_XDP, 20);
        request.put(8, XDP_SHOW_INFO);
        request.put(12, u32::MAX);
        request.put(16, u32::MAX);
        request
    }

    fn new(family: u8, len: usize) -> OtherDiagRequest {
        let mut bytes = [0u8; 24];
        bytes[0] = family;
        OtherDiagRequest { bytes, len }
    }

    fn put(&mut self, offset: usize, value: u32) {
        self.bytes[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
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
        assert_eq!(OtherDiagRequest::vsock(0).buffer_len(), 24);
        assert_eq!(OtherDiagRequest::tipc(0).buffer_len(), 8);
        assert_eq!(OtherDiagRequest::xdp().buffer_len(), 20);
        let mut bytes = [0u8; 24];
        OtherDiagRequest::vsock(0xfff).emit(&mut bytes);
        assert_eq!(bytes[0], AF_VSOCK);
        assert_eq!(bytes[4..8], 0xfffu32.to_ne_bytes());
    }
}
