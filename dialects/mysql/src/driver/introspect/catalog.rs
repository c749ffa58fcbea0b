//! The `information_schema` queries of introspection, and their rows as plain
//! structs. Every query reads the connection's current database (`DATABASE()`);
//! rows come back as text and are parsed here, so the rest never sees a cell.

use std::collections::BTreeMap;

use strata_engine::dialect::driver::{Driver, DriverError, Row};

use crate::flavour::Flavour;

const TABLES_SQL: &str = "SELECT TABLE_NAME, TABLE_COMMENT FROM information_schema.TABLES \
     WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

/// A column's collation is read only where it differs from its table's default.
const COLUMNS_SQL: &str = "SELECT c.TABLE_NAME, c.COLUMN_NAME, c.ORDINAL_POSITION, c.COLUMN_TYPE, \
     c.IS_NULLABLE, c.COLUMN_DEFAULT, c.EXTRA, c.COLUMN_COMMENT, \
     CASE WHEN c.COLLATION_NAME <> t.TABLE_COLLATION THEN c.COLLATION_NAME END, \
     c.GENERATION_EXPRESSION \
     FROM information_schema.COLUMNS AS c JOIN information_schema.TABLES AS t \
       ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
     WHERE c.TABLE_SCHEMA = DATABASE()";

/// Every index, the primary key and unique constraints included: MySQL implements
/// each of them as an index, which is also where their column order is.
/// MariaDB has no functional key parts, nor the `EXPRESSION` column.
const INDEXES_SQL: &str = "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, \
     COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION, NULL FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = DATABASE()";

/// MySQL 8.0.13+ shows a functional key part's expression in `EXPRESSION`.
const MYSQL_INDEXES_SQL: &str = "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, SEQ_IN_INDEX, \
     COLUMN_NAME, SUB_PART, INDEX_TYPE, COLLATION, EXPRESSION FROM information_schema.STATISTICS \
     WHERE TABLE_SCHEMA = DATABASE()";

const FOREIGN_KEYS_SQL: &str = "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, \
     k.ORDINAL_POSITION, k.REFERENCED_TABLE_SCHEMA = k.TABLE_SCHEMA, k.REFERENCED_TABLE_NAME, \
     k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE \
     FROM information_schema.KEY_COLUMN_USAGE AS k \
     JOIN information_schema.REFERENTIAL_CONSTRAINTS AS r \
       ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
      AND r.TABLE_NAME = k.TABLE_NAME \
     WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL";

/// MariaDB names checks per table (a column-level check is named after its column)
/// and lists the table in `CHECK_CONSTRAINTS` itself.
const MARIADB_CHECKS_SQL: &str = "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE \
     FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()";

/// MySQL's `CHECK_CONSTRAINTS` has no table; check names are unique per database,
/// and `TABLE_CONSTRAINTS` says whose each one is.
const MYSQL_CHECKS_SQL: &str = "SELECT t.TABLE_NAME, t.CONSTRAINT_NAME, c.CHECK_CLAUSE \
     FROM information_schema.TABLE_CONSTRAINTS AS t \
     JOIN information_schema.CHECK_CONSTRAINTS AS c \
       ON c.CONSTRAINT_SCHEMA = t.CONSTRAINT_SCHEMA AND c.CONSTRAINT_NAME = t.CONSTRAINT_NAME \
     WHERE t.CONSTRAINT_SCHEMA = DATABASE() AND t.CONSTRAINT_TYPE = 'CHECK'";

/// One row of `COLUMNS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ColumnRow {
    pub table: String,
    pub name: String,
    pub position: u32,
    /// `COLUMN_TYPE`, e.g. `varchar(40)`.
    pub column_type: String,
    pub nullable: bool,
    pub default: Option<String>,
    pub extra: String,
    /// `COLUMN_COMMENT`; empty when the column has none.
    pub comment: String,
    /// `COLLATION_NAME` when not the table's default.
    pub collation: Option<String>,
    /// `GENERATION_EXPRESSION`; empty (MySQL) or NULL (MariaDB) for a plain column.
    pub generation: String,
}

/// One column of one index, from `STATISTICS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct IndexRow {
    pub table: String,
    pub name: String,
    pub unique: bool,
    pub seq: u32,
    /// `None` for a functional key part (MySQL 8).
    pub column: Option<String>,
    /// The prefix length of a key part that indexes only the start of a column.
    pub sub_part: Option<String>,
    pub index_type: String,
    pub descending: bool,
    /// A functional key part's expression, as the server shows it (MySQL 8.0.13+).
    pub expression: Option<String>,
}

/// One column of one foreign key, from `KEY_COLUMN_USAGE` and
/// `REFERENTIAL_CONSTRAINTS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ForeignKeyRow {
    pub table: String,
    pub name: String,
    pub column: String,
    pub position: u32,
    /// Whether the referenced table is in the same database.
    pub same_database: bool,
    pub referenced_table: String,
    pub referenced_column: String,
    pub delete_rule: String,
    pub update_rule: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CheckRow {
    pub table: String,
    pub name: String,
    pub clause: String,
}

/// Everything introspection reads, for the base tables of the current database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Catalog {
    pub tables: Vec<String>,
    pub columns: Vec<ColumnRow>,
    pub indexes: Vec<IndexRow>,
    pub foreign_keys: Vec<ForeignKeyRow>,
    pub checks: Vec<CheckRow>,
    /// `TABLE_COMMENT` by table, where not empty (MySQL has no "no comment").
    pub table_comments: BTreeMap<String, String>,
}

/// The rows of one table.
#[derive(Debug, Default)]
pub(super) struct TableRows<'a> {
    pub columns: Vec<&'a ColumnRow>,
    pub indexes: Vec<&'a IndexRow>,
    pub foreign_keys: Vec<&'a ForeignKeyRow>,
    pub checks: Vec<&'a CheckRow>,
}

impl Catalog {
    pub(super) fn rows_of(&self, table: &str) -> TableRows<'_> {
        TableRows {
            columns: self.columns.iter().filter(|r| r.table == table).collect(),
            indexes: self.indexes.iter().filter(|r| r.table == table).collect(),
            foreign_keys: self
                .foreign_keys
                .iter()
                .filter(|r| r.table == table)
                .collect(),
            checks: self.checks.iter().filter(|r| r.table == table).collect(),
        }
    }
}

pub(super) async fn read(
    driver: &mut dyn Driver,
    flavour: Flavour,
) -> Result<Catalog, DriverError> {
    let tables = rows(driver, TABLES_SQL).await?;
    let columns = rows(driver, COLUMNS_SQL).await?;
    let functional = flavour == Flavour::Mysql && driver.version().at_least(8, 0, 13);
    let indexes_sql = if functional {
        MYSQL_INDEXES_SQL
    } else {
        INDEXES_SQL
    };
    let indexes = rows(driver, indexes_sql).await?;
    let foreign_keys = rows(driver, FOREIGN_KEYS_SQL).await?;
    let checks_sql = match flavour {
        Flavour::Mariadb => MARIADB_CHECKS_SQL,
        Flavour::Mysql => MYSQL_CHECKS_SQL,
    };
    let checks = rows(driver, checks_sql).await?;
    Ok(Catalog {
        tables: tables.iter().map(|r| r.text(0)).collect::<Result<_, _>>()?,
        table_comments: tables
            .iter()
            .filter_map(|r| {
                let comment = r.optional(1).filter(|c| !c.is_empty())?;
                Some(r.text(0).map(|name| (name, comment)))
            })
            .collect::<Result<_, _>>()?,
        columns: columns.iter().map(column_row).collect::<Result<_, _>>()?,
        indexes: indexes.iter().map(index_row).collect::<Result<_, _>>()?,
        foreign_keys: foreign_keys
            .iter()
            .map(foreign_key_row)
            .collect::<Result<_, _>>()?,
        checks: checks.iter().map(check_row).collect::<Result<_, _>>()?,
    })
}

fn column_row(r: &Cells) -> Result<ColumnRow, DriverError> {
    Ok(ColumnRow {
        table: r.text(0)?,
        name: r.text(1)?,
        position: r.number(2)?,
        column_type: r.text(3)?,
        nullable: r.text(4)? == "YES",
        default: r.optional(5),
        extra: r.optional(6).unwrap_or_default(),
        comment: r.optional(7).unwrap_or_default(),
        collation: r.optional(8),
        generation: r.optional(9).unwrap_or_default(),
    })
}

fn index_row(r: &Cells) -> Result<IndexRow, DriverError> {
    Ok(IndexRow {
        table: r.text(0)?,
        name: r.text(1)?,
        unique: r.text(2)? == "0",
        seq: r.number(3)?,
        column: r.optional(4),
        sub_part: r.optional(5),
        index_type: r.optional(6).unwrap_or_default(),
        descending: r.optional(7).as_deref() == Some("D"),
        expression: r.optional(8),
    })
}

fn foreign_key_row(r: &Cells) -> Result<ForeignKeyRow, DriverError> {
    Ok(ForeignKeyRow {
        table: r.text(0)?,
        name: r.text(1)?,
        column: r.text(2)?,
        position: r.number(3)?,
        same_database: r.text(4)? == "1",
        referenced_table: r.text(5)?,
        referenced_column: r.text(6)?,
        delete_rule: r.text(7)?,
        update_rule: r.text(8)?,
    })
}

fn check_row(r: &Cells) -> Result<CheckRow, DriverError> {
    Ok(CheckRow {
        table: r.text(0)?,
        name: r.text(1)?,
        clause: r.text(2)?,
    })
}

/// A result row with the query it came from, for error messages.
struct Cells {
    sql: &'static str,
    row: Row,
}

impl Cells {
    fn optional(&self, i: usize) -> Option<String> {
        self.row.get(i).cloned().flatten()
    }

    fn text(&self, i: usize) -> Result<String, DriverError> {
        self.optional(i).ok_or_else(|| self.unexpected(i, "NULL"))
    }

    fn number(&self, i: usize) -> Result<u32, DriverError> {
        let text = self.text(i)?;
        text.parse().map_err(|_| self.unexpected(i, &text))
    }

    fn unexpected(&self, i: usize, found: &str) -> DriverError {
        DriverError::statement(
            self.sql,
            format!("unexpected {found} in column {} of the answer", i + 1),
        )
    }
}

async fn rows(driver: &mut dyn Driver, sql: &'static str) -> Result<Vec<Cells>, DriverError> {
    Ok(driver
        .query(sql)
        .await?
        .into_iter()
        .map(|row| Cells { sql, row })
        .collect())
}
