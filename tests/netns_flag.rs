//! `-N NAME` against ss, and `-N all`: every namespace, each row with its name.
//!
//! Named namespaces are made with `ip netns add` under a name no other test uses and deleted by
//! that name when the test ends, also when it fails.

use std::os::unix::process::CommandExt;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::util::netns::{RUN_LIMIT, clean_command, run_bounded};
use crate::util::{
    Holder, Named, Netns, RichTable, SOCKSCOPE, Spec, fold, reference::comparable, text, unique,
};

fn run(command: &mut Command) -> Output {
    run_bounded(command, RUN_LIMIT)
}

/// Standard error as lines.
fn lines(bytes: &[u8]) -> Vec<String> {
    text(bytes).lines().map(str::to_owned).collect()
}

/// How many times a comparison is tried when the namespace's table changed under it.
const TRIES: usize = 3;

/// `program -N NAME ARGS`, started outside the namespace.
fn in_named(program: &str, name: &str, args: &[&str]) -> Output {
    run(clean_command(program).args(["-N", name]).args(args))
}

/// `ss -N NAME ARGS` and `sockscope -N NAME ARGS`, both started outside the namespace, print
/// the same and exit alike.
///
/// The reference table's TIME-WAIT and FIN-WAIT-2 entries time out 60 s after it is made,
/// which a loaded machine lets this test outlast: a case whose outputs differ is tried again
/// (three times at most) only when ss, run once more, shows that the table changed.
///
/// `-p` walks every process: sockets the test process holds are also held, for a moment, by
/// each child it forks (between fork and exec), and the other tests of the run start programs
/// all the time. Processes are compared on the sockets of a holder, which forks nothing.
#[test]
fn named_namespace_matches_ss() {
    let named = Named::new("n");
    let table = RichTable::inside(named.netns());
    let port = 21000 + (unique() % 1000) as u16;
    let holder = Holder::start(
        &table.ns,
        &Spec {
            comm: "nsholder".into(),
            tcp: Some(port),
            ..Spec::default()
        },
    );
    let by_holder = format!("-tanp sport = :{port} or dport = :{port}");
    let cases = [
        "-tan",
        "-tln",
        "-t",
        "-uan",
        "-wa",
        "-xa",
        "-4",
        "-6 -an -A inet",
        "-A all,!netlink,!packet -a",
        &by_holder,
        "-tanH",
        "-tan dport = :5000",
        "-tan src 10.9.0.1",
    ];
    let mut failures = Vec::new();
    for case in cases {
        let args: Vec<&str> = case.split_whitespace().collect();
        for attempt in 1..=TRIES {
            let ss = in_named("ss", &named.name, &args);
            let ours = in_named(SOCKSCOPE, &named.name, &args);
            if comparable(&text(&ss.stdout)) == comparable(&text(&ours.stdout))
                && ss.status.code() == ours.status.code()
            {
                break;
            }
            let again = in_named("ss", &named.name, &args);
            if again.stdout != ss.stdout && attempt < TRIES {
                continue;
            }
            failures.push(format!(
                "`-N {} {case}` differs:\n--- ss ({:?})\n{}--- sockscope ({:?})\n{}{}",
                named.name,
                ss.status.code(),
                text(&ss.stdout),
                ours.status.code(),
                text(&ours.stdout),
                text(&ours.stderr)
            ));
            break;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Not an empty namespace by mistake, and the holder's sockets have their process.
    let listing = text(&in_named(SOCKSCOPE, &named.name, &["-tln"]).stdout);
    assert!(listing.contains("127.0.0.1:55000"), "{listing}");
    let owned = text(
        &in_named(
            SOCKSCOPE,
            &named.name,
            &by_holder.split_whitespace().collect::<Vec<_>>(),
        )
        .stdout,
    );
    assert!(
        owned.contains(&format!("(\"nsholder\",pid={},", holder.pid)),
        "{owned}"
    );
    drop((holder, table));
}

/// A namespace given as a file path (here `/proc/PID/fd/N`, a descriptor holding it) lists
/// what ss lists inside it.
#[test]
fn a_namespace_file_path_works_too() {
    let table = RichTable::new();
    for case in ["-tan", "-xa", "-ua"] {
        let args: Vec<&str> = case.split_whitespace().collect();
        let inside = table.ns.output("ss", &args);
        let path = table.ns.path();
        let ours = run(clean_command(SOCKSCOPE).arg("-N").arg(&path).args(&args));
        crate::eqnice!(
            comparable(&text(&inside.stdout)),
            comparable(&text(&ours.stdout))
        );
        assert!(ours.status.success(), "{}", text(&ours.stderr));
    }
}

/// A namespace that does not exist, or a file that is none: one line, status 1, as ss's
/// status.
#[test]
fn a_missing_namespace_is_one_error() {
    // The empty name means /run/netns itself, a directory only once an `ip netns add` has
    // made it: on a machine where none has run yet (or in a suite where this test comes
    // first) it would be a missing namespace instead.
    let _made = Named::new("made");
    let missing = format!("sockscope-missing-{}-{}", std::process::id(), unique());
    let cases: [(&str, &str); 3] = [
        (&missing, "cannot open network namespace"),
        ("/etc/hostname", "is not a network namespace"),
        ("", "is not a network namespace"),
    ];
    for (name, message) in cases {
        let ours = run(clean_command(SOCKSCOPE).args(["-N", name, "-tan"]));
        let ss = run(clean_command("ss").args(["-N", name, "-tan"]));
        assert_eq!(ours.status.code(), Some(1), "-N {name:?}");
        assert_eq!(ss.status.code(), Some(1), "ss -N {name:?}");
        assert!(
            ours.stdout.is_empty(),
            "-N {name:?}: {}",
            text(&ours.stdout)
        );
        let errors = lines(&ours.stderr);
        assert_eq!(errors.len(), 1, "-N {name:?}: {errors:?}");
        assert!(
            errors[0].starts_with("sockscope: ") && errors[0].contains(message),
            "-N {name:?}: {errors:?}"
        );
    }
}

/// The rows of a `-N all` table whose Netns cell is `name`, without that cell, white space
/// folded.
fn rows_of(listing: &str, name: &str) -> String {
    fold(
        &listing
            .lines()
            .skip(1)
            .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

/// Every namespace is listed under its name: two named ones, an unnamed one a process is in
/// (as `pid:N`), and sockscope's own; each one's rows are what ss shows inside it.
#[test]
fn all_namespaces_are_listed_each_under_its_name() {
    let web = Named::new("web");
    let db = Named::new("db");
    let table = RichTable::inside(web.netns());
    let db_ns = db.netns();
    let db_sockets = db_ns.run(|| {
        let listener = std::net::TcpListener::bind("127.0.0.1:5432").unwrap();
        let client = std::net::TcpStream::connect("127.0.0.1:5432").unwrap();
        let server = listener.accept().unwrap().0;
        (listener, client, server)
    });
    let private = Netns::new();
    let port = 20000 + (unique() % 1000) as u16;
    let holder = Holder::start(
        &private,
        &Spec {
            comm: "nsholder".into(),
            tcp: Some(port),
            ..Spec::default()
        },
    );

    let pid_name = format!("pid:{}", holder.pid);
    let expect = |ss: Output| {
        fold(
            &text(&ss.stdout)
                .lines()
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    };
    // What ss shows in each of the test's namespaces, by name.
    let ss_rows = || {
        [
            (
                web.name.clone(),
                expect(in_named("ss", &web.name, &["-tan"])),
            ),
            (db.name.clone(), expect(in_named("ss", &db.name, &["-tan"]))),
            (pid_name.clone(), expect(private.output("ss", &["-tan"]))),
        ]
    };
    // The walk takes long on a loaded machine (every namespace of every other test, some
    // with tens of thousands of entries): long enough for the reference table's TIME-WAIT and
    // FIN-WAIT-2 entries to time out. ss runs before and after; the comparison counts when
    // both saw the same, and is tried again (three times at most) only when they did not.
    let (listing, expected) = between_equal_looks(ss_rows, || {
        let all = run(clean_command(SOCKSCOPE).args(["-N", "all", "-tan"]));
        assert!(all.status.success(), "{}", text(&all.stderr));
        text(&all.stdout)
    });
    assert!(listing.starts_with("Netns "), "no Netns column:\n{listing}");
    for (name, rows) in &expected {
        crate::eqnice!(rows, rows_of(&listing, name));
    }
    assert!(rows_of(&listing, &pid_name).contains(&format!("127.0.0.1:{port}")));
    // Named namespaces by name, then those known by a process.
    let first_of = |name: &str| {
        let prefix = format!("{name} ");
        listing
            .lines()
            .position(|l| l.starts_with(&prefix))
            .unwrap()
    };
    assert!(first_of(&db.name) < first_of(&web.name));
    assert!(first_of(&web.name) < first_of(&pid_name));

    // JSON: every record names its namespace; ours hold exactly our sockets (tried again as
    // above when the table changed during the walk).
    let (records, expected) = between_equal_looks(ss_rows, || {
        let json = run(clean_command(SOCKSCOPE).args(["--all-netns", "-tan", "--json"]));
        assert!(json.status.success(), "{}", text(&json.stderr));
        serde_json::from_slice::<Vec<serde_json::Value>>(&json.stdout).unwrap()
    });
    assert!(records.iter().all(|r| r["netns"].is_string()));
    let ports_in = |name: &str| {
        let mut ports: Vec<u64> = records
            .iter()
            .filter(|r| r["netns"] == name)
            .map(|r| r["local_port"].as_u64().unwrap())
            .collect();
        ports.sort_unstable();
        ports
    };
    for (name, rows) in &expected {
        assert_eq!(
            ports_in(name).len(),
            rows.lines().count(),
            "{name}: a record for each row"
        );
    }
    let db_ports = ports_in(&db.name);
    assert_eq!(
        db_ports.iter().filter(|&&p| p == 5432).count(),
        2,
        "{db_ports:?}"
    );
    assert!(ports_in(&pid_name).contains(&u64::from(port)));
    drop((db_sockets, holder, table));
}

/// Runs `program` between two looks of `look` at the tables, until both looks agree
/// ([`TRIES`] times at most): what `program` gave, and what the first look saw.
fn between_equal_looks<T, L: PartialEq>(
    look: impl Fn() -> L,
    mut program: impl FnMut() -> T,
) -> (T, L) {
    let mut tries = 0;
    loop {
        tries += 1;
        let before = look();
        let out = program();
        if before == look() || tries == TRIES {
            return (out, before);
        }
    }
}

/// Runs `command` as nobody, without supplementary groups.
fn as_nobody(command: &mut Command) -> &mut Command {
    // SAFETY: the closure runs in the child between fork and exec and only calls setgroups,
    // setgid and setuid, which are async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            if libc::setgroups(0, std::ptr::null()) != 0
                || libc::setgid(65534) != 0
                || libc::setuid(65534) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

/// Without the right to enter a namespace, `-N all` lists the others and says so once for
/// that namespace; `-N NAME` for it is an error, as in ss.
#[test]
fn a_namespace_that_cannot_be_entered_is_one_warning() {
    let named = Named::new("locked");
    let out = run(as_nobody(
        clean_command(SOCKSCOPE).args(["-N", "all", "-tan"]),
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let errors = lines(&out.stderr);
    assert!(
        errors.iter().all(|l| l.starts_with("sockscope: warning: ")),
        "{errors:?}"
    );
    let about: Vec<&String> = errors.iter().filter(|l| l.contains(&named.name)).collect();
    assert_eq!(about.len(), 1, "{errors:?}");
    assert!(
        about[0].contains("cannot enter network namespace")
            && about[0].contains("Operation not permitted"),
        "{errors:?}"
    );
    assert!(!text(&out.stdout).contains(&named.name));

    let ours = run(as_nobody(clean_command(SOCKSCOPE).args([
        "-N",
        &named.name,
        "-t",
    ])));
    let ss = run(as_nobody(clean_command("ss").args([
        "-N",
        &named.name,
        "-t",
    ])));
    assert_eq!(ours.status.code(), ss.status.code());
    assert_eq!(lines(&ours.stderr).len(), 1, "{}", text(&ours.stderr));
    assert!(ours.stdout.is_empty());
}

/// Namespaces that appear and vanish while `-N all` walks them are no error and no warning.
#[test]
fn namespaces_that_come_and_go_are_skipped_quietly() {
    struct Stop<'a>(&'a AtomicBool);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Relaxed);
        }
    }
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let deadline = Instant::now() + Duration::from_secs(10);
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    run(clean_command("unshare").args(["--net", "sleep", "0.01"]));
                }
            });
        }
        let _stop = Stop(&stop);
        for _ in 0..10 {
            let out = run(clean_command(SOCKSCOPE).args(["-N", "all", "-tan"]));
            assert!(out.status.success(), "{}", text(&out.stderr));
            for line in lines(&out.stderr) {
                // Only processes sockscope may not look at (none but the odd supervisor), and
                // a table that changed while the kernel listed it: -N all walks the namespaces
                // of the other tests of this run too, whose sockets come and go.
                assert!(
                    line.starts_with(
                        "sockscope: warning: permission denied reading the network namespace"
                    ) || line.starts_with(
                        "sockscope: warning: a socket table changed while the kernel was \
                         listing it"
                    ),
                    "{line}"
                );
            }
        }
    });
}

/// What `-N all` cannot be combined with: one line, status 2.
#[test]
fn all_namespaces_refuse_dumps_and_the_summary() {
    for args in [
        &["-N", "all", "-D", "/dev/null"][..],
        &["--all-netns", "-s"],
        &["-N", "all", "--from-dump", "/dev/null"],
    ] {
        let out = run(clean_command(SOCKSCOPE).args(args));
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        let errors = lines(&out.stderr);
        assert_eq!(errors.len(), 1, "{args:?}: {errors:?}");
        assert!(errors[0].contains("-N all"), "{errors:?}");
    }
}
