//! Metrics: numpy-compatible percentiles and summary statistics.

pub mod level;
pub mod percentile;
pub mod summary;

pub use percentile::percentile_linear;
pub use summary::Summary;
