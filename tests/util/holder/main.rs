//! A process that holds sockets, for sockscope's `-p` and `-T` tests: the `holder` example
//! target, which `cargo test` builds with the tests and `cargo install` leaves out.
//!
//! The tests start it (through `util::holder`) inside a network namespace with one argument,
//! a [`Spec`]. It makes its sockets there, gives itself a name, forks a child or starts
//! threads that share them, prints one `holder ready PID CHILD TID...` line on stdout and
//! waits until its standard input closes (or ten minutes have passed).

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::os::unix::net::{SocketAddr as UnixAddr, UnixListener, UnixStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod spec;

use spec::Spec;

/// How long a holder lives at most, should the test that started it never close its stdin:
/// far longer than any test takes on a loaded machine (its sockets must outlive the test),
/// and still bounded.
const LIFETIME: Duration = Duration::from_secs(600);

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(spec), None) = (args.next(), args.next()) else {
        eprintln!("holder: the integration tests start this program with one argument, a spec");
        std::process::exit(2);
    };
    let spec = Spec::decode(&spec);
    let mut sockets: Vec<Box<dyn std::any::Any>> = Vec::new();
    if let Some(port) = spec.tcp {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let (server, _) = listener.accept().unwrap();
        let pending = TcpStream::connect(("127.0.0.1", port)).unwrap();
        for _ in 0..spec.dups {
            sockets.push(Box::new(listener.try_clone().unwrap()));
        }
        sockets.extend([
            Box::new(listener) as Box<dyn std::any::Any>,
            Box::new(client),
            Box::new(server),
            Box::new(pending),
        ]);
    }
    if let Some(port) = spec.udp {
        let udp = UdpSocket::bind(("127.0.0.1", port)).unwrap();
        udp.connect(("127.0.0.1", port + 1)).unwrap();
        sockets.push(Box::new(udp));
    }
    if let Some(name) = &spec.unix {
        use std::os::linux::net::SocketAddrExt;
        let address = UnixAddr::from_abstract_name(name.as_bytes()).unwrap();
        sockets.push(Box::new(UnixListener::bind_addr(&address).unwrap()));
        sockets.push(Box::new(UnixStream::pair().unwrap()));
    }
    std::fs::write("/proc/self/comm", spec.comm.as_bytes()).unwrap();

    let child = spec.child.as_deref().map_or(0, |name| {
        let name = std::ffi::CString::new(name).unwrap();
        // The child says on this pipe when it has its name.
        let mut named = [0 as libc::c_int; 2];
        // SAFETY: pipe2 fills the array it is given.
        assert_eq!(
            unsafe { libc::pipe2(named.as_mut_ptr(), libc::O_CLOEXEC) },
            0
        );
        // SAFETY: the child only makes async-signal-safe system calls, then _exit.
        let pid = match unsafe { libc::fork() } {
            0 => unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                libc::prctl(libc::PR_SET_NAME, name.as_ptr());
                libc::write(named[1], b"n".as_ptr().cast(), 1);
                wait_for_eof();
                libc::_exit(0)
            },
            -1 => panic!("fork: {}", std::io::Error::last_os_error()),
            pid => pid as u32,
        };
        let mut byte = 0u8;
        // SAFETY: reading one byte into a local, then closing the pipe we made.
        unsafe {
            libc::close(named[1]);
            assert_eq!(libc::read(named[0], (&mut byte as *mut u8).cast(), 1), 1);
            libc::close(named[0]);
        }
        pid
    });

    let mut tids = Vec::new();
    for i in 0..spec.threads {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("t{i}"))
            .spawn(move || {
                // SAFETY: gettid has no preconditions.
                tx.send(unsafe { libc::gettid() } as u32).unwrap();
                loop {
                    std::thread::park();
                }
            })
            .unwrap();
        tids.push(rx.recv().unwrap());
    }
    if spec.churn {
        std::thread::spawn(churn);
    }

    let tids: Vec<String> = tids.iter().map(u32::to_string).collect();
    println!(
        "holder ready {} {child} {}",
        std::process::id(),
        tids.join(" ")
    );
    wait_for_eof();
    drop(sockets);
    std::process::exit(0);
}

/// Forks children that hold every descriptor for 1 to 4 ms, one after another, at most 20000
/// of them; the holder's end ends it.
fn churn() {
    for i in 0..20_000u32 {
        // SAFETY: the child only sleeps and calls _exit.
        match unsafe { libc::fork() } {
            0 => unsafe {
                let pause = libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 1_000_000 * (1 + i64::from(i % 4)),
                };
                libc::nanosleep(&pause, std::ptr::null_mut());
                libc::_exit(0)
            },
            -1 => return,
            pid => {
                // SAFETY: reaping the child just forked.
                unsafe { libc::waitpid(pid, std::ptr::null_mut(), 0) };
            }
        }
    }
}

/// Blocks until standard input reaches its end, or [`LIFETIME`] has passed. Only system calls,
/// so a forked child may use it too.
fn wait_for_eof() {
    let deadline = Instant::now() + LIFETIME;
    let mut byte = 0u8;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        let mut poll = libc::pollfd {
            fd: 0,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: polling and reading our own standard input into a local byte.
        unsafe {
            let ready = libc::poll(&mut poll, 1, left.as_millis() as libc::c_int);
            if ready > 0 && libc::read(0, (&mut byte as *mut u8).cast(), 1) <= 0 {
                return;
            }
        }
    }
}
