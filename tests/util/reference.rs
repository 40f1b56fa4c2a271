//! The two ss versions the output is compared with.
//!
//! sockscope's output follows ss 7.1. The installed ss (6.1 on Debian 12) is always run; its
//! output and ours are compared after [`normalise`] takes out the differences between 6.1 and
//! 7.1 documented in the README, and nothing else. When `SOCKSCOPE_SS71` names an ss 7.1 (CI
//! builds one, see `.ci/run`), ours is also compared with it exactly.

use std::sync::OnceLock;

/// The environment variable naming ss 7.1's binary.
pub const SS71_VARIABLE: &str = "SOCKSCOPE_SS71";

/// ss 7.1's binary, when `SOCKSCOPE_SS71` names one. When it does not, says so on stderr,
/// once per test binary.
pub fn ss71() -> Option<&'static str> {
    static PATH: OnceLock<Option<String>> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var(SS71_VARIABLE).ok().filter(|p| !p.is_empty());
        if path.is_none() {
            super::skip(&format!(
                "{SS71_VARIABLE} is not set: comparing with the installed ss only, not exactly \
                 with ss 7.1"
            ));
        }
        path
    })
    .as_deref()
}

/// Whether the installed `ss` prints as 7.1 does; if not (6.1), comparisons with it
/// [`normalise`] both sides.
pub fn installed_is_71() -> bool {
    static IS_71: OnceLock<bool> = OnceLock::new();
    *IS_71.get_or_init(|| {
        let out = std::process::Command::new("ss").arg("-V").output();
        let version = out.map(|o| super::text(&o.stdout)).unwrap_or_default();
        !version.contains("iproute2-6.") && !version.contains("iproute2-5.")
    })
}

/// The words ss 7.1 prints in `-i` that 6.1 does not know.
const NEW_IN_71: [&str; 2] = ["rcv_wnd:", "rehash:"];

/// Takes out of a listing what differs between ss 6.1 and 7.1 (README, "Which ss"): the
/// "Process" title (7.1 prints it only with `-p`/`-T`), the padding between cells (7.1 pads
/// no cell after the last one with content, and so aligns the details differently), trailing
/// white space, and `-i`'s `rcv_wnd:` and `rehash:`. Applied to both outputs alike.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (n, line) in text.lines().enumerate() {
        let mut words: Vec<&str> = line
            .split(' ')
            .filter(|w| !w.is_empty())
            .filter(|w| !NEW_IN_71.iter().any(|new| w.starts_with(new)))
            .collect();
        let header = n == 0
            && matches!(
                words.first(),
                Some(&"Netns" | &"Netid" | &"State" | &"Recv-Q" | &"Local")
            );
        if header {
            // 6.1 runs the title into a full Port column: "Address:PortProcess".
            match words.last().and_then(|w| w.strip_suffix("Process")) {
                Some("") => {
                    words.pop();
                }
                Some(rest) => *words.last_mut().unwrap() = rest,
                None => {}
            }
        }
        // A tab starts the details, after the padding of the cell before it.
        out.push_str(&words.join(" ").replace(" \t", "\t"));
        out.push('\n');
    }
    out
}

/// The local `address:port` of every bound-inactive TCP socket in `ns`, as `-n` prints them.
pub fn bound_inactive(ns: &super::Netns) -> Vec<String> {
    let out = ns.output(super::SOCKSCOPE, &["-HtnB"]);
    super::text(&out.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().nth(2).map(str::to_owned))
        .collect()
}

/// ss 7.1 lists bound-inactive TCP sockets in every TCP listing, as `UNCONN`; sockscope, as
/// 6.1, only with `-B` (README, "Where sockscope differs from ss"). Drops those rows from 7.1's
/// output; `None` when it has none, so that the comparison stays exact.
pub fn without_bound_inactive(text: &str, bound: &[String]) -> Option<String> {
    let is_bound_row = |line: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.contains(&"UNCONN")
            && words.iter().any(|w| bound.iter().any(|b| b == w))
            && !words.contains(&"udp")
    };
    if bound.is_empty() || !text.lines().any(is_bound_row) {
        return None;
    }
    let mut out = String::new();
    for line in text.lines().filter(|l| !is_bound_row(l)) {
        out.push_str(line);
        out.push('\n');
    }
    Some(out)
}
