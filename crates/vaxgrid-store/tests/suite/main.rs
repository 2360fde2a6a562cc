//! The store's tests on both backends, one test binary: each module is one
//! part of the store (`common::fixture` opens a scratch database per test
//! on SQLite and on PostgreSQL).

mod common;

mod area_levels;
mod audit_anchors;
mod distribution;
mod outbreak;
mod reorganisations;
mod store_suite;
mod supply;
mod supply_reports;
