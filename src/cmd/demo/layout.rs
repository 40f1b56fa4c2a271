//! The demo's text on a terminal of any width: prose wrapped at spaces, a shell command
//! wrapped between its words, and the kernel's table with a name for each row.

/// Breaks `text` into lines of at most `width` characters, at spaces. A word longer than the
/// width has a line of its own rather than being cut.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    wrap_words(text.split_whitespace(), "", "", "", width)
}

/// Lays out `words` as lines of at most `width` characters where the words allow: the first
/// line starts with `first`, the others with `then`, and every line but the last ends with
/// `more` (a space and a backslash for a shell command).
pub fn wrap_words<'w>(
    words: impl IntoIterator<Item = &'w str>,
    first: &str,
    then: &str,
    more: &str,
    width: usize,
) -> Vec<String> {
    let chars = |s: &str| s.chars().count();
    let mut lines = Vec::new();
    let mut line = String::from(first);
    let mut empty = true;
    for word in words {
        let fits = chars(&line) + 1 + chars(word) + chars(more) <= width;
        if !empty && !fits {
            line.push_str(more);
            lines.push(std::mem::replace(&mut line, String::from(then)));
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    if !empty {
        lines.push(line);
    }
    lines
}

/// The table as the renderer printed it, each socket's row followed by `labels[i]` in the
/// column where ss names processes (`-p`), and every line without its trailing spaces.
///
/// `rendered` is the header line, then for each socket its row and any detail lines (which
/// begin with a tab).
pub fn label_rows(rendered: &str, labels: &[&str]) -> Vec<String> {
    let mut lines = rendered.lines().map(str::trim_end);
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let lines: Vec<&str> = lines.collect();
    let rows = || lines.iter().filter(|line| !line.starts_with('\t'));
    // Under ss's Process header, and at least two spaces after the longest row.
    let longest = rows().map(|line| line.len()).max().unwrap_or(0);
    let column = header.find("Process").unwrap_or(0).max(longest + 2);
    let mut out = vec![header.to_owned()];
    let mut labels = labels.iter();
    for line in lines {
        if line.starts_with('\t') {
            out.push(line.to_owned());
            continue;
        }
        match labels.next().filter(|label| !label.is_empty()) {
            Some(label) => out.push(format!("{line:column$}{label}")),
            None => out.push(line.to_owned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces() {
        assert_eq!(wrap("one two three four", 9), ["one two", "three", "four"]);
        assert_eq!(wrap("", 9), Vec::<String>::new());
        assert_eq!(wrap("a longword b", 4), ["a", "longword", "b"]);
    }

    #[test]
    fn a_command_breaks_between_words() {
        let words = "ss -tan sport = :55000 or dport = :55000".split(' ');
        let lines = wrap_words(words, "$ ", "    ", " \\", 24);
        assert_eq!(
            lines,
            [
                "$ ss -tan sport = \\",
                "    :55000 or dport = \\",
                "    :55000"
            ]
        );
        assert!(lines.iter().all(|l| l.len() <= 24));
    }

    #[test]
    fn labels_go_where_processes_would() {
        let rendered = "State  Recv-Q Peer Address:PortProcess\n\
                        LISTEN 0           0.0.0.0:*       \n\
                        \t skmem:(r0)\n\
                        ESTAB  0         127.0.0.1:41234   \n";
        assert_eq!(
            label_rows(rendered, &["server", "client"]),
            [
                "State  Recv-Q Peer Address:PortProcess",
                "LISTEN 0           0.0.0.0:*      server",
                "\t skmem:(r0)",
                "ESTAB  0         127.0.0.1:41234  client",
            ]
        );
    }
}
