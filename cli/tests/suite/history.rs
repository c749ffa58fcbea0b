//! The history table is never trusted blindly, on every backend: each kind of damage
//! stops `migrate` before anything runs (exit 2, the migration and the problem named,
//! the database unchanged), `showmigrations` marks it instead of failing, and the
//! repair the message describes lets the next `migrate` finish.
//! (Many more tamperings, as data: testdata/bad_input/history/.)

use std::path::Path;

use crate::common::db::{Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const INITIAL: &str = "[[operations]]\nkind = \"create_table\"\nname = \"jobs_job\"\nprimary_key = [\"id\"]\ncolumns = [\n    { name = \"id\", type = \"bigint\", auto = true },\n    { name = \"title\", type = \"varchar(100)\" },\n]\n";
const NOTE: &str = "dependencies = [\"jobs.0001_initial\"]\n\n[[operations]]\nkind = \"add_column\"\ntable = \"jobs_job\"\ncolumn = { name = \"note\", type = \"text\", null = true }\n";
const TAG: &str = "dependencies = [\"jobs.0002_note\"]\n\n[[operations]]\nkind = \"create_table\"\nname = \"jobs_tag\"\nprimary_key = [\"id\"]\ncolumns = [\n    { name = \"id\", type = \"bigint\", auto = true },\n    { name = \"label\", type = \"varchar(50)\" },\n]\n";

/// jobs 0001 and 0002 applied, 0003 pending.
fn applied_to_0002(db: &TestDb) -> tempfile::TempDir {
    let config = format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_initial.toml", INITIAL),
        ("apps/jobs/migrations/0002_note.toml", NOTE),
        ("apps/jobs/migrations/0003_tag.toml", TAG),
    ]);
    let out = strata(dir.path(), &["migrate", "jobs", "0002"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    dir
}

/// Everything a refused run must leave as it was: the history and the tables.
fn snapshot(db: &TestDb) -> (Vec<Vec<Option<String>>>, Vec<String>) {
    (
        db.query(
            "SELECT app, name, checksum, state, operations_done, format FROM strata_migrations ORDER BY app, name, state",
        ),
        db.table_names(),
    )
}

/// `migrate` refuses with exit 2, every `expected` part in its message, and changes
/// nothing; `showmigrations` still answers, with `shown` in its listing.
fn refused(db: &TestDb, dir: &Path, expected: &[&str], shown: &str) {
    let before = snapshot(db);
    for args in [
        &["migrate"][..],
        &["migrate", "--plan"],
        &["migrate", "jobs", "zero"],
    ] {
        let out = strata(dir, args);
        assert_eq!(out.code, 2, "{args:?}: {}\n{}", out.stdout, out.stderr);
        for part in expected {
            assert!(
                out.stderr.contains(part),
                "{args:?} lacks {part:?}: {}",
                out.stderr
            );
        }
        assert!(
            !out.stderr.contains("Some(") && !out.stderr.contains("HistoryRow"),
            "no debug dump: {}",
            out.stderr
        );
        assert_eq!(snapshot(db), before, "{args:?} changed the database");
    }
    assert!(!db.table_names().contains(&"jobs_tag".to_string()));
    let out = strata(dir, &["showmigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(shown),
        "{shown:?} not in:\n{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("`strata migrate` refuses to run"),
        "{}",
        out.stdout
    );
}

/// After the repair, the pending migration applies.
fn repaired(dir: &Path) {
    let out = strata(dir, &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains("Applying jobs.0003_tag"),
        "{}",
        out.stdout
    );
}

fn dependency_recorded_out_of_order(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    let checksum = db.query("SELECT checksum FROM strata_migrations WHERE name = '0001_initial'")
        [0][0]
        .clone()
        .unwrap();
    db.execute("DELETE FROM strata_migrations WHERE name = '0001_initial'");
    refused(
        &db,
        dir.path(),
        &[
            "history table `strata_migrations` cannot be trusted",
            "jobs.0002_note is recorded as applied but its dependency jobs.0001_initial is not applied",
        ],
        " [!] 0002_note  (applied; recorded before its dependency jobs.0001_initial)",
    );
    // The row was lost: record it again (docs/history.md).
    db.execute(&format!(
        "INSERT INTO strata_migrations (app, name, checksum, duration_ms, state, operations_done, format) VALUES ('jobs', '0001_initial', '{checksum}', 0, 'applied', 1, 1)"
    ));
    repaired(dir.path());
}
for_each_backend!(
    dependency_recorded_out_of_order_is_refused,
    dependency_recorded_out_of_order
);

fn file_gone(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    let file = dir.path().join("apps/jobs/migrations/0002_note.toml");
    let renamed = dir.path().join("apps/jobs/migrations/0002_renamed.toml");
    std::fs::rename(&file, &renamed).unwrap();
    let tag = dir.path().join("apps/jobs/migrations/0003_tag.toml");
    std::fs::write(&tag, TAG.replace("0002_note", "0002_renamed")).unwrap();
    refused(
        &db,
        dir.path(),
        &[
            "jobs.0002_note has no file any more",
            "0002_note.toml",
            "jobs.0002_renamed has the same content and no row, so it looks renamed",
        ],
        " [!] 0002_note  (applied; file missing; renamed to 0002_renamed?)",
    );
    std::fs::rename(&renamed, &file).unwrap();
    std::fs::write(&tag, TAG).unwrap();
    repaired(dir.path());
}
for_each_backend!(row_without_its_file_is_refused, file_gone);

fn unreadable_row(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    db.execute(
        "UPDATE strata_migrations SET state = 'done', operations_done = -3 WHERE name = '0002_note'",
    );
    refused(
        &db,
        dir.path(),
        &[
            "`strata_migrations`",
            "the row of jobs.0002_note is unreadable",
            "column `state` holds 'done' (expected `applied` or `partial`)",
            "column `operations_done` holds '-3'",
        ],
        " [!] 0002_note  (not applied; unreadable row: state, operations_done)",
    );
    db.execute(
        "UPDATE strata_migrations SET state = 'applied', operations_done = 1 WHERE name = '0002_note'",
    );
    repaired(dir.path());
}
for_each_backend!(unreadable_row_is_refused, unreadable_row);

fn duplicate_rows(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    // A table without its unique key, as an old or hand-made one could be.
    db.execute("CREATE TABLE strata_loose AS SELECT * FROM strata_migrations");
    db.execute("DROP TABLE strata_migrations");
    db.execute("ALTER TABLE strata_loose RENAME TO strata_migrations");
    db.execute(
        "INSERT INTO strata_migrations SELECT * FROM strata_migrations WHERE name = '0001_initial'",
    );
    refused(
        &db,
        dir.path(),
        &["jobs.0001_initial has 2 rows, where there must be one"],
        " [!] 0001_initial  (applied; 2 history rows)",
    );
}
for_each_backend!(duplicate_rows_are_refused, duplicate_rows);

fn checkpoint_past_end(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    db.execute(
        "UPDATE strata_migrations SET state = 'partial', operations_done = 4 WHERE name = '0002_note'",
    );
    refused(
        &db,
        dir.path(),
        &["jobs.0002_note is recorded as partially applied with 4 operations done, but its file has 1"],
        " [!] 0002_note  (partially applied: 4 operations done; checkpoint 4 past its 1 operations)",
    );
    // What the database really holds: the one operation.
    db.execute("UPDATE strata_migrations SET operations_done = 1 WHERE name = '0002_note'");
    repaired(dir.path());
}
for_each_backend!(checkpoint_past_the_file_is_refused, checkpoint_past_end);

const AUDIT: &str = "dependencies = [\"jobs.0001_initial\"]\n\n[[operations]]\nkind = \"create_table\"\nname = \"audit_entry\"\nprimary_key = [\"id\"]\ncolumns = [\n    { name = \"id\", type = \"bigint\", auto = true },\n    { name = \"what\", type = \"text\" },\n]\n";

/// A partial checkpoint the live schema contradicts stops the run before another
/// app's pending migration, which the plan orders first, is applied.
fn checkpoint_checked_first(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    let config = format!(
        "[project]\napps = [\"jobs\", \"audit\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    std::fs::write(dir.path().join("strata.toml"), config).unwrap();
    let audit = dir.path().join("apps/audit/migrations");
    std::fs::create_dir_all(&audit).unwrap();
    std::fs::write(audit.join("0001_entry.toml"), AUDIT).unwrap();
    db.execute(
        "UPDATE strata_migrations SET state = 'partial', operations_done = 0 WHERE name = '0002_note'",
    );
    db.execute("ALTER TABLE jobs_job ADD COLUMN extra int");
    let before = snapshot(&db);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr
            .contains("jobs.0002_note: the live schema does not match its checkpoint"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("audit.0001_entry"), "{}", out.stdout);
    assert_eq!(snapshot(&db), before, "nothing may run");
}
for_each_backend!(
    checkpoint_is_checked_before_other_work,
    checkpoint_checked_first
);

/// `showmigrations --format json` carries every problem, rows whose file is gone and
/// rows it cannot place under a migration; rows of an app outside the project are
/// noted, and do not stop `migrate`.
fn listing_of_a_damaged_history(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = applied_to_0002(&db);
    db.execute(&format!(
        "UPDATE strata_migrations SET name = '0009_gone', checksum = '{}' WHERE name = '0002_note'",
        "0".repeat(64)
    ));
    db.execute("UPDATE strata_migrations SET app = '../outside' WHERE name = '0009_gone'");
    let before = snapshot(&db);
    let out = strata(dir.path(), &["showmigrations", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let odd = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["app"] == "../outside")
        .unwrap_or_else(|| panic!("the row of app `../outside` is listed: {}", out.stdout));
    assert_eq!(odd["name"], "0009_gone");
    assert!(
        odd["problems"][0]
            .as_str()
            .unwrap()
            .contains("column `app` holds '../outside'"),
        "{odd}"
    );
    assert_eq!(snapshot(&db), before);

    // Renamed to a well-formed app outside the project: shown, and left alone.
    db.execute("UPDATE strata_migrations SET app = 'billing' WHERE app = '../outside'");
    let out = strata(dir.path(), &["showmigrations"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .contains("1 row(s) of app `billing`, which is not in this project, are ignored"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("refuses to run"), "{}", out.stdout);
    // 0002_note has no row now, so only up to 0001: nothing to run, but allowed.
    let out = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("app `billing`"),
        "warned: {}",
        out.stderr
    );
    assert_eq!(snapshot(&db).1, before.1);

    // A row whose file is gone, in JSON.
    db.execute("UPDATE strata_migrations SET app = 'jobs' WHERE app = 'billing'");
    let out = strata(dir.path(), &["showmigrations", "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let entries: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let gone = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "0009_gone")
        .unwrap_or_else(|| panic!("listed: {}", out.stdout));
    assert_eq!(gone["app"], "jobs");
    assert_eq!(gone["file_missing"], true);
    assert_eq!(gone["applied"], true);
    assert!(
        gone["problems"][0]
            .as_str()
            .unwrap()
            .contains("jobs.0009_gone has no file any more"),
        "{gone}"
    );
}
for_each_backend!(
    showmigrations_lists_a_damaged_history,
    listing_of_a_damaged_history
);
