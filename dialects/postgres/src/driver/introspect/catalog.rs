//! The catalog queries of introspection, and their rows as plain structs.
//!
//! pg_catalog rather than information_schema: it has what information_schema lacks
//! (index predicates, identity columns, referential actions by constraint, columns
//! in key order) and is not filtered by the user's privileges. Names are read as
//! `text`, so they come back exactly as stored, never quoted.

use strata_engine::dialect::driver::DriverError;
use tokio_postgres::{Client, Row};

use crate::driver::statement_error;

/// The user tables of `current_schema()`: ordinary and partitioned tables, not the
/// partitions of one (they are part of their parent), and not the tables an
/// extension owns (PostGIS's `spatial_ref_sys` is no migration's business).
macro_rules! tables_cte {
    () => {
        "WITH tables AS (
  SELECT c.oid, c.relname::text AS relname, c.relnamespace
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = current_schema()
    AND c.relkind IN ('r', 'p')
    AND NOT c.relispartition
    AND NOT EXISTS (
      SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'))
"
    };
}

pub(crate) const TABLE_NAMES_SQL: &str = concat!(tables_cte!(), "SELECT relname FROM tables");

/// The tables with their `COMMENT ON TABLE`.
const TABLES_SQL: &str = concat!(
    tables_cte!(),
    "SELECT relname, obj_description(oid, 'pg_class') FROM tables"
);

const COLUMNS_SQL: &str = concat!(
    tables_cte!(),
    "SELECT t.relname,
       a.attname::text,
       format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       a.attidentity IN ('a', 'd'),
       a.attgenerated <> '',
       pg_get_expr(d.adbin, d.adrelid),
       col_description(t.oid, a.attnum),
       CASE WHEN a.attcollation <> ty.typcollation THEN co.collname::text END
FROM tables t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type ty ON ty.oid = a.atttypid
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
ORDER BY t.oid, a.attnum"
);

/// Primary keys, unique, check and foreign key constraints. Key columns come in the
/// constraint's order (`WITH ORDINALITY`), which is what a composite key means.
const CONSTRAINTS_SQL: &str = concat!(
    tables_cte!(),
    "SELECT t.relname,
       k.conname::text,
       k.contype::text,
       array(SELECT a.attname::text
             FROM unnest(k.conkey) WITH ORDINALITY u(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.attnum
             ORDER BY u.ord),
       CASE WHEN f.relnamespace = t.relnamespace THEN f.relname::text
            ELSE fn.nspname || '.' || f.relname END,
       array(SELECT a.attname::text
             FROM unnest(k.confkey) WITH ORDINALITY u(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.attnum
             ORDER BY u.ord),
       k.confdeltype::text,
       k.confupdtype::text,
       CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid, true) END,
       k.condeferrable,
       k.condeferred
FROM tables t
JOIN pg_constraint k ON k.conrelid = t.oid
LEFT JOIN pg_class f ON f.oid = k.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = f.relnamespace
WHERE k.contype IN ('p', 'u', 'c', 'f')"
);

/// Indexes that are not the implementation of a primary key, unique or exclusion
/// constraint (those are reported as the constraint). An expression key is reported
/// as its SQL text, flagged in the parallel array; an operator class only when it is
/// not the default of the column's type. `indnullsnotdistinct` (PostgreSQL 15+) is
/// read through `to_jsonb` so the query runs on older servers too.
const INDEXES_SQL: &str = concat!(
    tables_cte!(),
    "SELECT t.relname,
       ic.relname::text,
       i.indisunique,
       i.indisvalid,
       array(SELECT CASE WHEN u.attnum = 0
                         THEN pg_get_indexdef(i.indexrelid, u.ord::int, true)
                         ELSE a.attname::text END
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord)
             LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum
             WHERE u.ord <= i.indnkeyatts
             ORDER BY u.ord),
       pg_get_expr(i.indpred, i.indrelid, true),
       array(SELECT u.attnum = 0
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord)
             WHERE u.ord <= i.indnkeyatts
             ORDER BY u.ord),
       array(SELECT CASE WHEN oc.opcdefault THEN '' ELSE oc.opcname::text END
             FROM unnest(i.indclass::oid[]) WITH ORDINALITY c(opclass, ord)
             JOIN pg_opclass oc ON oc.oid = c.opclass
             WHERE c.ord <= i.indnkeyatts
             ORDER BY c.ord),
       array(SELECT a.attname::text
             FROM unnest(i.indkey::int2[]) WITH ORDINALITY u(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = u.attnum
             WHERE u.ord > i.indnkeyatts
             ORDER BY u.ord),
       am.amname::text,
       coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false)
FROM tables t
JOIN pg_index i ON i.indrelid = t.oid
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
WHERE NOT EXISTS (
  SELECT 1 FROM pg_constraint k
  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
    AND k.contype IN ('p', 'u', 'x'))"
);

/// Whether plain `'…'` literals in deparsed expressions treat backslashes literally.
const STANDARD_STRINGS_SQL: &str = "SELECT current_setting('standard_conforming_strings') = 'on'";

pub(super) struct TableRow {
    pub name: String,
    pub comment: Option<String>,
}

pub(super) struct ColumnRow {
    pub table: String,
    pub name: String,
    /// As `format_type` spells it: `character varying(20)`, `numeric(12,2)`.
    pub sql_type: String,
    pub not_null: bool,
    pub identity: bool,
    pub generated: bool,
    /// The default (or generation) expression, deparsed.
    pub default: Option<String>,
    /// `COMMENT ON COLUMN`.
    pub comment: Option<String>,
    /// The column's collation when it is not its type's default.
    pub collation: Option<String>,
}

pub(super) struct ConstraintRow {
    pub table: String,
    pub name: String,
    /// `p`, `u`, `c` or `f`, as `pg_constraint.contype`.
    pub kind: String,
    pub columns: Vec<String>,
    pub references: Option<String>,
    pub referenced_columns: Vec<String>,
    /// `pg_constraint.confdeltype` / `confupdtype`: `a`, `r`, `c`, `n`, `d`.
    pub on_delete: String,
    pub on_update: String,
    pub check: Option<String>,
    /// `pg_constraint.condeferrable` / `condeferred`.
    pub deferrable: bool,
    pub deferred: bool,
}

pub(super) struct IndexRow {
    pub table: String,
    pub name: String,
    pub unique: bool,
    /// False for the leftover of a failed `CREATE INDEX CONCURRENTLY`.
    pub valid: bool,
    /// Key parts: a column name, or an expression's text where `expression` says so.
    pub columns: Vec<String>,
    pub predicate: Option<String>,
    pub expression: Vec<bool>,
    /// Per key part: its operator class, empty when the type's default.
    pub opclasses: Vec<String>,
    pub include: Vec<String>,
    pub method: String,
    pub nulls_not_distinct: bool,
}

async fn rows(client: &Client, sql: &str) -> Result<Vec<Row>, DriverError> {
    client
        .query(sql, &[])
        .await
        .map_err(|e| statement_error(sql, e))
}

/// Runs `sql` and reads each row with `read`, turning an unexpected column type
/// (a catalog that changed shape) into an error instead of a panic.
async fn read_rows<T>(
    client: &Client,
    sql: &str,
    read: impl Fn(&Row) -> Result<T, tokio_postgres::Error>,
) -> Result<Vec<T>, DriverError> {
    rows(client, sql)
        .await?
        .iter()
        .map(|row| read(row).map_err(|e| statement_error(sql, e)))
        .collect()
}

pub(super) async fn tables(client: &Client) -> Result<Vec<TableRow>, DriverError> {
    read_rows(client, TABLES_SQL, |r| {
        Ok(TableRow {
            name: r.try_get(0)?,
            comment: r.try_get(1)?,
        })
    })
    .await
}

pub(super) async fn columns(client: &Client) -> Result<Vec<ColumnRow>, DriverError> {
    read_rows(client, COLUMNS_SQL, |r| {
        Ok(ColumnRow {
            table: r.try_get(0)?,
            name: r.try_get(1)?,
            sql_type: r.try_get(2)?,
            not_null: r.try_get(3)?,
            identity: r.try_get(4)?,
            generated: r.try_get(5)?,
            default: r.try_get(6)?,
            comment: r.try_get(7)?,
            collation: r.try_get(8)?,
        })
    })
    .await
}

pub(super) async fn constraints(client: &Client) -> Result<Vec<ConstraintRow>, DriverError> {
    read_rows(client, CONSTRAINTS_SQL, |r| {
        Ok(ConstraintRow {
            table: r.try_get(0)?,
            name: r.try_get(1)?,
            kind: r.try_get(2)?,
            columns: r.try_get(3)?,
            references: r.try_get(4)?,
            referenced_columns: r.try_get(5)?,
            on_delete: r.try_get(6)?,
            on_update: r.try_get(7)?,
            check: r.try_get(8)?,
            deferrable: r.try_get(9)?,
            deferred: r.try_get(10)?,
        })
    })
    .await
}

pub(super) async fn indexes(client: &Client) -> Result<Vec<IndexRow>, DriverError> {
    read_rows(client, INDEXES_SQL, |r| {
        Ok(IndexRow {
            table: r.try_get(0)?,
            name: r.try_get(1)?,
            unique: r.try_get(2)?,
            valid: r.try_get(3)?,
            columns: r.try_get(4)?,
            predicate: r.try_get(5)?,
            expression: r.try_get(6)?,
            opclasses: r.try_get(7)?,
            include: r.try_get(8)?,
            method: r.try_get(9)?,
            nulls_not_distinct: r.try_get(10)?,
        })
    })
    .await
}

pub(super) async fn standard_conforming_strings(client: &Client) -> Result<bool, DriverError> {
    let on = read_rows(client, STANDARD_STRINGS_SQL, |r| r.try_get::<_, bool>(0)).await?;
    // The setting always exists; on (the default since 9.1) if it somehow did not answer.
    Ok(on.first().copied().unwrap_or(true))
}
