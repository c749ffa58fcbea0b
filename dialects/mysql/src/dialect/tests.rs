//! Rendering rules that the corpus goldens do not pin down on their own.

use strata_engine::ast::*;
use strata_engine::{ColumnType, Dialect, RenderContext, RenderError, SchemaState, ServerVersion};

use super::MysqlDialect;

fn col(name: &str, ty: &str) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty: ty.parse().unwrap(),
        null: false,
        default: None,
        auto: false,
        ..Default::default()
    }
}

fn strings(names: &[&str]) -> Vec<String> {
    names.iter().map(ToString::to_string).collect()
}

fn table(name: &str, columns: Vec<ColumnDef>) -> TableDef {
    TableDef {
        name: name.into(),
        columns,
        primary_key: strings(&["id"]),
        uniques: vec![],
        checks: vec![],
        foreign_keys: vec![],
        indexes: vec![],
        ..Default::default()
    }
}

fn id() -> ColumnDef {
    ColumnDef {
        auto: true,
        ..col("id", "bigint")
    }
}

fn fk(name: &str, column: &str, references: &str) -> ForeignKeyDef {
    ForeignKeyDef {
        name: name.into(),
        columns: strings(&[column]),
        references: references.into(),
        referenced_columns: strings(&["id"]),
        on_delete: None,
        on_update: None,
        ..Default::default()
    }
}

fn index(name: &str, columns: &[&str]) -> IndexDef {
    IndexDef {
        name: name.into(),
        columns: strings(columns),
        unique: false,
        predicate: None,
        ..Default::default()
    }
}

/// Parent `p` and child `c` with an uncovered foreign key `c_p_fk` on `c.p_id`.
fn parent_and_child() -> SchemaState {
    let mut state = SchemaState::new();
    state
        .apply(&Operation::CreateTable(table("p", vec![id()])))
        .unwrap();
    let mut child = table("c", vec![id(), col("p_id", "bigint"), col("n", "int")]);
    child.foreign_keys.push(fk("c_p_fk", "p_id", "p"));
    state.apply(&Operation::CreateTable(child)).unwrap();
    state
}

fn render_on(
    dialect: MysqlDialect,
    version: ServerVersion,
    state: &SchemaState,
    op: &Operation,
) -> Result<Vec<String>, RenderError> {
    let capabilities = dialect.capabilities(version);
    let ctx = RenderContext {
        state,
        version,
        capabilities: &capabilities,
        in_transaction: false,
        safe: false,
    };
    dialect
        .render(op, &ctx)
        .map(|statements| statements.into_iter().map(|s| s.sql).collect())
}

fn render(state: &SchemaState, op: &Operation) -> Result<Vec<String>, RenderError> {
    let d = MysqlDialect::mysql();
    render_on(d, d.minimum_version(), state, op)
}

fn one(state: &SchemaState, op: &Operation) -> String {
    let mut sql = render(state, op).unwrap();
    assert_eq!(sql.len(), 1, "{sql:?}");
    sql.remove(0)
}

#[test]
fn flavours_name_themselves_and_their_minimum() {
    assert_eq!(MysqlDialect::mysql().name(), "mysql");
    assert_eq!(
        MysqlDialect::mysql().minimum_version(),
        ServerVersion::new(8, 0, 19)
    );
    assert_eq!(MysqlDialect::mariadb().name(), "mariadb");
    assert_eq!(
        MysqlDialect::mariadb().minimum_version(),
        ServerVersion::new(10, 5, 2)
    );
    let caps = MysqlDialect::mysql().capabilities(ServerVersion::new(8, 0, 19));
    assert!(!caps.transactional_ddl);
    assert!(!caps.concurrent_index);
    assert!(!caps.partial_indexes);
    assert_eq!(caps.max_identifier_len, 64);
}

#[test]
fn hostile_names_and_defaults_stay_inside_their_quotes() {
    let mut t = table(
        "a`b; DROP TABLE x; --",
        vec![
            id(),
            ColumnDef {
                default: Some(DefaultValue::Text("\\'; DROP TABLE x; --".into())),
                ..col("order", "varchar(50)")
            },
        ],
    );
    t.checks.push(CheckDef {
        name: "c`k".into(),
        expr: "`order` <> ''".into(),
    });
    let sql = one(&SchemaState::new(), &Operation::CreateTable(t));
    assert!(
        sql.starts_with("CREATE TABLE `a``b; DROP TABLE x; --` ("),
        "{sql}"
    );
    assert!(
        sql.contains("`order` varchar(50) NOT NULL DEFAULT '\\\\''; DROP TABLE x; --'"),
        "{sql}"
    );
    assert!(sql.contains("CONSTRAINT `c``k` CHECK"), "{sql}");
}

#[test]
fn auto_columns_are_auto_increment_primary_keys() {
    let sql = one(
        &SchemaState::new(),
        &Operation::CreateTable(table("t", vec![id()])),
    );
    assert_eq!(
        sql,
        "CREATE TABLE `t` (\n    `id` bigint NOT NULL AUTO_INCREMENT PRIMARY KEY\n) ENGINE=InnoDB"
    );
}

#[test]
fn literal_defaults_on_text_bytes_and_json_are_expressions() {
    let state = parent_and_child();
    let add = |name: &str, ty: &str, default: DefaultValue| {
        one(
            &state,
            &Operation::AddColumn(AddColumn {
                table: "p".into(),
                column: ColumnDef {
                    default: Some(default),
                    ..col(name, ty)
                },
            }),
        )
    };
    assert!(add("t", "text", DefaultValue::Text("x".into()))
        .ends_with("`t` longtext NOT NULL DEFAULT ('x')"));
    assert!(add("j", "json", DefaultValue::Text("{}".into()))
        .ends_with("`j` json NOT NULL DEFAULT ('{}')"));
    assert!(add("v", "varchar(5)", DefaultValue::Text("x".into())).ends_with("DEFAULT 'x'"));
    assert!(
        add("b", "bool", DefaultValue::Bool(false)).ends_with("`b` bool NOT NULL DEFAULT false")
    );
    assert!(add("f", "double", DefaultValue::Float(0.5)).ends_with("DEFAULT 0.5"));
}

#[test]
fn neutral_now_and_uuid_match_the_column_type() {
    let now = |ty: &str| MysqlDialect::now_or_uuid(DefaultExpr::Now, ty.parse().unwrap());
    assert_eq!(now("date"), "(CURRENT_DATE)");
    assert_eq!(now("time"), "(CURRENT_TIME(6))");
    assert_eq!(now("datetime"), "CURRENT_TIMESTAMP(6)");
    assert_eq!(now("timestamptz"), "(UTC_TIMESTAMP(6))");
    assert_eq!(
        MysqlDialect::now_or_uuid(DefaultExpr::Uuid, ColumnType::Uuid),
        "(uuid())"
    );
}

#[test]
fn uuid_columns_follow_the_server_version() {
    let state = parent_and_child();
    let op = Operation::AddColumn(AddColumn {
        table: "p".into(),
        column: col("u", "uuid"),
    });
    let d = MysqlDialect::mariadb();
    let old = render_on(d, ServerVersion::new(10, 6, 0), &state, &op).unwrap();
    let new = render_on(d, ServerVersion::new(10, 11, 19), &state, &op).unwrap();
    assert!(old[0].ends_with("`u` char(36) NOT NULL"), "{old:?}");
    assert!(new[0].ends_with("`u` uuid NOT NULL"), "{new:?}");
}

#[test]
fn alter_column_modifies_the_whole_column_and_keeps_auto_increment() {
    let state = parent_and_child();
    let sql = render(
        &state,
        &Operation::AlterColumn(AlterColumn {
            table: "c".into(),
            column: "id".into(),
            ty: Some(ColumnType::Int),
            null: None,
            default: None,
            drop_default: false,
            ..Default::default()
        }),
    )
    .unwrap();
    // bigint → int narrows: the guard counting ids out of an int's range comes first.
    assert_eq!(
        sql,
        [
            "SELECT misfits FROM (SELECT count(*) AS misfits FROM `c` WHERE `id` IS NOT NULL \
             AND (`id` < -2147483648 OR `id` > 2147483647)) AS counted WHERE misfits > 0",
            "ALTER TABLE `c` MODIFY COLUMN `id` integer NOT NULL AUTO_INCREMENT"
        ]
    );
    let sql = one(
        &state,
        &Operation::AlterColumn(AlterColumn {
            table: "c".into(),
            column: "n".into(),
            ty: None,
            null: Some(true),
            default: Some(DefaultValue::Int(3)),
            drop_default: false,
            ..Default::default()
        }),
    );
    assert_eq!(
        sql,
        "ALTER TABLE `c` MODIFY COLUMN `n` integer NULL DEFAULT 3"
    );
}

#[test]
fn keys_over_text_bytes_or_json_are_refused_with_a_reason() {
    let mut state = parent_and_child();
    state
        .apply(&Operation::AddColumn(AddColumn {
            table: "c".into(),
            column: col("body", "text"),
        }))
        .unwrap();
    let err = render(
        &state,
        &Operation::CreateIndex(CreateIndex {
            table: "c".into(),
            index: index("c_body_idx", &["body"]),
        }),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("create_index on table `c`"), "{message}");
    assert!(message.contains("prefix length"), "{message}");

    let err = render(
        &state,
        &Operation::AddConstraint(AddConstraint {
            table: "c".into(),
            constraint: Constraint::Unique {
                name: "c_body_uniq".into(),
                columns: strings(&["body"]),
            },
        }),
    )
    .unwrap_err();
    assert!(matches!(err, RenderError::Unsupported { .. }));

    let err = render(
        &state,
        &Operation::AlterColumn(AlterColumn {
            table: "c".into(),
            column: "p_id".into(),
            ty: Some(ColumnType::Text),
            null: None,
            default: None,
            drop_default: false,
            ..Default::default()
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("foreign key `c_p_fk`"), "{err}");
}

#[test]
fn partial_indexes_are_unsupported() {
    let state = parent_and_child();
    let err = render(
        &state,
        &Operation::CreateIndex(CreateIndex {
            table: "c".into(),
            index: IndexDef {
                predicate: Some("n > 0".into()),
                ..index("c_n_idx", &["n"])
            },
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("partial"), "{err}");
}

#[test]
fn an_uncovered_foreign_key_gets_its_own_index_in_create_table() {
    let state = parent_and_child();
    let mut without = state.clone();
    without.tables.remove("c");
    let sql = one(
        &without,
        &Operation::CreateTable(TableDef::clone(&state.tables["c"])),
    );
    assert!(sql.contains("INDEX `c_p_fk` (`p_id`),\n    CONSTRAINT `c_p_fk` FOREIGN KEY (`p_id`) REFERENCES `p` (`id`)"), "{sql}");

    let mut covered = TableDef::clone(&state.tables["c"]);
    covered.indexes.push(index("c_p_idx", &["p_id"]));
    let sql = one(&without, &Operation::CreateTable(covered));
    assert!(!sql.contains("INDEX `c_p_fk`"), "{sql}");
}

#[test]
fn foreign_key_operations_carry_their_supporting_index() {
    let state = parent_and_child();
    let drop = Operation::DropForeignKey(DropForeignKey {
        table: "c".into(),
        name: "c_p_fk".into(),
    });
    assert_eq!(
        one(&state, &drop),
        "ALTER TABLE `c` DROP FOREIGN KEY `c_p_fk`, DROP INDEX `c_p_fk`"
    );
    let add = drop.inverse(&state).unwrap();
    let mut after_drop = state.clone();
    after_drop.apply(&drop).unwrap();
    assert_eq!(
        one(&after_drop, &add),
        "ALTER TABLE `c` ADD INDEX `c_p_fk` (`p_id`), ADD CONSTRAINT `c_p_fk` FOREIGN KEY (`p_id`) \
         REFERENCES `p` (`id`) ON DELETE NO ACTION ON UPDATE NO ACTION"
    );
}

/// An action left unsaid is written `NO ACTION`, so the server reports it as such
/// and not as its own default, `RESTRICT`, which an explicit `restrict` also gives.
#[test]
fn foreign_keys_spell_out_both_actions() {
    let mut state = parent_and_child();
    let table = state.table_mut("c").unwrap();
    let mut foreign_key = table.foreign_keys.pop().unwrap();
    foreign_key.on_delete = Some(FkAction::Restrict);
    foreign_key.on_update = Some(FkAction::Cascade);
    let add = Operation::AddForeignKey(AddForeignKey {
        table: "c".into(),
        foreign_key,
    });
    let sql = one(&state, &add);
    assert!(
        sql.ends_with("ON DELETE RESTRICT ON UPDATE CASCADE"),
        "{sql}"
    );
}

#[test]
fn indexes_covering_a_foreign_key_take_over_from_its_own_index() {
    let state = parent_and_child();
    let create = Operation::CreateIndex(CreateIndex {
        table: "c".into(),
        index: index("c_p_idx", &["p_id", "n"]),
    });
    assert_eq!(
        one(&state, &create),
        "ALTER TABLE `c` ADD INDEX `c_p_idx` (`p_id`, `n`), DROP INDEX `c_p_fk`"
    );
    let mut covered = state.clone();
    covered.apply(&create).unwrap();
    let drop = create.inverse(&state).unwrap();
    assert_eq!(
        one(&covered, &drop),
        "ALTER TABLE `c` ADD INDEX `c_p_fk` (`p_id`), DROP INDEX `c_p_idx`"
    );
    // A covered foreign key goes alone.
    assert_eq!(
        one(
            &covered,
            &Operation::DropForeignKey(DropForeignKey {
                table: "c".into(),
                name: "c_p_fk".into(),
            })
        ),
        "ALTER TABLE `c` DROP FOREIGN KEY `c_p_fk`"
    );
}

#[test]
fn unique_constraints_are_indexes_and_checks_differ_per_flavour() {
    let mut state = parent_and_child();
    let add_unique = Operation::AddConstraint(AddConstraint {
        table: "c".into(),
        constraint: Constraint::Unique {
            name: "c_p_n_uniq".into(),
            columns: strings(&["p_id", "n"]),
        },
    });
    assert_eq!(
        one(&state, &add_unique),
        "ALTER TABLE `c` ADD CONSTRAINT `c_p_n_uniq` UNIQUE (`p_id`, `n`), DROP INDEX `c_p_fk`"
    );
    state.apply(&add_unique).unwrap();
    let drop_unique = Operation::DropConstraint(DropConstraint {
        table: "c".into(),
        name: "c_p_n_uniq".into(),
    });
    assert_eq!(
        one(&state, &drop_unique),
        "ALTER TABLE `c` ADD INDEX `c_p_fk` (`p_id`), DROP INDEX `c_p_n_uniq`"
    );
    state
        .apply(&Operation::AddConstraint(AddConstraint {
            table: "c".into(),
            constraint: Constraint::Check {
                name: "c_n_ck".into(),
                expr: "n > 0".into(),
            },
        }))
        .unwrap();
    let drop_check = Operation::DropConstraint(DropConstraint {
        table: "c".into(),
        name: "c_n_ck".into(),
    });
    assert_eq!(
        one(&state, &drop_check),
        "ALTER TABLE `c` DROP CHECK `c_n_ck`"
    );
    let d = MysqlDialect::mariadb();
    assert_eq!(
        render_on(d, d.minimum_version(), &state, &drop_check).unwrap(),
        ["ALTER TABLE `c` DROP CONSTRAINT `c_n_ck`"]
    );
}

#[test]
fn long_object_names_are_shortened_to_64_bytes() {
    let state = parent_and_child();
    let name = "i".repeat(80);
    let sql = one(
        &state,
        &Operation::CreateIndex(CreateIndex {
            table: "p".into(),
            index: index(&name, &["id"]),
        }),
    );
    let quoted = sql.split('`').nth(3).unwrap();
    assert_eq!(quoted.len(), 64, "{sql}");
}

#[test]
fn mariadb_runs_sql_written_for_mysql() {
    let mut per_dialect = std::collections::BTreeMap::new();
    per_dialect.insert("mysql".to_string(), "SELECT 1;".to_string());
    per_dialect.insert("postgres".to_string(), "SELECT 2".to_string());
    let op = Operation::RunSql(RunSql {
        split: true,
        sql: SqlText::PerDialect(per_dialect),
        reverse_sql: None,
    });
    let state = SchemaState::new();
    let d = MysqlDialect::mariadb();
    assert_eq!(
        render_on(d, d.minimum_version(), &state, &op).unwrap(),
        ["SELECT 1"]
    );
    let mut only_pg = std::collections::BTreeMap::new();
    only_pg.insert("postgres".to_string(), "SELECT 2".to_string());
    let op = Operation::RunSql(RunSql {
        split: true,
        sql: SqlText::PerDialect(only_pg),
        reverse_sql: None,
    });
    assert!(render(&state, &op).is_err());
}

/// MySQL and MariaDB refuse a column comment over 1024 characters only when the
/// statement runs; strata refuses it while rendering, before anything runs.
#[test]
fn a_column_comment_over_1024_characters_is_refused_before_running() {
    let column = |n: usize| ColumnDef {
        comment: Some("é".repeat(n)),
        ..col("note", "text")
    };
    let create = |n: usize| Operation::CreateTable(table("t", vec![id(), column(n)]));
    assert!(render(&SchemaState::new(), &create(1024)).is_ok());
    let err = render(&SchemaState::new(), &create(1025)).unwrap_err();
    assert!(err.to_string().contains("1025 characters long"), "{err}");
}
