//! The blocking entry point, for applications without an async runtime.

use std::path::Path;
use std::time::Duration;

use crate::common::db::{Kind, TestDb};
use strata_engine::blocking::Database;
use strata_engine::executor::Options;
use strata_engine::graph::{Graph, Target};
use strata_engine::project::{Overrides, Project};
use strata_testkit::for_each_backend;

fn blocking_migrate(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/evolving");
    let project = Project::load(&root, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let options = Options::new("strata_migrations", Duration::from_secs(10));

    let mut database = Database::connect(&strata::backends(), &db.url).unwrap();
    let steps = database
        .migrate(&graph, &graph.latest_targets(), &options)
        .unwrap();
    assert_eq!(steps.len(), 7);
    assert_eq!(database.status(&options).unwrap().applied().len(), 7);
    assert!(database
        .introspect()
        .unwrap()
        .tables
        .contains_key("tracker_kind"));
    let back = database
        .migrate(&graph, &[Target::Zero("auth".into())], &options)
        .unwrap();
    assert_eq!(back.len(), 7, "auth zero unapplies tracker too");
    database.close().unwrap();
    assert_eq!(db.table_names(), ["strata_migrations"]);
}

for_each_backend!(blocking_api_migrates_and_rolls_back, blocking_migrate);
