//! The inet_diag filter program (`INET_DIAG_REQ_BYTECODE`, `include/uapi/linux/inet_diag.h`).
//!
//! A program is a sequence of operations. Each starts with an `inet_diag_bc_op`: a code and two
//! forward jumps, `yes` taken when the test passes and `no` when it fails, counted in bytes from
//! the start of the operation. The kernel accepts a socket when a jump lands exactly on the end
//! of the program, and rejects it when one lands beyond (by convention four bytes beyond).
//! netlink-packet-sock-diag has no request attributes, so the program is built here.

use zerocopy::byteorder::{I32, NativeEndian, U16, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

pub const INET_DIAG_BC_NOP: u8 = 0;
pub const INET_DIAG_BC_JMP: u8 = 1;
pub const INET_DIAG_BC_S_GE: u8 = 2;
pub const INET_DIAG_BC_S_LE: u8 = 3;
pub const INET_DIAG_BC_D_GE: u8 = 4;
pub const INET_DIAG_BC_D_LE: u8 = 5;
pub const INET_DIAG_BC_AUTO: u8 = 6;
pub const INET_DIAG_BC_S_COND: u8 = 7;
pub const INET_DIAG_BC_D_COND: u8 = 8;
pub const INET_DIAG_BC_DEV_COND: u8 = 9;
pub const INET_DIAG_BC_MARK_COND: u8 = 10;
pub const INET_DIAG_BC_S_EQ: u8 = 11;
pub const INET_DIAG_BC_D_EQ: u8 = 12;
pub const INET_DIAG_BC_CGROUP_COND: u8 = 13;

/// `struct inet_diag_bc_op`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagBcOp {
    pub code: u8,
    pub yes: u8,
    pub no: U16<NativeEndian>,
}

/// `struct inet_diag_hostcond`, without its trailing address (4 bytes for AF_INET and
/// AF_UNSPEC, 16 for AF_INET6). A port of -1 matches any port.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagHostcond {
    pub family: u8,
    pub prefix_len: u8,
    pub pad: [u8; 2],
    pub port: I32<NativeEndian>,
}

/// `struct inet_diag_markcond`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct InetDiagMarkcond {
    pub mark: U32<NativeEndian>,
    pub mask: U32<NativeEndian>,
}

const OP_LEN: usize = std::mem::size_of::<InetDiagBcOp>();

/// A program, or a piece of one, that accepts by running off its end.
///
/// Pieces combine as ss combines them, so that a program is byte for byte what ss sends for
/// the same filter: `and` runs the second piece where the first accepts, `or` the second where
/// the first rejects, and `not` swaps accepting and rejecting.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytecode {
    code: Vec<u8>,
    /// Where each operation starts, so that jumps can be found without decoding.
    ops: Vec<usize>,
}

impl Bytecode {
    pub fn as_bytes(&self) -> &[u8] {
        &self.code
    }

    pub fn len(&self) -> usize {
        self.code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
    }

    /// One test, `payload` following its op: a pass goes on to the next operation, a failure
    /// rejects.
    pub fn test(code: u8, payload: &[u8]) -> Bytecode {
        let len = OP_LEN + payload.len();
        let mut program = Bytecode::default();
        program.push_op(code, len, len + 4);
        program.code.extend_from_slice(payload);
        program
    }

    /// A port comparison (`S_GE`, `S_LE`, `D_GE`, `D_LE`): the port rides in the `no` field of
    /// a second op.
    pub fn port_test(code: u8, port: u16) -> Bytecode {
        let second = InetDiagBcOp {
            code: INET_DIAG_BC_NOP,
            yes: 0,
            no: U16::new(port),
        };
        Bytecode::test(code, second.as_bytes())
    }

    pub fn host_test(code: u8, cond: &InetDiagHostcond, address: &[u8]) -> Bytecode {
        let mut payload = cond.as_bytes().to_vec();
        payload.extend_from_slice(address);
        Bytecode::test(code, &payload)
    }

    pub fn mark_test(mark: u32, mask: u32) -> Bytecode {
        let cond = InetDiagMarkcond {
            mark: U32::new(mark),
            mask: U32::new(mask),
        };
        Bytecode::test(INET_DIAG_BC_MARK_COND, cond.as_bytes())
    }

    pub fn device_test(ifindex: u32) -> Bytecode {
        Bytecode::test(INET_DIAG_BC_DEV_COND, &ifindex.to_ne_bytes())
    }

    pub fn cgroup_test(id: u64) -> Bytecode {
        Bytecode::test(
            INET_DIAG_BC_CGROUP_COND,
            U64::<NativeEndian>::new(id).as_bytes(),
        )
    }

    /// A program that rejects every socket.
    pub fn reject() -> Bytecode {
        let mut program = Bytecode::default();
        program.push_op(INET_DIAG_BC_JMP, 4, 8);
        program
    }

    /// Accepts what both accept.
    pub fn and(mut self, other: Bytecode) -> Bytecode {
        let reject = self.len() + 4;
        for &at in &self.ops {
            let op = op_at(&mut self.code, at);
            if at + usize::from(op.no.get()) == reject {
                op.no = U16::new(op.no.get() + other.len() as u16);
            }
        }
        self.append(other);
        self
    }

    /// Accepts what either accepts: where the first accepts, a jump skips the second; where it
    /// rejects, it lands on the second.
    pub fn or(mut self, other: Bytecode) -> Bytecode {
        let skip = other.len() + 4;
        self.push_op(INET_DIAG_BC_JMP, 4, skip);
        self.append(other);
        self
    }

    fn push_op(&mut self, code: u8, yes: usize, no: usize) {
        self.ops.push(self.code.len());
        let op = InetDiagBcOp {
            code,
            yes: yes as u8,
            no: U16::new(no as u16),
        };
        self.code.extend_from_slice(op.as_bytes());
    }

    fn append(&mut self, other: Bytecode) {
        let base = self.code.len();
        self.ops.extend(other.ops.iter().map(|at| at + base));
        self.code.extend_from_slice(&other.code);
    }
}

impl std::ops::Not for Bytecode {
    type Output = Bytecode;

    /// Accepts what this rejects: accepting runs into a jump past the end.
    fn not(mut self) -> Bytecode {
        self.push_op(INET_DIAG_BC_JMP, 4, 8);
        self
    }
}

fn op_at(code: &mut [u8], at: usize) -> &mut InetDiagBcOp {
    InetDiagBcOp::mut_from_bytes(&mut code[at..at + OP_LEN]).expect("an op is four bytes")
}
