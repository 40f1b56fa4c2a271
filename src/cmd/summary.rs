//! `-s`: the socket usage summary, from the kernel's counters rather than from its tables.
//!
//! Like `ss -s`, this lists no socket at all. The kernel keeps running counts of its sockets in
//! three small files, `/proc/net/sockstat`, `/proc/net/sockstat6` and `/proc/net/snmp`, so the
//! summary costs the same with ten sockets or a million. Each file is found as ss finds it:
//! `$PROC_NET_SOCKSTAT`, `$PROC_NET_SOCKSTAT6` and `$PROC_NET_SNMP`, else `$PROC_ROOT/net/...`.
//!
//! [`Counters`] holds what the files say; [`Summary`] holds the figures ss prints, computed from
//! them; [`write_text`] and [`write_json`] show a summary.
//!
//! A file that cannot be read is reported, and the figures it feeds are zero, as in ss (which
//! also skips `sockstat6` when `sockstat` is missing). `sockstat6` is silently absent on a
//! kernel without IPv6.

use std::io::{self, Read, Write};
use std::path::Path;

use serde::Serialize;

use crate::config::Format;
use crate::source::procnet::{self, ProcError};

/// The kernel's counters, as its files name them.
///
/// Most are counts for the reader's network namespace; `tcp_allocated` and `tcp_orphans` count
/// the whole machine (the kernel keeps them globally).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// `sockets: used`: sockets of every family, unix and netlink included.
    pub sockets_used: i64,
    /// The `inuse` counts of `sockstat`: sockets hashed into the IPv4 tables.
    pub ipv4: InUse,
    /// The `inuse` counts of `sockstat6`.
    pub ipv6: InUse,
    /// `TCP: alloc`: TCP sockets that exist, hashed or not (a fresh or a closed socket counts),
    /// TIME-WAIT entries aside.
    pub tcp_allocated: i64,
    /// `TCP: orphan`: TCP sockets no process holds any more, still finishing their close.
    pub tcp_orphans: i64,
    /// `TCP: tw`: TIME-WAIT entries.
    pub tcp_time_wait: i64,
    /// `Tcp: CurrEstab` in `snmp`: connections in ESTABLISHED and, on recent kernels (as
    /// RFC 1213 defines the counter), CLOSE-WAIT.
    pub tcp_established: i64,
}

/// The `inuse` counts of one IP version. FRAG counts packets waiting for their other
/// fragments, not sockets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InUse {
    pub tcp: i64,
    pub udp: i64,
    pub raw: i64,
    pub frag: i64,
}

/// The figures `ss -s` prints, with the names of the JSON form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// `Total:`, the sockets of the namespace, of every family.
    pub total: i64,
    /// The `TCP:` line.
    pub tcp: TcpSummary,
    /// The table below it.
    pub transport: Transport,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TcpSummary {
    /// Every TCP socket, TIME-WAIT entries included.
    pub total: i64,
    /// Connections in ESTABLISHED (and, on recent kernels, CLOSE-WAIT).
    pub established: i64,
    /// ss's count of TCP sockets in no table: allocated, less the in-use counts of both IP
    /// versions, plus the TIME-WAIT entries (ss takes them to be among the in-use ones, which
    /// current kernels do not count there). It can come out negative, since the allocated count
    /// is the machine's and the in-use ones the namespace's.
    pub closed: i64,
    pub orphaned: i64,
    pub timewait: i64,
}

/// The `Transport Total IP IPv6` table, one row per field.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Transport {
    pub raw: Versions,
    /// UDP-Lite is not counted, as in ss.
    pub udp: Versions,
    pub tcp: Versions,
    /// RAW, UDP and TCP together.
    pub inet: Versions,
    /// IP fragment reassembly queues (not sockets).
    pub frag: Versions,
}

/// One row of the transport table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Versions {
    pub total: i64,
    pub ip: i64,
    pub ipv6: i64,
}

impl Versions {
    fn new(ip: i64, ipv6: i64) -> Versions {
        Versions {
            total: ip.wrapping_add(ipv6),
            ip,
            ipv6,
        }
    }
}

impl Summary {
    /// ss's arithmetic on the counters. Wrapping, so that no file can make it panic.
    pub fn from_counters(c: &Counters) -> Summary {
        let (v4, v6) = (&c.ipv4, &c.ipv6);
        let hashed = v4.tcp.wrapping_add(v6.tcp).wrapping_sub(c.tcp_time_wait);
        let raw = Versions::new(v4.raw, v6.raw);
        let udp = Versions::new(v4.udp, v6.udp);
        let tcp = Versions::new(v4.tcp, v6.tcp);
        let inet = Versions::new(
            raw.ip.wrapping_add(udp.ip).wrapping_add(tcp.ip),
            raw.ipv6.wrapping_add(udp.ipv6).wrapping_add(tcp.ipv6),
        );
        Summary {
            total: c.sockets_used,
            tcp: TcpSummary {
                total: c.tcp_allocated.wrapping_add(c.tcp_time_wait),
                established: c.tcp_established,
                closed: c.tcp_allocated.wrapping_sub(hashed),
                orphaned: c.tcp_orphans,
                timewait: c.tcp_time_wait,
            },
            transport: Transport {
                raw,
                udp,
                tcp,
                inet,
                frag: Versions::new(v4.frag, v6.frag),
            },
        }
    }
}

/// Reads the three files. What could not be read comes back as problems, to be reported as
/// warnings; the counters it holds stay zero.
pub fn read_counters() -> (Counters, Vec<ProcError>) {
    let mut counters = Counters::default();
    let mut problems = Vec::new();
    let mut read = |name: &str, missing_is_fine: bool| -> Option<(String, std::path::PathBuf)> {
        let path = procnet::proc_path(name);
        match read_small_file(&path) {
            Ok(text) => Some((text, path)),
            Err(e) if missing_is_fine && e.kind() == io::ErrorKind::NotFound => None,
            Err(source) => {
                problems.push(ProcError::Read { path, source });
                None
            }
        }
    };
    let sockstat = read("sockstat", false);
    // Without sockstat ss does not look for sockstat6: its IPv6 counts are zero too.
    let sockstat6 = sockstat.as_ref().and_then(|_| read("sockstat6", true));
    let snmp = read("snmp", false);
    for (text, path) in sockstat.iter().chain(&sockstat6) {
        if let Err(e) = parse_sockstat(text, path, &mut counters) {
            problems.push(e);
        }
    }
    if let Some((text, path)) = &snmp {
        match parse_snmp_established(text, path) {
            Ok(established) => counters.tcp_established = established,
            Err(e) => problems.push(e),
        }
    }
    (counters, problems)
}

/// The whole of a small /proc file in one or two reads: these files report no size, from which
/// `fs::read_to_string` would start with small ones.
fn read_small_file(path: &Path) -> io::Result<String> {
    let mut text = String::with_capacity(8192);
    std::fs::File::open(path)?.read_to_string(&mut text)?;
    Ok(text)
}

/// Adds what a `sockstat` or `sockstat6` file says to `counters`: lines of `LABEL: name value
/// name value ...`. Counters are found by label and name; those ss does not show are skipped.
/// A malformed file changes nothing.
pub fn parse_sockstat(text: &str, path: &Path, counters: &mut Counters) -> Result<(), ProcError> {
    let mut read = *counters;
    for (index, line) in text.lines().enumerate() {
        let bad = || ProcError::Format {
            path: path.to_owned(),
            line: index + 1,
        };
        if line.trim().is_empty() {
            continue;
        }
        let (label, rest) = line.split_once(':').ok_or_else(bad)?;
        let mut words = rest.split_ascii_whitespace();
        while let Some(name) = words.next() {
            let value: i64 = words.next().and_then(|v| v.parse().ok()).ok_or_else(bad)?;
            let slot = match (label, name) {
                ("sockets", "used") => &mut read.sockets_used,
                ("TCP", "inuse") => &mut read.ipv4.tcp,
                ("TCP", "orphan") => &mut read.tcp_orphans,
                ("TCP", "tw") => &mut read.tcp_time_wait,
                ("TCP", "alloc") => &mut read.tcp_allocated,
                ("UDP", "inuse") => &mut read.ipv4.udp,
                ("RAW", "inuse") => &mut read.ipv4.raw,
                ("FRAG", "inuse") => &mut read.ipv4.frag,
                ("TCP6", "inuse") => &mut read.ipv6.tcp,
                ("UDP6", "inuse") => &mut read.ipv6.udp,
                ("RAW6", "inuse") => &mut read.ipv6.raw,
                ("FRAG6", "inuse") => &mut read.ipv6.frag,
                _ => continue,
            };
            *slot = value;
        }
    }
    *counters = read;
    Ok(())
}

/// `CurrEstab` from `/proc/net/snmp`, where each protocol has a line of counter names followed
/// by a line of values, both starting with `Tcp:`. Zero when the file has no such counter.
pub fn parse_snmp_established(text: &str, path: &Path) -> Result<i64, ProcError> {
    let mut lines = text.lines().enumerate();
    while let Some((_, names)) = lines.next() {
        let Some(names) = names.strip_prefix("Tcp:") else {
            continue;
        };
        let Some((index, values)) = lines.next() else {
            break;
        };
        let bad = || ProcError::Format {
            path: path.to_owned(),
            line: index + 1,
        };
        let values = values.strip_prefix("Tcp:").ok_or_else(bad)?;
        let position = names
            .split_ascii_whitespace()
            .position(|name| name == "CurrEstab");
        return match position {
            Some(position) => values
                .split_ascii_whitespace()
                .nth(position)
                .and_then(|v| v.parse().ok())
                .ok_or_else(bad),
            None => Ok(0),
        };
    }
    Ok(0)
}

/// The summary as `ss -s` prints it, byte for byte: the rows of the transport table start with
/// a tab and keep their padding to the end of the line, and a blank line closes it.
pub fn write_text<W: Write>(summary: &Summary, out: &mut W) -> io::Result<()> {
    let tcp = &summary.tcp;
    let t = &summary.transport;
    writeln!(out, "Total: {}", summary.total)?;
    writeln!(
        out,
        "TCP:   {} (estab {}, closed {}, orphaned {}, timewait {})",
        tcp.total, tcp.established, tcp.closed, tcp.orphaned, tcp.timewait
    )?;
    writeln!(out)?;
    writeln!(out, "Transport Total     IP        IPv6")?;
    for (name, row) in [
        ("RAW", &t.raw),
        ("UDP", &t.udp),
        ("TCP", &t.tcp),
        ("INET", &t.inet),
        ("FRAG", &t.frag),
    ] {
        writeln!(
            out,
            "{name}\t  {:<9} {:<9} {:<9}",
            row.total, row.ip, row.ipv6
        )?;
    }
    writeln!(out)?;
    out.flush()
}

/// The summary as one JSON object on one line.
pub fn write_json<W: Write>(summary: &Summary, out: &mut W) -> io::Result<()> {
    serde_json::to_writer(&mut *out, summary).map_err(io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Prints the summary of `counters` on standard output, after a warning for each counters file
/// that could not be read (its figures are zero, as in ss).
pub fn show((counters, problems): (Counters, Vec<ProcError>), format: Format) -> io::Result<()> {
    for problem in problems {
        let _ = writeln!(
            io::stderr(),
            "sockscope: warning: {:#}",
            anyhow::Error::new(problem)
        );
    }
    let summary = Summary::from_counters(&counters);
    let mut out = io::BufWriter::new(io::stdout().lock());
    match format {
        Format::Table => write_text(&summary, &mut out),
        Format::Json => write_json(&summary, &mut out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOCKSTAT: &str = "\
sockets: used 111
TCP: inuse 12 orphan 3 tw 4 alloc 50 mem 877
UDP: inuse 5 mem 0
UDPLITE: inuse 6
RAW: inuse 7
FRAG: inuse 8 memory 9
";

    const SOCKSTAT6: &str = "\
TCP6: inuse 22
UDP6: inuse 23
UDPLITE6: inuse 24
RAW6: inuse 25
FRAG6: inuse 26 memory 27
";

    const SNMP: &str = "\
Ip: Forwarding DefaultTTL InReceives
Ip: 2 64 2497
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs
Tcp: 1 200 120000 -1 26 2 0 12 9 2444
Udp: InDatagrams NoPorts
Udp: 52 0
";

    fn counters() -> Counters {
        let mut c = Counters::default();
        parse_sockstat(SOCKSTAT, Path::new("sockstat"), &mut c).unwrap();
        parse_sockstat(SOCKSTAT6, Path::new("sockstat6"), &mut c).unwrap();
        c.tcp_established = parse_snmp_established(SNMP, Path::new("snmp")).unwrap();
        c
    }

    #[test]
    fn parses_sockstat_files() {
        let c = counters();
        assert_eq!(c.sockets_used, 111);
        assert_eq!(
            c.ipv4,
            InUse {
                tcp: 12,
                udp: 5,
                raw: 7,
                frag: 8
            }
        );
        assert_eq!(
            c.ipv6,
            InUse {
                tcp: 22,
                udp: 23,
                raw: 25,
                frag: 26
            }
        );
        assert_eq!(
            (c.tcp_allocated, c.tcp_orphans, c.tcp_time_wait),
            (50, 3, 4)
        );
    }

    #[test]
    fn counters_are_found_by_name() {
        let mut c = Counters::default();
        let text = "TCP: alloc 50 tw 4 future 1 inuse 12\nNEWPROTO: inuse 3\n\n";
        parse_sockstat(text, Path::new("s"), &mut c).unwrap();
        assert_eq!((c.ipv4.tcp, c.tcp_time_wait, c.tcp_allocated), (12, 4, 50));
    }

    #[test]
    fn a_malformed_sockstat_changes_nothing() {
        for text in [
            "sockets: used 3\nTCP: inuse x\n",
            "sockets: used 3\nTCP: inuse\n",
            "sockets used 3\n",
        ] {
            let mut c = Counters::default();
            let err = parse_sockstat(text, Path::new("/p/sockstat"), &mut c).unwrap_err();
            assert_eq!(c, Counters::default(), "{text:?}");
            assert!(err.to_string().starts_with("/p/sockstat:"), "{err}");
        }
        let mut c = Counters::default();
        let err = parse_sockstat("sockets: used 3\nTCP: inuse x\n", Path::new("/p/s"), &mut c);
        assert_eq!(err.unwrap_err().to_string(), "/p/s:2: unexpected format");
    }

    #[test]
    fn finds_curr_estab_by_name() {
        assert_eq!(parse_snmp_established(SNMP, Path::new("snmp")).unwrap(), 9);
        let short = "Tcp: CurrEstab\nTcp: 7\n";
        assert_eq!(parse_snmp_established(short, Path::new("s")).unwrap(), 7);
        // No TCP counters at all: nothing established, as ss says.
        assert_eq!(
            parse_snmp_established("Ip: A\nIp: 1\n", Path::new("s")).unwrap(),
            0
        );
        assert_eq!(parse_snmp_established("", Path::new("s")).unwrap(), 0);
        let err = parse_snmp_established("Tcp: CurrEstab\nTcp: x\n", Path::new("s")).unwrap_err();
        assert_eq!(err.to_string(), "s:2: unexpected format");
        assert!(parse_snmp_established("Tcp: CurrEstab\nUdp: 1\n", Path::new("s")).is_err());
        assert!(parse_snmp_established("Tcp: A CurrEstab\nTcp: 1\n", Path::new("s")).is_err());
    }

    #[test]
    fn computes_ss_figures() {
        let s = Summary::from_counters(&counters());
        assert_eq!(s.total, 111);
        assert_eq!(
            s.tcp,
            TcpSummary {
                total: 54,
                established: 9,
                closed: 20,
                orphaned: 3,
                timewait: 4
            }
        );
        let row = |total, ip, ipv6| Versions { total, ip, ipv6 };
        assert_eq!(s.transport.raw, row(32, 7, 25));
        assert_eq!(s.transport.udp, row(28, 5, 23));
        assert_eq!(s.transport.tcp, row(34, 12, 22));
        assert_eq!(s.transport.inet, row(94, 24, 70));
        assert_eq!(s.transport.frag, row(34, 8, 26));
    }

    /// What ss 6.1 printed for these files (through `PROC_ROOT`), tabs and trailing spaces
    /// included.
    #[test]
    fn text_is_ss_byte_for_byte() {
        let mut out = Vec::new();
        write_text(&Summary::from_counters(&counters()), &mut out).unwrap();
        let expected = "Total: 111\n\
            TCP:   54 (estab 9, closed 20, orphaned 3, timewait 4)\n\
            \n\
            Transport Total     IP        IPv6\n\
            RAW\t  32        7         25       \n\
            UDP\t  28        5         23       \n\
            TCP\t  34        12        22       \n\
            INET\t  94        24        70       \n\
            FRAG\t  34        8         26       \n\
            \n";
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn wide_and_negative_numbers_widen_their_column() {
        let counters = Counters {
            ipv4: InUse {
                raw: 1234567890,
                ..InUse::default()
            },
            tcp_allocated: 1,
            tcp_time_wait: 3,
            ..Counters::default()
        };
        let mut out = Vec::new();
        write_text(&Summary::from_counters(&counters), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("TCP:   4 (estab 0, closed 4, orphaned 0, timewait 3)\n"));
        assert!(
            text.contains("RAW\t  1234567890 1234567890 0        \n"),
            "{text}"
        );
        let negative = Summary::from_counters(&Counters {
            ipv4: InUse {
                tcp: 5,
                ..InUse::default()
            },
            ..Counters::default()
        });
        assert_eq!(negative.tcp.closed, -5);
    }

    #[test]
    fn json_names_every_figure() {
        let mut out = Vec::new();
        write_json(&Summary::from_counters(&counters()), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"total\":111,\
             \"tcp\":{\"total\":54,\"established\":9,\"closed\":20,\"orphaned\":3,\"timewait\":4},\
             \"transport\":{\"raw\":{\"total\":32,\"ip\":7,\"ipv6\":25},\
             \"udp\":{\"total\":28,\"ip\":5,\"ipv6\":23},\
             \"tcp\":{\"total\":34,\"ip\":12,\"ipv6\":22},\
             \"inet\":{\"total\":94,\"ip\":24,\"ipv6\":70},\
             \"frag\":{\"total\":34,\"ip\":8,\"ipv6\":26}}}\n"
        );
    }
}
