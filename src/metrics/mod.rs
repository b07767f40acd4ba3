//! Metrics: numpy-compatible percentiles and summary statistics, streamed in bounded memory.

pub mod level;
pub mod percentile;
pub mod stream;
pub mod summary;

pub use percentile::percentile_linear;
pub use summary::Summary;
