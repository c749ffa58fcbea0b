//! Squashed migrations (`replaces = [...]`) in the graph, as Django's loader treats
//! them: which of a squash and the migrations it replaces are in use, given what a
//! database has applied, and the dependencies rewritten to match.
//!
//! - Nothing of the replaced migrations recorded, or all of them applied (or the
//!   squash itself recorded): the squash is in use, the replaced ones are hidden, and a
//!   dependency on any of them means the squash.
//! - Some recorded but not all applied: the replaced migrations run as they are, the
//!   squash is hidden, and a dependency on it means the last of them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::GraphError;
use crate::migration::{Migration, MigrationKey};

/// The migrations in use and those hidden, with the hidden ones' stand-ins.
pub(super) struct Choice {
    pub(super) in_use: Vec<Arc<Migration>>,
    pub(super) hidden: BTreeMap<MigrationKey, Arc<Migration>>,
    /// For each hidden migration: what stands for it (the squash for a replaced
    /// migration; the last replaced ones for a squash not in use).
    pub(super) stand_ins: BTreeMap<MigrationKey, Vec<MigrationKey>>,
}

/// Chooses between every squash of `all` and the migrations it replaces, for a
/// database that applied `applied` and has a row (applied or partial) for `recorded`.
pub(super) fn choose(
    all: Vec<Arc<Migration>>,
    applied: &BTreeSet<MigrationKey>,
    recorded: &BTreeSet<MigrationKey>,
) -> Result<Choice, GraphError> {
    let present: BTreeSet<MigrationKey> = all.iter().map(|m| m.key.clone()).collect();
    let mut stand_ins: BTreeMap<MigrationKey, Vec<MigrationKey>> = BTreeMap::new();
    for squash in all.iter().filter(|m| !m.replaces.is_empty()) {
        if squash_in_use(squash, applied, recorded) {
            for replaced in &squash.replaces {
                stand_ins.insert(replaced.clone(), vec![squash.key.clone()]);
            }
            continue;
        }
        if let Some(missing) = squash.replaces.iter().find(|r| !present.contains(r)) {
            return Err(GraphError::ReplacedMissing {
                squash: squash.key.clone(),
                path: squash.path.clone(),
                missing: missing.clone(),
            });
        }
        stand_ins.insert(squash.key.clone(), last_replaced(squash, &all));
    }
    let mut in_use = Vec::new();
    let mut hidden = BTreeMap::new();
    for mut m in all {
        if stand_ins.contains_key(&m.key) {
            hidden.insert(m.key.clone(), m);
            continue;
        }
        let dependencies = remap(&m.key, &m.dependencies, &stand_ins);
        // Copied only when a squash changes its dependencies: the rest stay shared.
        if dependencies != m.dependencies {
            Arc::make_mut(&mut m).dependencies = dependencies;
        }
        in_use.push(m);
    }
    Ok(Choice {
        in_use,
        hidden,
        stand_ins,
    })
}

/// Django's rule: the squash is used unless the database is part-way through the
/// migrations it replaces.
fn squash_in_use(
    squash: &Migration,
    applied: &BTreeSet<MigrationKey>,
    recorded: &BTreeSet<MigrationKey>,
) -> bool {
    if applied.contains(&squash.key) {
        return true;
    }
    let started = squash.replaces.iter().any(|r| recorded.contains(r));
    let finished = squash.replaces.iter().all(|r| applied.contains(r));
    !started || finished
}

/// The replaced migrations no other replaced migration depends on: what a dependency
/// on the squash means when the originals run instead.
fn last_replaced(squash: &Migration, all: &[Arc<Migration>]) -> Vec<MigrationKey> {
    let replaced: BTreeSet<&MigrationKey> = squash.replaces.iter().collect();
    let depended_on: BTreeSet<&MigrationKey> = all
        .iter()
        .filter(|m| replaced.contains(&m.key))
        .flat_map(|m| m.dependencies.iter())
        .collect();
    squash
        .replaces
        .iter()
        .filter(|r| !depended_on.contains(r))
        .cloned()
        .collect()
}

/// `dependencies` of `key` with every hidden migration replaced by its stand-ins,
/// without repeats. A stand-in that is `key` itself is left out; a dependency the file
/// writes on itself stays, for the graph to report as a cycle.
fn remap(
    key: &MigrationKey,
    dependencies: &[MigrationKey],
    stand_ins: &BTreeMap<MigrationKey, Vec<MigrationKey>>,
) -> Vec<MigrationKey> {
    let mut out: Vec<MigrationKey> = Vec::with_capacity(dependencies.len());
    for dependency in dependencies {
        let targets = match stand_ins.get(dependency) {
            Some(targets) => targets.iter().filter(|t| *t != key).cloned().collect(),
            None => vec![dependency.clone()],
        };
        for target in targets {
            if !out.contains(&target) {
                out.push(target);
            }
        }
    }
    out
}
