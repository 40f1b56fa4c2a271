//! Helpers shared by the integration tests: namespaces, the reference socket table, processes
//! that hold sockets, temporary directories, bounded waits that fail when they give up, and
//! running ss and sockscope side by side (also on a terminal of a given width).

pub mod fixture;
pub mod holder;
pub mod netns;
pub mod pty;
pub mod reference;

use std::io::Write;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use fixture::RichTable;
pub use holder::{Holder, Spec};
pub use netns::{Named, Netns};

/// The binary under test.
pub const SOCKSCOPE: &str = env!("CARGO_BIN_EXE_sockscope");

/// A private directory under the system's temporary one, named for the test process and a
/// [`unique`] number; dropping it removes it with all it holds, also when the test fails.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new, empty directory whose name begins `sockscope-TAG-`.
    pub fn new(tag: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "sockscope-{tag}-{}-{}",
            std::process::id(),
            unique()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    /// The path of `name` inside it, as text for a command line.
    pub fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("a UTF-8 path").to_owned()
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A number no other call in this process returns.
pub fn unique() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each line with its runs of white space folded to one space and trailing space dropped.
pub fn fold(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Replaces what moves between two runs (time left on a timer, milliseconds since the last
/// packet) by a placeholder, keeping the shape, and folds white space.
pub fn still(output: &str) -> String {
    let mut out = String::new();
    for word in output.split_inclusive(|c: char| c.is_whitespace()) {
        let trimmed = word.trim_end();
        // ss prints a timer about to fire (0 ms left) as nothing at all.
        let duration =
            |t: &str| t.is_empty() || t.ends_with("ms") || t.ends_with("sec") || t.ends_with("min");
        let masked = if let Some(rest) = trimmed.strip_prefix("timer:(") {
            let mut parts = rest.splitn(3, ',');
            let name = parts.next().unwrap_or("");
            match parts.next() {
                // Anything else stays as it is, for the comparison to show.
                Some(time) if duration(time) => {
                    format!("timer:({name},T,{}", parts.next().unwrap_or(""))
                }
                _ => trimmed.to_owned(),
            }
        } else if let Some((name, value)) = trimmed.split_once(':') {
            match name {
                "lastsnd" | "lastrcv" | "lastack" | "last_data_sent" | "last_data_recv"
                | "last_ack_recv"
                    if value.parse::<u64>().is_ok() =>
                {
                    format!("{name}:N")
                }
                // Time spent sending grows while data waits to be sent.
                "busy" | "rwnd_limited" | "sndbuf_limited" if value.contains("ms") => {
                    format!("{name}:Nms")
                }
                _ => trimmed.to_owned(),
            }
        } else {
            trimmed.to_owned()
        };
        out.push_str(&masked);
        out.push_str(&word[trimmed.len()..]);
    }
    fold(&out)
}

/// Says on standard error, past the test harness's capture of `eprintln!`, that the calling
/// test checked nothing, and why: a skipped test must not pass silently.
pub fn skip(why: &str) {
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let _ = writeln!(std::io::stderr(), "skipped {test}: {why}");
}

/// How long the kernel may take to move what a test built into the state it expects: far
/// longer than it takes (loopback delivers at once), and still bounded.
pub const SETTLE_LIMIT: Duration = Duration::from_secs(30);

/// Waits until `socket` has `n` bytes to read (a stream) or a datagram of `n` bytes or more
/// waiting, so that every tool run afterwards sees them queued; panics if they have not
/// arrived within [`SETTLE_LIMIT`].
pub fn wait_readable(socket: &impl AsFd, n: usize) {
    let socket = socket2::SockRef::from(socket);
    let deadline = Instant::now() + SETTLE_LIMIT;
    let mut buf = [std::mem::MaybeUninit::new(0u8); 4096];
    loop {
        if socket.peek(&mut buf).is_ok_and(|len| len >= n) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{n} bytes sent on loopback did not arrive within {SETTLE_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// What `command`, a shell command line, printed when run in `ns` on a terminal `columns`
/// wide: `script` gives it the terminal and `stty` the width.
pub fn on_terminal(ns: &Netns, columns: u16, command: &str) -> String {
    let script = format!("stty cols {columns}; {command}");
    text(&ns.output("script", &["-qec", &script, "/dev/null"]).stdout)
}

/// Each of `references` (a name, what that ss printed, what sockscope printed) whose two
/// outputs differ, said for a failure message about `args` at `columns` columns.
pub fn layout_differences(
    args: &str,
    columns: u16,
    references: Vec<(&str, String, String)>,
) -> impl Iterator<Item = String> {
    references
        .into_iter()
        .filter(|(_, ss, ours)| ss != ours)
        .map(move |(name, ss, ours)| {
            format!("{args} at {columns} columns:\n--- {name}\n{ss}--- sockscope\n{ours}")
        })
}

/// Waits until `count` processes of the namespace have joined a sock_diag multicast group
/// (the destroy events of `-E` and watch), as /proc/net/netlink shows them; panics if they
/// have not within 10 s.
pub fn wait_subscribed(ns: &Netns, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let table = ns.run(|| std::fs::read_to_string("/proc/thread-self/net/netlink").unwrap());
        let joined = table
            .lines()
            .skip(1)
            .filter(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                fields.get(1) == Some(&"4") && fields.get(3).is_some_and(|g| *g != "00000000")
            })
            .count();
        if joined >= count {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {joined} of {count} listeners joined the destroy groups:\n{table}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The keys of a JSON object, in the order they were written.
pub struct Keys(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, _)) = map.next_entry::<String, serde::de::IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// What running both tools with the same arguments in the same namespace gave.
///
/// `ss` is the installed ss; when that is not 7.1, both outputs here have been through
/// [`reference::normalise`], and `exact` holds the raw outputs of ss 7.1 and ours when
/// `SOCKSCOPE_SS71` names one. [`Both::mismatch`] and [`assert_all_same`] check both.
pub struct Both {
    pub args: Vec<String>,
    pub ss: Output,
    pub ours: Output,
    pub exact: Option<Box<Both>>,
}

impl Both {
    pub fn run(ns: &Netns, args: &[&str]) -> Both {
        Both::run_with(ns, args, &[])
    }

    /// Runs both with extra environment variables.
    pub fn run_with(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> Both {
        let run = |program: &str| {
            let mut command = ns.command(program);
            command.args(args).envs(env.iter().copied());
            netns::run_bounded(&mut command, netns::RUN_LIMIT)
        };
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let (ss, ours) = (run("ss"), run(SOCKSCOPE));
        let exact = reference::ss71().and_then(|ss71| {
            let args_71 = reference::args_for_71(&args)?;
            let mut command = ns.command(ss71);
            command.args(&args_71).envs(env.iter().copied());
            let mut ss = netns::run_bounded(&mut command, netns::RUN_LIMIT);
            let mut ours = ours.clone();
            let bound = reference::bound_inactive(ns);
            let (ss_text, ours_text) = (text(&ss.stdout), text(&ours.stdout));
            if let Some(rest) = reference::without_extra_states(&ss_text, &ours_text, &bound) {
                // Without those rows the widths differ: compare as with 6.1.
                ss.stdout = reference::normalise(&rest).into_bytes();
                ours.stdout = reference::normalise(&ours_text).into_bytes();
            }
            Some(Box::new(Both {
                args: args.clone(),
                ss,
                ours,
                exact: None,
            }))
        });
        if reference::installed_is_71() {
            return Both {
                args,
                ss,
                ours,
                exact,
            };
        }
        let mut ours = ours;
        if let Some(rest) =
            reference::without_request_sockets(&args, &text(&ss.stdout), &text(&ours.stdout))
        {
            ours.stdout = rest.into_bytes();
        }
        let normalised = |mut output: Output| {
            output.stdout = reference::normalise(&text(&output.stdout)).into_bytes();
            output
        };
        Both {
            args,
            ss: normalised(ss),
            ours: normalised(ours),
            exact,
        }
    }

    /// Runs both in `ns` and compares them exactly with ss 7.1 only: for what ss 6.1 does not
    /// have (`-Q`, ...). `None` when `SOCKSCOPE_SS71` is not set.
    pub fn run_71(ns: &Netns, args: &[&str], env: &[(&str, &str)]) -> Option<Both> {
        let ss71 = reference::ss71()?;
        let run = |program: &str| {
            let mut command = ns.command(program);
            command.args(args).envs(env.iter().copied());
            netns::run_bounded(&mut command, netns::RUN_LIMIT)
        };
        Some(Both {
            args: args.iter().map(|a| a.to_string()).collect(),
            ss: run(ss71),
            ours: run(SOCKSCOPE),
            exact: None,
        })
    }

    /// Why the outputs differ, or `None` when they are the same byte for byte.
    pub fn mismatch(&self) -> Option<String> {
        self.mismatch_here().or_else(|| {
            self.exact
                .as_ref()?
                .mismatch_here()
                .map(|m| format!("ss 7.1: {m}"))
        })
    }

    fn mismatch_here(&self) -> Option<String> {
        let (ss, ours) = (text(&self.ss.stdout), text(&self.ours.stdout));
        if ss == ours && self.ss.status.code() == self.ours.status.code() {
            return None;
        }
        Some(format!(
            "`{}` differs:\n--- ss (status {:?})\n{ss}--- sockscope (status {:?})\n{ours}--- sockscope stderr\n{}",
            self.args.join(" "),
            self.ss.status.code(),
            self.ours.status.code(),
            text(&self.ours.stderr),
        ))
    }
}

/// Runs each argument list (split at white space) on both tools in `ns` with `env` set, and
/// reports at once every case in which `differ` finds the outputs different: usually
/// [`Both::mismatch`], or a comparison that looks past what moves or is ordered by chance.
pub fn assert_all_same(
    ns: &Netns,
    cases: &[&str],
    env: &[(&str, &str)],
    differ: impl Fn(&Both) -> Option<String>,
) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|case| {
            let args: Vec<&str> = case.split_whitespace().collect();
            let both = Both::run_with(ns, &args, env);
            differ(&both).or_else(|| {
                let exact = both.exact.as_deref()?;
                differ(exact).map(|m| format!("ss 7.1: {m}"))
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases differ from ss:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Asserts that two strings are equal, printing both in full when they are not.
#[macro_export]
macro_rules! eqnice {
    ($expected:expr, $got:expr) => {{
        let expected: &str = &$expected;
        let got: &str = &$got;
        if expected != got {
            panic!("\n--- expected\n{expected}\n--- got\n{got}\n---\n");
        }
    }};
}
