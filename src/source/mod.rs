//! Where sockets come from: sock_diag requests and the kernel's replies decoded into the
//! model ([`query`], [`decode`]) asking for the attributes the listing shows ([`request`]),
//! the sockets the kernel announces as destroyed ([`destroyed`]) and every TCP state
//! transition as it happens ([`transitions`]), the /proc/net files for tables the kernel has
//! no diag module
//! for ([`procnet`]), and dumps of the TCP table's raw replies ([`dump`]).

pub mod decode;
pub mod destroyed;
pub mod dump;
pub mod procnet;
pub mod query;
pub mod request;
pub mod transitions;
