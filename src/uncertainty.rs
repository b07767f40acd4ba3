//! Prediction intervals: replications over seeds, plus the fit's parameter uncertainty.
//!
//! Each replication reruns the scenario with another seed (arrivals, lengths, routing) and, when
//! the profile carries the fit's covariance, with cost parameters drawn from it (a multivariate
//! normal through its Cholesky factor, so correlated parameters such as the step and per-sequence
//! overheads move together, as the data allows). The interval of a metric is the central
//! `coverage` share of its replicated values.

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::Serialize;

use crate::cost::Profile;
use crate::error::{Error, Result};
use crate::metrics::level::LevelResult;
use crate::metrics::percentile_linear;
use crate::scenario::{Prediction, Scenario};
use crate::workload::rng::SimRng;

/// How to replicate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct UncertaintyOptions {
    /// Simulations per scenario (the first uses the scenario's own seed and parameters).
    pub replications: u32,
    /// Draw cost parameters from the profile's covariance (when it has one).
    pub parameter_uncertainty: bool,
    /// Central share of the replicated values the interval covers, in (0, 1).
    pub coverage: f64,
}

impl Default for UncertaintyOptions {
    fn default() -> Self {
        UncertaintyOptions {
            replications: 8,
            parameter_uncertainty: true,
            coverage: 0.9,
        }
    }
}

/// A central interval of a replicated metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Median of the replications.
    pub median: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// The interval of `values` covering the central `coverage` share (linear percentiles).
    pub fn of(values: &[f64], coverage: f64) -> Interval {
        let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return Interval {
                low: f64::NAN,
                median: f64::NAN,
                high: f64::NAN,
            };
        }
        v.sort_by(f64::total_cmp);
        let tail = (1.0 - coverage) / 2.0 * 100.0;
        Interval {
            low: percentile_linear(&v, tail),
            median: percentile_linear(&v, 50.0),
            high: percentile_linear(&v, 100.0 - tail),
        }
    }

    /// Half the width relative to the median (0.05 = ±5%).
    pub fn relative_half_width(&self) -> f64 {
        (self.high - self.low) / 2.0 / self.median.abs().max(f64::MIN_POSITIVE)
    }
}

/// Intervals of one level's headline metrics.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelIntervals {
    /// Closed-loop users, if the level is a concurrency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Request rate, if the level is open loop.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qps: Option<f64>,
    /// Completed requests per second.
    pub request_throughput_req_s: Interval,
    /// Generated tokens per second.
    pub output_throughput_tok_s: Interval,
    /// Mean TTFT, ms.
    pub ttft_ms_mean: Interval,
    /// P95 TTFT, ms.
    pub ttft_ms_p95: Interval,
    /// Mean TPOT, ms.
    pub tpot_ms_mean: Interval,
    /// Mean E2E latency, ms.
    pub e2e_latency_ms_mean: Interval,
    /// P95 E2E latency, ms.
    pub e2e_latency_ms_p95: Interval,
    /// TTS: × real time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_realtime: Option<Interval>,
    /// TTS: mean TTFB, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ttfb_ms_mean: Option<Interval>,
}

/// The profile with cost parameters drawn from its covariance (a copy of it when it has none).
pub fn perturbed_profile(profile: &Profile, rng: &mut SimRng) -> Profile {
    let mut p = profile.clone();
    let Some(u) = &profile.uncertainty else { return p };
    let n = u.params.len();
    if n == 0 {
        return p;
    }
    let cov = DMatrix::from_fn(n, n, |i, j| u.covariance[i][j]);
    let z = DVector::from_fn(n, |_, _| rng.standard_normal());
    let delta = match cov.clone().cholesky() {
        Some(ch) => ch.l() * z,
        // Not positive definite (rounding): fall back to independent draws.
        None => DVector::from_fn(n, |i, _| cov[(i, i)].max(0.0).sqrt() * z[i]),
    };
    for (i, name) in u.params.iter().enumerate() {
        let is_fraction = name.ends_with("_efficiency");
        if let Some(v) = p.cost.fitted_mut(name) {
            *v = if is_fraction {
                (*v + delta[i]).clamp(0.01, 1.0)
            } else {
                (*v + delta[i]).max(0.0)
            };
        }
    }
    p
}

/// Runs `scenario` `replications` times (in parallel): seeds `seed, seed + 1, …`, and, when asked
/// and available, cost parameters drawn from the fit's covariance (not for the first run).
pub fn replicate(scenario: &Scenario, opts: &UncertaintyOptions) -> Result<Vec<Prediction>> {
    if opts.replications == 0 || opts.replications > 10_000 {
        return Err(Error::invalid("--replications", "replications", "must be in 1..=10000"));
    }
    if !(opts.coverage > 0.0 && opts.coverage < 1.0) {
        return Err(Error::invalid("uncertainty", "coverage", "must be in (0, 1)"));
    }
    (0..opts.replications)
        .into_par_iter()
        .map(|r| {
            let mut s = scenario.clone();
            s.seed = scenario.seed.wrapping_add(r as u64);
            if r > 0 && opts.parameter_uncertainty {
                let mut rng = SimRng::new(s.seed ^ 0x0bad_cafe_f00d);
                s.profile = perturbed_profile(&scenario.profile, &mut rng);
            }
            s.run()
        })
        .collect()
}

/// Intervals per level over replicated predictions of one scenario.
pub fn level_intervals(predictions: &[Prediction], coverage: f64) -> Vec<LevelIntervals> {
    let Some(first) = predictions.first() else {
        return Vec::new();
    };
    (0..first.levels.len())
        .map(|i| {
            let levels: Vec<&LevelResult> = predictions.iter().filter_map(|p| p.levels.get(i)).collect();
            let of = |f: &dyn Fn(&LevelResult) -> f64| {
                Interval::of(&levels.iter().map(|l| f(l)).collect::<Vec<_>>(), coverage)
            };
            let tts = first.levels[i].tts.is_some();
            LevelIntervals {
                concurrency: first.levels[i].concurrency,
                qps: first.levels[i].qps,
                request_throughput_req_s: of(&|l| l.request_throughput_req_s),
                output_throughput_tok_s: of(&|l| l.output_throughput_tok_s),
                ttft_ms_mean: of(&|l| l.ttft_ms.mean),
                ttft_ms_p95: of(&|l| l.ttft_ms.p95),
                tpot_ms_mean: of(&|l| l.tpot_ms.mean),
                e2e_latency_ms_mean: of(&|l| l.e2e_latency_ms.mean),
                e2e_latency_ms_p95: of(&|l| l.e2e_latency_ms.p95),
                x_realtime: tts.then(|| of(&|l| l.tts.as_ref().map_or(f64::NAN, |t| t.throughput_x_realtime))),
                ttfb_ms_mean: tts.then(|| of(&|l| l.tts.as_ref().map_or(f64::NAN, |t| t.ttfb_ms.mean))),
            }
        })
        .collect()
}

/// Runs the scenario with intervals: the first replication's prediction, with `intervals` set.
pub fn predict_with_intervals(scenario: &Scenario, opts: &UncertaintyOptions) -> Result<Prediction> {
    let runs = replicate(scenario, opts)?;
    let intervals = level_intervals(&runs, opts.coverage);
    let mut first = runs
        .into_iter()
        .next()
        .ok_or_else(|| Error::invalid("--replications", "replications", "must be ≥ 1"))?;
    first.intervals = intervals;
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_of_known_values() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        let i = Interval::of(&v, 0.9);
        for (got, want) in [(i.low, 5.0), (i.median, 50.0), (i.high, 95.0)] {
            assert!((got - want).abs() < 1e-9, "{got} vs {want}");
        }
        assert!((i.relative_half_width() - 0.9).abs() < 1e-12);
    }
}
