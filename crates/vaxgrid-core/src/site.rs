//! Vaccination sites: the rules of their codes.

/// The longest site code. Other systems name facilities with longer codes
/// than areas have (HL7 RXA-11 "SHANGLI-TOWNSHIP-01"), and they must be
/// usable as they are.
pub const MAX_SITE_CODE: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a site code is 1 to 32 characters: letters, digits, '-', '_' or '.'")]
pub struct BadSiteCode;

pub fn validate_site_code(code: &str) -> Result<(), BadSiteCode> {
    let ok = !code.is_empty()
        && code.len() <= MAX_SITE_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(BadSiteCode)
    }
}

/// The most areas a site's catchment names (a district hospital serving
/// every village of a large district stays well under it).
pub const MAX_CATCHMENT: usize = 1000;

/// Why an area cannot be in a site's catchment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatchmentError {
    #[error(
        "a site serves communes or villages (the {local} level or below), not a whole {level}"
    )]
    AboveLocal { level: String, local: String },
    #[error(
        "area {area} is in province {area_province}, not in the site's province {site_province}"
    )]
    OtherProvince {
        area: String,
        area_province: String,
        site_province: String,
    },
}

/// Whether the area at `area_path` may be in the catchment of a site whose
/// own area is at `site_path`: at the local level (the commune, or the
/// configured equivalent) or below, and in the site's province.
pub fn check_catchment_area(
    site_path: &str,
    area_code: &str,
    area_path: &str,
    levels: &crate::area::AreaLevels,
) -> Result<(), CatchmentError> {
    use crate::area::{depth_of_path, province_of_path};
    let depth = depth_of_path(area_path);
    if !levels.is_local(depth) {
        let name = |d: usize| levels.at(d).map_or_else(String::new, |l| l.key.clone());
        return Err(CatchmentError::AboveLocal {
            level: name(depth),
            local: name(levels.local_depth()),
        });
    }
    let (area_province, site_province) = (province_of_path(area_path), province_of_path(site_path));
    if area_province != site_province {
        return Err(CatchmentError::OtherProvince {
            area: area_code.to_string(),
            area_province: area_province.to_string(),
            site_province: site_province.to_string(),
        });
    }
    Ok(())
}

/// Whether a site serves the area at `area_path`: with a catchment (the
/// paths of its areas), when one of them lies in that area's subtree or
/// contains the area (a village of a commune served); without one, when
/// the site's own area lies in the subtree, as before catchments. Paths
/// end with '/', so a prefix is a subtree.
pub fn serves(site_path: &str, catchment: &[String], area_path: &str) -> bool {
    if catchment.is_empty() {
        site_path.starts_with(area_path)
    } else {
        catchment
            .iter()
            .any(|c| c.starts_with(area_path) || area_path.starts_with(c.as_str()))
    }
}

#[cfg(test)]
mod catchment_tests {
    use super::*;
    use crate::area::AreaLevels;

    #[test]
    fn a_catchment_is_local_and_in_the_site_province() {
        let levels = AreaLevels::default();
        let site = "/22/193/06658/";
        assert!(check_catchment_area(site, "06661", "/22/193/06661/", &levels).is_ok());
        assert!(check_catchment_area(site, "0670001", "/22/194/06700/0670001/", &levels).is_ok());
        assert!(matches!(
            check_catchment_area(site, "193", "/22/193/", &levels),
            Err(CatchmentError::AboveLocal { .. })
        ));
        let e = check_catchment_area(site, "01001", "/01/010/01001/", &levels).unwrap_err();
        assert_eq!(
            e.to_string(),
            "area 01001 is in province 01, not in the site's province 22"
        );
        // Three levels (Việt Nam after 2025): the commune is the level
        // under the province.
        let three = AreaLevels::new(vec![
            crate::area::LevelDef::new("province", "Tỉnh", "省", "Provinces"),
            crate::area::LevelDef::new("commune", "Xã", "乡", "Communes"),
            crate::area::LevelDef::new("village", "Thôn", "村", "Villages"),
        ])
        .unwrap();
        assert!(check_catchment_area("/22/06658/", "06661", "/22/06661/", &three).is_ok());
        assert!(check_catchment_area("/22/06658/", "22", "/22/", &three).is_err());
    }

    #[test]
    fn a_site_serves_its_catchment_and_the_areas_around_it() {
        let own = "/22/193/06658/";
        let none: Vec<String> = Vec::new();
        assert!(serves(own, &none, "/22/"));
        assert!(serves(own, &none, "/22/193/06658/"));
        assert!(!serves(own, &none, "/22/194/"));
        assert!(!serves(own, &none, "/22/193/06658/0665801/"));
        let catchment = vec!["/22/194/06700/".to_string(), "/22/193/06661/".to_string()];
        assert!(serves(own, &catchment, "/22/194/"));
        assert!(serves(own, &catchment, "/22/194/06700/0670001/"));
        assert!(serves(own, &catchment, "/22/"));
        // Its own commune is not served unless named.
        assert!(!serves(own, &catchment, "/22/193/06658/"));
        // "/22/19/" is not a prefix of "/22/193/…" as a subtree.
        assert!(!serves(own, &catchment, "/22/19/"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facility_codes_of_other_systems_fit() {
        assert!(validate_site_code("SHANGLI-TOWNSHIP-01").is_ok());
        assert!(validate_site_code("S06658").is_ok());
        assert!(validate_site_code("").is_err());
        assert!(validate_site_code("A/B").is_err());
        assert!(validate_site_code(&"X".repeat(33)).is_err());
    }
}

/// The functional zones of a vaccination site, in the order people pass
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZoneKind {
    TemperatureCheck,
    Registration,
    Screening,
    Vaccination,
    Observation,
    /// Emergency treatment of reactions (anaphylaxis kit).
    Treatment,
}

impl ZoneKind {
    pub const ALL: [ZoneKind; 6] = [
        ZoneKind::TemperatureCheck,
        ZoneKind::Registration,
        ZoneKind::Screening,
        ZoneKind::Vaccination,
        ZoneKind::Observation,
        ZoneKind::Treatment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::TemperatureCheck => "temperature_check",
            ZoneKind::Registration => "registration",
            ZoneKind::Screening => "screening",
            ZoneKind::Vaccination => "vaccination",
            ZoneKind::Observation => "observation",
            ZoneKind::Treatment => "treatment",
        }
    }

    pub fn parse(s: &str) -> Option<ZoneKind> {
        ZoneKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zone {
    pub kind: ZoneKind,
    pub name: String,
    /// People it holds at once (vaccination: stations).
    pub places: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZoneError {
    #[error("a site needs a {0} zone: people are vaccinated, watched for 30 minutes, and treated if they react")]
    Missing(&'static str),
    #[error("zone {0}: places must be 1 to 10000")]
    Places(String),
    #[error("zone names must be 1 to 200 characters and differ from each other")]
    Name,
}

/// Checks a site's zones: every site vaccinates, observes and can treat a
/// reaction on the spot, so those three zones are required.
pub fn validate_zones(zones: &[Zone]) -> Result<(), ZoneError> {
    for needed in [
        ZoneKind::Vaccination,
        ZoneKind::Observation,
        ZoneKind::Treatment,
    ] {
        if !zones.iter().any(|z| z.kind == needed) {
            return Err(ZoneError::Missing(needed.as_str()));
        }
    }
    for (i, z) in zones.iter().enumerate() {
        let name = z.name.trim();
        if name.is_empty()
            || name.chars().count() > 200
            || zones[..i].iter().any(|o| o.name.trim() == name)
        {
            return Err(ZoneError::Name);
        }
        if !(1..=10_000).contains(&z.places) {
            return Err(ZoneError::Places(name.to_string()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod zone_tests {
    use super::*;

    fn zone(kind: ZoneKind, name: &str, places: u32) -> Zone {
        Zone {
            kind,
            name: name.into(),
            places,
        }
    }

    #[test]
    fn a_site_vaccinates_observes_and_treats() {
        let mut zones = vec![
            zone(ZoneKind::Registration, "Bàn đăng ký", 2),
            zone(ZoneKind::Vaccination, "Phòng tiêm", 3),
            zone(ZoneKind::Observation, "Khu theo dõi", 40),
        ];
        assert_eq!(validate_zones(&zones), Err(ZoneError::Missing("treatment")));
        zones.push(zone(ZoneKind::Treatment, "Xử trí phản vệ", 2));
        assert_eq!(validate_zones(&zones), Ok(()));
        zones.push(zone(ZoneKind::Screening, "Phòng tiêm", 1));
        assert_eq!(validate_zones(&zones), Err(ZoneError::Name));
        zones.pop();
        zones[0].places = 0;
        assert!(matches!(validate_zones(&zones), Err(ZoneError::Places(_))));
    }
}
