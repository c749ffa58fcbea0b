//! Data-loss warnings are errors: after a statement, the server's warnings that say a
//! value was cut, rounded, replaced or refused fail the statement.
//!
//! Strict `sql_mode` (see `session`) already turns most of these into errors; this is
//! the net for the rest (a note on a rounded decimal, a server or statement that is
//! not strict, `INSERT IGNORE` in a `run_sql`). It applies to every statement strata
//! runs, `run_sql` included: a migration that meant to drop data says so in SQL
//! (`LEFT(name, 2)`, an explicit `UPDATE`), which raises no warning. Other warnings
//! (deprecations, notes such as "table already exists") are logged and let through.

use mysql_async::prelude::Queryable;
use mysql_async::Conn;
use strata_engine::dialect::driver::DriverError;

/// Warning codes that mean a stored value is not the value written.
const DATA_LOSS: &[u16] = &[
    1048, // Column cannot be null
    1262, // Row was truncated; it contained more data than there were input columns
    1263, // Column set to default value; NULL supplied to NOT NULL column
    1264, // Out of range value for column
    1265, // Data truncated for column
    1292, // Truncated incorrect value / incorrect datetime value
    1300, // Invalid character string
    1365, // Division by 0
    1366, // Incorrect value for column
    1367, // Illegal value for type
    1406, // Data too long for column
    1916, // MariaDB: got overflow when converting
    1918, // MariaDB: encountered illegal value when converting
];

/// One row of `SHOW WARNINGS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Warning {
    pub level: String,
    pub code: u16,
    pub message: String,
}

/// The warnings of `sql`, which just ran on `conn`, that mean data was lost.
pub(super) fn data_loss(warnings: &[Warning]) -> Vec<&Warning> {
    warnings
        .iter()
        .filter(|w| DATA_LOSS.contains(&w.code) || w.level.eq_ignore_ascii_case("Error"))
        .collect()
}

/// Fails when the statement that just ran on `conn` (`sql`) raised a data-loss
/// warning; logs its other warnings. Costs nothing when the server reported none.
pub(super) async fn check(conn: &mut Conn, sql: &str) -> Result<(), DriverError> {
    if conn.get_warnings() == 0 {
        return Ok(());
    }
    let rows: Vec<(String, u16, String)> = conn
        .query("SHOW WARNINGS")
        .await
        .map_err(|e| super::statement_error("SHOW WARNINGS", e))?;
    let warnings: Vec<Warning> = rows
        .into_iter()
        .map(|(level, code, message)| Warning {
            level,
            code,
            message,
        })
        .collect();
    let lost = data_loss(&warnings);
    if lost.is_empty() {
        for w in &warnings {
            tracing::warn!(level = %w.level, code = w.code, message = %w.message, sql, "server warning");
        }
        return Ok(());
    }
    let described: Vec<String> = lost
        .iter()
        .map(|w| format!("{} {}: {}", w.level, w.code, w.message))
        .collect();
    Err(DriverError::statement(
        sql,
        format!(
            "the server changed data it was given and said so in warnings, which strata \
             treats as errors: {}. The statement itself ran: on MySQL/MariaDB a schema \
             change commits at once, so check the data it touched",
            described.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warning(level: &str, code: u16) -> Warning {
        Warning {
            level: level.into(),
            code,
            message: String::new(),
        }
    }

    #[test]
    fn only_data_loss_fails() {
        let warnings = [
            warning("Note", 1050),    // table already exists
            warning("Warning", 1287), // deprecated syntax
            warning("Warning", 1265),
            warning("Note", 1265),
            warning("Error", 1105),
        ];
        let codes: Vec<(&str, u16)> = data_loss(&warnings)
            .iter()
            .map(|w| (w.level.as_str(), w.code))
            .collect();
        assert_eq!(codes, [("Warning", 1265), ("Note", 1265), ("Error", 1105)]);
    }
}
