//! Token-length distributions for prompts and outputs.
//!
//! Every length is a whole number of tokens. Besides the textbook distributions,
//! [`LengthDist::Matched`] reproduces the statistics a benchmark report printed
//! (min, max, mean, P50, P95, P99), so that a simulated run generates the same total
//! number of tokens as the measured one.
//!
//! # Numerics: what comes from statrs and what stays hand-written
//!
//! The analytic expectations in [`LengthDist::mean`] use [statrs]: the standard
//! [`Normal`]'s `pdf` and `cdf` (statrs's `erfc`, Boost's rational fits, near double
//! precision; this file used to carry Numerical Recipes' 1.2e-7 Chebyshev `erfc`) for the
//! truncated normal, and
//! [`LogNormal`]'s `cdf` and `mean` for the truncated log-normal. These are estimates, not
//! draws: statrs calls the platform's `exp`/`ln`, so their last bits may differ between
//! systems, which no seeded simulation depends on.
//!
//! What stays hand-written, and why:
//! - **Sampling.** Every draw is driven by servecast's own [`SimRng`] through
//!   [`SimRng::standard_normal`] and the libm-free [`portable_exp`]/[`portable_ln`], so a seed
//!   gives bit-identical lengths on every platform and with every dependency version. statrs's
//!   samplers take a `rand` generator (their algorithms may change between releases), and its
//!   `inverse_cdf` goes through `erfc_inv` and the platform's libm, so neither can drive a draw
//!   (statrs is built without its `rand` feature).
//! - **Root finding.** [`LengthDist::dataset_scale`] and the stop probability of
//!   [`LengthDist::Capped`] are bisections: the first solves a step function (rounded, clipped
//!   lengths), the second must be bit-identical because it feeds the sampler, and the
//!   project has no root-finding crate (argmin, roots) to replace them with.
//! - **Report statistics.** The piecewise-linear quantile function of
//!   [`LengthDist::Matched`], numpy's linear percentile (with numpy's own `_lerp` arithmetic)
//!   and the integer tuning of [`LengthDist::sample_n`] reproduce what a benchmark printed;
//!   statrs has no such distribution, and its `OrderStatistics::quantile` is Hyndman–Fan
//!   type 8 where numpy's `linear` is type 7.
//! - **Parse-time bounds.** The default log-normal maximum `median · e^(6σ)` uses
//!   [`portable_exp`], so a parsed distribution (and the lengths drawn within it) is the same
//!   on every platform.
//!
//! [statrs]: https://docs.rs/statrs

use std::fmt;

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, LogNormal, Normal};
use statrs::statistics::Distribution as _;

use super::rng::{portable_exp, portable_ln, SimRng};
use crate::{Error, Result};

/// Redraws of a truncated normal or log-normal before the value is clamped into its bounds.
const TRUNCATION_TRIES: usize = 64;

/// Field name used in errors from [`LengthDist::parse`].
const PARSE_FIELD: &str = "length";

/// What [`LengthDist::parse`] accepts, quoted in its errors.
const SYNTAX: &str = "expected a token count (1182), an inclusive range (400..1200), \
normal:MEAN,SD[,MIN..MAX], lognormal:MEDIAN,SIGMA[,MIN..MAX], empirical:N1,N2,… \
matched:MIN,MAX,MEAN,P50,P95,P99, dataset:NAME[,mean=M][,max=N] or capped:CAP,MEAN";

/// A distribution of token lengths (prompt or output), in tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LengthDist {
    /// Always the same length.
    Fixed {
        /// The length, in tokens.
        tokens: u32,
    },
    /// Uniform over the integers `min..=max` (like Python's `random.randint`).
    Uniform {
        /// Smallest length, in tokens.
        min: u32,
        /// Largest length, in tokens (inclusive).
        max: u32,
    },
    /// Normal rounded to integers, truncated to `min..=max` by redrawing (then clamping).
    Normal {
        /// Mean before truncation, in tokens.
        mean: f64,
        /// Standard deviation before truncation, in tokens.
        sd: f64,
        /// Smallest length, in tokens.
        min: u32,
        /// Largest length, in tokens (inclusive).
        max: u32,
    },
    /// Log-normal rounded to integers, truncated to `min..=max` by redrawing (then clamping).
    #[serde(alias = "lognormal")]
    LogNormal {
        /// Median before truncation, in tokens (`e^μ`).
        median: f64,
        /// Standard deviation of the natural logarithm of the length (dimensionless).
        sigma: f64,
        /// Smallest length, in tokens.
        min: u32,
        /// Largest length, in tokens (inclusive).
        max: u32,
    },
    /// Drawn with replacement from recorded lengths.
    Empirical {
        /// The recorded lengths, in tokens.
        values: Vec<u32>,
    },
    /// Request i takes `values[i % len]`: a benchmark cycling through a fixed prompt list, each
    /// prompt with its own answer length.
    Cycle {
        /// The lengths in cycle order, in tokens.
        values: Vec<u32>,
    },
    /// Reproduces the statistics a benchmark report printed for its requests.
    ///
    /// [`LengthDist::sample_n`] returns exactly the report's total and extremes; one
    /// [`LengthDist::sample`] draws from the piecewise-linear quantile function through
    /// (0, min), (0.5, p50), (0.95, p95), (0.99, p99), (1, max).
    Matched {
        /// The report's statistics, in tokens.
        stats: ReportedStats,
    },
    /// Drawn from a benchmark dataset as vLLM's client samples it (`data/datasets.yaml`): the
    /// prompt (`part: input`) or the reference completion (`part: output`) of a random entry.
    /// Prompts and completions of one request come from the same entry when both lengths name
    /// the same dataset. With `mean`, every draw is scaled so the draws average `mean` tokens (a
    /// report's total tokens ÷ its requests: another tokenizer, or answers the model ended early).
    Dataset {
        /// The preset's name (`sharegpt`).
        name: String,
        /// Which side of the entry; filled from the field (`input_len` / `output_len`) when omitted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        part: Option<DatasetPart>,
        /// Mean the draws are scaled to, tokens; none: the dataset's own lengths.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        mean: Option<f64>,
        /// Longest length (the client's max_tokens), tokens; none: uncapped.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u32>,
    },
    /// Answers that end on their own before the client's `max_tokens` (`cap`): each generated
    /// token is the last with one fixed probability, chosen so the lengths average `mean` — a
    /// benchmark that sets max_tokens but not ignore_eos, whose report gives only the total.
    Capped {
        /// The client's max_tokens, tokens.
        cap: u32,
        /// Mean generated length, tokens (≤ cap).
        mean: f64,
    },
}

/// Which side of a dataset entry a [`LengthDist::Dataset`] draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetPart {
    /// The prompt.
    Input,
    /// The reference completion.
    Output,
}

/// Statistics of token lengths as a benchmark report prints them (numpy linear percentiles), in tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedStats {
    /// Smallest length, in tokens.
    pub min: f64,
    /// Largest length, in tokens.
    pub max: f64,
    /// Mean length, in tokens.
    pub mean: f64,
    /// Median length, in tokens.
    pub p50: f64,
    /// 95th-percentile length, in tokens.
    pub p95: f64,
    /// 99th-percentile length, in tokens.
    pub p99: f64,
}

impl From<crate::metrics::Summary> for ReportedStats {
    /// Takes the statistics of a [`crate::metrics::Summary`] of lengths, in tokens.
    fn from(s: crate::metrics::Summary) -> Self {
        ReportedStats {
            min: s.min,
            max: s.max,
            mean: s.mean,
            p50: s.p50,
            p95: s.p95,
            p99: s.p99,
        }
    }
}

impl LengthDist {
    /// Parses the CLI syntax; `origin` names where the text came from (e.g. `--output-len`).
    ///
    /// Accepted forms, all in tokens: `1182` (fixed), `400..1200` or `400..=1200` (uniform,
    /// inclusive), `normal:800,200` (mean, sd; bounds `1..=⌈max(2·mean, mean + 6·sd)⌉`),
    /// `normal:800,200,400..1200`, `lognormal:500,0.8` (median, sigma; bounds
    /// `1..=⌈median·e^(6·sigma)⌉`), `lognormal:500,0.8,1..4096`, `empirical:12,40,33`,
    /// `matched:423,1157,732.9,637,1155,1157` (min, max, mean, p50, p95, p99),
    /// and `fixed:N` / `uniform:A..B`. The result is validated.
    pub fn parse(text: &str, origin: &str) -> Result<LengthDist> {
        let t = text.trim();
        if t.is_empty() {
            return Err(bad(origin, format!("empty length; {SYNTAX}")));
        }
        let dist = match t.split_once(':') {
            Some((kind, args)) => match kind.trim().to_ascii_lowercase().as_str() {
                "fixed" => LengthDist::Fixed {
                    tokens: parse_count(args, "length", origin)?,
                },
                "uniform" => {
                    let (min, max) = parse_range(args, origin)?;
                    LengthDist::Uniform { min, max }
                }
                "normal" | "gaussian" => {
                    let parts = split_args(args, 2, 3, "normal:MEAN,SD or normal:MEAN,SD,MIN..MAX", origin)?;
                    let mean = parse_real(parts[0], "normal mean", origin)?;
                    let sd = parse_real(parts[1], "normal sd", origin)?;
                    if mean < 1.0 {
                        return Err(bad(origin, format!("normal mean {mean} must be ≥ 1 token")));
                    }
                    if sd < 0.0 {
                        return Err(bad(origin, format!("normal sd {sd} must be ≥ 0")));
                    }
                    let (min, max) = match parts.get(2) {
                        Some(range) => parse_range(range, origin)?,
                        None => (1, ceil_tokens((2.0 * mean).max(mean + 6.0 * sd))),
                    };
                    LengthDist::Normal { mean, sd, min, max }
                }
                "lognormal" | "log_normal" | "log-normal" => {
                    let parts = split_args(
                        args,
                        2,
                        3,
                        "lognormal:MEDIAN,SIGMA or lognormal:MEDIAN,SIGMA,MIN..MAX",
                        origin,
                    )?;
                    let median = parse_real(parts[0], "lognormal median", origin)?;
                    let sigma = parse_real(parts[1], "lognormal sigma", origin)?;
                    if median < 1.0 {
                        return Err(bad(origin, format!("lognormal median {median} must be ≥ 1 token")));
                    }
                    if sigma < 0.0 {
                        return Err(bad(origin, format!("lognormal sigma {sigma} must be ≥ 0")));
                    }
                    let (min, max) = match parts.get(2) {
                        Some(range) => parse_range(range, origin)?,
                        None => (1, ceil_tokens(median * portable_exp(6.0 * sigma))),
                    };
                    LengthDist::LogNormal {
                        median,
                        sigma,
                        min,
                        max,
                    }
                }
                "empirical" => {
                    let values = args
                        .split(',')
                        .map(|v| parse_count(v, "empirical value", origin))
                        .collect::<Result<Vec<u32>>>()?;
                    LengthDist::Empirical { values }
                }
                "cycle" => {
                    let values = args
                        .split(',')
                        .map(|v| parse_count(v, "cycle value", origin))
                        .collect::<Result<Vec<u32>>>()?;
                    LengthDist::Cycle { values }
                }
                "matched" => {
                    let parts = split_args(args, 6, 6, "matched:MIN,MAX,MEAN,P50,P95,P99", origin)?;
                    let names = [
                        "matched min",
                        "matched max",
                        "matched mean",
                        "matched p50",
                        "matched p95",
                        "matched p99",
                    ];
                    let mut v = [0.0; 6];
                    for ((slot, part), name) in v.iter_mut().zip(&parts).zip(names) {
                        *slot = parse_real(part, name, origin)?;
                        if *slot < 1.0 {
                            return Err(bad(origin, format!("{name} {} must be ≥ 1 token", *slot)));
                        }
                    }
                    LengthDist::Matched {
                        stats: ReportedStats {
                            min: v[0],
                            max: v[1],
                            mean: v[2],
                            p50: v[3],
                            p95: v[4],
                            p99: v[5],
                        },
                    }
                }
                "dataset" => {
                    let mut parts = args.split(',');
                    let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
                    let (mut mean, mut max) = (None, None);
                    for p in parts {
                        match p.split_once('=') {
                            Some(("mean", v)) => mean = Some(parse_real(v, "dataset mean", origin)?),
                            Some(("max", v)) => max = Some(parse_count(v, "dataset max", origin)?),
                            _ => {
                                return Err(bad(
                                    origin,
                                    format!("'{p}' is not mean=TOKENS or max=TOKENS in dataset:NAME[,mean=M][,max=N]"),
                                ))
                            }
                        }
                    }
                    LengthDist::Dataset {
                        name,
                        part: None,
                        mean,
                        max,
                    }
                }
                "capped" => {
                    let parts = split_args(args, 2, 2, "capped:CAP,MEAN", origin)?;
                    LengthDist::Capped {
                        cap: parse_count(parts[0], "capped cap", origin)?,
                        mean: parse_real(parts[1], "capped mean", origin)?,
                    }
                }
                other => {
                    return Err(bad(origin, format!("unknown length distribution '{other}'; {SYNTAX}")));
                }
            },
            None if t.contains("..") => {
                let (min, max) = parse_range(t, origin)?;
                LengthDist::Uniform { min, max }
            }
            None => LengthDist::Fixed {
                tokens: parse_count(t, "length", origin)?,
            },
        };
        dist.validate(origin, PARSE_FIELD)?;
        Ok(dist)
    }

    /// Checks the parameters: bounds ordered and ≥ 1 token, reals finite, spreads ≥ 0, statistics ordered.
    pub fn validate(&self, origin: &str, field: &str) -> Result<()> {
        let err = |sub: &str, message: String| Err(Error::invalid(origin, format!("{field}.{sub}"), message));
        let check_bounds = |min: u32, max: u32| -> Result<()> {
            if min < 1 {
                return err("min", "must be ≥ 1 token, got 0".to_string());
            }
            if min > max {
                return err("max", format!("must be ≥ min ({min} tokens), got {max}"));
            }
            Ok(())
        };
        match self {
            LengthDist::Fixed { tokens } => {
                if *tokens < 1 {
                    return err("tokens", "must be ≥ 1 token, got 0".to_string());
                }
            }
            LengthDist::Uniform { min, max } => check_bounds(*min, *max)?,
            LengthDist::Normal { mean, sd, min, max } => {
                if !mean.is_finite() || *mean < 1.0 {
                    return err("mean", format!("must be finite and ≥ 1 token, got {mean}"));
                }
                if !sd.is_finite() || *sd < 0.0 {
                    return err("sd", format!("must be finite and ≥ 0 tokens, got {sd}"));
                }
                check_bounds(*min, *max)?;
            }
            LengthDist::LogNormal {
                median,
                sigma,
                min,
                max,
            } => {
                if !median.is_finite() || *median < 1.0 {
                    return err("median", format!("must be finite and ≥ 1 token, got {median}"));
                }
                if !sigma.is_finite() || *sigma < 0.0 {
                    return err("sigma", format!("must be finite and ≥ 0, got {sigma}"));
                }
                check_bounds(*min, *max)?;
            }
            LengthDist::Empirical { values } | LengthDist::Cycle { values } => {
                if values.is_empty() {
                    return err("values", "must hold at least one length".to_string());
                }
                if let Some(i) = values.iter().position(|&v| v < 1) {
                    return err("values", format!("entry {i} is 0; every length must be ≥ 1 token"));
                }
            }
            LengthDist::Dataset { name, mean, max, .. } => {
                if let Err(e) = super::datasets::preset(name) {
                    return err("name", e);
                }
                if let Some(m) = mean {
                    if !(m.is_finite() && *m >= 1.0) {
                        return err("mean", format!("must be finite and ≥ 1 token, got {m}"));
                    }
                }
                if *max == Some(0) {
                    return err("max", "must be ≥ 1 token, got 0".to_string());
                }
                if let (Some(m), Some(cap)) = (mean, max) {
                    if *m > f64::from(*cap) {
                        return err(
                            "mean",
                            format!("{m} tokens cannot be the average of lengths capped at max = {cap}"),
                        );
                    }
                }
            }
            LengthDist::Capped { cap, mean } => {
                if *cap < 1 {
                    return err("cap", "must be ≥ 1 token, got 0".to_string());
                }
                if !(mean.is_finite() && *mean >= 1.0 && *mean <= f64::from(*cap)) {
                    return err("mean", format!("must lie in 1..={cap} tokens (the cap), got {mean}"));
                }
            }
            LengthDist::Matched { stats } => {
                let s = stats;
                let named = [
                    ("min", s.min),
                    ("max", s.max),
                    ("mean", s.mean),
                    ("p50", s.p50),
                    ("p95", s.p95),
                    ("p99", s.p99),
                ];
                for (name, v) in named {
                    if !v.is_finite() {
                        return err(&format!("stats.{name}"), format!("must be finite, got {v}"));
                    }
                }
                if s.min < 1.0 {
                    return err("stats.min", format!("must be ≥ 1 token, got {}", s.min));
                }
                if s.max > f64::from(u32::MAX) {
                    return err("stats.max", format!("must be ≤ {} tokens, got {}", u32::MAX, s.max));
                }
                let chain = [
                    ("min", s.min),
                    ("p50", s.p50),
                    ("p95", s.p95),
                    ("p99", s.p99),
                    ("max", s.max),
                ];
                for pair in chain.windows(2) {
                    let ((lo_name, lo), (hi_name, hi)) = (pair[0], pair[1]);
                    if lo > hi {
                        return err(
                            &format!("stats.{hi_name}"),
                            format!("statistics must satisfy min ≤ p50 ≤ p95 ≤ p99 ≤ max, but {lo_name} {lo} > {hi_name} {hi}"),
                        );
                    }
                }
                if s.mean < s.min || s.mean > s.max {
                    return err(
                        "stats.mean",
                        format!("must lie within min..=max ({}..={}), got {}", s.min, s.max, s.mean),
                    );
                }
            }
        }
        Ok(())
    }

    /// One length, in tokens (`Matched`: one draw from its piecewise-linear quantile function).
    ///
    /// Never panics; unvalidated parameters give clamped values (an empty `Empirical` gives 0).
    pub fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            LengthDist::Fixed { tokens } => *tokens,
            LengthDist::Uniform { min, max } => rng.range_inclusive(u64::from(*min), u64::from(*max)) as u32,
            LengthDist::Normal { mean, sd, min, max } => {
                truncated_draw(rng, *min, *max, |rng| mean + sd * rng.standard_normal())
            }
            LengthDist::LogNormal {
                median,
                sigma,
                min,
                max,
            } => truncated_draw(rng, *min, *max, |rng| {
                median * portable_exp(sigma * rng.standard_normal())
            }),
            LengthDist::Empirical { values } | LengthDist::Cycle { values } => {
                if values.is_empty() {
                    return 0;
                }
                let i = rng.range_inclusive(0, values.len() as u64 - 1) as usize;
                values[i]
            }
            LengthDist::Matched { stats } => {
                let q = QuantileFn::new(stats);
                round_into(q.at(rng.uniform()), q.lo as u32, q.hi as u32)
            }
            LengthDist::Dataset { .. } => {
                let entry = rng.uniform();
                self.dataset_value(entry).unwrap_or(1)
            }
            LengthDist::Capped { cap, mean } => capped_draw(rng, *cap, capped_hazard(*cap, *mean)),
        }
    }

    /// The length a [`LengthDist::Dataset`] gives the entry at quantile position `entry` ∈ [0, 1)
    /// of the preset (None for other kinds, or an unknown preset).
    pub fn dataset_value(&self, entry: f64) -> Option<u32> {
        self.dataset_value_scaled(entry, self.dataset_scale()?)
    }

    /// The factor every draw of a [`LengthDist::Dataset`] is scaled by (None for other kinds, or
    /// an unknown preset): 1 without `mean`; else the factor that makes the draws, after rounding
    /// and the `max` clip, average `mean` tokens over the preset's entries (found by bisection:
    /// scaling by `mean ÷ preset mean` and clipping afterwards would fall short of `mean`). With a
    /// `mean` at or above `max`, every draw is `max`.
    ///
    /// Hand-written because the clipped mean is a step function of the scale (a bracketing
    /// bisection suits it, Brent-type solvers do not), the project has no root-finding crate, and
    /// the scale feeds the sampler: IEEE basic operations and rounding keep it the same on every
    /// platform.
    pub fn dataset_scale(&self) -> Option<f64> {
        let LengthDist::Dataset { name, part, mean, max } = self else {
            return None;
        };
        // A pure function of its four fields, and a bisection over every entry of the preset:
        // remembered per key, since every simulated level asks for it (the pooled fit runs
        // tens of thousands of simulations).
        type Key = (String, bool, Option<u64>, Option<u32>);
        static SCALES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<Key, Option<f64>>>> =
            std::sync::OnceLock::new();
        let key: Key = (
            name.trim().to_ascii_lowercase(),
            part.unwrap_or(DatasetPart::Input) == DatasetPart::Input,
            mean.map(f64::to_bits),
            *max,
        );
        let cache = SCALES.get_or_init(Default::default);
        if let Some(v) = cache.lock().ok().and_then(|c| c.get(&key).copied()) {
            return v;
        }
        let v = Self::dataset_scale_uncached(name, *part, *mean, *max);
        if let Ok(mut c) = cache.lock() {
            c.insert(key, v);
        }
        v
    }

    /// [`LengthDist::dataset_scale`], computed.
    fn dataset_scale_uncached(
        name: &str,
        part: Option<DatasetPart>,
        mean: Option<f64>,
        max: Option<u32>,
    ) -> Option<f64> {
        let preset = super::datasets::preset(name).ok()?;
        let part = part.unwrap_or(DatasetPart::Input);
        let Some(m) = mean else {
            return Some(1.0);
        };
        let base = m / preset.mean(part);
        let Some(cap) = max else {
            return Some(base);
        };
        let n = preset.len().max(1);
        let clipped_mean = |scale: f64| -> f64 {
            (0..n)
                .map(|i| {
                    let raw = f64::from(preset.value((i as f64 + 0.5) / n as f64, part));
                    (raw * scale).round().clamp(1.0, f64::from(cap))
                })
                .sum::<f64>()
                / n as f64
        };
        if clipped_mean(base) >= m {
            return Some(base);
        }
        // The clipped mean rises with the scale up to `cap`; find a scale that reaches `m`.
        let mut hi = base * 2.0;
        while clipped_mean(hi) < m && hi < base * 1e6 {
            hi *= 2.0;
        }
        let mut lo = base;
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if clipped_mean(mid) < m {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Some(hi)
    }

    /// [`LengthDist::dataset_value`] with the scale already computed ([`LengthDist::dataset_scale`]).
    pub fn dataset_value_scaled(&self, entry: f64, scale: f64) -> Option<u32> {
        let LengthDist::Dataset { name, part, max, .. } = self else {
            return None;
        };
        let preset = super::datasets::preset(name).ok()?;
        let part = part.unwrap_or(DatasetPart::Input);
        let raw = preset.value(entry, part);
        let v = (f64::from(raw) * scale).round().max(1.0);
        let v = if v >= f64::from(u32::MAX) { u32::MAX } else { v as u32 };
        Some(max.map_or(v, |cap| v.min(cap)))
    }

    /// `n` lengths, in tokens.
    ///
    /// For `Matched`, the `n` values are built deterministically and then shuffled with `rng`:
    /// their sum is exactly `round(n · mean)`, their min and max are the report's (for `n ≥ 2`),
    /// and their numpy-linear P50/P95/P99 are as close to the report's as integers allow
    /// (values at the stratified positions `i/(n-1)` of the quantile function, the percentile
    /// anchors tuned, then the sum corrected by shifting the other values within their
    /// neighbours' range). Statistics that no `n` integers can have (e.g. `n = 2` with
    /// `mean ≠ (min+max)/2`) keep the sum exact and let the extremes give way.
    /// Other distributions draw `n` times with [`LengthDist::sample`].
    pub fn sample_n(&self, n: usize, rng: &mut SimRng) -> Vec<u32> {
        match self {
            LengthDist::Matched { stats } => {
                let mut values = matched_values(stats, n);
                rng.shuffle(&mut values);
                values
            }
            LengthDist::Cycle { values } if !values.is_empty() => (0..n).map(|i| values[i % values.len()]).collect(),
            LengthDist::Dataset { .. } => {
                let scale = self.dataset_scale().unwrap_or(1.0);
                (0..n)
                    .map(|_| self.dataset_value_scaled(rng.uniform(), scale).unwrap_or(1))
                    .collect()
            }
            LengthDist::Capped { cap, mean } => {
                // The hazard is a bisection of 100 exp/ln steps: once for all n draws.
                let h = capped_hazard(*cap, *mean);
                (0..n).map(|_| capped_draw(rng, *cap, h)).collect()
            }
            _ => (0..n).map(|_| self.sample(rng)).collect(),
        }
    }

    /// Expected length, in tokens (truncation and rounding approximated; `Matched`: the report's mean).
    pub fn mean(&self) -> f64 {
        match self {
            LengthDist::Fixed { tokens } => f64::from(*tokens),
            LengthDist::Uniform { min, max } => (f64::from(*min) + f64::from(*max)) / 2.0,
            LengthDist::Normal { mean, sd, min, max } => {
                // Mean of the normal truncated to the draws that round into min..=max:
                // μ + σ (φ(α) − φ(β)) / (Φ(β) − Φ(α)), with statrs's standard normal φ and Φ.
                let (lo, hi) = (f64::from(*min), f64::from(*max));
                let z = Normal::standard();
                let alpha = (lo - 0.5 - mean) / sd;
                let beta = (hi + 0.5 - mean) / sd;
                let mass = z.cdf(beta) - z.cdf(alpha);
                if *sd > 0.0 && mass > 1e-12 {
                    bound_f64(mean + sd * (z.pdf(alpha) - z.pdf(beta)) / mass, lo, hi)
                } else {
                    bound_f64(mean.round(), lo, hi)
                }
            }
            LengthDist::LogNormal {
                median,
                sigma,
                min,
                max,
            } => {
                // Mean of LogNormal(μ, σ) truncated to (a, b) = (min − ½, max + ½):
                // e^(μ + σ²/2) · (G(b) − G(a)) / (F(b) − F(a)), F the cdf of LogNormal(μ, σ)
                // and G that of LogNormal(μ + σ², σ) (the partial expectation), all from statrs.
                let (lo, hi) = (f64::from(*min), f64::from(*max));
                let (a, b) = (lo - 0.5, hi + 0.5);
                let mu = median.ln();
                // NaN location or σ ≤ 0 (unvalidated input): statrs refuses; fall back to the median.
                let (Ok(x), Ok(tilted)) = (LogNormal::new(mu, *sigma), LogNormal::new(mu + sigma * sigma, *sigma))
                else {
                    return bound_f64(median.round(), lo, hi);
                };
                let mass = x.cdf(b) - x.cdf(a);
                let partial = tilted.cdf(b) - tilted.cdf(a);
                match x.mean() {
                    Some(untruncated) if mass > 1e-12 => bound_f64(untruncated * partial / mass, lo, hi),
                    _ => bound_f64(median.round(), lo, hi),
                }
            }
            LengthDist::Empirical { values } | LengthDist::Cycle { values } => {
                if values.is_empty() {
                    0.0
                } else {
                    values.iter().map(|&v| f64::from(v)).sum::<f64>() / values.len() as f64
                }
            }
            LengthDist::Matched { stats } => stats.mean,
            LengthDist::Dataset { name, mean, max, .. } => {
                let Ok(preset) = super::datasets::preset(name) else {
                    return 0.0;
                };
                match (mean, max) {
                    (Some(m), None) => *m,
                    // Capped (or unscaled): the mean over the preset's entries.
                    _ => {
                        let n = preset.len().max(1);
                        let scale = self.dataset_scale().unwrap_or(1.0);
                        (0..n)
                            .map(|i| {
                                f64::from(
                                    self.dataset_value_scaled((i as f64 + 0.5) / n as f64, scale)
                                        .unwrap_or(0),
                                )
                            })
                            .sum::<f64>()
                            / n as f64
                    }
                }
            }
            LengthDist::Capped { mean, .. } => *mean,
        }
    }

    /// Largest length it can produce, in tokens (0 for an empty `Empirical`).
    pub fn max_value(&self) -> u32 {
        match self {
            LengthDist::Fixed { tokens } => *tokens,
            LengthDist::Uniform { min, max }
            | LengthDist::Normal { min, max, .. }
            | LengthDist::LogNormal { min, max, .. } => (*min).max(*max),
            LengthDist::Empirical { values } | LengthDist::Cycle { values } => {
                values.iter().copied().max().unwrap_or(0)
            }
            LengthDist::Matched { stats } => QuantileFn::new(stats).hi as u32,
            LengthDist::Dataset { .. } => self.dataset_value(1.0 - f64::EPSILON).unwrap_or(0),
            LengthDist::Capped { cap, .. } => *cap,
        }
    }
}

/// The per-token stop probability h of [`LengthDist::Capped`]: E[min(cap, X)] = (1 − (1 − h)^cap) ÷ h
/// for X geometric on 1, 2, … with P(X ≥ k) = (1 − h)^(k − 1), solved for `mean` by bisection
/// (0 when `mean` is the cap: no answer ends early).
///
/// Hand-written because h feeds the sampler, which must give the same draws on every platform:
/// the bisection and the power `(1 − h)^cap = e^(cap·ln(1 − h))` use only IEEE basic operations
/// and [`portable_exp`]/[`portable_ln`] (statrs's `Geometric` and `f64::powf` call the platform's
/// libm), and the project has no root-finding crate.
fn capped_hazard(cap: u32, mean: f64) -> f64 {
    let cap_f = f64::from(cap);
    if mean >= cap_f - 1e-9 || cap <= 1 {
        return 0.0;
    }
    let expected = |h: f64| (1.0 - portable_exp(cap_f * portable_ln(1.0 - h))) / h;
    // expected() falls from cap (h → 0) to 1 (h = 1).
    let (mut lo, mut hi) = (1e-12_f64, 1.0_f64);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if expected(mid) > mean {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

/// One draw of [`LengthDist::Capped`] with its hazard `h` ([`capped_hazard`]): geometric on
/// 1, 2, … with P(length ≥ k) = (1 − h)^(k − 1), then capped at `cap`; inverted with the
/// libm-free logarithm so the draw is the same on every platform.
fn capped_draw(rng: &mut SimRng, cap: u32, h: f64) -> u32 {
    if h <= 0.0 {
        return cap;
    }
    let u = rng.uniform().max(f64::MIN_POSITIVE);
    let k = 1.0 + (portable_ln(u) / portable_ln(1.0 - h)).floor();
    if k.is_finite() && k < f64::from(cap) {
        k.max(1.0) as u32
    } else {
        cap
    }
}

impl fmt::Display for LengthDist {
    /// Writes the CLI syntax that [`LengthDist::parse`] reads back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LengthDist::Fixed { tokens } => write!(f, "{tokens}"),
            LengthDist::Uniform { min, max } => write!(f, "{min}..{max}"),
            LengthDist::Normal { mean, sd, min, max } => {
                write!(f, "normal:{mean},{sd},{min}..{max}")
            }
            LengthDist::LogNormal {
                median,
                sigma,
                min,
                max,
            } => write!(f, "lognormal:{median},{sigma},{min}..{max}"),
            LengthDist::Empirical { values } | LengthDist::Cycle { values } => {
                let kind = if matches!(self, LengthDist::Cycle { .. }) {
                    "cycle"
                } else {
                    "empirical"
                };
                write!(f, "{kind}:")?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{v}")?;
                }
                Ok(())
            }
            LengthDist::Matched { stats: s } => write!(
                f,
                "matched:{},{},{},{},{},{}",
                s.min, s.max, s.mean, s.p50, s.p95, s.p99
            ),
            LengthDist::Dataset { name, mean, max, .. } => {
                write!(f, "dataset:{name}")?;
                if let Some(m) = mean {
                    write!(f, ",mean={m}")?;
                }
                if let Some(c) = max {
                    write!(f, ",max={c}")?;
                }
                Ok(())
            }
            LengthDist::Capped { cap, mean } => write!(f, "capped:{cap},{mean}"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing helpers

fn bad(origin: &str, message: String) -> Error {
    Error::invalid(origin, PARSE_FIELD, message)
}

/// Splits comma-separated arguments, requiring between `min` and `max` of them.
fn split_args<'a>(args: &'a str, min: usize, max: usize, form: &str, origin: &str) -> Result<Vec<&'a str>> {
    let parts: Vec<&str> = args.split(',').map(str::trim).collect();
    if parts.len() < min || parts.len() > max {
        return Err(bad(
            origin,
            format!("expected {form}, got '{}' ({} values)", args.trim(), parts.len()),
        ));
    }
    Ok(parts)
}

/// Parses a whole number of tokens ≥ 1.
fn parse_count(text: &str, what: &str, origin: &str) -> Result<u32> {
    let t = text.trim();
    if t.is_empty() {
        return Err(bad(origin, format!("{what} is missing; {SYNTAX}")));
    }
    match t.parse::<i128>() {
        Ok(v) if v < 1 => Err(bad(origin, format!("{what} {v} must be ≥ 1 token"))),
        Ok(v) => u32::try_from(v).map_err(|_| bad(origin, format!("{what} {v} must be ≤ {} tokens", u32::MAX))),
        Err(_) if t.parse::<f64>().is_ok() => {
            Err(bad(origin, format!("{what} '{t}' must be a whole number of tokens")))
        }
        Err(_) => Err(bad(origin, format!("{what} '{t}' is not a number; {SYNTAX}"))),
    }
}

/// Parses a finite real number.
fn parse_real(text: &str, what: &str, origin: &str) -> Result<f64> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(v) => Err(bad(origin, format!("{what} must be finite, got {v}"))),
        Err(_) => Err(bad(origin, format!("{what} '{t}' is not a number; {SYNTAX}"))),
    }
}

/// Parses `MIN..MAX` or `MIN..=MAX` (inclusive, tokens).
fn parse_range(text: &str, origin: &str) -> Result<(u32, u32)> {
    let t = text.trim();
    let (a, b) = t
        .split_once("..=")
        .or_else(|| t.split_once(".."))
        .ok_or_else(|| bad(origin, format!("expected an inclusive range MIN..MAX, got '{t}'")))?;
    let min = parse_count(a, "range minimum", origin)?;
    let max = parse_count(b, "range maximum", origin)?;
    if min > max {
        return Err(bad(
            origin,
            format!("range {min}..{max} is empty: minimum must be ≤ maximum"),
        ));
    }
    Ok((min, max))
}

/// Rounds a positive real up to whole tokens, within 1..=u32::MAX.
fn ceil_tokens(v: f64) -> u32 {
    if v.is_nan() || v < 1.0 {
        1
    } else if v >= f64::from(u32::MAX) {
        u32::MAX
    } else {
        v.ceil() as u32
    }
}

// ---------------------------------------------------------------------------------------------
// Sampling helpers

/// Rounds to the nearest integer and clamps into `lo..=hi` without panicking (NaN → `lo`).
fn round_into(v: f64, lo: u32, hi: u32) -> u32 {
    let r = v.round();
    if r.is_nan() || r < f64::from(lo) {
        lo
    } else if r > f64::from(hi) {
        hi
    } else {
        r as u32
    }
}

/// Clamps a real into `lo..=hi` without panicking.
fn bound_f64(v: f64, lo: f64, hi: f64) -> f64 {
    v.max(lo).min(hi)
}

/// Draws `draw` until its rounded value falls in `min..=max`, then gives up and clamps.
///
/// Hand-written (with the normal and log-normal draws in [`LengthDist::sample`]) because the
/// draws must come from [`SimRng`] through libm-free arithmetic, bit-identical on every platform
/// for a seed; statrs's `Normal`/`LogNormal` samplers need `rand` and its versioned algorithms.
fn truncated_draw(rng: &mut SimRng, min: u32, max: u32, mut draw: impl FnMut(&mut SimRng) -> f64) -> u32 {
    let mut last = f64::NAN;
    for _ in 0..TRUNCATION_TRIES {
        last = draw(rng);
        let r = last.round();
        if r >= f64::from(min) && r <= f64::from(max) {
            return r as u32;
        }
    }
    round_into(last, min, max)
}

/// The piecewise-linear quantile function of reported statistics, in tokens.
///
/// Hand-written because statrs has no distribution defined by quantile knots (its `Empirical`
/// is built from samples); evaluating it takes only `+ - * /`, so it is the same on every platform.
struct QuantileFn {
    /// Smallest value (the rounded reported min, ≥ 1).
    lo: i64,
    /// Largest value (the rounded reported max, ≥ `lo`).
    hi: i64,
    /// Knot values at probabilities [`KNOT_P`], non-decreasing.
    v: [f64; 5],
}

/// Probabilities of the quantile-function knots.
const KNOT_P: [f64; 5] = [0.0, 0.5, 0.95, 0.99, 1.0];

impl QuantileFn {
    fn new(s: &ReportedStats) -> Self {
        let max_tokens = f64::from(u32::MAX);
        let lo = if s.min.is_nan() {
            1.0
        } else {
            s.min.round().clamp(1.0, max_tokens)
        };
        let hi = if s.max.is_nan() {
            lo
        } else {
            s.max.round().clamp(lo, max_tokens)
        };
        let mut v = [lo, s.p50, s.p95, s.p99, hi];
        // Keep the knots inside lo..=hi and non-decreasing even if the stats were not validated.
        let mut floor = lo;
        for x in v.iter_mut() {
            let y = if x.is_nan() { floor } else { x.clamp(floor, hi) };
            *x = y;
            floor = y;
        }
        QuantileFn {
            lo: lo as i64,
            hi: hi as i64,
            v,
        }
    }

    /// The quantile at probability `p` (clamped into 0..=1), in tokens (real).
    fn at(&self, p: f64) -> f64 {
        let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 1.0) };
        for k in 1..KNOT_P.len() {
            if p <= KNOT_P[k] {
                let (p0, p1) = (KNOT_P[k - 1], KNOT_P[k]);
                let t = (p - p0) / (p1 - p0);
                return self.v[k - 1] + t * (self.v[k] - self.v[k - 1]);
            }
        }
        self.v[4]
    }
}

/// One reported percentile the matched values should reproduce.
struct PercentileTarget {
    /// Reported value, in tokens.
    value: f64,
    /// numpy's lower index `floor((n-1)·q)`.
    f: usize,
    /// numpy's interpolation weight of index `f + 1`.
    gamma: f64,
}

impl PercentileTarget {
    /// Indices of the sorted values this percentile depends on.
    fn indices(&self) -> impl Iterator<Item = usize> {
        let second = if self.gamma > 0.0 { Some(self.f + 1) } else { None };
        std::iter::once(self.f).chain(second)
    }

    /// numpy-linear percentile of the sorted integer values (same arithmetic as numpy's `_lerp`).
    ///
    /// Hand-written because the reported figures are numpy's (Hyndman–Fan type 7, rounded as
    /// numpy's `_lerp` rounds); statrs's `OrderStatistics::quantile` is type 8.
    fn achieved(&self, x: &[i64]) -> f64 {
        let a = x[self.f] as f64;
        if self.gamma <= 0.0 {
            return a;
        }
        let b = x[self.f + 1] as f64;
        let diff = b - a;
        if self.gamma >= 0.5 {
            b - diff * (1.0 - self.gamma)
        } else {
            a + diff * self.gamma
        }
    }

    /// Squared relative error of the achieved percentile.
    fn error(&self, x: &[i64]) -> f64 {
        let e = (self.achieved(x) - self.value) / self.value.abs().max(1.0);
        e * e
    }

    /// The real value of `x[i]` that makes this percentile exact, others fixed (None if `i` is not involved).
    fn solve_for(&self, x: &[i64], i: usize) -> Option<f64> {
        if i == self.f {
            if self.gamma <= 0.0 {
                Some(self.value)
            } else {
                let b = x[self.f + 1] as f64;
                Some((self.value - self.gamma * b) / (1.0 - self.gamma))
            }
        } else if self.gamma > 0.0 && i == self.f + 1 {
            let a = x[self.f] as f64;
            Some(a + (self.value - a) / self.gamma)
        } else {
            None
        }
    }
}

/// Builds `n` sorted integer lengths reproducing the reported statistics (see [`LengthDist::sample_n`]).
fn matched_values(stats: &ReportedStats, n: usize) -> Vec<u32> {
    if n == 0 {
        return Vec::new();
    }
    let q = QuantileFn::new(stats);
    let (lo, hi) = (q.lo, q.hi);
    let n_i = n as i128;
    let (sum_lo, sum_hi) = (n_i * i128::from(lo), n_i * i128::from(hi));
    let wanted = (n as f64 * stats.mean).round();
    let target = if wanted.is_nan() {
        None
    } else if wanted <= sum_lo as f64 {
        Some(sum_lo)
    } else if wanted >= sum_hi as f64 {
        Some(sum_hi)
    } else {
        Some(wanted as i128)
    };
    if n == 1 {
        let v = target.map_or(q.at(0.5).round() as i64, |t| t as i64);
        return vec![v.clamp(lo, hi) as u32];
    }

    // Values of the quantile function at the stratified positions i/(n-1).
    let last = n - 1;
    let mut x: Vec<i64> = (0..n)
        .map(|i| (q.at(i as f64 / last as f64).round() as i64).clamp(lo, hi))
        .collect();
    x[0] = lo;
    x[last] = hi;

    // Tune the values the reported percentiles depend on.
    let mut fixed = vec![false; n];
    fixed[0] = true;
    fixed[last] = true;
    let targets: Vec<PercentileTarget> = [(99.0, stats.p99), (95.0, stats.p95), (50.0, stats.p50)]
        .into_iter()
        .filter(|(_, value)| value.is_finite())
        .filter_map(|(q_percent, value)| {
            let h = last as f64 * (q_percent / 100.0);
            if h >= last as f64 {
                return None; // Depends on the max only.
            }
            let f = h.floor();
            Some(PercentileTarget {
                value,
                f: f as usize,
                gamma: h - f,
            })
        })
        .collect();
    tune_percentiles(&mut x, &targets, &mut fixed);

    // Correct the sum: first moving only values no percentile depends on, then any
    // interior value, then (inconsistent statistics only) the extremes too.
    if let Some(target) = target {
        let mut delta = target - x.iter().map(|&v| i128::from(v)).sum::<i128>();
        let ends_only: Vec<bool> = (0..n).map(|i| i == 0 || i == last).collect();
        let none = vec![false; n];
        for frozen in [&fixed, &ends_only, &none] {
            if delta == 0 {
                break;
            }
            delta = if delta < 0 {
                -shift_down(&mut x, frozen, lo, -delta)
            } else {
                shift_up(&mut x, frozen, hi, delta)
            };
        }
    }
    x.into_iter().map(|v| v.clamp(lo, hi) as u32).collect()
}

/// Sets the values the percentile targets depend on so the numpy percentiles come closest, keeping order.
///
/// Marks every tuned index in `fixed`.
fn tune_percentiles(x: &mut [i64], targets: &[PercentileTarget], fixed: &mut [bool]) {
    let objective = |x: &[i64]| targets.iter().map(|t| t.error(x)).sum::<f64>();
    let mut anchors: Vec<usize> = Vec::new();
    // First guess, highest percentile first (it has the fewest free values next to the max).
    for t in targets {
        let free: Vec<usize> = t.indices().filter(|&i| !fixed[i]).collect();
        if free.len() == 2 {
            // Both neighbours free: keep their gap and place the pair so the interpolation hits.
            let (f, g) = (free[0], free[1]);
            let gap = x[g] - x[f];
            let a = (t.value - t.gamma * gap as f64).round() as i64;
            let a = a.max(x[f - 1]).min(x[g + 1]);
            let b = (a + gap).max(a).min(x[g + 1]);
            x[f] = a;
            x[g] = b;
        } else if let Some(&i) = free.first() {
            best_value(x, i, targets, &objective);
        }
        for i in free {
            fixed[i] = true;
            anchors.push(i);
        }
    }
    // Coordinate descent over the tuned values, all targets at once.
    for _ in 0..16 {
        let mut changed = false;
        for &i in &anchors {
            changed |= best_value(x, i, targets, &objective);
        }
        if !changed {
            break;
        }
    }
}

/// Moves `x[i]` (within its neighbours) to the integer minimising `objective`; true if it moved.
fn best_value(x: &mut [i64], i: usize, targets: &[PercentileTarget], objective: &dyn Fn(&[i64]) -> f64) -> bool {
    let (lo, hi) = (x[i - 1], x[i + 1]);
    let current = x[i];
    let mut best = (objective(x), current);
    for t in targets {
        let Some(v) = t.solve_for(x, i) else { continue };
        if !v.is_finite() {
            continue;
        }
        for c in [v.floor(), v.ceil()] {
            let c = (c as i64).max(lo).min(hi);
            x[i] = c;
            let e = objective(x);
            if e < best.0 - 1e-15 {
                best = (e, c);
            }
            x[i] = current;
        }
    }
    x[i] = best.1;
    best.1 != current
}

/// Lowers the non-`frozen` values by `amount` in total, keeping the order and no value below `floor`.
///
/// Each free value drops by the same amount `c` except where it would pass the frozen value
/// (or `floor`) on its left, where it stops there; the remainder is spread evenly one token at
/// a time. Returns the part of `amount` that could not be removed.
fn shift_down(x: &mut [i64], frozen: &[bool], floor: i64, amount: i128) -> i128 {
    if amount <= 0 {
        return amount;
    }
    // Free indices with the frozen value (or floor) on their left.
    let mut free: Vec<(usize, i64)> = Vec::new();
    let mut left = floor;
    for (i, (&v, &is_frozen)) in x.iter().zip(frozen).enumerate() {
        if is_frozen {
            left = v;
        } else {
            free.push((i, (v - left).max(0)));
        }
    }
    let total: i128 = free.iter().map(|&(_, cap)| i128::from(cap)).sum();
    if total == 0 {
        return amount;
    }
    let take = amount.min(total);
    let dropped = |c: i64| -> i128 { free.iter().map(|&(_, cap)| i128::from(cap.min(c))).sum() };
    // Largest uniform drop c with dropped(c) ≤ take.
    let (mut c_lo, mut c_hi) = (0i64, free.iter().map(|&(_, cap)| cap).max().unwrap_or(0));
    while c_lo < c_hi {
        let mid = c_lo + (c_hi - c_lo + 1) / 2;
        if dropped(mid) <= take {
            c_lo = mid;
        } else {
            c_hi = mid - 1;
        }
    }
    let c = c_lo;
    let remainder = take - dropped(c);
    for &(i, cap) in &free {
        x[i] -= cap.min(c);
    }
    // Spread the remainder (< number of values with room left) evenly, one token each.
    let room: Vec<usize> = free.iter().filter(|&&(_, cap)| cap > c).map(|&(i, _)| i).collect();
    if remainder > 0 {
        let m = room.len() as i128;
        let picked = |k: usize| -> bool {
            let k = k as i128;
            (k + 1) * remainder / m > k * remainder / m
        };
        // Within a run of equal values only a prefix may drop, or the order would break;
        // move each run's picks to its front.
        let mut k = 0;
        while k < room.len() {
            let mut end = k + 1;
            while end < room.len() && room[end] == room[end - 1] + 1 && x[room[end]] == x[room[k]] {
                end += 1;
            }
            let picks = (k..end).filter(|&j| picked(j)).count();
            for &i in &room[k..k + picks] {
                x[i] -= 1;
            }
            k = end;
        }
    }
    amount - take
}

/// Raises the non-`frozen` values by `amount` in total, keeping the order and no value above `ceiling`.
///
/// Mirror image of [`shift_down`]; returns the part of `amount` that could not be added.
fn shift_up(x: &mut [i64], frozen: &[bool], ceiling: i64, amount: i128) -> i128 {
    let mut mirrored: Vec<i64> = x.iter().rev().map(|&v| -v).collect();
    let mirrored_frozen: Vec<bool> = frozen.iter().rev().copied().collect();
    let left = shift_down(&mut mirrored, &mirrored_frozen, -ceiling, amount);
    for (dst, &src) in x.iter_mut().zip(mirrored.iter().rev()) {
        *dst = -src;
    }
    left
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::percentile_linear;

    /// Rows of a benchmark report: N, min, max, mean, p50, p95, p99 of generated tokens.
    const REPORT_ROWS: [(usize, [f64; 6]); 6] = [
        (10, [423.0, 1157.0, 732.90, 637.0, 1155.0, 1157.0]),
        (40, [404.0, 1179.0, 771.77, 756.0, 1157.0, 1177.0]),
        (80, [430.0, 1192.0, 802.91, 774.0, 1144.0, 1190.0]),
        (160, [398.0, 1195.0, 804.56, 830.0, 1166.0, 1183.0]),
        (320, [399.0, 1196.0, 783.34, 770.0, 1144.0, 1169.0]),
        (640, [398.0, 1197.0, 812.35, 828.0, 1167.0, 1189.0]),
    ];

    fn stats(v: [f64; 6]) -> ReportedStats {
        ReportedStats {
            min: v[0],
            max: v[1],
            mean: v[2],
            p50: v[3],
            p95: v[4],
            p99: v[5],
        }
    }

    fn sorted_f64(values: &[u32]) -> Vec<f64> {
        let mut s: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        s.sort_by(f64::total_cmp);
        s
    }

    #[test]
    fn matched_reproduces_report_rows() {
        for (n, row) in REPORT_ROWS {
            let st = stats(row);
            let dist = LengthDist::Matched { stats: st };
            dist.validate("test", "output_len").unwrap();
            let mut rng = SimRng::new(n as u64);
            let values = dist.sample_n(n, &mut rng);
            assert_eq!(values.len(), n);
            let sum: u64 = values.iter().map(|&v| u64::from(v)).sum();
            let want = (n as f64 * st.mean).round() as u64;
            let s = sorted_f64(&values);
            let (p50, p95, p99) = (
                percentile_linear(&s, 50.0),
                percentile_linear(&s, 95.0),
                percentile_linear(&s, 99.0),
            );
            println!(
                "N={n:4}: sum {sum} (want {want}), min {} max {}, mean {:.2} (want {:.2}), \
                 p50 {p50:.2} (want {}), p95 {p95:.2} (want {}), p99 {p99:.2} (want {})",
                s[0],
                s[n - 1],
                sum as f64 / n as f64,
                st.mean,
                st.p50,
                st.p95,
                st.p99
            );
            assert_eq!(sum, want, "N={n}: sum");
            assert_eq!(s[0], st.min, "N={n}: min");
            assert_eq!(s[n - 1], st.max, "N={n}: max");
            assert!((p50 - st.p50).abs() / st.p50 <= 0.03, "N={n}: p50 {p50} vs {}", st.p50);
            assert!((p95 - st.p95).abs() / st.p95 <= 0.03, "N={n}: p95 {p95} vs {}", st.p95);
            assert!((p99 - st.p99).abs() / st.p99 <= 0.03, "N={n}: p99 {p99} vs {}", st.p99);
        }
    }

    #[test]
    fn matched_is_shuffled_and_deterministic() {
        let dist = LengthDist::Matched {
            stats: stats(REPORT_ROWS[5].1),
        };
        let a = dist.sample_n(640, &mut SimRng::new(1));
        let b = dist.sample_n(640, &mut SimRng::new(1));
        let c = dist.sample_n(640, &mut SimRng::new(2));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert!(a.windows(2).any(|w| w[0] > w[1]), "values must not come out sorted");
        let (mut sa, mut sc) = (a.clone(), c.clone());
        sa.sort_unstable();
        sc.sort_unstable();
        assert_eq!(sa, sc, "the multiset depends on the statistics only");
    }

    #[test]
    fn matched_other_sizes_and_edge_cases() {
        let st = stats(REPORT_ROWS[5].1);
        let dist = LengthDist::Matched { stats: st };
        let mut rng = SimRng::new(3);
        assert!(dist.sample_n(0, &mut rng).is_empty());
        assert_eq!(dist.sample_n(1, &mut rng), vec![812]);
        for n in [2usize, 3, 4, 5, 7, 11, 13, 99, 1000, 10_000] {
            let v = dist.sample_n(n, &mut rng);
            let sum: i64 = v.iter().map(|&x| i64::from(x)).sum();
            assert_eq!(sum, (n as f64 * st.mean).round() as i64, "n={n}");
            assert!(v.iter().all(|&x| (398..=1197).contains(&x)), "n={n}");
            if n >= 3 {
                assert_eq!(*v.iter().min().unwrap(), 398, "n={n}");
                assert_eq!(*v.iter().max().unwrap(), 1197, "n={n}");
            }
            if n >= 20 {
                let s = sorted_f64(&v);
                let p50 = percentile_linear(&s, 50.0);
                assert!((p50 - 828.0).abs() / 828.0 < 0.01, "n={n}: p50 {p50}");
            }
        }
        // n = 2 cannot have min 398, max 1197 and mean 812.35: the sum stays exact.
        let v = dist.sample_n(2, &mut rng);
        assert_eq!(v.iter().sum::<u32>(), 1625);
        // Degenerate: everything equal.
        let flat = LengthDist::Matched {
            stats: stats([5.0, 5.0, 5.0, 5.0, 5.0, 5.0]),
        };
        assert_eq!(flat.sample_n(4, &mut rng), vec![5, 5, 5, 5]);
        // Mean at an extreme.
        let skew = LengthDist::Matched {
            stats: stats([1.0, 100.0, 99.0, 100.0, 100.0, 100.0]),
        };
        let v = skew.sample_n(100, &mut rng);
        assert_eq!(v.iter().sum::<u32>(), 9900);
        assert_eq!(*v.iter().min().unwrap(), 1);
        // Large counts stay fast and exact.
        let big = dist.sample_n(1_000_000, &mut rng);
        assert_eq!(
            big.iter().map(|&x| u64::from(x)).sum::<u64>(),
            (1_000_000.0 * st.mean).round() as u64
        );
    }

    #[test]
    fn matched_single_draws_follow_the_quantile_function() {
        let st = stats(REPORT_ROWS[5].1);
        let dist = LengthDist::Matched { stats: st };
        let mut rng = SimRng::new(11);
        let mut v: Vec<f64> = (0..100_000).map(|_| f64::from(dist.sample(&mut rng))).collect();
        v.sort_by(f64::total_cmp);
        assert!(v[0] >= 398.0 && v[v.len() - 1] <= 1197.0);
        let p50 = percentile_linear(&v, 50.0);
        let p95 = percentile_linear(&v, 95.0);
        assert!((p50 - 828.0).abs() < 5.0, "p50 {p50}");
        assert!((p95 - 1167.0).abs() < 5.0, "p95 {p95}");
        assert_eq!(dist.max_value(), 1197);
        assert_eq!(dist.mean(), 812.35);
    }

    #[test]
    fn shift_keeps_order_and_bounds() {
        let mut x = vec![1, 1, 2, 5, 5, 5, 9, 10];
        let frozen = vec![true, false, false, false, true, false, false, true];
        let left = shift_down(&mut x, &frozen, 1, 5);
        assert_eq!(left, 0);
        assert!(x.windows(2).all(|w| w[0] <= w[1]), "{x:?}");
        assert_eq!(x.iter().sum::<i64>(), 38 - 5);
        let left = shift_up(&mut x, &frozen, 10, 1000);
        assert!(left > 0);
        assert!(x.windows(2).all(|w| w[0] <= w[1]), "{x:?}");
        assert_eq!(x, vec![1, 5, 5, 5, 5, 10, 10, 10]);
    }

    #[test]
    fn parse_forms() {
        let p = |s: &str| LengthDist::parse(s, "--output-len").unwrap();
        assert_eq!(p("1182"), LengthDist::Fixed { tokens: 1182 });
        assert_eq!(p(" fixed:7 "), LengthDist::Fixed { tokens: 7 });
        assert_eq!(p("400..1200"), LengthDist::Uniform { min: 400, max: 1200 });
        assert_eq!(p("400..=1200"), LengthDist::Uniform { min: 400, max: 1200 });
        assert_eq!(p("uniform:5..5"), LengthDist::Uniform { min: 5, max: 5 });
        assert_eq!(
            p("normal:800,200"),
            LengthDist::Normal {
                mean: 800.0,
                sd: 200.0,
                min: 1,
                max: 2000
            }
        );
        assert_eq!(
            p("normal:800, 200, 400..1200"),
            LengthDist::Normal {
                mean: 800.0,
                sd: 200.0,
                min: 400,
                max: 1200
            }
        );
        assert_eq!(
            p("lognormal:500,0.8,1..4096"),
            LengthDist::LogNormal {
                median: 500.0,
                sigma: 0.8,
                min: 1,
                max: 4096
            }
        );
        match p("lognormal:500,0.8") {
            LengthDist::LogNormal { min: 1, max, .. } => assert_eq!(max, 60_756),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p("empirical:12,40,33"),
            LengthDist::Empirical {
                values: vec![12, 40, 33]
            }
        );
        assert_eq!(
            p("matched:423,1157,732.9,637,1155,1157"),
            LengthDist::Matched {
                stats: stats([423.0, 1157.0, 732.9, 637.0, 1155.0, 1157.0])
            }
        );
        // Display writes what parse reads back.
        for text in [
            "1182",
            "400..1200",
            "normal:800,200,400..1200",
            "normal:800.5,0,1..2000",
            "lognormal:500,0.8,1..4096",
            "empirical:12,40,33",
            "matched:423,1157,732.9,637,1155,1157",
        ] {
            let d = p(text);
            assert_eq!(d.to_string(), text);
            assert_eq!(p(&d.to_string()), d);
        }
    }

    #[test]
    fn parse_errors() {
        let e = |s: &str| LengthDist::parse(s, "--output-len").unwrap_err().to_string();
        for (text, needle) in [
            ("", "expected a token count"),
            ("0", "must be ≥ 1"),
            ("-5", "must be ≥ 1"),
            ("12.5", "whole number"),
            ("abc", "expected a token count"),
            ("99999999999", "must be ≤ 4294967295"),
            ("1200..400", "minimum must be ≤ maximum"),
            ("0..10", "must be ≥ 1"),
            ("10..", "missing"),
            ("normal:800", "expected normal:MEAN,SD"),
            ("normal:800,200,400", "expected an inclusive range"),
            ("normal:-3,2", "must be ≥ 1"),
            ("normal:800,-1", "must be ≥ 0"),
            ("normal:800,x", "not a number"),
            ("normal:inf,2", "must be finite"),
            ("lognormal:0,0.8", "must be ≥ 1"),
            ("lognormal:500,-0.8", "must be ≥ 0"),
            ("empirical:", "missing"),
            ("empirical:1,0,3", "must be ≥ 1"),
            ("empirical:1,,3", "missing"),
            ("matched:423,1157,732.9", "expected matched:MIN,MAX,MEAN,P50,P95,P99"),
            ("matched:423,1157,2000,637,1155,1157", "mean"),
            ("matched:423,1157,732.9,637,1158,1157", "p95 1158 > p99 1157"),
            ("weibull:1,2", "unknown length distribution 'weibull'"),
        ] {
            let msg = e(text);
            assert!(msg.starts_with("--output-len: field `length"), "{text}: {msg}");
            assert!(msg.contains(needle), "{text}: '{msg}' lacks '{needle}'");
        }
    }

    #[test]
    fn validate_rules() {
        let v = |d: LengthDist| d.validate("scenario.yaml", "output_len");
        assert!(v(LengthDist::Fixed { tokens: 1 }).is_ok());
        assert!(v(LengthDist::Fixed { tokens: 0 }).is_err());
        assert!(v(LengthDist::Uniform { min: 3, max: 2 }).is_err());
        assert!(v(LengthDist::Uniform { min: 0, max: 2 }).is_err());
        let normal = |mean: f64, sd: f64| LengthDist::Normal {
            mean,
            sd,
            min: 1,
            max: 10,
        };
        assert!(v(normal(5.0, 1.0)).is_ok());
        assert!(v(normal(f64::NAN, 1.0)).is_err());
        assert!(v(normal(5.0, f64::INFINITY)).is_err());
        assert!(v(normal(5.0, -1.0)).is_err());
        let logn = |median: f64, sigma: f64| LengthDist::LogNormal {
            median,
            sigma,
            min: 1,
            max: 10,
        };
        assert!(v(logn(5.0, 0.0)).is_ok());
        assert!(v(logn(0.5, 1.0)).is_err());
        assert!(v(logn(5.0, -1.0)).is_err());
        assert!(v(LengthDist::Empirical { values: vec![] }).is_err());
        assert!(v(LengthDist::Empirical { values: vec![3, 0] }).is_err());
        let m = |s: [f64; 6]| LengthDist::Matched { stats: stats(s) };
        assert!(v(m([1.0, 10.0, 5.0, 5.0, 9.0, 10.0])).is_ok());
        assert!(v(m([0.0, 10.0, 5.0, 5.0, 9.0, 10.0])).is_err());
        assert!(v(m([1.0, 10.0, 11.0, 5.0, 9.0, 10.0])).is_err());
        assert!(v(m([1.0, 10.0, 5.0, 9.5, 9.0, 10.0])).is_err());
        assert!(v(m([1.0, 10.0, 5.0, 5.0, 9.0, f64::NAN])).is_err());
        let err = v(LengthDist::Uniform { min: 3, max: 2 }).unwrap_err().to_string();
        assert_eq!(
            err,
            "scenario.yaml: field `output_len.max`: must be ≥ min (3 tokens), got 2"
        );
    }

    #[test]
    fn unvalidated_values_never_panic() {
        let mut rng = SimRng::new(0);
        let dists = [
            LengthDist::Fixed { tokens: 0 },
            LengthDist::Uniform { min: 9, max: 3 },
            LengthDist::Normal {
                mean: f64::NAN,
                sd: -1.0,
                min: 9,
                max: 3,
            },
            LengthDist::LogNormal {
                median: -5.0,
                sigma: f64::INFINITY,
                min: 0,
                max: 0,
            },
            LengthDist::Empirical { values: vec![] },
            LengthDist::Matched {
                stats: stats([f64::NAN, -3.0, f64::INFINITY, 9.0, 2.0, f64::NAN]),
            },
            LengthDist::Matched {
                stats: stats([10.0, 2.0, 5.0, 7.0, 1.0, 3.0]),
            },
        ];
        for d in &dists {
            let _ = d.sample(&mut rng);
            let _ = d.sample_n(17, &mut rng);
            let _ = d.mean();
            let _ = d.max_value();
            let _ = d.to_string();
        }
    }

    #[test]
    fn sampling_moments() {
        let mut rng = SimRng::new(21);
        let n = 100_000;
        let check = |d: &LengthDist, rng: &mut SimRng, tol: f64| {
            let v = d.sample_n(n, rng);
            assert!(v.iter().all(|&x| x >= 1 && x <= d.max_value()), "{d}");
            let mean = v.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
            let want = d.mean();
            assert!(
                (mean - want).abs() / want < tol,
                "{d}: sample mean {mean} vs mean() {want}"
            );
        };
        check(&LengthDist::Fixed { tokens: 42 }, &mut rng, 1e-12);
        check(&LengthDist::Uniform { min: 1, max: 6 }, &mut rng, 0.01);
        check(&LengthDist::Uniform { min: 400, max: 1200 }, &mut rng, 0.01);
        check(
            &LengthDist::Normal {
                mean: 800.0,
                sd: 200.0,
                min: 1,
                max: 2000,
            },
            &mut rng,
            0.005,
        );
        // Heavily truncated on both sides.
        check(
            &LengthDist::Normal {
                mean: 100.0,
                sd: 300.0,
                min: 50,
                max: 400,
            },
            &mut rng,
            0.01,
        );
        check(
            &LengthDist::LogNormal {
                median: 500.0,
                sigma: 0.8,
                min: 1,
                max: 4096,
            },
            &mut rng,
            0.01,
        );
        check(
            &LengthDist::Empirical {
                values: vec![12, 40, 33],
            },
            &mut rng,
            0.01,
        );
        // Uniform is inclusive on both ends.
        let v = LengthDist::Uniform { min: 1, max: 3 }.sample_n(1000, &mut rng);
        assert!(v.contains(&1) && v.contains(&3));
        // Log-normal median.
        let d = LengthDist::LogNormal {
            median: 500.0,
            sigma: 0.8,
            min: 1,
            max: 100_000,
        };
        let s = sorted_f64(&d.sample_n(n, &mut rng));
        let median = percentile_linear(&s, 50.0);
        assert!((median - 500.0).abs() < 10.0, "median {median}");
    }

    proptest::proptest! {
        #[test]
        fn matched_sum_and_extremes_exact(
            mut knots in proptest::collection::vec(1u32..5000, 5),
            mean_at in 0.0f64..=1.0,
            n in 0usize..400,
            seed in 0u64..1000,
        ) {
            knots.sort_unstable();
            let k: Vec<f64> = knots.iter().map(|&v| f64::from(v)).collect();
            let mean = ((k[0] + mean_at * (k[4] - k[0])) * 100.0).round() / 100.0;
            let st = ReportedStats { min: k[0], max: k[4], mean, p50: k[1], p95: k[2], p99: k[3] };
            let dist = LengthDist::Matched { stats: st };
            proptest::prop_assert!(dist.validate("prop", "len").is_ok());
            let sorted = matched_values(&st, n);
            proptest::prop_assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "not sorted: {:?}", sorted);
            let v = dist.sample_n(n, &mut SimRng::new(seed));
            proptest::prop_assert_eq!(v.len(), n);
            if n == 0 {
                return Ok(());
            }
            let sum: i64 = v.iter().map(|&x| i64::from(x)).sum();
            let target = (n as f64 * mean).round() as i64;
            proptest::prop_assert_eq!(sum, target);
            proptest::prop_assert!(v.iter().all(|&x| x >= knots[0] && x <= knots[4]));
            let (lo, hi) = (i64::from(knots[0]), i64::from(knots[4]));
            let n_i = n as i64;
            let feasible = n >= 2 && target >= (n_i - 1) * lo + hi && target <= lo + (n_i - 1) * hi;
            if feasible {
                proptest::prop_assert_eq!(*v.iter().min().unwrap(), knots[0]);
                proptest::prop_assert_eq!(*v.iter().max().unwrap(), knots[4]);
            }
        }
    }

    #[test]
    fn serde_round_trip() {
        let dists = [
            LengthDist::Fixed { tokens: 3 },
            LengthDist::Uniform { min: 1, max: 4 },
            LengthDist::LogNormal {
                median: 5.0,
                sigma: 0.5,
                min: 1,
                max: 40,
            },
            LengthDist::Matched {
                stats: stats([423.0, 1157.0, 732.9, 637.0, 1155.0, 1157.0]),
            },
        ];
        for d in dists {
            let json = serde_json::to_string(&d).unwrap();
            let back: LengthDist = serde_json::from_str(&json).unwrap();
            assert_eq!(back, d, "{json}");
        }
        let json = r#"{"kind":"uniform","min":1,"max":4}"#;
        assert_eq!(
            serde_json::from_str::<LengthDist>(json).unwrap(),
            LengthDist::Uniform { min: 1, max: 4 }
        );
        let alias = r#"{"kind":"lognormal","median":5.0,"sigma":0.5,"min":1,"max":40}"#;
        assert!(serde_json::from_str::<LengthDist>(alias).is_ok());
        let unknown = r#"{"kind":"uniform","min":1,"max":4,"mode":2}"#;
        assert!(serde_json::from_str::<LengthDist>(unknown).is_err());
    }
}
