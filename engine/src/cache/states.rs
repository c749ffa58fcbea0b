//! Schema states as replayed, each under the fingerprint of the steps that made it:
//! the SHA-256 chained over each migration's key, checksum and number of operations
//! replayed. A replay starts from the longest cached prefix of its steps, so adding a
//! migration replays that one alone.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Cache;
use crate::migration::{Migration, StateAtError};
use crate::state::SchemaState;

const FILE: &str = "states.json";

/// States kept: the latest migrations' and a few others (`sqlmigrate` of an older
/// migration, a database behind the files).
const KEPT: usize = 4;

type Fingerprint = [u8; 32];

#[derive(Serialize, Deserialize)]
struct Entry {
    fingerprint: Fingerprint,
    /// How many steps made the state: the prefix whose fingerprint to compare.
    steps: usize,
    state: SchemaState,
}

/// The schema `steps` leave: each migration's first `count` operations, in order.
pub(crate) fn replay(
    cache: Option<&Cache>,
    steps: &[(&Migration, usize)],
) -> Result<SchemaState, StateAtError> {
    let Some(cache) = cache.filter(|_| !steps.is_empty()) else {
        return replay_from(SchemaState::new(), steps);
    };
    let mut entries: Vec<Entry> = cache
        .read(FILE)
        .and_then(|body| serde_json::from_slice(&body).ok())
        .unwrap_or_default();
    let lengths: Vec<usize> = entries.iter().map(|e| e.steps).collect();
    let prints = fingerprints(steps, &lengths);
    // The longest prefix of `steps` with a cached state.
    let found = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| prints.get(&e.steps) == Some(&e.fingerprint))
        .max_by_key(|(_, e)| e.steps)
        .map(|(at, e)| (e.steps, at));
    let last = prints[&steps.len()];
    let state = match found {
        Some((done, at)) if done == steps.len() => return Ok(entries.swap_remove(at).state),
        Some((done, at)) => replay_from(entries[at].state.clone(), &steps[done..])?,
        None => replay_from(SchemaState::new(), steps)?,
    };
    if !cache.first_states_write() {
        return Ok(state);
    }
    entries.insert(
        0,
        Entry {
            fingerprint: last,
            steps: steps.len(),
            state,
        },
    );
    entries.truncate(KEPT);
    if let Ok(body) = serde_json::to_vec(&entries) {
        cache.write(FILE, &body);
    }
    Ok(entries.swap_remove(0).state)
}

fn replay_from(
    mut state: SchemaState,
    steps: &[(&Migration, usize)],
) -> Result<SchemaState, StateAtError> {
    for (m, count) in steps {
        m.replay(&mut state, *count)?;
    }
    Ok(state)
}

/// The fingerprints of the prefixes of `steps` of the given `lengths` and of all of
/// it, by length, in one pass: only those are finished (the chain runs through all).
fn fingerprints(steps: &[(&Migration, usize)], lengths: &[usize]) -> HashMap<usize, Fingerprint> {
    let mut hasher = Sha256::new();
    let mut prints = HashMap::new();
    for (done, (m, count)) in (1..).zip(steps) {
        for part in [m.key.app.as_str(), m.key.name.as_str(), m.checksum.as_str()] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        hasher.update(count.to_le_bytes());
        if done == steps.len() || lengths.contains(&done) {
            prints.insert(done, hasher.clone().finalize().into());
        }
    }
    prints
}
