//! Integration tests, in one binary so they link once.

mod charts;
mod corpus;
mod datasets;
mod families;
mod gpus2026;
mod import_aiperf;
mod import_guidellm;
mod import_llmperf;
mod import_sglang;
mod invariants;
mod memory;
mod multistep;
mod plan;
mod profiles;
mod quantization;
mod refusals;
mod replay;
mod scale;
mod seed000;
mod seed003;
mod speculative;
mod startup_logs;
mod sweep;
mod uncertainty;
mod validation;
mod warm_cache;
