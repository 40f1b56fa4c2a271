//! sockscope's integration tests: the real binary against the real kernel, compared with
//! iproute2's ss in private network namespaces.

mod util;

mod args;
mod bytecode;
mod captures;
mod demo;
mod details;
mod dump;
mod events;
mod exporter;
mod filter;
mod filter_parity;
mod generated;
mod hostile;
mod json;
mod kill;
mod listing;
mod live;
mod netns_flag;
mod parity;
mod processes;
mod props;
mod summary;
mod tables;
mod transitions;
mod watch;
mod watch_events;
