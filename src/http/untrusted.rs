//! Client-supplied text on its way into a log line: control characters
//! are escaped, so CR/LF cannot forge lines, and the text is cut at
//! [`MAX_LOGGED_BYTES`], so a huge header does not become a huge line.

use std::fmt;

pub const MAX_LOGGED_BYTES: usize = 256;

/// Displays client-supplied `&str` safely for a log; use it as
/// `client_id = %Untrusted(&id)`.
pub struct Untrusted<'a>(pub &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut end = self.0.len().min(MAX_LOGGED_BYTES);
        while !self.0.is_char_boundary(end) {
            end -= 1;
        }
        let (shown, cut) = self.0.split_at(end);
        // Printable ASCII, what request ids and paths are, has nothing to
        // escape: one pass over the bytes rather than decoding characters.
        if cut.is_empty() && shown.bytes().all(|b| (b' '..b'\x7f').contains(&b)) {
            return f.write_str(shown);
        }
        // Runs of ordinary text are written whole: a request id or a path
        // is one `write_str`, not one call per character.
        let mut rest = shown;
        while let Some((at, c)) = rest.char_indices().find(|(_, c)| c.is_control()) {
            f.write_str(&rest[..at])?;
            write!(f, "{}", c.escape_default())?;
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)?;
        if !cut.is_empty() {
            write!(f, "…[cut {} bytes]", cut.len())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        for (raw, shown) in [("a\x7fb", "a\\u{7f}b"), ("\tid", "\\tid"), ("é\n", "é\\n")] {
            assert_eq!(Untrusted(raw).to_string(), shown);
        }
        let shown = Untrusted("app\r\n2026-12-01 INFO forged\u{1b}[31m").to_string();
        assert_eq!(shown, "app\\r\\n2026-12-01 INFO forged\\u{1b}[31m");
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary() {
        let long = "é".repeat(200); // 400 bytes
        let shown = Untrusted(&long).to_string();
        assert!(shown.starts_with(&"é".repeat(128)));
        assert!(shown.ends_with("…[cut 144 bytes]"), "{shown}");
        assert_eq!(Untrusted("short").to_string(), "short");
        let ascii = "x".repeat(MAX_LOGGED_BYTES + 1);
        assert!(Untrusted(&ascii).to_string().ends_with("x…[cut 1 bytes]"));
        assert_eq!(
            Untrusted(&"y".repeat(MAX_LOGGED_BYTES)).to_string(),
            "y".repeat(MAX_LOGGED_BYTES)
        );
    }
}
