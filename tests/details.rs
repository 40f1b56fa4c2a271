//! The detail flags: -e -m -o -i -O --tos --cgroup --inet-sockopt, against ss. Values that
//! move between the two runs (time left on timers, time since the last packet, time spent
//! busy) are compared by shape; everything else exactly.

use serde_json::Value;

use crate::util::fixture::DetailTable;
use crate::util::{Both, RichTable, SOCKSCOPE, still, text};

fn assert_same(ns: &crate::util::Netns, cases: &[&str], exact: bool) {
    let mut failures = Vec::new();
    for case in cases {
        let args: Vec<&str> = case.split_whitespace().collect();
        // A connection that retransmits changes its counters now and then; a few tries give
        // both tools the same moment.
        let mut both = Both::run(ns, &args);
        for _ in 0..4 {
            let (ss, ours) = (text(&both.ss.stdout), text(&both.ours.stdout));
            let same = if exact {
                ss == ours
            } else {
                still(&ss) == still(&ours)
            };
            if same {
                break;
            }
            both = Both::run(ns, &args);
        }
        if !both.ss.status.success() || !both.ours.status.success() {
            failures.push(format!(
                "`{case}`: ss exited with {:?}, sockscope with {:?} ({})",
                both.ss.status,
                both.ours.status,
                text(&both.ours.stderr)
            ));
            continue;
        }
        let (ss, ours) = if exact {
            (text(&both.ss.stdout), text(&both.ours.stdout))
        } else {
            (
                still(&text(&both.ss.stdout)),
                still(&text(&both.ours.stdout)),
            )
        };
        let mismatch = (ss != ours).then(|| {
            let differing: Vec<String> = ss
                .lines()
                .zip(ours.lines())
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("ss:        {a:?}\nsockscope: {b:?}"))
                .collect();
            if ss.lines().count() != ours.lines().count() {
                return format!("`{case}`:\n--- ss\n{ss}\n--- sockscope\n{ours}");
            }
            format!("`{case}`:\n{}", differing.join("\n"))
        });
        failures.extend(mismatch);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Without timers in view the output is the same byte for byte.
#[test]
fn extended_memory_tos_cgroup_and_options_match_ss() {
    let table = DetailTable::new();
    assert_same(
        &table.ns,
        &[
            "-tane state listening",
            "-tanm state listening",
            "-tan --tos",
            "-tan6 --tos",
            "-tan --cgroup",
            "-tan --inet-sockopt",
            "-tanO --inet-sockopt -m state listening",
            "-xae",
            "-xam",
            "-xaem",
            "-uam",
            "-tanem state listening",
            "-tan -e --tos --cgroup state listening",
        ],
        true,
    );
}

/// With timers and tcp_info, what moves between two runs is compared by shape.
#[test]
fn timers_and_tcp_info_match_ss() {
    let table = DetailTable::new();
    assert_same(
        &table.ns,
        &[
            "-tane",
            "-tano",
            "-tanm",
            "-tanem",
            "-tanO -e -m",
            "-tani",
            "-ti",
            "-tanie",
            "-taniom",
            "-tanimO",
            "-tiom",
            "-uaem",
            "-a -A inet,unix -emoO --tos --cgroup",
        ],
        false,
    );
}

/// The reference table too: TIME-WAIT, SYN-SENT and SYN-RECV sockets, a bound device, IPv6.
#[test]
fn the_reference_table_with_details() {
    let table = RichTable::new();
    assert_same(
        &table.ns,
        &["-tanemo", "-tanmi", "-uaem", "-xaem", "-a -A inet,unix -eO"],
        false,
    );
}

/// `-i` field by field: every `name:value` ss prints for a connection, sockscope prints with
/// the same value (the moving ones by shape), in the same order.
#[test]
fn tcp_info_field_by_field() {
    let table = DetailTable::new();
    let fields = |program: &str| -> Vec<Vec<String>> {
        let out = table.ns.output(program, &["-tniH", "state", "established"]);
        text(&out.stdout)
            .lines()
            .filter(|l| l.starts_with('\t'))
            .map(|l| still(l).split(' ').map(str::to_owned).collect())
            .collect()
    };
    // The stuck sender retransmits now and then (0.2 s, 0.6 s, 1.4 s, ... after it stalled),
    // which moves its counters and its peer's: a difference counts unless ss, run once more,
    // shows that they moved (five tries at most).
    let mut tries = 0;
    let (ss, ours) = loop {
        tries += 1;
        let (ss, ours) = (fields("ss"), fields(SOCKSCOPE));
        if ss == ours || tries == 5 || fields("ss") == ss {
            break (ss, ours);
        }
    };
    assert!(ss.len() >= 8, "{ss:?}");
    assert_eq!(ss.len(), ours.len());
    for (ss, ours) in ss.iter().zip(&ours) {
        assert_eq!(ss, ours);
    }
    let seen: Vec<&str> = ss.iter().flatten().map(String::as_str).collect();
    for expected in [
        "cubic",
        "reno",
        "bbr",
        "busy:",
        "delivery_rate",
        "rcv_rtt:",
        "notsent:",
    ] {
        assert!(
            seen.iter().any(|f| f.starts_with(expected)),
            "no {expected} in {seen:?}"
        );
    }
}

/// The details as JSON: the same numbers as the table, in natural units.
#[test]
fn details_as_json() {
    let table = DetailTable::new();
    let out = table.ns.output(
        SOCKSCOPE,
        &["-tanjeimo", "--tos", "--cgroup", "--inet-sockopt"],
    );
    let records: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let port = |r: &Value| r["local_port"].as_u64().unwrap();
    let find = |p: u64| records.iter().find(|r| port(r) == p).unwrap();

    let marked = find(6000);
    assert_eq!(marked["mark"], 0x42);
    assert_eq!(marked["tos"], 0x10);
    assert_eq!(marked["class_id"], 3);
    assert_eq!(marked["shutdown"]["send"], false);
    assert!(
        marked["cookie"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_hexdigit())
    );
    assert_eq!(find(6001)["tclass"], 0x20);
    assert_eq!(find(7003)["uid"], 65534);
    let options: Vec<&str> = find(7002)["inet_sockopt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(
        options,
        [
            "recverr",
            "is_icsk",
            "freebind",
            "mc_loop",
            "transparent",
            "mc_all",
            "bind_addr_no_port"
        ]
    );

    let keepalive = records
        .iter()
        .find(|r| r["timer"]["name"] == "keepalive")
        .expect("a keepalive timer");
    assert!(keepalive["timer"]["expires_ms"].as_u64().unwrap() > 60_000);

    // tcp_info agrees with the table ss prints.
    let ss = text(
        &table
            .ns
            .output("ss", &["-tniH", "state", "established"])
            .stdout,
    );
    let bbr = records
        .iter()
        .find(|r| r["tcp_info"]["congestion"] == "bbr" && r["tcp_info"]["bytes_sent"] == 400_000)
        .expect("the bbr client");
    let info = &bbr["tcp_info"];
    let line = ss
        .lines()
        .skip_while(|l| !l.contains(&format!(":{} ", port(bbr))))
        .nth(1)
        .expect("the bbr client in ss");
    let value = |name: &str| -> String {
        line.split_whitespace()
            .find_map(|f| f.strip_prefix(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {line}"))
            .to_owned()
    };
    assert_eq!(value("bytes_sent"), "400000");
    assert_eq!(value("cwnd"), info["snd_cwnd"].to_string());
    assert_eq!(value("mss"), info["snd_mss"].to_string());
    let rtt = info["rtt_us"].as_f64().unwrap() / 1000.0;
    assert!(
        value("rtt").starts_with(&format!("{rtt}")),
        "{} vs {rtt}",
        value("rtt")
    );
    assert!(info["bbr"]["bw_bps"].as_u64().is_some());
    assert_eq!(info["options"], serde_json::json!(["ts", "sack", "wscale"]));
    let skmem = &bbr["skmem"];
    assert!(skmem["rcvbuf"].as_u64().unwrap() > 0);
    assert!(skmem.get("drops").is_some());

    let unix = table.ns.output(SOCKSCOPE, &["-xajem"]);
    let unix: Vec<Value> = serde_json::from_slice(&unix.stdout).unwrap();
    let listener = unix.iter().find(|r| r["state"] == "LISTEN").unwrap();
    assert_eq!(listener["peers"].as_array().unwrap().len(), 2);
    assert!(listener["vfs"]["inode"].as_u64().unwrap() > 0);
}
