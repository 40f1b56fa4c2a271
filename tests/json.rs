//! `--json`: the same rows as the table, as data.

use serde_json::{Map, Value};

use crate::util::{Keys, RichTable, SOCKSCOPE, TempDir, fold, text};

fn records(table: &RichTable, args: &[&str]) -> Vec<Map<String, Value>> {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = table.ns.output(SOCKSCOPE, &all);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let value: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&out.stdout)));
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|record| record.as_object().expect("an object").clone())
        .collect()
}

fn string<'a>(record: &'a Map<String, Value>, key: &str) -> &'a str {
    record[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {record:?}"))
}

fn integer(record: &Map<String, Value>, key: &str) -> u64 {
    record[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} is not an integer in {record:?}"))
}

/// The row ss prints with `-n` for a record, white space folded.
fn row(record: &Map<String, Value>, netid: bool, state: bool) -> String {
    let mut cells = Vec::new();
    if netid {
        cells.push(string(record, "netid").to_owned());
    }
    if state {
        cells.push(string(record, "state").to_owned());
    }
    cells.push(integer(record, "recv_q").to_string());
    cells.push(integer(record, "send_q").to_string());
    if record.contains_key("local_address") {
        let v6only = record["v6only"].as_bool().expect("v6only is a boolean");
        let host = |key: &str| {
            let address = string(record, key);
            match address {
                "::" if !v6only => "*".to_owned(),
                a if a.contains(':') => format!("[{a}]"),
                a => a.to_owned(),
            }
        };
        let port = |key: &str| match integer(record, key) {
            0 => "*".to_owned(),
            p => p.to_string(),
        };
        let device = match &record["interface"] {
            Value::Null => String::new(),
            Value::String(name) => format!("%{name}"),
            other => panic!("interface is {other:?}"),
        };
        cells.push(format!(
            "{}{device}:{}",
            host("local_address"),
            port("local_port")
        ));
        cells.push(format!("{}:{}", host("peer_address"), port("peer_port")));
    } else {
        let path = match &record["path"] {
            Value::Null => "*",
            Value::String(path) => path,
            other => panic!("path is {other:?}"),
        };
        cells.push(format!("{path} {}", integer(record, "inode")));
        cells.push(format!("* {}", integer(record, "peer_inode")));
    }
    cells.join(" ")
}

/// For each listing, the records rebuilt into rows are ss's rows, in ss's order.
#[test]
fn records_are_the_rows_of_the_table() {
    let table = RichTable::new();
    for args in [
        "-an -A inet,unix",
        "-tan",
        "-uln",
        "-xn",
        "-n",
        "-tn -6",
        "-wan",
    ] {
        let args: Vec<&str> = args.split_whitespace().collect();
        let ss = text(&table.ns.output("ss", &args).stdout);
        let mut lines = ss.lines();
        let header = lines.next().expect("a header");
        let (netid, state) = (header.starts_with("Netid"), header.contains("State"));
        let expected: Vec<String> = lines.map(fold).collect();
        let got: Vec<String> = records(&table, &args)
            .iter()
            .map(|record| row(record, netid, state))
            .collect();
        crate::eqnice!(expected.join("\n"), got.join("\n"));
    }
}

/// The base schema: these keys, in this order. Later versions may add keys, never rename or
/// remove one.
#[test]
fn the_schema_is_stable() {
    let table = RichTable::new();
    let out = table
        .ns
        .output(SOCKSCOPE, &["--json", "-a", "-A", "inet,unix"]);
    let all: Vec<Keys> = serde_json::from_slice(&out.stdout).unwrap();
    let netids: Vec<Value> = serde_json::from_slice::<Vec<Map<String, Value>>>(&out.stdout)
        .unwrap()
        .into_iter()
        .map(|r| r["netid"].clone())
        .collect();
    let keys = |netid: &str| -> Vec<String> {
        let at = netids
            .iter()
            .position(|n| n == netid)
            .unwrap_or_else(|| panic!("no {netid} record"));
        all[at].0.clone()
    };
    // Every record begins alike; the address keys follow.
    let common = ["netid", "state", "recv_q", "send_q", "inode", "family"];
    let inet = [
        &common[..],
        &[
            "local_address",
            "local_port",
            "peer_address",
            "peer_port",
            "interface",
            "v6only",
        ],
    ]
    .concat();
    let unix = [&common[..], &["path", "peer_inode"]].concat();
    assert_eq!(keys("tcp"), inet);
    assert_eq!(keys("udp"), inet);
    assert_eq!(keys("raw"), inet);
    assert_eq!(keys("u_str"), unix);
    assert_eq!(keys("u_dgr"), unix);
}

#[test]
fn values_are_typed_and_unpadded() {
    let table = RichTable::new();
    let all = records(&table, &["-a", "-A", "inet,unix"]);
    let find = |pred: &dyn Fn(&Map<String, Value>) -> bool| {
        all.iter()
            .find(|r| pred(r))
            .expect("a matching record")
            .clone()
    };
    let port = |r: &Map<String, Value>| r.get("local_port").cloned().unwrap_or(Value::Null);
    let article = find(&|r| port(r) == 55000 && r["state"] == "LISTEN");
    assert_eq!(article["recv_q"], 2);
    assert_eq!(article["send_q"], 5);
    assert_eq!(article["local_address"], "127.0.0.1");
    assert_eq!(article["peer_address"], "0.0.0.0");
    assert_eq!(article["peer_port"], 0);
    assert_eq!(article["family"], "inet");
    assert_eq!(article["interface"], Value::Null);
    let dual = find(&|r| port(r) == 8080);
    assert_eq!(dual["local_address"], "::");
    assert_eq!(dual["v6only"], false);
    let scoped = find(&|r| port(r) == 9000);
    assert_eq!(scoped["local_address"], "fe80::1");
    assert_eq!(scoped["interface"], "va");
    let abstract_name = find(&|r| r.get("path") == Some(&Value::from("@with@nul")));
    assert_eq!(abstract_name["netid"], "u_dgr");
    let unnamed = find(&|r| r["netid"] == "u_str" && r.get("path") == Some(&Value::Null));
    assert!(unnamed["inode"].as_u64().unwrap() > 0);
}

#[test]
fn an_empty_listing_is_an_empty_array() {
    let table = RichTable::new();
    let out = table
        .ns
        .output(SOCKSCOPE, &["--json", "-A", "unix_seqpacket"]);
    assert_eq!(text(&out.stdout), "[]\n");
}

/// Names that are not UTF-8 (a unix path, an abstract name, an interface name) come as text
/// with U+FFFD and, beside it, as their exact bytes in `path_bytes` / `interface_bytes`.
#[test]
fn names_that_are_not_utf8_keep_their_bytes() {
    use std::ffi::OsStr;
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};

    let ns = crate::util::Netns::new();
    let device: &[u8] = b"nu\xff\xfe";
    let out = crate::util::netns::run_bounded(
        ns.command("ip")
            .args(["link", "add", "name"])
            .arg(OsStr::from_bytes(device))
            .args(["type", "veth", "peer", "name", "nu-peer"]),
        std::time::Duration::from_secs(20),
    );
    assert!(out.status.success(), "ip link add: {}", text(&out.stderr));
    let dir = TempDir::new("json");
    let path = dir.join(OsStr::from_bytes(b"s\xff.sock"));
    let abstract_name: &[u8] = b"ab\xffc";
    let sockets = ns.run(|| {
        let at_path = UnixDatagram::bind(&path).expect("bind the unix path");
        let named =
            UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(abstract_name).unwrap())
                .expect("bind the abstract name");
        let udp = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::UDP),
        )
        .unwrap();
        udp.bind_device(Some(device)).expect("SO_BINDTODEVICE");
        udp.bind(&std::net::SocketAddr::from(([0, 0, 0, 0], 47001)).into())
            .unwrap();
        (at_path, named, udp)
    });
    let out = ns.output(SOCKSCOPE, &["--json", "-a", "-A", "unix_dgram,udp"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let all: Vec<Map<String, Value>> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&out.stdout)));
    let bytes = |record: &Map<String, Value>, key: &str| -> Vec<u8> {
        record[key]
            .as_array()
            .unwrap_or_else(|| panic!("{key} is not an array in {record:?}"))
            .iter()
            .map(|b| b.as_u64().expect("a byte") as u8)
            .collect()
    };
    let path_bytes = path.as_os_str().as_bytes();
    let at_path = all
        .iter()
        .find(|r| r.contains_key("path_bytes") && bytes(r, "path_bytes") == path_bytes)
        .unwrap_or_else(|| panic!("no record with the path's bytes in {all:?}"));
    assert_eq!(
        at_path["path"],
        String::from_utf8_lossy(path_bytes).as_ref()
    );
    let mut expected_abstract = b"@".to_vec();
    expected_abstract.extend_from_slice(abstract_name);
    assert!(
        all.iter()
            .any(|r| r.contains_key("path_bytes") && bytes(r, "path_bytes") == expected_abstract),
        "no record with the abstract name's bytes in {all:?}"
    );
    let udp = all
        .iter()
        .find(|r| r.get("local_port") == Some(&Value::from(47001)))
        .expect("the UDP socket");
    assert_eq!(bytes(udp, "interface_bytes"), device);
    assert_eq!(udp["interface"], String::from_utf8_lossy(device).as_ref());
    // A UTF-8 name has no bytes field: the schema of everything else is unchanged.
    for record in &all {
        if let Some(Value::String(path)) = record.get("path") {
            assert_eq!(
                record.contains_key("path_bytes"),
                path.contains('\u{fffd}'),
                "{record:?}"
            );
        }
    }
    drop(sockets);
}
