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
    assert!(
        text(&out.stderr).contains("current"),
        "{}",
        text(&out.stderr)
    );
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

/// Persons and doses exported from one database import into another with
/// the same ids and records, counters that equal a recount, and a second
/// import that changes nothing.
#[test]
fn export_then_import_carries_persons_and_doses_across() {
    let (from, to) = (Scratch::sqlite(), Scratch::sqlite());
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-move-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (scratch, residents) in [(&from, "300"), (&to, "0")] {
        let file = scratch.url.trim_start_matches("sqlite://");
        let out = vaxgrid(&[
            "demo",
            "--seed-only",
            "--residents",
            residents,
            "--file",
            file,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let persons = dir.join("persons.csv");
    let doses = dir.join("doses.csv");
    for (what, file) in [("persons", &persons), ("doses", &doses)] {
        let out = vaxgrid(&[
            "export",
            what,
            "--database-url",
            &from.url,
            "--output",
            file.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let out = vaxgrid(&[
        "import",
        "persons",
        persons.to_str().unwrap(),
        "--database-url",
        &to.url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The same file again: every row's id is taken now; nothing is written.
    let out = vaxgrid(&[
        "import",
        "persons",
        persons.to_str().unwrap(),
        "--database-url",
        &to.url,
    ]);
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("row 1") && said.contains("already exists"),
        "{said}"
    );
    let out = vaxgrid(&[
        "import",
        "doses",
        doses.to_str().unwrap(),
        "--database-url",
        &to.url,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported_rows = std::fs::read_to_string(&doses).unwrap().lines().count() - 1;
    assert!(exported_rows > 100, "the demo has a dose history");
    assert!(
        text(&out.stdout).contains(&format!(
            "recorded {exported_rows} doses, 0 already present, 0 refused"
        )),
        "{}",
        text(&out.stdout)
    );
    let out = vaxgrid(&[
        "import",
        "doses",
        doses.to_str().unwrap(),
        "--database-url",
        &to.url,
    ]);
    assert!(
        text(&out.stdout).contains(&format!(
            "recorded 0 doses, {exported_rows} already present"
        )),
        "{}",
        text(&out.stdout)
    );
    let out = vaxgrid(&["check", "--database-url", &to.url]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // Same records on both sides, but for when they were recorded.
    let again = dir.join("doses-again.csv");
    let out = vaxgrid(&[
        "export",
        "doses",
        "--database-url",
        &to.url,
        "--output",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let without_recorded_at = |path: &std::path::Path| -> Vec<String> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| l.rsplit_once(',').unwrap().0.to_string())
            .collect()
    };
    assert_eq!(without_recorded_at(&doses), without_recorded_at(&again));
    // A name a spreadsheet would run as a formula, and a phone number
    // starting with '+', are exported as text (a leading apostrophe) and
    // read back as they were.
    let area = std::fs::read_to_string(&persons)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(7)
        .unwrap()
        .to_string();
    let formula = dir.join("formula.csv");
    std::fs::write(
        &formula,
        format!(
            "id_type,id_number,full_name,birth_date,sex,phone,home_area,occupation,priority_groups\n\
             cccd,022080999999,=1+1 An,1980-01-01,male,+84912345678,{area},,\n"
        ),
    )
    .unwrap();
    let third = Scratch::sqlite();
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "0",
        "--file",
        third.url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let formula_out = dir.join("formula-out.csv");
    let formula_back = dir.join("formula-back.csv");
    for (url, input, output) in [
        (&to.url, &formula, &formula_out),
        (&third.url, &formula_out, &formula_back),
    ] {
        let out = vaxgrid(&[
            "import",
            "persons",
            input.to_str().unwrap(),
            "--database-url",
            url,
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let out = vaxgrid(&[
            "export",
            "persons",
            "--database-url",
            url,
            "--output",
            output.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let exported = std::fs::read_to_string(&formula_out).unwrap();
    let row = exported
        .lines()
        .find(|l| l.contains("022080999999"))
        .expect("the formula row is exported");
    assert!(
        row.contains(",'=1+1 An,") && row.contains(",'+84912345678,"),
        "{row}"
    );
    assert!(!exported
        .lines()
        .any(|l| l.split(',').any(|c| c.starts_with('='))));
    let back = std::fs::read_to_string(&formula_back).unwrap();
    assert_eq!(
        back.lines().find(|l| l.contains("022080999999")),
        Some(row),
        "read back as exported"
    );
    // A bad file: every bad row named with its column; good rows still go in.
    let bad = dir.join("bad.csv");
    let person = std::fs::read_to_string(&persons)
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        &bad,
        format!(
            "id,person_id,product_code,lot_number,site_code,administered_on\n\
             0190a5f0-0000-7000-8000-000000000001,{person},AZ,AZ-2021-100,NOPE,2021-08-01\n\
             not-a-uuid,{person},AZ,AZ-2021-100,NOPE,2021-08-01\n\
             0190a5f0-0000-7000-8000-000000000003,{person},AZ,AZ-2021-100,NOPE,2021-02-30\n"
        ),
    )
    .unwrap();
    let out = vaxgrid(&[
        "import",
        "doses",
        bad.to_str().unwrap(),
        "--database-url",
        &to.url,
    ]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("row 1: site_code:"), "{err}");
    assert!(err.contains("row 2: id:"), "{err}");
    assert!(err.contains("row 3: administered_on:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
    tokio_cleanup(from);
    tokio_cleanup(to);
}

#[test]
fn users_and_tokens_on_the_command_line() {
    let scratch = Scratch::sqlite();
    let url = scratch.url.clone();
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "20",
        "--file",
        url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The first administrator's password is shown once.
    assert!(
        text(&out.stderr).contains("created the administrator 'admin'; password (shown once): ")
    );
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", url.as_str()]);
        vaxgrid(&all)
    };
    let out = run(&[
        "user",
        "add",
        "lan",
        "--grant",
        "planner:193",
        "--name",
        "Lan",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("password (shown once): "));
    for (args, wrong) in [
        (
            vec!["user", "add", "lan2", "--grant", "planner"],
            "holds on an area",
        ),
        (
            vec!["user", "add", "lan3", "--grant", "nurse:S1"],
            "is not a role",
        ),
        (
            vec!["user", "add", "lan4", "--grant", "planner:999"],
            "area '999' does not exist",
        ),
        (vec!["user", "add", "lan", "--grant", "admin"], "taken"),
        (
            vec!["token", "create", "nobody"],
            "user 'nobody' does not exist",
        ),
    ] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            text(&out.stderr).contains(wrong),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    let out = run(&["user", "grant", "lan", "statistics_officer:22"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = run(&[
        "token",
        "create",
        "lan",
        "--name",
        "his",
        "--grant",
        "planner:193",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_string();
    let listed = text(&run(&["token", "list"]).stdout);
    assert!(
        listed.contains(&id) && listed.contains("active") && !listed.contains("vxg_"),
        "{listed}"
    );
    let out = run(&["token", "revoke", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&run(&["token", "list"]).stdout).contains("revoked"));
    let out = run(&["user", "revoke", "lan", "statistics_officer:22"]);
    assert!(out.status.success());
    let out = run(&["user", "disable", "lan"]);
    assert!(out.status.success());
    let users = text(&run(&["user", "list"]).stdout);
    assert!(users.contains("lan\tdisabled\tplanner:193"), "{users}");
    assert!(
        users.contains("vaccinator\tenabled\tvaccinator:"),
        "the demo's users: {users}"
    );
    let out = run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));
    // One audit row altered behind the application's back: named.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    let out = run(&["audit", "verify"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains("audit chain broken at entry 3"),
        "{}",
        text(&out.stdout)
    );
    tokio_cleanup(scratch);
}

/// `vaxgrid import hl7` takes a batch file message by message: a line per
/// message with its MSA code and problems, the ACK batch written out, and
/// a refused message changes nothing.
#[test]
fn import_hl7_answers_each_message_of_a_batch() {
    let scratch = Scratch::sqlite();
    let url = scratch.url.clone();
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-hl7-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "50",
        "--file",
        url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A dose reported from a card (no lot or site needed) and the same
    // partner's message without a birth date.
    let message = |control: &str, id: &str, birth: &str| {
        format!(
            "MSH|^~\\&|EHR|CLINIC|VAXGRID|QN|20210901||VXU^V04^VXU_V04|{control}|P|2.5.1\r\
             PID|1||{id}^^^VNM^NI||Lê^Văn Ba^^^^^L||{birth}|M|||^^Hạ Long^^0660101^VNM\r\
             ORC|RE||{control}-1^CLINIC\r\
             RXA|0|1|20210301||208^Pfizer^CVX|999|||01^Historical^NIP001|||||||||||CP|A"
        )
    };
    let batch = format!(
        "FHS|^~\\&|EHR|CLINIC|VAXGRID|QN|20210901||||F1\r\
         BHS|^~\\&|EHR|CLINIC|VAXGRID|QN|20210901||||B1\r\
         {}\r{}\rBTS|2\rFTS|1\r",
        message("C1", "022080900777", "19800101"),
        message("C2", "022080900778", ""),
    );
    let file = dir.join("batch.hl7");
    std::fs::write(&file, batch).unwrap();
    let acks = dir.join("acks.hl7");
    let import = || {
        vaxgrid(&[
            "import",
            "hl7",
            file.to_str().unwrap(),
            "--database-url",
            &url,
            "--acks",
            acks.to_str().unwrap(),
        ])
    };
    let out = import();
    let stdout = text(&out.stdout);
    assert!(!out.status.success(), "one message was refused: {stdout}");
    assert!(stdout.contains("message 1 (C1): AA"), "{stdout}");
    assert!(stdout.contains("message 2 (C2): AE"), "{stdout}");
    assert!(stdout.contains("E PID-7"), "{stdout}");
    assert!(
        stdout.contains("2 messages: 1 accepted, 1 refused"),
        "{stdout}"
    );
    let written = std::fs::read_to_string(&acks).unwrap();
    assert!(
        written.starts_with("FHS|^~\\&|VAXGRID|QN|EHR|CLINIC|"),
        "{written}"
    );
    assert!(
        written.contains("MSA|AA|C1\r\n") && written.contains("MSA|AE|C2\r\n"),
        "{written}"
    );
    assert!(written.ends_with("BTS|2\r\nFTS|1\r\n"), "{written}");
    // Sent again: the accepted message records nothing twice.
    let out = import();
    assert!(
        text(&out.stdout).contains("message 1 (C1): AA"),
        "{}",
        text(&out.stdout)
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (persons, doses) = rt.block_on(async {
        let store = vaxgrid_store::Store::open(&url).await.unwrap();
        let q = vaxgrid_store::persons::PersonQuery {
            id_number: Some("022080900777".into()),
            scope: vaxgrid_store::scope::Scope::All,
            ..Default::default()
        };
        let found = store.search_persons(&q, None, 5).await.unwrap();
        let person = &found.items[0];
        let history = store.history(&person.id).await.unwrap();
        let q = vaxgrid_store::persons::PersonQuery {
            id_number: Some("022080900778".into()),
            scope: vaxgrid_store::scope::Scope::All,
            ..Default::default()
        };
        let refused = store.search_persons(&q, None, 5).await.unwrap();
        (refused.items.len(), history.records.len())
    });
    assert_eq!((persons, doses), (0, 1));
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
    tokio_cleanup(scratch);
}

#[test]
fn audit_checkpoints_find_a_cut_tail_and_a_forged_line() {
    let scratch = Scratch::sqlite();
    let url = scratch.url.clone();
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-audit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "50",
        "--file",
        url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--database-url", url.as_str()]);
        vaxgrid(&all)
    };
    let key = dir.join("audit.key");
    let key_s = key.to_str().unwrap();
    let public = format!("{key_s}.pub");
    let file = dir.join("checkpoints");
    let file_s = file.to_str().unwrap();
    let out = vaxgrid(&["audit", "keygen", "--out", key_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!vaxgrid(&["audit", "keygen", "--out", key_s])
        .status
        .success());
    // The demo's seeded doses are named by its entries: intact.
    let out = run(&["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stdout));

    // The server writes a checkpoint at start, then one when the head moves.
    let mut server = Command::new(env!("CARGO_BIN_EXE_vaxgrid"))
        .args([
            "serve",
            "--database-url",
            &url,
            "--listen",
            "127.0.0.1:0",
            "--audit-checkpoint",
            file_s,
            "--audit-key",
            key_s,
            "--audit-checkpoint-every",
            "1",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lines = |n: usize| {
        for _ in 0..100 {
            let got = std::fs::read_to_string(&file).unwrap_or_default();
            if got.lines().count() >= n {
                return got;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("fewer than {n} checkpoints written");
    };
    lines(1);
    let out = run(&["user", "add", "auditor", "--grant", "planner:193"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = lines(2);
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(
        written
            .lines()
            .all(|l| l.starts_with("vaxgrid-audit-checkpoint v1 seq=")),
        "{written}"
    );
    // One more by hand.
    let out = run(&["audit", "checkpoint", "--key", key_s, "--out", file_s]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let verify = || {
        run(&[
            "audit",
            "verify",
            "--checkpoint",
            file_s,
            "--key-pub",
            &public,
        ])
    };
    let out = verify();
    assert!(
        out.status.success() && text(&out.stdout).contains("agrees with 3 checkpoints"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // The last entries cut (the demo's seeded doses among them): the chain
    // alone still links, the doses and the checkpoints say otherwise.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        sqlx::query(
            "DELETE FROM audit_log WHERE seq >= (SELECT MIN(seq) FROM audit_log WHERE action = 'seed')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
    });
    let out = run(&["audit", "verify"]);
    let said = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        said.contains("doses have no audit entry: ") && said.contains(" more"),
        "{said}"
    );
    let out = verify();
    let said = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        said.contains("audit log contradicts its checkpoints: the log ends at entry")
            && said.contains("removed from the end"),
        "{said}"
    );

    // A checkpoint line altered (or signed with another key) is refused.
    let forged = std::fs::read_to_string(&file)
        .unwrap()
        .replacen("seq=", "seq=1", 1);
    std::fs::write(&file, forged).unwrap();
    let out = verify();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("line 1: the signature does not verify"),
        "{}",
        text(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    tokio_cleanup(scratch);
}

#[test]
fn import_sites_and_sessions_are_all_or_nothing() {
    let scratch = Scratch::sqlite();
    let url = scratch.url.clone();
    let dir = std::env::temp_dir().join(format!("vaxgrid-cli-plan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = vaxgrid(&[
        "demo",
        "--seed-only",
        "--residents",
        "10",
        "--file",
        url.trim_start_matches("sqlite://"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let import = |what: &str, body: String| {
        let file = dir.join(format!("{what}.csv"));
        std::fs::write(&file, body).unwrap();
        vaxgrid(&[
            "import",
            what,
            file.to_str().unwrap(),
            "--database-url",
            &url,
        ])
    };
    let sites = "code,name,kind,area_code,stations,daily_capacity\n";
    let out = import(
        "sites",
        format!("{sites}P1,Điểm tiêm 1,temporary_site,06601,2,150\nP2,Điểm tiêm 2,temporary_site,99999,2,150\n"),
    );
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("row 2: area_code:") && err.contains("nothing was imported"),
        "{err}"
    );
    let out = import(
        "sites",
        format!("{sites}P1,Điểm tiêm 1,temporary_site,06601,2,150\nP2,Điểm tiêm 2,temporary_site,0660101,1,80\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 2 sites"),
        "{}",
        text(&out.stdout)
    );
    let day = vaxgrid_store::format_date(vaxgrid_store::today() + time::Duration::days(2));
    let sessions = "site_code,day,opens,closes,stations,per_station_per_hour,slot_minutes\n";
    let out = import(
        "sessions",
        format!("{sessions}P1,{day},07:00,09:00,2,10,30\nP1,{day},08:00,10:00,2,10,30\n"),
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("row 2: opens:"),
        "{}",
        text(&out.stderr)
    );
    let out = import(
        "sessions",
        format!("{sessions}P1,{day},07:00,09:00,2,10,30\nP2,{day},07:00,09:00,1,10,60\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 2 sessions (6 slots)"),
        "{}",
        text(&out.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
    tokio_cleanup(scratch);
}

/// `vaxgrid outbreak plan` on each shipped scenario prints article 003's
/// capacity (24 treatment units; 8 laboratories with 6,186 single samples
/// a day, 61,860 pooled by 10, 550 confirmatory; hospital no. 2 with 94
/// severe/critical beds; 16 rapid-response and 26 ambulance teams) and, for
/// each tier and region, the day it runs out — the core's projection.
#[test]
fn outbreak_plan_prints_the_articles_capacity_and_when_each_tier_runs_out() {
    use vaxgrid_core::outbreak::surge::{self, Tier};
    for cases in surge::SHIPPED {
        let out = vaxgrid(&["outbreak", "plan", "--scenario", &cases.to_string()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let said = text(&out.stdout);
        for figure in [
            "capacity: 24 treatment units in the province",
            "laboratories: 8 — 6186 single samples a day (61860 pooled by 10), 550 confirmatory",
            "teams: 16 rapid-response, 26 ambulance",
            "Hospital No. 2 (Quảng Ninh lung hospital) (",
            "106 mild-moderate, 94 severe-critical beds",
        ] {
            assert!(said.contains(figure), "{cases}: no '{figure}' in\n{said}");
        }
        let s = surge::shipped(cases).unwrap();
        let p = surge::project(&s).unwrap();
        let lines: Vec<&str> = said.lines().map(str::trim).collect();
        assert!(!p.tiers.is_empty());
        for t in &p.tiers {
            let region = if t.region == "*" {
                "province-wide"
            } else {
                t.region.as_str()
            };
            let tier = match t.tier {
                Tier::MildModerate => "mild-moderate",
                Tier::SevereCritical => "severe-critical",
            };
            let runs_out = t
                .runs_out
                .map_or("never".to_string(), |d| format!("day {d}"));
            let line = lines
                .iter()
                .find(|l| {
                    let words: Vec<&str> = l.split_whitespace().collect();
                    words.len() > 2 && words[0] == region && words[1] == tier
                })
                .unwrap_or_else(|| panic!("{cases}: no line for {region} {tier} in\n{said}"));
            assert!(
                line.ends_with(&format!("runs out: {runs_out}")),
                "{cases}: {region} {tier} should run out {runs_out}: {line}"
            );
        }
        let lab_runs_out = |d: Option<u32>| d.map_or("never".to_string(), |d| format!("day {d}"));
        assert!(
            said.contains(&format!(
                "run out: {}; confirmatory run out: {}",
                lab_runs_out(p.lab.runs_out),
                lab_runs_out(p.lab.confirmatory_runs_out)
            )),
            "{said}"
        );
        // At least one tier of the largest plans runs out (the article's
        // point: 10,000 cases outgrow the severe-critical beds).
        if cases == 10000 {
            assert!(p.tiers.iter().any(|t| t.runs_out.is_some()), "{said}");
        }
    }
    // Not a shipped scenario: refused by the argument parser.
    let out = vaxgrid(&["outbreak", "plan", "--scenario", "2000"]);
    assert!(!out.status.success());
}
