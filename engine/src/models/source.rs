//! Positions in a `models.toml` and the errors placed at them.

use std::ops::Range;
use std::path::Path;

use crate::migration::{line_column, FileError};

/// A byte range of the file's text.
pub(crate) type Span = Range<usize>;

/// A value together with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub(crate) fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

/// The file being read, for errors that show a line and column.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl<'a> Source<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Self { path, text }
    }

    /// An error at `span`. A span over a quoted string points at its first
    /// character rather than the quote, as the migration-file errors do.
    pub(crate) fn error(&self, span: &Span, message: impl Into<String>) -> FileError {
        let start = span.start.min(self.text.len());
        self.error_at(start + quote_len(&self.text[start..]), message)
    }

    /// An error at byte `offset` of the string value `value` written at `span`, when
    /// the file holds it verbatim (no escapes); at the string's start otherwise.
    pub(crate) fn error_in_string(
        &self,
        span: &Span,
        value: &str,
        offset: Option<usize>,
        message: impl Into<String>,
    ) -> FileError {
        let start = span.start.min(self.text.len());
        let rest = &self.text[start..];
        let quote = quote_len(rest);
        match offset {
            Some(offset) if rest.get(quote..quote + value.len()) == Some(value) => {
                self.error_at(start + quote + offset, message)
            }
            _ => self.error(span, message),
        }
    }

    /// An error at byte `offset`, with the line it is on.
    pub(crate) fn error_at(&self, offset: usize, message: impl Into<String>) -> FileError {
        let (line, column) = line_column(self.text, offset);
        FileError::Syntax {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
            source_line: self.text.lines().nth(line - 1).unwrap_or("").to_string(),
        }
    }
}

/// The length of the string quote `text` starts with; 0 when it starts with none.
fn quote_len(text: &str) -> usize {
    // Triple quotes first: they begin with a single one.
    ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| text.starts_with(q))
        .map_or(0, str::len)
}
