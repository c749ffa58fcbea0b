//! `docs/types.md` against the code: its type table has one row per neutral type and
//! one column per dialect, and each cell must be what that dialect's `sql_type`
//! renders. The code is the truth; a failure here means the doc needs fixing.
//!
//! A cell's first code span is the type written on the column's oldest supported
//! server; the rest is commentary. A cell `` `A` from X.Y, else `B` `` says the server
//! writes `A` from version X.Y and `B` before. Parameters (`p`, `s`, `n`) stand for
//! example values.

use std::path::PathBuf;

use strata::mysql::dialect::sql_type as mysql_type;
use strata::mysql::Flavour;
use strata_engine::{ColumnType, ServerVersion};

/// What one column of the table renders, at a given server version (`None`: the
/// oldest supported).
type Render = fn(ColumnType, Option<ServerVersion>) -> String;

fn mysql_flavour(flavour: Flavour, ty: ColumnType, version: Option<ServerVersion>) -> String {
    // An enum is spelled with its column's values (`MysqlDialect::sql_type_in`), which
    // the table writes as `enum('a', …)`.
    if ty == ColumnType::Enum {
        return "enum('a', …)".into();
    }
    let version = version.unwrap_or(flavour.minimum_version());
    mysql_type(flavour, version, ty).unwrap_or_else(|e| panic!("{flavour} refuses {ty}: {e}"))
}

/// The dialect columns the table must have, by header.
const COLUMNS: &[(&str, Render)] = &[
    ("SQLite", |ty, _| strata::sqlite::sql_type(ty)),
    ("PostgreSQL", |ty, _| strata::postgres::sql_type(ty)),
    ("MySQL 8", |ty, v| mysql_flavour(Flavour::Mysql, ty, v)),
    ("MariaDB 10.5+", |ty, v| {
        mysql_flavour(Flavour::Mariadb, ty, v)
    }),
];

/// The values the table's parameters stand for.
const PARAMETERS: &[(&str, &str)] = &[("(p,s)", "(12,2)"), ("(p, s)", "(12, 2)"), ("(n)", "(20)")];

fn with_parameters(text: &str) -> String {
    PARAMETERS
        .iter()
        .fold(text.to_string(), |t, (name, value)| t.replace(name, value))
}

/// The code spans of a cell, in order.
fn code_spans(cell: &str) -> Vec<&str> {
    cell.split('`').skip(1).step_by(2).collect()
}

/// What a cell says a dialect writes: at a version (`None`: the oldest supported), the
/// type. `None` when the cell names no type.
fn claims(cell: &str) -> Option<Vec<(Option<ServerVersion>, &str)>> {
    let spans = code_spans(cell);
    let from = cell
        .split_once(" from ")
        .and_then(|(_, rest)| rest.split_once(", else"))
        .map(|(version, _)| version.trim().parse::<ServerVersion>());
    match (from, spans.as_slice()) {
        (Some(version), [newer, older, ..]) => {
            Some(vec![(Some(version.ok()?), *newer), (None, *older)])
        }
        (None, [written, ..]) => Some(vec![(None, *written)]),
        _ => None,
    }
}

/// The type table: its header cells and its rows, each split into cells.
fn type_table(doc: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let cells = |line: &str| -> Vec<String> {
        let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
        inner.split('|').map(|c| c.trim().to_string()).collect()
    };
    let mut lines = doc
        .lines()
        .skip_while(|l| !l.starts_with("| neutral"))
        .take_while(|l| l.starts_with('|'));
    let header = cells(lines.next().expect("docs/types.md: no `| neutral …` table"));
    let rows = lines.skip(1).map(cells).collect();
    (header, rows)
}

#[test]
fn the_type_table_is_what_each_dialect_renders() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/types.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let (header, rows) = type_table(&doc);
    let dialects: Vec<&str> = header[1..].iter().map(String::as_str).collect();
    let expected: Vec<&str> = COLUMNS.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        dialects, expected,
        "docs/types.md: the type table's dialect columns"
    );

    let neutral: Vec<&str> = rows
        .iter()
        .map(|row| *code_spans(&row[0]).first().unwrap_or(&"?"))
        .collect();
    let missing: Vec<_> = ColumnType::NAMES
        .iter()
        .filter(|n| !neutral.contains(n))
        .collect();
    let unknown: Vec<_> = neutral
        .iter()
        .filter(|n| !ColumnType::NAMES.contains(n))
        .collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "docs/types.md: no row for the neutral types {missing:?}; rows for no neutral type: \
         {unknown:?}"
    );
    assert_eq!(
        neutral,
        ColumnType::NAMES,
        "docs/types.md: the rows in the order of ColumnType::NAMES"
    );

    let mut wrong = Vec::new();
    for (row, name) in rows.iter().zip(neutral) {
        assert_eq!(
            row.len(),
            header.len(),
            "docs/types.md: row `{name}` has a cell too many or too few"
        );
        let ty: ColumnType = with_parameters(name).parse().unwrap();
        for ((dialect, render), cell) in COLUMNS.iter().zip(&row[1..]) {
            let claims = claims(cell)
                .unwrap_or_else(|| panic!("docs/types.md: {name} on {dialect}: `{cell}`"));
            for (version, claimed) in claims {
                let rendered = render(ty, version);
                if with_parameters(claimed) != rendered {
                    let at = version.map(|v| format!(" from {v}")).unwrap_or_default();
                    wrong.push(format!(
                        "{name} on {dialect}{at}: the doc says `{claimed}`, the code writes \
                         `{rendered}` (for {ty})"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/types.md is wrong:\n{}",
        wrong.join("\n")
    );
}
