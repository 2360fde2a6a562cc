//! An outbreak in the demo province for `vaxgrid bench pages`: 5,000 of
//! its residents in households of 2 to 6 with one or two contacts outside
//! the household each, 1 % of them confirmed, up to 2,000 F2 and F3
//! contacts in home isolation (checked on most past days), and a
//! laboratory with 1,000 samples: 60 pools of 10 waiting, 400 samples not
//! yet pooled.

use anyhow::{Context, Result};
use time::Duration;
use uuid::Uuid;
use vaxgrid_core::outbreak::graph::{Class, Contact};
use vaxgrid_core::outbreak::isolation::Policy;
use vaxgrid_store::model::Actor;
use vaxgrid_store::outbreak::Laboratory;
use vaxgrid_store::scope::Scope;
use vaxgrid_store::Store;

/// What the outbreak's pages are asked about.
pub struct OutbreakSeed {
    pub persons: usize,
    pub links: usize,
    pub home: usize,
    /// The confirmed case with the most persons within three links.
    pub case: String,
    pub lab: String,
}

pub async fn seed(store: &Store, persons: usize, home: usize) -> Result<OutbreakSeed> {
    let ids: Vec<Uuid> = store
        .person_ids(None, persons)
        .await?
        .iter()
        .map(|id| Uuid::parse_str(id))
        .collect::<Result<_, _>>()?;
    let n = ids.len();
    anyhow::ensure!(n > 100, "too few residents for an outbreak");
    let today = vaxgrid_store::today();
    let exposure = today - Duration::days(6);
    let mut rng = fastrand::Rng::with_seed(19);
    let contacts: Vec<Contact> = super::outbreak::stored_links(&mut rng, n)
        .iter()
        .map(|&(a, b, setting)| Contact {
            source: ids[a],
            contact: ids[b],
            exposure,
            setting,
        })
        .collect();
    let cases: Vec<(Uuid, time::Date)> = (0..n / 100)
        .map(|_| (ids[rng.usize(0..n)], today - Duration::days(3)))
        .collect();
    let actor = Actor::system("bench-pages");
    store.load_outbreak(&contacts, &cases, &actor).await?;
    let rows = home_isolations(store, home, today, &mut rng).await?;
    let home = store
        .load_isolations(&rows, &Policy::default(), &actor)
        .await?;
    // The case drawn: the first case's page (every case's neighbourhood
    // is alike in this graph).
    let case = store
        .classed_persons(&Scope::All, Some(Class::F0), 1)
        .await?
        .pop()
        .context("no case in the outbreak")?
        .person_id;
    let lab = seed_laboratory(store, &ids, today, &actor).await?;
    store.analyze().await?;
    Ok(OutbreakSeed {
        persons: n,
        links: contacts.len(),
        home,
        case,
        lab,
    })
}

/// Up to `home` F2, then F3, contacts in home isolation, started over the
/// last week, with checks on most past days: (person, start, days checked).
async fn home_isolations(
    store: &Store,
    home: usize,
    today: time::Date,
    rng: &mut fastrand::Rng,
) -> Result<Vec<(String, time::Date, Vec<time::Date>)>> {
    let mut rows = Vec::new();
    for class in [Class::F2, Class::F3] {
        for p in store
            .classed_persons(&Scope::All, Some(class), home as i64)
            .await?
        {
            if rows.len() == home {
                break;
            }
            let start = today - Duration::days(rng.i64(0..7));
            let checked: Vec<time::Date> = (0..7)
                .map(|d| start + Duration::days(d))
                .filter(|d| *d < today && rng.u8(0..20) != 0)
                .collect();
            rows.push((p.person_id, start, checked));
        }
    }
    Ok(rows)
}

/// The province's laboratory with a sample from each of the first 1,000
/// persons, the first 600 in 60 pools of 10 waiting; its code.
async fn seed_laboratory(
    store: &Store,
    ids: &[Uuid],
    today: time::Date,
    actor: &Actor,
) -> Result<String> {
    let lab = "CDC22";
    store
        .create_laboratory(
            &Laboratory {
                code: lab.into(),
                name: "CDC Quảng Ninh".into(),
                area_code: "22".into(),
                single_per_day: 1500,
                confirmatory_per_day: 550,
                max_pool: 10,
            },
            actor,
        )
        .await?;
    let samples: Vec<(String, String)> = ids
        .iter()
        .take(1000)
        .map(|p| (Uuid::now_v7().to_string(), p.to_string()))
        .collect();
    store.collect_samples(lab, &samples, today, actor).await?;
    for pool in samples.chunks(10).take(60) {
        let members: Vec<String> = pool.iter().map(|s| s.0.clone()).collect();
        store.make_test(lab, &members, today, actor).await?;
    }
    Ok(lab.to_string())
}
