//! The rules a campaign and its waves must satisfy on their own, apart
//! from the records they are checked against: the store reads the
//! campaign, then asks here, then writes.

use std::collections::HashSet;

use time::{Date, Duration};

use crate::coverage::validate_groups;

/// A wave may start at most this many days before its campaign was created
/// (a campaign recorded after its first wave began).
pub const WAVE_LATE_DAYS: i64 = 31;
pub const MAX_WAVES: usize = 50;
pub const MAX_PRODUCTS: usize = 20;
/// How far ahead a campaign's target date may be.
pub const MAX_TARGET_YEARS: i32 = 5;

/// A refused field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Refusal {
    pub field: &'static str,
    pub message: String,
}

fn refuse(field: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        field,
        message: message.into(),
    }
}

fn ymd(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Runs of white space folded to one space; 1 to `max` characters.
pub fn clean_text(field: &'static str, value: &str, max: usize) -> Result<String, Refusal> {
    let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() || v.chars().count() > max {
        return Err(refuse(
            field,
            format!("{field} must be 1 to {max} characters"),
        ));
    }
    Ok(v)
}

/// Well-formed priority group codes, none listed twice.
pub fn distinct_groups(field: &'static str, groups: &[String]) -> Result<(), Refusal> {
    validate_groups(groups).map_err(|m| refuse(field, m))?;
    let mut seen = HashSet::new();
    match groups.iter().find(|g| !seen.insert(*g)) {
        Some(g) => Err(refuse(
            field,
            format!("priority group '{g}' is listed twice"),
        )),
        None => Ok(()),
    }
}

/// 1 to [`MAX_PRODUCTS`] product codes, none listed twice.
pub fn distinct_products(products: &[String]) -> Result<(), Refusal> {
    if products.is_empty() || products.len() > MAX_PRODUCTS {
        return Err(refuse(
            "products",
            format!("name 1 to {MAX_PRODUCTS} products"),
        ));
    }
    let mut seen = HashSet::new();
    match products.iter().find(|p| !seen.insert(*p)) {
        Some(p) => Err(refuse("products", format!("product '{p}' is listed twice"))),
        None => Ok(()),
    }
}

/// A target date from `today` to [`MAX_TARGET_YEARS`] years ahead.
pub fn check_target_date(target: Date, today: Date) -> Result<(), Refusal> {
    let latest = today
        .replace_year(today.year() + MAX_TARGET_YEARS)
        .unwrap_or(today);
    if target < today || target > latest {
        return Err(refuse(
            "target_date",
            format!(
                "the target date {} must be from today ({}) to {MAX_TARGET_YEARS} years ahead",
                ymd(target),
                ymd(today)
            ),
        ));
    }
    Ok(())
}

pub fn check_min_age(years: u32) -> Result<(), Refusal> {
    if years > 120 {
        return Err(refuse(
            "min_age_years",
            "min_age_years must be from 0 to 120",
        ));
    }
    Ok(())
}

/// What a campaign's percentage applies to: the planner's explicit choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetBasis {
    /// The population of the campaign's priority groups.
    PriorityGroups,
    /// Everyone registered in the area, whatever their groups.
    Population,
}

impl TargetBasis {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetBasis::PriorityGroups => "priority_groups",
            TargetBasis::Population => "population",
        }
    }

    /// The basis named in a request; none: the priority groups when the
    /// campaign lists some, else the whole population. Priority groups
    /// named for a campaign without any is refused.
    pub fn choose(raw: Option<&str>, groups: &[String]) -> Result<TargetBasis, Refusal> {
        match raw {
            None if groups.is_empty() => Ok(TargetBasis::Population),
            None | Some("priority_groups") if !groups.is_empty() => Ok(TargetBasis::PriorityGroups),
            Some("priority_groups") => Err(refuse(
                "target_basis",
                "the campaign lists no priority groups; its target applies to the population",
            )),
            Some("population") => Ok(TargetBasis::Population),
            Some(other) => Err(refuse(
                "target_basis",
                format!("target_basis is priority_groups or population, not '{other}'"),
            )),
            None => Ok(TargetBasis::Population),
        }
    }

    /// As stored; anything else reads as the priority groups (the meaning
    /// of every campaign entered before the choice existed).
    pub fn stored(raw: &str) -> TargetBasis {
        if raw == "population" {
            TargetBasis::Population
        } else {
            TargetBasis::PriorityGroups
        }
    }
}

/// A number of people (a target, a daily dose target) is at most the
/// eligible population it is drawn from.
pub fn within_eligible(
    field: &'static str,
    people: u64,
    eligible: u64,
    area: &str,
) -> Result<(), Refusal> {
    if people > eligible {
        return Err(refuse(
            field,
            format!(
                "{people} is above the eligible population of area {area} ({eligible} persons)"
            ),
        ));
    }
    Ok(())
}

/// What a new wave is checked against: its campaign as stored.
#[derive(Debug, Clone)]
pub struct CampaignFacts<'a> {
    pub created_on: Date,
    pub target_date: Date,
    /// Empty: the campaign is for everyone.
    pub priority_groups: &'a [String],
    pub waves: usize,
}

/// A wave as asked for.
#[derive(Debug, Clone)]
pub struct WaveDraft<'a> {
    pub name: &'a str,
    pub starts_on: Date,
    pub ends_on: Date,
    pub eligible_groups: &'a [String],
}

/// Checks a new wave of `campaign`; returns its cleaned name.
pub fn check_wave(wave: &WaveDraft, campaign: &CampaignFacts) -> Result<String, Refusal> {
    let name = clean_text("name", wave.name, 100)?;
    if wave.ends_on < wave.starts_on {
        return Err(refuse(
            "ends_on",
            format!(
                "the wave ends on {}, before it starts on {}",
                ymd(wave.ends_on),
                ymd(wave.starts_on)
            ),
        ));
    }
    let earliest = campaign.created_on - Duration::days(WAVE_LATE_DAYS);
    if wave.starts_on < earliest {
        return Err(refuse(
            "starts_on",
            format!(
                "a wave may start at the earliest {WAVE_LATE_DAYS} days before the campaign was created, on {}",
                ymd(earliest)
            ),
        ));
    }
    if wave.ends_on > campaign.target_date {
        return Err(refuse(
            "ends_on",
            format!(
                "the wave ends after the campaign's target date {}",
                ymd(campaign.target_date)
            ),
        ));
    }
    distinct_groups("eligible_groups", wave.eligible_groups)?;
    let outside = |g: &&String| !campaign.priority_groups.contains(g);
    if let Some(g) = wave.eligible_groups.iter().find(outside) {
        if !campaign.priority_groups.is_empty() {
            return Err(refuse(
                "eligible_groups",
                format!(
                    "'{g}' is not a priority group of the campaign ({})",
                    campaign.priority_groups.join(", ")
                ),
            ));
        }
    }
    if campaign.waves >= MAX_WAVES {
        return Err(refuse(
            "id",
            format!("a campaign has at most {MAX_WAVES} waves"),
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn groups(g: &[&str]) -> Vec<String> {
        g.iter().map(|s| s.to_string()).collect()
    }

    fn wave<'a>(starts: Date, ends: Date, g: &'a [String]) -> WaveDraft<'a> {
        WaveDraft {
            name: "  Wave   one ",
            starts_on: starts,
            ends_on: ends,
            eligible_groups: g,
        }
    }

    fn campaign(g: &[String]) -> CampaignFacts<'_> {
        CampaignFacts {
            created_on: date!(2026 - 03 - 01),
            target_date: date!(2026 - 12 - 31),
            priority_groups: g,
            waves: 0,
        }
    }

    #[track_caller]
    fn field(r: Result<String, Refusal>) -> &'static str {
        r.unwrap_err().field
    }

    #[test]
    fn a_wave_inside_its_campaign_passes_with_its_name_cleaned() {
        let cg = groups(&["frontline", "elderly"]);
        let wg = groups(&["frontline"]);
        let w = wave(date!(2026 - 03 - 10), date!(2026 - 04 - 10), &wg);
        assert_eq!(check_wave(&w, &campaign(&cg)).unwrap(), "Wave one");
    }

    #[test]
    fn each_wave_rule_names_its_field() {
        let none: Vec<String> = vec![];
        let c = campaign(&none);
        let ends_first = wave(date!(2026 - 04 - 10), date!(2026 - 04 - 01), &none);
        assert_eq!(field(check_wave(&ends_first, &c)), "ends_on");
        // 31 days before creation is the earliest start.
        let early = wave(date!(2026 - 01 - 28), date!(2026 - 04 - 01), &none);
        assert_eq!(field(check_wave(&early, &c)), "starts_on");
        let edge = wave(
            date!(2026 - 01 - 28) + Duration::days(1),
            date!(2026 - 04 - 01),
            &none,
        );
        assert!(check_wave(&edge, &c).is_ok());
        let late = wave(date!(2026 - 03 - 10), date!(2027 - 01 - 01), &none);
        assert_eq!(field(check_wave(&late, &c)), "ends_on");
        let twice = groups(&["frontline", "frontline"]);
        let w = wave(date!(2026 - 03 - 10), date!(2026 - 04 - 10), &twice);
        assert_eq!(field(check_wave(&w, &c)), "eligible_groups");
        let mut blank = wave(date!(2026 - 03 - 10), date!(2026 - 04 - 10), &none);
        blank.name = "   ";
        assert_eq!(field(check_wave(&blank, &c)), "name");
        let full = CampaignFacts {
            waves: MAX_WAVES,
            ..c
        };
        let w = wave(date!(2026 - 03 - 10), date!(2026 - 04 - 10), &none);
        assert_eq!(field(check_wave(&w, &full)), "id");
    }

    #[test]
    fn a_wave_keeps_to_its_campaigns_groups() {
        let cg = groups(&["frontline"]);
        let wg = groups(&["teachers"]);
        let w = wave(date!(2026 - 03 - 10), date!(2026 - 04 - 10), &wg);
        let e = check_wave(&w, &campaign(&cg)).unwrap_err();
        assert_eq!(e.field, "eligible_groups");
        assert!(e.message.contains("'teachers'"), "{e}");
        // A campaign for everyone takes any well-formed group.
        assert!(check_wave(&w, &campaign(&[])).is_ok());
    }

    #[test]
    fn the_target_basis_is_explicit_or_follows_the_groups() {
        let g = groups(&["frontline"]);
        assert_eq!(
            TargetBasis::choose(None, &g),
            Ok(TargetBasis::PriorityGroups)
        );
        assert_eq!(TargetBasis::choose(None, &[]), Ok(TargetBasis::Population));
        assert_eq!(
            TargetBasis::choose(Some("population"), &g),
            Ok(TargetBasis::Population)
        );
        for bad in ["everyone", "priority_groups"] {
            assert_eq!(
                TargetBasis::choose(Some(bad), &[]).unwrap_err().field,
                "target_basis"
            );
        }
        assert_eq!(TargetBasis::stored("population"), TargetBasis::Population);
        assert_eq!(TargetBasis::stored("x"), TargetBasis::PriorityGroups);
        assert!(within_eligible("target_people", 5, 5, "22").is_ok());
        let e = within_eligible("target_people", 6, 5, "22").unwrap_err();
        assert_eq!(e.field, "target_people");
        assert!(e.message.contains("(5 persons)"), "{e}");
    }

    #[test]
    fn campaign_fields() {
        assert!(distinct_products(&groups(&["AZ", "PFIZER"])).is_ok());
        assert!(distinct_products(&[]).is_err());
        assert!(distinct_products(&groups(&["AZ", "AZ"]))
            .unwrap_err()
            .message
            .contains("twice"));
        let today = date!(2026 - 03 - 01);
        assert!(check_target_date(today, today).is_ok());
        assert!(check_target_date(date!(2031 - 03 - 01), today).is_ok());
        assert!(check_target_date(date!(2031 - 03 - 02), today).is_err());
        assert!(check_target_date(date!(2026 - 02 - 28), today).is_err());
        assert!(check_min_age(120).is_ok());
        assert_eq!(check_min_age(121).unwrap_err().field, "min_age_years");
        assert_eq!(clean_text("name", " a \t b ", 3).unwrap(), "a b");
        assert!(clean_text("name", "abcd", 3).is_err());
    }
}
