//! The raw system interfaces, below everything that uses them: the terminal (its size, raw
//! keys, signals), one clock whose printed times never go backwards, a standard output that
//! gives way to a signal, and the /proc directories walked entry by entry.

pub mod bpf;
pub mod clock;
pub mod output;
pub mod procfs;
pub mod term;
