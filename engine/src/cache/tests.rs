//! The cache serves exactly what parsing and replaying would give, and nothing it
//! cannot vouch for.

use std::path::Path;

use super::*;
use crate::graph::Graph;
use crate::migration::{Migration, MigrationKey};
use crate::project::{Overrides, Project};

const FIRST: &str = r#"
[[operations]]
kind = "create_table"
name = "item"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "title", type = "varchar(80)", default = "x" }]

[[operations]]
kind = "create_index"
table = "item"
index = { name = "item_title", columns = ["title"], where = "title <> ''" }
"#;

const SECOND: &str = r#"dependencies = ["shop.0001_initial"]
atomic = false

[[operations]]
kind = "add_column"
table = "item"
column = { name = "price", type = "decimal(10,2)", null = true }

[lint]
allow = [{ operation = 1, rules = ["add-column"], reason = "test" }]
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("apps/shop/migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    std::fs::write(
        dir.path().join("strata.toml"),
        "[project]\napps = [\"shop\"]\n",
    )
    .unwrap();
    std::fs::write(migrations.join("0001_initial.toml"), FIRST).unwrap();
    std::fs::write(migrations.join("0002_price.toml"), SECOND).unwrap();
    dir
}

fn load(root: &Path) -> Project {
    Project::load(root, &Overrides::default()).unwrap()
}

fn uncached(root: &Path) -> Project {
    let overrides = Overrides {
        no_cache: true,
        ..Overrides::default()
    };
    Project::load(root, &overrides).unwrap()
}

fn migrations(project: &Project) -> Vec<Migration> {
    project.migrations().cloned().collect()
}

/// Whether every migration came from the cache (its operations not parsed again).
fn all_cached(project: &Project) -> bool {
    project
        .migrations()
        .all(|m| m.operations.stored().is_some())
}

fn cache_file(root: &Path) -> std::path::PathBuf {
    root.join(DIR).join("migrations-shop.json")
}

#[test]
fn a_cached_migration_is_the_parsed_one() {
    let dir = project();
    let first = load(dir.path());
    assert!(!all_cached(&first), "nothing to read the first time");
    assert!(cache_file(dir.path()).is_file());
    let second = load(dir.path());
    assert!(all_cached(&second));
    assert_eq!(migrations(&second), migrations(&uncached(dir.path())));
    // The operation count is known before the operations are parsed.
    let price = second.migrations().nth(1).unwrap();
    assert_eq!(price.operations.len(), 1);
    assert_eq!(price.lint.allow[0].rules, ["add-column"]);
    assert!(!price.atomic);
}

#[test]
fn an_edited_file_is_parsed_again() {
    let dir = project();
    load(dir.path());
    // Same length, same modification time granularity: only the bytes differ.
    let path = dir.path().join("apps/shop/migrations/0002_price.toml");
    std::fs::write(&path, SECOND.replace("price", "costs")).unwrap();
    let edited = load(dir.path());
    let m = edited.migrations().nth(1).unwrap();
    assert!(m.operations.stored().is_none());
    assert_eq!(migrations(&edited), migrations(&uncached(dir.path())));
    // And the rewritten cache serves the edit.
    assert!(all_cached(&load(dir.path())));
    assert_eq!(migrations(&load(dir.path())), migrations(&edited));
}

#[test]
fn a_damaged_cache_is_ignored_and_rewritten() {
    let dir = project();
    load(dir.path());
    let file = cache_file(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    // Another table name in the body, the header left as it was.
    std::fs::write(&file, text.replace("item", "iten")).unwrap();
    let project = load(dir.path());
    assert!(!all_cached(&project));
    assert_eq!(migrations(&project), migrations(&uncached(dir.path())));
    // Truncated, or not a cache at all.
    for broken in [&text[..text.len() / 2], "", "strata-cache\n[]"] {
        std::fs::write(&file, broken).unwrap();
        let project = load(dir.path());
        assert!(!all_cached(&project), "{broken:.40}");
        assert_eq!(migrations(&project), migrations(&uncached(dir.path())));
    }
    assert!(all_cached(&load(dir.path())));
}

#[test]
fn a_cache_written_by_another_build_is_ignored() {
    let dir = project();
    load(dir.path());
    let file = cache_file(dir.path());
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replacen(BUILD, "0000000000000000", 1)).unwrap();
    assert!(!all_cached(&load(dir.path())));
}

#[test]
fn a_foreign_cache_serves_only_files_with_the_same_bytes() {
    let ours = project();
    load(ours.path());
    let theirs = project();
    let edited = theirs.path().join("apps/shop/migrations/0001_initial.toml");
    std::fs::write(&edited, FIRST.replace("varchar(80)", "varchar(90)")).unwrap();
    std::fs::create_dir_all(theirs.path().join(DIR)).unwrap();
    std::fs::copy(cache_file(ours.path()), cache_file(theirs.path())).unwrap();
    let project = load(theirs.path());
    let [first, second] = &migrations(&project)[..] else {
        panic!("two migrations")
    };
    assert!(first.operations.stored().is_none(), "other bytes: parsed");
    assert!(second.operations.stored().is_some(), "same bytes: served");
    assert_eq!(migrations(&project), migrations(&uncached(theirs.path())));
    assert_eq!(first.path, edited);
}

#[test]
fn no_cache_reads_and_writes_nothing() {
    let dir = project();
    let project = uncached(dir.path());
    assert!(project.cache.is_none());
    assert!(!dir.path().join(DIR).exists());
}

#[test]
fn an_unwritable_cache_costs_nothing_but_time() {
    let dir = project();
    // `.strata` is a file: the cache folder cannot be made.
    std::fs::write(dir.path().join(".strata"), "not a folder").unwrap();
    let project = load(dir.path());
    assert_eq!(migrations(&project), migrations(&uncached(dir.path())));
}

#[cfg(unix)]
#[test]
fn a_cache_folder_outside_the_project_is_not_used() {
    let dir = project();
    let elsewhere = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), dir.path().join(".strata")).unwrap();
    let project = load(dir.path());
    assert!(project.cache.is_none());
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[test]
fn a_replayed_state_is_the_computed_one() {
    let dir = project();
    let graph = Graph::from_project(&load(dir.path())).unwrap();
    let ordered: Vec<&Migration> = graph.ordered().collect();
    let cases: Vec<Vec<(&Migration, usize)>> = vec![
        vec![(ordered[0], 2), (ordered[1], 1)],
        vec![(ordered[0], 2)],
        vec![(ordered[0], 1)],
        vec![(ordered[0], 2), (ordered[1], 0)],
        vec![(ordered[0], 2), (ordered[1], 1)],
    ];
    for steps in &cases {
        let plain = states::replay(None, steps).unwrap();
        // A miss (or a longer prefix found), then a hit.
        assert_eq!(graph.replay(steps).unwrap(), plain, "{steps:?}");
        assert_eq!(graph.replay(steps).unwrap(), plain, "{steps:?}");
    }
    let cached = std::fs::read_to_string(dir.path().join(DIR).join("states.json")).unwrap();
    assert!(cached.contains("price"), "the latest state is kept");
}

#[test]
fn a_file_with_other_line_endings_keeps_its_checksum_when_served() {
    let dir = project();
    let path = dir.path().join("apps/shop/migrations/0002_price.toml");
    std::fs::write(&path, SECOND.replace('\n', "\r\n")).unwrap();
    load(dir.path());
    let served = load(dir.path());
    assert!(all_cached(&served));
    let plain = uncached(dir.path());
    assert_eq!(migrations(&served), migrations(&plain));
    // The checksum ignores line endings, the bytes' hash does not: both are kept.
    let second = served.migrations().nth(1).unwrap();
    assert_eq!(second.checksum, plain.migrations().nth(1).unwrap().checksum);
    assert_eq!(second.replaces, Vec::new());
    assert_eq!(
        second.dependencies,
        [MigrationKey::new("shop", "0001_initial")]
    );
}

/// More files than one thread takes: hashed on several, found in the order of
/// their names.
#[test]
fn many_files_are_served_in_order_and_an_edited_one_is_parsed_again() {
    let dir = project();
    let migrations_dir = dir.path().join("apps/shop/migrations");
    for n in 3..=300 {
        let text = format!(
            "dependencies = [\"shop.{:04}_step\"]\nreplaces = [\"shop.{:04}_gone\", \"shop.{:04}_also\"]\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"SELECT {n}\"\n",
            n - 1,
            n + 1000,
            n + 2000,
        );
        std::fs::write(migrations_dir.join(format!("{n:04}_step.toml")), text).unwrap();
    }
    let first = load(dir.path());
    assert_eq!(first.migrations().count(), 300);
    let served = load(dir.path());
    assert!(all_cached(&served));
    assert_eq!(migrations(&served), migrations(&uncached(dir.path())));
    let names: Vec<&str> = served.migrations().map(|m| m.key.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted);
    // Same length, other bytes, in the middle of the second half.
    let edited = migrations_dir.join("0250_step.toml");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replace("SELECT 250", "SELECT 251")).unwrap();
    let project = load(dir.path());
    let reparsed: Vec<&str> = project
        .migrations()
        .filter(|m| m.operations.stored().is_none())
        .map(|m| m.key.name.as_str())
        .collect();
    assert_eq!(reparsed, ["0250_step"]);
    assert_eq!(migrations(&project), migrations(&uncached(dir.path())));
}

#[test]
fn of_several_broken_files_the_first_is_reported() {
    let dir = project();
    let migrations_dir = dir.path().join("apps/shop/migrations");
    for n in 3..=300 {
        let text = if n == 120 || n == 260 {
            "not = [toml".to_string()
        } else {
            format!("dependencies = [\"shop.{:04}_step\"]\n", n - 1)
        };
        std::fs::write(migrations_dir.join(format!("{n:04}_step.toml")), text).unwrap();
    }
    let error = Project::load(dir.path(), &Overrides::default()).unwrap_err();
    assert!(error.to_string().contains("0120_step.toml"), "{error}");
}

#[cfg(unix)]
#[test]
fn a_file_whose_name_the_records_cannot_hold_is_parsed_each_time() {
    let dir = project();
    let odd = dir.path().join("apps/shop/migrations/0003_odd\tname.toml");
    std::fs::write(&odd, "dependencies = [\"shop.0002_price\"]\n").unwrap();
    load(dir.path());
    let project = load(dir.path());
    let cached: Vec<bool> = project
        .migrations()
        .map(|m| m.operations.stored().is_some())
        .collect();
    assert_eq!(cached, [true, true, false]);
    assert_eq!(migrations(&project), migrations(&uncached(dir.path())));
}

/// The operations stay in the cache file until asked for: a newer cache written
/// meanwhile (by another process, renamed over it) does not change them.
#[test]
fn operations_read_late_are_those_of_the_file_that_was_checked() {
    let dir = project();
    load(dir.path());
    let early = load(dir.path());
    let path = dir.path().join("apps/shop/migrations/0001_initial.toml");
    std::fs::write(&path, FIRST.replace("item_title", "item_label")).unwrap();
    let later = load(dir.path());
    assert!(
        !all_cached(&later),
        "the edit is parsed, the cache rewritten"
    );
    let first = early.migrations().next().unwrap();
    let index = match &first.operations[1] {
        crate::ast::Operation::CreateIndex(op) => op.index.name.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(index, "item_title");
}
