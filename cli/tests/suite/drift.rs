//! `strata drift` on every backend: after `migrate`, each hand-made change (a column
//! added, dropped, retyped, made nullable, given another default; an index added or
//! dropped; a foreign key dropped; a table added) is reported as exactly that
//! difference (exit 1), and `--revert` puts it back (exit 0 after). Then a change
//! holding data: `--revert --noinput` refuses to drop it (exit 3), `--write-migration`
//! adopts it, after which `drift` and `makemigrations --check` are clean; meanwhile
//! `showmigrations` hints at the extra table.
//! One database per backend, the changes made and undone in sequence.

use serde_json::Value;

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{strata, tracker_copy};
use strata_testkit::for_each_backend;

/// (table, kind, name, attribute) of one difference.
type Expected = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
);

/// One hand-made change: its SQL on a backend (`None`: that backend cannot make it
/// in place, as SQLite cannot drop a foreign key) and the one difference expected:
/// table, kind, name, attribute.
struct Change {
    what: &'static str,
    sql: fn(Kind) -> Option<&'static str>,
    /// On SQLite, where `ALTER TABLE` cannot make the change: the table rebuilt by
    /// hand with `from` replaced by `to` in its definition (table, from, to).
    sqlite_rebuild: Option<(&'static str, &'static str, &'static str)>,
    expected: fn(Kind) -> Expected,
}

const CHANGES: &[Change] = &[
    Change {
        what: "added column",
        sql: |_| Some("ALTER TABLE tracker_category ADD COLUMN note varchar(20) NULL"),
        sqlite_rebuild: None,
        expected: |_| ("tracker_category", "column_extra", "note", None),
    },
    Change {
        what: "dropped column",
        sql: |_| Some("ALTER TABLE auth_user DROP COLUMN is_active"),
        sqlite_rebuild: None,
        expected: |_| ("auth_user", "column_missing", "is_active", None),
    },
    Change {
        what: "altered type",
        sql: |kind| match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                Some("ALTER TABLE tracker_category ALTER COLUMN name TYPE varchar(80)")
            }
            Kind::Mariadb => Some("ALTER TABLE tracker_category MODIFY name varchar(80) NOT NULL"),
        },
        sqlite_rebuild: Some((
            "tracker_category",
            r#""name" varchar(50)"#,
            r#""name" varchar(80)"#,
        )),
        expected: |_| ("tracker_category", "column_changed", "name", Some("type")),
    },
    Change {
        what: "altered null",
        sql: |kind| match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                Some("ALTER TABLE tracker_category ALTER COLUMN description DROP NOT NULL")
            }
            Kind::Mariadb => Some("ALTER TABLE tracker_category MODIFY description longtext NULL"),
        },
        sqlite_rebuild: Some((
            "tracker_category",
            r#""description" text NOT NULL"#,
            r#""description" text NULL"#,
        )),
        expected: |_| {
            (
                "tracker_category",
                "column_changed",
                "description",
                Some("null"),
            )
        },
    },
    Change {
        what: "changed default",
        sql: |kind| match kind {
            Kind::Sqlite => None,
            Kind::Postgres => {
                Some("ALTER TABLE auth_user ALTER COLUMN is_active SET DEFAULT false")
            }
            Kind::Mariadb => Some("ALTER TABLE auth_user ALTER COLUMN is_active SET DEFAULT 0"),
        },
        sqlite_rebuild: Some((
            "auth_user",
            r#""is_active" bool NOT NULL DEFAULT 1"#,
            r#""is_active" bool NOT NULL DEFAULT 0"#,
        )),
        expected: |_| ("auth_user", "column_changed", "is_active", Some("default")),
    },
    Change {
        what: "added index",
        sql: |_| Some("CREATE INDEX drift_extra_idx ON tracker_category (name)"),
        sqlite_rebuild: None,
        expected: |_| ("tracker_category", "index_extra", "drift_extra_idx", None),
    },
    Change {
        what: "dropped index",
        // MySQL keeps the index a foreign key needs: there, the unique index goes.
        sql: |kind| match kind {
            Kind::Mariadb => Some("DROP INDEX auth_user_username_uniq ON auth_user"),
            _ => Some("DROP INDEX tracker_transaction_category_id_idx"),
        },
        sqlite_rebuild: None,
        expected: |kind| match kind {
            Kind::Mariadb => (
                "auth_user",
                "unique_missing",
                "auth_user_username_uniq",
                None,
            ),
            _ => (
                "tracker_transaction",
                "index_missing",
                "tracker_transaction_category_id_idx",
                None,
            ),
        },
    },
    Change {
        what: "dropped foreign key",
        sql: |kind| {
            match kind {
            Kind::Sqlite => None,
            Kind::Postgres => Some(
                "ALTER TABLE tracker_transaction DROP CONSTRAINT tracker_transaction_category_id_fk",
            ),
            Kind::Mariadb => Some(
                "ALTER TABLE tracker_transaction DROP FOREIGN KEY tracker_transaction_category_id_fk",
            ),
        }
        },
        sqlite_rebuild: Some((
            "tracker_transaction",
            r#" REFERENCES "tracker_category" ("id") ON DELETE SET NULL"#,
            "",
        )),
        expected: |_| {
            (
                "tracker_transaction",
                "foreign_key_missing",
                "(category_id) -> tracker_category (id)",
                None,
            )
        },
    },
    Change {
        what: "extra table",
        sql: |_| {
            Some("CREATE TABLE drift_extra (id integer NOT NULL PRIMARY KEY, v varchar(20) NULL)")
        },
        sqlite_rebuild: None,
        expected: |_| ("drift_extra", "table_extra", "", None),
    },
];

/// `strata drift --format json`: its exit code and document (checked against its
/// schema).
fn drift(dir: &std::path::Path) -> (i32, Value) {
    let out = strata(dir, &["--format", "json", "drift"]);
    assert!(out.code == 0 || out.code == 1, "drift: {}", out.stderr);
    (out.code, assert_shape("drift", &out.stdout))
}

/// The differences of a drift document as (table, kind, name, attribute).
fn differences(doc: &Value) -> Vec<(String, String, String, Option<String>)> {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let mut out = Vec::new();
    for t in doc["tables"].as_array().unwrap() {
        for d in t["differences"].as_array().unwrap() {
            out.push((
                text(&t["table"]),
                text(&d["kind"]),
                text(&d["name"]),
                d["attribute"].as_str().map(String::from),
            ));
        }
    }
    out
}

fn assert_clean(dir: &std::path::Path, when: &str) {
    let (code, doc) = drift(dir);
    assert_eq!(code, 0, "{when}: {doc:#}");
    assert_eq!(doc["drift"], Value::Bool(false), "{when}: {doc:#}");
    assert!(differences(&doc).is_empty(), "{when}: {doc:#}");
}

fn hand_made_changes(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let migrated = strata(dir, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    assert_clean(dir, "after migrate");

    for change in CHANGES {
        let what = format!("{kind:?}: {}", change.what);
        match ((change.sql)(kind), change.sqlite_rebuild) {
            (Some(sql), _) => db.execute(sql),
            (None, Some((table, from, to))) if kind == Kind::Sqlite => {
                rebuild_by_hand(&db, table, from, to);
            }
            (None, _) => panic!("{what}: no way to make the change"),
        }
        let (code, doc) = drift(dir);
        assert_eq!(code, 1, "{what}: {doc:#}");
        assert_eq!(doc["drift"], Value::Bool(true), "{what}");
        let (table, k, name, attribute) = (change.expected)(kind);
        assert_eq!(
            differences(&doc),
            [(
                table.to_string(),
                k.to_string(),
                name.to_string(),
                attribute.map(String::from)
            )],
            "{what}: {doc:#}"
        );
        let text = strata(dir, &["drift"]);
        assert_eq!(text.code, 1, "{what}: {}", text.stderr);
        assert!(text.stdout.contains(table), "{what}: {}", text.stdout);

        let reverted = strata(
            dir,
            &["drift", "--revert", "--noinput", "--allow-data-loss"],
        );
        assert_eq!(
            reverted.code, 0,
            "{what}: {}{}",
            reverted.stdout, reverted.stderr
        );
        assert_clean(dir, &format!("{what}, reverted"));
    }

    changes_holding_data(&db, dir);
}

/// Changes a SQLite table the way its documentation tells people to
/// (sqlite.org/lang_altertable.html, "other kinds of table schema changes"): a new
/// table from the edited definition, the rows copied, the old table dropped, the new
/// one renamed, its indexes made again.
fn rebuild_by_hand(db: &TestDb, table: &str, from: &str, to: &str) {
    let definitions = |kind: &str| -> Vec<String> {
        db.query(&format!(
            "SELECT sql FROM sqlite_master WHERE tbl_name = '{table}' AND type = '{kind}' AND sql IS NOT NULL"
        ))
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect()
    };
    let create = definitions("table").remove(0);
    let indexes = definitions("index");
    let edited = create.replacen(from, to, 1);
    assert_ne!(edited, create, "`{from}` is not in {create}");
    let new = format!("{table}__new");
    db.execute(&edited.replacen(&format!("\"{table}\""), &format!("\"{new}\""), 1));
    db.execute(&format!("INSERT INTO \"{new}\" SELECT * FROM \"{table}\""));
    db.execute(&format!("DROP TABLE \"{table}\""));
    db.execute(&format!("ALTER TABLE \"{new}\" RENAME TO \"{table}\""));
    for index in indexes {
        db.execute(&index);
    }
}

/// A table with a row and a column: `--revert` refuses to drop them without consent,
/// `--write-migration` adopts them (the data stays).
fn changes_holding_data(db: &TestDb, dir: &std::path::Path) {
    let kind = db.kind;
    db.execute("CREATE TABLE drift_kept (id integer NOT NULL PRIMARY KEY, v varchar(20) NULL)");
    db.execute("INSERT INTO drift_kept (id, v) VALUES (1, 'kept')");
    db.execute("ALTER TABLE tracker_category ADD COLUMN note varchar(20) NULL");
    let (code, doc) = drift(dir);
    assert_eq!(code, 1);
    assert_eq!(differences(&doc).len(), 2, "{doc:#}");
    let shown = strata(dir, &["--format", "json", "showmigrations"]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    assert!(
        shown.stderr.contains(
            "hint: the database has 4 tables, the applied migrations create 3: run `strata drift`"
        ),
        "{kind:?}: {}",
        shown.stderr
    );

    let sql = strata(dir, &["drift", "--revert", "--sql"]);
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    assert!(sql.stdout.contains("drift_kept"), "{}", sql.stdout);
    let sql = strata(dir, &["--format", "json", "drift", "--revert", "--sql"]);
    assert_eq!(sql.code, 0, "{}", sql.stderr);
    let doc = assert_shape("drift", &sql.stdout);
    assert_eq!(doc["revert"].as_array().map(Vec::len), Some(2), "{doc:#}");
    assert!(
        doc["sql"].as_str().unwrap().contains("drift_kept"),
        "{doc:#}"
    );
    let refused = strata(dir, &["drift", "--revert", "--noinput"]);
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("--allow-data-loss"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        drift(dir).0,
        1,
        "{kind:?}: the refused revert changed nothing"
    );

    let no_app = strata(dir, &["drift", "--write-migration"]);
    assert_eq!(no_app.code, 2, "{}", no_app.stderr);
    assert!(no_app.stderr.contains("--app"), "{}", no_app.stderr);
    let adopted = strata(
        dir,
        &[
            "--format",
            "json",
            "drift",
            "--write-migration",
            "--app",
            "tracker",
        ],
    );
    assert_eq!(adopted.code, 0, "{}{}", adopted.stdout, adopted.stderr);
    let doc = assert_shape("drift", &adopted.stdout);
    assert_eq!(
        doc["migrations"].as_array().map(Vec::len),
        Some(1),
        "{doc:#}"
    );
    assert_eq!(
        doc["models_updated"],
        serde_json::json!(["apps/tracker/models.toml"])
    );
    assert_clean(dir, &format!("{kind:?}: adopted"));
    let check = strata(dir, &["makemigrations", "--check"]);
    assert_eq!(check.code, 0, "{kind:?}: {}{}", check.stdout, check.stderr);
    let rows = db.query("SELECT v FROM drift_kept");
    assert_eq!(rows, [[Some("kept".to_string())]], "{kind:?}: data kept");
    let shown = strata(dir, &["showmigrations", "tracker"]);
    assert!(shown.stdout.contains("[X] 0002_"), "{}", shown.stdout);
    assert!(
        !shown.stderr.contains("hint:"),
        "{kind:?}: {}",
        shown.stderr
    );
}

for_each_backend!(hand_made, hand_made_changes);

/// MySQL reads a column collation equal to its table's default back as none: a model
/// that names that collation is not drift; another collation made by hand is.
#[test]
fn mariadb_collation_of_the_table_default_is_no_drift() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let rows = db.query(
        "SELECT DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()",
    );
    let default = rows[0][0].clone().expect("a default collation");
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let models = format!(
        "[Item]\nfields.name = {{ type = \"varchar(40)\", collation = {{ mysql = \"{default}\" }} }}\n"
    );
    let dir =
        crate::common::project(&[("strata.toml", &config), ("apps/shop/models.toml", &models)]);
    let dir = dir.path();
    for step in [&["makemigrations"][..], &["migrate"]] {
        let out = strata(dir, step);
        assert_eq!(out.code, 0, "{step:?}: {}", out.stderr);
    }
    assert_clean(dir, "a column collated as its table");

    let other = if default == "utf8mb4_bin" {
        "utf8mb4_unicode_ci"
    } else {
        "utf8mb4_bin"
    };
    db.execute(&format!(
        "ALTER TABLE shop_item MODIFY name varchar(40) CHARACTER SET utf8mb4 COLLATE {other} NOT NULL"
    ));
    let (code, doc) = drift(dir);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        differences(&doc),
        [(
            "shop_item".to_string(),
            "column_changed".to_string(),
            "name".to_string(),
            Some("collation".to_string())
        )],
        "{doc:#}"
    );
}

/// Bad input is refused with its exit code: a flag that needs another (2). A SQLite
/// file that is not there reads as an empty database, as for every command that
/// only reads: nothing to compare, and nothing created.
#[test]
fn bad_input_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::copy_dir(&crate::common::tracker(), dir.path());
    let _ = std::fs::remove_file(dir.path().join("db.sqlite3"));
    let dir = dir.path();
    let out = strata(dir, &["drift", "--app", "tracker"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--write-migration"), "{}", out.stderr);
    let out = strata(dir, &["drift", "--sql"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    // A flag of one mode with the other mode (clap skips `requires` once a
    // conflicting flag is there: each one names its conflict too).
    for args in [
        &["drift", "--revert", "--app", "tracker"][..],
        &["drift", "--revert", "--name", "x"],
        &["drift", "--write-migration", "--sql"],
        &["drift", "--write-migration", "--allow-data-loss"],
    ] {
        let out = strata(dir, args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("cannot be used with"),
            "{args:?}: {}",
            out.stderr
        );
    }
    // A misspelt app, even with nothing to adopt.
    let out = strata(dir, &["drift", "--write-migration", "--app", "trakcer"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("unknown app `trakcer`"),
        "{}",
        out.stderr
    );
    let out = strata(dir, &["drift"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("no database file"), "{}", out.stderr);
    assert!(
        !dir.join("db.sqlite3").exists(),
        "drift created the database"
    );
}

/// `--write-migration` writes nothing while migrations are unapplied (the new one would
/// be recorded before them) or while models.toml holds changes no migration has (they
/// would be lost when it is rewritten).
#[test]
fn write_migration_refuses_pending_work() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let migrations = dir.join("apps/auth/migrations");
    let files = || std::fs::read_dir(&migrations).unwrap().count();
    let before = files();

    let out = strata(dir, &["migrate", "auth"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    db.execute("ALTER TABLE auth_user ADD COLUMN nickname varchar(20) NULL");
    let out = strata(dir, &["drift", "--write-migration"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("run `strata migrate` first"),
        "{}",
        out.stderr
    );

    let out = strata(dir, &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let models = dir.join("apps/auth/models.toml");
    let text = std::fs::read_to_string(&models).unwrap();
    std::fs::write(&models, format!("{text}fields.age = \"int?\"\n")).unwrap();
    let out = strata(dir, &["drift", "--write-migration"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("run `strata makemigrations`"),
        "{}",
        out.stderr
    );
    assert_eq!(files(), before, "nothing written");
    assert_eq!(
        std::fs::read_to_string(&models).unwrap(),
        format!("{text}fields.age = \"int?\"\n")
    );
    assert_eq!(drift(dir).0, 1);
}

/// A partial index recreated by hand on other rows is another index: drift reports it
/// changed (not clean), and `--revert` brings the migrations' `where` back. MySQL and
/// MariaDB have no partial indexes.
fn partial_index_predicate(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let migrated = strata(dir, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    db.execute("CREATE INDEX drift_open_idx ON tracker_category (name) WHERE description = ''");
    let adopted = strata(dir, &["drift", "--write-migration", "--app", "tracker"]);
    assert_eq!(adopted.code, 0, "{}{}", adopted.stdout, adopted.stderr);
    assert_clean(dir, &format!("{kind:?}: partial index adopted"));

    db.execute("DROP INDEX drift_open_idx");
    db.execute("CREATE INDEX drift_open_idx ON tracker_category (name) WHERE description <> ''");
    let (code, doc) = drift(dir);
    assert_eq!(code, 1, "{kind:?}: {doc:#}");
    assert_eq!(
        differences(&doc),
        [(
            "tracker_category".to_string(),
            "index_changed".to_string(),
            "drift_open_idx".to_string(),
            None
        )],
        "{kind:?}: {doc:#}"
    );
    let reverted = strata(dir, &["drift", "--revert", "--noinput"]);
    assert_eq!(reverted.code, 0, "{}{}", reverted.stdout, reverted.stderr);
    assert_clean(dir, &format!("{kind:?}: partial index reverted"));
}

#[test]
fn partial_index_predicate_sqlite() {
    partial_index_predicate(Kind::Sqlite);
}

#[test]
fn partial_index_predicate_postgres() {
    partial_index_predicate(Kind::Postgres);
}

/// A history row whose migration file is gone leaves the applied schema unknown: drift
/// refuses it as `migrate` does (exit 2) instead of calling that migration's tables
/// hand-made, and `--revert` drops nothing; `showmigrations` gives no drift hint.
#[test]
fn untrusted_history_is_refused() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let migrated = strata(dir, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    db.execute("INSERT INTO tracker_category (name, description) VALUES ('kept', '')");
    std::fs::remove_file(dir.join("apps/tracker/migrations/0001_initial.toml")).unwrap();
    for args in [
        &["drift"][..],
        &["drift", "--revert", "--noinput", "--allow-data-loss"],
    ] {
        let out = strata(dir, args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("cannot be trusted"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let rows = db.query("SELECT name FROM tracker_category");
    assert_eq!(rows, [[Some("kept".to_string())]], "nothing dropped");
    // Nor does `showmigrations` send the user to drift: it lists the problem itself.
    let shown = strata(dir, &["showmigrations"]);
    assert!(
        shown.stdout.contains("cannot be trusted"),
        "{}",
        shown.stdout
    );
    assert!(!shown.stderr.contains("hint:"), "{}", shown.stderr);
}

/// The squash flow of docs: once every database has run the squash, the files it
/// replaces are deleted while their rows stay. That history is trusted (the squash
/// takes the rows), and drift compares with what the squash builds.
#[test]
fn squash_with_its_replaced_files_deleted() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let models = dir.join("apps/tracker/models.toml");
    let text = std::fs::read_to_string(&models).unwrap();
    let text = text.replacen(
        "fields.description = \"text\"\n",
        "fields.description = \"text\"\nfields.a = \"int?\"\n",
        1,
    );
    std::fs::write(&models, text).unwrap();
    for step in [
        &["makemigrations", "--noinput"][..],
        &["migrate"],
        &["squashmigrations", "tracker", "0001", "0002"],
    ] {
        let out = strata(dir, step);
        assert_eq!(out.code, 0, "{step:?}: {}{}", out.stdout, out.stderr);
    }
    let migrations = dir.join("apps/tracker/migrations");
    for entry in std::fs::read_dir(&migrations).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.contains("_squashed_") {
            std::fs::remove_file(&path).unwrap();
        }
    }
    assert_clean(dir, "squash in use, replaced files deleted");
    db.execute("ALTER TABLE tracker_category DROP COLUMN a");
    let (code, doc) = drift(dir);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(
        differences(&doc),
        [(
            "tracker_category".to_string(),
            "column_missing".to_string(),
            "a".to_string(),
            None
        )],
        "{doc:#}"
    );
}

/// A column renamed by hand is adopted as a drop and an add: recorded here without
/// running, but `migrate` drops the column's values on every other database. The
/// command says so when it writes the file (and still writes it: exit 0).
#[test]
fn write_migration_warns_of_a_rename() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let dir = dir.path();
    let migrated = strata(dir, &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    db.execute("ALTER TABLE tracker_transaction RENAME COLUMN category_id TO kind_id");
    let adopted = strata(dir, &["drift", "--write-migration"]);
    assert_eq!(adopted.code, 0, "{}{}", adopted.stdout, adopted.stderr);
    assert!(
        adopted
            .stderr
            .contains("drops data: column tracker_transaction.category_id")
            && adopted.stderr.contains("rename_column"),
        "{}",
        adopted.stderr
    );
    assert_clean(dir, "rename adopted");
}

/// models.toml is rewritten for the apps that adopted something; a foreign key from
/// one into an app left alone names that app's model as it is declared (`User` for
/// table `auth_user`), not as the table would name it (`AuthUser`, no such model).
#[test]
fn write_migration_keeps_the_model_names_of_other_apps() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"accounts\", \"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = crate::common::project(&[
        ("strata.toml", &config),
        (
            "apps/accounts/models.toml",
            "[User]\ntable = \"auth_user\"\nfields.name = \"varchar(20)\"\n",
        ),
        (
            "apps/shop/models.toml",
            "[Order]\nfields.buyer = { references = \"accounts.User\", null = true }\n",
        ),
    ]);
    let dir = dir.path();
    for step in [&["makemigrations"][..], &["migrate"]] {
        let out = strata(dir, step);
        assert_eq!(out.code, 0, "{step:?}: {}", out.stderr);
    }
    db.execute("ALTER TABLE shop_order ADD COLUMN note varchar(20) NULL");
    let adopted = strata(dir, &["drift", "--write-migration"]);
    assert_eq!(adopted.code, 0, "{}{}", adopted.stdout, adopted.stderr);
    let models = std::fs::read_to_string(dir.join("apps/shop/models.toml")).unwrap();
    assert!(models.contains("\"accounts.User\""), "{models}");
    assert_clean(dir, "adopted");
    let check = strata(dir, &["makemigrations", "--check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}
