//! `vaxgrid demo`: a seeded demo province on the embedded database.
//!
//! Seeds Quảng Ninh's area tree, the standard products, lots, a vaccination
//! site per commune plus a hospital and a temporary site per district, about
//! 100,000 synthetic residents and a 2021 dose history, then serves it.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::{Context, Result};
use time::{Duration, Month};
use vaxgrid_core::area::AreaLevel;
use vaxgrid_core::dose::LotStatus;
use vaxgrid_store::model::{Lot, NewArea, NewPerson, Site, SiteKind};
use vaxgrid_store::Store;

pub struct Seeded {
    pub villages: Vec<String>,
    pub sites: Vec<String>,
    /// A current (unexpired, released) lot per product code.
    pub current_lots: HashMap<String, String>,
}

/// Areas, products, lots and sites.
pub async fn seed_reference(store: &Store) -> Result<Seeded> {
    let areas: Vec<NewArea> = vaxgrid_synthetic::quang_ninh_areas()
        .iter()
        .map(|a| NewArea {
            code: a.code.clone(),
            parent_code: a.parent.clone(),
            level: level_of(&a.level),
            name: a.name.clone(),
            name_en: a.name_en.clone(),
        })
        .collect();
    store
        .create_areas(areas.clone(), "demo")
        .await
        .context("seeding areas")?;
    store.seed_standard_products().await?;
    let current_lots = seed_lots(store).await?;
    let mut sites = Vec::new();
    for site in areas.iter().flat_map(demo_sites) {
        store.create_site(&site, "demo").await?;
        sites.push(site.code);
    }
    let villages = areas
        .iter()
        .filter(|a| a.level.as_str() == "village")
        .map(|a| a.code.clone())
        .collect();
    Ok(Seeded {
        villages,
        sites,
        current_lots,
    })
}

/// Three lots of every product; the current lot of each product.
async fn seed_lots(store: &Store) -> Result<HashMap<String, String>> {
    let today = vaxgrid_store::today();
    let mut current_lots = HashMap::new();
    for (i, p) in store.products().await?.iter().enumerate() {
        for (n, lot) in demo_lots(&p.code, i, today).into_iter().enumerate() {
            store.create_lot(&lot, "demo").await?;
            if n == 1 {
                current_lots.insert(p.code.clone(), lot.lot_number);
            }
        }
    }
    Ok(current_lots)
}

/// The lots of the `i`-th product: a 2021 lot for the history, a current
/// one for new doses (second), and a recalled one.
fn demo_lots(product_code: &str, i: usize, today: time::Date) -> [Lot; 3] {
    let lot = |lot_number: String, expiry: String, status| Lot {
        product_code: product_code.to_string(),
        lot_number,
        expiry,
        status,
        doses: 50_000,
    };
    [
        lot(
            format!("{product_code}-2021-{:03}", 100 + i),
            "2022-06-30".to_string(),
            LotStatus::Released,
        ),
        lot(
            format!("{product_code}-{}-{:03}", today.year(), 200 + i),
            vaxgrid_store::format_date(today + Duration::days(365)),
            LotStatus::Released,
        ),
        lot(
            format!("{product_code}-R-{:03}", 300 + i),
            "2027-12-31".to_string(),
            LotStatus::Recalled,
        ),
    ]
}

/// The vaccination sites of an area: a commune's health station; a
/// district's hospital, then its temporary mass site; none elsewhere.
fn demo_sites(a: &NewArea) -> Vec<Site> {
    let (kind, name, stations, capacity) = match a.level.as_str() {
        "commune" => (
            SiteKind::CommuneHealthStation,
            format!("Trạm Y tế {}", a.name),
            2,
            240,
        ),
        "district" => (
            SiteKind::Hospital,
            format!("Trung tâm Y tế {}", a.name),
            6,
            900,
        ),
        _ => return Vec::new(),
    };
    let mut sites = vec![Site {
        code: format!("S{}", a.code),
        name,
        kind,
        area_code: a.code.clone(),
        stations,
        daily_capacity: capacity,
    }];
    if a.level.as_str() == "district" {
        sites.push(Site {
            code: format!("T{}", a.code),
            name: format!("Điểm tiêm tập trung {}", a.name),
            kind: SiteKind::TemporarySite,
            area_code: a.code.clone(),
            stations: 20,
            daily_capacity: 3000,
        });
    }
    sites
}

/// Vaccine stores along the demo's tree, so that stock is tracked at every
/// site: a store for the province, one per district, and one per site (its
/// own stock, under its district's store). Each site's store receives
/// `per_site` doses of every current lot and each district's store ten
/// times as many (receipts, in one transaction).
pub async fn seed_stores(store: &Store, seeded: &Seeded, per_site: u64) -> Result<()> {
    let actor = vaxgrid_store::model::Actor::system("demo");
    let areas = vaxgrid_synthetic::quang_ninh_areas();
    let mut stores = area_stores(&areas, per_site);
    stores.extend(site_stores(store, seeded, &areas, per_site).await?);
    for (new, _) in &stores {
        store.create_store(new, &actor).await?;
    }
    let receipts = receipts(&stores, &seeded.current_lots);
    store.record_movements(&receipts, &actor).await?;
    Ok(())
}

/// The stores of the tree's upper levels, each with the doses it receives
/// of every lot: the province's (none), then each district's (ten times a
/// site's), under the province's.
fn area_stores(
    areas: &[vaxgrid_synthetic::AreaSeed],
    per_site: u64,
) -> Vec<(vaxgrid_store::supply::NewStore, u64)> {
    use vaxgrid_store::supply::NewStore;
    let mut stores = Vec::new();
    let mut province_store = None;
    for a in areas {
        let level = level_of(&a.level);
        if level.as_str() == "province" {
            let code = format!("K{}", a.code);
            stores.push((
                NewStore {
                    code: code.clone(),
                    name: format!("Kho vắc xin {}", a.name),
                    area_code: a.code.clone(),
                    parent_code: None,
                    site_code: None,
                },
                0,
            ));
            province_store = Some(code);
        }
    }
    for a in areas {
        if level_of(&a.level).as_str() == "district" {
            stores.push((
                NewStore {
                    code: format!("K{}", a.code),
                    name: format!("Kho vắc xin {}", a.name),
                    area_code: a.code.clone(),
                    parent_code: province_store.clone(),
                    site_code: None,
                },
                per_site * 10,
            ));
        }
    }
    stores
}

/// A store per site (its own stock, under its district's store), each
/// receiving `per_site` doses of every lot.
async fn site_stores(
    store: &Store,
    seeded: &Seeded,
    areas: &[vaxgrid_synthetic::AreaSeed],
    per_site: u64,
) -> Result<Vec<(vaxgrid_store::supply::NewStore, u64)>> {
    let parent_of: HashMap<&str, Option<&str>> = areas
        .iter()
        .map(|a| (a.code.as_str(), a.parent.as_deref()))
        .collect();
    let mut stores = Vec::new();
    for site in &seeded.sites {
        let s = store.site(site).await?;
        let level = areas
            .iter()
            .find(|a| a.code == s.area_code)
            .map(|a| level_of(&a.level));
        let district = match level {
            Some(l) if l.as_str() == "district" => Some(s.area_code.as_str()),
            _ => parent_of.get(s.area_code.as_str()).copied().flatten(),
        };
        stores.push((
            vaxgrid_store::supply::NewStore {
                code: format!("K{site}"),
                name: format!("Tủ lạnh {}", s.name),
                area_code: s.area_code.clone(),
                parent_code: district.map(|d| format!("K{d}")),
                site_code: Some(site.clone()),
            },
            per_site,
        ));
    }
    Ok(stores)
}

/// The receipts of the stores that receive doses: one per store and
/// current lot (lots in product order), bought.
fn receipts(
    stores: &[(vaxgrid_store::supply::NewStore, u64)],
    current_lots: &HashMap<String, String>,
) -> Vec<vaxgrid_store::supply::NewMovement> {
    use vaxgrid_core::supply::ledger::{Movement, MovementKind, ReceiptSource};
    let mut lots: Vec<(&String, &String)> = current_lots.iter().collect();
    lots.sort();
    let mut receipts = Vec::new();
    for (new, quantity) in stores.iter().filter(|(_, q)| *q != 0) {
        for (product, lot) in &lots {
            receipts.push(vaxgrid_store::supply::NewMovement {
                store_code: new.code.clone(),
                product_code: (*product).clone(),
                lot_number: (*lot).clone(),
                movement: Movement {
                    id: uuid::Uuid::now_v7(),
                    kind: MovementKind::Receipt {
                        source: ReceiptSource::Purchase,
                        document: format!("PN-{}-{lot}", new.code),
                    },
                    quantity: *quantity,
                },
            });
        }
    }
    receipts
}

fn level_of(level: &vaxgrid_synthetic::AreaLevelSeed) -> AreaLevel {
    use vaxgrid_synthetic::AreaLevelSeed as L;
    match level {
        L::Province => AreaLevel::from("province"),
        L::District => AreaLevel::from("district"),
        L::Commune => AreaLevel::from("commune"),
        L::Village => AreaLevel::from("village"),
    }
}

/// Synthetic residents spread over villages, each with an ID number none of
/// the others has (however many are drawn).
pub struct Residents {
    generator: vaxgrid_synthetic::PersonGenerator,
    pick: fastrand::Rng,
}

impl Residents {
    pub fn new(seed: u64) -> Residents {
        Residents {
            generator: vaxgrid_synthetic::PersonGenerator::new(seed),
            pick: fastrand::Rng::with_seed(seed ^ 0x5eed),
        }
    }

    /// The next `count` residents, living in `villages`.
    pub fn take(&mut self, count: usize, villages: &[String]) -> Vec<NewPerson> {
        (0..count)
            .map(|_| {
                let p = self.generator.next("022");
                NewPerson {
                    id: uuid::Uuid::now_v7().to_string(),
                    id_type: p.id_type,
                    id_number: p.id_number,
                    full_name: p.full_name,
                    birth_date: p.birth_date,
                    sex: p.sex,
                    phone: Some(p.phone),
                    home_area: villages[self.pick.usize(..villages.len())].clone(),
                    occupation: Some(p.occupation),
                    priority_groups: p.priority_groups,
                }
            })
            .collect()
    }
}

/// `count` synthetic residents spread over `villages`.
pub fn residents(count: usize, villages: &[String], seed: u64) -> Vec<NewPerson> {
    Residents::new(seed).take(count, villages)
}

/// Residents per chunk of the seed: generated, checked, imported, given
/// their history and counted before the next, so memory stays bounded
/// whatever the count (a 10-million province seeds in the same memory as a
/// small one).
const SEED_CHUNK: usize = 200_000;

/// Registers residents and gives adults a 2021 dose history: about 85% a
/// first dose, most of them a second at the recommended interval.
pub async fn seed_people(store: &Store, seeded: &Seeded, count: usize) -> Result<()> {
    let started = Instant::now();
    let products: HashMap<String, vaxgrid_core::product::Product> = store
        .products()
        .await?
        .into_iter()
        .map(|p| (p.code.clone(), p))
        .collect();
    let mut residents = Residents::new(2021);
    let mut history = History::new(&products, seeded);
    let mut counters = vaxgrid_store::reports::Counters::default();
    let mut dose_count = 0;
    let bar = crate::files::bar(count as u64, "residents");
    let mut done = 0;
    while done < count {
        let chunk = SEED_CHUNK.min(count - done);
        let people = residents.take(chunk, &seeded.villages);
        let (placed, errors) = store.check_people(people).await?;
        anyhow::ensure!(
            errors.is_empty(),
            "synthetic residents failed checks: {:?}",
            &errors[..errors.len().min(3)]
        );
        // The bulk import path: one transaction a chunk, the secondary
        // indexes of an empty table built by sorting at the end instead of
        // random inserts.
        let mut import = store.begin_person_import(placed.len()).await?;
        for (k, rows) in placed.chunks(5000).enumerate() {
            let rows: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, p)| (done + k * 5000 + i + 2, p.clone()))
                .collect();
            let refused = import.add(rows, true).await?;
            anyhow::ensure!(
                refused.is_empty(),
                "synthetic residents refused: {:?}",
                &refused[..refused.len().min(3)]
            );
        }
        import.commit("demo").await?;
        let doses = history.of(&placed);
        let doses = store.insert_doses_raw(doses, usize::MAX).await?;
        audit_seeded(store, &doses).await?;
        // No server runs yet to checkpoint the write-ahead log (automatic
        // checkpoints are off): without this it would hold the whole seed.
        store.checkpoint().await?;
        // Counted from the rows in hand rather than read back: the same
        // tally as `vaxgrid check`'s recount, chunk by chunk (a person's
        // doses are in their own chunk).
        let people = placed
            .into_iter()
            .map(|p| vaxgrid_store::reports::CountedPerson {
                id: p.new.id,
                merged_into: None,
                province_code: p.province_code,
                home_area: p.new.home_area,
                area_path: p.area_path,
                groups: p.new.priority_groups,
            })
            .collect();
        dose_count += doses.len();
        counters.absorb(store.tally(people, doses).await?);
        done += chunk;
        bar.set_position(done as u64);
    }
    bar.finish_and_clear();
    store.replace_counters(&counters).await?;
    store.analyze().await?;
    println!(
        "seeded {count} residents and {dose_count} doses in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The raw insert writes no audit entry: name the seeded doses the way the
/// dose writer names a batch's, so `audit verify` finds every dose
/// accounted for.
async fn audit_seeded(store: &Store, doses: &[vaxgrid_store::model::DoseRecord]) -> Result<()> {
    for chunk in doses.chunks(50_000) {
        let listed: Vec<_> = chunk
            .iter()
            .map(|d| serde_json::json!({ "id": d.id }))
            .collect();
        store
            .audit(vaxgrid_store::audit::AuditEntry::new(
                "demo",
                "seed",
                "dose",
                "*",
                serde_json::json!({ "doses": listed }),
            ))
            .await?;
    }
    Ok(())
}

/// The 2021 dose history of seeded residents, drawn from one sequence
/// whatever the chunks.
struct History<'a> {
    products: &'a HashMap<String, vaxgrid_core::product::Product>,
    seeded: &'a Seeded,
    rng: fastrand::Rng,
    campaign_start: time::Date,
}

impl<'a> History<'a> {
    fn new(
        products: &'a HashMap<String, vaxgrid_core::product::Product>,
        seeded: &'a Seeded,
    ) -> History<'a> {
        History {
            products,
            seeded,
            rng: fastrand::Rng::with_seed(7),
            campaign_start: time::Date::from_calendar_date(2021, Month::July, 1)
                .expect("valid date"),
        }
    }

    fn of(
        &mut self,
        placed: &[vaxgrid_store::persons::PlacedPerson],
    ) -> Vec<vaxgrid_store::model::DoseRecord> {
        let product_codes = ["AZ", "BIBP", "PFIZER", "MODERNA", "SINOVAC"];
        let rng = &mut self.rng;
        let mut doses = Vec::new();
        for p in placed {
            if rng.f32() > 0.85 {
                continue;
            }
            let product = &self.products[product_codes[rng.usize(..product_codes.len())]];
            let lot = format!(
                "{}-2021-{:03}",
                product.code,
                100 + product_codes_index(self.products, &product.code)
            );
            let site = &self.seeded.sites[rng.usize(..self.seeded.sites.len())];
            let d1 = self.campaign_start + Duration::days(rng.i64(0..120));
            // Only adults, and only people old enough for the product that
            // day: the history must pass the same rules an import applies.
            if d1 < vaxgrid_core::dose::birthday(p.new.birth_date, product.min_age_years.max(18)) {
                continue;
            }
            let dose = |n: i64, date| {
                vaxgrid_store::doses::raw_dose(
                    uuid::Uuid::now_v7().to_string(),
                    p.new.id.clone(),
                    p.province_code.clone(),
                    p.new.home_area.clone(),
                    &product.code,
                    &lot,
                    site,
                    n,
                    date,
                )
            };
            doses.push(dose(1, d1));
            if rng.f32() < 0.8 {
                doses.push(dose(
                    2,
                    d1 + Duration::days(
                        i64::from(product.recommended_interval_days) + rng.i64(0..14),
                    ),
                ));
            }
        }
        doses
    }
}

fn product_codes_index(
    products: &HashMap<String, vaxgrid_core::product::Product>,
    code: &str,
) -> usize {
    let mut codes: Vec<&String> = products.keys().collect();
    codes.sort();
    codes.iter().position(|c| c.as_str() == code).unwrap_or(0)
}

pub async fn demo(
    file: &str,
    listen: &str,
    residents: usize,
    seed_only: bool,
    mllp: Option<&str>,
) -> Result<()> {
    let url = format!("sqlite://{file}");
    let fresh = !std::path::Path::new(file).exists();
    let store = Store::open(&url)
        .await
        .with_context(|| format!("opening {file}"))?;
    if fresh || store.count_persons().await? == 0 {
        let started = Instant::now();
        println!("seeding a demo province into {file} …");
        let seeded = seed_reference(&store).await?;
        seed_stores(&store, &seeded, 2_000).await?;
        seed_people(&store, &seeded, residents).await?;
        crate::accounts::ensure_first_admin(&store).await?;
        // Hạ Long district and Quảng Ninh province of the demo tree.
        crate::accounts::seed_demo_users(&store, &seeded.sites[0], "193", "22").await?;
        println!("demo ready in {:.1} s", started.elapsed().as_secs_f64());
    } else {
        println!("using the existing {file}");
    }
    if seed_only {
        return Ok(());
    }
    // Demo signing keys beside the database, so certificates work out of the box.
    let keys = std::path::PathBuf::from(format!("{file}-keys"));
    vaxgrid_server::dcc_keys::init_key_dir(&keys, "VN")?;
    let dcc = crate::DccArgs {
        dcc_keys: Some(keys),
        country: "VN".into(),
        issuer: "Ministry of Health of Viet Nam".into(),
    };
    // The demo's residents are invented: their reminders are only logged.
    let reminders = std::sync::Arc::new(vaxgrid_server::reminders::LoggingSender);
    crate::serve::serve_store(
        store,
        crate::serve::Serving {
            listen,
            dcc: &dcc,
            mllp,
            trusted_proxies: &[],
            reminders,
            writer: vaxgrid_store::writer::WriterConfig::default(),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(code: &str, level: &str) -> NewArea {
        NewArea {
            code: code.into(),
            parent_code: None,
            level: AreaLevel::from(level),
            name: format!("Area {code}"),
            name_en: format!("Area {code}"),
        }
    }

    #[test]
    fn a_district_has_a_hospital_and_a_mass_site_a_commune_its_station() {
        let district: Vec<(String, SiteKind)> = demo_sites(&area("193", "district"))
            .into_iter()
            .map(|s| (s.code, s.kind))
            .collect();
        assert_eq!(
            district,
            [
                ("S193".to_string(), SiteKind::Hospital),
                ("T193".to_string(), SiteKind::TemporarySite)
            ]
        );
        let commune = demo_sites(&area("6601", "commune"));
        assert_eq!(commune.len(), 1);
        assert_eq!(commune[0].kind, SiteKind::CommuneHealthStation);
        assert!(demo_sites(&area("660101", "village")).is_empty());
    }

    #[test]
    fn the_second_lot_of_a_product_is_current() {
        let today = time::macros::date!(2030 - 03 - 01);
        let lots = demo_lots("AZ", 2, today);
        let numbers: Vec<&str> = lots.iter().map(|l| l.lot_number.as_str()).collect();
        assert_eq!(numbers, ["AZ-2021-102", "AZ-2030-202", "AZ-R-302"]);
        assert_eq!(lots[1].expiry, "2031-03-01");
        assert_eq!(lots[2].status, LotStatus::Recalled);
    }
}
