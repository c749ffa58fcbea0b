//! A migration's operations, parsed when first used. A migration read from the
//! project's cache holds its operations as the cache stored them (JSON that this
//! build wrote and read back equal, `crate::cache::migrations`); most read-only
//! commands never look at them, and then never pay for building them.

use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

use serde_json::value::RawValue;

use crate::ast::Operation;

pub struct Operations {
    parsed: OnceLock<Vec<Operation>>,
    /// The cache's JSON of the operations, and how many there are.
    stored: Option<(Box<RawValue>, usize)>,
}

impl Operations {
    /// Operations as the cache stored them, parsed on first use.
    pub(crate) fn from_stored(json: Box<RawValue>, count: usize) -> Self {
        Self {
            parsed: OnceLock::new(),
            stored: Some((json, count)),
        }
    }

    /// The cache's JSON these operations came from, if they came from the cache.
    pub(crate) fn stored(&self) -> Option<&RawValue> {
        self.stored.as_ref().map(|(json, _)| &**json)
    }

    /// How many there are, without parsing them (what most commands ask).
    pub fn len(&self) -> usize {
        match (self.parsed.get(), &self.stored) {
            (None, Some((_, count))) => *count,
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
            let json = self.stored.as_ref().map_or("[]", |(json, _)| json.get());
            // The cache keeps only operations that read back equal to what was
            // written (`cache::migrations::store`), under a checksum of the file
            // and this build's stamp: failing here is a bug, not bad input.
            serde_json::from_str(json).expect("cached operations read back as written")
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
