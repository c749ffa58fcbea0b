//! `schemas/migration.schema.json`: derived from `MigrationFile` and the AST.

use serde_json::{json, Value};
use strata_engine::migration::{self, Migration, MigrationFile};
use strata_engine::Operation;

use super::{read_schema, refusals, schemas_dir, toml_as_json, toml_files, validator};

const BLESS: &str = "STRATA_BLESS=1 cargo test -p strata-engine --test suite schema::";

/// The committed schema is the one the AST derives: a changed operation, field or doc
/// comment shows up in review as a change of the file editors use.
#[test]
fn committed_migration_schema_is_derived_from_the_ast() {
    let path = schemas_dir().join("migration.schema.json");
    let derived = serde_json::to_string_pretty(&migration::json_schema()).unwrap() + "\n";
    if std::env::var_os("STRATA_BLESS").is_some_and(|v| v == "1") {
        // Whole or not at all: the other schema tests read the file meanwhile.
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, &derived)
            .and_then(|()| std::fs::rename(&partial, &path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != derived {
        let line = committed
            .lines()
            .zip(derived.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| committed.lines().count().min(derived.lines().count()));
        panic!(
            "{} is not the schema the AST derives (first difference at line {}).\n\
             Rewrite it with `{BLESS}`, then review and commit it.",
            path.display(),
            line + 1
        );
    }
}

/// A new variant without its `Operation::KINDS` entry (or in another place) fails here.
#[test]
fn kinds_are_the_kinds_the_schema_lists() {
    let schema = migration::json_schema();
    let listed: Vec<&str> = schema["$defs"]["Operation"]["oneOf"]
        .as_array()
        .expect("operations are a oneOf, one branch per kind")
        .iter()
        .map(|branch| {
            branch["properties"]["kind"]["const"]
                .as_str()
                .unwrap_or_else(|| panic!("a branch without a `kind`: {branch}"))
        })
        .collect();
    assert_eq!(
        Operation::KINDS,
        listed,
        "Operation::KINDS must list the `kind` of every variant, in the order of the enum"
    );
}

/// What users and strata write validates: every migration file in `testdata/`, every
/// operation of the corpus and of the autodetector's cases, and each corpus case as
/// `MigrationFile::to_toml` writes it.
#[test]
fn every_migration_and_operation_in_testdata_validates() {
    let validator = validator(&read_schema("migration.schema.json"));
    let testdata = strata_testkit::testdata_dir();
    let mut refused = Vec::new();
    let mut check = |what: String, file: &Value| {
        refused.extend(
            refusals(&validator, file)
                .into_iter()
                .map(|r| format!("{what}: {r}")),
        );
    };
    let (mut files, mut operations) = (0, 0);
    for path in toml_files(&testdata) {
        let name = path.file_name().unwrap().to_string_lossy();
        let skip = name == "models.toml"
            || name == "strata.toml"
            || path.starts_with(testdata.join("bad_models"))
            // Bad input on purpose, with migration files embedded as strings.
            || path.starts_with(testdata.join("bad_input"));
        if skip {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let json = toml_as_json(&path, &text);
        let shown = path.strip_prefix(&testdata).unwrap().display().to_string();
        if path.parent().unwrap().ends_with("migrations") {
            Migration::parse("app", &path, &text).unwrap_or_else(|e| panic!("{e}"));
            check(shown, &json);
            files += 1;
            continue;
        }
        // A corpus case, an autodetector case or one of its shared schemas.
        let mut found = Vec::new();
        for key in ["setup", "operations", "before", "change"] {
            for (i, op) in json[key].as_array().into_iter().flatten().enumerate() {
                check(
                    format!("{shown}: {key}[{i}]"),
                    &json!({ "operations": [op] }),
                );
                let parsed: Operation = serde_json::from_value(op.clone())
                    .unwrap_or_else(|e| panic!("{shown}: {key}[{i}]: {e}"));
                assert_eq!(op["kind"], parsed.kind(), "{shown}: {key}[{i}]");
                found.push(parsed);
            }
        }
        assert!(
            !found.is_empty(),
            "{shown}: no operations under setup, operations, before or change; \
             teach this test the file's layout"
        );
        operations += found.len();
        let written = MigrationFile {
            dependencies: vec!["app.0001_initial".into()],
            replaces: Vec::new(),
            atomic: false,
            safe: true,
            operations: found,
            lint: strata_engine::migration::LintSection::default(),
        }
        .to_toml()
        .unwrap();
        check(
            format!("{shown}, as strata writes it"),
            &toml_as_json(&path, &written),
        );
    }
    assert!(
        refused.is_empty(),
        "the schema refuses what strata reads:\n{}",
        refused.join("\n")
    );
    assert!(
        files >= 8 && operations >= 200,
        "only {files} files and {operations} operations"
    );
}

/// Migration files, each with whether the parser accepts it.
const FILES: &[(&str, bool, &str)] = &[
    ("an empty file", true, ""),
    (
        "every top-level key",
        true,
        "dependencies = [\"auth.0001_initial\"]\natomic = false\noperations = []",
    ),
    (
        "forgiving spellings",
        true,
        r#"[[operations]]
kind = "add_column"
table = "t"
column = { name = "c", type = " DECIMAL( 12, 2 ) ", null = true, default = 1.5 }"#,
    ),
    (
        "a neutral default",
        true,
        r#"[[operations]]
kind = "alter_column"
table = "t"
column = "c"
default = { expr = "now" }"#,
    ),
    (
        "SQL per dialect",
        true,
        r#"[[operations]]
kind = "run_sql"
sql = { postgres = "SELECT 1", default = "SELECT 2" }
reverse_sql = "SELECT 3""#,
    ),
    (
        "a check constraint",
        true,
        r#"[[operations]]
kind = "add_constraint"
table = "t"
constraint = { type = "check", name = "k", expr = "c > 0" }"#,
    ),
    ("an unknown top-level key", false, "depends = []"),
    (
        "a dependency without its app",
        false,
        "dependencies = [\"0001_initial\"]",
    ),
    ("atomic not a boolean", false, "atomic = \"no\""),
    (
        "an unknown kind",
        false,
        "[[operations]]\nkind = \"create_tabel\"\nname = \"t\"",
    ),
    ("no kind", false, "[[operations]]\nname = \"t\""),
    (
        "an unknown field",
        false,
        "[[operations]]\nkind = \"drop_table\"\nname = \"t\"\ncascade = true",
    ),
    (
        "a missing field",
        false,
        "[[operations]]\nkind = \"rename_table\"\nfrom = \"t\"",
    ),
    (
        "an unknown column key",
        false,
        r#"[[operations]]
kind = "add_column"
table = "t"
column = { name = "c", type = "int", nullable = true }"#,
    ),
    (
        "a misspelt type",
        false,
        r#"[[operations]]
kind = "add_column"
table = "t"
column = { name = "c", type = "varchr(5)" }"#,
    ),
    (
        "a field of the wrong type",
        false,
        r#"[[operations]]
kind = "add_column"
table = "t"
column = { name = "c", type = "int", null = "yes" }"#,
    ),
    (
        "an unknown action",
        false,
        r#"[[operations]]
kind = "add_foreign_key"
table = "t"
foreign_key = { name = "f", columns = ["c"], references = "u", referenced_columns = ["id"], on_delete = "set_null" }"#,
    ),
    (
        "an unknown neutral default",
        false,
        r#"[[operations]]
kind = "alter_column"
table = "t"
column = "c"
default = { expr = "today" }"#,
    ),
    (
        "an unknown constraint type",
        false,
        r#"[[operations]]
kind = "add_constraint"
table = "t"
constraint = { type = "primary", name = "k", columns = ["c"] }"#,
    ),
    (
        "SQL that is not text",
        false,
        "[[operations]]\nkind = \"run_sql\"\nsql = { postgres = 1 }",
    ),
];

/// The parser (`Migration::parse`) and the schema say the same of each file: files
/// written to be refused, and spellings easy to refuse by mistake.
#[test]
fn the_schema_accepts_what_the_parser_accepts() {
    let validator = validator(&read_schema("migration.schema.json"));
    let path = std::path::Path::new("0002_case.toml");
    for (what, accepted, text) in FILES {
        let parsed = Migration::parse("app", path, text);
        assert_eq!(
            parsed.is_ok(),
            *accepted,
            "{what}: the parser says {parsed:?}"
        );
        let why = refusals(&validator, &toml_as_json(path, text));
        assert_eq!(why.is_empty(), *accepted, "{what}: the schema says {why:?}");
    }
}

/// The type pattern against `ColumnType::from_str`, spelling by spelling.
#[test]
fn the_type_pattern_accepts_the_spellings_the_parser_accepts() {
    let validator = validator(&read_schema("migration.schema.json"));
    let with_type = |ty: &str| {
        json!({ "operations": [{
            "kind": "add_column",
            "table": "t",
            "column": { "name": "c", "type": ty },
        }]})
    };
    let schema = migration::json_schema();
    let offered = schema["$defs"]["ColumnType"]["anyOf"][0]["enum"]
        .as_array()
        .expect("the types an editor offers");
    let mut spellings: Vec<&str> = offered.iter().map(|v| v.as_str().unwrap()).collect();
    spellings.extend([
        "BOOLEAN",
        "Integer",
        "float",
        " big int ",
        "VarChar ( 2 5 5 )",
        "char(+5)",
        "char(007)",
        "decimal(65,30)",
        "decimal(1,0)",
        "decimal( 12 , 2 )",
        "decimal(10,00)",
        "",
        "bool?",
        "int4",
        "varchr(5)",
        "varchar",
        "varchar()",
        "varchar(0)",
        "varchar(-1)",
        "varchar(5))",
        "text(5)",
        "decimal(12)",
        "decimal(66,2)",
        "decimal(0,0)",
        "decimal(12,2,1)",
        "decimal(12,66)",
        "char(n)",
    ]);
    for spelling in spellings {
        let parsed = spelling.parse::<strata_engine::ColumnType>();
        let why = refusals(&validator, &with_type(spelling));
        assert_eq!(
            why.is_empty(),
            parsed.is_ok(),
            "`{spelling}`: the parser says {parsed:?}, the schema {why:?}"
        );
    }
    // Left to the parser: ranges a pattern could only spell out number by number.
    for spelling in ["decimal(2,5)", "varchar(4294967296)"] {
        assert!(spelling.parse::<strata_engine::ColumnType>().is_err());
        assert!(validator.is_valid(&with_type(spelling)), "{spelling}");
    }
    for example in offered {
        let ty: strata_engine::ColumnType = example.as_str().unwrap().parse().unwrap();
        assert_eq!(
            ty.to_string(),
            example.as_str().unwrap(),
            "offered as written"
        );
    }
}
