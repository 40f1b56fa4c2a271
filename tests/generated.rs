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
