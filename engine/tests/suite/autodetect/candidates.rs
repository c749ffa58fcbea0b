//! Rename candidates and the questions `diff` insists on: scored, deterministic,
//! never silently turned into a drop and an add.

use strata_engine::autodetect::{
    self, rename_candidates, AutodetectError, Decisions, RenameCandidate, RenameKind,
};
use strata_engine::{Operation, SchemaState};

use super::support::{applied, diff_checked, ops};

/// `ledger(id, desc text, amt decimal, status varchar(10) default 'open', note text?)`
/// and `person(id, name, email, phone)`.
const BEFORE: &str = r#"
[[op]]
kind = "create_table"
name = "ledger"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "desc", type = "text" },
  { name = "amt", type = "decimal(12,2)" },
  { name = "status", type = "varchar(10)", default = "open" },
  { name = "note", type = "text", null = true },
]

[[op]]
kind = "create_table"
name = "person"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "name", type = "varchar(100)" },
  { name = "email", type = "varchar(200)" },
  { name = "phone", type = "varchar(20)", null = true },
]
"#;

fn old() -> SchemaState {
    applied(&SchemaState::new(), &ops(BEFORE))
}

fn changed(after: &str) -> SchemaState {
    applied(&old(), &ops(after))
}

fn rename_column(table: &str, from: &str, to: &str) -> String {
    format!(
        "[[op]]\nkind = \"rename_column\"\ntable = \"{table}\"\nfrom = \"{from}\"\nto = \"{to}\"\n"
    )
}

fn names(candidates: &[RenameCandidate]) -> Vec<String> {
    candidates.iter().map(ToString::to_string).collect()
}

#[test]
fn identical_columns_are_offered_whatever_their_names() {
    let new = changed(
        &(rename_column("ledger", "desc", "description")
            + &rename_column("ledger", "amt", "amount")),
    );
    let offered = rename_candidates(&old(), &new);
    assert_eq!(
        names(&offered),
        [
            "column ledger.desc to description",
            "column ledger.amt to amount",
        ],
        "{offered:?}"
    );
    assert!(offered.iter().all(|c| c.score >= 0.6 && c.score <= 1.0));
}

/// Among several dropped and added columns, a changed one is offered only under a
/// similar name: `amt` (decimal) -> `amount` (bigint) and `note` -> `memo` are not.
#[test]
fn among_several_changes_a_changed_column_needs_a_similar_name() {
    let new = changed(
        r#"
[[op]]
kind = "drop_column"
table = "ledger"
column = "amt"

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "amount", type = "bigint", default = 0 }

[[op]]
kind = "drop_column"
table = "ledger"
column = "status"

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "statuses", type = "varchar(10)", default = "new" }

[[op]]
kind = "drop_column"
table = "ledger"
column = "note"

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "memo", type = "text", null = true, default = "-" }
"#,
    );
    let offered = rename_candidates(&old(), &new);
    assert_eq!(
        names(&offered),
        ["column ledger.status to statuses (and changed: default \"open\" -> \"new\")"],
        "{offered:?}"
    );
}

/// One column dropped and one added in a table: renamed *and* changed is the
/// likely edit (point 8 of issue 8), whatever the names — within a type family.
#[test]
fn the_only_pair_of_a_table_is_offered_when_changed_within_a_type_family() {
    let pair = |ty: &str, null: bool| {
        changed(&format!(
            r#"
[[op]]
kind = "drop_column"
table = "person"
column = "phone"

[[op]]
kind = "add_column"
table = "person"
column = {{ name = "mobile", type = "{ty}", null = {null} }}
"#
        ))
    };
    let offered = rename_candidates(&old(), &pair("varchar(40)", false));
    assert_eq!(
        names(&offered),
        ["column person.phone to mobile (and changed: type varchar(20) -> varchar(40), now NOT NULL)"],
        "{offered:?}"
    );
    assert!(
        offered[0].score > 0.0 && offered[0].score <= 0.5,
        "{offered:?}"
    );
    // Unanswered, `diff` refuses rather than dropping `phone`.
    assert!(matches!(
        autodetect::diff(&old(), &pair("varchar(40)", true), &Decisions::default()),
        Err(AutodetectError::UnresolvedRenames(_))
    ));
    // Accepted: a rename, then an alter; nothing dropped.
    let accepted = Decisions::default().rename_column("person", "phone", "mobile");
    let kinds: Vec<_> = diff_checked(&old(), &pair("text", true), &accepted)
        .unwrap()
        .iter()
        .map(Operation::kind)
        .collect();
    assert_eq!(kinds, ["rename_column", "alter_column"]);
    // Another type family is another field: no question.
    assert!(rename_candidates(&old(), &pair("int", true)).is_empty());
    assert!(rename_candidates(&old(), &pair("date", true)).is_empty());
}

#[test]
fn tables_with_mostly_the_same_columns_are_offered_before_columns() {
    let new = changed(
        r#"
[[op]]
kind = "rename_table"
from = "person"
to = "member"

[[op]]
kind = "rename_column"
table = "member"
from = "name"
to = "full_name"

[[op]]
kind = "create_table"
name = "unrelated"
primary_key = ["code"]
columns = [{ name = "code", type = "char(3)" }, { name = "email", type = "varchar(200)" }]
"#,
    );
    let offered = rename_candidates(&old(), &new);
    assert_eq!(
        names(&offered),
        ["table person to member", "column member.name to full_name"],
        "{offered:?}"
    );
    // Nothing accepted: the table question is open; the column one only matters
    // once the table is accepted as renamed.
    match autodetect::diff(&old(), &new, &Decisions::default()) {
        Err(AutodetectError::UnresolvedRenames(open)) => {
            assert_eq!(names(&open), ["table person to member"]);
        }
        other => panic!("expected unresolved renames, got {other:?}"),
    }
    // The table accepted: the column question is still open.
    let table_only = Decisions::default().rename_table("person", "member");
    match autodetect::diff(&old(), &new, &table_only) {
        Err(AutodetectError::UnresolvedRenames(open)) => {
            assert_eq!(names(&open), ["column member.name to full_name"]);
        }
        other => panic!("expected the column question, got {other:?}"),
    }
    // Both accepted, or the rest declined: operations that reach the models.
    let both = table_only
        .clone()
        .rename_column("member", "name", "full_name");
    let ops = diff_checked(&old(), &new, &both).unwrap();
    assert_eq!(ops.len(), 3, "{ops:?}"); // rename table, rename column, create unrelated
    let mut declined = table_only;
    declined.no_rename = true;
    declined.one_off_defaults.insert(
        ("member".into(), "full_name".into()),
        strata_engine::ast::DefaultValue::Text(String::new()),
    );
    diff_checked(&old(), &new, &declined).unwrap();
    // The table declined: its column candidate is moot, and a new table is created.
    let none = Decisions {
        no_rename: true,
        ..Decisions::default()
    };
    let ops = diff_checked(&old(), &new, &none).unwrap();
    assert!(ops.iter().any(|o| o.kind() == "drop_table"), "{ops:?}");
}

#[test]
fn accepting_one_of_two_candidates_for_a_name_settles_both() {
    let new = changed(
        r#"
[[op]]
kind = "drop_column"
table = "ledger"
column = "note"

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "notes", type = "text", null = true }

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "remark", type = "text", null = true }
"#,
    );
    let offered = rename_candidates(&old(), &new);
    assert_eq!(
        names(&offered),
        [
            "column ledger.note to notes",
            "column ledger.note to remark"
        ],
        "best first"
    );
    let accepted = Decisions::default().accept(&offered[0]);
    let ops = diff_checked(&old(), &new, &accepted).unwrap();
    assert_eq!(
        ops.iter().map(Operation::kind).collect::<Vec<_>>(),
        ["rename_column", "add_column"]
    );
}

#[test]
fn one_off_defaults_are_asked_only_for_what_needs_them() {
    let new = changed(
        &(rename_column("person", "name", "full_name")
            + r#"
[[op]]
kind = "add_column"
table = "person"
column = { name = "age", type = "int" }

[[op]]
kind = "add_column"
table = "person"
column = { name = "city", type = "text", default = "" }

[[op]]
kind = "add_column"
table = "person"
column = { name = "bio", type = "text", null = true }

[[op]]
kind = "create_table"
name = "fresh"
primary_key = ["id"]
columns = [{ name = "id", type = "int" }]
"#),
    );
    let renamed = Decisions::default().rename_column("person", "name", "full_name");
    assert_eq!(
        autodetect::needs_one_off_default(&old(), &new, &renamed),
        [("person".to_string(), "age".to_string())]
    );
    // Declined, the renamed column is a new one too.
    assert_eq!(
        autodetect::needs_one_off_default(&old(), &new, &Decisions::default()),
        [
            ("person".to_string(), "full_name".to_string()),
            ("person".to_string(), "age".to_string())
        ]
    );
    let mut answered = renamed;
    answered.one_off_defaults.insert(
        ("person".into(), "age".into()),
        strata_engine::ast::DefaultValue::Int(0),
    );
    assert!(autodetect::needs_one_off_default(&old(), &new, &answered).is_empty());
    diff_checked(&old(), &new, &answered).unwrap();
}

#[test]
fn candidates_do_not_depend_on_the_order_of_anything() {
    let new = changed(
        r#"
[[op]]
kind = "drop_column"
table = "ledger"
column = "desc"

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "b", type = "text" }

[[op]]
kind = "add_column"
table = "ledger"
column = { name = "a", type = "text" }
"#,
    );
    let offered = rename_candidates(&old(), &new);
    assert_eq!(offered, rename_candidates(&old(), &new));
    // Two equally unlike names: ordered by name.
    assert_eq!(offered.len(), 2);
    assert!(offered.iter().all(|c| c.kind == RenameKind::Column));
    // A tie as the sort sees it, which compares scores with `total_cmp`.
    if offered[0].score.total_cmp(&offered[1].score).is_eq() {
        assert!(offered[0].to < offered[1].to);
    }
}

/// The CLI's loop: ask the first open question, record the answer, re-read.
fn ask_all(
    old: &SchemaState,
    new: &SchemaState,
    mut answer: impl FnMut(&RenameCandidate) -> bool,
) -> (Decisions, Vec<String>) {
    let mut decisions = Decisions::default();
    let mut declined: Vec<RenameCandidate> = Vec::new();
    let mut asked = Vec::new();
    while let Some(next) = autodetect::open_renames(old, new, &decisions)
        .into_iter()
        .find(|c| !declined.contains(c))
    {
        asked.push(next.to_string());
        if answer(&next) {
            decisions = decisions.accept(&next);
        } else {
            declined.push(next);
        }
    }
    decisions.no_rename = true;
    (decisions, asked)
}

#[test]
fn open_questions_follow_the_answers() {
    let new = changed(
        r#"
[[op]]
kind = "rename_table"
from = "person"
to = "member"

[[op]]
kind = "rename_column"
table = "member"
from = "name"
to = "full_name"
"#,
    );
    let (yes, asked) = ask_all(&old(), &new, |_| true);
    assert_eq!(
        asked,
        ["table person to member", "column member.name to full_name"]
    );
    assert_eq!(diff_checked(&old(), &new, &yes).unwrap().len(), 2);
    // A declined table rename: its column question is never asked.
    let (no, asked) = ask_all(&old(), &new, |_| false);
    assert_eq!(asked, ["table person to member"]);
    let kinds: Vec<_> = diff_checked(&old(), &new, &no)
        .unwrap()
        .iter()
        .map(Operation::kind)
        .collect();
    assert_eq!(kinds, ["create_table", "drop_table"]);
}
