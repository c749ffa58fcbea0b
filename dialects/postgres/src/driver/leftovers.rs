//! What a failed or killed `CREATE INDEX CONCURRENTLY` leaves behind: an INVALID
//! index under the name it was building, which makes every rerun fail with "already
//! exists" (<https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>).
//! Before such a statement runs, an invalid index of that name is dropped, so the
//! statement builds it afresh. A valid index of that name is left alone: the
//! statement then fails as it should.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};
use tokio_postgres::types::Type;
use tokio_postgres::Client;

use strata_engine::dialect::driver::DriverError;

/// The index a `CREATE [UNIQUE] INDEX CONCURRENTLY [IF NOT EXISTS] [schema.]name ON …`
/// builds, as (schema, name) with identifiers folded as PostgreSQL folds them;
/// `None` for any other statement (or one without a name).
pub(super) fn concurrent_index_name(sql: &str) -> Option<(Option<String>, String)> {
    // Cheap test first: nearly every statement is something else.
    if !sql.to_ascii_uppercase().contains("CONCURRENTLY") {
        return None;
    }
    let tokens = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize().ok()?;
    let mut tokens = tokens
        .into_iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)));
    // The next token, when it is one of `expected` (unquoted keywords).
    let mut keyword = |expected: &[&str]| match tokens.next() {
        Some(Token::Word(w)) if w.quote_style.is_none() => {
            let upper = w.value.to_ascii_uppercase();
            expected.contains(&upper.as_str()).then_some(upper)
        }
        _ => None,
    };
    keyword(&["CREATE"])?;
    if keyword(&["UNIQUE", "INDEX"])? == "UNIQUE" {
        keyword(&["INDEX"])?;
    }
    keyword(&["CONCURRENTLY"])?;
    let mut parts = Vec::new();
    let mut expect_name = true;
    for token in tokens.by_ref() {
        match token {
            Token::Word(w) if expect_name => {
                let upper = w.value.to_ascii_uppercase();
                if w.quote_style.is_none()
                    && parts.is_empty()
                    && ["IF", "NOT", "EXISTS"].contains(&upper.as_str())
                {
                    continue;
                }
                if w.quote_style.is_none() && upper == "ON" {
                    return None; // no name: PostgreSQL picks one, nothing to clear
                }
                parts.push(match w.quote_style {
                    Some(_) => w.value,
                    None => w.value.to_lowercase(),
                });
                expect_name = false;
            }
            Token::Period if !expect_name => expect_name = true,
            _ => break,
        }
    }
    match parts.len() {
        1 => Some((None, parts.pop()?)),
        2 => {
            let name = parts.pop()?;
            Some((parts.pop(), name))
        }
        _ => None,
    }
}

/// The schema of an invalid index called `$1` in schema `$2` (default: the current).
const FIND_INVALID: &str = "SELECT n.nspname FROM pg_index i \
     JOIN pg_class c ON c.oid = i.indexrelid \
     JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE NOT i.indisvalid AND c.relname = $1 \
     AND n.nspname = COALESCE($2, current_schema())";

/// Whether the database has any invalid index at all.
const ANY_INVALID: &str = "SELECT EXISTS (SELECT FROM pg_index WHERE NOT indisvalid)";

/// What a session knows of invalid indexes: `clean` once the database was seen to
/// have none, until a statement of the session fails or is abandoned (a build that
/// stops leaves one). A healthy database is looked at once, not before every build.
#[derive(Debug, Default)]
pub(super) struct Leftovers {
    clean: bool,
}

impl Leftovers {
    /// Before a statement runs: what was known, which the caller gives back to
    /// [`Leftovers::ran`] if the statement succeeds. Until then nothing is known, so
    /// a statement whose future is dropped half-way leaves the next build checking.
    pub(super) fn running(&mut self) -> bool {
        std::mem::take(&mut self.clean)
    }

    /// The statement succeeded: what was known before it still holds.
    pub(super) fn ran(&mut self, clean: bool) {
        self.clean = clean;
    }

    /// Drops the invalid index `sql` would build, if there is one.
    pub(super) async fn clear(&mut self, client: &Client, sql: &str) -> Result<(), DriverError> {
        // Clean: nothing to look for, so not even the statement's name.
        if self.clean {
            return Ok(());
        }
        let Some((schema, name)) = concurrent_index_name(sql) else {
            return Ok(());
        };
        let any = client
            .query_typed(ANY_INVALID, &[])
            .await
            .map_err(|e| super::statement_error(ANY_INVALID, e))?;
        if !any.first().is_some_and(|row| row.get::<_, bool>(0)) {
            self.clean = true;
            return Ok(());
        }
        let rows = client
            .query_typed(FIND_INVALID, &[(&name, Type::TEXT), (&schema, Type::TEXT)])
            .await
            .map_err(|e| super::statement_error(FIND_INVALID, e))?;
        let Some(row) = rows.first() else {
            return Ok(());
        };
        let namespace: String = row.get(0);
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let drop = format!(
            "DROP INDEX CONCURRENTLY IF EXISTS {}.{}",
            quote(&namespace),
            quote(&name)
        );
        tracing::warn!(index = %name, "dropping the invalid index an interrupted CREATE INDEX CONCURRENTLY left, to build it again");
        client
            .execute_typed(&drop, &[])
            .await
            .map(|_| ())
            .map_err(|e| super::statement_error(&drop, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_concurrent_index_builds() {
        let name = |sql| concurrent_index_name(sql);
        assert_eq!(
            name("CREATE INDEX CONCURRENTLY \"Jobs_idx\" ON \"jobs\" (\"a\")"),
            Some((None, "Jobs_idx".into()))
        );
        assert_eq!(
            name("create unique index concurrently if not exists Public.IX on t (a)"),
            Some((Some("public".into()), "ix".into()))
        );
        assert_eq!(name("CREATE INDEX CONCURRENTLY ON t (a)"), None);
        assert_eq!(name("CREATE INDEX ix ON t (a)"), None);
        assert_eq!(name("DROP INDEX CONCURRENTLY ix"), None);
        assert_eq!(name("SELECT 'CREATE INDEX CONCURRENTLY x ON t (a)'"), None);
    }
}
