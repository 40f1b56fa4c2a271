//! `--json`: the same rows as the table, as data.

use serde_json::{Map, Value};

use crate::util::{RichTable, SOCKSCOPE, fold, text};

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

/// The keys of a JSON object, in the order they were written.
pub struct Keys(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
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
    let inet = [
        "netid",
        "state",
        "recv_q",
        "send_q",
        "inode",
        "family",
        "local_address",
        "local_port",
        "peer_address",
        "peer_port",
        "interface",
        "v6only",
    ];
    let unix = [
        "netid",
        "state",
        "recv_q",
        "send_q",
        "inode",
        "family",
        "path",
        "peer_inode",
    ];
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
