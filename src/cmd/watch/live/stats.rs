//! What the view counts over the watch: sockets per look and new and closed ones per second
//! (the header's sparklines), each row's last looks (its sparkline), the listen counters'
//! growth, and the totals and busiest connections the summary leaves on the screen.
//!
//! The loop measures; this only adds up what it is handed (no I/O).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use super::super::tracker::Key;
use super::table::Row;
use super::units;
use crate::source::procnet::ListenCounters;

/// Looks a row's sparkline and the header's remember.
pub const HISTORY: usize = 12;
const HEADER_HISTORY: usize = 30;
/// Connections the summary left on screen names.
const BUSIEST: usize = 3;

/// A socket's last looks, for its sparkline, and what the summary keeps of it.
#[derive(Default)]
pub struct History {
    pub gauges: VecDeque<u64>,
    /// The look that last listed it.
    look: u64,
    peak: u64,
    /// Bytes moved (from the rates), with `-i`.
    moved: u64,
}

/// A connection among the busiest, for the summary.
struct Busy {
    key: Key,
    score: u64,
    text: String,
}

/// What the whole watch saw, for the lines it leaves on the screen.
#[derive(Default)]
struct Totals {
    looks: u64,
    seen: u64,
    opened: u64,
    closed: u64,
    peak_sockets: usize,
    peak_recv_q: u32,
    peak_send_q: u32,
    /// The fullest accept queue: (queue, backlog).
    peak_accept: Option<(u32, u32)>,
    listen: ListenCounters,
    busiest: Vec<Busy>,
}

pub struct Stats {
    started: Instant,
    /// `-i`: rows are scored by the bytes they moved rather than by their queues.
    rates: bool,
    /// Sockets added and removed since the last tick, and the rates of the last interval.
    added: u32,
    removed: u32,
    last_tick: Option<Instant>,
    pub per_second: (f64, f64),
    /// Per look: sockets, and new and closed per second (in tenths).
    pub counts: VecDeque<u64>,
    pub news: VecDeque<u64>,
    pub closes: VecDeque<u64>,
    pub histories: HashMap<Key, History>,
    totals: Totals,
    /// The listen counters as last measured, and how much they grew in the last interval.
    listen: Option<ListenCounters>,
    pub listen_grew: ListenCounters,
}

impl Stats {
    pub fn new(rates: bool) -> Stats {
        Stats {
            started: Instant::now(),
            rates,
            added: 0,
            removed: 0,
            last_tick: None,
            per_second: (0.0, 0.0),
            counts: VecDeque::new(),
            news: VecDeque::new(),
            closes: VecDeque::new(),
            histories: HashMap::new(),
            totals: Totals::default(),
            listen: None,
            listen_grew: ListenCounters::default(),
        }
    }

    /// The first look listed `n` sockets.
    pub fn snapshot(&mut self, n: usize) {
        self.totals.seen += n as u64;
    }

    pub fn added(&mut self) {
        self.added += 1;
        self.totals.seen += 1;
        self.totals.opened += 1;
    }

    /// A socket came into the filter when it changed: seen, but not opened.
    pub fn joined(&mut self) {
        self.totals.seen += 1;
    }

    /// A socket closed; `between` when it opened after the last look (never listed).
    pub fn removed(&mut self, between: bool) {
        self.removed += 1;
        self.totals.closed += 1;
        if between {
            self.totals.seen += 1;
            self.totals.opened += 1;
        }
    }

    /// The listen counters the loop read: the first reading is the base the others grow
    /// from. Returns the growth since the last reading, when there is one.
    pub fn listen_counters(&mut self, now: ListenCounters) -> Option<ListenCounters> {
        let before = self.listen.replace(now);
        let grew = now.since(before?);
        self.listen_grew = grew;
        self.totals.listen.overflows += grew.overflows;
        self.totals.listen.drops += grew.drops;
        Some(grew)
    }

    /// The end of an interval at `at`, after look number `look` listed `sockets`: rates,
    /// histories, peaks. `rows` are the rows of the look (with what `describe` makes a
    /// busiest connection's text of).
    pub fn record<E>(
        &mut self,
        at: Instant,
        look: u64,
        sockets: usize,
        rows: impl Iterator<Item = (Row, E)>,
        mut describe: impl FnMut(&E) -> String,
    ) {
        if let Some(last) = self.last_tick {
            let elapsed = at.saturating_duration_since(last).as_secs_f64();
            if elapsed > 0.0 {
                self.per_second = (
                    f64::from(self.added) / elapsed,
                    f64::from(self.removed) / elapsed,
                );
            }
        }
        let elapsed = self
            .last_tick
            .map_or(Duration::ZERO, |last| at.saturating_duration_since(last));
        self.last_tick = Some(at);
        self.added = 0;
        self.removed = 0;
        push(&mut self.counts, sockets as u64, HEADER_HISTORY);
        push(
            &mut self.news,
            (self.per_second.0 * 10.0) as u64,
            HEADER_HISTORY,
        );
        push(
            &mut self.closes,
            (self.per_second.1 * 10.0) as u64,
            HEADER_HISTORY,
        );

        let totals = &mut self.totals;
        totals.looks = look;
        totals.peak_sockets = totals.peak_sockets.max(sockets);
        let mut candidates: Vec<(Key, u64, E)> = Vec::new();
        for (row, entry) in rows {
            let history = self.histories.entry(row.key).or_default();
            push(&mut history.gauges, row.gauge(self.rates), HISTORY);
            history.look = look;
            if row.listening() {
                let fuller = totals.peak_accept.is_none_or(|(q, _)| row.recv_q > q);
                if fuller {
                    totals.peak_accept = Some((row.recv_q, row.send_q));
                }
                continue;
            }
            totals.peak_recv_q = totals.peak_recv_q.max(row.recv_q);
            totals.peak_send_q = totals.peak_send_q.max(row.send_q);
            let queued = u64::from(row.recv_q) + u64::from(row.send_q);
            history.peak = history.peak.max(queued);
            if let Some(r) = row.rates {
                let moved = (r.bytes_in + r.bytes_out) as f64 * elapsed.as_secs_f64();
                history.moved += moved as u64;
            }
            let score = if self.rates {
                history.moved
            } else {
                history.peak
            };
            let least = if totals.busiest.len() < BUSIEST {
                0
            } else {
                totals.busiest.iter().map(|b| b.score).min().unwrap_or(0)
            };
            if score > least {
                candidates.push((row.key, score, entry));
            }
        }
        self.histories.retain(|_, h| h.look == look);
        // Only the best few can enter the list: their text is made once each.
        candidates.sort_unstable_by_key(|(_, score, _)| std::cmp::Reverse(*score));
        candidates.truncate(BUSIEST);
        let busiest = &mut self.totals.busiest;
        for (key, score, entry) in candidates {
            if let Some(busy) = busiest.iter_mut().find(|b| b.key == key) {
                busy.score = score;
            } else {
                let text = describe(&entry);
                busiest.push(Busy { key, score, text });
            }
            busiest.sort_by_key(|b| std::cmp::Reverse(b.score));
            busiest.truncate(BUSIEST);
        }
    }

    /// The lines left on the normal screen when the view ends.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut text = format!(
            "sockscope watch: watched {} ({} look{}): {} socket{} seen, {} opened, {} closed\n",
            units::span(self.started.elapsed()),
            t.looks,
            if t.looks == 1 { "" } else { "s" },
            t.seen,
            if t.seen == 1 { "" } else { "s" },
            t.opened,
            t.closed,
        );
        let _ = write!(
            text,
            "  peaks: {} socket{} at once, Recv-Q {}, Send-Q {}",
            t.peak_sockets,
            if t.peak_sockets == 1 { "" } else { "s" },
            units::bytes(u64::from(t.peak_recv_q)),
            units::bytes(u64::from(t.peak_send_q)),
        );
        if let Some((queue, backlog)) = t.peak_accept {
            let _ = write!(text, ", accept queue {queue}/{backlog}");
        }
        text.push('\n');
        if !t.listen.is_zero() {
            let _ = writeln!(
                text,
                "  listen queue overflows: ListenOverflows {}, ListenDrops {}",
                t.listen.overflows, t.listen.drops
            );
        }
        for (i, busy) in t.busiest.iter().enumerate() {
            let what = if self.rates {
                format!("{} moved", units::bytes(busy.score))
            } else {
                format!("queues up to {}", units::bytes(busy.score))
            };
            let head = if i == 0 { "busiest:" } else { "" };
            let _ = writeln!(text, "  {head:8} {} ({what})", busy.text);
        }
        text
    }
}

/// Appends `value`, keeping the last `keep`.
fn push(values: &mut VecDeque<u64>, value: u64, keep: usize) {
    if values.len() == keep {
        values.pop_front();
    }
    values.push_back(value);
}

#[cfg(test)]
mod tests {
    use super::super::table::Hot;
    use super::*;
    use crate::socket::{Netid, TcpState};

    fn row(key: Key, state: TcpState, recv_q: u32, send_q: u32, at: Instant) -> Row {
        Row {
            key,
            seen: 0,
            netid: Netid::Tcp,
            state,
            recv_q,
            send_q,
            rates: None,
            first_seen: at,
            before_start: true,
            mark: ' ',
            hot: Hot::default(),
        }
    }

    /// What the loop hands over adds up to the header's rates and the summary's lines.
    #[test]
    fn counts_add_up_to_the_summary() {
        let mut stats = Stats::new(false);
        let at = Instant::now();
        let counters = |overflows, drops| ListenCounters { overflows, drops };
        assert_eq!(stats.listen_counters(counters(5, 7)), None);
        let rows = |at| {
            [
                (row(1, TcpState::Listen, 3, 2, at), "LISTEN"),
                (row(2, TcpState::Established, 1500, 0, at), "ESTAB a -> b"),
            ]
        };
        stats.snapshot(2);
        stats.record(at, 1, 2, rows(at).into_iter(), |text| text.to_string());
        stats.added();
        stats.removed(false);
        stats.removed(true);
        assert_eq!(stats.listen_counters(counters(6, 9)), Some(counters(1, 2)));
        let later = at + Duration::from_secs(1);
        stats.record(later, 2, 2, rows(later).into_iter(), |text| {
            text.to_string()
        });
        assert_eq!(stats.per_second, (1.0, 2.0));
        assert_eq!(Vec::from(stats.counts.clone()), [2, 2]);
        assert_eq!(Vec::from(stats.histories[&2].gauges.clone()), [1500, 1500]);
        let summary = stats.summary();
        let lines: Vec<&str> = summary.lines().collect();
        assert!(
            lines[0].ends_with("(2 looks): 4 sockets seen, 2 opened, 2 closed"),
            "{summary}"
        );
        assert_eq!(
            lines[1],
            "  peaks: 2 sockets at once, Recv-Q 1.5 kB, Send-Q 0 B, accept queue 3/2"
        );
        assert_eq!(
            lines[2],
            "  listen queue overflows: ListenOverflows 1, ListenDrops 2"
        );
        assert_eq!(lines[3], "  busiest: ESTAB a -> b (queues up to 1.5 kB)");
    }
}
