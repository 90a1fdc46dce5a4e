//! From a municipality's own data to a scenario: reading its CSV exports ([`csv`]), fitting transition
//! rows to client episodes ([`fit`], `wijksim fit`) and calibrating parameters to observed targets
//! ([`calibrate`], `wijksim calibrate`).

pub mod calibrate;
pub mod csv;
pub mod fit;
