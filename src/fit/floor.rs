//! Measured figures no GPU could reach: a report's levels simulated on an ideal GPU — every
//! roofline efficiency at 100% of the datasheet, no host time (no step or per-sequence overhead,
//! no API server, no front end) — give a floor under every latency and a ceiling over every
//! throughput for the workload, flags and release the report states. A measured figure well past
//! that bound cannot have come from the setup as written: the report ran something else (another
//! client concurrency or server limit, prompts the prefix cache already held, failed requests
//! left out of its means, a mislabelled column). Such a figure is shown beside the others, and
//! named so that nobody fits a GPU to it.
//!
//! The bound is the simulator's own physics, so it also catches servecast counting work the
//! GPU does not do; either way the level deserves a look before it is trusted.

use serde::Serialize;

use super::validate::Headline;
use crate::cost::profile::{CostParams, Profile, ProfileKind};
use crate::measured::MeasuredReport;
use crate::report::compare::compare_level;
use crate::scenario::Scenario;
use crate::Result;

/// How far past the ideal bound a figure must be to be named, as a fraction (25%): well beyond
/// what sampling the dataset and the arrivals differently moves a level's figures.
pub const FLOOR_MARGIN: f64 = 0.25;

/// A measured figure beyond what the ideal GPU reaches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloorBreach {
    /// Report id.
    pub setup: String,
    /// Level index in the report.
    pub level: usize,
    /// The figure, e.g. `ttft_ms.mean` or `output_throughput_tok_s`.
    pub figure: String,
    /// What the report printed (the figure's unit).
    pub measured: f64,
    /// What the ideal GPU gives: a latency no run can beat, a throughput no run can pass.
    pub bound: f64,
}

impl FloorBreach {
    /// Whether higher is better for the figure (a throughput), else lower (a latency, a duration).
    pub fn higher_is_better(&self) -> bool {
        higher_is_better(&self.figure)
    }

    /// One line for a report: the figure, the measured value and the bound.
    pub fn describe(&self) -> String {
        let (verb, bound_word) = if self.higher_is_better() {
            ("above", "the most")
        } else {
            ("below", "the least")
        };
        format!(
            "level {}: measured {} {} is {verb} {bound_word} an ideal GPU gives for this workload ({}; every roofline \
             efficiency at 100%, no host time)",
            self.level + 1,
            self.figure,
            sig(self.measured),
            sig(self.bound)
        )
    }
}

fn higher_is_better(figure: &str) -> bool {
    figure.contains("throughput") || figure.contains("x_realtime")
}

/// About four significant figures (none after the point from 1,000 up).
fn sig(v: f64) -> String {
    let a = v.abs();
    let decimals = if a >= 1000.0 {
        0
    } else if a >= 100.0 {
        1
    } else if a >= 10.0 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

impl CostParams {
    /// The ideal GPU: every efficiency 1, every host and fixed GPU term 0 (a bound, not a
    /// prediction).
    pub fn ideal() -> CostParams {
        CostParams {
            weights_bandwidth_efficiency: 1.0,
            attention_bandwidth_efficiency: 1.0,
            compute_efficiency: 1.0,
            attention_compute_efficiency: 1.0,
            quantized_compute_efficiency: 1.0,
            expert_bandwidth_efficiency: 1.0,
            expert_compute_efficiency: 1.0,
            triton_attention_compute_efficiency: 1.0,
            moe_layer_floor_s: 0.0,
            link_efficiency: 1.0,
            allreduce_latency_s: 0.0,
            attention_kernel_floor_s: 0.0,
            step_overhead_s: 0.0,
            per_seq_overhead_s: 0.0,
            frontend_latency_s: 0.0,
            prefill_step_overhead_s: 0.0,
            api_server_request_s: 0.0,
            api_server_token_s: 0.0,
            api_server_chat_request_s: 0.0,
            frontend_jitter_sigma: 0.0,
            api_server_item_s: 0.0,
            api_server_inline_item_s: 0.0,
        }
    }
}

impl Profile {
    /// The ideal GPU for an engine version ([`CostParams::ideal`]): `--profile ideal`.
    pub fn ideal(version: crate::spec::engine::EngineVersion) -> Profile {
        Profile {
            id: format!("ideal.{version}"),
            kind: ProfileKind::Ideal,
            cost: CostParams::ideal(),
            source: "ideal GPU: every roofline efficiency 1, no host time (a bound, not a prediction)".into(),
            ..Profile::roofline(version)
        }
    }
}

/// The headline figures (throughput, mean E2E latency and mean TTFT, each else its median) of
/// the report's scored levels that lie more than [`FLOOR_MARGIN`] past the ideal GPU's bound.
pub fn floor_breaches(report: &MeasuredReport) -> Result<Vec<FloorBreach>> {
    let prediction = Scenario::builder().from_report(report).ideal_profile().build()?.run()?;
    let mut out = Vec::new();
    for (i, (level, predicted)) in report.levels.iter().zip(&prediction.levels).enumerate() {
        if level.cold_start || level.failed || level.excluded.is_some() {
            continue;
        }
        let h = Headline::scored(level, &compare_level(level, predicted));
        for f in [h.throughput, h.e2e_latency, h.ttft].into_iter().flatten() {
            let beyond = if higher_is_better(&f.name) {
                f.measured > f.predicted * (1.0 + FLOOR_MARGIN)
            } else {
                f.measured < f.predicted * (1.0 - FLOOR_MARGIN)
            };
            if beyond {
                out.push(FloorBreach {
                    setup: report.id.clone(),
                    level: i,
                    figure: f.name.clone(),
                    measured: f.measured,
                    bound: f.predicted,
                });
            }
        }
    }
    Ok(out)
}

/// [`floor_breaches`] of every report that servecast can simulate (reports it cannot are skipped:
/// the pooled fit names them), in report order.
pub fn corpus_floor_breaches(reports: &[MeasuredReport]) -> Vec<FloorBreach> {
    use rayon::prelude::*;
    let per_report: Vec<Vec<FloorBreach>> = reports
        .par_iter()
        .map(|r| floor_breaches(r).unwrap_or_default())
        .collect();
    per_report.into_iter().flatten().collect()
}

/// A markdown section listing the breaches (a sentence saying there are none, else a table).
pub fn to_markdown(breaches: &[FloorBreach], setups: usize) -> String {
    let mut out = format!(
        "\n## Measured figures an ideal GPU could not reach\n\nThe {setups} measured setups, each simulated on an ideal \
         GPU (every roofline efficiency at 100% of the datasheet, no host time) under its own workload, flags and \
         release: a measured latency more than {:.0}% below that floor, or a throughput more than {:.0}% above that \
         ceiling, cannot have come from the setup as its file states it (another concurrency or server limit, prompts \
         already in the prefix cache, failed requests left out of the means, a mislabelled column). Such levels stay \
         in the tables above; they are listed here so that nobody reads a GPU's speed from them.\n\n",
        FLOOR_MARGIN * 100.0,
        FLOOR_MARGIN * 100.0
    );
    if breaches.is_empty() {
        out.push_str("None.\n");
        return out;
    }
    out.push_str("| setup | level | figure | measured | ideal GPU |\n|---|---|---|---|---|\n");
    for b in breaches {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            b.setup,
            b.level + 1,
            b.figure,
            sig(b.measured),
            sig(b.bound)
        ));
    }
    out
}
