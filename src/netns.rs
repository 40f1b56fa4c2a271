//! Network namespaces: running in a private one (the demo), switching to the one `-N` names,
//! finding every one on the machine, and walking them all (`-N all`).
//!
//! A socket belongs to the namespace its creator was in, and sock_diag lists the sockets of the
//! namespace the asking netlink socket was made in; `/proc/net` and the sysctls under
//! `/proc/sys/net` show the namespace of the reading thread. So running "inside" a namespace
//! only takes `setns(CLONE_NEWNET)` on the calling thread before those are opened. sockscope
//! does this on its main thread while it is the only one.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where `ip netns add NAME` mounts its namespaces, and ss looks for `-N NAME`.
pub const NETNS_RUN_DIR: &str = "/run/netns";

/// The calling thread's namespace, as a file.
const OWN: &str = "/proc/thread-self/ns/net";

/// What went wrong switching namespaces, each a whole line (the cause is part of the message).
#[derive(Debug, thiserror::Error)]
pub enum NetnsError {
    #[error("cannot open network namespace \"{name}\": {}", os_message(error))]
    Open { name: String, error: io::Error },
    #[error("cannot enter network namespace \"{name}\": {} is not a network namespace", path.display())]
    NotNetns { name: String, path: PathBuf },
    #[error("cannot enter network namespace \"{name}\": {}", os_message(error))]
    Enter { name: String, error: io::Error },
    #[error("cannot read this process's network namespace ({OWN}): {}", os_message(.0))]
    Own(io::Error),
    #[error("cannot return to the original network namespace: {}", os_message(.0))]
    Return(io::Error),
}

/// The system's message for an error, without Rust's "(os error N)".
fn os_message(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// Moves this process (which must have a single thread) into a new, empty network namespace
/// and brings its loopback up. Needs CAP_SYS_ADMIN.
pub fn enter_private() -> io::Result<()> {
    // SAFETY: unshare only changes the calling thread's namespaces; the callers are
    // single-threaded, so the whole process moves.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    loopback_up()
}

/// The file `-N` means: a name under [`NETNS_RUN_DIR`], as in ss, or, when it holds a `/`, the
/// path of any namespace file (`/proc/PID/ns/net`).
pub fn path_of(name: &OsStr) -> PathBuf {
    if name.as_bytes().contains(&b'/') {
        PathBuf::from(name)
    } else {
        Path::new(NETNS_RUN_DIR).join(name)
    }
}

/// Moves the calling thread into the namespace `-N NAME` names. Run it before any other thread
/// starts, so that the whole process is inside.
pub fn enter_named(name: &OsStr) -> Result<(), NetnsError> {
    let shown = name.to_string_lossy().into_owned();
    let path = path_of(name);
    let file = File::open(&path).map_err(|error| NetnsError::Open {
        name: shown.clone(),
        error,
    })?;
    setns(&file).map_err(|error| enter_error(shown, &path, error))
}

fn enter_error(name: String, path: &Path, error: io::Error) -> NetnsError {
    if error.raw_os_error() == Some(libc::EINVAL) {
        NetnsError::NotNetns {
            name,
            path: path.to_owned(),
        }
    } else {
        NetnsError::Enter { name, error }
    }
}

fn setns(file: &File) -> io::Result<()> {
    // SAFETY: setns only reads the descriptor, which `file` keeps open for the call.
    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A namespace's identity: the device and inode of its nsfs file, the same through every path
/// that leads to it (`ls -l /proc/PID/ns/net` shows the inode as `net:[INODE]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NsId {
    pub dev: u64,
    pub inode: u64,
}

impl NsId {
    fn of(path: &Path) -> io::Result<NsId> {
        std::fs::metadata(path).map(|m| NsId {
            dev: m.dev(),
            inode: m.ino(),
        })
    }
}

/// A network namespace found by [`all`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Namespace {
    /// Its name under /run/netns, or `pid:N` for the lowest-numbered process in it: what to
    /// give `-N` (the name, or `/proc/N/ns/net`), `ip netns exec` or `nsenter -t N -n`.
    pub name: String,
    pub id: NsId,
    /// The namespace sockscope was started in.
    pub own: bool,
    path: PathBuf,
}

/// Every network namespace [`all`] could see.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Walk {
    /// The caller's own first, then the named ones by name, then the others by pid.
    pub namespaces: Vec<Namespace>,
    /// Processes whose namespace could not be read (permission denied): a namespace only
    /// they are in is missing.
    pub unreadable: usize,
}

/// Finds every network namespace: the caller's, every one named under /run/netns, and every
/// one a running process is in, each once.
///
/// Entries of /run/netns that are no namespace (a stale file left by a failed `ip netns add`)
/// and processes that end during the walk are skipped.
pub fn all() -> Result<Walk, NetnsError> {
    let own = NsId::of(Path::new(OWN)).map_err(NetnsError::Own)?;
    let mut walk = Walk::default();

    let mut named: Vec<(String, PathBuf, NsId)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir(NETNS_RUN_DIR) {
        for entry in entries.flatten() {
            let path = entry.path();
            match NsId::of(&path) {
                // Every namespace file lives on the one nsfs device.
                Ok(id) if id.dev == own.dev => {
                    named.push((entry.file_name().to_string_lossy().into_owned(), path, id));
                }
                _ => {}
            }
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));

    let mut pids: Vec<u32> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    pids.sort_unstable();
    // The lowest pid in each namespace, in pid order.
    let mut first_pid: HashMap<NsId, u32> = HashMap::new();
    let mut by_pid: Vec<(u32, NsId)> = Vec::new();
    for pid in pids {
        match NsId::of(&Path::new("/proc").join(pid.to_string()).join("ns/net")) {
            Ok(id) => {
                if let std::collections::hash_map::Entry::Vacant(slot) = first_pid.entry(id) {
                    slot.insert(pid);
                    by_pid.push((pid, id));
                }
            }
            Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
                walk.unreadable += 1;
            }
            // The process ended.
            Err(_) => {}
        }
    }

    let name_of = |id: NsId| named.iter().find(|(_, _, n)| *n == id);
    let own_name = match (name_of(own), first_pid.get(&own)) {
        (Some((name, _, _)), _) => name.clone(),
        (None, Some(pid)) => format!("pid:{pid}"),
        (None, None) => format!("pid:{}", std::process::id()),
    };
    walk.namespaces.push(Namespace {
        name: own_name,
        id: own,
        own: true,
        path: PathBuf::from(OWN),
    });
    let mut seen: Vec<NsId> = vec![own];
    for (name, path, id) in &named {
        if !seen.contains(id) {
            seen.push(*id);
            walk.namespaces.push(Namespace {
                name: name.clone(),
                id: *id,
                own: false,
                path: path.clone(),
            });
        }
    }
    for (pid, id) in by_pid {
        if !seen.contains(&id) {
            seen.push(id);
            walk.namespaces.push(Namespace {
                name: format!("pid:{pid}"),
                id,
                own: false,
                path: PathBuf::from(format!("/proc/{pid}/ns/net")),
            });
        }
    }
    Ok(walk)
}

/// The calling thread's original namespace, kept open so that it can go back after visiting
/// others.
struct Home {
    file: File,
    away: bool,
}

/// Whether [`Home::visit`] got in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Visit {
    Entered,
    /// The namespace is gone: its last process ended or its name was removed (or now leads to
    /// another namespace) since the walk.
    Gone,
}

impl Home {
    fn open() -> Result<Home, NetnsError> {
        Ok(Home {
            file: File::open(OWN).map_err(NetnsError::Own)?,
            away: false,
        })
    }

    /// Moves the calling thread into `ns`.
    fn visit(&mut self, ns: &Namespace) -> Result<Visit, NetnsError> {
        if ns.own {
            self.go_back()?;
            return Ok(Visit::Entered);
        }
        let file = match File::open(&ns.path) {
            Ok(file) => file,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ESRCH)) => {
                return Ok(Visit::Gone);
            }
            Err(error) => {
                return Err(NetnsError::Open {
                    name: ns.name.clone(),
                    error,
                });
            }
        };
        // A pid may have been reused, a name removed and added again.
        let same = file
            .metadata()
            .is_ok_and(|m| m.dev() == ns.id.dev && m.ino() == ns.id.inode);
        if !same {
            return Ok(Visit::Gone);
        }
        setns(&file).map_err(|error| enter_error(ns.name.clone(), &ns.path, error))?;
        self.away = true;
        Ok(Visit::Entered)
    }

    /// Moves the calling thread back to where it was when [`Home::open`] ran.
    fn go_back(&mut self) -> Result<(), NetnsError> {
        if self.away {
            setns(&self.file).map_err(NetnsError::Return)?;
            self.away = false;
        }
        Ok(())
    }
}

/// `-N all` for every mode (listing, watch, exporter): the namespaces [`all`] finds, this
/// thread moved into each in turn and home again after, with one policy for those out of
/// reach: a namespace gone since it was found is passed over quietly; one that cannot be
/// entered is passed over and said once, the first time ([`Walker::unsaid`]).
pub struct Walker {
    home: Home,
    /// The namespaces already said to be out of reach.
    said: HashSet<NsId>,
    /// Those out of reach and not yet said.
    unsaid: Vec<Unentered>,
}

/// A namespace a [`Walker`] could not enter, as a line to say after `sockscope: warning: `.
#[derive(Debug, thiserror::Error)]
#[error("{0}; its sockets are not listed")]
pub struct Unentered(NetnsError);

impl Walker {
    /// Starts from the calling thread's namespace, the home every walk returns to.
    pub fn new() -> Result<Walker, NetnsError> {
        Ok(Walker {
            home: Home::open()?,
            said: HashSet::new(),
            unsaid: Vec::new(),
        })
    }

    /// Runs `look` inside each of `namespaces` in turn, passing over those out of reach, and
    /// goes home at the end, also when a look fails.
    pub fn visit<'n, E: From<NetnsError>>(
        &mut self,
        namespaces: impl IntoIterator<Item = &'n Namespace>,
        mut look: impl FnMut(&'n Namespace) -> Result<(), E>,
    ) -> Result<(), E> {
        let visit_all = || -> Result<(), E> {
            for ns in namespaces {
                match self.home.visit(ns) {
                    Ok(Visit::Entered) => look(ns)?,
                    Ok(Visit::Gone) => {}
                    Err(e) => {
                        if self.said.insert(ns.id) {
                            self.unsaid.push(Unentered(e));
                        }
                    }
                }
            }
            Ok(())
        };
        let visited = visit_all();
        self.home.go_back()?;
        visited
    }

    /// What was out of reach and is not yet said; each is given once.
    pub fn unsaid(&mut self) -> Vec<Unentered> {
        std::mem::take(&mut self.unsaid)
    }
}

/// Sets IFF_UP on `lo`, as `ip link set lo up` does.
fn loopback_up() -> io::Result<()> {
    // SAFETY: an AF_INET datagram socket is only used as a handle for interface ioctls and
    // closed below; `request` is a zeroed ifreq with a NUL-terminated name, which SIOCGIFFLAGS
    // fills and SIOCSIFFLAGS reads.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        let mut result = Ok(());
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut request) != 0 {
            result = Err(io::Error::last_os_error());
        } else {
            request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &request) != 0 {
                result = Err(io::Error::last_os_error());
            }
        }
        libc::close(fd);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert_eq!(path_of(OsStr::new("web")), Path::new("/run/netns/web"));
        assert_eq!(
            path_of(OsStr::new("/proc/1/ns/net")),
            Path::new("/proc/1/ns/net")
        );
        assert_eq!(path_of(OsStr::new("./ns")), Path::new("./ns"));
    }

    /// The walk always finds the caller's namespace, first, named after a process in it.
    #[test]
    fn the_walk_starts_at_home() {
        let walk = all().unwrap();
        let own = &walk.namespaces[0];
        assert!(own.own);
        assert_eq!(own.id, NsId::of(Path::new(OWN)).unwrap());
        assert!(walk.namespaces[1..].iter().all(|ns| !ns.own));
        let ids: std::collections::HashSet<NsId> = walk.namespaces.iter().map(|n| n.id).collect();
        assert_eq!(ids.len(), walk.namespaces.len(), "each namespace once");
    }

    /// A walk enters what it can, comes home at the end, and says once, over any number of
    /// walks, that a namespace cannot be entered.
    #[test]
    fn what_cannot_be_entered_is_said_once() {
        // A file that is no namespace: open, the same file as when found, refused by setns.
        let path = std::env::current_exe().unwrap();
        let bogus = Namespace {
            name: "bogus".into(),
            id: NsId::of(&path).unwrap(),
            own: false,
            path,
        };
        let home = NsId::of(Path::new(OWN)).unwrap();
        let mut walker = Walker::new().unwrap();
        let mut looked = Vec::new();
        for _ in 0..3 {
            let own = all().unwrap().namespaces.swap_remove(0);
            walker
                .visit([&own, &bogus], |ns| -> Result<(), NetnsError> {
                    looked.push(ns.name.clone());
                    Ok(())
                })
                .unwrap();
            assert_eq!(NsId::of(Path::new(OWN)).unwrap(), home);
        }
        assert_eq!(looked.len(), 3, "{looked:?}");
        assert!(!looked.contains(&"bogus".to_owned()));
        let said: Vec<String> = walker.unsaid().iter().map(|u| u.to_string()).collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with("cannot enter network namespace \"bogus\""),
            "{said:?}"
        );
        assert!(walker.unsaid().is_empty());
    }
}
