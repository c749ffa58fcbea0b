//! Dependency order between tables, deterministic and total even over cycles.

use std::collections::{BTreeMap, BTreeSet};

/// `nodes` ordered so that each comes after the nodes it depends on (`after[n]`:
/// what must come before `n`; names outside `nodes` and a node's dependency on
/// itself are ignored), smallest name first among the ready ones. A cycle is broken
/// at its smallest name: that node comes out while some of its dependencies are
/// still pending, and the caller deals with those (a foreign key created later, or
/// dropped first).
pub(crate) fn dependency_order(
    nodes: &BTreeSet<String>,
    after: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut pending: BTreeSet<&str> = nodes.iter().map(String::as_str).collect();
    let waits_for = |n: &str, pending: &BTreeSet<&str>| -> Option<String> {
        after
            .get(n)?
            .iter()
            .find(|d| d.as_str() != n && pending.contains(d.as_str()))
            .cloned()
    };
    let mut out = Vec::with_capacity(nodes.len());
    while let Some(first) = pending.first().copied() {
        let ready = pending
            .iter()
            .copied()
            .find(|n| waits_for(n, &pending).is_none());
        let next = match ready {
            Some(n) => n.to_string(),
            None => smallest_on_a_cycle(first, |n| waits_for(n, &pending)),
        };
        pending.remove(next.as_str());
        out.push(next);
    }
    out
}

/// Follows the first pending dependency from `start` until a node repeats: the
/// nodes from its first visit on form a cycle; the smallest of them is returned.
/// (Every pending node waits for another when this is called, so the walk repeats.)
fn smallest_on_a_cycle(start: &str, waits_for: impl Fn(&str) -> Option<String>) -> String {
    let mut path: Vec<String> = Vec::new();
    let mut current = start.to_string();
    loop {
        if let Some(pos) = path.iter().position(|n| *n == current) {
            return path.split_off(pos).into_iter().min().unwrap_or(current);
        }
        let next = waits_for(&current);
        path.push(current);
        match next {
            Some(next) => current = next,
            // Not reached (every pending node waits); the walk's end is a fine choice.
            None => return path.pop().unwrap_or_default(),
        }
    }
}
