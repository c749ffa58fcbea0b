//! A migration's operations, parsed when first used. A migration read from the
//! project's cache holds its operations as the cache stored them (JSON that this
//! build wrote and read back equal, `crate::cache::migrations`); most read-only
//! commands never look at them, and then never pay for building them.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::{Arc, OnceLock};

use crate::ast::Operation;
use crate::cache::migrations::Blob;

pub struct Operations {
    parsed: OnceLock<Vec<Operation>>,
    stored: Option<Stored>,
}

/// Where the cache holds the operations' JSON: a range of its file's operations
/// part, shared by every migration read from it (and read from the file when
/// first needed).
#[derive(Clone)]
struct Stored {
    blob: Arc<Blob>,
    json: Range<usize>,
    count: usize,
}

impl Operations {
    /// `count` operations whose JSON is `blob[json]`, parsed on first use.
    pub(crate) fn from_stored(blob: Arc<Blob>, json: Range<usize>, count: usize) -> Self {
        Self {
            parsed: OnceLock::new(),
            stored: Some(Stored { blob, json, count }),
        }
    }

    /// The cache's JSON these operations came from, if they came from the cache.
    pub(crate) fn stored(&self) -> Option<&[u8]> {
        self.stored
            .as_ref()
            .and_then(|s| s.blob.bytes().get(s.json.clone()))
    }

    /// How many there are, without parsing them (what most commands ask).
    pub fn len(&self) -> usize {
        match (self.parsed.get(), &self.stored) {
            (None, Some(stored)) => stored.count,
            _ => (**self).len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Deref for Operations {
    type Target = Vec<Operation>;

    fn deref(&self) -> &Vec<Operation> {
        self.parsed.get_or_init(|| {
            let json = self.stored().unwrap_or(b"[]");
            // The cache keeps only operations that read back equal to what was
            // written (`cache::migrations::store`), under a checksum of the file
            // and this build's stamp: failing here is a bug, not bad input.
            serde_json::from_slice(json).expect("cached operations read back as written")
        })
    }
}

impl From<Vec<Operation>> for Operations {
    fn from(operations: Vec<Operation>) -> Self {
        Self {
            parsed: OnceLock::from(operations),
            stored: None,
        }
    }
}

impl Default for Operations {
    fn default() -> Self {
        Vec::new().into()
    }
}

impl Clone for Operations {
    fn clone(&self) -> Self {
        Self {
            parsed: self.parsed.clone(),
            stored: self.stored.clone(),
        }
    }
}

impl PartialEq for Operations {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl fmt::Debug for Operations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (**self).fmt(f)
    }
}

impl<'a> IntoIterator for &'a Operations {
    type Item = &'a Operation;
    type IntoIter = std::slice::Iter<'a, Operation>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
