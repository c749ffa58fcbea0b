//! The blocking front (`strata::blocking::Migrator`), for applications without an
//! async runtime, on every backend.

use std::path::Path;

use crate::common::db::{Kind, TestDb};
use strata::blocking::Migrator;
use strata_testkit::for_each_backend;

fn blocking_migrate(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/evolving");
    let migrator = Migrator::from_project(&root).unwrap();

    let report = migrator.run(&db.url).unwrap();
    assert_eq!(report.steps.len(), 7, "{report:?}");
    assert!(migrator.status(&db.url).unwrap().is_up_to_date());
    assert!(db.table_names().contains(&"tracker_kind".to_string()));
    let zero = migrator.inner().zero("auth").unwrap();
    let back = migrator.migrate_to(&db.url, &[zero]).unwrap();
    assert_eq!(back.steps.len(), 7, "auth zero unapplies tracker too");
    assert_eq!(db.table_names(), ["strata_migrations"]);
}

for_each_backend!(blocking_api_migrates_and_rolls_back, blocking_migrate);
