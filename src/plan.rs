//! Capacity planning: the most load a deployment takes within an SLO, the knee where latency
//! starts to climb (and why), and the cheapest deployment that meets an SLO at a target rate.
//!
//! Every answer is found on simulations with common random numbers (the same seed at every load:
//! Poisson arrivals scale with the rate, lengths stay the same), so the SLO check is a smooth
//! function of the load and bisection converges; every answer is re-simulated at the chosen point.

use std::fmt;

use rayon::prelude::*;
use serde::Serialize;

use crate::engine::SimOutput;
use crate::error::{Error, Result};
use crate::metrics::level::LevelResult;
use crate::scenario::{Scenario, ScenarioBuilder};
use crate::units::NANOS_PER_MS;
use crate::workload::arrivals::LoadSpec;

/// A latency statistic an SLO can bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloMetric {
    /// Time to first token.
    Ttft,
    /// Time per output token after the first.
    Tpot,
    /// Inter-token latency.
    Itl,
    /// End-to-end latency.
    E2e,
    /// TTS: time to the first audio chunk.
    Ttfb,
}

/// Which statistic of the metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloStat {
    /// Mean.
    Mean,
    /// Median.
    P50,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
}

/// One bound of an SLO.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SloTarget {
    /// A latency statistic at most `max_ms`.
    Latency {
        /// The metric.
        metric: SloMetric,
        /// The statistic.
        stat: SloStat,
        /// Upper bound, ms.
        max_ms: f64,
    },
    /// At least `min_pct` percent of requests meet every latency bound on their own (TTFT, TPOT,
    /// E2E values of the bounds above), and none fails: DistServe's goodput.
    Goodput {
        /// Lower bound, percent of requests.
        min_pct: f64,
    },
}

impl SloTarget {
    /// The target's name as parsed (`ttft_p95_ms`, `goodput_pct`).
    pub fn name(&self) -> String {
        match self {
            SloTarget::Latency { metric, stat, .. } => {
                let m = match metric {
                    SloMetric::Ttft => "ttft",
                    SloMetric::Tpot => "tpot",
                    SloMetric::Itl => "itl",
                    SloMetric::E2e => "e2e",
                    SloMetric::Ttfb => "ttfb",
                };
                let s = match stat {
                    SloStat::Mean => "mean",
                    SloStat::P50 => "p50",
                    SloStat::P95 => "p95",
                    SloStat::P99 => "p99",
                };
                format!("{m}_{s}_ms")
            }
            SloTarget::Goodput { .. } => "goodput_pct".into(),
        }
    }

    /// The bound's value (ms or percent).
    pub fn bound(&self) -> f64 {
        match self {
            SloTarget::Latency { max_ms, .. } => *max_ms,
            SloTarget::Goodput { min_pct } => *min_pct,
        }
    }
}

/// A service-level objective: every target must hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slo {
    /// The targets.
    pub targets: Vec<SloTarget>,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .targets
            .iter()
            .map(|t| match t {
                SloTarget::Latency { max_ms, .. } => format!("{} ≤ {max_ms}", t.name()),
                SloTarget::Goodput { min_pct } => format!("goodput_pct ≥ {min_pct}"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

impl Slo {
    /// Parses `ttft_p95_ms=500,tpot_p95_ms=50,e2e_p99_ms=20000,goodput_pct=90` (metric: ttft, tpot,
    /// itl, e2e, ttfb; statistic: mean, p50, p95, p99).
    pub fn parse(text: &str, origin: &str) -> Result<Slo> {
        let mut targets = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                Error::invalid(
                    origin,
                    "slo",
                    format!("'{part}': expected name=value, e.g. ttft_p95_ms=500"),
                )
            })?;
            let key = key.trim().to_ascii_lowercase();
            let value: f64 = value
                .trim()
                .parse()
                .map_err(|_| Error::invalid(origin, &key, format!("'{}' is not a number", value.trim())))?;
            if key == "goodput_pct" || key == "goodput" {
                if !(value > 0.0 && value <= 100.0) {
                    return Err(Error::invalid(origin, &key, "must be in (0, 100] percent"));
                }
                targets.push(SloTarget::Goodput { min_pct: value });
                continue;
            }
            let bad = || {
                Error::invalid(
                    origin,
                    &key,
                    "unknown target; use <ttft|tpot|itl|e2e|ttfb>_<mean|p50|p95|p99>_ms or goodput_pct",
                )
            };
            let body = key.strip_suffix("_ms").ok_or_else(bad)?;
            let (m, s) = body.split_once('_').ok_or_else(bad)?;
            let metric = match m {
                "ttft" => SloMetric::Ttft,
                "tpot" => SloMetric::Tpot,
                "itl" => SloMetric::Itl,
                "e2e" => SloMetric::E2e,
                "ttfb" => SloMetric::Ttfb,
                _ => return Err(bad()),
            };
            let stat = match s {
                "mean" => SloStat::Mean,
                "p50" | "median" => SloStat::P50,
                "p95" => SloStat::P95,
                "p99" => SloStat::P99,
                _ => return Err(bad()),
            };
            if !(value > 0.0 && value.is_finite()) {
                return Err(Error::invalid(
                    origin,
                    &key,
                    "must be a positive number of milliseconds",
                ));
            }
            targets.push(SloTarget::Latency {
                metric,
                stat,
                max_ms: value,
            });
        }
        if targets.is_empty() {
            return Err(Error::invalid(
                origin,
                "slo",
                "no targets given, e.g. ttft_p95_ms=500,tpot_p95_ms=50",
            ));
        }
        if targets.iter().all(|t| matches!(t, SloTarget::Goodput { .. })) {
            return Err(Error::invalid(
                origin,
                "goodput_pct",
                "goodput counts requests within the latency bounds; give at least one, e.g. ttft_p95_ms=500",
            ));
        }
        Ok(Slo { targets })
    }

    /// Checks one simulated level against every target.
    pub fn check(&self, level: &LevelResult, out: &SimOutput) -> SloCheck {
        let results = self
            .targets
            .iter()
            .map(|t| {
                let (value, ok) = match t {
                    SloTarget::Latency { metric, stat, max_ms } => {
                        let v = latency_stat(level, *metric, *stat);
                        (v, v <= *max_ms && level.failed == 0)
                    }
                    SloTarget::Goodput { min_pct } => {
                        let v = self.goodput_pct(out);
                        (v, v >= *min_pct)
                    }
                };
                TargetResult {
                    target: t.name(),
                    bound: t.bound(),
                    value,
                    met: ok,
                }
            })
            .collect::<Vec<_>>();
        SloCheck {
            met: results.iter().all(|r| r.met),
            failed_requests: level.failed,
            targets: results,
        }
    }

    /// Percent of requests that completed and meet every per-request latency bound.
    pub fn goodput_pct(&self, out: &SimOutput) -> f64 {
        if out.records.is_empty() {
            return 0.0;
        }
        let good = out
            .records
            .iter()
            .filter(|r| {
                !r.failed
                    && self.targets.iter().all(|t| match t {
                        SloTarget::Latency { metric, max_ms, .. } => {
                            let ms = |ns: u64| ns as f64 / NANOS_PER_MS;
                            match metric {
                                SloMetric::Ttft => ms(r.first_token_ns.saturating_sub(r.send_ns)) <= *max_ms,
                                SloMetric::Ttfb => ms(r.first_chunk_ns.saturating_sub(r.send_ns)) <= *max_ms,
                                SloMetric::E2e => ms(r.finish_ns.saturating_sub(r.send_ns)) <= *max_ms,
                                SloMetric::Tpot | SloMetric::Itl => {
                                    r.output_tokens < 2
                                        || ms(r.finish_ns.saturating_sub(r.first_token_ns))
                                            / (r.output_tokens - 1) as f64
                                            <= *max_ms
                                }
                            }
                        }
                        SloTarget::Goodput { .. } => true,
                    })
            })
            .count();
        100.0 * good as f64 / out.records.len() as f64
    }
}

fn latency_stat(level: &LevelResult, metric: SloMetric, stat: SloStat) -> f64 {
    let summary = match metric {
        SloMetric::Ttft => &level.ttft_ms,
        SloMetric::Tpot => &level.tpot_ms,
        SloMetric::Itl => &level.itl_ms,
        SloMetric::E2e => &level.e2e_latency_ms,
        SloMetric::Ttfb => match &level.tts {
            Some(t) => &t.ttfb_ms,
            None => &level.ttft_ms,
        },
    };
    match stat {
        SloStat::Mean => summary.mean,
        SloStat::P50 => summary.p50,
        SloStat::P95 => summary.p95,
        SloStat::P99 => summary.p99,
    }
}

/// One target's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    /// The target's name (`ttft_p95_ms`).
    pub target: String,
    /// Its bound (ms, or percent for goodput).
    pub bound: f64,
    /// The simulated value.
    pub value: f64,
    /// Whether it holds.
    pub met: bool,
}

impl TargetResult {
    /// Headroom: how far the value is from its bound, as a fraction of the bound (positive: met).
    pub fn margin(&self) -> f64 {
        if self.target == "goodput_pct" {
            (self.value - self.bound) / self.bound
        } else {
            (self.bound - self.value) / self.bound
        }
    }
}

/// An SLO checked at one load.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloCheck {
    /// Every target holds and no request failed.
    pub met: bool,
    /// Requests rejected by the engine.
    pub failed_requests: u32,
    /// Per target.
    pub targets: Vec<TargetResult>,
}

/// What kind of load a plan varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadKind {
    /// Open-loop Poisson arrivals, requests per second.
    RequestRate,
    /// Closed-loop users.
    Concurrency,
}

impl LoadKind {
    /// Parses `qps|rate|request-rate` or `concurrency|users`.
    pub fn parse(text: &str, origin: &str) -> Result<LoadKind> {
        match text.to_ascii_lowercase().replace('-', "_").as_str() {
            "qps" | "rate" | "request_rate" => Ok(LoadKind::RequestRate),
            "concurrency" | "users" | "c" => Ok(LoadKind::Concurrency),
            other => Err(Error::invalid(
                origin,
                "load",
                format!("'{other}' is not qps or concurrency"),
            )),
        }
    }

    /// Unit of the load.
    pub fn unit(self) -> &'static str {
        match self {
            LoadKind::RequestRate => "req/s",
            LoadKind::Concurrency => "users",
        }
    }
}

/// How long each simulated load runs, so the answer describes a steady state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanOptions {
    /// Open loop: simulated seconds of arrivals per evaluation (requests = rate × this, bounded below).
    pub duration_s: f64,
    /// Fewest requests per evaluation.
    pub min_requests: u32,
    /// Most requests per evaluation.
    pub max_requests: u32,
    /// Closed loop: requests each user sends.
    pub requests_per_user: u32,
    /// Bisection stops when the bracket is this tight (relative), for request rates.
    pub rel_tolerance: f64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            duration_s: 120.0,
            min_requests: 400,
            max_requests: 20_000,
            requests_per_user: 10,
            rel_tolerance: 0.01,
        }
    }
}

/// The scenario at one load (a single level).
pub fn at_load(base: &Scenario, kind: LoadKind, load: f64, opts: &PlanOptions) -> Scenario {
    let mut s = base.clone();
    s.measured_report = None;
    match kind {
        LoadKind::RequestRate => {
            let n = ((load * opts.duration_s).ceil() as u64).clamp(opts.min_requests as u64, opts.max_requests as u64)
                as u32;
            let max_concurrency = match &s.workload.load {
                LoadSpec::Poisson { max_concurrency, .. } => *max_concurrency,
                _ => None,
            };
            s.workload.set_poisson(vec![load], n, max_concurrency);
        }
        LoadKind::Concurrency => {
            let c = load.round().max(1.0) as u32;
            s.workload.load = LoadSpec::ClosedLoop {
                concurrency: vec![c],
                requests_per_user: opts.requests_per_user,
                think_time_s: 0.0,
                waves: false,
            };
            s.workload.input_len_per_level = None;
            s.workload.output_len_per_level = None;
            s.workload.busiest_user_ratio_per_level = None;
            s.workload.text_chars_per_level = None;
        }
    }
    s
}

/// One simulated load and its SLO check.
#[derive(Debug, Clone, Serialize)]
pub struct LoadPoint {
    /// The load (req/s or users).
    pub load: f64,
    /// The level's figures.
    pub level: LevelResult,
    /// The SLO at this load.
    pub check: SloCheck,
    /// Why latency grows here, if it does (see [`saturation_reason`]).
    pub bottleneck: Bottleneck,
}

/// Simulates `base` at one load and checks the SLO.
pub fn evaluate(base: &Scenario, slo: &Slo, kind: LoadKind, load: f64, opts: &PlanOptions) -> Result<LoadPoint> {
    let s = at_load(base, kind, load, opts);
    let memory = s.memory()?;
    let cost = s.cost_model();
    let out = s.simulate_level(0, &memory, &cost);
    let bottleneck = saturation_reason(&s, &out);
    let level = LevelResult::from_output(s.workload.levels()[0], out.clone(), s.level_accumulator());
    let check = slo.check(&level, &out);
    Ok(LoadPoint {
        load,
        level,
        check,
        bottleneck,
    })
}

/// What limits a deployment at a load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bottleneck {
    /// Requests queue because `max_num_seqs` sequences already run.
    MaxNumSeqs,
    /// The KV cache is full: requests wait for blocks or are preempted.
    KvCache,
    /// Steps are full: `max_num_batched_tokens` limits prefill.
    TokenBudget,
    /// The GPU is busy all the time: steps grow with the batch.
    Compute,
    /// Nothing limits yet: requests rarely wait.
    None,
}

impl fmt::Display for Bottleneck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bottleneck::MaxNumSeqs => "max_num_seqs reached: requests wait in the queue for a running slot",
            Bottleneck::KvCache => "KV cache full: requests wait for blocks (or are preempted)",
            Bottleneck::TokenBudget => "token budget full: max_num_batched_tokens limits prefill per step",
            Bottleneck::Compute => "compute saturated: the engine is always busy and steps grow with the batch",
            Bottleneck::None => "not saturated: requests are scheduled on arrival",
        })
    }
}

/// Why requests wait at this load, from the engine's counters: slots, KV blocks, token budget,
/// or plain GPU time.
pub fn saturation_reason(s: &Scenario, out: &SimOutput) -> Bottleneck {
    let st = &out.stats;
    let waited = out
        .records
        .iter()
        .filter(|r| !r.failed && r.first_scheduled_ns.saturating_sub(r.arrival_ns) > 0)
        .count();
    let n = out.records.len().max(1);
    let busy = if st.end_ns > 0 {
        st.busy_ns as f64 / (st.end_ns as f64 * s.replicas.max(1) as f64)
    } else {
        0.0
    };
    if st.preemptions > 0 || (st.capacity_blocks > 0 && st.peak_blocks_used as f64 >= 0.97 * st.capacity_blocks as f64)
    {
        Bottleneck::KvCache
    } else if st.max_step_seqs >= s.engine.max_num_seqs as u64 && waited * 10 > n {
        Bottleneck::MaxNumSeqs
    } else if st.max_step_tokens >= s.engine.max_num_batched_tokens as u64 && waited * 10 > n {
        Bottleneck::TokenBudget
    } else if busy > 0.9 {
        Bottleneck::Compute
    } else {
        Bottleneck::None
    }
}

/// The answer to "what is the most load within the SLO?".
#[derive(Debug, Clone, Serialize)]
pub struct MaxLoad {
    /// Load kind.
    pub kind: LoadKind,
    /// The highest load that meets the SLO (req/s or users); None if even the lowest tried fails.
    pub max_load: Option<f64>,
    /// Re-simulated at `max_load` (or at the lowest load tried, when nothing meets the SLO).
    pub at_max: LoadPoint,
    /// Re-simulated at 10% more load (rounded up to one more user for concurrency): it breaks the SLO.
    pub above: Option<LoadPoint>,
    /// Simulations run.
    pub evaluations: u32,
    /// The search's ceiling (100,000 req/s or 65,536 users) when the SLO still held there: the
    /// answer is then "not broken up to this", not a capacity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unbroken_up_to: Option<f64>,
}

/// The highest load `base` sustains within `slo`: doubling to bracket, then bisection, then a
/// check that 10% more load breaks the SLO (if it does not, the search continues above).
pub fn max_load(base: &Scenario, slo: &Slo, kind: LoadKind, opts: &PlanOptions) -> Result<MaxLoad> {
    let mut evaluations = 0u32;
    let mut eval = |load: f64| -> Result<LoadPoint> {
        evaluations += 1;
        evaluate(base, slo, kind, load, opts)
    };
    let step_up = |load: f64| match kind {
        LoadKind::RequestRate => load * 1.1,
        LoadKind::Concurrency => (load * 1.1).ceil().max(load + 1.0),
    };
    let start = match kind {
        LoadKind::RequestRate => 0.25,
        LoadKind::Concurrency => 1.0,
    };
    let first = eval(start)?;
    if !first.check.met {
        return Ok(MaxLoad {
            kind,
            max_load: None,
            at_max: first,
            above: None,
            evaluations,
            unbroken_up_to: None,
        });
    }
    let mut lo = first;
    let limit = match kind {
        LoadKind::RequestRate => 1e5,
        LoadKind::Concurrency => 65_536.0,
    };
    loop {
        // Bracket: double until the SLO breaks.
        let mut hi = loop {
            let next = (lo.load * 2.0).min(limit);
            if next <= lo.load {
                return Ok(MaxLoad {
                    kind,
                    max_load: Some(lo.load),
                    at_max: lo,
                    above: None,
                    evaluations,
                    unbroken_up_to: Some(limit),
                });
            }
            let p = eval(next)?;
            if p.check.met {
                lo = p;
            } else {
                break p;
            }
        };
        // Bisect.
        loop {
            let narrow = match kind {
                LoadKind::RequestRate => hi.load / lo.load <= 1.0 + opts.rel_tolerance,
                LoadKind::Concurrency => hi.load - lo.load <= 1.0,
            };
            if narrow {
                break;
            }
            let mid = match kind {
                LoadKind::RequestRate => (lo.load * hi.load).sqrt(),
                LoadKind::Concurrency => ((lo.load + hi.load) / 2.0).floor(),
            };
            let p = eval(mid)?;
            if p.check.met {
                lo = p;
            } else {
                hi = p;
            }
        }
        // 10% more must break it; otherwise the SLO is not monotone here: search above.
        let above_load = step_up(lo.load);
        let above = if (above_load - hi.load).abs() < 1e-12 {
            hi
        } else {
            eval(above_load)?
        };
        if above.check.met {
            lo = above;
            continue;
        }
        return Ok(MaxLoad {
            kind,
            max_load: Some(lo.load),
            at_max: lo,
            above: Some(above),
            evaluations,
            unbroken_up_to: None,
        });
    }
}

/// The knee of the latency curve: where mean TTFT reaches twice its light-load value.
#[derive(Debug, Clone, Serialize)]
pub struct Knee {
    /// The load of the knee (req/s or users).
    pub load: f64,
    /// Mean TTFT at light load, ms.
    pub light_load_ttft_ms: f64,
    /// Mean TTFT at the knee, ms.
    pub ttft_ms: f64,
    /// What saturates there.
    pub reason: Bottleneck,
    /// The curve scanned: (load, mean TTFT ms, output tok/s).
    pub curve: Vec<(f64, f64, f64)>,
}

/// Scans `points` loads geometrically from `from` to `to` and finds the knee (None if TTFT
/// never doubles in the range).
pub fn knee(
    base: &Scenario,
    kind: LoadKind,
    from: f64,
    to: f64,
    points: u32,
    opts: &PlanOptions,
) -> Result<Option<Knee>> {
    let slo = Slo {
        targets: vec![SloTarget::Latency {
            metric: SloMetric::Ttft,
            stat: SloStat::Mean,
            max_ms: f64::MAX,
        }],
    };
    let points = points.max(3);
    let ratio = (to / from).max(1.0).powf(1.0 / (points - 1) as f64);
    let mut loads: Vec<f64> = (0..points).map(|i| from * ratio.powi(i as i32)).collect();
    if kind == LoadKind::Concurrency {
        loads = loads.into_iter().map(|l| l.round().max(1.0)).collect();
        loads.dedup();
    }
    let scanned: Vec<LoadPoint> = loads
        .par_iter()
        .map(|&l| evaluate(base, &slo, kind, l, opts))
        .collect::<Result<Vec<_>>>()?;
    let Some(first) = scanned.first() else { return Ok(None) };
    let light = first.level.ttft_ms.mean;
    let curve = scanned
        .iter()
        .map(|p| (p.load, p.level.ttft_ms.mean, p.level.output_throughput_tok_s))
        .collect();
    Ok(scanned
        .iter()
        .find(|p| p.level.ttft_ms.mean >= 2.0 * light)
        .map(|p| Knee {
            load: p.load,
            light_load_ttft_ms: light,
            ttft_ms: p.level.ttft_ms.mean,
            reason: p.bottleneck,
            curve,
        }))
}

/// The space `cheapest` searches.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeploymentSpace {
    /// GPU types (catalog names).
    pub gpus: Vec<String>,
    /// Tensor-parallel sizes.
    pub tensor_parallel_sizes: Vec<u32>,
    /// `gpu_memory_utilization` values.
    pub utils: Vec<f64>,
    /// `max_num_seqs` values.
    pub max_num_seqs: Vec<u32>,
    /// Most replicas per deployment.
    pub max_replicas: u32,
}

/// One candidate deployment and what it costs.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    /// GPU id.
    pub gpu: String,
    /// Tensor parallel size.
    pub tensor_parallel_size: u32,
    /// Replicas (the fewest that meet the SLO).
    pub replicas: u32,
    /// gpu_memory_utilization.
    pub gpu_memory_utilization: f64,
    /// max_num_seqs.
    pub max_num_seqs: u32,
    /// GPUs in total.
    pub gpus: u32,
    /// $/hour at the catalog price.
    pub price_usd_per_hour: f64,
    /// Where the price is from, and its date.
    pub price_source: String,
    /// The cost profile used and its kind: fitted on this GPU, transferred (host-side terms fitted
    /// on another GPU over this one's roofline), or the engine's roofline prior.
    pub profile: String,
    /// The SLO check at the target rate with these replicas.
    pub check: SloCheck,
    /// Figures at the target rate.
    pub level: LevelResult,
}

/// A configuration of the space that cannot meet the SLO, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// GPU id.
    pub gpu: String,
    /// Tensor parallel size.
    pub tensor_parallel_size: u32,
    /// gpu_memory_utilization.
    pub gpu_memory_utilization: f64,
    /// max_num_seqs.
    pub max_num_seqs: u32,
    /// The engine's refusal, or "SLO not met with N replicas".
    pub reason: String,
}

/// The cheapest deployments meeting the SLO at a target rate, cheapest first, and the rest.
#[derive(Debug, Clone, Serialize)]
pub struct CheapestAnswer {
    /// Target rate, req/s.
    pub target_qps: f64,
    /// Deployments that meet the SLO, cheapest first (ties: fewer GPUs).
    pub candidates: Vec<Candidate>,
    /// Configurations that cannot.
    pub rejected: Vec<Rejected>,
    /// Simulations run.
    pub evaluations: u32,
}

/// Finds, for every GPU × TP × util × max_num_seqs of `space`, the fewest replicas that meet the
/// SLO at `target_qps` (doubling, then bisection on the replica count), and ranks by price.
pub fn cheapest(
    base: &ScenarioBuilder,
    slo: &Slo,
    target_qps: f64,
    space: &DeploymentSpace,
    opts: &PlanOptions,
) -> Result<CheapestAnswer> {
    if !(target_qps > 0.0 && target_qps.is_finite()) {
        return Err(Error::invalid(
            "--target-qps",
            "target_qps",
            "must be a positive request rate",
        ));
    }
    let catalog = crate::spec::Catalog::builtin()?;
    for g in &space.gpus {
        let gpu = catalog.gpu(g).map_err(|e| e.located("--gpus"))?;
        if gpu.price_usd_per_hour.is_none() {
            return Err(Error::invalid(
                "--gpus",
                "price_usd_per_hour",
                format!("{} has no price in the catalog; it cannot be ranked by cost", gpu.id),
            ));
        }
    }
    let mut combos = Vec::new();
    for g in &space.gpus {
        for &tp in &space.tensor_parallel_sizes {
            for &util in &space.utils {
                for &seqs in &space.max_num_seqs {
                    combos.push((g.clone(), tp, util, seqs));
                }
            }
        }
    }
    let results: Vec<(std::result::Result<Candidate, Rejected>, u32)> = combos
        .par_iter()
        .map(|(g, tp, util, seqs)| {
            let rejected = |reason: String| Rejected {
                gpu: g.clone(),
                tensor_parallel_size: *tp,
                gpu_memory_utilization: *util,
                max_num_seqs: *seqs,
                reason,
            };
            let builder = base.clone().without_report().gpu(g).edit_flags(|f| {
                f.tensor_parallel_size = Some(*tp);
                f.gpu_memory_utilization = Some(*util);
                f.max_num_seqs = Some(*seqs);
            });
            let scenario = match builder.build().and_then(|s| s.memory().map(|_| s)) {
                Ok(s) => s,
                Err(e) => return (Err(rejected(e.to_string())), 0),
            };
            let mut evals = 0u32;
            let mut try_replicas = |r: u32| -> Result<LoadPoint> {
                evals += 1;
                let mut s = scenario.clone();
                s.replicas = r;
                evaluate(&s, slo, LoadKind::RequestRate, target_qps, opts)
            };
            // Double to bracket, then bisect on the replica count.
            let (mut lo, mut hi): (u32, Option<(u32, LoadPoint)>) = (0, None);
            let mut r = 1;
            while r <= space.max_replicas {
                match try_replicas(r) {
                    Err(e) => return (Err(rejected(e.to_string())), evals),
                    Ok(p) if p.check.met => {
                        hi = Some((r, p));
                        break;
                    }
                    Ok(_) => lo = r,
                }
                if r == space.max_replicas {
                    break;
                }
                r = (r * 2).min(space.max_replicas);
            }
            let Some((mut best_r, mut best)) = hi else {
                return (
                    Err(rejected(format!(
                        "SLO not met at {target_qps} req/s with {} replicas",
                        space.max_replicas
                    ))),
                    evals,
                );
            };
            while best_r - lo > 1 {
                let mid = (lo + best_r) / 2;
                match try_replicas(mid) {
                    Err(e) => return (Err(rejected(e.to_string())), evals),
                    Ok(p) if p.check.met => {
                        best_r = mid;
                        best = p;
                    }
                    Ok(_) => lo = mid,
                }
            }
            let gpus = tp * best_r;
            let price = scenario.gpu.price_usd_per_hour.unwrap_or(f64::NAN) * gpus as f64;
            (
                Ok(Candidate {
                    gpu: scenario.gpu.id.clone(),
                    tensor_parallel_size: *tp,
                    replicas: best_r,
                    gpu_memory_utilization: *util,
                    max_num_seqs: *seqs,
                    gpus,
                    price_usd_per_hour: price,
                    price_source: scenario.gpu.price_source.clone().unwrap_or_default(),
                    profile: format!("{} ({:?})", scenario.profile.id, scenario.profile.kind).to_lowercase(),
                    check: best.check,
                    level: best.level,
                }),
                evals,
            )
        })
        .collect();
    let evaluations = results.iter().map(|(_, e)| e).sum();
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    for (r, _) in results {
        match r {
            Ok(c) => candidates.push(c),
            Err(r) => rejected.push(r),
        }
    }
    candidates.sort_by(|a, b| {
        a.price_usd_per_hour
            .total_cmp(&b.price_usd_per_hour)
            .then(a.gpus.cmp(&b.gpus))
            .then(
                b.check
                    .targets
                    .iter()
                    .map(|t| t.margin())
                    .fold(f64::INFINITY, f64::min)
                    .total_cmp(&a.check.targets.iter().map(|t| t.margin()).fold(f64::INFINITY, f64::min)),
            )
    });
    Ok(CheapestAnswer {
        target_qps,
        candidates,
        rejected,
        evaluations,
    })
}
