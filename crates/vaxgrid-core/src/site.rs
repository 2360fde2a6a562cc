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
