//! `watch --jsonl`: one JSON object per line, flushed after each, for programs.
//!
//! ```text
//! {"type":"snapshot","time":T,"sockets":[RECORD,...]}
//! {"type":"added","time":T,"socket":RECORD}
//! {"type":"changed","time":T,"socket":RECORD,"changes":{"recv_q":[0,10]}}
//! {"type":"removed","time":T,"socket":RECORD,"source":"destroy","lifetime_ms":3200}
//! {"type":"tick","time":T,"count":N}
//! ```
//!
//! Records are `--json`'s ([`Record`]); times are RFC 3339 in UTC with milliseconds.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::clock;
use super::tracker::{Changes, Entry, Removal, Sink, Source, Stamp, Tracker};
use crate::config::DetailFlags;
use crate::names::Names;
use crate::render::json::Record;
use crate::socket::Socket;

pub struct JsonLines<W: Write> {
    out: W,
    names: Names,
    details: DetailFlags,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, details: DetailFlags) -> JsonLines<W> {
        JsonLines {
            out,
            names: Names::new(),
            details,
        }
    }

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// One event about one socket.
    fn event(
        &mut self,
        kind: &'static str,
        at: Stamp,
        socket: &Socket<'_>,
        extra: Extra<'_>,
    ) -> io::Result<()> {
        let record = Record::new(socket, &mut self.names, self.details);
        let event = SocketEvent {
            kind,
            time: clock::rfc3339(at.wall),
            record,
            extra,
        };
        self.line(&event)
    }
}

impl<W: Write> Sink for JsonLines<W> {
    fn snapshot(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        let names = &mut self.names;
        let details = self.details;
        let sockets: Vec<_> = tracker.entries().map(|e| e.socket.as_socket()).collect();
        let records: Vec<Record<'_, '_>> = sockets
            .iter()
            .map(|socket| Record::new(socket, names, details))
            .collect();
        let snapshot = Snapshot {
            kind: "snapshot",
            time: clock::rfc3339(at.wall),
            sockets: records,
        };
        self.line(&snapshot)
    }

    fn added(&mut self, entry: &Entry, at: Stamp) -> io::Result<()> {
        self.event("added", at, &entry.socket.as_socket(), Extra::None)
    }

    fn changed(&mut self, entry: &Entry, at: Stamp) -> io::Result<()> {
        self.event(
            "changed",
            at,
            &entry.socket.as_socket(),
            Extra::Changes(&entry.changes),
        )
    }

    fn removed(&mut self, removal: &Removal<'_>) -> io::Result<()> {
        self.event(
            "removed",
            removal.at,
            &removal.socket,
            Extra::Removal(removal),
        )
    }

    fn tick(&mut self, tracker: &Tracker, at: Stamp) -> io::Result<()> {
        self.line(&Tick {
            kind: "tick",
            time: clock::rfc3339(at.wall),
            count: tracker.len(),
        })
    }

    fn warn(&mut self, message: &str) -> io::Result<()> {
        let _ = writeln!(io::stderr(), "sockscope: warning: {message}");
        Ok(())
    }
}

#[derive(Serialize)]
struct Snapshot<'s, 'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    sockets: Vec<Record<'s, 'a>>,
}

#[derive(Serialize)]
struct Tick {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    count: usize,
}

/// What an event adds after its socket.
enum Extra<'e> {
    None,
    Changes(&'e Changes),
    Removal(&'e Removal<'e>),
}

struct SocketEvent<'s, 'a, 'e> {
    kind: &'static str,
    time: String,
    record: Record<'s, 'a>,
    extra: Extra<'e>,
}

impl Serialize for SocketEvent<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("type", self.kind)?;
        map.serialize_entry("time", &self.time)?;
        map.serialize_entry("socket", &self.record)?;
        match self.extra {
            Extra::None => {}
            Extra::Changes(changes) => map.serialize_entry("changes", &ChangesJson(changes))?,
            Extra::Removal(removal) => {
                let source = match removal.source {
                    Source::Destroy => "destroy",
                    Source::Poll => "poll",
                };
                map.serialize_entry("source", source)?;
                map.serialize_entry(
                    "lifetime_ms",
                    &removal.lifetime.map(|d| d.as_millis() as u64),
                )?;
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
