//! What MariaDB 10.5+ does online, per change: the InnoDB online DDL pages,
//! <https://mariadb.com/kb/en/innodb-online-ddl-operations-with-the-instant-alter-algorithm/>
//! and <https://mariadb.com/kb/en/innodb-online-ddl-operations-with-the-inplace-alter-algorithm/>.
//! Every answer below was also checked on MariaDB 10.11 (`tests/suite/online.rs`
//! runs each safe rendering).
//!
//! Where the documentation is silent the answer is `Copy`, which the server always
//! accepts: a plan may claim more blocking than the server does, never less.

use strata_engine::dialect::TableWork;
use strata_engine::ServerVersion;

use super::{Change, DefaultKind, Online, Support, TypeChange};

/// The least blocking algorithm MariaDB `version` documents for `change`.
// One arm per row of the vendor's table, each with its source: arms that share an
// answer stay apart so that each row can be checked against its documentation.
#[allow(clippy::match_same_arms)]
pub(super) fn support(_version: ServerVersion, change: Change) -> Support {
    // Every supported version (10.5.2+) has the 10.3/10.4 instant operations.
    let instant = Support::new(Online::Instant, TableWork::Catalog);
    let inplace = |work| Support::new(Online::InplaceNoLock, work);
    let copy = Support::new(Online::Copy, TableWork::Rewrite);
    match change {
        // ADD COLUMN: INSTANT (10.3.2 at the end, 10.4 anywhere), "with the exception
        // of adding an auto-increment column". A non-constant default other than
        // CURRENT_TIMESTAMP (`uuid()`, a timestamptz's `UTC_TIMESTAMP(6)`) is refused
        // by INSTANT and INPLACE ("Try ALGORITHM=COPY", MDEV-12586; error 1845 seen
        // on 10.11 for `UTC_TIMESTAMP(6)`).
        Change::AddColumn { auto: true, .. } => copy,
        Change::AddColumn {
            default: DefaultKind::Uuid | DefaultKind::UtcNow,
            ..
        } => copy,
        Change::AddColumn { .. } => instant,
        // A stored generated column: INSTANT and INPLACE are refused ("Try
        // ALGORITHM=COPY", checked on 10.11); a virtual one is INSTANT like any column.
        Change::AddStoredGenerated | Change::RebuildWithStoredGenerated => copy,
        // A table comment: INSTANT (checked on 10.11).
        Change::TableComment => instant,
        // DROP COLUMN (10.4+), RENAME COLUMN, RENAME TO: INSTANT.
        Change::DropColumn | Change::RenameColumn | Change::RenameTable => instant,
        // ADD INDEX / DROP INDEX: in place ("Try ALGORITHM=NOCOPY" for INSTANT),
        // LOCK=NONE; RENAME INDEX only changes metadata: INSTANT.
        Change::AddIndex => inplace(TableWork::BuildIndex),
        Change::DropIndex => inplace(TableWork::Catalog),
        Change::RenameIndex => instant,
        // ADD FOREIGN KEY: "Adding foreign keys needs foreign_key_checks=OFF" for
        // INPLACE, so a copy; DROP FOREIGN KEY: INSTANT.
        Change::AddForeignKey => copy,
        Change::DropForeignKey => instant,
        // ADD CONSTRAINT … CHECK: INSTANT and INPLACE are refused ("Try
        // ALGORITHM=COPY"); DROP CONSTRAINT: INSTANT.
        Change::AddCheck => copy,
        Change::DropCheck => instant,
        // Increasing a VARCHAR's length: INSTANT while the length prefix keeps its
        // size; any other type change "Cannot change column type": copy.
        Change::ColumnType(TypeChange::VarcharSamePrefix) => instant,
        Change::ColumnType(TypeChange::Other) => copy,
        // NULL <-> NOT NULL: in place (a rebuild), LOCK=NONE. (NOT NULL -> NULL is
        // INSTANT only with ROW_FORMAT=REDUNDANT.)
        Change::ColumnNull => inplace(TableWork::Rewrite),
        // A new default only: INSTANT, metadata only.
        Change::ColumnDefault(_) => instant,
    }
}
