//! servecast predicts how an LLM serving deployment (vLLM, nano-vllm) behaves before anyone rents
//! the GPUs: a discrete-event simulator of the engine, grounded in a roofline of the GPU and model
//! and calibrated to measured load tests.
//!
//! The data flows one way:
//!
//! ```text
//! spec (gpu, model, engine flags, workload)   validated once at the edge
//!   → memory          util × total − weights − activation peak − non-torch → KV blocks, vLLM's errors
//!   → workload        requests and arrivals, deterministic from a seed
//!   → engine          event loop + scheduler (vLLM V1, V0, nano-vllm) + KV block pool
//!       └ cost        time of one step from its batch: roofline × efficiencies + overheads
//!   → metrics         TTFT, TPOT, ITL, E2E latency, throughput (numpy percentiles)
//!   → fit             calibrate overheads to measured reports
//!   → report          seed-style tables, JSON, CSV; predicted vs measured
//! ```
//!
//! ```no_run
//! use servecast::scenario::Scenario;
//! let prediction = Scenario::builder().gpu("4090").from_builtin_report()?.build()?.run()?;
//! println!("{}", prediction.memory.max_concurrency_line());
//! for level in &prediction.levels {
//!     println!("c={:?}: {:.0} tok/s, mean TTFT {:.1} ms", level.concurrency, level.output_throughput_tok_s, level.ttft_ms.mean);
//! }
//! # Ok::<(), servecast::Error>(())
//! ```

#![warn(missing_docs)]

pub mod app;
pub mod charts;
pub mod cost;
pub mod engine;
pub mod error;
pub mod fit;
pub mod measured;
pub mod memory;
pub mod metrics;
pub mod plan;
pub mod profiles;
pub mod report;
pub mod scenario;
pub mod spec;
pub mod sweep;
pub mod uncertainty;
pub mod units;
pub mod workload;

pub use error::{Error, Result};
