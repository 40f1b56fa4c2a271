//! sockscope's integration tests: the real binary against the real kernel, compared with
//! iproute2's ss in private network namespaces.

mod util;

mod bytecode;
mod demo;
mod details;
mod dump;
mod events;
mod filter;
mod generated;
mod json;
mod kill;
mod listing;
mod live;
mod netns_flag;
mod processes;
mod summary;
mod tables;
mod watch;
