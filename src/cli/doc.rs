//! The long texts of the command line: descriptions too long for an attribute, the sections of
//! the man pages that clap does not generate, and the generation of the man pages and shell
//! completions from the one clap definition.

use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

pub(super) const ABOUT: &str = "Inspect the kernel's socket tables: a faithful, faster ss";

pub(super) const LONG_ABOUT: &str = "\
sockscope asks the Linux kernel for its socket tables through netlink sock_diag and prints \
them the way ss(8) from iproute2 does: the same flags, the same columns, the same names. \
It can also print the same records as JSON for scripts.

Without options it lists the connected (non-listening) sockets of every table. Choose tables \
with -t, -u, -w, -x, -A or -f, and states with -l, -a or a filter.";

pub(super) const WATCH_ABOUT: &str =
    "Follow sockets over time: see them arrive, change state, fill their queues and go away";

pub(super) const WATCH_LONG_ABOUT: &str = "\
Follow sockets over time: see them arrive, change state, fill their queues and go away

Takes the listing options it can follow (the tables and families, -a, -l, -B, -A, -f, -F, \
-N, -p, -T, -n and the detail flags -e, -o, -m, -i, -b, --tos, --cgroup, --inet-sockopt) and \
a filter, as a listing does; `:PORT` is short for `( sport = :PORT or dport = :PORT )`, \
as in a listing (`watch state listening :8000`). Unlike a listing, watch shows sockets in \
every state by default (as with -a), so a port's listener and its accept queue are there; a \
state in the filter, -l or -B narrows it.

Every interval sockscope looks at the table once (one sock_diag request per table and family, \
the filter compiled for the kernel) and compares it with the last look by socket cookie: \
sockets added, changed (state, Recv-Q, Send-Q, and with -i the bytes in and out per second) \
and removed. Between looks it listens to the kernel's socket-destroy events, so a TCP or UDP \
connection that opens and closes between two looks is still reported, when it could have been \
in the states asked for (a destroyed TCP socket with a peer was connected, one without was \
listening or bound). A TCP socket that closes first lives on as FIN-WAIT-2 or TIME-WAIT under \
the same cookie, so its destruction is reported at the next look, as a change of state if that \
look lists it.

The detail options add their fields to the JSON records (see the JSON section of \
sockscope(8)); the live view shows the columns, and with -i the bytes in and out per second.

On a terminal the table is redrawn in place, changed cells in reverse video, with a log of \
what happened under it and a summary line; q, Ctrl-C or SIGTERM end it and put the terminal \
back. Otherwise, or with --jsonl, it prints one JSON object per line, flushed at once: \
{\"type\":\"snapshot\",\"time\":T,\"sockets\":[...]} first, then \
{\"type\":\"added\"|\"changed\"|\"removed\",\"time\":T,\"socket\":{...}} as they happen \
(changed with \"changes\":{\"field\":[before,after]}, removed with \
\"source\":\"destroy\"|\"poll\"|\"event\" and \"lifetime_ms\"), and {\"type\":\"tick\",\
\"time\":T,\"count\":N} after each look. Times are RFC 3339 in UTC with milliseconds; sockets \
are --json records.

TCP is followed through the kernel's own state transitions where sockscope may load its BPF \
program (root, or CAP_BPF and CAP_PERFMON, and a kernel with BTF): every transition is seen, \
with the kernel's moment, and lines from them carry \"source\":\"event\" and \"happened_at\". \
Elsewhere watch says so once and looks (--source poll never loads it).";

pub(super) const DEMO_ABOUT: &str =
    "Build a TCP connection one system call at a time and show the kernel's view after each";

pub(super) const DEMO_LONG_ABOUT: &str = "\
Build a TCP connection one system call at a time and show the kernel's view after each

The demo makes a server and a client on 127.0.0.1 inside this process, as in the classic \
socket tutorial: socket and bind, listen, connect, accept, data left unread, and both ends \
closing. After each step it lists its own sockets through sock_diag, as sockscope always \
does, and says in a few words what changed and why.";

pub(super) const EXPORTER_ABOUT: &str = "Answer Prometheus scrapes with socket metrics: counts per table \
and state, listeners' accept queues against their backlogs, connections per port";

pub(super) const EXPORTER_LONG_ABOUT: &str = "\
Answer Prometheus scrapes with socket metrics: counts per table and state, listeners' accept \
queues against their backlogs, connections per port, and, from the kernel's TCP events, the \
connections opened, closed, failed and reset between scrapes.

Takes the table, family and state options and a filter, as a listing does; without a state \
option it looks at sockets in every state (as with -a). Each GET /metrics looks at the \
kernel's tables once through sock_diag (no polling in between) and answers in the Prometheus \
text format, or in OpenMetrics when the scraper asks for it; / is a page that links to \
/metrics; any other path is 404. Once listening it says so on stderr (listening on \
http://ADDR/metrics); SIGTERM or Ctrl-C ends it with status 0. Its own listener and the \
scrapes' connections are left out of every metric. --once prints the metrics and exits; \
--textfile writes them for node_exporter's textfile collector. -N NAME answers from that \
namespace (and listens there); -N all adds a netns label to every series. -i adds a \
histogram of round-trip times and the retransmitted segments per port.

The metrics: sockscope_sockets{netid,state}; sockscope_listen_queue_length and \
sockscope_listen_backlog{netid,local_address,port} (Recv-Q and Send-Q of a listener); \
sockscope_connections{netid,port,direction,state} (inbound per local listening port, outbound \
per remote port); sockscope_queue_bytes{netid,port,queue}; the counters \
sockscope_tcp_listen_overflows_total and sockscope_tcp_listen_drops_total (TcpExt in \
/proc/net/netstat); with -i, the histogram sockscope_tcp_rtt_seconds{netid,port} and \
sockscope_tcp_retransmitted_segments{netid,port}; sockscope_folded_series_total{metric} (the \
label was called family before), sockscope_scrape_duration_seconds and \
sockscope_scrape_sockets. Each family keeps at most --max-series series per namespace and adds \
the rest up under port=\"other\".

While it answers scrapes, the exporter follows the kernel's TCP events (a BPF program on the \
sock:inet_sock_set_state tracepoint, and the sock_diag destroy events) and counts since its \
start, per direction and port as sockscope_connections places connections: \
sockscope_tcp_connections_opened_total (reached ESTAB), sockscope_tcp_connections_closed_total \
(reached CLOSE after ESTAB), sockscope_tcp_connections_failed_total (SYN-SENT or SYN-RECV to \
CLOSE: connects refused or timed out), sockscope_tcp_connections_reset_total (ESTAB, \
CLOSE-WAIT or FIN-WAIT-1 straight to CLOSE: a reset, or retransmissions given up), the \
histograms sockscope_tcp_handshake_seconds (SYN-SENT to ESTAB outbound, SYN-RECV to ESTAB \
inbound) and sockscope_tcp_connection_lifetime_seconds (handshake's start to CLOSE), and \
sockscope_tcp_acked_bytes_total and sockscope_tcp_received_bytes_total (tcp_info at destroy), \
with sockscope_events_lost_total and sockscope_events_overruns_total for what the kernel \
could not deliver. With the events, the TCP connections' state counts are kept by the \
transitions after a look at the first scrape, and a scrape looks only at listeners, \
SYN-RECV, TIME-WAIT and the other tables; every --reconcile seconds a look at the whole \
table replaces what was kept, counting in sockscope_reconcile_corrections_total the \
connections it found otherwise (sockscope_reconciles_total counts those looks). A port keeps its series from its first event; later ports past \
--max-series go to port=\"other\" for good. The events need root (or CAP_BPF and CAP_PERFMON) \
and kernel BTF; without them, and with -N all, --once or --textfile, these metrics are \
absent, one line on stderr says why, and sockscope_events_available is 0 (1 when they are \
there).";

/// The keys of watch's live view: its `?` overlay and the KEYS section of sockscope-watch(8).
pub const LIVE_KEYS: &str = "\
s, S        sort by the next (previous) column: first seen, state, Recv-Q,
            Send-Q, rate in and out (-i), age, local, peer, process (-p);
            states sort in the kernel's order, as ss numbers them: ESTAB,
            SYN-SENT, ..., TIME-WAIT, UNCONN, CLOSE-WAIT, LAST-ACK, LISTEN
r           reverse the sort
f           fold TIME-WAIT sockets into one row that counts them; again:
            every closing state; again: every state; again: none
Up, Down    scroll a line
PgUp, PgDn  scroll a page
Home, End   go to the first (last) row
space       pause the display; looks go on and are recorded
/           edit the filter, in the language of the command line. It opens
            with the filter in force, selected: typing replaces it, Left,
            Right, Home and End edit it, Ctrl-U clears it. Enter applies it
            from the next look, an empty one shows every socket; an error
            keeps the old one and names its column, and / then opens with
            the word it names selected. Esc cancels
?           show or hide this help
q, Ctrl-C   quit, leaving a summary on the screen";

/// The KEYS section of sockscope-watch(8), from [`LIVE_KEYS`].
fn keys_section() -> String {
    let mut section =
        ".SH KEYS\nOn a terminal, the live view takes these keys:\n.PP\n.nf\n".to_owned();
    for line in LIVE_KEYS.lines() {
        section.push_str(&line.replace('\\', "\\e").replace('-', "\\-"));
        section.push('\n');
    }
    section.push_str(".fi\n");
    section
}

const MAN_DATE: &str = "2026-11-24";

/// The man pages, by file name: sockscope(8) and one per subcommand, generated from the same
/// definition as `--help`.
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let command = Cli::command();
    let mut pages = vec![("sockscope.8".to_owned(), main_page(command.clone()))];
    for sub in command.get_subcommands() {
        let name = format!("sockscope-{}", sub.get_name());
        let page = sub
            .clone()
            .display_name(name.clone())
            .bin_name(format!("sockscope {}", sub.get_name()));
        let extra = match sub.get_name() {
            "watch" => keys_section() + WATCH_MAN_EXTRA,
            _ => SUBCOMMAND_MAN_EXTRA.to_owned(),
        };
        let extra = with_examples(&extra, examples(sub.get_name()));
        pages.push((format!("{name}.8"), page_with(page, &extra)));
    }
    pages
}

fn man(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command)
        .section("8")
        .date(MAN_DATE)
        .manual("System Manager's Manual")
}

/// The main man page: clap's sections, then ours, then the version.
fn main_page(command: clap::Command) -> Vec<u8> {
    page(command, &with_examples(MAN_EXTRA, examples("")), true)
}

/// A subcommand's page: clap's sections, then `extra`.
fn page_with(command: clap::Command, extra: &str) -> Vec<u8> {
    page(command, extra, false)
}

/// clap's sections (with `main`, the subcommands too), then `extra` (with `main`, then the
/// version).
fn page(command: clap::Command, extra: &str, main: bool) -> Vec<u8> {
    let mut built = command.clone();
    built.build();
    let man = man(command);
    let mut out = Vec::new();
    let written: std::io::Result<()> = (|| {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        let mut synopsis = Vec::new();
        man.render_synopsis_section(&mut synopsis)?;
        let synopsis = String::from_utf8(synopsis).expect("clap writes UTF-8");
        out.extend_from_slice(with_value_names(&built, synopsis).as_bytes());
        man.render_description_section(&mut out)?;
        man.render_options_section(&mut out)?;
        if main {
            man.render_subcommands_section(&mut out)?;
        }
        out.extend_from_slice(extra.as_bytes());
        if main {
            man.render_version_section(&mut out)?;
        }
        Ok(())
    })();
    written.expect("writing to a Vec");
    out
}

/// clap's SYNOPSIS with the name of each option's value, as in ss(8) and `--help`:
/// `[-f|--family FAMILY]`, `[--interval SECS]`.
fn with_value_names(command: &clap::Command, mut synopsis: String) -> String {
    for arg in command.get_arguments() {
        let (Some(range), Some(names)) = (arg.get_num_args(), arg.get_value_names()) else {
            continue;
        };
        if arg.is_positional() || !range.takes_values() {
            continue;
        }
        let escape = |text: &str| text.replace('-', "\\-");
        let value = names.iter().map(|name| escape(name)).collect::<Vec<_>>();
        let value = format!("\\fI{}\\fR", value.join(" "));
        let value = if range.min_values() == 0 {
            format!("[{value}]")
        } else {
            value
        };
        // clap writes `[-s|--long]`, `[--long]` or `[-s ]`.
        let (option, bare) = match (arg.get_long(), arg.get_short()) {
            (Some(long), _) => {
                let bare = format!("\\fB\\-\\-{}\\fR", escape(long));
                (format!("{bare}]"), bare)
            }
            (None, Some(short)) => (
                format!("\\fB\\-{short} \\fR]"),
                format!("\\fB\\-{short}\\fR"),
            ),
            (None, None) => continue,
        };
        let with_value = format!("{bare} {value}]");
        synopsis = synopsis.replacen(&option, &with_value, 1);
    }
    synopsis
}

/// Shell completions, generated from the same definition as `--help`, with the names under
/// /run/netns offered after `-N`, read when the user presses tab, and in bash the state names
/// alone after `state` and `exclude`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "sockscope", &mut out);
    let script = String::from_utf8(out).expect("clap writes UTF-8");
    with_namespace_names(shell, script).into_bytes()
}

/// `-N` takes a name under /run/netns, `all` or a path: clap can only offer paths, so the
/// generated line for `-N` is replaced by one that lists the names at completion time. In
/// bash, paths are offered once the word has a `/`, and a filter's `state` and `exclude` are
/// followed by the state names only, which clap cannot tell from the filter's other words.
fn with_namespace_names(shell: Shell, script: String) -> String {
    match shell {
        Shell::Bash => {
            // The line after each `--net)` and `-N)` case says what to offer.
            let names = concat!(
                r#"COMPREPLY=($(compgen -W "all $(ls /run/netns 2>/dev/null)" -- "${cur}")); "#,
                r#"[[ "${cur}" == */* ]] && COMPREPLY+=($(compgen -f -- "${cur}"))"#
            );
            let mut out = String::new();
            let mut after_net = false;
            for line in script.lines() {
                let trimmed = line.trim_start();
                if after_net && trimmed.starts_with("COMPREPLY=") {
                    out.push_str(&line[..line.len() - trimmed.len()]);
                    out.push_str(names);
                } else {
                    out.push_str(line);
                }
                out.push('\n');
                after_net = trimmed == "--net)" || trimmed == "-N)";
                if trimmed == r#"prev="$3""# && !out.contains(BASH_STATES_MARK) {
                    out.push_str(&bash_states());
                }
            }
            out
        }
        Shell::Zsh => {
            // Defined before the file's last lines, which call the completion function.
            let script = script.replace("NAME:_default' \\", "NAME:_sockscope_netns' \\");
            let last = script
                .find("if [ \"$funcstack[1]\" = \"_sockscope\" ]")
                .unwrap_or(script.len());
            format!("{}{ZSH_NETNS}\n{}", &script[..last], &script[last..])
        }
        Shell::Fish => {
            script
                .lines()
                .map(|line| {
                    if line.contains(" -s N -l net ") {
                        // Files stay offered too, for a namespace given by its path.
                        format!("{line} -a '(printf \"%s\\n\" all; ls /run/netns 2>/dev/null)'")
                    } else {
                        line.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("\n")
                + "\n"
        }
        _ => script,
    }
}

const BASH_STATES_MARK: &str = "# After `state` or `exclude`";

/// The bash lines that offer the state names alone after `state` and `exclude` (and nothing
/// else, not even files, when none matches).
fn bash_states() -> String {
    format!(
        r#"    {BASH_STATES_MARK}, a filter takes a state's name only.
    case "${{prev}}" in
        state|exclude|excl)
            COMPREPLY=($(compgen -W "{}" -- "${{cur}}"))
            compopt +o default +o bashdefault 2>/dev/null
            return 0
            ;;
    esac
"#,
        super::STATE_WORDS.join(" ")
    )
}

/// The EXAMPLES section of each page (`""` for sockscope(8)), as ss(8), rg(1) and fd(1) have
/// one: a command line and what it shows. A test runs each listing's lines.
fn examples(subcommand: &str) -> &'static [(&'static str, &'static str)] {
    match subcommand {
        "" => &[
            (
                "sockscope -tln",
                "The listening TCP sockets, addresses and ports as numbers: Send-Q is each \
                 listener's backlog, Recv-Q the connections waiting to be accepted.",
            ),
            (
                "sockscope -tan state established :22",
                "The established TCP connections from or to port 22; :22 is short for \
                 ( sport = :22 or dport = :22 ).",
            ),
            (
                "sockscope -tnp '( dport = :443 or dport = :80 )'",
                "The connections to web servers, with the process that holds each.",
            ),
            (
                "sockscope -tn state time-wait",
                "The TCP connections closed here that the kernel still keeps in TIME-WAIT.",
            ),
            (
                "sockscope -tin dst 127.0.0.0/8",
                "The internals of TCP connections to the loopback network: round-trip time, \
                 congestion window, retransmissions.",
            ),
            (
                "sockscope -xlp",
                "The listening Unix sockets, with their processes.",
            ),
            (
                "sockscope -s",
                "The number of sockets of each table and, for TCP, of each state.",
            ),
            (
                "sockscope -tl --json | jq '.[].local_port'",
                "The same records as JSON, for scripts (see JSON).",
            ),
            (
                "sockscope --all-netns -tln",
                "The listening TCP sockets of every network namespace, each under its name.",
            ),
        ],
        "watch" => &[
            (
                "sockscope watch -t :8000",
                "Follow the TCP sockets of port 8000 on a terminal: the listener, its accept \
                 queue, each connection as it opens, changes and closes.",
            ),
            (
                "sockscope watch -t state listening :8000",
                "The listener of port 8000 alone: its Recv-Q is the queue of connections not \
                 yet accepted.",
            ),
            (
                "sockscope watch -ti --interval 0.5 dport = :443",
                "Connections to port 443 twice a second, with the bytes in and out per second.",
            ),
            (
                "sockscope watch -t --count 10 --jsonl :8000",
                "Ten looks at port 8000 as JSON lines (see JSON LINES), then exit.",
            ),
        ],
        "demo" => &[
            (
                "sockscope demo",
                "Build a TCP connection on 127.0.0.1:55000 step by step, pausing after each \
                 step for Enter.",
            ),
            (
                "sockscope demo --udp",
                "The same for UDP: a socket bound, connected, a datagram waiting.",
            ),
            (
                "sockscope demo --no-pause --port 0",
                "Every step at once, on a port the kernel picks.",
            ),
            (
                "sockscope demo --json",
                "Each step as one JSON object per line.",
            ),
        ],
        "exporter" => &[
            (
                "sockscope exporter",
                "Answer Prometheus scrapes at http://127.0.0.1:10058/metrics.",
            ),
            (
                "sockscope exporter -t --listen 0.0.0.0:10058",
                "The TCP table alone, to scrapers on other machines.",
            ),
            (
                "sockscope exporter --once",
                "Print the metrics once and exit.",
            ),
            (
                "sockscope exporter --textfile /var/lib/node_exporter/sockscope.prom",
                "Write the metrics for node_exporter's textfile collector.",
            ),
        ],
        _ => &[],
    }
}

/// `extra` with an EXAMPLES section of `examples` before its SEE ALSO.
fn with_examples(extra: &str, examples: &[(&str, &str)]) -> String {
    let mut section = ".SH EXAMPLES\n".to_owned();
    for (command, what) in examples {
        section.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            command.replace('-', "\\-"),
            what.replace('-', "\\-")
        ));
    }
    let at = extra.find(".SH SEE ALSO").expect("every page has SEE ALSO");
    format!("{}{section}{}", &extra[..at], &extra[at..])
}

const ZSH_NETNS: &str = r#"(( $+functions[_sockscope_netns] )) ||
_sockscope_netns() {
    local -a names
    names=(all ${(f)"$(ls /run/netns 2>/dev/null)"})
    _alternative 'names:network namespace:compadd -a names' 'files:namespace file:_files'
}
"#;

/// What the subcommand pages other than watch's add.
const SUBCOMMAND_MAN_EXTRA: &str = r#".SH SEE ALSO
.BR sockscope (8)
"#;

/// The sections of sockscope-watch(8) that clap does not generate, in roff.
const WATCH_MAN_EXTRA: &str = r#".SH FILTER
As for a listing: \fB[ state \fISTATE\fB | exclude \fISTATE\fB ]... [ \fIEXPRESSION\fB ]\fR,
described in the FILTER section of
.BR sockscope (8).
\fB:\fIPORT\fR is short for \fB( sport = :\fIPORT\fB or dport = :\fIPORT\fB )\fR, and
combines with states and other predicates: \fBsockscope watch \-t state listening :8000\fR.
Without a state in the filter, \fB\-l\fR or \fB\-B\fR, watch follows every state, as with
\fB\-a\fR.
.SH JSON LINES
Each line is one object with a \fBtype\fR and a \fBtime\fR (RFC 3339, UTC, milliseconds):
.TP
\fBsnapshot\fR
once, first: \fBsockets\fR, the records of the first look.
.TP
\fBadded\fR
\fBsocket\fR, a record as \fB\-\-json\fR prints it; from a transition, \fBsource\fR
(\fBevent\fR) and \fBhappened_at\fR, the kernel's moment. A client end is added at SYN\-SENT,
before the kernel picks its port (0 then); a server end at SYN\-RECV.
.TP
\fBchanged\fR
\fBsocket\fR as it is now, and \fBchanges\fR: for each field that moved (\fBstate\fR,
\fBrecv_q\fR, \fBsend_q\fR, \fBbytes_in_per_sec\fR, \fBbytes_out_per_sec\fR) its value
before and after; from a transition, \fBsource\fR and \fBhappened_at\fR as above.
.TP
\fBremoved\fR
\fBsocket\fR as the kernel last reported it, \fBsource\fR (\fBdestroy\fR: the kernel's
destroy event; \fBpoll\fR: a look no longer listed it; \fBevent\fR: a transition took it out
of the states watched), \fBlifetime_ms\fR, and for a TCP connection end
\fBbytes_acked\fR and \fBbytes_received\fR from its tcp_info at its end.
.TP
\fBoverrun\fR
the kernel dropped destroy events, or transitions found the ring buffer full: a walk of the
table follows at once, and what came and went just then may be missing.
.TP
\fBtick\fR
after each look: \fBcount\fR, the sockets in the table.
.PP
The socket records are those of \fB\-\-json\fR (see the JSON section of
.BR sockscope (8)),
with the fields the detail flags add.
.SH EXIT STATUS
0 when \fB\-\-count\fR intervals have passed, on \fBq\fR, Ctrl\-C or SIGTERM, and when standard
output is closed; 1 when the kernel cannot be asked or for a filter value that cannot be used;
2 for an unknown option or a bad option value; 255 for a filter that does not parse.
.SH SEE ALSO
.BR sockscope (8),
.BR ss (8),
.BR sock_diag (7)
"#;

/// The sections of sockscope(8) that clap does not generate, in roff.
const MAN_EXTRA: &str = r#".SH FILTER
\fB[ state \fISTATE\fB | exclude \fISTATE\fB ]... [ \fIEXPRESSION\fB ]\fR
.PP
\fBstate\fR adds a state to those listed (the first one replaces the default) and
\fBexclude\fR removes one (the first one starting from every state); they come before the
expression and override \fB\-a\fR, \fB\-l\fR and \fB\-B\fR. States are named without regard to
case: \fBestablished\fR, \fBsyn-sent\fR, \fBsyn-recv\fR, \fBfin-wait-1\fR, \fBfin-wait-2\fR,
\fBtime-wait\fR, \fBclosed\fR (also \fBclose\fR, \fBunconnected\fR), \fBclose-wait\fR,
\fBlast-ack\fR, \fBlistening\fR, \fBclosing\fR and \fBbound-inactive\fR, or the groups
\fBall\fR, \fBconnected\fR (all but listening and closed), \fBsynchronized\fR (connected but
not syn-sent), \fBbucket\fR (syn-recv and time-wait, the kernel's minisockets) and \fBbig\fR
(all but bucket).
.PP
The expression is made of these predicates:
.TP
\fBsrc\fR|\fBdst\fR [\fB=\fR] \fIHOST\fR
the local or the peer address.
.TP
\fBsport\fR|\fBdport\fR [\fIOP\fR] [\fIFAMILY\fB:\fR]\fB:\fIPORT\fR
the local or the peer port; \fIOP\fR is one of \fB= == eq\fR, \fB!= ne neq\fR,
\fB> gt\fR, \fB< lt\fR, \fB>= ge geq\fR, \fB<= le leq\fR (\fB=\fR when omitted). \fIPORT\fR
is a number or a service name from /etc/services.
.TP
\fB:\fIPORT\fR
either port: short for \fB( sport = :\fIPORT\fB or dport = :\fIPORT\fB )\fR, a sockscope
extension (ss refuses it). A filter with one may also name its states after the expression:
\fBsockscope \-tan :22 state established\fR.
.TP
\fBdev\fR [\fB=\fR|\fB!=\fR] \fINAME\fR|\fIINDEX\fR
the device the socket is bound to.
.TP
\fBfwmark\fR [\fB=\fR|\fB!=\fR] \fIMARK\fR[\fB/\fIMASK\fR]
the firewall mark, compared under the mask.
.TP
\fBcgroup\fR [\fB=\fR|\fB!=\fR] \fIPATH\fR
the cgroup v2 the socket belongs to, as a path below the cgroup2 mount.
.TP
\fBautobound\fR
a name the kernel chose rather than the application: a port in the ephemeral range, no unix
name or an autobind one (\fB@\fR and five hex digits), a negative netlink port id, a packet
socket of protocol 0 on no device.
.PP
\fIHOST\fR is \fB[\fIFAMILY\fB:]\fIADDRESS\fB[/\fIPREFIX\fB][:\fIPORT\fB]\fR: an IPv4
address (\fB10.0/16\fR, with missing bytes zero), an IPv6 address in brackets
(\fB[fe80::/64]:22\fR), a host name, or \fB*\fR for any; \fIFAMILY\fR is one of the \fB\-f\fR
names. With \fBunix:\fR, or when the last family option was \fB\-x\fR or \fB\-f unix\fR, the
address is a glob matched without regard to case against the socket's path or
\fB@\fIabstract\fR name. An IPv4 address given without a family also matches its
IPv4-mapped IPv6 form.
.PP
With \fBlink:\fR, or after \fB\-0\fR or \fB\-f link\fR, \fIHOST\fR is
\fIPROTOCOL\fB[:\fIDEVICE\fB]\fR: an ethertype by name (\fBip\fR, \fBipv6\fR, \fBarp\fR,
\fBall\fR, ..., without regard to case) or number, and a device by name or index; a packet
socket's port is its device (\fBsport = :eth0\fR). With \fBnetlink:\fR, or after \fB\-f
netlink\fR, it is \fIPROTOCOL\fB[:\fIPORTID\fB]\fR: a netlink protocol by its name in
/etc/iproute2/nl_protos (\fBrtnl\fR, \fBgenl\fR, ...) or number, and a port id
(\fBkernel\fR is 0; \fB*\fR or \fB-1\fR any); ports compare as signed numbers. In both,
\fB*\fR or nothing stands for any.
.PP
Predicates combine with \fBand\fR (also \fB&\fR, \fB&&\fR, or nothing at all), \fBor\fR
(\fB|\fR, \fB||\fR) and \fBnot\fR (\fB!\fR), grouped with parentheses. Tokens are separated by
white space. As in ss, \fBand\fR and \fBor\fR have no precedence over each other: a chain of
them is read from left to right, so \fBa or b and c\fR means \fB( a or b ) and c\fR;
\fBnot\fR applies to the term right after it. Use parentheses to say what you mean.
.PP
For TCP, UDP and raw sockets the expression is compiled to the kernel's inet_diag bytecode, so
the kernel drops what it rejects; every socket is also tested in user space, as ss does. For
\fBautobound\fR the two tests differ, as in ss: the kernel asks whether the port was bound
explicitly, user space whether it lies in the ephemeral range; a socket must pass both.
.PP
A filter that does not parse exits with status 255, a filter with a value that cannot be used
(an address, port, device, mark or cgroup) with status 1; the message gives the line and
column of the word at fault (the command line is line 1).
.SH OUTPUT
The table has the columns of ss: Netid (shown only when more than one table is listed),
State (hidden when a single state is selected), Recv\-Q, Send\-Q, Local Address:Port,
Peer Address:Port and Process.
.PP
For a listening TCP socket, Recv\-Q is the number of connections waiting in the accept queue
and Send\-Q the backlog given to
.BR listen (2).
For other sockets Recv\-Q counts bytes received but not yet read by the application, and
Send\-Q bytes sent but not yet acknowledged by the peer.
.PP
Addresses are printed as ss prints them: IPv6 addresses in brackets, \fB*\fR for the
dual\-stack wildcard, \fB[::]\fR for an IPv6\-only wildcard, \fB%\fIdev\fR after an address
bound to a device, and port \fB*\fR when there is none. Unix sockets show their path,
\fB@\fIname\fR for an abstract name or \fB*\fR when unnamed, with the inode where a port would
be. Packet sockets show \fIPROTOCOL\fB:\fIDEVICE\fR, the ethertype by name (in brackets by
number with \fB\-n\fR or when it has none; \fB*\fR for all) and \fB*\fR for no device.
Netlink sockets show \fIPROTOCOL\fB:\fIPORTID\fR, the port id as \fBkernel\fR for the
kernel's own socket, as \fICOMMAND\fB/\fIPID\fR when a process has that pid, else as a
signed number, and a connected socket's peer as \fIGROUP\fB:\fIPORTID\fR; packet and
netlink sockets are always UNCONN.
.PP
With \fB\-N all\fR a Netns column comes first: the namespace of each row, by its name under
/run/netns, or as \fBpid:\fIN\fR for the lowest-numbered process in it (\fB\-N
/proc/\fIN\fB/ns/net\fR enters it). The rows of each namespace follow each other: sockscope's
own namespace first, then the named ones by name, then the others by pid.
.PP
Column widths fit the content. When standard output is a terminal the columns are spread over
its width as ss does. Tables of more than 65536 rows are printed as they arrive: their widths
are fitted to the first rows and grow when a later row is wider.
.PP
With \fB\-p\fR the Process column lists, as ss lists them, every file descriptor that holds
the socket: \fBusers:((\(dq\fIname\fB\(dq,pid=\fIPID\fB,fd=\fIFD\fB),...)\fR, the process
found last in /proc first; \fB\-T\fR lists each thread of a process on its own, with
\fBtid=\fITID\fR. As in ss, a name is shown up to its first \fB)\fR and nothing in it is
escaped. /proc is read once, before the sockets are listed. Without root other users'
processes cannot be read: their sockets show no process, and a warning says so.
.SH JSON
With \fB\-\-json\fR each row becomes an object with these fields:
.TP
\fBnetid\fR, \fBstate\fR
strings, spelled as in the table (\fBtcp\fR, \fBESTAB\fR, ...).
.TP
\fBrecv_q\fR, \fBsend_q\fR, \fBinode\fR
integers (the inode is 0 for minisockets such as TIME\-WAIT).
.TP
\fBfamily\fR
\fBinet\fR, \fBinet6\fR, \fBunix\fR, \fBlink\fR (packet sockets) or \fBnetlink\fR.
.TP
\fBlocal_address\fR, \fBlocal_port\fR, \fBpeer_address\fR, \fBpeer_port\fR, \fBinterface\fR, \fBv6only\fR
inet sockets only: addresses as plain text without brackets, ports as integers (0 where the
table shows \fB*\fR; the IP protocol for raw sockets), the bound device or scope name or null
(packet sockets have \fBinterface\fR too), and whether an IPv6 socket refuses IPv4 (a
wildcard socket without it is the table's \fB*\fR).
.TP
\fBpath\fR, \fBpeer_inode\fR
unix sockets only: the name (\fB@\fIname\fR for an abstract name, null when unnamed) and the
peer's inode (0 when unconnected).
.TP
\fBprotocol\fR
packet sockets: the ethertype (2048 for IPv4, 3 for all); netlink sockets: the netlink
protocol (0 route, 16 generic, ...).
.TP
\fBportid\fR, \fBpeer_portid\fR, \fBpeer_group\fR
netlink sockets only: the port id as the kernel holds it, unsigned (the table prints it
signed, as ss does), and where a connected socket sends (null when unconnected).
.TP
\fBprocesses\fR
with \fB\-p\fR or \fB\-T\fR only: the holders of the socket in the table's order (an empty
array when there is none), each an object with \fBcomm\fR (the whole name), \fBpid\fR and
\fBfd\fR, and \fBtid\fR with \fB\-T\fR.
.TP
\fBnetns\fR
with \fB\-N all\fR only, first in each object: the namespace, named as in the Netns column.
.TP
\fBpath_bytes\fR, \fBcomm_bytes\fR, \fBinterface_bytes\fR
only when the name beside it is not UTF\-8 (the string then shows U+FFFD for the bytes that
are not): the exact bytes of the unix path, process name or interface name, as an array of
integers.
.PP
The detail options add fields, each present (null when the kernel did not say) as soon as its
option is given:
.TP
\fB\-o\fR, \fB\-e\fR
\fBtimer\fR: an object with \fBname\fR (\fBon\fR, \fBkeepalive\fR, \fBtimewait\fR,
\fBpersist\fR), \fBexpires_ms\fR and \fBretrans\fR, or null.
.TP
\fB\-e\fR
\fBuid\fR, \fBcookie\fR (a hex string, ss's \fBsk:\fR), \fBmark\fR (inet), \fBshutdown\fR
(\fBreceive\fR and \fBsend\fR, true once that direction is shut down), \fBcgroup\fR (a
path); unix sockets: \fBvfs\fR (\fBinode\fR and \fBdev\fR, with \fBmajor\fR and
\fBminor\fR) and \fBpeers\fR (the inodes waiting in a listener's queue); packet sockets:
\fBpacket\fR (\fBversion\fR, \fBcopy_thresh\fR, \fBflags\fR, \fBrx_ring\fR and
\fBtx_ring\fR, \fBfanout\fR); netlink sockets: \fBgroups\fR (the multicast groups joined).
.TP
\fB\-b\fR
packet sockets: \fBbpf_filter\fR, the classic BPF program as [code, jt, jf, k]
instructions, or null.
.TP
\fB\-m\fR
\fBskmem\fR: \fBrmem_alloc\fR, \fBrcvbuf\fR, \fBwmem_alloc\fR, \fBsndbuf\fR,
\fBfwd_alloc\fR, \fBwmem_queued\fR, \fBoptmem\fR, \fBbacklog\fR and \fBdrops\fR.
.TP
\fB\-i\fR
\fBtcp_info\fR: the kernel's tcp_info in its own units, named with them (\fBrtt_us\fR,
\fBrto_us\fR, \fBlast_data_sent_ms\fR, \fBsnd_cwnd\fR, \fBbytes_sent\fR, ...), rates in bits
per second (\fBpacing_rate_bps\fR, \fBdelivery_rate_bps\fR, \fBsend_bps\fR; null when
unlimited), \fBcongestion\fR by name, \fBoptions\fR as names, and \fBbbr\fR or \fBdctcp\fR
objects when the congestion control reports them; \fBtcp_ulp\fR (\fBname\fR,
\fBmptcp_subflow\fR) for a socket with an upper layer protocol; MPTCP sockets:
\fBmptcp_info\fR.
.TP
\fB\-\-tos\fR
\fBtos\fR, \fBtclass\fR, \fBclass_id\fR.
.TP
\fB\-\-cgroup\fR
\fBcgroup\fR.
.TP
\fB\-\-inet\-sockopt\fR
\fBinet_sockopt\fR: the names of the options set.
.PP
JSON output ignores \fB\-n\fR and \fB\-r\fR: addresses and ports are always numeric.
.SH ENVIRONMENT
.TP
\fBPROC_ROOT\fR, \fBPROC_NET_TCP\fR, \fBPROC_NET_TCP6\fR, \fBPROC_NET_UDP\fR, \fBPROC_NET_UDP6\fR, \fBPROC_NET_RAW\fR, \fBPROC_NET_RAW6\fR, \fBPROC_NET_UNIX\fR
As for ss: when set, the tables are read from these files (or from \fI$PROC_ROOT\fR/net)
instead of through sock_diag. sockscope also reads a table from /proc/net when the kernel has
no sock_diag module for it, as ss does for raw sockets on many kernels.
.TP
\fBTCPDIAG_FILE\fR
As for ss: when set, the TCP table is read from this dump (written by \fB\-D\fR) instead of
the kernel; other tables still come from the kernel. As in ss, the dump is read up to its
first \fBNLMSG_DONE\fR (of a dump of both IP versions, the IPv4 sockets) and every socket there
is listed whatever the states and \fB\-4\fR/\fB\-6\fR asked; unlike ss, sockscope refuses a
dump that is truncated or not a dump. \fB\-\-from\-dump\fR reads every request's replies,
applies the states and \fB\-4\fR/\fB\-6\fR as to a live listing, and lists the TCP table
only.
.SH EXIT STATUS
0 on success, also when standard output is closed early (for example by
\fBhead\fR(1)); 1 when the kernel cannot be asked or its answer cannot be read, for a
filter value that cannot be used, a namespace that cannot be entered, or a dump that cannot be
read or written; 2 for an unknown option, a bad option value or options that cannot be
combined; 255, as in ss, for a filter that does not parse, an unknown state name, an
unknown \fB\-A\fR table or a \fB\-F\fR file that cannot be read.
.SH SEE ALSO
.BR sockscope-demo (8),
.BR sockscope-watch (8),
.BR ss (8),
.BR sock_diag (7),
.BR netstat (8)
"#;

#[cfg(test)]
mod tests;
