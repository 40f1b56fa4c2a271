//! `mkconns N`: fills the current network namespace with N established loopback TCP
//! connections, 2N sockets, for the benchmarks that need a large socket table.
//!
//! A process may hold only as many descriptors as RLIMIT_NOFILE allows (a hard 20000 on the
//! bench machines), so the connections are spread over worker processes (this binary again,
//! run with `--worker`), each holding both ends of at most 9000 of them. Worker W listens on
//! its own address 127.1.x.y and binds its clients to 127.2.x.y, so no two workers share a
//! 4-tuple space and no worker comes near exhausting the ephemeral ports: a connect() needs a
//! free port only per (source, destination, destination port), 28k of them by default. One
//! connection in a hundred goes to port 5000, for the filter benchmark `dport = :5000`; the
//! others are spread over ports 5001-5008.
//!
//! `ready N` is printed once every worker has connected and accepted its share. The process
//! then waits until its standard input closes or SIGTERM, SIGINT or SIGHUP arrives, kills its
//! workers, reaps them, and exits 0. A worker never outlives it: it also dies with its parent
//! (PR_SET_PDEATHSIG) and when its standard input, a pipe from the parent, reaches EOF.
//!
//! Every wait is bounded: each connect() and accept() by a socket timeout, each worker by a
//! time limit, the parent's wait for its workers by a deadline. When the table cannot be
//! built, one line on stderr says why and the exit status is 1.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use sockscope_bench::{cvt, poll_until, raise_open_files_limit, readable, seconds};

/// The largest table mkconns builds; far more than any benchmark needs.
const MAX_CONNECTIONS: usize = 1_000_000;
/// Connections per worker: both ends of each, 18000 descriptors, fit under a 20000 limit.
const CONNECTIONS_PER_WORKER: usize = 9000;
/// Descriptors a worker needs besides its connections: stdio, listeners, slack.
const SPARE_DESCRIPTORS: u64 = 64;
/// The port of the connections the filter benchmark selects, and how often they occur.
const FILTERED_PORT: u16 = 5000;
const FILTERED_ONE_IN: usize = 100;
/// The ports of all other connections.
const OTHER_PORTS: [u16; 8] = [5001, 5002, 5003, 5004, 5005, 5006, 5007, 5008];
/// Connections made before they are accepted: well under the listen backlog, so that a full
/// accept queue never drops a SYN (that would stall connect() for a retransmit).
const BATCH: usize = 256;
const BACKLOG: i32 = 1024;
/// How long one connect() or accept() may take, and one worker altogether.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);
const WORKER_TIME_LIMIT: Duration = Duration::from_secs(300);
/// How long the parent waits for its workers beyond their own limit.
const PARENT_GRACE: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--worker") => worker_main(&args[1..]),
        _ => parent_main(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("mkconns: {message}");
            eprintln!("usage: mkconns N   (1 <= N <= {MAX_CONNECTIONS})");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("mkconns: {message}");
            ExitCode::FAILURE
        }
        Err(Failure::Reported) => ExitCode::FAILURE,
    }
}

enum Failure {
    Usage(String),
    Failed(String),
    /// A worker's failure, already told to the parent, which prints it.
    Reported,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Failed(message)
    }
}

/// Adds what was being done to an error, for the one line printed on failure.
trait Context<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, String>;
}

impl<T> Context<T> for io::Result<T> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, String> {
        self.map_err(|e| format!("{}: {e}", what()))
    }
}

// ---- the parent ----------------------------------------------------------------------------

/// A worker process, and the two pipes that tie it to the parent.
struct Worker {
    index: usize,
    child: Child,
    /// Held open for the worker's lifetime; closing it tells the worker to exit.
    stdin: Option<ChildStdin>,
    stdout: ChildStdout,
    /// What the worker printed so far: `ready` or `error: ...`, then a newline.
    said: Vec<u8>,
}

fn parent_main(args: &[String]) -> Result<(), Failure> {
    let connections = match args {
        [n] => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_CONNECTIONS).contains(n))
            .ok_or_else(|| Failure::Usage(format!("not a connection count: {n:?}")))?,
        _ => return Err(Failure::Usage("expected one argument".into())),
    };
    // Block the signals that end us before anything else, so that one arriving while the
    // workers start is still handled: it is read from a signalfd, never delivered.
    let signals = SignalFd::block(&[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])
        .context(|| "signalfd".into())?;

    let limit = raise_open_files_limit().context(|| "RLIMIT_NOFILE".into())?;
    let per_worker = CONNECTIONS_PER_WORKER
        .min((limit.saturating_sub(SPARE_DESCRIPTORS) / 2) as usize)
        .max(1);
    let count = connections.div_ceil(per_worker);
    if count > MAX_WORKERS {
        return Err(format!(
            "{connections} connections need {count} workers at {per_worker} per worker \
             (open files limit {limit}); at most {MAX_WORKERS} are supported"
        )
        .into());
    }

    let mut workers = Vec::with_capacity(count);
    let result = start_workers(&mut workers, connections, per_worker)
        .and_then(|()| wait_until_ready(&mut workers, &signals));
    if let Err(message) = result {
        stop(&mut workers);
        return Err(message.into());
    }

    let mut stdout = io::stdout().lock();
    let told = writeln!(stdout, "ready {connections}").and_then(|()| stdout.flush());
    if told.is_ok() {
        // Whoever started us may still hold a pipe to our stdout, so this is not an error.
        let _ = wait_for_the_end(&signals);
    }
    stop(&mut workers);
    told.context(|| "writing to stdout".into())?;
    Ok(())
}

/// Worker W's addresses are 127.1.x.y (listeners) and 127.2.x.y (clients), y in 1..=250.
const MAX_WORKERS: usize = 250 * 256;

fn worker_addresses(index: usize) -> (Ipv4Addr, Ipv4Addr) {
    let x = (index / 250) as u8;
    let y = (index % 250 + 1) as u8;
    (Ipv4Addr::new(127, 1, x, y), Ipv4Addr::new(127, 2, x, y))
}

fn start_workers(
    workers: &mut Vec<Worker>,
    connections: usize,
    per_worker: usize,
) -> Result<(), String> {
    let exe = std::env::current_exe().context(|| "finding this program".into())?;
    let parent = std::process::id().to_string();
    for (index, first) in (0..connections).step_by(per_worker).enumerate() {
        let count = per_worker.min(connections - first);
        let mut child = Command::new(&exe)
            .args(["--worker", &index.to_string(), &first.to_string()])
            .args([&count.to_string(), &parent])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context(|| format!("starting worker {index}"))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout was piped");
        workers.push(Worker {
            index,
            child,
            stdin,
            stdout,
            said: Vec::new(),
        });
    }
    Ok(())
}

/// Reads each worker's one line, failing on the first that is not `ready`.
fn wait_until_ready(workers: &mut [Worker], signals: &SignalFd) -> Result<(), String> {
    let deadline = Instant::now() + WORKER_TIME_LIMIT + PARENT_GRACE;
    let started = Instant::now();
    let mut waiting: Vec<usize> = (0..workers.len()).collect();
    while !waiting.is_empty() {
        let mut fds: Vec<libc::pollfd> = waiting
            .iter()
            .map(|&w| readable(workers[w].stdout.as_raw_fd()))
            .collect();
        fds.push(readable(signals.fd()));
        if poll_until(&mut fds, Some(deadline)).context(|| "poll".into())? == 0 {
            return Err(format!(
                "{} of {} workers not ready after {}",
                waiting.len(),
                workers.len(),
                seconds(started.elapsed())
            ));
        }
        if fds.last().is_some_and(|fd| fd.revents != 0) {
            return Err("stopped by a signal before the connections were made".into());
        }
        let mut still_waiting = Vec::with_capacity(waiting.len());
        for (&w, fd) in waiting.iter().zip(&fds) {
            let worker = &mut workers[w];
            if fd.revents == 0 || read_line(worker)? {
                still_waiting.push(w);
            }
        }
        waiting = still_waiting;
    }
    Ok(())
}

/// Reads what a ready worker has to say. Returns whether its line is still incomplete, and
/// an error when the line is not `ready`.
fn read_line(worker: &mut Worker) -> Result<bool, String> {
    let mut chunk = [0u8; 512];
    let n = worker
        .stdout
        .read(&mut chunk)
        .context(|| format!("reading from worker {}", worker.index))?;
    worker.said.extend_from_slice(&chunk[..n]);
    let line = match worker.said.iter().position(|&b| b == b'\n') {
        Some(end) => String::from_utf8_lossy(&worker.said[..end]).into_owned(),
        None if n == 0 || worker.said.len() > 4096 => {
            let status = worker.child.try_wait().ok().flatten();
            let how = status.map_or("ended".to_string(), |s| s.to_string());
            return Err(format!("worker {} {how} without saying why", worker.index));
        }
        None => return Ok(true),
    };
    match line.strip_prefix("error: ") {
        None if line == "ready" => Ok(false),
        Some(why) => Err(format!("worker {}: {why}", worker.index)),
        None => Err(format!("worker {} said {line:?}", worker.index)),
    }
}

/// Waits until standard input closes (anything read from it is ignored) or a signal arrives.
fn wait_for_the_end(signals: &SignalFd) -> io::Result<()> {
    let mut stdin = io::stdin().lock();
    let mut discard = [0u8; 512];
    loop {
        let mut fds = [readable(libc::STDIN_FILENO), readable(signals.fd())];
        poll_until(&mut fds, None)?;
        if fds[1].revents != 0 {
            return Ok(());
        }
        if fds[0].revents & libc::POLLNVAL != 0 {
            return Ok(()); // no standard input at all
        }
        if fds[0].revents != 0 && stdin.read(&mut discard)? == 0 {
            return Ok(());
        }
    }
}

/// Ends every worker and reaps it. SIGKILL, because a worker has nothing to clean up: the
/// kernel closes its sockets.
fn stop(workers: &mut [Worker]) {
    for worker in workers.iter_mut() {
        worker.stdin = None;
        let _ = worker.child.kill();
    }
    for worker in workers.iter_mut() {
        let _ = worker.child.wait();
    }
}

/// Signals turned into a readable descriptor.
struct SignalFd(std::os::fd::OwnedFd);

impl SignalFd {
    fn block(signals: &[libc::c_int]) -> io::Result<SignalFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: sigset_t is plain data, which sigemptyset initialises before any use.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a valid sigset_t; the signal numbers are valid.
        unsafe {
            libc::sigemptyset(&mut set);
            for &signal in signals {
                libc::sigaddset(&mut set, signal);
            }
        }
        // SAFETY: `set` is initialised; the old mask is not wanted.
        cvt(unsafe { libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) })?;
        // SAFETY: `set` is initialised; -1 asks for a new descriptor.
        let fd = cvt(unsafe { libc::signalfd(-1, &set, libc::SFD_CLOEXEC) })?;
        // SAFETY: signalfd just returned this descriptor, and nothing else owns it.
        Ok(SignalFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    fn fd(&self) -> libc::c_int {
        self.0.as_raw_fd()
    }
}

// ---- a worker ------------------------------------------------------------------------------

/// `--worker INDEX FIRST COUNT PARENT`: makes connections FIRST..FIRST+COUNT of the table,
/// says `ready` (or `error: ...`) on stdout, then holds them until stdin closes.
fn worker_main(args: &[String]) -> Result<(), Failure> {
    let numbers: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let &[index, first, count, parent] = numbers.as_slice() else {
        return Err(Failure::Usage(format!("bad worker arguments: {args:?}")));
    };
    // SAFETY: plain system calls with integer arguments.
    unsafe {
        // Die with the parent, and make sure it did not die before this was set.
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() as usize != parent {
            return Err("the parent is gone".to_string().into());
        }
    }

    let mut stdout = io::stdout().lock();
    let sockets = match connect_all(index, first, count) {
        Ok(sockets) => sockets,
        Err(why) => {
            return match writeln!(stdout, "error: {why}") {
                Ok(()) => Err(Failure::Reported),
                Err(_) => Err(why.into()),
            };
        }
    };
    writeln!(stdout, "ready")
        .and_then(|()| stdout.flush())
        .context(|| "writing to the parent".into())?;

    // Hold the sockets until the parent closes our stdin (or kills us).
    let mut stdin = io::stdin().lock();
    let mut discard = [0u8; 64];
    while stdin.read(&mut discard).is_ok_and(|n| n > 0) {}
    drop(sockets);
    Ok(())
}

/// The destination port of connection `n` of the whole table.
fn port_of(n: usize) -> u16 {
    if n % FILTERED_ONE_IN == 0 {
        FILTERED_PORT
    } else {
        OTHER_PORTS[n % OTHER_PORTS.len()]
    }
}

fn connect_all(index: usize, first: usize, count: usize) -> Result<Vec<Socket>, String> {
    let started = Instant::now();
    raise_open_files_limit().context(|| "RLIMIT_NOFILE".into())?;
    let (listen_ip, source_ip) = worker_addresses(index);
    let ports: Vec<u16> = std::iter::once(FILTERED_PORT).chain(OTHER_PORTS).collect();
    let listeners = ports
        .iter()
        .map(|&port| listener(SocketAddrV4::new(listen_ip, port)))
        .collect::<Result<Vec<_>, _>>()?;

    let source = SockAddr::from(SocketAddrV4::new(source_ip, 0));
    let mut sockets = Vec::with_capacity(2 * count + listeners.len());
    let mut made = 0;
    let out_of_time = |connected: usize| {
        format!(
            "only {connected} of {count} connections after {}",
            seconds(started.elapsed())
        )
    };
    while made < count {
        let batch = BATCH.min(count - made);
        let mut to_accept = vec![0usize; ports.len()];
        for n in first + made..first + made + batch {
            // Checked per connection, so that a run of slow connect()s (each may take up to
            // STEP_TIMEOUT) cannot stretch the limit by a whole batch.
            if started.elapsed() > WORKER_TIME_LIMIT {
                return Err(out_of_time(n - first));
            }
            let port = port_of(n);
            let to = SocketAddrV4::new(listen_ip, port);
            sockets.push(client(&source, to)?);
            to_accept[ports.iter().position(|&p| p == port).expect("a known port")] += 1;
        }
        for ((listener, &port), &n) in listeners.iter().zip(&ports).zip(&to_accept) {
            for _ in 0..n {
                let (accepted, _) = listener
                    .accept()
                    .context(|| format!("accept on {listen_ip}:{port}"))?;
                sockets.push(accepted);
            }
        }
        made += batch;
    }
    sockets.extend(listeners);
    Ok(sockets)
}

fn listener(at: SocketAddrV4) -> Result<Socket, String> {
    let context = || format!("listen on {at}");
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).context(context)?;
    socket.set_reuse_address(true).context(context)?;
    socket.bind(&at.into()).context(context)?;
    socket.listen(BACKLOG).context(context)?;
    // accept() honours SO_RCVTIMEO: a connection that never arrives is an error, not a hang.
    socket
        .set_read_timeout(Some(STEP_TIMEOUT))
        .context(context)?;
    Ok(socket)
}

fn client(source: &SockAddr, to: SocketAddrV4) -> Result<Socket, String> {
    let context = || format!("connect to {to}");
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).context(context)?;
    // Bind the source address but let connect() choose the port, so that a port is shared by
    // every connection with a different destination (without this, bind() would reserve one
    // of the 28k ephemeral ports per socket).
    let yes: libc::c_int = 1;
    // SAFETY: `yes` is a c_int that outlives the call, and its size is passed with it.
    cvt(unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_BIND_ADDRESS_NO_PORT,
            (&yes as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .context(context)?;
    socket.bind(source).context(context)?;
    // connect() honours SO_SNDTIMEO.
    socket
        .set_write_timeout(Some(STEP_TIMEOUT))
        .context(context)?;
    socket.connect(&to.into()).context(context)?;
    Ok(socket)
}
