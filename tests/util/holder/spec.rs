//! What a holder makes and how it shares it: written by the tests (`util::holder`), read by
//! the holder program (`main.rs` beside this file), which both include this file.

/// What a holder makes and how it shares it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Spec {
    /// Its name (written to /proc/self/comm; the kernel keeps 15 bytes).
    pub comm: String,
    /// A TCP listener on 127.0.0.1:PORT, one accepted connection (both ends held) and one
    /// connection left in the accept queue (its server end held by no one).
    pub tcp: Option<u16>,
    /// A UDP socket bound to 127.0.0.1:PORT and connected to PORT+1.
    pub udp: Option<u16>,
    /// A listener on this abstract unix name and a connected socket pair.
    pub unix: Option<String>,
    /// Extra descriptors for the TCP listener (dup).
    pub dups: usize,
    /// A forked child, with this name, holding every descriptor.
    pub child: Option<String>,
    /// Threads, named `t0`, `t1`, ...
    pub threads: usize,
    /// A thread that keeps forking children that hold the sockets and end within a few
    /// milliseconds, until the holder ends.
    pub churn: bool,
}

impl Spec {
    /// The spec as the holder program's one argument: its fields, tab-separated.
    // The holder program only decodes.
    #[allow(dead_code)]
    pub fn encode(&self) -> String {
        let opt = |v: &Option<u16>| v.map_or(String::new(), |p| p.to_string());
        [
            self.comm.clone(),
            opt(&self.tcp),
            opt(&self.udp),
            self.unix.clone().unwrap_or_default(),
            self.dups.to_string(),
            self.child.clone().unwrap_or_default(),
            self.threads.to_string(),
            u8::from(self.churn).to_string(),
        ]
        .join("\t")
    }

    pub fn decode(text: &str) -> Spec {
        let f: Vec<&str> = text.split('\t').collect();
        assert_eq!(f.len(), 8, "bad holder spec {text:?}");
        let port = |s: &str| (!s.is_empty()).then(|| s.parse().unwrap());
        let name = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Spec {
            comm: f[0].to_owned(),
            tcp: port(f[1]),
            udp: port(f[2]),
            unix: name(f[3]),
            dups: f[4].parse().unwrap(),
            child: name(f[5]),
            threads: f[6].parse().unwrap(),
            churn: f[7] == "1",
        }
    }
}
