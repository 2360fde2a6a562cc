//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types' `ToSchema`. A test
//! checks that it describes exactly the routes of `crate::routes()`, and a
//! snapshot (tests/snapshots) makes every change to it visible in review.

use std::sync::LazyLock;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "vaxgrid API",
        description = "Mass-vaccination campaign system. JSON, snake_case keys, RFC 3339 UTC instants, dates YYYY-MM-DD, cursor pagination (after/next_cursor), errors as application/problem+json naming the field."
    ),
    paths(
        crate::web::login_page,
        crate::web::login,
        crate::web::logout,
        crate::web::verify_page,
        crate::web::set_language,
        crate::web::asset,
        crate::healthz,
        crate::readyz,
        crate::metrics::metrics,
        crate::openapi_document,
        crate::me,
        crate::api::areas::list,
        crate::api::areas::create,
        crate::api::areas::import,
        crate::api::areas::get,
        crate::api::persons::search,
        crate::api::persons::create,
        crate::api::persons::import,
        crate::api::persons::get,
        crate::api::persons::history,
        crate::api::reminders::of_person,
        crate::api::persons::add_identifier,
        crate::api::persons::merge,
        crate::api::certificates::issue,
        crate::api::catalog::products,
        crate::api::catalog::create_product,
        crate::api::catalog::product,
        crate::api::catalog::lots,
        crate::api::catalog::create_lot,
        crate::api::catalog::lot,
        crate::api::catalog::sites,
        crate::api::catalog::create_site,
        crate::api::site_plans::import_sites,
        crate::api::site_plans::catchment,
        crate::api::site_plans::set_catchment,
        crate::api::catalog::site,
        crate::api::doses::record,
        crate::api::doses::import,
        crate::api::doses::get,
        crate::api::doses::entered_in_error,
        crate::api::reports::coverage,
        crate::api::area_groups::report,
        crate::api::aefi::report,
        crate::api::aefi::events,
        crate::api::data_quality::report,
        crate::api::data_quality::persons,
        crate::api::training_report::report,
        crate::api::scheduling::open,
        crate::api::site_plans::import_sessions,
        crate::api::scheduling::get,
        crate::api::scheduling::book,
        crate::api::visits::open,
        crate::api::visits::get,
        crate::api::visits::event,
        crate::api::visits::get_questionnaire,
        crate::api::visits::set_questionnaire,
        crate::api::visits::observation,
        crate::api::visits::site_today,
        crate::api::scheduling::get_appointment,
        crate::api::scheduling::cancel,
        crate::api::scheduling::no_show,
        crate::api::scheduling::reschedule,
        crate::api::visits::assess,
        crate::api::scheduling::zones,
        crate::api::scheduling::set_zones,
        crate::api::scheduling::next_dose,
        crate::api::campaigns::create,
        crate::api::campaigns::get,
        crate::api::campaigns::add_wave,
        crate::api::campaigns::split,
        crate::api::campaigns::targets,
        crate::api::campaigns::daily_target,
        crate::api::campaigns::progress,
        crate::api::campaigns::survey,
        crate::api::training::create_class,
        crate::api::training::add_attendee,
        crate::api::training::record_exam,
        crate::api::training::certificates,
        crate::api::certificates::trust_list,
        crate::api::certificates::verify,
        crate::api::certificates::verify_image,
        crate::api::certificates::revocation_list,
        crate::api::certificates::revoke,
        crate::fhir::metadata,
        crate::fhir::transaction,
        crate::fhir::read_patient,
        crate::fhir::search_patients,
        crate::fhir::create_patient,
        crate::fhir::search_immunizations,
        crate::fhir::read_immunization,
        crate::fhir::create_immunization,
        crate::fhir::export,
        crate::hl7::post_message,
        crate::api::lists::campaigns,
        crate::api::lists::waves,
        crate::api::lists::sessions,
        crate::api::lists::appointments,
        crate::api::lists::classes,
        crate::api::lists::class,
        crate::api::lists::investigations,
        crate::api::lists::export_sites,
        crate::api::staff::list,
        crate::api::staff::create,
        crate::api::staff::import,
        crate::api::staff::get,
        crate::api::staff::grant,
        crate::api::staff::revoke,
        crate::api::staff::disable,
        crate::api::staff::enable,
        crate::api::staff::reinvite,
        crate::api::staff::tokens,
        crate::api::staff::make_token,
        crate::api::staff::revoke_token,
        crate::api::staff::lockouts,
        crate::api::staff::clear_lockout,
        crate::api::staff::redeem,
        crate::api::staff::headcount,
        crate::api::supply::list_stores,
        crate::api::supply::create_store,
        crate::api::supply::get_store,
        crate::api::supply::add_equipment,
        crate::api::supply::set_working,
        crate::api::supply::stock,
        crate::api::supply::movements,
        crate::api::supply::record_movement,
        crate::api::supply::dispatch,
        crate::api::supply::get_shipment,
        crate::api::supply::receive,
        crate::api::supply::set_lot_status,
        crate::api::supply::persons_dosed,
        crate::api::supply::record_readings,
        crate::api::supply::import_readings,
        crate::api::supply::readings,
        crate::api::supply::open_excursions,
        crate::api::allocation::proposal,
        crate::api::allocation::confirm,
        crate::api::allocation::store_open_vials,
        crate::api::allocation::site_open_vials,
        crate::api::allocation::list_items,
        crate::api::allocation::create_item,
        crate::api::allocation::ratios,
        crate::api::allocation::set_ratio,
        crate::api::allocation::store_items,
        crate::api::allocation::move_items,
        crate::api::areas::get_border,
        crate::api::areas::set_border,
        crate::api::area_tree::get_levels,
        crate::api::area_tree::set_levels,
        crate::api::area_tree::reorganise,
        crate::api::area_tree::list_reorganisations,
        crate::api::outbreak::list_cases,
        crate::api::outbreak::confirm_case,
        crate::api::outbreak::get_case,
        crate::api::outbreak::reverse_case,
        crate::api::outbreak::case_outcome,
        crate::api::outbreak::list_contacts,
        crate::api::outbreak::add_contact,
        crate::api::outbreak::import_contacts,
        crate::api::outbreak::start_isolation,
        crate::api::outbreak::isolations_of,
        crate::api::outbreak::record_check,
        crate::api::outbreak::team_list,
        crate::api::outbreak::alerts,
        crate::api::outbreak::list_laboratories,
        crate::api::outbreak::create_laboratory,
        crate::api::outbreak::collect_samples,
        crate::api::outbreak::make_test,
        crate::api::outbreak::lab_queue,
        crate::api::outbreak::record_result,
        crate::api::outbreak::ring,
        crate::api::outbreak::scenarios,
        crate::api::outbreak::surge_plan,
        crate::api::outbreak_facilities::list_facilities,
        crate::api::outbreak_facilities::create_facility,
        crate::api::outbreak_facilities::get_facility,
        crate::api::outbreak_facilities::activate_facility,
        crate::api::outbreak_facilities::admit,
        crate::api::outbreak_facilities::discharge,
        crate::api::outbreak_facilities::occupancy,
        crate::api::outbreak_facilities::activation,
        crate::api::outbreak_facilities::list_teams,
        crate::api::outbreak_facilities::create_team,
        crate::api::outbreak_facilities::get_team,
        crate::api::outbreak_facilities::assign_team,
        crate::api::outbreak_policy::get_policy,
        crate::api::outbreak_policy::set_policy,
    ),
    components(schemas(crate::error::Problem), responses(crate::error::Problem)),
    modifiers(&Security)
)]
pub struct ApiDoc;

/// How a caller proves who they are.
struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("a machine token from `vaxgrid token create`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "vaxgrid_session",
                "a browser session from /login; requests that change something also send X-CSRF-Token",
            ))),
        );
    }
}

/// Tags an operation by its handler's module (`persons`, `fhir`, `service`
/// for the server's own routes) and makes its id unique across modules
/// (`persons_get`), as the handlers' names repeat (`get`, `list`).
fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let module = op
                .tags
                .as_ref()
                .and_then(|t| t.first())
                .map(|t| t.rsplit("::").next().unwrap_or(t).to_string())
                .filter(|m| m != "crate")
                .unwrap_or_else(|| "service".to_string());
            let id = op.operation_id.take().unwrap_or_default();
            op.operation_id = Some(format!("{module}_{id}"));
            op.tags = Some(vec![module]);
        }
    }
}

/// What the route table says of who may call: every operation that is not
/// public needs a token or a session, answers 401 without one and 403 to a
/// caller without the permission.
fn guard_operations(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{Ref, RefOr};
    for route in crate::routes() {
        if matches!(route.policy, crate::auth::Policy::Public) {
            continue;
        }
        let Some(item) = doc.paths.paths.get_mut(route.path) else {
            continue;
        };
        let op = match route.method.as_str() {
            "GET" => item.get.as_mut(),
            "POST" => item.post.as_mut(),
            "PUT" => item.put.as_mut(),
            "DELETE" => item.delete.as_mut(),
            "PATCH" => item.patch.as_mut(),
            _ => None,
        };
        let Some(op) = op else { continue };
        op.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
        for status in ["401", "403"] {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Problem")));
        }
    }
}

/// What the request layers answer for any operation that takes input,
/// before its handler runs: 400 for a parameter or body that is not text
/// the database can store (`edge`) or does not parse, and for a body 413
/// (too large) and 415 (another content type). Documented on every such
/// operation that does not say it already.
fn input_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{Ref, RefOr};
    for item in doc.paths.paths.values_mut() {
        let shared = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let body = op.request_body.is_some();
            let params = shared || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
            let mut add = Vec::new();
            if body || params {
                add.push("400");
            }
            if body {
                add.extend(["413", "415"]);
            }
            for status in add {
                let response = op
                    .responses
                    .responses
                    .entry(status.to_string())
                    .or_insert_with(|| RefOr::Ref(Ref::from_response_name("Problem")));
                // A page or a FHIR operation may describe its own 400; the
                // layers' problem+json is one of its forms too.
                if let RefOr::T(r) = response {
                    r.content
                        .entry("application/problem+json".to_string())
                        .or_insert_with(|| {
                            utoipa::openapi::ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build()
                        });
                }
            }
        }
    }
}

/// The API's operations and every part of the pages (`web::parts_doc`),
/// named and guarded from the route table.
pub fn build() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    for part in crate::web::parts_doc() {
        doc.merge(part);
    }
    name_operations(&mut doc);
    guard_operations(&mut doc);
    input_responses(&mut doc);
    refusals_in_both_forms(&mut doc);
    doc
}

/// A refusal before the handler (400 from the request layers, 401/403
/// from the policy, 413/415 for bodies) is problem+json; a page's own
/// refusal of the same status is its HTML error page. An operation that
/// answers HTML describes both forms for those statuses.
fn refusals_in_both_forms(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    for item in doc.paths.paths.values_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ]
        .into_iter()
        .flatten()
        {
            let page = op
                .responses
                .responses
                .values()
                .any(|r| matches!(r, RefOr::T(r) if r.content.contains_key("text/html")));
            if !page {
                continue;
            }
            for status in ["400", "401", "403", "413", "415"] {
                let Some(response) = op.responses.responses.get_mut(status) else {
                    continue;
                };
                if let RefOr::Ref(_) = response {
                    *response = RefOr::T(
                        ResponseBuilder::new()
                            .description("a problem (before the page), or the error page")
                            .build(),
                    );
                }
                if let RefOr::T(r) = response {
                    r.content
                        .entry("application/problem+json".to_string())
                        .or_insert_with(|| {
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build()
                        });
                    r.content
                        .entry("text/html".to_string())
                        .or_insert_with(|| ContentBuilder::new().build());
                }
            }
        }
    }
}

/// The document as served at /api/v1/openapi.json, built once.
pub fn document() -> &'static str {
    static DOC: LazyLock<String> = LazyLock::new(|| {
        build()
            .to_pretty_json()
            .expect("the OpenAPI document serialises")
    });
    &DOC
}
