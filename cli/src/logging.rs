//! Log output: every line goes through the same redaction as error messages, so that
//! no library's trace (tokio-postgres and mysql_async log at debug and trace) and no
//! future log field can print a password, whatever `-v` or `RUST_LOG` asks for.

use std::io::Write;

use strata_engine::dialect::url::redact_text;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;

/// What to log: `RUST_LOG` when it is set and reads as a list of `[target=]level`
/// (`debug`, `strata_engine=trace,warn`), else `default`, the level `-q`/`-v` ask for.
///
/// Targets and levels only: `tracing-subscriber`'s `env-filter`, which also reads
/// span and field filters, costs every cold build a regex DFA builder.
pub(crate) fn filter(rust_log: Option<&str>, default: LevelFilter) -> Targets {
    rust_log
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(default))
}

/// Standard error, one redacted event at a time.
pub(crate) struct RedactedStderr;

impl<'a> MakeWriter<'a> for RedactedStderr {
    type Writer = Event;

    fn make_writer(&'a self) -> Self::Writer {
        Event(Vec::new())
    }
}

/// One event's text, written to stderr when the formatter is done with it.
pub(crate) struct Event(Vec<u8>);

impl Write for Event {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Event {
    fn drop(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let text = redact_text(&String::from_utf8_lossy(&self.0));
        // A log line that cannot be written is not worth failing the command for.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use tracing::Level;
    use tracing_subscriber::filter::LevelFilter;

    use super::filter;

    #[test]
    fn rust_log_names_levels_per_target_and_wins_over_the_flags() {
        let f = filter(
            Some("strata_engine=trace,tokio_postgres=off,info"),
            LevelFilter::WARN,
        );
        assert!(f.would_enable("strata_engine::executor", &Level::TRACE));
        assert!(!f.would_enable("tokio_postgres::prepare", &Level::ERROR));
        assert!(f.would_enable("strata::database", &Level::INFO));
        assert!(!f.would_enable("strata::database", &Level::DEBUG));
    }

    #[test]
    fn without_a_usable_rust_log_the_flags_decide() {
        for unusable in [None, Some(""), Some("  "), Some("strata=loud")] {
            let f = filter(unusable, LevelFilter::INFO);
            assert!(
                f.would_enable("strata::database", &Level::INFO),
                "{unusable:?}"
            );
            assert!(
                !f.would_enable("mysql_async::conn", &Level::DEBUG),
                "{unusable:?}"
            );
        }
    }
}
