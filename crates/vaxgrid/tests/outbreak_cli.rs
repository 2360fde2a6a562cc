//! `vaxgrid outbreak plan`: the shipped scenarios print article 003's
//! capacity figures and the day each tier runs out; a bad scenario file
//! is refused naming its field.

use std::process::Command;

fn vaxgrid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
        .args(args)
        .output()
        .expect("run vaxgrid")
}

#[test]
fn plan_prints_the_shipped_scenarios() {
    for cases in ["1000", "5000", "10000"] {
        let out = vaxgrid(&["outbreak", "plan", "--scenario", cases]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains("24 treatment units in the province"),
            "{text}"
        );
        assert!(
            text.contains("laboratories: 8 — 6186 single samples a day (61860 pooled by 10), 550 confirmatory"),
            "{text}"
        );
        assert!(text.contains("16 rapid-response, 26 ambulance"), "{text}");
        assert!(text.contains("runs out:"), "{text}");
    }
    let out = vaxgrid(&["outbreak", "plan", "--scenario", "1000"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("94 severe-critical beds"), "{text}");
}

#[test]
fn a_bad_scenario_file_is_refused_by_field() {
    let out = vaxgrid(&["outbreak", "plan", "--scenario", "1000", "--print-scenario"]);
    assert!(out.status.success());
    let mut s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    s["severity"]["mild"] = serde_json::json!(50.0);
    let path = std::env::temp_dir().join(format!("vaxgrid-scenario-{}.json", std::process::id()));
    std::fs::write(&path, s.to_string()).unwrap();
    let out = vaxgrid(&["outbreak", "plan", "--file", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("severity: the shares add up to 70 %"), "{err}");
    let _ = std::fs::remove_file(path);
}
