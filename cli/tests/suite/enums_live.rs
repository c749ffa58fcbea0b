//! Enumerations on real data, through models.toml: a value outside the list is
//! refused on every backend (MySQL's ENUM, elsewhere the type check), the column
//! reads back as the enum with its values, and removing a value rows still hold fails
//! without changing anything; once the rows are gone it runs, and rolls back.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_engine::ast::TableDef;
use strata_engine::ColumnType;
use strata_testkit::for_each_backend;

const THREE: &str = r#"[Post]
fields.status = { type = "enum", values = ["draft", "published", "it's gone"], default = "draft" }
fields.path = { type = "enum", values = ['C:\dir', "/usr"], null = true }
"#;
const TWO: &str = r#"[Post]
fields.status = { type = "enum", values = ["draft", "published"], default = "draft" }
fields.path = { type = "enum", values = ['C:\dir', "/usr"], null = true }
"#;

fn live_table(db: &TestDb) -> TableDef {
    block_on(async {
        let mut d = db.connect().await;
        let s = d.introspect().await.unwrap();
        d.close().await.unwrap();
        TableDef::clone(&s.tables["shop_post"])
    })
}

fn refused(db: &TestDb, sql: &str) -> bool {
    block_on(async {
        let mut d = db.connect().await;
        let r = d.execute(sql).await;
        d.close().await.unwrap();
        r.is_err()
    })
}

fn enum_columns(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[("strata.toml", &config), ("apps/shop/models.toml", THREE)]);
    let made = strata(dir.path(), &["makemigrations"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let migrated = strata(dir.path(), &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);

    db.execute("INSERT INTO shop_post (status) VALUES ('it''s gone')");
    db.execute("INSERT INTO shop_post (id) VALUES (2)");
    assert!(
        refused(&db, "INSERT INTO shop_post (status) VALUES ('bogus')"),
        "{kind:?}: a value outside the enum was accepted"
    );
    let rows = db.query("SELECT status FROM shop_post ORDER BY id");
    assert_eq!(rows[1][0].as_deref(), Some("draft"));

    let table = live_table(&db);
    assert!(table.checks.is_empty(), "{:?}", table.checks);
    let status = table.column("status").unwrap();
    assert_eq!(status.ty, ColumnType::Enum);
    assert_eq!(status.values, ["draft", "published", "it's gone"]);
    assert_eq!(table.column("path").unwrap().values, [r"C:\dir", "/usr"]);
    let check = strata(dir.path(), &["makemigrations", "--check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

    // A row still holds the value the new list drops: the migration fails whole.
    std::fs::write(dir.path().join("apps/shop/models.toml"), TWO).unwrap();
    let made = strata(dir.path(), &["makemigrations"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let failed = strata(dir.path(), &["migrate"]);
    assert_ne!(failed.code, 0, "{kind:?}: dropping a used value succeeded");
    assert_eq!(
        live_table(&db),
        table,
        "{kind:?}: a failed change left traces"
    );
    assert_eq!(db.query("SELECT id FROM shop_post").len(), 2);

    db.execute("DELETE FROM shop_post WHERE status = 'it''s gone'");
    let migrated = strata(dir.path(), &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);
    assert_eq!(
        live_table(&db).column("status").unwrap().values,
        ["draft", "published"]
    );
    assert!(refused(
        &db,
        "INSERT INTO shop_post (status) VALUES ('it''s gone')"
    ));

    let back = strata(dir.path(), &["migrate", "shop", "0001"]);
    assert_eq!(back.code, 0, "{}", back.stderr);
    assert_eq!(live_table(&db), table);
    let zero = strata(dir.path(), &["migrate", "shop", "zero"]);
    assert_eq!(zero.code, 0, "{}", zero.stderr);
}

for_each_backend!(enum_columns_live, enum_columns);
