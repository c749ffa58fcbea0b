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
/// The rule fails closed: what might be a password is hidden, even when that hides
/// more than needed. Passwords are found in
/// - the user info, `scheme://user:password@host`. The password runs from the first
///   `:` after the scheme's slashes to the *last* `@` in the text, because the
///   parsers disagree on where it ends: tokio-postgres reads credentials up to the
///   first `@` anywhere, the `url` crate (and so mysql_async) up to the last `@`
///   before the first `/`, `?` or `#`, and a user who pasted a password with a raw
///   `@`, `/`, `?`, `#` or `:` meant some `@` in between. Only the last one lies past
///   all of them; a `@` later in the query (`application_name=me@laptop`) costs a
///   shorter display, never a secret. Without the `//` (`postgres:user:pw@host`,
///   `postgres:/user:pw@host`), the same; and when such a user info has no `:` at
///   all (`user:pw@host`, where `user` reads as the scheme), all of it is hidden;
/// - a URL without `@` whose "port" is not a number (`postgres://user:pw/db`: the
///   `@` was forgotten, or the password holds a `/`): everything from that `:` on;
/// - parameters whose key names a secret (`password`, `sslpassword`, `passwd`,
///   `pwd`, `pass`, `secret`, `token`), in any case and any `%`-spelling: in a URL's
///   query, up to the next `&`; in a keyword string such as `host=db password='a b'`
///   or `Server=db;Pwd=x`, a `'`- or `"`-quoted value or a word.
pub fn redact(url: &str) -> String {
    apply(url, hidden_ranges(url).0)
}

/// `text` (a message, a log line, a file's lines) with the passwords of the
/// connection strings it quotes replaced by `***`: every `scheme://…` and every
/// `postgres:…`-like text (see [`DATABASE_SCHEMES`]), and every `password=…`-like
/// parameter. A quoted connection string runs to its closing quote; an unquoted one
/// to the next whitespace, or, when it is so malformed that its password cannot be
/// told apart (see [`redact`]), to the end of the line.
pub fn redact_text(text: &str) -> String {
    let mut hidden = secret_parameters(text, ParamStyle::Text);
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.trim_end_matches(['\n', '\r']).len();
        let mut from = line_start;
        while let Some((start, end, quoted)) = next_connection_string(text, from, line_end) {
            let token = &text[start..end];
            let (ranges, to_the_end) = hidden_ranges(token);
            // Text already redacted (`postgres://u:***`) stays as it is.
            let unredacted = to_the_end && apply(token, ranges.clone()) != token;
            hidden.extend(ranges.into_iter().map(|r| start + r.start..start + r.end));
            if unredacted && !quoted {
                hidden.push(end..line_end);
            }
            from = end.max(start + 1);
        }
        line_start += line.len();
    }
    apply(text, hidden)
}

/// Schemes whose URLs are recognized in free text even without `//`
/// (`postgres:user:pw@host`). Any `scheme://` is recognized.
pub const DATABASE_SCHEMES: &[&str] = &["postgres", "postgresql", "mysql", "mariadb", "sqlite"];

/// Why a database URL's `#` is refused: no database URL has a fragment, and a `#`
/// that a user meant as part of a password or name would otherwise be cut off (or,
/// for some parsers, end up in the database name).
pub fn refuse_fragment(url: &str) -> Result<(), String> {
    if url.contains('#') {
        Err(
            "a database URL has no `#fragment`; a `#` in a password or name is written `%23`"
                .to_string(),
        )
    } else {
        Ok(())
    }
}

/// `text` with `hidden` (byte ranges, in any order, overlapping or not) replaced by
/// `***`.
fn apply(text: &str, mut hidden: Vec<Range<usize>>) -> String {
    hidden.sort_by_key(|range| (range.start, range.end));
    let mut out = String::with_capacity(text.len());
    let mut shown_up_to = 0;
    let mut ranges = hidden.into_iter().peekable();
    while let Some(mut range) = ranges.next() {
        // Overlapping or touching secrets are one `***`.
        while let Some(next) = ranges.next_if(|next| next.start <= range.end) {
            range.end = range.end.max(next.end);
        }
        let start = range.start.max(shown_up_to);
        out.push_str(&text[shown_up_to..start]);
        out.push_str(HIDDEN);
        shown_up_to = range.end.max(start);
    }
    out.push_str(&text[shown_up_to..]);
    out
}

/// The secrets of the connection string `url`, and whether one of them had to run
/// to its end because the string could not be read (see [`redact`]).
fn hidden_ranges(url: &str) -> (Vec<Range<usize>>, bool) {
    let style = if scheme_of(url).is_some() || url.starts_with("//") {
        ParamStyle::Url
    } else {
        ParamStyle::Keywords
    };
    let mut hidden = secret_parameters(url, style);
    let mut to_the_end = false;
    if let Some((range, unreadable)) = userinfo_password(url) {
        to_the_end = unreadable;
        hidden.push(range);
    }
    (hidden, to_the_end)
}

/// The start of the next connection string in `text[from..line_end]`, its end, and
/// whether it is quoted.
fn next_connection_string(
    text: &str,
    from: usize,
    line_end: usize,
) -> Option<(usize, usize, bool)> {
    let line = &text[from..line_end];
    let bytes = line.as_bytes();
    let is_scheme_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.');
    for (i, _) in line.match_indices(':') {
        let scheme_start = bytes[..i]
            .iter()
            .rposition(|b| !is_scheme_byte(*b))
            .map_or(0, |p| p + 1);
        if scheme_start == i {
            continue;
        }
        let scheme = &line[scheme_start..i];
        let known = DATABASE_SCHEMES.iter().find(|known| {
            scheme.len() >= known.len()
                && scheme[scheme.len() - known.len()..].eq_ignore_ascii_case(known)
        });
        let start = match known {
            Some(known) => i - known.len(),
            None if line[i..].starts_with("://") => scheme_start,
            None => continue,
        };
        let quote = start
            .checked_sub(1)
            .map(|q| bytes[q])
            .filter(|b| matches!(b, b'"' | b'\'' | b'`'));
        let end = match quote {
            Some(q) => line[start..]
                .find(char::from(q))
                .map_or(line.len(), |e| start + e),
            None => line[start..]
                .find(char::is_whitespace)
                .map_or(line.len(), |e| start + e),
        };
        // Punctuation that ends a sentence is not part of an unquoted URL.
        let end = if quote.is_some() {
            end
        } else {
            start
                + line[start..end]
                    .trim_end_matches([':', ',', ';', '.', ')', '('])
                    .len()
        };
        return Some((from + start, from + end.max(start + 1), quote.is_some()));
    }
    None
}

/// The password of `scheme://user:password@host` (with any number of slashes, or
/// `//user:password@host`), and whether it runs to the end of `url` because the URL
/// cannot be read; see [`redact`].
fn userinfo_password(url: &str) -> Option<(Range<usize>, bool)> {
    let after_scheme = if url.starts_with("//") {
        0
    } else {
        scheme_of(url)?;
        url.find(':')? + 1
    };
    let rest = &url[after_scheme..];
    let slashes = rest.len() - rest.trim_start_matches('/').len();
    let start = after_scheme + slashes;
    let rest = &url[start..];
    if let Some(at) = rest.rfind('@') {
        let at = start + at;
        return match url[start..at].find(':') {
            Some(colon) => Some((start + colon + 1..at, false)),
            // `user:pw@host`: what reads as the scheme was the user.
            None if slashes < 2 && at > start => Some((start..at, false)),
            None => None,
        };
    }
    // No user info: every `host:port` of the authority must have a numeric port.
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let mut offset = start;
    for host in url[start..start + authority_len].split(',') {
        let port_colon = match host.strip_prefix('[') {
            Some(v6) => v6.find(']').and_then(|close| {
                let after = &v6[close + 1..];
                after.starts_with(':').then_some(1 + close + 1)
            }),
            None => host.find(':'),
        };
        if let Some(colon) = port_colon.filter(|&c| c > 0) {
            let port = &host[colon + 1..];
            if !port.bytes().all(|b| b.is_ascii_digit()) {
                return Some((offset + colon + 1..url.len(), true));
            }
        }
        offset += host.len() + 1;
    }
    None
}

/// How a text separates its parameters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ParamStyle {
    /// A URL's query: an unquoted value runs to the next `&`.
    Url,
    /// libpq or ODBC: an unquoted value runs to the next space or `;`.
    Keywords,
    /// Free text (a message, a line of a file): also to a `&` or a backtick, which
    /// end the query parameter or the quoted URL that a message shows.
    Text,
}

/// The values of the secret parameters of `text`; see [`redact`].
fn secret_parameters(text: &str, style: ParamStyle) -> Vec<Range<usize>> {
    let starts_key = |c: char| matches!(c, '?' | '&' | ';' | ',') || c.is_whitespace();
    let key_starts = std::iter::once(0).chain(
        text.char_indices()
            .filter(|(_, c)| starts_key(*c))
            .map(|(i, c)| i + c.len_utf8()),
    );
    key_starts
        .filter_map(|start| {
            let rest = &text[start..];
            let key_end = rest.find(|c: char| c == '=' || starts_key(c))?;
            if !is_secret_key(&rest[..key_end]) {
                return None;
            }
            // `password = 'x'`: spaces around the `=`, as libpq allows.
            let after_key = rest[key_end..].trim_start_matches([' ', '\t']);
            let value = after_key.strip_prefix('=')?.trim_start_matches([' ', '\t']);
            let value_start = text.len() - value.len();
            let value_len = match (value.chars().next(), style) {
                (Some(quote @ ('\'' | '"')), _) => quoted_len(value, quote),
                (_, ParamStyle::Url) => value.find('&').unwrap_or(value.len()),
                (_, ParamStyle::Keywords) => value
                    .find(|c: char| c.is_whitespace() || c == ';')
                    .unwrap_or(value.len()),
                (_, ParamStyle::Text) => value
                    .find(|c: char| c.is_whitespace() || matches!(c, ';' | '&' | '`'))
                    .unwrap_or(value.len()),
            };
            Some(value_start..value_start + value_len)
        })
        .collect()
}

/// Whether a parameter's key names a secret: `password`, `sslpassword`, `PWD`,
/// `db_pass`, `api-token`…, decoded and in any case.
fn is_secret_key(key: &str) -> bool {
    let key: String = percent_decode_str(key.trim())
        .decode_utf8_lossy()
        .chars()
        .filter(|c| !matches!(c, '-' | '_'))
        .collect::<String>()
        .to_ascii_lowercase();
    ["password", "passwd", "pwd", "pass", "secret", "token"]
        .iter()
        .any(|word| key.ends_with(word))
}

/// The length of a value quoted with `quote` (with `\` escapes), closing quote
/// included; all of `value` when the quote is never closed.
fn quoted_len(value: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in value.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == quote => return i + c.len_utf8(),
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

    /// Forms no parser reads as the user meant: the rule fails closed and hides what
    /// might be the password, even if that hides more.
    #[test]
    fn malformed_urls_fail_closed() {
        let secret = "Zq8";
        for (url, shown) in [
            // No `//`, or one `/`.
            (
                format!("postgres:user:{secret}@host/db"),
                "postgres:user:***@host/db",
            ),
            (
                format!("postgres:/user:{secret}@host"),
                "postgres:/user:***@host",
            ),
            // No scheme at all: `user` reads as the scheme, so all the user info goes.
            (format!("user:{secret}@host/db"), "user:***@host/db"),
            (format!("postgres:{secret}@host/db"), "postgres:***@host/db"),
            // The `@` forgotten, or a `/` or `#` in a password without one.
            (format!("postgres://user:{secret}"), "postgres://user:***"),
            (
                format!("postgres://user:{secret}/db"),
                "postgres://user:***",
            ),
            (format!("mysql://user:{secret}#x/db"), "mysql://user:***"),
            (
                format!("postgres://h:5432,user:{secret}/db"),
                "postgres://h:5432,user:***",
            ),
            // SQLite URLs with user info.
            (
                format!("sqlite://user:{secret}@/path/db"),
                "sqlite://user:***@/path/db",
            ),
            (format!("sqlite:user:{secret}@db"), "sqlite:user:***@db"),
            // Keyword strings: libpq, double quotes, ODBC.
            (
                format!("host=db password=\"a {secret}\" user=x"),
                "host=db password=*** user=x",
            ),
            (
                format!("Server=db;Uid=u;Pwd={secret};"),
                "Server=db;Uid=u;Pwd=***;",
            ),
            (format!("host=db db_pass={secret}"), "host=db db_pass=***"),
            (
                format!("postgres:host=db password={secret}"),
                "postgres:host=db password=***",
            ),
            (
                format!("host=db password='{secret}"),
                "host=db password=***",
            ),
        ] {
            assert_eq!(redact(&url), shown, "{url}");
        }
    }

    #[test]
    fn well_formed_parts_are_kept() {
        for url in [
            "postgres://h1:5432,h2:5433/db",
            "postgres://[::1]:5432/db",
            "postgres://user@host:/db",
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite:///C:/data/db.sqlite3",
            "mysql://root@127.0.0.1:3306/app?ssl-mode=REQUIRED&sslkey=/k.pem",
            "data/db:v2.sqlite3",
            "/tmp/plain path.db",
        ] {
            assert_eq!(redact(url), url);
        }
    }

    /// What `redact` shows, `redact_text` keeps: messages and logs pass through it
    /// again as a safety net.
    #[test]
    fn redaction_is_idempotent_and_text_redaction_agrees() {
        for url in [
            "postgres://app:s3cret@db:5432/app?sslmode=require",
            "mysql://root@db/x?password=pw&a=b",
            "postgres://u:pw",
            "postgres:user:pw@host/db",
            "host=db password='a b' user=x",
            "postgres://u:@db/app",
        ] {
            let once = redact(url);
            assert_eq!(redact(&once), once, "{url}");
            let message = format!("invalid database URL `{once}`: it is wrong");
            assert_eq!(redact_text(&message), message, "{url}");
            let message = format!("cannot connect to {once}: refused (os error 111)");
            assert_eq!(redact_text(&message), message, "{url}");
        }
    }

    #[test]
    fn connection_strings_are_found_in_text() {
        let secret = "Zq8";
        for text in [
            // A strata.toml line, as a syntax error's snippet shows it.
            format!("url = \"postgres://app:{secret}@db/app\""),
            format!("url = 'mysql://app:{secret} with space@db/app'"),
            format!("url = \"postgres:app:{secret}@db/app"),
            format!("url = \"host=db password={secret}\""),
            format!("password = \"{secret}\""),
            // A log line, coloured.
            format!("\u{1b}[3murl\u{1b}[0m\u{1b}[2m=\u{1b}[0mpostgres://u:{secret}@h/db"),
            // An unquoted malformed URL with a space: hidden to the end of the line.
            format!("cannot connect to postgres://u:my {secret}@h (refused)"),
            format!("error: sqlite://user:{secret}@/x.db: unable to open"),
            format!("first line\nsecond MySQL://u:{secret}@h/db\nthird"),
            format!("see jdbc:postgresql://h/db?user=u&password={secret}&ssl=true"),
        ] {
            let shown = redact_text(&text);
            assert!(!shown.contains(secret), "{text:?} → {shown:?}");
            assert!(shown.contains(HIDDEN), "{text:?} → {shown:?}");
        }
        assert_eq!(
            redact_text("first line\nsecond mysql://u:x@h/db\nthird"),
            "first line\nsecond mysql://u:***@h/db\nthird"
        );
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for text in [
            "apps/jobs/migrations/0001_initial.toml:3:5: unknown field `kind`",
            "ERROR 1045 (28000): Access denied for user 'root'@'127.0.0.1' (using password: YES)",
            "postgres: the server said no",
            "see https://example.com/docs#section for more",
            "CREATE TABLE \"a:b\" (x int)",
            "",
        ] {
            assert_eq!(redact_text(text), text);
        }
    }

    #[test]
    fn fragments_are_refused() {
        assert!(refuse_fragment("postgres://h/db").is_ok());
        let reason = refuse_fragment("postgres://h/db#x").unwrap_err();
        assert!(reason.contains("%23"), "{reason}");
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
