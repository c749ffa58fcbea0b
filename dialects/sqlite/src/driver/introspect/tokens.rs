//! A small SQL tokenizer for the `CREATE` statements SQLite keeps in `sqlite_master`.
//!
//! SQLite reports columns, indexes and foreign keys through pragmas, but check
//! constraints, `AUTOINCREMENT`, constraint names and index predicates exist only in
//! the original SQL text. This reads just enough of it: words, quoted identifiers
//! (`"…"`, `` `…` ``, `[…]`), string literals, parentheses and commas, skipping
//! comments. It never fails: odd or truncated SQL gives odd tokens, never a panic.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A keyword, bare identifier or number.
    Word,
    /// A quoted identifier: `"a""b"`, `` `a` ``, `[a]`.
    Quoted,
    /// A string literal: `'it''s'`.
    String,
    Open,
    Close,
    Comma,
    /// Any other punctuation (operators, `.`, `;`).
    Other,
}

/// A token and where it sits in the SQL (byte offsets, always on char boundaries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

impl Token<'_> {
    /// Whether this is the keyword `word` (case-insensitive; quoted text never is).
    pub(super) fn is(&self, word: &str) -> bool {
        self.kind == Kind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// The name this token spells, unquoted: `"a""b"` → `a"b`, `[x]` → `x`.
    /// SQLite also accepts a string literal where a name is expected.
    pub(super) fn name(&self) -> String {
        let t = self.text;
        let unquote = |close: char| {
            let inner = t.get(1..).unwrap_or("");
            let inner = inner.strip_suffix(close).unwrap_or(inner);
            let doubled = format!("{close}{close}");
            inner.replace(&doubled, &close.to_string())
        };
        match (self.kind, t.chars().next()) {
            (Kind::Quoted, Some('[')) => unquote(']'),
            (Kind::Quoted | Kind::String, Some(q)) => unquote(q),
            _ => t.to_string(),
        }
    }
}

/// Bytes that continue a bare word. SQLite lets identifiers hold any non-ASCII
/// character; every byte of a multi-byte UTF-8 character is ≥ 0x80, so a word never
/// ends inside one.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// The tokens of `sql`, comments and whitespace left out.
pub(crate) fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        let b = bytes[i];
        let next = bytes.get(i + 1).copied();
        let kind = match b {
            _ if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if next == Some(b'-') => {
                i = find(bytes, i, b"\n").map_or(bytes.len(), |at| at + 1);
                continue;
            }
            b'/' if next == Some(b'*') => {
                i = find(bytes, i + 2, b"*/").map_or(bytes.len(), |at| at + 2);
                continue;
            }
            b'\'' => {
                i = quoted_end(bytes, i, b'\'');
                Kind::String
            }
            b'"' | b'`' => {
                i = quoted_end(bytes, i, b);
                Kind::Quoted
            }
            b'[' => {
                i = find(bytes, i, b"]").map_or(bytes.len(), |at| at + 1);
                Kind::Quoted
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            _ if is_word_byte(b) => {
                while i < bytes.len() && is_word_byte(bytes[i]) {
                    i += 1;
                }
                Kind::Word
            }
            // Any other byte is ASCII (non-ASCII bytes are word bytes): one byte, one token.
            _ => {
                i += 1;
                Kind::Other
            }
        };
        out.push(Token {
            kind,
            text: &sql[start..i],
            start,
            end: i,
        });
    }
    out
}

/// The position of `needle` at or after `from`.
fn find(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// The end (exclusive) of a quoted token starting at `start`; a doubled quote is an
/// escaped one. An unterminated token runs to the end of the text.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

/// The index of the `)` that closes the `(` at `open`, if the text has one.
pub(crate) fn closing(tokens: &[Token], open: usize) -> Option<usize> {
    if tokens.get(open)?.kind != Kind::Open {
        return None;
    }
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(open) {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The group of tokens inside the parentheses opening at `open` (to the end of the
/// text when they never close), and the index after the group. `open` should be an
/// `(`; otherwise the group is everything after it.
pub(crate) fn group<'t, 'a>(tokens: &'t [Token<'a>], open: usize) -> (&'t [Token<'a>], usize) {
    match closing(tokens, open) {
        Some(close) => (&tokens[open + 1..close], close + 1),
        None => (tokens.get(open + 1..).unwrap_or(&[]), tokens.len()),
    }
}

/// `tokens` split at the commas outside any parentheses.
pub(crate) fn split_top_level<'t, 'a>(tokens: &'t [Token<'a>]) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts.retain(|p| !p.is_empty());
    parts
}

/// The indexes of the tokens outside any parentheses, in order.
pub(crate) fn top_level(tokens: &[Token]) -> Vec<usize> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::Open => {
                if depth == 0 {
                    out.push(i);
                }
                depth += 1;
            }
            Kind::Close => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(i),
            _ => {}
        }
    }
    out
}

/// The SQL text a run of tokens covers, comments inside it included.
pub(crate) fn span<'a>(sql: &'a str, tokens: &[Token]) -> &'a str {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => sql.get(first.start..last.end).unwrap_or(""),
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        tokenize(sql).iter().map(|t| t.text).collect()
    }

    #[test]
    fn quotes_strings_and_comments() {
        assert_eq!(
            texts("CREATE TABLE \"a\"\"b\" ([x y] int, `c``d` text -- note ( \n DEFAULT 'it''s (', /* ) */ e)"),
            [
                "CREATE", "TABLE", "\"a\"\"b\"", "(", "[x y]", "int", ",", "`c``d`", "text",
                "DEFAULT", "'it''s ('", ",", "e", ")"
            ]
        );
    }

    #[test]
    fn names_are_unquoted() {
        let names: Vec<String> = tokenize("\"a\"\"b\" [x y] `c``d` 'e''f' plain ü")
            .iter()
            .map(Token::name)
            .collect();
        assert_eq!(names, ["a\"b", "x y", "c`d", "e'f", "plain", "ü"]);
    }

    #[test]
    fn groups_and_top_level_commas() {
        let tokens = tokenize("(a int, b decimal(12, 2), CHECK (f(a, b) > 0))");
        let (inner, after) = group(&tokens, 0);
        assert_eq!(after, tokens.len());
        let parts: Vec<_> = split_top_level(inner)
            .iter()
            .map(|p| span("(a int, b decimal(12, 2), CHECK (f(a, b) > 0))", p))
            .collect();
        assert_eq!(parts, ["a int", "b decimal(12, 2)", "CHECK (f(a, b) > 0)"]);
    }

    #[test]
    fn odd_or_truncated_sql_never_panics() {
        let samples = [
            "",
            "(",
            ")",
            "((",
            "'",
            "\"",
            "`",
            "[",
            "--",
            "/*",
            "/* x",
            "'it''",
            "\"a\"\"",
            "CREATE TABLE t (a",
            "é'ü\"",
            "))((",
            ",,,",
            "x'00'",
            "a -",
            "a /",
        ];
        for s in samples {
            let tokens = tokenize(s);
            for i in 0..tokens.len() {
                let _ = group(&tokens, i);
                let _ = tokens[i].name();
            }
            let _ = split_top_level(&tokens);
            let _ = top_level(&tokens);
            let _ = span(s, &tokens);
        }
        // Every prefix of a real statement, cut at every char boundary.
        let sql =
            "CREATE TABLE \"ü\"\"x\" (a int CHECK (a > 0), b text DEFAULT 'a''(', [c] blob) -- é";
        for (i, _) in sql.char_indices() {
            let tokens = tokenize(&sql[..i]);
            let _ = split_top_level(&tokens);
            if !tokens.is_empty() {
                let _ = group(&tokens, tokens.len() - 1);
            }
        }
    }
}
