//! The five-minute tutorial (docs/tutorial.md), as a new user runs it from an empty
//! folder: `init`, `startapp`, models, `makemigrations`, `migrate`, `showmigrations`,
//! `sqlmigrate`, a change, and a rollback — on each backend.

use std::path::Path;

use crate::common::db::{self, Kind, TestDb};
use crate::common::{strata, Output};
use strata_testkit::for_each_backend;

/// The tutorial's first models: Django's expense tracker.
const MODELS: &str = r#"[Category]
fields.name = { type = "varchar(50)", unique = true }
fields.description = "text?"

[Transaction]
indexes = [["created_at"]]

[Transaction.fields]
amount = "decimal(12,2)"
description = "text"
created_at = { type = "datetime", default = "now" }
category = { references = "Category", null = true, on_delete = "set null" }
"#;

/// The change: a field and a model.
const CHANGED: &str = r#"
[Tag]
fields.name = "varchar(30)"
"#;

/// `strata ARGS` in the project, on the test's database; exit 0 expected.
fn ok(root: &Path, database: Option<&str>, args: &[&str]) -> Output {
    let mut all: Vec<&str> = args.to_vec();
    if let Some(url) = database {
        all.extend(["--database", url]);
    }
    let out = strata(root, &all);
    assert_eq!(
        out.code,
        0,
        "strata {}:\n{}\n{}",
        args.join(" "),
        out.stdout,
        out.stderr
    );
    out
}

fn says(out: &Output, what: &str) {
    let both = format!("{}{}", out.stdout, out.stderr);
    assert!(both.contains(what), "expected `{what}` in:\n{both}");
}

/// The name of the tracker's migration starting with `number`.
fn migration(root: &Path, number: &str) -> String {
    let dir = root.join("apps/tracker/migrations");
    let mut found: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".toml").map(str::to_string)
        })
        .filter(|n| n.starts_with(number))
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    found.pop().unwrap()
}

fn tutorial(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    // SQLite: the project's own default database file, as the tutorial has it.
    let database = (kind != Kind::Sqlite).then_some(db.url.as_str());
    let tmp = tempfile::tempdir().unwrap();
    let out = strata(tmp.path(), &["init", "mysite"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let root = tmp.path().join("mysite");
    let out = ok(&root, None, &["startapp", "tracker"]);
    says(&out, "apps/tracker/models.toml");
    let models = root.join("apps/tracker/models.toml");
    let header = std::fs::read_to_string(&models).unwrap();
    std::fs::write(&models, format!("{header}\n{MODELS}")).unwrap();

    let out = ok(&root, database, &["makemigrations"]);
    says(&out, "Migrations for 'tracker':");
    says(&out, "0001_initial.toml");
    says(&out, "Create table tracker_category");
    let out = ok(&root, database, &["migrate"]);
    says(&out, "Applying tracker.0001_initial");
    let out = ok(&root, database, &["showmigrations"]);
    says(&out, " [X] 0001_initial");
    let out = ok(
        &root,
        database,
        &["sqlmigrate", "tracker", "0001", "--dialect", "postgres"],
    );
    says(&out, "CREATE TABLE \"tracker_category\"");
    says(&out, "REFERENCES \"tracker_category\"");

    let changed = std::fs::read_to_string(&models).unwrap().replace(
        "description = \"text\"\n",
        "description = \"text\"\nnote = \"text?\"\n",
    ) + CHANGED;
    std::fs::write(&models, changed).unwrap();
    let out = ok(&root, database, &["makemigrations"]);
    let second = migration(&root, "0002");
    says(&out, &format!("{second}.toml"));
    says(&out, "tracker_tag");
    let out = ok(&root, database, &["migrate"]);
    says(&out, &format!("Applying tracker.{second}"));
    assert!(tables(&db, &root).contains(&"tracker_tag".to_string()));

    // The rollback, planned: what will run (the inverses, last operation first), with
    // what each one destroys; not the migration's own forward operations.
    let out = ok(&root, database, &["migrate", "tracker", "0001", "--plan"]);
    says(&out, &format!("Unapply tracker.{second}"));
    let drop_column = out.stdout.find("Drop column note from tracker_transaction");
    let drop_table = out.stdout.find("Drop table tracker_tag");
    assert!(
        drop_column.is_some() && drop_table.is_some() && drop_column < drop_table,
        "the inverses in run order:\n{}",
        out.stdout
    );
    says(
        &out,
        "! unapplying it drops data: table tracker_tag and its rows",
    );
    assert!(
        !out.stdout.contains("Create table tracker_tag"),
        "{}",
        out.stdout
    );
    assert!(
        tables(&db, &root).contains(&"tracker_tag".to_string()),
        "--plan changed the database"
    );
    let out = ok(&root, database, &["migrate", "tracker", "0001"]);
    says(&out, &format!("Unapplying tracker.{second}"));
    let out = ok(&root, database, &["showmigrations"]);
    says(&out, " [X] 0001_initial");
    says(&out, &format!(" [ ] {second}"));
    let left = tables(&db, &root);
    assert!(!left.contains(&"tracker_tag".to_string()), "{left:?}");
    assert!(
        left.contains(&"tracker_transaction".to_string()),
        "{left:?}"
    );
}

/// The tables of the tutorial's database: the test's server database, or for
/// SQLite the project's own file.
fn tables(db: &TestDb, root: &Path) -> Vec<String> {
    if db.kind != Kind::Sqlite {
        return db.table_names();
    }
    let url = format!("sqlite://{}", root.join("db.sqlite3").display());
    let (backend, _) = strata::backends()
        .for_url(&url)
        .map(|(b, s)| (b.clone(), s))
        .unwrap();
    db::block_on(async {
        let mut driver = backend.connect(&url).await.unwrap();
        let names = driver.table_names().await.unwrap();
        driver.close().await.unwrap();
        names
    })
}

for_each_backend!(tutorial_from_an_empty_folder, tutorial);
