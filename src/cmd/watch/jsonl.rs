//! `watch --jsonl`: one JSON object per line, flushed after each, for programs.
//!
//! ```text
//! {"type":"snapshot","time":T,"sockets":[RECORD,...]}
//! {"type":"added","time":T,"socket":RECORD}
//! {"type":"changed","time":T,"socket":RECORD,"changes":{"recv_q":[0,10]}}
//! {"type":"removed","time":T,"socket":RECORD,"source":"destroy","lifetime_ms":3200}
//! {"type":"overrun","time":T}
//! {"type":"tick","time":T,"count":N}
//! ```
//!
//! Records are `--json`'s ([`Record`]) with the socket's `cookie` always (the key that joins
//! the lines about one socket); times are RFC 3339 in UTC with milliseconds and never go
//! backwards from one line to the next. A line about something that happened before its
//! `time` (a destruction held until the next look said what became of the socket) gives that
//! moment as `happened_at`. A removed socket that was there when watch started has
//! `"seen_since_start":true`: its `lifetime_ms` is a lower bound. The snapshot is written as
//! the first look lists the sockets, never held whole in memory.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::tracker::{Changes, Found, Removal, Sink, Source, Stamp, Tracker};
use crate::cmd::events::Keyed;
use crate::config::DetailFlags;
use crate::names::Names;
use crate::procs::Processes;
use crate::render::json::Record;
use crate::socket::Socket;
use crate::sys::clock;

pub struct JsonLines<W: Write> {
    out: W,
    names: Names,
    details: DetailFlags,
    /// The time of the latest line: no line is older.
    last: SystemTime,
    /// Sockets written into the snapshot so far; `None` before it began.
    snapshot: Option<u64>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, details: DetailFlags) -> JsonLines<W> {
        JsonLines {
            out,
            names: Names::new(),
            details,
            last: SystemTime::UNIX_EPOCH,
            snapshot: None,
        }
    }

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// The line's time for something that happened at `at`, and `at` again when it is
    /// earlier than that (by a millisecond or more).
    fn times(&mut self, at: SystemTime) -> (String, Option<String>) {
        if at > self.last {
            self.last = at;
        }
        let late = self
            .last
            .duration_since(at)
            .is_ok_and(|d| d >= Duration::from_millis(1));
        (clock::rfc3339(self.last), late.then(|| clock::rfc3339(at)))
    }

    /// One event about one socket.
    #[allow(clippy::too_many_arguments)]
    fn event(
        &mut self,
        kind: &'static str,
        at: Stamp,
        socket: &Socket<'_>,
        netns: Option<&str>,
        processes: Option<&Processes>,
        extra: Extra<'_>,
    ) -> io::Result<()> {
        let (time, mut happened_at) = self.times(at.wall);
        // What the kernel reported as it happened has its own moment, always.
        if matches!(
            extra,
            Extra::Found(_, Source::Event)
                | Extra::Removal(Removal {
                    source: Source::Event,
                    ..
                })
        ) {
            happened_at.get_or_insert_with(|| clock::rfc3339(at.wall));
        }
        let record = Record::new(socket, &mut self.names, self.details)
            .with_netns(netns)
            .with_processes(processes);
        let event = SocketEvent {
            kind,
            time,
            happened_at,
            record: Keyed::new(socket, &record, self.details),
            extra,
        };
        self.line(&event)
    }

    /// The snapshot's opening, once.
    fn open_snapshot(&mut self, at: Stamp) -> io::Result<()> {
        if self.snapshot.is_none() {
            self.snapshot = Some(0);
            let (time, _) = self.times(at.wall);
            write!(self.out, "{{\"type\":\"snapshot\",\"time\":")?;
            serde_json::to_writer(&mut self.out, &time)?;
            self.out.write_all(b",\"sockets\":[")?;
        }
        Ok(())
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn snapshot_socket(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.open_snapshot(at)?;
        let written = self.snapshot.get_or_insert(0);
        if *written > 0 {
            self.out.write_all(b",")?;
        }
        *written += 1;
        let record = Record::new(found.socket, &mut self.names, self.details)
            .with_netns(found.netns)
            .with_processes(found.processes);
        serde_json::to_writer(
            &mut self.out,
            &Keyed::new(found.socket, &record, self.details),
        )
        .map_err(io::Error::from)
    }

    fn snapshot(&mut self, _tracker: &Tracker, at: Stamp) -> io::Result<()> {
        self.open_snapshot(at)?;
        self.out.write_all(b"]}\n")?;
        self.out.flush()
    }

    fn added(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.event(
            "added",
            at,
            found.socket,
            found.netns,
            found.processes,
            Extra::Found(None, found.source),
        )
    }

    fn changed(&mut self, found: &Found<'_>, at: Stamp) -> io::Result<()> {
        self.event(
            "changed",
            at,
            found.socket,
            found.netns,
            found.processes,
            Extra::Found(Some(&found.changes), found.source),
        )
    }

    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()> {
        self.event(
            "removed",
            removal.at,
            &removal.socket,
            removal.netns,
            None,
            Extra::Removal(removal),
        )
    }

    fn overrun(&mut self, at: Stamp) -> io::Result<()> {
        let (time, happened_at) = self.times(at.wall);
        self.line(&Overrun {
            kind: "overrun",
            time,
            happened_at,
        })
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let (time, _) = self.times(at.wall);
        let totals = tracker.totals();
        self.line(&Tick {
            kind: "tick",
            time,
            count: tracker.len(),
            added: totals.added,
            removed: totals.removed,
        })
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        let _ = writeln!(io::stderr(), "sockscope: warning: {message}");
        Ok(())
    }
}

#[derive(Serialize)]
struct Tick {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    count: usize,
    /// Sockets added and removed since the start, between-look ones included.
    added: u64,
    removed: u64,
}

#[derive(Serialize)]
struct Overrun {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    happened_at: Option<String>,
}

/// What an event adds after its socket.
enum Extra<'e> {
    /// An added socket (no changes) or a changed one, and how it was learnt.
    Found(Option<&'e Changes>, Source),
    Removal(&'e Removal<'e>),
}

fn source_name(source: Source) -> &'static str {
    match source {
        Source::Destroy => "destroy",
        Source::Poll => "poll",
        Source::Event => "event",
    }
}

struct SocketEvent<'k, 's, 'a, 'e> {
    kind: &'static str,
    time: String,
    happened_at: Option<String>,
    record: Keyed<'k, 's, 'a>,
    extra: Extra<'e>,
}

impl Serialize for SocketEvent<'_, '_, '_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.kind)?;
        map.serialize_entry("time", &self.time)?;
        if let Some(happened_at) = &self.happened_at {
            map.serialize_entry("happened_at", happened_at)?;
        }
        map.serialize_entry("socket", &self.record)?;
        match self.extra {
            Extra::Found(changes, source) => {
                if let Some(changes) = changes {
                    map.serialize_entry("changes", &ChangesJson(changes))?;
                }
                if source == Source::Event {
                    map.serialize_entry("source", "event")?;
                }
            }
            Extra::Removal(removal) => {
                map.serialize_entry("source", source_name(removal.source))?;
                map.serialize_entry(
                    "lifetime_ms",
                    &removal.lifetime.map(|d| d.as_millis() as u64),
                )?;
                if removal.seen_since_start {
                    map.serialize_entry("seen_since_start", &true)?;
                }
                if let Some((acked, received)) = removal.bytes {
                    map.serialize_entry("bytes_acked", &acked)?;
                    map.serialize_entry("bytes_received", &received)?;
                }
            }
        }
        map.end()
    }
}

/// `{"field": [before, after], ...}`, for the fields that moved.
struct ChangesJson<'c>(&'c Changes);

impl Serialize for ChangesJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let c = self.0;
        let mut map = serializer.serialize_map(None)?;
        if let Some((before, after)) = c.state {
            map.serialize_entry("state", &[before.name(), after.name()])?;
        }
        if let Some(pair) = c.recv_q {
            map.serialize_entry("recv_q", &[pair.0, pair.1])?;
        }
        if let Some(pair) = c.send_q {
            map.serialize_entry("send_q", &[pair.0, pair.1])?;
        }
        if let Some((before, after)) = c.rates {
            let bytes_in = [before.map(|r| r.bytes_in), after.map(|r| r.bytes_in)];
            if bytes_in[0] != bytes_in[1] {
                map.serialize_entry("bytes_in_per_sec", &bytes_in)?;
            }
            let bytes_out = [before.map(|r| r.bytes_out), after.map(|r| r.bytes_out)];
            if bytes_out[0] != bytes_out[1] {
                map.serialize_entry("bytes_out_per_sec", &bytes_out)?;
            }
        }
        map.end()
    }
}
