//! What a database server can do, as plain data resolved for one server version.

use std::fmt;
use std::str::FromStr;

/// A server version, e.g. PostgreSQL 16.2 or MariaDB 11.4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ServerVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        *self >= Self::new(major, minor, patch)
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for ServerVersion {
    type Err = String;

    /// Reads the leading `major[.minor[.patch]]` of a version string such as
    /// `16.2 (Debian 16.2-1)` or `10.11.6-MariaDB-0+deb12u1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let numeric: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let mut next = || {
            parts
                .next()
                .map(|p| p.parse::<u32>().map_err(|e| e.to_string()))
        };
        let major = next().ok_or_else(|| format!("no version number in `{s}`"))??;
        let minor = next().transpose()?.unwrap_or(0);
        let patch = next().transpose()?.unwrap_or(0);
        Ok(Self::new(major, minor, patch))
    }
}

/// What the server supports, resolved for one server version. Engine code asks these
/// questions instead of asking which database it talks to.
///
/// Every field starts at the conservative answer of [`Capabilities::BASELINE`]; a
/// dialect writes `Capabilities { field: …, ..Capabilities::BASELINE }` with only its
/// deviations, as Django's backend `features.py` files do. Every field is read by the
/// engine or by the default renderings of [`Dialect`](super::Dialect).
// A set of yes/no questions about a server, by design: each bool is one capability.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// DDL runs inside a transaction and is undone by its rollback, so an atomic
    /// migration is all or nothing. Read by the script renderer: without it, a
    /// migration runs step by step with a checkpoint after each operation.
    ///
    /// Baseline `false`: MySQL and MariaDB commit implicitly before and after DDL
    /// (<https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html>,
    /// <https://mariadb.com/kb/en/sql-statements-that-cause-an-implicit-commit/>).
    /// PostgreSQL (every version,
    /// <https://wiki.postgresql.org/wiki/Transactional_DDL_in_PostgreSQL:_A_Competitive_Analysis>)
    /// and SQLite (<https://www.sqlite.org/lang_transaction.html>) have it.
    pub transactional_ddl: bool,
    /// The longest identifier, in bytes. Table and column names beyond it are refused;
    /// generated index and constraint names are shortened with a hash suffix.
    ///
    /// Baseline 63, the smallest of the supported servers: PostgreSQL's `NAMEDATALEN - 1`
    /// (<https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS>).
    /// MySQL and MariaDB allow 64
    /// (<https://dev.mysql.com/doc/refman/8.0/en/identifier-length.html>); SQLite has no
    /// limit.
    pub max_identifier_len: usize,
    /// `CREATE INDEX … WHERE predicate`. Without it, a partial index is refused with
    /// `RenderError::Unsupported`.
    ///
    /// Baseline `false`: MySQL and MariaDB have none. PostgreSQL
    /// (<https://www.postgresql.org/docs/current/indexes-partial.html>) and SQLite 3.8.0+
    /// (<https://www.sqlite.org/partialindex.html>) have them.
    pub partial_indexes: bool,
    /// `CREATE INDEX CONCURRENTLY` / `DROP INDEX CONCURRENTLY`, which build and drop
    /// an index without blocking writes but refuse to run inside a transaction: used
    /// for the indexes of non-atomic migrations.
    ///
    /// Baseline `false`. PostgreSQL 8.2+ (`DROP … CONCURRENTLY`: 9.2+)
    /// (<https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>).
    pub concurrent_index: bool,
    /// `DEFERRABLE INITIALLY DEFERRED | IMMEDIATE` on a foreign key, checked at commit
    /// (or after `SET CONSTRAINTS`) instead of after each statement. Without it, a
    /// deferrable foreign key is refused with `RenderError::Unsupported`.
    ///
    /// Baseline `false`: MySQL and MariaDB (InnoDB) check foreign keys row by row
    /// and have no deferral
    /// (<https://dev.mysql.com/doc/refman/8.0/en/ansi-diff-foreign-keys.html>).
    /// PostgreSQL (<https://www.postgresql.org/docs/current/sql-createtable.html>)
    /// and SQLite (<https://www.sqlite.org/foreignkeys.html#fk_deferred>) have it.
    pub deferrable_constraints: bool,
    /// Unsigned integer storage (`int unsigned`). Without it, an unsigned neutral type
    /// is the signed type plus a `CHECK (col >= 0)` (see `type_checks`).
    ///
    /// Baseline `false`: only MySQL and MariaDB have it.
    pub unsigned_integers: bool,
    /// `ALTER TABLE … RENAME CONSTRAINT`, used to keep a type check's name in step
    /// with its table and column.
    ///
    /// Baseline `false`. PostgreSQL 9.2+ has it; SQLite has none (and its type checks
    /// are recognised by their expression alone).
    pub rename_constraint: bool,
    /// Column comments (Django's `db_comment`) are kept by the server. Without it a
    /// comment is not written (no error: it documents, it changes nothing stored) and
    /// drift does not compare comments.
    ///
    /// Baseline `false`: SQLite has none. PostgreSQL `COMMENT ON COLUMN`, MySQL and
    /// MariaDB `COMMENT '…'` in the column definition.
    pub column_comments: bool,
    /// `ON DELETE SET DEFAULT` / `ON UPDATE SET DEFAULT` on a foreign key. Without it,
    /// a foreign key with either action is refused with `RenderError::Unsupported`.
    ///
    /// Baseline `false`: InnoDB does not implement it — MySQL refuses the table, and
    /// MariaDB accepts the clause and silently enforces `RESTRICT` instead
    /// (<https://dev.mysql.com/doc/refman/8.0/en/create-table-foreign-keys.html#foreign-key-referential-actions>).
    /// PostgreSQL and SQLite have it.
    pub set_default_actions: bool,
    /// Index key parts that are expressions (`CREATE INDEX … ((lower(email)))`).
    /// Without it, an index with `expressions` is refused.
    ///
    /// Baseline `false`. PostgreSQL
    /// (<https://www.postgresql.org/docs/current/indexes-expressional.html>), SQLite
    /// 3.9+ (<https://www.sqlite.org/expridx.html>) and MySQL 8.0.13+ (functional key
    /// parts, <https://dev.mysql.com/doc/refman/8.0/en/create-index.html#create-index-functional-key-parts>)
    /// have them; MariaDB (up to 11.x) has none: it indexes a generated column instead.
    pub expression_indexes: bool,
    /// Index access methods (`USING gin`) and per-column operator classes. Without it,
    /// any method but btree and any operator class is refused.
    ///
    /// Baseline `false`. PostgreSQL
    /// (<https://www.postgresql.org/docs/current/indexes-types.html>,
    /// <https://www.postgresql.org/docs/current/indexes-opclass.html>). MySQL and
    /// MariaDB parse `USING HASH`, but InnoDB builds a btree whatever it says.
    pub index_methods: bool,
    /// `INCLUDE (columns)`: non-key columns stored in the index. Without it, an index
    /// with `include` is refused.
    ///
    /// Baseline `false`. PostgreSQL 11+
    /// (<https://www.postgresql.org/docs/current/sql-createindex.html>).
    pub index_include: bool,
    /// `NULLS NOT DISTINCT` on a unique index. Without it, such an index is refused.
    ///
    /// Baseline `false`. PostgreSQL 15+
    /// (<https://www.postgresql.org/docs/15/sql-createindex.html>).
    pub nulls_not_distinct: bool,
    /// Prefix lengths on key columns (`body(100)`). Without it, `lengths` are not
    /// rendered: the whole value is indexed, which is what they stand for.
    ///
    /// Baseline `false`. MySQL and MariaDB
    /// (<https://dev.mysql.com/doc/refman/8.0/en/column-indexes.html#column-indexes-prefix>).
    pub index_prefix_lengths: bool,
    /// A native enumeration column type holding its value list (`ENUM('a','b')`).
    /// Without it, an `enum` column is `text` plus a `CHECK (col IN (…))` (see
    /// `type_checks`).
    ///
    /// Baseline `false`: only MySQL and MariaDB have one a migration can change both
    /// ways (PostgreSQL's `CREATE TYPE … AS ENUM` cannot drop a value).
    pub native_enums: bool,
    /// Virtual generated columns (`GENERATED ALWAYS AS (…) VIRTUAL`), computed when
    /// read. Without it, a generated column that is not `stored` is refused with
    /// `RenderError::Unsupported`.
    ///
    /// Baseline `false`: PostgreSQL 15 has stored ones only
    /// (<https://www.postgresql.org/docs/15/ddl-generated-columns.html>). SQLite
    /// 3.31+, MySQL 5.7+ and MariaDB 10.2+ have both.
    pub virtual_generated_columns: bool,
    /// Table comments (Django's `db_table_comment`) are kept by the server; without
    /// it a comment is not written and drift does not compare it.
    ///
    /// Baseline `false`: SQLite has none. PostgreSQL `COMMENT ON TABLE`, MySQL and
    /// MariaDB the `COMMENT = '…'` table option.
    pub table_comments: bool,
}

impl Capabilities {
    /// The conservative answer to every question: what a dialect gets unless it says
    /// otherwise.
    pub const BASELINE: Self = Self {
        transactional_ddl: false,
        max_identifier_len: 63,
        partial_indexes: false,
        concurrent_index: false,
        deferrable_constraints: false,
        unsigned_integers: false,
        native_enums: false,
        rename_constraint: false,
        column_comments: false,
        set_default_actions: false,
        expression_indexes: false,
        index_methods: false,
        index_include: false,
        nulls_not_distinct: false,
        index_prefix_lengths: false,
        virtual_generated_columns: false,
        table_comments: false,
    };

    /// The yes/no capabilities by field name: what a corpus case lists in `requires`.
    pub fn flags(&self) -> [(&'static str, bool); 11] {
        [
            ("transactional_ddl", self.transactional_ddl),
            ("partial_indexes", self.partial_indexes),
            ("concurrent_index", self.concurrent_index),
            ("deferrable_constraints", self.deferrable_constraints),
            ("set_default_actions", self.set_default_actions),
            ("expression_indexes", self.expression_indexes),
            ("index_methods", self.index_methods),
            ("index_include", self.index_include),
            ("nulls_not_distinct", self.nulls_not_distinct),
            ("index_prefix_lengths", self.index_prefix_lengths),
            ("virtual_generated_columns", self.virtual_generated_columns),
        ]
    }

    /// The yes/no capability called `name`, or `None` for an unknown name.
    pub fn flag(&self, name: &str) -> Option<bool> {
        self.flags()
            .into_iter()
            .find(|(flag, _)| *flag == name)
            .map(|(_, value)| value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_is_named_once_and_found_by_its_name() {
        let caps = Capabilities {
            partial_indexes: true,
            ..Capabilities::BASELINE
        };
        let names: std::collections::BTreeSet<_> = caps.flags().iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), caps.flags().len());
        assert_eq!(caps.flag("partial_indexes"), Some(true));
        assert_eq!(caps.flag("concurrent_index"), Some(false));
        assert_eq!(caps.flag("partial_index"), None);
    }
}
