//! Property test: whatever the sequence of collections, pool and single
//! assignments (valid or not) and results, the pooled test flow never
//! loses a sample; once every test has its result, every sample has one,
//! and a positive result always comes from a single test (a positive
//! pool's members are re-tested).

use proptest::prelude::*;
use vaxgrid_core::outbreak::pooling::{Lab, Outcome, SampleId, SampleState};

#[derive(Debug, Clone)]
enum Op {
    Collect(u8),
    /// Assign up to n waiting samples (sometimes naming a bad one).
    Assign {
        n: u8,
        max_pool: u8,
        bad: bool,
    },
    /// Result the k-th pending test.
    Result {
        k: u8,
        positive: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (1u8..15).prop_map(Op::Collect),
        4 => (0u8..14, 0u8..12, prop::bool::weighted(0.1))
            .prop_map(|(n, max_pool, bad)| Op::Assign { n, max_pool, bad }),
        4 => (any::<u8>(), prop::bool::weighted(0.3))
            .prop_map(|(k, positive)| Op::Result { k, positive }),
    ]
}

fn waiting(lab: &Lab) -> Vec<SampleId> {
    lab.samples()
        .filter(|(_, s)| *s == SampleState::Collected)
        .map(|(id, _)| id)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_pooled_flow_never_loses_a_sample(ops in prop::collection::vec(op(), 0..80)) {
        let mut lab = Lab::new();
        let mut collected = 0usize;
        for op in ops {
            match op {
                Op::Collect(n) => {
                    for _ in 0..n { lab.collect(); collected += 1; }
                }
                Op::Assign { n, max_pool, bad } => {
                    let mut pick: Vec<SampleId> = waiting(&lab).into_iter().take(usize::from(n)).collect();
                    if bad { pick.push(u64::MAX); }
                    let before: Vec<_> = lab.samples().collect();
                    let ok = !bad && !pick.is_empty() && pick.len() <= usize::from(max_pool);
                    let r = lab.assign(&pick, u32::from(max_pool));
                    prop_assert_eq!(r.is_ok(), ok, "{:?}", r);
                    if r.is_err() {
                        // A refusal changes nothing.
                        prop_assert_eq!(lab.samples().collect::<Vec<_>>(), before);
                    }
                }
                Op::Result { k, positive } => {
                    let pending: Vec<_> = lab.pending().map(|t| t.id).collect();
                    if !pending.is_empty() {
                        let t = pending[usize::from(k) % pending.len()];
                        let o = if positive { Outcome::Positive } else { Outcome::Negative };
                        lab.result(t, o).unwrap();
                    }
                }
            }
            prop_assert_eq!(lab.samples().count(), collected);
            lab.check().map_err(TestCaseError::fail)?;
        }
        // Drain: assign what waits, result everything (positive pools re-test).
        let rest = waiting(&lab);
        for chunk in rest.chunks(10) {
            lab.assign(chunk, 10).unwrap();
        }
        let mut rounds = 0;
        loop {
            let Some(t) = lab.pending().map(|t| t.id).next() else { break };
            lab.result(t, if t % 3 == 0 { Outcome::Positive } else { Outcome::Negative }).unwrap();
            rounds += 1;
            prop_assert!(rounds < 100_000);
        }
        lab.check().map_err(TestCaseError::fail)?;
        prop_assert_eq!(lab.samples().count(), collected);
        for (id, state) in lab.samples() {
            match state {
                SampleState::Resulted { outcome, test } => {
                    let t = lab.test(test).unwrap();
                    prop_assert!(t.samples.contains(&id));
                    if outcome == Outcome::Positive {
                        prop_assert!(!t.is_pool(), "sample {} positive from a pool", id);
                    }
                }
                other => prop_assert!(false, "sample {} left {:?}", id, other),
            }
        }
    }
}
