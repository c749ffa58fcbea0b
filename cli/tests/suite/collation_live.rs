//! Per-column collation on real data: a unique username under a case-sensitive
//! collation (PostgreSQL `C`, MySQL `utf8mb4_bin`) holds `Bob` beside `bob`, under
//! SQLite's `NOCASE` it does not; the collation reads back (inspectdb writes it for
//! the backend it read), and taking it off is a migration that runs and rolls back.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const WITH: &str = "[User]\nfields.username = { type = \"varchar(40)\", unique = true, collation = { postgres = \"C\", mysql = \"utf8mb4_bin\", sqlite = \"NOCASE\" } }\n";
const WITHOUT: &str = "[User]\nfields.username = { type = \"varchar(40)\", unique = true }\n";

fn inserted(db: &TestDb, sql: &str) -> bool {
    block_on(async {
        let mut d = db.connect().await;
        let r = d.execute(sql).await;
        d.close().await.unwrap();
        r.is_ok()
    })
}

fn collated_columns(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[("strata.toml", &config), ("apps/shop/models.toml", WITH)]);
    let made = strata(dir.path(), &["makemigrations"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let migrated = strata(dir.path(), &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);

    db.execute("INSERT INTO shop_user (username) VALUES ('bob')");
    let second = inserted(&db, "INSERT INTO shop_user (username) VALUES ('Bob')");
    assert_eq!(second, kind != Kind::Sqlite, "{kind:?}: case sensitivity");

    let (key, name) = match kind {
        Kind::Sqlite => ("sqlite", "NOCASE"),
        Kind::Postgres => ("postgres", "C"),
        Kind::Mariadb => ("mysql", "utf8mb4_bin"),
    };
    let out = strata(dir.path(), &["inspectdb", "shop"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let wanted = format!("collation = {{ {key} = \"{name}\" }}");
    assert!(out.stdout.contains(&wanted), "{kind:?}: {}", out.stdout);

    db.execute("DELETE FROM shop_user");
    std::fs::write(dir.path().join("apps/shop/models.toml"), WITHOUT).unwrap();
    let made = strata(dir.path(), &["makemigrations"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let migrated = strata(dir.path(), &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    let out = strata(dir.path(), &["inspectdb", "shop"]);
    assert!(
        !out.stdout.contains("collation"),
        "{kind:?}: {}",
        out.stdout
    );
    let back = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    let out = strata(dir.path(), &["inspectdb", "shop"]);
    assert!(out.stdout.contains(&wanted), "{kind:?}: {}", out.stdout);
    let zero = strata(dir.path(), &["migrate", "shop", "zero"]);
    assert_eq!(zero.code, 0, "{}", zero.stderr);
}

for_each_backend!(collated_columns_live, collated_columns);
