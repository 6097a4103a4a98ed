//! JSON objects written straight into a buffer, for what every token
//! request produces: the access token's claims and the token answer. A
//! serializer checks every byte of every name and value for escapes one at
//! a time; here names are constants known to need none, and values are
//! checked a vector at a time.

/// A JSON object under construction; members appear in the order added.
pub struct JsonObject {
    out: Vec<u8>,
}

impl JsonObject {
    /// `capacity` bytes reserved up front, so that the buffer never regrows
    /// when the caller knows the size.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut out = Vec::with_capacity(capacity);
        out.push(b'{');
        Self { out }
    }

    fn name(&mut self, name: &'static str) {
        debug_assert!(is_plain(name), "member name {name:?} needs escaping");
        if self.out.len() > 1 {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn string(&mut self, name: &'static str, value: &str) {
        self.name(name);
        push_string(&mut self.out, value);
    }

    pub fn strings(&mut self, name: &'static str, values: &[String]) {
        self.name(name);
        self.out.push(b'[');
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            push_string(&mut self.out, value);
        }
        self.out.push(b']');
    }

    pub fn number(&mut self, name: &'static str, value: i64) {
        self.name(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out.push(b'}');
        self.out
    }
}

/// True when `s` can go between quotes as it is (RFC 8259 §7). Without a
/// short cut, so that the check runs over whole vectors.
fn is_plain(s: &str) -> bool {
    s.bytes().fold(true, |plain, b| {
        plain & (b >= 0x20) & (b != b'"') & (b != b'\\')
    })
}

/// A JSON string. Tokens, identifiers and scopes need no escape (base64url,
/// dots, and RFC 6749 §3.3's NQCHAR); anything else is escaped by
/// serde_json.
fn push_string(out: &mut Vec<u8>, s: &str) {
    if is_plain(s) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing a string into a Vec");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_of_every_kind_parse_back_in_order() {
        let mut o = JsonObject::with_capacity(8);
        o.string("a", "plain");
        o.number("n", -42);
        o.strings("list", &["x".into(), "y\"z".into()]);
        o.strings("none", &[]);
        let text = String::from_utf8(o.finish()).unwrap();
        assert_eq!(
            text,
            r#"{"a":"plain","n":-42,"list":["x","y\"z"],"none":[]}"#
        );
    }

    #[test]
    fn an_empty_object_is_two_braces() {
        assert_eq!(JsonObject::with_capacity(0).finish(), b"{}");
    }

    #[test]
    fn text_that_needs_escaping_round_trips() {
        for odd in [
            "a\"b",
            "back\\slash",
            "line\nbreak",
            "\u{1}",
            "é ✓",
            "\u{7f}",
        ] {
            let mut o = JsonObject::with_capacity(0);
            o.string("v", odd);
            let parsed: serde_json::Value = serde_json::from_slice(&o.finish()).unwrap();
            assert_eq!(parsed["v"], odd, "{odd:?}");
        }
    }
}
