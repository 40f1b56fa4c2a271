//! The metrics as Prometheus reads them: a [`Report`] of what one scrape counted, encoded
//! through prometheus-client as text or OpenMetrics.

use super::*;

/// Every namespace a scrape looked at, and what the events counted, ready to be written.
#[derive(Debug, Default)]
pub struct Report {
    pub namespaces: Vec<Namespace>,
    /// `None` where events are not followed: their metrics are then absent.
    pub events: Option<EventSeries>,
}

/// The two text formats a scraper may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format, version 0.0.4: for curl, promtool and node_exporter's
    /// textfile collector.
    Text,
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Text => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

impl Report {
    /// The report in `format`.
    pub fn encode(self, format: Format) -> String {
        let mut registry = Registry::with_prefix("sockscope");
        registry.register_collector(Box::new(self));
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String fails only if a collector does, and ours do not.
        let written = match format {
            Format::Text => {
                prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
            }
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        debug_assert!(written.is_ok());
        out
    }
}

/// A label value.
#[derive(Clone, Copy, Debug)]
enum Value<'a> {
    Str(&'a str),
    Port(Port),
    Address(Address),
}

impl EncodeLabelValue for Value<'_> {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> fmt::Result {
        match self {
            Value::Str(text) => encoder.write_str(text),
            Value::Port(port) => write!(encoder, "{port}"),
            Value::Address(Address::Ip(ip)) => write!(encoder, "{ip}"),
            Value::Address(Address::Other) => encoder.write_str("other"),
        }
    }
}

/// A series' labels: `netns` first when there is one.
struct Labels<'a, const N: usize> {
    netns: Option<&'a str>,
    pairs: [(&'static str, Value<'a>); N],
}

impl<const N: usize> EncodeLabelSet for Labels<'_, N> {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> fmt::Result {
        if let Some(netns) = self.netns {
            ("netns", Value::Str(netns)).encode(encoder.encode_label())?;
        }
        for pair in &self.pairs {
            pair.encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

fn state_name(state: u8) -> &'static str {
    TcpState::from_kernel(state).name()
}

/// Writes one family: its descriptor, then a series for each item of each namespace. A
/// family no namespace has a series of is left out.
fn family<'n, T: 'n, const N: usize>(
    encoder: &mut DescriptorEncoder,
    namespaces: &'n [Namespace],
    (name, help, unit, kind): (&str, &str, Option<&Unit>, MetricType),
    items: impl Fn(&'n Namespace) -> &'n [T],
    labels: impl Fn(&'n T) -> [(&'static str, Value<'n>); N],
    write: impl Fn(&T, prometheus_client::encoding::MetricEncoder) -> fmt::Result,
) -> fmt::Result {
    if namespaces.iter().all(|ns| items(ns).is_empty()) {
        return Ok(());
    }
    let mut metric = encoder.encode_descriptor(name, help, unit, kind)?;
    for ns in namespaces {
        for item in items(ns) {
            let set = Labels {
                netns: ns.name.as_deref(),
                pairs: labels(item),
            };
            write(item, metric.encode_family(&set)?)?;
        }
    }
    Ok(())
}

fn gauge(value: u64, metric: prometheus_client::encoding::MetricEncoder) -> fmt::Result {
    ConstGauge::new(value as i64).encode(metric)
}

fn counter(value: u64, metric: prometheus_client::encoding::MetricEncoder) -> fmt::Result {
    ConstCounter::new(value).encode(metric)
}

impl Collector for Report {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let ns = &self.namespaces[..];
        let e = &mut encoder;
        let netid = |n: Netid| ("netid", Value::Str(n.name()));
        let port = |p: Port| ("port", Value::Port(p));
        family(
            e,
            ns,
            (
                "sockets",
                "Sockets by table and state",
                None,
                MetricType::Gauge,
            ),
            |n| &n.sockets,
            |&((id, state), _)| [netid(id), ("state", Value::Str(state_name(state)))],
            |&(_, count), m| gauge(count, m),
        )?;
        let listener = |&((id, address, p), _): &((Netid, Address, Port), Queue)| {
            [
                netid(id),
                ("local_address", Value::Address(address)),
                port(p),
            ]
        };
        family(
            e,
            ns,
            (
                "listen_queue_length",
                "Connections waiting in a listener's accept queue (Recv-Q of ss -l)",
                None,
                MetricType::Gauge,
            ),
            |n| &n.listeners,
            listener,
            |(_, queue), m| gauge(queue.length, m),
        )?;
        family(
            e,
            ns,
            (
                "listen_backlog",
                "The most connections a listener's accept queue holds (Send-Q of ss -l)",
                None,
                MetricType::Gauge,
            ),
            |n| &n.listeners,
            listener,
            |(_, queue), m| gauge(queue.backlog, m),
        )?;
        family(
            e,
            ns,
            (
                "connections",
                "Connections by local listening port (inbound) or remote port (outbound), \
                 and state",
                None,
                MetricType::Gauge,
            ),
            |n| &n.connections,
            |&((id, p, direction, state), _)| {
                [
                    netid(id),
                    port(p),
                    ("direction", Value::Str(direction.name())),
                    ("state", Value::Str(state_name(state))),
                ]
            },
            |&(_, count), m| gauge(count, m),
        )?;
        let queue_labels = |queue: &'static str| {
            move |&((id, p), _): &((Netid, Port), (u64, u64))| {
                [netid(id), port(p), ("queue", Value::Str(queue))]
            }
        };
        let help = "Bytes in the receive queue (recv) and send queue (send) of the sockets of a \
                    port, listeners left out";
        if ns.iter().any(|n| !n.queues.is_empty()) {
            // Two series per port, one family.
            let mut metric =
                e.encode_descriptor("queue", help, Some(&Unit::Bytes), MetricType::Gauge)?;
            for n in ns {
                for item in &n.queues {
                    for (queue, bytes) in [("recv", item.1.0), ("send", item.1.1)] {
                        let set = Labels {
                            netns: n.name.as_deref(),
                            pairs: queue_labels(queue)(item),
                        };
                        gauge(bytes, metric.encode_family(&set)?)?;
                    }
                }
            }
        }
        let empty_rtt: &[((Netid, Port), Rtt)] = &[];
        family(
            e,
            ns,
            (
                "tcp_rtt",
                "Smoothed round-trip times of the live TCP connections of a port",
                Some(&Unit::Seconds),
                MetricType::Histogram,
            ),
            |n| n.rtt.as_deref().unwrap_or(empty_rtt),
            |&((id, p), _)| [netid(id), port(p)],
            |(_, rtt), mut m| {
                let mut buckets = [(0.0, 0); RTT_BUCKETS.len() + 1];
                for (i, slot) in buckets.iter_mut().enumerate() {
                    let bound = RTT_BUCKETS.get(i).copied().unwrap_or(f64::INFINITY);
                    *slot = (bound, rtt.buckets[i]);
                }
                m.encode_histogram::<NoLabelSet>(rtt.sum, rtt.count, &buckets, None)
            },
        )?;
        let empty: &[((Netid, Port), u64)] = &[];
        family(
            e,
            ns,
            (
                "tcp_retransmitted_segments",
                "Segments retransmitted over the lifetime of the live TCP connections of a port",
                None,
                MetricType::Gauge,
            ),
            |n| n.retransmitted.as_deref().unwrap_or(empty),
            |&((id, p), _)| [netid(id), port(p)],
            |&(_, count), m| gauge(count, m),
        )?;
        // The kernel's counters, one series per namespace that could read them.
        type Read = fn(&Namespace) -> Option<u64>;
        let kernel: [(&str, &str, Read); 2] = [
            (
                "tcp_listen_overflows",
                "Times a listener's accept queue was full (TcpExt ListenOverflows)",
                |n| n.listen_overflows,
            ),
            (
                "tcp_listen_drops",
                "Connection requests a listener dropped (TcpExt ListenDrops)",
                |n| n.listen_drops,
            ),
        ];
        for (name, help, value) in kernel {
            if ns.iter().all(|n| value(n).is_none()) {
                continue;
            }
            let mut metric = e.encode_descriptor(name, help, None, MetricType::Counter)?;
            for n in ns {
                if let Some(value) = value(n) {
                    let set = Labels::<0> {
                        netns: n.name.as_deref(),
                        pairs: [],
                    };
                    counter(value, metric.encode_family(&set)?)?;
                }
            }
        }
        let mut metric = e.encode_descriptor(
            "folded_series",
            "Series added up into port=\"other\" past --max-series, by metric family",
            None,
            MetricType::Counter,
        )?;
        for n in ns {
            // The -i families only where -i asked for them.
            let shown = if n.rtt.is_some() { CAPPED.len() } else { 3 };
            for (family, &count) in CAPPED.iter().zip(&n.folded_total).take(shown) {
                let set = Labels {
                    netns: n.name.as_deref(),
                    pairs: [("metric", Value::Str(family))],
                };
                counter(count, metric.encode_family(&set)?)?;
            }
        }
        if let Some(events) = &self.events {
            let set = Labels {
                netns: None,
                pairs: [("metric", Value::Str(EVENTS_CAPPED))],
            };
            counter(events.folded, metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "scrape_duration",
            "How long looking at the socket tables took",
            Some(&Unit::Seconds),
            MetricType::Gauge,
        )?;
        for n in ns {
            let set = Labels::<0> {
                netns: n.name.as_deref(),
                pairs: [],
            };
            ConstGauge::new(n.duration_seconds).encode(metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "scrape_sockets",
            "Sockets the scrape counted",
            None,
            MetricType::Gauge,
        )?;
        for n in ns {
            let set = Labels::<0> {
                netns: n.name.as_deref(),
                pairs: [],
            };
            gauge(n.scraped, metric.encode_family(&set)?)?;
        }
        let mut metric = e.encode_descriptor(
            "events_available",
            "1 when the kernel's TCP events are followed and the tcp_connections metrics are \
             exported, 0 when they cannot be (no privilege, no BTF, -N all, --once)",
            None,
            MetricType::Gauge,
        )?;
        gauge(
            u64::from(self.events.is_some()),
            metric.encode_family(&Labels::<0> {
                netns: None,
                pairs: [],
            })?,
        )?;
        if let Some(events) = &self.events {
            encode_events(e, events)?;
        }
        Ok(())
    }
}

/// The folded-series counter's label for the families [`encode_events`] writes, which share
/// their series.
pub const EVENTS_CAPPED: &str = "tcp_connections";

/// The counters and histograms of the kernel's events, each a series per direction and port.
fn encode_events(e: &mut DescriptorEncoder, events: &EventSeries) -> fmt::Result {
    let labels = |&(direction, port): &(Direction, Port)| Labels {
        netns: None,
        pairs: [
            ("direction", Value::Str(direction.name())),
            ("port", Value::Port(port)),
        ],
    };
    type Take = fn(&Sums) -> u64;
    let mut counters: Vec<(&str, &str, Option<Unit>, Take)> = vec![
        (
            "tcp_connections_opened",
            "TCP connections that reached ESTAB, by local listening port (inbound) or remote \
             port (outbound)",
            None,
            |s| s.opened,
        ),
        (
            "tcp_connections_closed",
            "TCP connections that reached CLOSE after ESTAB",
            None,
            |s| s.closed,
        ),
        (
            "tcp_connections_failed",
            "TCP handshakes that ended in CLOSE: connects refused or timed out (SYN-SENT), \
             handshakes dropped (SYN-RECV)",
            None,
            |s| s.failed,
        ),
        (
            "tcp_connections_reset",
            "TCP connections that ended without the FIN exchange (ESTAB, CLOSE-WAIT or \
             FIN-WAIT-1 straight to CLOSE): a reset sent or received, or retransmissions given up",
            None,
            |s| s.reset,
        ),
    ];
    if events.bytes {
        counters.push((
            "tcp_acked",
            "Bytes the peer acknowledged, over the life of the TCP connections closed (tcp_info \
             bytes_acked at destroy)",
            Some(Unit::Bytes),
            |s| s.bytes_acked,
        ));
        counters.push((
            "tcp_received",
            "Bytes received over the life of the TCP connections closed (tcp_info \
             bytes_received at destroy)",
            Some(Unit::Bytes),
            |s| s.bytes_received,
        ));
    }
    for (name, help, unit, take) in counters {
        let mut metric = e.encode_descriptor(name, help, unit.as_ref(), MetricType::Counter)?;
        for (key, sums) in &events.series {
            counter(take(sums), metric.encode_family(&labels(key))?)?;
        }
    }
    type Pick = fn(&Sums) -> &Histogram;
    let histograms: [(&str, &str, Pick); 2] = [
        (
            "tcp_handshake",
            "TCP handshake times: SYN-SENT to ESTAB for outbound connections (the connect \
             latency), SYN-RECV to ESTAB for inbound ones",
            |s| &s.handshake,
        ),
        (
            "tcp_connection_lifetime",
            "Lifetimes of the TCP connections closed, from the handshake's start to CLOSE",
            |s| &s.lifetime,
        ),
    ];
    for (name, help, pick) in histograms {
        let mut metric =
            e.encode_descriptor(name, help, Some(&Unit::Seconds), MetricType::Histogram)?;
        for (key, sums) in &events.series {
            let histogram = pick(sums);
            metric
                .encode_family(&labels(key))?
                .encode_histogram::<NoLabelSet>(
                    histogram.sum,
                    histogram.count,
                    &histogram.buckets(),
                    None,
                )?;
        }
    }
    let lost: [(&str, &str, u64); 2] = [
        (
            "events_lost",
            "TCP transitions the kernel had no room for in the ring buffer: the counters miss them",
            events.lost,
        ),
        (
            "events_overruns",
            "Times the socket-destroy events came faster than they were read and some were lost",
            events.overruns,
        ),
    ];
    let mut counters = lost.to_vec();
    if let Some((reconciles, corrections)) = events.reconciled {
        counters.push((
            "reconciles",
            "Looks at the whole TCP table that reconciled the state counts the events keep",
            reconciles,
        ));
        counters.push((
            "reconcile_corrections",
            "TCP connections a reconciling look found otherwise than the events had kept them \
             (in another state or port, or missing on either side)",
            corrections,
        ));
    }
    for (name, help, count) in counters {
        let mut metric = e.encode_descriptor(name, help, None, MetricType::Counter)?;
        let set = Labels::<0> {
            netns: None,
            pairs: [],
        };
        counter(count, metric.encode_family(&set)?)?;
    }
    Ok(())
}
