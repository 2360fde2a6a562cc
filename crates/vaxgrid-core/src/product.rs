//! Vaccine products and their schedules.

use serde::{Deserialize, Serialize};

/// A vaccine product with the facts the dose rules and the cold chain need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    /// Short stable code used in URLs, lots and counters (e.g. `AZ`).
    pub code: String,
    pub name: String,
    pub manufacturer: String,
    pub platform: String,
    /// EU DCC value-set codes: medicinal product (`mp`), authorisation holder or
    /// manufacturer (`ma`), prophylaxis (`vp`).
    pub dcc_mp: String,
    pub dcc_ma: String,
    pub dcc_vp: String,
    /// CDC CVX code (HL7 v2 RXA-5).
    pub cvx: Option<String>,
    pub doses_in_series: u32,
    pub min_interval_days: u32,
    pub recommended_interval_days: u32,
    pub doses_per_vial: u32,
    pub storage_min_c: i32,
    pub storage_max_c: i32,
    pub open_vial_discard_hours: u32,
    pub min_age_years: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProductError {
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("code must be 1 to 32 characters of A-Z, 0-9, '-' or '_'")]
    BadCode,
    #[error("doses_in_series must be between 1 and 10")]
    SeriesLength,
    #[error("recommended_interval_days must not be below min_interval_days")]
    IntervalOrder,
    #[error("doses_per_vial must be between 1 and 50")]
    DosesPerVial,
    #[error("storage_min_c must not be above storage_max_c")]
    StorageRange,
    #[error("min_age_years must not exceed 120")]
    MinAge,
}

impl ProductError {
    /// The request field a registrar has to correct.
    pub fn field(&self) -> &'static str {
        match self {
            ProductError::Empty(f) => f,
            ProductError::BadCode => "code",
            ProductError::SeriesLength => "doses_in_series",
            ProductError::IntervalOrder => "recommended_interval_days",
            ProductError::DosesPerVial => "doses_per_vial",
            ProductError::StorageRange => "storage_min_c",
            ProductError::MinAge => "min_age_years",
        }
    }
}

impl Product {
    pub fn validate(&self) -> Result<(), ProductError> {
        let code_ok = !self.code.is_empty()
            && self.code.len() <= 32
            && self
                .code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !code_ok {
            return Err(ProductError::BadCode);
        }
        for (field, value) in [
            ("name", &self.name),
            ("manufacturer", &self.manufacturer),
            ("platform", &self.platform),
        ] {
            if value.trim().is_empty() {
                return Err(ProductError::Empty(field));
            }
        }
        if !(1..=10).contains(&self.doses_in_series) {
            return Err(ProductError::SeriesLength);
        }
        if self.recommended_interval_days < self.min_interval_days {
            return Err(ProductError::IntervalOrder);
        }
        if !(1..=50).contains(&self.doses_per_vial) {
            return Err(ProductError::DosesPerVial);
        }
        if self.storage_min_c > self.storage_max_c {
            return Err(ProductError::StorageRange);
        }
        if self.min_age_years > 120 {
            return Err(ProductError::MinAge);
        }
        Ok(())
    }
}

/// The products the 2021 campaigns used, with WHO SAGE interim schedules
/// (WHO "Interim recommendations for use of the … vaccine", 2021 editions:
/// AZD1222 8–12 weeks, minimum 4 weeks; BIBP 3–4 weeks; CoronaVac 2–4 weeks;
/// BNT162b2 21–28 days; mRNA-1273 28 days) and the EU DCC value sets.
/// Open-vial discard hours follow the product labels (multi-dose vials: 6 h
/// after first puncture for Vaxzevria and Comirnaty, 12 h for Spikevax; the
/// single-dose presentations of the inactivated vaccines are used at once).
pub fn standard_products() -> Vec<Product> {
    #[expect(
        clippy::too_many_arguments,
        reason = "one row per product reads better than five struct literals"
    )]
    fn p(
        code: &str,
        name: &str,
        manufacturer: &str,
        platform: &str,
        dcc: (&str, &str, &str),
        cvx: &str,
        schedule: (u32, u32, u32),
        vial: (u32, u32),
        storage: (i32, i32),
        min_age_years: u32,
    ) -> Product {
        Product {
            code: code.into(),
            name: name.into(),
            manufacturer: manufacturer.into(),
            platform: platform.into(),
            dcc_mp: dcc.0.into(),
            dcc_ma: dcc.1.into(),
            dcc_vp: dcc.2.into(),
            cvx: Some(cvx.into()),
            doses_in_series: schedule.0,
            min_interval_days: schedule.1,
            recommended_interval_days: schedule.2,
            doses_per_vial: vial.0,
            open_vial_discard_hours: vial.1,
            storage_min_c: storage.0,
            storage_max_c: storage.1,
            min_age_years,
        }
    }
    vec![
        p(
            "AZ",
            "Vaxzevria (AstraZeneca, Covishield)",
            "AstraZeneca",
            "viral vector",
            ("EU/1/21/1529", "ORG-100001699", "J07BX03"),
            "210",
            (2, 28, 56),
            (10, 6),
            (2, 8),
            18,
        ),
        p(
            "BIBP",
            "BBIBP-CorV (Sinopharm BIBP)",
            "Sinopharm Beijing Institute of Biological Products",
            "inactivated",
            ("BBIBP-CorV", "ORG-100020693", "1119305005"),
            "510",
            (2, 21, 21),
            (1, 0),
            (2, 8),
            18,
        ),
        p(
            "SINOVAC",
            "CoronaVac (Sinovac)",
            "Sinovac Biotech",
            "inactivated",
            ("CoronaVac", "Sinovac-Biotech", "1119305005"),
            "511",
            (2, 14, 28),
            (1, 0),
            (2, 8),
            18,
        ),
        p(
            "PFIZER",
            "Comirnaty (Pfizer-BioNTech)",
            "BioNTech Manufacturing GmbH",
            "mRNA",
            ("EU/1/20/1528", "ORG-100030215", "1119349007"),
            "208",
            (2, 21, 21),
            (6, 6),
            (-90, -60),
            12,
        ),
        p(
            "MODERNA",
            "Spikevax (Moderna)",
            "Moderna Biotech Spain S.L.",
            "mRNA",
            ("EU/1/20/1507", "ORG-100031184", "1119349007"),
            "207",
            (2, 28, 28),
            (10, 12),
            (-50, -15),
            12,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_products_are_valid_and_unique() {
        let products = standard_products();
        assert_eq!(products.len(), 5);
        for p in &products {
            p.validate().unwrap();
        }
        let mut codes: Vec<_> = products.iter().map(|p| p.code.clone()).collect();
        codes.dedup();
        assert_eq!(codes.len(), 5);
    }

    #[test]
    fn validation_names_the_field() {
        let mut p = standard_products().remove(0);
        p.recommended_interval_days = 1;
        assert_eq!(
            p.validate().unwrap_err().field(),
            "recommended_interval_days"
        );
        p = standard_products().remove(0);
        p.code = "a b".into();
        assert_eq!(p.validate().unwrap_err().field(), "code");
    }
}
