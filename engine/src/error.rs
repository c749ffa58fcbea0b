//! One classification of every failure strata reports, so a front end (the CLI's exit
//! codes, an application's retry policy) decides per category instead of per error
//! variant. The error enums are `#[non_exhaustive]`; this enum deliberately is not:
//! a new category is a decision every front end must make.

use crate::autodetect::AutodetectError;
use crate::dialect::driver::DriverError;
use crate::history::HistoryError;
use crate::makemigrations::questioner::QuestionError;
use crate::makemigrations::MakeError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    /// The user's input is wrong: a file, a name, a URL, an edited migration, or a
    /// history table that contradicts itself or the migration files.
    BadInput,
    /// A question must be answered (a likely rename, a one-off default) and could not
    /// be asked.
    NeedsInput,
    /// The database could not be reached or refused a statement; nothing is half-done.
    Database,
    /// Another process held the migration lock for too long.
    LockTimeout,
    /// A migration is partially applied; its checkpoint says how far.
    Partial,
}

impl DriverError {
    pub fn category(&self) -> Category {
        match self {
            DriverError::Url { .. } => Category::BadInput,
            DriverError::Connect { .. }
            | DriverError::Statement { .. }
            | DriverError::Unsupported { .. }
            | DriverError::Guard { .. } => Category::Database,
        }
    }
}

impl HistoryError {
    pub fn category(&self) -> Category {
        match self {
            HistoryError::Driver(e) | HistoryError::CursorColumn { source: e, .. } => e.category(),
            // A history that contradicts itself or the files: nothing was attempted and a
            // retry cannot help; a person decides which side is right (consistency.rs).
            HistoryError::NewerFormat { .. } | HistoryError::Inconsistent { .. } => {
                Category::BadInput
            }
        }
    }
}

impl AutodetectError {
    pub fn category(&self) -> Category {
        match self {
            AutodetectError::UnresolvedRenames(_)
            | AutodetectError::NeedsDefault(_)
            | AutodetectError::NeedsNotNullAnswer(_) => Category::NeedsInput,
            // An internal error is strata's, but nothing the database did: the models
            // are what the user can change to get past it.
            AutodetectError::InvalidRename { .. }
            | AutodetectError::BadOneOffDefault { .. }
            | AutodetectError::CannotBackfill { .. }
            | AutodetectError::Unsupported { .. }
            | AutodetectError::Internal { .. } => Category::BadInput,
        }
    }
}

impl MakeError {
    pub fn category(&self) -> Category {
        match self {
            MakeError::Autodetect(e) => e.category(),
            // A file that does not serialize is strata's fault but, like an internal
            // autodetect error, nothing the database did.
            MakeError::StateAt(_)
            | MakeError::UnknownApp { .. }
            | MakeError::EmptyWithoutApp
            | MakeError::Serialize { .. } => Category::BadInput,
        }
    }
}

impl QuestionError {
    pub fn category(&self) -> Category {
        match self {
            QuestionError::Unanswered(e) => e.category(),
            QuestionError::Io(_) => Category::BadInput,
        }
    }
}
