//! `vaxgrid outbreak plan`: the surge planner on a shipped scenario or a
//! scenario file, printed as a table (or JSON).

use std::fmt::Write;
use std::path::Path;

use anyhow::{anyhow, Context, Result};
use vaxgrid_core::outbreak::surge::{self, Projection, Scenario, Tier};

pub fn plan(
    scenario: Option<&str>,
    file: Option<&Path>,
    print_scenario: bool,
    json: bool,
) -> Result<()> {
    let s: Scenario = match (scenario, file) {
        (_, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a scenario", path.display()))?
        }
        (Some(cases), None) => {
            cases.parse().ok().and_then(surge::shipped).ok_or_else(|| {
                anyhow!("no shipped scenario for {cases} cases (1000, 5000, 10000)")
            })?
        }
        (None, None) => surge::shipped(1000).expect("the 1,000-case scenario is shipped"),
    };
    if print_scenario {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(());
    }
    let p = surge::project(&s).map_err(|e| anyhow!("scenario refused: {e}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&p)?);
    } else {
        print!("{}", render(&s, &p));
    }
    Ok(())
}

fn day(d: Option<u32>) -> String {
    d.map_or_else(|| "never".to_string(), |d| format!("day {d}"))
}

fn tier_label(t: Tier) -> &'static str {
    match t {
        Tier::MildModerate => "mild-moderate",
        Tier::SevereCritical => "severe-critical",
    }
}

/// The projection as text: capacity, when each tier runs out, the
/// facilities to open, then the days.
pub fn render(s: &Scenario, p: &Projection) -> String {
    let mut o = String::new();
    write_summary(&mut o, s, p);
    write_plan_facilities(&mut o, s);
    write_outlook(&mut o, p);
    write_activations(&mut o, p);
    write_days(&mut o, p);
    o
}

/// The scenario's size and means: cases, beds, laboratories, teams.
fn write_summary(o: &mut String, s: &Scenario, p: &Projection) {
    let total: f64 = p.days.iter().map(|d| d.new_cases).sum();
    let _ = writeln!(o, "{} — {:.0} cases over {} days", s.name, total, s.days);
    let beds = |t: Tier| -> i64 {
        s.facilities
            .iter()
            .map(|f| match t {
                Tier::MildModerate => f.mild_moderate_beds,
                Tier::SevereCritical => f.severe_critical_beds,
            })
            .sum()
    };
    let _ = writeln!(
        o,
        "capacity: {} treatment units in the province, {} in this plan ({} mild-moderate and {} severe-critical beds)",
        s.treatment_units,
        s.facilities.len(),
        beds(Tier::MildModerate),
        beds(Tier::SevereCritical)
    );
    let _ = writeln!(
        o,
        "laboratories: {} — {:.0} single samples a day ({:.0} pooled by {}), {:.0} confirmatory; {:.3} tests per pool at {} % prevalence",
        p.lab.laboratories,
        p.lab.single_per_day,
        p.lab.pooled_people_per_day,
        s.testing.pool_size,
        p.lab.confirmatory_per_day,
        p.lab.tests_per_pool,
        s.testing.prevalence_pct
    );
    let _ = writeln!(
        o,
        "teams: {} rapid-response, {} ambulance, {} specialist",
        s.teams.rapid_response, s.teams.ambulance, s.teams.specialist
    );
}

/// The facilities of the scenario, with their beds and stage.
fn write_plan_facilities(o: &mut String, s: &Scenario) {
    let _ = writeln!(
        o,
        "\nfacilities in the plan (region: mild-moderate / severe-critical beds, opens at)"
    );
    for f in &s.facilities {
        let opens = if f.activate_at_cases == 0 {
            "open from the start".to_string()
        } else {
            format!("{} cases", f.activate_at_cases)
        };
        let _ = writeln!(
            o,
            "  {} ({}): {} mild-moderate, {} severe-critical beds; {opens}",
            f.name, f.region, f.mild_moderate_beds, f.severe_critical_beds
        );
    }
}

/// Per region and tier, the peak need and when beds run out; then the
/// laboratories' and isolation's peaks.
fn write_outlook(o: &mut String, p: &Projection) {
    let _ = writeln!(o, "\nbeds (region, tier: capacity, peak need, runs out)");
    for t in &p.tiers {
        let region = if t.region == "*" {
            "province-wide"
        } else {
            &t.region
        };
        let _ = writeln!(
            o,
            "  {region:<14} {:<16} {:>6.0} beds  peak {:>6.0} on day {:<3}  runs out: {}",
            tier_label(t.tier),
            t.capacity,
            t.peak_need.ceil(),
            t.peak_day,
            day(t.runs_out)
        );
    }
    let _ = writeln!(
        o,
        "laboratories: peak {:.0} tests a day, run out: {}; confirmatory run out: {}",
        p.lab.peak_tests.ceil(),
        day(p.lab.runs_out),
        day(p.lab.confirmatory_runs_out)
    );
    let _ = writeln!(
        o,
        "isolation: peak {:.0} at facilities, {:.0} at home",
        p.peak_isolation_facility.ceil(),
        p.peak_isolation_home.ceil()
    );
}

/// The facilities to open, by day, and why.
fn write_activations(o: &mut String, p: &Projection) {
    let _ = writeln!(o, "\nfacilities to open");
    for a in &p.activations {
        let why = match a.reason.as_str() {
            "stage" => "its stage".to_string(),
            other => format!("{} need", other.replace('_', "-")),
        };
        let _ = writeln!(
            o,
            "  day {:<3} {} ({}) — {}",
            a.day, a.facility, a.region, why
        );
    }
}

/// One line a day: cases, beds needed against open (`!` when short),
/// isolation, the laboratories' load against capacity.
fn write_days(o: &mut String, p: &Projection) {
    let _ = writeln!(
        o,
        "\nday  new cases  cumulative  beds needed / open (per region and tier)  isolation (facility/home)  lab tests / capacity  confirmatory"
    );
    for d in &p.days {
        let beds: Vec<String> = d
            .beds
            .iter()
            .map(|b| {
                let flag = if b.need > b.open + 1e-9 { "!" } else { "" };
                format!("{:.0}/{:.0}{flag}", b.need.ceil(), b.open)
            })
            .collect();
        let _ = writeln!(
            o,
            "{:>3}  {:>9.0}  {:>10.0}  {:<40}  {:>9.0}/{:<9.0}  {:>9.0}/{:<9.0}  {:>5.0}/{:.0}",
            d.day,
            d.new_cases,
            d.cumulative_cases,
            beds.join(" "),
            d.isolation_facility.ceil(),
            d.isolation_home.ceil(),
            d.lab_tests.ceil(),
            p.lab.single_per_day,
            d.confirmatory.ceil(),
            p.lab.confirmatory_per_day
        );
    }
}
