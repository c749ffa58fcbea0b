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
//! with the holder's pid and start time, so a waiting process can say who holds it.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The lock file of the database at `database`.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".strata-lock");
    PathBuf::from(name)
}

/// The outcome of one attempt.
pub(crate) enum Attempt {
    /// Held for as long as the `File` stays open.
    Acquired(File),
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
            Ok(Attempt::Acquired(file))
        }
        Err(TryLockError::WouldBlock) => Ok(Attempt::Busy(read_holder(&mut file))),
        Err(TryLockError::Error(e)) => Err(e),
    }
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
}
