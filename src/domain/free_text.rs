//! Free text people type into the service (an official's comment, a reason's details): one
//! rule for all of it. Trimmed; empty is absent; at most [`MAX_CHARS`] characters; no control
//! characters but the newline. Refused, never silently cut: an official's comment is a record.

/// The longest comment, in characters.
pub const MAX_CHARS: usize = 2000;

/// Why a text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Longer than [`MAX_CHARS`], or holding a control character other than a newline.
    #[error("must be at most 2000 printable characters (newlines allowed)")]
    NotPrintable,
}

/// A comment as given: `None` when absent or blank, the trimmed text when acceptable.
pub fn comment(value: Option<&str>) -> Result<Option<String>, TextError> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_CHARS || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(TextError::NotPrintable);
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_trimmed_checked_and_never_cut() {
        assert_eq!(comment(None), Ok(None));
        assert_eq!(comment(Some("   ")), Ok(None));
        assert_eq!(
            comment(Some("  资料已核实\n见附件 ")),
            Ok(Some("资料已核实\n见附件".into()))
        );
        assert_eq!(
            comment(Some(&"字".repeat(MAX_CHARS))).map(|c| c.map(|t| t.chars().count())),
            Ok(Some(MAX_CHARS))
        );
        assert_eq!(
            comment(Some(&"字".repeat(MAX_CHARS + 1))),
            Err(TextError::NotPrintable)
        );
        for control in ["a\u{0}b", "a\tb", "a\u{1b}[31m", "a\rb"] {
            assert_eq!(
                comment(Some(control)),
                Err(TextError::NotPrintable),
                "{control:?}"
            );
        }
    }
}
