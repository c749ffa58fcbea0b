//! The migration lock: an exclusive OS lock on a file next to the database.
//!
//! SQLite has no advisory locks, and a lock kept in the database itself would outlive
//! a killed process. An OS file lock (`flock` on Unix, `LockFileEx` on Windows) is
//! released by the operating system when its process ends, however it ends, so a
//! crash never leaves a stale lock. The file `<database>.strata-lock` is created
//! when missing and never deleted: deleting a locked file would let the next process
//! lock a new file of the same name while the old holder still runs.
//!
//! A database has one migration lock; the lock's name is only written into the file,
//! with the holder's command, pid, host and start time, so a waiting process can say
//! who holds it. The holder empties the file when it lets go, so a waiting process
//! never names a process that held the lock before (only, for the moment between
//! locking and writing, no one).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use strata_engine::dialect::url::redact_text;

/// The lock file of the database at `database`.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".strata-lock");
    PathBuf::from(name)
}

/// The lock, held for as long as this lives.
pub(crate) struct Held(File);

impl Drop for Held {
    fn drop(&mut self) {
        // Best effort, before closing releases the lock: a description left behind
        // would be read as the next holder's until it writes its own.
        let _ = self.0.set_len(0);
    }
}

/// The outcome of one attempt.
pub(crate) enum Attempt {
    Acquired(Held),
    /// Someone else holds it; what they wrote about themselves, if anything.
    Busy(Option<String>),
}

/// Tries once, without waiting, to lock `path`; on success records `holder` in it.
pub(crate) fn try_acquire(path: &Path, holder: &str) -> std::io::Result<Attempt> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    match file.try_lock() {
        Ok(()) => {
            // Best effort: the lock itself is what matters, not its description.
            let _ = describe(&mut file, holder);
            Ok(Attempt::Acquired(Held(file)))
        }
        Err(TryLockError::WouldBlock) => Ok(Attempt::Busy(read_holder(&mut file))),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// How the process taking the lock `name` describes itself, `since` then: its
/// command line (URLs' secrets hidden), pid and host — what a waiting process prints.
pub(crate) fn holder_description(name: &str, since: &str) -> String {
    let program = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown program".into());
    let command: Vec<String> = std::iter::once(program)
        .chain(std::env::args().skip(1))
        .collect();
    format!(
        "`{}` (pid {}) on {}, holding `{name}` since {since}",
        redact_text(&command.join(" ")),
        std::process::id(),
        host_name()
    )
}

/// This machine's name, as the kernel has it (the lock file may be on a shared disk).
fn host_name() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok());
    name.map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "an unknown host".into())
}

fn describe(file: &mut File, holder: &str) -> std::io::Result<()> {
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(holder.as_bytes())?;
    file.flush()
}

/// The holder's description; `None` when it cannot be read (the holder has locked
/// the file but not yet written it, or the platform's locks forbid reading).
fn read_holder(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    // A few hundred bytes are written; the cap guards against a foreign, huge file.
    file.take(4096).read_to_string(&mut text).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_next_to_the_database() {
        assert_eq!(
            lock_path(Path::new("/data/app.sqlite3")),
            PathBuf::from("/data/app.sqlite3.strata-lock")
        );
        assert_eq!(lock_path(Path::new("db")), PathBuf::from("db.strata-lock"));
    }

    #[test]
    fn a_second_open_file_is_busy_and_reads_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.strata-lock");
        let Attempt::Acquired(first) = try_acquire(&path, "pid 1").unwrap() else {
            panic!("the first attempt must acquire");
        };
        match try_acquire(&path, "pid 2").unwrap() {
            Attempt::Busy(holder) => assert_eq!(holder.as_deref(), Some("pid 1")),
            Attempt::Acquired(_) => panic!("the lock is held"),
        }
        drop(first);
        assert!(matches!(
            try_acquire(&path, "pid 2").unwrap(),
            Attempt::Acquired(_)
        ));
        assert!(path.exists(), "the lock file is never deleted");
    }

    #[test]
    fn a_released_lock_names_no_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.strata-lock");
        let Attempt::Acquired(first) = try_acquire(&path, "pid 1").unwrap() else {
            panic!("the first attempt must acquire");
        };
        drop(first);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn the_holder_names_its_command_pid_and_host() {
        let text = holder_description("strata:h", "2026-01-01 00:00:00 UTC");
        let pid = format!("(pid {}) on ", std::process::id());
        assert!(text.contains(&pid), "{text}");
        assert!(!text.contains(" on an unknown host"), "{text}");
        assert!(
            text.ends_with("holding `strata:h` since 2026-01-01 00:00:00 UTC"),
            "{text}"
        );
    }
}
