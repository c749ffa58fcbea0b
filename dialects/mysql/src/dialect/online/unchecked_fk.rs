//! A foreign key added to a live MariaDB table without copying it.
//!
//! InnoDB adds a foreign key in place only with `foreign_key_checks` off; with them
//! on, it copies the table while writes wait (seconds per million rows). So MariaDB's
//! safe plan adds the key unchecked for that one statement (`SET STATEMENT … FOR`,
//! which leaves the session's setting alone), `ALGORITHM=INPLACE, LOCK=NONE`, then
//! checks the rows that were already there with a read that blocks nothing — the
//! shape of PostgreSQL's `NOT VALID` + `VALIDATE`. Every write after the key exists is
//! checked by the server; a row from before that breaks it fails the operation, whose
//! cleanup drops the key (and the index that supports it) again.
//!
//! MySQL has no `SET STATEMENT`: its safe plan keeps the documented copy. Nor does a
//! key with an explicit `RESTRICT` action: MariaDB 10.11 stores it as `NO ACTION` when
//! it adds the key in place (the same behaviour in InnoDB, but not the schema the
//! migration asked for), so that key keeps the copy too.

use std::fmt::Write as _;

use strata_engine::ast::{AddForeignKey, FkAction, Operation};
use strata_engine::{Dialect, RenderContext, RenderError, Statement};

use super::Online;
use crate::dialect::{fk_index, MysqlDialect};
use crate::flavour::Flavour;

/// The prefix that turns the checks off for the one `ALTER TABLE`.
pub(crate) const UNCHECKED: &str = "SET STATEMENT foreign_key_checks=0 FOR ";

/// The foreign key `op` adds, when `flavour` adds it unchecked in a safe plan.
pub(crate) fn applies(flavour: Flavour, op: &Operation) -> Option<&AddForeignKey> {
    match op {
        Operation::AddForeignKey(o) if flavour == Flavour::Mariadb => {
            let fk = &o.foreign_key;
            let restrict = Some(FkAction::Restrict);
            (fk.on_delete != restrict && fk.on_update != restrict).then_some(o)
        }
        _ => None,
    }
}

/// The plain `statements` of `o` as the unchecked add and the check after it.
pub(crate) fn plan(
    d: MysqlDialect,
    o: &AddForeignKey,
    ctx: &RenderContext,
    statements: Vec<Statement>,
) -> Result<Vec<Statement>, RenderError> {
    let mut out: Vec<Statement> = statements
        .into_iter()
        .map(|mut s| {
            if s.fails_with_rows.is_none() && s.sql.starts_with("ALTER TABLE ") {
                s.sql = format!("{UNCHECKED}{}, {}", s.sql, Online::InplaceNoLock.clause());
            }
            s
        })
        .collect();
    out.push(orphans(d, o, ctx)?);
    Ok(out)
}

/// The guard that fails when a row references nothing (MATCH SIMPLE: a row with a
/// NULL in the key's columns references nothing and is left alone).
fn orphans(
    d: MysqlDialect,
    o: &AddForeignKey,
    ctx: &RenderContext,
) -> Result<Statement, RenderError> {
    let fk = &o.foreign_key;
    let child = d.table_ident(&o.table, ctx)?;
    let parent = d.table_ident(&fk.references, ctx)?;
    let present = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", d.quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let matching = fk
        .columns
        .iter()
        .zip(&fk.referenced_columns)
        .map(|(c, p)| format!("p.{} = c.{}", d.quote_ident(p), d.quote_ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    Ok(Statement::guard(
        format!(
            "SELECT misfits FROM (SELECT count(*) AS misfits FROM {child} AS c \
             WHERE {present} AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {matching})) \
             AS counted WHERE misfits > 0"
        ),
        format!(
            "add_foreign_key: rows of `{}` reference no row of `{}` through foreign key \
             `{}` (their number is under `rows`); the key was dropped again. Fix or \
             delete those rows first (a run_sql operation before this one)",
            o.table, fk.references, fk.name
        ),
    ))
}

/// What undoes the unchecked add: the key, and the index named after it that the same
/// statement created when no other index covers the key — each only while it has the
/// shape this plan gives it (the key to the same table, the index on exactly the
/// key's columns), so that an object of that name made by raw SQL stays. One compound
/// statement (`BEGIN NOT ATOMIC … END`), the conditions read from the catalog.
pub(crate) fn cleanup(
    d: MysqlDialect,
    o: &AddForeignKey,
    ctx: &RenderContext,
) -> Result<Vec<Statement>, RenderError> {
    let fk = &o.foreign_key;
    let table = d.table_ident(&o.table, ctx)?;
    let name = d.object_ident(&fk.name, ctx);
    let stored =
        strata_engine::naming::fit_identifier(&fk.name, ctx.capabilities.max_identifier_len);
    let mut body = format!(
        "IF EXISTS (SELECT 1 FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = {} AND CONSTRAINT_NAME = {} \
         AND REFERENCED_TABLE_NAME = {}) THEN ALTER TABLE {table} DROP FOREIGN KEY {name}; END IF;",
        d.quote_string(&o.table),
        d.quote_string(&stored),
        d.quote_string(&fk.references),
    );
    let before = ctx.state.table(&o.table)?;
    if !fk_index::covered(before, &fk.columns) {
        // Writing to a String cannot fail.
        let _ = write!(
            body,
            " IF (SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX SEPARATOR ',') \
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
             AND TABLE_NAME = {} AND INDEX_NAME = {}) = {} \
             THEN ALTER TABLE {table} DROP INDEX {name}; END IF;",
            d.quote_string(&o.table),
            d.quote_string(&stored),
            d.quote_string(&fk.columns.join(",")),
        );
    }
    Ok(vec![Statement {
        compound: true,
        ..Statement::new(format!("BEGIN NOT ATOMIC {body} END"))
    }])
}
