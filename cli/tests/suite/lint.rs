//! `strata lint`: golden reports of the fixture project for each dialect and server
//! version, every rule documented, and against live databases: severity by row
//! count, suppression, unknown rule ids, `migrate` refusing, the JSON shape.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata_engine::lint::RULES;

use crate::common::db::{Kind, TestDb};
use crate::common::{copy_dir, strata};

const BLESS: &str = "STRATA_BLESS=1 cargo test -p strata-cli --test suite lint::";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/lint")
}

/// The offline report of `testdata/lint/shop` for each dialect and version, as
/// committed under `testdata/lint/snapshots`.
#[test]
fn golden_reports_per_dialect_and_version() {
    let targets = [
        ("sqlite", None),
        ("postgres", Some("10")),
        ("postgres", Some("12")),
        ("postgres", Some("16")),
        ("mysql", Some("8.0.19")),
        ("mysql", Some("8.0.30")),
        ("mariadb", Some("10.5")),
        ("mariadb", Some("10.11")),
    ];
    let shop = fixtures().join("shop");
    let bless = std::env::var_os("STRATA_BLESS").is_some_and(|v| v == "1");
    let mut stale = Vec::new();
    for (dialect, version) in targets {
        let mut args = vec!["lint", "--dialect", dialect];
        if let Some(v) = version {
            args.extend(["--server-version", v]);
        }
        let out = strata(&shop, &args);
        assert!(
            out.stderr.is_empty(),
            "{dialect} {version:?}: {}",
            out.stderr
        );
        let report = format!(
            "$ strata {}\n{}exit {}\n",
            args.join(" "),
            out.stdout,
            out.code
        );
        let path = fixtures()
            .join("snapshots")
            .join(format!("{dialect}-{}.txt", version.unwrap_or("minimum")));
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &report).unwrap();
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(report.as_str()) {
            stale.push(format!("{}:\n{report}", path.display()));
        }
    }
    assert!(
        stale.is_empty(),
        "reports differ from their snapshots (re-bless with `{BLESS}` and read the diff):\n{}",
        stale.join("\n")
    );
}

/// Every rule fires somewhere in the golden reports: the fixture covers them all.
#[test]
fn the_fixture_triggers_every_rule() {
    let dir = fixtures().join("snapshots");
    let mut all = String::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        all.push_str(&std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let missing: Vec<&str> = RULES
        .iter()
        .map(|r| r.id)
        .filter(|id| !all.contains(&format!("[{id}]")))
        .collect();
    assert!(missing.is_empty(), "no snapshot shows {missing:?}");
}

/// docs/lint.md has a `### \`id\`` section for every rule, and none for a rule that
/// does not exist; each gives the rule's severity.
#[test]
fn every_rule_is_documented_and_every_documented_rule_exists() {
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/lint.md"))
            .unwrap();
    let documented: BTreeSet<&str> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .collect();
    let rules: BTreeSet<&str> = RULES.iter().map(|r| r.id).collect();
    assert_eq!(documented, rules, "docs/lint.md sections vs RULES");
    for rule in RULES {
        let section = docs
            .split(&format!("### `{}`", rule.id))
            .nth(1)
            .and_then(|rest| rest.split("\n### ").next())
            .unwrap();
        let severity = format!("Severity: {}", rule.severity);
        assert!(section.contains(&severity), "{}: no `{severity}`", rule.id);
        let scaled = section.contains("scaled by table size");
        assert_eq!(scaled, rule.size_scaled, "{}: size scaling", rule.id);
    }
}

/// The live fixture on `db`, applied up to its first migration, with `rows` rows in
/// its table.
fn live(db: &TestDb, rows: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("live"), dir.path());
    let config = dir.path().join("strata.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace(
        "url = \"sqlite://db.sqlite3\"",
        &format!("url = {:?}", db.url),
    );
    std::fs::write(&config, text).unwrap();
    let out = strata(dir.path(), &["migrate", "live", "0001"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for i in 0..rows {
        db.execute(&format!("INSERT INTO item (qty) VALUES ({i})"));
    }
    if db.kind == Kind::Postgres {
        // The server's row estimate is what lint reads there.
        db.execute("ANALYZE item");
    }
    dir
}

/// The rule a rewrite of `item` is reported by on `db`'s server.
fn rewrite_rule(db: &TestDb) -> &'static str {
    match db.kind {
        Kind::Sqlite => "table-rebuild",
        Kind::Postgres | Kind::Mariadb => "alter-column-type-rewrite",
    }
}

fn append(path: &Path, text: &str) {
    let mut old = std::fs::read_to_string(path).unwrap();
    old.push_str(text);
    std::fs::write(path, old).unwrap();
}

fn applied(dir: &Path) -> bool {
    strata(dir, &["migrate", "--check"]).code == 0
}

fn small_table_passes_and_large_table_fails(kind: Kind) {
    let Some(small) = TestDb::create(kind) else {
        return;
    };
    let rule = rewrite_rule(&small);
    let dir = live(&small, 2);
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "info[{rule}] live.0002_widen_qty op 1 (Alter column item.qty)"
        )),
        "{}",
        out.stdout
    );
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(applied(dir.path()));

    let Some(large) = TestDb::create(kind) else {
        return;
    };
    let dir = live(&large, 20);
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains(&format!("error[{rule}] live.0002_widen_qty op 1")),
        "{}",
        out.stdout
    );
    let out = strata(dir.path(), &["migrate", "--plan"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("lint error[{rule}]")),
        "{}",
        out.stdout
    );
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("1 error-level lint finding(s)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains(&format!("error[{rule}] live.0002_widen_qty op 1")),
        "{}",
        out.stderr
    );
    assert!(!applied(dir.path()), "a refused migrate ran");
    // Applied migrations are not linted again; a fake run changes no table.
    let out = strata(dir.path(), &["migrate", "--ignore-lint-errors"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(applied(dir.path()));
    assert_eq!(strata(dir.path(), &["lint"]).code, 0);
    // Named, an applied migration is linted all the same.
    assert_eq!(strata(dir.path(), &["lint", "live", "0002"]).code, 1);
}

#[test]
fn sqlite_small_table_passes_and_large_table_fails() {
    small_table_passes_and_large_table_fails(Kind::Sqlite);
}

#[test]
fn postgres_small_table_passes_and_large_table_fails() {
    small_table_passes_and_large_table_fails(Kind::Postgres);
}

#[test]
fn fake_runs_skip_lint() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = live(&db, 20);
    let out = strata(dir.path(), &["migrate", "--fake"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn findings_are_suppressed_per_operation_and_per_rule() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = live(&db, 20);
    let migration = dir.path().join("apps/live/migrations/0002_widen_qty.toml");
    let config = dir.path().join("strata.toml");
    let original = std::fs::read_to_string(&config).unwrap();

    // The project caps the rule at a warning, or raises it back to an error.
    append(&config, "warn = [\"table-rebuild\"]\n");
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("warning[table-rebuild]"),
        "{}",
        out.stdout
    );
    append(&config, "error = [\"table-rebuild\"]\n");
    assert_eq!(strata(dir.path(), &["lint"]).code, 1);

    // The project allows it: no finding at all.
    std::fs::write(&config, format!("{original}allow = [\"table-rebuild\"]\n")).unwrap();
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(!out.stdout.contains("table-rebuild"), "{}", out.stdout);
    std::fs::write(&config, &original).unwrap();

    // The migration accepts it for its operation: gone, and migrate runs.
    append(
        &migration,
        "\n[[lint.allow]]\noperation = 1\nrules = [\"table-rebuild\"]\nreason = \"item is tiny in production\"\n",
    );
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(!out.stdout.contains("table-rebuild"), "{}", out.stdout);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn unknown_rule_ids_are_located_errors() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = live(&db, 0);
    let config = dir.path().join("strata.toml");
    let original = std::fs::read_to_string(&config).unwrap();
    append(&config, "warn = [\"table-rebuilt\"]\n");
    for args in [&["lint"][..], &["migrate"]] {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        let line = original.lines().count() + 1;
        assert!(
            out.stderr.contains(&format!("strata.toml:{line}:")),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr
                .contains("unknown lint rule `table-rebuilt`; did you mean `table-rebuild`?"),
            "{}",
            out.stderr
        );
    }
    std::fs::write(&config, &original).unwrap();

    let migration = dir.path().join("apps/live/migrations/0002_widen_qty.toml");
    let text = std::fs::read_to_string(&migration).unwrap();
    append(
        &migration,
        "\n[[lint.allow]]\noperation = 1\nrules = [\"rename-colum\"]\n",
    );
    let out = strata(dir.path(), &["lint"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let line = text.lines().count() + 4;
    assert!(
        out.stderr
            .contains(&format!("0002_widen_qty.toml:{line}:11:")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `rename-column`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn json_findings_have_the_documented_shape() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = live(&db, 20);
    let out = strata(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let findings: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let expected = serde_json::json!([{
        "migration": "live.0002_widen_qty",
        "operation": 1,
        "rule": "table-rebuild",
        "severity": "error",
        "dialect": "sqlite",
        "server_version": findings[0]["server_version"],
        "table": "item",
        "rows": 20,
        "message": findings[0]["message"],
        "fix": strata_engine::lint::rule("table-rebuild").unwrap().fix,
    }]);
    assert_eq!(findings, expected);
    assert!(findings[0]["message"]
        .as_str()
        .unwrap()
        .contains("(20 rows)"));
}

/// makemigrations lints the file it wrote (offline, for the configured dialect) on
/// stderr, and succeeds whatever it finds.
#[test]
fn makemigrations_prints_the_new_file_findings_and_succeeds() {
    let Some(db) = TestDb::create(Kind::Sqlite) else {
        return;
    };
    let dir = live(&db, 0);
    // The models without qty: a new migration that drops it.
    std::fs::write(
        dir.path().join("apps/live/models.toml"),
        "[Item]\ntable = \"item\"\nfields.note = { type = \"text\", null = true }\n",
    )
    .unwrap();
    let out = strata(
        dir.path(),
        &[
            "makemigrations",
            "--noinput",
            "--no-rename",
            "--allow-destructive",
        ],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("Lint (sqlite 3."), "{}", out.stderr);
    assert!(
        out.stderr.contains("warning[drop-column] live.0003_"),
        "{}",
        out.stderr
    );
}
