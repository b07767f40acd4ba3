//! Sweeps: many configurations of one deployment simulated in parallel, ranked by a metric.
//!
//! A sweep varies engine flags, the GPU, tensor parallelism, replicas, concurrency or request
//! rate over a base scenario, as a grid (lists and `from..to:step` ranges) or as random samples
//! (`--samples N`, the way seed 004 searched `vllm serve` flags). Configurations the engine would
//! refuse are kept, with the engine's own error, so a sweep shows which corners of the flag space
//! crash at start-up.
//!
//! Each configuration runs isolated ([`run_config_with`]): an error building it is its row's
//! refusal, and a panic (`internal error: …`, with the panic's message and place) or its time limit
//! ([`SweepRunOptions::config_timeout`]) is its row's failure, while the other configurations run
//! on. Caught panics are not printed: a process-wide panic hook, installed once and chained to the
//! one before it, keeps the message of a panic on a thread inside a configuration's isolation (a
//! thread-local flag) for the row, and prints every other panic as before (a panic on a thread
//! that rayon lent the configuration's own parallel work to prints one report, then is caught all
//! the same). Every configuration is held to [`MAX_REQUESTS_PER_RUN`] simulated requests over its
//! levels and the sweep to [`MAX_REQUESTS_PER_SWEEP`] in all; random samples are distinct.

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, RefusalKind, Result};
use crate::memory::thousands;
use crate::metrics::level::LevelResult;
use crate::scenario::{Scenario, ScenarioBuilder};
use crate::spec::engine::{KvCacheDtype, Quantization};
use crate::workload::arrivals::{Level, LoadSpec, WorkloadSpec, MAX_REQUESTS_PER_RUN};
use crate::workload::rng::SimRng;

/// The most configurations one sweep runs (a grid's product, or `--samples`).
pub const MAX_CONFIGS: usize = 1_000_000;

/// The most requests one sweep simulates, summed over its configurations and their levels (each
/// configuration is also held to [`MAX_REQUESTS_PER_RUN`]). At the simulator's speed, some
/// 100,000 requests per second per core, that is hours of CPU.
pub const MAX_REQUESTS_PER_SWEEP: u64 = 1_000_000_000;

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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
        // A value listed twice is one configuration, not two runs of it.
        let mut seen = HashSet::new();
        let list: Vec<SweepValue> = list.into_iter().filter(|v| seen.insert(ValueKey::of(v))).collect();
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
            // Any value of the flag's type: one the simulator cannot start (above
            // scenario::MAX_NUM_SEQS) is a configuration whose row says so, not bad input.
            SweepParam::MaxNumSeqs => (1.0, f64::from(u32::MAX)),
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
        if let AxisDomain::Range { from, to } = self.domain {
            if self.param.kind() == ValueKind::Integer && from.ceil() > to.floor() {
                return Err(Error::invalid(
                    origin,
                    self.param.name(),
                    format!("the range {from}..{to} holds no whole number"),
                ));
            }
        }
        Ok(())
    }

    /// Every value the axis can take, when there are finitely many: a list, the whole numbers of
    /// an integer range, or a range of one real number.
    fn finite_values(&self) -> Option<Vec<SweepValue>> {
        match &self.domain {
            AxisDomain::List(values) => Some(values.clone()),
            AxisDomain::Range { from, to } if self.param.kind() == ValueKind::Integer => {
                let (a, b) = (from.ceil(), to.floor());
                Some(
                    (0..=(b - a).max(-1.0) as i64)
                        .map(|i| SweepValue::Number(a + i as f64))
                        .collect(),
                )
            }
            AxisDomain::Range { from, to } if from == to => Some(vec![SweepValue::Number(*from)]),
            AxisDomain::Range { .. } => None,
        }
    }

    /// How many distinct values the axis takes (none: a range of real numbers).
    fn distinct_count(&self) -> Option<u64> {
        match &self.domain {
            AxisDomain::List(values) => Some(values.iter().map(ValueKey::of).collect::<HashSet<_>>().len() as u64),
            AxisDomain::Range { from, to } if self.param.kind() == ValueKind::Integer => {
                Some((to.floor() - from.ceil() + 1.0).max(0.0) as u64)
            }
            AxisDomain::Range { from, to } if from == to => Some(1),
            AxisDomain::Range { .. } => None,
        }
    }

    /// One random value.
    fn draw(&self, rng: &mut SimRng) -> SweepValue {
        match &self.domain {
            AxisDomain::List(values) => {
                let i = (rng.uniform() * values.len() as f64) as usize;
                values[i.min(values.len().saturating_sub(1))].clone()
            }
            AxisDomain::Range { from, to } => {
                if self.param.kind() == ValueKind::Integer {
                    let (a, b) = (from.ceil(), to.floor());
                    SweepValue::Number((a + (rng.uniform() * (b - a + 1.0)).floor()).min(b))
                } else {
                    SweepValue::Number(from + rng.uniform() * (to - from))
                }
            }
        }
    }
}

/// A value as a hashable key (numbers by their bits, with -0 as 0), to find repeated settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    Number(u64),
    Bool(bool),
    Text(String),
}

impl ValueKey {
    fn of(value: &SweepValue) -> ValueKey {
        match value {
            SweepValue::Number(x) => ValueKey::Number(if *x == 0.0 { 0 } else { x.to_bits() }),
            SweepValue::Bool(b) => ValueKey::Bool(*b),
            SweepValue::Text(t) => ValueKey::Text(t.clone()),
        }
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
    ///
    /// A grid is every combination of the listed values. Random samples are distinct: draws that
    /// repeat a configuration already drawn are skipped until `samples` distinct ones are found;
    /// when the space holds no more than `samples` configurations, all of them are returned in
    /// grid order (fewer than asked for: see [`SweepSpec::space_size`]).
    pub fn configs(&self) -> Result<Vec<Settings>> {
        for axis in &self.axes {
            if matches!(&axis.domain, AxisDomain::List(v) if v.is_empty()) {
                return Err(Error::invalid("sweep", axis.param.name(), "the axis has no values"));
            }
        }
        match self.design {
            SweepDesign::Grid => {
                let mut lists = Vec::with_capacity(self.axes.len());
                for axis in &self.axes {
                    let AxisDomain::List(values) = &axis.domain else {
                        return Err(Error::invalid(
                            "sweep",
                            axis.param.name(),
                            "a range without a step (from..to) needs --samples N; give from..to:step for a grid",
                        ));
                    };
                    lists.push((axis.param, values.clone()));
                }
                product(&lists).ok_or_else(|| {
                    Error::invalid(
                        "sweep",
                        "axes",
                        format!(
                            "the grid has more than {} configurations; use --samples N",
                            thousands(MAX_CONFIGS as u64)
                        ),
                    )
                })
            }
            SweepDesign::Random { samples, seed } => {
                let wanted = samples as usize;
                if wanted == 0 || wanted > MAX_CONFIGS {
                    return Err(Error::invalid(
                        "--samples",
                        "samples",
                        format!("must be in 1..={}", thousands(MAX_CONFIGS as u64)),
                    ));
                }
                if self.space_size().is_some_and(|k| k <= wanted as u64) {
                    let mut lists = Vec::with_capacity(self.axes.len());
                    for axis in &self.axes {
                        let mut values = axis.finite_values().unwrap_or_default();
                        let mut seen = HashSet::new();
                        values.retain(|v| seen.insert(ValueKey::of(v)));
                        lists.push((axis.param, values));
                    }
                    // At most `wanted` ≤ MAX_CONFIGS combinations: the product cannot overflow.
                    return Ok(product(&lists).unwrap_or_default());
                }
                // More configurations than wanted: draw until `wanted` distinct ones (a draw
                // repeats an earlier one with probability below 1, so this ends).
                let mut rng = SimRng::new(seed ^ 0x5eed_5eed);
                let mut seen: HashSet<Vec<ValueKey>> = HashSet::with_capacity(wanted);
                let mut out = Vec::with_capacity(wanted);
                while out.len() < wanted {
                    let config: Settings = self.axes.iter().map(|a| (a.param, a.draw(&mut rng))).collect();
                    if seen.insert(config.iter().map(|(_, v)| ValueKey::of(v)).collect()) {
                        out.push(config);
                    }
                }
                Ok(out)
            }
        }
    }

    /// How many distinct configurations the axes hold (the product of each axis's distinct
    /// values), saturating; none when an axis is a range of real numbers.
    pub fn space_size(&self) -> Option<u64> {
        self.axes
            .iter()
            .try_fold(1u64, |n, a| a.distinct_count().map(|k| n.saturating_mul(k)))
    }
}

/// Every combination of the values, axis by axis; none above [`MAX_CONFIGS`].
fn product(lists: &[(SweepParam, Vec<SweepValue>)]) -> Option<Vec<Settings>> {
    let mut out: Vec<Settings> = vec![Vec::new()];
    for (param, values) in lists {
        if out.len().saturating_mul(values.len()) > MAX_CONFIGS {
            return None;
        }
        out = out
            .into_iter()
            .flat_map(|s| {
                values.iter().map(move |v| {
                    let mut s = s.clone();
                    s.push((*param, v.clone()));
                    s
                })
            })
            .collect();
    }
    Some(out)
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
            SweepParam::Concurrency | SweepParam::RequestRate => b.edit_workload(|w| apply_load(w, *param, value)),
        };
    }
    b
}

/// Applies a load setting (concurrency or request rate) to a workload; other settings leave it.
fn apply_load(w: &mut WorkloadSpec, param: SweepParam, value: &SweepValue) {
    let num = match value {
        SweepValue::Number(x) => *x,
        _ => 0.0,
    };
    match param {
        SweepParam::Concurrency => w.set_concurrency(vec![num.round().max(0.0).min(u32::MAX as f64) as u32], None),
        SweepParam::RequestRate => {
            let (n, mc) = match &w.load {
                LoadSpec::Poisson {
                    num_requests,
                    max_concurrency,
                    ..
                } => (*num_requests, *max_concurrency),
                _ => (1000, None),
            };
            w.set_poisson(vec![num], n, mc)
        }
        _ => {}
    }
}

/// Requests the configurations would simulate in all over `base`'s workload: each one's levels
/// summed, a configuration over [`MAX_REQUESTS_PER_RUN`] counting nothing (it is refused, not run).
/// Configurations the engine refuses are counted too (this is what the sweep may cost, at most).
pub fn planned_requests(base: &ScenarioBuilder, configs: &[Settings]) -> u64 {
    let Some(workload) = base.workload_spec() else {
        return 0;
    };
    let capped = |w: &WorkloadSpec| {
        Some(w.total_requests())
            .filter(|&n| n <= MAX_REQUESTS_PER_RUN)
            .unwrap_or(0)
    };
    let varies_load = |c: &Settings| {
        c.iter()
            .any(|(p, _)| matches!(p, SweepParam::Concurrency | SweepParam::RequestRate))
    };
    if !configs.iter().any(varies_load) {
        return capped(workload).saturating_mul(configs.len() as u64);
    }
    configs
        .iter()
        .map(|c| {
            let mut w = workload.clone();
            for (p, v) in c {
                apply_load(&mut w, *p, v);
            }
            capped(&w)
        })
        .fold(0u64, u64::saturating_add)
}

/// Refuses a sweep whose configurations would simulate more than [`MAX_REQUESTS_PER_SWEEP`]
/// requests in all, naming the figure; returns the planned count.
pub fn check_sweep_size(base: &ScenarioBuilder, spec: &SweepSpec, configs: &[Settings]) -> Result<u64> {
    let total = planned_requests(base, configs);
    if total > MAX_REQUESTS_PER_SWEEP {
        let (origin, field) = match spec.design {
            SweepDesign::Grid => ("--axis", "axes"),
            SweepDesign::Random { .. } => ("--samples", "samples"),
        };
        return Err(Error::invalid(
            origin,
            field,
            format!(
                "the {} configurations would simulate {} requests; a sweep simulates at most {} in all (each \
                 configuration at most {}): fewer configurations, levels or requests per level",
                thousands(configs.len() as u64),
                thousands(total),
                thousands(MAX_REQUESTS_PER_SWEEP),
                thousands(MAX_REQUESTS_PER_RUN),
            ),
        ));
    }
    Ok(total)
}

/// The figures of one simulated configuration at one load level.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
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
    /// Its simulation did not finish: it ran past the time limit, or servecast failed on it
    /// (`internal error: …`, a bug to report). Levels simulated before are rows of their own.
    Failed {
        /// What stopped it.
        reason: String,
    },
}

/// One row of a sweep: a configuration and, per level, its outcome. Rows read back from a
/// sweep's JSON Lines (shards) are equal to the rows written.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SweepRow {
    /// Index of the configuration in the sweep (rows of one configuration share it).
    pub config: usize,
    /// The swept values.
    #[serde(serialize_with = "settings_as_map", deserialize_with = "settings_from_map")]
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

/// Reads the `{name: value}` map back in the order written.
fn settings_from_map<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Settings, D::Error> {
    struct Visit;
    impl<'de> serde::de::Visitor<'de> for Visit {
        type Value = Settings;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of swept parameter names to values")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Settings, A::Error> {
            let mut out = Settings::new();
            while let Some((name, value)) = map.next_entry::<String, SweepValue>()? {
                let param = SweepParam::parse(&name, "settings").map_err(serde::de::Error::custom)?;
                out.push((param, value));
            }
            Ok(out)
        }
    }
    d.deserialize_map(Visit)
}

impl SweepRow {
    /// The metrics, if the configuration ran.
    pub fn metrics(&self) -> Option<&SweepMetrics> {
        match &self.outcome {
            SweepOutcome::Ran(m) => Some(m),
            SweepOutcome::Refused { .. } | SweepOutcome::Failed { .. } => None,
        }
    }
}

/// What receives a finished configuration's rows (see [`SweepRunOptions::on_config_done`]).
pub type RowSink<'a> = dyn Fn(&[SweepRow]) -> Result<()> + Sync + 'a;

/// How a sweep runs, beside what it sweeps.
#[derive(Clone, Copy, Default)]
pub struct SweepRunOptions<'a> {
    /// Draw an indicatif progress bar on stderr.
    pub progress: bool,
    /// Stop a configuration that has run this long: its levels not yet simulated become one
    /// [`SweepOutcome::Failed`] row (none: no limit). Checked before each level (a level is
    /// bounded by [`MAX_REQUESTS_PER_RUN`]); see [`config_deadline`].
    pub config_timeout: Option<Duration>,
    /// Called with a configuration's rows as soon as it finishes (in completion order, from the
    /// worker threads, one call at a time); an error stops the sweep and is returned.
    pub on_config_done: Option<&'a RowSink<'a>>,
    /// Test hook: called with the configuration's index on its worker thread before it is
    /// built, inside the isolation a configuration runs in (a test makes it panic).
    #[doc(hidden)]
    pub test_hook: Option<TestHook>,
}

/// A test hook: a function of a configuration's index (see [`SweepRunOptions::test_hook`]).
#[doc(hidden)]
#[derive(Clone, Copy)]
pub struct TestHook(pub fn(usize));

impl PartialEq for TestHook {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl fmt::Debug for TestHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TestHook")
    }
}

impl fmt::Debug for SweepRunOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SweepRunOptions")
            .field("progress", &self.progress)
            .field("config_timeout", &self.config_timeout)
            .field("on_config_done", &self.on_config_done.is_some())
            .finish_non_exhaustive()
    }
}

/// When a configuration that started at `started` must stop, under `timeout` (none: never).
///
/// The sweep checks it between levels, and the engine every 4,096 events inside a level
/// ([`crate::engine::with_deadline`]).
pub fn config_deadline(started: Instant, timeout: Option<Duration>) -> Option<Instant> {
    timeout.and_then(|t| started.checked_add(t))
}

/// Simulates one configuration: one row per load level, or one refused row (no time limit).
pub fn run_config(base: &ScenarioBuilder, index: usize, settings: &Settings) -> Vec<SweepRow> {
    run_config_with(base, index, settings, &SweepRunOptions::default())
}

/// Simulates one configuration in isolation: one row per simulated load level; an error building
/// it is one refused row, and a panic or the time limit ends it with one failed row (after the
/// rows of the levels that finished).
pub fn run_config_with(
    base: &ScenarioBuilder,
    index: usize,
    settings: &Settings,
    options: &SweepRunOptions<'_>,
) -> Vec<SweepRow> {
    let started = Instant::now();
    let deadline = config_deadline(started, options.config_timeout);
    let row = |outcome: SweepOutcome| SweepRow {
        config: index,
        settings: settings.clone(),
        outcome,
    };
    let prepared = isolation::isolate(|| {
        if let Some(TestHook(hook)) = options.test_hook {
            hook(index);
        }
        let scenario = apply_settings(base, settings).without_report().build()?;
        let memory = scenario.memory()?;
        let cost = scenario.cost_model();
        Ok::<_, Error>((scenario, memory, cost))
    });
    let (scenario, memory, cost) = match prepared {
        Ok(Ok(prepared)) => prepared,
        Ok(Err(e)) => {
            let kind = match &e {
                Error::EngineRefused { kind, .. } => Some(*kind),
                _ => None,
            };
            return vec![row(SweepOutcome::Refused {
                kind,
                message: e.to_string(),
            })];
        }
        Err(panic) => {
            return vec![row(SweepOutcome::Failed {
                reason: format!("internal error: {panic}"),
            })]
        }
    };
    let levels = scenario.workload.levels();
    let mut rows = Vec::with_capacity(levels.len());
    let stop_row = |i: usize| {
        let not_run: Vec<String> = levels[i..].iter().map(|l| level_label(*l)).collect();
        row(SweepOutcome::Failed {
            reason: format!(
                "stopped after {:.1} s (--config-timeout {} s): {} of {} levels simulated, not {}",
                started.elapsed().as_secs_f64(),
                options.config_timeout.map_or(0.0, |t| t.as_secs_f64()),
                i,
                levels.len(),
                not_run.join(", ")
            ),
        })
    };
    for (i, level) in levels.iter().enumerate() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            rows.push(stop_row(i));
            break;
        }
        // The engine also looks at the deadline while it simulates, so one huge level cannot
        // run past it; a level stopped part-way is not reported.
        let run = isolation::isolate(|| {
            crate::engine::with_deadline(deadline, || scenario.run_level_with(i, &memory, &cost))
        });
        match run {
            Ok((_, true)) => {
                rows.push(stop_row(i));
                break;
            }
            Ok((result, false)) if result.engine.clock_overflow_step_s.is_some() => {
                let message = scenario
                    .check_clock(std::slice::from_ref(&result))
                    .err()
                    .map_or_else(String::new, |e| e.to_string());
                rows.push(row(SweepOutcome::Failed { reason: message }));
                break;
            }
            Ok((result, false)) => rows.push(row(SweepOutcome::Ran(Box::new(SweepMetrics::from_level(
                &scenario, &memory, &result,
            ))))),
            Err(panic) => {
                rows.push(row(SweepOutcome::Failed {
                    reason: format!("internal error at level {}: {panic}", level_label(*level)),
                }));
                break;
            }
        }
    }
    rows
}

/// Runs every configuration of `spec` over `base` in parallel (rayon), in configuration order,
/// without a time limit.
///
/// `progress` draws an indicatif bar on stderr.
pub fn run_sweep(base: &ScenarioBuilder, spec: &SweepSpec, progress: bool) -> Result<Vec<SweepRow>> {
    run_sweep_with(
        base,
        spec,
        &SweepRunOptions {
            progress,
            ..SweepRunOptions::default()
        },
    )
}

/// Runs every configuration of `spec` over `base`: its configurations ([`SweepSpec::configs`]),
/// held to [`MAX_REQUESTS_PER_SWEEP`] ([`check_sweep_size`]), then [`run_configs`].
pub fn run_sweep_with(
    base: &ScenarioBuilder,
    spec: &SweepSpec,
    options: &SweepRunOptions<'_>,
) -> Result<Vec<SweepRow>> {
    let configs = spec.configs()?;
    check_sweep_size(base, spec, &configs)?;
    run_configs(base, &configs, options)
}

/// Runs configurations in parallel (rayon), each isolated ([`run_config_with`]): an error, a
/// panic or the time limit of one is its row's outcome and the others run on. Returns the rows in
/// configuration order; the first error of `options.on_config_done` stops the sweep (the
/// configurations already running finish) and is returned.
pub fn run_configs(
    base: &ScenarioBuilder,
    configs: &[Settings],
    options: &SweepRunOptions<'_>,
) -> Result<Vec<SweepRow>> {
    let indexed: Vec<(usize, Settings)> = configs.iter().cloned().enumerate().collect();
    run_configs_indexed(base, &indexed, options)
}

/// The configurations of `i / n` of a sweep: those whose index is `i` modulo `n` (interleaved,
/// so every shard gets a like share of cheap and costly configurations), with their indices in
/// the whole sweep.
pub fn shard_configs(configs: &[Settings], shard: usize, shards: usize) -> Vec<(usize, Settings)> {
    configs
        .iter()
        .enumerate()
        .filter(|(i, _)| shards > 0 && i % shards == shard)
        .map(|(i, s)| (i, s.clone()))
        .collect()
}

/// [`run_configs`] over configurations given with their indices in the sweep (a shard's), each
/// row carrying its configuration's index.
pub fn run_configs_indexed(
    base: &ScenarioBuilder,
    configs: &[(usize, Settings)],
    options: &SweepRunOptions<'_>,
) -> Result<Vec<SweepRow>> {
    let bar = if options.progress {
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
    let stop = AtomicBool::new(false);
    let sink_error: Mutex<Option<Error>> = Mutex::new(None);
    let rows: Vec<Vec<SweepRow>> = configs
        .par_iter()
        .map(|(i, s)| {
            let i = *i;
            if stop.load(Ordering::Relaxed) {
                return Vec::new();
            }
            let rows = run_config_with(base, i, s, options);
            if let Some(sink) = options.on_config_done {
                // One call at a time: the sink sees whole configurations in completion order.
                let mut first_error = sink_error.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if first_error.is_none() {
                    if let Err(e) = sink(&rows) {
                        *first_error = Some(e);
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
            bar.inc(1);
            rows
        })
        .collect();
    bar.finish_and_clear();
    if let Some(e) = sink_error
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(e);
    }
    Ok(rows.into_iter().flatten().collect())
}

/// Runs a configuration's work so that a panic in it is returned, not propagated, and the
/// panic's message is kept for its row instead of printed.
mod isolation {
    use std::cell::{Cell, RefCell};
    use std::panic::{self, AssertUnwindSafe};
    use std::sync::Once;

    thread_local! {
        /// Whether this thread is inside [`isolate`]: its panics are the row's, not stderr's.
        static ISOLATED: Cell<bool> = const { Cell::new(false) };
        /// The message and place of the last panic caught on this thread.
        static CAUGHT: RefCell<Option<String>> = const { RefCell::new(None) };
    }

    static HOOK: Once = Once::new();

    /// Installs, once per process, a panic hook that keeps the message of a panic on an isolated
    /// thread and hands every other panic to the hook that was there before (so panics outside
    /// sweeps, and in threads that rayon steals work onto, print as they always did).
    fn install_hook() {
        HOOK.call_once(|| {
            let previous = panic::take_hook();
            panic::set_hook(Box::new(move |info| {
                if ISOLATED.with(Cell::get) {
                    let message = payload_text(info.payload());
                    let text = match info.location() {
                        Some(at) => format!("{message} (at {}:{})", at.file(), at.line()),
                        None => message.to_string(),
                    };
                    CAUGHT.with(|c| *c.borrow_mut() = Some(text));
                } else {
                    previous(info);
                }
            }));
        });
    }

    /// Runs `f`; a panic becomes `Err(its message and place)`.
    pub(super) fn isolate<T>(f: impl FnOnce() -> T) -> Result<T, String> {
        install_hook();
        let outer = ISOLATED.with(|i| i.replace(true));
        CAUGHT.with(|c| c.borrow_mut().take());
        // The closure's state is dropped or discarded on a panic: nothing half-updated is used.
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        ISOLATED.with(|i| i.set(outer));
        result.map_err(|payload| {
            CAUGHT
                .with(|c| c.borrow_mut().take())
                .unwrap_or_else(|| payload_text(payload.as_ref()).to_string())
        })
    }

    /// A panic's message (`panic!` gives a `&str` or a `String`).
    fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
        payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("a panic without a message")
    }
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

/// Renders rows as CSV: the configuration's index, its settings, then outcome, every metric and
/// the message (a refusal's or a failure's).
pub fn to_csv(rows: &[SweepRow]) -> String {
    let params: Vec<SweepParam> = rows
        .first()
        .map(|r| r.settings.iter().map(|(p, _)| *p).collect())
        .unwrap_or_default();
    let mut out = csv_header(&params);
    for r in rows {
        out.push_str(&csv_row(r));
    }
    out
}

/// The CSV header line (with its newline) for configurations setting `params`.
pub fn csv_header(params: &[SweepParam]) -> String {
    let mut header: Vec<String> = vec!["config".into()];
    header.extend(params.iter().map(|p| p.name().to_string()));
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
    let mut line = header.join(",");
    line.push('\n');
    line
}

/// One row as a CSV line (with its newline), columns as [`csv_header`].
pub fn csv_row(r: &SweepRow) -> String {
    let opt = |v: Option<f64>| v.map_or(String::new(), |x| format!("{x:.4}"));
    let quoted = |text: &str| format!("\"{}\"", text.replace('"', "\"\""));
    let mut cells: Vec<String> = vec![r.config.to_string()];
    cells.extend(r.settings.iter().map(|(_, v)| {
        let text = v.to_string();
        if text.contains([',', '"', '\n']) {
            quoted(&text)
        } else {
            text
        }
    }));
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
            cells.push(quoted(message));
        }
        SweepOutcome::Failed { reason } => {
            cells.push("failed".into());
            cells.extend(std::iter::repeat_n(String::new(), 17));
            cells.push(quoted(reason));
        }
    }
    let mut line = cells.join(",");
    line.push('\n');
    line
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
