//! The parser on the words people type, against the trees and errors ss's grammar gives.

use super::*;

#[test]
fn the_completions_offer_the_words_the_parser_takes() {
    use crate::cli::{FILTER_WORDS, STATE_WORDS};
    // Spellings the completions do not offer: an old alias, and the state no socket is in.
    let unoffered = ["syn-rcv", "unknown"];
    for (name, _) in STATE_NAMES {
        assert!(
            STATE_WORDS.contains(name) != unoffered.contains(name),
            "{name}"
        );
    }
    for word in STATE_WORDS {
        assert!(state_set(word).is_some(), "{word}");
    }
    for word in FILTER_WORDS {
        assert!(is_keyword(word) || is_state_keyword(word), "{word}");
    }
    // Every state of the model has a name of its own, but the kernel's request minisocket,
    // for which ss has no filter word either.
    for state in TcpState::ALL {
        let named = STATE_NAMES
            .iter()
            .any(|&(_, states)| states == StateSet::single(state));
        assert_eq!(named, state != TcpState::NewSynRecv, "{state:?}");
    }
}
use crate::filter::{Cond, Host, InetHost};

fn parse_words(words: &[&str]) -> Result<Filter, FilterError> {
    let source = Source::Args(words.iter().map(|w| w.to_string()).collect());
    parse(&source, &ParseOptions::default())
}

fn expr(text: &str) -> Expr {
    parse_words(&[text]).unwrap().expr.unwrap()
}

fn sport(port: u16) -> Expr {
    Expr::Cond(Cond::Host(
        End::Local,
        Host::Inet(InetHost {
            family: None,
            prefix: None,
            port: Some(port),
            mapped_too: false,
        }),
    ))
}

fn error(text: &str) -> FilterError {
    parse_words(&[text]).unwrap_err()
}

#[test]
fn and_and_or_fold_from_the_left() {
    assert_eq!(
        expr("sport = :1 or sport = :2 and sport = :3"),
        sport(1).or(sport(2)).and(sport(3))
    );
    assert_eq!(
        expr("sport = :1 and sport = :2 or sport = :3"),
        sport(1).and(sport(2)).or(sport(3))
    );
    assert_eq!(expr("sport = :1 sport = :2"), sport(1).and(sport(2)));
    assert_eq!(
        expr("sport = :1 || sport = :2 && sport = :3 | sport = :4 & sport = :5"),
        sport(1)
            .or(sport(2))
            .and(sport(3))
            .or(sport(4))
            .and(sport(5))
    );
}

#[test]
fn not_binds_to_the_next_term() {
    assert_eq!(
        expr("! sport = :1 or sport = :2"),
        sport(1).not().or(sport(2))
    );
    assert_eq!(
        expr("not ( sport = :1 or sport = :2 )"),
        sport(1).or(sport(2)).not()
    );
    assert_eq!(expr("! ! sport = :1"), sport(1).not().not());
    assert_eq!(
        expr("sport = :1 or ( sport = :2 and sport = :3 )"),
        sport(1).or(sport(2).and(sport(3)))
    );
}

#[test]
fn comparisons() {
    assert_eq!(expr("sport != :1"), sport(1).not());
    assert_eq!(
        expr("sport > :1"),
        Expr::Cond(Cond::PortAtMost(End::Local, 1)).not()
    );
    assert_eq!(
        expr("dport < :1"),
        Expr::Cond(Cond::PortAtLeast(End::Peer, 1)).not()
    );
    assert_eq!(
        expr("dport geq :1"),
        Expr::Cond(Cond::PortAtLeast(End::Peer, 1))
    );
    assert_eq!(
        expr("sport le :1"),
        Expr::Cond(Cond::PortAtMost(End::Local, 1))
    );
    assert_eq!(
        expr("fwmark != 0x10"),
        Expr::Cond(Cond::Mark { mark: 16, mask: !0 }).not()
    );
    assert_eq!(expr("dev = 3"), Expr::Cond(Cond::Device(3)));
    assert_eq!(expr("autobound"), Expr::Cond(Cond::Autobound));
}

/// Read as unix names (`-x`), comparisons take any word and compare with ss's -1.
#[test]
fn unix_comparisons_have_no_port() {
    let unix = ParseOptions {
        default_family: Some(Family::Unix),
        ..ParseOptions::default()
    };
    let parsed = |text: &str| {
        let words = text.split(' ').map(str::to_owned).collect();
        parse(&Source::Args(words), &unix).map(|f| f.expr)
    };
    for word in [":1e3", ":ssh", ":99999999", ":-5", "unix:x", ":"] {
        assert_eq!(
            parsed(&format!("sport ge {word}")),
            Ok(Some(Expr::Cond(Cond::PortAtLeast(End::Local, NO_PORT)))),
            "{word}"
        );
    }
    assert_eq!(
        parsed("dport < :22"),
        Ok(Some(
            Expr::Cond(Cond::PortAtLeast(End::Peer, NO_PORT)).not()
        ))
    );
    assert!(parse_words(&["sport", "ge", ":1e3"]).is_err());
}

#[test]
fn states_come_first() {
    let filter = parse_words(&["state", "established", "state", "LISTENING"]).unwrap();
    assert_eq!(
        filter.states,
        Some(StateSet::single(TcpState::Established).with(TcpState::Listen))
    );
    assert_eq!(filter.expr, None);
    let filter = parse_words(&["exclude", "listening", "sport = :1"]).unwrap();
    assert_eq!(filter.states, Some(StateSet::ALL.without(TcpState::Listen)));
    assert_eq!(filter.expr, Some(sport(1)));
    let cancelled = parse_words(&["state", "listening", "exclude", "listening"]).unwrap();
    assert_eq!(cancelled.states, Some(StateSet::EMPTY));
    assert_eq!(
        state_set("bucket"),
        Some(StateSet::single(TcpState::SynRecv).with(TcpState::TimeWait))
    );
    assert_eq!(
        state_set("synchronized").map(|s| s.contains(TcpState::SynSent)),
        Some(false)
    );
    assert_eq!(state_set("estab"), None);
}

/// `:PORT` is short for `( sport = :PORT or dport = :PORT )` wherever a condition may
/// stand, and in a filter with one, states may follow the expression as well as come
/// before it.
#[test]
fn port_shorthand_combines() {
    let same = |short: &str, long: &str| {
        assert_eq!(parse_words(&[short]), parse_words(&[long]), "{short}");
    };
    let both = |port| "( sport = :PORT or dport = :PORT )".replace("PORT", port);
    same(":22", &both("22"));
    same(":ssh", &both("ssh"));
    same(
        "state established :22",
        &format!("state established {}", both("22")),
    );
    same(
        ":22 state established",
        &format!("state established {}", both("22")),
    );
    same(
        "state listening :22 state established",
        &format!("state listening state established {}", both("22")),
    );
    same(
        "! :22 and ( :23 or src 10.0.0.1 )",
        &format!("! {} and ( {} or src 10.0.0.1 )", both("22"), both("23")),
    );
    same(
        ":22 exclude listening",
        &format!("exclude listening {}", both("22")),
    );
    // Still a port: a word that is not one is a mistake in a value.
    assert!(parse_words(&[":nosuchservice"]).is_err());
    assert!(parse_words(&[":"]).is_err());
    // States end only the whole expression, and only a last word may be a state's name.
    assert!(parse_words(&["( :22 state established )"]).is_err());
    assert!(parse_words(&[":22 state established :23"]).is_err());
    assert!(parse_words(&[":22 state"]).is_err());
    // A filter without one is read as ss reads it: states only come first.
    assert!(parse_words(&["sport = :22 state established"]).is_err());
    assert!(parse_words(&["sport = :1 or :22 state established"]).is_ok());
}

#[test]
fn files_report_lines() {
    let file = |args: &[&str], lines: &[&str]| Source::File {
        args: args.iter().map(|w| w.to_string()).collect(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
    };
    let source = file(&[], &["sport = :22", "  or", ""]);
    let err = parse(&source, &ParseOptions::default()).unwrap_err();
    assert_eq!(err.at, None);
    let source = file(&[], &["sport = :22 or", "   )"]);
    let err = parse(&source, &ParseOptions::default()).unwrap_err();
    assert_eq!(err.at, Some((2, 4)));
    // The command line's states apply to the file's expression.
    let filter = parse(
        &file(&["state", "listening"], &["# ports", "sport = :1"]),
        &ParseOptions::default(),
    )
    .unwrap();
    assert_eq!(filter.states, Some(StateSet::single(TcpState::Listen)));
    assert_eq!(filter.expr, Some(sport(1)));
    let err = parse(&file(&["state"], &["sport = :1"]), &ParseOptions::default());
    assert_eq!(err.unwrap_err().exit_status(), 255);
    assert!(only_states(&[
        "state".into(),
        "listening".into(),
        "excl".into()
    ]));
    assert!(!only_states(&["sport = :1".into()]));
}

#[test]
fn backslashes_and_comments() {
    let file = |lines: &[&str]| Source::File {
        args: Vec::new(),
        lines: lines.iter().map(|l| l.to_string()).collect(),
    };
    let parsed = |lines: &[&str]| parse(&file(lines), &ParseOptions::default());
    assert_eq!(parsed(&[r"sport = \:1"]).unwrap().expr, Some(sport(1)));
    assert_eq!(parsed(&[r"sport = :\1\"]).unwrap().expr, Some(sport(1)));
    // A backslash at the end of a line ends the token there: `:2` and `2` are two.
    assert_eq!(
        parsed(&[r"sport = :2\", "2"]).unwrap_err().exit_status(),
        255
    );
    assert_eq!(
        parsed(&["#sport = :2", "sport = :1"]).unwrap().expr,
        Some(sport(1))
    );
    // Only a line that starts with `#` is a comment.
    assert_eq!(parsed(&["sport = :1 # x"]).unwrap_err().exit_status(), 1);
    assert_eq!(parsed(&[r"sport\ = :1"]).unwrap_err().exit_status(), 1);
}

#[test]
fn a_family_prefix_is_the_default_after_it() {
    let filter = parse_words(&["src inet6:* or sport = :1"]).unwrap();
    assert_eq!(filter.family, Some(Family::Inet6));
    assert_eq!(
        parse_words(&["src inet6:* or src 127.0.0.1"])
            .unwrap_err()
            .exit_status(),
        1
    );
    let filter = parse_words(&["dst inet6:* or dst inet:*"]).unwrap();
    assert_eq!(filter.family, Some(Family::Inet));
    assert_eq!(parse_words(&["src 127.0.0.1"]).unwrap().family, None);
}

#[test]
fn words_the_lexer_cannot_read_exit_with_one() {
    // Where a keyword is expected, a word is read as a value of the last keyword's kind.
    for text in [
        "bad.invalid",
        "sport = :1 xyz",
        "dev lo or 1.2.3.4",
        "SPORT.invalid = :1",
        "src 127.0.0.1 bad.invalid",
    ] {
        assert_eq!(error(text).exit_status(), 1, "{text}");
    }
    // A word that is such a value, and a keyword where a value should be, are syntax.
    for text in [
        "1.2.3.4",
        "sport = :1 2",
        "src or",
        "sport = dport",
        "dev src",
    ] {
        assert_eq!(error(text).exit_status(), 255, "{text}");
    }
    assert_eq!(state_set("syn-rcv"), state_set("syn-recv"));
    assert_eq!(
        state_set("unknown"),
        Some(StateSet::single(TcpState::Unknown))
    );
    let filter = parse_words(&["excl", "listening"]).unwrap();
    assert_eq!(filter.states, Some(StateSet::ALL.without(TcpState::Listen)));
}

#[test]
fn every_syntax_error_is_reported_with_its_place() {
    let cases = [
        ("( sport = :1", "filter: this \"(\" is never closed at 1:1"),
        ("sport = :1 )", "filter: unexpected \")\" at 1:12"),
        (
            "( )",
            "filter: expected an expression after \"(\", got \")\" at 1:3",
        ),
        (
            "( dport = )",
            "filter: expected a port after \"dport =\", got \")\" at 1:11",
        ),
        (
            "dport",
            "filter: expected a port after \"dport\", got the end of the filter",
        ),
        (
            "src",
            "filter: expected an address after \"src\", got the end of the filter",
        ),
        (
            "dev =",
            "filter: expected a device after \"dev\", got the end of the filter",
        ),
        (
            "fwmark",
            "filter: expected a mark after \"fwmark\", got the end of the filter",
        ),
        (
            "cgroup",
            "filter: expected a cgroup path after \"cgroup\", got the end of the filter",
        ),
        (
            "or sport = :1",
            "filter: unexpected \"or\": expected src, dst, sport, dport, dev, fwmark, cgroup, autobound, \"!\" or \"(\" at 1:1",
        ),
        (
            "sport = :1 or",
            "filter: expected an expression after \"or\", got the end of the filter",
        ),
        (
            "sport = :1 and )",
            "filter: expected an expression after \"and\", got \")\" at 1:16",
        ),
        (
            "!",
            "filter: expected an expression after \"!\", got the end of the filter",
        ),
        (
            "127.0.0.1",
            "filter: unexpected \"127.0.0.1\": expected src, dst, sport, dport, dev, fwmark, cgroup, autobound, \"!\" or \"(\" at 1:1",
        ),
        (
            "src sport",
            "filter: expected an address after \"src\", got \"sport\" at 1:5",
        ),
        (
            "dst != 1.2.3.4",
            "filter: expected an address after \"dst\", got \"!=\" at 1:5",
        ),
    ];
    for (text, message) in cases {
        let err = error(text);
        assert_eq!(err.to_string(), message, "{text}");
        assert_eq!(err.exit_status(), 255, "{text}");
    }
}

#[test]
fn value_errors_exit_with_one() {
    for (text, message) in [
        (
            "dst 1.2.3.4.5",
            "filter: \"1.2.3.4.5\" is not an IPv4 address at 1:5",
        ),
        ("dst [zz]", "filter: \"[zz]\" is not an IPv6 address at 1:5"),
        (
            "src 2001:db8::",
            "filter: \"2001:db8:\" is not an IPv6 address (without brackets, the part after the last \":\" is the port; write [2001:db8::] for the address alone) at 1:5",
        ),
        (
            "sport = :-1",
            "filter: port -1 is out of range (0 to 65535) at 1:9",
        ),
        (
            "sport = :99999",
            "filter: port 99999 is out of range (0 to 65535) at 1:9",
        ),
        (
            "sport = :nosuch",
            "filter: \"nosuch\" is not a port number or a service name at 1:9",
        ),
        (
            "sport > :nosuch",
            "filter: \"nosuch\" is not a port number or a service name at 1:9",
        ),
        (
            "fwmark = 1/2/3",
            "filter: \"1/2/3\" is not a mark (MARK or MARK/MASK) at 1:10",
        ),
        (
            "dev = no-such-device",
            "filter: no network device \"no-such-device\" at 1:7",
        ),
        (
            "src link:eth0",
            "filter: \"eth0\" is not an ethertype (ip, ipv6, all, 0x88cc, ...) at 1:5",
        ),
        (
            "src netlink:rtnl:x",
            "filter: \"x\" is not a netlink port id at 1:5",
        ),
        (
            "src vsock:1",
            "filter: filtering on vsock addresses is not supported yet at 1:5",
        ),
    ] {
        let err = error(text);
        assert_eq!(err.to_string(), message, "{text}");
        assert_eq!(err.exit_status(), 1, "{text}");
    }
    let err = parse_words(&["state", "estab"]).unwrap_err();
    assert_eq!(err.to_string(), "wrong state name: estab");
    assert_eq!(err.exit_status(), 255);
    let err = parse_words(&["state"]).unwrap_err();
    assert_eq!(err.exit_status(), 255);
}
