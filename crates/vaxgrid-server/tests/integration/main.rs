//! The server's HTTP tests, one test binary: each module is one area of
//! the API or the pages, each test starts the real router on a free port
//! over a scratch database (`common::TestApp`), on SQLite and PostgreSQL.
//! One binary links the whole stack once instead of once per file.

#[path = "../common/mod.rs"]
mod common;

mod access;
mod access_bodies;
mod admin_pages;
mod aefi;
mod allocation_api;
mod area_tree;
mod campaigns;
mod csv_props;
mod data_quality;
mod edge;
mod exchange;
mod http_api;
mod identity;
mod operations;
mod outbreak_api;
mod outbreak_pages;
mod planner_pages;
mod portal;
mod registry_pages;
mod reminders;
mod scheduling;
mod site_plans;
mod supply_api;
mod supply_pages;
mod table_pages;
mod throttle;
mod training;
mod training_report;
mod visits;
