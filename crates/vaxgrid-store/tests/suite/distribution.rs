//! Distribution by province, enforced (docs/SCALING.md). The PostgreSQL
//! schema is meant to map onto a distributed PostgreSQL (Citus) with
//! `province_code` as the distribution column of the large tables. That
//! holds only if
//! - every table is classified as large (distributed) or reference
//!   (replicated to every node);
//! - a large table's primary key and every unique constraint or unique
//!   index include `province_code` (a shard can only enforce uniqueness
//!   within itself);
//! - a foreign key between two large tables includes `province_code` on both
//!   sides (co-located rows), and no reference table points at a large one;
//! - the store's writes to a large table (UPDATE, DELETE, the conflict
//!   target of an upsert) and the hot path's keyed reads name
//!   `province_code`, so that each runs on one shard.
//!
//! The test reads the migrations (PostgreSQL and common) and the store's
//! SQL string literals as text and fails on anything else, unless the case
//! is listed in `EXCEPTIONS` with its reason. `checker_catches_a_broken_copy`
//! feeds deliberately broken copies to the same checker to show it fails.

use std::collections::BTreeMap;
use std::path::Path;

/// Distributed by `province_code`.
const LARGE: &[&str] = &[
    "persons",
    "doses",
    "coverage_counters",
    "population_counters",
    // Persons per home area and set of priority groups (each person once).
    "population_group_sets",
    "daily_dose_counters",
    "dose_counters",
    "certificates",
    // Certificates revoked by lot or by site and day: one row each.
    "certificate_revocations",
    "appointments",
    "visits",
    "aefi_investigations",
    // Adverse events as safety reports read them: one row per report, with
    // the province of the dose it follows.
    "aefi_events",
    "outbox",
    "fhir_extras",
    "stock_movements",
    "stock_on_hand",
    // Stock consumed per store × day × product (days of supply, wastage).
    "stock_daily",
    // Doses given per store × lot × day: the ledger's daily lines.
    "stock_given_daily",
    // A data logger's readings: one row every few minutes per fridge.
    "temperature_readings",
    // Vials opened at a store: a few rows per session and lot.
    "open_vials",
    // The ancillary supplies' ledger and counters, per store like the stock's.
    "item_movements",
    "item_on_hand",
    // The outbreak: cases, contact links and the classes derived from them,
    // isolations and their daily checks, samples and laboratory tests.
    "outbreak_cases",
    "outbreak_contacts",
    "outbreak_classes",
    "isolations",
    "isolation_checks",
    "samples",
    "lab_tests",
    "lab_test_samples",
    // A case's stays in a facility's beds (the person's province), and the
    // teams' assignments (many a day in a surge; the team's province).
    "facility_admissions",
    "team_assignments",
    // A person's other identifiers (MRNs, passports with their country,
    // insurance, birth certificates) and the follow-up of those without a
    // document: rows of a person, with the person's province.
    "person_identifiers",
    "identity_follow_ups",
    // Partners' vaccinations outside the catalogue, kept as history: rows
    // of a person, with the person's province.
    "other_vaccinations",
];

/// Small, read everywhere, written rarely: replicated to every node.
/// `audit_log` is here too: one hash chain, one order (see SCALING.md).
const REFERENCE: &[&str] = &[
    "schema_migrations",
    "areas",
    "area_levels",
    "area_reorganisations",
    "products",
    "lots",
    "sites",
    "site_zones",
    // The communes or villages each site serves: a few rows per site.
    "site_catchments",
    "users",
    "invitations",
    "grants",
    "sessions",
    "api_tokens",
    // Dropped by 0015; still read from 0004 by this test.
    "login_failures",
    "login_throttle",
    "login_known_addresses",
    "heartbeat",
    "vaccination_sessions",
    "slots",
    "training_classes",
    "training_attendees",
    "training_exams",
    "staff_certificates",
    "campaigns",
    "waves",
    "area_targets",
    // A campaign's daily dose target per area: a few rows per campaign.
    "daily_dose_targets",
    "screening_questionnaires",
    "audit_log",
    // The resident portal's codes, attempt counters and sessions: small,
    // short-lived, like staff sessions and sign-in failures.
    "portal_challenges",
    "portal_limits",
    "resident_sessions",
    // Places held while a resident confirms: a few rows per slot, minutes long, like slots.
    "slot_holds",
    "stores",
    "cold_chain_equipment",
    "shipments",
    // A fridge's excursions: rare events, read by the lots they hold.
    "excursions",
    // The duplicate review's proposals and decisions: a few per thousand
    // persons, and a pair may span two provinces (one ID number in both).
    "duplicate_candidates",
    // A delivery's split among the stores below: a few a week per store.
    "allocations",
    // Syringes and safety boxes, and their ratios to the products: a handful.
    "supply_items",
    "item_ratios",
    // Laboratories that test an outbreak's samples: a handful per province.
    "laboratories",
    // Treatment facilities and response teams: a few dozen per province.
    "treatment_facilities",
    "response_teams",
    // A province's isolation rule: one row per province.
    "isolation_policies",
];

/// Findings accepted, each with its reason. A finding is matched by its
/// text starting with the key.
const EXCEPTIONS: &[(&str, &str)] = &[
    (
        "statement in doses.rs: update stock_on_hand without province_code in its condition: \
         update stock_on_hand set on_hand = on_hand - $1, updated_at = $2, given_day_doses = case \
         when given_day = $3 then given_day_doses + $1 else $1 end, given_day = $3, \
         given_day_at = $2 where rowid = $4",
        "SQLite only (the dose writer's direct connection), by the rowid read in the same \
         transaction: naming province_code would let STAT4 expire the statement again",
    ),
    // Rows that do not carry province_code yet. On a distributed PostgreSQL
    // they are distributed by their own id (a co-location group of their
    // own): lookups by id stay single-shard, lists (by session, by site,
    // pending outbox messages) fan out. Carrying province_code (taken from
    // the person when the row is made) is the follow-up in SCALING.md.
    ("appointments: primary key (id)", "distributed by id until rows carry province_code"),
    ("visits: primary key (id)", "distributed by id until rows carry province_code"),
    ("aefi_investigations: primary key (id)", "distributed by id, co-located with visits by visit id once visits carry province_code"),
    ("aefi_investigations: foreign key (visit_id)", "distributed by id until rows carry province_code"),
    ("outbox: primary key (id)", "distributed by id until rows carry province_code"),
    ("outbox: unique (kind, subject)", "distributed by id until rows carry province_code"),
    ("fhir_extras: primary key (resource_type, id)", "keyed by the FHIR resource's id; distributed by id"),
    (
        "statement in reminders.rs: update outbox",
        "outbox rows are distributed by id and updated by id",
    ),
    (
        "statement in scheduling.rs: update appointments",
        "appointments are distributed by id and updated by id",
    ),
    (
        "statement in visits.rs: update visits",
        "visits are distributed by id and updated by id",
    ),
    (
        "statement in visits.rs: update aefi_investigations",
        "investigations are distributed by id and updated by id",
    ),
    (
        "statement in reminders.rs: insert into outbox",
        "outbox rows are distributed by id; (kind, subject) is unique per shard only once they carry province_code",
    ),
    (
        "statement in visits.rs: insert into visits",
        "visits are distributed by id",
    ),
    (
        "statement in fhir_extras.rs: insert into fhir_extras",
        "distributed by id",
    ),
    // A merge is an operator's correction, rare; its members are the
    // duplicate's (possibly of other provinces). Across provinces it is a
    // move (SCALING.md), the writer's command to add for distribution.
    (
        "statement in doses.rs: update persons",
        "merges are rare corrections; a cross-province merge is a move",
    ),
    (
        "statement in fhir_extras.rs: delete from fhir_extras",
        "distributed by id and deleted by id",
    ),
    // A dose request names its person by id alone, so the writer's first
    // read of a person cannot name the province: on Citus it fans out (one
    // index lookup per shard). SCALING.md describes the locator that makes
    // it single-shard; the later statements of the batch know the province.
    (
        "statement in doses.rs: select",
        "dose requests name a person by id alone (SCALING.md: person locator)",
    ),
];

#[derive(Debug, Default)]
struct Table {
    primary_key: Option<Vec<String>>,
    unique: Vec<Vec<String>>,
    /// (columns, referenced table, referenced columns)
    foreign: Vec<(Vec<String>, String, Vec<String>)>,
}

/// Lower case, `--` comments removed, whitespace collapsed.
fn normalise(sql: &str) -> String {
    let mut out = String::new();
    for line in sql.lines() {
        let line = match line.find("--") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push(' ');
    }
    out.to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The text between the parenthesis at `open` and its match.
fn parenthesised(s: &str, open: usize) -> &str {
    let mut depth = 0;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &s[open + 1..open + i];
                }
            }
            _ => {}
        }
    }
    &s[open + 1..]
}

fn split_top_level(s: &str) -> Vec<String> {
    let (mut parts, mut cur, mut depth) = (Vec::new(), String::new(), 0);
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    parts
}

/// Column names in a parenthesised list (collations and orders dropped).
fn columns(list: &str) -> Vec<String> {
    split_top_level(list)
        .iter()
        .filter_map(|c| c.split_whitespace().next())
        .map(|c| c.trim_matches('"').to_string())
        .collect()
}

/// After `keyword` in `s`: the parenthesised list that follows.
fn list_after(s: &str, keyword: &str) -> Option<Vec<String>> {
    let at = s.find(keyword)? + keyword.len();
    let open = at + s[at..].find('(')?;
    Some(columns(parenthesised(s, open)))
}

fn references(s: &str) -> Option<(String, Vec<String>)> {
    let at = s.find("references ")? + "references ".len();
    let rest = &s[at..];
    let name_end = rest.find(['(', ' ']).unwrap_or(rest.len());
    let table = rest[..name_end].to_string();
    let cols = rest[name_end..]
        .find('(')
        .map(|o| columns(parenthesised(&rest[name_end..], o)))
        .unwrap_or_default();
    Some((table, cols))
}

fn word(s: &str, w: &str) -> bool {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .any(|x| x == w)
}

/// Tables and their keys, from migration texts applied in order.
fn schema(migrations: &[(String, String)]) -> BTreeMap<String, Table> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    tables.insert(
        "schema_migrations".into(),
        Table {
            primary_key: Some(vec!["version".into()]),
            ..Table::default()
        },
    );
    for (_, text) in migrations {
        for stmt in normalise(text).split(';').map(str::trim) {
            if let Some(rest) = stmt.strip_prefix("create table ") {
                let rest = rest.strip_prefix("if not exists ").unwrap_or(rest);
                let name_end = rest.find([' ', '(']).unwrap_or(rest.len());
                let name = rest[..name_end].to_string();
                let Some(open) = rest.find('(') else { continue };
                let table = tables.entry(name).or_default();
                for item in split_top_level(parenthesised(rest, open)) {
                    add_item(table, &item);
                }
            } else if let Some(rest) = stmt.strip_prefix("alter table ") {
                let rest = rest.strip_prefix("if exists ").unwrap_or(rest);
                let (name, action) = rest.split_once(' ').unwrap_or((rest, ""));
                if let Some(def) = action.strip_prefix("add ") {
                    let def = def.strip_prefix("column ").unwrap_or(def);
                    let def = def.strip_prefix("if not exists ").unwrap_or(def);
                    add_item(tables.entry(name.to_string()).or_default(), def);
                }
            } else if stmt.starts_with("create unique index ") {
                let Some(on) = stmt.find(" on ") else {
                    continue;
                };
                let rest = &stmt[on + 4..];
                let name_end = rest.find([' ', '(']).unwrap_or(rest.len());
                let Some(open) = rest.find('(') else { continue };
                let cols = columns(parenthesised(rest, open));
                tables
                    .entry(rest[..name_end].to_string())
                    .or_default()
                    .unique
                    .push(cols);
            }
        }
    }
    tables
}

fn add_item(table: &mut Table, item: &str) {
    let item = match item.strip_prefix("constraint ") {
        Some(rest) => rest.split_once(' ').map(|x| x.1).unwrap_or(""),
        None => item,
    };
    if item.starts_with("primary key") {
        table.primary_key = list_after(item, "primary key");
    } else if item.starts_with("unique") {
        table.unique.extend(list_after(item, "unique"));
    } else if item.starts_with("foreign key") {
        if let (Some(cols), Some((t, rc))) = (list_after(item, "foreign key"), references(item)) {
            table.foreign.push((cols, t, rc));
        }
    } else if item.starts_with("check") || item.starts_with("exclude") {
    } else {
        let name = item.split_whitespace().next().unwrap_or("").to_string();
        if item.contains(" primary key") {
            table.primary_key = Some(vec![name.clone()]);
        }
        if word(&item.replace("primary key", ""), "unique") {
            table.unique.push(vec![name.clone()]);
        }
        if let Some((t, rc)) = references(item) {
            table.foreign.push((vec![name], t, rc));
        }
    }
}

fn list(cols: &[String]) -> String {
    format!("({})", cols.join(", "))
}

/// What the schema breaks of the rules above.
fn schema_findings(tables: &BTreeMap<String, Table>) -> Vec<String> {
    let large = |t: &str| LARGE.contains(&t);
    let pc = |cols: &[String]| cols.iter().any(|c| c == "province_code");
    let mut out = Vec::new();
    for (name, t) in tables {
        if !large(name) && !REFERENCE.contains(&name.as_str()) {
            out.push(format!(
                "{name}: not classified: add it to LARGE (distributed by province_code) or REFERENCE in tests/suite/distribution.rs and docs/SCALING.md"
            ));
            continue;
        }
        for (cols, target, target_cols) in &t.foreign {
            if large(target) && !large(name) {
                out.push(format!(
                    "{name}: foreign key {} references the large table {target} from a reference table",
                    list(cols)
                ));
            } else if large(target) && !(pc(cols) && pc(target_cols)) {
                out.push(format!(
                    "{name}: foreign key {} references {target} {} without province_code",
                    list(cols),
                    list(target_cols)
                ));
            }
        }
        if !large(name) {
            continue;
        }
        match &t.primary_key {
            None => out.push(format!("{name}: no primary key")),
            Some(k) if !pc(k) => out.push(format!(
                "{name}: primary key {} lacks province_code",
                list(k)
            )),
            _ => {}
        }
        for u in t.unique.iter().filter(|u| !pc(u)) {
            out.push(format!("{name}: unique {} lacks province_code", list(u)));
        }
    }
    out
}

/// The string literals of a Rust source (plain and raw), with `\`-newline
/// continuations and simple escapes resolved.
fn string_literals(src: &str) -> Vec<String> {
    let b: Vec<char> = src.chars().collect();
    let (mut i, mut out) = (0, Vec::new());
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' {
            // A char literal ('x', '\n', '"'); otherwise a lifetime.
            if b.get(i + 1) == Some(&'\\') {
                i += 2;
                while i < b.len() && b[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if b.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
            }
        } else if c == 'r'
            && (b.get(i + 1) == Some(&'"') || b.get(i + 1) == Some(&'#'))
            && (i == 0 || !(b[i - 1].is_alphanumeric() || b[i - 1] == '_'))
        {
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                i += 1;
                continue;
            }
            j += 1;
            let start = j;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|h| b.get(j + 1 + h) == Some(&'#')) {
                    break;
                }
                j += 1;
            }
            out.push(b[start..j.min(b.len())].iter().collect());
            i = j + 1 + hashes;
        } else if c == '"' {
            let mut s = String::new();
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    match b.get(i + 1) {
                        Some('\n') => {
                            i += 2;
                            while i < b.len() && b[i].is_whitespace() {
                                i += 1;
                            }
                            continue;
                        }
                        Some('n') => s.push('\n'),
                        Some(&e) => s.push(e),
                        None => {}
                    }
                    i += 2;
                } else {
                    s.push(b[i]);
                    i += 1;
                }
            }
            out.push(s);
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Files whose reads are the hot path (the dose writer, 15,000 a second).
const HOT_FILES: &[&str] = &["doses.rs"];

/// What the store's statements break: a write to a large table (UPDATE,
/// DELETE, an upsert's conflict target) or a hot-path keyed read that does
/// not name province_code.
fn statement_findings(file: &str, src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for lit in string_literals(src) {
        let s = normalise(&lit);
        for table in LARGE {
            let t = format!(" {table} ");
            let padded = format!(" {s} ");
            let starts = |kw: &str| padded.contains(&format!(" {kw}{t}"));
            let after = |kw: &str| padded.split_once(kw).map(|x| x.1.to_string());
            if starts("update") || starts("delete from") {
                let kind = if starts("update") {
                    "update"
                } else {
                    "delete from"
                };
                let cond = after(" where ").unwrap_or_default();
                if !cond.contains("province_code") {
                    out.push(format!(
                        "statement in {file}: {kind} {table} without province_code in its condition: {s}"
                    ));
                }
            }
            if starts("insert into") {
                if let Some(target) = padded.split_once(" on conflict ").map(|x| x.1) {
                    if target.starts_with('(') {
                        let cols = columns(parenthesised(target, 0));
                        if !cols.iter().any(|c| c == "province_code") {
                            out.push(format!(
                                "statement in {file}: insert into {table} with a conflict target {} without province_code: {s}",
                                list(&cols)
                            ));
                        }
                    }
                }
            }
            if HOT_FILES.contains(&file) && starts("from") {
                let Some(cond) = padded
                    .split_once(&format!(" from{t}where "))
                    .map(|x| x.1.to_string())
                else {
                    continue;
                };
                if !cond.contains("province_code") {
                    out.push(format!(
                        "statement in {file}: select from {table} without province_code in its condition: {s}"
                    ));
                }
            }
        }
    }
    out
}

fn unexcused(findings: Vec<String>) -> Vec<String> {
    findings
        .into_iter()
        .filter(|f| !EXCEPTIONS.iter().any(|(key, _)| f.starts_with(key)))
        .collect()
}

fn read_migrations() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<(String, String)> = Vec::new();
    for sub in ["common", "postgres"] {
        for entry in std::fs::read_dir(dir.join(sub)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "sql") {
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                files.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    // Applied in version order, whichever directory holds them.
    files.sort();
    assert!(files.len() >= 9, "the migrations were not found");
    files
}

fn store_sources() -> Vec<(String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            files.push((name, std::fs::read_to_string(&path).unwrap()));
        }
    }
    files.sort();
    files
}

#[test]
fn the_schema_can_be_distributed_by_province() {
    let tables = schema(&read_migrations());
    for t in LARGE.iter().chain(REFERENCE) {
        assert!(
            tables.contains_key(*t),
            "{t} is classified but no migration creates it"
        );
    }
    assert!(
        tables["persons"].primary_key.is_some() && !tables["persons"].unique.is_empty(),
        "the parser lost the persons keys: {:?}",
        tables["persons"]
    );
    let findings = unexcused(schema_findings(&tables));
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn the_store_names_the_province_on_large_tables() {
    let mut all = Vec::new();
    let mut statements = 0;
    for (file, src) in store_sources() {
        statements += string_literals(&src)
            .iter()
            .filter(|l| normalise(l).contains("from persons"))
            .count();
        all.extend(statement_findings(&file, &src));
    }
    assert!(statements > 3, "the store's statements were not found");
    let findings = unexcused(all);
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn every_exception_is_still_needed() {
    let mut all = schema_findings(&schema(&read_migrations()));
    for (file, src) in store_sources() {
        all.extend(statement_findings(&file, &src));
    }
    for (key, reason) in EXCEPTIONS {
        assert!(
            all.iter().any(|f| f.starts_with(key)),
            "the exception '{key}' ({reason}) matches nothing any more: remove it"
        );
    }
}

#[test]
fn checker_catches_a_broken_copy() {
    let migrations = read_migrations();
    // The persons table keyed by id alone, as a careless migration would.
    let broken: Vec<(String, String)> = migrations
        .iter()
        .map(|(n, t)| {
            let t = if n == "0001_foundation.sql" {
                assert!(t.contains("PRIMARY KEY (id, province_code),"));
                t.replacen("PRIMARY KEY (id, province_code),", "PRIMARY KEY (id),", 1)
                    .replacen(
                        "UNIQUE (id_number, id_type, province_code)",
                        "UNIQUE (id_number, id_type)",
                        1,
                    )
            } else {
                t.clone()
            };
            (n.clone(), t)
        })
        .collect();
    let findings = unexcused(schema_findings(&schema(&broken)));
    assert!(
        findings.contains(&"persons: primary key (id) lacks province_code".to_string()),
        "{findings:?}"
    );
    assert!(
        findings.contains(&"persons: unique (id_number, id_type) lacks province_code".to_string()),
        "{findings:?}"
    );

    // A new migration with a large-table foreign key lacking the province,
    // a unique index without it, and an unclassified table.
    let mut extra = migrations.clone();
    extra.push((
        "0099_broken.sql".into(),
        "CREATE TABLE dose_notes (\n  id TEXT PRIMARY KEY,\n  note TEXT NOT NULL -- free text\n);\n\
         ALTER TABLE certificates ADD COLUMN dose_ref TEXT REFERENCES doses(id);\n\
         CREATE UNIQUE INDEX doses_hash ON doses(body_hash);\n"
            .into(),
    ));
    let findings = unexcused(schema_findings(&schema(&extra)));
    let expect = [
        "dose_notes: not classified",
        "certificates: foreign key (dose_ref) references doses (id) without province_code",
        "doses: unique (body_hash) lacks province_code",
    ];
    for e in expect {
        assert!(
            findings.iter().any(|f| f.starts_with(e)),
            "{e} not found in {findings:?}"
        );
    }

    // Statements: an update by id alone, an upsert on a key without the
    // province, and a hot-path read without it.
    let src = r#"
        fn f() {
            let a = "UPDATE persons SET phone = $2 \
                     WHERE id = $1";
            let b = "INSERT INTO coverage_counters (area_code) VALUES ($1) \
                     ON CONFLICT (area_code) DO NOTHING";
            let c = r"SELECT id FROM doses WHERE person_id = $1";
            let ok = "UPDATE persons SET phone = $3 WHERE id = $1 AND province_code = $2";
            let ch = '"';
        }
    "#;
    let findings = statement_findings("doses.rs", src);
    assert_eq!(findings.len(), 3, "{findings:#?}");
    assert!(findings[0].starts_with("statement in doses.rs: update persons without province_code"));
    assert!(findings[1].contains("conflict target (area_code) without province_code"));
    assert!(findings[2].starts_with("statement in doses.rs: select from doses without"));
    // Outside the hot path the read is not judged; the writes still are.
    assert_eq!(statement_findings("reports.rs", src).len(), 2);
}
