//! JSON lines: one object per line, for programs that read a stream (`-E --json`, `watch`).
//!
//! `-E --json` writes each destroyed socket as a record, and a line where the kernel lost some:
//!
//! ```text
//! RECORD
//! {"type":"overrun","time":T}
//! ```
//!
//! `watch` writes what it found at each look and between looks:
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
//! its sockets arrive, never held whole in memory.
//!
//! Lines are not flushed one by one: the caller flushes when a batch is written.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Renderer;
use super::json::{Hex, Record};
use super::options::DetailFlags;
use crate::names::Names;
use crate::procs::Processes;
use crate::socket::{Socket, TcpState};
use crate::sys::clock;

pub struct JsonLines<W: Write> {
    out: W,
    names: Names,
    details: DetailFlags,
    /// The namespace of the sockets now arriving, for the `netns` field of a stream's records.
    netns: Option<Box<str>>,
    /// The time of the latest line: no line is older.
    last: SystemTime,
    /// Sockets written into the snapshot so far; `None` before it began.
    snapshot: Option<u64>,
}

/// What a line about one socket says of it.
pub enum Event {
    Added(Learnt),
    Changed(Moved, Learnt),
    Removed(Removed),
}

/// How the news was learnt: the line's `source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learnt {
    /// A look listed the socket, or no longer listed it (`"poll"`; not written on added and
    /// changed lines, where it is the rule).
    Look,
    /// The kernel's destroy event (`"destroy"`).
    Destroy,
    /// The kernel's own TCP state transition (`"event"`): the line's `happened_at` is always
    /// there, the kernel's moment.
    Transition,
}

impl Learnt {
    fn name(self) -> &'static str {
        match self {
            Learnt::Look => "poll",
            Learnt::Destroy => "destroy",
            Learnt::Transition => "event",
        }
    }
}

/// The `changes` of a changed socket: each field that moved, as (before, after).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    pub state: Option<(TcpState, TcpState)>,
    pub recv_q: Option<(u32, u32)>,
    pub send_q: Option<(u32, u32)>,
    pub bytes_in_per_sec: Option<(Option<u64>, Option<u64>)>,
    pub bytes_out_per_sec: Option<(Option<u64>, Option<u64>)>,
}

/// How a removed socket went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Removed {
    pub learnt: Learnt,
    pub lifetime: Option<Duration>,
    /// It was there when watching started: its lifetime is a lower bound.
    pub seen_since_start: bool,
    /// A TCP connection's tcp_info `bytes_acked` and `bytes_received` at its end.
    pub bytes: Option<(u64, u64)>,
}

/// Where a socket is and who holds it, for its record.
#[derive(Clone, Copy, Default)]
pub struct Whereabouts<'s> {
    pub netns: Option<&'s str>,
    pub processes: Option<&'s Processes>,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W, details: DetailFlags) -> JsonLines<W> {
        JsonLines {
            out,
            names: Names::new(),
            details,
            netns: None,
            last: SystemTime::UNIX_EPOCH,
            snapshot: None,
        }
    }

    /// One event about one socket, which happened at `at`.
    pub fn event(
        &mut self,
        event: &Event,
        at: SystemTime,
        socket: &Socket<'_>,
        whereabouts: Whereabouts<'_>,
    ) -> io::Result<()> {
        let (time, mut happened_at) = self.times(at);
        let learnt = match event {
            Event::Added(learnt) | Event::Changed(_, learnt) => *learnt,
            Event::Removed(removed) => removed.learnt,
        };
        if learnt == Learnt::Transition {
            happened_at.get_or_insert_with(|| clock::rfc3339(at));
        }
        let record = Record::new(socket, &mut self.names, self.details)
            .with_netns(whereabouts.netns)
            .with_processes(whereabouts.processes);
        let line = SocketEvent {
            event,
            time,
            happened_at,
            record: Keyed::new(socket, &record, self.details),
        };
        self.line(&line)
    }

    /// One socket of the snapshot, the snapshot's opening first.
    pub fn snapshot_socket(
        &mut self,
        at: SystemTime,
        socket: &Socket<'_>,
        whereabouts: Whereabouts<'_>,
    ) -> io::Result<()> {
        self.open_snapshot(at)?;
        let written = self.snapshot.get_or_insert(0);
        if *written > 0 {
            self.out.write_all(b",")?;
        }
        *written += 1;
        let record = Record::new(socket, &mut self.names, self.details)
            .with_netns(whereabouts.netns)
            .with_processes(whereabouts.processes);
        serde_json::to_writer(&mut self.out, &Keyed::new(socket, &record, self.details))
            .map_err(io::Error::from)
    }

    /// The snapshot's end (its opening too, when it has no socket).
    pub fn end_snapshot(&mut self, at: SystemTime) -> io::Result<()> {
        self.open_snapshot(at)?;
        self.out.write_all(b"]}\n")
    }

    /// `{"type":"overrun","time":T}`: the kernel lost events just before `at`.
    pub fn overrun(&mut self, at: SystemTime) -> io::Result<()> {
        let (time, happened_at) = self.times(at);
        self.line(&Overrun {
            kind: "overrun",
            time,
            happened_at,
        })
    }

    /// `{"type":"tick","time":T,"count":N,...}`: an interval went by, with `count` sockets
    /// seen and `added` and `removed` since the start (between-look ones included).
    pub fn tick(
        &mut self,
        at: SystemTime,
        count: usize,
        added: u64,
        removed: u64,
    ) -> io::Result<()> {
        let (time, _) = self.times(at);
        self.line(&Tick {
            kind: "tick",
            time,
            count,
            added,
            removed,
        })
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn line(&mut self, value: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")
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

    /// The snapshot's opening, once.
    fn open_snapshot(&mut self, at: SystemTime) -> io::Result<()> {
        if self.snapshot.is_none() {
            self.snapshot = Some(0);
            let (time, _) = self.times(at);
            write!(self.out, "{{\"type\":\"snapshot\",\"time\":")?;
            serde_json::to_writer(&mut self.out, &time)?;
            self.out.write_all(b",\"sockets\":[")?;
        }
        Ok(())
    }
}

/// A stream of sockets (`-E --json`): each socket a record on its own line.
impl<W: Write> Renderer for JsonLines<W> {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()> {
        let record =
            Record::new(socket, &mut self.names, self.details).with_netns(self.netns.as_deref());
        // The cookie always, so that a consumer can join the ends it sees.
        let keyed = Keyed::new(socket, &record, self.details);
        serde_json::to_writer(&mut self.out, &keyed)?;
        self.out.write_all(b"\n")
    }

    fn namespace(&mut self, name: &str) {
        self.netns = Some(name.into());
        self.names.new_namespace();
    }

    fn overrun(&mut self, at: SystemTime) -> io::Result<bool> {
        JsonLines::overrun(self, at)?;
        Ok(true)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// A `--json` record with the socket's `cookie` first, where the record leaves it out (it
/// carries it with `-e`): the key that joins the lines about one socket.
struct Keyed<'r, 's, 'a> {
    cookie: Option<u64>,
    record: &'r Record<'s, 'a>,
}

impl<'r, 's, 'a> Keyed<'r, 's, 'a> {
    fn new(socket: &Socket<'_>, record: &'r Record<'s, 'a>, details: DetailFlags) -> Self {
        Keyed {
            cookie: socket.cookie.filter(|_| !details.extended),
            record,
        }
    }
}

impl Serialize for Keyed<'_, '_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'r, 's, 'a> {
            #[serde(skip_serializing_if = "Option::is_none")]
            cookie: Option<Hex>,
            #[serde(flatten)]
            record: &'r Record<'s, 'a>,
        }
        Flat {
            cookie: self.cookie.map(Hex),
            record: self.record,
        }
        .serialize(serializer)
    }
}

#[derive(Serialize)]
struct Tick {
    #[serde(rename = "type")]
    kind: &'static str,
    time: String,
    count: usize,
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

struct SocketEvent<'e, 'k, 's, 'a> {
    event: &'e Event,
    time: String,
    happened_at: Option<String>,
    record: Keyed<'k, 's, 'a>,
}

impl Serialize for SocketEvent<'_, '_, '_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        let kind = match self.event {
            Event::Added(_) => "added",
            Event::Changed(..) => "changed",
            Event::Removed(_) => "removed",
        };
        map.serialize_entry("type", kind)?;
        map.serialize_entry("time", &self.time)?;
        if let Some(happened_at) = &self.happened_at {
            map.serialize_entry("happened_at", happened_at)?;
        }
        map.serialize_entry("socket", &self.record)?;
        match self.event {
            Event::Added(learnt) => {
                if *learnt == Learnt::Transition {
                    map.serialize_entry("source", learnt.name())?;
                }
            }
            Event::Changed(moved, learnt) => {
                map.serialize_entry("changes", moved)?;
                if *learnt == Learnt::Transition {
                    map.serialize_entry("source", learnt.name())?;
                }
            }
            Event::Removed(removed) => {
                map.serialize_entry("source", removed.learnt.name())?;
                map.serialize_entry(
                    "lifetime_ms",
                    &removed.lifetime.map(|d| d.as_millis() as u64),
                )?;
                if removed.seen_since_start {
                    map.serialize_entry("seen_since_start", &true)?;
                }
                if let Some((acked, received)) = removed.bytes {
                    map.serialize_entry("bytes_acked", &acked)?;
                    map.serialize_entry("bytes_received", &received)?;
                }
            }
        }
        map.end()
    }
}

/// `{"field": [before, after], ...}`, for the fields that moved.
impl Serialize for Moved {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some((before, after)) = self.state {
            map.serialize_entry("state", &[before.name(), after.name()])?;
        }
        if let Some((before, after)) = self.recv_q {
            map.serialize_entry("recv_q", &[before, after])?;
        }
        if let Some((before, after)) = self.send_q {
            map.serialize_entry("send_q", &[before, after])?;
        }
        if let Some((before, after)) = self.bytes_in_per_sec {
            map.serialize_entry("bytes_in_per_sec", &[before, after])?;
        }
        if let Some((before, after)) = self.bytes_out_per_sec {
            map.serialize_entry("bytes_out_per_sec", &[before, after])?;
        }
        map.end()
    }
}
