//! ss's table.
//!
//! Rows are formatted into one reused byte buffer (each field's end recorded), so a socket costs
//! no allocation. Column widths are fitted to the content as ss fits them: each column is as wide
//! as its widest cell plus its left delimiter, addresses right-aligned and everything else
//! left-aligned. On a terminal the spare width is shared out as ss shares it: evenly over the
//! columns of each screen line, the remainder going to the last columns.
//!
//! ss holds the whole table to measure it. We hold at most [`FLUSH_ROWS`] rows: a larger table
//! is printed as it arrives, its widths fitted to the rows seen so far and growing when a later
//! row is wider, so that memory stays flat however many sockets there are.

use std::io::{self, Write};
use std::rc::Rc;

use super::endpoint::{self, Cell, Cells, Style, push_number};
use super::{Renderer, details};
use crate::names::Names;
use crate::procs::{Owners, Processes};
use crate::render::options::{DetailFlags, Output};
use crate::socket::{Endpoints, Socket};

/// The narrowest the Recv-Q and Send-Q columns get.
const QUEUE_MIN_WIDTH: usize = 6;

/// Rows held before printing begins.
pub const FLUSH_ROWS: usize = 65536;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Right,
}

struct Column {
    header: &'static str,
    align: Align,
    /// Printed before the cell, unless the column is the first one shown.
    delimiter: &'static str,
}

impl Column {
    const fn new(header: &'static str, align: Align, delimiter: &'static str) -> Column {
        Column {
            header,
            align,
            delimiter,
        }
    }
}

/// Shown with `-N all` only, first, since it groups the rows.
const NETNS: usize = 0;
const NETID: usize = 1;
const STATE: usize = 2;
const RECV_Q: usize = 3;
const SEND_Q: usize = 4;
const LOCAL_ADDRESS: usize = 5;
const LOCAL_PORT: usize = 6;
const PEER_ADDRESS: usize = 7;
const PEER_PORT: usize = 8;
/// Who holds the socket (`-p`, `-T`), under the title "Process": a column of its own in ss
/// 7.1, printed unpadded off a terminal.
const USERS: usize = 9;
/// The details, untitled.
const PROCESS: usize = 10;
const COLUMN_COUNT: usize = 11;

/// The widest screen ss takes (`COLUMNS=2147483647`); from 2^31 up its `atoi` gives no width.
const MAX_SCREEN_WIDTH: usize = i32::MAX as usize;

const COLUMNS: [Column; COLUMN_COUNT] = [
    Column::new("Netns", Align::Left, ""),
    Column::new("Netid", Align::Left, " "),
    Column::new("State", Align::Left, " "),
    Column::new("Recv-Q", Align::Left, " "),
    Column::new("Send-Q", Align::Left, " "),
    Column::new("Local Address:", Align::Right, " "),
    Column::new("Port", Align::Left, ""),
    Column::new("Peer Address:", Align::Right, " "),
    Column::new("Port", Align::Left, ""),
    Column::new("Process", Align::Left, ""),
    Column::new("", Align::Left, ""),
];

/// Widths decided for the columns: the whole width, and whether it starts with the delimiter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Layout {
    width: [usize; COLUMN_COUNT],
    delimited: [bool; COLUMN_COUNT],
    /// Printed without padding: off a terminal ss 7.1 pads neither the users nor, when no
    /// users follow, the peer's port.
    unpadded: [bool; COLUMN_COUNT],
}

/// Rows waiting to be printed: their text end to end, and where each field ends.
#[derive(Default)]
struct Rows {
    text: Vec<u8>,
    ends: Vec<usize>,
    field_start: usize,
    /// The widest cell of each column so far, header included.
    max_len: [usize; COLUMN_COUNT],
    /// The length of the latest row's Process cell, not yet in `max_len`: ss measures a cell
    /// when it starts the next one, so the last row's Process cell (the last cell of all)
    /// never widens its column.
    unmeasured: usize,
}

impl Rows {
    fn end_field(&mut self, column: usize) {
        let end = self.text.len();
        let len = end - self.field_start;
        if column == PROCESS {
            self.unmeasured = len;
        } else {
            self.measure(column, len);
        }
        self.ends.push(end);
        self.field_start = end;
    }

    fn measure(&mut self, column: usize, len: usize) {
        self.max_len[column] = self.max_len[column].max(len);
    }

    /// Measures the latest row's Process cell, once a row follows it.
    fn measure_last(&mut self) {
        let len = std::mem::take(&mut self.unmeasured);
        self.measure(PROCESS, len);
    }

    fn count(&self) -> usize {
        self.ends.len() / COLUMN_COUNT
    }

    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
        self.field_start = 0;
    }
}

impl Cells for Rows {
    fn text(&mut self) -> &mut Vec<u8> {
        &mut self.text
    }

    fn end(&mut self, cell: Cell) {
        self.end_field(match cell {
            Cell::LocalAddress => LOCAL_ADDRESS,
            Cell::LocalPort => LOCAL_PORT,
            Cell::PeerAddress => PEER_ADDRESS,
            Cell::PeerPort => PEER_PORT,
        });
    }
}

pub struct TableRenderer<W: Write> {
    out: W,
    names: Names,
    numeric: bool,
    resolve: bool,
    header: bool,
    header_printed: bool,
    shown: [bool; COLUMN_COUNT],
    screen_width: Option<usize>,
    rows: Rows,
    details: DetailFlags,
    /// Reused for formatting details, so that they allocate nothing per socket.
    scratch: String,
    /// Who holds each socket, for the Process column (`-p`, `-T`).
    processes: Option<Rc<Processes>>,
    /// The namespace of the sockets now arriving, for the Netns column (`-N all`).
    netns: Box<str>,
}

impl<W: Write> TableRenderer<W> {
    /// `screen_width` is the terminal's width when printing to one, `None` otherwise. A width
    /// past C's `int` is none: ss reads `COLUMNS` into one, and no terminal is that wide.
    pub fn new(out: W, output: &Output, screen_width: Option<usize>) -> TableRenderer<W> {
        let screen_width = screen_width.filter(|&w| w <= MAX_SCREEN_WIDTH);
        let mut shown = [true; COLUMN_COUNT];
        shown[NETNS] = false;
        shown[NETID] = output.show_netid;
        shown[STATE] = output.show_state;
        shown[RECV_Q] = !output.details.no_queues;
        shown[SEND_Q] = !output.details.no_queues;
        shown[USERS] = false;
        let mut rows = Rows::default();
        // ss pads the queue columns to six characters even without a header.
        rows.max_len[RECV_Q] = QUEUE_MIN_WIDTH;
        rows.max_len[SEND_Q] = QUEUE_MIN_WIDTH;
        if output.header {
            for (column, spec) in COLUMNS.iter().enumerate() {
                rows.max_len[column] = spec.header.len();
            }
        }
        TableRenderer {
            out,
            names: Names::new(),
            numeric: output.numeric,
            resolve: output.resolve,
            header: output.header,
            header_printed: false,
            shown,
            screen_width,
            rows,
            details: output.details,
            scratch: String::new(),
            processes: None,
            netns: Box::default(),
        }
    }

    /// Fills the Process column from `processes`, read by the caller before the listing.
    pub fn with_processes(mut self, processes: Option<Rc<Processes>>) -> TableRenderer<W> {
        self.shown[USERS] = processes.is_some();
        self.processes = processes;
        self
    }

    fn push_row(&mut self, socket: &Socket<'_>) {
        let rows = &mut self.rows;
        rows.measure_last();
        rows.text.extend_from_slice(self.netns.as_bytes());
        rows.end_field(NETNS);
        rows.text.extend_from_slice(socket.netid.name().as_bytes());
        rows.end_field(NETID);
        rows.text.extend_from_slice(socket.state.name().as_bytes());
        rows.end_field(STATE);
        // ss prints the queues as signed numbers: a destroyed UDP socket's Send-Q is -1.
        push_number(&mut rows.text, socket.recv_q as i32);
        rows.end_field(RECV_Q);
        push_number(&mut rows.text, socket.send_q as i32);
        rows.end_field(SEND_Q);
        let style = Style {
            numeric: self.numeric,
            resolve: self.resolve,
        };
        endpoint::write(&mut self.rows, socket, &mut self.names, style);
        // ss names a netlink socket's process in its address instead.
        let netlink = matches!(socket.endpoints, Endpoints::Netlink(_));
        if let Some(processes) = self.processes.as_ref().filter(|_| !netlink) {
            push_users(&mut self.rows.text, processes.owners(socket.inode));
        }
        self.rows.end_field(USERS);
        details::write(
            &mut self.rows.text,
            &mut self.scratch,
            socket,
            &self.details,
            self.numeric,
            &mut self.names,
        );
        self.rows.end_field(PROCESS);
    }

    /// Prints the rows held so far with widths fitted to everything seen.
    fn print_rows(&mut self) -> io::Result<()> {
        let layout = layout(&self.rows.max_len, &self.shown, self.screen_width);
        if self.header && !self.header_printed {
            self.header_printed = true;
            let cells = COLUMNS.map(|c| c.header.as_bytes());
            print_line(&mut self.out, &layout, &self.shown, |column| cells[column])?;
        }
        let rows = &self.rows;
        for row in 0..rows.count() {
            let ends = &rows.ends[row * COLUMN_COUNT..(row + 1) * COLUMN_COUNT];
            let start = if row == 0 {
                0
            } else {
                rows.ends[row * COLUMN_COUNT - 1]
            };
            print_line(&mut self.out, &layout, &self.shown, |column| {
                let from = if column == 0 { start } else { ends[column - 1] };
                &rows.text[from..ends[column]]
            })?;
        }
        self.rows.clear();
        Ok(())
    }

    /// Prints the rows held so far (the header first, the first time) with widths fitted to
    /// everything seen, and flushes: a stream of sockets (`-E`) shows each row as it comes, its
    /// columns growing when a row is wider, as ss's do.
    pub fn print_held(&mut self) -> io::Result<()> {
        self.print_rows()?;
        // ss prints each streamed row on its own, so no later row makes it measure this row's
        // Process cell.
        self.rows.unmeasured = 0;
        self.out.flush()
    }
}

impl<W: Write> Renderer for TableRenderer<W> {
    fn socket(&mut self, socket: &Socket<'_>) -> io::Result<()> {
        self.push_row(socket);
        if self.rows.count() >= FLUSH_ROWS {
            // More rows follow, so ss would have measured this one.
            self.rows.measure_last();
            self.print_rows()?;
        }
        Ok(())
    }

    fn show_held(&mut self) -> io::Result<()> {
        self.print_held()
    }

    /// What is held goes out; with nothing held, not even the header: ss prints `-E`'s header
    /// with the first event, laid out with that event's row.
    fn flush(&mut self) -> io::Result<()> {
        if self.rows.count() == 0 {
            return self.out.flush();
        }
        self.print_held()
    }

    fn finish(&mut self) -> io::Result<()> {
        self.print_rows()?;
        self.out.flush()
    }

    fn namespace(&mut self, name: &str) {
        self.shown[NETNS] = true;
        self.netns = name.into();
        self.names.new_namespace();
    }
}

/// The Process cell as ss prints it, ` users:(("comm",pid=P,fd=F),...)` with `tid=T` before
/// `fd` for threads, or nothing when no process holds the socket. ss reads the name from
/// /proc/PID/stat only up to its first `)`, so a name holding one is cut there; as in ss 7.1,
/// its control characters show as `.` and bytes past ASCII as `?`.
fn push_users(text: &mut Vec<u8>, owners: Owners<'_>) {
    let mut owners = owners.peekable();
    if owners.peek().is_none() {
        return;
    }
    text.extend_from_slice(b" users:(");
    for (i, owner) in owners.enumerate() {
        if i > 0 {
            text.push(b',');
        }
        text.extend_from_slice(b"(\"");
        let shown = owner.comm.split(|&b| b == b')').next().unwrap_or_default();
        text.extend(shown.iter().map(|&b| printable(b)));
        text.extend_from_slice(b"\",pid=");
        push_number(text, owner.pid);
        if let Some(tid) = owner.tid {
            text.extend_from_slice(b",tid=");
            push_number(text, tid);
        }
        text.extend_from_slice(b",fd=");
        push_number(text, owner.fd);
        text.push(b')');
    }
    text.push(b')');
}

/// A byte of a process name as ss 7.1 shows it: a control character as `.`, a byte past
/// ASCII (a piece of UTF-8, or not) as `?`, so that no name can break a line or the terminal.
fn printable(byte: u8) -> u8 {
    match byte {
        0..0x20 | 0x7f => b'.',
        0x80.. => b'?',
        _ => byte,
    }
}

/// Prints one line: each shown column's cell, after its delimiter, padded to its width.
fn print_line<'a>(
    out: &mut impl Write,
    layout: &Layout,
    shown: &[bool; COLUMN_COUNT],
    cell: impl Fn(usize) -> &'a [u8],
) -> io::Result<()> {
    const SPACES: [u8; 64] = [b' '; 64];
    let pad = |out: &mut dyn Write, mut n: usize| -> io::Result<()> {
        while n > 0 {
            let chunk = n.min(SPACES.len());
            out.write_all(&SPACES[..chunk])?;
            n -= chunk;
        }
        Ok(())
    };
    for (column, spec) in COLUMNS.iter().enumerate() {
        if !shown[column] {
            continue;
        }
        let content = cell(column);
        let mut width = layout.width[column];
        if layout.delimited[column] {
            out.write_all(spec.delimiter.as_bytes())?;
            width -= spec.delimiter.len();
        }
        let fill = if layout.unpadded[column] {
            0
        } else {
            width.saturating_sub(content.len())
        };
        match spec.align {
            Align::Left => {
                out.write_all(content)?;
                pad(out, fill)?;
            }
            Align::Right => {
                pad(out, fill)?;
                out.write_all(content)?;
            }
        }
    }
    out.write_all(b"\n")
}

/// Fits the columns to their widest cells, then, on a terminal, shares out the spare width.
fn layout(
    max_len: &[usize; COLUMN_COUNT],
    shown: &[bool; COLUMN_COUNT],
    screen_width: Option<usize>,
) -> Layout {
    let mut layout = Layout::default();
    let mut first = true;
    for (column, spec) in COLUMNS.iter().enumerate() {
        if !shown[column] {
            continue;
        }
        let len = max_len[column];
        layout.delimited[column] = !first && len > 0;
        layout.width[column] = len
            + if layout.delimited[column] {
                spec.delimiter.len()
            } else {
                0
            };
        // On a terminal, as in ss, no column is wider than the screen: a longer cell (a long
        // Process list) starts a screen line of its own and wraps.
        if let Some(screen) = screen_width.filter(|&w| w > 0) {
            layout.width[column] = layout.width[column].min(screen);
            // ...except the queues, which ss never prints narrower than six characters.
            if column == RECV_Q || column == SEND_Q {
                let delimiter = if layout.delimited[column] {
                    spec.delimiter.len()
                } else {
                    0
                };
                layout.width[column] = layout.width[column].max(QUEUE_MIN_WIDTH + delimiter);
            }
        }
        if len > 0 {
            first = false;
        }
    }
    if let Some(screen) = screen_width.filter(|&w| w > 0) {
        spread(&mut layout.width, shown, screen);
    } else {
        layout.unpadded[USERS] = true;
        layout.unpadded[PEER_PORT] = !shown[USERS];
    }
    layout
}

/// Shares the screen's spare width out as ss does. The columns are cut into screen lines (a
/// column that would overflow the line starts the next one, which the terminal wraps to); each
/// line's spare width is spread evenly over its columns, the remainder one each to its last
/// columns. Empty columns (the details, when there are none) take no share.
fn spread(width: &mut [usize; COLUMN_COUNT], shown: &[bool; COLUMN_COUNT], screen: usize) {
    let mut line: Vec<usize> = Vec::with_capacity(COLUMN_COUNT);
    let mut used = 0;
    let share = |width: &mut [usize; COLUMN_COUNT], line: &[usize], used: usize| {
        if line.is_empty() || used > screen {
            return;
        }
        let spare = screen - used;
        let (each, remainder) = (spare / line.len(), spare % line.len());
        for (i, &column) in line.iter().enumerate() {
            width[column] += each + usize::from(i >= line.len() - remainder);
        }
    };
    let columns: Vec<usize> = (0..COLUMN_COUNT)
        .filter(|&c| shown[c] && width[c] > 0)
        .collect();
    for column in columns {
        if !line.is_empty() && used + width[column] > screen {
            share(width, &line, used);
            line.clear();
            used = 0;
        }
        line.push(column);
        used += width[column];
    }
    share(width, &line, used);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ss -tln` on the reference table (no Netns, no Netid): State 6, Recv-Q 6, Send-Q 6,
    /// address 14, port 5, peer 13, port 4, Process 7 (the widest cells, headers included;
    /// the users are inside the Process column, as on a terminal).
    const TLN: [usize; COLUMN_COUNT] = [5, 5, 6, 6, 6, 14, 5, 13, 4, 0, 7];
    const NO_NETID: [bool; COLUMN_COUNT] = [
        false, false, true, true, true, true, true, true, true, false, true,
    ];

    fn starts(layout: &Layout) -> Vec<usize> {
        let mut at = 0;
        let mut starts = Vec::new();
        for column in (STATE..COLUMN_COUNT).filter(|&c| c != USERS) {
            starts.push(at);
            at += layout.width[column];
        }
        starts.push(at);
        starts
    }

    #[test]
    fn widths_fit_the_content_off_a_terminal() {
        let l = layout(&TLN, &NO_NETID, None);
        assert_eq!(&l.width[STATE..], &[6, 7, 7, 15, 5, 14, 4, 0, 7]);
        assert!(l.unpadded[PEER_PORT] && l.unpadded[USERS]);
        assert!(!l.delimited[STATE] && l.delimited[RECV_Q]);
    }

    /// On a terminal a column is never wider than the screen: a long Process cell wraps.
    #[test]
    fn no_column_is_wider_than_the_screen() {
        let mut max_len = TLN;
        max_len[PROCESS] = 200;
        assert_eq!(layout(&max_len, &NO_NETID, Some(80)).width[PROCESS], 80);
        assert_eq!(layout(&max_len, &NO_NETID, None).width[PROCESS], 200);
    }

    /// Column starts measured on ss 6.1 in terminals of several widths, for the table above.
    #[test]
    fn spare_width_is_shared_as_ss_shares_it() {
        let cases: [(usize, [usize; 9]); 4] = [
            (66, [0, 6, 13, 20, 35, 40, 54, 58, 66]),
            (80, [0, 7, 16, 25, 42, 49, 65, 71, 80]),
            (87, [0, 8, 17, 27, 45, 53, 70, 77, 87]),
            (60, [0, 6, 13, 20, 35, 40, 55, 60, 120]),
        ];
        for (screen, expected) in cases {
            let l = layout(&TLN, &NO_NETID, Some(screen));
            assert_eq!(starts(&l), expected, "screen width {screen}");
        }
    }
}
