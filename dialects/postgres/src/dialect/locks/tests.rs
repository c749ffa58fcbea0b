//! Lock notes per operation and server version, offline. The live suite checks the
//! lock names against `pg_locks` and the rewrites against `relfilenode`.

use strata_engine::ast::{
    AddColumn, AddConstraint, AddForeignKey, AlterColumn, ColumnDef, Constraint, CreateIndex,
    DefaultExpr, DefaultValue, ForeignKeyDef, IndexDef, Operation, RenameIndex, TableDef,
};
use strata_engine::dialect::{Blocks, LockNote, TableWork};
use strata_engine::{Dialect, RenderContext, SchemaState, ServerVersion};

use super::*;

fn column(name: &str, ty: &str, null: bool) -> ColumnDef {
    ColumnDef {
        name: name.into(),
        ty: ty.parse().unwrap(),
        null,
        default: None,
        auto: false,
        ..Default::default()
    }
}

/// `author (id)` and `book (id, title varchar(20), note text NULL, price
/// decimal(10,2), qty int, code char(2), author_id bigint)` with index `book_title_idx`.
fn state() -> SchemaState {
    let mut state = SchemaState::new();
    let table = |name: &str, columns: Vec<ColumnDef>| TableDef {
        name: name.into(),
        columns,
        primary_key: vec!["id".into()],
        uniques: Vec::new(),
        checks: Vec::new(),
        foreign_keys: Vec::new(),
        indexes: Vec::new(),
        ..Default::default()
    };
    state
        .apply(&Operation::CreateTable(table(
            "author",
            vec![column("id", "bigint", false)],
        )))
        .unwrap();
    let mut book = table(
        "book",
        vec![
            column("id", "bigint", false),
            column("title", "varchar(20)", false),
            column("note", "text", true),
            column("price", "decimal(10,2)", false),
            column("qty", "int", false),
            column("code", "char(2)", false),
            column("author_id", "bigint", false),
        ],
    );
    book.indexes.push(IndexDef {
        name: "book_title_idx".into(),
        columns: vec!["title".into()],
        unique: false,
        predicate: None,
        ..Default::default()
    });
    state.apply(&Operation::CreateTable(book)).unwrap();
    state
}

/// The note of every statement `op` renders to, at `major`, in an atomic migration.
fn notes(op: &Operation, major: u32, safe: bool) -> Vec<LockNote> {
    let dialect = PostgresDialect;
    let version = ServerVersion::new(major, 0, 0);
    let capabilities = dialect.capabilities(version);
    let state = state();
    let ctx = RenderContext {
        state: &state,
        version,
        capabilities: &capabilities,
        in_transaction: true,
        safe,
    };
    dialect
        .render(op, &ctx)
        .unwrap()
        .iter()
        .map(|statement| dialect.explain(op, statement, &ctx))
        .collect()
}

/// (lock, blocks, work) of each statement.
fn summary(notes: &[LockNote]) -> Vec<(&str, Blocks, TableWork)> {
    notes
        .iter()
        .map(|n| (n.lock.as_str(), n.blocks, n.work))
        .collect()
}

fn add_column(default: Option<DefaultValue>, ty: &str) -> Operation {
    Operation::AddColumn(AddColumn {
        table: "book".into(),
        column: ColumnDef {
            default,
            ..column("extra", ty, false)
        },
    })
}

/// The work of the one ALTER TABLE `op` renders to, after any guards.
fn work(op: &Operation, major: u32) -> TableWork {
    let notes = notes(op, major, false);
    let (alter, guards) = notes.split_last().unwrap();
    assert!(guards.iter().all(|g| g.lock == ACCESS_SHARE), "{notes:?}");
    assert_eq!(alter.lock, ACCESS_EXCLUSIVE);
    alter.work
}

#[test]
fn add_column_rewrites_only_for_a_default_before_11_or_a_volatile_one() {
    let nullable = Operation::AddColumn(AddColumn {
        table: "book".into(),
        column: column("extra", "int", true),
    });
    let constant = add_column(Some(DefaultValue::Int(0)), "int");
    let now = add_column(
        Some(DefaultValue::Expr {
            expr: DefaultExpr::Now,
        }),
        "timestamptz",
    );
    let uuid = add_column(
        Some(DefaultValue::Expr {
            expr: DefaultExpr::Uuid,
        }),
        "uuid",
    );
    for major in [10, 11, 12, 16] {
        assert_eq!(work(&nullable, major), TableWork::Catalog, "{major}");
        assert_eq!(work(&uuid, major), TableWork::Rewrite, "{major}");
        let fast_default = if major >= 11 {
            TableWork::Catalog
        } else {
            TableWork::Rewrite
        };
        assert_eq!(work(&constant, major), fast_default, "{major}");
        assert_eq!(work(&now, major), fast_default, "{major}");
    }
}

fn alter_type(column: &str, ty: &str) -> Operation {
    Operation::AlterColumn(AlterColumn {
        table: "book".into(),
        column: column.into(),
        ty: Some(ty.parse().unwrap()),
        null: None,
        default: None,
        drop_default: false,
        ..Default::default()
    })
}

#[test]
fn a_type_change_rewrites_unless_every_value_stays_as_it_is() {
    let cases = [
        ("title", "varchar(40)", TableWork::Catalog),
        ("title", "varchar(20)", TableWork::Catalog),
        ("title", "text", TableWork::Catalog),
        ("title", "varchar(10)", TableWork::Rewrite),
        ("title", "char(20)", TableWork::Rewrite),
        ("note", "varchar(50)", TableWork::Rewrite),
        ("price", "decimal(12,2)", TableWork::Catalog),
        ("price", "decimal(12,3)", TableWork::Rewrite),
        ("price", "decimal(8,2)", TableWork::Rewrite),
        ("qty", "bigint", TableWork::Rewrite),
        // `int` and `int unsigned` are both `integer`: only the check `qty >= 0`.
        ("qty", "int unsigned", TableWork::Scan),
        ("qty", "bigint unsigned", TableWork::Rewrite),
        ("code", "char(4)", TableWork::Rewrite),
        ("code", "text", TableWork::Rewrite),
    ];
    for (column, ty, expected) in cases {
        for major in [10, 12, 16] {
            assert_eq!(
                work(&alter_type(column, ty), major),
                expected,
                "{column} to {ty} on {major}"
            );
        }
    }
}

fn set_not_null() -> Operation {
    Operation::AlterColumn(AlterColumn {
        table: "book".into(),
        column: "note".into(),
        ty: None,
        null: Some(false),
        default: None,
        drop_default: false,
        ..Default::default()
    })
}

#[test]
fn set_not_null_scans_unless_a_validated_check_proves_it_from_12() {
    assert_eq!(
        summary(&notes(&set_not_null(), 16, false)),
        [
            (ACCESS_SHARE, Blocks::Nothing, TableWork::Scan),
            (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Scan),
        ]
    );
    for major in [11, 12, 16] {
        let set = if major >= 12 {
            TableWork::Catalog
        } else {
            TableWork::Scan
        };
        assert_eq!(
            summary(&notes(&set_not_null(), major, true)),
            [
                (ACCESS_SHARE, Blocks::Nothing, TableWork::Scan),
                (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Catalog),
                (SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, TableWork::Scan),
                (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, set),
                (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Catalog),
            ],
            "{major}"
        );
    }
    let notes = notes(&set_not_null(), 16, true);
    assert!(notes[0].note.as_deref().unwrap().contains("guard"));
    assert!(notes[3]
        .note
        .as_deref()
        .unwrap()
        .contains("spares the scan"));
}

#[test]
fn an_index_blocks_writes_unless_built_concurrently() {
    let op = Operation::CreateIndex(CreateIndex {
        table: "book".into(),
        index: IndexDef {
            name: "book_qty_idx".into(),
            columns: vec!["qty".into()],
            unique: false,
            predicate: None,
            ..Default::default()
        },
    });
    assert_eq!(
        summary(&notes(&op, 16, false)),
        [(SHARE, Blocks::Writes, TableWork::BuildIndex)]
    );
    let safe = notes(&op, 16, true);
    assert_eq!(
        summary(&safe),
        [(
            SHARE_UPDATE_EXCLUSIVE,
            Blocks::Nothing,
            TableWork::BuildIndex
        )]
    );
    assert!(safe[0].note.as_deref().unwrap().contains("INVALID"));
    assert_eq!(safe[0].table.as_deref(), Some("book"));
}

#[test]
fn a_foreign_key_locks_both_tables_and_validates_without_blocking() {
    let op = Operation::AddForeignKey(AddForeignKey {
        table: "book".into(),
        foreign_key: ForeignKeyDef {
            name: "book_author_fk".into(),
            columns: vec!["author_id".into()],
            references: "author".into(),
            referenced_columns: vec!["id".into()],
            on_delete: None,
            on_update: None,
            ..Default::default()
        },
    });
    let plain = notes(&op, 16, false);
    assert_eq!(
        summary(&plain),
        [(SHARE_ROW_EXCLUSIVE, Blocks::Writes, TableWork::Scan)]
    );
    assert!(plain[0].note.as_deref().unwrap().contains("`author`"));
    let safe = notes(&op, 16, true);
    assert_eq!(
        summary(&safe),
        [
            (SHARE_ROW_EXCLUSIVE, Blocks::Writes, TableWork::Catalog),
            (SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, TableWork::Scan),
        ]
    );
    assert!(safe[0].note.as_deref().unwrap().starts_with("brief"));
}

#[test]
fn checks_and_uniques_move_their_work_out_of_the_exclusive_lock() {
    let check = Operation::AddConstraint(AddConstraint {
        table: "book".into(),
        constraint: Constraint::Check {
            name: "book_qty_nonneg".into(),
            expr: "qty >= 0".into(),
        },
    });
    assert_eq!(
        summary(&notes(&check, 16, false)),
        [(ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Scan)]
    );
    assert_eq!(
        summary(&notes(&check, 16, true)),
        [
            (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Catalog),
            (SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, TableWork::Scan),
        ]
    );
    let unique = Operation::AddConstraint(AddConstraint {
        table: "book".into(),
        constraint: Constraint::Unique {
            name: "book_code_uniq".into(),
            columns: vec!["code".into()],
        },
    });
    assert_eq!(
        summary(&notes(&unique, 16, false)),
        [(
            ACCESS_EXCLUSIVE,
            Blocks::ReadsAndWrites,
            TableWork::BuildIndex
        )]
    );
    assert_eq!(
        summary(&notes(&unique, 16, true)),
        [
            (
                SHARE_UPDATE_EXCLUSIVE,
                Blocks::Nothing,
                TableWork::BuildIndex
            ),
            (ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Catalog),
        ]
    );
}

#[test]
fn renaming_an_index_blocks_nothing_from_12() {
    let op = Operation::RenameIndex(RenameIndex {
        table: "book".into(),
        from: "book_title_idx".into(),
        to: "book_title_index".into(),
    });
    assert_eq!(
        summary(&notes(&op, 11, false)),
        [(ACCESS_EXCLUSIVE, Blocks::ReadsAndWrites, TableWork::Catalog)]
    );
    for major in [12, 16] {
        assert_eq!(
            summary(&notes(&op, major, false)),
            [(SHARE_UPDATE_EXCLUSIVE, Blocks::Nothing, TableWork::Catalog)]
        );
    }
}

#[test]
fn a_comment_change_alone_blocks_only_ddl() {
    let op = Operation::AlterColumn(AlterColumn {
        table: "book".into(),
        column: "title".into(),
        comment: Some("shown to readers".into()),
        ..Default::default()
    });
    let notes = notes(&op, 15, false);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0].lock, SHARE_UPDATE_EXCLUSIVE);
    assert_eq!(notes[0].blocks, Blocks::Nothing);
    assert_eq!(notes[0].work, TableWork::Catalog);
}

#[test]
fn an_enum_list_validates_its_check_and_a_collation_rebuilds_indexes() {
    let alter = |ty: Option<&str>, values: Option<&[&str]>, collation: Option<&str>| {
        Operation::AlterColumn(AlterColumn {
            table: "book".into(),
            column: "note".into(),
            ty: ty.map(|t| t.parse().unwrap()),
            values: values.map(|v| v.iter().map(ToString::to_string).collect()),
            collation: collation.map(|c| {
                [("postgres".to_string(), c.to_string())]
                    .into_iter()
                    .collect()
            }),
            ..Default::default()
        })
    };
    assert_eq!(
        work(&alter(Some("enum"), Some(&["a", "b"]), None), 15),
        TableWork::Scan
    );
    assert_eq!(
        work(&alter(None, None, Some("C")), 15),
        TableWork::BuildIndex
    );
}
