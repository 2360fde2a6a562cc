//! `vaxgrid bench staff-import`: a roster of N staff (vaccinators,
//! screeners, observers, registrars at the demo's sites; planners and
//! statistics officers on its districts) into a fresh SQLite database
//! through the same path as `vaxgrid import staff`. The baseline is one
//! Argon2id password hash, the cost per account that invitations avoid.

use std::time::Instant;

use anyhow::Result;
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::Store;

pub async fn run(rows: usize) -> Result<()> {
    let scratch = Scratch::sqlite();
    let store = Store::open(&scratch.url).await?;
    let seeded = crate::demo::seed_reference(&store).await?;
    anyhow::ensure!(!seeded.sites.is_empty(), "the demo has no sites");
    let districts: Vec<String> = store
        .area_children(Some("22"), None, 500)
        .await?
        .items
        .into_iter()
        .map(|a| a.code)
        .collect();
    let mut csv = String::from("username,display_name,roles,site,area\n");
    for i in 0..rows {
        let site = &seeded.sites[i % seeded.sites.len()];
        let district = &districts[i % districts.len().max(1)];
        let roles = match i % 10 {
            0 => "registrar",
            1 => "screener",
            2 => "observer",
            3 => "vaccinator;registrar",
            4 if i % 100 == 4 => "planner",
            5 if i % 100 == 5 => "statistics_officer",
            _ => "vaccinator",
        };
        csv.push_str(&format!(
            "nv{i:06},Nhân viên {i},{roles},{site},{district}\n"
        ));
    }
    println!(
        "generated {rows} staff rows ({:.1} MB) over {} sites",
        csv.len() as f64 / 1e6,
        seeded.sites.len()
    );
    let started = Instant::now();
    let (answer, read_secs) =
        crate::files::import_staff_bytes(&store, csv.as_bytes(), false).await?;
    let secs = started.elapsed().as_secs_f64();
    let answer =
        answer.map_err(|rows| anyhow::anyhow!("refused rows: {:?}", &rows[..rows.len().min(3)]))?;
    anyhow::ensure!(
        answer.imported == rows,
        "imported {} of {rows}",
        answer.imported
    );
    let listed = store
        .list_users(
            &vaxgrid_store::staff::UserFilter {
                prefix: Some("nv".into()),
                ..Default::default()
            },
            &vaxgrid_store::paging::PageRequest::first(1),
        )
        .await?;
    anyhow::ensure!(!listed.items.is_empty(), "no staff stored");
    let hash_started = Instant::now();
    let _ = vaxgrid_server::auth::hash_password("a password somebody chose")
        .map_err(|e| anyhow::anyhow!(e))?;
    let hash_secs = hash_started.elapsed().as_secs_f64();
    println!(
        "staff import: {rows} staff with their roles and invitations in {secs:.1} s ({:.0} staff/s; reading the CSV and making the invitations {read_secs:.1} s)",
        rows as f64 / secs.max(1e-9)
    );
    println!(
        "baseline: one Argon2id password hash takes {:.0} ms here; {rows} of them would take {:.0} s on one core",
        hash_secs * 1e3,
        hash_secs * rows as f64
    );
    store.close().await;
    scratch.cleanup().await;
    Ok(())
}
