//! `-E`: sockets as the kernel destroys them, printed as they come, through the table or as
//! JSON lines, until Ctrl-C or SIGTERM.
//!
//! The announcements are decoded by [`crate::source::destroyed`] into the same sockets a
//! listing gives. Like ss, `-E` honours the table and family options (they choose the groups
//! joined) and the filter expression, but not the states: a destroyed TCP socket is always
//! closed (UNCONN).

use std::io::{self, BufWriter, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::config::Config;
use crate::filter;
use crate::render::{self, Arrival};
use crate::source::destroyed::{self, EventError};
use crate::sys::clock;
use crate::sys::output::{self, Stdout};
use crate::sys::term;
use crate::wire::events::{DestroyEvents, Event, EventQueue};

/// Prints destroyed sockets on standard output until interrupted.
///
/// The socket is read on a thread of its own into a large buffer ([`EventQueue`]), so that a
/// burst is not lost while this thread writes. Where the kernel still drops events, `--json`
/// says so in the stream (`{"type":"overrun","time":T}`), the table on standard error.
pub fn follow(config: &Config) -> anyhow::Result<()> {
    term::catch_interrupts();
    let groups = destroyed::groups(&config.query);
    let events = DestroyEvents::subscribe(&groups)
        .context("subscribing to the kernel's socket-destroy events")?;
    let mut queue = EventQueue::new().context("starting to read socket-destroy events")?;
    queue
        .add(events, 0)
        .context("starting to read socket-destroy events")?;
    let out = BufWriter::with_capacity(64 * 1024, Stdout);
    let mut renderer = render::renderer(out, &config.output, Arrival::Stream, term::width(), None);
    let query = &config.query;
    let mut last_warning: Option<Instant> = None;
    let result = (|| -> Result<(), EventError> {
        while !term::interrupted() {
            wait_readable(queue.as_raw_fd())?;
            queue.take(|event| {
                match event {
                    Event::Destroyed { group, payload, .. } => {
                        let socket = destroyed::decode(group, payload)?;
                        if filter::wanted(query.filter.as_ref(), &socket, &query.context) {
                            renderer.socket(&socket)?;
                        }
                        // As ss does: every event prints what is held, so the header comes
                        // with the first one even when the filter rejects it.
                        renderer.show_held()?;
                    }
                    Event::Overrun { at, .. } => {
                        let wall = clock::wall(at);
                        if !renderer.overrun(wall)?
                            && last_warning.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
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
            renderer.flush()?;
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
