//! The vaxgrid domain: pure rules over plain data. No I/O, no async, no SQL:
//! everything here is unit-testable in microseconds, and the store and server
//! only call it.
pub mod access;
pub mod aefi;
pub mod area;
pub mod area_groups;
pub mod area_reorg;
pub mod campaign;
pub mod coverage;
pub mod data_quality;
pub mod dose;
pub mod history;
pub mod identity;
pub mod names;
pub mod outbreak;
pub mod product;
pub mod reminders;
pub mod schedule;
pub mod site;
pub mod spreadsheet;
pub mod staff;
pub mod supply;
pub mod targets;
pub mod throttle;
pub mod training;
pub mod visit;
pub mod visit_body;
