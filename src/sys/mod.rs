//! What the modes that run until stopped need of the system, below every one of them: the
//! terminal (its size, raw keys, signals), one clock whose printed times never go backwards,
//! and a standard output that gives way to a signal.

pub mod bpf;
pub mod clock;
pub mod output;
pub mod term;
