//! `sockscope exporter`: its output checked by promtool, scraped by a real Prometheus server
//! and compared with ss, in private namespaces; and what bad requests get.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::netns::{clean_command, run_bounded, wait_bounded};
use crate::util::{Netns, SOCKSCOPE, TempDir, skip, text};

/// A listener with backlog 5 on 127.0.0.1:`port` and three connections waiting in its accept
/// queue, made inside `ns` and held by this process.
struct Crowd {
    _listener: socket2::Socket,
    clients: Vec<TcpStream>,
}

impl Crowd {
    fn new(ns: &Netns, port: u16) -> Crowd {
        let crowd = ns.run(|| {
            use socket2::{Domain, Socket, Type};
            let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
            let address: SocketAddr = ([127, 0, 0, 1], port).into();
            listener.bind(&address.into()).unwrap();
            listener.listen(5).unwrap();
            let clients = (0..3)
                .map(|_| TcpStream::connect(address).unwrap())
                .collect();
            Crowd {
                _listener: listener,
                clients,
            }
        });
        // The handshakes end in the kernel on their own; wait until the queue shows all three.
        let deadline = Instant::now() + Duration::from_secs(10);
        let filter = format!("sport = :{port}");
        loop {
            let out = ns.output("ss", &["-Hltn", &filter]);
            if text(&out.stdout).split_whitespace().nth(1) == Some("3") {
                break crowd;
            }
            assert!(
                Instant::now() < deadline,
                "the accept queue never held 3: {}",
                text(&out.stdout)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A port nobody listens on in `ns` at the moment.
fn free_port(ns: &Netns) -> u16 {
    ns.run(|| {
        TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    })
}

/// A running `sockscope exporter`, killed by its pid when dropped.
struct Exporter {
    child: Child,
    port: u16,
}

impl Exporter {
    fn start(ns: &Netns, args: &[&str]) -> Exporter {
        Exporter::start_with(ns, ns.command(SOCKSCOPE), args)
    }

    /// Starts `command` (sockscope, or a program that runs it) with `exporter --listen ...`
    /// and `args`, and waits until it listens.
    fn start_with(ns: &Netns, mut command: Command, args: &[&str]) -> Exporter {
        let port = free_port(ns);
        let listen = format!("127.0.0.1:{port}");
        let child = command
            .args(["exporter", "--listen", &listen])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let exporter = Exporter { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while ns.run(|| TcpStream::connect(("127.0.0.1", port))).is_err() {
            assert!(Instant::now() < deadline, "the exporter never listened");
            std::thread::sleep(Duration::from_millis(20));
        }
        exporter
    }

    /// Ends it with SIGTERM; its exit status and what it said on stderr.
    fn stop(mut self) -> (std::process::ExitStatus, String) {
        // SAFETY: kill(2) on the pid of a child we started and have not reaped.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM) };
        let status = wait_bounded(&mut self.child, Duration::from_secs(10));
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            pipe.read_to_string(&mut stderr).unwrap();
        }
        (status, stderr)
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `request` to 127.0.0.1:`port` in `ns` and returns all it answers, or what it got
/// before the connection was closed or reset (10 s at most).
fn exchange(ns: &Netns, port: u16, request: &[u8]) -> String {
    try_exchange(ns, port, request).expect("connecting to the server")
}

/// Like [`exchange`], `None` when nothing listens on `port`.
fn try_exchange(ns: &Netns, port: u16, request: &[u8]) -> Option<String> {
    ns.run(|| {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        // A server that closes early may reset the connection before it has all of it.
        let _ = stream.write_all(request);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        Some(text(&answer))
    })
}

fn get(ns: &Netns, port: u16, path: &str) -> String {
    exchange(
        ns,
        port,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes(),
    )
}

/// The value of the series `name{labels}` in a text-format scrape.
fn sample(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}

fn promtool(args: &[&str], input: Option<&str>) -> std::process::Output {
    let mut child = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run promtool ({e}); these tests need Debian's prometheus package \
                 (apt-get install prometheus)"
            )
        });
    let mut stdin = child.stdin.take().unwrap();
    if let Some(input) = input {
        stdin.write_all(input.as_bytes()).unwrap();
    }
    drop(stdin);
    let started = Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(60));
    out
}

/// A temporary directory, removed when dropped.
#[test]
fn promtool_accepts_the_output() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let _crowd = Crowd::new(&ns, port);
    // -N all looks at every namespace of the machine, however large their tables: the
    // filter, which the kernel applies, keeps it quick.
    let only_ours = format!("sport = :{port}");
    for args in [&["-t"][..], &["-i"], &["-N", "all", "-t", &only_ours], &[]] {
        let out = run_bounded(
            ns.command(SOCKSCOPE)
                .args(["exporter", "--once"])
                .args(args),
            Duration::from_secs(20),
        );
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let scrape = text(&out.stdout);
        let check = promtool(&["check", "metrics"], Some(&scrape));
        assert!(
            check.status.success(),
            "promtool check metrics refused the output of {args:?}:\n{}{}\n--- the output\n{scrape}",
            text(&check.stdout),
            text(&check.stderr)
        );
        if args.contains(&"all") {
            assert!(scrape.contains("sockscope_sockets{netns=\""), "{scrape}");
        }
        if args.contains(&"-i") {
            assert!(
                scrape.contains("sockscope_tcp_rtt_seconds_bucket{"),
                "{scrape}"
            );
        }
    }
}

#[test]
fn the_listener_against_ss() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let mut crowd = Crowd::new(&ns, port);
    // 100 bytes no one reads, waiting at the server's end of a queued connection.
    crowd.clients[0].write_all(&[b'x'; 100]).unwrap();
    let filter = format!("( sport = :{port} or dport = :{port} )");
    let deadline = Instant::now() + Duration::from_secs(10);
    let queued = || -> (u64, u64) {
        let ss = text(
            &ns.output("ss", &["-Htn", "state", "established", &filter])
                .stdout,
        );
        ss.lines().fold((0, 0), |(recv, send), line| {
            let columns: Vec<u64> = line
                .split_whitespace()
                .take(2)
                .map(|c| c.parse().unwrap())
                .collect();
            (recv + columns[0], send + columns[1])
        })
    };
    while queued() != (100, 0) {
        assert!(
            Instant::now() < deadline,
            "the bytes never arrived: {:?}",
            queued()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = ns.output(SOCKSCOPE, &["exporter", "--once", "-t", "-i"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scrape = text(&out.stdout);
    let listener = format!("{{netid=\"tcp\",local_address=\"127.0.0.1\",port=\"{port}\"}}");
    let ss = text(
        &ns.output("ss", &["-Hltn", &format!("sport = :{port}")])
            .stdout,
    );
    let columns: Vec<&str> = ss.split_whitespace().collect();
    assert_eq!(
        sample(&scrape, &format!("sockscope_listen_queue_length{listener}")),
        Some(columns[1].parse().unwrap()),
        "{scrape}"
    );
    assert_eq!(
        sample(&scrape, &format!("sockscope_listen_backlog{listener}")),
        Some(columns[2].parse().unwrap()),
        "{scrape}"
    );
    // Three connections in, three out, both ends in this namespace.
    for direction in ["inbound", "outbound"] {
        let series = format!(
            "sockscope_connections{{netid=\"tcp\",port=\"{port}\",direction=\"{direction}\",\
             state=\"ESTAB\"}}"
        );
        assert_eq!(sample(&scrape, &series), Some(3.0), "{scrape}");
    }
    let (recv, send) = queued();
    let per_port = format!("{{netid=\"tcp\",port=\"{port}\"");
    for (queue, bytes) in [("recv", recv), ("send", send)] {
        let series = format!("sockscope_queue_bytes{per_port},queue=\"{queue}\"}}");
        assert_eq!(sample(&scrape, &series), Some(bytes as f64), "{scrape}");
    }
    // -i: a round-trip time for each of the six live connections, both ends.
    let count = format!("sockscope_tcp_rtt_seconds_count{per_port}}}");
    assert_eq!(sample(&scrape, &count), Some(6.0), "{scrape}");
    let inf = format!("sockscope_tcp_rtt_seconds_bucket{per_port},le=\"+Inf\"}}");
    assert_eq!(sample(&scrape, &inf), Some(6.0), "{scrape}");
}

#[test]
fn prometheus_scrapes_it() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let _crowd = Crowd::new(&ns, port);
    // Only the crowd's sockets, so that Prometheus's own connections to the exporter, which
    // come and go, are not counted.
    let filter = format!("( sport = :{port} or dport = :{port} )");
    let exporter = Exporter::start(&ns, &["-t", &filter]);
    let mut server = Prometheus::start(&ns, exporter.port);
    // A successful scrape, and the crowd in it.
    server.wait_for("the crowd's listener", |query| {
        !query("sockscope_listen_queue_length").is_empty()
    });
    let query = |expr: &str| server.query(expr);
    let ss = |args: &[&str]| text(&ns.output("ss", args).stdout);
    let listening = ss(&["-Hltn", &format!("sport = :{port}")]);
    let columns: Vec<&str> = listening.split_whitespace().collect();
    let listener = format!("{{netid=\"tcp\",local_address=\"127.0.0.1\",port=\"{port}\"}}");
    assert_eq!(
        value(&query(&format!("sockscope_listen_queue_length{listener}"))),
        columns[1].parse().ok()
    );
    assert_eq!(
        value(&query(&format!("sockscope_listen_backlog{listener}"))),
        columns[2].parse().ok()
    );
    assert_eq!(columns[1..3], ["3", "5"]);
    for (state, ss_state) in [("LISTEN", "listening"), ("ESTAB", "established")] {
        let expected = ss(&["-Htn", "state", ss_state, &filter]).lines().count();
        let got = value(&query(&format!(
            "sockscope_sockets{{netid=\"tcp\",state=\"{state}\"}}"
        )));
        assert_eq!(got, Some(expected as f64), "{state}");
    }
    server.stop();
}

/// A Prometheus server scraping one exporter every second, in a namespace.
struct Prometheus<'n> {
    ns: &'n Netns,
    server: Server,
    dir: TempDir,
    /// Its web port, for queries.
    web: u16,
}

impl<'n> Prometheus<'n> {
    fn start(ns: &'n Netns, exporter: u16) -> Prometheus<'n> {
        let web = free_port(ns);
        let dir = TempDir::new("prometheus");
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: sockscope\n    scrape_interval: 1s\n    \
                 scrape_timeout: 1s\n    static_configs:\n      - targets: ['127.0.0.1:{exporter}']\n",
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let server = Server(
            ns.command("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!(
                    "--storage.tsdb.path={}",
                    dir.join("data").display()
                ))
                .arg(format!("--web.listen-address=127.0.0.1:{web}"))
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| {
                    panic!(
                        "cannot start prometheus ({e}); this test needs Debian's prometheus \
                         package (apt-get install prometheus)"
                    )
                }),
        );
        Prometheus {
            ns,
            server,
            dir,
            web,
        }
    }

    /// The result of an instant query, empty if it failed.
    fn query(&self, expr: &str) -> Vec<Value> {
        let request = format!(
            "GET /api/v1/query?query={} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            encode(expr)
        );
        let answer = try_exchange(self.ns, self.web, request.as_bytes()).unwrap_or_default();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        json["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// Waits (60 s at most) until the exporter is up and `done` says what it waits for is
    /// there.
    fn wait_for(&mut self, what: &str, done: impl Fn(&dyn Fn(&str) -> Vec<Value>) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let up = self.query("up{job=\"sockscope\"}");
            if value(&up) == Some(1.0) && done(&|expr| self.query(expr)) {
                return;
            }
            if Instant::now() > deadline || self.server.0.try_wait().unwrap().is_some() {
                let log = std::fs::read_to_string(self.dir.join("log")).unwrap_or_default();
                panic!("Prometheus did not see {what} within 60 s: up = {up:?}\n{log}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn stop(&mut self) {
        self.server.stop();
    }
}

/// The value of the first series of a query's result.
fn value(result: &[Value]) -> Option<f64> {
    result.first()?["value"][1].as_str()?.parse().ok()
}

/// The Prometheus server a test started, stopped by its pid.
struct Server(Child);

impl Server {
    fn stop(&mut self) {
        // SAFETY: kill(2) on the pid of a child we started and have not reaped.
        unsafe { libc::kill(self.0.id() as libc::pid_t, libc::SIGTERM) };
        wait_bounded(&mut self.0, Duration::from_secs(20));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

/// `text` as a URL query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'.' | b'-' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn bad_requests_and_the_next_scrape() {
    let ns = Netns::new();
    let exporter = Exporter::start(&ns, &["-t"]);
    let port = exporter.port;
    let ok = |answer: &str| {
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        assert!(answer.contains("sockscope_scrape_sockets"), "{answer}");
    };
    ok(&get(&ns, port, "/metrics"));
    // `/` is a page that links to /metrics (see the_exporters_manners); the rest is 404.
    assert!(get(&ns, port, "/index.html").starts_with("HTTP/1.1 404 "));
    assert!(get(&ns, port, "/metrics/x").starts_with("HTTP/1.1 404 "));
    let post = exchange(
        &ns,
        port,
        b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    );
    assert!(
        post.starts_with("HTTP/1.1 405 ") && post.contains("Allow: GET, HEAD"),
        "{post}"
    );
    assert!(exchange(&ns, port, b"GARBAGE\r\n\r\n").starts_with("HTTP/1.1 400 "));
    let head = exchange(&ns, port, b"HEAD /metrics HTTP/1.1\r\n\r\n");
    assert!(
        head.starts_with("HTTP/1.1 200 ") && head.ends_with("\r\n\r\n"),
        "{head}"
    );
    // A huge header: 431, or the connection is closed on it.
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 1 << 20));
    huge.extend(b"\r\n\r\n");
    let answer = exchange(&ns, port, &huge);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431 "),
        "{answer}"
    );
    // OpenMetrics for those who ask for it.
    let open = exchange(
        &ns,
        port,
        b"GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0\r\n\r\n",
    );
    assert!(
        open.contains("Content-Type: application/openmetrics-text") && open.ends_with("# EOF\n"),
        "{open}"
    );
    // Clients that send half a request, or nothing, and one that never reads its answer:
    // the next scrape is answered at once all the same.
    let stuck: Vec<TcpStream> = ns.run(|| {
        let mut clients = Vec::new();
        for request in [&b""[..], b"GET /metr", b"GET /metrics HTTP/1.1\r\n\r\n"] {
            let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
            client.write_all(request).unwrap();
            clients.push(client);
        }
        clients
    });
    let started = Instant::now();
    ok(&get(&ns, port, "/metrics"));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // The stuck ones are cut off at the deadline: 408 for those that sent too little.
    let mut first = stuck.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut answer = Vec::new();
    let _ = first.read_to_end(&mut answer);
    assert!(
        text(&answer).starts_with("HTTP/1.1 408 "),
        "{}",
        text(&answer)
    );
    ok(&get(&ns, port, "/metrics"));
}

#[test]
fn a_port_in_use_is_one_line() {
    let ns = Netns::new();
    let exporter = Exporter::start(&ns, &[]);
    let listen = format!("127.0.0.1:{}", exporter.port);
    let out = ns.output(SOCKSCOPE, &["exporter", "--listen", &listen]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("sockscope: cannot listen on {listen}: ")),
        "{stderr}"
    );
}

#[test]
fn options_it_refuses() {
    let ns = Netns::new();
    for args in [
        &["-p"][..],
        &["--json"],
        &["-s"],
        &["--once", "--listen", "127.0.0.1:1"],
    ] {
        let out = ns.output(SOCKSCOPE, &[&["exporter"][..], args].concat());
        assert!(!out.status.success(), "{args:?}");
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn the_textfile_is_written_whole() {
    let ns = Netns::new();
    let dir = TempDir::new("textfile");
    let path = dir.join("sockscope.prom");
    let path = path.to_str().unwrap();
    let out = ns.output(SOCKSCOPE, &["exporter", "-t", "--textfile", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(path).unwrap();
    assert!(written.contains("sockscope_scrape_sockets "), "{written}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(left.len(), 1, "a temporary file was left behind");
    assert!(
        promtool(&["check", "metrics"], Some(&written))
            .status
            .success()
    );
}

#[test]
fn series_past_the_cap_are_folded() {
    let ns = Netns::new();
    let _listeners: Vec<TcpListener> = ns.run(|| {
        (0..4)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect()
    });
    let out = ns.output(
        SOCKSCOPE,
        &["exporter", "--once", "-t", "--max-series", "2"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scrape = text(&out.stdout);
    let backlogs: Vec<&str> = scrape
        .lines()
        .filter(|l| l.starts_with("sockscope_listen_backlog{"))
        .collect();
    assert_eq!(backlogs.len(), 3, "{scrape}");
    assert!(
        backlogs[2].contains("local_address=\"other\",port=\"other\"} "),
        "{scrape}"
    );
    assert_eq!(
        sample(
            &scrape,
            "sockscope_folded_series_total{metric=\"listen_queue_length\"}"
        ),
        Some(2.0),
        "{scrape}"
    );
}

#[test]
fn the_readme_snippets_pass_promtool() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Metrics for Prometheus")
        .nth(1)
        .expect("the README's exporter section");
    let blocks: Vec<&str> = section
        .split("```yaml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    let dir = TempDir::new("readme");
    // promtool checks the block that begins with `start`, written to `file`, as `kind`.
    let check = |kind: &str, start: &str, file: &str| {
        let block = blocks
            .iter()
            .find(|b| b.starts_with(start))
            .unwrap_or_else(|| panic!("no {kind} in the README"));
        let path = dir.join(file);
        std::fs::write(&path, block).unwrap();
        let out = promtool(&["check", kind, path.to_str().unwrap()], None);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    };
    check("rules", "groups:", "rules.yml");
    check("config", "scrape_configs:", "prometheus.yml");
}

#[test]
fn dash_n_looks_in_that_namespace() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let _crowd = Crowd::new(&ns, port);
    // Run from outside: -N enters the namespace first.
    let out = run_bounded(
        clean_command(SOCKSCOPE).args(["exporter", "--once", "-t", "-N", &ns.path()]),
        Duration::from_secs(20),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let scrape = text(&out.stdout);
    let series = format!(
        "sockscope_listen_backlog{{netid=\"tcp\",local_address=\"127.0.0.1\",port=\"{port}\"}}"
    );
    assert_eq!(sample(&scrape, &series), Some(5.0), "{scrape}");
}

#[test]
fn a_client_that_never_reads_a_large_answer() {
    let ns = Netns::new();
    // Small send buffers, so that the answer cannot all sit in the kernel.
    ns.sysctl(&[("net.ipv4.tcp_wmem", "4096 16384 65536")]);
    let _listeners: Vec<TcpListener> = ns.run(|| {
        (0..2000)
            .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
            .collect()
    });
    let exporter = Exporter::start(&ns, &["-tl", "--max-series", "5000"]);
    let port = exporter.port;
    let _stuck = ns.run(|| {
        use socket2::{Domain, Socket, Type};
        let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        client.set_recv_buffer_size(4096).unwrap();
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        client.connect(&address.into()).unwrap();
        let mut client: TcpStream = client.into();
        client.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
        client
    });
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let answer = get(&ns, port, "/metrics");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        answer.starts_with("HTTP/1.1 200 ") && answer.len() > 200_000,
        "{}",
        answer.len()
    );
    // The stuck client's thread gives up at the deadline: only the main thread is left.
    let tasks = format!("/proc/{}/task", exporter.child.id());
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_dir(&tasks).unwrap().count() > 1 {
        assert!(
            Instant::now() < deadline,
            "a connection thread outlived its write deadline"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// TcpExt `name` in the namespace's /proc/net/netstat.
fn tcp_ext(ns: &Netns, name: &str) -> u64 {
    let netstat = text(&ns.output("cat", &["/proc/net/netstat"]).stdout);
    let mut lines = netstat.lines().filter(|l| l.starts_with("TcpExt:"));
    let (names, values) = (lines.next().unwrap(), lines.next().unwrap());
    let position = names.split_whitespace().position(|n| n == name).unwrap();
    values
        .split_whitespace()
        .nth(position)
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn listen_overflows_are_the_namespaces() {
    let ns = Netns::new();
    let port = free_port(&ns);
    // A queue of one and four clients: the kernel drops the SYNs it has no room for.
    let _held = ns.run(|| {
        use socket2::{Domain, Socket, Type};
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        listener.bind(&address.into()).unwrap();
        listener.listen(0).unwrap();
        let clients: Vec<Socket> = (0..4)
            .map(|_| {
                let client = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
                client.set_nonblocking(true).unwrap();
                let _ = client.connect(&address.into());
                client
            })
            .collect();
        (listener, clients)
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while tcp_ext(&ns, "ListenOverflows") == 0 {
        assert!(Instant::now() < deadline, "no ListenOverflows in 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let before = (tcp_ext(&ns, "ListenOverflows"), tcp_ext(&ns, "ListenDrops"));
    let out = ns.output(SOCKSCOPE, &["exporter", "--once", "-t"]);
    let after = (tcp_ext(&ns, "ListenOverflows"), tcp_ext(&ns, "ListenDrops"));
    let scrape = text(&out.stdout);
    let overflows = sample(&scrape, "sockscope_tcp_listen_overflows_total").unwrap() as u64;
    let drops = sample(&scrape, "sockscope_tcp_listen_drops_total").unwrap() as u64;
    assert!(
        (before.0..=after.0).contains(&overflows),
        "{before:?} {after:?}\n{scrape}"
    );
    assert!(
        (before.1..=after.1).contains(&drops),
        "{before:?} {after:?}\n{scrape}"
    );
}

/// How many connections of each kind [`traffic`] makes.
const NORMAL: usize = 12;
const DELAYED: usize = 3;
const RESET: usize = 4;
const REFUSED: usize = 5;
/// The bytes each normal connection's client sends.
const PAYLOAD: usize = 100;

/// Connections to 127.0.0.1:`port` in `ns`, one kind after the other: [`NORMAL`] whose client
/// sends [`PAYLOAD`] bytes and closes first, the server after ([`DELAYED`] of them waiting in
/// the accept queue until all are made); [`RESET`] that the server aborts (`SO_LINGER` 0,
/// an RST), the client closing after it got the reset; and [`REFUSED`] connects to
/// `refused`, where nothing listens.
fn traffic(ns: &Netns, port: u16, refused: u16) {
    ns.run(|| {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let connect = || {
            let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
            client
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            client
        };
        let exchange = |mut client: TcpStream, mut server: TcpStream| {
            server
                .set_read_timeout(Some(Duration::from_secs(10)))
                .unwrap();
            client.write_all(&[b'x'; PAYLOAD]).unwrap();
            let mut got = [0u8; PAYLOAD];
            server.read_exact(&mut got).unwrap();
            drop(client);
            // The client's FIN, then the server's.
            assert_eq!(server.read(&mut got).unwrap(), 0);
        };
        let waiting: Vec<TcpStream> = (0..DELAYED).map(|_| connect()).collect();
        for client in waiting {
            exchange(client, listener.accept().unwrap().0);
        }
        for _ in DELAYED..NORMAL {
            let client = connect();
            exchange(client, listener.accept().unwrap().0);
        }
        for _ in 0..RESET {
            let mut client = connect();
            let server = listener.accept().unwrap().0;
            socket2::SockRef::from(&server)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
            drop(server);
            let mut byte = [0u8; 1];
            let read = client.read(&mut byte);
            assert!(
                read.as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
                "{read:?}"
            );
        }
        for _ in 0..REFUSED {
            assert!(TcpStream::connect(("127.0.0.1", refused)).is_err());
        }
    });
}

/// Scrapes until `done` holds of the scrape (10 s at most); returns the last scrape.
fn scrape_until(ns: &Netns, port: u16, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let scrape = get(ns, port, "/metrics");
        if done(&scrape) || Instant::now() > deadline {
            return scrape;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The exporter's body of an HTTP answer.
fn body(answer: &str) -> &str {
    answer.split_once("\r\n\r\n").map_or("", |(_, body)| body)
}

/// An exporter started with `args` that follows the kernel's events, or `None` (said, for
/// the caller to skip) where they are unavailable.
fn following(ns: &Netns, args: &[&str]) -> Option<Exporter> {
    let exporter = Exporter::start(ns, args);
    let answer = get(ns, exporter.port, "/metrics");
    if sample(body(&answer), "sockscope_events_available") == Some(1.0) {
        return Some(exporter);
    }
    skip("the kernel's TCP events are unavailable here (no BTF, or bpf() refused)");
    None
}

#[test]
fn events_count_the_connections_made() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let refused = free_port(&ns);
    let Some(exporter) = following(&ns, &["-t"]) else {
        return;
    };
    traffic(&ns, port, refused);
    let series = |name: &str, direction: &str, port: u16| {
        format!("sockscope_tcp_{name}{{direction=\"{direction}\",port=\"{port}\"}}")
    };
    let opened = (NORMAL + RESET) as f64;
    // Every count is final once the last destroy event is read.
    let answer = scrape_until(&ns, exporter.port, |answer| {
        let scrape = body(answer);
        ["inbound", "outbound"].iter().all(|direction| {
            sample(scrape, &series("connections_closed_total", direction, port)) == Some(opened)
                && sample(scrape, &series("received_bytes_total", direction, port))
                    .is_some_and(|bytes| bytes > 0.0)
        }) && sample(
            scrape,
            &series("connections_failed_total", "outbound", refused),
        ) == Some(REFUSED as f64)
    });
    let scrape = body(&answer);
    for direction in ["inbound", "outbound"] {
        let of = |name: &str| sample(scrape, &series(name, direction, port));
        assert_eq!(of("connections_opened_total"), Some(opened), "{scrape}");
        assert_eq!(of("connections_closed_total"), Some(opened), "{scrape}");
        assert_eq!(
            of("connections_reset_total"),
            Some(RESET as f64),
            "{scrape}"
        );
        assert_eq!(of("connections_failed_total"), Some(0.0), "{scrape}");
        assert_eq!(of("handshake_seconds_count"), Some(opened), "{scrape}");
        assert_eq!(
            of("connection_lifetime_seconds_count"),
            Some(opened),
            "{scrape}"
        );
        // On loopback a handshake takes far less than a second.
        let le = format!(
            "sockscope_tcp_handshake_seconds_bucket{{direction=\"{direction}\",port=\"{port}\",\
             le=\"1\"}}"
        );
        assert_eq!(sample(scrape, &le), Some(opened), "{scrape}");
    }
    // The payload one way, the FINs (a byte of sequence space each) both ways.
    let sent = (NORMAL * PAYLOAD) as f64;
    let fins = (NORMAL + RESET) as f64;
    let received = sample(scrape, &series("received_bytes_total", "inbound", port)).unwrap();
    let acked = sample(scrape, &series("acked_bytes_total", "outbound", port)).unwrap();
    for bytes in [received, acked] {
        assert!(
            (sent..=sent + 2.0 * fins).contains(&bytes),
            "{bytes}\n{scrape}"
        );
    }
    assert!(
        sample(scrape, &series("received_bytes_total", "outbound", port)).unwrap() <= 2.0 * fins,
        "{scrape}"
    );
    assert_eq!(
        sample(
            scrape,
            &series("connections_opened_total", "outbound", refused)
        ),
        Some(0.0),
        "{scrape}"
    );
    assert_eq!(sample(scrape, "sockscope_events_lost_total"), Some(0.0));
    let check = promtool(&["check", "metrics"], Some(scrape));
    assert!(
        check.status.success(),
        "{}{}\n{scrape}",
        text(&check.stdout),
        text(&check.stderr)
    );
}

#[test]
fn prometheus_counts_the_connections() {
    let ns = Netns::new();
    let port = free_port(&ns);
    let refused = free_port(&ns);
    let Some(exporter) = following(&ns, &["-t"]) else {
        return;
    };
    // One connection first, so that the series exist before the traffic: Prometheus's
    // range functions need a sample before the increase.
    let warm_up = ns.run(|| {
        let listener = TcpListener::bind(("127.0.0.1", refused)).unwrap();
        let client = TcpStream::connect(("127.0.0.1", refused)).unwrap();
        (listener.accept().unwrap(), client)
    });
    let opened = |port: u16| {
        format!("sockscope_tcp_connections_opened_total{{direction=\"outbound\",port=\"{port}\"}}")
    };
    let mut server = Prometheus::start(&ns, exporter.port);
    server.wait_for("the first connection", |query| {
        value(&query(&opened(refused))) == Some(1.0)
    });
    drop(warm_up);
    // Closed now: the port refuses from here on.
    traffic(&ns, port, refused);
    let made = (NORMAL + RESET) as f64;
    server.wait_for("the connections made", |query| {
        value(&query(&opened(port))) == Some(made)
            && value(&query(&format!(
                "sockscope_tcp_connections_failed_total{{direction=\"outbound\",port=\"{refused}\"}}"
            ))) == Some(REFUSED as f64)
    });
    // The increase over the last minute, from Prometheus's own samples.
    let failed = format!(
        "sockscope_tcp_connections_failed_total{{direction=\"outbound\",port=\"{refused}\"}}"
    );
    let increase = format!("max_over_time({failed}[1m]) - min_over_time({failed}[1m])");
    assert_eq!(value(&server.query(&increase)), Some(REFUSED as f64));
    let reset =
        format!("sockscope_tcp_connections_reset_total{{direction=\"inbound\",port=\"{port}\"}}");
    assert_eq!(value(&server.query(&reset)), Some(RESET as f64));
    // The median connect on loopback: within the first buckets, far under a millisecond.
    let median = server.query(&format!(
        "histogram_quantile(0.5, sockscope_tcp_handshake_seconds_bucket{{direction=\"outbound\",\
         port=\"{port}\"}})"
    ));
    let median = value(&median).unwrap();
    assert!(median > 0.0 && median <= 0.001, "{median}");
    let lifetimes = server.query(&format!(
        "sockscope_tcp_connection_lifetime_seconds_count{{direction=\"inbound\",port=\"{port}\"}}"
    ));
    assert_eq!(value(&lifetimes), Some(made));
    server.stop();
}

#[test]
fn unprivileged_the_event_metrics_are_absent() {
    let ns = Netns::new();
    let mut command = ns.command("setpriv");
    command
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(SOCKSCOPE);
    let exporter = Exporter::start_with(&ns, command, &["-t"]);
    let port = free_port(&ns);
    traffic(&ns, port, free_port(&ns));
    let answer = get(&ns, exporter.port, "/metrics");
    let scrape = body(&answer);
    assert_eq!(
        sample(scrape, "sockscope_events_available"),
        Some(0.0),
        "{scrape}"
    );
    assert!(!scrape.contains("sockscope_tcp_connections_"), "{scrape}");
    assert!(!scrape.contains("sockscope_tcp_handshake"), "{scrape}");
    // The look works as before.
    assert!(scrape.contains("sockscope_scrape_sockets "), "{scrape}");
    let (status, stderr) = exporter.stop();
    assert!(status.success(), "{status:?}: {stderr}");
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("kernel events unavailable"))
        .collect();
    assert_eq!(said.len(), 1, "{stderr}");
}

#[test]
fn the_exporters_manners() {
    let ns = Netns::new();
    let exporter = Exporter::start(&ns, &[]);
    let port = exporter.port;
    // A page at /, linking to the metrics.
    let page = get(&ns, port, "/");
    assert!(
        page.starts_with("HTTP/1.1 200 ") && page.contains("Content-Type: text/html"),
        "{page}"
    );
    assert!(body(&page).contains("<a href=\"/metrics\">"), "{page}");
    // Its own listener and the scrapes' connections are not counted: after a few scrapes,
    // no TCP socket is left in the namespace's metrics, in any state.
    for _ in 0..3 {
        get(&ns, port, "/metrics");
    }
    let answer = get(&ns, port, "/metrics");
    let scrape = body(&answer);
    assert!(!scrape.contains("netid=\"tcp\""), "{scrape}");
    assert!(!scrape.contains(&format!("port=\"{port}\"")), "{scrape}");
    let ss = text(&ns.output("ss", &["-Htan"]).stdout);
    assert!(ss.contains(&format!(":{port} ")), "{ss}");
    // The fold counter says which metric it folded, not a "family".
    assert!(
        scrape.contains("sockscope_folded_series_total{metric=\"connections\"} 0"),
        "{scrape}"
    );
    assert!(!scrape.contains("family="), "{scrape}");
    // SIGTERM ends it with status 0; it said where it listens when it began.
    let (status, stderr) = exporter.stop();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let listening = format!("sockscope: exporter: listening on http://127.0.0.1:{port}/metrics");
    assert_eq!(stderr.lines().last(), Some(listening.as_str()), "{stderr}");
}

/// The lines of a scrape that say how many TCP sockets there are, by state and by port.
fn tcp_counts(scrape: &str) -> Vec<&str> {
    scrape
        .lines()
        .filter(|l| {
            l.starts_with("sockscope_sockets{netid=\"tcp\"")
                || l.starts_with("sockscope_connections{netid=\"tcp\"")
        })
        .collect()
}

/// `pairs` connections to `listener`, made in `ns`: both ends held.
fn pairs(ns: &Netns, listener: &TcpListener, pairs: usize) -> Vec<(TcpStream, TcpStream)> {
    let address = listener.local_addr().unwrap();
    ns.run(|| {
        (0..pairs)
            .map(|_| {
                let client = TcpStream::connect(address).unwrap();
                (client, listener.accept().unwrap().0)
            })
            .collect()
    })
}

#[test]
fn kept_counts_are_what_a_look_finds() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let filter = format!("( sport = :{port} or dport = :{port} )");
    let _before = pairs(&ns, &listener, 2);
    // One reconciling look, at the first scrape; the events keep the rest.
    let Some(exporter) = following(&ns, &["-t", "--reconcile", "3600", &filter]) else {
        return;
    };
    let mut held = pairs(&ns, &listener, 5);
    // Two closed by the client: FIN-WAIT-2 at its end, CLOSE-WAIT at the server's.
    for (client, _) in &held[..2] {
        client.shutdown(std::net::Shutdown::Write).unwrap();
    }
    // One closed at both ends: TIME-WAIT, which a scrape looks at.
    let (client, server) = held.pop().unwrap();
    drop(client);
    drop(server);
    let once = || {
        let out = run_bounded(
            ns.command(SOCKSCOPE)
                .args(["exporter", "--once", "-t", &filter]),
            Duration::from_secs(20),
        );
        text(&out.stdout)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = get(&ns, exporter.port, "/metrics");
        let scrape = body(&answer);
        let looked = once();
        if tcp_counts(scrape) == tcp_counts(&looked) {
            assert_eq!(sample(scrape, "sockscope_reconciles_total"), Some(1.0));
            assert_eq!(
                sample(scrape, "sockscope_reconcile_corrections_total"),
                Some(0.0)
            );
            assert!(scrape.contains("state=\"FIN-WAIT-2\""), "{scrape}");
            assert!(scrape.contains("state=\"TIME-WAIT\""), "{scrape}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the kept counts:\n{}\na look:\n{}",
            tcp_counts(scrape).join("\n"),
            tcp_counts(&looked).join("\n")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_reconciling_look_corrects_what_the_events_lost() {
    let ns = Netns::new();
    let listener = ns.run(|| TcpListener::bind("127.0.0.1:0").unwrap());
    let port = listener.local_addr().unwrap().port();
    let Some(exporter) = following(&ns, &["-t", "--reconcile", "2"]) else {
        return;
    };
    // Stopped, the exporter reads nothing: 12,000 connections opened and closed make 120,000
    // transitions, more than the ring buffer holds (8 MiB, about 100,000), and the last ones,
    // five connections held open among them, are lost.
    let pid = exporter.child.id() as libc::pid_t;
    // SAFETY: kill(2) on the pid of a child we started and have not reaped.
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let address = listener.local_addr().unwrap();
    ns.run(|| {
        for _ in 0..12_000 {
            let client = TcpStream::connect(address).unwrap();
            let (server, _) = listener.accept().unwrap();
            drop(client);
            drop(server);
        }
    });
    let held = pairs(&ns, &listener, 5);
    // SAFETY: as above.
    unsafe { libc::kill(pid, libc::SIGCONT) };
    let estab = format!(
        "sockscope_connections{{netid=\"tcp\",port=\"{port}\",direction=\"inbound\",\
         state=\"ESTAB\"}}"
    );
    let answer = scrape_until(&ns, exporter.port, |answer| {
        sample(body(answer), "sockscope_reconciles_total").is_some_and(|n| n >= 2.0)
    });
    let scrape = body(&answer);
    assert!(
        sample(scrape, "sockscope_events_lost_total").is_some_and(|n| n > 0.0),
        "{scrape}"
    );
    assert_eq!(sample(scrape, &estab), Some(held.len() as f64), "{scrape}");
    let corrections = sample(scrape, "sockscope_reconcile_corrections_total").unwrap();
    assert!(corrections >= 2.0 * held.len() as f64, "{scrape}");
}
