//! What a database server can do, as plain data resolved for one server version.

use std::fmt;
use std::str::FromStr;

/// A server version, e.g. PostgreSQL 16.2 or MariaDB 11.4.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServerVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl ServerVersion {
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        *self >= Self::new(major, minor, patch)
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

impl FromStr for ServerVersion {
    type Err = String;

    /// Reads the leading `major[.minor[.patch]]` of a version string such as
    /// `16.2 (Debian 16.2-1)` or `10.11.6-MariaDB-0+deb12u1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let numeric: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let mut next = || {
            parts
                .next()
                .map(|p| p.parse::<u32>().map_err(|e| e.to_string()))
        };
        let major = next().ok_or_else(|| format!("no version number in `{s}`"))??;
        let minor = next().transpose()?.unwrap_or(0);
        let patch = next().transpose()?.unwrap_or(0);
        Ok(Self::new(major, minor, patch))
    }
}

/// What the server supports. Engine code asks these questions instead of asking
/// which database it talks to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// DDL can run inside a transaction and be rolled back.
    pub transactional_ddl: bool,
    /// Longest identifier, in bytes.
    pub max_identifier_len: usize,
    /// `ALTER TABLE` can change a column's type, nullability and default in place.
    pub alter_column: bool,
    pub drop_column: bool,
    pub rename_column: bool,
    pub rename_index: bool,
    /// Constraints and foreign keys can be added to and dropped from an existing table.
    pub alter_constraints: bool,
    pub partial_indexes: bool,
    /// Indexes can be built without blocking writes (outside a transaction).
    pub concurrent_index: bool,
    pub check_constraints: bool,
    /// Outside a transaction, several statements may travel in one round trip (so a
    /// checkpoint rides with its operation's last statement). Not PostgreSQL: a
    /// multi-statement query is an implicit transaction there, which
    /// `CREATE INDEX CONCURRENTLY` refuses.
    pub batch_statements: bool,
}
