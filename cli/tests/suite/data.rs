//! Every row survives: 100,000 rows through rename column, rename table, type,
//! nullability and default changes (SQLite: table rebuilds), and back again.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::common::db::{Kind, TestDb};
use crate::common::{project, strata};
use strata_testkit::for_each_backend;

const ROWS: usize = 100_000;

const MIGRATIONS: &[(&str, &str)] = &[
    (
        "apps/shop/migrations/0001_initial.toml",
        r#"[[operations]]
kind = "create_table"
name = "items"
primary_key = ["id"]
columns = [
    { name = "id", type = "bigint", auto = true },
    { name = "name", type = "varchar(100)" },
    { name = "qty", type = "int" },
    { name = "price", type = "decimal(10,2)" },
    { name = "note", type = "varchar(50)", null = true },
]
indexes = [{ name = "items_name_idx", columns = ["name"] }]
"#,
    ),
    (
        "apps/shop/migrations/0002_rename_name.toml",
        r#"dependencies = ["shop.0001_initial"]

[[operations]]
kind = "rename_column"
table = "items"
from = "name"
to = "title"
"#,
    ),
    (
        "apps/shop/migrations/0003_rename_table.toml",
        r#"dependencies = ["shop.0002_rename_name"]

[[operations]]
kind = "rename_table"
from = "items"
to = "products"
"#,
    ),
    (
        "apps/shop/migrations/0004_alter.toml",
        r#"dependencies = ["shop.0003_rename_table"]

[[operations]]
kind = "alter_column"
table = "products"
column = "qty"
type = "bigint"
default = 5

[[operations]]
kind = "alter_column"
table = "products"
column = "note"
type = "text"
null = false

[[operations]]
kind = "alter_column"
table = "products"
column = "title"
type = "varchar(200)"
"#,
    ),
];

/// Count and a hash of every row's contents, in id order.
fn fingerprint(db: &TestDb, table: &str, name: &str) -> (usize, u64) {
    let rows = db.query(&format!(
        "SELECT id, {name}, qty, price, note FROM {table} ORDER BY id"
    ));
    let mut hasher = DefaultHasher::new();
    for row in &rows {
        row.hash(&mut hasher);
    }
    (rows.len(), hasher.finish())
}

fn fill(db: &TestDb) {
    for batch in 0..ROWS / 1000 {
        let values: Vec<String> = (0..1000)
            .map(|i| {
                let n = batch * 1000 + i;
                format!(
                    "('item {n} ''quoted''', {}, {}.{:02}, 'note {n}')",
                    n % 997,
                    n % 10_000,
                    n % 100
                )
            })
            .collect();
        db.execute(&format!(
            "INSERT INTO items (name, qty, price, note) VALUES {}",
            values.join(", ")
        ));
    }
}

fn rows_survive(kind: Kind) {
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
    let migrate = |args: &[&str]| {
        let out = strata(dir.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {}\n{}", out.stdout, out.stderr);
    };

    migrate(&["migrate", "shop", "0001"]);
    fill(&db);
    let original = fingerprint(&db, "items", "name");
    assert_eq!(original.0, ROWS);

    migrate(&["migrate", "shop", "0002"]);
    assert_eq!(
        fingerprint(&db, "items", "title"),
        original,
        "rename column"
    );
    migrate(&["migrate", "shop", "0003"]);
    assert_eq!(
        fingerprint(&db, "products", "title"),
        original,
        "rename table"
    );
    migrate(&["migrate", "shop", "0004"]);
    assert_eq!(
        fingerprint(&db, "products", "title"),
        original,
        "alter type/null/default"
    );

    migrate(&["migrate", "shop", "0001"]);
    assert_eq!(fingerprint(&db, "items", "name"), original, "rolled back");
}

for_each_backend!(hundred_thousand_rows_survive, rows_survive);
