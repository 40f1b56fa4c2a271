//! Renderers: they take sockets one at a time and write them out, as a table or as JSON.
//!
//! A renderer never asks the kernel anything; it receives `&Socket` and owns its writer.

use std::io;

use crate::socket::Socket;

mod cformat;
pub mod details;
pub mod endpoint;
pub mod json;
pub mod options;
pub mod table;

/// Something that shows sockets as they arrive.
pub trait Renderer {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()>;

    /// The sockets that follow are those of network namespace `name` (`-N all`), and the
    /// calling thread is now in it. A renderer that names namespaces shows it from now on; one
    /// that does not may ignore it.
    fn namespace(&mut self, _name: &str) {}

    /// Writes whatever is still held and flushes.
    fn finish(&mut self) -> io::Result<()>;
}
