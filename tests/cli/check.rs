//! `wijksim check` and the validation of scenario files.
