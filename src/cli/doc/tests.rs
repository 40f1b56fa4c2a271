//! The help, man pages and completions: generated from one source, and saying what is true.

use super::*;

/// The words of a shell command line up to its first `|`, single quotes taken out.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                word.get_or_insert_default();
            }
            '|' if !quoted => break,
            c if c.is_whitespace() && !quoted => words.extend(word.take()),
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn every_example_is_a_command_line_the_parser_takes() {
    let command = Cli::command();
    let names = std::iter::once("").chain(command.get_subcommands().map(|s| s.get_name()));
    for name in names {
        assert!(!examples(name).is_empty(), "no examples for {name:?}");
        for (line, _) in examples(name) {
            let words = shell_words(line);
            assert_eq!(words[0], "sockscope", "{line}");
            assert_eq!(
                words.get(1).map(String::as_str) == Some(name),
                !name.is_empty()
            );
            let parsed = Cli::command().try_get_matches_from(&words);
            assert!(parsed.is_ok(), "{line}: {:?}", parsed.err());
        }
    }
    assert_eq!(
        shell_words("sockscope -t '( sport = :1 )' | jq ."),
        ["sockscope", "-t", "( sport = :1 )"]
    );
}

/// Each page's SYNOPSIS names the value of every option that takes one, as its OPTIONS do.
#[test]
fn the_synopsis_keeps_value_names() {
    for (name, page) in man_pages() {
        let page = String::from_utf8(page).unwrap();
        let synopsis = page
            .split(".SH SYNOPSIS\n")
            .nth(1)
            .and_then(|rest| rest.lines().next())
            .unwrap();
        for (option, value) in [
            ("family", "FAMILY"),
            ("query", "QUERY"),
            ("net", "NAME"),
            ("interval", "SECS"),
            ("port", "PORT"),
            ("listen", "ADDR:PORT"),
        ] {
            let bare = format!("\\fB\\-\\-{option}\\fR");
            if synopsis.contains(&format!("{bare}]")) || synopsis.contains(&format!("{bare} ")) {
                assert!(
                    synopsis.contains(&format!("{bare} \\fI{value}\\fR]")),
                    "{name}: --{option} {value}: {synopsis}"
                );
            }
        }
        assert!(!synopsis.contains("\\-\\-family\\fR]"), "{name}");
        assert!(
            page.contains("\n.SH EXAMPLES\n.TP\n\\fBsockscope"),
            "{name}"
        );
    }
}
