//! Migration files as parsed, per app, each under the SHA-256 of the bytes it was
//! parsed from: a file whose bytes differ in any way is parsed again. The operations
//! stay as stored until a command looks at them ([`Operations`]).
//!
//! A cache file's body is one line of JSON, the records, then the operations of every
//! record as JSON, one after the other (each record names its range): reading the
//! records skips the operations, and the migrations share that one buffer.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

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
    /// The operations' JSON: this range of the operations part.
    operations: Range<usize>,
}

impl Record {
    /// The migration, its operations at `base` + their range in `body`.
    fn into_migration(
        self,
        app: &str,
        path: &Path,
        body: &Arc<Vec<u8>>,
        base: usize,
    ) -> Option<Migration> {
        let keys = |list: Vec<String>| -> Option<Vec<MigrationKey>> {
            list.iter().map(|k| MigrationKey::parse(k)).collect()
        };
        let name = self.file.strip_suffix(".toml")?;
        let operations = base + self.operations.start..base + self.operations.end;
        body.get(operations.clone())?;
        Some(Migration {
            key: MigrationKey::new(app, name),
            path: path.to_path_buf(),
            checksum: self.checksum,
            dependencies: keys(self.dependencies)?,
            replaces: keys(self.replaces)?,
            atomic: self.atomic,
            safe: self.safe,
            operations: Operations::from_stored(Arc::clone(body), operations, self.operation_count),
            lint: self.lint,
        })
    }
}

/// The parsed migrations of one app found in the cache, by file name.
pub(crate) struct Parsed {
    records: HashMap<String, Record>,
    /// The cache file's body, and where its operations part starts.
    body: Arc<Vec<u8>>,
    base: usize,
}

fn cache_file(app: &str) -> String {
    format!("migrations-{app}.json")
}

impl Parsed {
    /// What the cache holds for `app` (nothing when there is no cache, or no valid one).
    pub(crate) fn load(cache: Option<&Cache>, app: &str) -> Self {
        let body = cache.and_then(|c| c.read(&cache_file(app)));
        let split = body.as_ref().and_then(|body| {
            let end = body.iter().position(|b| *b == b'\n')?;
            let records: Vec<Record> = serde_json::from_slice(&body[..end]).ok()?;
            Some((records, end + 1))
        });
        let Some((records, base)) = split else {
            return Self {
                records: HashMap::new(),
                body: Arc::default(),
                base: 0,
            };
        };
        Self {
            records: records.into_iter().map(|r| (r.file.clone(), r)).collect(),
            body: Arc::new(body.unwrap_or_default()),
            base,
        }
    }

    /// Migration file `path` of `app`, as parsed from bytes whose SHA-256 is
    /// `bytes_sha256`, if the cache has it; taken out (each is asked for once).
    pub(crate) fn take(&mut self, app: &str, path: &Path, bytes_sha256: &str) -> Option<Migration> {
        let file = path.file_name()?.to_str()?;
        self.records
            .remove(file)
            .filter(|r| r.bytes_sha256 == bytes_sha256)
            .and_then(|r| r.into_migration(app, path, &self.body, self.base))
    }
}

/// Writes the cache of `app`: `(file name, SHA-256 of its bytes, migration)` each.
pub(crate) fn store(cache: &Cache, app: &str, migrations: &[(&str, &str, &Migration)]) {
    let mut records = Vec::new();
    let mut blob = Vec::new();
    for (file, bytes_sha256, m) in migrations {
        let Some(json) = operations_json(m) else {
            continue;
        };
        let start = blob.len();
        blob.extend_from_slice(&json);
        records.push(Record {
            file: (*file).to_string(),
            bytes_sha256: (*bytes_sha256).to_string(),
            checksum: m.checksum.clone(),
            dependencies: m.dependencies.iter().map(ToString::to_string).collect(),
            replaces: m.replaces.iter().map(ToString::to_string).collect(),
            atomic: m.atomic,
            safe: m.safe,
            lint: m.lint.clone(),
            operation_count: m.operations.len(),
            operations: start..blob.len(),
        });
    }
    let Ok(mut body) = serde_json::to_vec(&records) else {
        return;
    };
    body.push(b'\n');
    body.extend_from_slice(&blob);
    cache.write(&cache_file(app), &body);
}

/// The JSON of `m`'s operations as the cache keeps them: only what reads back as
/// written, so that reading it never fails.
fn operations_json(m: &Migration) -> Option<Vec<u8>> {
    if let Some(json) = m.operations.stored() {
        return Some(json.to_vec()); // read back equal when it was first stored
    }
    let json = serde_json::to_vec(&*m.operations).ok()?;
    let read_back: Vec<Operation> = serde_json::from_slice(&json).ok()?;
    (read_back == *m.operations).then_some(json)
}
