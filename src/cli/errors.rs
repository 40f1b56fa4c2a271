//! Argument errors in one line each, as the project prints every error, keeping what clap's
//! tips would have said below it: the option or value meant (`did you mean '--json'?`), the
//! values an option takes; and the hint for a subcommand typed after the options, which the
//! parser can only take for a filter's first word (`sockscope -t watch :8000`).

use clap::CommandFactory;
use clap::error::{ContextKind, ContextValue};

use super::Cli;

/// An argument error as one line, without clap's usage: `unexpected argument '--jsn' found
/// (did you mean '--json'?)`.
pub fn one_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let first = text.lines().next().unwrap_or("");
    let mut line = first
        .strip_prefix("error: ")
        .unwrap_or(first)
        .trim_end()
        .to_owned();
    let hints: Vec<String> = [tip(error), possible_values(error)]
        .into_iter()
        .flatten()
        .collect();
    if !hints.is_empty() {
        line.push_str(&format!(" ({})", hints.join(" ")));
    }
    line
}

/// clap's tip: the option, subcommand or value most like what was typed.
fn tip(error: &clap::Error) -> Option<String> {
    let similar = [
        ContextKind::SuggestedArg,
        ContextKind::SuggestedSubcommand,
        ContextKind::SuggestedValue,
    ]
    .into_iter()
    .find_map(|kind| strings(error, kind))?;
    let quoted: Vec<String> = similar.iter().map(|s| format!("'{s}'")).collect();
    Some(format!("did you mean {}?", quoted.join(" or ")))
}

/// The values an option takes, when what was typed is none of them.
fn possible_values(error: &clap::Error) -> Option<String> {
    let values = strings(error, ContextKind::ValidValue)?;
    Some(format!("possible values: {}", values.join(", ")))
}

fn strings(error: &clap::Error, kind: ContextKind) -> Option<Vec<String>> {
    match error.get(kind)? {
        ContextValue::String(one) => Some(vec![one.clone()]),
        ContextValue::Strings(many) if !many.is_empty() => Some(many.clone()),
        _ => None,
    }
}

impl Cli {
    /// A listing's error, with a hint when its filter starts with a subcommand's name: the
    /// subcommand was typed after the options (`sockscope -t watch :8000`), where only a
    /// filter may stand.
    pub fn with_subcommand_hint(&self, error: anyhow::Error) -> anyhow::Error {
        let args: Vec<String> = std::env::args().skip(1).collect();
        match self.misplaced_subcommand(&args) {
            Some(hint) => error.context(hint),
            None => error,
        }
    }

    /// The hint for `args` (without the program's name), the command line as it should be.
    fn misplaced_subcommand(&self, args: &[String]) -> Option<String> {
        let word = self.listing.selection.expression.first()?;
        let name = word.split_whitespace().next()?;
        Cli::command()
            .get_subcommands()
            .find(|sub| sub.get_name() == name)?;
        let Some(at) = args.iter().position(|arg| arg == name) else {
            return Some(format!("\"{name}\" is a subcommand: it comes first"));
        };
        let mut fixed = vec![name.to_owned()];
        fixed.extend(
            args[..at]
                .iter()
                .chain(&args[at + 1..])
                .map(|arg| quoted(arg)),
        );
        Some(format!(
            "\"{name}\" is a subcommand: it comes first (sockscope {})",
            fixed.join(" ")
        ))
    }
}

/// A word as a shell would take it back: quoted when empty or with white space in it.
fn quoted(arg: &str) -> String {
    if arg.is_empty() || arg.contains(char::is_whitespace) {
        format!("'{arg}'")
    } else {
        arg.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;

    fn error(args: &[&str]) -> String {
        let args = std::iter::once("sockscope").chain(args.iter().copied());
        one_line(&Cli::command().try_get_matches_from(args).unwrap_err())
    }

    #[test]
    fn errors_keep_clap_tips_in_their_line() {
        assert_eq!(
            error(&["--jsn"]),
            "unexpected argument '--jsn' found (did you mean '--json'?)"
        );
        let family = error(&["-f", "inet7"]);
        assert!(family.starts_with("invalid value 'inet7' for '--family <FAMILY>' ("));
        assert!(family.contains("possible values: unix, inet, inet6, link,"));
        assert!(family.contains("did you mean 'inet"), "{family}");
        assert_eq!(
            error(&["watch", "--intervl", "1"]),
            "unexpected argument '--intervl' found (did you mean '--interval'?)"
        );
        assert_eq!(error(&["-q"]), "unexpected argument '-q' found");
    }

    #[test]
    fn a_subcommand_after_the_options() {
        let hint = |args: &[&str]| {
            let matches = Cli::command()
                .try_get_matches_from(std::iter::once("sockscope").chain(args.iter().copied()))
                .unwrap();
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            Cli::from_arg_matches(&matches)
                .unwrap()
                .misplaced_subcommand(&args)
        };
        assert_eq!(
            hint(&["-t", "watch", ":8000"]).as_deref(),
            Some("\"watch\" is a subcommand: it comes first (sockscope watch -t :8000)")
        );
        assert_eq!(
            hint(&["-t", "exporter"]).as_deref(),
            Some("\"exporter\" is a subcommand: it comes first (sockscope exporter -t)")
        );
        assert_eq!(
            hint(&["-t", "watch :8000"]).as_deref(),
            Some("\"watch\" is a subcommand: it comes first")
        );
        assert_eq!(hint(&["-t", "src", "watch"]), None);
        assert_eq!(hint(&["-t", ":8000"]), None);
    }
}
