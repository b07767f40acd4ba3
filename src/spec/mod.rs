//! Specifications: GPUs, models, the engine and its flags, and the built-in catalog.

pub mod catalog;
pub mod cmdline;
pub mod engine;
pub mod gpu;
pub mod hf;
pub mod model;
pub mod registry;
pub mod speculative;

pub use catalog::*;
pub use gpu::*;
pub use model::*;
