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

use std::fmt;
use std::net::IpAddr;

pub use compile::compile;
pub use eval::Context;
pub use parse::{FilterError, FilterErrorKind, ParseOptions, Source, only_states, parse};

use crate::socket::{Family, Socket, StateSet};

/// A parsed filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    /// The states named with `state` and `exclude`, if the filter names any. An empty set (as
    /// after `state listening exclude listening`) means the tables' default states, as in ss.
    pub states: Option<StateSet>,
    pub expr: Option<Expr>,
    /// The family of the filter's last `FAMILY:` prefix (`src inet6:*`), if it has one: as in
    /// ss, it replaces the families the options list.
    pub family: Option<Family>,
}

/// An expression. `and` and `or` have no precedence between them: as in ss, a chain of them is
/// read from left to right, and `not` applies to the term that follows it.
///
/// A chain is folded from the left, so a filter of 100,000 terms is a tree 100,000 deep. Nothing
/// walks it by recursion, which would overflow the stack: [`Expr::fold`] and the evaluator keep
/// their own stacks, and `Clone`, `PartialEq`, `Debug` and `Drop` are written out to use them.
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

/// Whether `socket` passes the expression (every socket passes when there is none). Only the
/// expression decides, not the states: a socket the kernel announces as destroyed is always
/// closed, whatever state it was listed in.
pub fn wanted(expr: Option<&Expr>, socket: &Socket<'_>, context: &Context) -> bool {
    expr.is_none_or(|expr| expr.matches(socket, context))
}

/// One node of an expression as [`Expr::fold`] presents it: a condition, or an operator with the
/// values already folded from its operands.
pub(crate) enum Step<'e, T> {
    Cond(&'e Cond),
    Not(T),
    And(T, T),
    Or(T, T),
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
        self.fold(|step: Step<'_, Option<u16>>, _| match step {
            Step::And(left, right) => left.or(right),
            Step::Or(left, right) => left.filter(|_| left == right),
            Step::Not(_) => None,
            Step::Cond(Cond::Host(at, Host::Inet(host))) if *at == end => {
                host.port.filter(|&port| port != 0)
            }
            Step::Cond(_) => None,
        })
    }

    /// Ports that every inet socket the expression matches has at one end or the other
    /// (`:8000`, `sport = :22 or dport = :22`, an `and` with either), if the expression
    /// names such a set: what the kernel's event program can drop before user space sees an
    /// event. `None` means any port may match.
    pub fn port_set(&self) -> Option<Vec<u16>> {
        self.fold(|step: Step<'_, Option<Vec<u16>>>, _| match step {
            Step::And(Some(a), Some(b)) => Some(if a.len() <= b.len() { a } else { b }),
            Step::And(a, b) => a.or(b),
            Step::Or(Some(mut a), Some(b)) => {
                a.extend(b);
                a.sort_unstable();
                a.dedup();
                Some(a)
            }
            Step::Or(..) | Step::Not(_) => None,
            Step::Cond(Cond::Host(_, Host::Inet(host))) => {
                host.port.filter(|&port| port != 0).map(|port| vec![port])
            }
            Step::Cond(_) => None,
        })
    }

    /// Folds the tree from its leaves up, without recursion: `f` gets each node with the
    /// values of its operands, and whether an odd number of `not`s stand above it.
    pub(crate) fn fold<T>(&self, mut f: impl FnMut(Step<'_, T>, bool) -> T) -> T {
        enum Task<'e> {
            Visit(&'e Expr, bool),
            Combine(&'e Expr, bool),
        }
        let mut tasks = vec![Task::Visit(self, false)];
        let mut values: Vec<T> = Vec::new();
        while let Some(task) = tasks.pop() {
            match task {
                Task::Visit(Expr::Cond(cond), negated) => values.push(f(Step::Cond(cond), negated)),
                Task::Visit(expr, negated) => {
                    tasks.push(Task::Combine(expr, negated));
                    match expr {
                        Expr::And(a, b) | Expr::Or(a, b) => {
                            tasks.push(Task::Visit(b, negated));
                            tasks.push(Task::Visit(a, negated));
                        }
                        Expr::Not(a) => tasks.push(Task::Visit(a, !negated)),
                        Expr::Cond(_) => unreachable!("visited above"),
                    }
                }
                Task::Combine(expr, negated) => {
                    let step = match expr {
                        Expr::Not(_) => Step::Not(values.pop().expect("an operand")),
                        Expr::And(..) | Expr::Or(..) => {
                            let b = values.pop().expect("two operands");
                            let a = values.pop().expect("two operands");
                            if matches!(expr, Expr::And(..)) {
                                Step::And(a, b)
                            } else {
                                Step::Or(a, b)
                            }
                        }
                        Expr::Cond(_) => unreachable!("conditions are not combined"),
                    };
                    values.push(f(step, negated));
                }
            }
        }
        values.pop().expect("a value")
    }

    /// The operands of this node.
    fn children(&self) -> (Option<&Expr>, Option<&Expr>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => (Some(a), Some(b)),
            Expr::Not(a) => (Some(a), None),
            Expr::Cond(_) => (None, None),
        }
    }

    /// Whether the two nodes are alike, their operands aside.
    fn same_node(&self, other: &Expr) -> bool {
        match (self, other) {
            (Expr::And(..), Expr::And(..))
            | (Expr::Or(..), Expr::Or(..))
            | (Expr::Not(_), Expr::Not(_)) => true,
            (Expr::Cond(a), Expr::Cond(b)) => a == b,
            _ => false,
        }
    }
}

impl Clone for Expr {
    fn clone(&self) -> Expr {
        self.fold(|step: Step<'_, Expr>, _| match step {
            Step::Cond(cond) => Expr::Cond(cond.clone()),
            Step::Not(a) => !a,
            Step::And(a, b) => a.and(b),
            Step::Or(a, b) => a.or(b),
        })
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        let mut pairs = vec![(self, other)];
        while let Some((a, b)) = pairs.pop() {
            if !a.same_node(b) {
                return false;
            }
            let ((a1, a2), (b1, b2)) = (a.children(), b.children());
            for pair in [(a1, b1), (a2, b2)] {
                if let (Some(a), Some(b)) = pair {
                    pairs.push((a, b));
                }
            }
        }
        true
    }
}

impl Eq for Expr {}

impl fmt::Debug for Expr {
    /// As the derived form would print it, `And(Cond(..), Not(Cond(..)))`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Item<'e> {
            Node(&'e Expr),
            Text(&'static str),
        }
        let mut items = vec![Item::Node(self)];
        while let Some(item) = items.pop() {
            let expr = match item {
                Item::Text(text) => {
                    f.write_str(text)?;
                    continue;
                }
                Item::Node(expr) => expr,
            };
            match expr {
                Expr::Cond(cond) => write!(f, "Cond({cond:?})")?,
                Expr::Not(a) => {
                    f.write_str("Not(")?;
                    items.extend([Item::Text(")"), Item::Node(a)]);
                }
                Expr::And(a, b) | Expr::Or(a, b) => {
                    let name = if matches!(expr, Expr::And(..)) {
                        "And("
                    } else {
                        "Or("
                    };
                    f.write_str(name)?;
                    items.extend([
                        Item::Text(")"),
                        Item::Node(b),
                        Item::Text(", "),
                        Item::Node(a),
                    ]);
                }
            }
        }
        Ok(())
    }
}

impl Drop for Expr {
    /// Takes the tree apart from the top, so that dropping a deep one does not recurse.
    fn drop(&mut self) {
        fn detach(expr: &mut Expr, below: &mut Vec<Expr>) {
            match expr {
                Expr::And(a, b) | Expr::Or(a, b) => {
                    for child in [a, b] {
                        if !matches!(**child, Expr::Cond(_)) {
                            below.push(std::mem::replace(child, Expr::Cond(Cond::Autobound)));
                        }
                    }
                }
                Expr::Not(a) if !matches!(**a, Expr::Cond(_)) => {
                    below.push(std::mem::replace(a, Expr::Cond(Cond::Autobound)));
                }
                _ => {}
            }
        }
        let mut below: Vec<Expr> = Vec::new();
        detach(self, &mut below);
        while let Some(mut expr) = below.pop() {
            detach(&mut expr, &mut below);
        }
    }
}

impl std::ops::Not for Expr {
    type Output = Expr;

    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}
