//! The neutral column types as PostgreSQL names them, both ways: [`sql_type`] for
//! rendering, [`neutral_type`] for introspection.

use strata_engine::ColumnType;

/// The PostgreSQL type for a neutral type: the `postgres` column of the type table
/// in the docs. Kept in one place so the docs and the renderer cannot drift apart.
pub fn sql_type(ty: ColumnType) -> String {
    match ty {
        ColumnType::Bool => "boolean".into(),
        // Unsigned: the signed type, plus the type check `col >= 0` (`type_checks`).
        ColumnType::SmallInt | ColumnType::USmallInt => "smallint".into(),
        ColumnType::Int | ColumnType::UInt => "integer".into(),
        ColumnType::BigInt | ColumnType::UBigInt => "bigint".into(),
        ColumnType::Real => "real".into(),
        ColumnType::Double => "double precision".into(),
        ColumnType::Decimal { precision, scale } => format!("numeric({precision}, {scale})"),
        ColumnType::Char(n) => format!("char({n})"),
        ColumnType::Varchar(n) => format!("varchar({n})"),
        ColumnType::Text | ColumnType::Enum => "text".into(),
        ColumnType::Bytes => "bytea".into(),
        ColumnType::Date => "date".into(),
        ColumnType::Time => "time".into(),
        ColumnType::DateTime => "timestamp".into(),
        ColumnType::TimestampTz => "timestamp with time zone".into(),
        ColumnType::Uuid => "uuid".into(),
        // jsonb, not json: indexable, and what applications almost always mean.
        ColumnType::Json => "jsonb".into(),
        ColumnType::Duration => "interval".into(),
    }
}

/// Whether PostgreSQL converts `from` into `to` by an assignment cast, which is what
/// `ALTER COLUMN … TYPE` does without `USING`: a length or range check that fails
/// rather than truncates. From `pg_cast` (castcontext `a` or `i`), plus the
/// conversion to a string type that every type has, and a changed length or
/// precision of one type. A test compares this with a live server's `pg_cast`.
pub(crate) fn assignment_cast(from: ColumnType, to: ColumnType) -> bool {
    use ColumnType as T;
    let string = |t: ColumnType| matches!(t, T::Char(_) | T::Varchar(_) | T::Text);
    let same_kind = std::mem::discriminant(&from) == std::mem::discriminant(&to);
    same_kind
        || string(to)
        || (from.is_numeric() && to.is_numeric())
        || matches!(
            (from, to),
            (T::Date, T::DateTime | T::TimestampTz)
                | (T::DateTime | T::TimestampTz, T::Date | T::Time)
                | (T::DateTime, T::TimestampTz)
                | (T::TimestampTz, T::DateTime)
        )
}

/// Whether `ALTER COLUMN … TYPE` from `from` to `to` keeps every stored value as it is,
/// so that PostgreSQL changes the catalog only, without rewriting the table or its
/// indexes: a binary-coercible cast with no length or precision check to run
/// (`varchar(n)` → `varchar(m ≥ n)` or `text`, `numeric(p, s)` → `numeric(p2 ≥ p, s)`,
/// the support functions of `varchar` and `numeric`). `char(n)` has no such support
/// function: any change of it rewrites. A live test compares this with the table's
/// `relfilenode` before and after.
pub(crate) fn changes_catalog_only(from: ColumnType, to: ColumnType) -> bool {
    use ColumnType as T;
    from == to
        || match (from, to) {
            (T::Varchar(n), T::Varchar(m)) => m >= n,
            (T::Varchar(_), T::Text) => true,
            (
                T::Decimal { precision, scale },
                T::Decimal {
                    precision: wider,
                    scale: same,
                },
            ) => same == scale && wider >= precision,
            _ => false,
        }
}

/// The neutral type of a column as `format_type()` spells its type
/// (`character varying(20)`, `numeric(12,2)`, `timestamp without time zone`): the
/// reverse of [`sql_type`]. `None` for a type no neutral type means exactly —
/// `json` (strata's json is `jsonb`), `varchar` without a length, `timestamp(3)`,
/// arrays, enums, domains, … — so the caller decides what to make of it.
pub fn neutral_type(format_type: &str) -> Option<ColumnType> {
    let exact = match format_type {
        "boolean" => Some(ColumnType::Bool),
        "smallint" => Some(ColumnType::SmallInt),
        "integer" => Some(ColumnType::Int),
        "bigint" => Some(ColumnType::BigInt),
        "real" => Some(ColumnType::Real),
        "double precision" => Some(ColumnType::Double),
        "text" => Some(ColumnType::Text),
        "bytea" => Some(ColumnType::Bytes),
        "date" => Some(ColumnType::Date),
        "time without time zone" => Some(ColumnType::Time),
        "timestamp without time zone" => Some(ColumnType::DateTime),
        "timestamp with time zone" => Some(ColumnType::TimestampTz),
        "uuid" => Some(ColumnType::Uuid),
        "jsonb" => Some(ColumnType::Json),
        "interval" => Some(ColumnType::Duration),
        _ => None,
    };
    exact.or_else(|| with_arguments(format_type))
}

/// `numeric(p,s)`, `character(n)` and `character varying(n)`.
fn with_arguments(format_type: &str) -> Option<ColumnType> {
    let (base, rest) = format_type.split_once('(')?;
    let args: Vec<&str> = rest.strip_suffix(')')?.split(',').map(str::trim).collect();
    match (base, args.as_slice()) {
        ("numeric", [precision, scale]) => Some(ColumnType::Decimal {
            precision: precision.parse().ok()?,
            scale: scale.parse().ok()?,
        }),
        ("character", [length]) => Some(ColumnType::Char(length.parse().ok()?)),
        ("character varying", [length]) => Some(ColumnType::Varchar(length.parse().ok()?)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_neutral_type_comes_back_from_its_format_type_spelling() {
        let expected = [
            ("boolean", "bool"),
            ("smallint", "smallint"),
            ("integer", "int"),
            ("bigint", "bigint"),
            ("real", "real"),
            ("double precision", "double"),
            ("numeric(12,2)", "decimal(12,2)"),
            ("character(2)", "char(2)"),
            ("character varying(100)", "varchar(100)"),
            ("text", "text"),
            ("bytea", "bytes"),
            ("date", "date"),
            ("time without time zone", "time"),
            ("timestamp without time zone", "datetime"),
            ("timestamp with time zone", "timestamptz"),
            ("uuid", "uuid"),
            ("jsonb", "json"),
            ("interval", "duration"),
        ];
        // The unsigned types and `enum` read back from their type check (introspection).
        assert_eq!(
            expected.len() + 4,
            ColumnType::NAMES.len(),
            "a neutral type is missing here"
        );
        for (postgres, neutral) in expected {
            let ty: ColumnType = neutral.parse().unwrap();
            assert_eq!(neutral_type(postgres), Some(ty), "{postgres}");
        }
    }

    #[test]
    fn types_without_an_exact_neutral_type_are_not_guessed() {
        for postgres in [
            "json",
            "character varying",
            "numeric",
            "numeric(1000,2)",
            "timestamp(3) without time zone",
            "time with time zone",
            "integer[]",
            "interval day",
            "mood",
            "\"Weird\"",
        ] {
            assert_eq!(neutral_type(postgres), None, "{postgres}");
        }
    }

    #[test]
    fn every_neutral_type_has_its_postgres_name() {
        let expected = [
            ("bool", "boolean"),
            ("smallint", "smallint"),
            ("int", "integer"),
            ("bigint", "bigint"),
            ("real", "real"),
            ("double", "double precision"),
            ("decimal(12,2)", "numeric(12, 2)"),
            ("char(2)", "char(2)"),
            ("varchar(100)", "varchar(100)"),
            ("text", "text"),
            ("bytes", "bytea"),
            ("date", "date"),
            ("time", "time"),
            ("datetime", "timestamp"),
            ("timestamptz", "timestamp with time zone"),
            ("uuid", "uuid"),
            ("json", "jsonb"),
            ("duration", "interval"),
            ("smallint unsigned", "smallint"),
            ("int unsigned", "integer"),
            ("bigint unsigned", "bigint"),
            ("enum", "text"),
        ];
        assert_eq!(
            expected.len(),
            ColumnType::NAMES.len(),
            "a neutral type is missing here"
        );
        for (neutral, postgres) in expected {
            let ty: ColumnType = neutral.parse().unwrap();
            assert_eq!(sql_type(ty), postgres, "{neutral}");
        }
    }
}
