//! What MySQL 8 does online, per change and server version: the "Online DDL
//! Operations" tables of the reference manual,
//! <https://dev.mysql.com/doc/refman/8.0/en/innodb-online-ddl-operations.html>.
//!
//! Where the manual is silent or ambiguous the answer is `Copy`, which the server
//! always accepts: a plan may claim more blocking than the server does, never less.

use strata_engine::dialect::TableWork;
use strata_engine::ServerVersion;

use super::{Change, DefaultKind, Online, Support, TypeChange};

/// The least blocking algorithm MySQL `version` documents for `change`.
// One arm per row of the vendor's table, each with its source: arms that share an
// answer stay apart so that each row can be checked against its documentation.
#[allow(clippy::match_same_arms)]
pub(super) fn support(version: ServerVersion, change: Change) -> Support {
    let instant = Support::new(Online::Instant, TableWork::Catalog);
    let inplace = |work| Support::new(Online::InplaceNoLock, work);
    let copy = Support::new(Online::Copy, TableWork::Rewrite);
    match change {
        // Column operations table. INSTANT adds a column at the end since 8.0.12
        // (strata always adds at the end); an AUTO_INCREMENT column is added in place
        // without concurrent DML; an expression default (`DEFAULT (…)`, which MySQL
        // also uses for literals on TEXT/BLOB/JSON) is refused by INSTANT ("Try
        // ALGORITHM=COPY/INPLACE", vitessio/vitess#16024), and a `CURRENT_TIMESTAMP`
        // default is not documented either way: both are claimed as copies.
        Change::AddColumn { auto: true, .. } => copy,
        Change::AddColumn { default, .. } => match default {
            DefaultKind::None | DefaultKind::Constant => instant,
            DefaultKind::Expression
            | DefaultKind::Now
            | DefaultKind::UtcNow
            | DefaultKind::Uuid => copy,
        },
        // "Adding a STORED column": "Rebuilds table: Yes", in place not permitted
        // (the Generated Column Operations table): a copy.
        Change::AddStoredGenerated | Change::RebuildWithStoredGenerated => copy,
        // "Table Operations": changing table options other than the engine or row
        // format (`COMMENT`) only changes metadata.
        Change::TableComment => instant,
        // "Dropping a column": INSTANT from 8.0.29, in place (with a rebuild) before.
        Change::DropColumn if version.at_least(8, 0, 29) => instant,
        Change::DropColumn => inplace(TableWork::Rewrite),
        // "Renaming a column": INSTANT from 8.0.28, in place (metadata only) before.
        Change::RenameColumn if version.at_least(8, 0, 28) => instant,
        Change::RenameColumn => inplace(TableWork::Catalog),
        // Table operations: "Renaming a table": INSTANT.
        Change::RenameTable => instant,
        // Index operations: in place, concurrent DML permitted.
        Change::AddIndex => inplace(TableWork::BuildIndex),
        Change::DropIndex | Change::RenameIndex => inplace(TableWork::Catalog),
        // Foreign key operations: adding one is in place only with
        // foreign_key_checks off (strata leaves them on), so a copy.
        Change::AddForeignKey => copy,
        Change::DropForeignKey => inplace(TableWork::Catalog),
        // A CHECK is verified against every row by a table copy; dropping one only
        // changes the data dictionary.
        Change::AddCheck => copy,
        Change::DropCheck => inplace(TableWork::Catalog),
        // "Extending VARCHAR column size": in place while the length prefix keeps its
        // size (see `TypeChange`); "Changing the column data type": copy.
        Change::ColumnType(TypeChange::VarcharSamePrefix) => inplace(TableWork::Catalog),
        Change::ColumnType(TypeChange::Other) => copy,
        // "Making a column [NOT] NULL": in place, rebuilds the table, DML permitted.
        Change::ColumnNull => inplace(TableWork::Rewrite),
        // "Setting/Dropping a column default value": INSTANT. An expression default
        // is not documented: claimed as a copy.
        Change::ColumnDefault(DefaultKind::None | DefaultKind::Constant) => instant,
        Change::ColumnDefault(_) => copy,
    }
}
