//! Bad input gets a clear message and a non-zero exit, and leaves the database as it was.

use crate::common::db::{Kind, TestDb};
use crate::common::{strata, tracker_copy};

#[test]
fn unreachable_server_is_a_database_error_without_password() {
    let dir = tracker_copy("postgres://app:s3cret@127.0.0.1:1/app");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(
        !out.stderr.contains("s3cret"),
        "password leaked: {}",
        out.stderr
    );
}

#[test]
fn wrong_password_is_refused_without_echoing_it() {
    let Some(admin) = strata_testkit::server_url("STRATA_TEST_MYSQL_URL") else {
        return;
    };
    let authority = admin
        .split("://")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let host = authority.rsplit('@').next().unwrap();
    let url = format!("mysql://strata_nobody:wr0ngpass@{host}/mysql");
    let dir = tracker_copy(&url);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert!(
        out.stderr.to_lowercase().contains("access denied"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("wr0ngpass"),
        "password leaked: {}",
        out.stderr
    );
}

#[test]
fn unknown_scheme_is_bad_input() {
    let dir = tracker_copy("oracle://scott:tiger@db/orcl");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("unknown database `oracle`"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("tiger"), "{}", out.stderr);
}

fn history(db: &TestDb) -> Vec<Vec<Option<String>>> {
    db.query("SELECT app, name, checksum FROM strata_migrations ORDER BY app, name")
}

#[test]
fn edited_and_missing_applied_files_stop_the_run_and_change_nothing() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let path = dir.path();
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let before = (history(&db), db.table_names());

    let file = path.join("apps/auth/migrations/0001_initial.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, original.replace("varchar(254)", "varchar(255)")).unwrap();
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("0001_initial.toml"), "{}", out.stderr);
    assert!(out.stderr.contains("was edited"), "{}", out.stderr);
    assert!(out.stderr.contains("--accept-edited"), "{}", out.stderr);
    assert_eq!(
        (history(&db), db.table_names()),
        before,
        "nothing may change"
    );

    // Line endings alone are not an edit.
    std::fs::write(&file, original.replace('\n', "\r\n")).unwrap();
    let out = strata(path, &["migrate", "auth"]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let leaf = path.join("apps/tracker/migrations/0001_initial.toml");
    let leaf_text = std::fs::read_to_string(&leaf).unwrap();
    std::fs::remove_file(&leaf).unwrap();
    let out = strata(path, &["migrate"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("tracker.0001_initial has no file"),
        "{}",
        out.stderr
    );
    assert_eq!(
        (history(&db), db.table_names()),
        before,
        "nothing may change"
    );
    std::fs::write(&leaf, leaf_text).unwrap();

    // A deliberate edit is accepted on request, and recorded.
    std::fs::write(&file, format!("{original}\n# reviewed\n")).unwrap();
    let out = strata(path, &["migrate", "auth", "--accept-edited"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = strata(path, &["migrate", "auth"]);
    assert_eq!(out.code, 0, "the new checksum is recorded: {}", out.stderr);
}

#[test]
fn unknown_app_or_migration_changes_nothing() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    let out = strata(dir.path(), &["migrate", "billing"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown app `billing`"),
        "{}",
        out.stderr
    );
    let out = strata(dir.path(), &["migrate", "tracker", "0042"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no migration `0042`"), "{}", out.stderr);
    assert!(
        db.table_names().is_empty(),
        "nothing was created: {:?}",
        db.table_names()
    );
}

#[test]
fn irreversible_rollback_stops_before_anything_runs() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = tracker_copy(&db.url);
    std::fs::write(
        dir.path().join("apps/tracker/migrations/0002_seed.toml"),
        "dependencies = [\"tracker.0001_initial\"]\n\n[[operations]]\nkind = \"run_sql\"\nsql = \"INSERT INTO tracker_category (name, description) VALUES ('x', 'y')\"\n",
    )
    .unwrap();
    assert_eq!(strata(dir.path(), &["migrate"]).code, 0);
    let before = history(&db);
    let out = strata(dir.path(), &["migrate", "tracker", "zero"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("tracker.0002_seed"), "{}", out.stderr);
    assert!(out.stderr.contains("irreversible"), "{}", out.stderr);
    assert_eq!(history(&db), before);
}

/// `strata … 2>&1 | true`: a closed stderr never turns an error into a panic (101).
#[test]
fn closed_stderr_keeps_the_exit_code() {
    let dir = crate::common::tracker_copy("sqlite://db.sqlite3");
    for args in [&["migrate", "tracker", "nope"][..], &["--help"][..]] {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("DATABASE_URL")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Close both pipes before the process writes.
        drop(child.stdout.take());
        drop(child.stderr.take());
        let code = child.wait().unwrap().code();
        let expected = if args[0] == "--help" { 0 } else { 2 };
        assert_eq!(code, Some(expected), "strata {args:?}");
    }
}
