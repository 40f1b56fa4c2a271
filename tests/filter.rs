//! The filter language: sockscope must select exactly the sockets ss selects.

use crate::util::{Both, RichTable, SOCKSCOPE, assert_all_same, fold, text};

/// Runs each filter (split into words, as a shell would pass them unquoted) after `args` on
/// both tools and reports every difference at once.
fn assert_filters_match(table: &RichTable, args: &str, filters: &[&str]) {
    let cases: Vec<String> = filters.iter().map(|f| format!("{args} {f}")).collect();
    let cases: Vec<&str> = cases.iter().map(String::as_str).collect();
    assert_all_same(&table.ns, &cases, &[], Both::mismatch);
}

#[test]
fn port_predicates_and_operator_spellings() {
    let table = RichTable::new();
    assert_filters_match(
        &table,
        "-tan",
        &[
            "sport = :22",
            "sport == :5000",
            "sport eq :5000",
            "sport :5000",
            "sport = 5000",
            "dport != :5000",
            "dport ne :5000",
            "dport neq :5000",
            "sport > :8000",
            "sport gt :8000",
            "sport >= :8080",
            "sport ge :8080",
            "sport geq :8080",
            "sport < :1000",
            "sport lt :1000",
            "sport <= :631",
            "sport le :631",
            "sport leq :631",
            "dport >= :5000 and dport <= :5001",
            "sport = :0x16",
            "sport = :+22",
        ],
    );
    assert_filters_match(
        &table,
        "-ta",
        &["sport = :ssh", "sport = ssh", "sport = :bbs"],
    );
    assert_filters_match(
        &table,
        "-uan",
        &[
            "dport = :domain",
            "sport = :mdns",
            "sport = :53 or sport = :5353",
        ],
    );
}

#[test]
fn address_predicates() {
    let table = RichTable::new();
    assert_filters_match(
        &table,
        "-tan",
        &[
            "dst 127.0.0.1",
            "dst = 127.0.0.1",
            "dst == 127.0.0.1",
            "dst eq 127.0.0.1",
            "dst 127.0.0.1:5000",
            "src 127.0.0.0/8",
            "src 127/8",
            "src 127.0.0/24",
            "dst 10.9.0/24",
            "src 10.9.0.1/32:5002",
            "src 0.0.0.0",
            "src 0/0",
            "src *",
            "src *:22",
            "src :22",
            "src 127.0.0.1:",
            "dst [::1]",
            "dst [::1]:5001",
            "src [::]",
            "src [::/0]",
            "src [::1/128]",
            "src [fe80::/64]",
            "src inet:*",
            "src inet6:*",
            "dst inet:127.0.0.1",
            "dst inet6:[::1]",
            "dst [::ffff:127.0.0.1]",
            "src 127.0.0.1:8080",
            "src localhost",
            "src localhost:55000",
        ],
    );
    assert_filters_match(
        &table,
        "-uan",
        &["src 0.0.0.0", "dst [::1]", "src *:5353", "dst 127.0.0.1:53"],
    );
    assert_filters_match(&table, "-wan", &["sport = :1", "src inet6:*", "src inet:*"]);
    assert_filters_match(&table, "-6 -tan", &["src [::]", "src *"]);
    assert_filters_match(&table, "-4 -tan", &["src *", "dst 127.0.0.1"]);
}

#[test]
fn device_mark_and_autobound() {
    let table = RichTable::new();
    assert_filters_match(
        &table,
        "-tan",
        &[
            "dev = lo",
            "dev lo",
            "dev == lo",
            "dev != lo",
            "dev = va",
            "dev = 1",
            "dev = 0",
            "fwmark = 0x10",
            "fwmark = 16",
            "fwmark = 0x10/0xf0",
            "fwmark != 0x10",
            "fwmark = 0",
            "autobound",
            "not autobound",
            "autobound or sport = :22",
        ],
    );
    assert_filters_match(&table, "-xa", &["autobound", "! autobound"]);
}

#[test]
fn operators_nesting_and_left_to_right_evaluation() {
    let table = RichTable::new();
    assert_filters_match(
        &table,
        "-tan",
        &[
            // ss reads and/or left to right: this is ( 22 or 5000 ) and 127.0.0.1.
            "sport = :22 or sport = :5000 and src 127.0.0.1",
            "sport = :5000 and src 127.0.0.1 or sport = :22",
            "sport = :22 or ( sport = :5000 and src 127.0.0.1 )",
            "sport = :5000 dport = :0",
            "sport = :22 || sport = :631",
            "sport = :22 | sport = :631",
            "sport = :22 && src 0.0.0.0",
            "sport = :22 & src 0.0.0.0",
            "! sport = :22",
            "not sport = :22",
            "! ! sport = :22",
            "not sport = :5000 or sport = :5000",
            "! ( sport = :22 or sport = :5000 )",
            "( sport = :22 or sport = :5000 ) and ( src 0.0.0.0 or dport = :0 )",
            "( ( sport = :631 ) )",
            "not ( dst 127.0.0.1 and dport >= :1024 ) and not src [::1]",
            "src 127.0.0.1 not sport = :5000 or dev = lo",
        ],
    );
}

#[test]
fn state_filters() {
    let table = RichTable::new();
    assert_filters_match(
        &table,
        "-tan",
        &[
            "state listening",
            "state established",
            "state ESTABLISHED",
            "state Syn-Recv",
            "state syn-sent",
            "state time-wait",
            "state fin-wait-2",
            "state close-wait",
            "state closed",
            "state close",
            "state unconnected",
            "state connected",
            "state synchronized",
            "state bucket",
            "state big",
            "state all",
            "state established state listening",
            "exclude listening",
            "state all exclude established",
            "state listening exclude listening",
            "state established ( dport = :5000 or sport = :5000 )",
            "state listening sport < :1000",
        ],
    );
    assert_filters_match(&table, "-ua", &["state established", "state closed"]);
    assert_filters_match(&table, "-a", &["state listening"]);
    assert_filters_match(&table, "-x", &["state listening", "exclude established"]);
}

/// Filters every match of which has one port: sockscope sends that port in the request's
/// socket id as well as in the bytecode, and the kernel compares it first. These check that
/// its comparison keeps every socket ss lists, in every state, over both requests for the TCP
/// table (one walk for both IP versions, or one per version) and for UDP.
#[test]
fn ports_every_match_has() {
    let table = RichTable::new();
    let tcp = [
        "dport = :5000",
        "sport = :5000",
        "sport = :5001",
        "dport = :5001",
        "sport = :5002",
        "sport = :8080",
        "dport = :8080",
        "src 127.0.0.1:5000",
        "dport = :5000 and sport >= :1024",
        "( dport = :5000 or dport = :5000 ) and src 127.0.0.1",
        "dport = :5000 or dport = :5001",
        "sport = :5000 and dport = :5000",
        "sport = :22 and not dport = :22",
    ];
    for args in ["-tan", "-4tan", "-6tan", "-tan state time-wait"] {
        assert_filters_match(&table, args, &tcp);
    }
    assert_filters_match(
        &table,
        "-uan",
        &["dport = :53", "sport = :53", "sport = :5353"],
    );
}

#[test]
fn unix_names_match_as_globs() {
    let table = RichTable::new();
    let dir = table.dir.display().to_string();
    let under_dir = format!("src {dir}/*");
    let upper = format!("src unix:{}/*", dir.to_uppercase());
    assert_filters_match(
        &table,
        "-xa",
        &[
            "src *app.sock",
            "src *APP*",
            &under_dir,
            &upper,
            "src @sockscope*",
            "src @with@nul",
            "src *",
            "dst *",
            "dst @*",
            "sport > :0",
            "src *dg.sock or src @sockscope-seq",
        ],
    );
    assert_filters_match(&table, "-a -A inet,unix", &["src unix:*app*", "src inet:*"]);
}

/// A filter given as one quoted word, and from a file or standard input with -F.
#[test]
fn filter_sources() {
    let table = RichTable::new();
    let both = Both::run(&table.ns, &["-tan", "( dport = :5000 or sport = :5000 )"]);
    assert!(both.mismatch().is_none(), "{}", both.mismatch().unwrap());
    let file = table.path("filter");
    std::fs::write(
        &file,
        "# the article's port\nsport = :55000\n  or\nsport = :22\n",
    )
    .unwrap();
    let from_file = table.ns.output(SOCKSCOPE, &["-tan", "-F", &file]);
    let from_args = table
        .ns
        .output(SOCKSCOPE, &["-tan", "sport = :55000 or sport = :22"]);
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    crate::eqnice!(text(&from_args.stdout), text(&from_file.stdout));
    let script = format!("echo 'sport = :22' | {SOCKSCOPE} -tanH -F -");
    let from_stdin = table.ns.output("bash", &["-c", &script]);
    assert!(text(&from_stdin.stdout).contains("0.0.0.0:22"));
    assert_eq!(text(&from_stdin.stdout).lines().count(), 1);
    let both_ways = table
        .ns
        .output(SOCKSCOPE, &["-tan", "-F", &file, "sport = :22"]);
    assert_eq!(both_ways.status.code(), Some(255));
}

/// Exit statuses as ss's, and one line saying what is wrong and where.
#[test]
fn malformed_filters() {
    let table = RichTable::new();
    let cases: &[(&str, i32, &str)] = &[
        (
            "( dport = :22",
            255,
            "sockscope: filter: this \"(\" is never closed at 1:1\n",
        ),
        (
            "dport = :22 )",
            255,
            "sockscope: filter: unexpected \")\" at 1:13\n",
        ),
        (
            "( dport = )",
            255,
            "sockscope: filter: expected a port after \"dport =\", got \")\" at 1:11\n",
        ),
        (
            "sport = :22 or",
            255,
            "sockscope: filter: expected an expression after \"or\", got the end of the filter\n",
        ),
        ("127.0.0.1", 255, ""),
        ("dst != 127.0.0.1", 255, ""),
        ("( )", 255, ""),
        (
            "state nonsense",
            255,
            "sockscope: wrong state name: nonsense\n",
        ),
        ("state", 255, ""),
        (
            "dst 1.2.3.4.5",
            1,
            "sockscope: filter: \"1.2.3.4.5\" is not an IPv4 address at 1:5\n",
        ),
        ("dst 127.0.0.1/33", 1, ""),
        ("dst ::1", 1, ""),
        (
            "src inet6:127.0.0.1",
            1,
            "sockscope: filter: \"127.0.0.1\" is an IPv4 address, where the filter's family is \
             IPv6 at 1:5\n",
        ),
        ("dst inet:[::1]:22", 1, ""),
        ("dport = :nosuchservice", 1, ""),
        (
            "dport = :99999",
            1,
            "sockscope: filter: port 99999 is out of range (0 to 65535) at 1:9\n",
        ),
        (
            "dev = nosuchdevice",
            1,
            "sockscope: filter: no network device \"nosuchdevice\" at 1:7\n",
        ),
        ("fwmark = zz", 1, ""),
        ("cgroup = /no/such/cgroup", 1, ""),
    ];
    let mut failures = Vec::new();
    for (filter, status, message) in cases {
        let mut args = vec!["-tan"];
        args.extend(filter.split_whitespace());
        let out = table.ns.output(SOCKSCOPE, &args);
        let stderr = text(&out.stderr);
        let ok = out.status.code() == Some(*status)
            && stderr.lines().count() == 1
            && stderr.starts_with("sockscope: ")
            && (message.is_empty() || stderr == *message)
            && out.stdout.is_empty();
        if !ok {
            failures.push(format!(
                "{filter:?}: status {:?}, stderr {stderr:?}",
                out.status.code()
            ));
        }
        // ss agrees on the status, except where it accepts what we refuse (a port above
        // 65535, which it silently truncates).
        if !filter.contains("99999") {
            let ss = table.ns.output("ss", &args);
            if ss.status.code() != Some(*status) {
                failures.push(format!("{filter:?}: ss exits with {:?}", ss.status.code()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_output_is_filtered_too() {
    let table = RichTable::new();
    let out = table.ns.output(
        SOCKSCOPE,
        &["--json", "-tan", "sport = :55000 or sport = :22"],
    );
    let records: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ports: Vec<u64> = records
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["local_port"].as_u64().unwrap())
        .collect();
    assert!(!ports.is_empty());
    assert!(ports.iter().all(|&p| p == 55000 || p == 22), "{ports:?}");
}

/// The kernel lists a bound, idle TCP socket only when asked for bound-inactive sockets.
#[test]
fn bound_inactive_sockets() {
    let table = RichTable::new();
    for args in [&["-tnB"][..], &["-tn", "state", "bound-inactive"]] {
        let out = table.ns.output(SOCKSCOPE, args);
        let listing = text(&out.stdout);
        assert!(
            listing.contains("127.0.0.1:55001"),
            "{args:?} does not show the idle socket:\n{listing}"
        );
        assert!(
            !listing.contains("LISTEN") && !listing.contains("ESTAB"),
            "{listing}"
        );
    }
    let all = text(&table.ns.output(SOCKSCOPE, &["-tan"]).stdout);
    assert!(!all.contains(":55001"), "{all}");
}

/// Where sockscope chooses to differ from ss: ss compares addresses bit by bit without looking
/// at their family when it filters in user space (always for /proc tables, and under `not`),
/// so in ss `src 0.0.0.0` lists IPv6 sockets whose address starts with 32 zero bits and
/// `not src [::]` hides `0.0.0.0:22`. sockscope applies the kernel's rule everywhere: an
/// address matches its own family (and an IPv4 address the IPv4-mapped form of itself).
#[test]
fn addresses_match_their_own_family_only() {
    let table = RichTable::new();
    let raw = text(
        &table
            .ns
            .output(SOCKSCOPE, &["-Hwan", "src", "0.0.0.0"])
            .stdout,
    );
    assert_eq!(fold(&raw), "UNCONN 0 0 0.0.0.0:1 0.0.0.0:*");
    let ss_raw = text(&table.ns.output("ss", &["-Hwan", "src", "0.0.0.0"]).stdout);
    assert!(
        ss_raw.contains("*:58"),
        "ss no longer lists the IPv6 raw socket:\n{ss_raw}"
    );

    let not_any6 = text(
        &table
            .ns
            .output(SOCKSCOPE, &["-Htan", "not", "src", "[::]"])
            .stdout,
    );
    assert!(not_any6.contains("0.0.0.0:22 "), "{not_any6}");
    assert!(!not_any6.contains("[::]:8081"), "{not_any6}");
}

/// The reference table's sockets belong to this test process's cgroup v2.
#[test]
fn cgroup_filter() {
    let table = RichTable::new();
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap();
    let path = own
        .lines()
        .find_map(|line| line.strip_prefix("0::"))
        .expect("this test runs in a cgroup v2 hierarchy");
    let mounted = std::fs::read_to_string("/proc/self/mounts")
        .unwrap()
        .lines()
        .any(|line| line.split_whitespace().nth(2) == Some("cgroup2"));
    let run = |filter: &str| {
        let mut args = vec!["-Htan"];
        args.extend(filter.split_whitespace());
        table.ns.output(SOCKSCOPE, &args)
    };
    if !mounted {
        let out = run(&format!("cgroup = {path}"));
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(
            text(&out.stderr),
            "sockscope: filter: no cgroup2 file system is mounted at 1:10\n"
        );
        return;
    }
    let all = fold(&text(&table.ns.output(SOCKSCOPE, &["-Htan"]).stdout));
    let inside = fold(&text(&run(&format!("cgroup = {path}")).stdout));
    let outside = fold(&text(&run(&format!("cgroup != {path}")).stdout));
    let mut together: Vec<&str> = inside.lines().chain(outside.lines()).collect();
    let mut everything: Vec<&str> = all.lines().collect();
    together.sort();
    everything.sort();
    assert_eq!(
        together, everything,
        "inside:\n{inside}\noutside:\n{outside}"
    );
    // Full sockets belong to the cgroup that made them; the kernel's minisockets (TIME-WAIT,
    // SYN-RECV, an orphan's FIN-WAIT-2) belong to none.
    for line in all
        .lines()
        .filter(|l| l.starts_with("LISTEN") || l.starts_with("ESTAB"))
    {
        assert!(inside.contains(line), "{line} is not in {path}:\n{inside}");
    }
}
