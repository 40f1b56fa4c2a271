//! Filters as people type them, against ss: IPv6 prefixes without brackets, devices by index,
//! states with `-F`, host names from a hosts file, family prefixes, ss's aliases, backslashes,
//! odd ports and marks, and the exit status of each mistake.
//!
//! Every case runs on the installed ss and, when `SOCKSCOPE_SS71` names one, on ss 7.1 too.
//! Only the selection is compared: rows with their runs of white space folded, the header
//! without the Process title that ss 6.1 prints and 7.1 leaves out, and the exit status.

use std::net::SocketAddr;
use std::process::{Command, Output};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::util::netns::{RUN_LIMIT, run_bounded};
use crate::util::{Netns, SOCKSCOPE, TempDir, fold, text, unique};

/// The ss binaries to compare with: the installed one, and ss 7.1 when `SOCKSCOPE_SS71`
/// names it.
fn references() -> Vec<String> {
    let mut tools = vec!["ss".to_owned()];
    if let Some(ss71) = std::env::var_os("SOCKSCOPE_SS71").filter(|p| !p.is_empty()) {
        tools.push(ss71.to_string_lossy().into_owned());
    }
    tools
}

/// A namespace with a small table: IPv4 and IPv6 listeners (global IPv6 addresses on a veth,
/// one listener bound to it), a marked listener, a connection and a UDP socket.
struct Table {
    ns: Netns,
    /// The index of the veth the IPv6 addresses are on.
    va: u32,
    dir: TempDir,
    _sockets: Vec<Socket>,
}

fn addr(text: &str) -> SockAddr {
    text.parse::<SocketAddr>().unwrap().into()
}

fn listener(at: &str, setup: impl FnOnce(&Socket)) -> Socket {
    let domain = if at.starts_with('[') {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let s = Socket::new(domain, Type::STREAM, Some(Protocol::TCP)).unwrap();
    s.set_reuse_address(true).unwrap();
    setup(&s);
    s.bind(&addr(at)).unwrap();
    s.listen(4).unwrap();
    s
}

impl Table {
    fn new() -> Table {
        let ns = Netns::new();
        ns.ip(&["link", "add", "va", "type", "veth", "peer", "name", "vb"]);
        ns.ip(&["link", "set", "va", "up"]);
        ns.ip(&["link", "set", "vb", "up"]);
        ns.ip(&["addr", "add", "2001:db8::1/64", "dev", "va", "nodad"]);
        ns.ip(&["addr", "add", "2001:db8:0:1::1/64", "dev", "va", "nodad"]);
        let dir = TempDir::new("parity");
        let (va, sockets) = ns.run(|| {
            let va = nix_index("va");
            let mut keep = vec![
                listener("0.0.0.0:22", |_| {}),
                listener("127.0.0.1:5000", |_| {}),
                listener("127.0.0.2:6000", |s| s.set_mark(0x10).unwrap()),
                listener("[::]:8081", |s| s.set_only_v6(true).unwrap()),
                listener("[2001:db8::1]:7000", |_| {}),
                listener("[2001:db8:0:1::1]:7001", |_| {}),
                listener("[::1]:5001", |_| {}),
                listener("[2001:db8::1]:7002", |s| {
                    s.bind_device(Some(b"va")).unwrap()
                }),
            ];
            let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
            client.connect(&addr("127.0.0.1:5000")).unwrap();
            let (server, _) = keep[1].accept().unwrap();
            keep.extend([client, server]);
            let udp = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
            udp.bind(&addr("127.0.0.1:53")).unwrap();
            keep.push(udp);
            (va, keep)
        });
        Table {
            ns,
            va,
            dir,
            _sockets: sockets,
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path(name)
    }

    /// `tool args` in the namespace, with `hosts` (if given) as /etc/hosts in a private mount
    /// namespace of its own.
    fn run(&self, tool: &str, args: &[&str], hosts: Option<&str>) -> Output {
        let mut command: Command = match hosts {
            None => self.ns.command(tool),
            Some(file) => {
                let mut command = self.ns.command("unshare");
                command.args([
                    "--mount",
                    "sh",
                    "-c",
                    "mount --bind \"$0\" /etc/hosts && exec \"$@\"",
                    file,
                    tool,
                ]);
                command
            }
        };
        command.args(args);
        run_bounded(&mut command, RUN_LIMIT)
    }
}

fn nix_index(name: &str) -> u32 {
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: a valid NUL-terminated name.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert_ne!(index, 0, "no device {name:?}");
    index
}

/// What the comparison looks at: the folded rows, and the status.
fn selection(out: &Output) -> (String, Option<i32>) {
    let rows = fold(&text(&out.stdout));
    let rows = rows
        .lines()
        .map(|line| match line.strip_suffix("Process") {
            Some(header) if line.contains("Local Address") => header.trim_end(),
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n");
    (rows, out.status.code())
}

/// Runs every case (split at white space; `args` before it) on sockscope and on each ss,
/// and reports every difference at once.
fn assert_cases(table: &Table, args: &str, cases: &[&str], hosts: Option<&str>) {
    let mut failures = Vec::new();
    for case in cases {
        let words: Vec<&str> = args
            .split_whitespace()
            .chain(case.split_whitespace())
            .collect();
        let ours = table.run(SOCKSCOPE, &words, hosts);
        for ss in references() {
            let theirs = table.run(&ss, &words, hosts);
            if selection(&ours) != selection(&theirs) {
                failures.push(format!(
                    "`{}` differs from {ss}:\n--- {ss} (status {:?})\n{}\n--- sockscope \
                     (status {:?})\n{}\n--- sockscope stderr\n{}",
                    words.join(" "),
                    theirs.status.code(),
                    selection(&theirs).0,
                    ours.status.code(),
                    selection(&ours).0,
                    text(&ours.stderr)
                ));
            }
        }
        // A refusal is one line, and never a panic.
        if !ours.status.success() {
            let stderr = text(&ours.stderr);
            if stderr.lines().count() != 1 || !stderr.starts_with("sockscope: ") {
                failures.push(format!("`{}`: stderr {stderr:?}", words.join(" ")));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn ipv6_prefixes_without_brackets() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "src 2001:db8::/64",
            "src 2001:db8:0:1::/64",
            "src 2001:db8::1/128",
            "src 2001:db8::1/64",
            "dst ::/0",
            "src ::1/128",
            "src fe80::/10",
            "src inet6:2001:db8::/64",
            // The port follows the last colon, unless a prefix length does.
            "src ::1:5001",
            "src 2001:db8::1:7000",
            "src 2001:db8::1:*",
            "src 2001:db8::/64:7000",
            "src 2001:db8::1/64:",
            "src :::",
            "src :::8081",
            "src []",
            "src [*]",
            "src [*]:22",
            "src [::]:*",
            "src 2001:db8:::7000",
            // Mistakes: an address cut at its last colon, a port that is an address.
            "src 2001:db8::1",
            "src 2001:db8::",
            "src ::",
            "src ::ffff:127.0.0.1",
            "src 2001:db8::/129",
            "src 2001:db8::/",
            "src 1::2::3/64",
        ],
        None,
    );
    assert_cases(&table, "-6 -tan", &["src 2001:db8::/64", "src ::/0"], None);
}

#[test]
fn devices_by_name_index_and_ifn() {
    let table = Table::new();
    let va = table.va;
    let cases = [
        "dev va".to_owned(),
        format!("dev {va}"),
        format!("dev if{va}"),
        format!("dev = if{va}"),
        format!("dev != if{va}"),
        format!("dev if0{va}"),
        format!("dev 0x{va:x}"),
        format!("dev 0{va:o}"),
        format!("dev +{va}"),
        "dev if999".to_owned(),
        "dev if0".to_owned(),
        "dev if".to_owned(),
        "dev ifx".to_owned(),
        format!("dev if0x{va:x}"),
        "dev 0x".to_owned(),
        "dev 3x".to_owned(),
        "dev 4294967296".to_owned(),
        "dev if4294967296".to_owned(),
    ];
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_cases(&table, "-tan", &cases, None);
}

#[test]
fn marks() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "fwmark = 0x10",
            "fwmark 16",
            "fwmark = 020",
            "fwmark = +16",
            "fwmark = 0x10/0xff",
            "fwmark = 0x10/0xf0",
            "fwmark = 0/0",
            "fwmark = 16/16",
            "fwmark != 0x10/0xf0",
            "fwmark == 16",
            "fwmark eq 16",
            "fwmark ne 16",
            "fwmark neq 16",
            "-- fwmark = -1",
            "-- fwmark = 0x10/-16",
            "fwmark = 0x10/",
            "fwmark = /0xff",
            "fwmark > 16",
            "fwmark = zz",
            // ss reads the word after a mark as a mark: "/" is not one (status 1).
            "fwmark = 0x10 /",
            "fwmark = 0x10 2",
        ],
        None,
    );
}

#[test]
fn states_with_a_filter_file() {
    let table = Table::new();
    let file = table.path("filter");
    std::fs::write(&file, "sport = :22 or sport = :5000\n").unwrap();
    let cases: Vec<String> = [
        "-F FILE",
        "state listening -F FILE",
        "-F FILE state listening",
        "state established -F FILE",
        "-F FILE state listening exclude listening",
        "-F FILE excl listening",
        "-F FILE state connected state listening",
        "-F FILE state",
        "-F FILE state nonsense",
    ]
    .iter()
    .map(|case| case.replace("FILE", &file))
    .collect();
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_cases(&table, "-tan", &cases, None);
}

#[test]
fn backslashes_and_comments_in_filter_files() {
    let table = Table::new();
    let files: &[&str] = &[
        "sport = :22 or sport = :5000\n",
        "# a comment line\nsport = :22\n",
        "#comment\nsport = :22\n#another\n",
        "sport = \\:22\n",
        "sport = :2\\2\n",
        "sport = :22\\\n or sport = :5000\n",
        "sport = :22 or\n\nsport = :5000\n",
        "sport = :22\tor\tsport = :5000\n",
        "sport = :22",
        "\n",
        "",
        // Mistakes, with ss's statuses: `#` inside a line is a word, `\#` too; an escaped
        // space joins words; a backslash alone at a line's end is an empty word.
        "sport = :22 # the ssh port\n",
        " # indented\nsport = :22\n",
        "\\# x\n",
        "sport\\ =\\ :22\n",
        "sport = :22 \\\\\n",
        "sport = :22 \\\nor sport = :5000\n",
        "sport = :2\\\n2\n",
        "\"sport = :22\"\n",
        "sport = ':22'\n",
    ];
    let mut cases = Vec::new();
    for (i, content) in files.iter().enumerate() {
        let path = table.path(&format!("filter-{i}"));
        std::fs::write(&path, content).unwrap();
        cases.push(format!("-F {path}"));
    }
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_cases(&table, "-tan", &cases, None);
    // Backslashes on the command line too.
    assert_cases(&table, "-tan", &["sport = \\:22", "sport = :2\\2"], None);
}

#[test]
fn host_names_from_a_hosts_file() {
    let table = Table::new();
    let hosts = table.path("hosts");
    std::fs::write(
        &hosts,
        "127.0.0.1 localhost v4only\n\
         2001:db8::1 v6only\n\
         2001:db8:0:1::1 both\n\
         127.0.0.2 both\n\
         ::1 loop6\n",
    )
    .unwrap();
    // The hosts file is the one read.
    let out = table.run(SOCKSCOPE, &["-Htan", "src", "v6only:7000"], Some(&hosts));
    assert_eq!(
        fold(&text(&out.stdout)),
        "LISTEN 0 4 [2001:db8::1]:7000 [::]:*",
        "{}",
        text(&out.stderr)
    );
    assert_cases(
        &table,
        "-tan",
        &[
            "src v4only",
            "src v6only",
            "src v6only:7000",
            "src inet6:v6only",
            "dst v6only",
            "src both",
            "src inet6:both",
            "src loop6",
            "src inet:v6only",
            "src nosuchhost.invalid",
        ],
        Some(&hosts),
    );
    assert_cases(
        &table,
        "-6 -tan",
        &["src v6only", "src both", "src loop6"],
        Some(&hosts),
    );
    assert_cases(&table, "-4 -tan", &["src v6only", "src both"], Some(&hosts));
}

/// A `FAMILY:` prefix is the family of the operands after it, and the family listed.
#[test]
fn family_prefixes_switch_the_families_listed() {
    let table = Table::new();
    assert_cases(
        &table,
        "-a -A all,!netlink -n",
        &[
            "src inet6:*",
            "src inet:*",
            "src inet6:* or src inet:*",
            "src inet:* or src inet6:*",
            "dst 127.0.0.1 or src inet6:[::1]",
            "src inet6:[::1] or dst inet:127.0.0.1",
            "src inet6:[::1] or dst 127.0.0.1",
            "sport = inet6::8081 or sport = :22",
            "src unix:*",
            "src link:*",
            "sport = :22 or src unix:*",
            "src inet6:* or src unix:*",
            "src vsock:*",
            "! src vsock:*",
        ],
        None,
    );
    for args in [
        "-4 -an",
        "-6 -an",
        "-f inet -an",
        "-tan",
        "-x -t -an",
        "-tn",
        "-un",
    ] {
        assert_cases(
            &table,
            args,
            &["src inet6:*", "src inet:*", "src unix:*"],
            None,
        );
    }
}

#[test]
fn keyword_aliases_and_state_names() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "excl listening",
            "exclude listening",
            "state all excl established",
            "state syn-rcv",
            "state unknown",
            "state Established",
            "state LISTENING",
            // Not aliases: ss reads these as host names (status 1) or state names (255).
            "exc listening",
            "EXCL listening",
            "st established",
            "state estab",
            "state listen",
            "state new-syn-recv",
        ],
        None,
    );
}

#[test]
fn ports_empty_and_wildcards() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "src *:22",
            "src *:*",
            "src *:",
            "src :",
            "src 127.0.0.1:",
            "dst *:5000",
            "sport = *",
            "sport = :*",
            "sport = :",
            "dport = :",
            "sport = inet:",
            "sport = inet:*",
            "sport = inet6:",
            "sport = inet::22",
            "sport = inet:22",
            "sport = :0x16",
            "sport = :026",
            "sport = :+22",
            "sport = :0x",
            "sport = :22x",
            "sport = 127.0.0.1:22",
            "sport = ::22",
            "sport = ssh:22",
        ],
        None,
    );
}

/// ss exits 1 when its lexer cannot read a word as a value of the kind the last keyword takes
/// (an address before any), 255 for a filter that does not parse.
#[test]
fn exit_statuses_of_lexical_errors() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "xyz",
            "/",
            "SPORT = :22",
            "(sport = :22 )",
            "( sport = :22)",
            "sport=:22",
            "!sport = :22",
            "sport = :22 xyz",
            "sport = :22 or xyz",
            "sport = :22 or ( xyz",
            "sport = :22 state listening",
            "dev lo or xyz",
            "dev lo or 127.0.0.1",
            "src 127.0.0.1 xyz",
            "autobound xyz",
            "( xyz",
            "! xyz",
            "state established xyz",
            "src state",
            "src excl",
            // Syntax: a value where a keyword must be, a keyword where a value must be.
            "127.0.0.1",
            "autobound 127.0.0.1",
            "exclude listening 127.0.0.1",
            "sport = :22 22",
            "sport = :22 ) xyz",
            "src sport",
            "src or",
            "src autobound",
            "src not",
            "sport = dport",
            "dev src",
            "src = = 1.2.3.4",
            "sport = :22 and and sport = :1",
            "excl",
            "state listening state",
        ],
        None,
    );
}

/// Words as ss's lexer reads them: a line end inside a command-line word is part of the
/// token (only spaces and tabs separate); `state`, `exclude` and a state's name count only as
/// typed, without a backslash; in a `-F` file a NUL ends its line, and a line that starts with
/// one is an error; `all`, `any` and `default` are any address, as in iproute2.
#[test]
fn words_as_ss_lexes_them() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            r"excl \ESTABLISHED",
            r"state \listening",
            r"\state listening",
            r"\exclude listening",
            r"state listening \excl listening",
            "src all",
            "src any",
            "src default",
            "src all:22",
            "dst any:*",
            "src default/0",
            "src inet6:any",
        ],
        None,
    );
    // Arguments with line ends in them, which assert_cases would split.
    let mut failures = Vec::new();
    for words in [
        &["-tan", "sport = :22\nor sport = :5000"][..],
        &["-tan", "sport\n=", ":22"],
        &["-tan", "sport", "=", ":22\n"],
        &["-tan", "(\nsport = :22 )"],
    ] {
        let ours = table.run(SOCKSCOPE, words, None);
        for ss in references() {
            let theirs = table.run(&ss, words, None);
            if selection(&ours) != selection(&theirs) {
                failures.push(format!("{words:?} differs from {ss}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let files: &[&[u8]] = &[
        b"sport = :22\0 or junk\n",
        b"\0sport = :22\n",
        b"sport = :22\nor\0 (\n sport = :5000\n",
        b"sport = :22\n\0\n",
        b"#\0\nsport = :22\n",
    ];
    let mut cases = Vec::new();
    for (i, content) in files.iter().enumerate() {
        let path = table.path(&format!("nul-{i}"));
        std::fs::write(&path, content).unwrap();
        cases.push(format!("-F {path}"));
    }
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_cases(&table, "-tan", &cases, None);
}

/// IPv4 addresses as iproute2 reads them (each part as strtoul reads it, so `010` is 8 and
/// `0x7f` 127), and, for what it cannot read, as the C library's gethostbyname2 reads a name
/// of digits and dots (`2130706433`, `0177.1`).
#[test]
fn ipv4_addresses_as_iproute2_reads_them() {
    let table = Table::new();
    assert_cases(
        &table,
        "-tan",
        &[
            "src 2130706433",
            "src 017700000001",
            "src 0177.0.0.1",
            "src 010.0.0.1",
            "src 0x7f.0.0.1",
            "src 0x7f.0.0.2/31",
            "src 127.0.0.01",
            "src 0x7f000001",
            "src 0x7f.1",
            "src 08.1",
            "src 127.0.0.256",
            "dst 2130706433/8",
        ],
        None,
    );
}

/// A filter file that cannot be opened: ss says so and exits 255, as sockscope does. A
/// directory, which ss opens and then reads as an empty filter (listing everything), is an
/// error in sockscope, with the same status.
#[test]
fn unreadable_filter_files() {
    let table = Table::new();
    let missing = table.path("missing");
    let not_a_directory = "/etc/hosts/filter";
    let cases = [format!("-F {missing}"), format!("-F {not_a_directory}")];
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_cases(&table, "-tan", &cases, None);
    let ours = table.run(SOCKSCOPE, &["-tan", "-F", "/"], None);
    assert_eq!(ours.status.code(), Some(255), "{}", text(&ours.stderr));
    assert!(ours.stdout.is_empty());
}

/// Where ss's reading is a bug, sockscope does what the filter says (see the README).
#[test]
fn where_sockscope_reads_differently() {
    let table = Table::new();
    let rows = |tool: &str, filter: &str| {
        let mut args = vec!["-Htan"];
        args.extend(filter.split_whitespace());
        let out = table.run(tool, &args, None);
        (fold(&text(&out.stdout)), out.status.code())
    };
    let everything = rows("ss", "").0;
    // `*:PORT` as a port: ss drops the port and lists every socket.
    let (ours, status) = rows(SOCKSCOPE, "sport = *:22");
    assert_eq!(
        (ours.as_str(), status),
        ("LISTEN 0 4 0.0.0.0:22 0.0.0.0:*", Some(0))
    );
    assert_eq!(rows("ss", "sport = *:22").0, everything);
    // A negative port: ss reads -1 as any port.
    assert_eq!(rows(SOCKSCOPE, "sport = :-1").1, Some(1));
    assert_eq!(rows("ss", "sport = :-1").0, everything);
    // A mark with something after its number: ss ignores the rest.
    assert_eq!(rows(SOCKSCOPE, "fwmark = 16x").1, Some(1));
    assert!(rows("ss", "fwmark = 16x").0.contains("127.0.0.2:6000"));
    // `ifN` with something after its digits: ss ignores the rest.
    let va = table.va;
    assert_eq!(rows(SOCKSCOPE, &format!("dev if{va}x")).1, Some(1));
    assert!(rows("ss", &format!("dev if{va}x")).0.contains(":7002"));
    // Families mixed in one filter: the last one is listed; ss crashes.
    let mixed = ["-Han", "src", "unix:*", "or", "src", "inet:*"];
    let ours = table.run(SOCKSCOPE, &mixed, None);
    assert_eq!(ours.status.code(), Some(0), "{}", text(&ours.stderr));
    assert!(text(&ours.stdout).contains("0.0.0.0:22"));
    assert_ne!(table.run("ss", &mixed, None).status.code(), Some(0));
    // A state inside a filter file.
    let file = table.path("states");
    std::fs::write(&file, "state listening\nsport = :22\n").unwrap();
    let (ours, status) = rows(SOCKSCOPE, &format!("-F {file}"));
    assert_eq!(
        (ours.as_str(), status),
        ("0 4 0.0.0.0:22 0.0.0.0:*", Some(0))
    );
    assert_eq!(rows("ss", &format!("-F {file}")).1, Some(1));
}

/// A service name that /etc/services gives for UDP only, with TCP and UDP both listed
/// (`-tu`): the name's port applies to both tables, as ss means it to. ss reads the port from
/// glibc's static result after a second, failed lookup for TCP has overwritten it, and
/// compares with whatever port that left (60179 with Debian's netbase; README, "Where
/// sockscope differs from ss"). Compared with each ss's listing of the port by number.
#[test]
fn a_service_of_one_protocol_names_its_port_for_both() {
    let services = std::fs::read_to_string("/etc/services").unwrap_or_default();
    let udp_only = |name: &str| {
        let entries: Vec<&str> = services
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(name))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        entries == ["7001/udp"]
    };
    if !udp_only("afs3-callback") {
        crate::util::skip("/etc/services does not name 7001/udp alone afs3-callback");
        return;
    }
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let mut keep: Vec<Socket> = ["127.0.0.1:7001", "127.0.0.1:60179"]
            .iter()
            .map(|at| listener(at, |_| {}))
            .collect();
        let udp = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
        udp.bind(&addr("127.0.0.1:7001")).unwrap();
        keep.push(udp);
        keep
    });
    let run = |tool: &str, filter: &str| {
        let mut command = ns.command(tool);
        command.arg("-tuan").arg(filter);
        selection(&run_bounded(&mut command, RUN_LIMIT))
    };
    let ours = run(SOCKSCOPE, "sport = :afs3-callback");
    assert_eq!(ours, run(SOCKSCOPE, "sport = :7001"));
    assert_eq!(ours.0.lines().count(), 3, "{}", ours.0);
    for ss in references() {
        assert_eq!(ours, run(&ss, "sport = :7001"), "{ss}");
        // The README's sentence holds while ss still reads another port.
        let theirs = run(&ss, "sport = :afs3-callback");
        assert_ne!(
            theirs, ours,
            "{ss} reads afs3-callback as 7001 now: update the README"
        );
    }
}

/// A comparison of ports on unix sockets (`-x`): ss reads any word after the operator as a unix
/// name, which has no port, and compares each socket's inode (or its peer's) with -1, so
/// `>=` and `>` list every socket and `<=` and `<` none; sockscope does the same.
#[test]
fn unix_port_comparisons_take_any_word() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        use std::os::linux::net::SocketAddrExt;
        use std::os::unix::net::{UnixListener, UnixStream};
        let name = format!("sockscope-parity-{}", unique());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let client = UnixStream::connect_addr(&addr).unwrap();
        let (server, _) = listener.accept().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        (listener, client, server, a, b)
    });
    let cases = [
        "sport ge :1e3",
        "sport ge :5",
        "dport geq :ssh",
        "dport ge :0",
        "sport le :0",
        "dport le :0",
        "dport > :0",
        "sport < :99999999",
        "sport gt :-5",
        "dport lt :x",
        "sport ge unix:foo",
        "sport = :ssh",
        "dport = :0",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let mut words = vec!["-xan"];
        words.extend(case.split_whitespace());
        let run = |tool: &str| {
            let mut command = ns.command(tool);
            command.args(&words);
            run_bounded(&mut command, RUN_LIMIT)
        };
        let ours = run(SOCKSCOPE);
        for ss in references() {
            let theirs = run(&ss);
            if selection(&ours) != selection(&theirs) {
                failures.push(format!(
                    "`{case}` differs from {ss}:\n{:?}\n{:?}",
                    selection(&theirs),
                    selection(&ours)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `autobound` after a negated condition (`dev != 1 autobound`) keeps both halves of its
/// meaning in sockscope: no socket here is bound to device 1, so it lists what `autobound`
/// alone lists, in each ss. ss's kernel program for the whole lets an explicitly bound socket
/// with a port in the ephemeral range through (README, "Where sockscope differs from ss").
#[test]
fn autobound_after_a_negation() {
    let ns = Netns::new();
    let _sockets = ns.run(|| {
        let listener = listener("127.0.0.1:40000", |_| {});
        let client = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
        client.connect(&addr("127.0.0.1:40000")).unwrap();
        let (server, _) = listener.accept().unwrap();
        vec![listener, client, server]
    });
    let run = |tool: &str, filter: &str| {
        let mut command = ns.command(tool);
        command.arg("-Htan").args(filter.split_whitespace());
        selection(&run_bounded(&mut command, RUN_LIMIT))
    };
    let ours = run(SOCKSCOPE, "dev != 1 autobound");
    assert_eq!(ours, run(SOCKSCOPE, "! dev 1 and autobound"));
    for ss in references() {
        assert_eq!(ours, run(&ss, "autobound"), "{ss}");
        // The README's sentence holds while ss lists more.
        assert_ne!(
            ours,
            run(&ss, "dev != 1 autobound"),
            "{ss} lists as sockscope now"
        );
    }
}

/// `:PORT` is short for `( sport = :PORT or dport = :PORT )` wherever it stands: with states
/// before or after it and beside other conditions. Each short form lists what its long form
/// lists in sockscope and in each ss (which refuses the short forms).
#[test]
fn port_shorthand_as_its_long_form() {
    let table = Table::new();
    let both = |port| format!("( sport = :{port} or dport = :{port} )");
    let cases = [
        (":5000", both(5000)),
        (
            "state established :5000",
            format!("state established {}", both(5000)),
        ),
        (
            ":5000 state established",
            format!("state established {}", both(5000)),
        ),
        (
            ":22 state listening",
            format!("state listening {}", both(22)),
        ),
        (
            "exclude listening :5000",
            format!("exclude listening {}", both(5000)),
        ),
        (":22 or :5000", format!("{} or {}", both(22), both(5000))),
        (
            ":22 or ! :5000",
            format!("{} or ! {}", both(22), both(5000)),
        ),
    ];
    let run = |tool: &str, filter: &str| {
        let words: Vec<&str> = std::iter::once("-tan")
            .chain(filter.split_whitespace())
            .collect();
        selection(&table.run(tool, &words, None))
    };
    let mut failures = Vec::new();
    for (short, long) in &cases {
        let ours = run(SOCKSCOPE, short);
        let long_ours = run(SOCKSCOPE, long);
        if ours != long_ours || ours.1 != Some(0) || ours.0.lines().count() < 2 {
            failures.push(format!("`{short}`: {ours:?}, `{long}`: {long_ours:?}"));
        }
        for ss in references() {
            let theirs = run(&ss, long);
            if theirs != ours {
                failures.push(format!("`{short}`: {ours:?}, {ss} `{long}`: {theirs:?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
