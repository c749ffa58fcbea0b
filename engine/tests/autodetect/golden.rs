//! Golden table: a schema before, the changes a user made to the models, the
//! user's answers, and the exact operations `makemigrations` must write — checked
//! against the core property as well.

use strata_engine::ast::Operation;
use strata_engine::autodetect::{AutodetectError, Decisions, RenameKind};
use strata_engine::SchemaState;

use crate::support::{applied, diff_checked, ops, ops_text};

/// `author(id, name)` and `book(id, title, pages, isbn, author_id)` with a unique,
/// a check, a foreign key to author and two indexes.
const LIBRARY: &str = r#"
[[op]]
kind = "create_table"
name = "author"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "name", type = "varchar(100)" },
]

[[op]]
kind = "create_table"
name = "book"
primary_key = ["id"]
columns = [
  { name = "id", type = "bigint", auto = true },
  { name = "title", type = "varchar(200)" },
  { name = "pages", type = "int", default = 1 },
  { name = "isbn", type = "varchar(20)", null = true },
  { name = "author_id", type = "bigint" },
]
uniques = [{ name = "book_isbn_uniq", columns = ["isbn"] }]
checks = [{ name = "book_pages_positive", expr = "pages > 0" }]
foreign_keys = [{ name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "cascade" }]
indexes = [
  { name = "book_author_idx", columns = ["author_id"] },
  { name = "book_title_idx", columns = ["title"] },
]
"#;

/// LIBRARY plus `author.code` (unique) and `book.author_code`, referencing it.
const LIBRARY_WITH_CODES: &str = r#"
[[op]]
kind = "add_column"
table = "author"
column = { name = "code", type = "varchar(10)", null = true }

[[op]]
kind = "add_constraint"
table = "author"
constraint = { type = "unique", name = "author_code_uniq", columns = ["code"] }

[[op]]
kind = "add_column"
table = "book"
column = { name = "author_code", type = "varchar(10)", null = true }

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_code_fk", columns = ["author_code"], references = "author", referenced_columns = ["code"] }
"#;

/// Two tables referencing each other.
const CYCLE: &str = r#"
[[op]]
kind = "create_table"
name = "a"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "b_id", type = "bigint", null = true }]

[[op]]
kind = "create_table"
name = "b"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "a_id", type = "bigint", null = true }]
foreign_keys = [{ name = "b_a_fk", columns = ["a_id"], references = "a", referenced_columns = ["id"] }]

[[op]]
kind = "add_foreign_key"
table = "a"
foreign_key = { name = "a_b_fk", columns = ["b_id"], references = "b", referenced_columns = ["id"] }
"#;

enum Expect {
    /// The operations, as `[[op]]` TOML.
    Ops(&'static str),
    /// An error, described, and how to recognise it.
    Error(&'static str, fn(&AutodetectError) -> bool),
}

struct Golden {
    name: &'static str,
    /// Operations from the empty schema.
    before: Vec<&'static str>,
    /// Operations applied to `before`: how the models changed.
    after: &'static str,
    decisions: Decisions,
    expect: Expect,
}

fn golden(
    name: &'static str,
    before: &[&'static str],
    after: &'static str,
    decisions: Decisions,
    expect: Expect,
) -> Golden {
    Golden {
        name,
        before: before.to_vec(),
        after,
        decisions,
        expect,
    }
}

fn no_rename() -> Decisions {
    Decisions {
        no_rename: true,
        ..Decisions::default()
    }
}

fn one_off(table: &str, column: &str, value: strata_engine::ast::DefaultValue) -> Decisions {
    let mut d = no_rename();
    d.one_off_defaults
        .insert((table.into(), column.into()), value);
    d
}

fn cases() -> Vec<Golden> {
    use strata_engine::ast::DefaultValue::Text;
    use Expect::*;
    vec![
        golden(
            "create a table",
            &[LIBRARY],
            r#"
[[op]]
kind = "create_table"
name = "publisher"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "name", type = "text" }]
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "publisher"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "name", type = "text" }]
"#,
            ),
        ),
        golden(
            "create tables referenced first, whatever their names",
            &[],
            r#"
[[op]]
kind = "create_table"
name = "zeta"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[op]]
kind = "create_table"
name = "alpha"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "zeta_id", type = "bigint" }]
foreign_keys = [{ name = "alpha_zeta_fk", columns = ["zeta_id"], references = "zeta", referenced_columns = ["id"], on_delete = "cascade" }]
indexes = [{ name = "alpha_zeta_idx", columns = ["zeta_id"] }]
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "zeta"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }]

[[op]]
kind = "create_table"
name = "alpha"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "zeta_id", type = "bigint" }]
foreign_keys = [{ name = "alpha_zeta_fk", columns = ["zeta_id"], references = "zeta", referenced_columns = ["id"], on_delete = "cascade" }]
indexes = [{ name = "alpha_zeta_idx", columns = ["zeta_id"] }]
"#,
            ),
        ),
        golden(
            "a cycle of new tables: one foreign key is added after both exist",
            &[],
            CYCLE,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "a"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "b_id", type = "bigint", null = true }]

[[op]]
kind = "create_table"
name = "b"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "a_id", type = "bigint", null = true }]
foreign_keys = [{ name = "b_a_fk", columns = ["a_id"], references = "a", referenced_columns = ["id"] }]

[[op]]
kind = "add_foreign_key"
table = "a"
foreign_key = { name = "a_b_fk", columns = ["b_id"], references = "b", referenced_columns = ["id"] }
"#,
            ),
        ),
        golden(
            "a self-reference stays inline",
            &[],
            r#"
[[op]]
kind = "create_table"
name = "category"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "parent_id", type = "bigint", null = true }]
foreign_keys = [{ name = "category_parent_fk", columns = ["parent_id"], references = "category", referenced_columns = ["id"], on_delete = "set null" }]
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "category"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "parent_id", type = "bigint", null = true }]
foreign_keys = [{ name = "category_parent_fk", columns = ["parent_id"], references = "category", referenced_columns = ["id"], on_delete = "set null" }]
"#,
            ),
        ),
        golden(
            "dismantle a relation: the foreign key goes before the table it references",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "drop_index"
table = "book"
name = "book_author_idx"

[[op]]
kind = "drop_column"
table = "book"
column = "author_id"

[[op]]
kind = "drop_table"
name = "author"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "drop_index"
table = "book"
name = "book_author_idx"

[[op]]
kind = "drop_column"
table = "book"
column = "author_id"

[[op]]
kind = "drop_table"
name = "author"
"#,
            ),
        ),
        golden(
            "drop tables: the referencing one first",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_table"
name = "book"

[[op]]
kind = "drop_table"
name = "author"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_table"
name = "book"

[[op]]
kind = "drop_table"
name = "author"
"#,
            ),
        ),
        golden(
            "drop a cycle of tables: a foreign key goes first",
            &[CYCLE],
            r#"
[[op]]
kind = "drop_foreign_key"
table = "a"
name = "a_b_fk"

[[op]]
kind = "drop_table"
name = "b"

[[op]]
kind = "drop_table"
name = "a"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "b"
name = "b_a_fk"

[[op]]
kind = "drop_table"
name = "a"

[[op]]
kind = "drop_table"
name = "b"
"#,
            ),
        ),
        golden(
            "add columns, in the models' order",
            &[LIBRARY],
            r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "subtitle", type = "text", null = true }

[[op]]
kind = "add_column"
table = "book"
column = { name = "edition", type = "int", default = 1 }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "subtitle", type = "text", null = true }

[[op]]
kind = "add_column"
table = "book"
column = { name = "edition", type = "int", default = 1 }
"#,
            ),
        ),
        golden(
            "drop a column and the unique constraint on it",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_isbn_uniq"

[[op]]
kind = "drop_column"
table = "book"
column = "isbn"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_isbn_uniq"

[[op]]
kind = "drop_column"
table = "book"
column = "isbn"
"#,
            ),
        ),
        golden(
            "alter only the parts that change",
            &[LIBRARY],
            r#"
[[op]]
kind = "alter_column"
table = "book"
column = "title"
type = "varchar(300)"

[[op]]
kind = "alter_column"
table = "book"
column = "pages"
drop_default = true

[[op]]
kind = "alter_column"
table = "book"
column = "isbn"
null = false

[[op]]
kind = "alter_column"
table = "author"
column = "name"
default = "anonymous"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "alter_column"
table = "author"
column = "name"
default = "anonymous"

[[op]]
kind = "alter_column"
table = "book"
column = "isbn"
null = false

[[op]]
kind = "alter_column"
table = "book"
column = "pages"
drop_default = true

[[op]]
kind = "alter_column"
table = "book"
column = "title"
type = "varchar(300)"
"#,
            ),
        ),
        golden(
            "a new type at both ends of a foreign key: drop it, alter, add it back",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "alter_column"
table = "author"
column = "id"
type = "int"

[[op]]
kind = "alter_column"
table = "book"
column = "author_id"
type = "int"

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "cascade" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "alter_column"
table = "author"
column = "id"
type = "int"

[[op]]
kind = "alter_column"
table = "book"
column = "author_id"
type = "int"

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "cascade" }
"#,
            ),
        ),
        golden(
            "indexes: drop, change (drop and create), create unique multi-column and partial",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_index"
table = "book"
name = "book_title_idx"

[[op]]
kind = "drop_index"
table = "book"
name = "book_author_idx"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_author_idx", columns = ["author_id", "title"] }

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_author_uniq", columns = ["title", "author_id"], unique = true }

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_long_idx", columns = ["pages"], where = "pages > 500" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_index"
table = "book"
name = "book_author_idx"

[[op]]
kind = "drop_index"
table = "book"
name = "book_title_idx"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_author_idx", columns = ["author_id", "title"] }

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_long_idx", columns = ["pages"], where = "pages > 500" }

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_author_uniq", columns = ["title", "author_id"], unique = true }
"#,
            ),
        ),
        golden(
            "an index with a new name and the same definition is renamed",
            &[LIBRARY],
            r#"
[[op]]
kind = "rename_index"
table = "book"
from = "book_title_idx"
to = "book_title_ix"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "rename_index"
table = "book"
from = "book_title_idx"
to = "book_title_ix"
"#,
            ),
        ),
        golden(
            "unique and check constraints: drop, change (drop and add), add",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_isbn_uniq"

[[op]]
kind = "drop_constraint"
table = "book"
name = "book_pages_positive"

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_pages_positive", expr = "pages >= 1" }

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "unique", name = "book_title_author_uniq", columns = ["title", "author_id"] }

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_title_nonempty", expr = "title <> ''" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_isbn_uniq"

[[op]]
kind = "drop_constraint"
table = "book"
name = "book_pages_positive"

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_pages_positive", expr = "pages >= 1" }

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "unique", name = "book_title_author_uniq", columns = ["title", "author_id"] }

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_title_nonempty", expr = "title <> ''" }
"#,
            ),
        ),
        golden(
            "new foreign key actions: drop and add",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "restrict", on_update = "cascade" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "restrict", on_update = "cascade" }
"#,
            ),
        ),
        golden(
            "a new self-referencing foreign key on a new column",
            &[LIBRARY],
            r#"
[[op]]
kind = "add_column"
table = "author"
column = { name = "mentor_id", type = "bigint", null = true }

[[op]]
kind = "add_foreign_key"
table = "author"
foreign_key = { name = "author_mentor_fk", columns = ["mentor_id"], references = "author", referenced_columns = ["id"], on_delete = "set null" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "add_column"
table = "author"
column = { name = "mentor_id", type = "bigint", null = true }

[[op]]
kind = "add_foreign_key"
table = "author"
foreign_key = { name = "author_mentor_fk", columns = ["mentor_id"], references = "author", referenced_columns = ["id"], on_delete = "set null" }
"#,
            ),
        ),
        golden(
            "a key a foreign key relies on is replaced: the foreign key is dropped and re-added around it",
            &[LIBRARY, LIBRARY_WITH_CODES],
            r#"
[[op]]
kind = "create_index"
table = "author"
index = { name = "author_code_key", columns = ["code"], unique = true }

[[op]]
kind = "drop_constraint"
table = "author"
name = "author_code_uniq"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_code_fk"

[[op]]
kind = "drop_constraint"
table = "author"
name = "author_code_uniq"

[[op]]
kind = "create_index"
table = "author"
index = { name = "author_code_key", columns = ["code"], unique = true }

[[op]]
kind = "add_foreign_key"
table = "book"
foreign_key = { name = "book_author_code_fk", columns = ["author_code"], references = "author", referenced_columns = ["code"] }
"#,
            ),
        ),
        golden(
            "a new table referencing a key added in the same migration gets its foreign key last",
            &[LIBRARY],
            r#"
[[op]]
kind = "add_column"
table = "author"
column = { name = "code", type = "varchar(10)", null = true }

[[op]]
kind = "add_constraint"
table = "author"
constraint = { type = "unique", name = "author_code_uniq", columns = ["code"] }

[[op]]
kind = "create_table"
name = "pen_name"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "author_code", type = "varchar(10)" }]
foreign_keys = [{ name = "pen_name_author_fk", columns = ["author_code"], references = "author", referenced_columns = ["code"] }]
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "pen_name"
primary_key = ["id"]
columns = [{ name = "id", type = "bigint", auto = true }, { name = "author_code", type = "varchar(10)" }]

[[op]]
kind = "add_column"
table = "author"
column = { name = "code", type = "varchar(10)", null = true }

[[op]]
kind = "add_constraint"
table = "author"
constraint = { type = "unique", name = "author_code_uniq", columns = ["code"] }

[[op]]
kind = "add_foreign_key"
table = "pen_name"
foreign_key = { name = "pen_name_author_fk", columns = ["author_code"], references = "author", referenced_columns = ["code"] }
"#,
            ),
        ),
        golden(
            "a renamed table needs an answer",
            &[LIBRARY],
            RENAME_BOOK,
            Decisions::default(),
            Error("UnresolvedRenames(table book → volume)", |e| {
                matches!(e, AutodetectError::UnresolvedRenames(c)
                    if c.len() == 1 && c[0].kind == RenameKind::Table && c[0].from == "book" && c[0].to == "volume")
            }),
        ),
        golden(
            "a renamed table, accepted",
            &[LIBRARY],
            RENAME_BOOK,
            Decisions::default().rename_table("book", "volume"),
            Ops(RENAME_BOOK),
        ),
        golden(
            "a renamed table, declined: a new table whose object names are free only once the old one is gone",
            &[LIBRARY],
            RENAME_BOOK,
            no_rename(),
            Ops(
                r#"
[[op]]
kind = "create_table"
name = "volume"
primary_key = ["id"]
columns = [
    { name = "id", type = "bigint", auto = true },
    { name = "title", type = "varchar(200)" },
    { name = "pages", type = "int", default = 1 },
    { name = "isbn", type = "varchar(20)", null = true },
    { name = "author_id", type = "bigint" },
]

[[op]]
kind = "drop_table"
name = "book"

[[op]]
kind = "create_index"
table = "volume"
index = { name = "book_author_idx", columns = ["author_id"] }

[[op]]
kind = "create_index"
table = "volume"
index = { name = "book_title_idx", columns = ["title"] }

[[op]]
kind = "add_constraint"
table = "volume"
constraint = { type = "unique", name = "book_isbn_uniq", columns = ["isbn"] }

[[op]]
kind = "add_constraint"
table = "volume"
constraint = { type = "check", name = "book_pages_positive", expr = "pages > 0" }

[[op]]
kind = "add_foreign_key"
table = "volume"
foreign_key = { name = "book_author_fk", columns = ["author_id"], references = "author", referenced_columns = ["id"], on_delete = "cascade" }
"#,
            ),
        ),
        golden(
            "a renamed column needs an answer",
            &[LIBRARY],
            RENAME_AUTHOR_NAME,
            Decisions::default(),
            Error("UnresolvedRenames(column author.name → full_name)", |e| {
                matches!(e, AutodetectError::UnresolvedRenames(c)
                    if c.len() == 1 && c[0].kind == RenameKind::Column && c[0].table == "author"
                        && c[0].from == "name" && c[0].to == "full_name")
            }),
        ),
        golden(
            "a renamed column, accepted",
            &[LIBRARY],
            RENAME_AUTHOR_NAME,
            Decisions::default().rename_column("author", "name", "full_name"),
            Ops(RENAME_AUTHOR_NAME),
        ),
        golden(
            "a renamed column, declined: the new NOT NULL column needs a one-off default",
            &[LIBRARY],
            RENAME_AUTHOR_NAME,
            no_rename(),
            Error("NeedsDefault(author.full_name)", |e| {
                *e == AutodetectError::NeedsDefault(vec![("author".into(), "full_name".into())])
            }),
        ),
        golden(
            "a renamed column, declined, with a one-off default",
            &[LIBRARY],
            RENAME_AUTHOR_NAME,
            one_off("author", "full_name", Text("?".into())),
            Ops(
                r#"
[[op]]
kind = "add_column"
table = "author"
column = { name = "full_name", type = "varchar(100)", default = "?" }

[[op]]
kind = "alter_column"
table = "author"
column = "full_name"
drop_default = true

[[op]]
kind = "drop_column"
table = "author"
column = "name"
"#,
            ),
        ),
        golden(
            "a renamed column a check names: the check goes first and comes back",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_pages_positive"

[[op]]
kind = "rename_column"
table = "book"
from = "pages"
to = "page_count"

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_pages_positive", expr = "page_count > 0" }
"#,
            Decisions::default().rename_column("book", "pages", "page_count"),
            Ops(
                r#"
[[op]]
kind = "drop_constraint"
table = "book"
name = "book_pages_positive"

[[op]]
kind = "rename_column"
table = "book"
from = "pages"
to = "page_count"

[[op]]
kind = "add_constraint"
table = "book"
constraint = { type = "check", name = "book_pages_positive", expr = "page_count > 0" }
"#,
            ),
        ),
        golden(
            "a renamed table and a renamed, retyped column in it, accepted",
            &[LIBRARY],
            r#"
[[op]]
kind = "rename_table"
from = "author"
to = "writer"

[[op]]
kind = "rename_column"
table = "writer"
from = "name"
to = "full_name"

[[op]]
kind = "alter_column"
table = "writer"
column = "full_name"
type = "varchar(200)"
"#,
            Decisions::default()
                .rename_table("author", "writer")
                .rename_column("writer", "name", "full_name"),
            Ops(
                r#"
[[op]]
kind = "rename_table"
from = "author"
to = "writer"

[[op]]
kind = "rename_column"
table = "writer"
from = "name"
to = "full_name"

[[op]]
kind = "alter_column"
table = "writer"
column = "full_name"
type = "varchar(200)"
"#,
            ),
        ),
        golden(
            "a NOT NULL column added without a default needs a one-off default",
            &[LIBRARY],
            ADD_LANGUAGE,
            Decisions::default(),
            Error("NeedsDefault(book.language)", |e| {
                *e == AutodetectError::NeedsDefault(vec![("book".into(), "language".into())])
            }),
        ),
        golden(
            "a one-off default fills existing rows and is dropped again",
            &[LIBRARY],
            ADD_LANGUAGE,
            one_off("book", "language", Text("en".into())),
            Ops(
                r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "language", type = "varchar(10)", default = "en" }

[[op]]
kind = "alter_column"
table = "book"
column = "language"
drop_default = true
"#,
            ),
        ),
        golden(
            "a one-off default that does not fit the type is refused",
            &[LIBRARY],
            ADD_LANGUAGE,
            one_off("book", "language", strata_engine::ast::DefaultValue::Bool(true)),
            Error("BadOneOffDefault", |e| {
                matches!(e, AutodetectError::BadOneOffDefault { table, column, .. }
                    if table == "book" && column == "language")
            }),
        ),
        golden(
            "a column with a default of its own needs no one-off default",
            &[LIBRARY],
            r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "language", type = "varchar(10)", default = "en" }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "language", type = "varchar(10)", default = "en" }
"#,
            ),
        ),
        golden(
            "a dropped table's foreign key goes first when it blocks a new type of its target",
            &[LIBRARY],
            r#"
[[op]]
kind = "drop_table"
name = "book"

[[op]]
kind = "alter_column"
table = "author"
column = "id"
type = "int"
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "drop_foreign_key"
table = "book"
name = "book_author_fk"

[[op]]
kind = "alter_column"
table = "author"
column = "id"
type = "int"

[[op]]
kind = "drop_table"
name = "book"
"#,
            ),
        ),
        golden(
            "a renamed column an index predicate names: the index goes first and comes back",
            &[
                LIBRARY,
                r#"
[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_live", columns = ["title"], where = "isbn IS NOT NULL" }
"#,
            ],
            r#"
[[op]]
kind = "drop_index"
table = "book"
name = "book_title_live"

[[op]]
kind = "rename_column"
table = "book"
from = "isbn"
to = "code"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_live", columns = ["title"], where = "code IS NOT NULL" }
"#,
            Decisions::default().rename_column("book", "isbn", "code"),
            Ops(
                r#"
[[op]]
kind = "drop_index"
table = "book"
name = "book_title_live"

[[op]]
kind = "rename_column"
table = "book"
from = "isbn"
to = "code"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_live", columns = ["title"], where = "code IS NOT NULL" }
"#,
            ),
        ),
        golden(
            "an index takes the name of one that changed: renamed, and the other created anew",
            &[LIBRARY],
            r#"
[[op]]
kind = "rename_index"
table = "book"
from = "book_title_idx"
to = "book_title_ix"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_idx", columns = ["title", "pages"] }
"#,
            Decisions::default(),
            Ops(
                r#"
[[op]]
kind = "rename_index"
table = "book"
from = "book_title_idx"
to = "book_title_ix"

[[op]]
kind = "create_index"
table = "book"
index = { name = "book_title_idx", columns = ["title", "pages"] }
"#,
            ),
        ),
        golden(
            "a rename that does not fit is refused",
            &[LIBRARY],
            RENAME_BOOK,
            Decisions::default().rename_table("author", "volume"),
            Error("InvalidRename", |e| {
                matches!(e, AutodetectError::InvalidRename { .. })
            }),
        ),
    ]
}

const RENAME_BOOK: &str = r#"
[[op]]
kind = "rename_table"
from = "book"
to = "volume"
"#;

const RENAME_AUTHOR_NAME: &str = r#"
[[op]]
kind = "rename_column"
table = "author"
from = "name"
to = "full_name"
"#;

const ADD_LANGUAGE: &str = r#"
[[op]]
kind = "add_column"
table = "book"
column = { name = "language", type = "varchar(10)" }
"#;

fn states(case: &Golden) -> (SchemaState, SchemaState) {
    let before: Vec<Operation> = case.before.iter().flat_map(|text| ops(text)).collect();
    let old = applied(&SchemaState::new(), &before);
    let new = applied(&old, &ops(case.after));
    (old, new)
}

#[test]
fn golden_operations() {
    let mut failures = Vec::new();
    for case in cases() {
        let (old, new) = states(&case);
        match &case.expect {
            Expect::Ops(expected) => match diff_checked(&old, &new, &case.decisions) {
                Ok(actual) if actual == ops(expected) => {}
                Ok(actual) => failures.push(format!(
                    "## {}\nexpected:\n{}\nactual:\n{}",
                    case.name,
                    ops_text(&ops(expected)),
                    ops_text(&actual)
                )),
                Err(e) => failures.push(format!("## {}\nunexpected error: {e}", case.name)),
            },
            Expect::Error(what, recognise) => {
                match strata_engine::autodetect::diff(&old, &new, &case.decisions) {
                    Err(e) if recognise(&e) => {}
                    other => {
                        failures.push(format!("## {}\nexpected {what}, got {other:?}", case.name))
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Every golden pair with its renames declined: still the right schema, whatever
/// the operations.
#[test]
fn golden_pairs_hold_the_property_without_renames() {
    for case in cases() {
        let (old, new) = states(&case);
        let decisions = crate::support::with_one_off_defaults(&old, &new, no_rename())
            .expect("golden columns have literal types");
        diff_checked(&old, &new, &decisions).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    }
}
