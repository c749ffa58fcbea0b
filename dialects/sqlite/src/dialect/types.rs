//! How neutral types are spelled on SQLite, and the affinity SQLite gives each spelling.
//!
//! SQLite accepts any type name and derives a *type affinity* from it
//! (<https://www.sqlite.org/datatype3.html#determination_of_column_affinity>). The
//! names below are the ones Django writes, so a schema made by strata reads like one
//! made by Django; the affinity decides how values convert when a rebuild copies them.

use strata_engine::ColumnType;

/// The declared SQLite type of each neutral type: the source of the docs' mapping table.
pub fn sql_type(ty: ColumnType) -> String {
    match ty {
        ColumnType::Bool => "bool".into(),
        ColumnType::SmallInt => "smallint".into(),
        ColumnType::Int => "integer".into(),
        // A duration is its microseconds, as Django stores a DurationField.
        ColumnType::BigInt | ColumnType::Duration => "bigint".into(),
        ColumnType::Real => "real".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Decimal { precision, scale } => format!("decimal({precision}, {scale})"),
        ColumnType::Char(n) => format!("char({n})"),
        ColumnType::Varchar(n) => format!("varchar({n})"),
        ColumnType::Text | ColumnType::Enum => "text".into(),
        ColumnType::Bytes => "blob".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => "time".into(),
        ColumnType::DateTime => "datetime".into(),
        ColumnType::TimestampTz => "timestamptz".into(),
        ColumnType::Uuid => "uuid".into(),
        ColumnType::Json => "json".into(),
        // Django's spellings: a Positive…Field is `… unsigned` (INTEGER affinity) with a `CHECK (col >= 0)`.
        ColumnType::USmallInt => "smallint unsigned".into(),
        ColumnType::UInt => "integer unsigned".into(),
        ColumnType::UBigInt => "bigint unsigned".into(),
    }
}

/// The type of an auto-increment column, whatever its neutral integer type: only a
/// column declared exactly `integer` becomes an alias of the rowid.
pub(crate) const AUTO_TYPE: &str = "integer";

/// The neutral type of a declared SQLite type: the reverse of [`sql_type`].
///
/// Every spelling `sql_type` writes comes back exactly (`integer` is `int`; an
/// auto-increment column's type is `integer` whatever it was, see `AUTO_TYPE`), and
/// so do the neutral spellings themselves (`int`, `boolean`, `decimal(12,2)`). Any
/// other declared type cannot be expressed in strata's vocabulary; it is read as the
/// neutral type SQLite itself treats it like, by its affinity: INTEGER → `bigint`,
/// TEXT → `text`, BLOB (or no type at all) → `bytes`, REAL → `double`, NUMERIC →
/// `decimal(65,30)` (the widest decimal every dialect accepts). A drift check then
/// reports the column's type as different, which it is.
pub fn neutral_type(declared: &str) -> ColumnType {
    let normal = declared
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_lowercase();
    match normal.as_str() {
        "double precision" => return ColumnType::Double,
        "blob" => return ColumnType::Bytes,
        _ => {}
    }
    if let Ok(ty) = normal.parse::<ColumnType>() {
        return ty;
    }
    tracing::debug!(
        declared,
        "SQLite type outside strata's vocabulary; read by affinity"
    );
    match affinity(declared) {
        Affinity::Integer => ColumnType::BigInt,
        Affinity::Text => ColumnType::Text,
        Affinity::Blob => ColumnType::Bytes,
        Affinity::Real => ColumnType::Double,
        Affinity::Numeric => ColumnType::Decimal {
            precision: 65,
            scale: 30,
        },
    }
}

/// SQLite's type affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

/// The affinity SQLite derives from a declared type, by its documented rules (in order).
pub fn affinity(declared: &str) -> Affinity {
    let upper = declared.to_ascii_uppercase();
    if upper.contains("INT") {
        Affinity::Integer
    } else if ["CHAR", "CLOB", "TEXT"].iter().any(|s| upper.contains(s)) {
        Affinity::Text
    } else if upper.contains("BLOB") || upper.trim().is_empty() {
        Affinity::Blob
    } else if ["REAL", "FLOA", "DOUB"].iter().any(|s| upper.contains(s)) {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_spelled_as_django_writes_them() {
        let cases = [
            (ColumnType::Bool, "bool"),
            (ColumnType::SmallInt, "smallint"),
            (ColumnType::Int, "integer"),
            (ColumnType::BigInt, "bigint"),
            (ColumnType::Real, "real"),
            (ColumnType::Double, "double precision"),
            (
                ColumnType::Decimal {
                    precision: 12,
                    scale: 2,
                },
                "decimal(12, 2)",
            ),
            (ColumnType::Char(2), "char(2)"),
            (ColumnType::Varchar(100), "varchar(100)"),
            (ColumnType::Text, "text"),
            (ColumnType::Bytes, "blob"),
            (ColumnType::Date, "date"),
            (ColumnType::Time, "time"),
            (ColumnType::DateTime, "datetime"),
            (ColumnType::TimestampTz, "timestamptz"),
            (ColumnType::Uuid, "uuid"),
            (ColumnType::Json, "json"),
            (ColumnType::Duration, "bigint"),
            (ColumnType::USmallInt, "smallint unsigned"),
            (ColumnType::UInt, "integer unsigned"),
            (ColumnType::UBigInt, "bigint unsigned"),
        ];
        for (ty, expected) in cases {
            assert_eq!(sql_type(ty), expected, "{ty}");
        }
    }

    #[test]
    fn every_spelling_reads_back_as_its_neutral_type() {
        let all = [
            ColumnType::Bool,
            ColumnType::SmallInt,
            ColumnType::Int,
            ColumnType::BigInt,
            ColumnType::Real,
            ColumnType::Double,
            ColumnType::Decimal {
                precision: 12,
                scale: 2,
            },
            ColumnType::Char(2),
            ColumnType::Varchar(100),
            ColumnType::Text,
            ColumnType::Bytes,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::DateTime,
            ColumnType::TimestampTz,
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::USmallInt,
            ColumnType::UInt,
            ColumnType::UBigInt,
        ];
        for ty in all {
            assert_eq!(neutral_type(&sql_type(ty)), ty, "{ty}");
            assert_eq!(neutral_type(&sql_type(ty).to_uppercase()), ty, "{ty}");
            assert_eq!(neutral_type(&ty.to_string()), ty, "{ty}");
        }
        assert_eq!(neutral_type("DOUBLE  PRECISION"), ColumnType::Double);
        assert_eq!(neutral_type(AUTO_TYPE), ColumnType::Int);
        // Stored as Django stores it, a duration reads back as the `bigint` it is
        // (drift compares the two as the same SQL type).
        assert_eq!(
            neutral_type(&sql_type(ColumnType::Duration)),
            ColumnType::BigInt
        );
    }

    #[test]
    fn foreign_types_are_read_by_affinity() {
        assert_eq!(neutral_type("mediumint"), ColumnType::BigInt);
        assert_eq!(neutral_type("nvarchar"), ColumnType::Text);
        assert_eq!(neutral_type("clob"), ColumnType::Text);
        assert_eq!(neutral_type(""), ColumnType::Bytes);
        assert_eq!(neutral_type("float8"), ColumnType::Double);
        let widest = ColumnType::Decimal {
            precision: 65,
            scale: 30,
        };
        assert_eq!(neutral_type("decimal"), widest);
        assert_eq!(neutral_type("numeric(10)"), widest);
        assert_eq!(neutral_type("varchar(0)"), ColumnType::Text);
        assert_eq!(neutral_type("decimal(99, 2)"), widest);
        assert_eq!(neutral_type("weird("), widest);
    }

    #[test]
    fn affinities_follow_sqlite_rules() {
        assert_eq!(affinity("bigint"), Affinity::Integer);
        assert_eq!(affinity("smallint"), Affinity::Integer);
        assert_eq!(affinity("varchar(10)"), Affinity::Text);
        assert_eq!(affinity("blob"), Affinity::Blob);
        assert_eq!(affinity("double precision"), Affinity::Real);
        assert_eq!(affinity("decimal(12, 2)"), Affinity::Numeric);
        assert_eq!(affinity("bool"), Affinity::Numeric);
        // "timestamptz" contains no "INT": numeric, like every date/time type.
        assert_eq!(affinity("timestamptz"), Affinity::Numeric);
    }
}
