//! Issue 12, foreign keys, end to end on every backend: models with `to_field`,
//! `deferrable` and `db_constraint = false` → `makemigrations` → `migrate`, then rows
//! show what the database enforces (and when), and `inspectdb` reads it back.

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, run, strata};
use strata_testkit::for_each_backend;

// An `int` key: SQLite reads an implicit `bigint` auto key back as `integer`, which
// inspectdb would then not match with the `bigint` foreign key columns.
const MODELS: &str = r#"
[Customer.fields]
id = { type = "int", primary_key = true, auto = true }
email = { type = "varchar(254)", unique = true }

[Order.fields]
customer = { references = "Customer", to_field = "email" }
seller = { references = "Customer", null = true }
legacy = { references = "Customer", null = true, db_constraint = false }
"#;

/// Only where the backend can defer a foreign key.
const DEFERRED_FIELD: &str =
    "buyer = { references = \"Customer\", null = true, deferrable = \"deferred\" }\n";

fn config(db: &TestDb) -> String {
    format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    )
}

/// Runs `statements` in order on one connection; the result of each.
fn session(db: &TestDb, statements: &[&str]) -> Vec<Result<(), String>> {
    block_on(async {
        let mut d = db.connect().await;
        let mut out = Vec::new();
        for sql in statements {
            out.push(d.execute(sql).await.map_err(|e| e.to_string()));
        }
        d.close().await.unwrap();
        out
    })
}

fn foreign_keys_behave_as_declared(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let defers = kind != Kind::Mariadb;
    let models = if defers {
        format!("{MODELS}{DEFERRED_FIELD}")
    } else {
        MODELS.to_string()
    };
    let config = config(&db);
    let dir = project(&[("strata.toml", &config), ("apps/shop/models.toml", &models)]);
    run(dir.path(), &["makemigrations", "--noinput"]);
    run(dir.path(), &["migrate"]);

    db.execute("INSERT INTO shop_customer (id, email) VALUES (1, 'a@example.com')");
    // `to_field`: the key references the email, and is enforced.
    db.execute("INSERT INTO shop_order (customer_id) VALUES ('a@example.com')");
    let dangling_email = session(
        &db,
        &["INSERT INTO shop_order (customer_id) VALUES ('nobody@example.com')"],
    );
    assert!(dangling_email[0].is_err(), "{dangling_email:?}");
    // `db_constraint = false`: the column is there, nothing checks it.
    db.execute("INSERT INTO shop_order (customer_id, legacy_id) VALUES ('a@example.com', 12345)");
    // A plain key is checked at once, inside a transaction too.
    let plain = session(
        &db,
        &[
            "BEGIN",
            "INSERT INTO shop_order (customer_id, seller_id) VALUES ('a@example.com', 99)",
            "ROLLBACK",
        ],
    );
    assert!(
        plain[1].is_err(),
        "a plain key is checked at once: {plain:?}"
    );

    if defers {
        // Child first, parent second, one transaction: a deferred key allows it.
        let in_order = session(
            &db,
            &[
                "BEGIN",
                "INSERT INTO shop_order (customer_id, buyer_id) VALUES ('a@example.com', 2)",
                "INSERT INTO shop_customer (id, email) VALUES (2, 'b@example.com')",
                "COMMIT",
            ],
        );
        assert!(
            in_order.iter().all(Result::is_ok),
            "a deferred key is checked at commit: {in_order:?}"
        );
        // … and still refuses, at commit, a row whose parent never comes.
        let never = session(
            &db,
            &[
                "BEGIN",
                "INSERT INTO shop_order (customer_id, buyer_id) VALUES ('a@example.com', 77)",
                "COMMIT",
            ],
        );
        assert!(never[1].is_ok(), "{never:?}");
        assert!(never[2].is_err(), "the commit must fail: {never:?}");
        let _ = session(&db, &["ROLLBACK"]);
        let buyers = db.query("SELECT count(*) FROM shop_order WHERE buyer_id = 77");
        assert_eq!(buyers[0][0].as_deref(), Some("0"));
    }

    // What the database holds reads back: the reference to the email, and the
    // deferral; a key without a constraint cannot be seen (a plain column).
    let out = strata(dir.path(), &["inspectdb", "shop"]);
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains(r#"to_field = "email""#),
        "{}",
        out.stdout
    );
    assert_eq!(
        out.stdout.contains(r#"deferrable = "deferred""#),
        defers,
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("db_constraint"), "{}", out.stdout);
    // Nothing left to do, and back to empty.
    run(dir.path(), &["makemigrations", "--check"]);
    run(dir.path(), &["migrate", "shop", "zero"]);
    assert!(db.table_names().iter().all(|t| !t.starts_with("shop_")));
}

for_each_backend!(foreign_keys, foreign_keys_behave_as_declared);

#[test]
fn a_deferrable_key_is_refused_on_mariadb_naming_it() {
    let Some(db) = TestDb::create(Kind::Mariadb) else {
        return;
    };
    let models = format!("{MODELS}{DEFERRED_FIELD}");
    let config = config(&db);
    let dir = project(&[("strata.toml", &config), ("apps/shop/models.toml", &models)]);
    run(dir.path(), &["makemigrations", "--noinput"]);
    let out = strata(dir.path(), &["migrate"]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    let all = format!("{}{}", out.stdout, out.stderr);
    for part in [
        "`shop_order`",
        "shop_order_buyer_id_fk",
        "mariadb",
        "remove `deferrable`",
    ] {
        assert!(all.contains(part), "`{part}` missing from:\n{all}");
    }
    assert!(
        db.table_names().iter().all(|t| !t.starts_with("shop_")),
        "nothing is created: {:?}",
        db.table_names()
    );
}
