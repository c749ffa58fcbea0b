//! Neutral column types → MySQL/MariaDB types: the one mapping (it is the MySQL
//! column of the type table in the docs).

use strata_engine::{ColumnType, ServerVersion};

use crate::flavour::Flavour;

/// `char(n)` holds at most 255 characters on both servers.
const MAX_CHAR_LEN: u32 = 255;
/// The longest `varchar`, in characters; the 65,535-byte row limit may refuse less.
const MAX_VARCHAR_LEN: u32 = 65_535;
/// MySQL's `decimal` scale limit (MariaDB allows 38; the lower bound keeps one
/// migration valid on both).
const MAX_DECIMAL_SCALE: u8 = 30;

/// The SQL type of `ty`, or why the servers cannot store it.
///
/// - `text`/`bytes` are the `long` variants, so their size matches PostgreSQL's
///   unbounded `text`/`bytea` (plain `TEXT` stops at 64 KiB).
/// - temporal types keep microseconds (`(6)`), as PostgreSQL does.
/// - `timestamptz` is `datetime(6)` holding UTC: MySQL's `timestamp` ends in 2038.
/// - `uuid` is MariaDB 10.7+'s native type, else its 36-character text form.
pub fn sql_type(
    flavour: Flavour,
    version: ServerVersion,
    ty: ColumnType,
) -> Result<String, String> {
    Ok(match ty {
        ColumnType::Bool => "bool".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::Int => "integer".into(),
        // A duration is its microseconds, as Django stores a DurationField.
        ColumnType::BigInt | ColumnType::Duration => "bigint".into(),
        ColumnType::Real => "float".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Decimal { precision, scale } => {
            if scale > MAX_DECIMAL_SCALE {
                return Err(format!(
                    "decimal scale is at most {MAX_DECIMAL_SCALE} on MySQL, not {scale}"
                ));
            }
            format!("numeric({precision}, {scale})")
        }
        ColumnType::Char(n) => {
            if n > MAX_CHAR_LEN {
                return Err(format!(
                    "char({n}) is longer than MySQL's {MAX_CHAR_LEN}; use varchar({n})"
                ));
            }
            format!("char({n})")
        }
        ColumnType::Varchar(n) => {
            if n > MAX_VARCHAR_LEN {
                return Err(format!(
                    "varchar({n}) is longer than MySQL's {MAX_VARCHAR_LEN}; use text"
                ));
            }
            format!("varchar({n})")
        }
        ColumnType::Text => "longtext".into(),
        ColumnType::Bytes => "longblob".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => "time(6)".into(),
        ColumnType::DateTime | ColumnType::TimestampTz => "datetime(6)".into(),
        ColumnType::Uuid if flavour.native_uuid(version) => "uuid".into(),
        ColumnType::Uuid => "char(36)".into(),
        ColumnType::Json => "json".into(),
        ColumnType::USmallInt => "smallint unsigned".into(),
        ColumnType::UInt => "integer unsigned".into(),
        ColumnType::UBigInt => "bigint unsigned".into(),
        // `ENUM('a', …)` needs the column's values: `MysqlDialect::sql_type_in`.
        ColumnType::Enum => return Err("an enum's type is spelled with its values".into()),
    })
}

/// Whether an index can hold the whole column. `longtext`, `longblob` and `json`
/// need a key prefix length (or, for JSON, a generated column), which a neutral
/// migration cannot express; such keys are refused before they reach the server.
pub(super) fn indexable(ty: ColumnType) -> bool {
    !matches!(ty, ColumnType::Text | ColumnType::Bytes | ColumnType::Json)
}

/// Whether a literal default must be written as an expression, `DEFAULT ('x')`:
/// MySQL accepts no plain literal default on `TEXT`, `BLOB` or `JSON` columns.
pub(super) fn literal_default_needs_parentheses(ty: ColumnType) -> bool {
    !indexable(ty)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MYSQL: (Flavour, ServerVersion) = (Flavour::Mysql, ServerVersion::new(8, 0, 19));
    const MARIADB_10_5: (Flavour, ServerVersion) = (Flavour::Mariadb, ServerVersion::new(10, 5, 2));
    const MARIADB_10_11: (Flavour, ServerVersion) =
        (Flavour::Mariadb, ServerVersion::new(10, 11, 19));

    fn map(server: (Flavour, ServerVersion), ty: &str) -> String {
        sql_type(server.0, server.1, ty.parse().unwrap()).unwrap()
    }

    #[test]
    fn every_neutral_type_has_a_mysql_type() {
        let expected = [
            ("bool", "bool"),
            ("smallint", "smallint"),
            ("int", "integer"),
            ("bigint", "bigint"),
            ("real", "float"),
            ("double", "double precision"),
            ("decimal(12,2)", "numeric(12, 2)"),
            ("char(2)", "char(2)"),
            ("varchar(100)", "varchar(100)"),
            ("text", "longtext"),
            ("bytes", "longblob"),
            ("date", "date"),
            ("time", "time(6)"),
            ("datetime", "datetime(6)"),
            ("timestamptz", "datetime(6)"),
            ("uuid", "char(36)"),
            ("json", "json"),
            ("duration", "bigint"),
            ("smallint unsigned", "smallint unsigned"),
            ("int unsigned", "integer unsigned"),
            ("bigint unsigned", "bigint unsigned"),
        ];
        // `enum` is spelled with its values (`MysqlDialect::sql_type_in`).
        assert_eq!(expected.len() + 1, ColumnType::NAMES.len());
        for server in [MYSQL, MARIADB_10_5] {
            for (neutral, sql) in expected {
                assert_eq!(map(server, neutral), sql, "{neutral} on {:?}", server.0);
            }
        }
    }

    #[test]
    fn uuid_is_native_from_mariadb_10_7_only() {
        assert_eq!(map(MYSQL, "uuid"), "char(36)");
        assert_eq!(map(MARIADB_10_5, "uuid"), "char(36)");
        assert_eq!(map(MARIADB_10_11, "uuid"), "uuid");
    }

    #[test]
    fn sizes_beyond_the_server_limits_are_refused_with_a_reason() {
        let refuse = |ty: ColumnType| sql_type(Flavour::Mysql, MYSQL.1, ty).unwrap_err();
        assert!(refuse(ColumnType::Char(256)).contains("varchar(256)"));
        assert!(refuse(ColumnType::Varchar(70_000)).contains("text"));
        assert!(refuse(ColumnType::Decimal {
            precision: 40,
            scale: 31
        })
        .contains("scale"));
    }
}
