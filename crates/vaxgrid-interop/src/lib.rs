//! Exchange formats of the field, as pure codecs (no I/O): the EU Digital
//! COVID Certificate (DCC).
pub mod dcc;
