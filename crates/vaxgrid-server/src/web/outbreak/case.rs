//! A case's page: the case's facts and vaccination status, and its
//! contact graph out to three links drawn on the server as SVG — the case
//! at the centre, each ring one link further, every person coloured by
//! class (F0–F3, the distance from the nearest confirmed case, whichever
//! case that is) and numbered — with a legend, a title and description
//! for screen readers, and the same graph as tables (the persons with
//! their class, how they were reached and their vaccination status,
//! each linking to their record; then every link). The read goes through
//! `Store::read_case`, scoped and audited as the API's read is.

use std::collections::HashMap;
use std::f64::consts::PI;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use vaxgrid_core::access::Permission;
use vaxgrid_store::outbreak_views::{CaseGraph, GraphPerson};

use super::super::{error_page, render_status, PageCtx};
use super::{class_tag, seg, vaccination_text, word, ClassTag};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::i18n::Lang;
use crate::AppState;

/// Persons read and shown around a case at most (nearest first).
pub const MAX_PERSONS: usize = 300;

/// The drawing's size (user units) and its rings' radii.
const SIZE: f64 = 640.0;
const RADII: [f64; 4] = [0.0, 120.0, 205.0, 285.0];

pub struct Node {
    pub n: usize,
    pub cx: String,
    pub cy: String,
    pub r: String,
    pub css: &'static str,
    pub label: bool,
    pub title: String,
}

pub struct Edge {
    pub x1: String,
    pub y1: String,
    pub x2: String,
    pub y2: String,
    pub household: bool,
    pub title: String,
}

#[derive(Template)]
#[template(path = "outbreak/graph.svg")]
struct GraphSvg {
    title: String,
    desc: String,
    size: f64,
    centre: f64,
    rings: Vec<f64>,
    nodes: Vec<Node>,
    edges: Vec<Edge>,
}

pub struct PersonRow {
    pub n: usize,
    pub name: String,
    pub href: String,
    pub class: ClassTag,
    pub ring: String,
    pub via: String,
    pub setting: String,
    pub exposure: String,
    pub vaccination: String,
    pub case_status: String,
}

pub struct LinkRow {
    pub source: String,
    pub contact: String,
    pub setting: String,
    pub exposure: String,
}

pub struct Fact {
    pub term: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "outbreak/case.html")]
struct CasePage {
    ctx: PageCtx,
    title: String,
    record_href: String,
    class: ClassTag,
    reversed: bool,
    facts: Vec<Fact>,
    graph_svg: String,
    summary: String,
    persons: Vec<PersonRow>,
    links: Vec<LinkRow>,
    hidden: String,
    truncated: bool,
}

/// Where each person sits: the case at the centre, each ring one link
/// further. Every person gets a sector of the circle, shared among those
/// reached through them in proportion to how many each leads to, and sits
/// in the middle of it: links run outward, not across the drawing.
fn layout(persons: &[GraphPerson]) -> HashMap<String, (f64, f64, f64)> {
    let centre = SIZE / 2.0;
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    for p in persons {
        if let Some(from) = p.reached_from.as_deref() {
            children.entry(from).or_default().push(p.person_id.as_str());
        }
    }
    // Persons come ring by ring, so a person's children come after them:
    // the weights are summed from the outermost ring in.
    let mut weight: HashMap<&str, f64> = HashMap::new();
    for p in persons.iter().rev() {
        let w = children
            .get(p.person_id.as_str())
            .map_or(1.0, |c| c.iter().map(|k| weight[k]).sum::<f64>().max(1.0));
        weight.insert(p.person_id.as_str(), w);
    }
    let per_ring: Vec<usize> = (0..=3u8)
        .map(|r| persons.iter().filter(|p| p.ring == r).count())
        .collect();
    let ring_of: HashMap<&str, u8> = persons
        .iter()
        .map(|p| (p.person_id.as_str(), p.ring))
        .collect();
    let mut out = HashMap::new();
    let Some(root) = persons.first() else {
        return out;
    };
    // (person, start of its sector, its width)
    let mut stack: Vec<(&str, f64, f64)> = vec![(root.person_id.as_str(), -PI / 2.0, 2.0 * PI)];
    while let Some((id, from, width)) = stack.pop() {
        let ring = ring_of.get(id).copied().unwrap_or(0);
        let radius = RADII[usize::from(ring.min(3))];
        let node = if ring == 0 {
            18.0
        } else {
            let n = per_ring[usize::from(ring)].max(1) as f64;
            (2.0 * PI * radius / n / 2.6).clamp(5.0, 15.0)
        };
        let a = from + width / 2.0;
        out.insert(
            id.to_string(),
            (centre + radius * a.cos(), centre + radius * a.sin(), node),
        );
        if let Some(kids) = children.get(id) {
            let total: f64 = kids.iter().map(|k| weight[k]).sum();
            let mut at = from;
            for k in kids {
                let w = width * weight[k] / total;
                stack.push((k, at, w));
                at += w;
            }
        }
    }
    out
}

/// The links drawn between the persons laid out, each titled with both
/// names, the setting and the day of exposure.
fn graph_edges(lang: Lang, g: &CaseGraph, at: &HashMap<String, (f64, f64, f64)>) -> Vec<Edge> {
    let names: HashMap<&str, &str> = g
        .persons
        .iter()
        .map(|p| (p.person_id.as_str(), p.full_name.as_str()))
        .collect();
    let name = |id: &str| names.get(id).copied().unwrap_or_default();
    g.links
        .iter()
        .filter_map(|l| {
            let a = at.get(&l.source_person_id)?;
            let b = at.get(&l.contact_person_id)?;
            Some(Edge {
                x1: format!("{:.1}", a.0),
                y1: format!("{:.1}", a.1),
                x2: format!("{:.1}", b.0),
                y2: format!("{:.1}", b.1),
                household: l.setting == "household",
                title: lang.ta(
                    "outbreak-graph-link",
                    vec![
                        ("source", name(&l.source_person_id).into()),
                        ("contact", name(&l.contact_person_id).into()),
                        ("setting", word(lang, "setting", &l.setting).into()),
                        ("date", lang.date_text(&l.exposure_on).into()),
                    ],
                ),
            })
        })
        .collect()
}

/// The persons laid out, each numbered as in the table below the graph
/// and titled with name, class and vaccination; labelled when large
/// enough to hold its number.
fn graph_nodes(
    lang: Lang,
    g: &CaseGraph,
    at: &HashMap<String, (f64, f64, f64)>,
    numbers: &HashMap<String, usize>,
) -> Vec<Node> {
    g.persons
        .iter()
        .filter_map(|p| {
            let (x, y, r) = at.get(&p.person_id)?;
            let n = numbers.get(&p.person_id).copied().unwrap_or(0);
            let tag = class_tag(p.class);
            Some(Node {
                n,
                cx: format!("{x:.1}"),
                cy: format!("{y:.1}"),
                r: format!("{r:.1}"),
                css: tag.css,
                label: *r >= 9.0,
                title: lang.ta(
                    "outbreak-graph-node",
                    vec![
                        ("n", n.into()),
                        ("name", p.full_name.clone().into()),
                        ("class", tag.text.into()),
                        ("vaccination", vaccination_text(lang, p.valid_doses).into()),
                    ],
                ),
            })
        })
        .collect()
}

/// The contact graph as SVG: the case at the centre, a ring per link.
fn graph_svg(lang: Lang, g: &CaseGraph, numbers: &HashMap<String, usize>) -> String {
    let at = layout(&g.persons);
    let count = |ring: u8| g.persons.iter().filter(|p| p.ring == ring).count();
    GraphSvg {
        title: lang.t1(
            "outbreak-graph-title",
            "name",
            g.detail.case.full_name.clone(),
        ),
        desc: graph_summary(lang, g, count(1), count(2), count(3)),
        size: SIZE,
        centre: SIZE / 2.0,
        rings: RADII[1..].to_vec(),
        nodes: graph_nodes(lang, g, &at, numbers),
        edges: graph_edges(lang, g, &at),
    }
    .render()
    .unwrap_or_default()
}

fn graph_summary(lang: Lang, g: &CaseGraph, one: usize, two: usize, three: usize) -> String {
    lang.ta(
        "outbreak-graph-desc",
        vec![
            ("name", g.detail.case.full_name.clone().into()),
            ("one", one.into()),
            ("two", two.into()),
            ("three", three.into()),
            ("links", g.links.len().into()),
        ],
    )
}

/// `GET /outbreak/cases/{id}`
#[utoipa::path(
    get,
    path = "/outbreak/cases/{id}",
    summary = "A case's page (HTML; ReadOutbreak on the person's area): the case (status, confirmation and test, onset, severity, where treated, outcome) with the person's class and vaccination status; its contact graph out to three links drawn as SVG (the case at the centre, a ring per link, persons coloured F0–F3 and numbered, household links solid, others dashed) with a legend, and the same as tables: each person's class, how they were reached, exposure and vaccination status, linking to their record (or case), then every link. The read is audited. 404 for a person with no case or outside the caller's areas",
    params(("id" = String, Path, description = "the case's person id")),
    responses(
        (status = 200, description = "OK", content_type = "text/html"),
        (status = 404, description = "the error page: no such case in the caller's areas", content_type = "text/html"),
    )
)]
pub async fn page(
    State(app): State<AppState>,
    Extension(caller): Extension<Caller>,
    ctx: PageCtx,
    Path(id): Path<String>,
) -> Response {
    let read = async {
        let actor = caller.actor(&app, Permission::ReadOutbreak).await?;
        if uuid::Uuid::parse_str(&id).is_err() {
            return Err(ApiError::Absent {
                entity: "case",
                key: id.clone(),
            });
        }
        app.store
            .case_graph(&id, &actor, MAX_PERSONS)
            .await
            .map_err(ApiError::lookup)
    };
    let g = match read.await {
        Ok(g) => g,
        Err(e) => return error_page(&ctx, e),
    };
    let lang = ctx.lang;
    let numbers: HashMap<String, usize> = g
        .persons
        .iter()
        .enumerate()
        .map(|(i, p)| (p.person_id.clone(), i + 1))
        .collect();
    let graph = graph_svg(lang, &g, &numbers);
    let names: HashMap<&str, &str> = g
        .persons
        .iter()
        .map(|p| (p.person_id.as_str(), p.full_name.as_str()))
        .collect();
    let numbered = |id: &str| {
        format!(
            "{}. {}",
            numbers.get(id).copied().unwrap_or(0),
            names.get(id).copied().unwrap_or_default()
        )
    };
    let persons = g
        .persons
        .iter()
        .map(|p| person_row(lang, &g, p, &numbers, &numbered))
        .collect();
    let c = &g.detail.case;
    let count = |ring: u8| g.persons.iter().filter(|p| p.ring == ring).count();
    let summary = graph_summary(lang, &g, count(1), count(2), count(3));
    render_status(
        StatusCode::OK,
        &CasePage {
            title: lang.t1("outbreak-case-title", "name", c.full_name.clone()),
            record_href: format!("/registry/persons/{}", seg(&c.person_id)),
            class: class_tag(g.detail.class),
            reversed: c.status == "reversed",
            facts: case_facts(lang, &g),
            graph_svg: graph,
            summary,
            persons,
            links: g
                .links
                .iter()
                .map(|l| link_row(lang, l, &numbered))
                .collect(),
            hidden: if g.hidden > 0 {
                lang.t1("outbreak-graph-hidden", "count", g.hidden)
            } else {
                String::new()
            },
            truncated: g.truncated,
            ctx,
        },
    )
}

/// A person of the graph as the table shows them: their number, class,
/// ring, the person and link they were reached by, and their case.
fn person_row(
    lang: Lang,
    g: &CaseGraph,
    p: &GraphPerson,
    numbers: &HashMap<String, usize>,
    numbered: &dyn Fn(&str) -> String,
) -> PersonRow {
    // The link the person was reached by (from the person before them).
    let link = p.reached_from.as_deref().and_then(|from| {
        g.links.iter().find(|l| {
            (l.source_person_id == from && l.contact_person_id == p.person_id)
                || (l.contact_person_id == from && l.source_person_id == p.person_id)
        })
    });
    PersonRow {
        n: numbers.get(&p.person_id).copied().unwrap_or(0),
        name: p.full_name.clone(),
        href: if p.case_status.is_some() {
            format!("/outbreak/cases/{}", seg(&p.person_id))
        } else {
            format!("/registry/persons/{}", seg(&p.person_id))
        },
        class: class_tag(p.class),
        ring: lang.int(i64::from(p.ring)),
        via: p
            .reached_from
            .as_deref()
            .map(numbered)
            .unwrap_or_else(|| "—".into()),
        setting: link.map_or_else(|| "—".into(), |l| word(lang, "setting", &l.setting)),
        exposure: link.map_or_else(|| "—".into(), |l| lang.date_text(&l.exposure_on)),
        vaccination: vaccination_text(lang, p.valid_doses),
        case_status: p
            .case_status
            .as_deref()
            .map(|s| word(lang, "status", s))
            .unwrap_or_default(),
    }
}

/// A link of the graph: its two persons (numbered), setting and day.
fn link_row(
    lang: Lang,
    l: &vaxgrid_store::outbreak_views::GraphLink,
    numbered: &dyn Fn(&str) -> String,
) -> LinkRow {
    LinkRow {
        source: numbered(&l.source_person_id),
        contact: numbered(&l.contact_person_id),
        setting: word(lang, "setting", &l.setting),
        exposure: lang.date_text(&l.exposure_on),
    }
}

/// The case's facts: status, confirmation and test, onset, severity,
/// where treated, outcome, vaccination, and why it was reversed.
fn case_facts(lang: Lang, g: &CaseGraph) -> Vec<Fact> {
    let c = &g.detail.case;
    let opt = |v: &Option<String>| v.as_deref().map(|d| lang.date_text(d));
    let fact = |key: &str, value: String| Fact {
        term: lang.t(key),
        value,
    };
    let mut facts = vec![
        fact("outbreak-col-status", word(lang, "status", &c.status)),
        fact(
            "outbreak-col-confirmed",
            format!(
                "{} ({})",
                lang.date_text(&c.confirmed_on),
                word(lang, "test", &c.test_kind)
            ),
        ),
        fact(
            "outbreak-col-onset",
            opt(&c.onset_on).unwrap_or_else(|| "—".into()),
        ),
        fact("outbreak-col-severity", word(lang, "severity", &c.severity)),
        fact(
            "outbreak-col-treated",
            c.treated_at.clone().unwrap_or_else(|| "—".into()),
        ),
        fact(
            "outbreak-col-outcome",
            match opt(&c.recovered_on) {
                Some(d) => format!("{} ({d})", word(lang, "outcome", &c.outcome)),
                None => word(lang, "outcome", &c.outcome),
            },
        ),
        fact(
            "outbreak-col-vaccination",
            vaccination_text(lang, g.detail.valid_doses),
        ),
    ];
    if let Some(reason) = &c.reversed_reason {
        facts.push(fact("outbreak-col-reversed", reason.clone()));
    }
    facts
}
