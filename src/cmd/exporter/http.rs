//! The HTTP side of the exporter: `GET /metrics`, a page at `/` that links to it (as
//! node_exporter has), one request per connection.
//!
//! The serving loop waits for connections and for the kernel's events at once, and counts
//! the events as they come, so that the kernel's buffers never fill between two scrapes; it
//! ends, and the exporter with status 0, at SIGTERM or Ctrl-C.
//!
//! Each connection gets a thread of its own and deadlines: its request head must arrive
//! within [`HEAD_TIMEOUT`] and fit in [`MAX_HEAD`] bytes, and the answer must be taken within
//! [`WRITE_TIMEOUT`]. So a client that is slow, stuck, or never reads holds only its own
//! thread, for a bounded time, and the next scrape is answered meanwhile. Scrapes themselves
//! run one at a time (see [`Exporter::scrape`]), never while waiting on a client.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::Exporter;
use super::metrics::Format;
use crate::sys::term;

/// The most bytes a request head (request line and headers) may take.
pub const MAX_HEAD: usize = 8 * 1024;
/// How long a client has to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a client has to take the whole answer.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed at once, unanswered.
pub const MAX_CONNECTIONS: usize = 32;
/// What the page at `/` says.
const INDEX: &str = "<!DOCTYPE html>
<html>
<head><title>sockscope exporter</title></head>
<body>
<h1>sockscope exporter</h1>
<p>Socket metrics for Prometheus: <a href=\"/metrics\">/metrics</a>.</p>
</body>
</html>
";

/// Answers scrapes on `listener`, and counts the kernel's events as they come, until SIGTERM
/// or Ctrl-C.
pub fn serve(listener: TcpListener, exporter: Arc<Exporter>) -> anyhow::Result<()> {
    listener.set_nonblocking(true)?;
    // SIGINT and SIGTERM reach this thread alone, and only while it waits (see `wait`): the
    // connections' threads inherit the blocked mask.
    let endings = ending_signals();
    // SAFETY: pthread_sigmask reads the initialised set and writes nothing back (null).
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &endings, std::ptr::null_mut()) };
    let active = Arc::new(AtomicUsize::new(0));
    let events = exporter.event_fds();
    while !term::interrupted() {
        let ready = wait([Some(listener.as_raw_fd()), events[0], events[1]])?;
        // While a scrape looks, the events wait for it (the kernel's buffers hold them), and
        // the loop with them, rather than spin on descriptors that stay readable.
        if (ready[1] || ready[2]) && !exporter.pump() && !ready[0] {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !ready[0] {
            continue;
        }
        loop {
            let stream = match listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The client gave up before it was accepted, or a signal came.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue;
                }
                // Out of descriptors or memory: wait for connections to end.
                Err(e)
                    if matches!(
                        e.raw_os_error(),
                        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
                    ) =>
                {
                    std::thread::sleep(Duration::from_millis(100));
                    break;
                }
                Err(e) => return Err(anyhow::Error::new(e).context("accepting a connection")),
            };
            if active.load(Ordering::Relaxed) >= MAX_CONNECTIONS {
                continue;
            }
            // Accepted sockets do not inherit the listener's O_NONBLOCK on Linux; said anyway.
            if stream.set_nonblocking(false).is_err() {
                continue;
            }
            active.fetch_add(1, Ordering::Relaxed);
            let (mine, exporter) = (Arc::clone(&active), Arc::clone(&exporter));
            let spawned = std::thread::Builder::new()
                .name("http".to_owned())
                .spawn(move || {
                    answer(stream, &exporter);
                    mine.fetch_sub(1, Ordering::Relaxed);
                });
            if spawned.is_err() {
                active.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
    Ok(())
}

/// SIGINT and SIGTERM, as a signal set.
fn ending_signals() -> libc::sigset_t {
    // SAFETY: sigemptyset initialises the zeroed set; sigaddset adds valid signal numbers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        set
    }
}

/// Waits until one of `fds` is readable or a signal arrives; says which are readable.
///
/// The ending signals are blocked but during the wait itself, which ppoll unblocks them for
/// atomically: one that came before the wait interrupts it at once, and an idle exporter
/// sleeps until something happens.
fn wait(fds: [Option<RawFd>; 3]) -> io::Result<[bool; 3]> {
    let pollfd = |fd: Option<RawFd>| libc::pollfd {
        fd: fd.unwrap_or(-1),
        events: libc::POLLIN,
        revents: 0,
    };
    let mut polled = fds.map(pollfd);
    let mut mask = ending_signals();
    // SAFETY: pthread_sigmask with a null new set only writes the current mask into `mask`,
    // which then loses the ending signals.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, std::ptr::null(), &mut mask);
        libc::sigdelset(&mut mask, libc::SIGINT);
        libc::sigdelset(&mut mask, libc::SIGTERM);
    }
    // SAFETY: `polled` is a live array of initialised pollfds for the whole call (ppoll
    // ignores entries whose descriptor is negative); no timeout; `mask` is initialised.
    let n = unsafe {
        libc::ppoll(
            polled.as_mut_ptr(),
            polled.len() as libc::nfds_t,
            std::ptr::null(),
            &mask,
        )
    };
    if n < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok([false; 3]);
        }
        return Err(e);
    }
    Ok(polled.map(|p| p.revents != 0))
}

/// An answer: status, extra header, content type and body.
struct Answer {
    status: u16,
    allow: bool,
    content_type: &'static str,
    body: Vec<u8>,
    /// `HEAD`: the headers only.
    head_only: bool,
}

impl Answer {
    fn error(status: u16) -> Answer {
        let mut body = reason(status).as_bytes().to_vec();
        body.push(b'\n');
        Answer {
            status,
            allow: status == 405,
            content_type: "text/plain; charset=utf-8",
            body,
            head_only: false,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        505 => "HTTP Version Not Supported",
        _ => "Internal Server Error",
    }
}

/// Reads one request from `stream` and answers it.
fn answer(mut stream: TcpStream, exporter: &Exporter) {
    let Some(answer) = read_and_decide(&mut stream, exporter) else {
        return;
    };
    let mut head = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
        answer.status,
        reason(answer.status),
        answer.content_type,
        answer.body.len()
    );
    if answer.allow {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    let deadline = Instant::now() + WRITE_TIMEOUT;
    let body: &[u8] = if answer.head_only { &[] } else { &answer.body };
    let written = write_by(&mut stream, head.as_bytes(), deadline)
        .and_then(|()| write_by(&mut stream, body, deadline));
    if written.is_ok() {
        let _ = stream.shutdown(Shutdown::Write);
    }
}

/// Writes all of `bytes` before `deadline`, or fails: a client that reads a byte now and then
/// cannot keep the connection for longer.
fn write_by(stream: &mut TcpStream, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
    while !bytes.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        stream.set_write_timeout(Some(left))?;
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// The answer to the request on `stream`; `None` when the client went away.
fn read_and_decide(stream: &mut TcpStream, exporter: &Exporter) -> Option<Answer> {
    let deadline = Instant::now() + HEAD_TIMEOUT;
    let mut buffer = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Some(Answer::error(408));
        }
        stream.set_read_timeout(Some(left)).ok()?;
        match stream.read(&mut buffer[len..]) {
            Ok(0) => return None,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Some(Answer::error(408));
            }
            Err(_) => return None,
        }
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer[..len]) {
            Ok(httparse::Status::Complete(_)) => return Some(decide(&request, exporter)),
            Ok(httparse::Status::Partial) if len == MAX_HEAD => return Some(Answer::error(431)),
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Some(Answer::error(431)),
            Err(httparse::Error::Version) => return Some(Answer::error(505)),
            Err(_) => return Some(Answer::error(400)),
        }
    }
}

/// What a complete request gets.
fn decide(request: &httparse::Request<'_, '_>, exporter: &Exporter) -> Answer {
    let head_only = match request.method {
        Some("GET") => false,
        Some("HEAD") => true,
        _ => return Answer::error(405),
    };
    let path = request.path.unwrap_or("");
    let path = path.split_once('?').map_or(path, |(path, _)| path);
    if path == "/" {
        return Answer {
            status: 200,
            allow: false,
            content_type: "text/html; charset=utf-8",
            body: INDEX.as_bytes().to_vec(),
            head_only,
        };
    }
    if path != "/metrics" {
        return Answer::error(404);
    }
    let format = if request.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("accept")
            && String::from_utf8_lossy(h.value).contains("application/openmetrics-text")
    }) {
        Format::OpenMetrics
    } else {
        Format::Text
    };
    match exporter.scrape(format) {
        Ok(text) => Answer {
            status: 200,
            allow: false,
            content_type: format.content_type(),
            body: text.into_bytes(),
            head_only,
        },
        Err(e) => {
            let message = format!("{e:#}");
            let _ = writeln!(
                io::stderr(),
                "sockscope: warning: a scrape failed: {message}"
            );
            Answer {
                body: format!("{message}\n").into_bytes(),
                head_only,
                ..Answer::error(500)
            }
        }
    }
}
