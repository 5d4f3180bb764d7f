//! The display name of an uploaded file: what officials see in a list and what a download
//! names. A client chooses it, so it is reduced to what cannot mislead: the last path segment,
//! no control characters, no quotes or semicolons (it is echoed in `Content-Disposition`), and
//! no invisible format characters. A right-to-left override turns `\u{202E}gpj.exe` into what a
//! screen shows as `exe.jpg`; zero-width characters make two names look alike. Those are removed
//! rather than refused: the file is evidence, its name only a label.

/// Longest display name kept, in characters.
pub const MAX_CHARS: usize = 120;

/// The name used when the client gave none, or nothing of it survives.
pub const FALLBACK: &str = "document";

/// Invisible characters that change how the rest of a name reads, or hide in it: bidirectional
/// embeddings, overrides, isolates and marks, zero-width spaces and joiners, word joiners and
/// invisible operators, the byte-order mark, the soft hyphen, interlinear annotation marks and
/// tag characters (Unicode general category Cf, the ones a file name has no use for).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// The name to store for a client's `raw` file name: its last path segment without control,
/// invisible format, quote or semicolon characters, at most [`MAX_CHARS`] characters, or
/// [`FALLBACK`] when nothing visible is left.
pub fn display_name(raw: Option<&str>) -> String {
    let base = raw
        .unwrap_or(FALLBACK)
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(FALLBACK);
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_invisible_format(c) && !matches!(c, '"' | ';'))
        .take(MAX_CHARS)
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        FALLBACK.to_owned()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_controls_and_invisible_characters_are_removed() {
        assert_eq!(display_name(Some("\u{202E}gpj.exe")), "gpj.exe");
        assert_eq!(
            display_name(Some("简历\u{2067}fdp.exe\u{2069}")),
            "简历fdp.exe"
        );
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200E}',
            '\u{200F}',
            '\u{FEFF}',
            '\u{061C}',
            '\u{00AD}',
            '\u{2060}',
            '\u{E0041}',
        ] {
            let name = display_name(Some(&format!("a{c}b.pdf")));
            assert_eq!(name, "ab.pdf", "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn paths_controls_and_quotes_go_and_visible_text_stays() {
        assert_eq!(display_name(Some("../../etc/passwd.jpg")), "passwd.jpg");
        assert_eq!(display_name(Some("C:\\x\\学位证书.pdf")), "学位证书.pdf");
        assert_eq!(display_name(Some("a\"b;c\r\n.pdf")), "abc.pdf");
        assert_eq!(display_name(Some("\u{202E}\u{200B} ")), FALLBACK);
        assert_eq!(display_name(None), FALLBACK);
        assert_eq!(
            display_name(Some(&"名".repeat(300))).chars().count(),
            MAX_CHARS
        );
    }
}
