//! The table of sockets as a model, bottom's `DataTable` style: the rows of one frame, the
//! column they are sorted by, the window scrolled to, the states folded into one row each,
//! and the rows held while the watch is paused. It knows nothing of the terminal or of the
//! tracker, so it is tested alone.
//!
//! Sorting by state follows the kernel's numbering of the states (`include/net/tcp_states.h`),
//! which is also the order of ss's state names: ESTAB, SYN-SENT, SYN-RECV, FIN-WAIT-1,
//! FIN-WAIT-2, TIME-WAIT, UNCONN, CLOSE-WAIT, LAST-ACK, LISTEN, CLOSING.

use std::cmp::Ordering;
use std::time::Instant;

use super::super::tracker::{Key, Rates};
use crate::socket::{Netid, TcpState};

/// The columns a table can be sorted by, in the order `s` goes through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Seen,
    State,
    RecvQ,
    SendQ,
    RateIn,
    RateOut,
    Age,
    Local,
    Peer,
    Process,
}

impl Column {
    const CYCLE: [Column; 10] = [
        Column::Seen,
        Column::State,
        Column::RecvQ,
        Column::SendQ,
        Column::RateIn,
        Column::RateOut,
        Column::Age,
        Column::Local,
        Column::Peer,
        Column::Process,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::Seen => "first seen",
            Column::State => "state",
            Column::RecvQ => "Recv-Q",
            Column::SendQ => "Send-Q",
            Column::RateIn => "rate in",
            Column::RateOut => "rate out",
            Column::Age => "age",
            Column::Local => "local",
            Column::Peer => "peer",
            Column::Process => "process",
        }
    }

    /// Whether the natural order is largest first (queues, rates, age: what one looks for).
    fn descending(self) -> bool {
        matches!(
            self,
            Column::RecvQ | Column::SendQ | Column::RateIn | Column::RateOut | Column::Age
        )
    }

    fn by_text(self) -> bool {
        matches!(self, Column::Local | Column::Peer | Column::Process)
    }
}

/// Which states the table folds into one summary row each (`TIME-WAIT ×443`), so that the
/// rows of the other states stay on screen; `f` steps through them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Fold {
    #[default]
    Nothing,
    TimeWait,
    /// The states a connection passes through on its way out: FIN-WAIT-1, FIN-WAIT-2,
    /// TIME-WAIT, CLOSE-WAIT, LAST-ACK, CLOSING.
    Closing,
    /// Every state: one row per state, an overview.
    Every,
}

impl Fold {
    /// The next step of `f`.
    pub fn next(self) -> Fold {
        match self {
            Fold::Nothing => Fold::TimeWait,
            Fold::TimeWait => Fold::Closing,
            Fold::Closing => Fold::Every,
            Fold::Every => Fold::Nothing,
        }
    }

    pub fn folds(self, state: TcpState) -> bool {
        match self {
            Fold::Nothing => false,
            Fold::TimeWait => state == TcpState::TimeWait,
            Fold::Closing => matches!(
                state,
                TcpState::FinWait1
                    | TcpState::FinWait2
                    | TcpState::TimeWait
                    | TcpState::CloseWait
                    | TcpState::LastAck
                    | TcpState::Closing
            ),
            Fold::Every => true,
        }
    }

    /// What the status line says is folded.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Fold::Nothing => None,
            Fold::TimeWait => Some("TIME-WAIT"),
            Fold::Closing => Some("closing states"),
            Fold::Every => Some("every state"),
        }
    }
}

/// What the view shows of one socket, copied from the tracker's entry.
#[derive(Clone, Copy, Debug)]
pub struct Row {
    pub key: Key,
    /// Position in the tracker's order (first seen first).
    pub seen: usize,
    pub netid: Netid,
    pub state: TcpState,
    pub recv_q: u32,
    pub send_q: u32,
    pub rates: Option<Rates>,
    pub first_seen: Instant,
    /// Listed by the first look: open since before the watch started, so its age is a
    /// lower bound.
    pub before_start: bool,
    /// `+` added by the latest look, `*` changed by it, or a blank.
    pub mark: char,
    /// Which cells the latest look changed.
    pub hot: Hot,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Hot {
    pub state: bool,
    pub recv_q: bool,
    pub send_q: bool,
    pub rates: bool,
}

impl Row {
    pub fn listening(&self) -> bool {
        self.state == TcpState::Listen
    }

    /// What the row's sparkline follows: bytes per second in and out with `-i`, otherwise
    /// the accept queue of a listener or the two queues of any other socket.
    pub fn gauge(&self, rates: bool) -> u64 {
        match self.rates {
            Some(r) if rates => r.bytes_in + r.bytes_out,
            _ if self.listening() => u64::from(self.recv_q),
            _ => u64::from(self.recv_q) + u64::from(self.send_q),
        }
    }

    /// Whether a listener's accept queue has reached its backlog.
    pub fn accept_queue_full(&self) -> bool {
        self.listening() && self.recv_q > 0 && self.recv_q >= self.send_q
    }

    fn compare(&self, other: &Row, column: Column, now: Instant) -> Ordering {
        let rate = |r: &Row, f: fn(&Rates) -> u64| r.rates.as_ref().map_or(0, f);
        match column {
            Column::State => (self.state as u8).cmp(&(other.state as u8)),
            Column::RecvQ => self.recv_q.cmp(&other.recv_q),
            Column::SendQ => self.send_q.cmp(&other.send_q),
            Column::RateIn => rate(self, |r| r.bytes_in).cmp(&rate(other, |r| r.bytes_in)),
            Column::RateOut => rate(self, |r| r.bytes_out).cmp(&rate(other, |r| r.bytes_out)),
            Column::Age => {
                let age = |r: &Row| now.saturating_duration_since(r.first_seen);
                age(self).cmp(&age(other))
            }
            Column::Seen | Column::Local | Column::Peer | Column::Process => Ordering::Equal,
        }
        .then(self.seen.cmp(&other.seen))
    }
}

/// A row with its text, as drawn.
#[derive(Clone, Debug)]
pub struct Shown {
    pub row: Row,
    pub local: String,
    pub peer: String,
    pub process: Option<String>,
}

/// How the table moves through its rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scroll {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
}

/// The rows of one frame: the window shown, the folded states' rows, and what the status line
/// counts of all of them.
pub struct Page {
    pub rows: Vec<Shown>,
    /// Every socket, folded or not.
    pub total: usize,
    /// The rows not folded, which the window moves through.
    pub listed: usize,
    /// Rows per state, by [`TcpState`] as an index.
    pub counts: [usize; TcpState::ALL.len()],
    /// Each folded state with sockets, and how many, in the states' order.
    pub folds: Vec<(TcpState, usize)>,
}

/// The table's sort, scroll and held rows.
pub struct Table {
    pub sort: Column,
    pub reversed: bool,
    pub fold: Fold,
    /// The first row shown.
    scroll: usize,
    /// Rows the table showed in the last frame, for PgUp/PgDn.
    page: usize,
    /// While paused, every row as it was, sorted.
    frozen: Option<Vec<Shown>>,
}

impl Default for Table {
    fn default() -> Table {
        Table {
            sort: Column::Seen,
            reversed: false,
            fold: Fold::Nothing,
            scroll: 0,
            page: 1,
            frozen: None,
        }
    }
}

impl Table {
    /// Whether the rows go largest first.
    pub fn down(&self) -> bool {
        self.reversed != self.sort.descending()
    }

    /// Whether the order is other than first seen first.
    pub fn sorted(&self) -> bool {
        self.sort != Column::Seen || self.reversed
    }

    /// The first row shown.
    pub fn first(&self) -> usize {
        self.scroll
    }

    pub fn scroll(&mut self, how: Scroll) {
        let page = self.page.max(1);
        self.scroll = match how {
            Scroll::Up => self.scroll.saturating_sub(1),
            Scroll::Down => self.scroll.saturating_add(1),
            Scroll::PageUp => self.scroll.saturating_sub(page),
            Scroll::PageDown => self.scroll.saturating_add(page),
            Scroll::Home => 0,
            Scroll::End => usize::MAX,
        };
    }

    /// Moves the sort `step` columns on (modulo the cycle), skipping those `shown` says are
    /// not on screen.
    pub fn cycle(&mut self, step: usize, shown: impl Fn(Column) -> bool, now: Instant) {
        let n = Column::CYCLE.len();
        let mut at = Column::CYCLE
            .iter()
            .position(|c| *c == self.sort)
            .unwrap_or(0);
        loop {
            at = (at + step) % n;
            let column = Column::CYCLE[at];
            if shown(column) {
                self.sort = column;
                break;
            }
        }
        self.reversed = false;
        self.resort(now);
    }

    /// `s`: the next column; `S`: the one before.
    pub fn next_column(&mut self, shown: impl Fn(Column) -> bool, now: Instant) {
        self.cycle(1, shown, now);
    }

    pub fn previous_column(&mut self, shown: impl Fn(Column) -> bool, now: Instant) {
        self.cycle(Column::CYCLE.len() - 1, shown, now);
    }

    pub fn reverse(&mut self, now: Instant) {
        self.reversed = !self.reversed;
        self.resort(now);
    }

    /// Sorts the rows held while paused again, for a new order.
    fn resort(&mut self, now: Instant) {
        if let Some(mut rows) = self.frozen.take() {
            self.sort_shown(&mut rows, now);
            self.frozen = Some(rows);
        }
    }

    fn sort_shown(&self, rows: &mut [Shown], now: Instant) {
        let (column, reversed) = (self.sort, self.down());
        rows.sort_by(|a, b| {
            let order = match column {
                Column::Local => a.local.cmp(&b.local),
                Column::Peer => a.peer.cmp(&b.peer),
                Column::Process => a.process.cmp(&b.process),
                _ => Ordering::Equal,
            }
            .then_with(|| a.row.compare(&b.row, column, now));
            if reversed { order.reverse() } else { order }
        });
    }

    /// The rows a frame of `space` lines shows, from `rows` in the tracker's order, with a
    /// line for each folded state among them. Only the rows shown get their text
    /// (`describe`), unless the sort is by text; while `paused`, the rows as they were when the
    /// pause began are shown, every one with its text.
    pub fn page<E>(
        &mut self,
        rows: impl IntoIterator<Item = (Row, E)>,
        mut describe: impl FnMut(Row, &E) -> Shown,
        paused: bool,
        space: usize,
        now: Instant,
    ) -> Page {
        self.page = space;
        if !paused {
            self.frozen = None;
        }
        // Held rows need none of the tracker's.
        let mut rows: Vec<(Row, E)> = match self.frozen {
            Some(_) => Vec::new(),
            None => rows.into_iter().collect(),
        };
        for (i, (row, _)) in rows.iter_mut().enumerate() {
            row.seen = i;
        }
        if paused && self.frozen.is_none() {
            // Just paused: every row, with its text, as it is now.
            let mut all: Vec<Shown> = rows.iter().map(|(row, e)| describe(*row, e)).collect();
            self.sort_shown(&mut all, now);
            self.frozen = Some(all);
        }
        let fold = self.fold;
        let mut counts = [0usize; TcpState::ALL.len()];
        let folds = |counts: &[usize; TcpState::ALL.len()]| -> Vec<(TcpState, usize)> {
            TcpState::ALL
                .into_iter()
                .filter(|state| fold.folds(*state) && counts[*state as usize] > 0)
                .map(|state| (state, counts[state as usize]))
                .collect()
        };
        if let Some(frozen) = &self.frozen {
            for shown in frozen {
                counts[shown.row.state as usize] += 1;
            }
            let folds = folds(&counts);
            let listed: Vec<&Shown> = frozen.iter().filter(|s| !fold.folds(s.row.state)).collect();
            let space = space.saturating_sub(folds.len());
            let (start, end) = window(&mut self.scroll, listed.len(), space);
            return Page {
                rows: listed[start..end].iter().map(|s| (*s).clone()).collect(),
                total: frozen.len(),
                listed: listed.len(),
                counts,
                folds,
            };
        }
        for (row, _) in &rows {
            counts[row.state as usize] += 1;
        }
        let total = rows.len();
        let folds = folds(&counts);
        rows.retain(|(row, _)| !fold.folds(row.state));
        let listed = rows.len();
        let space = space.saturating_sub(folds.len());
        if self.sort.by_text() {
            let mut all: Vec<Shown> = rows.iter().map(|(row, e)| describe(*row, e)).collect();
            self.sort_shown(&mut all, now);
            let (start, end) = window(&mut self.scroll, listed, space);
            all.truncate(end);
            return Page {
                rows: all.split_off(start),
                total,
                listed,
                counts,
                folds,
            };
        }
        let (column, reversed) = (self.sort, self.down());
        if self.sorted() {
            rows.sort_unstable_by(|(a, _), (b, _)| {
                let order = a.compare(b, column, now);
                if reversed { order.reverse() } else { order }
            });
        }
        let (start, end) = window(&mut self.scroll, listed, space);
        Page {
            rows: rows[start..end]
                .iter()
                .map(|(row, e)| describe(*row, e))
                .collect(),
            total,
            listed,
            counts,
            folds,
        }
    }
}

/// The rows shown of `total`, from the first, which is kept within them.
fn window(first: &mut usize, total: usize, space: usize) -> (usize, usize) {
    *first = (*first).min(total.saturating_sub(space));
    (*first, (*first + space).min(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row of a socket first seen at `at`, with a receive queue and a local name.
    fn rows(queues: &[u32], at: Instant) -> Vec<(Row, String)> {
        queues
            .iter()
            .enumerate()
            .map(|(i, &recv_q)| {
                let row = Row {
                    key: i as Key,
                    seen: 0,
                    netid: Netid::Tcp,
                    state: if i == 0 {
                        TcpState::Listen
                    } else {
                        TcpState::Established
                    },
                    recv_q,
                    send_q: 0,
                    rates: None,
                    first_seen: at,
                    before_start: false,
                    mark: ' ',
                    hot: Hot::default(),
                };
                (row, format!("10.0.0.1:{}", 60000 - i))
            })
            .collect()
    }

    fn describe(row: Row, local: &impl AsRef<str>) -> Shown {
        Shown {
            row,
            local: local.as_ref().to_owned(),
            peer: String::new(),
            process: None,
        }
    }

    fn queues(page: &Page) -> Vec<u32> {
        page.rows.iter().map(|s| s.row.recv_q).collect()
    }

    const EVERY: fn(Column) -> bool = |_| true;

    #[test]
    fn sorts_by_a_column_largest_first_and_reversed() {
        let now = Instant::now();
        let mut table = Table::default();
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, false, 10, now);
        assert_eq!(queues(&page), [5, 1, 7, 3]);
        assert_eq!((page.total, page.counts[TcpState::Listen as usize]), (4, 1));
        table.next_column(EVERY, now);
        assert_eq!(table.sort, Column::State);
        table.next_column(EVERY, now);
        assert_eq!((table.sort, table.down()), (Column::RecvQ, true));
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, false, 10, now);
        assert_eq!(queues(&page), [7, 5, 3, 1]);
        table.reverse(now);
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, false, 10, now);
        assert_eq!(queues(&page), [1, 3, 5, 7]);
        // Back past the start of the cycle, skipping the columns not shown.
        table.previous_column(EVERY, now);
        table.previous_column(EVERY, now);
        table.previous_column(|c| c != Column::Process, now);
        assert_eq!((table.sort, table.reversed), (Column::Peer, false));
        // By text: every row gets its text, and sorts by it.
        table.previous_column(EVERY, now);
        assert_eq!(table.sort, Column::Local);
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, false, 10, now);
        assert_eq!(queues(&page), [3, 7, 1, 5]);
    }

    #[test]
    fn scrolls_within_the_rows_and_describes_only_the_window() {
        let now = Instant::now();
        let mut table = Table::default();
        let all: Vec<u32> = (0..20).collect();
        let mut described = 0;
        let page = table.page(
            rows(&all, now),
            |row, local| {
                described += 1;
                describe(row, local)
            },
            false,
            8,
            now,
        );
        assert_eq!((queues(&page), described), ((0..8).collect(), 8));
        table.scroll(Scroll::PageDown);
        table.scroll(Scroll::Down);
        let page = table.page(rows(&all, now), describe, false, 8, now);
        assert_eq!((table.first(), queues(&page)), (9, (9..17).collect()));
        table.scroll(Scroll::End);
        let page = table.page(rows(&all, now), describe, false, 8, now);
        assert_eq!((table.first(), page.rows.len()), (12, 8));
        table.scroll(Scroll::PageUp);
        table.scroll(Scroll::Up);
        table.page(rows(&all, now), describe, false, 8, now);
        assert_eq!(table.first(), 3);
        table.scroll(Scroll::Home);
        table.page(rows(&all, now), describe, false, 8, now);
        assert_eq!(table.first(), 0);
        // Fewer rows than before: the window follows.
        table.scroll(Scroll::End);
        let page = table.page(rows(&all[..3], now), describe, false, 8, now);
        assert_eq!((table.first(), page.rows.len()), (0, 3));
    }

    /// Sorting by state is the kernel's order: ESTAB before TIME-WAIT before LISTEN.
    #[test]
    fn states_sort_in_the_kernels_order() {
        let now = Instant::now();
        let mut table = Table::default();
        let states = [
            TcpState::Listen,
            TcpState::TimeWait,
            TcpState::SynSent,
            TcpState::Established,
        ];
        let rows: Vec<(Row, String)> = rows(&[0, 0, 0, 0], now)
            .into_iter()
            .zip(states)
            .map(|((row, local), state)| (Row { state, ..row }, local))
            .collect();
        table.next_column(EVERY, now);
        assert_eq!(table.sort, Column::State);
        let page = table.page(rows, describe, false, 10, now);
        let order: Vec<&str> = page.rows.iter().map(|s| s.row.state.name()).collect();
        assert_eq!(order, ["ESTAB", "SYN-SENT", "TIME-WAIT", "LISTEN"]);
    }

    /// `f` folds TIME-WAIT into one line, then every closing state, then every state, then
    /// nothing; the window moves through the rows left, paused or not.
    #[test]
    fn folded_states_become_one_line_each() {
        let now = Instant::now();
        let states = |n: usize| {
            let all: Vec<u32> = vec![0; n];
            rows(&all, now)
                .into_iter()
                .enumerate()
                .map(|(i, (row, local))| {
                    let state = match i {
                        0 => TcpState::Listen,
                        1..4 => TcpState::Established,
                        4 => TcpState::CloseWait,
                        _ => TcpState::TimeWait,
                    };
                    (Row { state, ..row }, local)
                })
                .collect::<Vec<_>>()
        };
        let mut table = Table::default();
        let page = table.page(states(50), describe, false, 8, now);
        assert_eq!((page.rows.len(), page.listed, page.folds.len()), (8, 50, 0));
        table.fold = table.fold.next();
        assert_eq!(table.fold.name(), Some("TIME-WAIT"));
        let page = table.page(states(50), describe, false, 8, now);
        assert_eq!(page.folds, [(TcpState::TimeWait, 45)]);
        assert_eq!((page.rows.len(), page.listed, page.total), (5, 5, 50));
        table.fold = table.fold.next();
        let page = table.page(states(50), describe, true, 8, now);
        assert_eq!(
            page.folds,
            [(TcpState::TimeWait, 45), (TcpState::CloseWait, 1)]
        );
        assert_eq!(page.rows.len(), 4);
        table.fold = table.fold.next();
        let page = table.page(states(50), describe, true, 8, now);
        assert_eq!((page.rows.len(), page.folds.len()), (0, 4));
        table.fold = table.fold.next();
        assert_eq!(table.fold, Fold::Nothing);
        let page = table.page(states(50), describe, false, 8, now);
        assert_eq!((page.rows.len(), page.folds.len()), (8, 0));
    }

    #[test]
    fn paused_rows_stay_as_they_were_and_still_sort() {
        let now = Instant::now();
        let mut table = Table::default();
        table.page(rows(&[5, 1], now), describe, true, 10, now);
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, true, 10, now);
        assert_eq!((queues(&page), page.total), (vec![5, 1], 2));
        table.next_column(EVERY, now);
        table.next_column(EVERY, now);
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, true, 10, now);
        assert_eq!(queues(&page), [5, 1]);
        table.reverse(now);
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, true, 10, now);
        assert_eq!(queues(&page), [1, 5]);
        // Resumed: the rows as they are now.
        let page = table.page(rows(&[5, 1, 7, 3], now), describe, false, 10, now);
        assert_eq!(queues(&page), [1, 3, 5, 7]);
    }
}
