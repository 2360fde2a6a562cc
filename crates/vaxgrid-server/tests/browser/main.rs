//! End-to-end tests in headless Chromium, one test binary: each module
//! walks one group of pages as its users do (`harness` drives Chromium
//! through chromedriver and checks every page with axe-core).

#[path = "../common/mod.rs"]
mod common;
mod harness;

mod admin;
mod allocation;
mod facilities;
mod first_pages;
mod outbreak;
mod planner;
mod portal;
mod registry;
mod reports;
mod supply;
mod table;
