//! What only a table's `CREATE TABLE` text knows: check constraints, `AUTOINCREMENT`,
//! and the names of foreign keys (SQLite's pragmas report none of these).

use strata_engine::ast::Deferrable;

use super::tokens::{group, span, split_top_level, tokenize, top_level, Kind, Token};

/// The parts of a `CREATE TABLE` statement that introspection needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TableText {
    /// `(name, expression)`, table-level and column-level alike, in order.
    pub checks: Vec<(Option<String>, String)>,
    /// Columns declared `… PRIMARY KEY AUTOINCREMENT`.
    pub autoincrement: Vec<String>,
    /// Foreign keys written with `CONSTRAINT name`.
    pub named_foreign_keys: Vec<NamedForeignKey>,
    /// Foreign keys written `DEFERRABLE …` (the pragmas do not say), with what the
    /// clause means; `name` is empty for an unnamed key.
    pub deferrable_foreign_keys: Vec<(NamedForeignKey, Deferrable)>,
    /// Columns with an unnamed column-level `CHECK (json_valid(column))`: the check
    /// strata writes on a `json` column (not in `checks`).
    pub json_checked: Vec<String>,
    /// `(column, collation)` for columns declared `… COLLATE name`.
    pub collations: Vec<(String, String)>,
    /// `(column, expression)` of each generated column (`[GENERATED ALWAYS] AS (…)`);
    /// whether it is stored, `pragma table_xinfo` says.
    pub generated: Vec<(String, String)>,
}

/// A foreign key's name, and what identifies it among the pragma's foreign keys.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct NamedForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table, as written.
    pub references: String,
}

/// The name of the table after `REFERENCES` among `tokens`, if any.
fn referenced_table(tokens: &[Token]) -> Option<String> {
    let at = top_level(tokens)
        .into_iter()
        .find(|&i| tokens[i].is("REFERENCES"))?;
    tokens.get(at + 1).map(Token::name)
}

/// The `[NOT] DEFERRABLE [INITIALLY DEFERRED | IMMEDIATE]` of the foreign key clause
/// that starts at `tokens[0]` (`REFERENCES …`), up to the next column constraint.
/// SQLite defers only `DEFERRABLE INITIALLY DEFERRED`; a bare `DEFERRABLE` is
/// checked immediately (<https://www.sqlite.org/foreignkeys.html#fk_deferred>).
fn deferrable(tokens: &[Token]) -> Option<Deferrable> {
    const NEXT_CONSTRAINT: &[&str] = &[
        "CONSTRAINT",
        "CHECK",
        "PRIMARY",
        "UNIQUE",
        "DEFAULT",
        "COLLATE",
        "GENERATED",
        "REFERENCES",
    ];
    let positions = top_level(tokens);
    for (k, &i) in positions.iter().enumerate().skip(1) {
        let t = &tokens[i];
        if NEXT_CONSTRAINT.iter().any(|w| t.is(w)) {
            return None;
        }
        if t.is("DEFERRABLE") {
            let before = k.checked_sub(1).map(|b| &tokens[positions[b]]);
            if before.is_some_and(|b| b.is("NOT")) {
                return None;
            }
            let at = |n: usize| positions.get(k + n).map(|&j| &tokens[j]);
            let deferred =
                at(1).is_some_and(|t| t.is("INITIALLY")) && at(2).is_some_and(|t| t.is("DEFERRED"));
            return Some(if deferred {
                Deferrable::Deferred
            } else {
                Deferrable::Immediate
            });
        }
    }
    None
}

/// Reads `sql`; anything it does not understand is left out, never an error.
pub(crate) fn parse(sql: &str) -> TableText {
    let tokens = tokenize(sql);
    let mut text = TableText::default();
    let Some(body) = body(&tokens) else {
        return text;
    };
    for item in split_top_level(body) {
        let (name, rest) = match item {
            [constraint, name, rest @ ..] if constraint.is("CONSTRAINT") => {
                (Some(name.name()), rest)
            }
            _ => (None, item),
        };
        let Some(first) = rest.first() else {
            continue;
        };
        if first.is("CHECK") {
            if let Some(expr) = parenthesized(sql, rest, 1) {
                text.checks.push((name, expr));
            }
        } else if first.is("FOREIGN") {
            let open = rest.iter().position(|t| t.kind == Kind::Open);
            if let (Some(name), Some(open)) = (name, open) {
                let (columns, after) = group(rest, open);
                let columns: Vec<String> = split_top_level(columns)
                    .iter()
                    .filter_map(|c| c.first().map(Token::name))
                    .collect();
                let clause = rest.get(after..).unwrap_or(&[]);
                if let Some(references) = referenced_table(clause) {
                    if let Some(deferrable) = deferrable(clause) {
                        text.deferrable_foreign_keys.push((
                            NamedForeignKey {
                                name: name.clone(),
                                columns: columns.clone(),
                                references: references.clone(),
                            },
                            deferrable,
                        ));
                    }
                    text.named_foreign_keys.push(NamedForeignKey {
                        name,
                        columns,
                        references,
                    });
                }
            } else if let Some(open) = open {
                // An unnamed table-level foreign key: only its deferral is news.
                let (columns, after) = group(rest, open);
                let clause = rest.get(after..).unwrap_or(&[]);
                if let (Some(references), Some(deferrable)) =
                    (referenced_table(clause), deferrable(clause))
                {
                    let columns = split_top_level(columns)
                        .iter()
                        .filter_map(|c| c.first().map(Token::name))
                        .collect();
                    text.deferrable_foreign_keys.push((
                        NamedForeignKey {
                            name: String::new(),
                            columns,
                            references,
                        },
                        deferrable,
                    ));
                }
            }
        } else if first.is("PRIMARY") || first.is("UNIQUE") || name.is_some() {
            // A table-level key (reported by the pragmas), or a constraint kind
            // strata does not know.
        } else {
            column(sql, item, &mut text);
        }
    }
    text
}

/// The tokens between the parentheses of the column list, unless the table is
/// `CREATE TABLE … AS SELECT` (no column list to read).
fn body<'t, 'a>(tokens: &'t [Token<'a>]) -> Option<&'t [Token<'a>]> {
    for i in top_level(tokens) {
        let t = &tokens[i];
        if t.is("AS") {
            return None;
        }
        if t.kind == Kind::Open {
            return Some(group(tokens, i).0);
        }
    }
    None
}

/// The text inside the parentheses at `tokens[open]`, if that is a `(`.
fn parenthesized(sql: &str, tokens: &[Token], open: usize) -> Option<String> {
    if tokens.get(open)?.kind != Kind::Open {
        return None;
    }
    Some(span(sql, group(tokens, open).0).trim().to_string())
}

/// A column definition: `name [type] [constraints…]`. Its `CONSTRAINT name` prefixes
/// name the constraint that follows them.
fn column(sql: &str, item: &[Token], text: &mut TableText) {
    let Some(column) = item.first().map(Token::name) else {
        return;
    };
    let mut pending_name: Option<String> = None;
    let positions = top_level(item);
    let mut k = 1;
    while k < positions.len() {
        let i = positions[k];
        let t = &item[i];
        if t.is("CONSTRAINT") {
            pending_name = item.get(i + 1).map(Token::name);
            k += 2;
            continue;
        }
        if t.is("CHECK") {
            if let Some(expr) = parenthesized(sql, item, i + 1) {
                let name = pending_name.take();
                if name.is_none() && is_json_valid_of(&expr, &column) {
                    text.json_checked.push(column.clone());
                } else {
                    text.checks.push((name, expr));
                }
            }
        } else if t.is("REFERENCES") {
            let references = item.get(i + 1).map(Token::name);
            if let (Some(references), Some(deferrable)) =
                (references.clone(), deferrable(&item[i..]))
            {
                text.deferrable_foreign_keys.push((
                    NamedForeignKey {
                        name: pending_name.clone().unwrap_or_default(),
                        columns: vec![column.clone()],
                        references,
                    },
                    deferrable,
                ));
            }
            if let (Some(name), Some(references)) = (pending_name.take(), references) {
                text.named_foreign_keys.push(NamedForeignKey {
                    name,
                    columns: vec![column.clone()],
                    references,
                });
            }
        } else if t.is("AS") {
            if let Some(expr) = parenthesized(sql, item, i + 1) {
                text.generated.push((column.clone(), expr));
            }
            pending_name = None;
        } else if t.is("AUTOINCREMENT") {
            text.autoincrement.push(column.clone());
        } else if t.is("COLLATE") {
            if let Some(name) = item.get(i + 1).map(Token::name) {
                text.collations.push((column.clone(), name));
            }
            pending_name = None;
        } else if [
            "PRIMARY",
            "NOT",
            "NULL",
            "UNIQUE",
            "DEFAULT",
            "COLLATE",
            "GENERATED",
            "AS",
        ]
        .iter()
        .any(|w| t.is(w))
        {
            // Another constraint starts: a pending name was its own.
            pending_name = None;
        }
        k += 1;
    }
}

/// Whether `expr` is exactly `json_valid(column)`, however the name is quoted.
fn is_json_valid_of(expr: &str, column: &str) -> bool {
    match tokenize(expr).as_slice() {
        [f, open, name, close] => {
            f.is("json_valid")
                && open.kind == Kind::Open
                && matches!(name.kind, Kind::Word | Kind::Quoted)
                && name.name().eq_ignore_ascii_case(column)
                && close.kind == Kind::Close
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fk(name: &str, columns: &[&str], references: &str) -> NamedForeignKey {
        NamedForeignKey {
            name: name.into(),
            columns: columns.iter().map(ToString::to_string).collect(),
            references: references.into(),
        }
    }

    #[test]
    fn reads_what_strata_writes() {
        let sql = "CREATE TABLE \"order\" (\n    \"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT,\n    \
                   \"amount\" decimal(12, 2) NOT NULL DEFAULT 0,\n    \
                   \"owner_id\" bigint NOT NULL CONSTRAINT \"o\" REFERENCES \"owner\" (\"id\") ON DELETE SET NULL \
                   CONSTRAINT \"o2\" REFERENCES [own] (\"id\"),\n    \
                   CONSTRAINT \"amount_pos\" CHECK (amount > 0 AND (amount < 1e9)),\n    \
                   CONSTRAINT \"a\"\"fk\" FOREIGN KEY (\"x\", \"y\") REFERENCES \"p\" (\"a\", \"b\")\n)";
        assert_eq!(
            parse(sql),
            TableText {
                checks: vec![(
                    Some("amount_pos".into()),
                    "amount > 0 AND (amount < 1e9)".into()
                )],
                autoincrement: vec!["id".into()],
                named_foreign_keys: vec![
                    fk("o", &["owner_id"], "owner"),
                    fk("o2", &["owner_id"], "own"),
                    fk("a\"fk", &["x", "y"], "p"),
                ],
                ..Default::default()
            }
        );
    }

    #[test]
    fn reads_hand_written_column_constraints() {
        let sql = "create table t (\n  a int constraint a_pos check (a > 0) check(a < 10),\n  \
                   b text constraint b_fk references p(id) default 'check (x)',\n  \
                   [c d] integer primary key autoincrement, -- AUTOINCREMENT in a comment\n  \
                   e text collate nocase constraint e_nn not null check (e <> ''),\n  \
                   check (a <> b), unique (a), constraint pk primary key (a)\n) without rowid";
        assert_eq!(
            parse(sql),
            TableText {
                checks: vec![
                    (Some("a_pos".into()), "a > 0".into()),
                    (None, "a < 10".into()),
                    (None, "e <> ''".into()),
                    (None, "a <> b".into()),
                ],
                autoincrement: vec!["c d".into()],
                named_foreign_keys: vec![fk("b_fk", &["b"], "p")],
                collations: vec![("e".into(), "nocase".into())],
                ..Default::default()
            }
        );
    }

    #[test]
    fn reads_deferrable_clauses_as_sqlite_means_them() {
        let sql = "CREATE TABLE t (\n    \"a\" bigint NOT NULL REFERENCES \"p\" (\"id\") \
                   ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,\n    \
                   \"b\" bigint NULL REFERENCES \"p\" (\"id\") DEFERRABLE INITIALLY IMMEDIATE,\n    \
                   c int references p(id) deferrable not null,\n    \
                   d int references p(id) not deferrable initially deferred,\n    \
                   e int references p(id) not null,\n    \
                   CONSTRAINT \"xy\" FOREIGN KEY (\"x\", \"y\") REFERENCES \"q\" (\"a\", \"b\") \
                   DEFERRABLE INITIALLY DEFERRED,\n    \
                   FOREIGN KEY (z) REFERENCES q (a) DEFERRABLE INITIALLY DEFERRED\n)";
        assert_eq!(
            parse(sql).deferrable_foreign_keys,
            vec![
                (fk("", &["a"], "p"), Deferrable::Deferred),
                (fk("", &["b"], "p"), Deferrable::Immediate),
                (fk("", &["c"], "p"), Deferrable::Immediate),
                (fk("xy", &["x", "y"], "q"), Deferrable::Deferred),
                (fk("", &["z"], "q"), Deferrable::Deferred),
            ]
        );
    }

    #[test]
    fn the_json_check_of_its_own_column_is_told_apart() {
        let sql = "CREATE TABLE t (\"doc\" json NOT NULL CHECK (json_valid(\"doc\")), \
                   [b] json CHECK (JSON_VALID( b )), \
                   c text CHECK (json_valid(doc)), \
                   d json CONSTRAINT named CHECK (json_valid(d)), \
                   e json CHECK (json_valid(e) OR e IS NULL))";
        let text = parse(sql);
        assert_eq!(text.json_checked, ["doc", "b"]);
        assert_eq!(
            text.checks,
            [
                (None, "json_valid(doc)".to_string()),
                (Some("named".to_string()), "json_valid(d)".to_string()),
                (None, "json_valid(e) OR e IS NULL".to_string()),
            ]
        );
    }

    #[test]
    fn tables_without_a_column_list_and_odd_sql_give_nothing() {
        for sql in [
            "CREATE TABLE t AS SELECT (1) AS x",
            "",
            "CREATE TABLE t",
            "CREATE TABLE t (",
            "CREATE TABLE t (a CHECK",
            "CREATE TABLE t (CONSTRAINT",
            "CREATE TABLE t (a CONSTRAINT",
            "CREATE TABLE t (CONSTRAINT x FOREIGN",
            "CREATE TABLE t (CONSTRAINT x FOREIGN KEY (a) REFERENCES",
            "CREATE TABLE t (a int CONSTRAINT x REFERENCES",
            "CREATE TABLE t (a int CHECK (a > (0)",
        ] {
            let text = parse(sql);
            assert!(text.autoincrement.is_empty(), "{sql}");
            assert!(text.named_foreign_keys.is_empty(), "{sql}");
        }
        assert_eq!(
            parse("CREATE TABLE t (a int CHECK (a > (0)").checks,
            [(None, "a > (0)".to_string())]
        );
    }
}
