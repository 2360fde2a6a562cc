//! Property test: after any sequence of contact links, confirmations and
//! reversals, every person's class equals their distance from the nearest
//! confirmed case, computed from scratch here (breadth first over the
//! links, unbounded, then cut at F3); and each operation reports exactly
//! the persons whose class it changed.

use std::collections::{HashMap, VecDeque};

use proptest::prelude::*;
use time::macros::date;
use uuid::Uuid;
use vaxgrid_core::outbreak::graph::{Class, Contact, ContactGraph, Setting};

#[derive(Debug, Clone)]
enum Op {
    Link(u8, u8),
    Confirm(u8),
    Reverse(u8),
}

fn ops(n: u8) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            5 => (0..n, 0..n).prop_map(|(a, b)| Op::Link(a, b)),
            2 => (0..n).prop_map(Op::Confirm),
            2 => (0..n).prop_map(Op::Reverse),
        ],
        0..120,
    )
}

/// Distances from the cases over the links, independent of the graph's code.
fn reference(n: usize, links: &[(usize, usize)], cases: &[bool]) -> Vec<Option<Class>> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in links {
        adj[a].push(b);
        adj[b].push(a);
    }
    let mut dist = vec![usize::MAX; n];
    let mut queue = VecDeque::new();
    for v in 0..n {
        if cases[v] {
            dist[v] = 0;
            queue.push_back(v);
        }
    }
    while let Some(v) = queue.pop_front() {
        for &w in &adj[v] {
            if dist[w] == usize::MAX {
                dist[w] = dist[v] + 1;
                queue.push_back(w);
            }
        }
    }
    dist.into_iter()
        .map(|d| Class::from_distance(d.min(255) as u8))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn classes_always_equal_graph_distance(n in 2u8..24, seed_ops in ops(24)) {
        let n = usize::from(n);
        let ids: Vec<Uuid> = (1..=n as u128).map(Uuid::from_u128).collect();
        let mut g = ContactGraph::new();
        for &id in &ids {
            g.add_person(id, None);
        }
        let mut links = Vec::new();
        let mut cases = vec![false; n];
        let today = date!(2026 - 12 - 01);
        for op in seed_ops {
            let before = reference(n, &links, &cases);
            let result = match op {
                Op::Link(a, b) => {
                    let (a, b) = (usize::from(a) % n, usize::from(b) % n);
                    let r = g.add_contact(Contact {
                        source: ids[a], contact: ids[b],
                        exposure: date!(2026 - 11 - 20), setting: Setting::Household,
                    }, today);
                    prop_assert_eq!(r.is_ok(), a != b);
                    if r.is_ok() { links.push((a, b)); }
                    r
                }
                Op::Confirm(a) => {
                    let a = usize::from(a) % n;
                    let r = g.confirm(ids[a], date!(2026 - 11 - 25));
                    prop_assert_eq!(r.is_ok(), !cases[a]);
                    cases[a] = true;
                    r
                }
                Op::Reverse(a) => {
                    let a = usize::from(a) % n;
                    let r = g.reverse(ids[a]);
                    prop_assert_eq!(r.is_ok(), cases[a]);
                    cases[a] = false;
                    r
                }
            };
            let after = reference(n, &links, &cases);
            for (i, id) in ids.iter().enumerate() {
                prop_assert_eq!(g.class(*id), after[i], "person {} after {:?}", i, op);
            }
            let scratch: Vec<_> = g.classify_all().into_iter().map(|(_, c)| c).collect();
            prop_assert_eq!(&scratch, &after);
            // The changes reported are exactly the differences.
            let reported: HashMap<Uuid, (Option<Class>, Option<Class>)> = result
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.person, (c.before, c.after)))
                .collect();
            for (i, id) in ids.iter().enumerate() {
                let expected = (before[i] != after[i]).then_some((before[i], after[i]));
                prop_assert_eq!(reported.get(id).copied(), expected, "person {}", i);
            }
        }
    }
}
