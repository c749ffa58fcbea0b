//! What only an index's `CREATE INDEX` text knows: the text of each indexed item (for
//! expressions, which `pragma index_xinfo` reports without a name) and the partial
//! index's predicate.

use super::tokens::{group, span, split_top_level, tokenize, top_level, Kind};

/// The parts of a `CREATE INDEX` statement that introspection needs.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct IndexText {
    /// Each indexed item as written (`"name"`, `lower(name)`, `a DESC`), in order.
    pub items: Vec<String>,
    /// The text after `WHERE`, for a partial index.
    pub predicate: Option<String>,
}

/// Reads `CREATE [UNIQUE] INDEX [IF NOT EXISTS] name ON table (items) [WHERE expr]`;
/// anything it does not understand is left out, never an error.
pub(crate) fn parse(sql: &str) -> IndexText {
    let tokens = tokenize(sql);
    let mut text = IndexText::default();
    let top = top_level(&tokens);
    let Some(on) = top.iter().position(|&i| tokens[i].is("ON")) else {
        return text;
    };
    let Some(&open) = top[on..].iter().find(|&&i| tokens[i].kind == Kind::Open) else {
        return text;
    };
    let (items, after) = group(&tokens, open);
    text.items = split_top_level(items)
        .iter()
        .map(|item| span(sql, item).trim().to_string())
        .collect();
    let rest = tokens.get(after..).unwrap_or(&[]);
    if let Some(w) = rest.iter().position(|t| t.is("WHERE")) {
        let predicate = sql.get(rest[w].end..).unwrap_or("").trim();
        let predicate = predicate.trim_end_matches(';').trim_end();
        if !predicate.is_empty() {
            text.predicate = Some(predicate.to_string());
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_items_and_predicate() {
        let text = parse(
            "CREATE UNIQUE INDEX \"on (x)\" ON \"where\" (\"a\", lower(\"b, c\"), d DESC) WHERE \"deleted_at\" IS NULL AND (x = 'WHERE')",
        );
        assert_eq!(text.items, ["\"a\"", "lower(\"b, c\")", "d DESC"]);
        assert_eq!(
            text.predicate.as_deref(),
            Some("\"deleted_at\" IS NULL AND (x = 'WHERE')")
        );
    }

    #[test]
    fn an_index_without_predicate_has_none() {
        let text = parse("create index i on t(a)");
        assert_eq!(text.items, ["a"]);
        assert_eq!(text.predicate, None);
    }

    #[test]
    fn odd_sql_gives_nothing() {
        for sql in [
            "",
            "CREATE INDEX",
            "CREATE INDEX i ON",
            "CREATE INDEX i ON t (",
            "x WHERE",
        ] {
            let text = parse(sql);
            assert!(text.items.is_empty(), "{sql}");
            assert_eq!(text.predicate, None, "{sql}");
        }
        assert_eq!(parse("CREATE INDEX i ON t (a) WHERE").predicate, None);
    }
}
