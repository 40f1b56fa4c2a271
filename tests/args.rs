//! The edges of the command line: argument errors in one line, completions that offer what
//! each command accepts, and the `:PORT` shorthand in listings.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use clap::CommandFactory;
use clap_complete::Shell;
use sockscope::cli::{self, Cli, TABLES};
use sockscope::config;

use crate::util::{
    Netns, RichTable, SOCKSCOPE, TempDir,
    netns::{clean_command, run_bounded},
    reference::comparable,
    text,
};

/// sockscope with `args`, outside any namespace: these are refused before anything is asked.
fn sockscope(args: &[&str]) -> Output {
    run_bounded(clean_command(SOCKSCOPE).args(args), Duration::from_secs(20))
}

#[test]
fn argument_errors_are_one_line() {
    for args in [
        &["-tq"][..],
        &["--bogus"],
        &["-f", "nonsense"],
        &["-A"],
        &["watch", "--interval", "-1"],
        &["watch", "--interval", "0.001"],
        &["watch", "--count", "0"],
        &["watch", "-s"],
        &["watch", "-j"],
        &["watch", "--kill"],
        &["demo", "--port", "x"],
        &["-E", "-K"],
        &["-D", "x", "--from-dump", "y"],
        &["--all-netns", "-N", "x"],
    ] {
        let out = sockscope(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", text(&out.stdout));
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("sockscope: "), "{args:?}: {stderr}");
        for noise in ["tip:", "Usage", "error:", "'-- ", "--help"] {
            assert!(!stderr.contains(noise), "{args:?}: {stderr}");
        }
    }
    let out = sockscope(&["watch", "--interval", "-1"]);
    assert_eq!(
        text(&out.stderr),
        "sockscope: invalid value '-1' for '--interval <SECS>': the interval must be from 0.01 \
         to 86400 seconds\n"
    );
}

#[test]
fn help_and_version_still_print() {
    for (args, wanted) in [
        (&["-h"][..], "--numeric"),
        (&["--help"], "FILTER section of sockscope(8)"),
        (&["-V"], "sockscope "),
        (&["--version"], "sockscope "),
        (&["watch", "--help"], "--interval"),
        (&["demo", "-h"], "--port"),
    ] {
        let out = sockscope(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains(wanted), "{args:?}");
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
    // No help subcommand: `sockscope help` is a filter, the host "help" (status 1, as in ss).
    assert_eq!(sockscope(&["help"]).status.code(), Some(1));
}

/// What bash's completion offers for the last of `words` (the command line so far).
fn bash_completes(words: &[&str]) -> BTreeSet<String> {
    let dir = TempDir::new("completion");
    let script = dir.join("sockscope.bash");
    std::fs::write(&script, cli::completions(Shell::Bash)).unwrap();
    let program = r#"source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
        _sockscope sockscope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}";
        printf '%s\n' "${COMPREPLY[@]}""#;
    let mut command = Command::new("bash");
    command
        .args(["--norc", "-c", program, "bash"])
        .arg(&script)
        .args(words)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .current_dir(std::env::temp_dir());
    let out = run_bounded(&mut command, Duration::from_secs(20));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Every option a subcommand declares, as it can be spelled, from the clap command itself.
fn declared_options(subcommand: &str) -> BTreeSet<String> {
    let mut command = Cli::command();
    command.build();
    let sub = command.find_subcommand(subcommand).unwrap();
    let mut options = BTreeSet::new();
    for arg in sub.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        for short in arg.get_short_and_visible_aliases().unwrap_or_default() {
            options.insert(format!("-{short}"));
        }
        for long in arg.get_long_and_visible_aliases().unwrap_or_default() {
            options.insert(format!("--{long}"));
        }
    }
    options
}

/// Whether `watch OPTION [VALUE]` parses.
fn watch_accepts(option: &str) -> bool {
    let mut command = Cli::command();
    command.build();
    let sub = command.find_subcommand("watch").unwrap();
    let arg = sub
        .get_arguments()
        .find(|a| {
            let long = option.strip_prefix("--");
            let short = option.strip_prefix('-').and_then(|s| s.chars().next());
            long.is_some_and(|l| {
                a.get_long_and_visible_aliases()
                    .unwrap_or_default()
                    .contains(&l)
            }) || (long.is_none()
                && short.is_some_and(|s| {
                    a.get_short_and_visible_aliases()
                        .unwrap_or_default()
                        .contains(&s)
                }))
        })
        .unwrap();
    let value = arg
        .get_possible_values()
        .first()
        .map_or("1".to_owned(), |v| v.get_name().to_owned());
    let takes_value = arg.get_num_args().is_some_and(|n| n.takes_values());
    let mut args = vec!["sockscope", "watch", option];
    if takes_value {
        args.push(&value);
    }
    // --help and --version end the parse with a "display" result, which is acceptance.
    match Cli::command().try_get_matches_from(&args) {
        Ok(_) => true,
        Err(e) => !e.use_stderr(),
    }
}

#[test]
fn watch_completions_offer_exactly_what_watch_accepts() {
    let offered = bash_completes(&["sockscope", "watch", "-"]);
    let declared = declared_options("watch");
    assert_eq!(offered, declared);
    for option in &offered {
        assert!(
            watch_accepts(option),
            "watch refuses {option}, which it offers"
        );
    }
    for refused in [
        "--summary",
        "--json",
        "--kill",
        "--diag",
        "-s",
        "-j",
        "-K",
        "-E",
    ] {
        assert!(!offered.contains(refused), "{refused}");
    }
    // The other shells' scripts are generated from the same command: their watch part names
    // the same long options.
    let fish = String::from_utf8(cli::completions(Shell::Fish)).unwrap();
    let fish_longs: BTreeSet<String> = fish
        .lines()
        .filter(|l| l.contains("__fish_sockscope_using_subcommand watch"))
        .filter_map(|l| l.split(" -l ").nth(1))
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|long| format!("--{long}"))
        .collect();
    // fish names each option once, by its long name without the visible aliases.
    let mut command = Cli::command();
    command.build();
    let declared_longs: BTreeSet<String> = command
        .find_subcommand("watch")
        .unwrap()
        .get_arguments()
        .filter(|a| !a.is_hide_set())
        .filter_map(|a| a.get_long())
        .map(|long| format!("--{long}"))
        .collect();
    assert_eq!(fish_longs, declared_longs);
}

#[test]
fn table_completions_are_the_tables_config_accepts() {
    let offered = bash_completes(&["sockscope", "watch", "-A", ""]);
    let names: BTreeSet<String> = TABLES.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(offered, names);
    assert_eq!(bash_completes(&["sockscope", "--query", ""]), names);
    for (name, aliases) in TABLES {
        for name in std::iter::once(name).chain(aliases.iter()) {
            assert!(
                config::table_group(name).is_some(),
                "config refuses -A {name}"
            );
        }
    }
    assert!(config::table_group("foo").is_none());
}

#[test]
fn value_completions() {
    let families = bash_completes(&["sockscope", "-f", ""]);
    let wanted = [
        "unix", "inet", "inet6", "link", "netlink", "vsock", "tipc", "xdp",
    ];
    assert_eq!(families, wanted.iter().map(|f| (*f).to_owned()).collect());
    assert!(bash_completes(&["sockscope", "watch", "-N", ""]).contains("all"));
    assert!(bash_completes(&["sockscope", "--net", ""]).contains("all"));
    let states = bash_completes(&["sockscope", "-t", "state", "list"]);
    assert!(states.contains("listening"), "{states:?}");
}

/// The completion as bash-completion loads it from the per-user place the README names,
/// called as bash calls it for the last of `words`, in a directory with a file in it; `None`
/// when bash-completion is not installed.
fn completes_as_installed(words: &[&str]) -> Option<BTreeSet<String>> {
    const LOADER: &str = "/usr/share/bash-completion/bash_completion";
    if !std::path::Path::new(LOADER).exists() {
        return None;
    }
    let home = TempDir::new("completion-home");
    let place = home.join(".local/share/bash-completion/completions");
    std::fs::create_dir_all(&place).unwrap();
    std::fs::write(place.join("sockscope"), cli::completions(Shell::Bash)).unwrap();
    let cwd = home.join("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    std::fs::write(cwd.join("a-file"), "").unwrap();
    let program = r#"source "$1"; shift; __load_completion sockscope || exit 3
        spec=$(complete -p sockscope) || exit 4
        function=${spec#*-F }; function=${function%% *}
        COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
        "$function" sockscope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[@]}""#;
    let mut command = Command::new("bash");
    command
        .args(["--norc", "-c", program, "bash", LOADER])
        .args(words)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", &*home)
        .current_dir(&cwd);
    let out = run_bounded(&mut command, Duration::from_secs(20));
    assert!(out.status.success(), "{words:?}: {}", text(&out.stderr));
    Some(
        text(&out.stdout)
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
    )
}

/// After `state` or `exclude`, tab offers the state names and nothing else; after `-N`, the
/// namespaces and not the files around (a path once the word has a `/`).
#[test]
fn completion_of_states_and_namespaces() {
    let states: BTreeSet<String> = cli::STATE_WORDS.iter().map(|s| (*s).to_owned()).collect();
    for words in [
        &["sockscope", "-t", "state", ""][..],
        &["sockscope", "-tan", "exclude", ""],
        &["sockscope", "watch", "-t", "state", ""],
        &["sockscope", "exporter", "state", ""],
    ] {
        assert_eq!(bash_completes(words), states, "{words:?}");
    }
    let l: BTreeSet<String> = ["last-ack", "listening"].map(str::to_owned).into();
    assert_eq!(bash_completes(&["sockscope", "state", "l"]), l);
    let Some(installed) = completes_as_installed(&["sockscope", "-t", "state", ""]) else {
        crate::util::skip("bash-completion is not installed (apt-get install bash-completion)");
        return;
    };
    assert_eq!(installed, states);
    let namespaces = completes_as_installed(&["sockscope", "-N", ""]).unwrap();
    assert!(namespaces.contains("all"), "{namespaces:?}");
    assert!(!namespaces.contains("a-file"), "{namespaces:?}");
    let paths = completes_as_installed(&["sockscope", "-N", "./a-"]).unwrap();
    assert!(paths.contains("./a-file"), "{paths:?}");
}

/// What clap's tips say stays in the one line: the option meant, the values an option takes;
/// and a subcommand typed after the options is said to come first.
#[test]
fn errors_keep_the_parsers_hints() {
    let error = |args: &[&str], status| {
        let out = sockscope(args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        stderr
    };
    assert_eq!(
        error(&["--jsn"], 2),
        "sockscope: unexpected argument '--jsn' found (did you mean '--json'?)\n"
    );
    assert_eq!(
        error(&["-f", "inet7"], 2),
        "sockscope: invalid value 'inet7' for '--family <FAMILY>' (did you mean 'inet'? \
         possible values: unix, inet, inet6, link, netlink, vsock, tipc, xdp)\n"
    );
    assert_eq!(
        error(&["watch", "--intervl", "1"], 2),
        "sockscope: unexpected argument '--intervl' found (did you mean '--interval'?)\n"
    );
    // The filter's own error stays, with its status (a word that is not an address: 1).
    let ns = Netns::new();
    let out = ns.output(SOCKSCOPE, &["-t", "watch", ":8000"]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(
            "sockscope: \"watch\" is a subcommand: it comes first (sockscope watch -t :8000): \
             filter: \"watch\" is not a keyword"
        ),
        "{stderr}"
    );
}

/// `:PORT` alone is both directions of the port, in a listing as in watch.
#[test]
fn port_shorthand_in_listings() {
    let table = RichTable::new();
    let ours = table.ns.output(SOCKSCOPE, &["-tan", ":22"]);
    let ss = table.ns.output(
        "ss",
        &[
            "-tan", "(", "sport", "=", ":22", "or", "dport", "=", ":22", ")",
        ],
    );
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    assert!(ss.status.success(), "{}", text(&ss.stderr));
    crate::eqnice!(
        comparable(&text(&ss.stdout)),
        comparable(&text(&ours.stdout))
    );
    assert!(
        text(&ours.stdout).contains(":22 "),
        "{}",
        text(&ours.stdout)
    );
    // It combines with other conditions: `:22 or :23` is both directions of both ports.
    let out = table.ns.output(SOCKSCOPE, &["-tan", ":22", "or", ":23"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        text(
            &table
                .ns
                .output(
                    SOCKSCOPE,
                    &[
                        "-tan",
                        "sport = :22 or dport = :22 or sport = :23 or dport = :23"
                    ]
                )
                .stdout
        )
    );
}

/// Watch shows every state unless one is asked for: a port's listener is in its first look.
#[test]
fn watch_shows_the_listener_by_default() {
    let ns = Netns::new();
    let _listener = ns.run(|| std::net::TcpListener::bind("127.0.0.1:55000").unwrap());
    let look = |args: &[&str]| {
        let mut all = vec!["watch", "--count", "1", "--interval", "0.02", "--jsonl"];
        all.extend(args);
        let out = ns.output(SOCKSCOPE, &all);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let first = text(&out.stdout).lines().next().unwrap_or("").to_owned();
        let snapshot: serde_json::Value = serde_json::from_str(&first).unwrap();
        assert_eq!(snapshot["type"], "snapshot", "{first}");
        snapshot["sockets"].as_array().unwrap().len()
    };
    assert_eq!(look(&["-t", ":55000"]), 1);
    assert_eq!(look(&["-t", "state", "established", "sport = :55000"]), 0);
    // `:PORT` combines with states, before or after them, as its long form does.
    assert_eq!(look(&["-t", "state", "listening", ":55000"]), 1);
    assert_eq!(look(&["-t", ":55000", "state", "listening"]), 1);
    assert_eq!(look(&["-t", "state", "established", ":55000"]), 0);
    assert_eq!(
        look(&[
            "-t",
            "state",
            "listening",
            "( sport = :55000 or dport = :55000 )"
        ]),
        1
    );
}
