use std::collections::{BTreeMap, BTreeSet};

use super::{models, table, workspace, AUTH};
use crate::ast::*;
use crate::graph::Graph;
use crate::models::*;
use crate::project::{Overrides, Project};
use crate::types::ColumnType;

#[test]
fn tracker_models_describe_exactly_what_its_migrations_build() {
    let root = workspace().join("testdata/tracker");
    let project = Project::load(&root, &Overrides::default()).unwrap();
    let graph = Graph::from_project(&project).unwrap();
    let all: BTreeSet<_> = graph.ordered().map(|m| m.key.clone()).collect();
    let migrated = graph.state_of(&all).unwrap();

    let models = load(&project).unwrap();
    assert_eq!(models.state.canonical(), migrated.canonical());
    assert_eq!(models.owners["auth_user"], "auth");
    assert_eq!(
        models.table_of("tracker", "Transaction").as_deref(),
        Some("tracker_transaction")
    );
    assert_eq!(
        models.column_of("tracker_transaction", "user").as_deref(),
        Some("user_id")
    );
    assert_eq!(
        models.column_of("tracker_transaction", "id").as_deref(),
        Some("id")
    );
    assert_eq!(
        models.column_label("tracker_transaction", "user_id"),
        "tracker.Transaction.user"
    );
    assert_eq!(models.column_label("gone", "x"), "gone.x");
    assert_eq!(models.table_label("auth_user"), "auth.User");
    assert_eq!(models.table_label("gone"), "gone");
    assert_eq!(models.owners["tracker_transaction"], "tracker");
    assert_eq!(
        models.app_dependencies,
        BTreeMap::from([
            ("auth".to_string(), BTreeSet::new()),
            ("tracker".to_string(), BTreeSet::from(["auth".to_string()])),
        ])
    );
}

#[test]
fn the_design_example_builds_every_object_with_its_generated_name() {
    let tracker = r#"
[Category]
fields.name = "varchar(50)"
fields.description = "text"

[Transaction]
indexes = [["created_at"], { columns = ["user", "created_at"], unique = true }]
checks = { amount_not_zero = "amount <> 0", small = { expr = "amount < 1000000", name = "amount_below_a_million" } }

[Transaction.fields]
amount = "decimal(12,2)"
transaction_type = "varchar(10)"
description = "text"
created_at = { type = "datetime", default = "now" }
note = "text?"                                        # trailing ? = nullable
category = { references = "Category", null = true, on_delete = "set null" }
user = { references = "auth.User", on_delete = "cascade" }
"#;
    let m = models(&[("auth", AUTH), ("tracker", tracker)]).unwrap();
    let t = table(&m, "tracker_transaction");
    let columns: Vec<_> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        columns,
        [
            "id",
            "amount",
            "transaction_type",
            "description",
            "created_at",
            "note",
            "category_id",
            "user_id"
        ]
    );
    assert_eq!(t.primary_key, ["id"]);
    assert!(t.column("id").unwrap().auto);
    assert!(t.column("note").unwrap().null);
    assert_eq!(
        t.column("created_at").unwrap().default,
        Some(DefaultValue::Expr {
            expr: DefaultExpr::Now
        })
    );
    let user = t.column("user_id").unwrap();
    assert_eq!((user.ty, user.null), (ColumnType::BigInt, false));
    let indexes: Vec<_> = t
        .indexes
        .iter()
        .map(|i| (i.name.as_str(), i.unique))
        .collect();
    assert_eq!(
        indexes,
        [
            ("tracker_transaction_category_id_idx", false),
            ("tracker_transaction_user_id_idx", false),
            ("tracker_transaction_created_at_idx", false),
            ("tracker_transaction_user_id_created_at_uniq", true),
        ]
    );
    assert_eq!(
        t.indexes[3].columns,
        ["user_id", "created_at"],
        "fields become columns"
    );
    assert_eq!(
        t.checks,
        [
            CheckDef {
                name: "tracker_transaction_amount_not_zero".into(),
                expr: "amount <> 0".into()
            },
            CheckDef {
                name: "amount_below_a_million".into(),
                expr: "amount < 1000000".into()
            }
        ]
    );
    assert_eq!(
        t.foreign_keys[0],
        ForeignKeyDef {
            name: "tracker_transaction_category_id_fk".into(),
            columns: vec!["category_id".into()],
            references: "tracker_category".into(),
            referenced_columns: vec!["id".into()],
            on_delete: Some(FkAction::SetNull),
            on_update: None,
            ..Default::default()
        }
    );
    assert_eq!(t.foreign_keys[1].references, "auth_user");
    assert_eq!(
        table(&m, "auth_user").uniques[0].name,
        "auth_user_username_uniq"
    );
}

#[test]
fn fields_keep_their_order() {
    let text = r#"
[Zebra.fields]
zulu = "int"
alpha = "int"
mike = { references = "Zebra", null = true }
bravo = "text"
"#;
    let m = models(&[("zoo", text)]).unwrap();
    let names: Vec<_> = table(&m, "zoo_zebra")
        .columns
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert_eq!(names, ["id", "zulu", "alpha", "mike_id", "bravo"]);
}

#[test]
fn defaults_read_as_the_column_type_says() {
    let text = r#"
[Thing]
fields.count = { type = "int", default = 0 }
fields.ratio = { type = "decimal(5,2)", default = 1.5 }
fields.whole = { type = "double", default = 2 }
fields.status = { type = "varchar(10)", default = "draft" }
fields.active = { type = "bool", default = true }
fields.created = { type = "timestamptz", default = "now" }
fields.day = { type = "date", default = "now" }
fields.since = { type = "date", default = 2024-01-31 }
fields.token = { type = "uuid", default = "uuid" }
fields.word = { type = "text", default = "now" }
fields.nothing = "text?"
"#;
    let m = models(&[("shop", text)]).unwrap();
    let t = table(&m, "shop_thing");
    let default = |c: &str| t.column(c).unwrap().default.clone();
    assert_eq!(default("count"), Some(DefaultValue::Int(0)));
    assert_eq!(default("ratio"), Some(DefaultValue::Float(1.5)));
    assert_eq!(default("whole"), Some(DefaultValue::Int(2)));
    assert_eq!(default("status"), Some(DefaultValue::Text("draft".into())));
    assert_eq!(default("active"), Some(DefaultValue::Bool(true)));
    let now = Some(DefaultValue::Expr {
        expr: DefaultExpr::Now,
    });
    assert_eq!(default("created"), now);
    assert_eq!(default("day"), now);
    assert_eq!(
        default("since"),
        Some(DefaultValue::Text("2024-01-31".into()))
    );
    assert_eq!(
        default("token"),
        Some(DefaultValue::Expr {
            expr: DefaultExpr::Uuid
        })
    );
    assert_eq!(
        default("word"),
        Some(DefaultValue::Text("now".into())),
        "`now` is a word on a text column"
    );
    assert_eq!(default("nothing"), None);
    assert!(t.column("nothing").unwrap().null);
}

#[test]
fn foreign_keys_cross_apps_and_take_the_referenced_key_type() {
    let geo = r#"
[Country]
fields.code = { type = "char(2)", primary_key = true }
fields.name = "varchar(100)"
"#;
    let shop = r#"
[Shop]
fields.country = { references = "geo.Country", on_delete = "restrict" }
fields.owner = { references = "auth.User", null = true, on_delete = "set null", index = false }

[Branch]
# A one-to-one extension: its primary key is a foreign key.
fields.shop = { references = "Shop", primary_key = true, on_delete = "cascade" }
fields.parent = { references = "Branch", null = true, column = "parent_branch" }
"#;
    let orders = r#"
[Order]
fields.branch = { references = "shop.Branch", unique = true }
"#;
    let m = models(&[
        ("orders", orders),
        ("shop", shop),
        ("geo", geo),
        ("auth", AUTH),
    ])
    .unwrap();
    let s = table(&m, "shop_shop");
    assert_eq!(s.column("country_id").unwrap().ty, ColumnType::Char(2));
    assert_eq!(s.foreign_keys[0].referenced_columns, ["code"]);
    assert_eq!(
        s.indexes
            .iter()
            .map(|i| i.name.as_str())
            .collect::<Vec<_>>(),
        ["shop_shop_country_id_idx"],
        "index = false opts out"
    );
    let b = table(&m, "shop_branch");
    assert_eq!(b.primary_key, ["shop_id"]);
    assert!(
        b.indexes.iter().all(|i| i.columns != ["shop_id"]),
        "the key indexes it"
    );
    assert_eq!(b.column("parent_branch").unwrap().ty, ColumnType::BigInt);
    assert_eq!(b.foreign_keys[1].references, "shop_branch");
    assert_eq!(b.foreign_keys[1].referenced_columns, ["shop_id"]);
    let o = table(&m, "orders_order");
    assert_eq!(
        o.column("branch_id").unwrap().ty,
        ColumnType::BigInt,
        "typed through Branch's key, itself a foreign key"
    );
    assert!(o.indexes.is_empty(), "unique already indexes it");
    assert_eq!(o.uniques[0].name, "orders_order_branch_id_uniq");

    let deps = |app: &str| m.app_dependencies[app].iter().cloned().collect::<Vec<_>>();
    assert_eq!(deps("orders"), ["shop"]);
    assert_eq!(deps("shop"), ["auth", "geo"]);
    assert!(deps("geo").is_empty());
    assert_eq!(m.owners["geo_country"], "geo");
}

#[test]
fn model_options_cover_tables_keys_and_named_objects() {
    let text = r#"
[Membership]
table = "membership"
primary_key = ["person", "group"]
unique = [["group", "seat"], { columns = ["seat"], name = "one_seat" }]
indexes = [{ columns = ["seat"], where = "seat > 0", name = "seated" }]

[Membership.fields]
person = "bigint"
group = "bigint"
seat = { type = "int", index = true }

[Log]
primary_key = []
fields.line = "text"

[[Log.indexes]]
columns = ["line"]
unique = true
"#;
    let m = models(&[("club", text)]).unwrap();
    let t = table(&m, "membership");
    assert_eq!(t.primary_key, ["person", "group"]);
    assert_eq!(t.column("id"), None);
    let uniques: Vec<_> = t.uniques.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(uniques, ["membership_group_seat_uniq", "one_seat"]);
    let indexes: Vec<_> = t.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(indexes, ["membership_seat_idx", "seated"]);
    assert_eq!(t.indexes[1].predicate.as_deref(), Some("seat > 0"));
    let log = table(&m, "club_log");
    assert!(log.primary_key.is_empty());
    assert_eq!(log.columns.len(), 1);
    assert_eq!(
        log.indexes[0].name, "club_log_line_uniq",
        "[[Model.indexes]] works too"
    );
}

#[test]
fn an_app_without_models_toml_has_no_models() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("strata.toml"),
        "[project]\napps = [\"empty\", \"full\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("apps/empty")).unwrap();
    std::fs::create_dir_all(dir.path().join("apps/full")).unwrap();
    std::fs::write(
        dir.path().join("apps/full/models.toml"),
        "[Thing]\nfields.n = \"int\"\n",
    )
    .unwrap();
    let project = Project::load(dir.path(), &Overrides::default()).unwrap();
    let m = load(&project).unwrap();
    assert_eq!(m.state.tables.keys().collect::<Vec<_>>(), ["full_thing"]);
    assert!(m.app_dependencies["empty"].is_empty());
}
