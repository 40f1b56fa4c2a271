//! `watch --jsonl`: what the tracker finds, as JSON lines ([`crate::render::jsonl`], which
//! documents them), flushed after each batch (what one wake-up of the loop read, a look, a
//! tick) for the program reading them.

use std::io::{self, Write};

use super::tracker::{Changes, Found, Removal, Sink, Source, Stamp, Tracker};
use crate::config::DetailFlags;
use crate::render::jsonl::{self, Event, Learnt, Moved, Removed, Whereabouts};

pub struct JsonLines<W: Write> {
    lines: jsonl::JsonLines<W>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, details: DetailFlags) -> JsonLines<W> {
        JsonLines {
            lines: jsonl::JsonLines::new(out, details),
        }
    }

    fn found(&mut self, event: &Event, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        let whereabouts = Whereabouts {
            netns: found.netns,
            processes: found.processes,
        };
        self.lines.event(event, at.wall, found.socket, whereabouts)
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn snapshot_socket(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        let whereabouts = Whereabouts {
            netns: found.netns,
            processes: found.processes,
        };
        self.lines
            .snapshot_socket(at.wall, found.socket, whereabouts)
    }

    fn snapshot(&mut self, _tracker: &Tracker, at: Stamp) -> io::Result<()> {
        self.lines.end_snapshot(at.wall)?;
        self.lines.flush()
    }

    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.found(&Event::Added(learnt(found.source)), found, at)
    }

    fn changed(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        let event = Event::Changed(moved(&found.changes), learnt(found.source));
        self.found(&event, found, at)
    }

    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()> {
        let event = Event::Removed(Removed {
            learnt: learnt(removal.source),
            lifetime: removal.lifetime,
            seen_since_start: removal.seen_since_start,
            bytes: removal.bytes,
        });
        let whereabouts = Whereabouts {
            netns: removal.netns,
            processes: None,
        };
        self.lines
            .event(&event, removal.at.wall, &removal.socket, whereabouts)
    }

    fn overrun(&mut self, at: Stamp) -> io::Result<()> {
        self.lines.overrun(at.wall)?;
        self.lines.flush()
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let totals = tracker.totals();
        self.lines
            .tick(at.wall, tracker.len(), totals.added, totals.removed)?;
        self.lines.flush()
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        let _ = writeln!(io::stderr(), "sockscope: warning: {message}");
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.lines.flush()
    }
}

fn learnt(source: Source) -> Learnt {
    match source {
        Source::Poll => Learnt::Look,
        Source::Destroy => Learnt::Destroy,
        Source::Event => Learnt::Transition,
    }
}

/// The changes as the line spells them: a rate only where it moved.
fn moved(changes: &Changes) -> Moved {
    let rate = |f: fn(&super::tracker::Rates) -> u64| {
        let (before, after) = changes.rates?;
        let pair = (before.as_ref().map(f), after.as_ref().map(f));
        (pair.0 != pair.1).then_some(pair)
    };
    Moved {
        state: changes.state,
        recv_q: changes.recv_q,
        send_q: changes.send_q,
        bytes_in_per_sec: rate(|r| r.bytes_in),
        bytes_out_per_sec: rate(|r| r.bytes_out),
    }
}
