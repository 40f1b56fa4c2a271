//! The TCP connections' state counts, kept up to date by the kernel's transitions between two
//! reconciling looks, so that a scrape need not walk the table of connections.
//!
//! A look at half a million sockets costs the exporter half a second of CPU; the counts it
//! gives barely change between two scrapes, and every change is a transition the kernel
//! reports. [`Kept`] holds, per connection (by cookie), its state and where it is counted
//! (direction and service port), and the sums per port and state, which a scrape reads in
//! proportion to the series. A reconciling look every `--reconcile` seconds replaces the whole
//! with what the kernel lists, and counts the connections it found otherwise than kept
//! ([`Kept::reconcile`]): the ring buffer may have lost transitions, or the map been full.
//!
//! Not every state has transitions: a TIME-WAIT entry is made and dropped without one, and so
//! is the request socket a listener keeps for a handshake in progress (SYN-RECV). Those two,
//! and the listeners (whose accept queues change without a transition), are looked at by every
//! scrape, which the kernel answers without walking the rest of the table's entries into
//! messages. The queues and round-trip times of the kept connections are as of the latest
//! reconciling look.

use std::collections::{HashMap, HashSet};

use super::series::{Direction, Rtt};
use crate::socket::{StateSet, TcpState};
use crate::source::transitions::Transition;

/// The most connections kept; past it new ones are left to the next reconciling look.
pub const MAX_KEPT: usize = 1 << 22;

/// The states the transitions follow: every state a full TCP socket has between its
/// handshake and CLOSE, LISTEN and SYN-RECV left out (see the module's header).
pub const FOLLOWED: StateSet = StateSet::EMPTY
    .with(TcpState::SynSent)
    .with(TcpState::Established)
    .with(TcpState::FinWait1)
    .with(TcpState::FinWait2)
    .with(TcpState::CloseWait)
    .with(TcpState::LastAck)
    .with(TcpState::Closing);

/// The states every scrape looks at when the rest is kept.
pub const LOOKED_AT: StateSet = StateSet::EMPTY
    .with(TcpState::Listen)
    .with(TcpState::SynRecv)
    .with(TcpState::TimeWait);

/// Where a connection is counted.
pub type Place = (Direction, u16);

/// One kept connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub state: TcpState,
    pub place: Place,
    /// Whether it is in the sums: the selection takes it, in a followed state.
    pub counted: bool,
}

/// What a reconciling look found of a port's kept connections besides their states.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Extras {
    pub recv_q: u64,
    pub send_q: u64,
    pub rtt: Rtt,
    pub retransmitted: u64,
}

/// The kept connections and their sums.
#[derive(Default)]
pub struct Kept {
    entries: HashMap<u64, Entry>,
    sums: HashMap<(Place, TcpState), u64>,
    /// The queues and round-trip times per port, from the latest reconciling look.
    pub extras: HashMap<Place, Extras>,
    /// Connections a reconciling look found otherwise than kept, since the start.
    pub corrections: u64,
    /// Reconciling looks since the start, the first one included.
    pub reconciles: u64,
}

impl Kept {
    /// The sums per place and state, only those above 0.
    pub fn sums(&self) -> impl Iterator<Item = (&(Place, TcpState), &u64)> {
        self.sums.iter()
    }

    /// How many connections are counted.
    pub fn counted(&self) -> u64 {
        self.sums.values().sum()
    }

    fn count(&mut self, entry: Entry, up: bool) {
        if !entry.counted {
            return;
        }
        let key = (entry.place, entry.state);
        let sum = self.sums.entry(key).or_default();
        if up {
            *sum += 1;
        } else {
            *sum -= 1;
            if *sum == 0 {
                self.sums.remove(&key);
            }
        }
    }

    /// One transition. `selected` says whether the selection takes the socket in its new
    /// state; `born` where a connection not kept yet belongs.
    pub fn transition(&mut self, t: &Transition, selected: bool, born: Place) {
        let before = self.entries.get(&t.cookie).copied();
        if let Some(entry) = before {
            self.count(entry, false);
        }
        if matches!(t.new, TcpState::Close | TcpState::Listen) {
            self.entries.remove(&t.cookie);
            return;
        }
        if before.is_none() && self.entries.len() >= MAX_KEPT {
            return;
        }
        let entry = Entry {
            state: t.new,
            place: before.map_or(born, |e| e.place),
            counted: selected && FOLLOWED.contains(t.new),
        };
        self.entries.insert(t.cookie, entry);
        self.count(entry, true);
    }

    /// Replaces what is kept with what a look found, `fresh`, and counts the connections it
    /// found otherwise (in another state or place, or not at all, or not kept), leaving out
    /// those that `touched` says changed while it looked.
    pub fn reconcile(
        &mut self,
        fresh: HashMap<u64, Entry>,
        extras: HashMap<Place, Extras>,
        touched: &HashSet<u64>,
    ) {
        let differs = |a: Option<&Entry>, b: Option<&Entry>| {
            let a = a.filter(|e| e.counted);
            let b = b.filter(|e| e.counted);
            a.map(|e| (e.state, e.place)) != b.map(|e| (e.state, e.place))
        };
        let mut corrections = 0;
        for (cookie, entry) in &self.entries {
            if !touched.contains(cookie) && differs(Some(entry), fresh.get(cookie)) {
                corrections += 1;
            }
        }
        for (cookie, entry) in &fresh {
            if !touched.contains(cookie)
                && !self.entries.contains_key(cookie)
                && differs(None, Some(entry))
            {
                corrections += 1;
            }
        }
        // The first look has nothing to correct.
        if self.reconciles > 0 {
            self.corrections += corrections;
        }
        self.reconciles += 1;
        self.sums.clear();
        self.entries = fresh;
        let counted: Vec<Entry> = self.entries.values().copied().collect();
        for entry in counted {
            self.count(entry, true);
        }
        self.extras = extras;
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use TcpState::*;

    fn t(cookie: u64, old: TcpState, new: TcpState) -> Transition {
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        Transition {
            at_ns: 0,
            netns: 1,
            cookie,
            old,
            new,
            src: local,
            sport: 40000,
            dst: local,
            dport: 80,
        }
    }

    const OUT: Place = (Direction::Outbound, 80);

    fn sum(kept: &Kept, state: TcpState) -> u64 {
        kept.sums.get(&(OUT, state)).copied().unwrap_or(0)
    }

    #[test]
    fn transitions_move_the_sums() {
        let mut kept = Kept::default();
        kept.transition(&t(1, Close, SynSent), true, OUT);
        kept.transition(&t(2, Close, SynSent), true, OUT);
        assert_eq!(sum(&kept, SynSent), 2);
        kept.transition(&t(1, SynSent, Established), true, OUT);
        kept.transition(&t(2, SynSent, Close), true, OUT);
        assert_eq!((sum(&kept, SynSent), sum(&kept, Established)), (0, 1));
        // A transition seen twice (once by a look, once by the ring) counts once.
        kept.transition(&t(1, SynSent, Established), true, OUT);
        assert_eq!(kept.counted(), 1);
        // Not selected in its new state: out of the sums, still kept.
        kept.transition(&t(1, Established, FinWait1), false, OUT);
        assert_eq!(kept.counted(), 0);
        assert_eq!(kept.entries.len(), 1);
        kept.transition(&t(1, FinWait1, Close), true, OUT);
        assert!(kept.entries.is_empty() && kept.sums.is_empty());
    }

    #[test]
    fn a_reconciling_look_counts_what_it_corrects() {
        let mut kept = Kept::default();
        let estab = Entry {
            state: Established,
            place: OUT,
            counted: true,
        };
        kept.reconcile(HashMap::from([(1, estab)]), HashMap::new(), &HashSet::new());
        assert_eq!((kept.counted(), kept.corrections), (1, 0));
        // Kept: 1 (ESTAB), 2 (its close was lost); the look: 1, 3 (its birth was lost), and 4
        // which changed while it looked.
        kept.transition(&t(2, Close, SynSent), true, OUT);
        kept.transition(&t(4, Close, SynSent), true, OUT);
        let fresh = HashMap::from([(1, estab), (3, estab), (4, estab)]);
        kept.reconcile(fresh, HashMap::new(), &HashSet::from([4]));
        assert_eq!(kept.corrections, 2);
        assert_eq!(sum(&kept, Established), 3);
        assert_eq!(kept.reconciles, 2);
    }
}
