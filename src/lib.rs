//! sockscope: the kernel's socket tables, shown the way ss(8) shows them.
//!
//! The data flows one way: [`cli`] is what the user typed; a [`config::Config`] decides what
//! to ask; [`source::query`] sends sock_diag requests through [`wire`] and
//! [`source::decode`]s each reply into a [`socket::Socket`], which [`filter`] may keep or
//! drop; a [`render::Renderer`] writes it out, naming ports and hosts through [`names`]. The
//! modes, the listing among them, are in [`cmd`], none knowing another; [`app`] picks one for
//! the binary. Below them all: [`netns`] moves a look into other network namespaces (one
//! [`netns::Walker`] for `-N all`), [`procs`] finds who holds a socket, and [`sys`] holds the
//! terminal, the clock and a signal-aware standard output.

pub mod app;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod filter;
pub mod names;
pub mod netns;
pub mod procs;
pub mod render;
pub mod socket;
pub mod source;
pub mod sys;
pub mod wire;
