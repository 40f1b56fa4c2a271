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
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use netlink_packet_core::DecodeError;
use serde::{Serialize, Serializer};

use crate::config::{Config, DetailFlags, Format};
use crate::names::Names;
use crate::render::Renderer;
use crate::render::json::Record;
use crate::render::table::TableRenderer;
use crate::socket::{Family, Netid, Socket};
use crate::source::decode;
use crate::source::query::Query;
use crate::sys::clock;
use crate::sys::output::{self, Stdout};
use crate::sys::term;
use crate::wire::events::{DestroyEvents, DestroyGroup, Event, EventQueue};
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
pub fn decode(group: DestroyGroup, payload: &[u8]) -> Result<Socket<'_>, EventError> {
    InetDiagMsg::parse(payload)
        .and_then(|msg| decode::inet_socket(netid(group), &msg))
        .map_err(|source| EventError::Decode {
            table: netid(group).name(),
            source,
        })
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
///
/// The socket is read on a thread of its own into a large buffer ([`EventQueue`]), so that a
/// burst is not lost while this thread writes. Where the kernel still drops events, `--json`
/// says so in the stream (`{"type":"overrun","time":T}`), the table on standard error.
pub fn follow(config: &Config) -> anyhow::Result<()> {
    term::catch_interrupts();
    let groups = groups(&config.query);
    let events = DestroyEvents::subscribe(&groups)
        .context("subscribing to the kernel's socket-destroy events")?;
    let mut queue = EventQueue::new().context("starting to read socket-destroy events")?;
    queue
        .add(events, 0)
        .context("starting to read socket-destroy events")?;
    let out = BufWriter::with_capacity(64 * 1024, Stdout);
    let mut printer = match config.output.format {
        Format::Table => Printer::Table(TableRenderer::new(out, &config.output, term::width())),
        Format::Json => Printer::Json {
            out,
            names: Names::new(),
        },
    };
    let mut last_warning: Option<Instant> = None;
    let result = (|| -> Result<(), EventError> {
        while !term::interrupted() {
            wait_readable(queue.as_raw_fd())?;
            queue.take(|event| {
                match event {
                    Event::Destroyed { group, payload, .. } => {
                        let socket = decode(group, payload)?;
                        if wanted(&config.query, &socket) {
                            printer.socket(&socket, config)?;
                        }
                        // As ss does: every event prints what is held, so the header comes
                        // with the first one even when the filter rejects it.
                        printer.print_held()?;
                    }
                    Event::Overrun { at, .. } => {
                        let wall = clock::wall(at);
                        if let Printer::Json { .. } = printer {
                            printer.overrun(wall)?;
                        } else if last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
                        {
                            last_warning = Some(Instant::now());
                            let _ = writeln!(
                                io::stderr(),
                                "sockscope: warning: the kernel dropped socket-destroy events at \
                                 {} (they came faster than they were read); some destroyed \
                                 sockets are missing",
                                clock::time_of_day(wall)
                            );
                        }
                    }
                }
                Ok::<(), EventError>(())
            })?;
            printer.flush()?;
        }
        Ok(())
    })();
    match result {
        Ok(()) => Ok(()),
        // A signal while the output was blocked: the end asked for.
        Err(EventError::Output(e)) if output::is_stopped(&e) => Ok(()),
        // Kept as an io::Error, so that main sees a closed standard output.
        Err(EventError::Output(e)) => Err(e.into()),
        Err(e) => Err(e.into()),
    }
}

/// Waits until `fd` is readable or a signal arrives (a tenth of a second at most, so that a
/// signal just before the wait is not missed for long).
fn wait_readable(fd: RawFd) -> io::Result<()> {
    let mut fds = [libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: `fds` is a live array of one initialised pollfd for the whole call.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 100) };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
    Ok(())
}

/// What can go wrong reading destroy events: for `-E` and for watch.
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
                // The cookie always, so that a consumer can join the ends it sees.
                let keyed = Keyed::new(socket, &record, config.output.details);
                serde_json::to_writer(&mut *out, &keyed)?;
                out.write_all(b"\n")
            }
        }
    }

    /// `{"type":"overrun","time":T}`: events were lost just before `T`.
    fn overrun(&mut self, wall: SystemTime) -> io::Result<()> {
        if let Printer::Json { out, .. } = self {
            let line = serde_json::json!({"type": "overrun", "time": clock::rfc3339(wall)});
            serde_json::to_writer(&mut *out, &line)?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The table's rows waiting, printed (and flushed, as each of ss's rows is).
    fn print_held(&mut self) -> io::Result<()> {
        match self {
            Printer::Table(table) => table.print_held(),
            Printer::Json { .. } => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Printer::Table(table) => table.print_held(),
            Printer::Json { out, .. } => out.flush(),
        }
    }
}

/// A `--json` record with the socket's `cookie` first, where the record leaves it out (it
/// carries it with `-e`): the key that joins the lines about one socket.
pub struct Keyed<'r, 's, 'a> {
    cookie: Option<u64>,
    record: &'r Record<'s, 'a>,
}

impl<'r, 's, 'a> Keyed<'r, 's, 'a> {
    pub fn new(socket: &Socket<'_>, record: &'r Record<'s, 'a>, details: DetailFlags) -> Self {
        Keyed {
            cookie: socket.cookie.filter(|_| !details.extended),
            record,
        }
    }
}

impl Serialize for Keyed<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'r, 's, 'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            cookie: Option<Hex>,
            #[serde(flatten)]
            record: &'r Record<'s, 'a>,
        }
        Flat {
            cookie: self.cookie.map(Hex),
            record: self.record,
        }
        .serialize(serializer)
    }
}

/// The cookie as `--json -e` spells it: hexadecimal, as ss's `sk:`.
struct Hex(u64);

impl Serialize for Hex {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("{:x}", self.0))
    }
}
