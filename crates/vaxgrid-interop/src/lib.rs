//! Exchange formats of the field, as pure codecs (no I/O): the EU Digital
//! COVID Certificate (DCC), FHIR R4 resources, HL7 v2.5.1 VXU messages, QR
//! codes as PNG and SVG, and the layouts of vaxgrid's own CSV files.
pub mod csv;
pub mod dcc;
pub mod fhir;
pub mod hl7v2;
pub mod qr;
