//! `-D` and `--from-dump` (ss's `TCPDIAG_FILE`): dumps of the TCP table go from one tool to
//! the other and read back as the live table; bad dumps are one clear error.

use std::fs::File;
use std::process::{Output, Stdio};

use crate::util::netns::{RUN_LIMIT, run_bounded};
use crate::util::{RichTable, SOCKSCOPE, reference::comparable, text};

/// `program ARGS` in the table's namespace, with `env`.
fn run_in(table: &RichTable, program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = table.ns.command(program);
    command.args(args).envs(env.iter().copied());
    run_bounded(&mut command, RUN_LIMIT)
}

fn words(case: &str) -> Vec<&str> {
    case.split_whitespace().collect()
}

/// Asserts both outputs are alike, byte for byte and in status, showing both when not.
fn same(what: &str, expected: &Output, got: &Output) -> Option<String> {
    let (e, g) = (text(&expected.stdout), text(&got.stdout));
    if comparable(&e) == comparable(&g) && expected.status.code() == got.status.code() {
        return None;
    }
    Some(format!(
        "{what}:\n--- expected ({:?})\n{}--- got ({:?})\n{}{}",
        expected.status.code(),
        text(&expected.stdout),
        got.status.code(),
        text(&got.stdout),
        text(&got.stderr)
    ))
}

fn assert_none(failures: Vec<Option<String>>) {
    let failures: Vec<String> = failures.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The messages of a dump: (type, length) of each, in order.
fn framing(bytes: &[u8]) -> Vec<(u16, u32)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 16 <= bytes.len() {
        let len = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
        let kind = u16::from_ne_bytes(bytes[at + 4..at + 6].try_into().unwrap());
        out.push((kind, len));
        at += (len as usize + 3) & !3;
    }
    out
}

/// A dump ss writes reads in sockscope as the live table: the same rows, in every state and
/// IP version selection, with the details the dump holds.
#[test]
fn a_dump_from_ss_reads_as_the_live_table() {
    let table = RichTable::new();
    let both = table.path("ss-both.dump");
    let v4 = table.path("ss-v4.dump");
    let v6 = table.path("ss-v6.dump");
    for (file, args) in [(&both, "-ta"), (&v4, "-ta4mi --tos"), (&v6, "-ta6")] {
        let out = run_in(
            &table,
            "ss",
            &[&words(args)[..], &["-D", file]].concat(),
            &[],
        );
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "ss {args} -D"
        );
    }
    let mut failures = Vec::new();
    // The whole table, in any selection, as live ss shows it.
    for case in [
        "-tan", "-ta", "-t", "-tn", "-tl", "-tln", "-t4", "-t6an", "-tanH",
    ] {
        let live = run_in(&table, "ss", &words(case), &[]);
        let args = [&["--from-dump", both.as_str()][..], &words(case)].concat();
        let replay = run_in(&table, SOCKSCOPE, &args, &[]);
        failures.push(same(&format!("--from-dump {case}"), &live, &replay));
    }
    // A dump of one IP version, read by both tools (ss reads up to the first NLMSG_DONE and
    // applies no state, so the cases list every state of that version).
    for (file, cases) in [
        (
            &v4,
            &[
                "-tan",
                "-ta",
                "-tane",
                "-tanmi",
                "-tamie --tos",
                "-tanOe",
                "-tan dport = :5000",
                "-tanr",
            ][..],
        ),
        (&v6, &["-tan", "-tane", "-ta sport = :5001"][..]),
    ] {
        for case in cases {
            let env = [("TCPDIAG_FILE", file.as_str())];
            let ss = run_in(&table, "ss", &words(case), &env);
            let ours = run_in(&table, SOCKSCOPE, &words(case), &env);
            failures.push(same(&format!("TCPDIAG_FILE={file} {case}"), &ss, &ours));
            let args = [&["--from-dump", file.as_str()][..], &words(case)].concat();
            let from = run_in(&table, SOCKSCOPE, &args, &[]);
            failures.push(same(&format!("--from-dump {file} {case}"), &ss, &from));
        }
    }
    // With TCPDIAG_FILE the other tables still come from the kernel, as in ss.
    let env = [("TCPDIAG_FILE", v4.as_str())];
    let ss = run_in(&table, "ss", &["-tuxan"], &env);
    let ours = run_in(&table, SOCKSCOPE, &["-tuxan"], &env);
    failures.push(same("TCPDIAG_FILE -tuxan", &ss, &ours));
    assert_none(failures);
    // Not an empty table by mistake.
    let listing = run_in(&table, SOCKSCOPE, &["--from-dump", &both, "-tln"], &[]);
    assert!(text(&listing.stdout).contains("127.0.0.1:55000"));
}

/// A dump sockscope writes is what ss would have written (the same messages, only the
/// sequence numbers and port ids differ), reads in ss, and reads back in sockscope as the
/// live table.
#[test]
fn a_dump_from_sockscope_reads_in_ss_and_back() {
    let table = RichTable::new();
    let ours_file = table.path("ours.dump");
    let ss_file = table.path("ss.dump");
    let v4 = table.path("ours-v4.dump");
    for (program, file, args) in [
        (SOCKSCOPE, &ours_file, "-tan"),
        ("ss", &ss_file, "-tan"),
        (SOCKSCOPE, &v4, "-ta4mie --tos"),
    ] {
        let out = run_in(
            &table,
            program,
            &[&words(args)[..], &["-D", file]].concat(),
            &[],
        );
        assert!(
            out.status.success() && out.stdout.is_empty(),
            "{program} {args} -D: {}",
            text(&out.stderr)
        );
    }
    let ours = std::fs::read(&ours_file).unwrap();
    let theirs = std::fs::read(&ss_file).unwrap();
    assert_eq!(framing(&ours), framing(&theirs));
    assert_eq!(
        framing(&ours).iter().filter(|(kind, _)| *kind == 3).count(),
        2
    );

    let mut failures = Vec::new();
    for case in [
        "-tan",
        "-ta",
        "-tane",
        "-tanmi",
        "-tamie --tos",
        "-ta src 127.0.0.1",
    ] {
        let env = [("TCPDIAG_FILE", v4.as_str())];
        let ss = run_in(&table, "ss", &words(case), &env);
        let ours = run_in(&table, SOCKSCOPE, &words(case), &env);
        failures.push(same(&format!("TCPDIAG_FILE=(ours) {case}"), &ss, &ours));
    }
    for case in ["-tan", "-t", "-tl", "-t6an"] {
        let live = run_in(&table, "ss", &words(case), &[]);
        let args = [&["--from-dump", ours_file.as_str()][..], &words(case)].concat();
        let replay = run_in(&table, SOCKSCOPE, &args, &[]);
        failures.push(same(&format!("--from-dump (ours) {case}"), &live, &replay));
    }
    assert_none(failures);
}

/// `-D -` writes the dump to standard output, `--from-dump -` reads it from standard input,
/// and the filter's kernel part decides what the dump holds.
#[test]
fn dumps_through_pipes_and_filters() {
    let table = RichTable::new();
    let out = run_in(
        &table,
        SOCKSCOPE,
        &["-ta", "-D", "-", "dport", "=", ":5000"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = table.path("piped.dump");
    std::fs::write(&file, &out.stdout).unwrap();

    let mut command = table.ns.command(SOCKSCOPE);
    command
        .args(["--from-dump", "-", "-ta"])
        .stdin(Stdio::from(File::open(&file).unwrap()));
    let replay = run_bounded(&mut command, RUN_LIMIT);
    let live = run_in(&table, "ss", &["-ta", "dport", "=", ":5000"], &[]);
    let failure = same("-D - with a filter, read from stdin", &live, &replay);
    assert!(failure.is_none(), "{}", failure.unwrap());
    assert!(text(&replay.stdout).lines().count() > 1);
}

/// Status and the single line on stderr.
fn one_error(out: &Output, status: i32, what: &str) -> String {
    assert_eq!(
        out.status.code(),
        Some(status),
        "{what}: {}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "{what}: {}", text(&out.stdout));
    let errors: Vec<&str> = std::str::from_utf8(&out.stderr).unwrap().lines().collect();
    assert_eq!(errors.len(), 1, "{what}: {errors:?}");
    assert!(errors[0].starts_with("sockscope: "), "{what}: {errors:?}");
    errors[0].to_owned()
}

/// Truncated, empty, foreign or missing dumps: one line, status 1, nothing listed, however
/// the dump is named and whatever the output format.
#[test]
fn bad_dumps_are_one_error() {
    let table = RichTable::new();
    let good = table.path("good.dump");
    let out = run_in(&table, SOCKSCOPE, &["-ta", "-D", &good], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&good).unwrap();
    assert!(bytes.len() > 200);
    let mut refused = Vec::new();
    refused.extend_from_slice(&36u32.to_ne_bytes());
    refused.extend_from_slice(&2u16.to_ne_bytes());
    refused.extend_from_slice(&[0; 10]);
    refused.extend_from_slice(&(-22i32).to_ne_bytes());
    refused.extend_from_slice(&[0; 16]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", Vec::new(), "empty"),
        (
            "text",
            b"hello, this is not a dump\n".to_vec(),
            "not a sock_diag dump",
        ),
        ("zeros", vec![0; 64], "not a sock_diag dump"),
        ("cut-header", bytes[..10].to_vec(), "truncated"),
        ("cut-message", bytes[..100].to_vec(), "truncated"),
        (
            "cut-before-done",
            bytes[..bytes.len() - 20].to_vec(),
            "truncated",
        ),
        ("cut-last", bytes[..bytes.len() - 1].to_vec(), "truncated"),
        ("refused", refused, "error from the kernel"),
    ];
    for (name, content, message) in &cases {
        let path = table.path(&format!("{name}.dump"));
        std::fs::write(&path, content).unwrap();
        for (args, env) in [
            (vec!["--from-dump", path.as_str(), "-tan"], vec![]),
            (vec!["--from-dump", path.as_str(), "-tan", "--json"], vec![]),
            (vec!["-tan"], vec![("TCPDIAG_FILE", path.as_str())]),
        ] {
            let out = run_in(&table, SOCKSCOPE, &args, &env);
            // TCPDIAG_FILE is read as ss reads it, up to the first NLMSG_DONE: a cut in the
            // IPv6 half is not seen, and the IPv4 half lists as from the whole dump.
            let past_first_done = matches!(*name, "cut-before-done" | "cut-last");
            if !env.is_empty() && past_first_done {
                let whole = run_in(&table, SOCKSCOPE, &["-tan"], &[("TCPDIAG_FILE", &good)]);
                assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
                assert!(text(&out.stdout).contains("127.0.0.1:55000"), "{name}");
                assert_eq!(text(&out.stdout), text(&whole.stdout), "{name}");
                continue;
            }
            let line = one_error(&out, 1, &format!("{name}: {args:?}"));
            // The cause once: after the path, not repeated by the error chain.
            let cause = line.split_once(".dump: ").map_or("", |(_, cause)| cause);
            assert!(
                line.contains("cannot read the dump") && cause.matches(message).count() == 1,
                "{name}: {line}"
            );
        }
    }
    for missing in [
        table.path("no-such.dump"),
        table.dir.to_str().unwrap().to_owned(),
    ] {
        let out = run_in(&table, SOCKSCOPE, &["--from-dump", &missing], &[]);
        let line = one_error(&out, 1, &missing);
        assert!(line.contains("cannot read the dump"), "{line}");
    }
}

/// Wrong uses of `-D` and `--from-dump`: one line and a non-zero status; a closed standard
/// output ends `-D -` quietly.
#[test]
fn dump_options_are_checked() {
    let table = RichTable::new();
    let file = table.path("x.dump");
    for (args, status) in [
        (vec!["-u", "-D", file.as_str()], 2),
        (vec!["-x", "--from-dump", "/dev/null"], 2),
        (vec!["-t", "-D", "/no/such/dir/x.dump"], 1),
        (vec!["-t", "-D", "/dev/full"], 1),
    ] {
        let out = run_in(&table, SOCKSCOPE, &args, &[]);
        one_error(&out, status, &format!("{args:?}"));
    }
    assert!(!std::path::Path::new(&file).exists());
    // The argument parser's own error, in its own words.
    let both = run_in(
        &table,
        SOCKSCOPE,
        &["-D", &file, "--from-dump", "/dev/null"],
        &[],
    );
    assert_eq!(both.status.code(), Some(2), "{}", text(&both.stderr));

    let mut command = table.ns.command(SOCKSCOPE);
    command
        .args(["-ta", "-D", "-"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    drop(child.stdout.take());
    let status = crate::util::netns::wait_bounded(&mut child, RUN_LIMIT);
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(
        status.success() && stderr.is_empty(),
        "{status:?}: {stderr}"
    );
}
