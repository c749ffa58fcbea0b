//! The project's cache (`.strata/cache/`): migration files as parsed, and schema states
//! as replayed, so that a read-only command on thousands of migrations neither parses
//! nor replays what an earlier run already did.
//!
//! Nothing in it is trusted. Every entry is found by the SHA-256 of what it was made
//! from (a file's bytes; the keys, checksums and operation counts of the migrations a
//! state replays), so an edited file or history never meets a stale entry. Every file
//! of the cache starts with a header naming the engine build that wrote it and the
//! CRC-32 of the rest: a file from another build, a foreign or truncated one, or one
//! edited by hand is ignored (and rewritten), never read. The CRC guards against
//! damage only (whoever can write the file can forge any checksum, SHA-256 too), and
//! checks megabytes in a fraction of the time; the entries' keys stay SHA-256. A cache that cannot be
//! written (a read-only checkout) costs the time it would have saved, nothing else.

pub(crate) mod migrations;
pub(crate) mod states;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tracing::debug;

/// The folder of the cache, under the project root.
pub const DIR: &str = ".strata/cache";

/// The first word of every cache file.
const MAGIC: &str = "strata-cache";

/// The engine build: a cache file written by another one is not read.
const BUILD: &str = env!("STRATA_ENGINE_BUILD");

/// The cache of one project.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    /// Whether this process has written the states file: once is enough (the state a
    /// command needs most), and a loop of replays must not rewrite it each time.
    states_written: Arc<AtomicBool>,
}

impl PartialEq for Cache {
    fn eq(&self, other: &Self) -> bool {
        self.dir == other.dir
    }
}

impl Eq for Cache {}

impl Cache {
    /// The cache of the project in `root`; `None` when its folder would lie outside the
    /// project (a symlinked `.strata`): strata writes only inside the project.
    pub fn in_project(root: &Path) -> Option<Self> {
        let dir = root.join(DIR);
        crate::project::inside_root(root, &dir).ok().map(|_| Self {
            dir,
            states_written: Arc::default(),
        })
    }

    /// The body of cache file `name` when its header says this build wrote it and the
    /// body is what was written; `None` otherwise.
    pub(crate) fn read(&self, name: &str) -> Option<Body> {
        let mut file = std::fs::File::open(self.dir.join(name)).ok()?;
        let metadata = file.metadata().ok()?;
        let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).ok()?);
        file.read_to_end(&mut bytes).ok()?;
        let end = bytes.iter().position(|b| *b == b'\n')?;
        let header = std::str::from_utf8(&bytes[..end]).ok()?;
        let mut words = header.split(' ');
        let valid = words.next() == Some(MAGIC)
            && words.next() == Some(BUILD)
            && words.next() == Some(checksum(&bytes[end + 1..]).as_str())
            && words.next().is_none();
        if !valid {
            debug!(
                file = name,
                "cache file ignored: another build's, or damaged"
            );
            return None;
        }
        Some(Body {
            bytes,
            start: end + 1,
            file,
            path: self.dir.join(name),
            modified: metadata.modified().ok(),
        })
    }

    /// Replaces cache file `name` with `body`, whole or not at all (a reader never
    /// sees half a file: written aside, then renamed over it).
    pub(crate) fn write(&self, name: &str, body: &[u8]) {
        if let Err(e) = self.try_write(name, body) {
            debug!(file = name, error = %e, "cache not written");
        }
    }

    /// Whether this process may write the states file: the first time it asks.
    pub(crate) fn first_states_write(&self) -> bool {
        !self.states_written.swap(true, Ordering::Relaxed)
    }

    fn try_write(&self, name: &str, body: &[u8]) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        // Never committed, whatever the project's own .gitignore says.
        let ignore = self.dir.join(".gitignore");
        if !ignore.exists() {
            std::fs::write(&ignore, "# strata's cache: safe to delete\n*\n")?;
        }
        let aside = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let written = (|| {
            let mut file = std::fs::File::create(&aside)?;
            writeln!(file, "{MAGIC} {BUILD} {}", checksum(body))?;
            file.write_all(body)?;
            std::fs::rename(&aside, self.dir.join(name))
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&aside);
        }
        written
    }
}

/// The body of a cache file as read: the whole file, header included (not moved
/// out of it: megabytes), and where the body starts; the file is still open, to
/// read parts of it again (never written in place: a newer cache is renamed over
/// it, and this one stays as it was checked).
pub(crate) struct Body {
    pub(crate) bytes: Vec<u8>,
    pub(crate) start: usize,
    pub(crate) file: std::fs::File,
    pub(crate) path: PathBuf,
    /// When the file was last modified as it was read: another time later is
    /// someone else's hand.
    pub(crate) modified: Option<std::time::SystemTime>,
}

impl std::ops::Deref for Body {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// The header's checksum of a body: damage shows, nothing more is asked of it.
fn checksum(body: &[u8]) -> String {
    format!("crc32-{:08x}", crc32fast::hash(body))
}

#[cfg(test)]
mod tests;
