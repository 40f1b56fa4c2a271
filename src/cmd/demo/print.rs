//! How the demo shows a stage: its text wrapped to the terminal, the command that shows the
//! same table with ss, the table itself, the packets that fit, or all of it as JSON.

use std::io::{self, Write};

use super::*;

impl<W: Write> Walk<'_, W> {
    /// Writes `text` wrapped to the width, then an empty line.
    pub(super) fn prose(&mut self, text: &str) -> io::Result<()> {
        for line in self.wrapped(text) {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// `text` wrapped to the width, then an empty line.
    pub(super) fn wrapped(&self, text: &str) -> Vec<String> {
        let mut lines = layout::wrap(text, self.width);
        lines.push(String::new());
        lines
    }

    /// Writes a shell command, wrapped between its words.
    pub(super) fn command_lines<'w>(
        &mut self,
        words: impl IntoIterator<Item = &'w str>,
    ) -> io::Result<()> {
        for line in self.shell_lines(words) {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// A shell command, wrapped between its words.
    pub(super) fn shell_lines<'w>(&self, words: impl IntoIterator<Item = &'w str>) -> Vec<String> {
        layout::wrap_words(words, "$ ", "    ", " \\", self.width)
    }

    /// The command that lists the stage's sockets with the reader's ss, and a note when the
    /// reader's ss cannot: then the command is sockscope's.
    pub(super) fn command(&self, stage: &Stage) -> (Vec<String>, Option<String>) {
        let mut words: Vec<String> = vec!["ss".into()];
        let mut note = None;
        let flags = if self.options.udp { "-uan" } else { "-tan" };
        words.push(if stage.memory {
            format!("{flags}m")
        } else {
            flags.to_owned()
        });
        if self.ss == SsVersion::Missing {
            words[0] = "sockscope".into();
        }
        if stage.bound_inactive && !self.ss.lists_bound_inactive() {
            words[0] = "sockscope".into();
            words.extend(["state", "all", "state", "bound-inactive"].map(String::from));
            if let SsVersion::Iproute2(major, minor) = self.ss {
                let version = if major == 0 {
                    "an older iproute2".to_owned()
                } else {
                    format!("iproute2 {major}.{minor}")
                };
                note = Some(format!(
                    "The part \"state bound-inactive\" is sockscope's: the ss installed here \
                     ({version}) does not know that state and lists no such socket. ss lists \
                     them, with -a, from iproute2 6.8."
                ));
            }
        }
        if !self.place.is_private() {
            let port = format!(":{}", self.port);
            words.extend(["sport", "=", &port, "or", "dport", "=", &port].map(String::from));
        }
        (words, note)
    }

    /// Writes the stage: its title, calls and explanation, the packets, and the table under
    /// the command that prints it; the packets cut short so that the stage fits
    /// [`SCREEN_LINES`].
    pub(super) fn print_text(
        &mut self,
        stage: &Stage,
        sockets: &[OwnedSocket],
        command: &[String],
        note: Option<&str>,
        packets: Option<&[Packet]>,
    ) -> anyhow::Result<()> {
        let title = format!("Stage {} of {}: {}", self.stage, self.stages, stage.title);
        let mut top = self.wrapped(&title);
        top.extend(stage.calls.iter().map(|call| format!("    {call}")));
        top.push(String::new());
        // The counters, if any, end the explanation's paragraph.
        let counters = stage.counters.map(|(before, after)| {
            format!(
                " In /proc/net/netstat (TcpExt) of the namespace: ListenOverflows {} (was {}), \
                 ListenDrops {} (was {}).",
                after.overflows, before.overflows, after.drops, before.drops
            )
        });
        top.extend(self.wrapped(&(stage.explanation.clone() + &counters.unwrap_or_default())));
        let mut bottom = note.map_or_else(Vec::new, |note| self.wrapped(note));
        bottom.extend(self.shell_lines(command.iter().map(String::as_str)));
        bottom.extend(self.table_lines(stage, sockets)?);
        bottom.push(String::new());
        let meanwhile = std::mem::take(&mut self.meanwhile);
        let dropped = self
            .capture
            .as_mut()
            .map_or(0, |c| std::mem::take(&mut c.dropped));
        let blocks: Vec<(&str, &[Packet])> = [
            (!meanwhile.is_empty()).then_some(("While the demo waited:", &meanwhile[..])),
            packets.map(|p| ("Packets on lo:", p)),
        ]
        .into_iter()
        .flatten()
        .collect();
        // Each block has a heading and an empty line; the prompt takes a line.
        let fixed = top.len() + bottom.len() + 2 * blocks.len() + usize::from(dropped > 0) + 1;
        let mut room = SCREEN_LINES.saturating_sub(fixed);
        let mut middle = Vec::new();
        for (n, (heading, packets)) in blocks.iter().enumerate() {
            // What waited between stages takes at most half the room.
            let share = if n + 1 < blocks.len() { room / 2 } else { room };
            let lines = self.packet_lines(heading, packets, share);
            room = room.saturating_sub(lines.len() - 1);
            middle.extend(lines);
            if n + 1 == blocks.len() && dropped > 0 {
                middle.push(format!("  ({dropped} packets were lost by the capture)"));
            }
            middle.push(String::new());
        }
        for line in top.iter().chain(&middle).chain(&bottom) {
            writeln!(self.out, "{line}")?;
        }
        Ok(())
    }

    /// The table of the stage's sockets, each row with its label.
    pub(super) fn table_lines(
        &self,
        stage: &Stage,
        sockets: &[OwnedSocket],
    ) -> anyhow::Result<Vec<String>> {
        let output = Output {
            format: Format::Table,
            numeric: true,
            resolve: false,
            header: true,
            show_netid: false,
            show_state: true,
            details: details(stage.memory),
        };
        // Fitted to the content whatever the terminal's width, as ss fits a table it does not
        // print to a terminal.
        let mut rendered = Vec::new();
        let mut table = TableRenderer::new(&mut rendered, &output, None);
        for socket in sockets {
            table.socket(&socket.as_socket())?;
        }
        table.finish()?;
        drop(table);
        let labels: Vec<String> = sockets
            .iter()
            .map(|s| self.label_of(&s.as_socket()))
            .collect();
        let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
        let rendered = String::from_utf8_lossy(&rendered);
        Ok(layout::label_rows(&rendered, &labels))
    }

    /// The heading, then the packets in at most `room` lines: when they need more, the first
    /// ones and the last one, with a line saying how many are left out between.
    pub(super) fn packet_lines(
        &self,
        heading: &str,
        packets: &[Packet],
        room: usize,
    ) -> Vec<String> {
        let mut lines = vec![heading.to_owned()];
        if packets.is_empty() {
            lines[0].push_str(" none.");
            return lines;
        }
        let each: Vec<Vec<String>> = packets
            .iter()
            .map(|packet| {
                let words = packet_words(packet);
                layout::wrap_words(
                    words.iter().map(String::as_str),
                    "  ",
                    "        ",
                    "",
                    self.width,
                )
            })
            .collect();
        if each.len() <= 2 || each.iter().map(Vec::len).sum::<usize>() <= room {
            lines.extend(each.into_iter().flatten());
            return lines;
        }
        let last = each.last().expect("some packets");
        let mut shown = 0;
        let mut used = last.len() + 1;
        while shown + 1 < each.len() && used + each[shown].len() <= room.max(3) {
            used += each[shown].len();
            shown += 1;
        }
        lines.extend(each[..shown].iter().flatten().cloned());
        lines.push(format!(
            "  ... {} more packets (all of them with --json)",
            each.len() - shown - 1
        ));
        lines.extend(last.iter().cloned());
        lines
    }

    pub(super) fn print_json(
        &mut self,
        stage: &Stage,
        sockets: &[OwnedSocket],
        command: &[String],
        note: Option<&str>,
        packets: Option<&[Packet]>,
    ) -> io::Result<()> {
        let views: Vec<_> = sockets.iter().map(OwnedSocket::as_socket).collect();
        let labels: Vec<String> = views.iter().map(|s| self.label_of(s)).collect();
        let mut records = Vec::new();
        for (socket, label) in views.iter().zip(&labels) {
            let record = Record::new(socket, &mut self.names, details(stage.memory));
            records.push(Labelled { label, record });
        }
        let meanwhile = std::mem::take(&mut self.meanwhile);
        let record = StageRecord {
            stage: self.stage,
            title: stage.title,
            call: stage.calls.join("\n"),
            explanation: &stage.explanation,
            command: command.join(" "),
            command_note: note,
            sockets: records,
            packets: packets.map(|p| p.iter().map(PacketRecord::new).collect()),
            packets_while_paused: meanwhile.iter().map(PacketRecord::new).collect(),
            counters: stage
                .counters
                .map(|(before, after)| CounterRecord { before, after }),
        };
        serde_json::to_writer(&mut self.out, &record)?;
        writeln!(self.out)?;
        self.out.flush()
    }
}
