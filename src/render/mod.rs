//! Renderers: they take sockets one at a time and write them out, as a table or as JSON.
//!
//! A renderer never asks the kernel anything; it receives `&Socket` and owns its writer.

use std::io;

use crate::socket::Socket;

pub mod details;
pub mod json;
pub mod names;
pub mod table;

/// Something that shows sockets as they arrive.
pub trait Renderer {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()>;

    /// Writes whatever is still held and flushes.
    fn finish(&mut self) -> io::Result<()>;
}
