//! `burst PORT N BURSTS PORTS_FILE`: bursts of short loopback TCP connections, for measuring
//! whether `sockscope watch` and `sockscope -E` see every one.
//!
//! Listens on 127.0.0.1:PORT (accepting and closing every connection on a thread of its
//! own), then makes BURSTS bursts of N connections each, as fast as two threads can, one
//! second apart; each connection is closed as soon as it is made. Writes the client port of
//! every connection to PORTS_FILE, one a line, and prints `made N in MS ms (R/s)` per burst.
//!
//! `burst --count PORT PORTS_FILE OUTPUT`: how many of the connections in PORTS_FILE a JSON
//! output (watch's JSON lines or `-E --json`) mentions, by either end: a record with
//! `local_port` PORT and `peer_port` the client's, or the other way round. Prints `seen S of
//! M`. It reads the records by their field names only; it needs no JSON library.
//!
//! `burst --whole PORT PORTS_FILE OUTPUT`: how many of the connections watch's JSON lines
//! follow whole: the client end's handshake (SYN-SENT to ESTAB), the server end's (SYN-RECV to
//! ESTAB), and an end for each (removed, or changed to TIME-WAIT). Prints `whole W of M`.
//!
//! `burst --steady PORT RATE SECONDS`: RATE short connections a second for SECONDS, paced,
//! for measuring what watch costs under a steady load. Prints `made N in MS ms`.

use std::collections::HashSet;
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("--count") if args.len() == 4 => count(&args[1], &args[2], &args[3]),
        Some("--whole") if args.len() == 4 => whole(&args[1], &args[2], &args[3]),
        Some("--steady") if args.len() == 4 => steady(&args[1], &args[2], &args[3]),
        _ if args.len() == 4 => burst(&args[0], &args[1], &args[2], &args[3]),
        _ => Err(
            "usage: burst PORT N BURSTS PORTS_FILE | burst --count|--whole PORT PORTS_FILE \
             OUTPUT | burst --steady PORT RATE SECONDS"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("burst: {message}");
            ExitCode::FAILURE
        }
    }
}

fn number<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{what} must be a number, not {text:?}"))
}

fn burst(port: &str, n: &str, bursts: &str, ports_file: &str) -> Result<(), String> {
    let port: u16 = number(port, "PORT")?;
    let n: usize = number(n, "N")?;
    let bursts: usize = number(bursts, "BURSTS")?;
    serve(port)?;
    // Let the watchers take their first look.
    std::thread::sleep(Duration::from_secs(1));
    let mut ports = Vec::with_capacity(n * bursts);
    for b in 0..bursts {
        let started = Instant::now();
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let share = n / 2 + if t == 0 { n % 2 } else { 0 };
                std::thread::spawn(move || -> io::Result<Vec<u16>> {
                    (0..share)
                        .map(|_| {
                            let client = TcpStream::connect(("127.0.0.1", port))?;
                            Ok(client.local_addr()?.port())
                        })
                        .collect()
                })
            })
            .collect();
        for thread in threads {
            let made = thread
                .join()
                .map_err(|_| "a connecting thread panicked".to_owned())?
                .map_err(|e| format!("connect: {e}"))?;
            ports.extend(made);
        }
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        println!(
            "burst {}: made {n} in {ms:.0} ms ({:.0}/s)",
            b + 1,
            n as f64 / (ms / 1000.0)
        );
        std::thread::sleep(Duration::from_secs(1));
    }
    let mut out = io::BufWriter::new(
        std::fs::File::create(ports_file).map_err(|e| format!("{ports_file}: {e}"))?,
    );
    for port in &ports {
        writeln!(out, "{port}").map_err(|e| format!("{ports_file}: {e}"))?;
    }
    out.flush().map_err(|e| format!("{ports_file}: {e}"))?;
    // The last destroy events and looks.
    std::thread::sleep(Duration::from_secs(2));
    Ok(())
}

/// Listens on 127.0.0.1:`port`, accepting and closing every connection on a thread of its
/// own. A deep accept queue: with std's 128 a burst overflows it and waits for SYN retries.
fn serve(port: u16) -> Result<(), String> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).map_err(|e| e.to_string())?;
    socket.set_reuse_address(true).map_err(|e| e.to_string())?;
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    socket
        .bind(&addr.into())
        .map_err(|e| format!("bind: {e}"))?;
    socket.listen(4096).map_err(|e| format!("listen: {e}"))?;
    let listener = TcpListener::from(socket);
    std::thread::spawn(move || {
        while let Ok((server, _)) = listener.accept() {
            drop(server);
        }
    });
    Ok(())
}

fn steady(port: &str, rate: &str, seconds: &str) -> Result<(), String> {
    let port: u16 = number(port, "PORT")?;
    let rate: u64 = number(rate, "RATE")?;
    let seconds: u64 = number(seconds, "SECONDS")?;
    serve(port)?;
    let started = Instant::now();
    let total = rate * seconds;
    let mut made = 0;
    // Paced in slices of 10 ms, so that the load is steady rather than a burst a second.
    while made < total {
        let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
        while made < due.min(total) {
            TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("connect: {e}"))?;
            made += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("made {made} in {} ms", started.elapsed().as_millis());
    Ok(())
}

/// The connections watch's JSON lines follow whole.
fn whole(port: &str, ports_file: &str, output: &str) -> Result<(), String> {
    let port: u64 = number(port, "PORT")?;
    let (made, text) = read_inputs(ports_file, output)?;
    // Per client port: the client's handshake, the server's, the client's end, the server's.
    let mut seen: std::collections::HashMap<u64, [bool; 4]> = std::collections::HashMap::new();
    for line in text.lines() {
        let (Some((local, _)), Some((peer, _))) = (
            field(line, "\"local_port\":", 0),
            field(line, "\"peer_port\":", 0),
        ) else {
            continue;
        };
        let (client, server_end) = if local == port {
            (peer, true)
        } else if peer == port {
            (local, false)
        } else {
            continue;
        };
        let marks = seen.entry(client).or_default();
        let handshake = if server_end {
            "\"state\":[\"SYN-RECV\",\"ESTAB\"]"
        } else {
            "\"state\":[\"SYN-SENT\",\"ESTAB\"]"
        };
        if line.contains(handshake) {
            marks[usize::from(server_end)] = true;
        }
        if line.starts_with("{\"type\":\"removed\"") || line.contains(",\"TIME-WAIT\"]") {
            marks[2 + usize::from(server_end)] = true;
        }
    }
    let found = made
        .iter()
        .filter(|p| seen.get(p).is_some_and(|marks| marks.iter().all(|&m| m)))
        .count();
    println!("whole {found} of {}", made.len());
    Ok(())
}

/// The client ports `burst` wrote, and the output to look for them in.
fn read_inputs(ports_file: &str, output: &str) -> Result<(Vec<u64>, String), String> {
    let read = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"));
    let made = read(ports_file)?
        .lines()
        .map(|line| number(line, "a port"))
        .collect::<Result<_, _>>()?;
    Ok((made, read(output)?))
}

/// The number after `"FIELD":` at or after `from`, and where it ends.
fn field(text: &str, name: &str, from: usize) -> Option<(u64, usize)> {
    let at = from + text[from..].find(name)? + name.len();
    let digits = text[at..].bytes().take_while(u8::is_ascii_digit).count();
    Some((text[at..at + digits].parse().ok()?, at + digits))
}

fn count(port: &str, ports_file: &str, output: &str) -> Result<(), String> {
    let port: u64 = number(port, "PORT")?;
    let (made, text) = read_inputs(ports_file, output)?;
    let mut seen = HashSet::new();
    let mut at = 0;
    while let Some((local, end)) = field(&text, "\"local_port\":", at) {
        let Some((peer, next)) = field(&text, "\"peer_port\":", end) else {
            break;
        };
        if local == port {
            seen.insert(peer);
        } else if peer == port {
            seen.insert(local);
        }
        at = next;
    }
    let found = made.iter().filter(|p| seen.contains(p)).count();
    println!("seen {found} of {}", made.len());
    Ok(())
}
