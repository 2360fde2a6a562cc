//! Entering a campaign already run: a province loading its history enters
//! campaigns whose target date has passed and waves that started long
//! before the campaign was entered. Only an administrator may, with a
//! reason that the audit log keeps; everyone else plans from today.

/// Bounds of the reason, in characters.
pub const MIN_REASON: usize = 10;
pub const MAX_REASON: usize = 500;

/// The reason, trimmed: 10 to 500 characters, no control characters
/// other than line breaks.
pub fn check_reason(reason: &str) -> Result<String, &'static str> {
    let r = reason.trim();
    let n = r.chars().count();
    if n < MIN_REASON {
        return Err("say why the campaign is entered after the fact (at least 10 characters)");
    }
    if n > MAX_REASON {
        return Err("a reason has at most 500 characters");
    }
    if r.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err("a reason has no control characters");
    }
    Ok(r.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_needed_and_bounded() {
        assert_eq!(
            check_reason("  loading the 2021 campaign from the paper registers ").unwrap(),
            "loading the 2021 campaign from the paper registers"
        );
        assert!(check_reason("history").is_err());
        assert!(check_reason(&"x".repeat(501)).is_err());
        assert!(check_reason("from paper\u{0}registers").is_err());
        assert!(check_reason("from the paper\nregisters").is_ok());
    }
}
