//! Schema states as replayed, each under the fingerprint of the steps that made it:
//! the SHA-256 chained over each migration's key, checksum and number of operations
//! replayed. A replay starts from the longest cached prefix of its steps, so adding a
//! migration replays that one alone.

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
    let prints = fingerprints(steps);
    let mut entries: Vec<Entry> = cache
        .read(FILE)
        .and_then(|body| serde_json::from_slice(&body).ok())
        .unwrap_or_default();
    // The longest prefix of `steps` with a cached state.
    let found = prints.iter().enumerate().rev().find_map(|(i, print)| {
        entries
            .iter()
            .position(|e| e.fingerprint == *print)
            .map(|at| (i + 1, at))
    });
    let last = prints[prints.len() - 1];
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

/// The fingerprint of every prefix of `steps`, shortest first.
fn fingerprints(steps: &[(&Migration, usize)]) -> Vec<Fingerprint> {
    let mut hasher = Sha256::new();
    steps
        .iter()
        .map(|(m, count)| {
            for part in [m.key.app.as_str(), m.key.name.as_str(), m.checksum.as_str()] {
                hasher.update(part.as_bytes());
                hasher.update([0]);
            }
            hasher.update(count.to_le_bytes());
            hasher.clone().finalize().into()
        })
        .collect()
}
