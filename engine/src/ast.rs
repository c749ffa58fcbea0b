//! The dialect-neutral AST: what a migration file says, before any SQL exists.
//!
//! Every operation is a plain struct; `Operation` is the closed enum over them. The
//! serde shape *is* the migration file format (`kind = "create_table"` plus the
//! operation's fields), so a change here is a change to the file format.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::ColumnType;

// serde's `skip_serializing_if` hands the field by reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

/// A column as a table has it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnDef {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    /// Nullable (`NULL`); columns are `NOT NULL` unless they say otherwise, as in Django.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub null: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    /// Auto-increment; only on an integer column that is the whole primary key.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub auto: bool,
    /// The column's comment in the database (Django's `db_comment`): PostgreSQL
    /// `COMMENT ON COLUMN`, MySQL `COMMENT '…'`; SQLite has none and ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The strings an `enum` column accepts, in order; empty for every other type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The column's collation per backend (`sqlite`, `postgres`, `mysql` — MariaDB
    /// included), each named as that backend names it; a backend without an entry
    /// uses its default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collation: BTreeMap<String, String>,
    /// A generated (computed) column: its value is `expr` over the table's other
    /// columns, never written by an INSERT or UPDATE. Always nullable (MariaDB allows
    /// no `NOT NULL` on one) and without a default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<Generated>,
}

/// How a generated column is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generated {
    /// The expression, in the neutral language of checks; it names only the table's
    /// non-generated columns.
    pub expr: String,
    /// Computed on write and stored (`STORED`); otherwise computed on read
    /// (`VIRTUAL`), which PostgreSQL 15 cannot do.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub stored: bool,
}

/// A column default: a literal (`0`, `1.5`, `"draft"`, `true`), or a neutral expression
/// (`{ expr = "now" }`, `{ expr = "uuid" }`) each dialect spells its own way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum DefaultValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Expr { expr: DefaultExpr },
}

impl DefaultValue {
    /// A TOML literal (`0`, `1.5`, `"x"`, `true`), as a user types a default on the
    /// command line or at a prompt.
    pub fn parse_literal(text: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Holder {
            v: DefaultValue,
        }
        toml::from_str::<Holder>(&format!("v = {text}"))
            .ok()
            .map(|h| h.v)
    }
}

/// As the migration file writes it: `0`, `1.5`, `"draft"`, `true`, `{ expr = "now" }`.
impl std::fmt::Display for DefaultValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::Text(t) => write!(f, "{t:?}"),
            Self::Expr { expr } => {
                let name = match expr {
                    DefaultExpr::Now => "now",
                    DefaultExpr::Uuid => "uuid",
                };
                write!(f, "{{ expr = \"{name}\" }}")
            }
        }
    }
}

/// Neutral default expressions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DefaultExpr {
    /// The current date/time, in the column's own type.
    Now,
    /// A random (v4) UUID.
    Uuid,
}

/// Referential actions for `on_delete` / `on_update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum FkAction {
    #[serde(rename = "cascade")]
    Cascade,
    #[serde(rename = "restrict")]
    Restrict,
    #[serde(rename = "set null")]
    SetNull,
    #[serde(rename = "set default")]
    SetDefault,
    #[serde(rename = "no action")]
    NoAction,
}

impl FkAction {
    /// The SQL keywords; identical on the three built-in dialects.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Cascade => "CASCADE",
            Self::Restrict => "RESTRICT",
            Self::SetNull => "SET NULL",
            Self::SetDefault => "SET DEFAULT",
            Self::NoAction => "NO ACTION",
        }
    }
}

/// When a deferrable foreign key is checked: at commit (`deferred`) or after each
/// statement unless a transaction says `SET CONSTRAINTS … DEFERRED` (`immediate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Deferrable {
    Deferred,
    Immediate,
}

impl Deferrable {
    /// The clause after the references and actions; the same on PostgreSQL and SQLite.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Deferred => "DEFERRABLE INITIALLY DEFERRED",
            Self::Immediate => "DEFERRABLE INITIALLY IMMEDIATE",
        }
    }

    /// The spelling of migration files and models (`"deferred"`, `"immediate"`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Deferred => "deferred",
            Self::Immediate => "immediate",
        }
    }
}

fn has_db_constraint() -> bool {
    true
}

/// A foreign key: `columns` of this table refer to `referenced_columns` of `references`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForeignKeyDef {
    pub name: String,
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: String,
    /// Columns of `references`, in the order of `columns`.
    pub referenced_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<FkAction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<FkAction>,
    /// `DEFERRABLE INITIALLY …`; none is a plain (not deferrable) constraint. Servers
    /// without deferrable constraints (MySQL, MariaDB) refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferrable: Option<Deferrable>,
    /// `false`: the relation exists for strata (state, dependencies, models) but the
    /// database gets no `FOREIGN KEY` (Django's `db_constraint=False`), so nothing is
    /// rendered for it and the live catalog is not expected to hold it.
    #[serde(default = "has_db_constraint", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub db_constraint: bool,
}

// Not derived: a foreign key has its database constraint unless it says otherwise.
impl Default for ForeignKeyDef {
    fn default() -> Self {
        Self {
            name: String::new(),
            columns: Vec::new(),
            references: String::new(),
            referenced_columns: Vec::new(),
            on_delete: None,
            on_update: None,
            deferrable: None,
            db_constraint: true,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndexDef {
    pub name: String,
    /// Key columns; may be empty when `expressions` give the key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub unique: bool,
    /// A partial index's predicate, as SQL (`"deleted_at IS NULL"`).
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Expression key parts (`"lower(email)"`), indexed after `columns`; each one
    /// expression of the language of checks (docs/expressions.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expressions: Vec<String>,
    /// PostgreSQL's access method (`USING gin`); btree when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<IndexMethod>,
    /// PostgreSQL operator class per key column (`{ email = "varchar_pattern_ops" }`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub opclasses: BTreeMap<String, String>,
    /// Non-key columns stored in the index (PostgreSQL 11+ `INCLUDE`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// MySQL/MariaDB prefix length, in characters, per key column; other databases
    /// index the whole value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lengths: BTreeMap<String, u32>,
    /// `NULLS NOT DISTINCT` (PostgreSQL 15+): a unique index that lets at most one row
    /// hold NULL.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub nulls_not_distinct: bool,
    /// What a partial index becomes on a database without partial indexes (MySQL,
    /// MariaDB): refused (the default), or a plain index over the same key.
    #[serde(default, skip_serializing_if = "UnsupportedWhere::is_refuse")]
    pub on_unsupported_where: UnsupportedWhere,
}

impl IndexDef {
    /// Every column the index names: key columns, opclass and length keys, `include`.
    pub fn named_columns(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .columns
            .iter()
            .chain(&self.include)
            .chain(self.opclasses.keys())
            .chain(self.lengths.keys());
        for c in all {
            if !out.contains(&c.as_str()) {
                out.push(c);
            }
        }
        out
    }

    /// An index over its columns only, as every database builds it by default: no
    /// expression, method, operator class, `INCLUDE`, prefix or NULL rule. Only such
    /// an index can stand for a unique key or a foreign key's index.
    pub fn is_plain_key(&self) -> bool {
        self.expressions.is_empty()
            && matches!(self.method, None | Some(IndexMethod::Btree))
            && self.opclasses.is_empty()
            && self.include.is_empty()
            && self.lengths.is_empty()
            && !self.nulls_not_distinct
    }
}

/// An index access method (PostgreSQL `CREATE INDEX … USING method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndexMethod {
    Btree,
    Hash,
    Gin,
    Gist,
    Brin,
}

impl IndexMethod {
    pub const ALL: &'static [IndexMethod] =
        &[Self::Btree, Self::Hash, Self::Gin, Self::Gist, Self::Brin];

    /// The name as written in models, migrations and SQL (`btree`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Btree => "btree",
            Self::Hash => "hash",
            Self::Gin => "gin",
            Self::Gist => "gist",
            Self::Brin => "brin",
        }
    }

    pub fn by_name(name: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(name))
    }
}

/// What a partial index becomes where partial indexes do not exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnsupportedWhere {
    /// The migration is refused, naming the index.
    #[default]
    Refuse,
    /// A plain index over the same key, without the `where` (as Django does, with a
    /// warning): it indexes every row, so a unique one also constrains every row.
    Plain,
}

impl UnsupportedWhere {
    // serde's `skip_serializing_if` hands the field by reference.
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_refuse(&self) -> bool {
        *self == Self::Refuse
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UniqueDef {
    pub name: String,
    pub columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckDef {
    pub name: String,
    /// A boolean SQL expression over the table's columns.
    pub expr: String,
}

/// A table constraint that is neither the primary key nor a foreign key: `type` says
/// which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Constraint {
    Unique { name: String, columns: Vec<String> },
    Check { name: String, expr: String },
}

impl Constraint {
    pub fn name(&self) -> &str {
        match self {
            Self::Unique { name, .. } | Self::Check { name, .. } => name,
        }
    }
}

/// A whole table: what `create_table` creates and what `SchemaState` holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableDef {
    pub name: String,
    pub columns: Vec<ColumnDef>,
    /// The primary key's columns, in key order; left out for a table without one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<UniqueDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKeyDef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<IndexDef>,
    /// The table's comment in the database (Django's `db_table_comment`):
    /// PostgreSQL `COMMENT ON TABLE`, MySQL `COMMENT = '…'`; SQLite has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl TableDef {
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn index(&self, name: &str) -> Option<&IndexDef> {
        self.indexes.iter().find(|i| i.name == name)
    }

    pub fn foreign_key(&self, name: &str) -> Option<&ForeignKeyDef> {
        self.foreign_keys.iter().find(|f| f.name == name)
    }

    /// The unique or check constraint called `name`.
    pub fn constraint(&self, name: &str) -> Option<Constraint> {
        self.uniques
            .iter()
            .find(|u| u.name == name)
            .map(|u| Constraint::Unique {
                name: u.name.clone(),
                columns: u.columns.clone(),
            })
            .or_else(|| {
                self.checks
                    .iter()
                    .find(|c| c.name == name)
                    .map(|c| Constraint::Check {
                        name: c.name.clone(),
                        expr: c.expr.clone(),
                    })
            })
    }

    /// Names of every index and constraint of the table (they share one namespace).
    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        self.indexes
            .iter()
            .map(|i| i.name.as_str())
            .chain(self.uniques.iter().map(|u| u.name.as_str()))
            .chain(self.checks.iter().map(|c| c.name.as_str()))
            .chain(self.foreign_keys.iter().map(|f| f.name.as_str()))
    }

    /// The auto-increment column, when the table has one.
    pub fn auto_column(&self) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.auto)
    }
}

/// SQL for `run_sql`: one text for every dialect, or one per dialect name (`sqlite`,
/// `postgres`, `mysql`, `mariadb`, which falls back to `mysql`) with an optional
/// `default` for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum SqlText {
    All(String),
    PerDialect(BTreeMap<String, String>),
}

impl SqlText {
    /// The SQL under the first of `keys` that the migration gives (one SQL for all
    /// dialects answers every key).
    pub fn for_keys(&self, keys: &[&str]) -> Option<&str> {
        match self {
            Self::All(sql) => Some(sql),
            Self::PerDialect(map) => keys.iter().find_map(|k| map.get(*k)).map(String::as_str),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropTable {
    pub name: String,
}

/// Changes only the table options it names (today: its comment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlterTable {
    pub table: String,
    /// The table's new comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Remove the table's comment.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub drop_comment: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameTable {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddColumn {
    pub table: String,
    pub column: ColumnDef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropColumn {
    pub table: String,
    pub column: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameColumn {
    pub table: String,
    pub from: String,
    pub to: String,
}

/// Changes only the parts it names; the rest of the column stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlterColumn {
    pub table: String,
    pub column: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<ColumnType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub null: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    /// Remove the column's default.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub drop_default: bool,
    /// The column's new comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Remove the column's comment.
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub drop_comment: bool,
    /// The new value list of an `enum` column (with `type = "enum"` when it becomes one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<String>>,
    /// The new collations, per backend (empty: back to every backend's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIndex {
    pub table: String,
    pub index: IndexDef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropIndex {
    pub table: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameIndex {
    pub table: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddForeignKey {
    pub table: String,
    pub foreign_key: ForeignKeyDef,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropForeignKey {
    pub table: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddConstraint {
    pub table: String,
    pub constraint: Constraint,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DropConstraint {
    pub table: String,
    pub name: String,
}

/// The escape hatch. Irreversible unless it carries `reverse_sql`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunSql {
    pub sql: SqlText,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_sql: Option<SqlText>,
    /// `false`: the SQL is one compound statement whose body holds `;` (a MySQL
    /// `CREATE TRIGGER … BEGIN … END`, a PostgreSQL `BEGIN ATOMIC` body), sent as it is
    /// instead of split at each top-level `;`.
    #[serde(default = "split_by_default", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub split: bool,
}

fn split_by_default() -> bool {
    true
}

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}

/// Calls a function the application registered (`code::Functions`), inside the
/// migration's transaction where the database has one. Irreversible unless it names
/// a `reverse` function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCode {
    /// The name the application registered the function under.
    pub name: String,
    /// The function that undoes it, called on rollback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<String>,
}

impl RunCode {
    /// What is wrong with its names on their own: empty, or holding a control
    /// character (a line break would end the comment `sqlmigrate` prints for the call,
    /// and show the rest of the name as SQL to run).
    pub fn problem(&self) -> Option<String> {
        std::iter::once(("name", &self.name))
            .chain(self.reverse.as_ref().map(|r| ("reverse", r)))
            .find_map(|(field, value)| {
                if value.trim().is_empty() {
                    Some(format!("run_code: `{field}` is empty"))
                } else if value.chars().any(char::is_control) {
                    Some(format!(
                        "run_code: `{field}` {value:?} holds a control character"
                    ))
                } else {
                    None
                }
            })
    }
}

fn default_batch_size() -> u64 {
    Backfill::DEFAULT_BATCH_SIZE
}

// serde's `skip_serializing_if` passes a reference.
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_default_batch_size(n: &u64) -> bool {
    *n == Backfill::DEFAULT_BATCH_SIZE
}

/// Updates every row of a table in batches walked along its primary key, each batch
/// committed with its progress, so a stopped backfill resumes at the next batch and
/// no transaction is ever long. The values stay when it is rolled back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    pub table: String,
    /// Column = expression, in the neutral expression language of checks
    /// (`{ slug = "lower(title)", n = "n + 1" }`), rendered for each dialect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<BTreeMap<String, String>>,
    /// Instead of `set`: the SET list itself as raw SQL, one for every dialect or one
    /// per dialect name (the keys of `run_sql`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_sql: Option<SqlText>,
    /// Only rows matching this expression are updated.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// Rows (primary key values) per batch; at least 1.
    #[serde(
        default = "default_batch_size",
        skip_serializing_if = "is_default_batch_size"
    )]
    #[schemars(extend("default" = 1000, "minimum" = 1))]
    pub batch_size: u64,
    /// A pause between batches (`"50ms"`, `"1s"`), to leave the server room.
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(with = "Option<String>")]
    pub pause: Option<std::time::Duration>,
    /// This is the rollback of a backfill, which runs nothing: the values it wrote
    /// stay. Never in a file.
    #[serde(skip)]
    #[schemars(skip)]
    pub undo: bool,
}

impl Backfill {
    pub const DEFAULT_BATCH_SIZE: u64 = 1000;

    /// What is wrong with its fields on their own (not against a schema): exactly one
    /// of `set` and `set_sql`, nothing empty, a batch of at least one row.
    pub fn problem(&self) -> Option<String> {
        match (&self.set, &self.set_sql) {
            (Some(_), Some(_)) => {
                return Some("backfill takes `set` or `set_sql`, not both".into())
            }
            (None, None) => {
                return Some(
                    "backfill needs `set` (column = expression) or `set_sql` (the SET list as SQL)"
                        .into(),
                )
            }
            (Some(set), None) if set.is_empty() => {
                return Some("backfill: `set` names no column".into())
            }
            _ => {}
        }
        (self.batch_size == 0).then(|| "backfill: `batch_size` must be at least 1".into())
    }
}

// Adding a variant touches more than this file: README.md's "Adding an operation
// touches" lists every place, and the tests fail until each is done.

/// One step of a migration: `kind` says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Operation {
    /// Create a table with its columns, keys, constraints and indexes.
    CreateTable(TableDef),
    /// Drop a table. Rolling back recreates its structure, not its rows.
    DropTable(DropTable),
    /// Rename a table.
    RenameTable(RenameTable),
    /// Add a column.
    AddColumn(AddColumn),
    /// Drop a column. Rolling back adds it back, without its values.
    DropColumn(DropColumn),
    /// Rename a column.
    RenameColumn(RenameColumn),
    /// Change only the parts named: `type`, `null`, `default` or `drop_default`.
    AlterColumn(AlterColumn),
    /// Create an index: unique, multi-column, partial with `where`.
    CreateIndex(CreateIndex),
    /// Drop an index.
    DropIndex(DropIndex),
    /// Rename an index.
    RenameIndex(RenameIndex),
    /// Add a foreign key.
    AddForeignKey(AddForeignKey),
    /// Drop a foreign key.
    DropForeignKey(DropForeignKey),
    /// Add a unique or check constraint.
    AddConstraint(AddConstraint),
    /// Drop a unique or check constraint.
    DropConstraint(DropConstraint),
    /// Raw SQL, one for every dialect or one per dialect; irreversible without
    /// `reverse_sql`.
    RunSql(RunSql),
    /// Call a function the application registered; irreversible without `reverse`.
    RunCode(RunCode),
    /// Update a table's rows in batches along its primary key, each committed with
    /// its progress (resumable); the values stay on rollback.
    Backfill(Backfill),
    /// Change a table's options: its `comment` (or `drop_comment = true`).
    AlterTable(AlterTable),
}

impl Operation {
    /// Every `kind` of the migration file, in the order of the enum.
    pub const KINDS: &'static [&'static str] = &[
        "create_table",
        "drop_table",
        "rename_table",
        "add_column",
        "drop_column",
        "rename_column",
        "alter_column",
        "create_index",
        "drop_index",
        "rename_index",
        "add_foreign_key",
        "drop_foreign_key",
        "add_constraint",
        "drop_constraint",
        "run_sql",
        "run_code",
        "backfill",
        "alter_table",
    ];

    /// Follows the tables an operation creates, renames and drops in `tables`, keyed
    /// by table name: a created table gets `value()`, a renamed one keeps its entry
    /// under its new name, a dropped one loses it. Other operations change nothing.
    pub fn follow_tables<T>(&self, tables: &mut BTreeMap<String, T>, value: impl FnOnce() -> T) {
        match self {
            Operation::CreateTable(t) => {
                tables.insert(t.name.clone(), value());
            }
            Operation::RenameTable(r) => {
                if let Some(entry) = tables.remove(&r.from) {
                    tables.insert(r.to.clone(), entry);
                }
            }
            Operation::DropTable(d) => {
                tables.remove(&d.name);
            }
            _ => {}
        }
    }

    /// The `kind` string of the migration file.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CreateTable(_) => "create_table",
            Self::DropTable(_) => "drop_table",
            Self::RenameTable(_) => "rename_table",
            Self::AddColumn(_) => "add_column",
            Self::DropColumn(_) => "drop_column",
            Self::RenameColumn(_) => "rename_column",
            Self::AlterColumn(_) => "alter_column",
            Self::CreateIndex(_) => "create_index",
            Self::DropIndex(_) => "drop_index",
            Self::RenameIndex(_) => "rename_index",
            Self::AddForeignKey(_) => "add_foreign_key",
            Self::DropForeignKey(_) => "drop_foreign_key",
            Self::AddConstraint(_) => "add_constraint",
            Self::DropConstraint(_) => "drop_constraint",
            Self::RunSql(_) => "run_sql",
            Self::RunCode(_) => "run_code",
            Self::Backfill(_) => "backfill",
            Self::AlterTable(_) => "alter_table",
        }
    }

    /// The tables whose locks the operation takes: its own, and the referenced table
    /// of a foreign key it adds (which PostgreSQL locks too).
    pub fn locked_tables(&self) -> Vec<String> {
        let mut tables: Vec<String> = self.table().map(str::to_string).into_iter().collect();
        let referenced = match self {
            Self::AddForeignKey(o) => vec![o.foreign_key.references.clone()],
            Self::CreateTable(t) => t
                .foreign_keys
                .iter()
                .map(|fk| fk.references.clone())
                .collect(),
            _ => Vec::new(),
        };
        for table in referenced {
            if !tables.contains(&table) {
                tables.push(table);
            }
        }
        tables
    }

    /// The table the operation works on (`None` for `run_sql` and `run_code`).
    pub fn table(&self) -> Option<&str> {
        Some(match self {
            Self::CreateTable(t) => &t.name,
            Self::DropTable(o) => &o.name,
            Self::RenameTable(o) => &o.from,
            Self::AddColumn(o) => &o.table,
            Self::DropColumn(o) => &o.table,
            Self::RenameColumn(o) => &o.table,
            Self::AlterColumn(o) => &o.table,
            Self::CreateIndex(o) => &o.table,
            Self::DropIndex(o) => &o.table,
            Self::RenameIndex(o) => &o.table,
            Self::AddForeignKey(o) => &o.table,
            Self::DropForeignKey(o) => &o.table,
            Self::AddConstraint(o) => &o.table,
            Self::DropConstraint(o) => &o.table,
            Self::Backfill(o) => &o.table,
            Self::AlterTable(o) => &o.table,
            Self::RunSql(_) | Self::RunCode(_) => return None,
        })
    }
}

/// A one-line, human description, as `sqlmigrate` prints above the SQL.
impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CreateTable(t) => write!(f, "Create table {}", t.name),
            Self::DropTable(o) => write!(f, "Drop table {}", o.name),
            Self::RenameTable(o) => write!(f, "Rename table {} to {}", o.from, o.to),
            Self::AddColumn(o) => write!(f, "Add column {} to {}", o.column.name, o.table),
            Self::DropColumn(o) => write!(f, "Drop column {} from {}", o.column, o.table),
            Self::RenameColumn(o) => {
                write!(f, "Rename column {}.{} to {}", o.table, o.from, o.to)
            }
            Self::AlterColumn(o) => write!(f, "Alter column {}.{}", o.table, o.column),
            Self::CreateIndex(o) => write!(f, "Create index {} on {}", o.index.name, o.table),
            Self::DropIndex(o) => write!(f, "Drop index {} from {}", o.name, o.table),
            Self::RenameIndex(o) => {
                write!(f, "Rename index {} on {} to {}", o.from, o.table, o.to)
            }
            Self::AddForeignKey(o) => {
                write!(f, "Add foreign key {} to {}", o.foreign_key.name, o.table)
            }
            Self::DropForeignKey(o) => write!(f, "Drop foreign key {} from {}", o.name, o.table),
            Self::AddConstraint(o) => {
                write!(f, "Add constraint {} to {}", o.constraint.name(), o.table)
            }
            Self::DropConstraint(o) => write!(f, "Drop constraint {} from {}", o.name, o.table),
            Self::RunSql(_) => f.write_str("Raw SQL operation"),
            Self::RunCode(o) => write!(f, "Run the application's function {}", o.name),
            Self::Backfill(o) if o.undo => {
                write!(f, "Backfill {} (not undone: values stay)", o.table)
            }
            Self::Backfill(o) => write!(f, "Backfill {}", o.table),
            Self::AlterTable(o) => write!(f, "Alter table {}", o.table),
        }
    }
}
