//! sockscope: the kernel's socket tables, shown the way ss(8) shows them.
//!
//! The data flows one way: a [`config::Config`] decides what to ask; [`query`] sends sock_diag
//! requests through [`wire`] and [`decode`]s each reply into a [`socket::Socket`]; a
//! [`render::Renderer`] writes it out. [`app`] ties them together for the binary. [`netns`]
//! moves the query into other network namespaces, and [`dump`] keeps the kernel's replies for
//! later.

pub mod app;
pub mod cli;
pub mod config;
pub mod decode;
pub mod demo;
pub mod dump;
pub mod events;
pub mod exporter;
pub mod filter;
pub mod linknames;
pub mod names;
pub mod netdb;
pub mod netns;
pub mod procnet;
pub mod procs;
pub mod query;
pub mod render;
pub mod socket;
pub mod summary;
pub mod sys;
pub mod watch;
pub mod wire;
