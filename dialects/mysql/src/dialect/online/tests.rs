//! Which clause a safe plan carries, per flavour and version, and what `explain` says.

use strata_engine::ast::Operation;
use strata_engine::dialect::{Blocks, TableWork};
use strata_engine::{Dialect, RenderContext, SchemaState, ServerVersion, Statement};

use crate::MysqlDialect;

/// Operations from corpus-style TOML (`[[operations]]`).
fn ops(text: &str) -> Vec<Operation> {
    #[derive(serde::Deserialize)]
    struct Ops {
        operations: Vec<Operation>,
    }
    toml::from_str::<Ops>(text).expect("operations").operations
}

/// Parent `p`, and `t` with a nullable reference to it, a varchar and an index.
fn state() -> SchemaState {
    let mut state = SchemaState::new();
    for op in ops(r#"
        [[operations]]
        kind = "create_table"
        name = "p"
        primary_key = ["id"]
        columns = [{ name = "id", type = "bigint", auto = true }]
        [[operations]]
        kind = "create_table"
        name = "t"
        primary_key = ["id"]
        columns = [
          { name = "id", type = "bigint", auto = true },
          { name = "b", type = "varchar(20)" },
          { name = "c", type = "int", null = true },
          { name = "p_id", type = "bigint", null = true },
        ]
        indexes = [{ name = "t_c", columns = ["c"] }]
        "#)
    {
        state.apply(&op).unwrap();
    }
    state
}

fn render(d: MysqlDialect, version: ServerVersion, op: &str, safe: bool) -> Vec<Statement> {
    let state = state();
    let capabilities = d.capabilities(version);
    let ctx = RenderContext {
        state: &state,
        version,
        capabilities: &capabilities,
        in_transaction: false,
        safe,
    };
    d.render(&ops(op)[0], &ctx).expect("renders")
}

/// The last statement's SQL in a safe plan.
fn safe_sql(d: MysqlDialect, version: ServerVersion, op: &str) -> String {
    render(d, version, op, true).pop().unwrap().sql
}

const MYSQL_8_0_19: ServerVersion = ServerVersion::new(8, 0, 19);
const MYSQL_8_0_29: ServerVersion = ServerVersion::new(8, 0, 29);
const MARIADB: ServerVersion = ServerVersion::new(10, 5, 2);

const DROP_COLUMN: &str = r#"
[[operations]]
kind = "drop_column"
table = "t"
column = "b"
"#;
const ADD_INDEX: &str = r#"
[[operations]]
kind = "create_index"
table = "t"
index = { name = "t_b", columns = ["b"] }
"#;
const ADD_FK: &str = r#"
[[operations]]
kind = "add_foreign_key"
table = "t"
foreign_key = { name = "t_p_fk", columns = ["p_id"], references = "p", referenced_columns = ["id"] }
"#;
const WIDEN_TO_40: &str = r#"
[[operations]]
kind = "alter_column"
table = "t"
column = "b"
type = "varchar(40)"
"#;
const WIDEN_TO_80: &str = r#"
[[operations]]
kind = "alter_column"
table = "t"
column = "b"
type = "varchar(80)"
"#;

#[test]
fn dropping_a_column_is_instant_from_mysql_8_0_29_and_in_place_before() {
    let (mysql, mariadb) = (MysqlDialect::mysql(), MysqlDialect::mariadb());
    assert_eq!(
        safe_sql(mysql, MYSQL_8_0_19, DROP_COLUMN),
        "ALTER TABLE `t` DROP COLUMN `b`, ALGORITHM=INPLACE, LOCK=NONE"
    );
    assert_eq!(
        safe_sql(mysql, MYSQL_8_0_29, DROP_COLUMN),
        "ALTER TABLE `t` DROP COLUMN `b`, ALGORITHM=INSTANT"
    );
    assert!(safe_sql(mariadb, MARIADB, DROP_COLUMN).ends_with(", ALGORITHM=INSTANT"));
}

/// MariaDB 10.11 refuses `ALGORITHM=INSTANT` (error 1845) for a column whose default
/// is `(UTC_TIMESTAMP(6))`, a timestamptz's `now`; a datetime's `CURRENT_TIMESTAMP(6)`
/// is instant.
#[test]
fn a_utc_now_default_is_a_copy_on_mariadb() {
    let add = |ty: &str| {
        format!(
            r#"
[[operations]]
kind = "add_column"
table = "t"
column = {{ name = "at", type = "{ty}", default = {{ expr = "now" }} }}
"#
        )
    };
    let mariadb = MysqlDialect::mariadb();
    assert!(safe_sql(mariadb, MARIADB, &add("timestamptz")).contains(", ALGORITHM=COPY"));
    assert!(safe_sql(mariadb, MARIADB, &add("datetime")).ends_with(", ALGORITHM=INSTANT"));
}

#[test]
fn renaming_a_column_is_instant_from_mysql_8_0_28() {
    const RENAME: &str = r#"
[[operations]]
kind = "rename_column"
table = "t"
from = "b"
to = "b2"
"#;
    let mysql = MysqlDialect::mysql();
    assert!(safe_sql(mysql, ServerVersion::new(8, 0, 27), RENAME)
        .ends_with("TO `b2`, ALGORITHM=INPLACE, LOCK=NONE"));
    assert!(safe_sql(mysql, ServerVersion::new(8, 0, 28), RENAME)
        .ends_with("TO `b2`, ALGORITHM=INSTANT"));
}

#[test]
fn an_index_is_built_in_place_without_locking() {
    for d in [MysqlDialect::mysql(), MysqlDialect::mariadb()] {
        let sql = safe_sql(d, d.minimum_version(), ADD_INDEX);
        assert_eq!(
            sql,
            "ALTER TABLE `t` ADD INDEX `t_b` (`b`), ALGORITHM=INPLACE, LOCK=NONE"
        );
    }
}

#[test]
fn a_foreign_key_with_its_supporting_index_is_a_declared_copy_on_mysql() {
    let d = MysqlDialect::mysql();
    let sql = safe_sql(d, d.minimum_version(), ADD_FK);
    assert!(
        sql.starts_with("ALTER TABLE `t` ADD INDEX `t_p_fk`"),
        "{sql}"
    );
    assert!(sql.ends_with(", ALGORITHM=COPY, LOCK=SHARED"), "{sql}");
}

#[test]
fn mariadb_adds_a_foreign_key_unchecked_in_place_then_checks_the_rows() {
    let d = MysqlDialect::mariadb();
    let statements = render(d, d.minimum_version(), ADD_FK, true);
    let [add, check] = &statements[..] else {
        panic!("{statements:?}");
    };
    assert!(
        add.sql.starts_with(
            "SET STATEMENT foreign_key_checks=0 FOR ALTER TABLE `t` ADD INDEX `t_p_fk`"
        ),
        "{add:?}"
    );
    assert!(
        add.sql.ends_with(", ALGORITHM=INPLACE, LOCK=NONE"),
        "{add:?}"
    );
    assert!(add.fails_with_rows.is_none());
    assert!(check.fails_with_rows.is_some(), "{check:?}");
    assert!(check.sql.contains("NOT EXISTS"), "{check:?}");
}

#[test]
fn widening_a_varchar_is_online_only_while_its_length_prefix_stays() {
    let (mysql, mariadb) = (MysqlDialect::mysql(), MysqlDialect::mariadb());
    assert!(safe_sql(mariadb, MARIADB, WIDEN_TO_40).ends_with(", ALGORITHM=INSTANT"));
    assert!(safe_sql(mysql, MYSQL_8_0_29, WIDEN_TO_40).ends_with(", ALGORITHM=INPLACE, LOCK=NONE"));
    for (d, v) in [(mysql, MYSQL_8_0_29), (mariadb, MARIADB)] {
        assert!(safe_sql(d, v, WIDEN_TO_80).ends_with(", ALGORITHM=COPY, LOCK=SHARED"));
    }
}

#[test]
fn without_safe_the_sql_is_unchanged_and_guards_never_carry_a_clause() {
    for op in [DROP_COLUMN, ADD_INDEX, ADD_FK, WIDEN_TO_80] {
        for d in [MysqlDialect::mysql(), MysqlDialect::mariadb()] {
            let plain = render(d, d.minimum_version(), op, false);
            assert!(
                plain.iter().all(|s| !s.sql.contains("ALGORITHM")),
                "{plain:?}"
            );
            let safe = render(d, d.minimum_version(), op, true);
            if op == ADD_FK && d == MysqlDialect::mariadb() {
                continue; // unchecked, then checked: its own test
            }
            assert_eq!(plain.len(), safe.len());
            for (p, s) in plain.iter().zip(&safe) {
                if s.fails_with_rows.is_some() {
                    assert_eq!(p, s);
                } else {
                    assert!(s.sql.starts_with(&p.sql) && s.sql.contains("ALGORITHM="));
                }
            }
        }
    }
}

#[test]
fn explain_says_what_the_algorithm_blocks() {
    let d = MysqlDialect::mariadb();
    let state = state();
    let capabilities = d.capabilities(MARIADB);
    for (op, safe, blocks, work, algorithm) in [
        (
            ADD_INDEX,
            true,
            Blocks::Nothing,
            TableWork::BuildIndex,
            "ALGORITHM=INPLACE, LOCK=NONE",
        ),
        (
            DROP_COLUMN,
            true,
            Blocks::Nothing,
            TableWork::Catalog,
            "ALGORITHM=INSTANT",
        ),
        (
            ADD_FK,
            true,
            Blocks::Nothing,
            TableWork::Catalog,
            "ALGORITHM=INPLACE, LOCK=NONE",
        ),
        (
            WIDEN_TO_80,
            false,
            Blocks::Writes,
            TableWork::Rewrite,
            "ALGORITHM=COPY, LOCK=SHARED (the server's default choice)",
        ),
    ] {
        let ctx = RenderContext {
            state: &state,
            version: MARIADB,
            capabilities: &capabilities,
            in_transaction: false,
            safe,
        };
        let op = &ops(op)[0];
        let statements = d.render(op, &ctx).unwrap();
        let main = statements.iter().rfind(|s| s.fails_with_rows.is_none());
        let note = d.explain(op, main.unwrap(), &ctx);
        assert_eq!((note.blocks, note.work), (blocks, work), "{note:?}");
        assert!(note.lock.starts_with("metadata lock ("), "{note:?}");
        assert!(note.lock.ends_with(algorithm), "{note:?}");
        assert_eq!(note.table.as_deref(), Some("t"));
        if let Some(guard) = statements.iter().find(|s| s.fails_with_rows.is_some()) {
            assert_eq!(d.explain(op, guard, &ctx).work, TableWork::Scan);
        }
    }
}

/// MariaDB stores an explicit RESTRICT as NO ACTION when it adds the key in place, so
/// such a key keeps the declared copy (and the schema the migration asked for).
#[test]
fn mariadb_keeps_the_copy_for_a_restrict_foreign_key() {
    const ADD_RESTRICT_FK: &str = r#"
[[operations]]
kind = "add_foreign_key"
table = "t"
foreign_key = { name = "t_p_fk", columns = ["p_id"], references = "p", referenced_columns = ["id"], on_delete = "restrict" }
"#;
    let d = MysqlDialect::mariadb();
    let statements = render(d, d.minimum_version(), ADD_RESTRICT_FK, true);
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert!(
        statements[0].sql.ends_with(", ALGORITHM=COPY, LOCK=SHARED"),
        "{statements:?}"
    );
}

/// InnoDB rebuilds a table with a stored generated column only by copying it:
/// MariaDB 10.11 refuses `ALGORITHM=INPLACE` for a NOT NULL change there (error
/// 1845, found by the round trip); without such a column the change stays in place.
#[test]
fn a_not_null_change_copies_a_table_with_a_stored_generated_column() {
    let sql = |generated: &str| {
        let mut state = SchemaState::new();
        for op in ops(&format!(
            r#"
            [[operations]]
            kind = "create_table"
            name = "g"
            primary_key = ["id"]
            columns = [
              {{ name = "id", type = "bigint", auto = true }},
              {{ name = "a", type = "int", null = true }},
              {{ name = "b", type = "int", null = true{generated} }},
            ]
            "#
        )) {
            state.apply(&op).unwrap();
        }
        let mariadb = MysqlDialect::mariadb();
        let capabilities = mariadb.capabilities(MARIADB);
        let ctx = RenderContext {
            state: &state,
            version: MARIADB,
            capabilities: &capabilities,
            in_transaction: false,
            safe: true,
        };
        let alter = ops(r#"
[[operations]]
kind = "alter_column"
table = "g"
column = "a"
null = false
"#);
        mariadb.render(&alter[0], &ctx).unwrap().pop().unwrap().sql
    };
    assert!(sql(r#", generated = { expr = "a + 1", stored = true }"#).contains("ALGORITHM=COPY"));
    assert!(sql("").contains("ALGORITHM=INPLACE"));
}
