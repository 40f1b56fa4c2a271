//! `--json`: the rows of the table as a JSON array of records, streamed one record per line.
//!
//! The schema is documented in the README and the man page; fields are added, never renamed.
//! Addresses and ports are always numeric here, whatever `-n` and `-r` say: JSON is for
//! programs.

use std::borrow::Cow;
use std::io::{self, Write};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::Renderer;
use super::names::Names;
use crate::procs::{Owner, Processes};
use crate::socket::{Endpoints, Socket, UnixName};

pub struct JsonRenderer<W: Write> {
    out: W,
    names: Names,
    records: u64,
    /// Who holds each socket, for the `processes` field (`-p`, `-T`).
    processes: Option<Processes>,
}

impl<W: Write> JsonRenderer<W> {
    pub fn new(out: W) -> JsonRenderer<W> {
        JsonRenderer {
            out,
            names: Names::new(),
            records: 0,
            processes: None,
        }
    }

    /// Adds each socket's owners from `processes`, read by the caller before the listing.
    pub fn with_processes(mut self, processes: Option<Processes>) -> JsonRenderer<W> {
        self.processes = processes;
        self
    }
}

impl<W: Write> Renderer for JsonRenderer<W> {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()> {
        self.out
            .write_all(if self.records == 0 { b"[\n" } else { b",\n" })?;
        self.records += 1;
        let record = Record::new(socket, &mut self.names).with_processes(self.processes.as_ref());
        serde_json::to_writer(&mut self.out, &record).map_err(io::Error::from)
    }

    fn finish(&mut self) -> io::Result<()> {
        self.out
            .write_all(if self.records == 0 { b"[]\n" } else { b"\n]\n" })?;
        self.out.flush()
    }
}

/// One socket as a JSON object: the schema shared by every mode that prints sockets as JSON.
pub struct Record<'s, 'a> {
    socket: &'s Socket<'a>,
    /// Copied out of the name cache (only sockets bound to a device have one).
    interface: Option<Box<str>>,
    /// With `-p` or `-T`: where to find the socket's owners.
    processes: Option<&'s Processes>,
}

impl<'s, 'a> Record<'s, 'a> {
    pub fn new(socket: &'s Socket<'a>, names: &mut Names) -> Record<'s, 'a> {
        let interface = match socket.endpoints {
            Endpoints::Inet(ends) if ends.ifindex != 0 => {
                Some(names.interface(ends.ifindex).into())
            }
            _ => None,
        };
        Record {
            socket,
            interface,
            processes: None,
        }
    }

    /// Adds the `processes` field, the socket's owners in `processes`.
    pub fn with_processes(mut self, processes: Option<&'s Processes>) -> Record<'s, 'a> {
        self.processes = processes;
        self
    }
}

impl Serialize for Record<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let s = self.socket;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("netid", s.netid.name())?;
        map.serialize_entry("state", s.state.name())?;
        map.serialize_entry("recv_q", &s.recv_q)?;
        map.serialize_entry("send_q", &s.send_q)?;
        map.serialize_entry("inode", &s.inode)?;
        map.serialize_entry("family", s.family().name())?;
        match s.endpoints {
            Endpoints::Inet(ends) => {
                map.serialize_entry("local_address", &Displayed(ends.local.ip()))?;
                map.serialize_entry("local_port", &ends.local.port())?;
                map.serialize_entry("peer_address", &Displayed(ends.peer.ip()))?;
                map.serialize_entry("peer_port", &ends.peer.port())?;
                map.serialize_entry("interface", &self.interface)?;
                map.serialize_entry("v6only", &ends.v6only)?;
            }
            Endpoints::Unix(ends) => {
                map.serialize_entry("path", &unix_path(ends.name))?;
                map.serialize_entry("peer_inode", &ends.peer_inode)?;
            }
        }
        if let Some(processes) = self.processes {
            map.serialize_entry("processes", &OwnersOf(processes, s.inode))?;
        }
        map.end()
    }
}

/// The owners of one socket, as an array in the table's order.
struct OwnersOf<'p>(&'p Processes, u64);

impl Serialize for OwnersOf<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.owners(self.1).map(OwnerRecord))
    }
}

/// `{"comm":..,"pid":..,"tid":..,"fd":..}`, `tid` only with `-T`. The name is whole (the table
/// cuts it at a `)` as ss does), made valid UTF-8.
struct OwnerRecord<'p>(Owner<'p>);

impl Serialize for OwnerRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let owner = &self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("comm", &String::from_utf8_lossy(owner.comm))?;
        map.serialize_entry("pid", &owner.pid)?;
        if let Some(tid) = owner.tid {
            map.serialize_entry("tid", &tid)?;
        }
        map.serialize_entry("fd", &owner.fd)?;
        map.end()
    }
}

/// A unix name as text: the path, `@name` for an abstract name (every NUL shown as `@`, as
/// in the table), or null.
fn unix_path(name: UnixName<'_>) -> Option<Cow<'_, str>> {
    match name {
        UnixName::Unnamed => None,
        UnixName::Path(path) => Some(String::from_utf8_lossy(path)),
        UnixName::Abstract(name) => {
            let mut text = String::with_capacity(name.len() + 1);
            text.push('@');
            text.extend(
                String::from_utf8_lossy(name)
                    .chars()
                    .map(|c| if c == '\0' { '@' } else { c }),
            );
            Some(Cow::Owned(text))
        }
    }
}

/// Serializes through `Display` without an intermediate `String`.
struct Displayed<T>(T);

impl<T: std::fmt::Display> Serialize for Displayed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}
