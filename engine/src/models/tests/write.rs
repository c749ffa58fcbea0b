use std::path::Path;

use super::{models, workspace};
use crate::ast::TableDef;
use crate::models::*;
use crate::project::{Overrides, Project};

#[test]
fn written_tracker_models_read_back_the_same() {
    let root = workspace().join("testdata/tracker");
    let project = Project::load(&root, &Overrides::default()).unwrap();
    let models = load(&project).unwrap();
    let mut written = Vec::new();
    for app in ["auth", "tracker"] {
        let tables: Vec<TableDef> = models
            .state
            .tables
            .values()
            .filter(|t| models.owners[&t.name] == app)
            .cloned()
            .collect();
        let text = write_app(app, &tables, &models.state, &models.owners);
        written.push(parse_app(app, Path::new("models.toml"), &text).unwrap());
        if app == "tracker" {
            assert_eq!(
                text,
                r#"[Category.fields]
name = "varchar(50)"
description = "text"

[Transaction.fields]
amount = "decimal(12,2)"
transaction_type = "varchar(10)"
description = "text"
created_at = "datetime"
category = { references = "Category", null = true, on_delete = "set null" }
user = { references = "auth.User", on_delete = "cascade" }
"#
            );
        }
    }
    assert_eq!(resolve(&written).unwrap(), models);
}

#[test]
fn written_models_say_what_the_defaults_do_not() {
    let text = r#"
[Person]
table = "people"
unique = [{ columns = ["email"], name = "email_once" }]
indexes = [["name", "email"], { columns = ["name"], where = "active" }]
checks = { "has name" = "name <> ''" }

[Person.fields]
code = { type = "varchar(8)", primary_key = true }
name = "varchar(50)"
email = { type = "varchar(254)", unique = true }
active = { type = "bool", default = true }
ratio = { type = "double", default = 0.5 }
boss = { references = "Person", column = "boss", null = true, index = false, on_update = "cascade" }
"#;
    let m = models(&[("hr", text)]).unwrap();
    let tables: Vec<_> = m.state.tables.values().cloned().collect();
    let written = write_app("hr", &tables, &m.state, &m.owners);
    let again = models(&[("hr", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
    assert!(!written.contains("NOTE"), "{written}");
    assert!(written.contains("table = \"people\""), "{written}");
    assert!(written.contains("index = false"), "{written}");
}

#[test]
fn model_names_are_camel_case_without_the_app_prefix() {
    assert_eq!(
        model_name("tracker", "tracker_transaction_type"),
        "TransactionType"
    );
    assert_eq!(model_name("tracker", "auth_user"), "AuthUser");
    assert_eq!(model_name("tracker", "tracker_"), "Tracker");
    assert_eq!(model_name("x", "2fa_codes"), "Model2faCodes");
    assert_eq!(model_name("x", "a\"b"), "AB");
}

// The same round trip over every schema of the operation corpus is an integration test
// (`tests/suite/models.rs`): it reads the corpus through `strata-testkit`.

#[test]
fn index_options_read_and_write_back() {
    let text = r#"
[Doc]
indexes = [
  { expressions = ["lower(slug)"], unique = true },
  { columns = ["owner"], expressions = ["upper(title)"], name = "doc_owner_title" },
  { columns = [{ column = "title", opclass = "varchar_pattern_ops" }, "slug"] },
  { columns = [{ column = "body", length = 100 }] },
  { columns = ["body"], method = "gin", name = "doc_body_gin" },
  { columns = ["owner"], include = ["slug"], name = "doc_owner_cover" },
  { columns = ["owner", "deleted"], unique = true, nulls_distinct = false },
  { columns = ["slug"], where = "deleted IS NULL", on_unsupported_where = "plain", name = "doc_live" },
]

[Doc.fields]
slug = "varchar(100)"
title = "varchar(200)"
body = "text"
owner = { type = "int", column = "owner_id" }
deleted = { type = "datetime", null = true }
"#;
    let m = models(&[("wiki", text)]).unwrap();
    let t = super::table(&m, "wiki_doc");
    let by = |name: &str| {
        t.index(name)
            .unwrap_or_else(|| panic!("no index {name} in {:?}", t.indexes))
    };
    let lower = by("wiki_doc_slug_expr_uniq");
    assert!(lower.columns.is_empty() && lower.unique);
    assert_eq!(lower.expressions, ["lower(slug)"]);
    assert_eq!(by("doc_owner_title").columns, ["owner_id"]);
    let like = by("wiki_doc_title_slug_idx");
    assert_eq!(
        like.opclasses.get("title").map(String::as_str),
        Some("varchar_pattern_ops")
    );
    assert_eq!(by("wiki_doc_body_idx").lengths.get("body"), Some(&100));
    assert_eq!(
        by("doc_body_gin").method,
        Some(crate::ast::IndexMethod::Gin)
    );
    assert_eq!(by("doc_owner_cover").include, ["slug"]);
    assert!(by("wiki_doc_owner_id_deleted_uniq").nulls_not_distinct);
    assert_eq!(
        by("doc_live").on_unsupported_where,
        crate::ast::UnsupportedWhere::Plain
    );

    let tables: Vec<_> = m.state.tables.values().cloned().collect();
    let written = write_app("wiki", &tables, &m.state, &m.owners);
    let again = models(&[("wiki", &written)]).unwrap();
    assert_eq!(again.state.canonical(), m.state.canonical(), "{written}");
    for key in [
        "expressions = [\"lower(slug)\"]",
        "opclass = \"varchar_pattern_ops\"",
        "length = 100",
        "method = \"gin\"",
        "include = [\"slug\"]",
        "nulls_distinct = false",
        "on_unsupported_where = \"plain\"",
    ] {
        assert!(written.contains(key), "{key} missing in\n{written}");
    }
}
