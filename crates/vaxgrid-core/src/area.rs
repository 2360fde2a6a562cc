//! The area tree and its materialized paths. Its levels are configured per
//! deployment (`AreaLevels`: 2 to 6, each named in every language), e.g.
//! province > district > commune > village (Việt Nam before 2025, the
//! demo), province > commune > village (Việt Nam since 2025), or
//! province > prefecture > county > township > village (China).
//!
//! Every area stores the path of codes from the root, e.g. `/22/193/06658/0665801/`;
//! an area's depth (0 at the top) is the number of its path's segments less
//! one, and its level is the configured level at that depth.
//! "This area and everything under it" is then the half-open byte range
//! `[path, upper_bound(path))`, which both SQLite and PostgreSQL (with the `C`
//! collation) answer from an index instead of a recursive query.

use serde::{Deserialize, Serialize};

/// The key of a configured level ("province", "commune", "township", …).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "commune"))]
pub struct AreaLevel(String);

impl AreaLevel {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for AreaLevel {
    fn from(key: &str) -> AreaLevel {
        AreaLevel(key.to_string())
    }
}

impl From<String> for AreaLevel {
    fn from(key: String) -> AreaLevel {
        AreaLevel(key)
    }
}

impl std::fmt::Display for AreaLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One configured level: its key and what the pages call the areas of
/// that level, in each language.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LevelDef {
    /// 1–32 characters of a-z, 0-9 or '_'.
    pub key: String,
    pub name_vi: String,
    pub name_zh: String,
    pub name_en: String,
}

impl LevelDef {
    pub fn new(key: &str, vi: &str, zh: &str, en: &str) -> LevelDef {
        LevelDef {
            key: key.into(),
            name_vi: vi.into(),
            name_zh: zh.into(),
            name_en: en.into(),
        }
    }

    /// The name in `lang` ("vi", "zh", anything else English).
    pub fn name(&self, lang: &str) -> &str {
        match lang {
            "vi" => &self.name_vi,
            "zh" => &self.name_zh,
            _ => &self.name_en,
        }
    }
}

/// The levels of a deployment's tree, top first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<LevelDef>", into = "Vec<LevelDef>")]
pub struct AreaLevels(Vec<LevelDef>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct LevelsError {
    /// The offending field, e.g. `levels[2].key`.
    pub field: String,
    pub message: String,
}

impl TryFrom<Vec<LevelDef>> for AreaLevels {
    type Error = LevelsError;
    fn try_from(levels: Vec<LevelDef>) -> Result<Self, LevelsError> {
        AreaLevels::new(levels)
    }
}

impl From<AreaLevels> for Vec<LevelDef> {
    fn from(l: AreaLevels) -> Vec<LevelDef> {
        l.0
    }
}

impl Default for AreaLevels {
    /// Việt Nam's tree before the 2025 reform, which the demo keeps.
    fn default() -> AreaLevels {
        AreaLevels(vec![
            LevelDef::new("province", "Tỉnh, thành phố", "省份", "Provinces"),
            LevelDef::new("district", "Quận, huyện", "区县", "Districts"),
            LevelDef::new(
                "commune",
                "Xã, phường, thị trấn",
                "乡镇（街道）",
                "Communes",
            ),
            LevelDef::new("village", "Thôn, khu phố", "村（社区）", "Villages"),
        ])
    }
}

impl AreaLevels {
    pub const MIN: usize = 2;
    pub const MAX: usize = 6;

    /// Checks a configuration: 2 to 6 levels, keys well formed and
    /// distinct, every name given.
    pub fn new(levels: Vec<LevelDef>) -> Result<AreaLevels, LevelsError> {
        let err = |field: String, message: &str| LevelsError {
            field,
            message: message.to_string(),
        };
        if !(Self::MIN..=Self::MAX).contains(&levels.len()) {
            return Err(err(
                "levels".into(),
                "a tree has 2 to 6 levels, the top one first",
            ));
        }
        for (i, l) in levels.iter().enumerate() {
            let key_ok = !l.key.is_empty()
                && l.key.len() <= 32
                && l.key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !key_ok {
                return Err(err(
                    format!("levels[{i}].key"),
                    "a level key is 1 to 32 characters of a-z, 0-9 or '_'",
                ));
            }
            if levels[..i].iter().any(|o| o.key == l.key) {
                return Err(err(format!("levels[{i}].key"), "level keys must differ"));
            }
            for (field, name) in [
                ("name_vi", &l.name_vi),
                ("name_zh", &l.name_zh),
                ("name_en", &l.name_en),
            ] {
                if name.trim().is_empty() || name.chars().count() > 100 {
                    return Err(err(
                        format!("levels[{i}].{field}"),
                        "a level's name is 1 to 100 characters",
                    ));
                }
            }
        }
        Ok(AreaLevels(levels))
    }

    /// Việt Nam since the 2025 reform: the district level abolished.
    pub fn vietnam_2025() -> AreaLevels {
        AreaLevels(vec![
            LevelDef::new("province", "Tỉnh, thành phố", "省份", "Provinces"),
            LevelDef::new("commune", "Xã, phường, đặc khu", "乡镇（街道）", "Communes"),
            LevelDef::new("village", "Thôn, tổ dân phố", "村（社区）", "Villages"),
        ])
    }

    /// China: province > prefecture > county > township > village.
    pub fn china() -> AreaLevels {
        AreaLevels(vec![
            LevelDef::new("province", "Tỉnh", "省", "Provinces"),
            LevelDef::new("prefecture", "Địa cấp thị", "地级市", "Prefectures"),
            LevelDef::new("county", "Huyện", "县（区）", "Counties"),
            LevelDef::new("township", "Hương, trấn", "乡镇（街道）", "Townships"),
            LevelDef::new("village", "Thôn", "村（社区）", "Villages"),
        ])
    }

    pub fn all(&self) -> &[LevelDef] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The level at `depth` (0 is the top).
    pub fn at(&self, depth: usize) -> Option<&LevelDef> {
        self.0.get(depth)
    }

    pub fn level_at(&self, depth: usize) -> Option<AreaLevel> {
        self.at(depth).map(|l| AreaLevel(l.key.clone()))
    }

    pub fn depth_of(&self, level: &AreaLevel) -> Option<usize> {
        self.0.iter().position(|l| l.key == level.0)
    }

    /// The depth of the leaves (villages).
    pub fn leaf_depth(&self) -> usize {
        self.0.len() - 1
    }

    /// The depth whose areas a team works through and a survey list is
    /// printed for (the commune, the township): the level above the
    /// leaves, or the leaves themselves in a two-level tree. Persons live
    /// at this depth or below, and their `commune_code` is their
    /// ancestor at this depth.
    pub fn local_depth(&self) -> usize {
        self.0.len().saturating_sub(2).max(1)
    }

    /// Whether an area at `depth` is local: a commune or below.
    pub fn is_local(&self, depth: usize) -> bool {
        depth >= self.local_depth()
    }
}

/// The depth of an area from its path: `/22/` is 0, `/22/193/` is 1.
pub fn depth_of_path(path: &str) -> usize {
    path.split('/')
        .filter(|s| !s.is_empty())
        .count()
        .saturating_sub(1)
}

/// The code of the ancestor (or the area itself) at `depth` on `path`.
pub fn ancestor_at(path: &str, depth: usize) -> Option<&str> {
    path.split('/').filter(|s| !s.is_empty()).nth(depth)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    #[error("area code must be 1 to 16 characters of A-Z, a-z, 0-9, '-' or '_'")]
    BadCode,
    #[error("level '{0}' is not one of this deployment's levels ({1})")]
    UnknownLevel(String, String),
    #[error("a {0} must have a parent area")]
    MissingParent(String),
    #[error("a {0} is at the top and has no parent area")]
    TopWithParent(String),
    #[error("a {child} cannot be placed under a {parent}; expected a {expected} parent")]
    WrongParentLevel {
        child: String,
        parent: String,
        expected: String,
    },
    #[error("a {0} is at the bottom of the tree; no area can be placed under it")]
    UnderLeaf(String),
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

/// Checks that a new area of `level` fits under its parent (given by its
/// path) in the configured tree, and returns its path.
pub fn place_area(
    code: &str,
    name: &str,
    level: &AreaLevel,
    parent_path: Option<&str>,
    levels: &AreaLevels,
) -> Result<String, AreaError> {
    validate_code(code)?;
    if name.trim().is_empty() {
        return Err(AreaError::EmptyName);
    }
    let keys = || {
        levels
            .all()
            .iter()
            .map(|l| l.key.as_str())
            .collect::<Vec<_>>()
            .join(" > ")
    };
    let depth = levels
        .depth_of(level)
        .ok_or_else(|| AreaError::UnknownLevel(level.0.clone(), keys()))?;
    match (depth, parent_path) {
        (0, None) => Ok(format!("/{code}/")),
        (0, Some(_)) => Err(AreaError::TopWithParent(level.0.clone())),
        (_, None) => Err(AreaError::MissingParent(level.0.clone())),
        (_, Some(parent_path)) => {
            let parent_depth = depth_of_path(parent_path);
            let parent_key = levels
                .at(parent_depth)
                .map_or_else(|| "?".to_string(), |l| l.key.clone());
            if parent_depth >= levels.leaf_depth() {
                return Err(AreaError::UnderLeaf(parent_key));
            }
            if parent_depth + 1 != depth {
                return Err(AreaError::WrongParentLevel {
                    child: level.0.clone(),
                    parent: parent_key,
                    expected: levels.at(depth - 1).map_or("?", |l| &l.key).to_string(),
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

    fn q() -> AreaLevels {
        AreaLevels::default()
    }

    #[test]
    fn paths_nest_and_ranges_cover_exactly_the_subtree() {
        let p = place_area("22", "Quảng Ninh", &"province".into(), None, &q()).unwrap();
        let d = place_area("193", "Hạ Long", &"district".into(), Some(&p), &q()).unwrap();
        let c = place_area("06658", "Hồng Gai", &"commune".into(), Some(&d), &q()).unwrap();
        assert_eq!(c, "/22/193/06658/");
        assert_eq!(depth_of_path(&c), 2);
        assert_eq!(ancestor_at(&c, 1), Some("193"));
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
            place_area("06658", "X", &"commune".into(), Some(p), &q()),
            Err(AreaError::WrongParentLevel {
                child: "commune".into(),
                parent: "province".into(),
                expected: "district".into()
            })
        );
        assert_eq!(
            place_area("193", "X", &"district".into(), None, &q()),
            Err(AreaError::MissingParent("district".into()))
        );
        assert_eq!(
            place_area("1/2", "X", &"province".into(), None, &q()),
            Err(AreaError::BadCode)
        );
        assert_eq!(
            place_area("22", " ", &"province".into(), None, &q()),
            Err(AreaError::EmptyName)
        );
        assert!(matches!(
            place_area("9", "X", &"township".into(), Some(p), &q()),
            Err(AreaError::UnknownLevel(..))
        ));
        assert_eq!(
            place_area(
                "9",
                "X",
                &"village".into(),
                Some("/22/193/06658/0665801/"),
                &q()
            ),
            Err(AreaError::UnderLeaf("village".into()))
        );
    }

    #[test]
    fn configured_trees_of_three_and_five_levels() {
        let vn = AreaLevels::vietnam_2025();
        let c = place_area("26734", "Hạ Long", &"commune".into(), Some("/22/"), &vn).unwrap();
        assert_eq!(c, "/22/26734/");
        assert_eq!(vn.local_depth(), 1);
        assert!(vn.is_local(depth_of_path(&c)));
        let cn = AreaLevels::china();
        assert_eq!(cn.local_depth(), 3);
        let t = place_area("5", "X", &"township".into(), Some("/44/01/06/"), &cn).unwrap();
        assert_eq!(depth_of_path(&t), 3);
        assert!(cn.is_local(3) && !cn.is_local(2));
        let two = AreaLevels::new(vec![
            LevelDef::new("region", "Vùng", "地区", "Regions"),
            LevelDef::new("ward", "Phường", "街道", "Wards"),
        ])
        .unwrap();
        assert_eq!(two.local_depth(), 1);
    }

    #[test]
    fn a_configuration_is_checked_field_by_field() {
        let one = vec![LevelDef::new("province", "a", "b", "c")];
        assert_eq!(AreaLevels::new(one).unwrap_err().field, "levels");
        let mut seven = AreaLevels::china().all().to_vec();
        seven.extend(AreaLevels::vietnam_2025().all()[1..].iter().cloned());
        assert_eq!(AreaLevels::new(seven).unwrap_err().field, "levels");
        let dup = vec![
            LevelDef::new("province", "a", "b", "c"),
            LevelDef::new("province", "a", "b", "c"),
        ];
        assert_eq!(AreaLevels::new(dup).unwrap_err().field, "levels[1].key");
        let bad = vec![
            LevelDef::new("province", "a", "b", "c"),
            LevelDef::new("Commune", "a", "b", "c"),
        ];
        assert_eq!(AreaLevels::new(bad).unwrap_err().field, "levels[1].key");
        let unnamed = vec![
            LevelDef::new("province", "a", "b", "c"),
            LevelDef::new("commune", "a", " ", "c"),
        ];
        assert_eq!(
            AreaLevels::new(unnamed).unwrap_err().field,
            "levels[1].name_zh"
        );
    }
}
