//! The audit log: its entries filtered by actor, by record (kind and id)
//! and by date range, newest first, 50 a page (seek paging by sequence
//! number, one indexed read per page: `Store::audit_entries`), and the
//! chain's verification. Walking the whole chain costs a read of every
//! entry, so the page does not do it: it shows the last verification,
//! which the log keeps as an entry of its own (`Store::last_chain_check`,
//! one indexed read), and a button runs a new one
//! (`Store::verify_audit_recorded`, the walk `vaxgrid audit verify` does).

use std::collections::HashMap;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::audit::AuditFilter;

use super::super::{error_page, render_status, PageCtx};
use super::{given, href, instant, query_fields, see_other};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

const PAGE_SIZE: usize = 50;

pub struct EntryLine {
    pub seq: String,
    pub at: String,
    pub actor: String,
    pub actor_href: String,
    pub address: String,
    pub action: String,
    pub record: String,
    pub record_href: String,
    pub details: String,
}

/// The last verification, as the page says it.
pub struct CheckView {
    pub intact: bool,
    pub headline: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ctx: PageCtx,
    actor: String,
    entity: String,
    record: String,
    from: String,
    to: String,
    errors: HashMap<String, String>,
    rows: Vec<EntryLine>,
    next: Option<String>,
    first: Option<String>,
    check: Option<CheckView>,
    back: String,
}

impl AuditPage {
    fn err(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

/// The first instant of a day (Unix micros, UTC).
fn day_start(d: time::Date) -> i64 {
    (d.midnight().assume_utc().unix_timestamp_nanos() / 1000) as i64
}

fn check_view(lang: Lang, c: &vaxgrid_store::audit::ChainCheck) -> CheckView {
    let entries = i64::try_from(c.entries).unwrap_or(i64::MAX);
    CheckView {
        intact: c.broken.is_none(),
        headline: match &c.broken {
            None => lang.t1("admin-chain-intact", "entries", entries),
            Some(b) => lang.ta(
                "admin-chain-broken",
                vec![
                    ("seq", b.seq.into()),
                    ("reason", b.reason.clone().into()),
                    ("entries", entries.into()),
                ],
            ),
        },
        when: lang.t2(
            "admin-chain-checked",
            "when",
            instant(lang, c.at),
            "actor",
            c.actor.clone(),
        ),
    }
}

/// The filters as typed: the form shows them again and the pages' links
/// carry them.
struct Typed {
    actor: String,
    entity: String,
    record: String,
    from: String,
    to: String,
}

impl Typed {
    fn of(fields: &HashMap<String, String>) -> Typed {
        let text = |k: &str| fields.get(k).cloned().unwrap_or_default();
        Typed {
            actor: text("actor"),
            entity: text("entity"),
            record: text("record"),
            from: text("from"),
            to: text("to"),
        }
    }

    /// The filters as a link's query (empty ones are left out of it).
    fn pairs(&self) -> [(&'static str, &str); 5] {
        [
            ("actor", self.actor.as_str()),
            ("entity", self.entity.as_str()),
            ("record", self.record.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ]
    }
}

/// What the query asks the log for: the filter, the page (entries before
/// a sequence number), and the fields in error, each with its message.
struct Asked {
    filter: AuditFilter,
    before: Option<i64>,
    errors: HashMap<String, String>,
}

/// Reads the query: days as YYYY-MM-DD, `to` not before `from` (the range
/// covers both days whole, UTC), `before` a sequence number above 0.
fn read_query(lang: Lang, fields: &HashMap<String, String>) -> Asked {
    let mut errors = HashMap::new();
    let mut day = |field: &str| -> Option<time::Date> {
        let v = given(fields, field)?;
        let d = vaxgrid_store::parse_date(&v);
        if d.is_none() {
            errors.insert(field.to_string(), lang.t("admin-err-audit-date"));
        }
        d
    };
    let (from_day, to_day) = (day("from"), day("to"));
    if let (Some(f), Some(t)) = (from_day, to_day) {
        if t < f {
            errors.insert("to".into(), lang.t("admin-err-audit-range"));
        }
    }
    let before = match given(fields, "before") {
        None => None,
        Some(b) => match b.parse::<i64>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                errors.insert("before".into(), lang.t("admin-err-audit-before"));
                None
            }
        },
    };
    let filter = AuditFilter {
        actor: given(fields, "actor"),
        entity: given(fields, "entity"),
        entity_id: given(fields, "record"),
        from: from_day.map(day_start),
        until: to_day.map(|d| day_start(d.next_day().unwrap_or(d))),
    };
    Asked {
        filter,
        before,
        errors,
    }
}

/// An entry as a line of the log, linking the log of its actor and of its
/// record; details cut short end with an ellipsis.
fn entry_line(lang: Lang, e: vaxgrid_store::audit::AuditRecord) -> EntryLine {
    let mut details = e.details.clone();
    if e.details_cut {
        details.push('…');
    }
    EntryLine {
        seq: e.seq.to_string(),
        at: instant(lang, e.at),
        actor_href: href("/admin/audit", &[("actor", &e.actor)]),
        record_href: href(
            "/admin/audit",
            &[("entity", &e.entity), ("record", &e.entity_id)],
        ),
        record: if e.entity_id.is_empty() {
            e.entity.clone()
        } else {
            format!("{} {}", e.entity, e.entity_id)
        },
        actor: e.actor,
        address: e.address.unwrap_or_default(),
        action: e.action,
        details,
    }
}

/// One page of entries as lines, and the link to the next page (the same
/// filters, entries before the page's last).
async fn entry_lines(
    app: &AppState,
    lang: Lang,
    asked: &Asked,
    typed: &Typed,
) -> Result<(Vec<EntryLine>, Option<String>), vaxgrid_store::StoreError> {
    let page = app
        .store
        .audit_entries(&asked.filter, asked.before, PAGE_SIZE)
        .await?;
    let rows = page
        .items
        .into_iter()
        .map(|e| entry_line(lang, e))
        .collect();
    let next = page.next.map(|seq| {
        let seq = seq.to_string();
        let mut pairs = typed.pairs().to_vec();
        pairs.push(("before", &seq));
        href("/admin/audit", &pairs)
    });
    Ok((rows, next))
}

/// `GET /admin/audit`
#[utoipa::path(
    get,
    path = "/admin/audit",
    summary = "The audit log (HTML, administrators): entries newest first, 50 a page, filtered by actor, entity (the kind of record: person, dose, user, token …), record (its id), from and to (days, YYYY-MM-DD, both included, UTC); the next page by before (a sequence number); and the chain's last verification (ok, or broken at entry N) with a button to verify it now",
    params(
        ("actor" = Option<String>, Query, description = "who acted (user name)"),
        ("entity" = Option<String>, Query, description = "kind of record"),
        ("record" = Option<String>, Query, description = "the record's id"),
        ("from" = Option<String>, Query, description = "first day, YYYY-MM-DD"),
        ("to" = Option<String>, Query, description = "last day, YYYY-MM-DD"),
        ("before" = Option<i64>, Query, description = "entries before this sequence number (the next page)")
    ),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 400, description = "the page with the filter's error next to its field", content_type = "text/html"),
    )
)]
pub async fn log(State(app): State<AppState>, ctx: PageCtx, RawQuery(raw): RawQuery) -> Response {
    let lang = ctx.lang;
    let fields = query_fields(raw.as_deref());
    let typed = Typed::of(&fields);
    let asked = read_query(lang, &fields);
    let check = match app.store.last_chain_check().await {
        Ok(c) => c.map(|c| check_view(lang, &c)),
        Err(e) => return error_page(&ctx, ApiError::Store(e)),
    };
    let (rows, next) = if asked.errors.is_empty() {
        match entry_lines(&app, lang, &asked, &typed).await {
            Ok(lines) => lines,
            Err(e) => return error_page(&ctx, ApiError::Store(e)),
        }
    } else {
        (Vec::new(), None)
    };
    let first = asked.before.map(|_| href("/admin/audit", &typed.pairs()));
    let status = if asked.errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let back = ctx.path.clone();
    let Typed {
        actor,
        entity,
        record,
        from,
        to,
    } = typed;
    render_status(
        status,
        &AuditPage {
            ctx,
            actor,
            entity,
            record,
            from,
            to,
            errors: asked.errors,
            rows,
            next,
            first,
            check,
            back,
        },
    )
}

/// `POST /admin/audit/verify`
#[utoipa::path(
    post,
    path = "/admin/audit/verify",
    summary = "Verify the audit chain now (form: csrf_token, back: the log page to return to): walks every entry as `vaxgrid audit verify` does, records the result as an entry of the log, and goes back (303) to the log page, which shows it",
    responses(
        (status = 303, description = "verified; the log page shows the result"),
    )
)]
pub async fn verify(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    body: axum::body::Bytes,
) -> Response {
    let back = super::form_pairs(&body)
        .ok()
        .map(|p| super::one(&p, "back"))
        .filter(|b| b.starts_with("/admin/audit") && !b.contains(['\r', '\n']))
        .unwrap_or_else(|| "/admin/audit".to_string());
    let done = async {
        let actor = caller.actor(&app, Permission::ManageUsers).await?;
        Ok::<_, ApiError>(app.store.verify_audit_recorded(&actor).await?)
    };
    match done.await {
        Ok(_) => see_other(&back),
        Err(e) => error_page(&ctx, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_day_range_covers_both_days_whole() {
        let asked = read_query(
            Lang::En,
            &fields(&[
                ("from", "2026-01-02"),
                ("to", " 2026-01-02 "),
                ("actor", " ana "),
            ]),
        );
        assert!(asked.errors.is_empty());
        let day = time::macros::date!(2026 - 01 - 02);
        assert_eq!(asked.filter.from, Some(day_start(day)));
        assert_eq!(asked.filter.until, Some(day_start(day) + 86_400_000_000));
        assert_eq!(asked.filter.actor.as_deref(), Some("ana"));
        assert_eq!(asked.before, None);
    }

    #[test]
    fn wrong_filters_are_named() {
        let asked = read_query(
            Lang::En,
            &fields(&[
                ("from", "2026-01-03"),
                ("to", "2026-01-02"),
                ("before", "0"),
            ]),
        );
        let mut named: Vec<_> = asked.errors.keys().cloned().collect();
        named.sort();
        assert_eq!(named, ["before", "to"]);
        let asked = read_query(Lang::En, &fields(&[("from", "3 Jan"), ("before", "12")]));
        assert!(asked.errors.contains_key("from"));
        assert_eq!(asked.before, Some(12));
    }

    #[test]
    fn the_links_keep_the_filters_as_typed() {
        let typed = Typed::of(&fields(&[("entity", "dose"), ("record", "d 1")]));
        assert_eq!(
            href("/admin/audit", &typed.pairs()),
            "/admin/audit?entity=dose&record=d+1"
        );
    }
}
