//! The catalog dump: what a server's catalog says about a schema, one object a line,
//! in an order that does not depend on the server, and the object-by-object
//! comparison of two dumps.
//!
//! ```text
//! type mood: enum ('sad', 'ok')
//! table auth_user
//!   column id: bigint not null identity by default
//!   primary key auth_user_pkey: (id)
//!   foreign key auth_user_country_id_fk: (country_id) references accounts_country (code) on delete set null on update cascade not deferrable
//!   index auth_user_country_id_idx: using btree (country_id)
//! ```
//!
//! An object is a top-level line (`type`, `sequence`, `view`, `table`) or an
//! indented line under the table above it; its key is what precedes `: `.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One object: `key: value` (just `key` when the value is empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Entry {
    pub key: String,
    pub value: String,
}

impl Entry {
    pub(super) fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: value.into().trim().to_string(),
        }
    }

    fn line(&self) -> String {
        if self.value.is_empty() {
            self.key.clone()
        } else {
            format!("{}: {}", self.key, self.value)
        }
    }
}

/// A table and what hangs off it.
#[derive(Debug, Default)]
pub(super) struct TableDump {
    pub name: String,
    /// Table-wide facts: engine, collation, comment, `without rowid`.
    pub attrs: Vec<String>,
    /// In the table's column order, which matters (it is the layout of every row).
    pub columns: Vec<Entry>,
    /// Primary key, unique, check and foreign key constraints; sorted when written.
    pub constraints: Vec<Entry>,
    /// Sorted when written.
    pub indexes: Vec<Entry>,
    /// Sorted when written.
    pub triggers: Vec<Entry>,
}

/// A whole schema: objects outside tables (types, sequences, views) and the tables.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    pub top: Vec<Entry>,
    pub tables: BTreeMap<String, TableDump>,
}

impl Catalog {
    /// The table called `name`, created empty on first use.
    pub(super) fn table(&mut self, name: &str) -> &mut TableDump {
        self.tables
            .entry(name.to_string())
            .or_insert_with(|| TableDump {
                name: name.to_string(),
                ..TableDump::default()
            })
    }

    pub(super) fn is_empty(&self) -> bool {
        self.top.is_empty() && self.tables.is_empty()
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        let mut top = self.top.clone();
        top.sort_by(|a, b| a.key.cmp(&b.key));
        for entry in &top {
            let _ = writeln!(out, "{}", entry.line());
        }
        for table in self.tables.values() {
            let head = Entry::new(format!("table {}", table.name), table.attrs.join(" "));
            let _ = writeln!(out, "{}", head.line());
            for entry in &table.columns {
                let _ = writeln!(out, "  {}", entry.line());
            }
            for group in [&table.constraints, &table.indexes, &table.triggers] {
                let mut group = group.clone();
                group.sort_by(|a, b| (rank(&a.key), &a.key).cmp(&(rank(&b.key), &b.key)));
                for entry in &group {
                    let _ = writeln!(out, "  {}", entry.line());
                }
            }
        }
        out
    }
}

/// Constraints in the order a DBA reads them: the key, the other keys, checks,
/// references; then anything else.
fn rank(key: &str) -> usize {
    ["primary key", "unique", "check", "foreign key"]
        .iter()
        .position(|kind| key.starts_with(kind))
        .unwrap_or(4)
}

/// The objects of a rendered dump, in order: (table-qualified key, line). Comments
/// (`#`) and blank lines are not objects.
fn objects(text: &str) -> Vec<(String, String)> {
    let mut table = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let key = line
            .trim()
            .split(": ")
            .next()
            .unwrap_or_default()
            .to_string();
        if line.starts_with(' ') {
            out.push((format!("{table} / {key}"), line.trim().to_string()));
        } else {
            if let Some(name) = key.strip_prefix("table ") {
                table = format!("table {name}");
            } else {
                table.clear();
            }
            out.push((key, line.to_string()));
        }
    }
    out
}

/// `None` when `actual` holds the same objects as `expected`, in the same order;
/// otherwise a report naming each object missing, unexpected or different.
pub(super) fn compare(expected: &str, actual: &str) -> Option<String> {
    let want = objects(expected);
    let got = objects(actual);
    if want == got {
        return None;
    }
    let got_map: BTreeMap<&str, &str> = got.iter().map(|(k, l)| (k.as_str(), l.as_str())).collect();
    let want_map: BTreeMap<&str, &str> =
        want.iter().map(|(k, l)| (k.as_str(), l.as_str())).collect();
    let mut report = String::new();
    for (key, line) in &want {
        match got_map.get(key.as_str()) {
            None => {
                let _ = writeln!(report, "missing     {key}\n  expected: {line}");
            }
            Some(actual) if actual != line => {
                let _ = writeln!(
                    report,
                    "different   {key}\n  expected: {line}\n  actual:   {actual}"
                );
            }
            Some(_) => {}
        }
    }
    for (key, line) in &got {
        if !want_map.contains_key(key.as_str()) {
            let _ = writeln!(report, "unexpected  {key}\n  actual:   {line}");
        }
    }
    if report.is_empty() {
        // Same objects, another order: the columns of a table moved.
        let _ = writeln!(report, "the same objects in another order (column order?):");
        for (i, ((a, _), (b, _))) in want.iter().zip(&got).enumerate() {
            if a != b {
                let _ = writeln!(report, "  object {}: expected {a}, actual {b}", i + 1);
            }
        }
    }
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str =
        "# a comment\ntable t\n  column a: int not null\n  column b: text\n  index t_a: (a)\n";

    #[test]
    fn equal_dumps_compare_equal_whatever_the_comments() {
        assert_eq!(compare(BASE, &BASE.replace("# a comment\n", "")), None);
    }

    #[test]
    fn each_kind_of_difference_is_named_with_its_object() {
        let actual = "table t\n  column a: bigint not null\n  column b: text\n  index t_b: (b)\n";
        let report = compare(BASE, actual).unwrap();
        assert!(report.contains("different   table t / column a\n  expected: column a: int not null\n  actual:   column a: bigint not null"), "{report}");
        assert!(
            report.contains("missing     table t / index t_a"),
            "{report}"
        );
        assert!(
            report.contains("unexpected  table t / index t_b"),
            "{report}"
        );
        assert!(!report.contains("column b"), "{report}");
    }

    #[test]
    fn a_column_moved_is_a_difference() {
        let actual = "table t\n  column b: text\n  column a: int not null\n  index t_a: (a)\n";
        let report = compare(BASE, actual).unwrap();
        assert!(report.contains("another order"), "{report}");
    }

    #[test]
    fn rendering_sorts_everything_but_columns() {
        let mut c = Catalog::default();
        let t = c.table("z");
        t.columns.push(Entry::new("column b", "int"));
        t.columns.push(Entry::new("column a", "int"));
        t.indexes.push(Entry::new("index z_b", "(b)"));
        t.indexes.push(Entry::new("index z_a", "(a)"));
        t.constraints
            .push(Entry::new("foreign key z_a_fk", "(a) references a (id)"));
        t.constraints.push(Entry::new("check z_b", "CHECK (b > 0)"));
        t.constraints.push(Entry::new("primary key z_pkey", "(a)"));
        c.table("a");
        c.top.push(Entry::new("type mood", "enum ('ok')"));
        assert_eq!(
            c.render(),
            "type mood: enum ('ok')\ntable a\ntable z\n  column b: int\n  column a: int\n  primary key z_pkey: (a)\n  check z_b: CHECK (b > 0)\n  foreign key z_a_fk: (a) references a (id)\n  index z_a: (a)\n  index z_b: (b)\n"
        );
    }
}
