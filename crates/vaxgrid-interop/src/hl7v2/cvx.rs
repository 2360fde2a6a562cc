//! CVX codes of the COVID-19 products the server knows, and the CDC
//! table of every vaccine's code (to keep records outside the campaign).
//!
//! Source: CDC "IIS: HL7 Standard Code Set — CVX, Vaccines Administered"
//! (<https://www2a.cdc.gov/vaccines/iis/iisstandards/vaccines.asp?rpt=cvx>)
//! and the CDC COVID-19 vaccine related codes page; descriptions are the
//! CVX short descriptions. Several CVX codes map to one product because CVX
//! distinguishes formulations (dose, diluent, bivalent) that the campaign
//! manages as one product.

/// (CVX, product code, CVX short description). The first row for each product
/// is its canonical code, used by [`cvx_for_product`].
const CVX_PRODUCTS: &[(&str, &str, &str)] = &[
    (
        "210",
        "AZ",
        "COVID-19 vaccine, vector-nr, rS-ChAdOx1, PF, 0.5 mL",
    ),
    (
        "510",
        "BIBP",
        "COVID-19 IV Non-US Vaccine (BIBP, Sinopharm)",
    ),
    (
        "511",
        "SINOVAC",
        "COVID-19 IV Non-US Vaccine (CoronaVac, Sinovac)",
    ),
    (
        "208",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose",
    ),
    (
        "217",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, PF, 30 mcg/0.3 mL dose, tris-sucrose",
    ),
    (
        "218",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, PF, 10 mcg/0.2 mL dose, tris-sucrose",
    ),
    (
        "219",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, PF, 3 mcg/0.2 mL dose, tris-sucrose",
    ),
    (
        "300",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, bivalent, PF, 30 mcg/0.3 mL dose",
    ),
    (
        "301",
        "PFIZER",
        "COVID-19, mRNA, LNP-S, bivalent, PF, 10 mcg/0.2 mL dose",
    ),
    (
        "207",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, PF, 100 mcg/0.5mL dose or 50 mcg/0.25mL dose",
    ),
    (
        "221",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, PF, 50 mcg/0.5 mL dose",
    ),
    (
        "227",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, PF, pediatric 50 mcg/0.5 mL dose",
    ),
    (
        "228",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, PF, pediatric 25 mcg/0.25 mL dose",
    ),
    (
        "229",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, bivalent, PF, 50 mcg/0.5 mL dose",
    ),
    (
        "230",
        "MODERNA",
        "COVID-19, mRNA, LNP-S, bivalent, PF, 10 mcg/0.2 mL dose",
    ),
];

/// The product code ("AZ", "BIBP", "SINOVAC", "PFIZER", "MODERNA") for a CVX
/// code, or `None` for a code the campaign does not manage. Leading zeros and
/// surrounding spaces are ignored because some senders pad CVX to three
/// digits or more.
pub fn product_for_cvx(cvx: &str) -> Option<&'static str> {
    let cvx = cvx.trim().trim_start_matches('0');
    CVX_PRODUCTS
        .iter()
        .find(|(code, _, _)| *code == cvx)
        .map(|(_, product, _)| *product)
}

/// The canonical CVX code and its description for a product code
/// (case-insensitive), e.g. `"AZ"` → `("210", "COVID-19 vaccine, …")`.
pub fn cvx_for_product(product: &str) -> Option<(&'static str, &'static str)> {
    let product = product.trim();
    CVX_PRODUCTS
        .iter()
        .find(|(_, p, _)| p.eq_ignore_ascii_case(product))
        .map(|(cvx, _, description)| (*cvx, *description))
}

/// CVX codes of COVID-19 vaccines (US and non-US products), the
/// campaign's own: a dose of one must find its product in the catalogue.
pub fn is_covid_cvx(cvx: &str) -> bool {
    matches!(
        cvx.trim().parse::<u32>(),
        Ok(207..=213 | 217..=221 | 225..=230 | 300..=302 | 500..=516)
    )
}

/// The CDC table of vaccine CVX codes (see the file's header).
const KNOWN: &str = include_str!("cvx_known.txt");

/// The short description of a known vaccine's CVX code (a COVID-19
/// vaccine's too), or None for a code that names no vaccine (99, 998, 999)
/// or is in no table. Leading zeros do not count.
pub fn known_vaccine(cvx: &str) -> Option<&'static str> {
    let bare = cvx.trim().trim_start_matches('0');
    if bare.is_empty() || !bare.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if is_covid_cvx(bare) {
        return Some(
            CVX_PRODUCTS
                .iter()
                .find(|(code, _, _)| *code == bare)
                .map_or("COVID-19 vaccine", |(_, _, d)| *d),
        );
    }
    KNOWN
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .find(|(code, _)| code.trim_start_matches('0') == bare)
        .map(|(_, description)| description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvx_to_product() {
        assert_eq!(product_for_cvx("210"), Some("AZ"));
        assert_eq!(product_for_cvx("510"), Some("BIBP"));
        assert_eq!(product_for_cvx("511"), Some("SINOVAC"));
        for cvx in ["208", "217", "218", "219", "300", "301"] {
            assert_eq!(product_for_cvx(cvx), Some("PFIZER"), "{cvx}");
        }
        for cvx in ["207", "221", "227", "228", "229", "230"] {
            assert_eq!(product_for_cvx(cvx), Some("MODERNA"), "{cvx}");
        }
        assert_eq!(product_for_cvx("0210"), Some("AZ"));
        assert_eq!(product_for_cvx("24"), None);
        assert_eq!(product_for_cvx("213"), None);
        assert_eq!(product_for_cvx(""), None);
        assert_eq!(product_for_cvx("000"), None);
    }

    #[test]
    fn known_vaccines_are_told_from_unknown_codes() {
        assert_eq!(known_vaccine("03"), Some("MMR"));
        assert_eq!(known_vaccine("3"), Some("MMR"));
        assert_eq!(known_vaccine("24"), Some("anthrax"));
        assert_eq!(known_vaccine("146"), Some("DTaP-IPV-Hib-Hep B"));
        assert!(known_vaccine("511").unwrap().contains("Sinovac"));
        assert_eq!(known_vaccine("213"), Some("COVID-19 vaccine"));
        for unknown in ["", "0", "99", "998", "999", "XXX", "12a", "9999", "124"] {
            assert_eq!(known_vaccine(unknown), None, "{unknown}");
        }
        // Every line of the table is a code and a description.
        for line in KNOWN.lines().filter(|l| !l.starts_with('#')) {
            let (code, description) = line.split_once('\t').expect(line);
            assert!(
                code.len() <= 3 && code.bytes().all(|b| b.is_ascii_digit()),
                "{line}"
            );
            assert!(!description.trim().is_empty(), "{line}");
            assert!(!is_covid_cvx(code), "{line}");
        }
    }

    #[test]
    fn product_to_cvx_round_trips() {
        for product in ["AZ", "BIBP", "SINOVAC", "PFIZER", "MODERNA"] {
            let (cvx, description) = cvx_for_product(product).unwrap();
            assert!(!description.is_empty());
            assert_eq!(product_for_cvx(cvx), Some(product));
        }
        assert_eq!(cvx_for_product("pfizer").map(|c| c.0), Some("208"));
        assert_eq!(cvx_for_product("MODERNA").map(|c| c.0), Some("207"));
        assert_eq!(cvx_for_product("NOVAVAX"), None);
    }
}
