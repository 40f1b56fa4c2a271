//! The configuration built from command lines, checked against what each option means.

use clap::{CommandFactory, FromArgMatches};

use super::*;

fn inputs() -> Inputs {
    Inputs {
        filter_file: None,
        tcpdiag_file: None,
        selinux: false,
        context: filter::Context {
            ephemeral: (32768, 60999),
        },
    }
}

fn config(args: &[&str]) -> Result<Config, ConfigError> {
    let matches = Cli::command()
        .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
        .unwrap();
    let cli = Cli::from_arg_matches(&matches).unwrap();
    Config::new(&cli, &inputs())
}

fn watch_config(args: &[&str]) -> Result<Config, ConfigError> {
    let matches = Cli::command()
        .try_get_matches_from(["sockscope", "watch"].iter().chain(args))
        .unwrap();
    let matches = matches.subcommand_matches("watch").unwrap();
    let args = WatchArgs::from_arg_matches(matches).unwrap();
    Config::watch(&args, &inputs())
}

#[test]
fn watch_shows_every_state_unless_narrowed() {
    for args in [&[][..], &["-t"], &["-u", ":53"], &["-x"]] {
        assert_eq!(
            watch_config(args).unwrap().query.states,
            StateSet::ALL,
            "{args:?}"
        );
    }
    assert_eq!(
        watch_config(&["-tl"]).unwrap().query.states,
        listening_states()
    );
    assert_eq!(
        watch_config(&["-t", "state", "established"])
            .unwrap()
            .query
            .states,
        StateSet::single(TcpState::Established)
    );
    assert_eq!(
        watch_config(&["-B"]).unwrap().query.states,
        StateSet::single(TcpState::BoundInactive)
    );
    let watch = watch_config(&["-tp", "-N", "web"]).unwrap();
    assert_eq!(watch.processes, Some(Scope::Processes));
    assert_eq!(watch.namespaces, Namespaces::Named("web".into()));
}

/// A filter typed into watch's live view means what it means on the command line: the
/// query is the one the command line would have made with it instead of its own filter.
#[test]
fn a_typed_filter_is_read_as_on_the_command_line() {
    let words =
        |text: &str| -> Vec<String> { text.split_whitespace().map(str::to_owned).collect() };
    for options in [
        &["-t"][..],
        &["-4", "-t"],
        &["-tl"],
        &["-tu", "-6"],
        &["-x"],
    ] {
        let mut given = options.to_vec();
        given.extend(["state", "established", "dport", "=", ":22"]);
        let config = watch_config(&given).unwrap();
        for typed in [
            "",
            ":80",
            "state listening sport = :80",
            "state time-wait",
            "src inet6:*",
            "sport = :domain",
        ] {
            let mut line = options.to_vec();
            line.extend(typed.split_whitespace());
            assert_eq!(
                config.refilter(&words(typed)),
                watch_config(&line).map(|c| c.query),
                "{options:?} then {typed:?}"
            );
        }
    }
    let config = watch_config(&["-t"]).unwrap();
    assert!(config.refilter(&words("sport = :nosuchservice")).is_err());
}

#[test]
fn port_shorthand_in_listings() {
    let short = config(&["-t", ":22"]).unwrap();
    let long = config(&[
        "-t", "(", "sport", "=", ":22", "or", "dport", "=", ":22", ")",
    ]);
    assert_eq!(short.query.filter, long.unwrap().query.filter);
    assert!(short.query.filter.is_some());
    // It combines with states and other conditions, before or after them (the parser
    // reads it: filter::parse's tests).
    let both = "state established ( sport = :22 or dport = :22 )";
    for (short, long) in [
        (
            &["-t", "state", "established", ":22"][..],
            &["-t", both][..],
        ),
        (&["-t", ":22", "state", "established"], &["-t", both]),
        (
            &["-t", ":22", "or", ":23"],
            &[
                "-t",
                "( sport = :22 or dport = :22 ) or ( sport = :23 or dport = :23 )",
            ],
        ),
    ] {
        let query = |words| config(words).unwrap().query;
        assert_eq!(query(short), query(long), "{short:?}");
    }
}

#[test]
fn modes_exclude_each_other() {
    assert_eq!(config(&["-t"]).unwrap().mode, Mode::List);
    assert_eq!(config(&["-tK", "dport = :1"]).unwrap().mode, Mode::Kill);
    assert_eq!(config(&["-E"]).unwrap().mode, Mode::Events);
    assert_eq!(
        config(&["-D", "x"]).unwrap().mode,
        Mode::Record(PathBuf::from("x"))
    );
    for both in [&["-E", "-K"][..], &["-K", "-D", "x"], &["-E", "-D", "x"]] {
        let args = std::iter::once(&"sockscope").chain(both);
        assert!(
            Cli::command().try_get_matches_from(args).is_err(),
            "{both:?}"
        );
    }
}

fn tables(args: &[&str]) -> Vec<Netid> {
    config(args).unwrap().query.tables.iter().collect()
}

fn families(args: &[&str]) -> (bool, bool) {
    let f = config(args).unwrap().query.families;
    (f.contains(Family::Inet), f.contains(Family::Inet6))
}

#[test]
fn default_is_every_table_connected() {
    let c = config(&[]).unwrap();
    assert_eq!(c.query.states, StateSet::DEFAULT);
    assert!(c.output.show_netid && c.output.show_state);
    assert_eq!(tables(&[]), Netid::ALL);
}

#[test]
fn last_of_all_and_listening_wins() {
    assert_eq!(config(&["-tal"]).unwrap().query.states, listening_states());
    assert_eq!(config(&["-tla"]).unwrap().query.states, StateSet::ALL);
    assert_eq!(
        config(&["-t", "-l"]).unwrap().query.states,
        listening_states()
    );
}

#[test]
fn last_ip_version_wins() {
    assert_eq!(families(&["-t", "-6", "-4"]), (true, false));
    assert_eq!(
        families(&["-t", "-f", "inet", "-f", "inet6"]),
        (false, true)
    );
    assert_eq!(families(&["-t", "-4", "-6", "-f", "unix"]), (true, true));
    assert_eq!(families(&["-6", "-f", "unix", "-4"]), (true, false));
}

#[test]
fn tables_and_families_complete_each_other() {
    assert_eq!(
        tables(&["-t", "-x"]),
        [
            Netid::UnixStream,
            Netid::UnixDgram,
            Netid::UnixSeqpacket,
            Netid::Tcp
        ]
    );
    assert_eq!(families(&["-t", "-x"]), (true, true));
    let inet = [
        Netid::Raw,
        Netid::Udp,
        Netid::Tcp,
        Netid::Mptcp,
        Netid::Dccp,
        Netid::Sctp,
    ];
    assert_eq!(tables(&["-4"]), inet);
    assert_eq!(families(&["-4"]), (true, false));
    assert_eq!(tables(&["-M"]), [Netid::Mptcp]);
    assert_eq!(tables(&["-0"]), [Netid::PacketRaw, Netid::PacketDgram]);
    assert!(!tables(&["-A", "all,!unix"]).contains(&Netid::UnixDgram));
    assert_eq!(tables(&["-A", "all,!unix"]).len(), Netid::ALL.len() - 3);
    assert_eq!(tables(&["-A", "unix_dgram"]), [Netid::UnixDgram]);
}

#[test]
fn columns_follow_the_selection() {
    let single = config(&["-t"]).unwrap().output;
    assert!(!single.show_netid && single.show_state);
    // UDP lists established sockets only: one state, so no State column.
    let udp = config(&["-u"]).unwrap();
    assert_eq!(udp.query.states.bits(), 0x2);
    assert!(!udp.output.show_state);
    // The extension bits ss 6.1 asks for (seen with strace).
    let all = config(&["-tanmi", "--tos"]).unwrap();
    assert_eq!(all.query.attributes.inet, 0x7f);
    assert_eq!(config(&["-tane"]).unwrap().query.attributes.inet, 0);
    let unix = config(&["-x"]).unwrap().output;
    assert!(unix.show_netid);
}

#[test]
fn summary_lists_only_what_is_named() {
    let mode = |args: &[&str]| config(args).map(|c| c.summary);
    assert_eq!(mode(&[]), Ok(None));
    assert_eq!(mode(&["-t"]), Ok(None));
    for args in [
        &["-s"][..],
        &["-s", "-a", "-n", "-H"],
        &["-s", "-l"],
        &["-sj"],
    ] {
        assert_eq!(mode(args), Ok(Some(SummaryMode::Alone)), "{args:?}");
    }
    for args in [
        &["-s", "-t"][..],
        &["-x", "-s"],
        &["-s", "-4"],
        &["-s", "-A", "tcp"],
        &["-s", "-f", "inet"],
        &["-s", "state", "established"],
        &["-s", "dport", "=", ":22"],
    ] {
        assert_eq!(mode(args), Ok(Some(SummaryMode::ThenListing)), "{args:?}");
    }
    let err = config(&["-s", "-j", "-t"]).unwrap_err();
    assert_eq!(err, ConfigError::JsonSummaryAndListing);
    assert_eq!(err.exit_status(), 2);
}

#[test]
fn threads_imply_processes() {
    assert_eq!(config(&["-t"]).unwrap().processes, None);
    assert_eq!(config(&["-tp"]).unwrap().processes, Some(Scope::Processes));
    assert_eq!(config(&["-tT"]).unwrap().processes, Some(Scope::Threads));
    assert_eq!(
        config(&["-p", "--threads"]).unwrap().processes,
        Some(Scope::Threads)
    );
}

#[test]
fn which_namespaces() {
    let of = |args: &[&str], expected: Namespaces| {
        let matches = Cli::command()
            .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
            .unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        assert_eq!(Namespaces::of(&cli.listing.selection), expected, "{args:?}");
    };
    of(&[], Namespaces::Current);
    of(&["-N", "web"], Namespaces::Named("web".into()));
    of(
        &["--net=/proc/1/ns/net"],
        Namespaces::Named("/proc/1/ns/net".into()),
    );
    of(&["-N", "all"], Namespaces::All);
    of(&["--all-netns"], Namespaces::All);
    of(
        &["-N", "/run/netns/all"],
        Namespaces::Named("/run/netns/all".into()),
    );
    assert_eq!(
        config(&["-N", "all", "-t"]).unwrap().namespaces,
        Namespaces::All
    );
    for (args, what) in [
        (&["-N", "all", "-D", "x"][..], "-D"),
        (&["--all-netns", "-s"], "-s"),
        (&["-N", "all", "--from-dump", "x"], "a dump to read"),
        (&["-N", "all", "-K", "--force"], "-K"),
    ] {
        let err = config(args).unwrap_err();
        assert_eq!(err, ConfigError::AllNamespacesWith(what));
        assert_eq!(err.exit_status(), 2);
    }
}

#[test]
fn dumps_are_of_the_tcp_table() {
    assert_eq!(
        config(&["-u", "-D", "x"]).unwrap_err(),
        ConfigError::RecordWithoutTcp
    );
    let recording = config(&["-D", "-", "-4"]).unwrap();
    assert_eq!(recording.mode, Mode::Record(PathBuf::from("-")));
    assert!(recording.query.tables.contains(Netid::Tcp));
    assert_eq!(
        config(&["-x", "--from-dump", "x"]).unwrap_err(),
        ConfigError::DumpWithoutTcp
    );
    let replay = config(&["--from-dump", "x.dump", "-4", "-a"]).unwrap();
    assert_eq!(replay.query.tables.iter().collect::<Vec<_>>(), [Netid::Tcp]);
    assert!(!replay.output.show_netid);
    // The query opens it as it lists.
    assert_eq!(replay.query.tcp_dump, Some(PathBuf::from("x.dump")));
}

#[test]
fn every_table_name_the_cli_offers_means_tables() {
    for (name, aliases) in TABLES {
        for name in std::iter::once(name).chain(aliases.iter()) {
            assert!(table_group(name).is_some_and(|t| !t.is_empty()), "{name}");
        }
    }
}

#[test]
fn bad_tables_are_errors() {
    assert_eq!(
        config(&["-A", "foo"]).unwrap_err(),
        ConfigError::UnknownTable("foo".into())
    );
    assert_eq!(
        config(&["-A", "tcp,!bar"]).unwrap_err(),
        ConfigError::UnknownTable("!bar".into())
    );
}
