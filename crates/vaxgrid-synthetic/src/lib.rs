//! Deterministic synthetic data for the demo province, tests and benchmarks:
//! residents with realistic Vietnamese names, valid ID numbers, birth dates
//! and phones, and an area tree for Quảng Ninh in Vietnam's code style.
//! Everything here is invented: no real person is described.

mod areas;
mod people;

pub use areas::{quang_ninh_areas, AreaLevelSeed, AreaSeed};
pub use people::{PersonGenerator, SyntheticPerson, PRIORITY_GROUPS};
