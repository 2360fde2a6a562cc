//! Cases and contacts as a graph. A person's class is the number of contact
//! links between them and the nearest confirmed case: F0 is a confirmed
//! case, F1 a contact of one, F2 a contact of an F1, F3 of an F2; anyone
//! farther (or linked to no case) has no class. Classes are derived, never
//! entered: confirming a contact, linking a new contact or reversing a
//! case's test re-classifies everyone it reaches, and every operation
//! answers the people whose class changed (what a store writes back).
//!
//! Close contact is mutual: a link recorded from source to contact counts
//! both ways, so when a traced contact is confirmed the person they were
//! traced from is their F1 too.
//!
//! Updates are incremental and bounded by the deepest class (3 links):
//! a confirmation or a new link lowers distances by a breadth-first pass
//! that starts where they changed; a reversal recomputes only the people
//! within 3 links of the reversed case, seeded from the classes just
//! outside that ring. `classify_all` is the from-scratch reference.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use serde::{Deserialize, Serialize};
use time::Date;
use uuid::Uuid;

/// The deepest class followed (F3).
pub const DEEPEST: u8 = 3;
const UNREACHED: u8 = u8::MAX;

/// A person's place in the outbreak: a confirmed case or a contact at some
/// distance from one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Class {
    F0,
    F1,
    F2,
    F3,
}

impl Class {
    pub const ALL: [Class; 4] = [Class::F0, Class::F1, Class::F2, Class::F3];

    /// The class of a person that many links from the nearest case.
    pub fn from_distance(links: u8) -> Option<Class> {
        match links {
            0 => Some(Class::F0),
            1 => Some(Class::F1),
            2 => Some(Class::F2),
            3 => Some(Class::F3),
            _ => None,
        }
    }

    pub fn distance(self) -> u8 {
        self as u8
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Class::F0 => "F0",
            Class::F1 => "F1",
            Class::F2 => "F2",
            Class::F3 => "F3",
        }
    }
}

/// Where the exposure happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Setting {
    Household,
    Work,
    School,
    Transport,
    Healthcare,
    Other,
}

impl Setting {
    pub fn as_str(self) -> &'static str {
        match self {
            Setting::Household => "household",
            Setting::Work => "work",
            Setting::School => "school",
            Setting::Transport => "transport",
            Setting::Healthcare => "healthcare",
            Setting::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Setting> {
        Some(match s {
            "household" => Setting::Household,
            "work" => Setting::Work,
            "school" => Setting::School,
            "transport" => Setting::Transport,
            "healthcare" => Setting::Healthcare,
            "other" => Setting::Other,
            _ => return None,
        })
    }
}

/// One exposure: `contact` met `source` on `exposure` in `setting`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub source: Uuid,
    pub contact: Uuid,
    pub exposure: Date,
    pub setting: Setting,
}

/// What the rules need to know of a person to accept a link to them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PersonFacts {
    pub birth_date: Option<Date>,
    /// When the person recovered, if they were a case and have recovered.
    pub recovered_on: Option<Date>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("a person cannot be their own contact")]
    SelfContact,
    #[error("no such person in this outbreak")]
    UnknownPerson { field: &'static str },
    #[error("the exposure ({exposure}) is after the source recovered ({recovered})")]
    ExposureAfterRecovery { exposure: Date, recovered: Date },
    #[error("the exposure ({exposure}) is before the {who} was born ({born})")]
    ExposureBeforeBirth {
        exposure: Date,
        born: Date,
        who: &'static str,
    },
    #[error("the exposure ({exposure}) is after today ({today})")]
    ExposureInFuture { exposure: Date, today: Date },
    #[error("this person is already a confirmed case")]
    AlreadyConfirmed,
    #[error("this person is not a confirmed case")]
    NotACase,
    #[error("the confirmation ({confirmed}) is before the person was born ({born})")]
    ConfirmedBeforeBirth { confirmed: Date, born: Date },
    #[error("recovery ({recovered}) cannot be before confirmation ({confirmed})")]
    RecoveryBeforeConfirmation { recovered: Date, confirmed: Date },
}

impl GraphError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            GraphError::SelfContact => "contact_person_id",
            GraphError::UnknownPerson { field } => field,
            GraphError::ExposureAfterRecovery { .. }
            | GraphError::ExposureBeforeBirth { .. }
            | GraphError::ExposureInFuture { .. } => "exposure_date",
            GraphError::AlreadyConfirmed | GraphError::NotACase => "person_id",
            GraphError::ConfirmedBeforeBirth { .. } => "confirmed_on",
            GraphError::RecoveryBeforeConfirmation { .. } => "recovered_on",
        }
    }
}

/// The rules a new contact link must satisfy, apart from any graph, so a
/// store can check a link against the two persons it has read.
pub fn check_contact(
    c: &Contact,
    source: &PersonFacts,
    contact: &PersonFacts,
    today: Date,
) -> Result<(), GraphError> {
    if c.source == c.contact {
        return Err(GraphError::SelfContact);
    }
    if c.exposure > today {
        return Err(GraphError::ExposureInFuture {
            exposure: c.exposure,
            today,
        });
    }
    for (facts, who) in [(source, "source"), (contact, "contact")] {
        if let Some(born) = facts.birth_date {
            if c.exposure < born {
                return Err(GraphError::ExposureBeforeBirth {
                    exposure: c.exposure,
                    born,
                    who,
                });
            }
        }
    }
    if let Some(recovered) = source.recovered_on {
        if c.exposure > recovered {
            return Err(GraphError::ExposureAfterRecovery {
                exposure: c.exposure,
                recovered,
            });
        }
    }
    Ok(())
}

/// A confirmed case's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseState {
    pub confirmed_on: Date,
    pub recovered_on: Option<Date>,
}

/// A person whose class an operation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub person: Uuid,
    pub before: Option<Class>,
    pub after: Option<Class>,
}

/// The outbreak's persons, cases and contact links, with every person's
/// class kept up to date.
#[derive(Debug, Clone, Default)]
pub struct ContactGraph {
    index: HashMap<Uuid, u32>,
    ids: Vec<Uuid>,
    born: Vec<Option<Date>>,
    case: Vec<Option<CaseState>>,
    /// (neighbour, index into `contacts`) for every link, both ways.
    adj: Vec<Vec<(u32, u32)>>,
    dist: Vec<u8>,
    contacts: Vec<Contact>,
}

/// Old distances of the persons an operation touched.
type Touched = HashMap<u32, u8>;

impl ContactGraph {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    /// Adds a person (a no-op when already there).
    pub fn add_person(&mut self, id: Uuid, birth_date: Option<Date>) {
        if self.index.contains_key(&id) {
            return;
        }
        let n = self.ids.len() as u32;
        self.index.insert(id, n);
        self.ids.push(id);
        self.born.push(birth_date);
        self.case.push(None);
        self.adj.push(Vec::new());
        self.dist.push(UNREACHED);
    }

    fn node(&self, id: Uuid, field: &'static str) -> Result<u32, GraphError> {
        self.index
            .get(&id)
            .copied()
            .ok_or(GraphError::UnknownPerson { field })
    }

    fn facts(&self, v: u32) -> PersonFacts {
        PersonFacts {
            birth_date: self.born[v as usize],
            recovered_on: self.case[v as usize].and_then(|c| c.recovered_on),
        }
    }

    pub fn class(&self, id: Uuid) -> Option<Class> {
        self.index
            .get(&id)
            .and_then(|&v| Class::from_distance(self.dist[v as usize]))
    }

    pub fn case_state(&self, id: Uuid) -> Option<CaseState> {
        self.index.get(&id).and_then(|&v| self.case[v as usize])
    }

    /// Every person with a class.
    pub fn classes(&self) -> impl Iterator<Item = (Uuid, Class)> + '_ {
        self.ids
            .iter()
            .zip(&self.dist)
            .filter_map(|(id, &d)| Class::from_distance(d).map(|c| (*id, c)))
    }

    /// The links a person takes part in, either side.
    pub fn links_of(&self, id: Uuid) -> impl Iterator<Item = &Contact> + '_ {
        let edges = self
            .index
            .get(&id)
            .map(|&v| self.adj[v as usize].as_slice())
            .unwrap_or(&[]);
        edges.iter().map(|&(_, e)| &self.contacts[e as usize])
    }

    /// The chain from a person to the nearest case (the person first, the
    /// case last); empty when the person has no class.
    pub fn chain_to_case(&self, id: Uuid) -> Vec<Uuid> {
        let Some(&start) = self.index.get(&id) else {
            return Vec::new();
        };
        if self.dist[start as usize] > DEEPEST {
            return Vec::new();
        }
        let mut chain = vec![self.ids[start as usize]];
        let mut v = start;
        while self.dist[v as usize] > 0 {
            let want = self.dist[v as usize] - 1;
            let Some(&(w, _)) = self.adj[v as usize]
                .iter()
                .find(|&&(w, _)| self.dist[w as usize] == want)
            else {
                break;
            };
            chain.push(self.ids[w as usize]);
            v = w;
        }
        chain
    }

    /// Links `contact` to `source`; both must be in the graph.
    pub fn add_contact(&mut self, c: Contact, today: Date) -> Result<Vec<Change>, GraphError> {
        let s = self.node(c.source, "source_person_id")?;
        let t = self.node(c.contact, "contact_person_id")?;
        check_contact(&c, &self.facts(s), &self.facts(t), today)?;
        let e = self.contacts.len() as u32;
        self.contacts.push(c);
        self.adj[s as usize].push((t, e));
        self.adj[t as usize].push((s, e));
        let mut touched = Touched::new();
        let mut seeds = Vec::new();
        for (a, b) in [(s, t), (t, s)] {
            let d = self.dist[a as usize];
            if d < DEEPEST {
                seeds.push((b, d + 1));
            }
        }
        self.lower(&seeds, &mut touched);
        Ok(self.changes(touched))
    }

    /// Records a confirmed case: the person becomes F0 and everyone within
    /// three links is re-classified.
    pub fn confirm(&mut self, id: Uuid, confirmed_on: Date) -> Result<Vec<Change>, GraphError> {
        let v = self.node(id, "person_id")?;
        if self.case[v as usize].is_some() {
            return Err(GraphError::AlreadyConfirmed);
        }
        if let Some(born) = self.born[v as usize] {
            if confirmed_on < born {
                return Err(GraphError::ConfirmedBeforeBirth {
                    confirmed: confirmed_on,
                    born,
                });
            }
        }
        self.case[v as usize] = Some(CaseState {
            confirmed_on,
            recovered_on: None,
        });
        let mut touched = Touched::new();
        self.lower(&[(v, 0)], &mut touched);
        Ok(self.changes(touched))
    }

    /// Records a case's recovery (no class changes: a recovered case stays
    /// F0, but no exposure to them after this day is accepted).
    pub fn recover(&mut self, id: Uuid, recovered_on: Date) -> Result<(), GraphError> {
        let v = self.node(id, "person_id")?;
        let Some(state) = self.case[v as usize].as_mut() else {
            return Err(GraphError::NotACase);
        };
        if recovered_on < state.confirmed_on {
            return Err(GraphError::RecoveryBeforeConfirmation {
                recovered: recovered_on,
                confirmed: state.confirmed_on,
            });
        }
        state.recovered_on = Some(recovered_on);
        Ok(())
    }

    /// A case whose test is reversed is no case: the person and everyone
    /// within three links are classified again from the remaining cases.
    pub fn reverse(&mut self, id: Uuid) -> Result<Vec<Change>, GraphError> {
        let v = self.node(id, "person_id")?;
        if self.case[v as usize].take().is_none() {
            return Err(GraphError::NotACase);
        }
        // The ring: everyone within DEEPEST links of v. Anyone farther
        // reached v's influence by more than DEEPEST links, so their
        // class did not depend on v.
        let mut ring = vec![v];
        let mut in_ring: HashSet<u32> = HashSet::from([v]);
        let mut frontier = vec![v];
        for _ in 0..DEEPEST {
            let mut next = Vec::new();
            for &x in &frontier {
                for &(w, _) in &self.adj[x as usize] {
                    if in_ring.insert(w) {
                        ring.push(w);
                        next.push(w);
                    }
                }
            }
            frontier = next;
        }
        let mut touched = Touched::new();
        for &x in &ring {
            touched.entry(x).or_insert(self.dist[x as usize]);
            self.dist[x as usize] = UNREACHED;
        }
        let mut seeds = Vec::new();
        for &x in &ring {
            if self.case[x as usize].is_some() {
                seeds.push((x, 0));
                continue;
            }
            let best = self.adj[x as usize]
                .iter()
                .filter(|(w, _)| !in_ring.contains(w))
                .map(|&(w, _)| self.dist[w as usize])
                .min()
                .unwrap_or(UNREACHED);
            if best < DEEPEST {
                seeds.push((x, best + 1));
            }
        }
        self.lower(&seeds, &mut touched);
        Ok(self.changes(touched))
    }

    /// Lowers distances from the seeds (person, candidate distance),
    /// breadth first in distance order, up to DEEPEST.
    fn lower(&mut self, seeds: &[(u32, u8)], touched: &mut Touched) {
        let mut buckets: [Vec<u32>; DEEPEST as usize + 1] = Default::default();
        for &(v, d) in seeds {
            if d < self.dist[v as usize] {
                touched.entry(v).or_insert(self.dist[v as usize]);
                self.dist[v as usize] = d;
                buckets[d as usize].push(v);
            }
        }
        for d in 0..=DEEPEST {
            let bucket = std::mem::take(&mut buckets[d as usize]);
            for v in bucket {
                if self.dist[v as usize] != d || d == DEEPEST {
                    continue;
                }
                for i in 0..self.adj[v as usize].len() {
                    let w = self.adj[v as usize][i].0;
                    if d + 1 < self.dist[w as usize] {
                        touched.entry(w).or_insert(self.dist[w as usize]);
                        self.dist[w as usize] = d + 1;
                        buckets[d as usize + 1].push(w);
                    }
                }
            }
        }
    }

    fn changes(&self, touched: Touched) -> Vec<Change> {
        let mut out: Vec<Change> = touched
            .into_iter()
            .filter_map(|(v, old)| {
                let before = Class::from_distance(old);
                let after = Class::from_distance(self.dist[v as usize]);
                (before != after).then(|| Change {
                    person: self.ids[v as usize],
                    before,
                    after,
                })
            })
            .collect();
        out.sort_by_key(|c| c.person);
        out
    }

    /// Every person's class computed from scratch (breadth first from all
    /// cases), in the order persons were added: the reference the
    /// incremental updates are tested against.
    pub fn classify_all(&self) -> Vec<(Uuid, Option<Class>)> {
        let mut dist = vec![UNREACHED; self.ids.len()];
        let mut frontier: Vec<u32> = (0..self.ids.len() as u32)
            .filter(|&v| self.case[v as usize].is_some())
            .collect();
        for &v in &frontier {
            dist[v as usize] = 0;
        }
        for d in 1..=DEEPEST {
            let mut next = Vec::new();
            for &v in &frontier {
                for &(w, _) in &self.adj[v as usize] {
                    if dist[w as usize] == UNREACHED {
                        dist[w as usize] = d;
                        next.push(w);
                    }
                }
            }
            frontier = next;
        }
        self.ids
            .iter()
            .zip(dist)
            .map(|(id, d)| (*id, Class::from_distance(d)))
            .collect()
    }
}

/// The classes of a region of a graph held elsewhere (a store's tables),
/// recomputed from what is around it. A store re-classifies after a change
/// (a confirmation, a reversal, new links) by reading only the persons
/// within `DEEPEST` links of where it happened (the region: `members`),
/// every link with an end among them (`links`, as pairs either way round),
/// which of the members are confirmed cases (`cases`), and the classes of
/// the persons just outside the region that those links reach (`outside`:
/// absent means no class).
///
/// Why that suffices: a person farther than `DEEPEST` links from the change
/// kept their class, since any chain of at most `DEEPEST` links from them to
/// a case that the change made or broke would pass within `DEEPEST` links
/// of it. Inside the region, a nearest chain either stays inside (to a case
/// among the members) or leaves it at some first outside person, whose
/// class is still right; so a breadth-first pass seeded with the members'
/// cases at 0 and with each outside neighbour's distance plus one gives
/// every member's class. Returns each member's class (`None`: no class).
pub fn classify_region<K: Hash + Eq + Clone>(
    members: &HashSet<K>,
    links: &[(K, K)],
    cases: &HashSet<K>,
    outside: &HashMap<K, Class>,
) -> HashMap<K, Option<Class>> {
    let mut adj: HashMap<&K, Vec<&K>> = HashMap::new();
    let mut dist: HashMap<&K, u8> = members.iter().map(|m| (m, UNREACHED)).collect();
    let mut buckets: [Vec<&K>; DEEPEST as usize + 1] = Default::default();
    fn offer<'a, K: Hash + Eq>(
        dist: &mut HashMap<&'a K, u8>,
        v: &'a K,
        d: u8,
        buckets: &mut [Vec<&'a K>],
    ) {
        if let Some(cur) = dist.get_mut(v) {
            if d < *cur {
                *cur = d;
                buckets[d as usize].push(v);
            }
        }
    }
    for (a, b) in links {
        if a == b {
            continue;
        }
        for (x, y) in [(a, b), (b, a)] {
            if members.contains(x) {
                if members.contains(y) {
                    adj.entry(x).or_default().push(y);
                } else if let Some(c) = outside.get(y) {
                    if c.distance() < DEEPEST {
                        offer(&mut dist, x, c.distance() + 1, &mut buckets);
                    }
                }
            }
        }
    }
    for c in cases {
        offer(&mut dist, c, 0, &mut buckets);
    }
    for d in 0..DEEPEST {
        let bucket = std::mem::take(&mut buckets[d as usize]);
        for v in bucket {
            if dist[v] != d {
                continue;
            }
            for &w in adj.get(v).map(Vec::as_slice).unwrap_or(&[]) {
                offer(&mut dist, w, d + 1, &mut buckets);
            }
        }
    }
    dist.into_iter()
        .map(|(v, d)| (v.clone(), Class::from_distance(d)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    const TODAY: Date = date!(2026 - 12 - 01);

    fn people(n: u128) -> (ContactGraph, Vec<Uuid>) {
        let mut g = ContactGraph::new();
        let ids: Vec<Uuid> = (1..=n).map(Uuid::from_u128).collect();
        for &id in &ids {
            g.add_person(id, Some(date!(1990 - 01 - 01)));
        }
        (g, ids)
    }

    fn link(g: &mut ContactGraph, a: Uuid, b: Uuid) -> Vec<Change> {
        g.add_contact(
            Contact {
                source: a,
                contact: b,
                exposure: date!(2026 - 11 - 20),
                setting: Setting::Household,
            },
            TODAY,
        )
        .unwrap()
    }

    #[test]
    fn a_chain_is_classified_by_distance_and_reclassified_on_confirmation() {
        let (mut g, p) = people(6);
        for w in p.windows(2) {
            link(&mut g, w[0], w[1]);
        }
        assert!(g.classes().next().is_none());
        g.confirm(p[0], date!(2026 - 11 - 25)).unwrap();
        let classes: Vec<_> = p.iter().map(|&id| g.class(id)).collect();
        assert_eq!(
            classes,
            [
                Some(Class::F0),
                Some(Class::F1),
                Some(Class::F2),
                Some(Class::F3),
                None,
                None
            ]
        );
        // Confirming the F1 moves everyone below one class up.
        let changes = g.confirm(p[1], date!(2026 - 11 - 26)).unwrap();
        assert_eq!(changes.len(), 4);
        assert_eq!(g.class(p[4]), Some(Class::F3));
        assert_eq!(g.chain_to_case(p[4]), vec![p[4], p[3], p[2], p[1]]);
        // Reversing that test moves them back.
        let changes = g.reverse(p[1]).unwrap();
        assert_eq!(changes.len(), 4);
        assert_eq!(g.class(p[1]), Some(Class::F1));
        assert_eq!(g.class(p[4]), None);
        assert_eq!(g.reverse(p[1]).unwrap_err(), GraphError::NotACase);
    }

    #[test]
    fn bad_links_name_their_field() {
        let (mut g, p) = people(2);
        let mk = |a, b, exposure| Contact {
            source: a,
            contact: b,
            exposure,
            setting: Setting::Work,
        };
        let err = |g: &mut ContactGraph, c| g.add_contact(c, TODAY).unwrap_err();
        assert_eq!(
            err(&mut g, mk(p[0], p[0], date!(2026 - 11 - 01))).field(),
            "contact_person_id"
        );
        assert_eq!(
            err(&mut g, mk(p[0], Uuid::nil(), date!(2026 - 11 - 01))).field(),
            "contact_person_id"
        );
        assert_eq!(
            err(&mut g, mk(Uuid::nil(), p[0], date!(2026 - 11 - 01))).field(),
            "source_person_id"
        );
        assert!(matches!(
            err(&mut g, mk(p[0], p[1], date!(1980 - 01 - 01))),
            GraphError::ExposureBeforeBirth { .. }
        ));
        assert!(matches!(
            err(&mut g, mk(p[0], p[1], date!(2026 - 12 - 02))),
            GraphError::ExposureInFuture { .. }
        ));
        g.confirm(p[0], date!(2026 - 11 - 01)).unwrap();
        assert_eq!(
            g.recover(p[0], date!(2026 - 10 - 01)).unwrap_err().field(),
            "recovered_on"
        );
        g.recover(p[0], date!(2026 - 11 - 15)).unwrap();
        let e = err(&mut g, mk(p[0], p[1], date!(2026 - 11 - 16)));
        assert!(matches!(e, GraphError::ExposureAfterRecovery { .. }));
        assert_eq!(e.field(), "exposure_date");
        // The day of recovery itself is still an exposure.
        g.add_contact(mk(p[0], p[1], date!(2026 - 11 - 15)), TODAY)
            .unwrap();
        assert_eq!(
            g.confirm(p[0], date!(2026 - 11 - 20)).unwrap_err().field(),
            "person_id"
        );
        // Nothing was written by the refused links.
        assert_eq!(g.contacts().len(), 1);
    }

    #[test]
    fn a_reversed_case_falls_back_to_the_next_nearest_case() {
        // 0 - 1 - 2 - 3 and 3 - 4: cases at 0 and 4.
        let (mut g, p) = people(5);
        for w in p.windows(2) {
            link(&mut g, w[0], w[1]);
        }
        g.confirm(p[0], date!(2026 - 11 - 25)).unwrap();
        g.confirm(p[4], date!(2026 - 11 - 25)).unwrap();
        assert_eq!(g.class(p[2]), Some(Class::F2));
        g.reverse(p[0]).unwrap();
        let classes: Vec<_> = p.iter().map(|&id| g.class(id)).collect();
        assert_eq!(
            classes,
            [
                None,
                Some(Class::F3),
                Some(Class::F2),
                Some(Class::F1),
                Some(Class::F0)
            ]
        );
        assert_eq!(
            classes,
            g.classify_all()
                .into_iter()
                .map(|x| x.1)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_region_recomputed_from_its_surroundings_matches_the_whole() {
        // 0 - 1 - 2 - 3 - 4 - 5 - 6, cases at 0 and 6; reverse 0 and
        // recompute the region within 3 links of it.
        let (mut g, p) = people(7);
        for w in p.windows(2) {
            link(&mut g, w[0], w[1]);
        }
        g.confirm(p[0], date!(2026 - 11 - 25)).unwrap();
        g.confirm(p[6], date!(2026 - 11 - 25)).unwrap();
        let before: HashMap<Uuid, Class> = g.classes().collect();
        g.reverse(p[0]).unwrap();
        let members: HashSet<Uuid> = p[..4].iter().copied().collect();
        let links: Vec<(Uuid, Uuid)> = p.windows(2).map(|w| (w[0], w[1])).take(4).collect();
        let outside: HashMap<Uuid, Class> = [(p[4], before[&p[4]])].into();
        let got = classify_region(&members, &links, &HashSet::new(), &outside);
        for &m in &members {
            assert_eq!(got[&m], g.class(m), "{m}");
        }
        assert_eq!(got[&p[3]], Some(Class::F3));
        assert_eq!(got[&p[1]], None);
    }
}
