//! Integration tests, in one binary so they link once.

mod charts;
mod corpus;
mod datasets;
mod invariants;
mod memory;
mod plan;
mod profiles;
mod quantization;
mod refusals;
mod seed000;
mod seed003;
mod sweep;
mod uncertainty;
mod validation;
