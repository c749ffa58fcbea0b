//! Reading SQLite's stored `CREATE TABLE` / `CREATE INDEX` text: SQLite keeps check
//! constraints, deferrability, collations, generated expressions, constraint names and
//! index predicates nowhere else. A tokenizer that knows quotes and parentheses is
//! enough to cut the statement into its parts; expressions are kept as written, with
//! runs of white space made one space.

/// A token and where it is in the text.
#[derive(Debug, Clone)]
pub(super) struct Token {
    /// The text, unquoted for a quoted identifier.
    pub text: String,
    pub start: usize,
    pub end: usize,
    pub quoted: bool,
}

impl Token {
    pub(super) fn is(&self, word: &str) -> bool {
        !self.quoted && self.text.eq_ignore_ascii_case(word)
    }
}

pub(super) fn tokens(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        let close = match c {
            b'"' => Some(b'"'),
            b'`' => Some(b'`'),
            b'[' => Some(b']'),
            b'\'' => Some(b'\''),
            _ => None,
        };
        if let Some(close) = close {
            i += 1;
            loop {
                if i >= bytes.len() {
                    break;
                }
                if bytes[i] == close {
                    // A doubled quote is the quote itself.
                    if close != b']' && bytes.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            let raw = &sql[start..i];
            let (text, quoted) = if c == b'\'' {
                (raw.to_string(), false)
            } else {
                let inner = &raw[1..raw.len() - 1];
                let doubled = (close as char).to_string().repeat(2);
                (inner.replace(&doubled, &(close as char).to_string()), true)
            };
            out.push(Token {
                text,
                start,
                end: i,
                quoted,
            });
            continue;
        }
        if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'_'
                    || bytes[i] >= 0x80
                    || (bytes[i] == b'.' && c.is_ascii_digit()))
            {
                i += 1;
            }
            if i == start {
                i += 1;
            }
        } else {
            i += 1;
        }
        out.push(Token {
            text: sql[start..i].to_string(),
            start,
            end: i,
            quoted: false,
        });
    }
    out
}

/// The index of the `)` closing the `(` at `open`.
pub(super) fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Splits `tokens` at the commas outside parentheses.
pub(super) fn split_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut from = 0;
    for (i, t) in tokens.iter().enumerate() {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth -= 1;
        } else if t.is(",") && depth == 0 {
            parts.push(&tokens[from..i]);
            from = i + 1;
        }
    }
    if from < tokens.len() {
        parts.push(&tokens[from..]);
    }
    parts
}

/// The text `tokens` span in `sql`, its white space made single spaces.
pub(super) fn text(sql: &str, tokens: &[Token]) -> String {
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => sql[a.start..b.end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The parenthesised group after token `i` (which is `(`): its inner tokens and the
/// index after its `)`.
pub(super) fn group(tokens: &[Token], open: usize) -> Option<(&[Token], usize)> {
    let close = closing(tokens, open)?;
    Some((&tokens[open + 1..close], close + 1))
}

/// The parts of a `CREATE TABLE` statement: the items between its parentheses and
/// the words after them (`WITHOUT ROWID`, `STRICT`).
pub(super) fn table_items(sql: &str) -> (Vec<Vec<Token>>, String) {
    let all = tokens(sql);
    let Some(open) = all.iter().position(|t| t.is("(")) else {
        return (Vec::new(), String::new());
    };
    let Some((inner, after)) = group(&all, open) else {
        return (Vec::new(), String::new());
    };
    let items = split_commas(inner)
        .into_iter()
        .map(<[Token]>::to_vec)
        .collect();
    (items, text(sql, &all[after..]).to_lowercase())
}

/// What follows `REFERENCES table (cols) …` about deferral: SQLite's default is
/// `not deferrable`.
pub(super) fn deferrability(clause: &[Token]) -> String {
    let Some(at) = clause.iter().position(|t| t.is("deferrable")) else {
        return "not deferrable".into();
    };
    if at > 0 && clause[at - 1].is("not") {
        return "not deferrable".into();
    }
    match clause.get(at + 2) {
        Some(t) if clause[at + 1].is("initially") => {
            format!("deferrable initially {}", t.text.to_lowercase())
        }
        _ => "deferrable initially immediate".into(),
    }
}

/// A `CREATE INDEX` statement's key parts (columns or expressions, as written with
/// their `COLLATE`/`DESC`) and its `WHERE` predicate.
pub(super) fn index_parts(sql: &str) -> (Vec<String>, Option<String>) {
    let all = tokens(sql);
    let Some(on) = all.iter().position(|t| t.is("on")) else {
        return (Vec::new(), None);
    };
    let Some(open) = all.iter().skip(on).position(|t| t.is("(")).map(|p| p + on) else {
        return (Vec::new(), None);
    };
    let Some((inner, after)) = group(&all, open) else {
        return (Vec::new(), None);
    };
    let parts = split_commas(inner).iter().map(|p| text(sql, p)).collect();
    let predicate = all[after..]
        .iter()
        .position(|t| t.is("where"))
        .map(|w| text(sql, &all[after + w + 1..]));
    (parts, predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_is_cut_into_its_items_and_options() {
        let sql = "CREATE TABLE \"t\" (\n \"a\" integer NOT NULL DEFAULT (1, 2),\n  CONSTRAINT \"c\" CHECK (\"a\" IN (1, 2))\n) WITHOUT ROWID";
        let (items, options) = table_items(sql);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0][0].text, "a");
        assert!(items[0][0].quoted);
        assert_eq!(text(sql, &items[1][2..]), "CHECK (\"a\" IN (1, 2))");
        assert_eq!(options, "without rowid");
    }

    #[test]
    fn deferral_is_read_as_written_or_defaulted() {
        let d = |s: &str| deferrability(&tokens(s));
        assert_eq!(d("REFERENCES t (id)"), "not deferrable");
        assert_eq!(d("REFERENCES t (id) NOT DEFERRABLE"), "not deferrable");
        assert_eq!(
            d("REFERENCES t (id) DEFERRABLE INITIALLY DEFERRED"),
            "deferrable initially deferred"
        );
        assert_eq!(
            d("REFERENCES t DEFERRABLE"),
            "deferrable initially immediate"
        );
    }

    #[test]
    fn index_parts_and_predicate() {
        let (parts, predicate) = index_parts(
            "CREATE UNIQUE INDEX \"i\" ON \"t\" (lower(\"a\"), \"b\" COLLATE NOCASE DESC) WHERE \"c\" IS NULL",
        );
        assert_eq!(parts, ["lower(\"a\")", "\"b\" COLLATE NOCASE DESC"]);
        assert_eq!(predicate.as_deref(), Some("\"c\" IS NULL"));
    }
}
