//! Times as watch prints them: RFC 3339 in UTC with milliseconds for JSON, the local time of
//! day for the terminal.
//!
//! Every moment is read on the monotonic clock and turned into a wall-clock time from one
//! anchor taken at the start ([`wall`]), so that the times printed never go backwards, even
//! when the system clock is set back.

use std::fmt::Write as _;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The wall-clock time and the monotonic one at the first call: the tightest of a few
/// readings of the wall clock between two of the monotonic one, so that a preemption between
/// the two reads does not shift every time printed after.
fn anchor() -> (SystemTime, Instant) {
    static ANCHOR: OnceLock<(SystemTime, Instant)> = OnceLock::new();
    *ANCHOR.get_or_init(|| {
        (0..16)
            .map(|_| {
                let before = Instant::now();
                let wall = SystemTime::now();
                let after = Instant::now();
                (after - before, wall, before + (after - before) / 2)
            })
            .min_by_key(|&(gap, ..)| gap)
            .map(|(_, wall, mono)| (wall, mono))
            .expect("sixteen readings")
    })
}

/// The monotonic moment of the anchor.
pub fn anchor_mono() -> Instant {
    anchor().1
}

/// The wall-clock time of a monotonic moment, from the anchor.
pub fn wall(mono: Instant) -> SystemTime {
    let (wall, at) = anchor();
    match mono.checked_duration_since(at) {
        Some(after) => wall + after,
        None => wall - at.duration_since(mono),
    }
}

/// The monotonic clock in nanoseconds, as the kernel's `bpf_ktime_get_ns` and `Instant`
/// read it (`CLOCK_MONOTONIC`).
pub fn monotonic_ns() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64
}

/// The moment `ns` of the monotonic clock (as [`monotonic_ns`] and the kernel's
/// `bpf_ktime_get_ns` read it) as an `Instant`, which reads the same clock.
///
/// `Instant` cannot be built from nanoseconds, so the two are tied once, by the tightest of a
/// few readings of `Instant::now()` between two of the clock: a pair read afresh each time
/// would be off by however long the thread was preempted between its two reads.
pub fn instant_at(ns: u64) -> Instant {
    static TIE: OnceLock<(Instant, u64)> = OnceLock::new();
    let (tie, tie_ns) = *TIE.get_or_init(|| {
        (0..16)
            .map(|_| {
                let before = monotonic_ns();
                let instant = Instant::now();
                let after = monotonic_ns();
                (after - before, instant, before + (after - before) / 2)
            })
            .min_by_key(|&(gap, ..)| gap)
            .map(|(_, instant, ns)| (instant, ns))
            .expect("sixteen readings")
    });
    if ns >= tie_ns {
        tie + Duration::from_nanos(ns - tie_ns)
    } else {
        tie.checked_sub(Duration::from_nanos(tie_ns - ns))
            .unwrap_or(tie)
    }
}

/// `2026-11-24T17:32:01.250Z`.
pub fn rfc3339(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs();
    let (days, of_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut text = String::with_capacity(24);
    let _ = write!(
        text,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since.subsec_millis()
    );
    text
}

/// `17:32:01.250`, in the local time zone.
pub fn time_of_day(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = since.as_secs() as libc::time_t;
    // SAFETY: localtime_r reads the time and fills the zeroed struct it is given, both live
    // for the call; it is the thread-safe variant.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    let ok = !unsafe { libc::localtime_r(&seconds, &mut tm) }.is_null();
    let (h, m, s) = if ok {
        (tm.tm_hour as u64, tm.tm_min as u64, tm.tm_sec as u64)
    } else {
        let of_day = since.as_secs() % 86_400;
        (of_day / 3600, of_day / 60 % 60, of_day % 60)
    };
    format!("{h:02}:{m:02}:{s:02}.{:03}", since.subsec_millis())
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rfc3339_in_utc_with_milliseconds() {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00.000Z");
        // date -u -d @1795541521 → Tue Nov 24 17:32:01 UTC 2026
        assert_eq!(rfc3339(at(1_795_541_521_250)), "2026-11-24T17:32:01.250Z");
        // A leap day.
        assert_eq!(rfc3339(at(951_782_400_999)), "2000-02-29T00:00:00.999Z");
    }

    #[test]
    fn time_of_day_has_milliseconds() {
        let text = time_of_day(UNIX_EPOCH + Duration::from_millis(1_795_541_521_250));
        assert_eq!(text.len(), 12, "{text}");
        assert!(text.ends_with(":01.250"), "{text}");
    }

    #[test]
    fn a_monotonic_moment_is_the_instant_of_the_same_clock() {
        let before = Instant::now();
        let at = instant_at(monotonic_ns());
        let after = Instant::now();
        assert!(
            before <= at + Duration::from_micros(50) && at <= after + Duration::from_micros(50)
        );
        let ns = monotonic_ns();
        assert_eq!(
            instant_at(ns + 1_000_000_000) - instant_at(ns),
            Duration::from_secs(1)
        );
    }
}
