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
    let (commune, villages) = seed_commune(&store, persons).await?;
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
        "commune {commune} with {persons} residents ({villages} villages) seeded in {:.1} s on {}",
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
    let survey = Survey {
        client: &client,
        base: &base,
        cookie: &admin,
        list: format!("/api/v1/campaigns/{campaign}/waves/{wave}/survey?area={commune}&status=all"),
    };
    let mut healthz = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        survey.get("/healthz").await?;
        healthz.push(ms(t.elapsed()));
    }
    let mut measured = Measured::default();
    for _ in 0..rounds.max(1) {
        measured.round(&survey).await?;
    }
    anyhow::ensure!(
        measured.printed == measured.csv_rows,
        "the printed list has {} persons, the CSV {}",
        measured.printed,
        measured.csv_rows
    );
    measured.report(&healthz);
    server.abort();
    scratch.cleanup().await;
    Ok(())
}

/// Seeds the reference data, then `persons` residents in the villages of
/// one commune. The commune's code and its number of villages.
async fn seed_commune(store: &Store, persons: usize) -> Result<(String, usize)> {
    let seeded = crate::demo::seed_reference(store).await?;
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
    crate::demo::seed_people(store, &one_commune, persons).await?;
    Ok((commune, one_commune.villages.len()))
}

/// The commune's survey list on the running server, read as the admin.
struct Survey<'a> {
    client: &'a reqwest::Client,
    base: &'a str,
    cookie: &'a str,
    /// The list's path and query, without its format.
    list: String,
}

impl Survey<'_> {
    async fn get(&self, path: &str) -> Result<String> {
        get(self.client, &format!("{}{path}", self.base), self.cookie).await
    }
}

/// The times of every round, and what the last round read.
#[derive(Default)]
struct Measured {
    wholes: Vec<f64>,
    parts_ms: Vec<f64>,
    csvs: Vec<f64>,
    parts: usize,
    printed: usize,
    csv_rows: usize,
    csv_bytes: usize,
}

impl Measured {
    /// One round: the printable list part after part, then the CSV.
    async fn round(&mut self, survey: &Survey<'_>) -> Result<()> {
        let whole = Instant::now();
        let (mut url, mut n_parts, mut rows) = (format!("{}&format=html", survey.list), 0, 0);
        loop {
            let t = Instant::now();
            let page = survey.get(&url).await?;
            self.parts_ms.push(ms(t.elapsed()));
            n_parts += 1;
            rows += page.matches("<tr><td>").count();
            match next_part(&page) {
                Some(next) => url = next,
                None if page.contains("class=\"ends\"") => break,
                None => anyhow::bail!("a part neither links the next nor ends: {page}"),
            }
        }
        self.wholes.push(ms(whole.elapsed()));
        (self.parts, self.printed) = (n_parts, rows);
        let t = Instant::now();
        let csv = survey.get(&format!("{}&format=csv", survey.list)).await?;
        self.csvs.push(ms(t.elapsed()));
        self.csv_rows = csv.lines().count().saturating_sub(1);
        self.csv_bytes = csv.len();
        Ok(())
    }

    /// The table of times, the `/healthz` baseline first.
    fn report(&self, healthz: &[f64]) {
        let (parts, printed, csv_rows) = (self.parts, self.printed, self.csv_rows);
        println!("| what | p50 ms | p95 ms | max ms |");
        println!("|---|---:|---:|---:|");
        for (name, v) in [
            ("healthz (baseline)".to_string(), healthz),
            (
                format!("printable list, whole ({parts} parts, {printed} persons)"),
                &self.wholes,
            ),
            (
                "printable list, one part of 500".to_string(),
                &self.parts_ms,
            ),
            (
                format!(
                    "CSV, whole ({csv_rows} persons, {} KB)",
                    self.csv_bytes / 1024
                ),
                &self.csvs,
            ),
        ] {
            println!(
                "| {name} | {:.1} | {:.1} | {:.1} |",
                percentile(v, 50.0),
                percentile(v, 95.0),
                percentile(v, 100.0)
            );
        }
    }
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
