//! Isolation and quarantine: where and how long a contact is isolated,
//! by class and vaccination status (a configurable policy), the days
//! tests are due, and the daily check by the commune's rapid-response
//! team (present, temperature, symptoms, SpO2) with its alerts.
//!
//! As article 003 describes: an F1 is isolated at a facility and, when
//! that ends, continues at home; F2 and F3 are isolated at home, after a
//! household check that says home isolation is possible (otherwise at a
//! facility for the whole period).

use serde::{Deserialize, Serialize};
use time::{Date, Duration};

use super::graph::Class;

/// The days of isolation for one class and vaccination status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub facility_days: u32,
    pub home_days: u32,
    /// Days after the start on which a sample is due (0 = the first day).
    pub test_days: Vec<u32>,
}

/// The rules per class (F1, F2, F3) for unvaccinated and fully vaccinated
/// persons. `Default` is a starting point to configure, not guidance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub f1: [Rule; 2],
    pub f2: [Rule; 2],
    pub f3: [Rule; 2],
}

impl Default for Policy {
    fn default() -> Self {
        let r = |facility_days, home_days, test_days: &[u32]| Rule {
            facility_days,
            home_days,
            test_days: test_days.to_vec(),
        };
        Policy {
            f1: [r(14, 7, &[0, 6, 13]), r(7, 7, &[0, 6])],
            f2: [r(0, 14, &[0, 13]), r(0, 7, &[0, 6])],
            f3: [r(0, 7, &[0]), r(0, 7, &[])],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IsolationError {
    #[error("a confirmed case is treated, not isolated as a contact")]
    CaseNotContact,
    #[error("this person has no class: they are not a contact of a case")]
    NoClass,
    #[error("{person} is not in isolation on {day}")]
    NotIsolated { person: String, day: Date },
    #[error("temperature {0} °C is not a body temperature (30 to 45)")]
    Temperature(String),
    #[error("SpO2 {0} % is outside 50 to 100")]
    Spo2(u8),
    #[error("a test day ({0}) falls after the isolation ends")]
    TestDayAfterEnd(u32),
}

impl IsolationError {
    pub fn field(&self) -> &'static str {
        match self {
            IsolationError::CaseNotContact | IsolationError::NoClass => "class",
            IsolationError::NotIsolated { .. } => "person_id",
            IsolationError::Temperature(_) => "temperature_c",
            IsolationError::Spo2(_) => "spo2",
            IsolationError::TestDayAfterEnd(_) => "test_days",
        }
    }
}

impl Policy {
    pub fn rule(&self, class: Class, vaccinated: bool) -> Result<&Rule, IsolationError> {
        let rules = match class {
            Class::F0 => return Err(IsolationError::CaseNotContact),
            Class::F1 => &self.f1,
            Class::F2 => &self.f2,
            Class::F3 => &self.f3,
        };
        Ok(&rules[usize::from(vaccinated)])
    }

    /// Each rule's test days fall within its isolation.
    pub fn validate(&self) -> Result<(), IsolationError> {
        for r in self.f1.iter().chain(&self.f2).chain(&self.f3) {
            let len = r.facility_days + r.home_days;
            if let Some(&d) = r.test_days.iter().find(|&&d| d >= len.max(1)) {
                return Err(IsolationError::TestDayAfterEnd(d));
            }
        }
        Ok(())
    }
}

/// The longest isolation a rule may set (days at a facility and at home).
pub const MAX_RULE_DAYS: u32 = 60;

/// A policy refused: the field at fault, as a path into the policy's JSON
/// (`f1[0].test_days`: F1, unvaccinated; `[1]` is fully vaccinated).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct PolicyError {
    pub field: String,
    pub reason: String,
}

impl Policy {
    /// Checks every rule of a policy a province sets, naming the field:
    /// at least one day and at most `MAX_RULE_DAYS` in all, test days
    /// within the isolation, in order and not repeated.
    pub fn check(&self) -> Result<(), PolicyError> {
        for (name, rules) in [("f1", &self.f1), ("f2", &self.f2), ("f3", &self.f3)] {
            for (i, r) in rules.iter().enumerate() {
                let at = |f: &str| format!("{name}[{i}].{f}");
                let total = r.facility_days + r.home_days;
                if total == 0 || total > MAX_RULE_DAYS {
                    return Err(PolicyError {
                        field: at("home_days"),
                        reason: format!(
                            "facility_days + home_days is 1 to {MAX_RULE_DAYS} days, not {total}"
                        ),
                    });
                }
                for (k, &d) in r.test_days.iter().enumerate() {
                    if d >= total {
                        return Err(PolicyError {
                            field: at("test_days"),
                            reason: format!(
                                "test day {d} falls after the isolation's last day ({})",
                                total - 1
                            ),
                        });
                    }
                    if k > 0 && d <= r.test_days[k - 1] {
                        return Err(PolicyError {
                            field: at("test_days"),
                            reason: "test days are in increasing order, each once".into(),
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// A contact's isolation: facility days then home days (either may be
/// empty), the last day, and the days samples are due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub start: Date,
    /// First and last day at a facility.
    pub facility: Option<(Date, Date)>,
    /// First and last day at home.
    pub home: Option<(Date, Date)>,
    pub last_day: Date,
    pub tests_due: Vec<Date>,
}

impl Plan {
    pub fn covers(&self, day: Date) -> bool {
        self.start <= day && day <= self.last_day
    }

    pub fn at_home_on(&self, day: Date) -> bool {
        self.home.is_some_and(|(a, b)| a <= day && day <= b)
    }
}

/// Plans a contact's isolation from `start`. F1 go to a facility first;
/// F2 and F3 stay home when the household check allows it, otherwise
/// they spend the whole period at a facility.
pub fn plan(
    policy: &Policy,
    class: Option<Class>,
    vaccinated: bool,
    home_possible: bool,
    start: Date,
) -> Result<Plan, IsolationError> {
    let class = class.ok_or(IsolationError::NoClass)?;
    let rule = policy.rule(class, vaccinated)?;
    let (mut facility_days, mut home_days) = (rule.facility_days, rule.home_days);
    if !home_possible {
        facility_days += home_days;
        home_days = 0;
    }
    let day = |n: u32| start + Duration::days(i64::from(n));
    let total = (facility_days + home_days).max(1);
    let facility = (facility_days > 0).then(|| (start, day(facility_days - 1)));
    let home = (home_days > 0).then(|| (day(facility_days), day(facility_days + home_days - 1)));
    Ok(Plan {
        start,
        facility,
        home,
        last_day: day(total - 1),
        tests_due: rule
            .test_days
            .iter()
            .filter(|&&d| d < total)
            .map(|&d| day(d))
            .collect(),
    })
}

/// One daily check by the team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub present: bool,
    /// Body temperature in °C, as read.
    pub temperature_c: Option<f64>,
    pub symptoms: Vec<String>,
    pub spo2: Option<u8>,
}

/// Why a person shows on the team's and the district's alert list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alert {
    /// No check recorded for a day of isolation already past.
    MissedCheck,
    /// Not at the place of isolation.
    Absent,
    /// 38.0 °C or more.
    Fever,
    /// SpO2 below 96 %.
    LowSpo2,
    /// Difficulty breathing or chest pain reported.
    DangerSymptom,
}

/// Symptoms that are danger signs by themselves.
pub const DANGER_SYMPTOMS: [&str; 3] = ["difficulty_breathing", "chest_pain", "confusion"];

/// Checks a daily check's readings and returns its alerts.
pub fn assess(
    plan: &Plan,
    person: &str,
    day: Date,
    check: &Check,
) -> Result<Vec<Alert>, IsolationError> {
    if !plan.covers(day) {
        return Err(IsolationError::NotIsolated {
            person: person.to_string(),
            day,
        });
    }
    if let Some(t) = check.temperature_c {
        if !t.is_finite() || !(30.0..=45.0).contains(&t) {
            return Err(IsolationError::Temperature(t.to_string()));
        }
    }
    if let Some(s) = check.spo2 {
        if !(50..=100).contains(&s) {
            return Err(IsolationError::Spo2(s));
        }
    }
    let mut alerts = Vec::new();
    if !check.present {
        alerts.push(Alert::Absent);
    }
    if check.temperature_c.is_some_and(|t| t >= 38.0) {
        alerts.push(Alert::Fever);
    }
    if check.spo2.is_some_and(|s| s < 96) {
        alerts.push(Alert::LowSpo2);
    }
    if check
        .symptoms
        .iter()
        .any(|s| DANGER_SYMPTOMS.contains(&s.as_str()))
    {
        alerts.push(Alert::DangerSymptom);
    }
    Ok(alerts)
}

/// The days of home isolation before `today` with no check recorded.
pub fn missed_checks(plan: &Plan, checked: &[Date], today: Date) -> Vec<Date> {
    let Some((from, to)) = plan.home else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut d = from;
    while d <= to && d < today {
        if !checked.contains(&d) {
            out.push(d);
        }
        d += Duration::days(1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const START: Date = date!(2026 - 12 - 01);

    #[test]
    fn an_f1_goes_to_a_facility_then_home() {
        let p = plan(&Policy::default(), Some(Class::F1), false, true, START).unwrap();
        assert_eq!(p.facility, Some((START, date!(2026 - 12 - 14))));
        assert_eq!(p.home, Some((date!(2026 - 12 - 15), date!(2026 - 12 - 21))));
        assert_eq!(p.last_day, date!(2026 - 12 - 21));
        assert_eq!(
            p.tests_due,
            [START, date!(2026 - 12 - 07), date!(2026 - 12 - 14)]
        );
        // Vaccinated: 7 + 7 days.
        let v = plan(&Policy::default(), Some(Class::F1), true, true, START).unwrap();
        assert_eq!(v.last_day, date!(2026 - 12 - 14));
    }

    #[test]
    fn an_f2_stays_home_unless_the_household_cannot_isolate() {
        let p = plan(&Policy::default(), Some(Class::F2), false, true, START).unwrap();
        assert_eq!(p.facility, None);
        assert_eq!(p.home, Some((START, date!(2026 - 12 - 14))));
        let p = plan(&Policy::default(), Some(Class::F2), false, false, START).unwrap();
        assert_eq!(p.facility, Some((START, date!(2026 - 12 - 14))));
        assert_eq!(p.home, None);
        let e = plan(&Policy::default(), Some(Class::F0), false, true, START).unwrap_err();
        assert_eq!(e.field(), "class");
        assert_eq!(
            plan(&Policy::default(), None, false, true, START)
                .unwrap_err()
                .field(),
            "class"
        );
    }

    #[test]
    fn checks_raise_alerts_and_refuse_bad_readings() {
        let p = plan(&Policy::default(), Some(Class::F2), false, true, START).unwrap();
        let ok = Check {
            present: true,
            temperature_c: Some(36.8),
            symptoms: vec![],
            spo2: Some(98),
        };
        assert!(assess(&p, "a", START, &ok).unwrap().is_empty());
        let bad = Check {
            present: false,
            temperature_c: Some(38.2),
            symptoms: vec!["cough".into(), "difficulty_breathing".into()],
            spo2: Some(94),
        };
        assert_eq!(
            assess(&p, "a", START, &bad).unwrap(),
            [
                Alert::Absent,
                Alert::Fever,
                Alert::LowSpo2,
                Alert::DangerSymptom
            ]
        );
        let e = assess(&p, "a", date!(2026 - 12 - 20), &ok).unwrap_err();
        assert_eq!(e.field(), "person_id");
        let mut t = ok.clone();
        t.temperature_c = Some(98.6);
        assert_eq!(
            assess(&p, "a", START, &t).unwrap_err().field(),
            "temperature_c"
        );
        let mut s = ok;
        s.spo2 = Some(101);
        assert_eq!(assess(&p, "a", START, &s).unwrap_err().field(), "spo2");
        // Checked on the 1st and 3rd; on the 4th, the 2nd is missed.
        assert_eq!(
            missed_checks(&p, &[START, date!(2026 - 12 - 03)], date!(2026 - 12 - 04)),
            [date!(2026 - 12 - 02)]
        );
    }

    #[test]
    fn a_province_policy_is_checked_field_by_field() {
        Policy::default().check().unwrap();
        let mut p = Policy::default();
        p.f2[1].test_days = vec![0, 9];
        let e = p.check().unwrap_err();
        assert_eq!(e.field, "f2[1].test_days");
        let mut p = Policy::default();
        p.f1[0].test_days = vec![6, 0];
        assert_eq!(p.check().unwrap_err().field, "f1[0].test_days");
        let mut p = Policy::default();
        p.f3[0] = Rule {
            facility_days: 0,
            home_days: 0,
            test_days: vec![],
        };
        assert_eq!(p.check().unwrap_err().field, "f3[0].home_days");
        let mut p = Policy::default();
        p.f1[1].facility_days = 61;
        assert_eq!(p.check().unwrap_err().field, "f1[1].home_days");
        // A rule of 10 days with tests on days 0 and 9 plans them.
        let mut p = Policy::default();
        p.f2[0] = Rule {
            facility_days: 0,
            home_days: 10,
            test_days: vec![0, 9],
        };
        p.check().unwrap();
        let plan = plan(&p, Some(Class::F2), false, true, START).unwrap();
        assert_eq!(plan.last_day, date!(2026 - 12 - 10));
        assert_eq!(plan.tests_due, [START, date!(2026 - 12 - 10)]);
    }

    #[test]
    fn a_policy_with_a_test_after_the_end_is_refused() {
        let mut policy = Policy::default();
        policy.f3[0].test_days = vec![7];
        assert_eq!(policy.validate().unwrap_err().field(), "test_days");
        Policy::default().validate().unwrap();
    }
}
