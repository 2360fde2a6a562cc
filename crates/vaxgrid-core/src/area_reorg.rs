//! Reorganisations of the area tree as dated events: merge areas into one,
//! split an area, move an area under another parent.
//!
//! `plan` checks a change against the tree as it is (pure) and says what
//! it does to the materialized paths: each step re-roots one subtree (every
//! path under `old_path` starts with `new_path` instead) and, for a merge,
//! re-keys the merged area's own rows to the area it joins. The store
//! applies the steps to every table that carries an area code, a path or a
//! province, in one transaction.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::area::{depth_of_path, province_of_path, validate_code, AreaLevel, AreaLevels};

/// What a reorganisation does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Change {
    /// `sources` (areas of one level) join `into` (of the same level):
    /// their areas below, persons, sites, counters and targets become
    /// `into`'s, and the sources are retired. Provinces merge whole.
    Merge { sources: Vec<String>, into: String },
    /// New areas beside `area` (same parent and level) take the children
    /// each lists; what is not listed stays with `area`.
    Split { area: String, parts: Vec<SplitPart> },
    /// `area` and everything under it moves under `parent_code` (of the
    /// level above `area`'s, in the same province).
    Move { area: String, parent_code: String },
}

impl Change {
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Merge { .. } => "merge",
            Change::Split { .. } => "split",
            Change::Move { .. } => "move",
        }
    }
}

/// One new area of a split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SplitPart {
    pub code: String,
    pub name: String,
    #[serde(default)]
    pub name_en: Option<String>,
    /// Codes of children of the split area that move to this part.
    #[serde(default)]
    pub children: Vec<String>,
}

/// An area as the planner needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeArea {
    pub code: String,
    pub parent_code: Option<String>,
    pub path: String,
}

/// A new area a split makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedArea {
    pub code: String,
    pub name: String,
    pub name_en: String,
    pub parent_code: Option<String>,
    pub level: AreaLevel,
    pub path: String,
}

/// One subtree re-rooted: every path in `[old_path, upper(old_path))`
/// becomes `new_path` followed by the rest. When `merged_into` is set the
/// root itself (`from_code`) is retired and its own rows go to that area,
/// whose path is `new_path`; otherwise the root keeps its code and takes
/// `new_parent` as its parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub from_code: String,
    pub old_path: String,
    pub new_path: String,
    pub new_parent: Option<String>,
    pub merged_into: Option<String>,
}

impl Step {
    pub fn old_province(&self) -> &str {
        province_of_path(&self.old_path)
    }
    pub fn new_province(&self) -> &str {
        province_of_path(&self.new_path)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub new_areas: Vec<PlannedArea>,
    pub steps: Vec<Step>,
}

/// A change refused, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ReorgError {
    pub field: String,
    pub message: String,
}

fn refuse(field: impl Into<String>, message: impl Into<String>) -> ReorgError {
    ReorgError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks `change` against the tree `areas` with `levels` and says what it
/// does. Refused (naming the field): unknown areas, areas of different
/// levels, a parent inside the moved subtree (a cycle), a child of another
/// area (it would be left without its parent: an orphan), codes already
/// taken, areas crossing a province other than by merging whole provinces.
pub fn plan(change: &Change, areas: &[TreeArea], levels: &AreaLevels) -> Result<Plan, ReorgError> {
    let tree = Tree {
        by_code: areas.iter().map(|a| (a.code.as_str(), a)).collect(),
    };
    match change {
        Change::Move { area, parent_code } => plan_move(&tree, levels, area, parent_code),
        Change::Merge { sources, into } => plan_merge(&tree, levels, sources, into),
        Change::Split { area, parts } => plan_split(&tree, levels, area, parts),
    }
}

/// The tree's areas by code.
struct Tree<'a> {
    by_code: HashMap<&'a str, &'a TreeArea>,
}

impl<'a> Tree<'a> {
    /// The area `code`, or a refusal naming `field`.
    fn find(&self, field: String, code: &str) -> Result<&'a TreeArea, ReorgError> {
        self.by_code
            .get(code)
            .copied()
            .ok_or_else(|| refuse(field, format!("area '{code}' does not exist")))
    }
}

/// `area` moves under `parent_code`, of the level above, in the same
/// province, and not inside `area` itself.
fn plan_move(
    tree: &Tree,
    levels: &AreaLevels,
    area: &str,
    parent_code: &str,
) -> Result<Plan, ReorgError> {
    let a = tree.find("area".into(), area)?;
    let p = tree.find("parent_code".into(), parent_code)?;
    let depth = depth_of_path(&a.path);
    if depth == 0 {
        return Err(refuse(
            "area",
            "a province has no parent; merge provinces instead",
        ));
    }
    if p.path.starts_with(a.path.as_str()) {
        return Err(refuse(
            "parent_code",
            format!("'{parent_code}' is {area} or under it: the move would make a cycle"),
        ));
    }
    if depth_of_path(&p.path) + 1 != depth {
        return Err(refuse(
            "parent_code",
            format!(
                "a {} goes under a {}, and '{parent_code}' is a {}",
                key_at(levels, depth),
                key_at(levels, depth - 1),
                key_at(levels, depth_of_path(&p.path))
            ),
        ));
    }
    if a.parent_code.as_deref() == Some(parent_code) {
        return Err(refuse(
            "parent_code",
            format!("'{area}' is already under '{parent_code}'"),
        ));
    }
    if province_of_path(&p.path) != province_of_path(&a.path) {
        return Err(across_provinces("parent_code"));
    }
    Ok(Plan {
        new_areas: Vec::new(),
        steps: vec![Step {
            from_code: a.code.clone(),
            old_path: a.path.clone(),
            new_path: format!("{}{}/", p.path, a.code),
            new_parent: Some(p.code.clone()),
            merged_into: None,
        }],
    })
}

/// `sources`, each named once, of `into`'s level and province (whole
/// provinces merge too), join `into`.
fn plan_merge(
    tree: &Tree,
    levels: &AreaLevels,
    sources: &[String],
    into: &str,
) -> Result<Plan, ReorgError> {
    let t = tree.find("into".into(), into)?;
    if sources.is_empty() {
        return Err(refuse("sources", "name at least one area to merge"));
    }
    let depth = depth_of_path(&t.path);
    let mut seen = HashSet::new();
    let mut steps = Vec::with_capacity(sources.len());
    for (i, code) in sources.iter().enumerate() {
        let field = format!("sources[{i}]");
        let s = tree.find(field.clone(), code)?;
        if !seen.insert(code.as_str()) {
            return Err(refuse(field, format!("'{code}' is named twice")));
        }
        if code == into {
            return Err(refuse(field, "an area cannot be merged into itself"));
        }
        if depth_of_path(&s.path) != depth {
            return Err(refuse(
                field,
                format!(
                    "'{code}' is a {} and '{into}' a {}: only areas of one level merge (its areas below would be left at the wrong level)",
                    key_at(levels, depth_of_path(&s.path)),
                    key_at(levels, depth)
                ),
            ));
        }
        if depth > 0 && province_of_path(&s.path) != province_of_path(&t.path) {
            return Err(across_provinces(&field));
        }
        steps.push(Step {
            from_code: s.code.clone(),
            old_path: s.path.clone(),
            new_path: t.path.clone(),
            new_parent: None,
            merged_into: Some(t.code.clone()),
        });
    }
    Ok(Plan {
        new_areas: Vec::new(),
        steps,
    })
}

/// New areas beside `area` (not a province), each with a new code and a
/// name, take the children of `area` each lists (each once).
fn plan_split(
    tree: &Tree,
    levels: &AreaLevels,
    area: &str,
    parts: &[SplitPart],
) -> Result<Plan, ReorgError> {
    let a = tree.find("area".into(), area)?;
    let depth = depth_of_path(&a.path);
    if depth == 0 {
        return Err(refuse(
            "area",
            "a province is not split here: its parts would cross provinces",
        ));
    }
    if parts.is_empty() {
        return Err(refuse("parts", "name at least one new area"));
    }
    let parent = a
        .parent_code
        .as_deref()
        .and_then(|p| tree.by_code.get(p).copied())
        .ok_or_else(|| refuse("area", format!("'{area}' has no parent")))?;
    let mut taken = HashSet::new();
    let mut new_areas = Vec::with_capacity(parts.len());
    let mut steps = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let field = |f: &str| format!("parts[{i}].{f}");
        validate_code(&part.code).map_err(|e| refuse(field("code"), e.to_string()))?;
        if tree.by_code.contains_key(part.code.as_str()) || !taken.insert(part.code.clone()) {
            return Err(refuse(
                field("code"),
                format!("area '{}' already exists", part.code),
            ));
        }
        if part.name.trim().is_empty() || part.name.chars().count() > 200 {
            return Err(refuse(field("name"), "a name is 1 to 200 characters"));
        }
        let path = format!("{}{}/", parent.path, part.code);
        for (j, child) in part.children.iter().enumerate() {
            let f = format!("parts[{i}].children[{j}]");
            let c = tree.find(f.clone(), child)?;
            if c.parent_code.as_deref() != Some(area) {
                return Err(refuse(
                    f,
                    format!("'{child}' is not directly under '{area}'"),
                ));
            }
            if !taken.insert(child.clone()) {
                return Err(refuse(f, format!("'{child}' is named twice")));
            }
            steps.push(Step {
                from_code: c.code.clone(),
                old_path: c.path.clone(),
                new_path: format!("{path}{}/", c.code),
                new_parent: Some(part.code.clone()),
                merged_into: None,
            });
        }
        new_areas.push(PlannedArea {
            code: part.code.clone(),
            name: part.name.trim().to_string(),
            name_en: part
                .name_en
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or(part.name.trim())
                .to_string(),
            parent_code: Some(parent.code.clone()),
            level: levels.level_at(depth).unwrap_or_else(|| "?".into()),
            path,
        });
    }
    Ok(Plan { new_areas, steps })
}

fn key_at(levels: &AreaLevels, depth: usize) -> String {
    levels
        .at(depth)
        .map_or_else(|| format!("level {depth}"), |l| l.key.clone())
}

fn across_provinces(field: &str) -> ReorgError {
    refuse(
        field,
        "areas move between provinces only by merging whole provinces",
    )
}

/// `path` re-rooted by `step`, or None when it is not in the step's subtree.
pub fn rerooted(path: &str, step: &Step) -> Option<String> {
    path.strip_prefix(step.old_path.as_str())
        .map(|rest| format!("{}{rest}", step.new_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Vec<TreeArea> {
        [
            ("22", None, "/22/"),
            ("193", Some("22"), "/22/193/"),
            ("194", Some("22"), "/22/194/"),
            ("06658", Some("193"), "/22/193/06658/"),
            ("0665801", Some("06658"), "/22/193/06658/0665801/"),
            ("06661", Some("193"), "/22/193/06661/"),
            ("06700", Some("194"), "/22/194/06700/"),
            ("23", None, "/23/"),
            ("231", Some("23"), "/23/231/"),
        ]
        .into_iter()
        .map(|(c, p, path)| TreeArea {
            code: c.into(),
            parent_code: p.map(Into::into),
            path: path.into(),
        })
        .collect()
    }

    fn field(change: Change) -> String {
        plan(&change, &tree(), &AreaLevels::default())
            .unwrap_err()
            .field
    }

    #[test]
    fn a_move_re_roots_the_subtree() {
        let p = plan(
            &Change::Move {
                area: "06658".into(),
                parent_code: "194".into(),
            },
            &tree(),
            &AreaLevels::default(),
        )
        .unwrap();
        assert_eq!(p.steps[0].new_path, "/22/194/06658/");
        assert_eq!(
            rerooted("/22/193/06658/0665801/", &p.steps[0]).as_deref(),
            Some("/22/194/06658/0665801/")
        );
        assert_eq!(rerooted("/22/193/06661/", &p.steps[0]), None);
    }

    #[test]
    fn cycles_orphans_and_levels_are_refused_naming_the_field() {
        let mv = |a: &str, p: &str| Change::Move {
            area: a.into(),
            parent_code: p.into(),
        };
        assert_eq!(field(mv("193", "06658")), "parent_code"); // a cycle
        assert_eq!(field(mv("193", "193")), "parent_code"); // itself
        assert_eq!(field(mv("06658", "22")), "parent_code"); // wrong level
        assert_eq!(field(mv("06658", "231")), "parent_code"); // other province
        assert_eq!(field(mv("06658", "193")), "parent_code"); // already there
        assert_eq!(field(mv("22", "23")), "area");
        assert_eq!(field(mv("nope", "193")), "area");
        let merge = |s: &[&str], into: &str| Change::Merge {
            sources: s.iter().map(|s| s.to_string()).collect(),
            into: into.into(),
        };
        assert_eq!(field(merge(&["06658", "193"], "06661")), "sources[1]");
        assert_eq!(field(merge(&["06661", "06661"], "06658")), "sources[1]");
        assert_eq!(field(merge(&["06658"], "06658")), "sources[0]");
        assert_eq!(field(merge(&[], "06658")), "sources");
        assert_eq!(field(merge(&["231"], "193")), "sources[0]");
        assert!(plan(&merge(&["23"], "22"), &tree(), &AreaLevels::default()).is_ok());
        let split = |children: &[&str]| Change::Split {
            area: "193".into(),
            parts: vec![SplitPart {
                code: "199".into(),
                name: "Mới".into(),
                name_en: None,
                children: children.iter().map(|s| s.to_string()).collect(),
            }],
        };
        // A child of another area would be left without its parent.
        assert_eq!(field(split(&["06700"])), "parts[0].children[0]");
        assert_eq!(field(split(&["0665801"])), "parts[0].children[0]");
        let p = plan(&split(&["06661"]), &tree(), &AreaLevels::default()).unwrap();
        assert_eq!(p.new_areas[0].path, "/22/199/");
        assert_eq!(p.steps[0].new_path, "/22/199/06661/");
    }
}
