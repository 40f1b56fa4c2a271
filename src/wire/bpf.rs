//! eBPF instructions (`struct bpf_insn`, `include/uapi/linux/bpf.h` and `bpf_common.h`), and a
//! small assembler that writes programs with named instructions and labelled jumps.
//!
//! Like [`super::bytecode`] for inet_diag, this is how sockscope builds the one kernel program
//! it loads without a compiler: each instruction is eight bytes, an opcode made of a class, a
//! size or operation and a source bit, two registers in one byte, a signed 16-bit offset and a
//! signed 32-bit immediate. Jumps are relative, counted in instructions from the one after the
//! jump; the assembler resolves them from labels when the program is finished, so a program
//! reads top to bottom as the kernel will run it.

use zerocopy::byteorder::{I16, I32, LittleEndian};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

// Instruction classes.
pub const BPF_LD: u8 = 0x00;
pub const BPF_LDX: u8 = 0x01;
pub const BPF_ST: u8 = 0x02;
pub const BPF_STX: u8 = 0x03;
pub const BPF_ALU64: u8 = 0x07;
pub const BPF_JMP: u8 = 0x05;
pub const BPF_JMP32: u8 = 0x06;

// Sizes of loads and stores.
pub const BPF_W: u8 = 0x00;
pub const BPF_H: u8 = 0x08;
pub const BPF_B: u8 = 0x10;
pub const BPF_DW: u8 = 0x18;

// Modes of loads and stores.
pub const BPF_IMM: u8 = 0x00;
pub const BPF_MEM: u8 = 0x60;
pub const BPF_ATOMIC: u8 = 0xc0;

// Where the second operand comes from: the immediate or the source register.
pub const BPF_K: u8 = 0x00;
pub const BPF_X: u8 = 0x08;

// Arithmetic operations.
pub const BPF_ADD: u8 = 0x00;
pub const BPF_MOV: u8 = 0xb0;

// Jump operations.
pub const BPF_JA: u8 = 0x00;
pub const BPF_JEQ: u8 = 0x10;
pub const BPF_JNE: u8 = 0x50;
pub const BPF_CALL: u8 = 0x80;
pub const BPF_EXIT: u8 = 0x90;

/// `src_reg` of a 64-bit immediate load that names a map by its file descriptor.
pub const BPF_PSEUDO_MAP_FD: u8 = 1;

// Helper functions (`enum bpf_func_id`).
pub const BPF_FUNC_MAP_LOOKUP_ELEM: i32 = 1;
pub const BPF_FUNC_KTIME_GET_NS: i32 = 5;
pub const BPF_FUNC_GET_SOCKET_COOKIE: i32 = 46;
pub const BPF_FUNC_PROBE_READ_KERNEL: i32 = 113;
pub const BPF_FUNC_RINGBUF_RESERVE: i32 = 131;
pub const BPF_FUNC_RINGBUF_SUBMIT: i32 = 132;

/// `struct bpf_insn`: the registers share a byte, the destination in its low four bits.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
#[repr(C)]
pub struct BpfInsn {
    pub code: u8,
    pub regs: u8,
    pub off: I16<LittleEndian>,
    pub imm: I32<LittleEndian>,
}

impl BpfInsn {
    pub fn new(code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> BpfInsn {
        BpfInsn {
            code,
            regs: (src.0 << 4) | dst.0,
            off: I16::new(off),
            imm: I32::new(imm),
        }
    }

    pub fn dst(&self) -> Reg {
        Reg(self.regs & 0x0f)
    }

    pub fn src(&self) -> Reg {
        Reg(self.regs >> 4)
    }
}

/// A register: r0 holds return values, r1–r5 arguments (clobbered by every call), r6–r9
/// survive calls, r10 is the read-only frame pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reg(pub u8);

pub const R0: Reg = Reg(0);
pub const R1: Reg = Reg(1);
pub const R2: Reg = Reg(2);
pub const R3: Reg = Reg(3);
pub const R6: Reg = Reg(6);
pub const R7: Reg = Reg(7);
pub const R8: Reg = Reg(8);
pub const R9: Reg = Reg(9);
pub const R10: Reg = Reg(10);

/// The width of a load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    U8,
    U16,
    U32,
    U64,
}

impl Size {
    /// The width of `bytes` bytes, where a load can be that wide.
    pub fn of(bytes: usize) -> Option<Size> {
        match bytes {
            1 => Some(Size::U8),
            2 => Some(Size::U16),
            4 => Some(Size::U32),
            8 => Some(Size::U64),
            _ => None,
        }
    }

    pub fn bytes(self) -> usize {
        match self {
            Size::U8 => 1,
            Size::U16 => 2,
            Size::U32 => 4,
            Size::U64 => 8,
        }
    }

    fn code(self) -> u8 {
        match self {
            Size::U8 => BPF_B,
            Size::U16 => BPF_H,
            Size::U32 => BPF_W,
            Size::U64 => BPF_DW,
        }
    }
}

/// A place in the program that jumps may name before it is bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Label(usize);

/// Why a program could not be finished.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AsmError {
    #[error("label {0} is jumped to but never placed")]
    Unbound(usize),
    #[error("a jump from instruction {from} to {to} does not fit in 16 bits")]
    TooFar { from: usize, to: usize },
}

/// Builds a program instruction by instruction.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<BpfInsn>,
    /// Where each label was placed, once it is.
    labels: Vec<Option<usize>>,
    /// Jumps waiting for their label: the jump's index and the label.
    fixups: Vec<(usize, Label)>,
}

impl Asm {
    pub fn new() -> Asm {
        Asm::default()
    }

    /// A label to jump to, placed later with [`Asm::place`].
    pub fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    /// Binds `label` to the next instruction.
    pub fn place(&mut self, label: Label) {
        self.labels[label.0] = Some(self.insns.len());
    }

    /// `dst = src` (64 bits).
    pub fn mov(&mut self, dst: Reg, src: Reg) {
        self.push(BpfInsn::new(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0));
    }

    /// `dst = imm` (sign-extended to 64 bits).
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) {
        self.push(BpfInsn::new(BPF_ALU64 | BPF_MOV | BPF_K, dst, R0, 0, imm));
    }

    /// `dst += imm` (64 bits).
    pub fn add_imm(&mut self, dst: Reg, imm: i32) {
        self.push(BpfInsn::new(BPF_ALU64 | BPF_ADD | BPF_K, dst, R0, 0, imm));
    }

    /// `dst = *(size *)(src + off)`.
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) {
        self.push(BpfInsn::new(
            BPF_LDX | BPF_MEM | size.code(),
            dst,
            src,
            off,
            0,
        ));
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) {
        self.push(BpfInsn::new(
            BPF_STX | BPF_MEM | size.code(),
            dst,
            src,
            off,
            0,
        ));
    }

    /// `*(size *)(dst + off) = imm`.
    pub fn store_imm(&mut self, size: Size, dst: Reg, off: i16, imm: i32) {
        self.push(BpfInsn::new(
            BPF_ST | BPF_MEM | size.code(),
            dst,
            R0,
            off,
            imm,
        ));
    }

    /// `*(u64 *)(dst + off) += src`, atomically.
    pub fn atomic_add(&mut self, dst: Reg, off: i16, src: Reg) {
        self.push(BpfInsn::new(
            BPF_STX | BPF_ATOMIC | BPF_DW,
            dst,
            src,
            off,
            i32::from(BPF_ADD),
        ));
    }

    /// `dst = the map open as fd`: a 64-bit immediate load, two instructions long, that the
    /// kernel turns into the map's address when it loads the program.
    pub fn load_map_fd(&mut self, dst: Reg, fd: i32) {
        self.push(BpfInsn::new(
            BPF_LD | BPF_IMM | BPF_DW,
            dst,
            Reg(BPF_PSEUDO_MAP_FD),
            0,
            fd,
        ));
        self.push(BpfInsn::new(0, R0, R0, 0, 0));
    }

    /// `if dst == imm goto label`.
    pub fn jump_eq(&mut self, dst: Reg, imm: i32, label: Label) {
        self.jump(BPF_JEQ, dst, imm, label);
    }

    /// `if dst != imm goto label`.
    pub fn jump_ne(&mut self, dst: Reg, imm: i32, label: Label) {
        self.jump(BPF_JNE, dst, imm, label);
    }

    /// `if (u32)dst != (u32)imm goto label`: a 64-bit compare would sign-extend an immediate
    /// above `i32::MAX` and never match a zero-extended 32-bit value.
    pub fn jump32_ne(&mut self, dst: Reg, imm: u32, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.push(BpfInsn::new(
            BPF_JMP32 | BPF_JNE | BPF_K,
            dst,
            R0,
            0,
            imm as i32,
        ));
    }

    /// `goto label`.
    pub fn jump_always(&mut self, label: Label) {
        self.jump(BPF_JA, R0, 0, label);
    }

    /// Calls helper `func`: arguments in r1–r5, the result in r0; r1–r5 are lost.
    pub fn call(&mut self, func: i32) {
        self.push(BpfInsn::new(BPF_JMP | BPF_CALL, R0, R0, 0, func));
    }

    /// Returns r0.
    pub fn exit(&mut self) {
        self.push(BpfInsn::new(BPF_JMP | BPF_EXIT, R0, R0, 0, 0));
    }

    /// The program, with every jump pointing at its label.
    pub fn finish(mut self) -> Result<Vec<BpfInsn>, AsmError> {
        for &(at, label) in &self.fixups {
            let to = self.labels[label.0].ok_or(AsmError::Unbound(label.0))?;
            let off = to as i64 - at as i64 - 1;
            let off = i16::try_from(off).map_err(|_| AsmError::TooFar { from: at, to })?;
            self.insns[at].off = I16::new(off);
        }
        Ok(self.insns)
    }

    fn jump(&mut self, op: u8, dst: Reg, imm: i32, label: Label) {
        self.fixups.push((self.insns.len(), label));
        self.push(BpfInsn::new(BPF_JMP | op | BPF_K, dst, R0, 0, imm));
    }

    fn push(&mut self, insn: BpfInsn) {
        self.insns.push(insn);
    }
}

/// The program as the kernel takes it: the instructions' bytes, in order.
pub fn as_bytes(insns: &[BpfInsn]) -> &[u8] {
    insns.as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instruction_is_eight_bytes_in_the_kernels_order() {
        // r1 = *(u16 *)(r6 + 30): ldxh, dst 1, src 6.
        let insn = BpfInsn::new(BPF_LDX | BPF_MEM | BPF_H, R1, R6, 30, 0);
        assert_eq!(insn.as_bytes(), [0x69, 0x61, 30, 0, 0, 0, 0, 0]);
        assert_eq!((insn.dst(), insn.src()), (R1, R6));
        // r0 = 0; exit
        let mut asm = Asm::new();
        asm.mov_imm(R0, 0);
        asm.exit();
        let program = asm.finish().unwrap();
        assert_eq!(
            as_bytes(&program),
            [0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]
        );
    }

    #[test]
    fn jumps_count_from_the_next_instruction() {
        let mut asm = Asm::new();
        let out = asm.label();
        let back = asm.label();
        asm.place(back);
        asm.jump_ne(R1, 6, out); // 0: to 4, offset 3
        asm.load_map_fd(R1, 7); // 1, 2
        asm.jump_always(back); // 3: to 0, offset -4
        asm.place(out);
        asm.exit(); // 4
        let program = asm.finish().unwrap();
        assert_eq!(program[0].off.get(), 3);
        assert_eq!(program[0].imm.get(), 6);
        assert_eq!(program[1].src(), Reg(BPF_PSEUDO_MAP_FD));
        assert_eq!(program[1].imm.get(), 7);
        assert_eq!(program[3].off.get(), -4);
    }

    #[test]
    fn a_label_never_placed_is_an_error() {
        let mut asm = Asm::new();
        let nowhere = asm.label();
        asm.jump_always(nowhere);
        assert_eq!(asm.finish(), Err(AsmError::Unbound(0)));
    }
}
