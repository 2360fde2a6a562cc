//! Vaccine supply and the cold chain: how a delivery is split down the store
//! tree, the movements of a stock ledger and the rules they obey, open
//! multi-dose vials, whether a lot may be used for a dose, and temperature
//! excursions. Pure rules over plain data, like the rest of the core; the
//! store keeps the ledger and its counters, the server exposes them.
pub mod allocation;
pub mod ancillary;
pub mod cold_chain;
pub mod ledger;
pub mod lot;
pub mod vial;
