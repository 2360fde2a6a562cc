//! HL7 v2.5.1 VXU^V04 codec (CDC Implementation Guide for Immunization
//! Messaging, Release 1.5), pure: no I/O.
//!
//! - [`parse_vxu`] reads and validates a vaccination record update;
//! - [`ack_context`] and [`ack`] build the ACK^V04 answer, ERR segments
//!   included;
//! - [`split_batch`] and [`ack_batch`] take FHS/BHS batch files apart and
//!   answer them message by message;
//! - [`parse_query`] and [`rsp_k11`] read QBP^Q11 queries (CDC Z34
//!   history, Z44 forecast) and build their RSP^K11 answers;
//! - [`mllp::frame`] and [`MllpDecoder`] handle MLLP framing for a TCP
//!   listener;
//! - [`Message`] is the generic segment/field parser underneath.
mod ack;
mod batch;
mod cvx;
mod datetime;
mod error;
mod message;
pub mod mllp;
mod query;
mod vxu;

pub use ack::{ack, ack_context, AckCode, AckContext};
pub use batch::{ack_batch, is_batch, split_batch, Batch};
pub use cvx::{cvx_for_product, is_covid_cvx, known_vaccine, product_for_cvx};
pub use datetime::{parse_date, parse_datetime, Hl7DateTime, Precision};
pub use error::{ErrorCode, Hl7Error, Severity};
pub use message::{escape, unescape, Component, Delimiters, Field, Message, Repetition, Segment};
pub use mllp::{MllpDecoder, MllpError};
pub use query::{
    is_query, parse_query, rsp_k11, AnsweredPatient, AnsweredVaccination, Forecast, Query,
    QueryProfile, QueryStatus,
};
pub use vxu::{
    parse_vxu, parse_vxu_on, Address, Coded, CompletionStatus, Hl7Patient, MessageHeader,
    Observation, PatientIdentifier, Vaccination, Vxu,
};
