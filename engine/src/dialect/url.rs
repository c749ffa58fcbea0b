//! Database URLs, the parts every backend reads the same way: `%`-escapes, query
//! parameters, and [`redact`], which keeps passwords out of messages and logs.
//!
//! Each driver still parses its own URLs with its library (tokio-postgres, mysql_async,
//! a path for SQLite); this module only holds what they would otherwise each write.

use std::borrow::Cow;
use std::ops::Range;

use percent_encoding::percent_decode_str;

use super::registry::scheme_of;

/// What a redacted secret is shown as.
const HIDDEN: &str = "***";

/// Why a `%`-encoded text does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("invalid percent-encoding in `{0}`")]
    Malformed(String),
    #[error("`{0}` does not decode to UTF-8")]
    NotUtf8(String),
}

/// Decodes `%XX` escapes. Stricter than `percent_encoding`'s decoder, which keeps a
/// `%` that starts no escape as it is: in a database URL, `%zz` is a mistake to
/// report, not a file or certificate to look for. A `+` stays a `+`: database URLs
/// are not form-encoded.
pub fn percent_decode(text: &str) -> Result<String, DecodeError> {
    let bytes = text.as_bytes();
    let well_formed = bytes
        .iter()
        .enumerate()
        .filter(|(_, byte)| **byte == b'%')
        .all(|(i, _)| {
            bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
        });
    if !well_formed {
        return Err(DecodeError::Malformed(text.to_string()));
    }
    percent_decode_str(text)
        .decode_utf8()
        .map(Cow::into_owned)
        .map_err(|_| DecodeError::NotUtf8(text.to_string()))
}

/// One `key=value` pair of a query, as written (still `%`-encoded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueryParam<'a> {
    /// The whole pair, to hand on to a library unchanged.
    pub pair: &'a str,
    pub key: &'a str,
    /// Empty when the pair has no `=`.
    pub value: &'a str,
}

/// `url` split at its first `?`: what comes before, and the query's non-empty pairs.
pub fn split_query(url: &str) -> (&str, impl Iterator<Item = QueryParam<'_>>) {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let params = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            QueryParam { pair, key, value }
        });
    (base, params)
}

/// `base` with `pairs` as its query; no `?` when there are none.
pub fn join_query(base: &str, pairs: &[&str]) -> String {
    if pairs.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", pairs.join("&"))
    }
}

/// `url` with every password replaced by `***`, for messages and logs; the rest is
/// left exactly as written. Works on any text, URL or not, and never fails.
///
/// Two places hold passwords:
/// - the user info, `scheme://user:password@host`. The password runs from the first
///   `:` after `//` to the *last* `@` in the text, because the parsers disagree on
///   where it ends: tokio-postgres reads credentials up to the first `@` anywhere,
///   the `url` crate (and so mysql_async) up to the last `@` before the first `/`,
///   `?` or `#`, and a user who pasted a password with a raw `@`, `/`, `?`, `#` or
///   `:` meant some `@` in between. Only the last one lies past all of them; a `@`
///   later in the query (`application_name=me@laptop`) costs a shorter display,
///   never a secret;
/// - parameters whose key ends in `password` (`password`, libpq's `sslpassword`), in
///   any case and any `%`-spelling: in a URL's query, up to the next `&`; in a
///   keyword string such as `host=db password='a b'` (no scheme), a word or a quoted
///   value.
pub fn redact(url: &str) -> String {
    let mut hidden = password_parameters(url);
    hidden.extend(userinfo_password(url));
    hidden.sort_by_key(|range| (range.start, range.end));
    let mut out = String::with_capacity(url.len());
    let mut shown_up_to = 0;
    let mut ranges = hidden.into_iter().peekable();
    while let Some(mut range) = ranges.next() {
        // Overlapping or touching secrets are one `***`.
        while let Some(next) = ranges.next_if(|next| next.start <= range.end) {
            range.end = range.end.max(next.end);
        }
        let start = range.start.max(shown_up_to);
        out.push_str(&url[shown_up_to..start]);
        out.push_str(HIDDEN);
        shown_up_to = range.end.max(start);
    }
    out.push_str(&url[shown_up_to..]);
    out
}

/// The password of `scheme://user:password@host` (or of `//user:password@host`).
fn userinfo_password(url: &str) -> Option<Range<usize>> {
    let start = match url.find("://") {
        Some(i) => i + "://".len(),
        None if url.starts_with("//") => "//".len(),
        None => return None,
    };
    let at = start + url[start..].rfind('@')?;
    let colon = start + url[start..at].find(':')?;
    Some(colon + 1..at)
}

/// The values of the password parameters of `text`; see [`redact`].
fn password_parameters(text: &str) -> Vec<Range<usize>> {
    let keywords = scheme_of(text).is_none();
    let starts_key = |c: char| matches!(c, '?' | '&') || (keywords && c.is_whitespace());
    let key_starts = std::iter::once(0).chain(
        text.char_indices()
            .filter(|(_, c)| starts_key(*c))
            .map(|(i, c)| i + c.len_utf8()),
    );
    key_starts
        .filter_map(|start| {
            let rest = &text[start..];
            let key_end = rest.find(|c: char| c == '=' || starts_key(c))?;
            let after_key = rest[key_end..].trim_start();
            let value = after_key.strip_prefix('=')?;
            let value = if keywords { value.trim_start() } else { value };
            if !is_password_key(&rest[..key_end]) {
                return None;
            }
            let value_start = text.len() - value.len();
            let value_len = if keywords {
                keyword_value_len(value)
            } else {
                value.find('&').unwrap_or(value.len())
            };
            Some(value_start..value_start + value_len)
        })
        .collect()
}

fn is_password_key(key: &str) -> bool {
    percent_decode_str(key.trim())
        .decode_utf8_lossy()
        .to_ascii_lowercase()
        .ends_with("password")
}

/// The length of a libpq keyword value: a `'`-quoted string (with `\` escapes), or a
/// word.
fn keyword_value_len(value: &str) -> usize {
    let Some(quoted) = value.strip_prefix('\'') else {
        return value.find(char::is_whitespace).unwrap_or(value.len());
    };
    let mut escaped = false;
    for (i, c) in quoted.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '\'' => return 1 + i + 1,
            _ => {}
        }
    }
    value.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_survive_redaction() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/app?sslmode=require"),
            "postgres://app:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            redact("mysql://root@localhost/x?password=pw&a=b"),
            "mysql://root@localhost/x?password=***&a=b"
        );
        assert_eq!(redact("sqlite://db.sqlite3"), "sqlite://db.sqlite3");
        assert_eq!(
            redact("postgres://a:b@c:d@host/db"),
            "postgres://a:***@host/db"
        );
    }

    /// Every way an attacker (or an unlucky user) may spell a URL: the secret must
    /// not show, raw, `%`-encoded or decoded.
    #[test]
    fn no_spelling_of_a_password_survives_redaction() {
        let secret = "Zq8";
        let cases = [
            // Special characters in the password, raw…
            format!("postgres://app:{secret}@x@db/app"),
            format!("postgres://app:{secret}/x@db/app"),
            format!("postgres://app:{secret}?x@db/app"),
            format!("postgres://app:{secret}#x@db/app"),
            format!("postgres://app:{secret}:x@db/app"),
            format!("mysql://app:{secret}@/?#:x@db:3306/app?ssl-mode=REQUIRED"),
            // …where the `url` crate reads a port and no password at all…
            format!("postgres://app:5432/{secret}@db/app"),
            // …and `%`-encoded.
            format!("postgres://app:{secret}%40%2F%3F%23%3A@db/app"),
            format!("mysql://app:%40{secret}%3A@db/app"),
            // In the query, in any case and any spelling.
            format!("mysql://root@db/x?password={secret}&a=b"),
            format!("mysql://root@db/x?a=b&PASSWORD={secret}"),
            format!("mysql://root@db/x?Password={secret}@x"),
            format!("postgres://db/x?pass%77ord={secret}"),
            format!("postgres://db/x?%50ASSWORD={secret}&sslmode=require"),
            format!("postgres://db/x?sslpassword={secret}"),
            format!("postgres://db/x?password={secret}#frag&email=a@b"),
            format!("postgres://db/x?password={secret}&email=a@b"),
            format!("postgres://app:{secret}@db/x?password={secret}@x&a=b"),
            // Text no URL parser accepts.
            format!("postgres://app:{secret}@[::1/x"),
            format!("postgres://app:{secret}@db:notaport/x"),
            format!("//app:{secret}@db/app"),
            format!("host=db user=app password={secret} sslmode=require"),
            format!("host=db password = '{secret} with spaces\\' and quotes' user=app"),
            format!("host=db PassWord={secret}"),
            format!("sqlite:db?password={secret}"),
        ];
        for url in cases {
            let shown = redact(&url);
            assert!(!shown.contains(secret), "{url} → {shown}");
            assert!(shown.contains(HIDDEN), "{url} → {shown}");
        }
    }

    #[test]
    fn redaction_keeps_the_rest_of_the_url() {
        for (url, shown) in [
            ("postgres://u:@db/app", "postgres://u:***@db/app"),
            ("postgres://u@db/app", "postgres://u@db/app"),
            ("postgres://u:p%40ss@db/app", "postgres://u:***@db/app"),
            (
                "mysql://root@db/x?password=&a=b",
                "mysql://root@db/x?password=***&a=b",
            ),
            (
                "POSTGRES://U:p@DB/App?SslMode=require",
                "POSTGRES://U:***@DB/App?SslMode=require",
            ),
            (
                "postgres://db/app?passwordless=1",
                "postgres://db/app?passwordless=1",
            ),
            ("sqlite::memory:", "sqlite::memory:"),
            (
                "sqlite:///var/lib/db.sqlite3",
                "sqlite:///var/lib/db.sqlite3",
            ),
            (
                "host=db password=x user=app",
                "host=db password=*** user=app",
            ),
            ("", ""),
        ] {
            assert_eq!(redact(url), shown, "{url}");
        }
    }

    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode("a%20b+c").as_deref(), Ok("a b+c"));
        assert_eq!(percent_decode("%2Fetc%2fca").as_deref(), Ok("/etc/ca"));
        assert_eq!(percent_decode("plain").as_deref(), Ok("plain"));
        for bad in ["%zz", "a%2", "%", "%+1", "%é0"] {
            assert_eq!(
                percent_decode(bad),
                Err(DecodeError::Malformed(bad.to_string())),
                "{bad}"
            );
        }
        assert_eq!(
            percent_decode("%FF"),
            Err(DecodeError::NotUtf8("%FF".to_string()))
        );
    }

    #[test]
    fn queries_split_into_pairs() {
        let (base, params) = split_query("mysql://h/db?a=1&&b&c=x=y");
        let params: Vec<_> = params.map(|p| (p.pair, p.key, p.value)).collect();
        assert_eq!(base, "mysql://h/db");
        assert_eq!(
            params,
            [("a=1", "a", "1"), ("b", "b", ""), ("c=x=y", "c", "x=y")]
        );
        assert_eq!(split_query("mysql://h/db").1.count(), 0);
        assert_eq!(
            join_query("mysql://h/db", &["a=1", "b"]),
            "mysql://h/db?a=1&b"
        );
        assert_eq!(join_query("mysql://h/db", &[]), "mysql://h/db");
    }
}
