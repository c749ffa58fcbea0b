//! Server column types → neutral types: the reverse of `dialect::types::sql_type`.
//!
//! Only the spellings the servers report for what the dialect writes are
//! recognised (with the display widths MariaDB adds to integers). Anything else —
//! `tinyint`, `decimal … unsigned`, `mediumtext`, `enum(…)`, `datetime` without microseconds —
//! has no neutral type, and calling it the nearest one would hide a real difference
//! from a drift check, so it is `None` and introspection reports it.

use strata_engine::{ColumnType, ServerVersion};

use crate::flavour::Flavour;

/// The neutral type of a column whose `COLUMN_TYPE` is `column_type`. `longtext` is
/// `text` here; MariaDB's `json` (a `longtext` with a `json_valid` check) is
/// recognised by the caller, which sees the checks.
pub(super) fn neutral_type(
    flavour: Flavour,
    version: ServerVersion,
    column_type: &str,
) -> Option<ColumnType> {
    let lower = column_type.trim().to_ascii_lowercase();
    // `int unsigned` (MySQL), `int(10) unsigned` (MariaDB): the integer types only.
    if let Some(signed) = lower.strip_suffix(" unsigned") {
        return neutral_type(flavour, version, signed)
            .filter(|t| *t != ColumnType::Bool)
            .and_then(ColumnType::unsigned);
    }
    let (base, args) = match lower.split_once('(') {
        Some((base, rest)) => (base, Some(rest.strip_suffix(')')?)),
        None => (lower.as_str(), None),
    };
    let number = |text: &str| text.trim().parse::<u32>().ok();
    // MariaDB (and MySQL before 8.0.19) show a display width after integer types;
    // it changes nothing about the values.
    let integer = |ty: ColumnType| match args {
        None => Some(ty),
        Some(width) => number(width).map(|_| ty),
    };
    match (base, args) {
        ("tinyint", Some("1")) => Some(ColumnType::Bool),
        ("smallint", _) => integer(ColumnType::SmallInt),
        ("int", _) => integer(ColumnType::Int),
        ("bigint", _) => integer(ColumnType::BigInt),
        ("float", None) => Some(ColumnType::Real),
        ("double", None) => Some(ColumnType::Double),
        ("decimal", Some(args)) => {
            let (precision, scale) = args.split_once(',')?;
            Some(ColumnType::Decimal {
                precision: precision.trim().parse().ok()?,
                scale: scale.trim().parse().ok()?,
            })
        }
        // Where `uuid` is not native the dialect writes it as `char(36)`; where it
        // is, a `char(36)` is just that.
        ("char", Some("36")) if !flavour.native_uuid(version) => Some(ColumnType::Uuid),
        ("char", Some(n)) => number(n).map(ColumnType::Char),
        ("varchar", Some(n)) => number(n).map(ColumnType::Varchar),
        ("longtext", None) => Some(ColumnType::Text),
        ("longblob", None) => Some(ColumnType::Bytes),
        ("date", None) => Some(ColumnType::Date),
        ("time", Some("6")) => Some(ColumnType::Time),
        // `timestamptz` is a `datetime(6)` too; the caller tells them apart by the
        // default where it can (drift compares the two as the same type anyway).
        ("datetime", Some("6")) => Some(ColumnType::DateTime),
        ("uuid", None) => Some(ColumnType::Uuid),
        ("json", None) => Some(ColumnType::Json),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::sql_type;

    const MYSQL: (Flavour, ServerVersion) = (Flavour::Mysql, ServerVersion::new(8, 0, 36));
    const MARIADB_10_6: (Flavour, ServerVersion) =
        (Flavour::Mariadb, ServerVersion::new(10, 6, 16));
    const MARIADB_10_11: (Flavour, ServerVersion) =
        (Flavour::Mariadb, ServerVersion::new(10, 11, 19));

    fn read(server: (Flavour, ServerVersion), shown: &str) -> Option<ColumnType> {
        neutral_type(server.0, server.1, shown)
    }

    /// What each server shows for what the dialect writes, per neutral type.
    #[test]
    fn every_neutral_type_reads_back_from_both_servers() {
        let shown = [
            ("bool", "tinyint(1)", "tinyint(1)"),
            ("smallint", "smallint", "smallint(6)"),
            ("int", "int", "int(11)"),
            ("bigint", "bigint", "bigint(20)"),
            ("real", "float", "float"),
            ("double", "double", "double"),
            ("decimal(12,2)", "decimal(12,2)", "decimal(12,2)"),
            ("char(3)", "char(3)", "char(3)"),
            ("varchar(100)", "varchar(100)", "varchar(100)"),
            ("text", "longtext", "longtext"),
            ("bytes", "longblob", "longblob"),
            ("date", "date", "date"),
            ("time", "time(6)", "time(6)"),
            ("datetime", "datetime(6)", "datetime(6)"),
            ("uuid", "char(36)", "uuid"),
            ("json", "json", "json"),
            (
                "smallint unsigned",
                "smallint unsigned",
                "smallint(5) unsigned",
            ),
            ("int unsigned", "int unsigned", "int(10) unsigned"),
            ("bigint unsigned", "bigint unsigned", "bigint(20) unsigned"),
        ];
        for (neutral, mysql, mariadb) in shown {
            let ty: ColumnType = neutral.parse().unwrap();
            assert_eq!(read(MYSQL, mysql), Some(ty), "{mysql} on MySQL");
            assert_eq!(
                read(MARIADB_10_11, mariadb),
                Some(ty),
                "{mariadb} on MariaDB"
            );
        }
    }

    /// Reading back what the dialect renders, then rendering that, gives the same SQL
    /// type: the comparison drift makes.
    #[test]
    fn rendered_types_survive_a_round_trip() {
        for server in [MYSQL, MARIADB_10_6, MARIADB_10_11] {
            for name in ColumnType::NAMES {
                let name = name.replace("(p,s)", "(10,3)").replace("(n)", "(7)");
                let ty: ColumnType = name.parse().unwrap();
                // Spelled with its values; read back in `assemble` (its own test).
                if ty == ColumnType::Enum {
                    continue;
                }
                let sql = sql_type(server.0, server.1, ty).unwrap();
                let shown = sql
                    .replace("integer", "int")
                    .replace("double precision", "double")
                    .replace("numeric", "decimal")
                    .replace("bool", "tinyint(1)")
                    .replace(", ", ",");
                let back = read(server, &shown).unwrap_or_else(|| panic!("{shown}"));
                assert_eq!(
                    sql_type(server.0, server.1, back).unwrap(),
                    sql,
                    "{name} on {:?}",
                    server.0
                );
            }
        }
    }

    #[test]
    fn char_36_is_uuid_only_where_uuid_is_not_native() {
        assert_eq!(read(MYSQL, "char(36)"), Some(ColumnType::Uuid));
        assert_eq!(read(MARIADB_10_6, "char(36)"), Some(ColumnType::Uuid));
        assert_eq!(read(MARIADB_10_11, "char(36)"), Some(ColumnType::Char(36)));
    }

    #[test]
    fn types_without_a_neutral_equivalent_are_none() {
        for shown in [
            "tinyint(4)",
            "tinyint",
            "tinyint(3) unsigned",
            "decimal(10,2) unsigned",
            "mediumtext",
            "text",
            "blob",
            "datetime",
            "datetime(3)",
            "timestamp(6)",
            "time",
            "enum('a','b')",
            "float(7,4)",
            "year",
            "varchar",
            "decimal(10)",
            "geometry",
        ] {
            assert_eq!(read(MYSQL, shown), None, "{shown}");
            assert_eq!(read(MARIADB_10_11, shown), None, "{shown}");
        }
    }
}
