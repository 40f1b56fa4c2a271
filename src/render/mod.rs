//! Renderers: they take sockets one at a time and write them out, as a table, as JSON, or as
//! JSON lines.
//!
//! A renderer never asks the kernel anything; it receives `&Socket` and owns its writer.

use std::io::{self, Write};
use std::rc::Rc;
use std::time::SystemTime;

use crate::procs::Processes;
use crate::socket::Socket;

mod cformat;
pub mod details;
pub mod endpoint;
pub mod json;
pub mod jsonl;
pub mod options;
pub mod table;

use json::JsonRenderer;
use jsonl::JsonLines;
use options::{Format, Output};
use table::TableRenderer;

/// Something that shows sockets as they arrive.
pub trait Renderer {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()>;

    /// The sockets that follow are those of network namespace `name` (`-N all`), and the
    /// calling thread is now in it. A renderer that names namespaces shows it from now on; one
    /// that does not may ignore it.
    fn namespace(&mut self, _name: &str) {}

    /// In a stream (`-E`): the sockets so far shown now, the rows a table holds back to fit
    /// its columns printed (and flushed, as each of ss's rows is). A renderer that writes as
    /// it goes has nothing to do.
    fn show_held(&mut self) -> io::Result<()> {
        Ok(())
    }

    /// In a stream: the kernel lost sockets just before `at`. A renderer that can say so in
    /// its output does, and returns true; otherwise the caller says it elsewhere.
    fn overrun(&mut self, _at: SystemTime) -> io::Result<bool> {
        Ok(false)
    }

    /// In a stream: everything so far written out, at the end of a batch.
    fn flush(&mut self) -> io::Result<()>;

    /// Writes whatever is still held and flushes.
    fn finish(&mut self) -> io::Result<()>;
}

/// Whether the sockets are listed once or keep coming: as JSON, a listing is one array and a
/// stream one record per line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrival {
    Listing,
    Stream,
}

/// The renderer `output` asks for, writing to `out`: the one way a mode gets one. The table
/// fits `screen_width`; `processes` names the owners of each socket (`-p`, `-T`).
pub fn renderer<'w, W: Write + 'w>(
    out: W,
    output: &Output,
    arrival: Arrival,
    screen_width: Option<usize>,
    processes: Option<Rc<Processes>>,
) -> Box<dyn Renderer + 'w> {
    match (output.format, arrival) {
        (Format::Table, _) => {
            Box::new(TableRenderer::new(out, output, screen_width).with_processes(processes))
        }
        (Format::Json, Arrival::Listing) => {
            Box::new(JsonRenderer::new(out, output.details).with_processes(processes))
        }
        (Format::Json, Arrival::Stream) => Box::new(JsonLines::new(out, output.details)),
    }
}
