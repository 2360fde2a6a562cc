//! Whether a lot may be used for a dose at a site: the verdict the dose
//! writer asks for before recording a dose, beside the dose rules'
//! product and release checks (`crate::dose`).

use serde::{Deserialize, Serialize};
use time::Date;

/// What is known of a lot at the moment of a dose at one site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LotAtSite {
    pub lot: String,
    pub expiry: Date,
    /// Why the lot is quarantined (the excursion, a supervisor's hold), if
    /// it is.
    pub quarantine: Option<String>,
    /// Why the lot was recalled, if it was.
    pub recall: Option<String>,
    /// The last vaccine vial monitor stage recorded (1–4), if any.
    pub vvm_stage: Option<u8>,
    /// Doses on hand at the site's store.
    pub on_hand: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LotRefusal {
    #[error("lot {lot} is recalled: {reason}")]
    Recalled { lot: String, reason: String },
    #[error("lot {lot} is quarantined: {reason}")]
    Quarantined { lot: String, reason: String },
    #[error("lot {lot} expired on {expiry}; a dose on {date} cannot use it")]
    Expired {
        lot: String,
        expiry: Date,
        date: Date,
    },
    #[error("lot {lot} has vaccine vial monitor stage {stage}: past its discard point")]
    Vvm { lot: String, stage: u8 },
    #[error("lot {lot} is not in stock at this site: {on_hand} doses on hand, {wanted} wanted")]
    NotInStock {
        lot: String,
        on_hand: u64,
        wanted: u64,
    },
}

impl LotRefusal {
    /// Every refusal is about the dose's lot.
    pub fn field(&self) -> &'static str {
        "lot"
    }

    /// A stable code for the reason (`recalled`, `quarantined`, …).
    pub fn code(&self) -> &'static str {
        match self {
            LotRefusal::Recalled { .. } => "recalled",
            LotRefusal::Quarantined { .. } => "quarantined",
            LotRefusal::Expired { .. } => "expired",
            LotRefusal::Vvm { .. } => "vvm",
            LotRefusal::NotInStock { .. } => "not_in_stock",
        }
    }
}

/// Whether `wanted` doses of the lot may be given on `date`. The gravest
/// reason is named first: a recall, then a quarantine, expiry, the vial
/// monitor, and last the stock.
pub fn verdict(lot: &LotAtSite, date: Date, wanted: u64) -> Result<(), LotRefusal> {
    let name = || lot.lot.clone();
    if let Some(reason) = &lot.recall {
        return Err(LotRefusal::Recalled {
            lot: name(),
            reason: reason.clone(),
        });
    }
    if let Some(reason) = &lot.quarantine {
        return Err(LotRefusal::Quarantined {
            lot: name(),
            reason: reason.clone(),
        });
    }
    if date > lot.expiry {
        return Err(LotRefusal::Expired {
            lot: name(),
            expiry: lot.expiry,
            date,
        });
    }
    if let Some(stage @ 3..) = lot.vvm_stage {
        return Err(LotRefusal::Vvm { lot: name(), stage });
    }
    if lot.on_hand < wanted {
        return Err(LotRefusal::NotInStock {
            lot: name(),
            on_hand: lot.on_hand,
            wanted,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn good() -> LotAtSite {
        LotAtSite {
            lot: "AZ-ABV5811".into(),
            expiry: date!(2021 - 11 - 30),
            quarantine: None,
            recall: None,
            vvm_stage: Some(2),
            on_hand: 20,
        }
    }

    #[test]
    fn each_refusal_names_the_lot_and_why() {
        let day = date!(2021 - 08 - 15);
        assert_eq!(verdict(&good(), day, 20), Ok(()));
        let cases = [
            (
                LotAtSite {
                    recall: Some("manufacturer recall 2021-08".into()),
                    quarantine: Some("excursion".into()),
                    ..good()
                },
                "recalled",
                "manufacturer recall",
            ),
            (
                LotAtSite {
                    quarantine: Some("excursion 9.4 °C for 95 min in FR-01".into()),
                    ..good()
                },
                "quarantined",
                "9.4 °C",
            ),
            (
                LotAtSite {
                    expiry: date!(2021 - 08 - 14),
                    ..good()
                },
                "expired",
                "2021-08-14",
            ),
            (
                LotAtSite {
                    vvm_stage: Some(3),
                    ..good()
                },
                "vvm",
                "stage 3",
            ),
            (
                LotAtSite {
                    on_hand: 0,
                    ..good()
                },
                "not_in_stock",
                "0 doses",
            ),
        ];
        for (lot, code, text) in cases {
            let err = verdict(&lot, day, 1).unwrap_err();
            assert_eq!((err.code(), err.field()), (code, "lot"));
            let msg = err.to_string();
            assert!(msg.contains("AZ-ABV5811") && msg.contains(text), "{msg}");
        }
        // The expiry day itself is still usable.
        assert!(verdict(&good(), date!(2021 - 11 - 30), 1).is_ok());
        assert!(verdict(&good(), day, 21).is_err());
    }
}
