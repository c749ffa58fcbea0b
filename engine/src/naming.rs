//! Deterministic names for indexes and constraints, within a length limit.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// The shortest identifier limit of the built-in dialects (PostgreSQL: 63 bytes), so
/// a generated name is valid on every database the migration may run on.
pub const PORTABLE_IDENTIFIER_LEN: usize = 63;

/// `name` if it fits in `max_len` bytes; otherwise a prefix of it and an 8-hex-digit
/// hash of the whole name, so distinct long names stay distinct and the same name
/// always shortens the same way.
pub fn fit_identifier(name: &str, max_len: usize) -> String {
    if name.len() <= max_len {
        return name.to_string();
    }
    let hash = short_hash(name);
    let mut keep = max_len.saturating_sub(hash.len() + 1);
    while !name.is_char_boundary(keep) {
        keep -= 1;
    }
    format!("{}_{hash}", &name[..keep])
}

/// A name like Django's: `<table>_<col1>_<col2>_<suffix>`, fitted to the portable limit.
pub fn generated_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = table.to_string();
    for c in columns {
        name.push('_');
        name.push_str(c);
    }
    name.push('_');
    name.push_str(suffix);
    fit_identifier(&name, PORTABLE_IDENTIFIER_LEN)
}

/// An index's generated name: [`generated_name`] over its columns, then the columns
/// its expressions name, with `expr_` before the suffix when it has expressions (so
/// `lower(email)` does not take the name of a plain index on `email`).
pub fn index_name(table: &str, index: &crate::ast::IndexDef) -> String {
    let mut words = index.columns.clone();
    for e in &index.expressions {
        if let Ok(parsed) = crate::expr::parse(e, None) {
            words.extend(
                crate::expr::columns(&parsed)
                    .into_iter()
                    .map(str::to_string),
            );
        }
    }
    let suffix = match (index.expressions.is_empty(), index.unique) {
        (true, true) => "uniq",
        (true, false) => "idx",
        (false, true) => "expr_uniq",
        (false, false) => "expr_idx",
    };
    generated_name(table, &words, suffix)
}

/// An operator class name as written unquoted in SQL: `varchar_pattern_ops`,
/// `public.my_ops`.
pub fn is_plain_name(name: &str) -> bool {
    let part = |p: &str| {
        p.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let mut parts = name.split('.');
    let count = name.split('.').count();
    count <= 2 && parts.all(part)
}

fn short_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(8);
    for b in &digest[..4] {
        // `write!` into a `String` cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(fit_identifier("idx_a", 63), "idx_a");
    }

    #[test]
    fn long_names_are_shortened_deterministically_and_distinctly() {
        let a = "a".repeat(70) + "_one";
        let b = "a".repeat(70) + "_two";
        let fa = fit_identifier(&a, 63);
        assert_eq!(fa.len(), 63);
        assert_eq!(fa, fit_identifier(&a, 63));
        assert_ne!(fa, fit_identifier(&b, 63));
        assert!(fit_identifier(&a, 64).len() <= 64);
    }

    #[test]
    fn multibyte_names_are_cut_on_a_character_boundary() {
        let name = "é".repeat(40);
        let fitted = fit_identifier(&name, 63);
        assert!(fitted.len() <= 63);
    }

    #[test]
    fn generated_names_read_like_django() {
        assert_eq!(
            generated_name("tracker_transaction", &["user_id".into()], "idx"),
            "tracker_transaction_user_id_idx"
        );
    }
}
