//! `migrate --rehearse` on SQLite: a consistent copy of the file made with
//! `VACUUM INTO` (safe on a live WAL database, unlike copying the file), next to the
//! original as `<stem>_strata_rehearsal_<pid>.<ext>`; and the table's `rootpage`,
//! which a rebuild changes, as its storage id.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use strata_engine::dialect::driver::{redact_url, DriverError};
use strata_engine::dialect::rehearsal::{copy_name, CopyMethod, RehearsalCopy};
use strata_engine::Dialect;

use super::lock::lock_path;
use super::url::{self, Location};
use crate::SqliteDialect;

/// Copies the database file `url` names; the original is opened read-only.
pub(crate) fn copy(url: &str) -> Result<RehearsalCopy, DriverError> {
    let source = match url::parse(url)? {
        Location::File(path) => path,
        Location::Memory => {
            return Err(DriverError::Url {
                url: redact_url(url),
                reason: "an in-memory database cannot be rehearsed: no other connection sees it"
                    .to_string(),
            })
        }
    };
    let shown = redact_url(&source.display().to_string());
    if !source.is_file() {
        return Err(DriverError::connect(shown, "no such database file"));
    }
    let target = copy_path(&source);
    // A copy of the same name is one this process id left behind before: stale.
    remove(&target).map_err(|e| DriverError::connect(shown.clone(), e.to_string()))?;
    let conn = Connection::open_with_flags(
        &source,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| DriverError::connect(shown.clone(), e.to_string()))?;
    let sql = "VACUUM INTO ?1";
    conn.execute(sql, [target.to_string_lossy().as_ref()])
        .map_err(|e| DriverError::statement(sql, e.to_string()).with_source(e))?;
    Ok(RehearsalCopy {
        url: format!("sqlite://{}", escape(&target.to_string_lossy())),
        name: target.display().to_string(),
        method: CopyMethod::File,
        sample: None,
    })
}

/// Removes the copy's file and whatever SQLite and strata kept beside it.
pub(crate) fn drop_copy(copy: &RehearsalCopy) -> Result<(), DriverError> {
    remove(Path::new(&copy.name))
        .map_err(|e| DriverError::connect(redact_url(&copy.name), e.to_string()))
}

/// The query whose one row is `table`'s root page (no row: no such table).
pub(crate) fn storage_id_sql(table: &str) -> String {
    format!(
        "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = {}",
        SqliteDialect.quote_string(table)
    )
}

/// `data/app.sqlite3` → `data/app_strata_rehearsal_<pid>.sqlite3`.
fn copy_path(source: &Path) -> PathBuf {
    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut name = copy_name(&stem, usize::MAX);
    if let Some(ext) = source.extension() {
        name.push('.');
        name.push_str(&ext.to_string_lossy());
    }
    source.with_file_name(name)
}

fn remove(database: &Path) -> std::io::Result<()> {
    let mut files = vec![database.to_path_buf(), lock_path(database)];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut path = database.as_os_str().to_owned();
        path.push(suffix);
        files.push(PathBuf::from(path));
    }
    for file in files {
        match std::fs::remove_file(&file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// A path as a `sqlite:` URL holds it: `%`, `?` and `#` escaped (`url::parse`
/// decodes them).
fn escape(path: &str) -> String {
    path.replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_copy_sits_beside_the_original_with_the_marker() {
        let copy = copy_path(Path::new("/data/app.sqlite3"));
        let name = copy.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(copy.parent(), Some(Path::new("/data")));
        assert!(
            name.starts_with("app_strata_rehearsal_") && name.ends_with(".sqlite3"),
            "{name}"
        );
    }

    #[test]
    fn a_copy_url_parses_back_to_its_path() {
        let path = "/tmp/we?ird#100%.db";
        let url = format!("sqlite://{}", escape(path));
        assert_eq!(url::parse(&url).unwrap(), Location::File(path.into()));
    }
}
