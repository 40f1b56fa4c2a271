//! Which processes hold each socket: the map behind `-p` and `-T`.
//!
//! The kernel's socket tables say nothing about processes. The only link is a file descriptor:
//! `/proc/PID/fd/N` is a symbolic link to `socket:[INODE]`. ss finds a socket's owners by
//! walking, for every socket it prints, a list of every socket descriptor on the system, which
//! is quadratic (minutes for half a million sockets). Here one linear pass over
//! `/proc/[0-9]*/fd/*` builds a hash map from inode to descriptors before the listing starts,
//! so that looking up a socket costs only the number of its owners.
//!
//! What ss shows is reproduced exactly:
//! - With `-T` each thread is an owner of its own: the process's descriptors (listed with the
//!   main thread's id), then those of every other thread in `/proc/PID/task`, read through
//!   `/proc/TID/fd` as ss reads them.
//! - The name is the one in `/proc/PID/stat` (`/proc/TID/stat` for a thread), the same as
//!   `comm`. We keep it whole; ss shows it only up to its first `)`, which the table does too.
//! - A socket's owners come out in the reverse of the order the scan met them: the kernel lists
//!   `/proc`, `task` and `fd` directories in ascending order, so the last process comes first,
//!   and within a process the last thread and the highest descriptor.
//! - `PROC_ROOT` replaces `/proc`, as for ss.
//!
//! Processes come and go during the scan; one that vanishes is skipped. A directory we may not
//! read (another user's process, without root) is skipped too, and the result is marked
//! [`partial`](Processes::partial) so that the caller can say so once, when a socket it
//! showed had no owner ([`owners_may_be_missing`](Processes::owners_may_be_missing)).

use std::cell::Cell;
use std::collections::HashMap;
use std::ffi::CString;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::sys::procfs::{Dir, decimal, read_file, read_link, relative};

/// Whose descriptors count as owners: each process's (`-p`) or each thread's (`-T`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Processes,
    Threads,
}

/// One holder of a socket: a descriptor of a process (or, with [`Scope::Threads`], of one of
/// its threads).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Owner<'p> {
    /// The process's (or thread's) name as the kernel gives it in its stat file: any bytes
    /// but NUL, 15 at most except for some kernel threads.
    pub comm: &'p [u8],
    pub pid: u32,
    /// The thread, with [`Scope::Threads`] only.
    pub tid: Option<u32>,
    pub fd: u32,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot read the process list in {}", path.display())]
pub struct ScanError {
    path: PathBuf,
    #[source]
    source: io::Error,
}

/// A process (or thread) that holds at least one socket.
#[derive(Debug)]
struct Task {
    pid: u32,
    /// 0 without threads: no thread has id 0.
    tid: u32,
    /// Where its name lies in [`Processes::comms`].
    comm_start: u32,
    comm_len: u32,
}

/// One socket descriptor.
#[derive(Debug)]
struct SocketFd {
    task: u32,
    fd: u32,
    /// The descriptor met before this one for the same inode, or [`NONE`].
    next: u32,
}

const NONE: u32 = u32::MAX;

/// Every socket descriptor on the system (that we may see), by inode.
///
/// The descriptors of one inode form a chain through [`SocketFd::next`], latest first, so the
/// map holds one index per socket and nothing is allocated per socket but its entries.
#[derive(Debug, Default)]
pub struct Processes {
    tasks: Vec<Task>,
    /// The names of `tasks`, end to end.
    comms: Vec<u8>,
    fds: Vec<SocketFd>,
    /// Per inode, the index in `fds` of the last descriptor met.
    last: HashMap<u64, u32, BuildHasherDefault<InodeHasher>>,
    partial: bool,
    /// Whether [`owners`](Processes::owners) was asked for a socket no descriptor was found for.
    ownerless_asked: Cell<bool>,
}

impl Processes {
    /// Reads `$PROC_ROOT` (by default `/proc`) once and maps every socket to its owners.
    pub fn scan(scope: Scope) -> Result<Processes, ScanError> {
        let root = std::env::var_os("PROC_ROOT").unwrap_or_else(|| "/proc".into());
        Processes::scan_at(Path::new(&root), scope)
    }

    /// Like [`Processes::scan`], with `root` in place of `/proc`.
    pub fn scan_at(root: &Path, scope: Scope) -> Result<Processes, ScanError> {
        let error = |source| ScanError {
            path: root.to_owned(),
            source,
        };
        let root_name = CString::new(root.as_os_str().as_bytes())
            .map_err(|e| error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        let mut dir = Dir::open(libc::AT_FDCWD, &root_name).map_err(error)?;
        let mut scan = Scan {
            root: dir.fd(),
            path: Vec::with_capacity(32),
            found: Processes::default(),
        };
        while let Some(name) = dir.next_name() {
            let Some(pid) = decimal(name.to_bytes()) else {
                continue;
            };
            match scope {
                Scope::Processes => scan.task(pid, None),
                Scope::Threads => {
                    scan.task(pid, Some(pid));
                    scan.threads(pid);
                }
            }
        }
        Ok(scan.found)
    }

    /// The holders of the socket `inode`, in the order ss prints them.
    pub fn owners(&self, inode: u64) -> Owners<'_> {
        let next = self.last.get(&inode).copied().unwrap_or(NONE);
        if next == NONE && inode != 0 {
            self.ownerless_asked.set(true);
        }
        Owners {
            processes: self,
            next,
        }
    }

    /// Whether some processes could not be read (without root: other users' processes), so
    /// that their sockets show no owner.
    pub fn partial(&self) -> bool {
        self.partial
    }

    /// Whether a socket shown so far may have had owners we could not see: some processes
    /// could not be read, and some socket looked up had none. A listing whose sockets all
    /// showed their owners needs no warning, however many processes were unreadable.
    pub fn owners_may_be_missing(&self) -> bool {
        self.partial && self.ownerless_asked.get()
    }

    /// How many socket descriptors the scan found.
    pub fn len(&self) -> usize {
        self.fds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fds.is_empty()
    }
}

/// The holders of one socket: see [`Processes::owners`].
pub struct Owners<'p> {
    processes: &'p Processes,
    next: u32,
}

impl<'p> Iterator for Owners<'p> {
    type Item = Owner<'p>;

    fn next(&mut self) -> Option<Owner<'p>> {
        let fd = self.processes.fds.get(self.next as usize)?;
        self.next = fd.next;
        let task = &self.processes.tasks[fd.task as usize];
        let start = task.comm_start as usize;
        Some(Owner {
            comm: &self.processes.comms[start..start + task.comm_len as usize],
            pid: task.pid,
            tid: (task.tid != 0).then_some(task.tid),
            fd: fd.fd,
        })
    }
}

/// The state of one pass over the process directory.
struct Scan {
    /// The process directory (`/proc`).
    root: RawFd,
    /// Reused for the relative paths below `root`.
    path: Vec<u8>,
    found: Processes,
}

impl Scan {
    /// Records the socket descriptors of process `pid`, or with `tid` of that thread: the
    /// entries of `ID/fd`, named `ID/stat`, where ID is the thread if given.
    fn task(&mut self, pid: u32, tid: Option<u32>) {
        let id = tid.unwrap_or(pid);
        let mut dir = match Dir::open(self.root, relative(&mut self.path, id, b"fd")) {
            Ok(dir) => dir,
            Err(e) => return self.note(&e),
        };
        let at = dir.fd();
        let mut task = None;
        let (mut read, mut refused) = (false, None);
        while let Some(name) = dir.next_name() {
            let Some(fd) = decimal(name.to_bytes()) else {
                continue;
            };
            let mut link = [0u8; 64];
            let inode = match read_link(at, name, &mut link) {
                Ok(target) => {
                    read = true;
                    match socket_inode(target) {
                        Some(inode) => inode,
                        None => continue,
                    }
                }
                Err(e) => {
                    refused = Some(e);
                    continue;
                }
            };
            // The name is read only for processes that hold a socket, as ss reads it.
            let task = match task {
                Some(task) => task,
                None => match self.add_task(pid, tid) {
                    Ok(index) => *task.insert(index),
                    Err(e) => return self.note(&e),
                },
            };
            let found = &mut self.found;
            let index = index_u32(found.fds.len());
            let next = found.last.insert(inode, index).unwrap_or(NONE);
            found.fds.push(SocketFd { task, fd, next });
        }
        // The kernel may refuse every link of a process whose directory we could open (one
        // with privileges we lack): that process is unreadable. One refused link among others
        // (a security module's rule on one file) is skipped like a descriptor just closed.
        if let (false, Some(e)) = (read, refused) {
            self.note(&e);
        }
    }

    /// The threads of `pid` other than its main thread, in `PID/task`.
    fn threads(&mut self, pid: u32) {
        let mut dir = match Dir::open(self.root, relative(&mut self.path, pid, b"task")) {
            Ok(dir) => dir,
            Err(e) => return self.note(&e),
        };
        while let Some(name) = dir.next_name() {
            match decimal(name.to_bytes()) {
                Some(tid) if tid != pid => self.task(pid, Some(tid)),
                _ => {}
            }
        }
    }

    /// Reads the name of `pid` (or `tid`) and adds it to the tasks.
    fn add_task(&mut self, pid: u32, tid: Option<u32>) -> io::Result<u32> {
        let mut stat = [0u8; 1024];
        let path = relative(&mut self.path, tid.unwrap_or(pid), b"stat");
        let stat = read_file(self.root, path, &mut stat)?;
        let comm = comm_in_stat(stat);
        let found = &mut self.found;
        found.tasks.push(Task {
            pid,
            tid: tid.unwrap_or(0),
            comm_start: index_u32(found.comms.len()),
            comm_len: index_u32(comm.len()),
        });
        found.comms.extend_from_slice(comm);
        Ok(index_u32(found.tasks.len() - 1))
    }

    /// A process that ended while we read it is simply gone; one we may not read makes the
    /// result partial.
    fn note(&mut self, error: &io::Error) {
        if matches!(error.raw_os_error(), Some(libc::EACCES | libc::EPERM)) {
            self.found.partial = true;
        }
    }
}

/// The inode of a descriptor's link target `socket:[INODE]`; `None` for anything else (files,
/// pipes, `anon_inode:...`).
fn socket_inode(target: &[u8]) -> Option<u64> {
    let digits = target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// The command name of process `pid` as `/proc/PID/stat` gives it (under `$PROC_ROOT`), or
/// `None` when there is no such process.
pub fn command_name(pid: u32) -> Option<Box<[u8]>> {
    let root = std::env::var_os("PROC_ROOT").unwrap_or_else(|| "/proc".into());
    let stat = std::fs::read(Path::new(&root).join(pid.to_string()).join("stat")).ok()?;
    Some(comm_in_stat(&stat).into())
}

/// The name in a `/proc/PID/stat` line, `PID (NAME) STATE ...`: from the first `(` to the last
/// `)`, since the name itself may hold parentheses and nothing after it does.
fn comm_in_stat(stat: &[u8]) -> &[u8] {
    let Some(open) = stat.iter().position(|&b| b == b'(') else {
        return &[];
    };
    let rest = &stat[open + 1..];
    match rest.iter().rposition(|&b| b == b')') {
        Some(close) => &rest[..close],
        None => &[],
    }
}

fn index_u32(n: usize) -> u32 {
    u32::try_from(n).expect("fewer than 2^32 socket descriptors")
}

/// Inodes are already well spread numbers; a multiply folds them into a hash far cheaper than
/// the default SipHash.
#[derive(Default)]
struct InodeHasher(u64);

impl Hasher for InodeHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Only for keys other than u64, which this map does not have.
        for &b in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        let product = u128::from(n) * 0x9e37_79b9_7f4a_7c15;
        self.0 = (product as u64) ^ ((product >> 64) as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::symlink;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn only_socket_links_have_an_inode() {
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(
            socket_inode(b"socket:[18446744073709551615]"),
            Some(u64::MAX)
        );
        for target in [
            &b"pipe:[12345]"[..],
            b"/dev/null",
            b"anon_inode:[eventfd]",
            b"socket:[]",
            b"socket:[12a]",
            b"socket:[ 1]",
            b"socket:[1]x",
            b"socket:[1",
            b"socket:[18446744073709551616]",
            b"/tmp/socket:[1]",
        ] {
            assert_eq!(
                socket_inode(target),
                None,
                "{}",
                String::from_utf8_lossy(target)
            );
        }
    }

    #[test]
    fn the_name_is_what_stat_brackets() {
        assert_eq!(comm_in_stat(b"1 (systemd) S 0 1 1 0 -1\n"), b"systemd");
        // The kernel does not escape the name: it may hold parentheses, spaces, newlines.
        assert_eq!(comm_in_stat(b"7 (a) b (c)) R 1 7\n"), b"a) b (c)");
        assert_eq!(comm_in_stat(b"7 (nl\nx) S 1\n"), b"nl\nx");
        assert_eq!(comm_in_stat(b"7 () S 1\n"), b"");
        assert_eq!(comm_in_stat(b"7 S 1\n"), b"");
        assert_eq!(comm_in_stat(b"7 (cut"), b"");
        assert_eq!(comm_in_stat(b""), b"");
    }

    /// A directory laid out like /proc, removed when dropped.
    struct FakeProc {
        root: PathBuf,
    }

    impl FakeProc {
        fn new() -> FakeProc {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let root = std::env::temp_dir().join(format!(
                "sockscope-procs-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&root).unwrap();
            FakeProc { root }
        }

        /// `ID/stat` naming `comm` (none: no stat file) and `ID/fd/N -> TARGET`.
        fn task(&self, id: &str, comm: Option<&[u8]>, fds: &[(&str, &str)]) -> &FakeProc {
            let dir = self.root.join(id);
            std::fs::create_dir_all(dir.join("fd")).unwrap();
            if let Some(comm) = comm {
                let mut stat = format!("{id} (").into_bytes();
                stat.extend_from_slice(comm);
                stat.extend_from_slice(b") S 1 1 1 0 -1\n");
                std::fs::write(dir.join("stat"), stat).unwrap();
            }
            for (fd, target) in fds {
                symlink(target, dir.join("fd").join(fd)).unwrap();
            }
            self
        }

        /// Lists `tids` in `PID/task`.
        fn threads(&self, pid: &str, tids: &[&str]) -> &FakeProc {
            for tid in tids {
                std::fs::create_dir_all(self.root.join(pid).join("task").join(tid)).unwrap();
            }
            self
        }

        fn scan(&self, scope: Scope) -> Processes {
            Processes::scan_at(&self.root, scope).unwrap()
        }
    }

    impl Drop for FakeProc {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    type Row = (String, u32, Option<u32>, u32);

    fn owners(processes: &Processes, inode: u64) -> Vec<Row> {
        processes
            .owners(inode)
            .map(|o| {
                let comm = String::from_utf8_lossy(o.comm).into_owned();
                (comm, o.pid, o.tid, o.fd)
            })
            .collect()
    }

    fn sorted(mut rows: Vec<Row>) -> Vec<Row> {
        rows.sort();
        rows
    }

    fn row(comm: &str, pid: u32, tid: Option<u32>, fd: u32) -> Row {
        (comm.to_owned(), pid, tid, fd)
    }

    #[test]
    fn a_scan_keeps_socket_descriptors_only() {
        let fake = FakeProc::new();
        fake.task(
            "10",
            Some(b"init"),
            &[
                ("0", "/dev/null"),
                ("3", "socket:[100]"),
                ("4", "pipe:[100]"),
                ("5", "socket:[100]"),
                ("6", "socket:[200]"),
                ("notfd", "socket:[100]"),
            ],
        )
        .task("20", Some(b"a) b"), &[("3", "socket:[100]")])
        .task("30", Some(b"idle"), &[("1", "/dev/null")])
        // Gone before its name could be read: skipped.
        .task("40", None, &[("3", "socket:[100]")])
        .task("self", Some(b"no"), &[("9", "socket:[100]")])
        .task("050", Some(b"no"), &[("9", "socket:[100]")]);
        let found = fake.scan(Scope::Processes);
        assert!(!found.partial());
        assert_eq!(found.len(), 4);
        assert_eq!(
            sorted(owners(&found, 100)),
            [
                row("a) b", 20, None, 3),
                row("init", 10, None, 3),
                row("init", 10, None, 5),
            ]
        );
        assert_eq!(owners(&found, 200), [row("init", 10, None, 6)]);
        assert_eq!(owners(&found, 300), []);
    }

    /// The order ss prints: the reverse of the order the directories were read in, whatever
    /// that is on the file system holding them.
    #[test]
    fn owners_come_in_reverse_scan_order() {
        let fake = FakeProc::new();
        let pids = ["3", "12", "7", "100", "45"];
        for pid in pids {
            fake.task(
                pid,
                Some(pid.as_bytes()),
                &[
                    ("4", "socket:[9]"),
                    ("10", "socket:[9]"),
                    ("2", "socket:[9]"),
                ],
            );
        }
        let listed = |dir: &Path| -> Vec<u32> {
            std::fs::read_dir(dir)
                .unwrap()
                .filter_map(|e| decimal(e.unwrap().file_name().as_bytes()))
                .collect()
        };
        let mut expected = Vec::new();
        for pid in listed(&fake.root) {
            for fd in listed(&fake.root.join(pid.to_string()).join("fd")) {
                expected.push(row(&pid.to_string(), pid, None, fd));
            }
        }
        expected.reverse();
        assert_eq!(owners(&fake.scan(Scope::Processes), 9), expected);
    }

    /// With threads, the process's own descriptors come first in the scan (so last in the
    /// list), as its main thread; each other thread's are read from the top-level `TID`
    /// directory and named by its own stat.
    #[test]
    fn threads_are_owners_of_their_own() {
        let fake = FakeProc::new();
        fake.task("50", Some(b"main"), &[("3", "socket:[500]")])
            .threads("50", &["50", "51", "52"])
            .task("51", Some(b"worker"), &[("3", "socket:[500]")]);
        // 52 has ended: no 52/fd.
        let found = fake.scan(Scope::Threads);
        // 51 is also listed at the top level here, so it counts as a process of its own too,
        // as it would for ss.
        assert_eq!(
            sorted(owners(&found, 500)),
            [
                row("main", 50, Some(50), 3),
                row("worker", 50, Some(51), 3),
                row("worker", 51, Some(51), 3),
            ]
        );
        let for_pid_50: Vec<Row> = owners(&found, 500)
            .into_iter()
            .filter(|r| r.1 == 50)
            .collect();
        assert_eq!(
            for_pid_50,
            [row("worker", 50, Some(51), 3), row("main", 50, Some(50), 3)]
        );
        // Without -T the task directory is not read.
        assert_eq!(
            sorted(owners(&fake.scan(Scope::Processes), 500)),
            [row("main", 50, None, 3), row("worker", 51, None, 3)]
        );
    }

    #[test]
    fn a_missing_root_is_an_error() {
        let fake = FakeProc::new();
        let err = Processes::scan_at(&fake.root.join("none"), Scope::Processes).unwrap_err();
        assert!(
            err.to_string().contains("cannot read the process list in"),
            "{err}"
        );
    }

    fn inode_of(fd: &impl AsRawFd) -> u64 {
        // SAFETY: a zeroed stat is a valid value for fstat to overwrite.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on an open descriptor, into a buffer of the right type.
        assert_eq!(unsafe { libc::fstat(fd.as_raw_fd(), &mut st) }, 0);
        st.st_ino
    }

    /// On the real /proc: this process holds a socket three times, highest descriptor first.
    #[test]
    fn this_process_is_found_in_proc() {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let copies = [socket.try_clone().unwrap(), socket.try_clone().unwrap()];
        let inode = inode_of(&socket);
        let comm = std::fs::read("/proc/self/comm").unwrap();
        let comm = String::from_utf8_lossy(comm.strip_suffix(b"\n").unwrap()).into_owned();
        let pid = std::process::id();
        let mut fds: Vec<u32> = [
            socket.as_raw_fd(),
            copies[0].as_raw_fd(),
            copies[1].as_raw_fd(),
        ]
        .iter()
        .map(|&fd| fd as u32)
        .collect();
        fds.sort_unstable_by(|a, b| b.cmp(a));

        // A child another test is starting may hold copies for a moment, until its exec
        // closes them: only this process's entries are certain.
        let ours = |found: &Processes| -> Vec<Row> {
            owners(found, inode)
                .into_iter()
                .filter(|r| r.1 == pid)
                .collect()
        };
        let found = Processes::scan_at(Path::new("/proc"), Scope::Processes).unwrap();
        let expected: Vec<Row> = fds.iter().map(|&fd| row(&comm, pid, None, fd)).collect();
        assert_eq!(ours(&found), expected);

        // With threads, this thread (whichever it is) holds them too, and the main thread's
        // entries come last.
        let found = Processes::scan_at(Path::new("/proc"), Scope::Threads).unwrap();
        let all = ours(&found);
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() } as u32;
        assert!(all.iter().any(|r| r.2 == Some(tid)), "{all:?}");
        let main = &all[all.len() - 3..];
        assert!(main.iter().all(|r| r.2 == Some(pid)), "{all:?}");
        assert_eq!(main.iter().map(|r| r.3).collect::<Vec<_>>(), fds);
    }
}
