//! Free text people type into the service: names and labels (an account's display name, an
//! agency's, an employer's, an item a supplement asks for, a rule's name), comments and
//! descriptions. One type, [`TextRule`], with a named rule per kind of text, so that every such
//! field is checked the same way:
//!
//! - trimmed; blank is absent (and refused where the field is required);
//! - at most [`TextRule::max_chars`] characters, counted as characters, not bytes;
//! - no control characters, except the newline where the rule allows several lines;
//! - in one-line texts (names and labels) no bidirectional override or isolate either
//!   (U+202A–U+202E, U+2066–U+2069): shown beside other names, they could make one read as
//!   another.
//!
//! Text that breaks the rule is refused (422 naming the field), never silently cut or cleaned:
//! what a person typed is a record, kept whole or sent back.

use std::fmt;

/// How one kind of free text is checked. Use the named rules ([`NAME`], [`COMMENT`],
/// [`REASON_CODE`]) rather than building one, so that a kind of text has one rule everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRule {
    /// The longest text, in characters.
    pub max_chars: usize,
    /// Whether newlines are allowed. A one-line text is a name or a label, and refuses bidi
    /// controls too.
    pub multiline: bool,
}

/// A name or a label: display names, agency and employer names, supplement items, the names
/// of eligibility rules. One line, at most 200 characters.
pub const NAME: TextRule = TextRule {
    max_chars: 200,
    multiline: false,
};

/// A comment or a description: an official's reasons, a key compromise's account, what an
/// eligibility rule means. Several lines allowed, at most 2,000 characters.
pub const COMMENT: TextRule = TextRule {
    max_chars: 2000,
    multiline: true,
};

/// A reason given as a short free code (a resumption's `investigation_closed`): one line, at
/// most 64 characters, as the status history stores it.
pub const REASON_CODE: TextRule = TextRule {
    max_chars: 64,
    multiline: false,
};

/// What is wrong with a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Blank where the text is required.
    Blank,
    /// Longer than the rule allows.
    TooLong,
    /// Holds a character the rule refuses (a control character, or a bidi control in a name).
    Forbidden,
}

/// Why a text was refused; its message says what the rule accepts, for the client to fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextError {
    /// What is wrong.
    pub problem: Problem,
    rule: TextRule,
    required: bool,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let max = self.rule.max_chars;
        if self.required {
            write!(f, "must be 1 to {max} printable characters")?;
        } else {
            write!(f, "must be at most {max} printable characters")?;
        }
        if self.rule.multiline {
            f.write_str(" (newlines allowed)")?;
        }
        Ok(())
    }
}

impl std::error::Error for TextError {}

/// Bidirectional embeddings, overrides and isolates: invisible, they reorder what follows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

impl TextRule {
    /// A text that may be absent: `None` when absent or blank, the trimmed text when it
    /// follows the rule.
    pub fn optional(self, value: Option<&str>) -> Result<Option<String>, TextError> {
        let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
            return Ok(None);
        };
        self.check(text, false).map(Some)
    }

    /// A text that must be given: the trimmed text when it follows the rule; blank is refused.
    pub fn required(self, value: &str) -> Result<String, TextError> {
        let text = value.trim();
        if text.is_empty() {
            return Err(self.refuse(Problem::Blank, true));
        }
        self.check(text, true)
    }

    fn check(self, text: &str, required: bool) -> Result<String, TextError> {
        if text.chars().count() > self.max_chars {
            return Err(self.refuse(Problem::TooLong, required));
        }
        if !text.chars().all(|c| self.allows(c)) {
            return Err(self.refuse(Problem::Forbidden, required));
        }
        Ok(text.to_owned())
    }

    fn allows(self, c: char) -> bool {
        if c.is_control() {
            self.multiline && c == '\n'
        } else {
            self.multiline || !is_bidi_control(c)
        }
    }

    fn refuse(self, problem: Problem, required: bool) -> TextError {
        TextError {
            problem,
            rule: self,
            required,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem<T>(result: Result<T, TextError>) -> Option<Problem> {
        result.err().map(|e| e.problem)
    }

    #[test]
    fn comments_are_trimmed_checked_and_never_cut() {
        assert_eq!(COMMENT.optional(None), Ok(None));
        assert_eq!(COMMENT.optional(Some("   ")), Ok(None));
        assert_eq!(
            COMMENT.optional(Some("  资料已核实\n见附件 ")),
            Ok(Some("资料已核实\n见附件".into()))
        );
        assert_eq!(
            COMMENT
                .optional(Some(&"字".repeat(COMMENT.max_chars)))
                .map(|c| c.map(|t| t.chars().count())),
            Ok(Some(COMMENT.max_chars))
        );
        assert_eq!(
            problem(COMMENT.optional(Some(&"字".repeat(COMMENT.max_chars + 1)))),
            Some(Problem::TooLong)
        );
        for control in ["a\u{0}b", "a\tb", "a\u{1b}[31m", "a\rb"] {
            assert_eq!(
                problem(COMMENT.optional(Some(control))),
                Some(Problem::Forbidden),
                "{control:?}"
            );
        }
        assert_eq!(
            COMMENT.optional(Some("ש\u{2067}x\u{2069}")),
            Ok(Some("ש\u{2067}x\u{2069}".into())),
            "prose may isolate a phrase of the other direction"
        );
    }

    #[test]
    fn names_are_one_line_and_refuse_bidi_controls() {
        assert_eq!(
            NAME.required("  雄安科技有限公司 "),
            Ok("雄安科技有限公司".into())
        );
        assert_eq!(problem(NAME.required("  ")), Some(Problem::Blank));
        assert_eq!(problem(NAME.required("")), Some(Problem::Blank));
        assert_eq!(
            NAME.required(&"名".repeat(200)).map(|n| n.chars().count()),
            Ok(200)
        );
        assert_eq!(
            problem(NAME.required(&"名".repeat(201))),
            Some(Problem::TooLong)
        );
        let spaced = format!("  {}  ", "名".repeat(200));
        assert_eq!(
            NAME.required(&spaced).map(|n| n.chars().count()),
            Ok(200),
            "counted after trimming"
        );
        for bad in ["a\nb", "a\tb", "a\u{7f}b", "a\u{85}b"] {
            assert_eq!(
                problem(NAME.required(bad)),
                Some(Problem::Forbidden),
                "{bad:?}"
            );
        }
        for bidi in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            let name = format!("医院{bidi}gpj.exe");
            assert_eq!(
                problem(NAME.required(&name)),
                Some(Problem::Forbidden),
                "{bidi:?}"
            );
        }
        assert_eq!(
            NAME.required("Zoë O\u{2019}Brien-李 (ﾃｽﾄ)"),
            Ok("Zoë O\u{2019}Brien-李 (ﾃｽﾄ)".into())
        );
    }

    #[test]
    fn messages_say_what_the_rule_accepts() {
        let message = |r: Result<String, TextError>| r.err().map(|e| e.to_string());
        assert_eq!(
            message(NAME.required("")).as_deref(),
            Some("must be 1 to 200 printable characters")
        );
        assert_eq!(
            COMMENT
                .optional(Some("\u{7}"))
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("must be at most 2000 printable characters (newlines allowed)")
        );
        assert_eq!(
            REASON_CODE
                .optional(Some(&"x".repeat(65)))
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("must be at most 64 printable characters")
        );
    }
}
