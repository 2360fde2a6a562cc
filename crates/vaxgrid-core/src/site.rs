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
