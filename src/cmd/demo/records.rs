//! What the demo prints of a stage besides the table: its JSON record and the words of each
//! packet's line, both from the decoded packets and sockets the walk hands over.

use serde::Serialize;

use super::capture::{Packet, Segment};
use super::segment;
use crate::render::json::Record;
use crate::source::procnet::ListenCounters;

/// One stage as JSON.
#[derive(Serialize)]
pub(super) struct StageRecord<'a> {
    pub(super) stage: usize,
    pub(super) title: &'a str,
    pub(super) call: String,
    pub(super) explanation: &'a str,
    /// The command that lists the same sockets (in the demo's namespace).
    pub(super) command: String,
    /// Why the command is sockscope's rather than ss's, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) command_note: Option<&'a str>,
    pub(super) sockets: Vec<Labelled<'a>>,
    /// `null` when packets could not be captured.
    pub(super) packets: Option<Vec<PacketRecord>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) packets_while_paused: Vec<PacketRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) counters: Option<CounterRecord>,
}

#[derive(Serialize)]
pub(super) struct Labelled<'a> {
    pub(super) label: &'a str,
    #[serde(flatten)]
    pub(super) record: Record<'a, 'a>,
}

#[derive(Serialize)]
pub(super) struct CounterRecord {
    pub(super) before: ListenCounters,
    pub(super) after: ListenCounters,
}

#[derive(Serialize)]
pub(super) struct PacketRecord {
    /// Seconds since the stage began.
    pub(super) time: f64,
    pub(super) source: String,
    pub(super) destination: String,
    pub(super) protocol: &'static str,
    /// SYN, SYN-ACK, ACK, PSH, FIN, RST (TCP only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) ack: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) window: Option<u32>,
    pub(super) len: usize,
    /// The line the text output prints.
    pub(super) text: String,
}

impl PacketRecord {
    pub(super) fn new(packet: &Packet) -> PacketRecord {
        let tcp = match packet.segment {
            Segment::Tcp(tcp) => Some(tcp),
            Segment::Udp { .. } => None,
        };
        PacketRecord {
            time: packet.at.as_secs_f64(),
            source: packet.source.to_string(),
            destination: packet.destination.to_string(),
            protocol: if tcp.is_some() { "tcp" } else { "udp" },
            kind: tcp.map(|t| t.name()),
            seq: tcp.map(|t| t.seq),
            ack: tcp.and_then(|t| t.ack),
            window: tcp.map(|t| t.window),
            len: match packet.segment {
                Segment::Tcp(t) => t.len,
                Segment::Udp { len } => len,
            },
            text: packet_words(packet)[1..].join(" "),
        }
    }
}

/// A packet as the words of its line: the time, the ports, the kind, then what it carries,
/// as tcpdump would say it (relative sequence numbers).
pub(super) fn packet_words(packet: &Packet) -> Vec<String> {
    let mut words = vec![
        format!("{:.3}", packet.at.as_secs_f64()),
        format!("{} > {}:", packet.source.port(), packet.destination.port()),
    ];
    match packet.segment {
        Segment::Udp { len } => words.push(format!("UDP {len} bytes")),
        Segment::Tcp(tcp) => {
            words.push(tcp.name());
            if tcp.len > 0 {
                words.push(format!("{} bytes,", tcp.len));
                let end = tcp.seq.wrapping_add(tcp.len as u32);
                words.push(format!("seq {}:{end},", tcp.seq));
            } else if tcp.ack.is_none()
                || tcp.flags & (segment::TCP_SYN | segment::TCP_FIN | segment::TCP_RST) != 0
                || tcp.probe
            {
                words.push(format!("seq {},", tcp.seq));
            }
            if let Some(ack) = tcp.ack {
                words.push(format!("ack {ack},"));
            }
            words.push(format!("win {}", tcp.window));
            if let Some(mss) = tcp.mss {
                let last = words.last_mut().expect("a window");
                last.push(',');
                words.push(format!("mss {mss}"));
            }
            if tcp.probe {
                words.push("(window probe)".to_owned());
            }
        }
    }
    words
}
