//! Never a silent truncation: every narrowing type change, and NULL → NOT NULL, on
//! real data. With values that fit, the migration applies; with one row that does
//! not, it fails with exit 4, names the table and column, and leaves the values, the
//! schema and the history as they were — on SQLite, PostgreSQL and MariaDB alike.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

/// One narrowing: the column's type before and after, a value that fits the new
/// type, and one that does not (SQL literals, valid for the old type everywhere).
struct Narrowing {
    from: &'static str,
    to: &'static str,
    fits: &'static str,
    misfit: &'static str,
}

const NARROWINGS: &[Narrowing] = &[
    // Whole numbers beyond a float's mantissa would round (2^53 + 1 becomes 2^53).
    Narrowing {
        from: "bigint",
        to: "double",
        fits: "9007199254740992",
        misfit: "9007199254740993",
    },
    Narrowing {
        from: "int",
        to: "real",
        fits: "16777216",
        misfit: "16777217",
    },
    Narrowing {
        from: "decimal(30,0)",
        to: "double",
        fits: "-9007199254740992",
        misfit: "123456789012345678901234567890",
    },
    Narrowing {
        from: "varchar(100)",
        to: "varchar(2)",
        fits: "'ab'",
        misfit: "'abcdefghij'",
    },
    Narrowing {
        from: "text",
        to: "varchar(3)",
        fits: "'abc'",
        misfit: "'abcd'",
    },
    Narrowing {
        from: "varchar(10)",
        to: "char(2)",
        fits: "'xy'",
        misfit: "'xyz'",
    },
    Narrowing {
        from: "bigint",
        to: "int",
        fits: "2147483647",
        misfit: "2147483648",
    },
    Narrowing {
        from: "int",
        to: "smallint",
        fits: "-32768",
        misfit: "40000",
    },
    Narrowing {
        from: "decimal(10,3)",
        to: "decimal(10,2)",
        fits: "1.25",
        misfit: "1.235",
    },
    Narrowing {
        from: "decimal(10,2)",
        to: "decimal(4,2)",
        fits: "99.99",
        misfit: "100.00",
    },
    Narrowing {
        from: "double",
        to: "int",
        fits: "3.0",
        misfit: "2.5",
    },
    Narrowing {
        from: "decimal(8,2)",
        to: "bigint",
        fits: "12.00",
        misfit: "12.50",
    },
    Narrowing {
        from: "int",
        to: "bool",
        fits: "1",
        misfit: "5",
    },
    Narrowing {
        from: "int",
        to: "varchar(3)",
        fits: "123",
        misfit: "1234",
    },
    Narrowing {
        from: "int",
        to: "int unsigned",
        fits: "0",
        misfit: "-1",
    },
    Narrowing {
        from: "bigint unsigned",
        to: "int",
        fits: "2147483647",
        misfit: "2147483648",
    },
    Narrowing {
        from: "int unsigned",
        to: "smallint unsigned",
        fits: "300",
        misfit: "70000",
    },
    Narrowing {
        from: "datetime",
        to: "date",
        fits: "'2024-01-02 00:00:00'",
        misfit: "'2024-01-02 10:30:00'",
    },
];

fn files(db: &TestDb, from: &str, to: &str, not_null: bool) -> Vec<(&'static str, String)> {
    vec![
        (
            "strata.toml",
            format!("[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\n", db.url),
        ),
        (
            "apps/jobs/migrations/0001_initial.toml",
            format!(
                "[[operations]]\nkind = \"create_table\"\nname = \"jobs_job\"\n\
                 primary_key = [\"id\"]\ncolumns = [\n    {{ name = \"id\", type = \"bigint\", \
                 auto = true }},\n    {{ name = \"c\", type = \"{from}\", null = true }},\n]\n"
            ),
        ),
        (
            "apps/jobs/migrations/0002_narrow.toml",
            format!(
                "dependencies = [\"jobs.0001_initial\"]\n\n[[operations]]\n\
                 kind = \"alter_column\"\ntable = \"jobs_job\"\ncolumn = \"c\"\ntype = \"{to}\"\n{}",
                if not_null { "null = false\n" } else { "" }
            ),
        ),
    ]
}

/// Everything the failed migration must not have changed: the rows as the server
/// shows them, the introspected schema, and the history.
fn snapshot(db: &TestDb) -> String {
    let rows = db.query("SELECT id, c FROM jobs_job ORDER BY id");
    let history = db.query("SELECT app, name FROM strata_migrations ORDER BY app, name");
    let schema = block_on(async {
        let mut d = db.connect().await;
        let s = d.introspect().await.unwrap();
        d.close().await.unwrap();
        s
    });
    format!("{rows:?}\n{history:?}\n{schema:?}")
}

/// Applies 0001, inserts `values`, runs `migrate` and returns the output.
fn run(
    kind: Kind,
    from: &str,
    to: &str,
    not_null: bool,
    values: &[&str],
) -> Option<(TestDb, tempfile::TempDir, crate::common::Output)> {
    let db = TestDb::create(kind)?;
    let owned = files(&db, from, to, not_null);
    let refs: Vec<(&str, &str)> = owned.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let dir = project(&refs);
    let first = strata(dir.path(), &["migrate", "jobs", "0001"]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    for value in values {
        db.execute(&format!("INSERT INTO jobs_job (c) VALUES ({value})"));
    }
    let out = strata(dir.path(), &["migrate"]);
    Some((db, dir, out))
}

fn fitting_values_apply(kind: Kind) {
    for n in NARROWINGS {
        let Some((db, _dir, out)) = run(kind, n.from, n.to, false, &[n.fits, "NULL"]) else {
            return;
        };
        assert_eq!(
            out.code, 0,
            "{} → {} with {}: {}",
            n.from, n.to, n.fits, out.stderr
        );
        assert_eq!(db.query("SELECT c FROM jobs_job").len(), 2);
    }
}

fn misfits_fail_and_change_nothing(kind: Kind) {
    for n in NARROWINGS {
        let Some((db, dir, out)) = run(kind, n.from, n.to, false, &[n.fits, n.misfit]) else {
            return;
        };
        let case = format!("{} → {} with {}", n.from, n.to, n.misfit);
        assert_eq!(
            out.code, 4,
            "{case}: exit {}\n{}{}",
            out.code, out.stdout, out.stderr
        );
        for part in [
            "table `jobs_job`, column `c`",
            &format!("type `{}`", n.to),
            "rows: (1)",
        ] {
            assert!(
                out.stderr.contains(part),
                "{case}: no `{part}` in\n{}",
                out.stderr
            );
        }
        let before = snapshot(&db);
        // A second attempt fails the same way and still changes nothing.
        let again = strata(dir.path(), &["migrate"]);
        assert_eq!(again.code, 4, "{case}");
        assert_eq!(
            snapshot(&db),
            before,
            "{case}: the failed migration changed something"
        );
        assert!(
            before.contains("0001_initial") && !before.contains("0002_narrow"),
            "{case}: {before}"
        );
    }
}

/// Nothing is changed by the failed run itself: the state before `migrate` equals
/// the state after it, checked on the first narrowing with an explicit before-image.
fn state_before_equals_state_after(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let owned = files(&db, "varchar(100)", "varchar(2)", false);
    let refs: Vec<(&str, &str)> = owned.iter().map(|(p, c)| (*p, c.as_str())).collect();
    let dir = project(&refs);
    assert_eq!(strata(dir.path(), &["migrate", "jobs", "0001"]).code, 0);
    db.execute("INSERT INTO jobs_job (c) VALUES ('abcdefghij'), ('ab'), (NULL)");
    let before = snapshot(&db);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 4, "{}", out.stderr);
    assert_eq!(snapshot(&db), before);
    assert!(before.contains("abcdefghij"), "{before}");
}

fn null_rows_block_not_null(kind: Kind) {
    let Some((db, dir, out)) = run(kind, "int", "int", true, &["7", "NULL"]) else {
        return;
    };
    assert_eq!(out.code, 4, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("column `c` becomes NOT NULL"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("rows: (1)"), "{}", out.stderr);
    let before = snapshot(&db);
    assert_eq!(strata(dir.path(), &["migrate"]).code, 4);
    assert_eq!(snapshot(&db), before);
    // Once the NULL is filled in, the same migration applies.
    db.execute("UPDATE jobs_job SET c = 0 WHERE c IS NULL");
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

for_each_backend!(narrowing_with_fitting_values_applies, fitting_values_apply);
for_each_backend!(
    narrowing_with_a_misfit_fails_unchanged,
    misfits_fail_and_change_nothing
);
for_each_backend!(
    failed_narrowing_leaves_the_database_as_it_was,
    state_before_equals_state_after
);
for_each_backend!(
    null_rows_block_not_null_everywhere,
    null_rows_block_not_null
);

/// strata's own MySQL session is strict, whatever the server's global mode: a
/// `run_sql` records the session's `sql_mode` as the migration saw it.
#[test]
fn the_migration_session_on_mariadb_is_strict() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"jobs\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let migration =
        "[[operations]]\nkind = \"run_sql\"\nsql = \"CREATE TABLE probe (mode text)\"\n\n\
                     [[operations]]\nkind = \"run_sql\"\n\
                     sql = \"INSERT INTO probe SELECT @@SESSION.sql_mode\"\n";
    let dir = project(&[
        ("strata.toml", config.as_str()),
        ("apps/jobs/migrations/0001_probe.toml", migration),
    ]);
    let out = strata(dir.path(), &["migrate"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = db.query("SELECT mode FROM probe");
    let mode = mode[0][0].clone().unwrap_or_default();
    for flag in [
        "STRICT_ALL_TABLES",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
    ] {
        assert!(mode.contains(flag), "{flag} not in {mode}");
    }
    assert!(!mode.contains("NO_BACKSLASH_ESCAPES"), "{mode}");
}
