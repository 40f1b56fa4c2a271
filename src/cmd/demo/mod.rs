//! `sockscope demo`: a TCP connection (or, with `--udp`, a UDP exchange) built one system call
//! at a time inside this process, with the kernel's own view of its sockets after each step
//! and the packets each step put on the loopback device.
//!
//! Nothing here is made up: every table is a sock_diag query through the normal path, printed
//! by the normal renderer, and every packet line is a packet captured on `lo`. The demo runs in
//! a network namespace of its own where it can make one ([`sandbox`]), so that its tables and
//! its capture hold only its own sockets and packets. The explanations are ours; the walk
//! follows the server and client of the article "Analysing the Stream Socket connection"
//! (127.0.0.1:55000, `listen(fd, 5)`, 50 bytes sent and left unread), and adds what such a
//! tutorial points at without showing:
//! the backlog of `listen(fd, 5)`, a Send-Q that fills, and the handshake on the wire.

mod capture;
mod layout;
mod print;
mod records;
mod sandbox;
mod segment;
mod tcp;
mod udp;

use std::io::{self, IsTerminal, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context as _, bail};
use socket2::{SockAddr, Socket as Sock};

use crate::filter::{self, ParseOptions, Source};
use crate::names::Names;
use crate::render::Renderer;
use crate::render::json::Record;
use crate::render::options::{DetailFlags, Format, Output};
use crate::render::table::TableRenderer;
use crate::socket::{Endpoints, Family, FamilySet, Netid, OwnedSocket, StateSet, TcpState};
use crate::source::procnet::ListenCounters;
use crate::source::query::{self, Query};
use crate::source::request::{Attributes, Wanted};
use crate::sys::term;
use crate::wire::netlink::DiagSocket;
use capture::{Capture, Packet};
use records::{CounterRecord, Labelled, PacketRecord, StageRecord, packet_words};
use sandbox::Place;

/// How long to wait for the kernel to reach a stage's state before showing what it has.
const SETTLE: Duration = Duration::from_secs(2);

/// After a stage has settled, how long the wire must stay quiet before its packets are
/// counted (the last acknowledgements may still be on their way), and the longest wait.
const QUIET: Duration = Duration::from_millis(40);
const QUIET_LIMIT: Duration = Duration::from_millis(400);

/// The lines a stage takes at most, its prompt included, so that a terminal of 40 lines (of
/// 80 columns or more) shows the whole stage before it asks to go on: the packets are cut
/// short to fit (JSON has them all).
const SCREEN_LINES: usize = 40;

/// Where the walk comes from, said before the first stage: the stages refer to "the article".
const ARTICLE: &str = "The walk follows the article \"Analysing the Stream Socket connection\", \
    whose server binds to 127.0.0.1:55000 and calls listen(fd, 5), whose client connects to it, \
    and which shows ss's table after each step. The stages take the same steps further; their \
    explanations are sockscope's.";

const UDP_ARTICLE: &str = "The TCP walk (sockscope demo) follows the article \"Analysing the \
    Stream Socket connection\"; this one takes the same first steps with UDP, the topic that \
    article points to next.";

/// The roles of the demo's sockets, in the order of their rows.
const ROLES: [&str; 4] = ["server", "client", "queued", "connection"];

/// Prose is wrapped to the terminal, or to this when the output is not one.
const DEFAULT_WIDTH: usize = 80;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pause {
    /// Run straight through.
    Never,
    /// Wait for a key on the terminal: Enter (or space) goes on, q quits.
    Keys,
    /// Wait for a line on standard input: an empty one goes on, q quits.
    Lines,
}

/// Where to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespace {
    /// A private network namespace where one can be made, else this one (`demo`).
    Private,
    /// A private network namespace or an error (`--netns`).
    RequirePrivate,
    /// This process's namespace (`--no-netns`).
    Shared,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoOptions {
    pub port: u16,
    pub udp: bool,
    pub namespace: Namespace,
    pub json: bool,
    pub pause: Pause,
}

/// How the demo ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    Finished,
    Quit,
    Interrupted,
}

impl DemoOptions {
    /// Pausing as the user asked: `--pause` always, `--no-pause` never, otherwise on a
    /// terminal (and never for JSON).
    pub fn pause_for(pause: bool, no_pause: bool, json: bool) -> Pause {
        let terminal = io::stdin().is_terminal() && io::stdout().is_terminal();
        match (pause, no_pause) {
            (true, _) if terminal => Pause::Keys,
            (true, _) => Pause::Lines,
            (false, true) => Pause::Never,
            (false, false) if terminal && !json => Pause::Keys,
            _ => Pause::Never,
        }
    }

    /// `--netns` insists on a private namespace, `--no-netns` refuses one.
    pub fn namespace_for(netns: bool, no_netns: bool) -> Namespace {
        match (netns, no_netns) {
            (true, _) => Namespace::RequirePrivate,
            (false, true) => Namespace::Shared,
            (false, false) => Namespace::Private,
        }
    }
}

pub fn run(options: &DemoOptions) -> anyhow::Result<Ending> {
    // Asked before the namespace changes, while nothing else runs.
    let ss = SsVersion::installed();
    // First, while this process has one thread: a user namespace refuses any other.
    // Why there is no private namespace, when the demo wanted one and goes on without.
    let mut no_namespace = None;
    let place = match options.namespace {
        Namespace::Shared => Place::Shared,
        Namespace::RequirePrivate => {
            sandbox::enter_private().context("--netns: cannot make a private network namespace")?
        }
        Namespace::Private => sandbox::enter_private().unwrap_or_else(|error| {
            no_namespace = Some(error);
            Place::Shared
        }),
    };
    if place.is_private() && !options.udp {
        let failed = sandbox::set_tcp_sysctls();
        if !failed.is_empty() {
            warn(&format!(
                "cannot set {} in the demo's namespace; some stages may differ",
                failed.join(", ")
            ));
        }
    }
    let capture = Capture::open();
    // Each thing missing said once, in one line.
    match (&no_namespace, &capture) {
        (Some(why), Err(_)) => warn(&format!(
            "cannot make a private network namespace ({why}); the demo runs in this one, lists \
             only its own sockets, and shows no packets"
        )),
        (Some(why), Ok(_)) => warn(&format!(
            "cannot make a private network namespace ({why}); the demo runs in this one and \
             lists only its own sockets"
        )),
        (None, Err(error)) => warn(&format!(
            "cannot capture packets on lo ({error}); the demo runs without them"
        )),
        (None, Ok(_)) => {}
    }
    let capture = capture.ok();
    term::catch_interrupts();
    let _raw_keys = match options.pause {
        Pause::Keys => Some(term::RawKeys::enable().context("cannot read keys from the terminal")?),
        _ => None,
    };
    let stdout = io::stdout();
    let mut walk = Walk::new(options, stdout.lock(), place, capture, ss)?;
    let ending = if options.udp { walk.udp() } else { walk.tcp() }?;
    if ending == Ending::Finished && !options.json {
        let note = if place.is_private() && options.udp {
            "The demo has closed every socket it opened; its namespace goes away with it."
        } else if place.is_private() {
            "The demo has closed every socket it opened; its namespace goes away with it, \
             TIME-WAIT entry and all."
        } else {
            "The demo has closed every socket it opened. Anything still listed above is the \
             kernel's own bookkeeping, which it clears by itself."
        };
        walk.prose(note)?;
    }
    walk.out.flush()?;
    Ok(ending)
}

fn warn(message: &str) {
    eprintln!("sockscope: warning: {message}");
}

/// The installed ss's version, which decides the command the demo shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SsVersion {
    Missing,
    /// iproute2 `major.minor`; old date-stamped versions read as 0.0.
    Iproute2(u32, u32),
}

impl SsVersion {
    fn installed() -> SsVersion {
        let Ok(out) = std::process::Command::new("ss")
            .arg("-V")
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
        else {
            return SsVersion::Missing;
        };
        SsVersion::parse(&String::from_utf8_lossy(&out.stdout))
    }

    /// From `ss utility, iproute2-6.1.0` (or `iproute2-ss190107` before iproute2 5).
    fn parse(text: &str) -> SsVersion {
        let Some(at) = text.find("iproute2-") else {
            return SsVersion::Iproute2(0, 0);
        };
        let mut numbers = text[at + "iproute2-".len()..]
            .split(|c: char| !c.is_ascii_digit())
            .map(|n| n.parse().ok());
        match (numbers.next().flatten(), numbers.next().flatten()) {
            (Some(major), Some(minor)) => SsVersion::Iproute2(major, minor),
            _ => SsVersion::Iproute2(0, 0),
        }
    }

    /// iproute2 6.8 added bound-inactive sockets, listed with `-a`.
    fn lists_bound_inactive(self) -> bool {
        matches!(self, SsVersion::Iproute2(major, minor) if (major, minor) >= (6, 8))
    }
}

/// One stage as the walk describes it.
struct Stage {
    title: &'static str,
    calls: Vec<String>,
    explanation: String,
    /// Show socket memory (`-m`).
    memory: bool,
    /// The stage shows a socket that is bound and nothing else.
    bound_inactive: bool,
    /// The namespace's listen counters before and after.
    counters: Option<(ListenCounters, ListenCounters)>,
}

impl Stage {
    fn new(title: &'static str, calls: Vec<String>, explanation: String) -> Stage {
        Stage {
            title,
            calls,
            explanation,
            memory: false,
            bound_inactive: false,
            counters: None,
        }
    }
}

/// What the walk needs between stages.
struct Walk<'o, W: Write> {
    options: &'o DemoOptions,
    out: W,
    diag: DiagSocket,
    query: Query,
    place: Place,
    capture: Option<Capture>,
    ss: SsVersion,
    /// The server's port, once bound.
    port: u16,
    stage: usize,
    stages: usize,
    names: Names,
    /// The width prose is wrapped to.
    width: usize,
    /// The demo's sockets by cookie, with the name each row gets.
    known: Vec<(u64, String)>,
    /// The server's end of a connection not yet accepted, by the client's port: it has no
    /// descriptor (so no cookie the demo knows) until accept().
    queued: Vec<(u16, String)>,
    /// When the current stage began; packets are timed from it.
    began: SystemTime,
    /// Packets that arrived while the demo waited between stages.
    meanwhile: Vec<Packet>,
    /// The current stage's packets read so far.
    collected: Vec<Packet>,
}

impl<'o, W: Write> Walk<'o, W> {
    fn new(
        options: &'o DemoOptions,
        out: W,
        place: Place,
        capture: Option<Capture>,
        ss: SsVersion,
    ) -> anyhow::Result<Walk<'o, W>> {
        let diag = DiagSocket::open()?;
        let table = if options.udp { Netid::Udp } else { Netid::Tcp };
        let states = if options.udp {
            StateSet::ALL
        } else {
            StateSet::ALL.with(TcpState::BoundInactive)
        };
        let query = Query::new(
            [table].into_iter().collect(),
            FamilySet::single(Family::Inet),
            states,
        );
        Ok(Walk {
            options,
            out,
            diag,
            query,
            place,
            capture,
            ss,
            port: 0,
            stage: 0,
            stages: if options.udp { 5 } else { 11 },
            names: Names::new(),
            width: term::width().unwrap_or(DEFAULT_WIDTH),
            known: Vec::new(),
            queued: Vec::new(),
            began: SystemTime::now(),
            meanwhile: Vec::new(),
            collected: Vec::new(),
        })
    }

    /// What the reader should know before the first stage: where the demo runs and how to
    /// look at it from outside.
    fn introduce(&mut self) -> io::Result<()> {
        let what = if self.options.udp {
            "a UDP server and client"
        } else {
            "a TCP server and client"
        };
        let mut text = format!(
            "sockscope demo: {what} on 127.0.0.1, one system call at a time. After each step \
             it shows "
        );
        if self.capture.is_some() {
            text.push_str("the packets the step put on the loopback device, and ");
        }
        text.push_str(
            "the kernel's table of the demo's sockets as the command shown prints it; the last \
             column names each socket as the demo calls it, where ss would name its process.",
        );
        if self.ss == SsVersion::Missing {
            text.push_str(
                " ss is not installed here, so the commands shown are sockscope's, which takes \
                 the same options.",
            );
        }
        self.prose(&text)?;
        self.prose(if self.options.udp {
            UDP_ARTICLE
        } else {
            ARTICLE
        })?;
        let pid = std::process::id();
        let enter = match self.place {
            Place::Private => format!("nsenter -t {pid} -n"),
            Place::PrivateUser => format!("nsenter -t {pid} -U -n --preserve-credentials"),
            Place::Shared => String::new(),
        };
        if enter.is_empty() {
            self.prose(
                "The demo runs in this network namespace, shared with everything else here: \
                 its tables keep only its own sockets, picked out by their cookies, so the \
                 command shown may list more.",
            )?;
        } else {
            let user = if self.place == Place::PrivateUser {
                ", inside a user namespace, so that it needs no privileges"
            } else {
                ""
            };
            self.prose(&format!(
                "It runs in a network namespace of its own{user}: nothing else appears in its \
                 tables or on its loopback. To look for yourself while it waits, run the \
                 commands shown from another terminal inside that namespace, such as:"
            ))?;
            let program = if self.ss == SsVersion::Missing {
                "sockscope"
            } else {
                "ss"
            };
            let flags = if self.options.udp { "-uan" } else { "-tan" };
            let command = format!("{enter} {program} {flags}");
            self.command_lines(command.split(' '))?;
            writeln!(self.out)?;
        }
        Ok(())
    }

    /// The first stage's common part: binds `server` to 127.0.0.1 and the demo's port,
    /// follows that port and labels the socket. Gives the port, the calls shown so far
    /// (`socket_call` first) and, with `--port 0`, the sentence saying which port the kernel
    /// chose.
    fn bind_server(
        &mut self,
        server: &Sock,
        socket_call: &str,
    ) -> anyhow::Result<(u16, Vec<String>, String)> {
        let port = bind(server, self.options.port)?;
        self.watch_port(port)?;
        self.name(server, "server")?;
        let mut calls = vec![
            socket_call.to_owned(),
            format!("bind(server, 127.0.0.1:{});", self.options.port),
        ];
        let mut explanation = String::new();
        if self.options.port == 0 {
            calls.push(format!("getsockname(server);  // 127.0.0.1:{port}"));
            explanation.push_str(&format!(
                "Port 0 asks the kernel to choose: it gave the server {port}, a free port, \
                 which getsockname() reports. "
            ));
        }
        Ok((port, calls, explanation))
    }

    /// From now on, follow the server on `port`: its packets, and (outside a private
    /// namespace) a listing filter for the port, which the cookies then narrow down.
    fn watch_port(&mut self, port: u16) -> anyhow::Result<()> {
        self.port = port;
        if let Some(capture) = &mut self.capture {
            capture.watch_port(port);
        }
        if !self.place.is_private() {
            let text = format!("sport = :{port} or dport = :{port}");
            let expr = filter::parse(&Source::Args(vec![text]), &ParseOptions::default())?
                .expr
                .expect("a port filter");
            self.query.bytecode = filter::compile(&expr);
            self.query.filter = Some(expr);
        }
        Ok(())
    }

    /// Names the socket `socket` in the tables from now on (by its cookie).
    fn name(&mut self, socket: &Sock, label: &str) -> io::Result<()> {
        let cookie = socket.cookie()?;
        self.known.retain(|(c, _)| *c != cookie);
        self.known.push((cookie, label.to_owned()));
        Ok(())
    }

    /// Names the server's end of the connection from `client` until it is accepted.
    fn name_queued(&mut self, client: &Sock, label: &str) -> anyhow::Result<()> {
        let port = local_port(client)?;
        self.queued.push((port, label.to_owned()));
        Ok(())
    }

    /// The demo's name for `socket`, if it is one of the demo's.
    fn label(&self, socket: &crate::socket::Socket<'_>) -> Option<&str> {
        if let Some((_, label)) = self
            .known
            .iter()
            .find(|(cookie, _)| Some(*cookie) == socket.cookie)
        {
            return Some(label);
        }
        let Endpoints::Inet(ends) = socket.endpoints else {
            return None;
        };
        if ends.local.port() != self.port || !ends.peer.ip().is_loopback() {
            return None;
        }
        // A TIME-WAIT entry on the server's port is not one of the demo's: its clients close
        // first, and keep theirs under their own cookies.
        if socket.state == TcpState::TimeWait {
            return None;
        }
        self.queued
            .iter()
            .find(|(port, _)| *port == ends.peer.port())
            .map(|(_, label)| label.as_str())
    }

    /// The label of `socket`'s row, empty when it has none.
    fn label_of(&self, socket: &crate::socket::Socket<'_>) -> String {
        self.label(socket).unwrap_or("").to_owned()
    }

    /// The demo's sockets as the kernel lists them now: in a private namespace all of them,
    /// otherwise those the demo can name.
    fn snapshot(&mut self, memory: bool) -> anyhow::Result<Vec<OwnedSocket>> {
        self.query.attributes = Attributes::for_details(Wanted {
            memory,
            ..Wanted::default()
        });
        let mut sockets = Vec::new();
        query::run(&self.query, &mut self.diag, &mut |s| {
            sockets.push(OwnedSocket::new(s));
            Ok(())
        })?;
        if !self.place.is_private() {
            sockets.retain(|s| self.label(&s.as_socket()).is_some());
        }
        sockets.sort_by_cached_key(|s| self.row_order(&s.as_socket()));
        Ok(sockets)
    }

    /// Where `socket`'s row goes, rather than the kernel's hash order, which changes from run
    /// to run: the first server, client and connection, then the numbered ones by role
    /// (clients, their ends queued, their ends accepted) and number, then any the demo does
    /// not name; ports decide among equals.
    fn row_order(&self, socket: &crate::socket::Socket<'_>) -> (u8, usize, u32, u16, u16) {
        let label = self.label(socket).unwrap_or("");
        let (role, number) = match label.rsplit_once(' ') {
            Some((role, n)) => n.parse().map_or((label, 0), |n| (role, n)),
            None => (label, 0),
        };
        let rank = ROLES.iter().position(|r| *r == role);
        let group = match (rank, number) {
            (None, _) => 2,
            (Some(_), 0) => 0,
            (Some(_), _) => 1,
        };
        let (local, peer) = match socket.endpoints {
            Endpoints::Inet(ends) => (ends.local.port(), ends.peer.port()),
            _ => (0, 0),
        };
        (group, rank.unwrap_or(ROLES.len()), number, local, peer)
    }

    /// Starts a stage: what arrived on the wire while the demo waited is kept apart.
    fn begin(&mut self) -> anyhow::Result<()> {
        let since = self.began;
        self.meanwhile = std::mem::take(&mut self.collected);
        if let Some(capture) = &mut self.capture {
            self.meanwhile.extend(capture.take(since)?);
        }
        self.began = SystemTime::now();
        Ok(())
    }

    /// The current stage's packets so far (none without a capture).
    fn collect(&mut self) -> anyhow::Result<&[Packet]> {
        if let Some(capture) = &mut self.capture {
            let more = capture.take(self.began)?;
            self.collected.extend(more);
        }
        Ok(&self.collected)
    }

    /// Waits (at most `limit`) for the kernel's table to pass `settled`, then returns it;
    /// `None` on Ctrl-C.
    fn settle(
        &mut self,
        memory: bool,
        limit: Duration,
        settled: impl Fn(&[OwnedSocket]) -> bool,
    ) -> anyhow::Result<Option<Vec<OwnedSocket>>> {
        let deadline = Instant::now() + limit;
        loop {
            let sockets = self.snapshot(memory)?;
            if term::interrupted() {
                return Ok(None);
            }
            if settled(&sockets) || Instant::now() > deadline {
                return Ok(Some(sockets));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The packets of the stage, once the wire has been quiet for a moment.
    fn packets(&mut self) -> anyhow::Result<Option<Vec<Packet>>> {
        let since = self.began;
        let Some(capture) = &mut self.capture else {
            return Ok(None);
        };
        let deadline = Instant::now() + QUIET_LIMIT;
        let mut packets = std::mem::take(&mut self.collected);
        packets.extend(capture.take(since)?);
        loop {
            std::thread::sleep(QUIET);
            let more = capture.take(since)?;
            if more.is_empty() || Instant::now() > deadline {
                packets.extend(more);
                break;
            }
            packets.extend(more);
        }
        Ok(Some(packets))
    }

    /// Shows one stage (the calls just made, what they mean, the packets, and the table),
    /// then waits if asked to. `Some` when the user wants to stop.
    fn show(&mut self, stage: &Stage, sockets: &[OwnedSocket]) -> anyhow::Result<Option<Ending>> {
        self.stage += 1;
        // Only now: a taken port ends the demo before it has said anything.
        if self.stage == 1 && !self.options.json {
            self.introduce()?;
        }
        let packets = self.packets()?;
        if term::interrupted() {
            return Ok(Some(Ending::Interrupted));
        }
        let (command, note) = self.command(stage);
        if self.options.json {
            self.print_json(
                stage,
                sockets,
                &command,
                note.as_deref(),
                packets.as_deref(),
            )?;
        } else {
            self.print_text(
                stage,
                sockets,
                &command,
                note.as_deref(),
                packets.as_deref(),
            )?;
        }
        self.pause()
    }

    /// Waits between stages if asked to; `Some` when the user wants to stop.
    fn pause(&mut self) -> anyhow::Result<Option<Ending>> {
        if self.stage == self.stages || self.options.pause == Pause::Never {
            return Ok(None);
        }
        match self.options.pause {
            Pause::Keys => {
                write!(self.out, "[Enter] next stage  [q] quit")?;
                self.out.flush()?;
                let ending = loop {
                    match term::read_byte()? {
                        Some(b'\n' | b'\r' | b' ') => break None,
                        Some(b'q' | b'Q') => break Some(Ending::Quit),
                        Some(_) => continue,
                        None if term::interrupted() => break Some(Ending::Interrupted),
                        None => break Some(Ending::Quit),
                    }
                };
                write!(self.out, "\r{:30}\r", "")?;
                Ok(ending)
            }
            Pause::Lines => {
                writeln!(self.out, "(Enter for the next stage, q to quit)")?;
                self.out.flush()?;
                // Byte by byte rather than with read_line, which would retry through Ctrl-C.
                let mut line = Vec::new();
                loop {
                    match term::read_byte()? {
                        Some(b'\n') => break,
                        Some(byte) => line.push(byte),
                        None if term::interrupted() => return Ok(Some(Ending::Interrupted)),
                        None => return Ok(Some(Ending::Quit)),
                    }
                }
                let quit = String::from_utf8_lossy(&line)
                    .trim()
                    .eq_ignore_ascii_case("q");
                Ok(quit.then_some(Ending::Quit))
            }
            Pause::Never => Ok(None),
        }
    }
}

/// The details shown: socket memory (`-m`) or none.
fn details(memory: bool) -> DetailFlags {
    DetailFlags {
        memory,
        ..DetailFlags::default()
    }
}

/// Waits for `$walk` to settle on `$test` (at most `$limit`), or returns from the walk when
/// the user pressed Ctrl-C.
macro_rules! settle {
    ($walk:expr, $memory:expr, $limit:expr, $test:expr) => {
        match $walk.settle($memory, $limit, $test)? {
            Some(sockets) => sockets,
            None => return Ok(Ending::Interrupted),
        }
    };
    ($walk:expr, $test:expr) => {
        settle!($walk, false, $crate::cmd::demo::SETTLE, $test)
    };
}
use settle;

/// Shows a stage, or returns from the walk when the user wants to stop.
macro_rules! show {
    ($walk:expr, $stage:expr, $sockets:expr) => {
        if let Some(ending) = $walk.show(&$stage, &$sockets)? {
            return Ok(ending);
        }
    };
}
use show;

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Binds to 127.0.0.1:`port` (any free port for 0) and returns the port.
fn bind(socket: &Sock, port: u16) -> anyhow::Result<u16> {
    match socket.bind(&SockAddr::from(loopback(port))) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => bail!(
            "port {port} on 127.0.0.1 is already in use; choose another with --port N, or \
             --port 0 for any free port"
        ),
        Err(e) => Err(e).with_context(|| format!("cannot bind to 127.0.0.1:{port}")),
        Ok(()) => local_port(socket),
    }
}

fn local_port(socket: &Sock) -> anyhow::Result<u16> {
    socket
        .local_addr()?
        .as_socket()
        .map(|a| a.port())
        .context("the socket has no inet address")
}

fn local(socket: &crate::socket::Socket<'_>) -> Option<u16> {
    match socket.endpoints {
        Endpoints::Inet(ends) => Some(ends.local.port()),
        _ => None,
    }
}

fn has(sockets: &[OwnedSocket], test: impl Fn(&crate::socket::Socket<'_>) -> bool) -> bool {
    sockets.iter().any(|s| test(&s.as_socket()))
}

fn find(
    sockets: &[OwnedSocket],
    test: impl Fn(&crate::socket::Socket<'_>) -> bool,
) -> Option<crate::socket::Socket<'_>> {
    sockets.iter().map(OwnedSocket::as_socket).find(|s| test(s))
}

fn count(sockets: &[OwnedSocket], state: TcpState) -> usize {
    sockets
        .iter()
        .filter(|s| s.as_socket().state == state)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ss_versions() {
        assert_eq!(
            SsVersion::parse("ss utility, iproute2-6.1.0\n"),
            SsVersion::Iproute2(6, 1)
        );
        assert!(SsVersion::parse("ss utility, iproute2-7.1.0\n").lists_bound_inactive());
        assert!(SsVersion::parse("ss utility, iproute2-6.8.0\n").lists_bound_inactive());
        assert!(!SsVersion::parse("ss utility, iproute2-6.7.0\n").lists_bound_inactive());
        assert!(!SsVersion::parse("ss utility, iproute2-ss190107\n").lists_bound_inactive());
        assert!(!SsVersion::Missing.lists_bound_inactive());
    }
}
