//! Outbreak response (source article 003): confirmed cases (F0) and their
//! contacts as a graph whose classes F1/F2/F3 are distances, never entered
//! by hand (`graph`); the surge planner that projects beds, isolation places
//! and laboratory load for a scenario (`surge`); pooled testing as a state
//! machine with each laboratory's queue (`pooling`); isolation plans by
//! class and vaccination status, tests due and the daily checks' alerts
//! (`isolation`); treatment facilities' beds, occupancy by day and which
//! facility to activate next (`beds`); the dates a case's confirmation may
//! take (`confirmation`).
pub mod beds;
pub mod confirmation;
pub mod graph;
pub mod isolation;
pub mod pooling;
pub mod surge;
