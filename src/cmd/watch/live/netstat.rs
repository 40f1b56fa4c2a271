//! The namespace's listen counters: `ListenOverflows` (a connection completed its handshake
//! while the accept queue was full) and `ListenDrops` (any SYN or ACK a listener dropped),
//! from the `TcpExt` lines of /proc/net/netstat, which describe the reader's own namespace.

/// The two counters, as read at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenCounters {
    pub overflows: u64,
    pub drops: u64,
}

impl ListenCounters {
    /// Reads them; `None` when the file cannot be read or lacks them.
    pub fn read() -> Option<ListenCounters> {
        parse(&std::fs::read_to_string("/proc/net/netstat").ok()?)
    }

    /// How much each grew since `before`.
    pub fn since(self, before: ListenCounters) -> ListenCounters {
        ListenCounters {
            overflows: self.overflows.saturating_sub(before.overflows),
            drops: self.drops.saturating_sub(before.drops),
        }
    }

    pub fn is_zero(self) -> bool {
        self == ListenCounters::default()
    }
}

/// The counters from the text of /proc/net/netstat: a `TcpExt:` line of names, then a
/// `TcpExt:` line of values in the same order.
fn parse(text: &str) -> Option<ListenCounters> {
    let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
    let (names, values) = (lines.next()?, lines.next()?);
    let (mut overflows, mut drops) = (None, None);
    for (name, value) in names
        .split_whitespace()
        .zip(values.split_whitespace())
        .skip(1)
    {
        match name {
            "ListenOverflows" => overflows = value.parse().ok(),
            "ListenDrops" => drops = value.parse().ok(),
            _ => {}
        }
    }
    Some(ListenCounters {
        overflows: overflows?,
        drops: drops?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpext_lines() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPHPHits\n\
                    TcpExt: 0 7 9 100\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        assert_eq!(
            parse(text),
            Some(ListenCounters {
                overflows: 7,
                drops: 9
            })
        );
        assert_eq!(parse("IpExt: A\nIpExt: 1\n"), None);
    }

    #[test]
    fn this_namespace_has_them() {
        assert!(ListenCounters::read().is_some());
    }
}
