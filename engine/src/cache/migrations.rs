//! Migration files as parsed, per app, each under the SHA-256 of the bytes it was
//! parsed from: a file whose bytes differ in any way is parsed again. The operations
//! stay as stored until a command looks at them ([`Operations`]).

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::Cache;
use crate::ast::Operation;
use crate::migration::{LintSection, Migration, MigrationKey, Operations};

/// A parsed migration as the cache stores it. Its key is the app's and the file's.
#[derive(Serialize, Deserialize)]
struct Record {
    file: String,
    bytes_sha256: String,
    checksum: String,
    dependencies: Vec<String>,
    replaces: Vec<String>,
    atomic: bool,
    safe: bool,
    lint: LintSection,
    operation_count: usize,
    operations: Box<RawValue>,
}

impl Record {
    fn of(file: &str, bytes_sha256: &str, m: &Migration) -> Option<Self> {
        let operations = match m.operations.stored() {
            // Read back equal when it was first stored.
            Some(json) => json.to_owned(),
            None => {
                let json = serde_json::value::to_raw_value(&*m.operations).ok()?;
                // Only what reads back as written is kept, so reading it never fails.
                let read_back: Vec<Operation> = serde_json::from_str(json.get()).ok()?;
                (read_back == *m.operations).then_some(json)?
            }
        };
        Some(Self {
            file: file.to_string(),
            bytes_sha256: bytes_sha256.to_string(),
            checksum: m.checksum.clone(),
            dependencies: m.dependencies.iter().map(ToString::to_string).collect(),
            replaces: m.replaces.iter().map(ToString::to_string).collect(),
            atomic: m.atomic,
            safe: m.safe,
            lint: m.lint.clone(),
            operation_count: m.operations.len(),
            operations,
        })
    }

    fn into_migration(self, app: &str, path: &Path) -> Option<Migration> {
        let keys = |list: Vec<String>| -> Option<Vec<MigrationKey>> {
            list.iter().map(|k| MigrationKey::parse(k)).collect()
        };
        let name = self.file.strip_suffix(".toml")?;
        Some(Migration {
            key: MigrationKey::new(app, name),
            path: path.to_path_buf(),
            checksum: self.checksum,
            dependencies: keys(self.dependencies)?,
            replaces: keys(self.replaces)?,
            atomic: self.atomic,
            safe: self.safe,
            operations: Operations::from_stored(self.operations, self.operation_count),
            lint: self.lint,
        })
    }
}

/// The parsed migrations of one app found in the cache, by file name.
pub(crate) struct Parsed {
    records: HashMap<String, Record>,
}

fn cache_file(app: &str) -> String {
    format!("migrations-{app}.json")
}

impl Parsed {
    /// What the cache holds for `app` (nothing when there is no cache, or no valid one).
    pub(crate) fn load(cache: Option<&Cache>, app: &str) -> Self {
        let records: Vec<Record> = cache
            .and_then(|c| c.read(&cache_file(app)))
            .and_then(|body| serde_json::from_slice(&body).ok())
            .unwrap_or_default();
        Self {
            records: records.into_iter().map(|r| (r.file.clone(), r)).collect(),
        }
    }

    /// Migration file `path` of `app`, as parsed from bytes whose SHA-256 is
    /// `bytes_sha256`, if the cache has it; taken out (each is asked for once).
    pub(crate) fn take(&mut self, app: &str, path: &Path, bytes_sha256: &str) -> Option<Migration> {
        let file = path.file_name()?.to_str()?;
        self.records
            .remove(file)
            .filter(|r| r.bytes_sha256 == bytes_sha256)
            .and_then(|r| r.into_migration(app, path))
    }
}

/// Writes the cache of `app`: `(file name, SHA-256 of its bytes, migration)` each.
pub(crate) fn store(cache: &Cache, app: &str, migrations: &[(&str, &str, &Migration)]) {
    let records: Vec<Record> = migrations
        .iter()
        .filter_map(|(file, bytes_sha256, m)| Record::of(file, bytes_sha256, m))
        .collect();
    if let Ok(body) = serde_json::to_vec(&records) {
        cache.write(&cache_file(app), &body);
    }
}
