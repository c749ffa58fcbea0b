//! Log output: every line goes through the same redaction as error messages, so that
//! no library's trace (tokio-postgres and mysql_async log at debug and trace) and no
//! future log field can print a password, whatever `-v` or `RUST_LOG` asks for.

use std::io::Write;

use strata_engine::dialect::url::redact_text;
use tracing_subscriber::fmt::MakeWriter;

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
