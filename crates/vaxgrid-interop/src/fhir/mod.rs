//! FHIR R4 (4.0.1) codec for the resources vaxgrid exchanges: Patient,
//! Immunization, transaction and searchset Bundles, OperationOutcome and the
//! CapabilityStatement. Pure functions on `serde_json::Value`, no I/O; the
//! server's `/fhir` endpoints are built on top of it.
//!
//! Import is lossless: what vaxgrid does not map (extensions, narrative,
//! contacts, other names, route, reactions…) is kept verbatim in the
//! `extra` of the data and merged back on export, so a resource read and
//! written again keeps every element it had, and unknown codes are kept as
//! they are. What differs on export: a Patient without `gender` gets
//! `gender: unknown`; empty objects and arrays left in mapped elements
//! (invalid FHIR anyway) are dropped; and what the server changed in the
//! data wins over `extra`.
//!
//! Reading accepts any FHIR Patient it can hold; vaxgrid's own rules for
//! registering a person (a name, a full birth date) are a separate step,
//! [`check_registration`], which [`parse_transaction`] applies to every
//! Patient entry.
//!
//! Input is untrusted: any JSON value is answered with data or with issues
//! naming the elements (`Immunization.status`,
//! `Bundle.entry[1].resource.occurrenceDateTime`), never a panic. Strings
//! are limited to [`MAX_STRING_CHARS`] characters (narrative and attachment
//! data to [`MAX_BULK_CHARS`]).

mod bundle;
mod capability;
mod datetime;
mod immunization;
mod json;
mod outcome;
mod patient;

pub use bundle::{
    parse_transaction, search_bundle, transaction_response, EntryOutcome, Method, Resource,
    Transaction, TransactionEntry,
};
pub use capability::capability_statement;
pub use datetime::{format_fhir_date, parse_fhir_date, parse_fhir_datetime, DateTimePrecision};
pub use immunization::{
    immunization_from_fhir, immunization_to_fhir, Coding, ImmunizationData, ImmunizationStatus,
    Occurrence,
};
pub use json::{MAX_BULK_CHARS, MAX_STRING_CHARS};
pub use outcome::{operation_outcome, Issue, IssueCode, Severity, MAX_ISSUES};
pub use patient::{
    check_registration, compose_full_name, patient_from_fhir, patient_to_fhir, AddressData, Gender,
    Identifier, PatientData,
};

/// The FHIR release this codec reads and writes.
pub const FHIR_VERSION: &str = "4.0.1";
