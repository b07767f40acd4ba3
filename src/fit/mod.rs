//! Calibration: fit a profile's CPU-side overheads to a measured report, keep the physics fixed.
//!
//! Only what the data can identify is fitted: the fixed step overhead, the per-sequence overhead and
//! the front-end latency. Bandwidth and compute efficiencies stay at their roofline priors, because
//! in a closed-loop sweep batch size and total context grow together, so a per-sequence cost and a
//! per-context-token (attention bandwidth) cost cannot be told apart; the fit says so in a warning.
//!
//! Method: a linear least-squares start (nalgebra) from per-level TPOT residuals over the roofline,
//! then Nelder–Mead on the simulated levels (log errors of throughput, mean E2E latency and mean
//! TTFT), with common random numbers (one seed for every evaluation) so the objective is smooth.
//! The memory model's non-torch term is pinned from a logged "Maximum concurrency" line if present.

pub mod card_memory;
pub mod classes;
pub mod floor;
pub mod hierarchy;
pub mod map;
pub mod nelder_mead;
pub mod validate;

use std::time::Instant;

use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;
use serde::Serialize;

use crate::cost::{CostParams, Profile, ProfileKind, StepBatch};
use crate::error::{Error, Result};
use crate::measured::MeasuredReport;
use crate::memory::{calibrate_from_max_concurrency, estimate_activation_peak_bytes, MemoryCalibration};
use crate::metrics::level::LevelResult;
use crate::report::compare::{compare_level, LevelComparison};
use crate::scenario::Scenario;

/// What to fit and how hard to try.
#[derive(Debug, Clone)]
pub struct FitOptions {
    /// Level indices left out of the fit (for cross-validation).
    pub exclude_levels: Vec<usize>,
    /// Most simulations of the whole level set.
    pub max_evaluations: usize,
    /// Weight of the mean-TTFT term relative to throughput and latency.
    pub ttft_weight: f64,
    /// Weight of the mean time-to-first-audio term (TTS bursts), relative to throughput.
    pub ttfb_weight: f64,
    /// The learned prior a vLLM fit corrects (None: the embedded `data/priors.yaml`). Validation
    /// passes one learned without the report it checks, so the report is not in its own prior.
    pub prior: Option<std::sync::Arc<crate::cost::prior::LearnedPriors>>,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            exclude_levels: Vec::new(),
            max_evaluations: 160,
            ttft_weight: 0.1,
            ttfb_weight: 1.0,
            prior: None,
        }
    }
}

/// A fitted parameter with its standard error.
#[derive(Debug, Clone, Serialize)]
pub struct ParamEstimate {
    /// Parameter name (as in the profile).
    pub name: String,
    /// Fitted value (seconds for overheads).
    pub value: f64,
    /// Local-curvature standard error from the Jacobian at the optimum, with one degree of freedom
    /// per level (NaN when singular or at a bound); a scale of how sharply the data pins the
    /// value, not a sampling error.
    pub std_err: f64,
    /// How it was determined: `fitted`, or `prior (physics)` for held values.
    pub origin: String,
}

/// One level's figures after the fit.
#[derive(Debug, Clone, Serialize)]
pub struct LevelFit {
    /// The report the level belongs to.
    pub report: String,
    /// Whether the level was used in the fit (false: held out).
    pub in_fit: bool,
    /// Measured vs predicted figures.
    pub comparison: LevelComparison,
}

/// The outcome of a fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitResult {
    /// The fitted profile.
    pub profile: Profile,
    /// Simulations of the level set the fit ran.
    pub evaluations: usize,
    /// Wall time of the fit, seconds.
    pub elapsed_s: f64,
    /// Final objective (weighted sum of squared log errors).
    pub objective: f64,
    /// Parameters, fitted and held.
    pub params: Vec<ParamEstimate>,
    /// Identifiability and sanity warnings.
    pub warnings: Vec<String>,
    /// Every level, measured vs predicted with the fitted profile.
    pub levels: Vec<LevelFit>,
    /// Card memory readings, measured vs predicted with the fitted memory terms.
    pub card_memory: Vec<card_memory::CardMemoryFit>,
}

/// A cost parameter the fit may move; the optimiser works on `value ÷ scale` so all are O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Knob {
    StepOverhead,
    PerSeqOverhead,
    FrontendLatency,
    PrefillStepOverhead,
    ApiServerRequest,
    ApiServerItem,
}

impl Knob {
    fn name(self) -> &'static str {
        match self {
            Knob::StepOverhead => "step_overhead_s",
            Knob::PerSeqOverhead => "per_seq_overhead_s",
            Knob::FrontendLatency => "frontend_latency_s",
            Knob::PrefillStepOverhead => "prefill_step_overhead_s",
            Knob::ApiServerRequest => "api_server_request_s",
            Knob::ApiServerItem => "api_server_item_s",
        }
    }

    /// Start value (in units of `scale`) for streaming TTS data, where the prior has no opinion:
    /// the orders of magnitude of a Python server — 10 ms a step, 0.5 ms a sequence, 100 ms to
    /// reach the engine, 100 ms of eager prefill, 10 ms per request and 0.05 ms per item in the API.
    fn tts_start(self) -> f64 {
        match self {
            Knob::StepOverhead => 10.0,
            Knob::PerSeqOverhead => 5.0,
            Knob::FrontendLatency => 100.0,
            Knob::PrefillStepOverhead => 10.0,
            Knob::ApiServerRequest => 10.0,
            Knob::ApiServerItem => 0.5,
        }
    }

    fn scale(self) -> f64 {
        match self {
            Knob::PerSeqOverhead | Knob::ApiServerItem => 1e-4,
            Knob::PrefillStepOverhead => 1e-2,
            _ => 1e-3,
        }
    }

    fn get(self, c: &CostParams) -> f64 {
        match self {
            Knob::StepOverhead => c.step_overhead_s,
            Knob::PerSeqOverhead => c.per_seq_overhead_s,
            Knob::FrontendLatency => c.frontend_latency_s,
            Knob::PrefillStepOverhead => c.prefill_step_overhead_s,
            Knob::ApiServerRequest => c.api_server_request_s,
            Knob::ApiServerItem => c.api_server_item_s,
        }
    }

    fn set(self, c: &mut CostParams, v: f64) {
        match self {
            Knob::StepOverhead => c.step_overhead_s = v,
            Knob::PerSeqOverhead => c.per_seq_overhead_s = v,
            Knob::FrontendLatency => c.frontend_latency_s = v,
            Knob::PrefillStepOverhead => c.prefill_step_overhead_s = v,
            Knob::ApiServerRequest => c.api_server_request_s = v,
            Knob::ApiServerItem => c.api_server_item_s = v,
        }
    }
}

fn apply(base: &CostParams, knobs: &[Knob], x: &[f64]) -> CostParams {
    let mut c = *base;
    for (k, v) in knobs.iter().zip(x) {
        k.set(&mut c, v.max(0.0) * k.scale());
    }
    c
}

fn log_err(pred: f64, meas: Option<f64>) -> Option<f64> {
    let m = meas?;
    (m > 0.0 && pred > 0.0).then(|| (pred / m).ln())
}

/// The residual vector (weighted log errors) of a set of simulated levels against the report.
///
/// Per level: throughput (output tokens/s, else requests/s, else total time), mean E2E latency
/// (else the median), and TTFT (mean, else median, compared like for like), the last weighted by
/// `ttft_weight`.
pub fn residuals(
    report: &MeasuredReport,
    results: &[(usize, LevelResult)],
    ttft_weight: f64,
    ttfb_weight: f64,
) -> Vec<f64> {
    let mut r = Vec::new();
    let w_ttft = ttft_weight.sqrt();
    let w_ttfb = ttfb_weight.sqrt();
    for (i, res) in results {
        let m = &report.levels[*i];
        let tts = res.tts.as_ref();
        if m.failed || res.requests == 0 {
            continue;
        }
        let throughput = if let (Some(x), Some(t)) = (m.audio_throughput_x_realtime, tts) {
            log_err(t.throughput_x_realtime, Some(x))
        } else if let Some(t) = m.output_throughput_tok_s {
            log_err(res.output_throughput_tok_s, Some(t))
        } else if let Some(q) = m.request_throughput_req_s {
            log_err(res.request_throughput_req_s, Some(q))
        } else {
            m.total_time_s.and_then(|t| log_err(t, Some(res.duration_s)))
        };
        r.extend(throughput);
        if let Some(e2e) = m.e2e_latency_ms {
            let e = match (e2e.mean, e2e.p50) {
                (Some(mean), _) => log_err(res.e2e_latency_ms.mean, Some(mean)),
                (None, Some(p50)) => log_err(res.e2e_latency_ms.p50, Some(p50)),
                _ => None,
            };
            r.extend(e);
        }
        if let Some(ttft) = m.ttft_ms {
            let e = match (ttft.mean, ttft.p50) {
                (Some(mean), _) => log_err(res.ttft_ms.mean, Some(mean)),
                (None, Some(p50)) => log_err(res.ttft_ms.p50, Some(p50)),
                _ => None,
            };
            r.extend(e.map(|e| w_ttft * e));
        }
        if let Some(t) = tts {
            // Time to first audio: the stand-in for TTFT on streaming TTS servers.
            if let Some(ttfb) = m.ttfb_ms {
                r.extend(log_err(t.ttfb_ms.mean, ttfb.mean).map(|e| w_ttfb * e));
            }
            if let Some(rtf) = m.rtf {
                r.extend(log_err(t.rtf.mean, rtf.mean));
            }
        }
    }
    r
}

/// Fits a profile to `report`, starting from `scenario` (built from the report with any profile).
pub fn fit_report(report: &MeasuredReport, scenario: &Scenario, opts: &FitOptions) -> Result<FitResult> {
    fit_reports(&[(report, scenario)], opts)
}

/// One report in a joint fit: its scenario, memory plan and the levels fitted.
struct Part<'a> {
    report: &'a MeasuredReport,
    scenario: Scenario,
    memory: crate::memory::MemoryPlan,
    fit_levels: Vec<usize>,
}

/// Fits one profile jointly to several reports of the same GPU, model and engine (e.g. runs with
/// different flags or workloads). `opts.exclude_levels` applies to the first report only.
pub fn fit_reports(inputs: &[(&MeasuredReport, &Scenario)], opts: &FitOptions) -> Result<FitResult> {
    let started = Instant::now();
    let Some(&(_, first)) = inputs.first() else {
        return Err(Error::Fit("nothing to fit: no report given".into()));
    };
    let version = first.engine.version;
    let prior = CostParams::prior(version);
    let mut warnings = Vec::new();
    for &(report, scenario) in inputs {
        if scenario.gpu.id != first.gpu.id || scenario.model.id != first.model.id || scenario.engine.version != version
        {
            return Err(Error::Fit(format!(
                "{}: a joint fit needs one GPU, model and engine; it has {} / {} / {}, the first report {} / {} / {}",
                report.id,
                scenario.gpu.id,
                scenario.model.id,
                scenario.engine.version,
                first.gpu.id,
                first.model.id,
                version
            )));
        }
        if !report.levels.is_empty() && report.levels.len() != scenario.workload.levels().len() {
            return Err(Error::Fit(format!(
                "{}: the report has {} levels but its workload defines {}",
                report.id,
                report.levels.len(),
                scenario.workload.levels().len()
            )));
        }
    }

    // Memory: pin the non-torch term from the first logged "Maximum concurrency" line.
    let mut memory_cal = MemoryCalibration::default();
    if let Some(&(report, scenario)) = inputs.iter().find(|(r, _)| r.logged.max_concurrency_x.is_some()) {
        if let (Some(x), Some(len)) = (report.logged.max_concurrency_x, report.logged.tokens_per_request) {
            if len != scenario.engine.max_model_len {
                warnings.push(format!(
                    "{}: logged concurrency is for {len} tokens per request but max_model_len is {}",
                    report.id, scenario.engine.max_model_len
                ));
            }
            let activation = estimate_activation_peak_bytes(&scenario.model, &scenario.engine);
            let mut cal =
                calibrate_from_max_concurrency(&scenario.model, &scenario.gpu, &scenario.engine, x, activation)?;
            cal.activation_peak_bytes = None; // re-estimated per configuration
            memory_cal = cal;
        }
    }
    if let Some(cal) = card_memory::fit_card_memory(inputs, &memory_cal, &mut warnings)? {
        memory_cal = cal;
    }
    let profile_base = Profile {
        id: format!("{}.{}.{}", first.gpu.id, first.model.id, version),
        kind: ProfileKind::Fitted,
        gpu: Some(first.gpu.id.clone()),
        model: Some(first.model.id.clone()),
        engine: version,
        cost: prior,
        memory: memory_cal,
        source: String::new(),
        uncertainty: None,
        prior: Vec::new(),
    };
    let mut parts = Vec::with_capacity(inputs.len());
    for (k, &(report, scenario)) in inputs.iter().enumerate() {
        // Memory-only setups (start-up outcomes, card readings) have no levels to simulate.
        if report.levels.is_empty() {
            continue;
        }
        let mut s = scenario.clone();
        s.profile = profile_base.clone();
        let memory = s.memory()?;
        let fit_levels: Vec<usize> = (0..report.levels.len())
            .filter(|&i| (k != 0 || !opts.exclude_levels.contains(&i)) && !report.levels[i].cold_start)
            .collect();
        // A level the fit does not see is predicted without its measured totals.
        for i in 0..report.levels.len() {
            if !fit_levels.contains(&i) {
                s.workload.forget_user_deal(i);
            }
        }
        parts.push(Part {
            report,
            scenario: s,
            memory,
            fit_levels,
        });
    }
    if parts.iter().all(|p| p.fit_levels.is_empty()) {
        return Err(Error::Fit("no level left to fit".into()));
    }
    if version != crate::spec::engine::EngineVersion::NanoVllm {
        return fit_map(&parts, profile_base, warnings, started, inputs, opts);
    }

    // Linear start: TPOT − roofline(batch, context) = step overhead + per-seq overhead × batch.
    let mut rows: Vec<(f64, f64)> = Vec::new();
    let mut ttft_floor: Option<f64> = None;
    for part in &parts {
        let base = &part.scenario;
        let roofline_cost = {
            let mut p = prior;
            p.step_overhead_s = 0.0;
            p.per_seq_overhead_s = 0.0;
            crate::cost::StepCostModel::new(&base.gpu, &base.model, &base.engine, &p)
        };
        for &i in &part.fit_levels {
            let m = &part.report.levels[i];
            let out = m
                .output_tokens
                .and_then(|s| s.mean)
                .unwrap_or_else(|| base.workload.output_len_at(i).mean());
            let Some(e2e) = m.e2e_latency_ms.and_then(|s| s.mean) else {
                continue;
            };
            let ttft = m.ttft_ms.and_then(|s| s.mean.or(s.p50)).unwrap_or(0.0);
            if out <= 1.0 {
                continue;
            }
            let tpot_s = (e2e - ttft) / (out - 1.0) * 1e-3;
            let batch = match m.concurrency {
                Some(c) => c.min(base.engine.max_num_seqs).min(m.requests) as f64,
                None => 1.0,
            };
            let ctx = base.workload.input_len_at(i).mean() + out / 2.0;
            let b = StepBatch {
                decode_seqs: batch as u64,
                output_seqs: batch as u64,
                context_tokens: (batch * ctx) as u64,
                windowed_context_tokens: (batch * ctx.min(roofline_cost.window_tokens() as f64)) as u64,
                ..StepBatch::default()
            };
            rows.push((batch, tpot_s - roofline_cost.step_seconds(&b)));
            if ttft > 0.0 {
                let floor = ttft * 1e-3 - 1.5 * tpot_s;
                ttft_floor = Some(ttft_floor.map_or(floor, |f: f64| f.min(floor)));
            }
        }
    }
    // Streaming TTS bursts (time to first audio, × real time) also pin the eager prefill cost and
    // the API server's time per request and per output item; other data leaves them at 0.
    let tts_data = parts.iter().any(|p| {
        p.fit_levels
            .iter()
            .any(|&i| p.report.levels[i].ttfb_ms.is_some() || p.report.levels[i].audio_throughput_x_realtime.is_some())
    });
    let mut knobs = vec![Knob::StepOverhead, Knob::PerSeqOverhead, Knob::FrontendLatency];
    if tts_data {
        knobs.extend([Knob::PrefillStepOverhead, Knob::ApiServerRequest, Knob::ApiServerItem]);
    }
    let mut start: Vec<f64> = knobs
        .iter()
        .map(|k| {
            if tts_data {
                k.tts_start()
            } else {
                k.get(&prior) / k.scale()
            }
        })
        .collect();
    let distinct_batches = {
        let mut b: Vec<u64> = rows.iter().map(|r| r.0 as u64).collect();
        b.sort_unstable();
        b.dedup();
        b.len()
    };
    if distinct_batches >= 2 {
        let a = DMatrix::from_fn(rows.len(), 2, |r, c| if c == 0 { 1.0 } else { rows[r].0 });
        let y = DVector::from_iterator(rows.len(), rows.iter().map(|r| r.1));
        if let Ok(sol) = a.svd(true, true).solve(&y, 1e-12) {
            start[0] = (sol[0] * 1e3).max(0.05);
            start[1] = (sol[1] * 1e4).max(0.0);
        }
    } else if let Some(&(b, y)) = rows.first() {
        start[0] = ((y - prior.per_seq_overhead_s * b) * 1e3).max(0.05);
    }
    if let Some(f) = ttft_floor {
        start[2] = (f * 1e3).max(0.1);
    }

    // Simulation-in-the-loop refinement.
    let ttft_weight = opts.ttft_weight;
    let ttfb_weight = opts.ttfb_weight;
    let mut evaluations = 0usize;
    // Every level of every part is independent (each runs from its own seed): simulated side by
    // side, with results identical to a sequential run (a Nelder–Mead fit is sequential in its
    // evaluations, so this is where its parallelism is).
    let simulate = |x: &[f64]| -> Vec<Vec<(usize, LevelResult)>> {
        let cost_params = apply(&prior, &knobs, x);
        let scenarios: Vec<(Scenario, crate::cost::StepCostModel)> = parts
            .iter()
            .map(|part| {
                let mut s = part.scenario.clone();
                s.profile.cost = cost_params;
                let cost = s.cost_model();
                (s, cost)
            })
            .collect();
        let jobs: Vec<(usize, usize)> = parts
            .iter()
            .enumerate()
            .flat_map(|(p, part)| part.fit_levels.iter().map(move |&i| (p, i)))
            .collect();
        let mut results: Vec<(usize, usize, LevelResult)> = jobs
            .par_iter()
            .map(|&(p, i)| {
                let (s, cost) = &scenarios[p];
                (p, i, s.run_level_with(i, &parts[p].memory, cost))
            })
            .collect();
        let mut out: Vec<Vec<(usize, LevelResult)>> = parts
            .iter()
            .map(|part| Vec::with_capacity(part.fit_levels.len()))
            .collect();
        for (p, i, r) in results.drain(..) {
            out[p].push((i, r));
        }
        out
    };
    let all_residuals = |results: &[Vec<(usize, LevelResult)>]| -> Vec<f64> {
        parts
            .iter()
            .zip(results)
            .flat_map(|(part, res)| residuals(part.report, res, ttft_weight, ttfb_weight))
            .collect()
    };
    let mut objective = |x: &[f64]| -> f64 {
        evaluations += 1;
        all_residuals(&simulate(x)).iter().map(|e| e * e).sum()
    };
    let steps: Vec<f64> = start
        .iter()
        .enumerate()
        .map(|(j, &v)| match j {
            0 => v.max(0.1) * 0.3,
            1 => v.max(0.5) * 0.5,
            2 => v.max(1.0) * 0.3,
            _ => v.max(0.5) * 0.5,
        })
        .collect();
    // Six parameters need more simplex moves than three; the restarts re-open a simplex that
    // collapsed onto a bound (with 800 moves and no restart the VoxCPM fit stopped at
    // per_seq_overhead_s = 0, 16% off at 128 sequences).
    let max_evaluations = if tts_data {
        opts.max_evaluations.max(3000)
    } else {
        opts.max_evaluations
    };
    let (best, best_f) = nelder_mead::minimize_restarted(&mut objective, &start, &steps, max_evaluations, 1e-10);
    let evaluations_used = evaluations;

    // Uncertainty from the Jacobian of the residuals at the optimum (parameters at a bound are
    // left out: their derivative is one-sided).
    let r0 = all_residuals(&simulate(&best));
    let n = r0.len();
    let free: Vec<usize> = (0..best.len()).filter(|&j| best[j] > 1e-9).collect();
    let p = free.len();
    let mut jac = DMatrix::zeros(n, p);
    for (col, &j) in free.iter().enumerate() {
        let h = (best[j].abs() * 0.05).max(0.01);
        let mut xp = best.clone();
        xp[j] += h;
        let rp = all_residuals(&simulate(&xp));
        for i in 0..n.min(rp.len()) {
            jac[(i, col)] = (rp[i] - r0[i]) / h;
        }
    }
    // Throughput and latency of one closed-loop level are nearly redundant (Little's law), and the
    // residuals are model misfit rather than independent noise: count one degree of freedom per
    // level, and read the result as local curvature, not a sampling error.
    let levels_fitted: usize = parts.iter().map(|p| p.fit_levels.len()).sum();
    let dof = levels_fitted.saturating_sub(p).max(1) as f64;
    let s2 = best_f / dof;
    let jtj = jac.transpose() * &jac;
    let cov = jtj.try_inverse().map(|inv| inv * s2);
    let fitted = apply(&prior, &knobs, &best);
    let scale: Vec<f64> = knobs.iter().map(|k| k.scale()).collect();
    let names: Vec<&str> = knobs.iter().map(|k| k.name()).collect();
    let values: Vec<f64> = knobs.iter().map(|k| k.get(&fitted)).collect();
    let std_err = |j: usize| -> f64 {
        match (free.iter().position(|&f| f == j), &cov) {
            (Some(col), Some(c)) => c[(col, col)].max(0.0).sqrt() * scale[j],
            _ => f64::NAN,
        }
    };
    let mut params: Vec<ParamEstimate> = (0..best.len())
        .map(|j| {
            let se = std_err(j);
            // A curvature error far beyond the value means the data does not pin it at all.
            let identifiable = !(se.is_finite() && se > 10.0 * values[j].abs().max(1e-6));
            ParamEstimate {
                name: names[j].to_string(),
                value: values[j],
                std_err: if identifiable { se } else { f64::NAN },
                origin: match (free.contains(&j), identifiable) {
                    (false, _) => "fitted (at its bound 0)".into(),
                    (true, true) => "fitted".into(),
                    (true, false) => "fitted, not identifiable from this data (start value kept nearby)".into(),
                },
            }
        })
        .collect();
    if let Some(c) = &cov {
        if let (Some(a), Some(b)) = (free.iter().position(|&f| f == 0), free.iter().position(|&f| f == 1)) {
            let corr = c[(a, b)] / (c[(a, a)] * c[(b, b)]).sqrt();
            if corr.abs() > 0.9 {
                warnings.push(format!(
                    "step_overhead_s and per_seq_overhead_s are strongly correlated (ρ = {corr:.2}): the data pins their sum at the batch sizes measured better than either alone"
                ));
            }
        }
    } else if p > 0 {
        warnings.push("the Jacobian is singular: some fitted parameters are not identifiable from this data".into());
    }
    warnings.push(format!(
        "per-sequence cost and per-context-token (attention bandwidth) cost move together when batch and context grow together; attention_bandwidth_efficiency is held at the roofline prior {:.2} and the fit attributes the rest to per_seq_overhead_s",
        prior.attention_bandwidth_efficiency
    ));
    for (name, v) in [
        ("weights_bandwidth_efficiency", prior.weights_bandwidth_efficiency),
        ("attention_bandwidth_efficiency", prior.attention_bandwidth_efficiency),
        ("compute_efficiency", prior.compute_efficiency),
    ] {
        params.push(ParamEstimate {
            name: name.into(),
            value: v,
            std_err: f64::NAN,
            origin: "prior (physics: fraction of datasheet peak)".into(),
        });
    }
    if fitted.per_seq_overhead_s == 0.0 {
        warnings.push(
            "per_seq_overhead_s hit its bound 0: the roofline prior already explains the slowdown with batch size"
                .into(),
        );
    }

    let mut profile = profile_base;
    profile.cost = fitted;
    // Keep the covariance of the identifiable fitted parameters, so predictions can carry it.
    if let Some(c) = &cov {
        let kept: Vec<(usize, usize)> = free
            .iter()
            .enumerate()
            .filter(|(_, &j)| params[j].std_err.is_finite())
            .map(|(col, &j)| (col, j))
            .collect();
        if !kept.is_empty() {
            profile.uncertainty = Some(crate::cost::profile::ParamCovariance {
                params: kept.iter().map(|&(_, j)| names[j].to_string()).collect(),
                covariance: kept
                    .iter()
                    .map(|&(a, ja)| kept.iter().map(|&(b, jb)| c[(a, b)] * scale[ja] * scale[jb]).collect())
                    .collect(),
            });
        }
    }
    let described: Vec<String> = parts
        .iter()
        .map(|part| {
            let fitted: Vec<String> = part
                .fit_levels
                .iter()
                .map(|&i| part.report.levels[i].concurrency.unwrap_or(0).to_string())
                .collect();
            format!("{} [{}]", part.report.id, fitted.join(","))
        })
        .collect();
    let files: Vec<&str> = {
        let mut f: Vec<&str> = parts.iter().map(|p| p.report.provenance.file.as_str()).collect();
        f.dedup();
        f
    };
    profile.source = format!(
        "fitted by servecast fit to {} (setup [levels fitted]: {}), {} simulations",
        files.join(", "),
        described.join(", "),
        evaluations_used
    );
    profile.validate_cost()?;

    // Final comparison on every level, held-out ones included.
    let mut levels = Vec::new();
    for part in &parts {
        let mut s = part.scenario.clone();
        s.profile = profile.clone();
        let cost = s.cost_model();
        for i in 0..part.report.levels.len() {
            levels.push(LevelFit {
                report: part.report.id.clone(),
                in_fit: part.fit_levels.contains(&i),
                comparison: compare_level(&part.report.levels[i], &s.run_level_with(i, &part.memory, &cost)),
            });
        }
    }
    let card_memory = card_memory::card_memory_errors(inputs, &profile.memory);
    Ok(FitResult {
        card_memory,
        profile,
        evaluations: evaluations_used,
        elapsed_s: started.elapsed().as_secs_f64(),
        objective: best_f,
        params,
        warnings,
        levels,
    })
}

/// A vLLM fit: the MAP correction of the learned prior ([`map`]).
fn fit_map(
    parts: &[Part<'_>],
    mut profile: Profile,
    mut warnings: Vec<String>,
    started: Instant,
    inputs: &[(&MeasuredReport, &Scenario)],
    opts: &FitOptions,
) -> Result<FitResult> {
    use crate::cost::prior::Term;
    let first = &parts[0].scenario;
    let version = first.engine.version;
    let line = first.engine.release_line;
    let prior = opts.prior.as_deref().or(crate::cost::prior::LearnedPriors::builtin());
    let (centre, sd) = map::scenario_prior(prior, line, first.gpu.architecture, &first.gpu.id, &first.model.id);
    let sigma = map::learned_sigma(prior);
    let map_parts: Vec<map::MapPart<'_>> = parts
        .iter()
        .map(|p| map::MapPart::new(p.report, p.scenario.clone(), p.memory.clone(), &p.fit_levels))
        .collect();
    if map_parts.iter().all(|p| p.slots.is_empty()) {
        return Err(Error::Fit(
            "no fitted level prints a throughput or latency figure servecast predicts".into(),
        ));
    }
    let max_iterations = (opts.max_evaluations / (hierarchy::P + 2)).clamp(2, 12);
    let sol = map::minimize(
        &map_parts,
        version,
        line,
        first.engine.usage_context,
        &centre,
        &sd,
        &sigma,
        max_iterations,
    );
    let usage = first.engine.usage_context;
    let cost = hierarchy::params_at(version, line, usage, &sol.z);
    profile.cost = cost;
    let shifts = map::prior_shifts(&sol, &centre, &sd, line, first.engine.usage_context);
    for s in shifts.iter().filter(|s| !s.reason.is_empty()) {
        warnings.push(format!(
            "{} moved {:+.1}σ from its prior ({} → {}): {}",
            s.term,
            s.sigmas,
            Term::by_name(&s.term).map_or(s.prior.to_string(), |t| map::fmt_value(t, s.prior)),
            Term::by_name(&s.term).map_or(s.fitted.to_string(), |t| map::fmt_value(t, s.fitted)),
            s.reason
        ));
    }
    let applicable: Vec<(usize, Term)> = Term::ALL
        .iter()
        .enumerate()
        .filter(|(_, t)| t.applies(line, usage))
        .map(|(k, t)| (k, *t))
        .collect();
    // Posterior covariance in natural units (delta method).
    let d: Vec<f64> = applicable.iter().map(|&(_, t)| t.dvalue_dz(t.get(&cost))).collect();
    profile.uncertainty = Some(crate::cost::profile::ParamCovariance {
        params: applicable.iter().map(|(_, t)| t.name().to_string()).collect(),
        covariance: applicable
            .iter()
            .enumerate()
            .map(|(a, &(ka, _))| {
                applicable
                    .iter()
                    .enumerate()
                    .map(|(b, &(kb, _))| sol.cov[(ka, kb)] * d[a] * d[b])
                    .collect()
            })
            .collect(),
    });
    let params: Vec<ParamEstimate> = applicable
        .iter()
        .enumerate()
        .map(|(a, &(k, t))| ParamEstimate {
            name: t.name().to_string(),
            value: t.get(&cost),
            std_err: sol.cov[(k, k)].max(0.0).sqrt() * d[a],
            origin: format!(
                "prior {} → fitted {} ({:+.1}σ)",
                map::fmt_value(t, t.from_z(centre[k])),
                map::fmt_value(t, t.get(&cost)),
                (sol.z[k] - centre[k]) / sd[k]
            ),
        })
        .collect();
    // Identifiability: pairs the data pin only together (the prior decides how they split).
    for (a, &(ka, ta)) in applicable.iter().enumerate() {
        for &(kb, tb) in &applicable[a + 1..] {
            let denom = (sol.cov[(ka, ka)] * sol.cov[(kb, kb)]).sqrt();
            let rho = if denom > 0.0 { sol.cov[(ka, kb)] / denom } else { 0.0 };
            let moved = |k: usize| (1.0 - sol.cov[(k, k)] / (sd[k] * sd[k])).max(0.0);
            // Only pairs the data informed (posterior narrower than the prior) are worth naming.
            if rho.abs() > 0.9 && moved(ka) > 0.1 && moved(kb) > 0.1 {
                warnings.push(format!(
                    "{} and {} are strongly correlated (ρ = {rho:.2}): the levels measured pin their combination \
                     better than either, and the learned prior decides how it splits",
                    ta.name(),
                    tb.name()
                ));
            }
        }
    }
    profile.prior = shifts;
    let described: Vec<String> = parts
        .iter()
        .map(|part| format!("{} [{} levels]", part.report.id, part.fit_levels.len()))
        .collect();
    let mut files: Vec<String> = parts.iter().map(|p| p.report.provenance.source()).collect();
    files.dedup();
    profile.source = format!(
        "MAP fit (correction of the learned prior {line} / {}) by servecast fit to {} ({}), {} simulations",
        first.gpu.architecture,
        files.join(", "),
        described.join(", "),
        sol.evaluations
    );
    profile.validate_cost()?;
    let mut levels = Vec::new();
    for part in parts {
        let mut s = part.scenario.clone();
        s.profile = profile.clone();
        let cost_model = s.cost_model();
        for i in 0..part.report.levels.len() {
            levels.push(LevelFit {
                report: part.report.id.clone(),
                in_fit: part.fit_levels.contains(&i),
                comparison: compare_level(&part.report.levels[i], &s.run_level_with(i, &part.memory, &cost_model)),
            });
        }
    }
    let card_memory = card_memory::card_memory_errors(inputs, &profile.memory);
    Ok(FitResult {
        card_memory,
        profile,
        evaluations: sol.evaluations,
        elapsed_s: map::elapsed(started),
        objective: sol.objective,
        params,
        warnings,
        levels,
    })
}

impl Profile {
    /// Validates the cost parameters (efficiencies must not beat the datasheet).
    pub fn validate_cost(&self) -> Result<()> {
        self.cost.validate(&self.id)
    }
}
