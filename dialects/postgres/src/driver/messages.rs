//! Turning tokio-postgres errors into the one-paragraph messages users read, and
//! keeping the error itself and its SQLSTATE behind them.

use strata_engine::dialect::driver::{DriverError, ErrorCode};

/// `error` with tokio-postgres's error behind it, and the SQLSTATE when the server
/// sent one.
pub(super) fn caused_by(error: DriverError, cause: tokio_postgres::Error) -> DriverError {
    let code = cause
        .as_db_error()
        .map(|db| ErrorCode::SqlState(db.code().code().to_string()));
    error.with_code(code).with_source(cause)
}

/// The server's own words when there are some (message, SQLSTATE, detail, hint),
/// otherwise tokio-postgres's description followed by its causes (I/O failures,
/// protocol and TLS errors).
pub(super) fn describe(error: &tokio_postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return with_causes(error);
    };
    let mut text = format!("{} (SQLSTATE {})", db.message(), db.code().code());
    if let Some(detail) = db.detail() {
        text.push_str("\n  detail: ");
        text.push_str(detail);
    }
    if let Some(hint) = db.hint() {
        text.push_str("\n  hint: ");
        text.push_str(hint);
    }
    text
}

/// `error: cause: its cause…`. tokio-postgres's own text names only the kind of failure
/// ("error connecting to server"); the reason is in its source chain.
fn with_causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        let part = error.to_string();
        // Some wrappers repeat their cause's text; say it once.
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        cause = error.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);

    impl std::fmt::Display for Chain {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn causes_follow_the_error() {
        let error = Chain(
            "error connecting to server",
            Some(Box::new(Chain("Connection refused (os error 111)", None))),
        );
        assert_eq!(
            with_causes(&error),
            "error connecting to server: Connection refused (os error 111)"
        );
    }
}
