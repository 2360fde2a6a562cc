//! `vaxgrid bench survey`: the printable survey list of one commune of
//! `--persons` residents (10,000 by default, issue 16), printed whole as
//! the commune's team prints it: part after part (500 persons each, every
//! part read audited) by following each part's link to the next, then the
//! same list as one CSV. The baseline in the same run is `/healthz`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use vaxgrid_store::scratch::Scratch;
use vaxgrid_store::writer::WriterConfig;
use vaxgrid_store::Store;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    super::percentile(&v, p)
}

/// The link to the next part of a printed list, if the part has one.
fn next_part(page: &str) -> Option<String> {
    let tail = &page[page.find("class=\"continues\"")?..];
    let start = tail.find("href=\"")? + 6;
    let end = tail[start..].find('"')? + start;
    Some(
        tail[start..end]
            .replace("&#x2f;", "/")
            .replace("&#38;", "&")
            .replace("&#x3d;", "=")
            .replace("&#61;", "=")
            .replace("&amp;", "&"),
    )
}

async fn get(client: &reqwest::Client, url: &str, cookie: &str) -> Result<String> {
    let r = client.get(url).header("cookie", cookie).send().await?;
    let status = r.status();
    let body = r.text().await?;
    anyhow::ensure!(status == 200, "{url}: {status} {body}");
    Ok(body)
}

pub async fn run(postgres: bool, persons: usize, rounds: usize) -> Result<()> {
    let scratch = if postgres {
        Scratch::of("postgres").await?
    } else {
        Scratch::sqlite()
    };
    let store = Store::open(&scratch.url).await?;
    let started = Instant::now();
    let seeded = crate::demo::seed_reference(&store).await?;
    // Every resident in the villages of one commune.
    let commune = store
        .area(seeded.villages.first().context("no village")?)
        .await?
        .parent_code
        .context("a village has a commune")?;
    let villages: Vec<String> = store
        .area_children(Some(&commune), None, 10_000)
        .await?
        .items
        .into_iter()
        .map(|a| a.code)
        .collect();
    let one_commune = crate::demo::Seeded {
        villages,
        sites: seeded.sites.clone(),
        current_lots: seeded.current_lots.clone(),
    };
    crate::demo::seed_people(&store, &one_commune, persons).await?;
    store
        .create_user(
            "admin",
            "admin",
            &crate::accounts::hash("demo-admin")?,
            &[vaxgrid_core::access::Grant::parse("admin")?],
            "bench",
        )
        .await?;
    let (campaign, wave) = super::pages::plan_campaign(&store).await?;
    println!(
        "commune {commune} with {persons} residents ({} villages) seeded in {:.1} s on {}",
        one_commune.villages.len(),
        started.elapsed().as_secs_f64(),
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    let state = vaxgrid_server::AppState::new(store.clone(), WriterConfig::default())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(vaxgrid_server::serve(state, listener));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let admin = super::pages::sign_in(&client, &base, "admin").await?;
    let list =
        format!("/api/v1/campaigns/{campaign}/waves/{wave}/survey?area={commune}&status=all");

    let mut healthz = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        get(&client, &format!("{base}/healthz"), &admin).await?;
        healthz.push(ms(t.elapsed()));
    }
    let (mut wholes, mut parts_ms, mut csvs) = (Vec::new(), Vec::new(), Vec::new());
    let (mut parts, mut printed, mut csv_rows, mut csv_bytes) = (0, 0, 0, 0);
    for _ in 0..rounds.max(1) {
        let whole = Instant::now();
        let (mut url, mut n_parts, mut rows) = (format!("{list}&format=html"), 0, 0);
        loop {
            let t = Instant::now();
            let page = get(&client, &format!("{base}{url}"), &admin).await?;
            parts_ms.push(ms(t.elapsed()));
            n_parts += 1;
            rows += page.matches("<tr><td>").count();
            match next_part(&page) {
                Some(next) => url = next,
                None if page.contains("class=\"ends\"") => break,
                None => anyhow::bail!("a part neither links the next nor ends: {page}"),
            }
        }
        wholes.push(ms(whole.elapsed()));
        (parts, printed) = (n_parts, rows);
        let t = Instant::now();
        let csv = get(&client, &format!("{base}{list}&format=csv"), &admin).await?;
        csvs.push(ms(t.elapsed()));
        csv_rows = csv.lines().count().saturating_sub(1);
        csv_bytes = csv.len();
    }
    anyhow::ensure!(
        printed == csv_rows,
        "the printed list has {printed} persons, the CSV {csv_rows}"
    );
    println!("| what | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|");
    for (name, v) in [
        ("healthz (baseline)".to_string(), &healthz),
        (
            format!("printable list, whole ({parts} parts, {printed} persons)"),
            &wholes,
        ),
        ("printable list, one part of 500".to_string(), &parts_ms),
        (
            format!("CSV, whole ({csv_rows} persons, {} KB)", csv_bytes / 1024),
            &csvs,
        ),
    ] {
        println!(
            "| {name} | {:.1} | {:.1} | {:.1} |",
            percentile(v, 50.0),
            percentile(v, 95.0),
            percentile(v, 100.0)
        );
    }
    server.abort();
    scratch.cleanup().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_next_part_is_read_from_its_link() {
        let page = "<p class=\"continues\"><a href=\"/api/v1/x?format=html&amp;after=a&amp;first=501\">Next</a></p>";
        assert_eq!(
            super::next_part(page).as_deref(),
            Some("/api/v1/x?format=html&after=a&first=501")
        );
        assert_eq!(super::next_part("<p class=\"ends\">End</p>"), None);
    }
}
