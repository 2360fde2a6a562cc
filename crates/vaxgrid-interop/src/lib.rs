//! DCC
