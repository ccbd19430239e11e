//! Text that enters the system.
//!
//! PostgreSQL cannot store U+0000 in `text` (it raises an error, which would surface as `INTERNAL`),
//! and no field of this platform has a use for the other control characters: they hide text from
//! people (a product title that renders empty), break exports and logs, and are a common probe.
//! So every string a client sends is held to one rule, [`control_character`]: no character of
//! Unicode's `Cc` category except tab, line feed and carriage return. The server applies it to
//! every argument and variable of every request before anything runs
//! (`cityos_server::execute`); fields that must be one line refuse tab and line breaks as well.

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

/// How a refused character is named in messages: `U+0000`.
pub fn describe(c: char) -> String {
    format!("U+{:04X}", u32::from(c))
}

#[cfg(test)]
mod tests {
    use super::*;

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
