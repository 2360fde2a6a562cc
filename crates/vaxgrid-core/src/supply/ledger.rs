//! The stock ledger: the movements of vaccine in and out of a store, per
//! store × lot, and the rules every movement obeys.
//!
//! The ledger is append-only. On-hand is the sum of the movements' signed
//! quantities and never goes below zero: a movement that would take more
//! than is on hand is refused, not clipped. A mistake is corrected by a new
//! movement ([`correction_of`]), never by editing one. Quantities are doses;
//! a vial opened is counted in vials and moves nothing (its doses stay on
//! hand until given or wasted, see [`super::vial`]).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a receipt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptSource {
    Purchase,
    Donation,
    Covax,
    TransferIn,
}

/// Why doses were lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WastageReason {
    Expired,
    Broken,
    Temperature,
    /// The doses left in an open vial at its time limit.
    OpenVialUnused,
    Vvm,
    Recalled,
}

/// Which way a physical count or adjustment moves the stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

/// What a movement is, with the facts each kind carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MovementKind {
    /// A delivery received from outside the store tree, with its documents
    /// (delivery note, invoice, donation letter).
    Receipt {
        source: ReceiptSource,
        document: String,
    },
    /// Doses leaving this store on a shipment to another.
    ShipmentDispatched {
        shipment_id: Uuid,
        to_store: String,
    },
    /// Doses of a shipment arriving here; `dispatched` is what the sending
    /// store sent. Any difference needs a reason.
    ShipmentReceived {
        shipment_id: Uuid,
        dispatched: u64,
        discrepancy_reason: Option<String>,
    },
    /// Multi-dose vials opened at a session; the quantity counts vials.
    VialOpened {
        session_id: Option<Uuid>,
        doses_per_vial: u32,
    },
    /// Doses given (the dose writer records these with the doses).
    DoseGiven,
    /// Doses thrown away for a reason not among the wastage reasons.
    Discard {
        reason: String,
    },
    Wastage {
        reason: WastageReason,
    },
    /// A physical count's difference, or a correction of an earlier
    /// movement (`corrects`).
    Adjustment {
        direction: Direction,
        reason: String,
        corrects: Option<Uuid>,
    },
}

impl MovementKind {
    /// The stable name stored in the ledger's `kind` column.
    pub fn as_str(&self) -> &'static str {
        match self {
            MovementKind::Receipt { .. } => "receipt",
            MovementKind::ShipmentDispatched { .. } => "shipment_dispatched",
            MovementKind::ShipmentReceived { .. } => "shipment_received",
            MovementKind::VialOpened { .. } => "vial_opened",
            MovementKind::DoseGiven => "dose_given",
            MovementKind::Discard { .. } => "discard",
            MovementKind::Wastage { .. } => "wastage",
            MovementKind::Adjustment { .. } => "adjustment",
        }
    }
}

/// One line of a store × lot ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Movement {
    pub id: Uuid,
    #[serde(flatten)]
    pub kind: MovementKind,
    /// Doses (vials for [`MovementKind::VialOpened`]); always > 0.
    pub quantity: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("quantity must be a whole number above 0, not {0}")]
    Quantity(i64),
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("only {on_hand} doses are on hand; {wanted} cannot leave the store")]
    Insufficient { on_hand: u64, wanted: u64 },
    #[error("{received} doses received but {dispatched} dispatched: give a discrepancy_reason")]
    DiscrepancyWithoutReason { dispatched: u64, received: u64 },
    #[error("doses_per_vial must be between 1 and 50, not {0}")]
    DosesPerVial(u32),
    #[error("the count of {0} doses must not be negative")]
    NegativeCount(i64),
    #[error("on-hand would exceed the largest count the ledger keeps")]
    Overflow,
}

impl LedgerError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            LedgerError::Quantity(_) | LedgerError::Insufficient { .. } | LedgerError::Overflow => {
                "quantity"
            }
            LedgerError::Empty(f) => f,
            LedgerError::DiscrepancyWithoutReason { .. } => "discrepancy_reason",
            LedgerError::DosesPerVial(_) => "doses_per_vial",
            LedgerError::NegativeCount(_) => "counted",
        }
    }
}

/// A quantity as given in a request: zero and negative are refused.
pub fn quantity(given: i64) -> Result<u64, LedgerError> {
    u64::try_from(given)
        .ok()
        .filter(|q| *q > 0)
        .ok_or(LedgerError::Quantity(given))
}

fn non_empty(text: &str, field: &'static str) -> Result<(), LedgerError> {
    if text.trim().is_empty() {
        Err(LedgerError::Empty(field))
    } else {
        Ok(())
    }
}

impl Movement {
    /// The change this movement makes to on-hand, in doses.
    pub fn delta(&self) -> i128 {
        let q = i128::from(self.quantity);
        match &self.kind {
            MovementKind::Receipt { .. } | MovementKind::ShipmentReceived { .. } => q,
            MovementKind::Adjustment { direction, .. } => match direction {
                Direction::Up => q,
                Direction::Down => -q,
            },
            MovementKind::VialOpened { .. } => 0,
            MovementKind::ShipmentDispatched { .. }
            | MovementKind::DoseGiven
            | MovementKind::Discard { .. }
            | MovementKind::Wastage { .. } => -q,
        }
    }

    /// The rules a movement obeys on its own, whatever the stock.
    pub fn validate(&self) -> Result<(), LedgerError> {
        if self.quantity == 0 {
            return Err(LedgerError::Quantity(0));
        }
        match &self.kind {
            MovementKind::Receipt { document, .. } => non_empty(document, "document"),
            MovementKind::ShipmentDispatched { to_store, .. } => non_empty(to_store, "to_store"),
            MovementKind::ShipmentReceived {
                dispatched,
                discrepancy_reason,
                ..
            } => {
                let reason = discrepancy_reason.as_deref().map(str::trim);
                if self.quantity != *dispatched && reason.is_none_or(str::is_empty) {
                    return Err(LedgerError::DiscrepancyWithoutReason {
                        dispatched: *dispatched,
                        received: self.quantity,
                    });
                }
                Ok(())
            }
            MovementKind::VialOpened { doses_per_vial, .. } => {
                if (1..=50).contains(doses_per_vial) {
                    Ok(())
                } else {
                    Err(LedgerError::DosesPerVial(*doses_per_vial))
                }
            }
            MovementKind::Discard { reason } | MovementKind::Adjustment { reason, .. } => {
                non_empty(reason, "reason")
            }
            MovementKind::DoseGiven | MovementKind::Wastage { .. } => Ok(()),
        }
    }
}

/// The on-hand after `movement`, or why it is refused: the movement's own
/// rules, then the stock (nothing leaves that is not there; opening vials
/// needs their doses on hand).
pub fn apply(on_hand: u64, movement: &Movement) -> Result<u64, LedgerError> {
    movement.validate()?;
    if let MovementKind::VialOpened { doses_per_vial, .. } = movement.kind {
        let wanted = movement
            .quantity
            .checked_mul(u64::from(doses_per_vial))
            .ok_or(LedgerError::Overflow)?;
        if wanted > on_hand {
            return Err(LedgerError::Insufficient { on_hand, wanted });
        }
        return Ok(on_hand);
    }
    let next = i128::from(on_hand) + movement.delta();
    if next < 0 {
        return Err(LedgerError::Insufficient {
            on_hand,
            wanted: movement.quantity,
        });
    }
    u64::try_from(next).map_err(|_| LedgerError::Overflow)
}

/// On-hand recounted from the movements (what `vaxgrid check` compares the
/// counters with).
pub fn recount<'a>(movements: impl IntoIterator<Item = &'a Movement>) -> i128 {
    movements.into_iter().map(Movement::delta).sum()
}

/// The adjustment a physical count makes, or `None` when the count agrees
/// with the ledger. A difference needs a reason.
pub fn count_adjustment(
    id: Uuid,
    on_hand: u64,
    counted: i64,
    reason: &str,
) -> Result<Option<Movement>, LedgerError> {
    let counted = u64::try_from(counted).map_err(|_| LedgerError::NegativeCount(counted))?;
    if counted == on_hand {
        return Ok(None);
    }
    non_empty(reason, "reason")?;
    let (direction, quantity) = if counted > on_hand {
        (Direction::Up, counted - on_hand)
    } else {
        (Direction::Down, on_hand - counted)
    };
    Ok(Some(Movement {
        id,
        kind: MovementKind::Adjustment {
            direction,
            reason: reason.trim().to_owned(),
            corrects: None,
        },
        quantity,
    }))
}

/// The movement that undoes `original` (entered at the wrong store, the
/// wrong quantity): an adjustment the other way, pointing at it. `None` for
/// a vial opened, which moves no stock.
pub fn correction_of(
    id: Uuid,
    original: &Movement,
    reason: &str,
) -> Result<Option<Movement>, LedgerError> {
    non_empty(reason, "reason")?;
    let direction = match original.delta() {
        0 => return Ok(None),
        d if d > 0 => Direction::Down,
        _ => Direction::Up,
    };
    Ok(Some(Movement {
        id,
        kind: MovementKind::Adjustment {
            direction,
            reason: reason.trim().to_owned(),
            corrects: Some(original.id),
        },
        quantity: original.quantity,
    }))
}

/// Where a shipment between two stores stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShipmentStatus {
    Dispatched,
    InTransit,
    Received,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShipmentError {
    #[error("the shipment is already {0:?}; it cannot go back to {1:?}")]
    Order(ShipmentStatus, ShipmentStatus),
    #[error("a store cannot ship to itself")]
    SameStore,
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

impl ShipmentError {
    pub fn field(&self) -> &'static str {
        match self {
            ShipmentError::Order(..) => "status",
            ShipmentError::SameStore => "to_store",
            ShipmentError::Ledger(e) => e.field(),
        }
    }
}

/// The next status of a shipment: dispatched → in transit → received, in
/// that order (a shipment may be received straight from dispatched).
pub fn advance(from: ShipmentStatus, to: ShipmentStatus) -> Result<ShipmentStatus, ShipmentError> {
    use ShipmentStatus::*;
    match (from, to) {
        (Dispatched, InTransit) | (Dispatched, Received) | (InTransit, Received) => Ok(to),
        _ => Err(ShipmentError::Order(from, to)),
    }
}

/// The two movements of a shipment: the sending store's dispatch, checked
/// against its stock, and, on arrival, the receiving store's receipt.
pub fn dispatch(
    id: Uuid,
    shipment_id: Uuid,
    from_store: &str,
    to_store: &str,
    quantity: u64,
    on_hand: u64,
) -> Result<(Movement, u64), ShipmentError> {
    if from_store == to_store {
        return Err(ShipmentError::SameStore);
    }
    let m = Movement {
        id,
        kind: MovementKind::ShipmentDispatched {
            shipment_id,
            to_store: to_store.to_owned(),
        },
        quantity,
    };
    let after = apply(on_hand, &m)?;
    Ok((m, after))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(kind: MovementKind, quantity: u64) -> Movement {
        Movement {
            id: Uuid::nil(),
            kind,
            quantity,
        }
    }

    fn receipt(q: u64) -> Movement {
        m(
            MovementKind::Receipt {
                source: ReceiptSource::Covax,
                document: "DN-2021-0815".into(),
            },
            q,
        )
    }

    #[test]
    fn stock_never_goes_below_zero_and_refusals_name_the_field() {
        assert_eq!(apply(0, &receipt(100)), Ok(100));
        let err = apply(5, &m(MovementKind::DoseGiven, 6)).unwrap_err();
        assert_eq!(
            err,
            LedgerError::Insufficient {
                on_hand: 5,
                wanted: 6
            }
        );
        assert_eq!(err.field(), "quantity");
        assert_eq!(
            apply(5, &m(MovementKind::DoseGiven, 0))
                .unwrap_err()
                .field(),
            "quantity"
        );
        assert_eq!(quantity(0).unwrap_err().field(), "quantity");
        assert_eq!(quantity(-3), Err(LedgerError::Quantity(-3)));
        assert_eq!(quantity(7), Ok(7));
        let blank = m(
            MovementKind::Receipt {
                source: ReceiptSource::Purchase,
                document: " ".into(),
            },
            1,
        );
        assert_eq!(apply(0, &blank).unwrap_err().field(), "document");
        let discard = m(MovementKind::Discard { reason: "".into() }, 1);
        assert_eq!(apply(9, &discard).unwrap_err().field(), "reason");
        // Shipping from an empty store.
        let err = dispatch(Uuid::nil(), Uuid::nil(), "HN", "HN-BD", 10, 0).unwrap_err();
        assert_eq!(err.field(), "quantity");
        assert_eq!(
            dispatch(Uuid::nil(), Uuid::nil(), "HN", "HN", 10, 50)
                .unwrap_err()
                .field(),
            "to_store"
        );
        let (_, after) = dispatch(Uuid::nil(), Uuid::nil(), "HN", "HN-BD", 10, 50).unwrap();
        assert_eq!(after, 40);
    }

    #[test]
    fn a_received_quantity_other_than_dispatched_needs_a_reason() {
        let received = |q, reason: Option<&str>| {
            m(
                MovementKind::ShipmentReceived {
                    shipment_id: Uuid::nil(),
                    dispatched: 100,
                    discrepancy_reason: reason.map(Into::into),
                },
                q,
            )
        };
        assert_eq!(apply(0, &received(100, None)), Ok(100));
        let err = apply(0, &received(110, None)).unwrap_err();
        assert_eq!(err.field(), "discrepancy_reason");
        assert!(err
            .to_string()
            .contains("110 doses received but 100 dispatched"));
        assert_eq!(
            apply(0, &received(110, Some("  "))).unwrap_err().field(),
            "discrepancy_reason"
        );
        assert_eq!(
            apply(0, &received(110, Some("10 extra on the delivery note"))),
            Ok(110)
        );
        assert_eq!(apply(0, &received(90, Some("one box broken"))), Ok(90));
    }

    #[test]
    fn shipments_move_forward_only() {
        use ShipmentStatus::*;
        assert_eq!(advance(Dispatched, InTransit), Ok(InTransit));
        assert_eq!(advance(InTransit, Received), Ok(Received));
        assert_eq!(advance(Dispatched, Received), Ok(Received));
        assert_eq!(advance(Received, InTransit).unwrap_err().field(), "status");
        assert!(advance(Received, Received).is_err());
    }

    #[test]
    fn vials_opened_need_their_doses_on_hand_and_move_none() {
        let open = |vials| {
            m(
                MovementKind::VialOpened {
                    session_id: None,
                    doses_per_vial: 10,
                },
                vials,
            )
        };
        assert_eq!(apply(20, &open(2)), Ok(20));
        assert_eq!(apply(19, &open(2)).unwrap_err().field(), "quantity");
    }

    #[test]
    fn counts_and_corrections_are_new_movements() {
        assert_eq!(count_adjustment(Uuid::nil(), 40, 40, ""), Ok(None));
        assert_eq!(
            count_adjustment(Uuid::nil(), 40, 38, "")
                .unwrap_err()
                .field(),
            "reason"
        );
        assert_eq!(
            count_adjustment(Uuid::nil(), 40, -1, "x")
                .unwrap_err()
                .field(),
            "counted"
        );
        let adj = count_adjustment(Uuid::nil(), 40, 38, "two vials missing")
            .unwrap()
            .unwrap();
        assert_eq!((adj.delta(), apply(40, &adj)), (-2, Ok(38)));
        let original = Movement {
            id: Uuid::from_u128(7),
            ..receipt(30)
        };
        let fix = correction_of(Uuid::from_u128(8), &original, "entered at the wrong store")
            .unwrap()
            .unwrap();
        assert_eq!(recount([&original, &fix]), 0);
        assert!(
            matches!(fix.kind, MovementKind::Adjustment { corrects: Some(c), .. } if c == original.id)
        );
    }

    fn movement() -> impl Strategy<Value = Movement> {
        let q = 0u64..200;
        prop_oneof![
            q.clone().prop_map(receipt),
            (q.clone(), 0u64..200, any::<bool>()).prop_map(|(q, sent, reason)| m(
                MovementKind::ShipmentReceived {
                    shipment_id: Uuid::nil(),
                    dispatched: sent,
                    discrepancy_reason: reason.then(|| "counted at the door".into()),
                },
                q
            )),
            q.clone().prop_map(|q| m(
                MovementKind::ShipmentDispatched {
                    shipment_id: Uuid::nil(),
                    to_store: "HN-BD".into()
                },
                q
            )),
            (q.clone(), 0u32..12).prop_map(|(q, dpv)| m(
                MovementKind::VialOpened {
                    session_id: None,
                    doses_per_vial: dpv
                },
                q
            )),
            q.clone().prop_map(|q| m(MovementKind::DoseGiven, q)),
            q.clone().prop_map(|q| m(
                MovementKind::Wastage {
                    reason: WastageReason::Broken
                },
                q
            )),
            (q.clone(), any::<bool>()).prop_map(|(q, up)| m(
                MovementKind::Adjustment {
                    direction: if up { Direction::Up } else { Direction::Down },
                    reason: "count".into(),
                    corrects: None
                },
                q
            )),
        ]
    }

    proptest! {
        #[test]
        fn on_hand_is_always_the_sum_of_the_accepted_movements(
            moves in prop::collection::vec(movement(), 0..80),
        ) {
            let mut on_hand = 0u64;
            let mut accepted = Vec::new();
            for mv in &moves {
                match apply(on_hand, mv) {
                    Ok(next) => {
                        prop_assert_eq!(i128::from(next) - i128::from(on_hand), mv.delta());
                        on_hand = next;
                        accepted.push(mv.clone());
                    }
                    Err(e) => {
                        // A refusal changes nothing, and only a movement that
                        // breaks a rule is refused.
                        let takes_too_much = i128::from(on_hand) + mv.delta() < 0
                            || matches!(mv.kind, MovementKind::VialOpened { .. });
                        prop_assert!(mv.validate().is_err() || takes_too_much, "{}", e);
                    }
                }
                prop_assert_eq!(recount(&accepted), i128::from(on_hand));
            }
        }
    }
}
