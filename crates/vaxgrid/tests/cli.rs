//! The `vaxgrid` command on a scratch database: migrate, import, export, check.

use std::process::Command;

use vaxgrid_store::scratch::Scratch;

fn vaxgrid(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
        .args(args)
        .output()
        .expect("run vaxgrid")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_persons_is_all_or_nothing_and_export_and_check_work() {
    let scratch = Scratch::sqlite();
    let url = scratch.url.clone();
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // The demo's reference data is the quickest way to a tree: seed it.
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "200",
        "--file",
        url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let header =
        "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n";
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        format!(
            "{header}cccd,022080900001,Lê Văn Một,1980-01-02,male,0912345678,0660101,nông dân,general\n\
             cccd,02208090000X,Lê Văn Hai,1980-01-02,male,,0660101,,\n"
        ),
    )
    .unwrap();
    let out = vaxgrid(&[
        "import",
        "persons",
        bad.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("row 2: id_number:") && err.contains("nothing was imported"),
        "{err}"
    );
    let good = dir.join("good.csv");
    std::fs::write(&good, format!("{header}cccd,022080900001,Lê Văn Một,1980-01-02,male,0912345678,0660101,nông dân,general\n")).unwrap();
    let out = vaxgrid(&[
        "import",
        "persons",
        good.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 1 persons"),
        "{}",
        text(&out.stdout)
    );
    // The same file again: the number is registered now.
    let out = vaxgrid(&[
        "import",
        "persons",
        good.to_str().unwrap(),
        "--database-url",
        &url,
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("already registered"),
        "{}",
        text(&out.stderr)
    );
    let export = dir.join("doses.csv");
    let out = vaxgrid(&[
        "export",
        "doses",
        "--database-url",
        &url,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let csv = std::fs::read_to_string(&export).unwrap();
    assert!(csv.starts_with("id,person_id,kind,"));
    assert!(csv.lines().count() > 100, "the demo history is exported");
    let out = vaxgrid(&["check", "--database-url", &url]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    let out = vaxgrid(&["audit", "verify", "--database-url", &url]);
    assert!(
        text(&out.stdout).contains("audit chain intact"),
        "{}",
        text(&out.stdout)
    );
    let out = vaxgrid(&["serve", "--database-url", "mysql://x"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("use sqlite://FILE or postgres://"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    tokio_cleanup(scratch);
}

fn tokio_cleanup(scratch: Scratch) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(scratch.cleanup());
}

#[test]
fn keys_init_and_rotate_keep_every_signer() {
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-keys-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.to_str().unwrap();
    let out = vaxgrid(&["keys", "rotate", path]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("current"), "{}", text(&out.stderr));
    let out = vaxgrid(&["keys", "init", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = vaxgrid(&["keys", "rotate", path]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("now signs"));
    let signers = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            let name = name.to_string_lossy();
            name.starts_with("dsc-") && name.ends_with(".der")
        })
        .count();
    assert_eq!(signers, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}
