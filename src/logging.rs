//! The log: text (tracing's own format) or JSON on stderr. One thing
//! differs from tracing's defaults, and it does not show in the output:
//! how fields are written.
//!
//! Every request opens a span at `info` whose fields (request id, method,
//! path) the subscriber formats when the span opens, whether or not a line
//! is ever logged in it. tracing-subscriber's [`DefaultFields`] writes each
//! field as `name=value` through two styled strings, even when there is no
//! style; [`LogFields`] writes the same bytes directly, and hands to
//! [`DefaultFields`] everything else (colour, messages, errors, `r#` and
//! `log.` fields), so the text is identical. It gathers the plain fields on
//! the stack and writes them in one piece, so the span's string is
//! allocated once at its size rather than grown field by field.
//!
//! [`DefaultFields`]: tracing_subscriber::fmt::format::DefaultFields

use std::fmt::{self, Write as _};
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::{RecordFields, VisitOutput};
use tracing_subscriber::fmt::FormatFields;
use tracing_subscriber::fmt::format::{DefaultVisitor, Writer};

use crate::config::LogFormat;

/// Logs go to stderr, so `--json` output on stdout stays one clean object.
/// `filter` is tracing's `EnvFilter` syntax; without one, `info` when
/// serving and `warn` for other commands.
pub fn init(format: LogFormat, filter: Option<&str>, serving: bool) {
    let filter = filter.unwrap_or(if serving { "info" } else { "warn" });
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // No colour codes in files, pipes and journald.
    let builder = tracing_subscriber::fmt()
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.fmt_fields(LogFields).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// The text format's fields: `DefaultFields`' output, written without
/// its styling machinery when there is no colour to write.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogFields;

impl<'writer> FormatFields<'writer> for LogFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = Visitor::new(writer, true);
        fields.record(&mut visitor);
        let Visitor {
            mut writer,
            mut staged,
            result,
            ..
        } = visitor;
        result.and_then(|()| staged.flush(&mut writer))
    }
}

struct Visitor<'a> {
    writer: Writer<'a>,
    /// Plain fields not yet written to `writer`.
    staged: Staged,
    /// Nothing written yet: the next field needs no separating space.
    is_empty: bool,
    result: fmt::Result,
}

/// The stack buffer in front of the line: a request span's fields (an id,
/// a method, a path) fit whole.
const STAGED: usize = 256;

struct Staged {
    buf: [u8; STAGED],
    len: usize,
}

impl Staged {
    fn flush(&mut self, writer: &mut Writer<'_>) -> fmt::Result {
        let len = std::mem::take(&mut self.len);
        if len == 0 {
            return Ok(());
        }
        // Only whole `str`s are staged, so this always holds.
        let text = std::str::from_utf8(&self.buf[..len]).map_err(|_| fmt::Error)?;
        writer.write_str(text)
    }
}

/// Writes into the stage, and through to the line when it is full.
struct Stage<'s, 'w> {
    staged: &'s mut Staged,
    writer: &'s mut Writer<'w>,
}

impl fmt::Write for Stage<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let staged = &mut *self.staged;
        if staged.len + s.len() > STAGED {
            staged.flush(self.writer)?;
            if s.len() > STAGED {
                return self.writer.write_str(s);
            }
        }
        staged.buf[staged.len..staged.len + s.len()].copy_from_slice(s.as_bytes());
        staged.len += s.len();
        Ok(())
    }
}

impl<'a> Visitor<'a> {
    fn new(writer: Writer<'a>, is_empty: bool) -> Self {
        Self {
            writer,
            staged: Staged {
                buf: [0; STAGED],
                len: 0,
            },
            is_empty,
            result: Ok(()),
        }
    }

    /// Whether `name` is written as plain `name=value`: no colour, and not
    /// one of the fields [`DefaultVisitor`] treats apart.
    fn plain(&self, name: &str) -> bool {
        !self.writer.has_ansi_escapes()
            && name != "message"
            && !name.starts_with("r#")
            && !name.starts_with("log.")
    }

    /// Lets [`DefaultVisitor`] write one field, carrying the separator
    /// state over: it writes every field but `log.` ones.
    fn delegate(&mut self, field: &Field, record: impl FnOnce(&mut DefaultVisitor<'_>)) {
        self.result = self.staged.flush(&mut self.writer);
        if self.result.is_err() {
            return;
        }
        let mut inner = DefaultVisitor::new(self.writer.by_ref(), self.is_empty);
        record(&mut inner);
        self.result = inner.finish();
        if !field.name().starts_with("log.") {
            self.is_empty = false;
        }
    }
}

impl Visit for Visitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        if self.plain(field.name()) {
            self.record_debug(field, &value);
        } else {
            self.delegate(field, |v| v.record_str(field, value));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if self.result.is_ok() {
            self.delegate(field, |v| v.record_error(field, value));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.result.is_err() {
            return;
        }
        let name = field.name();
        if !self.plain(name) {
            self.delegate(field, |v| v.record_debug(field, value));
            return;
        }
        let pad = if self.is_empty { "" } else { " " };
        self.is_empty = false;
        let w = &mut Stage {
            staged: &mut self.staged,
            writer: &mut self.writer,
        };
        self.result = w
            .write_str(pad)
            .and_then(|()| w.write_str(name))
            .and_then(|()| w.write_char('='))
            .and_then(|()| write!(w, "{value:?}"));
    }
}

#[cfg(test)]
mod tests;
