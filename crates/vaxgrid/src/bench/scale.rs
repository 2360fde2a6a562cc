//! `vaxgrid bench scale`: the product on a full registry against the same
//! figures on an empty one, in the same run. It measures a probe (doses
//! through the dose writer, coverage reports, person searches, a person's
//! record) on the empty database, fills it — persons through the bulk
//! import in chunks, doses through the dose writer, so that the counters
//! stay equal to a recount — with progress bars and bounded memory (rows
//! are made chunk by chunk and the dose fill walks the registry by id), then
//! runs the same probe again and prints both with their ratio, the
//! database's size per person and per dose, and the time of `vaxgrid check`.
//!
//! Doses are measured twice: through the dose writer in-process, and over
//! HTTP against the real server started on the same database (the `bench
//! doses` method), which also answers the survey list and the dashboard
//! and whose memory is read while it serves (scale_http.rs).

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use vaxgrid_store::doses::WriteCommand;
use vaxgrid_store::model::{Actor, DoseRequest};
use vaxgrid_store::persons::PersonQuery;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::writer::{DoseWriter, WriterConfig};
use vaxgrid_store::Store;

use super::percentile;
use super::scale_http::{self, HttpContext, HttpFigures};
use crate::demo::{Residents, Seeded};

/// Persons per import transaction of the fill.
const IMPORT_CHUNK: usize = 100_000;
/// Persons (and doses) of each probe.
const PROBE: usize = 5_000;
/// Concurrent dose submitters (as `bench doses` has clients).
const SUBMITTERS: usize = 128;

pub async fn run(postgres: bool, persons: usize, doses: usize) -> Result<()> {
    let (scratch, backend, store, seeded) = super::setup::seeded_scratch(postgres).await?;
    let mut residents = Residents::new(2026);
    let ctx = Probe::context(&store, &seeded).await?;
    let http = HttpContext::new(&store, &ctx.commune).await?;

    let empty = probe(&store, &seeded, &ctx, &mut residents).await?;
    let empty_http =
        scale_http::probe(&scratch.url, &store, &seeded, &http, &mut residents, PROBE).await?;
    let started = Instant::now();
    fill_persons(&store, &seeded, &mut residents, persons).await?;
    let persons_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let recorded = fill_doses(&store, &seeded, doses).await?;
    let doses_secs = started.elapsed().as_secs_f64();
    store.analyze().await?;
    let full = probe(&store, &seeded, &ctx, &mut residents).await?;
    let full_http =
        scale_http::probe(&scratch.url, &store, &seeded, &http, &mut residents, PROBE).await?;

    let started = Instant::now();
    let diffs = store.check_counters().await?;
    let check_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        diffs.is_empty(),
        "counters differ from a recount after the fill: {:?}",
        &diffs[..diffs.len().min(3)]
    );
    let fill = Fill {
        persons,
        persons_secs,
        recorded,
        doses_secs,
        check_secs,
        total_persons: store.count_persons().await? as f64,
        total_doses: store.count_doses().await? as f64,
        size: store.size_bytes().await? as f64,
    };
    store.close().await;
    scratch.cleanup().await;

    println!("bench scale ({backend}; this machine is shared: figures vary from run to run)");
    fill.report();
    report_probes([&empty, &full], [&empty_http, &full_http]);
    Ok(())
}

/// What the fill did and what the full registry holds.
struct Fill {
    persons: usize,
    persons_secs: f64,
    recorded: usize,
    doses_secs: f64,
    check_secs: f64,
    total_persons: f64,
    total_doses: f64,
    size: f64,
}

impl Fill {
    /// The fill's rates, the database's size per row, the recount's time
    /// and this process's memory.
    fn report(&self) {
        let Fill {
            persons,
            persons_secs,
            recorded,
            doses_secs,
            check_secs,
            total_persons,
            total_doses,
            size,
        } = *self;
        println!(
            "  fill: {persons} persons in {persons_secs:.1} s, {recorded} doses in {doses_secs:.1} s ({:.0}/s)",
            recorded as f64 / doses_secs
        );
        println!(
            "  registry: {total_persons:.0} persons, {total_doses:.0} doses; database {:.0} MB \
             (~{:.0} bytes per person and dose row)",
            size / 1e6,
            size / (total_persons + total_doses).max(1.0)
        );
        println!("  vaxgrid check (recount): {check_secs:.1} s, counters equal");
        println!(
            "  peak memory of this process: {} MB",
            peak_rss_mb().map_or("?".into(), |m| format!("{m:.0}"))
        );
    }
}

/// The probe's figures on the empty and the full registry, side by side
/// with their ratio: dose rates, then each read's times, then the server's
/// memory.
fn report_probes([empty, full]: [&Figures; 2], [empty_http, full_http]: [&HttpFigures; 2]) {
    println!("  {:<44} {:>14} {:>14} {:>6}", "", "empty", "full", "ratio");
    let rate = |r: f64| format!("{r:.0}/s");
    println!(
        "  {:<44} {:>14} {:>14} {:>6.2}",
        "doses through the writer (goal ≥ 0.7)",
        rate(empty.dose_rate),
        rate(full.dose_rate),
        full.dose_rate / empty.dose_rate
    );
    println!(
        "  {:<44} {:>14} {:>14} {:>6.2}",
        "doses over HTTP (goal ≥ 0.7)",
        rate(empty_http.dose_rate),
        rate(full_http.dose_rate),
        full_http.dose_rate / empty_http.dose_rate
    );
    println!(
        "  {:<44} {:>14.1} {:>14.1} {:>6.2}",
        "doses over HTTP p99 ms",
        empty_http.dose_p99,
        full_http.dose_p99,
        full_http.dose_p99 / empty_http.dose_p99.max(1e-9)
    );
    for (name, e, f) in [
        ("coverage, province", &empty.province, &full.province),
        ("coverage, one commune", &empty.commune, &full.commune),
        ("search by ID number", &empty.by_number, &full.by_number),
        (
            "search by name prefix in a district",
            &empty.by_name,
            &full.by_name,
        ),
        ("a person's record with doses", &empty.record, &full.record),
        (
            "survey list page, one commune (HTTP)",
            &empty_http.survey,
            &full_http.survey,
        ),
        (
            "planner dashboard, province (HTTP)",
            &empty_http.dashboard,
            &full_http.dashboard,
        ),
    ] {
        println!(
            "  {:<44} {:>14} {:>14} {:>6.2}",
            format!("{name} p50/p99 ms"),
            e.show(),
            f.show(),
            f.p99 / e.p99.max(1e-9)
        );
    }
    let memory =
        |m: Option<(f64, f64)>| m.map_or("?".into(), |(now, peak)| format!("{now:.0}/{peak:.0}"));
    println!(
        "  {:<44} {:>14} {:>14}",
        "server memory now/peak MB (goal ≤ 500)",
        memory(empty_http.rss_mb),
        memory(full_http.rss_mb)
    );
}

/// Places the probes look at.
struct Probe {
    commune: String,
    district: String,
}

impl Probe {
    async fn context(store: &Store, seeded: &Seeded) -> Result<Probe> {
        let village = store.area(&seeded.villages[0]).await?;
        let commune = village.parent_code.context("a village has a commune")?;
        let district = store
            .area(&commune)
            .await?
            .parent_code
            .context("a commune has a district")?;
        Ok(Probe { commune, district })
    }
}

pub(super) struct Times {
    p50: f64,
    p99: f64,
}

impl Times {
    pub(super) fn of(mut ms: Vec<f64>) -> Times {
        ms.sort_by(f64::total_cmp);
        Times {
            p50: percentile(&ms, 50.0),
            p99: percentile(&ms, 99.0),
        }
    }

    fn show(&self) -> String {
        format!("{:.1}/{:.1}", self.p50, self.p99)
    }
}

struct Figures {
    dose_rate: f64,
    province: Times,
    commune: Times,
    by_number: Times,
    by_name: Times,
    record: Times,
}

async fn timed<F, T>(n: usize, mut f: impl FnMut(usize) -> F) -> Result<Times>
where
    F: std::future::Future<Output = Result<T, vaxgrid_store::StoreError>>,
{
    let mut ms = Vec::with_capacity(n);
    for i in 0..n {
        let started = Instant::now();
        f(i).await?;
        ms.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(Times::of(ms))
}

/// Registers `PROBE` new persons, records a dose for each through the
/// writer (the rate), and times the reads.
async fn probe(
    store: &Store,
    seeded: &Seeded,
    ctx: &Probe,
    residents: &mut Residents,
) -> Result<Figures> {
    let people = adults(residents, seeded, PROBE);
    let numbers: Vec<String> = people.iter().map(|p| p.id_number.clone()).collect();
    let names: Vec<String> = people
        .iter()
        .map(|p| {
            let folded = vaxgrid_core::names::fold_name(&p.full_name);
            folded.chars().take(4).collect()
        })
        .collect();
    let ids = import(store, people, "bench-probe").await?;
    let writer = DoseWriter::spawn(store.clone(), WriterConfig::default())?;
    let started = Instant::now();
    let recorded = submit_all(&writer, seeded, &ids, vaxgrid_store::today()).await;
    let dose_rate = recorded as f64 / started.elapsed().as_secs_f64();
    drop(writer);
    anyhow::ensure!(
        recorded == ids.len(),
        "the probe recorded {recorded} of {} doses",
        ids.len()
    );
    let province = timed(20, |_| store.coverage("22")).await?;
    let commune = timed(100, |_| store.coverage(&ctx.commune)).await?;
    let by_number = timed(500, |i| {
        let q = PersonQuery {
            id_number: Some(numbers[i % numbers.len()].clone()),
            scope: Scope::All,
            ..PersonQuery::default()
        };
        async move { store.search_persons(&q, None, 20).await }
    })
    .await?;
    let by_name = timed(100, |i| {
        let q = PersonQuery {
            name: Some(names[i % names.len()].clone()),
            area: Some(ctx.district.clone()),
            scope: Scope::All,
            ..PersonQuery::default()
        };
        async move { store.search_persons(&q, None, 20).await }
    })
    .await?;
    let record = timed(500, |i| {
        let id = ids[i % ids.len()].clone();
        async move {
            store.person(&id).await?;
            store.history(&id).await
        }
    })
    .await?;
    Ok(Figures {
        dose_rate,
        province,
        commune,
        by_number,
        by_name,
        record,
    })
}

/// `n` adult residents (every dose then meets the product's minimum age).
pub(super) fn adults(
    residents: &mut Residents,
    seeded: &Seeded,
    n: usize,
) -> Vec<vaxgrid_store::model::NewPerson> {
    let born_before =
        vaxgrid_core::dose::birthday(vaxgrid_store::today(), 0) - time::Duration::days(19 * 366);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        out.extend(
            residents
                .take(n, &seeded.villages)
                .into_iter()
                .filter(|p| p.birth_date < born_before),
        );
    }
    out.truncate(n);
    out
}

/// Registers `people` through the bulk import (one transaction) and
/// returns their ids.
pub(super) async fn import(
    store: &Store,
    people: Vec<vaxgrid_store::model::NewPerson>,
    actor: &str,
) -> Result<Vec<String>> {
    let (placed, errors) = store.check_people(people).await?;
    anyhow::ensure!(
        errors.is_empty(),
        "persons refused: {:?}",
        &errors[..errors.len().min(3)]
    );
    let ids = placed.iter().map(|p| p.new.id.clone()).collect();
    let mut import = store.begin_person_import(placed.len()).await?;
    let mut rows = Vec::with_capacity(5000);
    for (i, p) in placed.into_iter().enumerate() {
        rows.push((i + 2, p));
        if rows.len() == 5000 {
            let refused = import.add(std::mem::take(&mut rows), true).await?;
            anyhow::ensure!(refused.is_empty(), "persons refused: {:?}", &refused[..1]);
        }
    }
    if !rows.is_empty() {
        let refused = import.add(rows, true).await?;
        anyhow::ensure!(refused.is_empty(), "persons refused: {:?}", &refused[..1]);
    }
    import.commit(actor).await?;
    Ok(ids)
}

async fn fill_persons(
    store: &Store,
    seeded: &Seeded,
    residents: &mut Residents,
    n: usize,
) -> Result<()> {
    let bar = crate::files::bar(n as u64, "persons");
    let mut done = 0;
    while done < n {
        let chunk = IMPORT_CHUNK.min(n - done);
        import(store, adults(residents, seeded, chunk), "bench-fill").await?;
        // As `serve`'s checkpointer would: the connections' automatic
        // checkpoint is off, so without this the write-ahead log holds the
        // whole fill (tens of gigabytes at 10 million persons).
        store.checkpoint().await?;
        done += chunk;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Doses for the registry's persons, walked by id: a first dose each, then
/// second doses, until `n` are recorded. Returns how many were.
async fn fill_doses(store: &Store, seeded: &Seeded, n: usize) -> Result<usize> {
    let bar = crate::files::bar(n as u64, "doses");
    let writer = DoseWriter::spawn(store.clone(), WriterConfig::default())?;
    let mut recorded = 0;
    // A first dose 120 days ago, a second 60 days ago.
    'rounds: for days_ago in [120, 60] {
        let day = vaxgrid_store::today() - time::Duration::days(days_ago);
        let mut after: Option<String> = None;
        loop {
            let want = (n - recorded).min(20_000);
            if want == 0 {
                break 'rounds;
            }
            let ids = store.person_ids(after.as_deref(), want).await?;
            let Some(last) = ids.last().cloned() else {
                break;
            };
            recorded += submit_all(&writer, seeded, &ids, day).await;
            store.checkpoint().await?;
            bar.set_position(recorded as u64);
            after = Some(last);
        }
    }
    bar.finish_and_clear();
    Ok(recorded)
}

/// Records an AZ dose on `day` for each of `persons` from `SUBMITTERS`
/// concurrent tasks; returns how many were recorded.
async fn submit_all(
    writer: &DoseWriter,
    seeded: &Seeded,
    persons: &[String],
    day: time::Date,
) -> usize {
    let lot = seeded.current_lots["AZ"].clone();
    let requests: Arc<Vec<DoseRequest>> = Arc::new(
        persons
            .iter()
            .enumerate()
            .map(|(i, p)| DoseRequest {
                id: uuid::Uuid::now_v7().to_string(),
                person_id: p.clone(),
                product_code: "AZ".into(),
                lot_number: lot.clone(),
                site_code: seeded.sites[i % seeded.sites.len()].clone(),
                administered_on: day,
                dose_number: None,
                vaccinator: Some("bench".into()),
                override_reason: None,
                historical: false,
                requires_certificate: None,
                by: Actor::system("bench"),
            })
            .collect(),
    );
    let mut tasks = Vec::new();
    for k in 0..SUBMITTERS {
        let (writer, requests) = (writer.clone(), requests.clone());
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for r in requests.iter().skip(k).step_by(SUBMITTERS) {
                if writer.submit(WriteCommand::Dose(r.clone())).await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await.unwrap_or(0);
    }
    ok
}

/// Peak resident memory of this process (VmHWM), in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
