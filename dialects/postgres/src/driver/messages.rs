//! Turning tokio-postgres errors into the one-paragraph messages users read.

/// The server's own words when there are some (message, SQLSTATE, detail, hint),
/// otherwise tokio-postgres's description (I/O failures, protocol errors).
pub(super) fn describe(error: &tokio_postgres::Error) -> String {
    let Some(db) = error.as_db_error() else {
        return error.to_string();
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
