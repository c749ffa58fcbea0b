//! Drift: how a live schema (introspected) differs from the schema the migrations say
//! it should have. Used to verify checkpoints before resuming, by `--fake-initial`,
//! and by tests that compare every step of a history with the database.
//!
//! Both sides are compared as the database sees them: types as the dialect renders
//! them (MySQL stores `timestamptz` and `datetime` alike), index and constraint names
//! as the dialect shortens them, unique constraints and unique indexes as one kind
//! (SQLite and MySQL implement one as the other), foreign keys by what they connect
//! (SQLite cannot name them).

//! `Drift` is the structured result (what `strata drift` prints and serializes);
//! [`differences`] renders it as the one-line-per-difference list the executor's
//! resume check, `--fake-initial` and the tests use.

mod applied;
mod normalize;
mod patch;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::dialect::driver::{Driver, DriverError};
use crate::dialect::{Dialect, RenderContext, ServerVersion};
use crate::state::SchemaState;
use normalize::{Normalizer, Shape};

pub use applied::applied_state;
pub use patch::patched;

/// An attribute of a column that can differ on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attribute {
    /// The type as the server renders it (with `auto` for an identity column).
    Type,
    Collation,
    Null,
    Default,
    Comment,
    Generated,
}

impl Attribute {
    fn label(self) -> &'static str {
        match self {
            Attribute::Type => "type",
            Attribute::Collation => "collation",
            Attribute::Null => "null",
            Attribute::Default => "default",
            Attribute::Comment => "comment",
            Attribute::Generated => "generated",
        }
    }
}

/// What kind of difference: `missing` is in the migrations but not the database,
/// `extra` in the database but not the migrations, `changed` in both, unlike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    TableMissing,
    TableExtra,
    ColumnMissing,
    ColumnExtra,
    ColumnChanged,
    PrimaryKeyChanged,
    /// Unique constraints and plain unique indexes, one kind (see the module doc).
    UniqueMissing,
    UniqueExtra,
    UniqueChanged,
    IndexMissing,
    IndexExtra,
    IndexChanged,
    /// Foreign keys are identified by what they connect, so a changed action is one
    /// missing and one extra only when the columns differ; otherwise `changed`.
    ForeignKeyMissing,
    ForeignKeyExtra,
    ForeignKeyChanged,
    CheckMissing,
    CheckExtra,
    TableCommentChanged,
}

impl Kind {
    /// The part of a table it is about, as the text says it.
    fn part(self) -> &'static str {
        match self {
            Kind::TableMissing | Kind::TableExtra => "table",
            Kind::ColumnMissing | Kind::ColumnExtra | Kind::ColumnChanged => "columns",
            Kind::PrimaryKeyChanged => "primary key",
            Kind::UniqueMissing | Kind::UniqueExtra | Kind::UniqueChanged => {
                "unique constraints/indexes"
            }
            Kind::IndexMissing | Kind::IndexExtra | Kind::IndexChanged => "indexes",
            Kind::ForeignKeyMissing | Kind::ForeignKeyExtra | Kind::ForeignKeyChanged => {
                "foreign keys"
            }
            Kind::CheckMissing | Kind::CheckExtra => "check constraints",
            Kind::TableCommentChanged => "comment",
        }
    }

    /// One of that part, as a changed one is named.
    fn one(self) -> &'static str {
        match self {
            Kind::ColumnMissing | Kind::ColumnExtra | Kind::ColumnChanged => "column",
            Kind::UniqueMissing | Kind::UniqueExtra | Kind::UniqueChanged => {
                "unique constraint/index"
            }
            Kind::IndexMissing | Kind::IndexExtra | Kind::IndexChanged => "index",
            Kind::ForeignKeyMissing | Kind::ForeignKeyExtra | Kind::ForeignKeyChanged => {
                "foreign key"
            }
            Kind::CheckMissing | Kind::CheckExtra => "check constraint",
            other => other.part(),
        }
    }
}

/// One difference within a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    pub kind: Kind,
    /// The column, index or constraint (a foreign key: what it connects); none for
    /// the table itself, its primary key and its comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// For `column_changed`: which attribute (one difference per attribute).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<Attribute>,
    /// What the migrations say, as the server would render it; `null` for none.
    pub expected: Option<String>,
    /// What the database has; `null` for none.
    pub found: Option<String>,
}

impl Difference {
    /// The difference in words, without its table.
    pub fn describe(&self) -> String {
        let none = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let part = self.kind.part();
        match self.kind {
            Kind::TableMissing => "is missing".into(),
            Kind::TableExtra => "is not in the migrations".into(),
            Kind::ColumnMissing
            | Kind::UniqueMissing
            | Kind::IndexMissing
            | Kind::ForeignKeyMissing
            | Kind::CheckMissing => format!("{part}: expected {}, not found", none(&self.expected)),
            Kind::ColumnExtra
            | Kind::UniqueExtra
            | Kind::IndexExtra
            | Kind::ForeignKeyExtra
            | Kind::CheckExtra => format!("{part}: found {}, not expected", none(&self.found)),
            Kind::ColumnChanged
            | Kind::UniqueChanged
            | Kind::IndexChanged
            | Kind::ForeignKeyChanged
            | Kind::PrimaryKeyChanged
            | Kind::TableCommentChanged => {
                let one = self.kind.one();
                let what = match (&self.name, self.attribute) {
                    (Some(name), Some(a)) => format!("{one} `{name}`: {}", a.label()),
                    (Some(name), None) => format!("{one} `{name}`"),
                    (None, _) => one.to_string(),
                };
                format!(
                    "{what}: expected {}, found {}",
                    none(&self.expected),
                    none(&self.found)
                )
            }
        }
    }
}

/// The differences of one table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDrift {
    pub table: String,
    pub differences: Vec<Difference>,
}

/// How a live schema differs from the expected one, grouped by table (by name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Drift {
    pub tables: Vec<TableDrift>,
}

impl Drift {
    /// Compares `expected` with `live` as the database sees them. Tables named in
    /// `ignore` (the history table) are skipped.
    pub fn between(
        dialect: &dyn Dialect,
        version: ServerVersion,
        expected: &SchemaState,
        live: &SchemaState,
        ignore: &[&str],
    ) -> Drift {
        Self::between_with(dialect, version, expected, live, ignore, &BTreeMap::new())
    }

    /// [`Drift::between`], knowing each live table's default collation (from
    /// [`table_collations`]): where introspection cannot tell a column collation
    /// equal to it from none (MySQL), a migration's explicit one compares equal.
    pub fn between_with(
        dialect: &dyn Dialect,
        version: ServerVersion,
        expected: &SchemaState,
        live: &SchemaState,
        ignore: &[&str],
        table_collations: &BTreeMap<String, String>,
    ) -> Drift {
        let capabilities = dialect.capabilities(version);
        let ctx = RenderContext {
            state: expected,
            version,
            capabilities: &capabilities,
            in_transaction: false,
            safe: false,
        };
        let norm = Normalizer {
            dialect,
            ctx: &ctx,
            table_collations,
        };
        let names = |s: &SchemaState| -> BTreeSet<String> {
            s.tables
                .keys()
                .filter(|t| !ignore.contains(&t.as_str()))
                .cloned()
                .collect()
        };
        let (want, have) = (names(expected), names(live));
        let whole = |kind| Difference {
            kind,
            name: None,
            attribute: None,
            expected: None,
            found: None,
        };
        let mut tables = Vec::new();
        for name in want.union(&have) {
            let differences = match (expected.tables.get(name), live.tables.get(name)) {
                (Some(a), Some(b)) => compare(&norm.table(a), &norm.table(b)),
                (Some(_), None) => vec![whole(Kind::TableMissing)],
                (None, _) => vec![whole(Kind::TableExtra)],
            };
            if !differences.is_empty() {
                tables.push(TableDrift {
                    table: name.clone(),
                    differences,
                });
            }
        }
        Drift { tables }
    }

    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }

    /// One line per difference, naming its table.
    pub fn lines(&self) -> Vec<String> {
        self.tables
            .iter()
            .flat_map(|t| {
                t.differences.iter().map(move |d| match d.kind {
                    Kind::TableMissing | Kind::TableExtra => {
                        format!("table `{}` {}", t.table, d.describe())
                    }
                    _ => format!("table `{}`: {}", t.table, d.describe()),
                })
            })
            .collect()
    }

    /// The differences grouped by table, for people; empty when there are none.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for t in &self.tables {
            let _ = writeln!(out, "{}", t.table);
            for d in &t.differences {
                let _ = writeln!(out, "  - {}", d.describe());
            }
        }
        out
    }
}

/// The differences between two shapes of one table.
fn compare(a: &Shape, b: &Shape) -> Vec<Difference> {
    let mut out = Vec::new();
    let diff =
        |kind, name: Option<&str>, expected: Option<&String>, found: Option<&String>| Difference {
            kind,
            name: name.map(Into::into),
            attribute: None,
            expected: expected.cloned(),
            found: found.cloned(),
        };
    for (name, x) in &a.columns {
        match b.columns.get(name) {
            None => out.push(diff(
                Kind::ColumnMissing,
                Some(name),
                Some(&x.line(name)),
                None,
            )),
            Some(y) => {
                for (attribute, value) in &x.attributes {
                    let other = y.attributes.get(attribute).cloned().flatten();
                    if *value != other {
                        out.push(Difference {
                            kind: Kind::ColumnChanged,
                            name: Some(name.clone()),
                            attribute: Some(*attribute),
                            expected: value.clone(),
                            found: other,
                        });
                    }
                }
            }
        }
    }
    for (name, y) in &b.columns {
        if !a.columns.contains_key(name) {
            out.push(diff(
                Kind::ColumnExtra,
                Some(name),
                None,
                Some(&y.line(name)),
            ));
        }
    }
    if a.primary_key != b.primary_key {
        out.push(diff(
            Kind::PrimaryKeyChanged,
            None,
            a.primary_key.as_ref(),
            b.primary_key.as_ref(),
        ));
    }
    let kinds = [
        (
            &a.uniques,
            &b.uniques,
            [Kind::UniqueMissing, Kind::UniqueExtra, Kind::UniqueChanged],
        ),
        (
            &a.indexes,
            &b.indexes,
            [Kind::IndexMissing, Kind::IndexExtra, Kind::IndexChanged],
        ),
        (
            &a.foreign_keys,
            &b.foreign_keys,
            [
                Kind::ForeignKeyMissing,
                Kind::ForeignKeyExtra,
                Kind::ForeignKeyChanged,
            ],
        ),
        (
            &a.checks,
            &b.checks,
            // A check is compared by its name alone, so it is never `changed`.
            [Kind::CheckMissing, Kind::CheckExtra, Kind::CheckMissing],
        ),
    ];
    for (x, y, [missing, extra, changed]) in kinds {
        out.extend(keyed(x, y, missing, extra, changed));
    }
    if a.comment != b.comment {
        out.push(diff(
            Kind::TableCommentChanged,
            None,
            a.comment.as_ref(),
            b.comment.as_ref(),
        ));
    }
    out
}

/// Missing, extra and changed entries of two maps keyed by name.
fn keyed(
    x: &BTreeMap<String, String>,
    y: &BTreeMap<String, String>,
    missing: Kind,
    extra: Kind,
    changed: Kind,
) -> Vec<Difference> {
    let mut out = Vec::new();
    let make = |kind, name: &String, e: Option<&String>, f: Option<&String>| Difference {
        kind,
        name: Some(name.clone()),
        attribute: None,
        expected: e.cloned(),
        found: f.cloned(),
    };
    for (name, e) in x {
        match y.get(name) {
            None => out.push(make(missing, name, Some(e), None)),
            Some(f) if f != e => out.push(make(changed, name, Some(e), Some(f))),
            Some(_) => {}
        }
    }
    for (name, f) in y {
        if !x.contains_key(name) {
            out.push(make(extra, name, None, Some(f)));
        }
    }
    out
}

/// Each live table's default collation, where the dialect reads column collations
/// equal to it back as none ([`Dialect::table_collations_sql`]); empty elsewhere.
pub async fn table_collations(
    driver: &mut dyn Driver,
) -> Result<BTreeMap<String, String>, DriverError> {
    let Some(sql) = driver.dialect().table_collations_sql() else {
        return Ok(BTreeMap::new());
    };
    let rows = driver.query(sql).await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let mut cells = row.into_iter();
            Some((cells.next()??, cells.next()??))
        })
        .collect())
}

/// The differences between `expected` and `live`, one readable line each; empty
/// when they match. Tables named in `ignore` (the history table) are skipped.
pub fn differences(
    dialect: &dyn Dialect,
    version: ServerVersion,
    expected: &SchemaState,
    live: &SchemaState,
    ignore: &[&str],
) -> Vec<String> {
    Drift::between(dialect, version, expected, live, ignore).lines()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{ColumnDef, TableDef};
    use crate::dialect::{Capabilities, RenderError};
    use crate::types::ColumnType;

    /// A dialect that keeps column comments or not.
    struct Comments(bool);

    impl Dialect for Comments {
        fn name(&self) -> &'static str {
            "comments"
        }
        fn minimum_version(&self) -> ServerVersion {
            ServerVersion::new(1, 0, 0)
        }
        fn capabilities(&self, _: ServerVersion) -> Capabilities {
            Capabilities {
                column_comments: self.0,
                ..Capabilities::BASELINE
            }
        }
        fn column_type(&self, c: &ColumnDef, _: &RenderContext) -> Result<String, RenderError> {
            Ok(c.ty.to_string())
        }
    }

    fn schema(comment: Option<&str>) -> SchemaState {
        let mut state = SchemaState::new();
        let table = TableDef {
            name: "t".into(),
            columns: vec![ColumnDef {
                name: "c".into(),
                ty: ColumnType::Int,
                comment: comment.map(Into::into),
                ..Default::default()
            }],
            ..Default::default()
        };
        state.tables.insert("t".into(), table.into());
        state
    }

    #[test]
    fn comments_are_compared_only_where_the_server_keeps_them() {
        let v = ServerVersion::new(1, 0, 0);
        let (with, without, other) = (schema(Some("a")), schema(None), schema(Some("b")));
        assert!(!differences(&Comments(true), v, &with, &without, &[]).is_empty());
        assert!(!differences(&Comments(true), v, &with, &other, &[]).is_empty());
        assert!(differences(&Comments(true), v, &with, &with, &[]).is_empty());
        assert!(differences(&Comments(false), v, &with, &without, &[]).is_empty());
    }

    #[test]
    fn a_changed_column_is_one_difference_per_attribute() {
        let v = ServerVersion::new(1, 0, 0);
        let expected = schema(None);
        let mut live = schema(None);
        let column = &mut live.table_mut("t").unwrap().columns[0];
        column.ty = ColumnType::BigInt;
        column.null = true;
        live.tables.insert(
            "extra".into(),
            TableDef {
                name: "extra".into(),
                ..Default::default()
            }
            .into(),
        );
        let drift = Drift::between(&Comments(true), v, &expected, &live, &[]);
        let kinds: Vec<(&str, Kind, Option<Attribute>)> = drift
            .tables
            .iter()
            .flat_map(|t| {
                t.differences
                    .iter()
                    .map(move |d| (t.table.as_str(), d.kind, d.attribute))
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("extra", Kind::TableExtra, None),
                ("t", Kind::ColumnChanged, Some(Attribute::Type)),
                ("t", Kind::ColumnChanged, Some(Attribute::Null)),
            ]
        );
        let lines = drift.lines();
        assert_eq!(lines[0], "table `extra` is not in the migrations");
        assert_eq!(
            lines[2],
            "table `t`: column `c`: null: expected not null, found null"
        );
        assert!(Drift::between(&Comments(true), v, &expected, &expected, &[]).is_empty());
    }

    #[test]
    fn patching_one_side_with_the_other_leaves_no_drift_and_nothing_else_changed() {
        let v = ServerVersion::new(1, 0, 0);
        let base = schema(None);
        let mut other = schema(Some("note"));
        let t = other.table_mut("t").unwrap();
        t.columns.push(ColumnDef {
            name: "d".into(),
            ty: ColumnType::Text,
            null: true,
            ..Default::default()
        });
        t.indexes.push(crate::ast::IndexDef {
            name: "t_d_idx".into(),
            columns: vec!["d".into()],
            ..Default::default()
        });
        other.tables.insert(
            "u".into(),
            TableDef {
                name: "u".into(),
                ..Default::default()
            }
            .into(),
        );
        let dialect = Comments(true);
        for (from, to) in [(&base, &other), (&other, &base)] {
            let drift = Drift::between(&dialect, v, from, to, &[]);
            assert!(!drift.is_empty());
            let patched = patched(&dialect, v, from, to, &drift);
            assert_eq!(patched.canonical(), to.canonical());
        }
    }
}
