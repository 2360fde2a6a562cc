//! Person names: folding for search (with or without diacritics) and the
//! ICAO 9303 transliteration used in machine-readable documents and the DCC.

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

#[cfg(test)]
mod tests {
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
