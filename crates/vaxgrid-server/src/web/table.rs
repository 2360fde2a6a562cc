//! The vaccination table: the queue, finding or registering a person, check-in, screening, consent, the dose, and the observation board with adverse events.

use crate::RouteDef;

use super::PageCtx;

/// The routes of this part (joined into the route table by `web::part_routes`).
pub fn routes() -> Vec<RouteDef> {
    Vec::new()
}

/// The menu entries this part shows the caller: (href, Fluent key).
pub fn nav(_ctx: &PageCtx) -> Vec<(String, &'static str)> {
    Vec::new()
}

/// The OpenAPI paths of this part's routes.
#[derive(utoipa::OpenApi)]
#[openapi()]
pub struct Pages;
