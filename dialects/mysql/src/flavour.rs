//! MySQL and MariaDB: one dialect, two flavours.
//!
//! Every difference between the two servers is a method here, asked for by name by
//! the renderer (`native_uuid`, `drop_check_clause`, …); nothing else in the crate
//! matches on the flavour.

use std::fmt;

use strata_engine::ServerVersion;

/// Which server family the SQL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavour {
    Mysql,
    Mariadb,
}

/// A `SELECT VERSION()` answer that names no version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read a server version from `{0}`")]
pub struct UnknownVersion(pub String);

impl Flavour {
    /// The dialect name: also the `--dialect` value and the `run_sql` key.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mysql => "mysql",
            Self::Mariadb => "mariadb",
        }
    }

    /// The oldest supported server. MySQL 8.0.19 has `RENAME COLUMN`, enforced
    /// `CHECK`s, expression defaults and a generic `DROP CONSTRAINT`; MariaDB 10.5.2
    /// is the first with `RENAME COLUMN` and `RENAME INDEX`.
    pub fn minimum_version(self) -> ServerVersion {
        match self {
            Self::Mysql => ServerVersion::new(8, 0, 19),
            Self::Mariadb => ServerVersion::new(10, 5, 2),
        }
    }

    /// The server answering `SELECT VERSION()` with `version`, e.g. `8.0.36` or
    /// `10.11.19-MariaDB-0+deb12u1`.
    pub fn detect(version: &str) -> Result<(Self, ServerVersion), UnknownVersion> {
        let flavour = if version.to_ascii_lowercase().contains("mariadb") {
            Self::Mariadb
        } else {
            Self::Mysql
        };
        // MariaDB once announced itself as `5.5.5-10.x…` so that old MySQL clients
        // would accept it; skip that prefix wherever it shows up.
        let numbers = match flavour {
            Self::Mariadb => version.trim().strip_prefix("5.5.5-").unwrap_or(version),
            Self::Mysql => version,
        };
        let parsed = numbers
            .parse::<ServerVersion>()
            .map_err(|_| UnknownVersion(version.to_string()))?;
        Ok((flavour, parsed))
    }

    /// MariaDB 10.7 added a native 16-byte `uuid` type; elsewhere a UUID is `char(36)`.
    pub fn native_uuid(self, version: ServerVersion) -> bool {
        self == Self::Mariadb && version.at_least(10, 7, 0)
    }

    /// The `ALTER TABLE` clause that drops a check constraint. MySQL has a
    /// dedicated `DROP CHECK` (8.0.16+); MariaDB drops checks with `DROP CONSTRAINT`.
    pub fn drop_check_clause(self) -> &'static str {
        match self {
            Self::Mysql => "DROP CHECK",
            Self::Mariadb => "DROP CONSTRAINT",
        }
    }

    /// The keys a per-dialect `run_sql` is looked up by, in order, before `default`. MariaDB runs
    /// SQL written for MySQL unless the migration gives it its own.
    pub fn run_sql_keys(self) -> &'static [&'static str] {
        match self {
            Self::Mysql => &["mysql"],
            Self::Mariadb => &["mariadb", "mysql"],
        }
    }
}

impl fmt::Display for Flavour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Mysql => "MySQL",
            Self::Mariadb => "MariaDB",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_mariadb_from_its_version_string() {
        assert_eq!(
            Flavour::detect("10.11.19-MariaDB-0+deb12u1"),
            Ok((Flavour::Mariadb, ServerVersion::new(10, 11, 19)))
        );
        assert_eq!(
            Flavour::detect("5.5.5-10.6.16-MariaDB-log"),
            Ok((Flavour::Mariadb, ServerVersion::new(10, 6, 16)))
        );
        assert_eq!(
            Flavour::detect("11.4.2-MariaDB"),
            Ok((Flavour::Mariadb, ServerVersion::new(11, 4, 2)))
        );
    }

    #[test]
    fn detects_mysql_from_its_version_string() {
        assert_eq!(
            Flavour::detect("8.0.36"),
            Ok((Flavour::Mysql, ServerVersion::new(8, 0, 36)))
        );
        assert_eq!(
            Flavour::detect("8.4.0-0ubuntu0.24.04.1"),
            Ok((Flavour::Mysql, ServerVersion::new(8, 4, 0)))
        );
    }

    #[test]
    fn refuses_a_version_string_without_numbers() {
        assert!(Flavour::detect("MariaDB").is_err());
        assert!(Flavour::detect("").is_err());
    }

    #[test]
    fn native_uuid_needs_mariadb_10_7() {
        assert!(!Flavour::Mariadb.native_uuid(ServerVersion::new(10, 6, 99)));
        assert!(Flavour::Mariadb.native_uuid(ServerVersion::new(10, 7, 0)));
        assert!(!Flavour::Mysql.native_uuid(ServerVersion::new(9, 0, 0)));
    }
}
