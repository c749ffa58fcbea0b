//! What "does not fit" means on MySQL/MariaDB, for the engine's column-change guards.
//!
//! The guards run first so that a narrowing fails on the same data as on the other
//! backends; strict `sql_mode` and the warning check of the driver remain the net for
//! what the guards do not cover (see `driver::session` and `driver::warnings`).

use strata_engine::dialect::power_of_ten;
use strata_engine::types::{Fit, REAL_MAX};
use strata_engine::ColumnType;

/// The condition under which `value`, a non-null column of type `from`, does not fit.
/// MySQL rounds a decimal's extra digits and cuts a date's time of day with only a
/// note, even in strict mode: these conditions are what stops that.
pub(super) fn misfit_sql(value: &str, from: ColumnType, fit: Fit) -> String {
    // A string compared with a number is read as a double; DECIMAL(65,30) keeps the
    // digits a decimal column can have.
    let number = if from.is_numeric() {
        value.to_string()
    } else {
        format!("CAST({value} AS DECIMAL(65,30))")
    };
    match fit {
        Fit::Chars(n) => format!("CHAR_LENGTH({value}) > {n}"),
        Fit::Integer { min, max, whole } => {
            let range = format!("{value} < {min} OR {value} > {max}");
            if whole {
                format!("{range} OR {number} <> ROUND({number})")
            } else {
                range
            }
        }
        Fit::Decimal { precision, scale } => format!(
            "{number} <> ROUND({number}, {scale}) OR ABS({number}) >= {}",
            power_of_ten(precision - scale)
        ),
        Fit::RealRange => format!("ABS({value}) > {REAL_MAX:e}"),
        Fit::Exact { limit } => format!("{value} > {limit} OR {value} < -{limit}"),
        Fit::Bool => format!("{value} NOT IN (0, 1)"),
        // TIME() keeps the fractional seconds that CAST(… AS TIME) would drop.
        Fit::Midnight => format!("TIME({value}) <> TIME '00:00:00'"),
        Fit::Nothing => "1 = 1".into(),
    }
}
