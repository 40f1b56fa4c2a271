//! `sockscope watch` on a terminal: the live view on a real pseudo-terminal, read back through
//! a small terminal emulator that keeps the screen the view drew (and the normal screen it
//! leaves), in a private namespace.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::util::pty::Pty;
use crate::util::{Netns, SOCKSCOPE};

const ENTER: &str = "\x1b[?1049h";
const LEAVE: &str = "\x1b[?25h\x1b[?1049l";

/// Starts `sockscope watch ARGS` on a `cols` x `rows` terminal in `ns`, with `TERM` as given,
/// in a UTF-8 locale. The view follows looks (`--source poll`), whose log these tests read
/// (a connection is first listed ESTAB; with the kernel's transitions it is born SYN-SENT).
fn watch(ns: &Netns, term: Option<&str>, args: &[&str], (cols, rows): (u16, u16)) -> Pty {
    let mut command = ns.command(SOCKSCOPE);
    command
        .env("LC_ALL", "C.UTF-8")
        .args(["watch", "--source", "poll"])
        .args(args);
    if let Some(term) = term {
        command.env("TERM", term);
    }
    Pty::spawn(&mut command, cols, rows)
}

/// Sets a sysctl inside the namespace.
fn sysctl(ns: &Netns, setting: &str) {
    let out = ns.output("sysctl", &["-qw", setting]);
    assert!(
        out.status.success(),
        "sysctl {setting}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What a terminal shows after the bytes a program wrote: the normal screen and the alternate
/// one, as text, with the cells drawn in reverse video or red remembered. It knows the
/// sequences the live view writes (cursor moves, erasing, styles, the alternate screen, the
/// cursor shown or hidden).
struct Term {
    cols: usize,
    rows: usize,
    main: Grid,
    alternate: Option<Grid>,
}

#[derive(Clone)]
struct Grid {
    cells: Vec<Vec<(char, bool)>>,
    at: (usize, usize),
}

impl Grid {
    fn new(cols: usize, rows: usize) -> Grid {
        Grid {
            cells: vec![vec![(' ', false); cols]; rows],
            at: (0, 0),
        }
    }

    fn lines(&self) -> Vec<String> {
        self.cells
            .iter()
            .map(|row| {
                row.iter()
                    .map(|c| c.0)
                    .collect::<String>()
                    .trim_end()
                    .to_owned()
            })
            .collect()
    }

    fn text(&self) -> String {
        self.lines().join("\n")
    }
}

impl Term {
    fn replay(bytes: &[u8], (cols, rows): (usize, usize)) -> Term {
        let mut term = Term {
            cols,
            rows,
            main: Grid::new(cols, rows),
            alternate: None,
        };
        let text = String::from_utf8_lossy(bytes);
        let mut chars = text.chars().peekable();
        let mut marked = false;
        while let Some(c) = chars.next() {
            match c {
                '\x1b' => {
                    if chars.peek() != Some(&'[') {
                        continue;
                    }
                    chars.next();
                    let mut params = String::new();
                    let mut last = ' ';
                    for c in chars.by_ref() {
                        if ('\x40'..='\x7e').contains(&c) {
                            last = c;
                            break;
                        }
                        params.push(c);
                    }
                    term.control(&params, last, &mut marked);
                }
                '\r' => term.grid().at.1 = 0,
                '\n' => {
                    let (cols, rows) = (term.cols, term.rows);
                    let grid = term.grid();
                    if grid.at.0 + 1 < rows {
                        grid.at.0 += 1;
                    } else {
                        grid.cells.remove(0);
                        grid.cells.push(vec![(' ', false); cols]);
                    }
                }
                c if c.is_control() => {}
                c => {
                    let cols = term.cols;
                    let grid = term.grid();
                    let (row, col) = grid.at;
                    if col < cols {
                        grid.cells[row][col] = (c, marked);
                        grid.at.1 += 1;
                    }
                }
            }
        }
        term
    }

    fn grid(&mut self) -> &mut Grid {
        self.alternate.as_mut().unwrap_or(&mut self.main)
    }

    fn control(&mut self, params: &str, last: char, marked: &mut bool) {
        let numbers: Vec<usize> = params.split(';').map(|p| p.parse().unwrap_or(0)).collect();
        let (cols, rows) = (self.cols, self.rows);
        match (params, last) {
            ("?1049", 'h') => self.alternate = Some(Grid::new(cols, rows)),
            ("?1049", 'l') => self.alternate = None,
            (p, 'h' | 'l') if p.starts_with('?') => {}
            (_, 'H') => {
                let row = numbers.first().copied().unwrap_or(1).max(1) - 1;
                let col = numbers.get(1).copied().unwrap_or(1).max(1) - 1;
                self.grid().at = (row.min(rows - 1), col.min(cols - 1));
            }
            ("2", 'J') => {
                let at = self.grid().at;
                *self.grid() = Grid::new(cols, rows);
                self.grid().at = at;
            }
            (_, 'K') => {
                let grid = self.grid();
                let (row, col) = grid.at;
                for cell in &mut grid.cells[row][col..] {
                    *cell = (' ', false);
                }
            }
            (_, 'm') => {
                *marked = numbers.iter().any(|n| *n == 7 || *n == 31);
            }
            (p, c) => {
                panic!("the view wrote an escape sequence the test does not know: {p:?} {c:?}")
            }
        }
    }

    /// The screen shown: the alternate one while the view runs.
    fn screen(&self) -> &Grid {
        self.alternate.as_ref().unwrap_or(&self.main)
    }
}

/// The screen a pty shows now.
pub(crate) fn screen(view: &Pty, size: (usize, usize)) -> String {
    Term::replay(&view.bytes(), size).screen().text()
}

/// Waits (bounded) until the screen satisfies `done`; panics with the screen if it does not.
pub(crate) fn until(
    view: &Pty,
    size: (usize, usize),
    what: &str,
    done: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let shown = screen(view, size);
        if done(&shown) {
            return shown;
        }
        if Instant::now() > deadline {
            panic!("the screen never showed {what}:\n{shown}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The first table row of a screen (under the title, the totals and the table's header).
fn first_row(shown: &str) -> &str {
    shown.lines().nth(3).unwrap_or("")
}

fn status(shown: &str) -> &str {
    shown.lines().last().unwrap_or("")
}

/// The number of the latest look, from the title line (`... look 12  every 0.1s ...`).
fn look(shown: &str) -> u64 {
    let title = shown.lines().next().unwrap_or("");
    let Some((_, after)) = title.split_once(" look ") else {
        return 0;
    };
    after
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Sorting, scrolling, pausing, a bad and a good filter, the help, and q, each seen on the
/// screen.
#[test]
fn keys_sort_scroll_pause_filter_and_quit() {
    let ns = Netns::new();
    let (listener, clients, servers) = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:55000").unwrap();
        let mut clients = Vec::new();
        let mut servers = Vec::new();
        for i in 0..25u32 {
            let mut client = TcpStream::connect("127.0.0.1:55000").unwrap();
            let server = listener.accept().unwrap().0;
            // Server-side Recv-Q: 1, 11, ... 241 bytes, never read.
            client
                .write_all(&vec![b'x'; (i * 10 + 1) as usize])
                .unwrap();
            clients.push(client);
            servers.push(server);
        }
        (listener, clients, servers)
    });
    let size = (160, 16);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tan", ":55000"],
        (160, 16),
    );
    let shown = until(&view, size, "51 sockets", |s| {
        status(s).starts_with("51 sockets")
    });
    assert!(shown.contains("Recv-Q"), "{shown}");

    // s twice: from first seen to state to Recv-Q, largest first.
    view.send(b"ss");
    let shown = until(&view, size, "the sort by Recv-Q", |s| {
        status(s).contains("sort Recv-Q▼")
    });
    assert!(first_row(&shown).contains(" 241 "), "{shown}");
    // r reverses; S goes back to state. The table has room for 8 rows of 51: End, Home,
    // PgDn, Down, then PgUp and Up.
    for (keys, shows) in [
        (&b"r"[..], "sort Recv-Q▲"),
        (b"S", "sort state▲"),
        (b"\x1b[F", "rows 44-51 of 51"),
        (b"\x1b[H", "rows 1-8 of 51"),
        (b"\x1b[6~", "rows 9-16 of 51"),
        (b"\x1b[B", "rows 10-17 of 51"),
        (b"\x1b[5~\x1b[A", "rows 1-8 of 51"),
    ] {
        view.send(keys);
        until(&view, size, shows, |s| status(s).contains(shows));
    }

    // Paused, a new connection does not show; the looks go on, and it shows on resuming.
    view.send(b" ");
    until(&view, size, "the pause", |s| {
        s.lines().next().unwrap_or("").contains("PAUSED") && status(s).contains("paused")
    });
    let (late_client, late_server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55000").unwrap();
        (client, listener.accept().unwrap().0)
    });
    // A look has found both ends of it: the log says so, under the table held still.
    let port = late_client.local_addr().unwrap().port();
    let shown = until(&view, size, "the new connection in the log", |s| {
        s.contains(&format!("+ ESTAB 127.0.0.1:55000 -> 127.0.0.1:{port}"))
            && s.contains(&format!("+ ESTAB 127.0.0.1:{port} -> 127.0.0.1:55000"))
    });
    assert!(status(&shown).starts_with("51 sockets"), "{shown}");
    view.send(b" ");
    until(&view, size, "the new connection", |s| {
        status(s).starts_with("53 sockets") && !status(s).contains("paused")
    });

    // A bad filter: an error on the status line, the old filter kept.
    view.send(b"/sport = :nosuchservice\r");
    let shown = until(&view, size, "the filter's error", |s| {
        status(s).contains("unchanged")
    });
    assert!(status(&shown).contains("nosuchservice"), "{shown}");
    // Two looks later (so one began after the error), the old filter still holds.
    let refused = look(&shown);
    let shown = until(&view, size, "two more looks", |s| look(s) >= refused + 2);
    assert!(status(&shown).contains("53 sockets"), "{shown}");
    // A good one applies to the next looks: the server side only (listener and 26).
    view.send(b"/\x15sport = :55000\r");
    let shown = until(&view, size, "the new filter", |s| {
        status(s).contains("27 sockets")
    });
    assert!(status(&shown).contains("filter sport = :55000"), "{shown}");

    // The help, over the table; any key closes it.
    view.send(b"?");
    until(&view, size, "the help", |s| s.contains("reverse the sort"));
    view.send(b"x");
    until(&view, size, "the help gone", |s| {
        !s.contains("reverse the sort")
    });

    view.send(b"q");
    let status = view.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let term = Term::replay(&view.bytes(), size);
    assert!(
        term.alternate.is_none(),
        "the view left the alternate screen"
    );
    let left = term.main.text();
    assert!(left.contains("sockscope watch: watched"), "{left}");
    assert!(left.contains("53 sockets seen"), "{left}");
    drop((clients, servers, late_client, late_server));
}

/// `--count 3` ends the view after three intervals and leaves a summary on the normal screen:
/// how long, how many looks and sockets, the peaks, the busiest connection.
#[test]
fn the_summary_stays_after_count() {
    let ns = Netns::new();
    let (_listener, _client, _server) = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:55001").unwrap();
        let mut client = TcpStream::connect("127.0.0.1:55001").unwrap();
        let server = listener.accept().unwrap().0;
        client.write_all(&[b'x'; 1500]).unwrap();
        (listener, client, server)
    });
    let size = (120, 30);
    let mut view = watch(
        &ns,
        Some("xterm-256color"),
        &["--interval", "0.1", "--count", "3", "-tan", ":55001"],
        (120, 30),
    );
    let status = view.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let output = view.text();
    assert!(output.starts_with(ENTER), "{output:?}");
    assert!(output.contains(LEAVE), "{output:?}");
    let term = Term::replay(&view.bytes(), size);
    assert!(term.alternate.is_none());
    let left = term.main.lines();
    let left: Vec<&str> = left
        .iter()
        .map(String::as_str)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(
        left[0].starts_with("sockscope watch: watched ") && left[0].contains("(4 looks)"),
        "{left:#?}"
    );
    assert!(
        left[0].ends_with("3 sockets seen, 0 opened, 0 closed"),
        "{left:#?}"
    );
    assert!(
        left[1].contains("peaks: 3 sockets at once, Recv-Q 1.5 kB"),
        "{left:#?}"
    );
    assert!(left[1].contains("accept queue 0/128"), "{left:#?}");
    assert!(
        left[2].contains("busiest:")
            && left[2].contains("127.0.0.1:55001 ->")
            && left[2].contains("(queues up to 1.5 kB)"),
        "{left:#?}"
    );
}

/// A terminal that cannot address its cursor (`TERM=dumb`, unset, or unknown) gets the same
/// plain lines as a pipe: no escape sequence at all.
#[test]
fn no_cursor_addressing_without_a_capable_terminal() {
    let ns = Netns::new();
    let _listener = ns.run(|| TcpListener::bind("127.0.0.1:55002").unwrap());
    for term in [Some("dumb"), None, Some("no-such-terminal")] {
        let mut view = watch(
            &ns,
            term,
            &["--interval", "0.05", "--count", "2", "-tln", ":55002"],
            (100, 30),
        );
        let status = view.wait(Duration::from_secs(10));
        assert!(status.success(), "TERM={term:?}: {status:?}");
        let output = view.text();
        assert!(!output.contains('\x1b'), "TERM={term:?}: {output:?}");
        assert!(output.starts_with("{\"type\":\"snapshot\""), "{output}");
        assert_eq!(output.lines().count(), 3, "{output}");
    }
}

/// In a locale that is not UTF-8 the view draws with ASCII alone: sparklines, the sort's
/// arrow, the rules and the help's box.
#[test]
fn ascii_outside_a_utf8_locale() {
    let ns = Netns::new();
    let (_listener, _client, _server) = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:55006").unwrap();
        let mut client = TcpStream::connect("127.0.0.1:55006").unwrap();
        let server = listener.accept().unwrap().0;
        client.write_all(&[b'x'; 100]).unwrap();
        (listener, client, server)
    });
    let mut command = ns.command(SOCKSCOPE);
    command.env("TERM", "xterm").args([
        "watch",
        "--source",
        "poll",
        "--interval",
        "0.05",
        "-tan",
        ":55006",
    ]);
    let mut view = Pty::spawn(&mut command, 100, 24);
    let size = (100, 24);
    until(&view, size, "a queue's sparkline", |s| s.contains(" ##"));
    view.send(b"ss?");
    until(&view, size, "the sort and the help", |s| {
        status(s).contains("sort Recv-Qv") && s.contains("+-----") && s.contains("| r ")
    });
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
    let output = view.bytes();
    assert!(output.is_ascii(), "{}", String::from_utf8_lossy(&output));
}

/// A listener whose accept queue is full shows it as `N/backlog`, highlighted, and the
/// overflows the kernel counts show up in the log and the summary.
#[test]
fn a_full_accept_queue_shows_against_its_backlog() {
    let ns = Netns::new();
    let (listener, clients) = full_listener(&ns, 55003);
    let size = (120, 24);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tln", ":55003"],
        (120, 24),
    );
    let shown = until(&view, size, "the listener", |s| s.contains("LISTEN"));
    let term = Term::replay(&view.bytes(), size);
    let grid = term.screen();
    let row = grid
        .lines()
        .iter()
        .position(|l| l.contains("LISTEN"))
        .unwrap();
    let line = &grid.lines()[row];
    assert!(line.contains(" 3/2 "), "{shown}");
    let col = line.find("3/2").unwrap();
    assert!(
        grid.cells[row][col].1 && grid.cells[row][col + 2].1,
        "the full queue is highlighted:\n{shown}"
    );
    // One more client: its handshake is dropped, which the kernel counts.
    let extra = knock(&ns, 55003);
    until(&view, size, "the overflow in the log", |s| {
        s.contains("ListenOverflows +")
    });
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
    let left = Term::replay(&view.bytes(), size).main.text();
    assert!(left.contains("accept queue 3/2"), "{left}");
    assert!(left.contains("ListenOverflows "), "{left}");
    drop((listener, clients, extra));
}

/// The CPU time (user and system) a process has used so far.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which is in parentheses): utime is the 14th field.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no memory arguments.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_millis(ticks * 1000 / hz)
}

/// Under churn (about 2,000 connections a second, each open for 200 ms, looks ten times a
/// second, a 160x50 terminal), the view writes at most 300 KB a second: ten frames a second,
/// and only the lines that changed.
#[test]
fn churn_stays_under_the_byte_budget() {
    let ns = Netns::new();
    sysctl(&ns, "net.ipv4.ip_local_port_range=20000 60000");
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55004").unwrap());
    let size = (160, 50);
    let view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tn", ":55004"],
        (160, 50),
    );
    until(&view, size, "the view", |s| status(s).contains("q quits"));
    let (bytes_before, cpu_before, start) =
        (view.bytes().len(), cpu_time(view.pid()), Instant::now());
    let seconds = 2u32;
    const HOLD: Duration = Duration::from_millis(200);
    let made = ns.run(|| {
        // The server accepts and closes until the clients are done, never blocking for long.
        listener.set_nonblocking(true).unwrap();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                let mut open = std::collections::VecDeque::new();
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    while open
                        .front()
                        .is_some_and(|(at, _): &(Instant, TcpStream)| at.elapsed() > HOLD)
                    {
                        open.pop_front();
                    }
                    match listener.accept() {
                        Ok((stream, _)) => open.push_back((Instant::now(), stream)),
                        Err(_) => std::thread::sleep(Duration::from_micros(200)),
                    }
                }
            });
            let mut made = 0u32;
            let mut open = std::collections::VecDeque::new();
            let end = start + Duration::from_secs(u64::from(seconds));
            // 2 connections a millisecond, paced against the clock.
            while Instant::now() < end && made < 2000 * seconds {
                let due = start + Duration::from_micros(u64::from(made) * 500);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                while open
                    .front()
                    .is_some_and(|(at, _): &(Instant, TcpStream)| at.elapsed() > HOLD)
                {
                    open.pop_front();
                }
                if let Ok(client) = TcpStream::connect("127.0.0.1:55004") {
                    open.push_back((Instant::now(), client));
                }
                made += 1;
            }
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            made
        })
    });
    let elapsed = start.elapsed();
    let (written, cpu) = (
        view.bytes().len() - bytes_before,
        cpu_time(view.pid()) - cpu_before,
    );
    let rate = written as f64 / elapsed.as_secs_f64();
    // The socket count on the status line (row 50) moves at nearly every frame under churn:
    // how often that row was written bounds the frames from below.
    let during = String::from_utf8_lossy(&view.bytes()[bytes_before..]).into_owned();
    let frames = during.matches("\x1b[50;1H").count();
    let most = (elapsed.as_secs_f64() * 10.0).ceil() as usize + 1;
    assert!(frames <= most, "{frames} frames in {elapsed:?}");
    assert!(frames >= 3, "the view hardly moved: {frames} frames");
    let per_second = f64::from(made) / elapsed.as_secs_f64();
    eprintln!(
        "live view under churn: {made} connections in {elapsed:.1?} ({per_second:.0}/s), \
         {frames} frames, {written} bytes written ({:.1} KB/s), {cpu:?} of CPU ({:.1}% of a \
         core)",
        rate / 1000.0,
        cpu.as_secs_f64() * 100.0 / elapsed.as_secs_f64()
    );
    if per_second < 1000.0 {
        // A machine too busy to make the connections: the cap still holds, but for less.
        eprintln!("note: the churn reached only {per_second:.0} connections a second");
    }
    assert!(rate <= 300_000.0, "{rate:.0} bytes a second");
    drop(view);
}

/// The live view: the table and the log on the alternate screen, redrawn for a resize; q ends
/// it and puts the terminal back as it was. (Moved here from watch.rs, with TERM set.)
#[test]
fn the_live_view_on_a_terminal() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:55000").unwrap());
    let mut view = watch(
        &ns,
        Some("xterm"),
        // A listing's default states: watch's (every state) would show the listener too.
        &[
            "--interval",
            "0.1",
            "-tn",
            "state",
            "connected",
            "exclude",
            "time-wait",
            "exclude",
            "syn-recv",
            "( sport = :55000 or dport = :55000 )",
        ],
        (100, 20),
    );
    let before = view.initial_termios();
    assert!(
        view.wait_for(Duration::from_secs(10), |t| t.contains("0 sockets")),
        "{}",
        view.text()
    );
    let (client, server) = ns.run(|| {
        let client = TcpStream::connect("127.0.0.1:55000").unwrap();
        (client, listener.accept().unwrap().0)
    });
    let row = format!(
        "127.0.0.1:55000    127.0.0.1:{}",
        client.local_addr().unwrap().port()
    );
    until(&view, (100, 20), "the connection", |s| {
        s.contains(&row) && status(s).starts_with("2 sockets: ESTAB 2")
    });
    // Raw keys while the view runs: no echo, no line editing.
    let during = view.termios();
    assert_eq!(during.c_lflag & (libc::ECHO | libc::ICANON), 0);
    drop((client, server));
    until(&view, (100, 20), "the close", |s| {
        s.contains("closed after")
    });
    // A narrower terminal: the view is drawn again, whole, to fit it.
    let drawn = view.bytes().len();
    view.resize(40, 10);
    assert!(
        view.wait_for(Duration::from_secs(10), |_| {
            let bytes = view.bytes();
            let frame = String::from_utf8_lossy(&bytes[drawn..]).into_owned();
            frame.contains("\x1b[H\x1b[2J")
                && frame.contains("\x1b[10;1H")
                && frame
                    .split("\x1b[2J")
                    .last()
                    .unwrap()
                    .split(";1H")
                    .all(|line| visible(line) <= 40)
        }),
        "{}",
        view.text()
    );
    view.send(b"q");
    let status = view.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let output = view.text();
    assert!(output.starts_with(ENTER), "{output:?}");
    let tail = &output[output
        .rfind(LEAVE)
        .expect("the view left the alternate screen")..];
    assert!(tail.contains("sockscope watch: watched"), "{tail:?}");
    let after = view.termios();
    assert_eq!(after.c_lflag, before.c_lflag);
}

/// The number of characters a terminal line shows, escape sequences left out.
fn visible(line: &str) -> usize {
    let mut count = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: parameters up to a final letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if !c.is_control() {
            count += 1;
        }
    }
    count
}

/// Ctrl-C typed on the terminal ends the view with status 0 and restores the terminal.
/// (Moved here from watch.rs, with TERM set.)
#[test]
fn ctrl_c_restores_the_terminal() {
    let ns = Netns::new();
    let mut view = watch(&ns, Some("xterm"), &["--interval", "0.05", "-t"], (80, 24));
    let before = view.initial_termios();
    assert!(
        view.wait_for(Duration::from_secs(10), |t| t.contains("q quits")),
        "{}",
        view.text()
    );
    // The terminal's interrupt character: the kernel sends SIGINT to the view.
    view.send(&[before.c_cc[libc::VINTR]]);
    let status = view.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let output = view.text();
    assert!(output.contains(LEAVE), "{output:?}");
    let left = Term::replay(&view.bytes(), (80, 24)).main.text();
    assert!(left.contains("sockscope watch: watched"), "{left}");
    assert_eq!(view.termios().c_lflag, before.c_lflag);
}

/// SIGTERM ends the view as q does: terminal restored, summary left.
#[test]
fn sigterm_leaves_the_summary() {
    let ns = Netns::new();
    let mut view = watch(&ns, Some("xterm"), &["--interval", "0.05", "-t"], (80, 24));
    let before = view.initial_termios();
    assert!(view.wait_for(Duration::from_secs(10), |t| t.contains("q quits")));
    view.signal(libc::SIGTERM);
    let status = view.wait(Duration::from_secs(10));
    assert!(status.success(), "{status:?}");
    let term = Term::replay(&view.bytes(), (80, 24));
    assert!(term.alternate.is_none());
    assert!(term.main.text().contains("sockscope watch: watched"));
    assert_eq!(view.termios().c_lflag, before.c_lflag);
}

/// `-r` names hosts in the live view as it does in the table (one formatter for both).
#[test]
fn host_names_with_r_as_in_the_table() {
    let ns = Netns::new();
    let _listener = ns.run(|| TcpListener::bind("127.0.0.1:55007").unwrap());
    let table = String::from_utf8_lossy(&ns.output(SOCKSCOPE, &["-tlHr"]).stdout).into_owned();
    let local = table
        .split_whitespace()
        .nth(3)
        .expect("a listener row")
        .to_owned();
    assert!(
        local.ends_with(":55007") && !local.starts_with("127."),
        "{table}"
    );
    let size = (120, 20);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tlr"],
        (120, 20),
    );
    until(&view, size, "the listener by name", |s| s.contains(&local));
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
}

/// A listener on `port` in `ns` whose accept queue (backlog 2) is full: every further SYN is
/// dropped and counted (ListenOverflows, ListenDrops). Returns it and its queued clients.
fn full_listener(ns: &Netns, port: u16) -> (TcpListener, Vec<TcpStream>) {
    // Connections past a full queue are dropped, not refused or answered with cookies.
    sysctl(ns, "net.ipv4.tcp_abort_on_overflow=0");
    sysctl(ns, "net.ipv4.tcp_syncookies=1");
    ns.run(|| {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        // SAFETY: listen(2) on the listener's own descriptor sets its backlog to 2.
        assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 2) }, 0);
        // The kernel takes one more than the backlog before the queue counts as full.
        let clients = (0..3)
            .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
            .collect();
        (listener, clients)
    })
}

/// A connection attempt to `port` that the full listener drops (a non-blocking connect).
fn knock(ns: &Netns, port: u16) -> socket2::Socket {
    ns.run(|| {
        let socket =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        socket.set_nonblocking(true).unwrap();
        let address: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
        let _ = socket.connect(&address.into());
        socket
    })
}

/// Whether each field of a status line is whole: the fields the view writes, ` | ` apart.
fn whole_status_fields(status: &str) -> bool {
    status.split(" | ").all(|field| {
        let count = field
            .split_once(' ')
            .is_some_and(|(n, rest)| n.parse::<u64>().is_ok() && rest.starts_with("socket"));
        count
            || [
                "sort ",
                "rows ",
                "fold ",
                "ListenOverflows +",
                "overflows +",
            ]
            .iter()
            .any(|start| field.starts_with(start))
            || ["paused", "? keys  q quits", "? keys"].contains(&field)
    })
}

/// At 80, 100, 120 and 200 columns, with the listen counters growing (the header's longest
/// fields): no line wider than the terminal, the header's fields and the status line's whole,
/// the rule under the table as wide as the terminal.
#[test]
fn the_view_fits_every_width() {
    let ns = Netns::new();
    let port = 55010;
    let (listener, clients) = full_listener(&ns, port);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.5", "-tan", &format!(":{port}")],
        (90, 24),
    );
    until(&view, (90, 24), "the listener", |s| s.contains("LISTEN"));
    let mut knocks = Vec::new();
    for cols in [120u16, 80, 100, 200] {
        let size = (usize::from(cols), 24);
        let before = view.bytes().len();
        view.resize(cols, 24);
        // The frames since the resize: drawn whole for the new width, then line by line.
        assert!(
            view.wait_for(Duration::from_secs(10), |_| {
                view.bytes()[before..].windows(4).any(|w| w == b"\x1b[2J")
            }),
            "{cols} columns: the view was never drawn again"
        );
        let drawn = before
            + view.bytes()[before..]
                .windows(4)
                .position(|w| w == b"\x1b[2J")
                .unwrap();
        let since = |view: &Pty| {
            let bytes = view.bytes();
            Term::replay(&bytes[drawn..], size).screen().text()
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        let shown = loop {
            knocks.push(knock(&ns, port));
            let seen = view.wait_for(Duration::from_millis(700), |_| {
                let shown = since(&view);
                let header = shown.lines().nth(1).unwrap_or("");
                header.contains("verflows +") && header.starts_with("sockets")
            });
            if seen {
                break since(&view);
            }
            assert!(
                Instant::now() < deadline,
                "{cols} columns: the overflows never showed:\n{}",
                since(&view)
            );
        };
        // Every line as written, escape sequences left out, fits.
        let bytes = view.bytes();
        let written = String::from_utf8_lossy(&bytes[drawn..]).into_owned();
        for line in written.split("\x1b[K") {
            let line = line.rsplit(";1H").next().unwrap_or("");
            assert!(visible(line) <= size.0, "{cols} columns: {line:?}");
        }
        let lines: Vec<&str> = shown.lines().collect();
        let header = lines[1];
        let words: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(words[0], "sockets", "{cols}: {header}");
        assert!(words[1].parse::<u64>().is_ok(), "{cols}: {header}");
        for (i, word) in words.iter().enumerate() {
            let number = words.get(i + 1).copied().unwrap_or("");
            match *word {
                "new" | "closed" => assert!(number.ends_with("/s"), "{cols}: {header}"),
                "ListenOverflows" | "overflows" | "ListenDrops" | "drops" => assert!(
                    number.starts_with('+') && number[1..].parse::<u64>().is_ok(),
                    "{cols}: {header}"
                ),
                _ => {}
            }
        }
        assert!(
            header.contains("drops +") || header.contains("Drops +"),
            "{cols}: {header}"
        );
        let rule = lines.iter().find(|l| l.starts_with('─')).unwrap();
        assert_eq!(rule.chars().count(), size.0, "{cols}: {shown}");
        assert!(rule.chars().all(|c| c == '─'));
        let status = status(&shown);
        assert!(whole_status_fields(status), "{cols}: {status:?}");
        assert!(status.contains("? keys"), "{cols}: {status:?}");
        // The queues are humanised, the listener's as connections against its backlog.
        assert!(shown.contains(" 3/2 "), "{cols}: {shown}");
    }
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
    drop((listener, clients, knocks));
}

/// `f` folds TIME-WAIT into one row, so that the connections still open stay on screen; then
/// every closing state, every state, and nothing.
#[test]
fn f_folds_time_wait_into_one_row() {
    let ns = Netns::new();
    let port = 55011;
    let (listener, open) = ns.run(|| {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        // Closed by the client first: the client's end waits in TIME-WAIT.
        for _ in 0..30 {
            let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let server = listener.accept().unwrap().0;
            drop(client);
            drop(server);
        }
        let open: Vec<(TcpStream, TcpStream)> = (0..3)
            .map(|_| {
                let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
                (client, listener.accept().unwrap().0)
            })
            .collect();
        (listener, open)
    });
    let size = (100, 16);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tan", &format!(":{port}")],
        (100, 16),
    );
    // 37 sockets, 8 rows of room: the open connections, seen last, are off the screen.
    let shown = until(&view, size, "the TIME-WAIT sockets", |s| {
        status(s).starts_with("37 sockets: ESTAB 6, TIME-WAIT 30, LISTEN 1")
    });
    assert!(status(&shown).contains("rows 1-8 of 37"), "{shown}");
    // Table rows: a mark, a space, the state.
    let estab = |s: &str| {
        s.lines()
            .filter(|l| l.get(2..).is_some_and(|r| r.starts_with("ESTAB ")))
            .count()
    };
    assert!(estab(&shown) < 6, "{shown}");

    view.send(b"f");
    let shown = until(&view, size, "TIME-WAIT folded", |s| {
        s.contains("TIME-WAIT ×30") && status(s).contains("fold TIME-WAIT")
    });
    assert_eq!(estab(&shown), 6, "{shown}");
    assert!(shown.lines().any(|l| l.contains(" LISTEN ")), "{shown}");
    assert!(!status(&shown).contains("rows "), "{shown}");
    assert!(
        status(&shown).starts_with("37 sockets: ESTAB 6, TIME-WAIT 30, LISTEN 1"),
        "{shown}"
    );

    view.send(b"f");
    until(&view, size, "the closing states folded", |s| {
        s.contains("TIME-WAIT ×30") && status(s).contains("fold closing states")
    });
    view.send(b"f");
    let shown = until(&view, size, "every state folded", |s| {
        status(s).contains("fold every state")
    });
    for row in ["ESTAB ×6", "TIME-WAIT ×30", "LISTEN ×1"] {
        assert!(shown.contains(row), "{shown}");
    }
    view.send(b"f");
    until(&view, size, "nothing folded", |s| {
        status(s).contains("rows 1-8 of 37") && !s.contains('×')
    });
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
    drop((listener, open));
}

/// The `/` line opens on the command line's filter, selected, so that typing replaces it; the
/// title then shows the new filter, the sockets it lets in keep their age, and those it lets
/// out are one line of the log. An error names its column, and `/` opens on it.
#[test]
fn the_filter_line_opens_on_the_filter_and_names_errors() {
    let ns = Netns::new();
    let (listener, other, pair) = ns.run(|| {
        let listener = TcpListener::bind("127.0.0.1:55012").unwrap();
        let other = TcpListener::bind("127.0.0.1:55013").unwrap();
        let client = TcpStream::connect("127.0.0.1:55012").unwrap();
        let server = listener.accept().unwrap().0;
        (listener, other, (client, server))
    });
    let size = (120, 20);
    let mut view = watch(
        &ns,
        Some("xterm"),
        &["--interval", "0.1", "-tan", ":55012"],
        (120, 20),
    );
    until(&view, size, "the connection", |s| {
        status(s).starts_with("3 sockets: ESTAB 2, LISTEN 1")
    });
    // Wait for a second, so that ages show it.
    std::thread::sleep(Duration::from_millis(1100));

    view.send(b"/");
    let shown = until(&view, size, "the filter line", |s| {
        status(s).starts_with("filter: :55012")
    });
    let term = Term::replay(&view.bytes(), size);
    let row = size.1 - 1;
    let at = "filter: ".len();
    assert!(
        (at..at + 6).all(|col| term.screen().cells[row][col].1),
        "the filter is selected:\n{shown}"
    );
    // Typing replaces it.
    view.send(b"state listening\r");
    let shown = until(&view, size, "the listeners", |s| {
        status(s).starts_with("2 sockets: LISTEN 2")
    });
    let title = shown.lines().next().unwrap();
    assert!(title.starts_with("sockscope watch "), "{shown}");
    assert!(title.contains("-tan state listening "), "{shown}");
    assert!(!title.contains(":55012"), "{shown}");
    assert!(!status(&shown).contains("| filter"), "{shown}");
    // The listener that came into the filter was open before: its age is a lower bound.
    let came = shown
        .lines()
        .find(|l| l.contains("127.0.0.1:55013"))
        .unwrap();
    assert!(came.contains(" >"), "{shown}");
    let stayed = shown
        .lines()
        .find(|l| l.contains("127.0.0.1:55012"))
        .unwrap();
    assert!(stayed.contains(" >") && !stayed.contains(" >0."), "{shown}");
    let shown = until(&view, size, "one line for the sockets that left", |s| {
        s.contains("2 sockets left the filter, 1 socket came into it")
    });
    assert!(!shown.contains("-> 127.0.0.1"), "{shown}");

    // An error names its column; the filter stays.
    view.send(b"/state listeningdport\r");
    let shown = until(&view, size, "the error", |s| {
        status(s).contains("unchanged")
    });
    assert!(
        status(&shown).contains("wrong state name: listeningdport at column 7"),
        "{shown}"
    );
    // `/` opens on the text refused, the word named selected.
    view.send(b"/");
    let shown = until(&view, size, "the refused filter", |s| {
        status(s).starts_with("filter: state listeningdport")
    });
    let term = Term::replay(&view.bytes(), size);
    let cells = &term.screen().cells[row];
    let column = at + "state ".len();
    let word = column..column + "listeningdport".len();
    assert!(
        (at..word.end + 1).all(|c| cells[c].1 == word.contains(&c)),
        "the word named selected:\n{shown}"
    );
    // Ctrl-U clears it; Esc leaves the filter as it was.
    view.send(b"\x15");
    until(&view, size, "the line cleared", |s| {
        let words: Vec<&str> = status(s).split_whitespace().collect();
        words.starts_with(&["filter:", "Enter", "applies,"])
    });
    view.send(b"\x1b");
    until(&view, size, "the line closed", |s| {
        status(s).starts_with("2 sockets: LISTEN 2")
    });
    view.send(b"q");
    assert!(view.wait(Duration::from_secs(10)).success());
    drop((listener, other, pair));
}
