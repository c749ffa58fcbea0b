//! Identifiers and string literals, safe for any content.

/// `` `name` `` with every backquote doubled: the only character special inside a
/// backquoted identifier (and immune to `ANSI_QUOTES`, which only changes `"`).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `'value'` with quotes doubled and backslashes escaped.
///
/// MySQL reads `\` as an escape character inside strings (unless the session sets
/// `NO_BACKSLASH_ESCAPES`, which the driver clears), so `\` is written `\\`. Quotes
/// are doubled rather than backslash-escaped: `''` means one quote in both modes,
/// so a string can never be closed early, whatever the mode — at worst, under
/// `NO_BACKSLASH_ESCAPES`, a backslash would be stored twice.
pub(super) fn quote_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_backquoted() {
        assert_eq!(quote_ident("order"), "`order`");
        assert_eq!(quote_ident("user"), "`user`");
        assert_eq!(quote_ident("a\"b"), "`a\"b`");
        assert_eq!(quote_ident("é 表"), "`é 表`");
    }

    #[test]
    fn a_backquote_cannot_end_the_identifier() {
        assert_eq!(quote_ident("a`b"), "`a``b`");
        assert_eq!(
            quote_ident("x`; DROP TABLE t; -- "),
            "`x``; DROP TABLE t; -- `"
        );
        assert_eq!(quote_ident("`"), "````");
    }

    #[test]
    fn strings_double_quotes_and_escape_backslashes() {
        assert_eq!(quote_string("it's"), "'it''s'");
        assert_eq!(quote_string(r"C:\path"), r"'C:\\path'");
        assert_eq!(quote_string(""), "''");
    }

    #[test]
    fn a_backslash_cannot_swallow_the_closing_quote() {
        // Unescaped, `\'` would be an escaped quote and the string would run on.
        assert_eq!(quote_string(r"x\"), r"'x\\'");
        assert_eq!(
            quote_string(r"\'; DROP TABLE t; --"),
            r"'\\''; DROP TABLE t; --'"
        );
        assert_eq!(quote_string(r"\\'"), r"'\\\\'''");
    }

    /// Reads a quoted literal back as MySQL does with backslash escapes on, to show
    /// that the whole rendered text is one literal holding exactly the input.
    fn mysql_unquote(sql: &str) -> Option<String> {
        let inner = sql.strip_prefix('\'')?;
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '\'' => match chars.next() {
                    Some('\'') => out.push('\''),
                    None => return Some(out),
                    Some(_) => return None, // the literal ended early: injection
                },
                c => out.push(c),
            }
        }
        None
    }

    #[test]
    fn every_hostile_string_reads_back_as_itself() {
        for s in [
            "plain",
            "'",
            "\\",
            "\\'",
            "'\\",
            "a'' OR 1=1 --",
            "\\\\''\\",
            "end\\",
            "new\nline",
        ] {
            assert_eq!(mysql_unquote(&quote_string(s)).as_deref(), Some(s), "{s:?}");
        }
    }
}
