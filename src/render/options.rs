//! How the renderers show sockets: the options a validated configuration hands them.
//!
//! They live here, not in the configuration, so that render depends on nothing above it; the
//! configuration builds them and re-exports them.

/// How the sockets are shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    pub format: Format,
    pub numeric: bool,
    pub resolve: bool,
    pub header: bool,
    pub show_netid: bool,
    pub show_state: bool,
    pub details: DetailFlags,
}

/// Which details to show after the columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DetailFlags {
    pub timers: bool,
    pub extended: bool,
    pub memory: bool,
    pub info: bool,
    pub oneline: bool,
    pub tos: bool,
    pub cgroup: bool,
    pub sockopt: bool,
    pub bpf: bool,
    /// `-Q`: the table leaves the Recv-Q and Send-Q columns out (the queues stay in JSON).
    pub no_queues: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
}
