//! Person names: the form a name is stored in, folding for search (with or
//! without diacritics) and the ICAO 9303 transliteration used in
//! machine-readable documents and the DCC.

use unicode_normalization::UnicodeNormalization;

/// Folds a name for search: NFD, combining marks dropped, `đ`/`Đ` → `d`,
/// lower case, runs of white space collapsed. "Nguyễn Văn Đức" → "nguyen van duc".
pub fn fold_name(s: &str) -> String {
    let folded: String = s
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ICAO 9303 style transliteration: folded, upper case A–Z, every other
/// character (spaces included) as `<`. "Nguyễn Văn Đức" → "NGUYEN<VAN<DUC".
pub fn icao_transliteration(s: &str) -> String {
    fold_name(s)
        .chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                c.to_ascii_uppercase()
            } else {
                '<'
            }
        })
        .collect()
}

/// Splits a Vietnamese full name into the family name (the first word) and
/// the rest (middle and given names).
pub fn split_vietnamese_name(full: &str) -> (String, String) {
    let mut words = full.split_whitespace();
    let family = words.next().unwrap_or("").to_string();
    let given = words.collect::<Vec<_>>().join(" ");
    (family, given)
}

/// Why a name cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("full name must be 1 to 200 characters")]
    Length,
    #[error("full name has no visible character")]
    Invisible,
    #[error("full name contains the control character U+{0:04X}")]
    Control(u32),
    #[error("full name contains the bidirectional control character U+{0:04X}, which can make it display as another name")]
    Bidi(u32),
}

/// Bidirectional formatting characters (embeddings, overrides, isolates and
/// marks): they reorder how the text around them is shown, so a name
/// holding one can display as a different name (Trojan Source).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Characters that draw nothing: zero-width spaces and joiners, word
/// joiners, the byte-order mark, the soft hyphen and the filler letters.
/// Allowed inside a name (joiners matter in some scripts), but a name must
/// have something else.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'..='\u{2064}'
                | '\u{3164}'
                | '\u{FEFF}'
                | '\u{FFA0}'
        )
}

/// The form a person's name is stored in: Unicode NFC (so "Nguyễn" typed
/// with combining marks and precomposed is one name), runs of white space
/// collapsed, 1 to 200 characters. Control and bidirectional control
/// characters are refused, and so is a name made only of invisible
/// characters. Every way a person enters the registry goes through it.
pub fn normalise_full_name(s: &str) -> Result<String, NameError> {
    if let Some(c) = s.chars().find(|c| is_bidi_control(*c)) {
        return Err(NameError::Bidi(c as u32));
    }
    if let Some(c) = s.chars().find(|c| c.is_control() && !c.is_whitespace()) {
        return Err(NameError::Control(c as u32));
    }
    let name = s.nfc().collect::<String>();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 200 {
        return Err(NameError::Length);
    }
    if name.chars().all(is_invisible) {
        return Err(NameError::Invisible);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_stored_in_nfc_with_white_space_collapsed() {
        let decomposed = "Nguye\u{0302}\u{0303}n  Va\u{0306}n\tAn";
        assert_eq!(normalise_full_name(decomposed).unwrap(), "Nguyễn Văn An");
        assert_eq!(normalise_full_name(" 王  小明 ").unwrap(), "王 小明");
        // A joiner inside a visible name stays.
        assert_eq!(normalise_full_name("A\u{200D}B").unwrap(), "A\u{200D}B");
    }

    #[test]
    fn invisible_bidi_and_control_names_are_refused() {
        assert_eq!(normalise_full_name("   "), Err(NameError::Length));
        assert_eq!(
            normalise_full_name("\u{200B}\u{200C}\u{FEFF}"),
            Err(NameError::Invisible)
        );
        assert_eq!(
            normalise_full_name("\u{3164} \u{00AD}"),
            Err(NameError::Invisible)
        );
        assert_eq!(
            normalise_full_name("Nguyễn \u{202E}nA"),
            Err(NameError::Bidi(0x202E))
        );
        assert_eq!(
            normalise_full_name("\u{2067}An\u{2069}"),
            Err(NameError::Bidi(0x2067))
        );
        assert_eq!(
            normalise_full_name("An\u{0007}"),
            Err(NameError::Control(7))
        );
        assert_eq!(
            normalise_full_name(&"a".repeat(201)),
            Err(NameError::Length)
        );
        assert!(NameError::Bidi(0x202E).to_string().contains("U+202E"));
    }

    use super::*;

    #[test]
    fn folds_vietnamese_diacritics_and_d_with_stroke() {
        assert_eq!(fold_name("Nguyễn Văn Đức"), "nguyen van duc");
        assert_eq!(fold_name("  TRẦN   thị  Bích  "), "tran thi bich");
        assert_eq!(fold_name("Đặng Thị Hoà"), "dang thi hoa");
        assert_eq!(fold_name("王小明"), "王小明");
    }

    #[test]
    fn icao_and_split() {
        assert_eq!(icao_transliteration("Nguyễn Văn Đức"), "NGUYEN<VAN<DUC");
        assert_eq!(
            split_vietnamese_name("Nguyễn Văn Đức"),
            ("Nguyễn".into(), "Văn Đức".into())
        );
    }
}
