//! sockscope's integration tests: the real binary against the real kernel, compared with
//! iproute2's ss in private network namespaces.

mod util;

mod bytecode;
mod demo;
mod details;
mod events;
mod filter;
mod generated;
mod json;
mod listing;
mod processes;
mod summary;
mod watch;
