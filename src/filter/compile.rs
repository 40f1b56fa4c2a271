//! Compiling a filter to inet_diag bytecode, so that the kernel drops what the filter rejects.
//!
//! Conditions compile as ss compiles them, so a program is byte for byte what ss sends. The
//! kernel's program only has to keep every socket the filter accepts: user space tests each
//! socket it sends. So where ss gives up on the whole filter when one part cannot be compiled,
//! we compile what can be: a part the kernel cannot test (a unix name) becomes "accept" where
//! that widens the selection and "reject" where it narrows it (under a `not` the two swap).
//!
//! Some conditions the kernel tests more widely than user space: ss sends `inet6:*` as "any
//! family", and the kernel matches an IPv4 condition against IPv4-mapped sockets even when the
//! user named the family. Those may only stand where widening is safe; under a `not` they
//! would narrow the selection wrongly. There they become "reject" and the result stays right. We also compile `dev`, which the kernel can test
//! and ss leaves to user space.

use std::net::IpAddr;
use std::ops::Not;

use zerocopy::byteorder::I32;

use super::{Cond, End, Expr, Host, Step};
use crate::wire::bytecode::{
    Bytecode, INET_DIAG_BC_AUTO, INET_DIAG_BC_D_COND, INET_DIAG_BC_D_GE, INET_DIAG_BC_D_LE,
    INET_DIAG_BC_S_COND, INET_DIAG_BC_S_GE, INET_DIAG_BC_S_LE, InetDiagHostcond,
};

/// Jumps are 16-bit: a program must stay well below 64 KiB, and two parts of this size joined
/// by `and` must still fit before the whole is measured again.
const MAX_PROGRAM: usize = 30 * 1024;

/// A compiled piece, or a constant where nothing needs compiling.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    All,
    Nothing,
    Code(Bytecode),
}

/// The program for the kernel, or `None` when it would accept every socket anyway, or when it
/// would outgrow [`MAX_PROGRAM`]: then user space filters alone, as ss does when the kernel
/// refuses its program.
pub fn compile(expr: &Expr) -> Option<Bytecode> {
    match widened(expr)? {
        Piece::All => None,
        Piece::Nothing => Some(Bytecode::reject()),
        Piece::Code(code) => Some(code),
    }
}

/// A program accepting at least what `expr` accepts, or `None` when it would be too large.
///
/// Each part is approximated from the outside in: under an odd number of `not`s a part must
/// accept at most what it accepts, so that the `not` accepts at least. Once one part outgrows
/// [`MAX_PROGRAM`] the rest is not compiled at all, so that a filter of any length compiles in
/// time linear in its length (joining two programs by `and` walks the first).
fn widened(expr: &Expr) -> Option<Piece> {
    let mut too_large = false;
    let piece = expr.fold(|step, negated| {
        if too_large {
            return Piece::All;
        }
        let wide = !negated;
        let piece = match step {
            Step::And(a, b) => and(a, b),
            Step::Or(a, b) => or(a, b),
            Step::Not(a) => not(a),
            Step::Cond(cond) => match condition(cond) {
                Some((code, _)) if wide => Piece::Code(code),
                Some((code, Test::Exact)) => Piece::Code(code),
                _ => Piece::untestable(wide),
            },
        };
        too_large = matches!(&piece, Piece::Code(code) if code.len() > MAX_PROGRAM);
        piece
    });
    (!too_large).then_some(piece)
}

impl Piece {
    /// What stands for a part the kernel cannot test: "accept" where the program may accept
    /// more than the filter, "reject" where it must accept less.
    fn untestable(wide: bool) -> Piece {
        if wide { Piece::All } else { Piece::Nothing }
    }
}

fn and(a: Piece, b: Piece) -> Piece {
    match (a, b) {
        (Piece::Nothing, _) | (_, Piece::Nothing) => Piece::Nothing,
        (Piece::All, other) | (other, Piece::All) => other,
        (Piece::Code(a), Piece::Code(b)) => Piece::Code(a.and(b)),
    }
}

fn or(a: Piece, b: Piece) -> Piece {
    match (a, b) {
        (Piece::All, _) | (_, Piece::All) => Piece::All,
        (Piece::Nothing, other) | (other, Piece::Nothing) => other,
        (Piece::Code(a), Piece::Code(b)) => Piece::Code(a.or(b)),
    }
}

fn not(a: Piece) -> Piece {
    match a {
        Piece::All => Piece::Nothing,
        Piece::Nothing => Piece::All,
        Piece::Code(code) => Piece::Code(code.not()),
    }
}

/// How the kernel's test of a condition compares with the user-space one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Test {
    Exact,
    /// The kernel accepts at least what user space accepts, perhaps more.
    Wider,
}

/// One condition as the kernel tests it, if it can.
fn condition(cond: &Cond) -> Option<(Bytecode, Test)> {
    let pick = |end: &End, local, peer| if *end == End::Local { local } else { peer };
    let test = match cond {
        Cond::Host(_, Host::Inet(host)) => match (host.family, host.prefix) {
            // Sent as "any family".
            (Some(_), None) => Test::Wider,
            // The kernel also matches the IPv4-mapped form, which user space allows only
            // when the family was not named.
            (_, Some((IpAddr::V4(_), _))) if !host.mapped_too => Test::Wider,
            _ => Test::Exact,
        },
        _ => Test::Exact,
    };
    let code = match cond {
        Cond::Host(end, Host::Inet(host)) => {
            let code = pick(end, INET_DIAG_BC_S_COND, INET_DIAG_BC_D_COND);
            // Like ss, a condition without an address leaves the family open (user space
            // checks it), since each request already names one.
            let (family, prefix_len, address) = match host.prefix {
                None => (libc::AF_UNSPEC, 0, vec![0; 4]),
                Some((IpAddr::V4(ip), len)) => (libc::AF_INET, len, ip.octets().to_vec()),
                Some((IpAddr::V6(ip), len)) => (libc::AF_INET6, len, ip.octets().to_vec()),
            };
            let cond = InetDiagHostcond {
                family: family as u8,
                prefix_len,
                pad: [0; 2],
                port: I32::new(host.port.map_or(-1, i32::from)),
            };
            Bytecode::host_test(code, &cond, &address)
        }
        Cond::Host(_, Host::Unix(_) | Host::Packet(_) | Host::Netlink(_)) => return None,
        Cond::PortAtLeast(end, port) => Bytecode::port_test(
            pick(end, INET_DIAG_BC_S_GE, INET_DIAG_BC_D_GE),
            u16::try_from(*port).ok()?,
        ),
        Cond::PortAtMost(end, port) => Bytecode::port_test(
            pick(end, INET_DIAG_BC_S_LE, INET_DIAG_BC_D_LE),
            u16::try_from(*port).ok()?,
        ),
        Cond::Device(index) => Bytecode::device_test(*index),
        Cond::Mark { mark, mask } => Bytecode::mark_test(*mark, *mask),
        Cond::Cgroup(id) => Bytecode::cgroup_test(*id),
        Cond::Autobound => Bytecode::test(INET_DIAG_BC_AUTO, &[]),
    };
    Some((code, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{ParseOptions, Source, parse};

    fn program(filter: &str) -> String {
        let source = Source::Args(vec![filter.to_owned()]);
        let expr = parse(&source, &ParseOptions::default())
            .unwrap()
            .expr
            .unwrap();
        let code = compile(&expr).expect("a program");
        code.as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// What ss 6.1 sends for each filter, read off `strace -e write=...` (the bytes after the
    /// attribute header).
    #[test]
    fn programs_are_what_ss_sends() {
        let port = |p: &str| format!("00 00 00 00 {p} 00 00 00 00 00 00 00");
        let cases = [
            ("sport = :22", format!("07 10 14 00 {}", port("16"))),
            (
                "dport != :22",
                format!("08 10 14 00 {} 01 04 08 00", port("16")),
            ),
            (
                "sport > :22",
                "03 08 0c 00 00 00 16 00 01 04 08 00".to_owned(),
            ),
            ("sport >= :22", "02 08 0c 00 00 00 16 00".to_owned()),
            (
                "sport < :22",
                "02 08 0c 00 00 00 16 00 01 04 08 00".to_owned(),
            ),
            ("sport <= :22", "03 08 0c 00 00 00 16 00".to_owned()),
            ("autobound", "06 04 08 00".to_owned()),
            (
                "dst 127.0.0.1",
                "08 10 14 00 02 20 00 00 ff ff ff ff 7f 00 00 01".to_owned(),
            ),
            (
                "src 10.0.0.0/8:80",
                "07 10 14 00 02 08 00 00 50 00 00 00 0a 00 00 00".to_owned(),
            ),
            (
                "sport = :22 or sport = :80",
                format!(
                    "07 10 14 00 {} 01 04 14 00 07 10 14 00 {}",
                    port("16"),
                    port("50")
                ),
            ),
            (
                "sport = :22 and dport = :80",
                format!("07 10 24 00 {} 08 10 14 00 {}", port("16"), port("50")),
            ),
            (
                "sport = :22 dport = :80",
                format!("07 10 24 00 {} 08 10 14 00 {}", port("16"), port("50")),
            ),
            (
                "! ( sport = :22 or dport = :80 )",
                format!(
                    "07 10 14 00 {} 01 04 14 00 08 10 14 00 {} 01 04 08 00",
                    port("16"),
                    port("50")
                ),
            ),
            (
                "sport = :22 or sport = :80 and dport = :1",
                format!(
                    "07 10 14 00 {} 01 04 14 00 07 10 24 00 {} 08 10 14 00 {}",
                    port("16"),
                    port("50"),
                    port("01")
                ),
            ),
            (
                "dst [::1]:5001",
                "08 1c 20 00 0a 80 00 00 89 13 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
                 00 01"
                    .to_owned(),
            ),
            (
                "src *",
                "07 10 14 00 00 00 00 00 ff ff ff ff 00 00 00 00".to_owned(),
            ),
            ("src *:22", format!("07 10 14 00 {}", port("16"))),
            (
                "src [::/0]",
                "07 1c 20 00 0a 00 00 00 ff ff ff ff 00 00 00 00 00 00 00 00 00 00 00 00 00 00 \
                 00 00"
                    .to_owned(),
            ),
            (
                "src 0/0",
                "07 10 14 00 02 00 00 00 ff ff ff ff 00 00 00 00".to_owned(),
            ),
            (
                "dst inet6:*",
                "08 10 14 00 00 00 00 00 ff ff ff ff 00 00 00 00".to_owned(),
            ),
            (
                "fwmark = 0x10/0xff",
                "0a 0c 10 00 10 00 00 00 ff 00 00 00".to_owned(),
            ),
            (
                "fwmark = 5",
                "0a 0c 10 00 05 00 00 00 ff ff ff ff".to_owned(),
            ),
            (
                "sport = :22 or autobound or dport = :1",
                format!(
                    "07 10 14 00 {} 01 04 08 00 06 04 08 00 01 04 14 00 08 10 14 00 {}",
                    port("16"),
                    port("01")
                ),
            ),
            (
                "( sport = :1 or sport = :2 ) and ( dport = :3 or dport = :4 )",
                format!(
                    "07 10 14 00 {} 01 04 14 00 07 10 38 00 {} 08 10 14 00 {} 01 04 14 00 \
                     08 10 14 00 {}",
                    port("01"),
                    port("02"),
                    port("03"),
                    port("04")
                ),
            ),
        ];
        for (filter, expected) in cases {
            assert_eq!(program(filter), expected, "{filter}");
        }
    }

    /// Cgroup ids differ from machine to machine; ss sends the id as a native u64.
    #[test]
    fn cgroup_condition() {
        let code = compile(&Expr::Cond(Cond::Cgroup(0x1122))).unwrap();
        assert_eq!(
            code.as_bytes(),
            [0x0d, 0x0c, 0x10, 0x00, 0x22, 0x11, 0, 0, 0, 0, 0, 0]
        );
    }

    /// A unix name cannot be tested by the kernel: it widens to "accept" where that keeps every
    /// match, and narrows to "reject" under `not`.
    #[test]
    fn what_the_kernel_cannot_test_is_approximated_safely() {
        let unix = || Expr::Cond(Cond::Host(End::Local, Host::Unix(b"*".to_vec())));
        let port = || Expr::Cond(Cond::PortAtLeast(End::Local, 22));
        assert_eq!(compile(&unix()), None);
        assert_eq!(compile(&unix().or(port())), None);
        assert_eq!(compile(&unix().and(port())), compile(&port()));
        // not ( unix and port ): the unix part narrows to "reject", so the whole accepts all.
        assert_eq!(compile(&unix().and(port()).not()), None);
        // not ( unix or port ) = not unix and not port: accepts at most "not port".
        assert_eq!(compile(&unix().or(port()).not()), compile(&port().not()));
    }

    /// `inet6:*` is sent as "any family", as ss sends it; under `not` it must not become
    /// "no family".
    #[test]
    fn wider_tests_are_not_negated() {
        let source = |text: &str| Source::Args(vec![text.to_owned()]);
        let expr = |text| {
            parse(&source(text), &ParseOptions::default())
                .unwrap()
                .expr
                .unwrap()
        };
        assert!(compile(&expr("src inet6:*")).is_some());
        assert_eq!(compile(&expr("! src inet6:*")), None);
        assert_eq!(compile(&expr("! dst inet:127.0.0.1")), None);
        assert!(compile(&expr("! dst 127.0.0.1")).is_some());
        assert_eq!(
            compile(&expr("! src inet6:* and sport = :22")),
            compile(&expr("sport = :22"))
        );
    }

    /// The ports sent in the request's socket id: only where every match has that port.
    #[test]
    fn required_ports() {
        let ports = |filter: &str| {
            let source = Source::Args(vec![filter.to_owned()]);
            let expr = parse(&source, &ParseOptions::default())
                .unwrap()
                .expr
                .unwrap();
            (
                expr.required_port(End::Local),
                expr.required_port(End::Peer),
            )
        };
        assert_eq!(ports("dport = :5000"), (None, Some(5000)));
        assert_eq!(ports("sport == :22"), (Some(22), None));
        assert_eq!(ports("src 127.0.0.1:80"), (Some(80), None));
        assert_eq!(ports("dst 127.0.0.1"), (None, None));
        assert_eq!(
            ports("( sport = :22 ) and dport = :5000"),
            (Some(22), Some(5000))
        );
        assert_eq!(ports("src 10.0.0.1 and dport = :443"), (None, Some(443)));
        assert_eq!(ports("dport = :443 or dport = :443"), (None, Some(443)));
        assert_eq!(ports("dport = :443 or dport = :80"), (None, None));
        assert_eq!(ports("dport = :443 or src 10.0.0.1"), (None, None));
        assert_eq!(ports("sport = :22 or dport = :22"), (None, None));
        assert_eq!(ports("dport != :443"), (None, None));
        assert_eq!(ports("not dport = :443"), (None, None));
        assert_eq!(ports("dport >= :443"), (None, None));
        assert_eq!(ports("dport = :0"), (None, None));
    }
}
