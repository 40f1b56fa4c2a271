//! Sockets as the kernel destroys them: `-E`, and the piece `watch` shares with it.
//!
//! The kernel announces every TCP and UDP socket it frees on the sock_diag destroy groups
//! ([`crate::wire::events`]); each announcement is an `inet_diag_msg`, decoded here into the
//! same [`Socket`] a listing gives. `-E` prints them as they come, through the table or as JSON
//! lines, until Ctrl-C or SIGTERM.
//!
//! Like ss, `-E` honours the table and family options (they choose the groups joined) and the
//! filter expression, but not the states: a destroyed TCP socket is always closed (UNCONN).

use std::io::{self, BufWriter, Write};

use anyhow::Context;
use netlink_packet_core::DecodeError;

use crate::config::{Config, Format};
use crate::decode;
use crate::names::Names;
use crate::query::Query;
use crate::render::Renderer;
use crate::render::json::Record;
use crate::render::table::TableRenderer;
use crate::socket::{Family, Netid, Socket};
use crate::term;
use crate::wire::events::{DestroyEvents, DestroyGroup};
use crate::wire::inet::InetDiagMsg;
use crate::wire::netlink::DiagError;

/// The destroy groups that report sockets `query` lists: TCP and UDP, of the IP versions it
/// asks for. Other tables have none.
pub fn groups(query: &Query) -> Vec<DestroyGroup> {
    DestroyGroup::ALL
        .into_iter()
        .filter(|group| {
            let family = if group.is_ipv6() {
                Family::Inet6
            } else {
                Family::Inet
            };
            query.tables.contains(netid(*group)) && query.families.contains(family)
        })
        .collect()
}

/// The table a group's sockets belong to.
pub fn netid(group: DestroyGroup) -> Netid {
    if group.protocol() == libc::IPPROTO_TCP as u8 {
        Netid::Tcp
    } else {
        Netid::Udp
    }
}

/// The socket a destroy message describes.
pub fn decode(group: DestroyGroup, payload: &[u8]) -> Result<Socket<'_>, DecodeError> {
    let msg = InetDiagMsg::parse(payload)?;
    decode::inet_socket(netid(group), &msg)
}

/// Whether `socket`, destroyed, belongs in the output: the filter expression decides, the
/// states do not (the kernel reports every destroyed TCP socket as closed).
pub fn wanted(query: &Query, socket: &Socket<'_>) -> bool {
    query
        .filter
        .as_ref()
        .is_none_or(|filter| filter.matches(socket, &query.context))
}

/// `-E`: prints destroyed sockets on standard output until interrupted.
pub fn follow(config: &Config) -> anyhow::Result<()> {
    term::catch_interrupts();
    let groups = groups(&config.query);
    let mut events = DestroyEvents::subscribe(&groups)
        .context("subscribing to the kernel's socket-destroy events")?;
    let out = BufWriter::new(io::stdout().lock());
    let mut printer = match config.output.format {
        Format::Table => Printer::Table(TableRenderer::new(out, &config.output, term::width())),
        Format::Json => Printer::Json {
            out,
            names: Names::new(),
        },
    };
    let mut warned = false;
    while !term::interrupted() {
        match events.wait(None) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e).context("waiting for socket-destroy events"),
        }
        let drained = events.drain(|group, payload| {
            let socket = decode(group, payload).map_err(|source| EventError::Decode {
                table: netid(group).name(),
                source,
            })?;
            if wanted(&config.query, &socket) {
                printer.socket(&socket, config)?;
            }
            // As ss does: every event prints what is held, so the header comes with the first
            // one even when the filter rejects it.
            printer.flush()?;
            Ok::<(), EventError>(())
        });
        let drained = match drained {
            Ok(drained) => drained,
            // Kept as an io::Error, so that main sees a closed standard output.
            Err(EventError::Output(e)) => return Err(e.into()),
            Err(e) => return Err(e.into()),
        };
        if drained.overrun && !warned {
            warned = true;
            let _ = writeln!(
                io::stderr(),
                "sockscope: warning: the kernel dropped socket-destroy events (they came faster \
                 than they were read); some destroyed sockets are missing"
            );
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Diag(#[from] DiagError),
    #[error("cannot decode a destroyed {table} socket from the kernel")]
    Decode {
        table: &'static str,
        #[source]
        source: DecodeError,
    },
    #[error(transparent)]
    Output(#[from] io::Error),
}

/// `-E`'s output: the table, its rows printed one at a time, or one JSON record per line.
#[allow(clippy::large_enum_variant)] // one for the whole run
enum Printer<W: Write> {
    Table(TableRenderer<W>),
    Json { out: W, names: Names },
}

impl<W: Write> Printer<W> {
    fn socket(&mut self, socket: &Socket<'_>, config: &Config) -> io::Result<()> {
        match self {
            Printer::Table(table) => table.socket(socket),
            Printer::Json { out, names } => {
                let record = Record::new(socket, names, config.output.details);
                serde_json::to_writer(&mut *out, &record)?;
                out.write_all(b"\n")
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Printer::Table(table) => table.print_held(),
            Printer::Json { out, .. } => out.flush(),
        }
    }
}
