//! The man page and shell completions are generated from the CLI definition and checked in.
//! These tests fail when the checked-in files drift from the CLI; run them with
//! `SOCKSCOPE_BLESS=1` to rewrite the files.

use std::path::Path;

use clap_complete::Shell;
use sockscope::cli;

fn check(path: &str, generated: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if std::env::var_os("SOCKSCOPE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, generated).unwrap();
        return;
    }
    let checked_in = std::fs::read(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} is out of date with the CLI; regenerate it with \
         `SOCKSCOPE_BLESS=1 cargo test --test integration generated`",
        path.display()
    );
}

#[test]
fn man_pages_are_up_to_date() {
    for (name, page) in cli::man_pages() {
        check(&format!("man/{name}"), &page);
    }
}

#[test]
fn completions_are_up_to_date() {
    check("completions/sockscope.bash", &cli::completions(Shell::Bash));
    check("completions/_sockscope", &cli::completions(Shell::Zsh));
    check("completions/sockscope.fish", &cli::completions(Shell::Fish));
}

/// Every JSON field the README's JSON section names (the first column of its field table, and
/// the fields of its detail-flag table) is named in the JSON section of sockscope(8).
#[test]
fn man_page_names_every_json_field_of_the_readme() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split("\n## JSON\n")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .expect("a JSON section in the README");
    let mut fields = Vec::new();
    for row in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = row.split(" | ").collect();
        // Field table: the fields are the first cell; flag table: the second.
        let cell = if cells[0].starts_with("| `-") {
            cells[1]
        } else {
            cells[0]
        };
        for (i, span) in cell.split('`').enumerate() {
            let is_name = !span.is_empty()
                && span
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit());
            if i % 2 == 1 && is_name {
                fields.push(span.to_owned());
            }
        }
    }
    assert!(fields.len() > 30, "{fields:?}");
    let page = cli::man_pages()
        .into_iter()
        .find(|(name, _)| name == "sockscope.8")
        .unwrap()
        .1;
    let page = String::from_utf8(page).unwrap();
    let json = page
        .split("\n.SH JSON\n")
        .nth(1)
        .and_then(|rest| rest.split("\n.SH ").next())
        .unwrap();
    let missing: Vec<&String> = fields
        .iter()
        .filter(|f| !json.contains(&format!("\\fB{f}\\fR")))
        .collect();
    assert!(
        missing.is_empty(),
        "missing in sockscope(8)'s JSON section: {missing:?}"
    );
}
