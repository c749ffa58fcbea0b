use super::*;

/// Renders as the engine's default (PostgreSQL-like) dialect does.
struct Standard;

impl ExprStyle for Standard {
    fn ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
    fn string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }
    fn boolean(&self, value: bool) -> String {
        if value { "TRUE" } else { "FALSE" }.into()
    }
    fn function(&self, f: Function) -> String {
        f.name().to_string()
    }
}

const COLUMNS: &[&str] = &["amount", "status", "name", "deleted_at", "qty", "order"];

fn scope() -> Scope<'static> {
    Scope {
        table: "shop_item",
        columns: COLUMNS,
    }
}

fn sql(text: &str) -> String {
    match parse(text, Some(&scope())) {
        Ok(e) => render(&e, &Standard),
        Err(e) => panic!("{text:?} refused: {e}"),
    }
}

fn refused(text: &str) -> ExprError {
    match parse(text, Some(&scope())) {
        Ok(e) => panic!("{text:?} accepted as {e:?}"),
        Err(e) => e,
    }
}

/// Accepted forms and how the standard style writes them: every column quoted,
/// every compound operand parenthesised.
const ACCEPTED: &[(&str, &str)] = &[
    ("amount > 0", "\"amount\" > 0"),
    ("amount <> 0", "\"amount\" <> 0"),
    ("amount != 0", "\"amount\" <> 0"),
    ("shop_item.amount >= 0", "\"amount\" >= 0"),
    ("\"order\" < 10", "\"order\" < 10"),
    ("`qty` = 1", "\"qty\" = 1"),
    (
        "amount > 0 AND qty > 0",
        "(\"amount\" > 0) AND (\"qty\" > 0)",
    ),
    (
        "NOT (amount < 0 OR qty < 0)",
        "NOT ((\"amount\" < 0) OR (\"qty\" < 0))",
    ),
    ("deleted_at IS NULL", "\"deleted_at\" IS NULL"),
    ("deleted_at IS NOT NULL", "\"deleted_at\" IS NOT NULL"),
    ("qty BETWEEN 1 AND 10", "\"qty\" BETWEEN 1 AND 10"),
    (
        "qty NOT BETWEEN -1 AND 1.5",
        "\"qty\" NOT BETWEEN (-1) AND 1.5",
    ),
    ("status IN ('a', 'b')", "\"status\" IN ('a', 'b')"),
    (
        "status NOT IN ('it''s', 'x')",
        "\"status\" NOT IN ('it''s', 'x')",
    ),
    ("qty IN (-1, 2)", "\"qty\" IN (-1, 2)"),
    ("name LIKE 'a%'", "\"name\" LIKE 'a%'"),
    ("name NOT LIKE '%x'", "\"name\" NOT LIKE '%x'"),
    (
        "amount * 2 + qty % 3 - 1 / 2 > 0",
        "(((\"amount\" * 2) + (\"qty\" % 3)) - (1 / 2)) > 0",
    ),
    ("lower(name) = name", "lower(\"name\") = \"name\""),
    ("UPPER(name) <> ''", "upper(\"name\") <> ''"),
    ("length(trim(name)) > 0", "length(trim(\"name\")) > 0"),
    ("abs(qty) < 100", "abs(\"qty\") < 100"),
    ("coalesce(qty, 0) >= 0", "coalesce(\"qty\", 0) >= 0"),
    (
        "nullif(name, '') IS NOT NULL",
        "nullif(\"name\", '') IS NOT NULL",
    ),
    (
        "CASE WHEN status = 'x' THEN qty > 0 ELSE true END",
        "CASE WHEN \"status\" = 'x' THEN \"qty\" > 0 ELSE TRUE END",
    ),
    (
        "CASE status WHEN 'a' THEN 1 END = 1",
        "CASE \"status\" WHEN 'a' THEN 1 END = 1",
    ),
    ("((qty)) > 1e3", "((\"qty\")) > 1e3"),
    ("qty = NULL OR false", "(\"qty\" = NULL) OR FALSE"),
    (
        "name = 'semi;colon -- /* not a comment */'",
        "\"name\" = 'semi;colon -- /* not a comment */'",
    ),
    ("name = 'back\\slash'", "\"name\" = 'back\\slash'"),
    ("-qty < +1", "(-\"qty\") < 1"),
];

#[test]
fn accepted_forms_render_with_quoted_columns() {
    let mut wrong = Vec::new();
    for (text, want) in ACCEPTED {
        let got = sql(text);
        if got != *want {
            wrong.push(format!("{text}\n  want {want}\n  got  {got}"));
        }
        // What strata writes parses again to the same tree.
        let again = parse(&got, Some(&scope())).unwrap_or_else(|e| panic!("{got}: {e}"));
        assert_eq!(render(&again, &Standard), got, "{text}");
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Refused forms and a word the message must contain.
const REFUSED: &[(&str, &str)] = &[
    (
        "a > 0)); DROP TABLE tracker_victim; CREATE TABLE zz (q int CHECK (1=1",
        "`;` is not allowed",
    ),
    ("a > 0)) OR (1=1", "after the end of the expression"),
    ("amount > 0; DROP TABLE x", "`;` is not allowed"),
    ("amount > 0;", "`;` is not allowed"),
    ("amount > 0 -- comment", "comments"),
    ("amount /* c */ > 0", "comments"),
    ("amount > (SELECT max(qty) FROM other)", "subquery"),
    ("amount IN (SELECT qty FROM other)", "subquery"),
    ("EXISTS (SELECT 1 FROM other)", "EXISTS"),
    ("other.amount > 0", "names table `other`"),
    ("public.shop_item.amount > 0", "another schema or table"),
    ("amout > 0", "did you mean `amount`"),
    ("zzz > 0", "unknown column `zzz`"),
    ("\"Amount\" > 0", "unknown column `Amount`"),
    (
        "pg_sleep(10) IS NULL",
        "the function `pg_sleep` is not allowed",
    ),
    ("sleep(5) = 0", "not allowed"),
    ("lower(name, name) = ''", "takes 1 argument"),
    ("nullif(name) IS NULL", "takes 2 argument"),
    ("amount > 0, qty > 0", "after the end of the expression"),
    ("amount > 0 qty > 0", "after the end"),
    ("", "empty"),
    ("   ", "empty"),
    ("name = 'unterminated", "cannot read the expression"),
    ("amount > ?", "placeholders"),
    ("amount > $1", "placeholders"),
    ("name || 'x' = 'y'", "`||`"),
    ("CAST(amount AS int) > 0", "a cast"),
    ("name ILIKE 'a%'", "pattern match"),
    ("name LIKE 'a%' ESCAPE '!'", "ESCAPE"),
    ("status IN (name, 'x')", "list of literals"),
    ("amount > 0x10", "the literal"),
    ("E'\\x41' = name", "not allowed"),
    ("user > 0", "keyword here, not a column"),
    ("current_date > 0", "keyword here"),
    ("count(*) > 0", "the function `count` is not allowed"),
    ("lower(DISTINCT name) = ''", "must be called"),
    ("amount & 1 = 0", "the operator `&` is not allowed"),
    ("amount > (", "not a valid expression"),
    ("shop_item.* IS NULL", "after the end"),
];

#[test]
fn refused_forms_say_what_was_refused() {
    let mut wrong = Vec::new();
    for (text, word) in REFUSED {
        match parse(text, Some(&scope())) {
            Ok(e) => wrong.push(format!("{text}: accepted as {e:?}")),
            Err(e) if !e.message.contains(word) => {
                wrong.push(format!("{text}: message `{}` lacks `{word}`", e.message));
            }
            Err(e) => {
                // The place, when known, is inside the text.
                assert!(e.offset.is_none_or(|o| o <= text.len()), "{text}: {e:?}");
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn errors_point_at_the_offending_part() {
    let e = refused("amount > 0; DROP TABLE x");
    assert_eq!(e.offset, Some(10));
    let e = refused("qty > 0 AND amout > 0");
    assert_eq!(e.offset, Some(12));
    let e = refused("qty > 0 AND\n  other.qty > 0");
    assert_eq!(e.offset, Some(14));
    let e = refused("qty > 0 AND pg_sleep(1) = 0");
    assert_eq!(e.offset, Some(12));
}

#[test]
fn huge_and_deep_input_is_refused_without_overflowing() {
    let long = format!("qty > {}", "1".repeat(MAX_LEN));
    assert!(refused(&long).message.contains("bytes long"));
    let deep = format!("{}qty{} > 0", "(".repeat(500), ")".repeat(500));
    assert!(
        refused(&deep).message.contains("nested too deeply"),
        "{}",
        refused(&deep)
    );
    // A long flat chain nests left-deep in the tree: bounded too.
    let chain = format!("qty{} > 0", " + 1".repeat(300));
    assert!(refused(&chain).message.contains("nested too deeply"));
    let fine = format!("qty{} > 0", " + 1".repeat(20));
    assert!(parse(&fine, Some(&scope())).is_ok());
}

#[test]
fn refused_text_is_not_echoed_whole() {
    let text = format!("amount > 0 AND zz{} > 0", "z".repeat(500));
    let e = refused(&text);
    assert!(e.message.len() < 300, "{}", e.message.len());
}

#[test]
fn without_a_scope_only_the_form_is_checked() {
    assert!(parse("anything > 0 AND t.other < 1", None).is_ok());
    assert!(parse("anything > 0; DROP TABLE t", None).is_err());
    assert!(parse("x IN (SELECT 1)", None).is_err());
}

#[test]
fn columns_lists_each_column_once() {
    let e = parse("qty > 0 AND (qty < amount OR name IS NULL)", Some(&scope())).unwrap();
    assert_eq!(columns(&e), vec!["qty", "amount", "name"]);
}

#[test]
fn numbers_are_plain_decimal_literals() {
    for n in ["0", "12", "1.5", ".5", "5.", "1e3", "2.5E-3"] {
        assert!(convert_is_number(n), "{n}");
    }
    for n in ["", ".", "1e", "1x", "e5", "1.2.3"] {
        assert!(!convert_is_number(n), "{n}");
    }
}

fn convert_is_number(n: &str) -> bool {
    convert::is_number(n)
}

#[test]
fn postgres_spelling_reads_back_as_the_neutral_form() {
    let cases = [
        (
            "a > 0 AND lower(name::text) <> 'x'::text",
            "(a > 0) AND (lower(\"name\") <> 'x')",
        ),
        (
            "a >= 1 AND a <= 9 OR name::text ~~ 'z%'::text",
            "((a >= 1) AND (a <= 9)) OR (\"name\" LIKE 'z%')",
        ),
        (
            "status::text = ANY (ARRAY['a'::character varying, 'b'::character varying]::text[])",
            "\"status\" IN ('a', 'b')",
        ),
        ("(\"order\" > 0)", "(\"order\" > 0)"),
        ("deleted_at IS NULL", "deleted_at IS NULL"),
    ];
    for (server, neutral) in cases {
        assert_eq!(from_postgres(server).as_deref(), Some(neutral), "{server}");
        // What it gives is accepted by the strict parser.
        assert!(parse(neutral, None).is_ok(), "{neutral}");
    }
    assert_eq!(from_postgres("a > 0; DROP TABLE t"), None);
    assert_eq!(from_postgres("a > (SELECT 1)"), None);
}

#[test]
fn mysql_spelling_reads_back_as_the_neutral_form() {
    let cases = [
        (
            "`a` > 0 and lcase(`name`) <> 'x'",
            "(a > 0) AND (lower(\"name\") <> 'x')",
        ),
        (
            "`status` in (_utf8mb4'a',_utf8mb4'b')",
            "\"status\" IN ('a', 'b')",
        ),
        ("char_length(`qty`) > 1", "length(qty) > 1"),
    ];
    for (server, neutral) in cases {
        assert_eq!(from_mysql(server).as_deref(), Some(neutral), "{server}");
        assert!(parse(neutral, None).is_ok(), "{neutral}");
    }
    // Aliases are read back from a server, never accepted from a user.
    assert!(parse("lcase(qty) = 'x'", None).is_err());
    assert_eq!(from_mysql("`a` > 0; DROP TABLE t"), None);
}

#[test]
fn neutral_forms_of_one_expression_match_however_a_server_rewrote_it() {
    let written = canonical("price * quantity").unwrap();
    for shown in [
        "((price * (quantity)::numeric))",
        "(\"price\" * \"quantity\")",
        "price * (quantity)",
    ] {
        assert_eq!(
            canonical(shown).as_deref(),
            Some(written.as_str()),
            "{shown}"
        );
    }
    // The grouping itself is kept: the tree, not the text, decides.
    assert_ne!(canonical("(a + b) * c"), canonical("a + (b * c)"));
    assert_eq!(canonical("(a + b) * c").as_deref(), Some("(a + b) * c"));
    assert_eq!(canonical("lower((email))").as_deref(), Some("lower(email)"));
    assert_eq!(canonical("a; DROP TABLE t"), None);
}
