//! `wijksim run`: output files, reproducibility, output folder safety.
