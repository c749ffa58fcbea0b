//! A `json` column rejects invalid JSON on every backend, however it came to be:
//! created with its table, added, renamed, or kept through a SQLite table rebuild.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "apps/shop/migrations/0001_initial.toml",
        r#"[[operations]]
kind = "create_table"
name = "docs"
primary_key = ["id"]
columns = [
    { name = "id", type = "int" },
    { name = "doc", type = "json", null = true },
    { name = "n", type = "int", default = 0 },
]
"#,
    ),
    (
        "apps/shop/migrations/0002_rename.toml",
        r#"dependencies = ["shop.0001_initial"]

[[operations]]
kind = "rename_column"
table = "docs"
from = "doc"
to = "body"

[[operations]]
kind = "add_column"
table = "docs"
column = { name = "doc", type = "json", null = true }
"#,
    ),
    (
        "apps/shop/migrations/0003_rebuild.toml",
        r#"dependencies = ["shop.0002_rename"]

[[operations]]
kind = "alter_column"
table = "docs"
column = "n"
type = "bigint"
"#,
    ),
];

/// Whether the server accepts `value` into `column` (a fresh row each time).
fn accepts(db: &TestDb, id: i32, column: &str, value: &str) -> bool {
    let sql = format!("INSERT INTO docs (id, {column}) VALUES ({id}, '{value}')");
    block_on(async {
        let mut d = db.connect().await;
        let ok = d.execute(&sql).await.is_ok();
        d.close().await.unwrap();
        ok
    })
}

fn invalid_json_is_rejected(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let mut files = vec![("strata.toml", config.as_str())];
    files.extend_from_slice(MIGRATIONS);
    let dir = project(&files);
    let migrate = |target: &str| {
        let out = strata(dir.path(), &["migrate", "shop", target]);
        assert_eq!(out.code, 0, "{target}: {}\n{}", out.stdout, out.stderr);
    };

    let mut id = 0;
    let mut check = |stage: &str, columns: &[&str]| {
        for column in columns {
            id += 2;
            assert!(
                accepts(&db, id, column, r#"{"a": [1, 2]}"#),
                "{kind:?} {stage}: valid JSON refused in {column}"
            );
            assert!(
                !accepts(&db, id + 1, column, "{not json"),
                "{kind:?} {stage}: invalid JSON accepted in {column}"
            );
        }
    };
    migrate("0001");
    check("created", &["doc"]);
    migrate("0002");
    check("renamed and added", &["body", "doc"]);
    migrate("0003");
    check("after a rebuild", &["body", "doc"]);
    migrate("0001");
    check("rolled back", &["doc"]);
}

for_each_backend!(
    invalid_json_is_rejected_everywhere,
    invalid_json_is_rejected
);
