//! The JSON API under /api/v1.

pub mod aefi;
pub mod allocation;
pub mod area_groups;
pub mod area_tree;
pub mod areas;
pub mod campaigns;
pub mod catalog;
pub mod certificates;
pub mod data_quality;
pub mod doses;
pub mod lists;
pub mod outbreak;
pub mod outbreak_facilities;
pub mod outbreak_policy;
pub mod outbreak_types;
pub mod persons;
pub mod reminders;
pub mod reports;
pub mod scheduling;
pub mod site_plans;
pub mod staff;
pub mod supply;
pub mod training;
pub mod training_report;
pub mod types;
pub mod visits;
