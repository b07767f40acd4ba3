//! Workload generation: random numbers and token-length distributions.

pub mod arrivals;
pub mod client_command;
pub mod datasets;
pub mod lengths;
pub mod numpy_draws;
pub mod rng;
pub mod trace;

pub use lengths::{LengthDist, ReportedStats};
pub use rng::SimRng;
