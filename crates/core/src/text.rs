//! Text that enters the system.
//!
//! PostgreSQL cannot store U+0000 in `text` (it raises an error, which would surface as `INTERNAL`),
//! and no field of this platform has a use for the other control characters: they hide text from
//! people (a product title that renders empty), break exports and logs, and are a common probe.
//! So every string a client sends is held to one rule, [`control_character`]: no character of
//! Unicode's `Cc` category except tab, line feed and carriage return. The server applies it to
//! every argument and variable of every request before anything runs
//! (`cityos_server::execute`); fields that must be one line refuse tab and line breaks as well.
//!
//! What a field takes is said once, by the type its value is parsed into ("parse, don't
//! validate"): [`Line`] for one line (names, titles), [`Text`] for free text (descriptions, notes),
//! [`IdempotencyKey`]; e-mail addresses are in [`crate::contact`].

/// The first character of `s` that no text field accepts: a control character (`Cc`: U+0000 to
/// U+001F, U+007F, U+0080 to U+009F) other than tab, line feed or carriage return.
pub fn control_character(s: &str) -> Option<char> {
    s.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The first character of `s` that a one-line field does not accept: any control character,
/// tab and line breaks included.
pub fn line_break_or_control(s: &str) -> Option<char> {
    s.chars().find(|c| c.is_control())
}

/// Whether `s` is a handle of at most `max` bytes: lower-case ASCII letters and digits joined by
/// single hyphens (`oud-perfume-50ml`), as products, categories, collections and vendors take in
/// storefront URLs.
pub fn is_handle(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len())
        && s.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// How a refused character is named in messages: `U+0000`.
pub fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

/// Why a text was refused, with the field's bounds, so [`TextError::message`] says it in a
/// sentence about the field without being told them again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// Nothing but spaces, where one line of 1 to `max` characters is needed.
    Empty {
        /// The most it takes.
        max: usize,
    },
    /// More characters than the field takes.
    TooLong {
        /// The fewest it takes (0 for free text).
        min: usize,
        /// The most it takes.
        max: usize,
    },
    /// A character the field does not take: a control character, or a tab or line break in a
    /// one-line field.
    Character(char),
}

impl TextError {
    /// The refusal as a sentence about `what` ("a name", "the title").
    pub fn message(self, what: &str) -> String {
        match self {
            Self::Empty { max } => format!("{what} has 1 to {max} characters"),
            Self::TooLong { min: 0, max } => format!("{what} has at most {max} characters"),
            Self::TooLong { min, max } => format!("{what} has {min} to {max} characters"),
            Self::Character(c) => format!("{what} may not contain {}", describe(c)),
        }
    }

    /// The refusal of the text at `field` (a dotted input path), as `INVALID_TEXT`.
    pub fn refusal<C: crate::outcome::CommonCode>(self, field: &str) -> crate::Failure<C> {
        crate::UserError::new(field, C::INVALID_TEXT, self.message(field)).into()
    }
}

fn check(text: &str, min: usize, max: usize, one_line: bool) -> Result<(), TextError> {
    let found = if one_line {
        line_break_or_control(text)
    } else {
        control_character(text)
    };
    if let Some(c) = found {
        return Err(TextError::Character(c));
    }
    let count = text.chars().count();
    if count < min {
        return Err(TextError::Empty { max });
    }
    if count > max {
        return Err(TextError::TooLong { min, max });
    }
    Ok(())
}

/// One line of text, parsed once: trimmed, 1 to `MAX` characters, no control characters (tab and
/// line breaks included). Names, titles, labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Line<const MAX: usize>(String);

impl<const MAX: usize> Line<MAX> {
    /// Parses `text` (surrounding spaces are not kept).
    pub fn parse(text: &str) -> Result<Self, TextError> {
        let text = text.trim();
        check(text, 1, MAX, true)?;
        Ok(Self(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Free text, parsed once: trimmed, at most `MAX` characters, tab and line breaks allowed, no other
/// control characters. Descriptions, notes, messages. Empty is allowed; see
/// [`Text::parse_optional`] for fields where empty means none.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Parses `text` (surrounding spaces are not kept).
    pub fn parse(text: &str) -> Result<Self, TextError> {
        let text = text.trim();
        check(text, 0, MAX, false)?;
        Ok(Self(text.to_owned()))
    }

    /// Parses an optional text; nothing, or only spaces, is `None`.
    pub fn parse_optional(text: Option<&str>) -> Result<Option<Self>, TextError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => Self::parse(t).map(Some),
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The key a client sends so that repeating a mutation that moves money returns the first result
/// instead of acting twice: trimmed, 1 to 100 characters of one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The most characters a key has.
    pub const MAX: usize = 100;

    /// Parses a key.
    pub fn parse(key: &str) -> Result<Self, TextError> {
        Line::<{ Self::MAX }>::parse(key).map(|k| Self(k.into_inner()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_texts_and_keys_are_parsed_once() {
        assert_eq!(
            Line::<5>::parse("  Oud ").map(Line::into_inner),
            Ok("Oud".to_owned())
        );
        assert_eq!(Line::<5>::parse("   "), Err(TextError::Empty { max: 5 }));
        assert_eq!(
            Line::<5>::parse("perfume"),
            Err(TextError::TooLong { min: 1, max: 5 })
        );
        assert_eq!(Line::<5>::parse("a\nb"), Err(TextError::Character('\n')));
        assert_eq!(
            Line::<9>::parse("زعفران").map(|l| l.as_str().chars().count()),
            Ok(6)
        );
        assert_eq!(
            Text::<20>::parse("two\nlines\tok").map(Text::into_inner),
            Ok("two\nlines\tok".to_owned())
        );
        assert_eq!(
            Text::<20>::parse("nul\u{0}"),
            Err(TextError::Character('\u{0}'))
        );
        assert_eq!(Text::<20>::parse_optional(Some("  ")), Ok(None));
        assert_eq!(
            Text::<3>::parse_optional(Some("long")),
            Err(TextError::TooLong { min: 0, max: 3 })
        );
        assert_eq!(
            IdempotencyKey::parse(" order-1 ").map(|k| k.as_str().to_owned()),
            Ok("order-1".to_owned())
        );
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(101)),
            Err(TextError::TooLong { min: 1, max: 100 })
        );
        assert_eq!(
            TextError::TooLong { min: 1, max: 100 }.message("a name"),
            "a name has 1 to 100 characters"
        );
        assert_eq!(
            TextError::TooLong { min: 0, max: 500 }.message("a note"),
            "a note has at most 500 characters"
        );
        assert_eq!(
            TextError::Character('\u{7}').message("a name"),
            "a name may not contain U+0007"
        );
    }

    #[test]
    fn control_characters_other_than_tab_and_line_breaks_are_found() {
        assert_eq!(control_character("Saffron 10g"), None);
        assert_eq!(control_character("line one\nline two\r\n\tindented"), None);
        assert_eq!(control_character("زعفران"), None);
        assert_eq!(control_character("nul\u{0}inside"), Some('\u{0}'));
        assert_eq!(control_character("bell\u{7}"), Some('\u{7}'));
        assert_eq!(control_character("del\u{7f}"), Some('\u{7f}'));
        assert_eq!(control_character("c1\u{85}"), Some('\u{85}'));
        assert_eq!(line_break_or_control("one\nline"), Some('\n'));
        assert_eq!(line_break_or_control("tab\there"), Some('\t'));
        assert_eq!(line_break_or_control("plain"), None);
        assert_eq!(describe('\u{0}'), "U+0000");
        assert_eq!(describe('\u{85}'), "U+0085");
    }
}
