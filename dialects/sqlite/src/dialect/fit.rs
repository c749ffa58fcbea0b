//! What "does not fit" means on SQLite, for the engine's column-change guards.
//!
//! SQLite enforces no declared length or range: a `varchar(2)` column takes
//! `'abcdefghij'`, and a rebuild copies every value as it is (converting only what its
//! affinity converts losslessly). strata holds SQLite to the declared type all the
//! same when a migration narrows it, so that the migration fails on the same data as
//! on PostgreSQL and MySQL: text longer than a `char(n)`/`varchar(n)`, a number
//! outside the new integer type's range or with a fraction, more decimal digits than
//! a `decimal(p,s)` holds. Only values stored as numbers are checked against numeric
//! types: text that does not read as a number stays text in a numeric column, as
//! SQLite always keeps it. docs/types.md says the same.

use strata_engine::dialect::power_of_ten;
use strata_engine::types::{Fit, REAL_MAX};
use strata_engine::ColumnType;

/// The condition under which `value`, a non-null column of type `from`, does not fit.
pub(super) fn misfit_sql(value: &str, from: ColumnType, fit: Fit) -> String {
    let _ = from;
    let stored_number = format!("typeof({value}) IN ('integer', 'real')");
    match fit {
        // `length` counts characters of text and of a number's text form.
        Fit::Chars(n) => format!("length({value}) > {n}"),
        Fit::Integer { min, max, whole } => {
            // Only a real can hold a fraction; comparing an integer with its `round()`
            // (a real) would misjudge those beyond 2^53.
            let fraction = if whole {
                format!(" OR (typeof({value}) = 'real' AND {value} <> round({value}))")
            } else {
                String::new()
            };
            format!("{stored_number} AND ({value} < {min} OR {value} > {max}{fraction})")
        }
        Fit::Decimal { precision, scale } => format!(
            "{stored_number} AND ((typeof({value}) = 'real' AND {value} <> round({value}, \
             {scale})) OR abs({value}) >= {})",
            power_of_ten(precision - scale)
        ),
        Fit::RealRange => format!("typeof({value}) = 'real' AND abs({value}) > {REAL_MAX:e}"),
        Fit::Exact { limit } => {
            format!("{stored_number} AND ({value} > {limit} OR {value} < -{limit})")
        }
        Fit::Bool => format!("{stored_number} AND {value} NOT IN (0, 1)"),
        Fit::Midnight => {
            format!("typeof({value}) = 'text' AND strftime('%H:%M:%f', {value}) <> '00:00:00.000'")
        }
        Fit::Nothing => "1 = 1".into(),
    }
}
