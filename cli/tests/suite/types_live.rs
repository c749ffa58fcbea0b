//! The newer types on real data, through models.toml: an unsigned column refuses a
//! negative value on every backend (MySQL's unsigned type, elsewhere the type check),
//! a duration holds what Django stores for one, and both read back from the live
//! schema as the models wrote them (a duration as `bigint` where it is one).

use crate::common::db::{block_on, Kind, TestDb};
use crate::common::{project, strata};
use strata_engine::ColumnType;
use strata_testkit::for_each_backend;

const MODELS: &str =
    "[Stock]\nfields.qty = \"int unsigned\"\nfields.serial = \"bigint unsigned?\"\n\
                      fields.wait = \"duration?\"\n";

fn unsigned_and_duration_columns(kind: Kind) {
    let Some(db) = TestDb::create(kind) else {
        return;
    };
    let config = format!(
        "[project]\napps = [\"shop\"]\n\n[database]\nurl = {:?}\n",
        db.url
    );
    let dir = project(&[("strata.toml", &config), ("apps/shop/models.toml", MODELS)]);
    let made = strata(dir.path(), &["makemigrations"]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let migrated = strata(dir.path(), &["migrate"]);
    assert_eq!(migrated.code, 0, "{}", migrated.stderr);

    let wait = match kind {
        Kind::Postgres => "interval '1 day 2 hours'",
        // Django's DurationField elsewhere: microseconds.
        _ => "93600000000",
    };
    // MySQL stores the unsigned range; the others the signed type's.
    let top = if kind == Kind::Mariadb {
        "4294967295"
    } else {
        "2147483647"
    };
    db.execute(&format!(
        "INSERT INTO shop_stock (qty, serial, wait) VALUES ({top}, 0, {wait})"
    ));
    let rows = db.query("SELECT qty, serial FROM shop_stock");
    assert_eq!(rows[0][0].as_deref(), Some(top));

    let refused = block_on(async {
        let mut d = db.connect().await;
        let r = d
            .execute("INSERT INTO shop_stock (qty, serial) VALUES (-1, 5)")
            .await;
        d.close().await.unwrap();
        r
    });
    assert!(refused.is_err(), "{kind:?}: a negative value was accepted");
    assert_eq!(db.query("SELECT id FROM shop_stock").len(), 1);

    let live = block_on(async {
        let mut d = db.connect().await;
        let s = d.introspect().await.unwrap();
        d.close().await.unwrap();
        s
    });
    let table = &live.tables["shop_stock"];
    assert!(table.checks.is_empty(), "{:?}", table.checks);
    assert_eq!(table.column("qty").unwrap().ty, ColumnType::UInt);
    assert_eq!(table.column("serial").unwrap().ty, ColumnType::UBigInt);
    let wait_type = table.column("wait").unwrap().ty;
    let expected_wait = if kind == Kind::Postgres {
        ColumnType::Duration
    } else {
        ColumnType::BigInt
    };
    assert_eq!(wait_type, expected_wait);
    let check = strata(dir.path(), &["makemigrations", "--check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
}

for_each_backend!(unsigned_and_duration_live, unsigned_and_duration_columns);
