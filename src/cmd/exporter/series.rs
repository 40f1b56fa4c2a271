//! The shapes of the exporter's series, which the looks ([`super::metrics`]) and the events
//! ([`super::events`], [`super::kept`]) both fill: the port and direction labels, and the
//! histograms.

use std::fmt;
use std::net::IpAddr;

/// The upper bounds of the round-trip time buckets, in seconds: from 100 µs (loopback, one
/// rack) to 2.5 s (a congested path across the world).
pub const RTT_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A port label: a number, or the series folded together past the cap.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Port {
    Number(u16),
    Other,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Number(port) => write!(f, "{port}"),
            Port::Other => f.write_str("other"),
        }
    }
}

/// A listener's address label, `other` once folded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Address {
    Ip(IpAddr),
    Other,
}

/// Whether a connection was accepted on a local listening port or made to a remote one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn name(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A histogram of round-trip times.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Rtt {
    /// Observations per bucket (not cumulative), the last one above every bound.
    pub buckets: [u64; RTT_BUCKETS.len() + 1],
    pub sum: f64,
    pub count: u64,
}

impl Rtt {
    pub fn observe(&mut self, seconds: f64) {
        let bucket = RTT_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(RTT_BUCKETS.len());
        self.buckets[bucket] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    pub fn merge(&mut self, other: &Rtt) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets) {
            *mine += theirs;
        }
        self.sum += other.sum;
        self.count += other.count;
    }
}

/// A histogram over fixed bounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub bounds: &'static [f64],
    /// Observations per bucket (not cumulative), the last one above every bound.
    pub counts: Vec<u64>,
    pub sum: f64,
    pub count: u64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len() + 1],
            sum: 0.0,
            count: 0,
        }
    }

    pub fn observe(&mut self, seconds: f64) {
        let bucket = self
            .bounds
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(self.bounds.len());
        self.counts[bucket] += 1;
        self.sum += seconds;
        self.count += 1;
    }

    /// The buckets as prometheus-client takes them: each upper bound, `+Inf` last, with the
    /// observations in that bucket alone (the encoder adds them up).
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .map(|(i, &count)| (self.bounds.get(i).copied().unwrap_or(f64::INFINITY), count))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtt_buckets() {
        let mut rtt = Rtt::default();
        for seconds in [0.00005, 0.0001, 0.003, 10.0] {
            rtt.observe(seconds);
        }
        assert_eq!(rtt.buckets[0], 2);
        assert_eq!(rtt.buckets[5], 1);
        assert_eq!(rtt.buckets[RTT_BUCKETS.len()], 1);
        assert_eq!(rtt.count, 4);
    }

    #[test]
    fn histogram_buckets_add_up() {
        let mut h = Histogram::new(&[0.1, 1.0]);
        for s in [0.05, 0.1, 0.5, 7.0] {
            h.observe(s);
        }
        assert_eq!(h.buckets(), [(0.1, 2), (1.0, 1), (f64::INFINITY, 1)]);
    }
}
