//! The tenants file: one database URL a line; blank lines and `#` comments are
//! skipped. Every URL is checked (a known scheme, one word, not listed twice) before
//! anything connects, and a bad line is named by `file:line`.

use std::collections::HashMap;
use std::path::Path;

use strata_engine::dialect::driver::redact_url;
use strata_engine::dialect::url::redact_text;
use strata_engine::dialect::Registry;
use strata_engine::project::Origin;

use crate::context::Context;
use crate::error::CliError;

/// One database of the fleet.
#[derive(Debug, Clone)]
pub(crate) struct Tenant {
    /// Its line in the tenants file (1-based).
    pub line: usize,
    /// The URL as written: never shown (it may hold a password).
    pub url: String,
    /// The URL with its secrets hidden: what output and the report name it by.
    pub shown: String,
}

/// Reads and checks the tenants file at `path`. `--database` names one database,
/// which a fleet would ignore: refused rather than silently dropped. (clap's own
/// conflict does not see the global flag when it is written before the command.)
pub(crate) fn read(path: &Path, ctx: &Context) -> Result<Vec<Tenant>, CliError> {
    if let Origin::Flag(flag) = ctx.project.origins.of("database.url") {
        return Err(CliError::Usage(format!(
            "{flag} names one database and --tenants a fleet: give one of them"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::Usage(format!(
            "{}: cannot read the tenants file: {e}",
            path.display()
        ))
    })?;
    parse(&text, &path.display().to_string(), &ctx.registry)
}

/// The tenants listed in `text`, read from `file` (for messages).
pub(crate) fn parse(text: &str, file: &str, registry: &Registry) -> Result<Vec<Tenant>, CliError> {
    let mut tenants: Vec<Tenant> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    // A byte order mark (as some Windows editors write) is no part of the first URL;
    // `lines` already takes CRLF line ends.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let url = raw.trim();
        if url.is_empty() || url.starts_with('#') {
            continue;
        }
        let bad = |why: String| CliError::Usage(format!("{file}:{line}: {why}"));
        if url.split_whitespace().nth(1).is_some() {
            return Err(bad(format!(
                "`{}`: one database URL a line, without spaces (a space in a password is written %20)",
                redact_text(url)
            )));
        }
        if let Err(e) = registry.for_url(url) {
            return Err(bad(redact_text(&e.to_string())));
        }
        if let Some(first) = seen.insert(url, line) {
            return Err(bad(format!(
                "{} is listed twice (first on line {first}): each tenant is migrated once",
                redact_url(url)
            )));
        }
        tenants.push(Tenant {
            line,
            url: url.to_string(),
            shown: redact_url(url),
        });
    }
    if tenants.is_empty() {
        return Err(CliError::Usage(format!(
            "{file}: no tenants: list one database URL a line"
        )));
    }
    Ok(tenants)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<Tenant>, String> {
        parse(text, "tenants.txt", &strata::backends()).map_err(|e| e.to_string())
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_and_lines_are_counted() {
        let tenants = parsed(
            "# the fleet\n\nsqlite://a.db\n  mysql://u:secret@h/t1  \n# off: sqlite://c.db\n",
        )
        .unwrap();
        let lines: Vec<usize> = tenants.iter().map(|t| t.line).collect();
        assert_eq!(lines, vec![3, 4]);
        assert_eq!(tenants[1].url, "mysql://u:secret@h/t1");
        assert!(!tenants[1].shown.contains("secret"), "{}", tenants[1].shown);
    }

    #[test]
    fn a_duplicate_is_refused_with_both_lines() {
        let e = parsed("sqlite://a.db\nsqlite://b.db\nsqlite://a.db\n").unwrap_err();
        assert!(e.starts_with("tenants.txt:3: "), "{e}");
        assert!(e.contains("first on line 1"), "{e}");
    }

    #[test]
    fn an_unknown_scheme_or_a_second_word_is_refused_without_the_password() {
        let e = parsed("sqlite://a.db\nredis://u:hunter2@h/0\n").unwrap_err();
        assert!(e.starts_with("tenants.txt:2: "), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = parsed("mysql://u:hunter2@h/a mysql://u@h/b\n").unwrap_err();
        assert!(e.starts_with("tenants.txt:1: "), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn a_byte_order_mark_and_crlf_line_ends_are_no_part_of_the_urls() {
        let tenants = parsed("\u{feff}sqlite://a.db\r\n# c\r\nsqlite://b.db\r\n").unwrap();
        let urls: Vec<(usize, &str)> = tenants.iter().map(|t| (t.line, t.url.as_str())).collect();
        assert_eq!(urls, vec![(1, "sqlite://a.db"), (3, "sqlite://b.db")]);
    }

    #[test]
    fn a_file_without_tenants_is_refused() {
        let e = parsed("# nothing yet\n\n").unwrap_err();
        assert!(e.contains("no tenants"), "{e}");
    }
}
