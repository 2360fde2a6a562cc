//! The area tree (province > district > commune > village) and its materialized paths.
//!
//! Every area stores the path of codes from the root, e.g. `/22/193/06658/0665801/`.
//! "This area and everything under it" is then the half-open byte range
//! `[path, upper_bound(path))`, which both SQLite and PostgreSQL (with the `C`
//! collation) answer from an index instead of a recursive query.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AreaLevel {
    Province,
    District,
    Commune,
    Village,
}

impl AreaLevel {
    pub const ALL: [AreaLevel; 4] = [
        AreaLevel::Province,
        AreaLevel::District,
        AreaLevel::Commune,
        AreaLevel::Village,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AreaLevel::Province => "province",
            AreaLevel::District => "district",
            AreaLevel::Commune => "commune",
            AreaLevel::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<AreaLevel> {
        AreaLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The level a child of this level must have.
    pub fn child(self) -> Option<AreaLevel> {
        match self {
            AreaLevel::Province => Some(AreaLevel::District),
            AreaLevel::District => Some(AreaLevel::Commune),
            AreaLevel::Commune => Some(AreaLevel::Village),
            AreaLevel::Village => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("area code must be 1 to 16 characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadCode,
    #[error("a {0} must have a parent area")]
    MissingParent(&'static str),
    #[error("a province has no parent area")]
    ProvinceWithParent,
    #[error("a {child} cannot be placed under a {parent}; expected a {expected} parent")]
    WrongParentLevel {
        child: &'static str,
        parent: &'static str,
        expected: &'static str,
    },
    #[error("area name must not be empty")]
    EmptyName,
}

/// Checks an area code. Codes become path segments, so `/` and other separators
/// are refused.
pub fn validate_code(code: &str) -> Result<(), AreaError> {
    let ok = !code.is_empty()
        && code.len() <= 16
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(AreaError::BadCode)
    }
}

/// Checks that a new area fits under its parent and returns its path.
pub fn place_area(
    code: &str,
    name: &str,
    level: AreaLevel,
    parent: Option<(AreaLevel, &str)>,
) -> Result<String, AreaError> {
    validate_code(code)?;
    if name.trim().is_empty() {
        return Err(AreaError::EmptyName);
    }
    match (level, parent) {
        (AreaLevel::Province, None) => Ok(format!("/{code}/")),
        (AreaLevel::Province, Some(_)) => Err(AreaError::ProvinceWithParent),
        (_, None) => Err(AreaError::MissingParent(level.as_str())),
        (_, Some((parent_level, parent_path))) => {
            if parent_level.child() != Some(level) {
                let expected = AreaLevel::ALL
                    .into_iter()
                    .find(|l| l.child() == Some(level))
                    .map_or("none", AreaLevel::as_str);
                return Err(AreaError::WrongParentLevel {
                    child: level.as_str(),
                    parent: parent_level.as_str(),
                    expected,
                });
            }
            Ok(format!("{parent_path}{code}/"))
        }
    }
}

/// Exclusive upper bound of the subtree range of `path`: every descendant path
/// starts with `path` (ending in `/`), and `/` (0x2F) sorts just below `0` (0x30).
pub fn subtree_upper_bound(path: &str) -> String {
    let mut upper = path.trim_end_matches('/').to_string();
    upper.push('0');
    upper
}

/// The province code is the first segment of a path.
pub fn province_of_path(path: &str) -> &str {
    path.trim_start_matches('/').split('/').next().unwrap_or("")
}

/// Words that name the kind of an administrative unit rather than the unit
/// ("Thành phố Hạ Long", "Xã Quảng Nghĩa"), folded. Longest first, so that
/// "thi tran" wins over "thi".
const UNIT_WORDS: [&str; 12] = [
    "thanh pho ",
    "thi tran ",
    "thi xa ",
    "phuong ",
    "huyen ",
    "quan ",
    "tinh ",
    "thon ",
    "xa ",
    "khu ",
    "ban ",
    "to ",
];

/// The key two spellings of one place share: folded (no diacritics, lower
/// case) and without the word for the kind of unit, so an address line
/// "TP. Hạ Long" or "Hạ Long" finds the district "Thành phố Hạ Long".
pub fn place_key(name: &str) -> String {
    let folded = crate::names::fold_name(
        &name
            .replace("TP.", "thanh pho ")
            .replace("Tp.", "thanh pho "),
    );
    UNIT_WORDS
        .iter()
        .find_map(|w| folded.strip_prefix(w))
        .unwrap_or(&folded)
        .trim()
        .to_string()
}

#[cfg(test)]
mod tests {

    #[test]
    fn place_keys_ignore_diacritics_and_the_kind_of_unit() {
        assert_eq!(place_key("Thành phố Hạ Long"), "ha long");
        assert_eq!(place_key("TP. Hạ Long"), "ha long");
        assert_eq!(place_key("hạ long"), "ha long");
        assert_eq!(place_key("Xã Quảng Nghĩa"), "quang nghia");
        assert_eq!(place_key("Thị trấn Trới"), "troi");
        assert_eq!(place_key("Hồng Gai"), "hong gai");
        // A name that merely starts like a unit word keeps it.
        assert_eq!(place_key("Tòa Nhà"), "toa nha");
    }

    use super::*;

    #[test]
    fn paths_nest_and_ranges_cover_exactly_the_subtree() {
        let p = place_area("22", "Quảng Ninh", AreaLevel::Province, None).unwrap();
        let d = place_area(
            "193",
            "Hạ Long",
            AreaLevel::District,
            Some((AreaLevel::Province, &p)),
        )
        .unwrap();
        let c = place_area(
            "06658",
            "Hồng Gai",
            AreaLevel::Commune,
            Some((AreaLevel::District, &d)),
        )
        .unwrap();
        assert_eq!(c, "/22/193/06658/");
        let upper = subtree_upper_bound(&d);
        for inside in [&d, &c, &format!("{c}0665801/")] {
            assert!(inside.as_str() >= d.as_str() && inside.as_str() < upper.as_str());
        }
        // A sibling whose code extends ours must stay outside the range.
        for outside in ["/22/1930/", "/22/194/", "/22/19/", "/23/"] {
            assert!(
                !(outside >= d.as_str() && outside < upper.as_str()),
                "{outside}"
            );
        }
        assert_eq!(province_of_path(&c), "22");
    }

    #[test]
    fn levels_must_follow_the_tree() {
        let p = "/22/";
        assert_eq!(
            place_area(
                "06658",
                "X",
                AreaLevel::Commune,
                Some((AreaLevel::Province, p))
            ),
            Err(AreaError::WrongParentLevel {
                child: "commune",
                parent: "province",
                expected: "district"
            })
        );
        assert_eq!(
            place_area("193", "X", AreaLevel::District, None),
            Err(AreaError::MissingParent("district"))
        );
        assert_eq!(
            place_area("1/2", "X", AreaLevel::Province, None),
            Err(AreaError::BadCode)
        );
        assert_eq!(
            place_area("22", " ", AreaLevel::Province, None),
            Err(AreaError::EmptyName)
        );
    }
}
