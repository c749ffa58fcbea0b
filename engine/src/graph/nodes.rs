//! The migrations in use as numbered nodes: their one topological order, the
//! dependency edges as positions in it, and a lookup by key that copies no key.
//!
//! Plans and replays walk thousands of migrations several times per command; sets of
//! positions (`Vec<bool>`) instead of sets of keys make each walk a pass over an array,
//! not string comparisons and key copies per migration.

use std::collections::BTreeSet;
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::{DefaultHashBuilder, HashTable};

use super::GraphError;
use crate::migration::{Migration, MigrationKey};

/// A set of nodes: `true` at the position of each member.
pub(super) type Mask = Vec<bool>;

#[derive(Debug, Clone, Default)]
pub(super) struct Nodes {
    /// Topological order, ties broken by key: the one order everything uses.
    pub(super) list: Vec<Arc<Migration>>,
    /// Each node's dependencies, as positions in `list`.
    pub(super) parents: Vec<Vec<usize>>,
    /// Each node's dependents (reverse edges), as positions in `list`.
    pub(super) children: Vec<Vec<usize>>,
    /// Every position, in key order.
    pub(super) by_key: Vec<usize>,
    /// Positions, found by the hash of their migration's key.
    index: HashTable<usize>,
    hasher: DefaultHashBuilder,
}

impl Nodes {
    /// The nodes of `in_use` (of equal keys, the last), checked: every dependency is
    /// one of them and there is no cycle.
    pub(super) fn build(mut in_use: Vec<Arc<Migration>>) -> Result<Self, GraphError> {
        in_use.sort_by(|a, b| a.key.cmp(&b.key));
        let mut sorted: Vec<Arc<Migration>> = Vec::with_capacity(in_use.len());
        for m in in_use {
            match sorted.last_mut() {
                Some(last) if last.key == m.key => *last = m,
                _ => sorted.push(m),
            }
        }
        let hasher = DefaultHashBuilder::default();
        let mut index = HashTable::with_capacity(sorted.len());
        for (rank, m) in sorted.iter().enumerate() {
            index.insert_unique(hasher.hash_one(&m.key), rank, |&r: &usize| {
                hasher.hash_one(&sorted[r].key)
            });
        }
        let find = |key: &MigrationKey| {
            index
                .find(hasher.hash_one(key), |&r| sorted[r].key == *key)
                .copied()
        };
        // Positions in key order ("ranks") first: a ready set ordered by rank is
        // ordered by key, as the order's ties are broken.
        let mut parents = Vec::with_capacity(sorted.len());
        for m in &sorted {
            let mut own = Vec::with_capacity(m.dependencies.len());
            for dependency in &m.dependencies {
                let Some(rank) = find(dependency) else {
                    return Err(GraphError::MissingDependency {
                        migration: m.key.clone(),
                        path: m.path.clone(),
                        dependency: dependency.clone(),
                    });
                };
                own.push(rank);
            }
            parents.push(own);
        }
        let children = reverse(&parents);
        let order = topological_order(&parents, &children).map_err(|done| GraphError::Cycle {
            cycle: find_cycle(&sorted, &parents, &done),
        })?;
        let mut position = vec![0; order.len()];
        for (at, &rank) in order.iter().enumerate() {
            position[rank] = at;
        }
        let renumber = |edges: &[usize]| edges.iter().map(|&r| position[r]).collect();
        let parents: Vec<Vec<usize>> = order.iter().map(|&r| renumber(&parents[r])).collect();
        for slot in &mut index {
            *slot = position[*slot];
        }
        Ok(Self {
            list: order.iter().map(|&r| Arc::clone(&sorted[r])).collect(),
            children: reverse(&parents),
            parents,
            by_key: position,
            index,
            hasher,
        })
    }

    pub(super) fn len(&self) -> usize {
        self.list.len()
    }

    /// The position of `key`'s node.
    pub(super) fn position(&self, key: &MigrationKey) -> Option<usize> {
        self.index
            .find(self.hasher.hash_one(key), |&at| self.list[at].key == *key)
            .copied()
    }

    pub(super) fn get(&self, key: &MigrationKey) -> Option<&Arc<Migration>> {
        self.position(key).map(|at| &self.list[at])
    }

    /// The empty set.
    pub(super) fn none(&self) -> Mask {
        vec![false; self.len()]
    }

    /// The nodes of `keys` (keys of no node are left out).
    pub(super) fn mask_of<'k>(&self, keys: impl IntoIterator<Item = &'k MigrationKey>) -> Mask {
        let mut mask = self.none();
        for at in keys.into_iter().filter_map(|k| self.position(k)) {
            mask[at] = true;
        }
        mask
    }

    /// Adds node `at` and everything it depends on to `mask`; a node already in it
    /// brought its ancestors before.
    pub(super) fn add_ancestors(&self, at: usize, mask: &mut Mask) {
        Self::walk(&self.parents, at, mask);
    }

    /// Adds node `at` and everything that depends on it to `mask`.
    pub(super) fn add_descendants(&self, at: usize, mask: &mut Mask) {
        Self::walk(&self.children, at, mask);
    }

    fn walk(edges: &[Vec<usize>], at: usize, mask: &mut Mask) {
        let mut stack = vec![at];
        while let Some(at) = stack.pop() {
            if !std::mem::replace(&mut mask[at], true) {
                stack.extend(edges[at].iter().copied().filter(|&next| !mask[next]));
            }
        }
    }
}

/// The reverse of `edges`.
fn reverse(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut reversed = vec![Vec::new(); edges.len()];
    for (from, targets) in edges.iter().enumerate() {
        for &to in targets {
            reversed[to].push(from);
        }
    }
    reversed
}

/// Kahn's algorithm with a sorted ready set, so the order never depends on hashing:
/// the nodes in order, or those it could place when the rest form a cycle.
fn topological_order(
    parents: &[Vec<usize>],
    children: &[Vec<usize>],
) -> Result<Vec<usize>, Vec<usize>> {
    let mut pending: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut ready: BTreeSet<usize> = (0..parents.len()).filter(|&r| pending[r] == 0).collect();
    let mut order = Vec::with_capacity(parents.len());
    while let Some(rank) = ready.pop_first() {
        order.push(rank);
        for &child in &children[rank] {
            pending[child] -= 1;
            if pending[child] == 0 {
                ready.insert(child);
            }
        }
    }
    if order.len() == parents.len() {
        Ok(order)
    } else {
        Err(order)
    }
}

/// One cycle among the nodes not `done`, for the error message: from the first in
/// key order, every stuck node has a stuck dependency; walk them until one repeats.
fn find_cycle(
    sorted: &[Arc<Migration>],
    parents: &[Vec<usize>],
    done: &[usize],
) -> Vec<MigrationKey> {
    let mut stuck = vec![true; sorted.len()];
    for &rank in done {
        stuck[rank] = false;
    }
    let start = (0..sorted.len())
        .find(|&r| stuck[r])
        .expect("a cycle exists");
    let mut path = vec![start];
    loop {
        let current = *path.last().expect("non-empty");
        let next = *parents[current]
            .iter()
            .find(|&&p| stuck[p])
            .expect("a stuck migration has a stuck dependency");
        if let Some(at) = path.iter().position(|&r| r == next) {
            let mut cycle: Vec<MigrationKey> =
                path[at..].iter().map(|&r| sorted[r].key.clone()).collect();
            cycle.push(sorted[next].key.clone());
            cycle.reverse();
            return cycle;
        }
        path.push(next);
    }
}
