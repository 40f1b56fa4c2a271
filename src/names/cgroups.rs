//! Paths of cgroups by id, walked once under the cgroup2 mount.

use std::collections::HashMap;

/// Every cgroup v2 by id: a cgroup's id is its directory's inode number. Walked once, when a
/// path is first asked for.
pub(super) fn read_cgroups() -> HashMap<u64, Box<str>> {
    use std::os::unix::fs::MetadataExt;
    let mut paths = HashMap::new();
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap_or_default();
    let Some(root) = mounts.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (_, point, kind) = (fields.next()?, fields.next()?, fields.next()?);
        (kind == "cgroup2").then(|| std::path::PathBuf::from(point))
    }) else {
        return paths;
    };
    let mut pending = vec![(root.clone(), String::from("/"))];
    while let Some((dir, path)) = pending.pop() {
        let Ok(meta) = std::fs::metadata(&dir) else {
            continue;
        };
        paths.insert(meta.ino(), path.clone().into_boxed_str());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let name = entry.file_name().to_string_lossy().into_owned();
                let child = if path == "/" {
                    format!("/{name}")
                } else {
                    format!("{path}/{name}")
                };
                pending.push((entry.path(), child));
            }
        }
    }
    paths
}
