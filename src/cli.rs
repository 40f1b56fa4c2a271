//! The command line, as syntax only: what the user typed, before anything is decided.
//!
//! The same clap definition produces `--help`, the man page and the shell completions (see
//! [`man_page`] and [`completions`]); `config` turns a parsed [`Cli`] into decisions.

use clap::{ArgAction, CommandFactory, Parser, ValueEnum};
use clap_complete::Shell;

const ABOUT: &str = "Inspect the kernel's socket tables: a faithful, faster ss";

const LONG_ABOUT: &str = "\
sockscope asks the Linux kernel for its socket tables through netlink sock_diag and prints \
them the way ss(8) from iproute2 does: the same flags, the same columns, the same names. \
It can also print the same records as JSON for scripts.

Without options it lists the connected (non-listening) sockets of every table. Choose tables \
with -t, -u, -w, -x, -A or -f, and states with -l, -a or a filter.";

#[derive(Debug, Parser)]
#[command(
    name = "sockscope",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    args_override_self = true,
    max_term_width = 100
)]
pub struct Cli {
    /// Show service ports as numbers instead of names from /etc/services
    #[arg(short = 'n', long)]
    pub numeric: bool,

    /// Show host names instead of addresses, by reverse lookup
    #[arg(short = 'r', long)]
    pub resolve: bool,

    /// Show sockets in every state, listening ones included
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(short = 'a', long, action = ArgAction::SetTrue)]
    pub all: bool,

    /// Show only listening sockets (and, for datagram tables, unconnected ones)
    ///
    /// When both -a and -l are given, the one given last wins, as in ss.
    #[arg(short = 'l', long, action = ArgAction::SetTrue)]
    pub listening: bool,

    /// Do not print the header line
    #[arg(short = 'H', long = "no-header")]
    pub no_header: bool,

    /// Print the sockets as a JSON array of records instead of a table
    ///
    /// One record per row the table would show, in the same order. The schema is in the README
    /// and in the JSON section below.
    #[arg(short = 'j', long)]
    pub json: bool,

    /// Show only IPv4 sockets (the same as -f inet)
    #[arg(short = '4', long, action = ArgAction::SetTrue)]
    pub ipv4: bool,

    /// Show only IPv6 sockets (the same as -f inet6)
    #[arg(short = '6', long, action = ArgAction::SetTrue)]
    pub ipv6: bool,

    /// Show TCP sockets
    #[arg(short = 't', long)]
    pub tcp: bool,

    /// Show UDP sockets
    #[arg(short = 'u', long)]
    pub udp: bool,

    /// Show raw sockets
    #[arg(short = 'w', long)]
    pub raw: bool,

    /// Show unix domain sockets (the same as -f unix)
    #[arg(short = 'x', long, action = ArgAction::SetTrue)]
    pub unix: bool,

    /// Show sockets of an address family; may be repeated
    ///
    /// Naming a family selects every table of that family. When -4, -6, -f inet and -f inet6
    /// are mixed, the one given last decides which IP version is shown, as in ss.
    #[arg(short = 'f', long, value_name = "FAMILY", action = ArgAction::Append)]
    pub family: Vec<FamilyArg>,

    /// The socket tables to list, separated by commas; a leading ! removes a table
    ///
    /// Tables: all, inet, tcp, udp, raw, unix, unix_stream, unix_dgram, unix_seqpacket, packet,
    /// packet_raw, packet_dgram, netlink, mptcp, dccp, sctp, vsock_stream, vsock_dgram, tipc,
    /// xdp. For example -A tcp,udp or -A all,!unix.
    #[arg(
        short = 'A',
        long = "query",
        visible_alias = "socket",
        value_name = "QUERY",
        action = ArgAction::Append
    )]
    pub query: Vec<String>,
}

/// The families `-f` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FamilyArg {
    /// Unix domain sockets
    Unix,
    /// IPv4 sockets
    Inet,
    /// IPv6 sockets
    Inet6,
    /// Packet sockets (AF_PACKET)
    Link,
    /// Netlink sockets
    Netlink,
    /// Virtual machine sockets (AF_VSOCK)
    Vsock,
    /// TIPC sockets
    Tipc,
    /// XDP sockets
    Xdp,
}

/// The man page, generated from the same definition as `--help`.
pub fn man_page() -> Vec<u8> {
    let command = Cli::command();
    let man = clap_mangen::Man::new(command)
        .section("8")
        .date("2026-11-24")
        .manual("System Manager's Manual");
    let mut out = Vec::new();
    man.render_title(&mut out).expect("writing to a Vec");
    man.render_name_section(&mut out).expect("writing to a Vec");
    man.render_synopsis_section(&mut out)
        .expect("writing to a Vec");
    man.render_description_section(&mut out)
        .expect("writing to a Vec");
    man.render_options_section(&mut out)
        .expect("writing to a Vec");
    out.extend_from_slice(MAN_EXTRA.as_bytes());
    man.render_version_section(&mut out)
        .expect("writing to a Vec");
    out
}

/// The sections clap does not generate, in roff.
const MAN_EXTRA: &str = r#".SH OUTPUT
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
be.
.PP
Column widths fit the content. When standard output is a terminal the columns are spread over
its width as ss does. Tables of more than 65536 rows are printed as they arrive: their widths
are fitted to the first rows and grow when a later row is wider.
.SH JSON
With \fB\-\-json\fR each row becomes an object with these fields:
.TP
\fBnetid\fR, \fBstate\fR
strings, spelled as in the table (\fBtcp\fR, \fBESTAB\fR, ...).
.TP
\fBrecv_q\fR, \fBsend_q\fR, \fBinode\fR
integers.
.TP
\fBfamily\fR
\fBinet\fR, \fBinet6\fR or \fBunix\fR.
.TP
\fBlocal_address\fR, \fBlocal_port\fR, \fBpeer_address\fR, \fBpeer_port\fR, \fBinterface\fR, \fBv6only\fR
inet sockets only: addresses as plain text without brackets, ports as integers (0 where the
table shows \fB*\fR), the bound device or scope name or null, and whether an IPv6 socket
refuses IPv4 (a wildcard socket without it is the table's \fB*\fR).
.TP
\fBpath\fR, \fBpeer_inode\fR
unix sockets only: the name (\fB@\fIname\fR for an abstract name, null when unnamed) and the
peer's inode (0 when unconnected).
.PP
JSON output ignores \fB\-n\fR and \fB\-r\fR: addresses and ports are always numeric.
.SH ENVIRONMENT
.TP
\fBPROC_ROOT\fR, \fBPROC_NET_TCP\fR, \fBPROC_NET_TCP6\fR, \fBPROC_NET_UDP\fR, \fBPROC_NET_UDP6\fR, \fBPROC_NET_RAW\fR, \fBPROC_NET_RAW6\fR, \fBPROC_NET_UNIX\fR
As for ss: when set, the tables are read from these files (or from \fI$PROC_ROOT\fR/net)
instead of through sock_diag. sockscope also reads a table from /proc/net when the kernel has
no sock_diag module for it, as ss does for raw sockets on many kernels.
.SH EXIT STATUS
0 on success, also when standard output is closed early (for example by
\fBhead\fR(1)); 1 when the kernel cannot be asked or its answer cannot be read; 2 for an
unknown option or a bad option value.
.SH SEE ALSO
.BR ss (8),
.BR sock_diag (7),
.BR netstat (8)
"#;

/// Shell completions, generated from the same definition as `--help`.
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "sockscope", &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_cli() {
        Cli::command().debug_assert();
    }
}
