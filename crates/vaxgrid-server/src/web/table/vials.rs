//! The open vials of the site's own store, shown beside the lot picker so
//! the vaccinator sees the doses left before opening another vial (the
//! API's `site_vials`; vials past their limit are closed on this read).

use crate::i18n::Lang;
use crate::AppState;

/// One open vial, as the dose step shows it.
pub struct VialView {
    pub lot: String,
    pub line: String,
    pub next: bool,
}

/// The usable open vials of `product` at the site, the next one first.
pub async fn views(app: &AppState, site: &str, product: &str, lang: Lang) -> Vec<VialView> {
    let Ok((_, list)) = crate::api::allocation::site_vials(app, site).await else {
        return Vec::new();
    };
    let mut out: Vec<VialView> = list
        .into_iter()
        .filter(|v| v.product_code == product && !v.closed && v.doses_left > 0)
        .map(|v| {
            let micros = (v.discard_at.unix_timestamp_nanos() / 1000) as i64;
            VialView {
                line: lang.ta(
                    "table-vial-line",
                    vec![
                        ("lot", v.lot_number.as_str().into()),
                        ("left", (v.doses_left as i64).into()),
                        ("until", super::super::admin::instant(lang, micros).into()),
                    ],
                ),
                lot: v.lot_number,
                next: v.next,
            }
        })
        .collect();
    out.sort_by_key(|v| !v.next);
    out
}
