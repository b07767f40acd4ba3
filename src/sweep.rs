//! Sweeps: many configurations of one deployment simulated in parallel, ranked by a metric.
//!
//! A sweep varies engine flags, the GPU, tensor parallelism, replicas, concurrency or request
//! rate over a base scenario, as a grid (lists and `from..to:step` ranges) or as random samples
//! (`--samples N`, the way seed 004 searched `vllm serve` flags). Configurations the engine would
//! refuse are kept, with the engine's own error, so a sweep shows which corners of the flag space
//! crash at start-up.

use std::fmt;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, RefusalKind, Result};
use crate::metrics::level::LevelResult;
use crate::scenario::{Scenario, ScenarioBuilder};
use crate::spec::engine::{KvCacheDtype, Quantization};
use crate::workload::arrivals::{Level, LoadSpec};
use crate::workload::rng::SimRng;

/// A parameter a sweep can vary, named as vLLM's flag where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SweepParam {
    /// The GPU type (catalog name).
    Gpu,
    /// `--gpu-memory-utilization`, (0, 1].
    GpuMemoryUtilization,
    /// `--max-num-seqs`.
    MaxNumSeqs,
    /// `--max-num-batched-tokens`.
    MaxNumBatchedTokens,
    /// `--block-size`, tokens.
    BlockSize,
    /// `--max-model-len`, tokens.
    MaxModelLen,
    /// `--enable-chunked-prefill`.
    EnableChunkedPrefill,
    /// `--enable-prefix-caching`.
    EnablePrefixCaching,
    /// `--tensor-parallel-size`.
    TensorParallelSize,
    /// `--scheduler-delay-factor` (vLLM V0).
    SchedulerDelayFactor,
    /// `--kv-cache-dtype` (auto, fp8, fp8_e4m3, fp8_e5m2).
    KvCacheDtype,
    /// `--quantization` (none, fp8, awq, awq_marlin, gptq, gptq_marlin).
    Quantization,
    /// Data-parallel engine replicas behind the router.
    Replicas,
    /// Concurrent users / outstanding requests (one load level).
    Concurrency,
    /// Poisson request rate, requests per second (one load level).
    RequestRate,
}

/// What kind of value a parameter takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ValueKind {
    Integer,
    Real,
    Boolean,
    Name,
    KvDtype,
    Quant,
}

impl SweepParam {
    /// Every parameter, in display order.
    pub const ALL: [SweepParam; 15] = [
        SweepParam::Gpu,
        SweepParam::GpuMemoryUtilization,
        SweepParam::MaxNumSeqs,
        SweepParam::MaxNumBatchedTokens,
        SweepParam::BlockSize,
        SweepParam::MaxModelLen,
        SweepParam::EnableChunkedPrefill,
        SweepParam::EnablePrefixCaching,
        SweepParam::TensorParallelSize,
        SweepParam::SchedulerDelayFactor,
        SweepParam::KvCacheDtype,
        SweepParam::Quantization,
        SweepParam::Replicas,
        SweepParam::Concurrency,
        SweepParam::RequestRate,
    ];

    /// The canonical name (vLLM's flag without dashes, snake case).
    pub fn name(self) -> &'static str {
        match self {
            SweepParam::Gpu => "gpu",
            SweepParam::GpuMemoryUtilization => "gpu_memory_utilization",
            SweepParam::MaxNumSeqs => "max_num_seqs",
            SweepParam::MaxNumBatchedTokens => "max_num_batched_tokens",
            SweepParam::BlockSize => "block_size",
            SweepParam::MaxModelLen => "max_model_len",
            SweepParam::EnableChunkedPrefill => "enable_chunked_prefill",
            SweepParam::EnablePrefixCaching => "enable_prefix_caching",
            SweepParam::TensorParallelSize => "tensor_parallel_size",
            SweepParam::SchedulerDelayFactor => "scheduler_delay_factor",
            SweepParam::KvCacheDtype => "kv_cache_dtype",
            SweepParam::Quantization => "quantization",
            SweepParam::Replicas => "replicas",
            SweepParam::Concurrency => "concurrency",
            SweepParam::RequestRate => "request_rate",
        }
    }

    /// Short column header.
    pub fn short(self) -> &'static str {
        match self {
            SweepParam::Gpu => "gpu",
            SweepParam::GpuMemoryUtilization => "util",
            SweepParam::MaxNumSeqs => "seqs",
            SweepParam::MaxNumBatchedTokens => "batched_tok",
            SweepParam::BlockSize => "block",
            SweepParam::MaxModelLen => "max_len",
            SweepParam::EnableChunkedPrefill => "chunked",
            SweepParam::EnablePrefixCaching => "prefix_cache",
            SweepParam::TensorParallelSize => "tp",
            SweepParam::SchedulerDelayFactor => "delay",
            SweepParam::KvCacheDtype => "kv",
            SweepParam::Quantization => "quant",
            SweepParam::Replicas => "replicas",
            SweepParam::Concurrency => "conc",
            SweepParam::RequestRate => "qps",
        }
    }

    fn kind(self) -> ValueKind {
        match self {
            SweepParam::Gpu => ValueKind::Name,
            SweepParam::KvCacheDtype => ValueKind::KvDtype,
            SweepParam::Quantization => ValueKind::Quant,
            SweepParam::GpuMemoryUtilization | SweepParam::RequestRate | SweepParam::SchedulerDelayFactor => {
                ValueKind::Real
            }
            SweepParam::EnableChunkedPrefill | SweepParam::EnablePrefixCaching => ValueKind::Boolean,
            _ => ValueKind::Integer,
        }
    }

    /// Parses a name: vLLM's flag (`max-num-seqs`, `--max_num_seqs`) or servecast's short one
    /// (`seqs`, `util`, `tp`, `qps`, `chunked`, `prefix_cache`).
    pub fn parse(text: &str, origin: &str) -> Result<SweepParam> {
        let key = text
            .trim()
            .trim_start_matches('-')
            .replace('-', "_")
            .to_ascii_lowercase();
        let found = SweepParam::ALL.into_iter().find(|p| {
            p.name() == key
                || p.short() == key
                || matches!(
                    (p, key.as_str()),
                    (SweepParam::TensorParallelSize, "tp")
                        | (SweepParam::RequestRate, "qps" | "rate")
                        | (SweepParam::Concurrency, "max_concurrency" | "c")
                        | (SweepParam::EnablePrefixCaching, "prefix_caching")
                        | (SweepParam::EnableChunkedPrefill, "chunked_prefill")
                )
        });
        found.ok_or_else(|| {
            Error::invalid(
                origin,
                "axis",
                format!(
                    "unknown parameter '{text}'; one of: {}",
                    SweepParam::ALL.map(SweepParam::name).join(", ")
                ),
            )
        })
    }
}

impl fmt::Display for SweepParam {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One value of a swept parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SweepValue {
    /// A number (integers are whole numbers).
    Number(f64),
    /// On or off.
    Bool(bool),
    /// A name (GPU).
    Text(String),
}

impl fmt::Display for SweepValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SweepValue::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => write!(f, "{}", *x as i64),
            SweepValue::Number(x) => write!(f, "{x}"),
            SweepValue::Bool(b) => write!(f, "{b}"),
            SweepValue::Text(t) => f.write_str(t),
        }
    }
}

/// The values one axis takes.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisDomain {
    /// Exactly these values.
    List(Vec<SweepValue>),
    /// `from..to` (inclusive); with random samples drawn uniformly (integers rounded).
    Range {
        /// Lowest value.
        from: f64,
        /// Highest value (inclusive).
        to: f64,
    },
}

/// One swept parameter and its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The parameter.
    pub param: SweepParam,
    /// Its values.
    pub domain: AxisDomain,
}

impl Axis {
    /// Parses `name=values`: `seqs=8,16,32`, `util=0.5..0.9:0.1` (a stepped range, inclusive),
    /// `max_num_batched_tokens=512..8192` (a range for random samples), `chunked=true,false`,
    /// `gpu=4090,a10`.
    pub fn parse(text: &str, origin: &str) -> Result<Axis> {
        let (name, values) = text.split_once('=').ok_or_else(|| {
            Error::invalid(
                origin,
                "axis",
                format!("'{text}': expected name=values, e.g. seqs=8,16,32"),
            )
        })?;
        let param = SweepParam::parse(name, origin)?;
        let values = values.trim();
        let bad = |why: String| Error::invalid(origin, param.name(), format!("'{values}': {why}"));
        if values.is_empty() {
            return Err(bad("no values".into()));
        }
        let kind = param.kind();
        if let (Some((from, rest)), true) = (
            values.split_once(".."),
            matches!(kind, ValueKind::Integer | ValueKind::Real),
        ) {
            let (to, step) = match rest.split_once(':') {
                Some((to, step)) => (to, Some(step)),
                None => (rest, None),
            };
            let num = |t: &str| {
                t.trim()
                    .parse::<f64>()
                    .map_err(|_| bad(format!("'{t}' is not a number")))
            };
            let (from, to) = (num(from)?, num(to)?);
            if !(from.is_finite() && to.is_finite()) || from > to {
                return Err(bad("a range needs finite from ≤ to".into()));
            }
            let domain = match step {
                None => AxisDomain::Range { from, to },
                Some(step) => {
                    let step = num(step)?;
                    if step.is_nan() || step <= 0.0 {
                        return Err(bad("the step must be > 0".into()));
                    }
                    let count = ((to - from) / step + 1e-9).floor() as u64 + 1;
                    if count > 100_000 {
                        return Err(bad(format!("{count} values; at most 100,000 per axis")));
                    }
                    let list = (0..count)
                        .map(|i| {
                            let x = from + i as f64 * step;
                            // Avoid 0.30000000000000004-style labels.
                            SweepValue::Number((x * 1e9).round() / 1e9)
                        })
                        .collect();
                    AxisDomain::List(list)
                }
            };
            let axis = Axis { param, domain };
            axis.check(origin)?;
            return Ok(axis);
        }
        let list = values
            .split(',')
            .map(|v| {
                let v = v.trim();
                match kind {
                    // A GPU must be in the catalog: an unknown name is an input error, not a
                    // configuration the engine refuses.
                    ValueKind::Name => Ok(SweepValue::Text(
                        crate::spec::Catalog::builtin()?
                            .gpu(v)
                            .map_err(|e| e.located(format!("{origin} {}", param.name())))?
                            .id
                            .clone(),
                    )),
                    ValueKind::KvDtype => {
                        KvCacheDtype::parse(v, origin).map(|_| SweepValue::Text(v.to_ascii_lowercase()))
                    }
                    ValueKind::Quant => {
                        Quantization::parse(v, origin).map(|_| SweepValue::Text(v.to_ascii_lowercase()))
                    }
                    ValueKind::Boolean => match v.to_ascii_lowercase().as_str() {
                        "true" | "on" | "yes" | "1" => Ok(SweepValue::Bool(true)),
                        "false" | "off" | "no" | "0" => Ok(SweepValue::Bool(false)),
                        _ => Err(bad(format!("'{v}' is not true/false"))),
                    },
                    ValueKind::Integer | ValueKind::Real => v
                        .parse::<f64>()
                        .map(SweepValue::Number)
                        .map_err(|_| bad(format!("'{v}' is not a number"))),
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let axis = Axis {
            param,
            domain: AxisDomain::List(list),
        };
        axis.check(origin)?;
        Ok(axis)
    }

    /// Checks every value lies in the parameter's allowed range.
    fn check(&self, origin: &str) -> Result<()> {
        let (lo, hi) = match self.param {
            SweepParam::GpuMemoryUtilization => (f64::MIN_POSITIVE, 1.0),
            SweepParam::RequestRate => (f64::MIN_POSITIVE, 1e6),
            SweepParam::SchedulerDelayFactor => (0.0, 1e3),
            SweepParam::Replicas => (1.0, 64.0),
            SweepParam::TensorParallelSize => (1.0, 64.0),
            _ if self.param.kind() == ValueKind::Integer => (1.0, 1e9),
            _ => return Ok(()),
        };
        let allowed = format!("each value must be in [{lo}, {hi}]");
        let out = |x: f64| {
            !(x >= lo && x <= hi)
                || (self.param.kind() == ValueKind::Integer
                    && x.fract() != 0.0
                    && matches!(self.domain, AxisDomain::List(_)))
        };
        let bad = match &self.domain {
            AxisDomain::List(v) => v.iter().any(|v| matches!(v, SweepValue::Number(x) if out(*x))),
            AxisDomain::Range { from, to } => out(*from) || out(*to),
        };
        if bad {
            let extra = if self.param.kind() == ValueKind::Integer {
                " (whole numbers)"
            } else {
                ""
            };
            return Err(Error::invalid(origin, self.param.name(), format!("{allowed}{extra}")));
        }
        Ok(())
    }
}

/// How configurations are drawn from the axes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SweepDesign {
    /// Every combination of the listed values.
    Grid,
    /// `samples` configurations, each axis drawn independently (uniform over a range, or one of
    /// the listed values), from a seeded generator.
    Random {
        /// How many configurations.
        samples: u32,
        /// Seed of the draws.
        seed: u64,
    },
}

/// What to sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The axes.
    pub axes: Vec<Axis>,
    /// Grid or random samples.
    pub design: SweepDesign,
}

/// One configuration: a value per axis.
pub type Settings = Vec<(SweepParam, SweepValue)>;

impl SweepSpec {
    /// The configurations to simulate, in a reproducible order.
    pub fn configs(&self) -> Result<Vec<Settings>> {
        match self.design {
            SweepDesign::Grid => {
                let mut out: Vec<Settings> = vec![Vec::new()];
                for axis in &self.axes {
                    let AxisDomain::List(values) = &axis.domain else {
                        return Err(Error::invalid(
                            "sweep",
                            axis.param.name(),
                            "a range without a step (from..to) needs --samples N; give from..to:step for a grid",
                        ));
                    };
                    if out.len().saturating_mul(values.len()) > 1_000_000 {
                        return Err(Error::invalid(
                            "sweep",
                            "axes",
                            "the grid has more than 1,000,000 configurations; use --samples N",
                        ));
                    }
                    out = out
                        .into_iter()
                        .flat_map(|s| {
                            values.iter().map(move |v| {
                                let mut s = s.clone();
                                s.push((axis.param, v.clone()));
                                s
                            })
                        })
                        .collect();
                }
                Ok(out)
            }
            SweepDesign::Random { samples, seed } => {
                let mut rng = SimRng::new(seed ^ 0x5eed_5eed);
                Ok((0..samples)
                    .map(|_| {
                        self.axes
                            .iter()
                            .map(|axis| {
                                let value = match &axis.domain {
                                    AxisDomain::List(values) => {
                                        let i = (rng.uniform() * values.len() as f64) as usize;
                                        values[i.min(values.len() - 1)].clone()
                                    }
                                    AxisDomain::Range { from, to } => {
                                        if axis.param.kind() == ValueKind::Integer {
                                            let (a, b) = (from.ceil(), to.floor());
                                            SweepValue::Number((a + (rng.uniform() * (b - a + 1.0)).floor()).min(b))
                                        } else {
                                            SweepValue::Number(from + rng.uniform() * (to - from))
                                        }
                                    }
                                };
                                (axis.param, value)
                            })
                            .collect()
                    })
                    .collect())
            }
        }
    }
}

/// Applies one configuration to a base builder.
pub fn apply_settings(base: &ScenarioBuilder, settings: &Settings) -> ScenarioBuilder {
    let mut b = base.clone();
    for (param, value) in settings {
        let num = match value {
            SweepValue::Number(x) => *x,
            _ => 0.0,
        };
        let int = num.round().max(0.0).min(u32::MAX as f64) as u32;
        let on = matches!(value, SweepValue::Bool(true));
        b = match param {
            SweepParam::Gpu => b.gpu(&value.to_string()),
            SweepParam::GpuMemoryUtilization => b.edit_flags(|f| f.gpu_memory_utilization = Some(num)),
            SweepParam::MaxNumSeqs => b.edit_flags(|f| f.max_num_seqs = Some(int)),
            SweepParam::MaxNumBatchedTokens => b.edit_flags(|f| f.max_num_batched_tokens = Some(int)),
            SweepParam::BlockSize => b.edit_flags(|f| f.block_size = Some(int)),
            SweepParam::MaxModelLen => b.edit_flags(|f| f.max_model_len = Some(int)),
            SweepParam::EnableChunkedPrefill => b.edit_flags(|f| f.enable_chunked_prefill = Some(on)),
            SweepParam::EnablePrefixCaching => b.edit_flags(|f| f.enable_prefix_caching = Some(on)),
            SweepParam::TensorParallelSize => b.edit_flags(|f| f.tensor_parallel_size = Some(int)),
            SweepParam::SchedulerDelayFactor => b.edit_flags(|f| f.scheduler_delay_factor = Some(num)),
            // Axes parsed from text hold valid names; settings built by hand may not, and then
            // `build` says so instead of running another configuration.
            SweepParam::KvCacheDtype => match KvCacheDtype::parse(&value.to_string(), "sweep") {
                Ok(kv) => b.edit_flags(|f| f.kv_cache_dtype = Some(kv)),
                Err(e) => b.invalid_input("sweep", "kv_cache_dtype", &e.to_string()),
            },
            SweepParam::Quantization => match Quantization::parse(&value.to_string(), "sweep") {
                Ok(q) => b.edit_flags(|f| f.quantization = Some(q)),
                Err(e) => b.invalid_input("sweep", "quantization", &e.to_string()),
            },
            SweepParam::Replicas => b.replicas(int),
            SweepParam::Concurrency => b.edit_workload(|w| w.set_concurrency(vec![int], None)),
            SweepParam::RequestRate => b.edit_workload(|w| {
                let (n, mc) = match &w.load {
                    LoadSpec::Poisson {
                        num_requests,
                        max_concurrency,
                        ..
                    } => (*num_requests, *max_concurrency),
                    _ => (1000, None),
                };
                w.set_poisson(vec![num], n, mc)
            }),
        };
    }
    b
}

/// The figures of one simulated configuration at one load level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepMetrics {
    /// The load level: `c=100` or `qps=8`.
    pub level: String,
    /// GPUs the deployment uses (tensor parallel × replicas).
    pub gpus: u32,
    /// $/hour of those GPUs at the catalog's on-demand price, if it lists one.
    pub price_usd_per_hour: Option<f64>,
    /// KV-cache capacity per engine, tokens.
    pub kv_cache_tokens: u64,
    /// Requests of max_model_len tokens the KV cache holds at once (vLLM's log line).
    pub max_concurrency: f64,
    /// Completed requests per second.
    pub request_throughput_req_s: f64,
    /// Generated tokens per second.
    pub output_throughput_tok_s: f64,
    /// Mean time to first token, ms.
    pub ttft_ms_mean: f64,
    /// P95 time to first token, ms.
    pub ttft_ms_p95: f64,
    /// Mean time per output token, ms.
    pub tpot_ms_mean: f64,
    /// P95 time per output token, ms.
    pub tpot_ms_p95: f64,
    /// Mean end-to-end latency, ms.
    pub e2e_ms_mean: f64,
    /// P95 end-to-end latency, ms.
    pub e2e_ms_p95: f64,
    /// Requests that completed.
    pub requests: u32,
    /// Requests rejected (too long for max_model_len or the KV cache).
    pub failed: u32,
    /// Preemptions (recomputations) in the level.
    pub preemptions: u64,
    /// TTS: audio seconds per wall-clock second.
    pub x_realtime: Option<f64>,
    /// $ per million generated tokens at this throughput.
    pub usd_per_million_output_tokens: Option<f64>,
}

impl SweepMetrics {
    /// Summarises one level of a simulated scenario.
    pub fn from_level(scenario: &Scenario, memory: &crate::memory::MemoryPlan, level: &LevelResult) -> SweepMetrics {
        let gpus = scenario.engine.tensor_parallel_size * scenario.replicas;
        let price = scenario.gpu.price_usd_per_hour.map(|p| p * gpus as f64);
        let label = match (level.concurrency, level.qps) {
            (Some(c), _) => format!("c={c}"),
            (None, Some(q)) => format!("qps={q}"),
            _ => "trace".into(),
        };
        SweepMetrics {
            level: label,
            gpus,
            price_usd_per_hour: price,
            kv_cache_tokens: memory.kv_cache_tokens,
            max_concurrency: memory.max_concurrency,
            request_throughput_req_s: level.request_throughput_req_s,
            output_throughput_tok_s: level.output_throughput_tok_s,
            ttft_ms_mean: level.ttft_ms.mean,
            ttft_ms_p95: level.ttft_ms.p95,
            tpot_ms_mean: level.tpot_ms.mean,
            tpot_ms_p95: level.tpot_ms.p95,
            e2e_ms_mean: level.e2e_latency_ms.mean,
            e2e_ms_p95: level.e2e_latency_ms.p95,
            requests: level.requests,
            failed: level.failed,
            preemptions: level.engine.preemptions,
            x_realtime: level.tts.as_ref().map(|t| t.throughput_x_realtime),
            usd_per_million_output_tokens: price
                .filter(|_| level.output_throughput_tok_s > 0.0)
                .map(|p| p / 3600.0 / level.output_throughput_tok_s * 1e6),
        }
    }

    /// The value of a rank metric; none when every request failed (there is nothing to rank).
    pub fn get(&self, metric: RankMetric) -> Option<f64> {
        if self.requests == 0 {
            return None;
        }
        Some(match metric {
            RankMetric::RequestThroughput => self.request_throughput_req_s,
            RankMetric::OutputThroughput => self.output_throughput_tok_s,
            RankMetric::TtftMean => self.ttft_ms_mean,
            RankMetric::TtftP95 => self.ttft_ms_p95,
            RankMetric::TpotMean => self.tpot_ms_mean,
            RankMetric::TpotP95 => self.tpot_ms_p95,
            RankMetric::E2eMean => self.e2e_ms_mean,
            RankMetric::E2eP95 => self.e2e_ms_p95,
            RankMetric::XRealtime => return self.x_realtime,
            RankMetric::UsdPerMillionTokens => return self.usd_per_million_output_tokens,
        })
    }
}

/// What happened to one configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum SweepOutcome {
    /// It started and was simulated.
    Ran(Box<SweepMetrics>),
    /// The engine would refuse it at start-up (or the configuration is invalid): its message.
    Refused {
        /// The rule, when the engine refused it.
        kind: Option<RefusalKind>,
        /// The engine's own words, or servecast's for invalid input.
        message: String,
    },
}

/// One row of a sweep: a configuration and, per level, its outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// Index of the configuration in the sweep (rows of one configuration share it).
    pub config: usize,
    /// The swept values.
    #[serde(serialize_with = "settings_as_map")]
    pub settings: Settings,
    /// Result.
    #[serde(flatten)]
    pub outcome: SweepOutcome,
}

fn settings_as_map<S: serde::Serializer>(settings: &Settings, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = s.serialize_map(Some(settings.len()))?;
    for (k, v) in settings {
        map.serialize_entry(k.name(), v)?;
    }
    map.end()
}

impl SweepRow {
    /// The metrics, if the configuration ran.
    pub fn metrics(&self) -> Option<&SweepMetrics> {
        match &self.outcome {
            SweepOutcome::Ran(m) => Some(m),
            SweepOutcome::Refused { .. } => None,
        }
    }
}

/// Simulates one configuration: one row per load level, or one refused row.
pub fn run_config(base: &ScenarioBuilder, index: usize, settings: &Settings) -> Vec<SweepRow> {
    let refused = |e: Error| {
        let kind = match &e {
            Error::EngineRefused { kind, .. } => Some(*kind),
            _ => None,
        };
        vec![SweepRow {
            config: index,
            settings: settings.clone(),
            outcome: SweepOutcome::Refused {
                kind,
                message: e.to_string(),
            },
        }]
    };
    let scenario = match apply_settings(base, settings).without_report().build() {
        Ok(s) => s,
        Err(e) => return refused(e),
    };
    let memory = match scenario.memory() {
        Ok(m) => m,
        Err(e) => return refused(e),
    };
    let cost = scenario.cost_model();
    (0..scenario.workload.levels().len())
        .map(|i| {
            let level = scenario.run_level_with(i, &memory, &cost);
            SweepRow {
                config: index,
                settings: settings.clone(),
                outcome: SweepOutcome::Ran(Box::new(SweepMetrics::from_level(&scenario, &memory, &level))),
            }
        })
        .collect()
}

/// Runs every configuration of `spec` over `base` in parallel (rayon), in configuration order.
///
/// `progress` draws an indicatif bar on stderr.
pub fn run_sweep(base: &ScenarioBuilder, spec: &SweepSpec, progress: bool) -> Result<Vec<SweepRow>> {
    let configs = spec.configs()?;
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(configs.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} sweep {bar:40} {pos}/{len} configs ({per_sec}, eta {eta})",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let rows: Vec<Vec<SweepRow>> = configs
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let rows = run_config(base, i, s);
            bar.inc(1);
            rows
        })
        .collect();
    bar.finish_and_clear();
    Ok(rows.into_iter().flatten().collect())
}

/// A metric to rank a sweep by; throughputs rank high-first, latencies and costs low-first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RankMetric {
    /// Completed requests per second.
    RequestThroughput,
    /// Generated tokens per second.
    OutputThroughput,
    /// Mean TTFT.
    TtftMean,
    /// P95 TTFT.
    TtftP95,
    /// Mean TPOT.
    TpotMean,
    /// P95 TPOT.
    TpotP95,
    /// Mean E2E latency.
    E2eMean,
    /// P95 E2E latency.
    E2eP95,
    /// TTS × real time.
    XRealtime,
    /// $ per million output tokens.
    UsdPerMillionTokens,
}

impl RankMetric {
    const NAMES: [(&'static str, RankMetric); 10] = [
        ("request_throughput_req_s", RankMetric::RequestThroughput),
        ("output_throughput_tok_s", RankMetric::OutputThroughput),
        ("ttft_ms_mean", RankMetric::TtftMean),
        ("ttft_ms_p95", RankMetric::TtftP95),
        ("tpot_ms_mean", RankMetric::TpotMean),
        ("tpot_ms_p95", RankMetric::TpotP95),
        ("e2e_ms_mean", RankMetric::E2eMean),
        ("e2e_ms_p95", RankMetric::E2eP95),
        ("x_realtime", RankMetric::XRealtime),
        ("usd_per_million_output_tokens", RankMetric::UsdPerMillionTokens),
    ];

    /// Parses a metric name as it appears in the sweep's CSV/JSON columns.
    pub fn parse(text: &str, origin: &str) -> Result<RankMetric> {
        let key = text.trim().replace('-', "_");
        RankMetric::NAMES
            .iter()
            .find(|(n, _)| {
                *n == key
                    || (key == "req_s" && *n == "request_throughput_req_s")
                    || (key == "tok_s" && *n == "output_throughput_tok_s")
            })
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                Error::invalid(
                    origin,
                    "rank_by",
                    format!(
                        "unknown metric '{text}'; one of: {}",
                        RankMetric::NAMES.map(|(n, _)| n).join(", ")
                    ),
                )
            })
    }

    /// The column name.
    pub fn name(self) -> &'static str {
        RankMetric::NAMES
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(n, _)| n)
    }

    /// True when a larger value is better.
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            RankMetric::RequestThroughput | RankMetric::OutputThroughput | RankMetric::XRealtime
        )
    }
}

/// Sorts rows best-first by `metric`; refused rows, rows whose requests all failed (and rows
/// without the metric) go last, in
/// configuration order.
pub fn rank(rows: &mut [SweepRow], metric: RankMetric) {
    let key = |r: &SweepRow| r.metrics().and_then(|m| m.get(metric)).filter(|v| v.is_finite());
    let failed = |r: &SweepRow| r.metrics().map_or(u32::MAX, |m| m.failed);
    let throughput = |r: &SweepRow| r.metrics().map_or(0.0, |m| m.request_throughput_req_s);
    let ttft = |r: &SweepRow| r.metrics().map_or(f64::INFINITY, |m| m.ttft_ms_p95);
    rows.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let o = if metric.higher_is_better() {
                y.total_cmp(&x)
            } else {
                x.total_cmp(&y)
            };
            // Ties: fewer failed requests, then more requests served per second, then the lower
            // P95 TTFT, then the configuration's place in the sweep.
            o.then(failed(a).cmp(&failed(b)))
                .then(throughput(b).total_cmp(&throughput(a)))
                .then(ttft(a).total_cmp(&ttft(b)))
                .then(a.config.cmp(&b.config))
        }
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.config.cmp(&b.config),
    });
}

/// Spearman's rank correlation of two equally long samples (average ranks for ties); `None`
/// with fewer than two pairs or a constant sample.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let ranks = |v: &[f64]| -> Vec<f64> {
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        let mut r = vec![0.0; v.len()];
        let mut i = 0;
        while i < idx.len() {
            let mut j = i;
            while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
                j += 1;
            }
            let avg = (i + j) as f64 / 2.0 + 1.0;
            for k in i..=j {
                r[idx[k]] = avg;
            }
            i = j + 1;
        }
        r
    };
    let (rx, ry) = (ranks(x), ranks(y));
    let n = x.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    (vx > 0.0 && vy > 0.0).then(|| cov / (vx * vy).sqrt())
}

/// The load level a row ran at, for grouping (None for refused rows).
pub fn row_level(row: &SweepRow) -> Option<&str> {
    row.metrics().map(|m| m.level.as_str())
}

/// Renders rows as CSV: settings columns, then outcome, message and every metric.
pub fn to_csv(rows: &[SweepRow]) -> String {
    let params: Vec<SweepParam> = rows
        .first()
        .map(|r| r.settings.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    let mut out = String::new();
    let mut header: Vec<String> = params.iter().map(|p| p.name().to_string()).collect();
    header.extend(
        [
            "outcome",
            "level",
            "gpus",
            "price_usd_per_hour",
            "kv_cache_tokens",
            "max_concurrency",
            "request_throughput_req_s",
            "output_throughput_tok_s",
            "ttft_ms_mean",
            "ttft_ms_p95",
            "tpot_ms_mean",
            "tpot_ms_p95",
            "e2e_ms_mean",
            "e2e_ms_p95",
            "failed",
            "preemptions",
            "x_realtime",
            "usd_per_million_output_tokens",
            "message",
        ]
        .map(String::from),
    );
    out.push_str(&header.join(","));
    out.push('\n');
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    for r in rows {
        let mut cells: Vec<String> = r.settings.iter().map(|(_, v)| v.to_string()).collect();
        match &r.outcome {
            SweepOutcome::Ran(m) => cells.extend([
                "ran".into(),
                m.level.clone(),
                m.gpus.to_string(),
                opt(m.price_usd_per_hour),
                m.kv_cache_tokens.to_string(),
                format!("{:.2}", m.max_concurrency),
                format!("{:.4}", m.request_throughput_req_s),
                format!("{:.2}", m.output_throughput_tok_s),
                format!("{:.2}", m.ttft_ms_mean),
                format!("{:.2}", m.ttft_ms_p95),
                format!("{:.3}", m.tpot_ms_mean),
                format!("{:.3}", m.tpot_ms_p95),
                format!("{:.1}", m.e2e_ms_mean),
                format!("{:.1}", m.e2e_ms_p95),
                m.failed.to_string(),
                m.preemptions.to_string(),
                opt(m.x_realtime),
                opt(m.usd_per_million_output_tokens),
                String::new(),
            ]),
            SweepOutcome::Refused { message, .. } => {
                cells.push("refused".into());
                cells.extend(std::iter::repeat_n(String::new(), 17));
                cells.push(format!("\"{}\"", message.replace('"', "\"\"")));
            }
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Which levels a workload has, as labels (for reports).
pub fn level_label(level: Level) -> String {
    match level {
        Level::Concurrency(c) => format!("c={c}"),
        Level::Qps(q) => format!("qps={q}"),
        Level::Trace => "trace".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_parse_lists_ranges_and_booleans() {
        let a = Axis::parse("util=0.5..0.9:0.1", "t").unwrap();
        let AxisDomain::List(v) = &a.domain else { panic!() };
        assert_eq!(v.len(), 5);
        assert_eq!(v[4], SweepValue::Number(0.9));
        let b = Axis::parse("--enable-chunked-prefill=true,off", "t").unwrap();
        assert_eq!(b.param, SweepParam::EnableChunkedPrefill);
        assert_eq!(
            b.domain,
            AxisDomain::List(vec![SweepValue::Bool(true), SweepValue::Bool(false)])
        );
        assert!(matches!(
            Axis::parse("seqs=8..4096", "t").unwrap().domain,
            AxisDomain::Range { .. }
        ));
        assert!(Axis::parse("util=0..1.5:0.5", "t").is_err());
        assert!(Axis::parse("seqs=8.5", "t").is_err());
        assert!(Axis::parse("warp=1", "t").is_err());
        assert!(Axis::parse("chunked=maybe", "t").is_err());
    }

    #[test]
    fn grid_is_the_cartesian_product_and_random_draws_stay_in_range() {
        let spec = SweepSpec {
            axes: vec![
                Axis::parse("seqs=8,16,32", "t").unwrap(),
                Axis::parse("tp=1,2", "t").unwrap(),
            ],
            design: SweepDesign::Grid,
        };
        assert_eq!(spec.configs().unwrap().len(), 6);
        let spec = SweepSpec {
            axes: vec![
                Axis::parse("seqs=8..4096", "t").unwrap(),
                Axis::parse("block=8,16,32", "t").unwrap(),
            ],
            design: SweepDesign::Random { samples: 500, seed: 1 },
        };
        let configs = spec.configs().unwrap();
        assert_eq!(configs.len(), 500);
        for c in &configs {
            let SweepValue::Number(s) = c[0].1 else { panic!() };
            assert!((8.0..=4096.0).contains(&s) && s.fract() == 0.0);
        }
        assert_eq!(configs, spec.configs().unwrap(), "same seed, same draws");
        let grid_with_range = SweepSpec {
            axes: vec![Axis::parse("seqs=8..4096", "t").unwrap()],
            design: SweepDesign::Grid,
        };
        assert!(grid_with_range.configs().is_err());
    }

    #[test]
    fn spearman_matches_hand_computed_values() {
        assert_eq!(spearman_rho(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]), Some(1.0));
        assert_eq!(spearman_rho(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), Some(-1.0));
        // d = (0, 1, -1): rho = 1 - 6 * 2 / (3 * 8) = 0.5
        let r = spearman_rho(&[1.0, 2.0, 3.0], &[1.0, 3.0, 2.0]).unwrap();
        assert!((r - 0.5).abs() < 1e-12);
        assert_eq!(spearman_rho(&[1.0, 1.0], &[1.0, 2.0]), None);
    }
}
