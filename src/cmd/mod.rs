//! The modes: the listing ([`list`]: sockets once, or closed with `-K`, or recorded with `-D`),
//! following destroyed sockets (`-E`, [`events`]), the usage summary (`-s`, [`summary`]), and
//! the subcommands [`demo`], [`watch`] and [`exporter`]. Each takes a configuration and the
//! layers below; none knows another.

pub mod demo;
pub mod events;
pub mod exporter;
pub mod list;
pub mod summary;
pub mod watch;
