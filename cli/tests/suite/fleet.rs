//! Fleets: `migrate --tenants FILE --jobs N` and `showmigrations --tenants FILE`
//! through the real binary on real servers: hundreds of MariaDB databases (and,
//! with `?schema=`, PostgreSQL schemas in one database), each migrated exactly once,
//! also across a SIGKILL and a rerun; a broken tenant with and without
//! `--continue-on-error`; passwords in tenant URLs never shown.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use strata_engine::dialect::driver::Driver;
use strata_testkit::servers::{server_url, unique_db_name};

use crate::common::db::{block_on, with_database, Kind, TestDb};
use crate::common::json_shape::assert_shape;
use crate::common::{command, strata, tracker_copy, Output};
use crate::secrets::{MariadbAccount, MARKER};

/// The tracker's migrations: what each tenant's history holds once migrated.
const TRACKER: &[(&str, &str)] = &[("auth", "0001_initial"), ("tracker", "0001_initial")];

/// Where the tenants live.
enum Layout {
    /// A MariaDB database each, on the test server (`admin` URL).
    Databases { admin: String },
    /// A PostgreSQL schema each, in one test database.
    Schemas { db: TestDb },
}

/// N tenants made for one test, all dropped at the end (on failure too).
struct Fleet {
    layout: Layout,
    names: Vec<String>,
}

impl Fleet {
    /// `n` empty MariaDB databases; `None` (skipped) without a server.
    fn mariadb(n: usize) -> Option<Self> {
        let admin = server_url("STRATA_TEST_MYSQL_URL")?;
        let prefix = unique_db_name("strata_fleet");
        let fleet = Fleet {
            layout: Layout::Databases { admin },
            names: (0..n).map(|i| format!("{prefix}_{i}")).collect(),
        };
        let creates: Vec<String> = fleet
            .names
            .iter()
            .map(|name| format!("CREATE DATABASE `{name}`"))
            .collect();
        fleet.execute(&creates, true);
        Some(fleet)
    }

    /// `n` PostgreSQL schemas of one new database, made by `migrate` itself.
    fn postgres_schemas(n: usize) -> Option<Self> {
        let db = TestDb::create(Kind::Postgres)?;
        Some(Fleet {
            layout: Layout::Schemas { db },
            names: (0..n).map(|i| format!("tenant_{i}")).collect(),
        })
    }

    fn url(&self, i: usize) -> String {
        match &self.layout {
            Layout::Databases { admin } => with_database(admin, &self.names[i]),
            Layout::Schemas { db } => format!("{}?schema={}", db.url, self.names[i]),
        }
    }

    /// The tenants file in `dir`: a comment, then one URL a line.
    fn tenants_file(&self, dir: &Path) -> PathBuf {
        let mut text = String::from("# the fleet of this test\n");
        for i in 0..self.names.len() {
            text.push_str(&self.url(i));
            text.push('\n');
        }
        let path = dir.join("tenants.txt");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// A connection with rights over every tenant.
    async fn admin(&self) -> Box<dyn Driver> {
        let url = match &self.layout {
            Layout::Databases { admin } => admin.clone(),
            Layout::Schemas { db } => db.url.clone(),
        };
        let registry = strata::backends();
        let (backend, _) = registry.for_url(&url).unwrap();
        backend.connect(&url).await.unwrap()
    }

    /// Runs `statements` on the admin connection; with `check`, each must succeed.
    fn execute(&self, statements: &[String], check: bool) {
        block_on(async {
            let mut d = self.admin().await;
            for sql in statements {
                let done = d.execute(sql).await;
                assert!(!check || done.is_ok(), "{sql}: {done:?}");
            }
            d.close().await.unwrap();
        });
    }

    /// A tenant's qualified table name.
    fn table(&self, i: usize, table: &str) -> String {
        match &self.layout {
            Layout::Databases { .. } => format!("`{}`.`{table}`", self.names[i]),
            Layout::Schemas { .. } => format!("\"{}\".\"{table}\"", self.names[i]),
        }
    }

    /// Each tenant's history rows, `(app, name, state)`, sorted; empty without one.
    fn histories(&self) -> Vec<Vec<(String, String, String)>> {
        let queries: Vec<String> = (0..self.names.len())
            .map(|i| {
                format!(
                    "SELECT app, name, state FROM {} ORDER BY app, name",
                    self.table(i, "strata_migrations")
                )
            })
            .collect();
        block_on(async {
            let mut d = self.admin().await;
            let mut found = Vec::new();
            for sql in &queries {
                let rows = d.query(sql).await.unwrap_or_default();
                found.push(
                    rows.into_iter()
                        .map(|r| {
                            let cell = |i: usize| r[i].clone().unwrap_or_default();
                            (cell(0), cell(1), cell(2))
                        })
                        .collect(),
                );
            }
            d.close().await.unwrap();
            found
        })
    }

    /// Every tenant holds the tracker's migrations, each applied exactly once.
    fn assert_each_migrated_once(&self) {
        let expected: Vec<(String, String, String)> = TRACKER
            .iter()
            .map(|(a, n)| (a.to_string(), n.to_string(), "applied".to_string()))
            .collect();
        for (i, rows) in self.histories().iter().enumerate() {
            assert_eq!(rows, &expected, "tenant {} ({})", i, self.names[i]);
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        if let Layout::Databases { .. } = &self.layout {
            let drops: Vec<String> = self
                .names
                .iter()
                .map(|name| format!("DROP DATABASE IF EXISTS `{name}`"))
                .collect();
            self.execute(&drops, false);
        }
        // Schemas go with their database (`TestDb`'s drop).
    }
}

/// The report's lines, parsed, each checked against its documented shape.
fn report(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| assert_shape("migrate-tenants-report", l))
        .collect()
}

/// The outcome of each tenant in a report, by its line in the tenants file.
fn outcomes(lines: &[Value]) -> BTreeMap<u64, String> {
    let mut by_line = BTreeMap::new();
    for l in lines {
        let line = l["line"].as_u64().unwrap();
        let before = by_line.insert(line, l["outcome"].as_str().unwrap().to_string());
        assert!(before.is_none(), "tenant on line {line} reported twice");
    }
    by_line
}

fn fleet_migrate(dir: &Path, tenants: &Path, report: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "migrate",
        "--tenants",
        tenants.to_str().unwrap(),
        "--report",
        report.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    strata(dir, &args)
}

fn count(lines: &[Value], outcome: &str) -> usize {
    lines.iter().filter(|l| l["outcome"] == outcome).count()
}

/// Migrates `fleet` from empty, `--jobs jobs`: every tenant once, one report line each.
fn migrates_every_tenant_once(fleet: &Fleet, jobs: &str) {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = fleet.tenants_file(dir.path());
    let report_path = dir.path().join("report.jsonl");
    let out = fleet_migrate(dir.path(), &tenants, &report_path, &["--jobs", jobs]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let n = fleet.names.len();
    let lines = report(&report_path);
    assert_eq!(lines.len(), n);
    assert_eq!(outcomes(&lines).len(), n);
    assert_eq!(count(&lines, "ok"), n, "{}", out.stdout);
    assert!(lines.iter().all(|l| l["applied"] == 2));
    assert!(
        out.stdout.contains(&format!(
            "{n} tenants: {n} migrated, 0 up to date, 0 failed, 0 not started"
        )),
        "{}",
        out.stdout
    );
    // One progress line per tenant.
    assert_eq!(out.stdout.lines().filter(|l| l.starts_with('[')).count(), n);
    fleet.assert_each_migrated_once();
    // Again: nothing to do, found without the lock.
    let again = fleet_migrate(dir.path(), &tenants, &report_path, &["--jobs", jobs]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    assert_eq!(count(&report(&report_path), "up_to_date"), n);
    fleet.assert_each_migrated_once();
}

#[test]
fn two_hundred_mariadb_databases_are_each_migrated_once() {
    let Some(fleet) = Fleet::mariadb(200) else {
        return;
    };
    migrates_every_tenant_once(&fleet, "4");
}

/// SIGKILL when about half the tenants are reported, then the same command again.
fn kill_half_way_then_rerun(fleet: &Fleet, jobs: &str) {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = fleet.tenants_file(dir.path());
    let report_path = dir.path().join("report.jsonl");
    let n = fleet.names.len();
    let mut child = command(
        dir.path(),
        &[
            "migrate",
            "--tenants",
            tenants.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
            "--jobs",
            jobs,
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while report(&report_path).len() < n / 2 {
        assert!(Instant::now() < deadline, "half the fleet not done in 300s");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before the kill"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let first = report(&report_path);
    let done_before: Vec<u64> = first
        .iter()
        .filter(|l| l["outcome"] == "ok")
        .map(|l| l["line"].as_u64().unwrap())
        .collect();
    assert!(
        done_before.len() >= n / 2 && done_before.len() < n,
        "{}",
        done_before.len()
    );

    let out = fleet_migrate(dir.path(), &tenants, &report_path, &["--jobs", jobs]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let second = report(&report_path);
    let by_line = outcomes(&second);
    assert_eq!(by_line.len(), n);
    for line in &done_before {
        assert_eq!(by_line[line], "up_to_date", "tenant on line {line}");
    }
    assert_eq!(count(&second, "up_to_date") + count(&second, "ok"), n);
    fleet.assert_each_migrated_once();
}

#[test]
fn a_fleet_killed_half_way_finishes_on_the_rerun() {
    let Some(fleet) = Fleet::mariadb(200) else {
        return;
    };
    kill_half_way_then_rerun(&fleet, "4");
}

/// The tracker with a second migration that alters `tracker_transaction`.
fn tracker_with_a_second_migration() -> tempfile::TempDir {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    std::fs::write(
        dir.path()
            .join("apps/tracker/migrations/0002_transaction_note.toml"),
        r#"dependencies = ["tracker.0001_initial"]

[[operations]]
kind = "add_column"
table = "tracker_transaction"
column = { name = "note", type = "varchar(20)", null = true }
"#,
    )
    .unwrap();
    dir
}

/// Six tenants at `tracker 0001`, the second missing the table `0002` alters.
fn broken_fleet() -> Option<(Fleet, tempfile::TempDir, PathBuf)> {
    let fleet = Fleet::mariadb(6)?;
    let dir = tracker_with_a_second_migration();
    let tenants = fleet.tenants_file(dir.path());
    let first = strata(
        dir.path(),
        &[
            "migrate",
            "tracker",
            "0001",
            "--tenants",
            tenants.to_str().unwrap(),
        ],
    );
    assert_eq!(first.code, 0, "{}\n{}", first.stdout, first.stderr);
    let table = fleet.table(1, "tracker_transaction");
    fleet.execute(&[format!("DROP TABLE {table}")], true);
    Some((fleet, dir, tenants))
}

#[test]
fn a_broken_tenant_fails_alone_with_continue_on_error() {
    let Some((fleet, dir, tenants)) = broken_fleet() else {
        return;
    };
    let report_path = dir.path().join("report.jsonl");
    let out = fleet_migrate(
        dir.path(),
        &tenants,
        &report_path,
        &["--jobs", "2", "--continue-on-error"],
    );
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    let lines = report(&report_path);
    let by_line = outcomes(&lines);
    assert_eq!(by_line.len(), 6);
    // The tenants file has a comment on line 1: tenant i is on line i + 2.
    assert_eq!(by_line[&3], "failed");
    assert_eq!(count(&lines, "ok"), 5);
    let failed = lines.iter().find(|l| l["outcome"] == "failed").unwrap();
    let reason = failed["error"]["message"].as_str().unwrap();
    assert!(reason.contains("tracker_transaction"), "{reason}");
    assert!(
        out.stdout.contains("1 failed, 0 not started"),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("1 of 6 tenants failed"),
        "{}",
        out.stderr
    );
    let note_rows = |i: usize| {
        fleet
            .histories()
            .remove(i)
            .iter()
            .filter(|(app, name, _)| app == "tracker" && name == "0002_transaction_note")
            .count()
    };
    assert_eq!(note_rows(0), 1);
    assert_eq!(note_rows(1), 0);
    assert_eq!(note_rows(5), 1);
}

#[test]
fn a_broken_tenant_stops_new_ones_without_continue_on_error() {
    let Some((fleet, dir, tenants)) = broken_fleet() else {
        return;
    };
    let report_path = dir.path().join("report.jsonl");
    let out = fleet_migrate(dir.path(), &tenants, &report_path, &["--jobs", "1"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    let by_line = outcomes(&report(&report_path));
    let expected: BTreeMap<u64, String> = [
        (2, "ok"),
        (3, "failed"),
        (4, "not_started"),
        (5, "not_started"),
        (6, "not_started"),
        (7, "not_started"),
    ]
    .into_iter()
    .map(|(l, o)| (l, o.to_string()))
    .collect();
    assert_eq!(by_line, expected, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("1 migrated, 0 up to date, 1 failed, 4 not started"),
        "{}",
        out.stdout
    );
    // Nothing ran on the tenants not started.
    let histories = fleet.histories();
    assert!(histories[2]
        .iter()
        .all(|(_, name, _)| name != "0002_transaction_note"));
}

#[test]
fn a_password_in_a_tenant_url_is_never_shown() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let account = MariadbAccount::create(&db);
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let host = db.url.split('@').nth(1).unwrap().split('/').next().unwrap();
    let database = db.url.rsplit('/').next().unwrap();
    // The right password (the migration runs), then a wrong one for root.
    let tenants = dir.path().join("tenants.txt");
    std::fs::write(
        &tenants,
        format!(
            "mysql://{}:{MARKER}@{host}/{database}\nmysql://root:{MARKER}@{host}/{database}\n",
            account.name
        ),
    )
    .unwrap();
    let report_path = dir.path().join("report.jsonl");
    let out = fleet_migrate(
        dir.path(),
        &tenants,
        &report_path,
        &["-vv", "--continue-on-error"],
    );
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    let report_text = std::fs::read_to_string(&report_path).unwrap();
    let by_line = outcomes(&report(&report_path));
    assert_eq!(by_line[&1], "ok");
    assert_eq!(by_line[&2], "failed");
    for (what, text) in [
        ("stdout", &out.stdout),
        ("stderr", &out.stderr),
        ("report", &report_text),
    ] {
        assert!(!text.contains(MARKER), "the password in {what}:\n{text}");
    }
    assert!(report_text.contains(":***@"), "{report_text}");
    let json = strata(
        dir.path(),
        &[
            "showmigrations",
            "--tenants",
            tenants.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(!json.stdout.contains(MARKER) && !json.stderr.contains(MARKER));
    let summary = assert_shape("migrate-tenants", &json.stdout);
    assert_eq!(summary["failed"], 1, "{}", json.stdout);
}

#[test]
fn showmigrations_counts_applied_and_pending_per_tenant() {
    let Some(fleet) = Fleet::mariadb(3) else {
        return;
    };
    let dir = tracker_copy("sqlite://unused.sqlite3");
    // Tenant 0: all; tenant 1: auth only; tenant 2: nothing.
    let one = dir.path().join("one.txt");
    std::fs::write(&one, format!("{}\n", fleet.url(0))).unwrap();
    let two = dir.path().join("two.txt");
    std::fs::write(&two, format!("{}\n", fleet.url(1))).unwrap();
    for (file, args) in [(&one, vec![]), (&two, vec!["auth"])] {
        let mut all = vec!["migrate"];
        all.extend(args);
        all.extend(["--tenants", file.to_str().unwrap()]);
        let out = strata(dir.path(), &all);
        assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    }
    let tenants = fleet.tenants_file(dir.path());
    let out = strata(
        dir.path(),
        &[
            "showmigrations",
            "--tenants",
            tenants.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let summary = assert_shape("migrate-tenants", &out.stdout);
    let counts: Vec<(u64, u64)> = summary["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["applied"].as_u64().unwrap(),
                r["pending"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, vec![(2, 0), (1, 1), (0, 2)]);
    let text = strata(
        dir.path(),
        &["showmigrations", "--tenants", tenants.to_str().unwrap()],
    );
    assert!(
        text.stdout.contains("1 applied, 1 pending"),
        "{}",
        text.stdout
    );
}

#[test]
fn a_bad_tenants_file_is_refused_by_file_and_line_before_connecting() {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = dir.path().join("tenants.txt");
    std::fs::write(
        &tenants,
        "# two\nsqlite://a.sqlite3\n\nsqlite://a.sqlite3\n",
    )
    .unwrap();
    let out = strata(
        dir.path(),
        &["migrate", "--tenants", tenants.to_str().unwrap()],
    );
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.contains("tenants.txt:4:"), "{}", out.stderr);
    assert!(out.stderr.contains("first on line 2"), "{}", out.stderr);
    assert!(
        !dir.path().join("a.sqlite3").exists(),
        "a tenant was touched"
    );
    let out = strata(dir.path(), &["migrate", "--jobs", "2"]);
    assert_eq!(out.code, 2, "--jobs without --tenants: {}", out.stderr);
}

#[test]
fn a_thousand_postgres_schemas_are_each_migrated_once() {
    let Some(fleet) = Fleet::postgres_schemas(1000) else {
        return;
    };
    migrates_every_tenant_once(&fleet, "8");
}

#[test]
fn a_postgres_schema_fleet_killed_half_way_finishes_on_the_rerun() {
    // 300, not 1,000: the thousand are proven above; this is about the kill.
    let Some(fleet) = Fleet::postgres_schemas(300) else {
        return;
    };
    kill_half_way_then_rerun(&fleet, "8");
}

/// A migration after the tracker's that sleeps 30 s, then makes a table: the table is
/// refused once the sleep is cancelled (MariaDB's `SLEEP` returns early rather than
/// failing), so an interrupted tenant never records it applied.
const SLOW: &str = r#"dependencies = ["tracker.0001_initial"]

[[operations]]
kind = "run_sql"
reverse_sql = "SELECT 1"
[operations.sql]
postgres = "SELECT pg_sleep(30)"
mysql = "SELECT SLEEP(30)"
sqlite = "SELECT 1"

[[operations]]
kind = "create_table"
name = "after_sleep"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#;

impl Fleet {
    /// How many of this fleet's tenants run the slow statement of [`SLOW`] now.
    fn sleeping(&self) -> usize {
        let probe = match &self.layout {
            Layout::Schemas { .. } => "SELECT pid FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active' AND datname = current_database()".to_string(),
            Layout::Databases { .. } => format!(
                "SELECT id FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%' AND db IN ({})",
                self.names.iter().map(|n| format!("'{n}'")).collect::<Vec<_>>().join(", ")
            ),
        };
        block_on(async {
            let mut d = self.admin().await;
            let rows = d.query(&probe).await.unwrap();
            d.close().await.unwrap();
            rows.len()
        })
    }
}

/// SIGINT while three tenants each sleep in a statement (`--jobs 3`): every one of
/// them is cancelled on its server (not only the last connected), the run stops
/// within seconds with exit 130, the summary and the report name each tenant
/// interrupted, and none records the slow migration applied.
fn sigint_cancels_every_running_tenant(fleet: &Fleet, format: &str) {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    std::fs::write(
        dir.path().join("apps/tracker/migrations/0002_slow.toml"),
        SLOW,
    )
    .unwrap();
    let tenants = fleet.tenants_file(dir.path());
    let report_path = dir.path().join("report.jsonl");
    let child = command(
        dir.path(),
        &[
            "migrate",
            "--tenants",
            tenants.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
            "--jobs",
            "3",
            "--format",
            format,
        ],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let started = Instant::now();
    while fleet.sleeping() < 3 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the three tenants never all reached the slow statement"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let signalled = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_eq!(fleet.sleeping(), 0, "a server still runs a tenant's sleep");
    let lines = report(&report_path);
    assert_eq!(count(&lines, "interrupted"), 3, "{stdout}");
    if format == "json" {
        let summary = assert_shape("migrate-tenants", &stdout);
        assert_eq!(summary["interrupted"], 3, "{stdout}");
        assert_eq!(
            count(summary["results"].as_array().unwrap(), "interrupted"),
            3
        );
    } else {
        assert!(stdout.contains("3 interrupted"), "{stdout}");
        assert_eq!(
            stdout.matches("  interrupted: ").count(),
            3,
            "each tenant named: {stdout}"
        );
    }
    assert!(stderr.contains("interrupted by SIGINT"), "{stderr}");
    for (i, rows) in fleet.histories().iter().enumerate() {
        assert!(
            rows.iter()
                .all(|(_, name, state)| name != "0002_slow" || state != "applied"),
            "tenant {i}: {rows:?}"
        );
    }
}

#[test]
fn sigint_cancels_every_running_mariadb_tenant() {
    let Some(fleet) = Fleet::mariadb(3) else {
        return;
    };
    sigint_cancels_every_running_tenant(&fleet, "text");
}

#[test]
fn sigint_cancels_every_running_postgres_schema_tenant() {
    let Some(fleet) = Fleet::postgres_schemas(3) else {
        return;
    };
    sigint_cancels_every_running_tenant(&fleet, "json");
}

#[test]
fn database_and_tenants_together_are_refused() {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = dir.path().join("tenants.txt");
    std::fs::write(&tenants, "sqlite://a.sqlite3\n").unwrap();
    let tenants = tenants.to_str().unwrap();
    // The global flag before the command and after it, for both fleet commands.
    for args in [
        vec![
            "--database",
            "sqlite://b.sqlite3",
            "migrate",
            "--tenants",
            tenants,
        ],
        vec![
            "migrate",
            "--tenants",
            tenants,
            "--database",
            "sqlite://b.sqlite3",
        ],
        vec![
            "--database",
            "sqlite://b.sqlite3",
            "showmigrations",
            "--tenants",
            tenants,
        ],
    ] {
        let out = strata(dir.path(), &args);
        assert_eq!(out.code, 2, "{args:?}: {}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("--database") && out.stderr.contains("--tenants"),
            "{args:?}: {}",
            out.stderr
        );
    }
    for file in ["a.sqlite3", "b.sqlite3"] {
        assert!(!dir.path().join(file).exists(), "{file} was touched");
    }
}

/// One MariaDB database and one PostgreSQL schema, each listed under three URLs (host
/// alias, trailing slash, an extra parameter): the tenants file's duplicate check is
/// textual, so the lock makes each exactly-once, and the runs that find it done
/// once they hold the lock are `up_to_date`, not `migrated`.
#[test]
fn the_same_database_under_other_urls_is_migrated_once() {
    let (Some(mariadb), Some(postgres)) = (Fleet::mariadb(1), Fleet::postgres_schemas(1)) else {
        return;
    };
    let (my, pg) = (mariadb.url(0), postgres.url(0));
    let urls = [
        my.clone(),
        my.replace("127.0.0.1", "localhost"),
        format!("{my}/"),
        pg.clone(),
        pg.replace("127.0.0.1", "localhost"),
        format!("{pg}&sslmode=disable"),
    ];
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = dir.path().join("tenants.txt");
    std::fs::write(&tenants, urls.join("\n")).unwrap();
    let report_path = dir.path().join("report.jsonl");
    let out = fleet_migrate(dir.path(), &tenants, &report_path, &["--jobs", "6"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let lines = report(&report_path);
    for range in [1..=3, 4..=6] {
        let ok: Vec<&Value> = lines
            .iter()
            .filter(|l| range.contains(&l["line"].as_u64().unwrap()) && l["outcome"] == "ok")
            .collect();
        assert_eq!(ok.len(), 1, "lines {range:?}: {}", out.stdout);
        assert_eq!(ok[0]["applied"], 2);
    }
    assert_eq!(count(&lines, "up_to_date"), 4, "{}", out.stdout);
    mariadb.assert_each_migrated_once();
    postgres.assert_each_migrated_once();
}

#[test]
fn a_report_path_that_cannot_be_written_is_refused_before_any_tenant() {
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = dir.path().join("tenants.txt");
    let listed = "sqlite://a.sqlite3\n";
    std::fs::write(&tenants, listed).unwrap();
    std::fs::create_dir(dir.path().join("folder")).unwrap();
    let tenants_arg = tenants.to_str().unwrap();
    // The tenants file itself (a slip of the shell) would be emptied by the report.
    let through_dot_dot = dir.path().join("folder/../tenants.txt");
    for report_path in [
        tenants.clone(),
        through_dot_dot,
        dir.path().join("folder"),
        dir.path().join("missing/report.jsonl"),
    ] {
        let out = fleet_migrate(dir.path(), &tenants, &report_path, &[]);
        assert_eq!(
            out.code,
            2,
            "{}: {}\n{}",
            report_path.display(),
            out.stdout,
            out.stderr
        );
        assert!(
            out.stderr.contains("report"),
            "{}: {}",
            report_path.display(),
            out.stderr
        );
        assert_eq!(std::fs::read_to_string(&tenants).unwrap(), listed);
        assert!(
            !dir.path().join("a.sqlite3").exists(),
            "a tenant was touched"
        );
    }
    let out = strata(
        dir.path(),
        &["migrate", "--tenants", tenants_arg, "--jobs", "0"],
    );
    assert_eq!(out.code, 2, "--jobs 0: {}\n{}", out.stdout, out.stderr);
}

/// SIGINT while every tenant waits for a server that accepted the connection but never
/// answers: the connects are abandoned at once (nothing was done on any tenant), not
/// waited for until connect_timeout; the tenants are reported not started; exit 130.
#[test]
fn sigint_while_tenants_connect_stops_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tracker_copy("sqlite://unused.sqlite3");
    let tenants = dir.path().join("tenants.txt");
    std::fs::write(
        &tenants,
        format!("mysql://root@127.0.0.1:{port}/t\npostgres://postgres@127.0.0.1:{port}/t\n"),
    )
    .unwrap();
    let report_path = dir.path().join("report.jsonl");
    let child = command(
        dir.path(),
        &[
            "migrate",
            "--tenants",
            tenants.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
        ],
    )
    .env("STRATA_CONNECT_TIMEOUT", "60s")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Both tenants are connecting once their connections are accepted; held, unanswered.
    let _held: Vec<std::net::TcpStream> = (0..2).map(|_| listener.accept().unwrap().0).collect();
    std::thread::sleep(Duration::from_millis(200));
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let signalled = Instant::now();
    let out = child.wait_with_output().unwrap();
    let took = signalled.elapsed();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(count(&report(&report_path), "not_started"), 2, "{stdout}");
}
