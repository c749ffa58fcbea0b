//! Reading back the SQL string literals that `information_schema` shows.

/// The value of a whole quoted literal `'…'` as MySQL reads it with backslash
/// escapes on: `''` and `\'` are a quote, `\n`, `\t`, `\0`, `\r`, `\Z`, `\b` are
/// control characters, `\\` is a backslash and `\x` any other character `x` (MySQL
/// keeps the backslash of `\%` and `\_`, the `LIKE` wildcards). `None` unless the text
/// is exactly one literal.
pub(super) fn unquote(text: &str) -> Option<String> {
    let inner = text.strip_prefix('\'')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'b' => out.push('\u{8}'),
                'Z' => out.push('\u{1a}'),
                c @ ('%' | '_') => {
                    out.push('\\');
                    out.push(c);
                }
                c => out.push(c),
            },
            '\'' => match chars.next() {
                Some('\'') => out.push('\''),
                None => return Some(out),
                Some(_) => return None,
            },
            c => out.push(c),
        }
    }
    None
}

/// A literal with an optional character-set introducer, `_utf8mb4'…'`, as MySQL
/// prints string literals inside expressions.
pub(super) fn unquote_introduced(text: &str) -> Option<String> {
    let literal = match text.strip_prefix('_') {
        Some(rest) => {
            let start = rest.find('\'')?;
            let charset = &rest[..start];
            if charset.is_empty() || !charset.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return None;
            }
            &rest[start..]
        }
        None => text,
    };
    unquote(literal)
}

/// Undoes the one layer of backslash escaping MySQL 8 adds when it shows an
/// expression default in `information_schema.COLUMNS` (`'` as `\'`, `\` as `\\`).
pub(super) fn unescape_once(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::MysqlDialect;
    use strata_engine::Dialect;

    #[test]
    fn doubled_and_escaped_quotes_are_one_quote() {
        assert_eq!(unquote("'it''s'").as_deref(), Some("it's"));
        assert_eq!(unquote(r"'it\'s'").as_deref(), Some("it's"));
        assert_eq!(unquote("''").as_deref(), Some(""));
    }

    #[test]
    fn escapes_read_as_mysql_reads_them() {
        assert_eq!(unquote(r"'C:\\temp\\new'").as_deref(), Some(r"C:\temp\new"));
        assert_eq!(unquote(r"'a\nb\tc'").as_deref(), Some("a\nb\tc"));
        assert_eq!(unquote(r"'100\%'").as_deref(), Some(r"100\%"));
    }

    #[test]
    fn anything_but_one_whole_literal_is_refused() {
        assert_eq!(unquote("plain"), None);
        assert_eq!(unquote("'open"), None);
        assert_eq!(unquote("'a' 'b'"), None);
        assert_eq!(unquote(r"'a\'"), None);
    }

    #[test]
    fn what_the_dialect_quotes_reads_back_as_itself() {
        let dialect = MysqlDialect::mysql();
        for s in [
            "it's",
            r"C:\temp\new",
            "a; DROP TABLE x",
            "x -- y /* z",
            "héllo ✓ 日本",
            "\\'",
            "",
        ] {
            assert_eq!(
                unquote(&dialect.quote_string(s)).as_deref(),
                Some(s),
                "{s:?}"
            );
        }
    }

    #[test]
    fn introducers_are_skipped() {
        assert_eq!(unquote_introduced("_utf8mb4'x'").as_deref(), Some("x"));
        assert_eq!(unquote_introduced("'x'").as_deref(), Some("x"));
        assert_eq!(unquote_introduced("_'x'"), None);
        assert_eq!(unquote_introduced("_a b'x'"), None);
    }

    /// MySQL 8.4 shows `DEFAULT ('it''s')` as `_utf8mb4\'it\\\'s\'`.
    #[test]
    fn mysqls_expression_layer_comes_off_first() {
        let shown = r"_utf8mb4\'it\\\'s\'";
        assert_eq!(unescape_once(shown), r"_utf8mb4'it\'s'");
        assert_eq!(
            unquote_introduced(&unescape_once(shown)).as_deref(),
            Some("it's")
        );
        let backslash = r"_utf8mb4\'a\\\\b\'";
        assert_eq!(
            unquote_introduced(&unescape_once(backslash)).as_deref(),
            Some(r"a\b")
        );
        let newline = r"_utf8mb4\'line1\\nline2\'";
        assert_eq!(
            unquote_introduced(&unescape_once(newline)).as_deref(),
            Some("line1\nline2")
        );
    }
}
