//! `migrate --rehearse` on PostgreSQL: the copy is `CREATE DATABASE copy TEMPLATE
//! source`, which the server refuses while other sessions use the source (55006);
//! then, or when a sample is asked for, the structure is rebuilt from the source's
//! introspected schema and the rows are streamed with `COPY … TO STDOUT` / `COPY …
//! FROM STDIN` (all, or `LIMIT sample` per table), all read in one snapshot. The
//! table's `relfilenode`, which a rewrite changes, is its storage id.

use futures_util::{SinkExt, StreamExt};
use strata_engine::autodetect::{self, Decisions};
use strata_engine::dialect::driver::{redact_url, run_statement, Driver, DriverError};
use strata_engine::dialect::rehearsal::{
    copy_name, url_with_database, CopyMethod, RehearsalCopy, Sample,
};
use strata_engine::script::{self, Direction};
use strata_engine::{Dialect, SchemaState};

use super::create::connect_to_server;
use super::{url, ClientHandle, PostgresDriver};
use crate::PostgresDialect;

/// SQLSTATE 55006: the template database is being accessed by other users.
const OBJECT_IN_USE: &str = "55006";
/// PostgreSQL's identifier limit (NAMEDATALEN - 1).
const MAX_NAME: usize = 63;

impl PostgresDriver {
    /// Makes the rehearsal copy of the database `url` names.
    pub async fn rehearsal_copy(
        url: &str,
        sample: Option<Sample<'_>>,
    ) -> Result<RehearsalCopy, DriverError> {
        let url::Settings { config, tls, .. } = url::parse(url)?;
        let source = config
            .get_dbname()
            .or(config.get_user())
            .unwrap_or_default()
            .to_string();
        let name = copy_name(&source, MAX_NAME);
        let copy_url = url_with_database(url, &name).ok_or_else(|| DriverError::Url {
            url: redact_url(url),
            reason: "a rehearsal needs a `postgres://…/database` URL, to name its copy".to_string(),
        })?;
        let q = |ident: &str| PostgresDialect.quote_ident(ident);
        let mut admin = connect_to_server(url, &config, &tls).await?;
        // A copy of this name is one an earlier process of the same id left behind.
        let made = async {
            admin
                .execute(&format!("DROP DATABASE IF EXISTS {}", q(&name)))
                .await?;
            let template = format!("CREATE DATABASE {} TEMPLATE {}", q(&name), q(&source));
            if sample.is_none() {
                match admin.execute(&template).await {
                    Ok(()) => return Ok(CopyMethod::Template),
                    Err(e) if sqlstate(&e) != Some(OBJECT_IN_USE) => return Err(e),
                    Err(e) => tracing::info!("no template copy ({e}); copying the rows instead"),
                }
            }
            admin
                .execute(&format!("CREATE DATABASE {}", q(&name)))
                .await?;
            Ok(CopyMethod::Rows)
        }
        .await;
        let method = match made {
            Ok(method) => method,
            Err(e) => {
                let _ = Box::new(admin).close().await;
                return Err(e);
            }
        };
        let copy = RehearsalCopy {
            url: copy_url,
            name,
            method,
            sample: sample
                .map(|s| s.rows)
                .filter(|_| method == CopyMethod::Rows),
        };
        if method == CopyMethod::Rows {
            if let Err(e) = copy_rows(url, &copy, sample).await {
                let _ = drop_database(&mut admin, &copy.name).await;
                let _ = Box::new(admin).close().await;
                return Err(e);
            }
        }
        Box::new(admin).close().await?;
        Ok(copy)
    }

    /// Drops a rehearsal copy, ending any session still connected to it.
    pub async fn drop_rehearsal_copy(url: &str, copy: &RehearsalCopy) -> Result<(), DriverError> {
        let url::Settings { config, tls, .. } = url::parse(url)?;
        let mut admin = connect_to_server(url, &config, &tls).await?;
        let dropped = drop_database(&mut admin, &copy.name).await;
        Box::new(admin).close().await?;
        dropped
    }
}

async fn drop_database(admin: &mut PostgresDriver, name: &str) -> Result<(), DriverError> {
    let name = PostgresDialect.quote_ident(name);
    // `WITH (FORCE)` (13+) ends a session a killed strata left connected.
    let force = if admin.version.at_least(13, 0, 0) {
        " WITH (FORCE)"
    } else {
        ""
    };
    admin
        .execute(&format!("DROP DATABASE IF EXISTS {name}{force}"))
        .await
}

/// The structure of the source (introspected, rendered as the migrations from an
/// empty schema would be), then its rows, table by table.
async fn copy_rows(
    url: &str,
    copy: &RehearsalCopy,
    sample: Option<Sample<'_>>,
) -> Result<(), DriverError> {
    let mut source = PostgresDriver::connect(url).await?;
    let mut target = PostgresDriver::connect(&copy.url).await?;
    let copied = async {
        // One snapshot for the schema and every table's rows: a migration that
        // commits meanwhile (the template copy was refused because sessions use the
        // database) is then wholly in the copy or wholly not, never its history row
        // without its rows or the other way round.
        source
            .execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await?;
        let schema = source.introspect().await?;
        let not_valid = not_valid_checks(&mut source).await?;
        build_structure(&mut target, &without(&schema, &not_valid)).await?;
        // Rows in any order: foreign keys and triggers are not enforced while they
        // are copied (a superuser's setting; without it, the order may fail them).
        if let Err(e) = target
            .execute("SET session_replication_role = replica")
            .await
        {
            tracing::info!("foreign keys stay enforced while rows are copied: {e}");
        }
        for table in schema.tables.values() {
            let columns: Vec<String> = table
                .columns
                .iter()
                .filter(|c| c.generated.is_none())
                .map(|c| PostgresDialect.quote_ident(&c.name))
                .collect();
            let limit = sample.and_then(|s| s.limit(&table.name));
            copy_table(&source, &target, &table.name, &columns.join(", "), limit).await?;
            // The copied keys are taken: each sequence resumes after the largest.
            for column in table.columns.iter().filter(|c| c.auto) {
                target
                    .query(&resume_sequence(&table.name, &column.name))
                    .await?;
            }
        }
        for check in &not_valid {
            target.execute(&check.add_sql()).await?;
        }
        Ok(())
    }
    .await;
    let _ = Box::new(source).close().await;
    let _ = Box::new(target).close().await;
    copied
}

/// A check constraint added `NOT VALID` in the source: rows it would refuse may be
/// there, so the copy adds it (as `NOT VALID`) only once the rows are in.
struct NotValidCheck {
    table: String,
    name: String,
    /// `CHECK (…) NOT VALID`, as `pg_get_constraintdef` gives it.
    definition: String,
}

impl NotValidCheck {
    fn add_sql(&self) -> String {
        let d = PostgresDialect;
        format!(
            "ALTER TABLE {} ADD CONSTRAINT {} {}",
            d.quote_ident(&self.table),
            d.quote_ident(&self.name),
            self.definition
        )
    }
}

async fn not_valid_checks(source: &mut PostgresDriver) -> Result<Vec<NotValidCheck>, DriverError> {
    let rows = source
        .query(
            "SELECT t.relname::text, c.conname::text, pg_get_constraintdef(c.oid) \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE c.contype = 'c' AND NOT c.convalidated \
             AND t.relnamespace = current_schema()::regnamespace \
             ORDER BY 1, 2",
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|row| match row.as_slice() {
            [Some(table), Some(name), Some(definition)] => Some(NotValidCheck {
                table: table.clone(),
                name: name.clone(),
                definition: definition.clone(),
            }),
            _ => None,
        })
        .collect())
}

/// `schema` without the `checks`, which are added after the rows.
fn without(schema: &SchemaState, checks: &[NotValidCheck]) -> SchemaState {
    let mut schema = schema.clone();
    for check in checks {
        if let Ok(table) = schema.table_mut(&check.table) {
            table.checks.retain(|c| c.name != check.name);
        }
    }
    schema
}

async fn build_structure(
    target: &mut PostgresDriver,
    schema: &SchemaState,
) -> Result<(), DriverError> {
    let empty = SchemaState::default();
    let unsupported = |what: String| DriverError::Unsupported {
        driver: "postgres".to_string(),
        what: format!("rebuilding the schema for a rehearsal copy ({what})"),
    };
    let operations = autodetect::diff(&empty, schema, &Decisions::default())
        .map_err(|e| unsupported(e.to_string()))?;
    let (script, _) = script::render(
        &PostgresDialect,
        target.version,
        &empty,
        &operations,
        false,
        Direction::Forward,
    )
    .map_err(|e| unsupported(e.to_string()))?;
    for statement in script.operations.iter().flat_map(|op| &op.statements) {
        run_statement(target, statement).await?;
    }
    Ok(())
}

async fn copy_table(
    source: &PostgresDriver,
    target: &PostgresDriver,
    table: &str,
    columns: &str,
    limit: Option<u64>,
) -> Result<(), DriverError> {
    let quoted = PostgresDialect.quote_ident(table);
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    let out_sql = format!("COPY (SELECT {columns} FROM {quoted}{limit}) TO STDOUT");
    let in_sql = format!("COPY {quoted} ({columns}) FROM STDIN");
    let failed = |sql: &str, e: tokio_postgres::Error| super::statement_error(sql, e);
    let rows = source
        .client
        .client()
        .copy_out(out_sql.as_str())
        .await
        .map_err(|e| failed(&out_sql, e))?;
    let sink = target
        .client
        .client()
        .copy_in(in_sql.as_str())
        .await
        .map_err(|e| failed(&in_sql, e))?;
    futures_util::pin_mut!(rows, sink);
    while let Some(chunk) = rows.next().await {
        let chunk = chunk.map_err(|e| failed(&out_sql, e))?;
        sink.send(chunk).await.map_err(|e| failed(&in_sql, e))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| failed(&in_sql, e))?;
    Ok(())
}

/// Sets the sequence behind `table.column` (serial or identity) past its largest
/// value.
fn resume_sequence(table: &str, column: &str) -> String {
    let d = PostgresDialect;
    format!(
        "SELECT setval(pg_get_serial_sequence({}, {}), COALESCE(max({}), 0) + 1, false) FROM {}",
        d.quote_string(&d.quote_ident(table)),
        d.quote_string(column),
        d.quote_ident(column),
        d.quote_ident(table)
    )
}

/// The table's relfilenode (no row: no such table).
pub(super) fn storage_id_sql(table: &str) -> String {
    let d = PostgresDialect;
    format!(
        "SELECT relfilenode::text FROM pg_class WHERE oid = to_regclass({})",
        d.quote_string(&d.quote_ident(table))
    )
}

fn sqlstate(error: &DriverError) -> Option<&str> {
    error.code().and_then(|code| code.sqlstate())
}
