//! The ss filter language: `[ state NAME | exclude NAME ]... [ EXPRESSION ]`.
//!
//! [`parse`] turns the words the user typed into a [`Filter`]: a state set and an expression
//! tree. The same tree is evaluated two ways: [`Expr::matches`] on every decoded socket in user
//! space, and [`compile`] into the kernel's inet_diag bytecode so that the kernel drops most
//! sockets before they are ever sent. ss does both, and so do we, so that the selection never
//! depends on which path ran.

mod compile;
mod eval;
mod host;
mod parse;

use std::net::IpAddr;

pub use compile::compile;
pub use eval::Context;
pub use parse::{FilterError, FilterErrorKind, ParseOptions, Source, parse};

use crate::socket::StateSet;

/// A parsed filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The states named with `state` and `exclude`, if the filter names any. An empty set (as
    /// after `state listening exclude listening`) means the tables' default states, as in ss.
    pub states: Option<StateSet>,
    pub expr: Option<Expr>,
}

/// An expression. `and` and `or` have no precedence between them: as in ss, a chain of them is
/// read from left to right, and `not` applies to the term that follows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Cond(Cond),
}

/// The end of a connection a predicate looks at: `src`/`sport` or `dst`/`dport`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    Local,
    Peer,
}

/// One predicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cond {
    /// `src HOST`, `dst HOST`, and port equality (`sport = :22` is `src *:22`).
    Host(End, Host),
    /// `sport >= PORT` and friends; `>` and `<` are the negations of `<=` and `>=`. What a
    /// port is depends on the socket: see [`eval`](self::eval) (a netlink port id can be
    /// negative).
    PortAtLeast(End, i64),
    PortAtMost(End, i64),
    Device(u32),
    Mark {
        mark: u32,
        mask: u32,
    },
    Cgroup(u64),
    Autobound,
}

/// What `src` and `dst` compare against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Host {
    Inet(InetHost),
    /// A unix name, matched as a case-insensitive glob against the path or `@abstract` name.
    Unix(Vec<u8>),
    Packet(PacketHost),
    Netlink(NetlinkHost),
}

/// A packet socket condition, `[link:]PROTOCOL[:DEVICE]`; `None` matches anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketHost {
    pub protocol: Option<u16>,
    pub ifindex: Option<u32>,
}

/// A netlink socket condition, `[netlink:]PROTOCOL[:PORTID]`; `None` matches anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetlinkHost {
    pub protocol: Option<u8>,
    pub portid: Option<i32>,
}

/// An inet address condition: an optional family, address prefix and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InetHost {
    /// `None` for `*`, which any family matches.
    pub family: Option<IpFamily>,
    /// The address and the number of leading bits that must match.
    pub prefix: Option<(IpAddr, u8)>,
    pub port: Option<u16>,
    /// The family was read off an IPv4 address rather than named, so the address also matches
    /// its IPv4-mapped IPv6 form (ss's rule; the kernel always allows it).
    pub mapped_too: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    /// `IPv4` or `IPv6`, for messages.
    pub fn name(self) -> &'static str {
        match self {
            IpFamily::V4 => "IPv4",
            IpFamily::V6 => "IPv6",
        }
    }
}

impl Expr {
    pub fn and(self, other: Expr) -> Expr {
        Expr::And(Box::new(self), Box::new(other))
    }

    pub fn or(self, other: Expr) -> Expr {
        Expr::Or(Box::new(self), Box::new(other))
    }

    /// The port that every inet socket the expression matches has at `end`, if there is one
    /// (`dport = :443`, or an `and` with it on either side). The kernel compares a port named
    /// in the request's socket id before it reads anything else of a socket or runs the
    /// bytecode, so on a large table this is the cheapest filter there is.
    pub fn required_port(&self, end: End) -> Option<u16> {
        match self {
            Expr::And(left, right) => left.required_port(end).or_else(|| right.required_port(end)),
            Expr::Or(left, right) => {
                let port = left.required_port(end)?;
                (right.required_port(end) == Some(port)).then_some(port)
            }
            Expr::Not(_) => None,
            Expr::Cond(Cond::Host(at, Host::Inet(host))) if *at == end => {
                host.port.filter(|&port| port != 0)
            }
            Expr::Cond(_) => None,
        }
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;

    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}
