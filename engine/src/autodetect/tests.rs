//! Unit tests of the pieces; the behaviour of `diff` is tested in `engine/tests/autodetect`.

use std::collections::{BTreeMap, BTreeSet};

use super::order::dependency_order;
use super::renames::name_similarity;
use super::rules::mentions;

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(ToString::to_string).collect()
}

#[test]
fn dependencies_come_first_and_ties_go_by_name() {
    let nodes = set(&["a", "b", "c", "d"]);
    let after = BTreeMap::from([
        ("a".to_string(), set(&["c"])),
        ("b".to_string(), set(&["b"])), // itself: no dependency
    ]);
    assert_eq!(dependency_order(&nodes, &after), ["b", "c", "a", "d"]);
}

#[test]
fn a_cycle_is_broken_at_its_smallest_name() {
    let nodes = set(&["x", "y", "z"]);
    let after = BTreeMap::from([
        ("y".to_string(), set(&["z"])),
        ("z".to_string(), set(&["y"])),
        ("x".to_string(), set(&["y", "outside"])),
    ]);
    assert_eq!(dependency_order(&nodes, &after), ["y", "x", "z"]);
}

#[test]
fn similar_names_score_high_and_unrelated_ones_low() {
    assert!(name_similarity("desc", "description") > 0.8);
    assert!(name_similarity("adress", "address") > 0.9);
    // Equal once lowercased: both measures give exactly 1.0 for identical strings.
    #[allow(clippy::float_cmp)]
    let exact = name_similarity("Name", "name") == 1.0;
    assert!(exact);
    assert!(name_similarity("amount", "zebra") < 0.5);
}

#[test]
fn mentions_whole_identifiers_only() {
    assert!(mentions("qty >= 0", "qty"));
    assert!(mentions("\"QTY\" >= 0", "qty"));
    assert!(!mentions("qty_max >= 0", "qty"));
    assert!(!mentions("x > 0", ""));
}
