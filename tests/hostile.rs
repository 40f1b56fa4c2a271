//! Hostile input: filters of any depth and length, inputs that are not dumps, large dumps and
//! junk in `/proc/net` files never abort sockscope, hang it or fill its memory.

use std::fs::File;
use std::process::Output;
use std::time::{Duration, Instant};

use crate::util::netns::run_bounded;
use crate::util::{RichTable, SOCKSCOPE, reference::comparable, text};

/// `program ARGS` in the table's namespace, with `env`.
fn run_in(table: &RichTable, program: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = table.ns.command(program);
    command.args(args).envs(env.iter().copied());
    run_bounded(&mut command, Duration::from_secs(60))
}

/// Writes a `-F` file of `tokens`, one a line (ss reads lines of at most a few kilobytes).
fn filter_file(table: &RichTable, name: &str, tokens: &[String]) -> String {
    let path = table.path(name);
    std::fs::write(&path, tokens.join("\n") + "\n").unwrap();
    path
}

fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_owned).collect()
}

fn nested(depth: usize, inner: &str) -> Vec<String> {
    let mut out = vec!["(".to_owned(); depth];
    out.extend(tokens(inner));
    out.extend(vec![")".to_owned(); depth]);
    out
}

fn negated(count: usize, inner: &str) -> Vec<String> {
    let mut out = vec!["!".to_owned(); count];
    out.extend(tokens(inner));
    out
}

/// `sport = :P or ...` over `terms` ports, counting from 1 and wrapping at 65535.
fn chain(terms: usize, joiner: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(terms * 4);
    for i in 0..terms {
        if i > 0 {
            out.push(joiner.to_owned());
        }
        out.extend(["sport".into(), "=".into(), format!(":{}", i % 65535 + 1)]);
    }
    out
}

fn assert_same(what: &str, expected: &Output, got: &Output) {
    assert!(
        got.status.success() && got.stderr.is_empty(),
        "{what}: {:?} {}",
        got.status,
        text(&got.stderr)
    );
    assert!(
        comparable(&text(&expected.stdout)) == comparable(&text(&got.stdout)),
        "{what}:\n--- ss\n{}--- sockscope\n{}",
        text(&expected.stdout),
        text(&got.stdout)
    );
}

/// Deep and long filters, in a `-F` file: as ss where ss takes them (9,000 parentheses or
/// `!`), and otherwise as ss answers the same filter written short: where ss gives up
/// (100,000 of each: bison's stack, a crash), and for chains of 25,000 ports, too long for
/// the kernel's program, which sockscope filters in user space.
#[test]
fn filters_of_any_depth_and_length() {
    let table = RichTable::new();
    let cases: Vec<(&str, Vec<String>, Option<&str>)> = vec![
        ("parens-9000", nested(9000, "sport = :5000"), None),
        ("nots-9000", negated(9000, "sport = :5000"), None),
        ("nots-9001", negated(9001, "sport = :5000"), None),
        // Too long for the kernel's program, where ss falls back to /proc/net (which lacks
        // the queues of listeners and the bound devices): the same rows as the short filter.
        ("chain-25000", chain(25_000, "or"), Some("sport <= :25000")),
        (
            "chain-and-25000",
            chain(25_000, "and"),
            Some("sport = :1 and sport = :2"),
        ),
        (
            "parens-100000",
            nested(100_000, "sport = :5000"),
            Some("sport = :5000"),
        ),
        (
            "nots-100000",
            negated(100_000, "dport = :5000"),
            Some("dport = :5000"),
        ),
        (
            "nots-100001",
            negated(100_001, "dport = :5000"),
            Some("! dport = :5000"),
        ),
        // Every port from 1 to 65535: every socket with a port.
        ("chain-100000", chain(100_000, "or"), Some("sport >= :1")),
        (
            "chain-and-100000",
            chain(100_000, "and"),
            Some("sport = :1 and sport = :2"),
        ),
        (
            "mixed-100000",
            {
                let mut t = chain(50_000, "and");
                t.extend(tokens("or"));
                t.extend(nested(50_000, "dport = :5000"));
                t
            },
            Some("dport = :5000"),
        ),
    ];
    for (name, filter, short) in &cases {
        let path = filter_file(&table, name, filter);
        let started = Instant::now();
        let ours = run_in(&table, SOCKSCOPE, &["-tan", "-F", &path], &[]);
        let took = started.elapsed();
        let expected = match short {
            None => run_in(&table, "ss", &["-tan", "-F", &path], &[]),
            Some(short) => {
                let mut args = vec!["-tan"];
                args.extend(short.split_whitespace());
                run_in(&table, "ss", &args, &[])
            }
        };
        assert!(
            expected.status.success(),
            "ss {name}: {}",
            text(&expected.stderr)
        );
        assert_same(name, &expected, &ours);
        eprintln!("{name}: {took:?}");
        assert!(took < Duration::from_secs(30), "{name} took {took:?}");
    }
    // The same filters on the command line, one word each.
    for (name, filter, _) in &cases[0..2] {
        let mut args = vec!["-tan".to_owned()];
        args.extend(filter.iter().cloned());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run_in(&table, SOCKSCOPE, &args, &[]);
        assert!(
            out.status.success(),
            "{name} as arguments: {}",
            text(&out.stderr)
        );
    }
    // Not closed, deep down: one line, ss's status for syntax.
    let mut open = nested(100_000, "sport = :5000");
    open.pop();
    let path = filter_file(&table, "unclosed", &open);
    let out = run_in(&table, SOCKSCOPE, &["-tan", "-F", &path], &[]);
    assert_eq!(out.status.code(), Some(255), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "{}",
        text(&out.stderr)
    );
}

/// Runs `script` with sh in the table's namespace, where `$S` is sockscope and `LIMIT KIB` runs
/// the rest of its line with at most KIB KiB of address space (`ulimit -v`, so resident memory
/// is below it too); and how long it took.
fn limited(table: &RichTable, script: &str) -> (Output, Duration) {
    let started = Instant::now();
    let mut command = table.ns.command("sh");
    command.args([
        "-c",
        &format!("LIMIT() {{ (ulimit -v \"$1\"; shift; exec \"$@\"); }}; {script}"),
    ]);
    command.env("S", SOCKSCOPE);
    let out = run_bounded(&mut command, Duration::from_secs(120));
    (out, started.elapsed())
}

/// What a non-dump costs: refused at its first header, at once, in 16 MiB of address space.
/// (Before, each of these read the whole input first: gigabytes.)
#[test]
fn inputs_that_are_not_dumps_are_refused_at_once() {
    let table = RichTable::new();
    let sparse = table.path("sparse.dump");
    File::create(&sparse).unwrap().set_len(1 << 30).unwrap();
    let cases = [
        (
            "--from-dump /dev/zero",
            "LIMIT 16384 $S --from-dump /dev/zero -tan".to_owned(),
        ),
        (
            "TCPDIAG_FILE=/dev/zero",
            "TCPDIAG_FILE=/dev/zero LIMIT 16384 $S -tan".to_owned(),
        ),
        (
            "yes |",
            "yes | LIMIT 16384 $S --from-dump - -tan".to_owned(),
        ),
        (
            "sparse 1 GiB",
            format!("LIMIT 16384 $S --from-dump {sparse} -tan"),
        ),
        (
            "sparse 1 GiB on stdin",
            format!("LIMIT 16384 $S --from-dump - -tan < {sparse}"),
        ),
    ];
    let mut failures = Vec::new();
    for (what, script) in cases {
        let (out, took) = limited(&table, &script);
        let stderr = text(&out.stderr);
        eprintln!("{what}: {:?} in {took:?}: {stderr}", out.status.code());
        let refused = out.status.code() == Some(1)
            && out.stdout.is_empty()
            && stderr.lines().count() == 1
            && stderr.contains("not a sock_diag dump");
        // 0.1 s is the target (a few milliseconds on an idle machine); a loaded one is given
        // ten times that.
        if !refused || took > Duration::from_secs(1) {
            failures.push(format!("{what}: {:?} in {took:?}: {stderr}", out.status));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// A dump far larger than the memory it may take reads whole, from a file and from a pipe:
/// the rows of a dump of the table, as many times over as its sockets were copied.
#[test]
fn a_large_dump_reads_in_bounded_memory() {
    let table = RichTable::new();
    let small = table.path("small.dump");
    let out = run_in(&table, SOCKSCOPE, &["-tanmi", "-D", &small], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&small).unwrap();
    // The socket messages, without the NLMSG_DONE of each request.
    let mut sockets = Vec::new();
    let mut at = 0;
    let mut count = 0;
    while at + 16 <= bytes.len() {
        let len = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let kind = u16::from_ne_bytes(bytes[at + 4..at + 6].try_into().unwrap());
        let next = (at + len + 3) & !3;
        if kind == 20 {
            sockets.extend_from_slice(&bytes[at..next]);
            count += 1;
        }
        at = next;
    }
    assert!(count >= 10, "{count} sockets");
    let done = &bytes[bytes.len() - 20..];
    // Half as large again as the address space sockscope is given.
    let copies = (48 << 20) / sockets.len() + 1;
    let big = table.path("big.dump");
    let mut file = std::io::BufWriter::new(File::create(&big).unwrap());
    for _ in 0..copies {
        std::io::Write::write_all(&mut file, &sockets).unwrap();
    }
    std::io::Write::write_all(&mut file, done).unwrap();
    drop(file);
    let size = std::fs::metadata(&big).unwrap().len();

    let once = run_in(&table, SOCKSCOPE, &["--from-dump", &small, "-tanH"], &[]);
    assert!(once.status.success(), "{}", text(&once.stderr));
    let rows = text(&once.stdout).lines().count();
    for script in [
        format!("LIMIT 32768 $S --from-dump {big} -tanH | wc -l"),
        format!("cat {big} | LIMIT 32768 $S --from-dump - -tanH | wc -l"),
    ] {
        let (out, took) = limited(&table, &script);
        eprintln!(
            "{} sockets, {} MiB: {script}: {took:?}",
            copies * count,
            size >> 20
        );
        assert!(out.stderr.is_empty(), "{script}: {}", text(&out.stderr));
        assert_eq!(
            text(&out.stdout).trim(),
            (rows * copies).to_string(),
            "{script}"
        );
    }
}

const TCP_HEADER: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode";

/// Junk in `/proc/net/tcp` and `/proc/net/unix`: each line that does not read is skipped with
/// one warning naming the file and the first such line, and the rest is listed as ss lists
/// it. ss stops at some junk lines, and shows others as sockets of made-up values, so ss reads
/// the file without its junk; where it lists the whole file (junk at the end), both read the
/// same file.
#[test]
fn junk_in_proc_files_is_skipped() {
    let table = RichTable::new();
    let real = run_in(&table, "cat", &["/proc/net/tcp"], &[]);
    let real = text(&real.stdout);
    let mut lines: Vec<&str> = real.lines().skip(1).collect();
    lines.push(
        "   9: 0100007F:1F92 0100007F:1F93 01 00000010:00000020 04:00000100 00000003  1000        7 3333 1 ffff8880aabbccdd 100 0 0 10 0",
    );
    let junk = [
        "junk",
        "   7: 0100007F:1F94 00000000:0000 0A",
        "   8: 0100007F:ZZZZ 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 100 0 0 10 0",
        "\u{fffd}\u{1}",
        "",
    ];
    let clean = format!("{TCP_HEADER}\n{}\n", lines.join("\n"));
    let mut dirty = format!("{TCP_HEADER}\n");
    for (i, line) in lines.iter().enumerate() {
        dirty.push_str(line);
        dirty.push('\n');
        dirty.push_str(junk[i % junk.len()]);
        dirty.push('\n');
    }
    let at_end = format!("{clean}x\n\n");
    let clean_path = table.path("tcp-clean");
    let dirty_path = table.path("tcp-dirty");
    let end_path = table.path("tcp-end");
    std::fs::write(&clean_path, &clean).unwrap();
    std::fs::write(&dirty_path, &dirty).unwrap();
    std::fs::write(&end_path, &at_end).unwrap();
    let v6 = ("PROC_NET_TCP6", "/dev/null");
    for args in [
        &["-tan"][..],
        &["-tano"],
        &["-tane"],
        &["-ta", "sport = :5000"],
    ] {
        let ss = run_in(&table, "ss", args, &[("PROC_NET_TCP", &clean_path), v6]);
        let ours = run_in(
            &table,
            SOCKSCOPE,
            args,
            &[("PROC_NET_TCP", &dirty_path), v6],
        );
        assert!(ours.status.success(), "{args:?}: {}", text(&ours.stderr));
        assert_eq!(
            comparable(&text(&ss.stdout)),
            comparable(&text(&ours.stdout)),
            "{args:?}"
        );
        let warning = text(&ours.stderr);
        assert_eq!(warning.lines().count(), 1, "{warning}");
        assert!(
            warning.starts_with("sockscope: warning: ")
                && warning.contains(&format!("{dirty_path}:3")),
            "{warning}"
        );
        let ss = run_in(&table, "ss", args, &[("PROC_NET_TCP", &end_path), v6]);
        let ours = run_in(&table, SOCKSCOPE, args, &[("PROC_NET_TCP", &end_path), v6]);
        assert_eq!(
            comparable(&text(&ss.stdout)),
            comparable(&text(&ours.stdout)),
            "junk at the end, {args:?}"
        );
    }

    // Unix names with a newline and with bytes that are not UTF-8, as the kernel writes them.
    let mut unix = b"Num       RefCount Protocol Flags    Type St Inode Path\n".to_vec();
    unix.extend_from_slice(
        b"00000000d1fc6a22: 00000002 00000000 00010000 0001 01 1001 /tmp/a.sock\n",
    );
    unix.extend_from_slice(
        b"00000000d1fc6a22: 00000002 00000000 00010000 0001 01 1003 /tmp/\xff\xfe.sock\n",
    );
    unix.extend_from_slice(
        b"00000000d1fc6a22: 00000003 00000000 00000000 0001 03 1005 @abstract\n",
    );
    unix.extend_from_slice(b"00000000d1fc6a22: 00000002 00000000 00000000 0002 01 1004\n");
    let mut with_newline = unix.clone();
    with_newline.extend_from_slice(
        b"00000000d1fc6a22: 00000002 00000000 00010000 0001 01 1002 /tmp/first\nsecond.sock\n",
    );
    unix.extend_from_slice(
        b"00000000d1fc6a22: 00000002 00000000 00010000 0001 01 1002 /tmp/first\n",
    );
    let clean_path = table.path("unix-clean");
    let dirty_path = table.path("unix-dirty");
    std::fs::write(&clean_path, &unix).unwrap();
    std::fs::write(&dirty_path, &with_newline).unwrap();
    for args in [&["-xa"][..], &["-xan"], &["-xl"], &["-xa", "src", "/tmp/*"]] {
        let ss = run_in(&table, "ss", args, &[("PROC_NET_UNIX", &clean_path)]);
        let ours = run_in(&table, SOCKSCOPE, args, &[("PROC_NET_UNIX", &dirty_path)]);
        assert!(ours.status.success(), "{args:?}: {}", text(&ours.stderr));
        assert_eq!(
            comparable(&text(&ss.stdout)),
            comparable(&text(&ours.stdout)),
            "{args:?}:\n{}\n{}",
            text(&ss.stdout),
            text(&ours.stdout)
        );
        assert!(text(&ours.stderr).contains(&format!("{dirty_path}:7")));
        let ours = run_in(&table, SOCKSCOPE, args, &[("PROC_NET_UNIX", &clean_path)]);
        assert_eq!(
            comparable(&text(&ss.stdout)),
            comparable(&text(&ours.stdout)),
            "{args:?}"
        );
        assert!(ours.stderr.is_empty(), "{}", text(&ours.stderr));
    }
}
