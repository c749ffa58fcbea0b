//! Migration files as parsed, per app, each under the SHA-256 of the bytes it was
//! parsed from: a file whose bytes differ in any way is parsed again. The operations
//! stay as stored until a command looks at them ([`Operations`]).
//!
//! A cache file's body is the length of the records part on a line, the records
//! (a line each, fields between tabs), then the operations of every record as
//! JSON, one after the other (each record names its range): the operations stay
//! in the file ([`Blob`]) until a command first looks at some, and the migrations
//! then share one copy of them. The records
//! are read without a parser or an allocation each (there are thousands): their
//! strings are borrowed from the file as read, and a migration whose names hold a
//! tab or a line break is simply not cached.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use super::{Body, Cache};
use crate::ast::Operation;
use crate::migration::{LintSection, Migration, MigrationKey, Operations};

/// Between the fields of a record.
const FIELD_SEPARATOR: char = '\t';

/// Between the keys of `dependencies` and `replaces`.
const KEY_SEPARATOR: char = ' ';

/// A parsed migration as the cache stores it. Its key is the app's and the file's.
struct Record<'a> {
    file: &'a str,
    bytes_sha256: &'a str,
    /// Empty when it is `bytes_sha256` (a file without CR: most of them).
    checksum: &'a str,
    /// Keys between [`KEY_SEPARATOR`]s.
    dependencies: &'a str,
    replaces: &'a str,
    atomic: bool,
    safe: bool,
    lint: LintSection,
    operation_count: usize,
    /// The operations' JSON: this range of the operations part.
    operations: Range<usize>,
}

impl<'a> Record<'a> {
    /// The record written on `line` by [`Record::write`].
    fn read(line: &'a str) -> Option<Self> {
        let flag = |field: &str| match field {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        };
        let mut fields = line.split(FIELD_SEPARATOR);
        let mut next = || fields.next();
        let record = Self {
            file: next()?,
            bytes_sha256: next()?,
            checksum: next()?,
            dependencies: next()?,
            replaces: next()?,
            atomic: flag(next()?)?,
            safe: flag(next()?)?,
            operation_count: next()?.parse().ok()?,
            operations: next()?.parse().ok()?..next()?.parse().ok()?,
            // As JSON, and only when there is one (seldom).
            lint: match next()? {
                "" => LintSection::default(),
                json => serde_json::from_str(json).ok()?,
            },
        };
        fields.next().is_none().then_some(record)
    }

    /// Appends the record's line to `out`; `None` (and nothing appended) when a
    /// field would hold a separator.
    fn write(&self, out: &mut String) -> Option<()> {
        let lint = if self.lint.is_empty() {
            String::new()
        } else {
            serde_json::to_string(&self.lint).ok()?
        };
        let texts = [
            self.file,
            self.bytes_sha256,
            self.checksum,
            self.dependencies,
            self.replaces,
            &lint,
        ];
        if texts
            .iter()
            .any(|t| t.contains([FIELD_SEPARATOR, '\n', '\r']))
        {
            return None;
        }
        let flag = |b: bool| if b { '1' } else { '0' };
        let t = FIELD_SEPARATOR;
        writeln!(
            out,
            "{}{t}{}{t}{}{t}{}{t}{}{t}{}{t}{}{t}{}{t}{}{t}{}{t}{lint}",
            self.file,
            self.bytes_sha256,
            self.checksum,
            self.dependencies,
            self.replaces,
            flag(self.atomic),
            flag(self.safe),
            self.operation_count,
            self.operations.start,
            self.operations.end,
        )
        .ok()
    }
}

impl Record<'_> {
    /// The migration, its operations at this range of `blob`.
    fn into_migration(self, app: &str, path: &Path, blob: &Arc<Blob>) -> Option<Migration> {
        let keys = |list: &str| -> Option<Vec<MigrationKey>> {
            // Sized first: collected from a `split`, a list of one would take room
            // for four (thousands of migrations have one dependency).
            if list.is_empty() {
                return Some(Vec::new());
            }
            let mut keys = Vec::with_capacity(list.split(KEY_SEPARATOR).count());
            for key in list.split(KEY_SEPARATOR) {
                keys.push(MigrationKey::parse(key)?);
            }
            Some(keys)
        };
        let name = self.file.strip_suffix(".toml")?;
        if self.operations.start > self.operations.end || self.operations.end > blob.len {
            return None;
        }
        let checksum = if self.checksum.is_empty() {
            self.bytes_sha256
        } else {
            self.checksum
        };
        Some(Migration {
            key: MigrationKey::new(app, name),
            path: path.to_path_buf(),
            checksum: checksum.to_string(),
            dependencies: keys(self.dependencies)?,
            replaces: keys(self.replaces)?,
            atomic: self.atomic,
            safe: self.safe,
            operations: Operations::from_stored(
                Arc::clone(blob),
                self.operations,
                self.operation_count,
            ),
            lint: self.lint,
        })
    }
}

fn cache_file(app: &str) -> String {
    format!("migrations-{app}.json")
}

/// The cache file of one app as read (and checked), before its records are parsed.
pub(crate) struct File {
    body: Option<Body>,
}

impl File {
    /// What the cache holds for `app` (nothing when there is no cache, or no valid one).
    pub(crate) fn read(cache: Option<&Cache>, app: &str) -> Self {
        Self {
            body: cache.and_then(|c| c.read(&cache_file(app))),
        }
    }

    /// The records of the file.
    pub(crate) fn parsed(&self) -> Parsed<'_> {
        self.try_parse().unwrap_or_else(|| Parsed {
            records: HashMap::new(),
            blob: None,
        })
    }

    fn try_parse(&self) -> Option<Parsed<'_>> {
        let whole = self.body.as_ref()?;
        let body: &[u8] = whole;
        let line = body.iter().position(|b| *b == b'\n')?;
        let length: usize = std::str::from_utf8(&body[..line]).ok()?.parse().ok()?;
        let (records, operations) = body[line + 1..].split_at_checked(length)?;
        let records = std::str::from_utf8(records)
            .ok()?
            .lines()
            .map(|line| Record::read(line).map(|r| (r.file, r)))
            .collect::<Option<_>>()?;
        // The operations stay in the file until a command looks at them: the
        // file's buffer is freed once the records are taken.
        let blob = Arc::new(Blob {
            file: Mutex::new(whole.file.try_clone().ok()?),
            start: u64::try_from(whole.start + line + 1 + length).ok()?,
            len: operations.len(),
            path: whole.path.clone(),
            modified: whole.modified,
            bytes: OnceLock::new(),
        });
        Some(Parsed {
            records,
            blob: Some(blob),
        })
    }
}

/// The operations part of a cache file, left on disk until a command first looks
/// at operations (most commands never do), then read whole (one read, not one a
/// migration: a command that looks at some often looks at all), from the file that
/// was checked, kept open.
pub(crate) struct Blob {
    file: Mutex<std::fs::File>,
    /// Where the part starts in the file, and its length.
    start: u64,
    len: usize,
    path: PathBuf,
    /// When the file was last modified as it was checked.
    modified: Option<SystemTime>,
    bytes: OnceLock<Vec<u8>>,
}

impl Blob {
    /// The operations part.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.bytes.get_or_init(|| {
            // Checked when first read, the file can fail here only by a hand's
            // damage during the run, and the texts it stands for are gone.
            self.read().unwrap_or_else(|e| {
                panic!(
                    "cache file {} could not be read again: {e}; delete it and run again",
                    self.path.display()
                )
            })
        })
    }

    fn read(&self) -> std::io::Result<Vec<u8>> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        // strata never writes a cache file in place (it renames a new one over
        // it): a file modified since it was checked is someone else's doing.
        if file.metadata()?.modified().ok() != self.modified {
            return Err(std::io::Error::other("modified in place since it was read"));
        }
        let mut bytes = vec![0; self.len];
        file.seek(SeekFrom::Start(self.start))?;
        file.read_exact(&mut bytes)?;
        Ok(bytes)
    }
}

/// The parsed migrations of one app found in the cache, by file name.
pub(crate) struct Parsed<'a> {
    records: HashMap<&'a str, Record<'a>>,
    /// The operations part of the file, shared by the migrations served.
    blob: Option<Arc<Blob>>,
}

impl Parsed<'_> {
    /// Migration file `path` of `app`, as parsed from bytes whose SHA-256 is
    /// `bytes_sha256`, if the cache has it; taken out (each is asked for once).
    pub(crate) fn take(
        &mut self,
        app: &str,
        path: &Path,
        bytes_sha256: &[u8; 32],
    ) -> Option<Migration> {
        let file = path.file_name()?.to_str()?;
        self.records
            .remove(file)
            .filter(|r| is_hex_of(r.bytes_sha256, bytes_sha256))
            .and_then(|r| r.into_migration(app, path, self.blob.as_ref()?))
    }
}

/// Whether `hex` is the lowercase hex of `bytes` (compared without writing it out:
/// once per migration file at every start).
fn is_hex_of(hex: &str, bytes: &[u8]) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    hex.len() == bytes.len() * 2
        && hex.as_bytes().chunks(2).zip(bytes).all(|(pair, byte)| {
            pair[0] == DIGITS[usize::from(byte >> 4)] && pair[1] == DIGITS[usize::from(byte & 0xf)]
        })
}

/// Writes the cache of `app`: `(file name, SHA-256 of its bytes, migration)` each.
pub(crate) fn store(cache: &Cache, app: &str, migrations: &[(&str, &str, &Migration)]) {
    let mut records = String::new();
    let mut blob = Vec::new();
    for (file, bytes_sha256, m) in migrations {
        let (Some(dependencies), Some(replaces)) = (joined(&m.dependencies), joined(&m.replaces))
        else {
            continue;
        };
        let Some(json) = operations_json(m) else {
            continue;
        };
        let record = Record {
            file,
            bytes_sha256,
            checksum: if m.checksum == *bytes_sha256 {
                ""
            } else {
                &m.checksum
            },
            dependencies: &dependencies,
            replaces: &replaces,
            atomic: m.atomic,
            safe: m.safe,
            lint: m.lint.clone(),
            operation_count: m.operations.len(),
            operations: blob.len()..blob.len() + json.len(),
        };
        if record.write(&mut records).is_some() {
            blob.extend_from_slice(&json);
        }
    }
    let mut body = format!("{}\n", records.len()).into_bytes();
    body.extend_from_slice(records.as_bytes());
    body.extend_from_slice(&blob);
    cache.write(&cache_file(app), &body);
}

/// `keys` as one string; `None` when a key holds the separator.
fn joined(keys: &[MigrationKey]) -> Option<String> {
    let mut text = String::new();
    for key in keys {
        let key = key.to_string();
        if key.contains(KEY_SEPARATOR) {
            return None;
        }
        if !text.is_empty() {
            text.push(KEY_SEPARATOR);
        }
        text.push_str(&key);
    }
    Some(text)
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
