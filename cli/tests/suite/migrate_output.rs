//! What `migrate` tells: a rollback plan lists the inverse operations in the order
//! they run (of a partial migration, only its completed ones), `--format json` gives
//! one document of the documented shape on stdout (also when the run fails), the
//! output in a pipe carries no escape codes and ends with a summary, and a run waiting
//! for the lock says so once, naming the process holding it.

use serde_json::Value;

use crate::common::db::{Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{project, spawn_migrate, strata, Output};
use crate::faults::{wait_until_sleeping, CONTROL, SLOW};
use strata_testkit::for_each_backend;

fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\nlock_timeout = \"60s\"\n",
        db.url
    )
}

const INITIAL: &str = r#"[[operations]]
kind = "create_table"
name = "shop_tag"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "name", type = "varchar(40)" }]
"#;

const COLOR: &str = r#"dependencies = ["shop.0001_initial"]

[[operations]]
kind = "add_column"
table = "shop_tag"
column = { name = "color", type = "varchar(20)", null = true }

[[operations]]
kind = "create_index"
table = "shop_tag"
index = { name = "shop_tag_color_idx", columns = ["color"] }
"#;

/// Creates a table, then fails: PostgreSQL and SQLite roll it back, MariaDB keeps
/// the table and a checkpoint.
const BROKEN: &str = r#"dependencies = ["shop.0002_color"]

[[operations]]
kind = "create_table"
name = "shop_note"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[operations]]
kind = "run_sql"
sql = "INSERT INTO shop_no_such_table (id) VALUES (1)"
reverse_sql = "SELECT 1"
"#;

fn shop(db: &TestDb) -> tempfile::TempDir {
    project(&[
        ("strata.toml", &config(db)),
        ("apps/shop/migrations/0001_initial.toml", INITIAL),
        ("apps/shop/migrations/0002_color.toml", COLOR),
    ])
}

fn json(out: &Output, schema: &str) -> Value {
    assert_shape(schema, &out.stdout)
}

/// Where `needle` starts in `haystack`, failing when it is not there.
fn at(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in\n{haystack}"))
}

fn rollback_plan_lists_the_inverses(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(&db);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);

    let out = strata(dir.path(), &["migrate", "shop", "0001", "--plan"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    let text = &out.stdout;
    let step = at(text, "Unapply shop.0002_color");
    let index = at(text, "Drop index shop_tag_color_idx from shop_tag");
    let column = at(text, "Drop column color from shop_tag");
    let loss = at(
        text,
        "! unapplying it drops data: column shop_tag.color and its values",
    );
    assert!(
        step < index && index < column && column < loss,
        "{kind:?}:\n{text}"
    );
    assert!(
        !text.contains("Add column"),
        "{kind:?}: forward operations in\n{text}"
    );

    // --check lists the same way, and says there is work.
    let check = strata(dir.path(), &["migrate", "shop", "0001", "--check"]);
    assert_eq!(check.code, 1, "{kind:?}: {}", check.stderr);
    assert!(
        check.stdout.contains("1 migration(s) to run"),
        "{}",
        check.stdout
    );
    assert!(
        at(&check.stdout, "Drop index") < at(&check.stdout, "Drop column"),
        "{}",
        check.stdout
    );

    // --check exits 1: there is work to do.
    for (flag, code) in [("--plan", 0), ("--check", 1)] {
        let args = ["migrate", "shop", "0001", "--format", "json", flag];
        let out = strata(dir.path(), &args);
        assert_eq!(out.code, code, "{kind:?} {flag}: {}", out.stderr);
        let plan = json(&out, "migrate-plan");
        let steps = plan["plan"].as_array().unwrap();
        assert_eq!(steps.len(), 1, "{plan}");
        assert_eq!(steps[0]["migration"], "shop.0002_color");
        assert_eq!(steps[0]["direction"], "unapply");
        let ops = steps[0]["operations"].as_array().unwrap();
        assert_eq!(ops.len(), 2, "{plan}");
        assert_eq!(ops[0]["index"], 2);
        assert_eq!(
            ops[0]["description"],
            "Drop index shop_tag_color_idx from shop_tag"
        );
        assert!(ops[0].get("data_loss").is_none(), "{plan}");
        assert_eq!(ops[1]["index"], 1);
        assert_eq!(ops[1]["description"], "Drop column color from shop_tag");
        assert_eq!(
            ops[1]["data_loss"],
            "drops data: column shop_tag.color and its values"
        );
    }

    // A migration stopped after its first operation is rolled back by undoing that one.
    db.execute(
        "UPDATE strata_migrations SET state = 'partial', operations_done = 1 WHERE name = '0002_color'",
    );
    let out = strata(dir.path(), &["migrate", "shop", "0001", "--plan"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert!(
        out.stdout.contains("Drop column color from shop_tag"),
        "{kind:?}:\n{}",
        out.stdout
    );
    assert!(
        !out.stdout.contains("Drop index"),
        "{kind:?}: the index was never created:\n{}",
        out.stdout
    );
    let out = strata(
        dir.path(),
        &["migrate", "shop", "0001", "--plan", "--format", "json"],
    );
    let plan = json(&out, "migrate-plan");
    let ops = plan["plan"][0]["operations"].as_array().unwrap();
    assert_eq!(ops.len(), 1, "{plan}");
    assert_eq!(ops[0]["index"], 1);
}

for_each_backend!(rollback_plan, rollback_plan_lists_the_inverses);

fn json_report_of_a_run(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(&db);
    let out = strata(dir.path(), &["migrate", "--format", "json"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    // The lines a person reads are on stderr; stdout is the document alone.
    assert!(
        out.stderr.contains("Applying shop.0001_initial... OK"),
        "{kind:?}: {}",
        out.stderr
    );
    let report = json(&out, "migrate");
    assert_eq!(report["outcome"], "ok");
    let steps = report["steps"].as_array().unwrap();
    let names: Vec<_> = steps.iter().map(|s| s["migration"].clone()).collect();
    assert_eq!(names, ["shop.0001_initial", "shop.0002_color"]);
    assert!(steps
        .iter()
        .all(|s| s["status"] == "ok" && s["direction"] == "apply" && s["fake"] == false));
    assert_eq!(steps[1]["operations"], 2);

    // A plan that has nothing to do: an empty list.
    let out = strata(dir.path(), &["migrate", "--plan", "--format", "json"]);
    assert_eq!(json(&out, "migrate-plan")["plan"], Value::Array(Vec::new()));

    // A failing run still prints its document, with the error; the report is on
    // stderr and the exit code is the usual one.
    std::fs::write(
        dir.path().join("apps/shop/migrations/0003_broken.toml"),
        BROKEN,
    )
    .unwrap();
    let out = strata(dir.path(), &["migrate", "--format", "json"]);
    let (code, status) = match kind {
        Kind::Mariadb => (6, "partial"),
        Kind::Postgres | Kind::Sqlite => (4, "failed"),
    };
    assert_eq!(out.code, code, "{kind:?}: {}", out.stderr);
    assert!(out.stderr.contains("shop_no_such_table"), "{}", out.stderr);
    let report = json(&out, "migrate");
    assert_eq!(report["outcome"], "failed", "{report}");
    assert_eq!(report["error"]["exit_code"], code);
    let message = report["error"]["message"].as_str().unwrap();
    assert!(message.contains("shop.0003_broken"), "{message}");
    let steps = report["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{report}");
    assert_eq!(steps[0]["migration"], "shop.0003_broken");
    assert_eq!(steps[0]["status"], status, "{report}");

    // A plan that cannot be made: the error alone.
    std::fs::write(
        dir.path().join("apps/shop/migrations/0002_color.toml"),
        COLOR.replace("varchar(20)", "varchar(30)"),
    )
    .unwrap();
    let out = strata(dir.path(), &["migrate", "--plan", "--format", "json"]);
    assert_eq!(out.code, 2, "{kind:?}: {}", out.stderr);
    let plan = json(&out, "migrate-plan");
    assert_eq!(plan["error"]["exit_code"], 2, "{plan}");
}

for_each_backend!(json_report, json_report_of_a_run);

fn piped_output_has_a_summary_and_no_escape_codes(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let dir = shop(&db);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert!(
        out.stdout.contains("Applying shop.0002_color... OK ("),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  Applied 2 migrations in "),
        "{}",
        out.stdout
    );
    let out = strata(dir.path(), &["migrate", "shop", "zero"]);
    assert_eq!(out.code, 0, "{kind:?}: {}", out.stderr);
    assert!(
        out.stdout.contains("  Unapplied 2 migrations in "),
        "{}",
        out.stdout
    );
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains('\u{1b}'),
            "{kind:?}: an escape code in {text:?}"
        );
    }
}

for_each_backend!(
    piped_summary,
    piped_output_has_a_summary_and_no_escape_codes
);

/// A run waiting for the lock (longer than the engine's 5-second reminders) hears of
/// it once, with the holder named; on SQLite, by the pid of the process holding it.
fn the_lock_wait_is_told_once(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\nlock_timeout = \"120s\"\n",
        db.url
    );
    let dir = project(&[
        ("strata.toml", &config),
        ("apps/jobs/migrations/0001_control.toml", CONTROL),
        ("apps/jobs/migrations/0002_slow.toml", SLOW),
    ]);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    // SQLite's "sleep" is a count, as fast as the machine: 8 units run under 3 s on an
    // idle machine, before the waiter even starts (wait_until_sleeping waits 3 s).
    let secs = if kind == Kind::Sqlite { 30 } else { 8 };
    db.execute(&format!("UPDATE control SET secs = {secs}"));
    let holder = spawn_migrate(dir.path());
    let holder_pid = holder.id();
    wait_until_sleeping(&db);
    let waiter = strata(dir.path(), &["migrate"]);
    let held = holder.wait_with_output().unwrap();
    assert!(held.status.success(), "{kind:?}: the holder failed");
    assert_eq!(waiter.code, 0, "{kind:?}: {}", waiter.stderr);
    let notices = waiter
        .stderr
        .matches("waiting for the migration lock")
        .count();
    assert_eq!(notices, 1, "{kind:?}: {}", waiter.stderr);
    assert!(
        waiter.stderr.contains("held by "),
        "{kind:?}: {}",
        waiter.stderr
    );
    if kind == Kind::Sqlite {
        let named = format!("`strata migrate` (pid {holder_pid}) on ");
        assert!(waiter.stderr.contains(&named), "{}", waiter.stderr);
    }
}

for_each_backend!(lock_notice, the_lock_wait_is_told_once);
