//! Area groups for reports: the region groups areas are tagged with (east,
//! centre, west; the eight border counties) and bands of distance from the
//! national border. Which areas stand for a group is a pure rule: an area
//! counts with its whole subtree, so an area under another area of the
//! same group is already counted and is left out, and a group's figures
//! never count a person twice.

use std::collections::BTreeMap;

/// An area carrying a region group or a border distance, with its path
/// (`/22/193/06658/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedArea {
    pub code: String,
    pub path: String,
    pub region_group: Option<String>,
    pub border_km: Option<u32>,
}

/// A band of distance from the border: `from_km` ≤ distance < `to_km`
/// (no upper end for the last band).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BorderBand {
    pub from_km: u32,
    pub to_km: Option<u32>,
    /// The outermost areas whose distance falls in the band.
    pub areas: Vec<String>,
}

/// The most bands a report splits the distance into.
pub const MAX_BANDS: usize = 10;

/// Keeps the areas of `areas` that no other area of the list contains.
fn outermost<'a>(areas: &[&'a TaggedArea]) -> Vec<&'a TaggedArea> {
    areas
        .iter()
        .filter(|a| {
            !areas
                .iter()
                .any(|b| b.path != a.path && a.path.starts_with(&b.path))
        })
        .copied()
        .collect()
}

/// Each region group with the outermost areas tagged with it, sorted by
/// group and by code.
pub fn region_groups(areas: &[TaggedArea]) -> BTreeMap<String, Vec<String>> {
    let mut by_group: BTreeMap<&str, Vec<&TaggedArea>> = BTreeMap::new();
    for a in areas {
        if let Some(g) = &a.region_group {
            by_group.entry(g.as_str()).or_default().push(a);
        }
    }
    by_group
        .into_iter()
        .map(|(g, members)| {
            let mut codes: Vec<String> = outermost(&members)
                .into_iter()
                .map(|a| a.code.clone())
                .collect();
            codes.sort();
            (g.to_string(), codes)
        })
        .collect()
}

/// The bands cut at `bounds` (strictly increasing, in km): `[0, b1)`,
/// `[b1, b2)`, …, `[bn, ∞)`, each with the outermost areas that carry a
/// distance in it. An area with a distance counts with its subtree; an
/// area under another area with a distance is counted there.
pub fn border_bands(areas: &[TaggedArea], bounds: &[u32]) -> Vec<BorderBand> {
    let with_distance: Vec<&TaggedArea> = areas.iter().filter(|a| a.border_km.is_some()).collect();
    let counted = outermost(&with_distance);
    let mut starts = vec![0];
    starts.extend_from_slice(bounds);
    starts
        .iter()
        .enumerate()
        .map(|(i, &from_km)| {
            let to_km = bounds.get(i).copied();
            let mut codes: Vec<String> = counted
                .iter()
                .filter(|a| {
                    let km = a.border_km.unwrap_or(u32::MAX);
                    km >= from_km && to_km.is_none_or(|to| km < to)
                })
                .map(|a| a.code.clone())
                .collect();
            codes.sort();
            BorderBand {
                from_km,
                to_km,
                areas: codes,
            }
        })
        .collect()
}

/// Reads band bounds given as `20,50` (km): whole numbers above 0, strictly
/// increasing, at most [`MAX_BANDS`]` - 1` of them. An empty text is no
/// cut (one band).
pub fn parse_bounds(text: &str) -> Result<Vec<u32>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut bounds = Vec::new();
    for part in text.split(',') {
        let km: u32 = part
            .trim()
            .parse()
            .map_err(|_| format!("'{}' is not a whole number of km", part.trim()))?;
        if km == 0 || km > 5000 {
            return Err(format!("{km} km: a bound is 1 to 5000 km"));
        }
        if bounds.last().is_some_and(|&last| km <= last) {
            return Err(format!("{km} km: the bounds must increase"));
        }
        bounds.push(km);
    }
    if bounds.len() >= MAX_BANDS {
        return Err(format!("at most {} bounds", MAX_BANDS - 1));
    }
    Ok(bounds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(code: &str, path: &str, group: Option<&str>, km: Option<u32>) -> TaggedArea {
        TaggedArea {
            code: code.into(),
            path: path.into(),
            region_group: group.map(Into::into),
            border_km: km,
        }
    }

    #[test]
    fn an_area_under_an_area_of_its_group_is_counted_there() {
        let areas = [
            area("193", "/22/193/", Some("east"), None),
            area("06658", "/22/193/06658/", Some("east"), None),
            area("06659", "/22/194/06659/", Some("east"), None),
            area("195", "/22/195/", Some("west"), None),
            // Another group under an "east" area counts in that group too.
            area("06660", "/22/193/06660/", Some("border"), None),
        ];
        let groups = region_groups(&areas);
        assert_eq!(groups["east"], ["06659", "193"]);
        assert_eq!(groups["west"], ["195"]);
        assert_eq!(groups["border"], ["06660"]);
        assert_eq!(groups.len(), 3);
    }

    #[test]
    fn a_path_prefix_that_is_not_an_ancestor_is_not_one() {
        // "/22/19/" is not an ancestor of "/22/193/": paths end in '/'.
        let areas = [
            area("19", "/22/19/", Some("east"), None),
            area("193", "/22/193/", Some("east"), None),
        ];
        assert_eq!(region_groups(&areas)["east"], ["19", "193"]);
    }

    #[test]
    fn bands_split_at_their_bounds_and_the_last_is_open() {
        let areas = [
            area("a", "/22/a/", None, Some(0)),
            area("b", "/22/b/", None, Some(19)),
            area("c", "/22/c/", None, Some(20)),
            area("d", "/22/d/", None, Some(49)),
            area("e", "/22/e/", None, Some(50)),
            area("f", "/22/f/", None, Some(5000)),
            area("g", "/22/g/", Some("east"), None),
        ];
        let bands = border_bands(&areas, &[20, 50]);
        assert_eq!(
            bands,
            [
                BorderBand {
                    from_km: 0,
                    to_km: Some(20),
                    areas: vec!["a".into(), "b".into()],
                },
                BorderBand {
                    from_km: 20,
                    to_km: Some(50),
                    areas: vec!["c".into(), "d".into()],
                },
                BorderBand {
                    from_km: 50,
                    to_km: None,
                    areas: vec!["e".into(), "f".into()],
                },
            ]
        );
        // No bounds: one band of every area with a distance.
        assert_eq!(border_bands(&areas, &[])[0].areas.len(), 6);
    }

    #[test]
    fn a_commune_under_a_district_with_a_distance_is_counted_with_it() {
        let areas = [
            area("193", "/22/193/", None, Some(30)),
            area("06658", "/22/193/06658/", None, Some(5)),
        ];
        let bands = border_bands(&areas, &[20]);
        assert!(bands[0].areas.is_empty());
        assert_eq!(bands[1].areas, ["193"]);
    }

    #[test]
    fn bounds_are_whole_increasing_km() {
        assert_eq!(parse_bounds(""), Ok(vec![]));
        assert_eq!(parse_bounds(" 20, 50 "), Ok(vec![20, 50]));
        assert!(parse_bounds("20,20").unwrap_err().contains("increase"));
        assert!(parse_bounds("50,20").unwrap_err().contains("increase"));
        assert!(parse_bounds("0").unwrap_err().contains("1 to 5000"));
        assert!(parse_bounds("5001").unwrap_err().contains("1 to 5000"));
        assert!(parse_bounds("x").unwrap_err().contains("'x'"));
        assert!(parse_bounds("-5").is_err());
        assert!(parse_bounds("1,2,3,4,5,6,7,8,9,10")
            .unwrap_err()
            .contains("at most 9"));
        assert_eq!(parse_bounds("1,2,3,4,5,6,7,8,9").unwrap().len(), 9);
    }
}
