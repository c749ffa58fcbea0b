//! Raw SQL read token by token with sqlparser's tokenizer, never parsed: a `run_sql`
//! split into the statements it holds, a driver's check that it was given exactly
//! one, and a statement's first keyword (the dialect's hint whether it is DDL).
//!
//! Splitting at top-level `;` tokens is enough: the tokenizer already knows strings,
//! quoted identifiers, dollar quotes and comments, so a `;` inside any of them does
//! not split. What it cannot see is a `;` inside a compound statement body that is
//! not quoted (PostgreSQL's `BEGIN ATOMIC … END`, MySQL's `BEGIN … END` without
//! `DELIMITER`): such a body must be dollar-quoted, or be a `run_sql` of its own
//! dialect's quoted form.

use sqlparser::dialect::Dialect as Lexer;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// SQL the tokenizer could not read (an unterminated string or comment…), at a
/// 1-based line and column of the SQL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the SQL (line {line}, column {column}): {message}")]
pub struct SplitError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

/// The statements of `sql` in order, split at top-level `;`, each trimmed and
/// without its `;`. Stretches holding only whitespace and comments are left out, so
/// `"a; ;b;"` is two statements and a comment-only text none.
///
/// A MySQL executable comment (`/*! … */`) counts as code, and one holding a `;` is
/// refused: MySQL runs its content, so the `;` could end a statement there.
pub fn split_statements<'a>(lexer: &dyn Lexer, sql: &'a str) -> Result<Vec<&'a str>, SplitError> {
    let tokens = Tokenizer::new(lexer, sql)
        .tokenize_with_location()
        .map_err(|e| SplitError {
            line: e.location.line,
            column: e.location.column,
            message: e.message,
        })?;
    let offsets = Offsets::new(sql);
    let mut statements = Vec::new();
    let mut start = 0;
    let mut has_code = false;
    for token in &tokens {
        match &token.token {
            Token::SemiColon => {
                let at = offsets.byte(token.span.start);
                if has_code {
                    statements.push(sql[start..at].trim());
                }
                start = at + 1;
                has_code = false;
            }
            Token::Whitespace(Whitespace::MultiLineComment(body)) if body.starts_with('!') => {
                if body.contains(';') {
                    return Err(SplitError {
                        line: token.span.start.line,
                        column: token.span.start.column,
                        message: "a `/*! … */` comment holding `;`, which MySQL would run as code"
                            .into(),
                    });
                }
                has_code = true;
            }
            Token::Whitespace(_) | Token::EOF => {}
            _ => has_code = true,
        }
    }
    if has_code {
        statements.push(sql[start..].trim());
    }
    Ok(statements)
}

/// The first keyword of `sql`, upper-cased (`INSERT`, `CREATE`…), skipping whitespace
/// and comments; `None` when it does not start with a word or cannot be read.
pub fn first_keyword(lexer: &dyn Lexer, sql: &str) -> Option<String> {
    leading_keywords(lexer, sql, 1).into_iter().next()
}

/// The first `n` keywords of `sql`, upper-cased, up to the first token that is not an
/// unquoted word; whitespace and comments are skipped, but a MySQL executable comment
/// (`/*!40101 … */`) is read as the code MySQL runs. Empty when it cannot be read.
pub fn leading_keywords(lexer: &dyn Lexer, sql: &str, n: usize) -> Vec<String> {
    // The executor asks before every statement it runs: tokenizing a head of the
    // statement, not all of it, settles the answer unless comments fill the head.
    const HEAD: usize = 256;
    if sql.len() > HEAD {
        let cut = (0..=HEAD)
            .rev()
            .find(|&i| sql.is_char_boundary(i))
            .unwrap_or(0);
        if let Some(words) = keywords_in(lexer, &sql[..cut], n, false) {
            return words;
        }
    }
    keywords_in(lexer, sql, n, true).unwrap_or_default()
}

/// [`leading_keywords`] of `sql`, or of a head cut from a longer statement
/// (`whole = false`): its last token may be cut short, so it is not read, and the
/// answer is `None` when the tokens before it do not settle it.
fn keywords_in(lexer: &dyn Lexer, sql: &str, n: usize, whole: bool) -> Option<Vec<String>> {
    let Ok(mut tokens) = Tokenizer::new(lexer, sql).tokenize() else {
        return whole.then(Vec::new);
    };
    if !whole {
        tokens.pop();
    }
    let mut words = Vec::new();
    for token in tokens {
        if words.len() >= n {
            break;
        }
        match token {
            Token::Whitespace(Whitespace::MultiLineComment(body)) if body.starts_with('!') => {
                let code = body[1..].trim_start_matches(|c: char| c.is_ascii_digit());
                words.extend(leading_keywords(lexer, code, n - words.len()));
            }
            Token::Whitespace(_) => {}
            Token::Word(word) if word.quote_style.is_none() => {
                words.push(word.value.to_ascii_uppercase());
            }
            _ => {
                words.truncate(n);
                return Some(words);
            }
        }
    }
    if words.len() < n && !whole {
        return None;
    }
    words.truncate(n);
    Some(words)
}

/// Whether `sql` only reads or writes rows (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`,
/// `MERGE`, `SELECT`, `WITH`, `VALUES`, `LOAD`), by its first keyword: what may share
/// a transaction with its checkpoint. Anything else (DDL, `CALL`, `DO`, transaction
/// control, an unreadable start) is not, the safe answer for a statement that may
/// commit implicitly or refuse a transaction.
pub fn is_data_statement(lexer: &dyn Lexer, sql: &str) -> bool {
    const DATA: [&str; 9] = [
        "INSERT", "UPDATE", "DELETE", "REPLACE", "MERGE", "SELECT", "WITH", "VALUES", "LOAD",
    ];
    first_keyword(lexer, sql).is_some_and(|k| DATA.contains(&k.as_str()))
}

/// Byte offsets of the tokenizer's 1-based (line, column) locations, which count
/// characters, not bytes.
struct Offsets<'a> {
    sql: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> Offsets<'a> {
    fn new(sql: &'a str) -> Self {
        let line_starts = std::iter::once(0)
            .chain(sql.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Self { sql, line_starts }
    }

    fn byte(&self, at: Location) -> usize {
        let line = usize::try_from(at.line.saturating_sub(1)).unwrap_or(usize::MAX);
        let column = usize::try_from(at.column.saturating_sub(1)).unwrap_or(usize::MAX);
        let Some(&start) = self.line_starts.get(line) else {
            return self.sql.len();
        };
        self.sql[start..]
            .char_indices()
            .nth(column)
            .map_or(self.sql.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use sqlparser::dialect::{MySqlDialect, PostgreSqlDialect, SQLiteDialect};

    use super::*;

    #[test]
    fn splits_at_top_level_semicolons_only() {
        let pg = PostgreSqlDialect {};
        let sql = "CREATE TABLE a (x text DEFAULT ';');\n-- a; comment\nINSERT INTO a VALUES ($$;$$), ('é;'); /* ; */ ;\n";
        assert_eq!(
            split_statements(&pg, sql).unwrap(),
            [
                "CREATE TABLE a (x text DEFAULT ';')",
                "-- a; comment\nINSERT INTO a VALUES ($$;$$), ('é;')"
            ]
        );
        let my = MySqlDialect {};
        let sql = "INSERT INTO `a;b` VALUES ('it\\'s; fine'); # c;\nSELECT 1";
        assert_eq!(
            split_statements(&my, sql).unwrap(),
            [
                "INSERT INTO `a;b` VALUES ('it\\'s; fine')",
                "# c;\nSELECT 1"
            ]
        );
        let lite = SQLiteDialect {};
        assert_eq!(split_statements(&lite, " ; -- only\n;").unwrap(), [""; 0]);
        assert_eq!(
            split_statements(&lite, "SELECT \"x;\" FROM t").unwrap(),
            ["SELECT \"x;\" FROM t"]
        );
    }

    #[test]
    fn unreadable_sql_and_executable_comments_with_semicolons_are_refused() {
        let my = MySqlDialect {};
        let e = split_statements(&my, "SELECT 1 /*!; DROP TABLE x */").unwrap_err();
        assert_eq!((e.line, e.column), (1, 10), "{e}");
        assert_eq!(
            split_statements(&my, "SELECT 1 /*!40101 x */").unwrap(),
            ["SELECT 1 /*!40101 x */"]
        );
        let e = split_statements(&PostgreSqlDialect {}, "SELECT 'open;\n").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }

    #[test]
    fn keywords_past_the_head_read_from_the_whole_statement() {
        let my = MySqlDialect {};
        let long = |prefix: &str| format!("{prefix}UPDATE t SET a = '{}'", "x".repeat(400));
        // The head's last word cut short ("UPD"), a comment filling the head, a
        // character of several bytes across the cut, a string open at the cut.
        assert_eq!(
            first_keyword(&my, &long(&" ".repeat(253))).as_deref(),
            Some("UPDATE")
        );
        let comment = format!("/* {} */ ", "c".repeat(300));
        assert_eq!(
            first_keyword(&my, &long(&comment)).as_deref(),
            Some("UPDATE")
        );
        let wide = format!("-- {}\n", "é".repeat(130));
        assert_eq!(first_keyword(&my, &long(&wide)).as_deref(), Some("UPDATE"));
        assert!(is_data_statement(&my, &long("")));
        let ddl = format!(
            "ALTER TABLE t ADD COLUMN c int DEFAULT '{}'",
            "y".repeat(400)
        );
        assert_eq!(leading_keywords(&my, &ddl, 3), ["ALTER", "TABLE", "T"]);
        assert!(!is_data_statement(&my, &ddl));
    }

    #[test]
    fn first_keywords() {
        let my = MySqlDialect {};
        assert_eq!(
            first_keyword(&my, " /* x */ insert into t values (1)").as_deref(),
            Some("INSERT")
        );
        assert_eq!(first_keyword(&my, "`select` x"), None);
        assert_eq!(first_keyword(&my, "(SELECT 1)"), None);
        assert_eq!(first_keyword(&my, ""), None);
        assert_eq!(
            first_keyword(&my, "/*!40101 COMMIT */").as_deref(),
            Some("COMMIT")
        );
        assert_eq!(
            leading_keywords(&my, "-- x\nrollback to savepoint s", 2),
            ["ROLLBACK", "TO"]
        );
        assert_eq!(leading_keywords(&my, "COMMIT; BEGIN", 3), ["COMMIT"]);
        assert!(is_data_statement(
            &my,
            "-- x\nINSERT INTO t SELECT * FROM u"
        ));
        assert!(!is_data_statement(&my, "CREATE TABLE t (x int)"));
        assert!(!is_data_statement(&my, "CALL p()"));
    }
}
