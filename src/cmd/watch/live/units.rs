//! Numbers as the live view shows them: rates with units, ages a person reads at a glance,
//! and sparklines.

use std::time::Duration;

/// Bytes per second in SI units: `0 B/s`, `512 B/s`, `488.7 kB/s`, `20.0 MB/s`, `3.1 GB/s`.
pub fn rate(per_second: u64) -> String {
    let mut text = bytes(per_second);
    text.push_str("/s");
    text
}

/// A queue in bytes, as the table shows it: `0` for an empty one (most are), otherwise in SI
/// units as [`bytes`] writes them.
pub fn queue(count: u32) -> String {
    if count == 0 {
        return "0".to_owned();
    }
    bytes(u64::from(count))
}

/// Events per second, short and of a steady width (at most 5 characters): `0.0`, `3.2`,
/// `99.9`, `138`, `9999`, `12.3k`.
pub fn per_second(value: f64) -> String {
    if value < 99.95 {
        format!("{value:.1}")
    } else if value < 9999.5 {
        format!("{value:.0}")
    } else {
        format!("{:.1}k", value / 1000.0)
    }
}

/// A byte count in SI units: `512 B`, `1.5 kB`, `20.0 MB`.
pub fn bytes(count: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000_000, "TB"),
        (1_000_000_000, "GB"),
        (1_000_000, "MB"),
        (1_000, "kB"),
    ];
    for (size, unit) in UNITS {
        if count >= size {
            return format!("{:.1} {unit}", count as f64 / size as f64);
        }
    }
    format!("{count} B")
}

/// An age: `0.4s`, `12s`, `4m05s`, `2h03m`, `3d04h`.
pub fn age(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0..10 => format!("{:.1}s", duration.as_secs_f64()),
        10..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s / 60 % 60),
        _ => format!("{}d{:02}h", s / 86_400, s / 3600 % 24),
    }
}

/// How long a connection lived, for the log: milliseconds under a second (a connection that
/// lives 30 ms is common, and `0.0s` says nothing), then as [`age`].
pub fn lifetime(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{}ms", duration.as_millis())
    } else {
        age(duration)
    }
}

/// How long a watch lasted, for the summary it leaves: `12.3 s`, `4 min 05 s`, `2 h 03 min`.
pub fn span(duration: Duration) -> String {
    let s = duration.as_secs();
    match s {
        0..60 => format!("{:.1} s", duration.as_secs_f64()),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, s / 60 % 60),
    }
}

/// The characters the view draws with: block elements and box drawing where the terminal
/// takes UTF-8, their nearest ASCII otherwise.
pub struct Glyphs {
    /// A sparkline's eight heights, lowest first.
    pub bars: [char; 8],
    pub down: &'static str,
    pub up: &'static str,
    pub rule: char,
    /// Before the count of a folded state's row: `TIME-WAIT ×443`.
    pub times: char,
    /// Where a line too long for the terminal is cut.
    pub ellipsis: char,
    /// Corners (top left, top right, bottom left, bottom right) and the vertical side.
    pub corners: [char; 4],
    pub side: char,
}

pub const UNICODE: Glyphs = Glyphs {
    bars: ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'],
    down: "▼",
    up: "▲",
    rule: '─',
    times: '×',
    ellipsis: '…',
    corners: ['┌', '┐', '└', '┘'],
    side: '│',
};

pub const ASCII: Glyphs = Glyphs {
    bars: ['_', '.', ',', '-', '=', '+', '*', '#'],
    down: "v",
    up: "^",
    rule: '-',
    times: 'x',
    ellipsis: '~',
    corners: ['+', '+', '+', '+'],
    side: '|',
};

/// The values as a sparkline, oldest first, scaled to their largest: the lowest bar for zero,
/// the second for the smallest non-zero step, the full block for the largest. Only the last
/// `width` values are drawn, right-aligned after blanks for the looks not made yet, so that a
/// sparkline is always `width` wide and each value keeps its place.
pub fn sparkline(
    values: impl ExactSizeIterator<Item = u64> + Clone,
    width: usize,
    bars: &[char; 8],
) -> String {
    let skip = values.len().saturating_sub(width);
    let max = values.clone().skip(skip).max().unwrap_or(0);
    let mut text = String::with_capacity(width * 3);
    for _ in values.len()..width {
        text.push(' ');
    }
    for value in values.skip(skip) {
        if value == 0 || max == 0 {
            text.push(bars[0]);
        } else {
            let step = (value as u128 * 7).div_ceil(max as u128) as usize;
            text.push(bars[step.clamp(1, 7)]);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_units() {
        assert_eq!(rate(0), "0 B/s");
        assert_eq!(rate(512), "512 B/s");
        assert_eq!(rate(488_700), "488.7 kB/s");
        assert_eq!(rate(20_000_000), "20.0 MB/s");
        assert_eq!(bytes(3_100_000_000), "3.1 GB");
        assert_eq!(queue(0), "0");
        assert_eq!(queue(241), "241 B");
        assert_eq!(queue(7_200_000), "7.2 MB");
        let rates = [0.0, 3.24, 99.9, 138.0, 9999.0, 12_345.0];
        let texts = rates.map(per_second);
        assert_eq!(texts, ["0.0", "3.2", "99.9", "138", "9999", "12.3k"]);
    }

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(age(Duration::from_millis(400)), "0.4s");
        assert_eq!(lifetime(Duration::from_millis(38)), "38ms");
        assert_eq!(lifetime(Duration::from_millis(1500)), "1.5s");
        assert_eq!(age(Duration::from_secs(12)), "12s");
        assert_eq!(age(Duration::from_secs(245)), "4m05s");
        assert_eq!(age(Duration::from_secs(2 * 3600 + 180)), "2h03m");
        assert_eq!(age(Duration::from_secs(3 * 86_400 + 4 * 3600)), "3d04h");
        assert_eq!(span(Duration::from_millis(12_340)), "12.3 s");
        assert_eq!(span(Duration::from_secs(245)), "4 min 05 s");
    }

    #[test]
    fn sparklines_scale_to_their_largest() {
        let line = |v: &[u64], w| sparkline(v.iter().copied(), w, &UNICODE.bars);
        // Zero is the lowest bar, never a blank or a full block: a rate of 0 reads as 0.
        assert_eq!(line(&[0, 1, 2, 4, 8], 5), "▁▂▃▅█");
        assert_eq!(line(&[5, 5], 4), "  ██");
        assert_eq!(line(&[0, 0], 2), "▁▁");
        assert_eq!(line(&[9, 1, 8], 2), "▂█");
        assert_eq!(sparkline([1, 8].into_iter(), 2, &ASCII.bars), ".#");
        assert_eq!(sparkline([0, 8].into_iter(), 3, &ASCII.bars), " _#");
        // Always as wide as asked, whatever the history holds.
        for n in 0..20 {
            let values = vec![3u64; n];
            assert_eq!(line(&values, 12).chars().count(), 12);
        }
    }
}
