//! What the outbreak pages read beyond the API's own reads: a case's
//! contact graph out to three links (what the case page draws), and a
//! laboratory's queue with the persons of each sample. Reads only; the
//! rules and every write stay in `outbreak` and the core.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use time::Date;
use vaxgrid_core::outbreak::graph::{Class, DEEPEST};

use crate::db::in_json;
use crate::error::StoreError;
use crate::model::Actor;
use crate::outbreak::{CaseDetail, Laboratory, QueuedTest};
use crate::scope::Scope;
use crate::Store;

fn id_list(ids: &[String]) -> String {
    serde_json::to_string(ids).expect("strings serialise")
}

/// A person of a case's graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphPerson {
    pub person_id: String,
    pub full_name: String,
    /// Their class (distance from the nearest confirmed case, any case).
    pub class: Option<Class>,
    /// Links from this case (0 for the case itself).
    pub ring: u8,
    /// The person this one was reached from (none for the case).
    pub reached_from: Option<String>,
    pub valid_doses: i64,
    /// confirmed or reversed, when the person has a case record.
    pub case_status: Option<String>,
}

/// A link between two persons shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphLink {
    pub source_person_id: String,
    pub contact_person_id: String,
    pub exposure_on: String,
    pub setting: String,
}

/// A case with everyone within three links of it that the caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseGraph {
    pub detail: CaseDetail,
    /// The case first, then ring by ring.
    pub persons: Vec<GraphPerson>,
    pub links: Vec<GraphLink>,
    /// Persons linked but outside the caller's areas (not shown, not
    /// followed).
    pub hidden: usize,
    /// Whether persons were left out beyond `max_persons`.
    pub truncated: bool,
}

/// A sample of a laboratory's queue, with its person when the caller may
/// see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSample {
    pub sample_id: String,
    pub person_id: String,
    /// None when the person is outside the caller's areas.
    pub full_name: Option<String>,
    pub collected_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueLine {
    pub test: QueuedTest,
    pub samples: Vec<QueueSample>,
}

/// A laboratory's page: pending tests in order with the day each runs and
/// their samples; samples waiting for a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabBoard {
    pub laboratory: Laboratory,
    /// Every pending test (the lines hold the first `limit`).
    pub pending: usize,
    pub tests: Vec<QueueLine>,
    pub waiting_count: i64,
    pub waiting: Vec<QueueSample>,
}

struct LinkRow {
    id: String,
    source: String,
    contact: String,
    exposure_on: String,
    setting: String,
}

/// A walk of the graph out from a case, ring by ring.
struct Walk {
    /// Each person shown: their ring and whom they were reached from.
    ring: HashMap<String, (u8, Option<String>)>,
    /// The persons shown, nearest first.
    order: Vec<String>,
    /// The persons reached last, whose links are read next.
    frontier: Vec<String>,
    /// Every link read, by id.
    links: HashMap<String, LinkRow>,
    /// Persons reached but outside the caller's areas.
    hidden: HashSet<String>,
    /// Whether persons were left out beyond the most shown.
    truncated: bool,
}

impl Walk {
    /// A walk that starts at the case `person_id` (ring 0).
    fn from(person_id: &str) -> Walk {
        Walk {
            ring: HashMap::from([(person_id.to_string(), (0, None))]),
            order: vec![person_id.to_string()],
            frontier: vec![person_id.to_string()],
            links: HashMap::new(),
            hidden: HashSet::new(),
            truncated: false,
        }
    }

    /// The ends of `found` neither shown nor hidden yet, each once, sorted.
    fn unseen_ends(&self, found: &[LinkRow]) -> Vec<String> {
        let mut fresh: Vec<String> = found
            .iter()
            .flat_map(|l| [&l.source, &l.contact])
            .filter(|x| !self.ring.contains_key(*x) && !self.hidden.contains(*x))
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        fresh.sort();
        fresh
    }

    /// Follows the links `found` from the persons shown to ring `level`:
    /// a new person the caller may see (`visible`) is shown, up to
    /// `max_persons`; one they may not is hidden and not followed. The
    /// persons shown make the next frontier.
    fn follow(
        &mut self,
        found: Vec<LinkRow>,
        level: u8,
        visible: impl Fn(&String) -> bool,
        max_persons: usize,
    ) {
        let mut next = Vec::new();
        for l in found {
            for (from, to) in [(&l.source, &l.contact), (&l.contact, &l.source)] {
                if self.ring.contains_key(to)
                    || self.hidden.contains(to)
                    || !self.ring.contains_key(from)
                {
                    continue;
                }
                if !visible(to) {
                    self.hidden.insert(to.clone());
                } else if self.order.len() >= max_persons {
                    self.truncated = true;
                } else {
                    self.ring.insert(to.clone(), (level, Some(from.clone())));
                    self.order.push(to.clone());
                    next.push(to.clone());
                }
            }
            self.links.insert(l.id.clone(), l);
        }
        self.frontier = next;
    }

    /// The links between two persons shown, by exposure day then ends.
    fn shown_links(self) -> Vec<GraphLink> {
        let ring = self.ring;
        let mut shown: Vec<GraphLink> = self
            .links
            .into_values()
            .filter(|l| ring.contains_key(&l.source) && ring.contains_key(&l.contact))
            .map(|l| GraphLink {
                source_person_id: l.source,
                contact_person_id: l.contact,
                exposure_on: l.exposure_on,
                setting: l.setting,
            })
            .collect();
        shown.sort_by(|a, b| {
            (&a.exposure_on, &a.source_person_id, &a.contact_person_id).cmp(&(
                &b.exposure_on,
                &b.source_person_id,
                &b.contact_person_id,
            ))
        });
        shown
    }
}

impl Store {
    /// A case (read through `read_case`: scoped and audited) with the
    /// persons within three links of it and the links between them, for
    /// the case page's drawing. Persons outside the caller's areas are
    /// counted, not shown, and not followed; at most `max_persons` are
    /// shown (nearest first).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn case_graph(
        &self,
        person_id: &str,
        actor: &Actor,
        max_persons: usize,
    ) -> Result<CaseGraph, StoreError> {
        let detail = self.read_case(person_id, actor).await?;
        let mut walk = Walk::from(person_id);
        for level in 1..=DEEPEST {
            if walk.frontier.is_empty() {
                break;
            }
            let found = self.links_of(&walk.frontier).await?;
            let paths = self.paths_of(&walk.unseen_ends(&found)).await?;
            let visible = |id: &String| {
                paths
                    .get(id)
                    .is_some_and(|(path, _)| actor.scope.covers_person(id, path))
            };
            walk.follow(found, level, visible, max_persons);
        }
        let persons = self.graph_persons(&walk).await?;
        Ok(CaseGraph {
            detail,
            persons,
            hidden: walk.hidden.len(),
            truncated: walk.truncated,
            links: walk.shown_links(),
        })
    }

    /// The persons walked, in order, with their names, classes, valid
    /// doses and case status.
    async fn graph_persons(&self, walk: &Walk) -> Result<Vec<GraphPerson>, StoreError> {
        let order = &walk.order;
        let names = self.paths_of(order).await?;
        let classes = self.classes_of_ids(order).await?;
        let doses = self.valid_doses(order).await?;
        let statuses = self.case_statuses(order).await?;
        Ok(order
            .iter()
            .map(|id| {
                let (r, from) = walk.ring.get(id).cloned().unwrap_or((0, None));
                GraphPerson {
                    person_id: id.clone(),
                    full_name: names.get(id).map(|n| n.1.clone()).unwrap_or_default(),
                    class: classes.get(id).copied(),
                    ring: r,
                    reached_from: from,
                    valid_doses: doses.get(id).copied().unwrap_or(0),
                    case_status: statuses.get(id).cloned(),
                }
            })
            .collect())
    }

    /// Links with an end among `ids`.
    async fn links_of(&self, ids: &[String]) -> Result<Vec<LinkRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT id, source_person_id, contact_person_id, exposure_on, setting FROM outbreak_contacts WHERE {} \
             UNION ALL SELECT id, source_person_id, contact_person_id, exposure_on, setting FROM outbreak_contacts WHERE {}",
            in_json(self.backend, "source_person_id", 1),
            in_json(self.backend, "contact_person_id", 1)
        ))
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await?;
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for r in &rows {
            let id: String = r.try_get("id")?;
            if seen.insert(id.clone()) {
                out.push(LinkRow {
                    id,
                    source: r.try_get("source_person_id")?,
                    contact: r.try_get("contact_person_id")?,
                    exposure_on: r.try_get("exposure_on")?,
                    setting: r.try_get("setting")?,
                });
            }
        }
        Ok(out)
    }

    /// (area path, full name) of each person of `ids`.
    async fn paths_of(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, (String, String)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT id, area_path, full_name FROM persons WHERE {}",
            in_json(self.backend, "id", 1)
        ))
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    (r.try_get("area_path")?, r.try_get("full_name")?),
                ))
            })
            .collect()
    }

    async fn classes_of_ids(&self, ids: &[String]) -> Result<HashMap<String, Class>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT person_id, distance FROM outbreak_classes WHERE {}",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            let d: i64 = r.try_get("distance")?;
            if let Some(c) = u8::try_from(d).ok().and_then(Class::from_distance) {
                out.insert(r.try_get("person_id")?, c);
            }
        }
        Ok(out)
    }

    async fn case_statuses(&self, ids: &[String]) -> Result<HashMap<String, String>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT person_id, status FROM outbreak_cases WHERE {}",
            in_json(self.backend, "person_id", 1)
        ))
        .bind(id_list(ids))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("person_id")?, r.try_get("status")?)))
            .collect()
    }

    /// A laboratory's queue for its page: the pending tests in order with
    /// the day each runs (`lab_queue`), the samples of the first `limit`
    /// with their persons, and the first `limit` samples waiting for a
    /// test. A laboratory outside the caller's areas is absent; a person
    /// outside them is shown without a name.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn lab_board(
        &self,
        code: &str,
        today: Date,
        scope: &Scope,
        limit: usize,
    ) -> Result<LabBoard, StoreError> {
        let laboratory = self.laboratory(code, scope).await?;
        let queue = self.lab_queue(code, today, scope).await?;
        let pending = queue.len();
        let shown: Vec<QueuedTest> = queue.into_iter().take(limit).collect();
        let ids: Vec<String> = shown.iter().map(|t| t.test_id.clone()).collect();
        let sample = |r: &sqlx::any::AnyRow| -> Result<QueueSample, StoreError> {
            let person_id: String = r.try_get("person_id")?;
            let path: String = r.try_get("area_path")?;
            let name: String = r.try_get("full_name")?;
            Ok(QueueSample {
                sample_id: r.try_get("id")?,
                full_name: scope.covers_person(&person_id, &path).then_some(name),
                person_id,
                collected_on: r.try_get("collected_on")?,
            })
        };
        let mut members: HashMap<String, Vec<QueueSample>> = HashMap::new();
        if !ids.is_empty() {
            let rows = sqlx::query(&format!(
                "SELECT m.test_id, s.id, s.person_id, s.area_path, s.collected_on, p.full_name \
                 FROM lab_test_samples m JOIN samples s ON s.id = m.sample_id \
                 JOIN persons p ON p.id = s.person_id AND p.province_code = s.province_code \
                 WHERE {} ORDER BY s.id",
                in_json(self.backend, "m.test_id", 1)
            ))
            .bind(id_list(&ids))
            .fetch_all(&self.pool)
            .await?;
            for r in &rows {
                members
                    .entry(r.try_get("test_id")?)
                    .or_default()
                    .push(sample(r)?);
            }
        }
        let tests = shown
            .into_iter()
            .map(|test| QueueLine {
                samples: members.remove(&test.test_id).unwrap_or_default(),
                test,
            })
            .collect();
        let waiting_count: i64 = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM samples WHERE lab_code = $1 AND state = 'collected'",
        )
        .bind(code)
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = sqlx::query(
            "SELECT s.id, s.person_id, s.area_path, s.collected_on, p.full_name FROM samples s \
             JOIN persons p ON p.id = s.person_id AND p.province_code = s.province_code \
             WHERE s.lab_code = $1 AND s.state = 'collected' ORDER BY s.recorded_at, s.id LIMIT $2",
        )
        .bind(code)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        let waiting = rows.iter().map(sample).collect::<Result<_, _>>()?;
        Ok(LabBoard {
            laboratory,
            pending,
            tests,
            waiting_count,
            waiting,
        })
    }
}

impl Store {
    /// The names of the areas of `codes`, by code (one read).
    pub async fn area_names_by_code(
        &self,
        codes: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        if codes.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query(&format!(
            "SELECT code, name FROM areas WHERE {}",
            in_json(self.backend, "code", 1)
        ))
        .bind(id_list(codes))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
            .collect()
    }

    /// A test's result, when it has one.
    pub async fn test_outcome(&self, test_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT outcome FROM lab_tests WHERE id = $1")
            .bind(test_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => r.try_get("outcome")?,
            None => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(id: &str, source: &str, contact: &str, exposure_on: &str) -> LinkRow {
        LinkRow {
            id: id.into(),
            source: source.into(),
            contact: contact.into(),
            exposure_on: exposure_on.into(),
            setting: "household".into(),
        }
    }

    #[test]
    fn a_walk_shows_whom_it_may_hides_the_rest_and_stops_at_the_most_shown() {
        let mut walk = Walk::from("case");
        let found = vec![
            link("l1", "case", "a", "2026-12-02"),
            link("l2", "b", "case", "2026-12-01"),
            link("l3", "case", "hidden", "2026-12-03"),
            link("l4", "case", "c", "2026-12-04"),
        ];
        assert_eq!(walk.unseen_ends(&found), vec!["a", "b", "c", "hidden"]);
        walk.follow(found, 1, |id: &String| id != "hidden", 3);
        assert_eq!(walk.order, vec!["case", "a", "b"]);
        assert_eq!(walk.frontier, vec!["a", "b"]);
        assert_eq!(walk.ring["b"], (1, Some("case".to_string())));
        assert!(walk.hidden.contains("hidden"));
        assert!(walk.truncated, "c is beyond the three shown");
        let shown: Vec<String> = walk
            .shown_links()
            .into_iter()
            .map(|l| format!("{}-{}", l.source_person_id, l.contact_person_id))
            .collect();
        assert_eq!(shown, vec!["b-case", "case-a"], "by exposure day");
    }
}
