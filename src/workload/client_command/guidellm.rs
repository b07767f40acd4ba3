//! GuideLLM: `guidellm benchmark --target URL --rate-type T --rate R --max-requests N --data
//! "prompt_tokens=…,output_tokens=…"` (vllm-project/guidellm 0.2–0.6's flags, read at their tags;
//! 0.1's `guidellm --target …` reads the same way).
//!
//! Rate types: `synchronous` (one request at a time), `concurrent` (`--rate` streams, each
//! sending when its last answer ends), `throughput` (everything at once, at most `--rate` —
//! default 512 — in flight), `constant` / `async` (evenly spaced at `--rate` req/s) and `poisson`
//! (exponential gaps), the open-loop ones capped at 512 in flight; `sweep` (the default) runs
//! synchronous, then throughput, then `--rate` − 2 (default 8) constant rates evenly spaced from
//! the synchronous rate to the throughput rate, both measured. `--max-requests` and
//! `--max-seconds` bound each run. Synthetic data: lengths fixed at the average unless
//! `_min`/`_max` (uniform) or `_stdev` (a normal clipped to ±5σ) are given; answers forced to
//! length with `max_tokens` and `ignore_eos`; always streamed, to chat from 0.4 (completions in
//! 0.2–0.3).

use super::{count, number, rate, ClientCommand, ClientDataset, ClientLoad, ClientProgram, Flags, ORIGIN};
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// GuideLLM's cap on requests in flight (`settings.max_concurrency`).
const MAX_CONCURRENCY: u32 = 512;
/// Runs in a sweep when `--rate` does not say (`settings.default_sweep_number`).
const SWEEP_SIZE: u32 = 10;

/// One length of the synthetic data config: `avg`, `stdev`, `min`, `max` as GuideLLM's
/// `IntegerRangeSampler` draws them.
fn sampled(avg: u32, stdev: Option<f64>, min: Option<u32>, max: Option<u32>, what: &str) -> Result<LengthDist> {
    let avg_f = f64::from(avg);
    let dist = match stdev.filter(|s| *s > 0.0) {
        Some(sd) => LengthDist::Normal {
            mean: avg_f,
            sd,
            min: min.unwrap_or(((avg_f - 5.0 * sd).round().max(1.0)) as u32),
            max: max.unwrap_or((avg_f + 5.0 * sd).round().min(f64::from(u32::MAX)) as u32),
        },
        None => {
            let (lo, hi) = (min.unwrap_or(avg.max(1)), max.unwrap_or(avg));
            if lo == hi {
                LengthDist::Fixed { tokens: hi.max(1) }
            } else {
                LengthDist::Uniform { min: lo, max: hi }
            }
        }
    };
    if let LengthDist::Uniform { min, max } | LengthDist::Normal { min, max, .. } = &dist {
        if min > max {
            return Err(Error::invalid(
                ORIGIN,
                "--data",
                format!("{what}_min {min} is above {what}_max {max}"),
            ));
        }
    }
    Ok(dist)
}

/// `--data`: the synthetic config as `key=value,…` or a JSON object, into (prompt, output) lengths.
fn synthetic(text: &str) -> Result<(LengthDist, LengthDist)> {
    let bad = |why: String| Error::invalid(ORIGIN, "--data", why);
    let mut pairs: Vec<(String, f64)> = Vec::new();
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("'{text}' is not a JSON object: {e}")))?;
        for (k, v) in v.as_object().into_iter().flatten() {
            if let Some(x) = v.as_f64() {
                pairs.push((k.clone(), x));
            }
        }
    } else if text.contains('=') {
        for part in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| bad(format!("'{part}' is not key=value")))?;
            if let Ok(x) = v.trim().parse::<f64>() {
                pairs.push((k.trim().to_string(), x));
            }
        }
    } else {
        return Err(bad(format!(
            "'{text}' is a file or dataset: servecast reads GuideLLM's synthetic data \
             (\"prompt_tokens=…,output_tokens=…\") from a client command; replay the run's benchmarks.json \
             with --workload"
        )));
    }
    let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| *v);
    let tokens = |key: &str| -> Result<Option<u32>> {
        get(key)
            .map(|v| {
                (v.is_finite() && v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0)
                    .then_some(v as u32)
                    .ok_or_else(|| bad(format!("{key}={v} must be a whole number of tokens")))
            })
            .transpose()
    };
    let stdev = |key: &str, variance: &str| -> Result<Option<f64>> {
        match (get(key), get(variance)) {
            (Some(s), _) | (None, Some(s)) if !(s.is_finite() && s >= 0.0) => {
                Err(bad(format!("{key} {s} must be ≥ 0")))
            }
            (Some(s), _) => Ok(Some(s)),
            // GuideLLM 0.1's variance: σ = √variance.
            (None, Some(v)) => Ok(Some(v.sqrt())),
            (None, None) => Ok(None),
        }
    };
    let prompt = tokens("prompt_tokens")?
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad(format!("'{text}' needs prompt_tokens ≥ 1")))?;
    let (out_key, out) = match (tokens("output_tokens")?, tokens("generated_tokens")?) {
        (Some(n), _) => ("output_tokens", n),
        (None, Some(n)) => ("generated_tokens", n),
        (None, None) => return Err(bad(format!("'{text}' needs output_tokens"))),
    };
    if out == 0 {
        return Err(bad(format!("{out_key} must be ≥ 1")));
    }
    Ok((
        sampled(
            prompt,
            stdev("prompt_tokens_stdev", "prompt_tokens_variance")?,
            tokens("prompt_tokens_min")?,
            tokens("prompt_tokens_max")?,
            "prompt_tokens",
        )?,
        sampled(
            out,
            stdev(&format!("{out_key}_stdev"), &format!("{out_key}_variance"))?,
            tokens(&format!("{out_key}_min"))?,
            tokens(&format!("{out_key}_max"))?,
            out_key,
        )?,
    ))
}

/// Reads the flags of a `guidellm benchmark` command.
pub(super) fn parse(mut flags: Flags<'_>) -> Result<ClientCommand> {
    let mut rate_type = "sweep".to_string();
    let mut rates: Vec<f64> = Vec::new();
    let (mut max_requests, mut max_seconds) = (None, None);
    let mut data = None;
    let mut endpoint = None;
    let (mut model, mut ignored, mut notes) = (None, Vec::new(), Vec::new());
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "--rate-type" | "--profile" => {
                let v = flags.need(&flag)?;
                if v.contains('=') {
                    return Err(Error::invalid(
                        ORIGIN,
                        f,
                        format!(
                            "'{v}': GuideLLM 0.7's kind=… profiles are not read yet; give the run as \
                             --rate-type T --rate R --max-requests N (GuideLLM 0.2–0.6's flags)"
                        ),
                    ));
                }
                rate_type = v.to_ascii_lowercase();
            }
            "--rate" => {
                for part in flags.need(&flag)?.split(',').filter(|p| !p.trim().is_empty()) {
                    rates.push(rate(f, part)?);
                }
            }
            "--max-requests" => max_requests = Some(count(f, &flags.need(&flag)?)?),
            "--max-seconds" => {
                let v = flags.need(&flag)?;
                let s = number(f, &v)?;
                if s <= 0.0 {
                    return Err(Error::invalid(ORIGIN, f, format!("'{v}' must be > 0 seconds")));
                }
                max_seconds = Some(s);
            }
            "--data" => data = Some(flags.need(&flag)?),
            "--model" => model = Some(flags.need(&flag)?),
            "--request-type" | "--request-format" => {
                let v = flags.need(&flag)?.to_ascii_lowercase();
                endpoint = Some(if v.contains("chat") {
                    Endpoint::Chat
                } else if v.contains("completions") {
                    Endpoint::Completions
                } else {
                    return Err(Error::invalid(
                        ORIGIN,
                        f,
                        format!("'{v}': servecast simulates chat_completions and text_completions"),
                    ));
                });
            }
            "--warmup" | "--warmup-percent" | "--cooldown" | "--cooldown-percent" => {
                let shown = flags.shown(&flag);
                notes.push(format!(
                    "{shown}: GuideLLM leaves the warm-up and cool-down requests out of its statistics; servecast \
                     counts every request"
                ));
            }
            _ => ignored.push(flags.shown(&flag)),
        }
    }
    let Some(data) = data else {
        return Err(Error::invalid(
            ORIGIN,
            "--data",
            "needed: the synthetic data, e.g. --data \"prompt_tokens=512,output_tokens=128\"",
        ));
    };
    let (input, output) = synthetic(&data)?;
    let endpoint = endpoint.unwrap_or_else(|| {
        notes.push(
            "GuideLLM 0.4 and later send to /v1/chat/completions (taken here); 0.2–0.3 sent to /v1/completions: \
             add --endpoint completions for those"
                .into(),
        );
        Endpoint::Chat
    });
    let per_run = match (max_requests, max_seconds) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) => {
            notes.push(
                "neither --max-requests nor --max-seconds: 1,000 requests per run (GuideLLM 0.2–0.3's synthetic \
                 samples; later versions run until stopped)"
                    .into(),
            );
            Some(1000)
        }
    };
    let whole = |r: f64| -> Result<u32> {
        (r.is_finite() && r >= 1.0 && r.fract() == 0.0 && r <= f64::from(u32::MAX))
            .then_some(r as u32)
            .ok_or_else(|| {
                Error::invalid(
                    ORIGIN,
                    "--rate",
                    format!("{r} must be a whole number ≥ 1 for {rate_type}"),
                )
            })
    };
    let queue = |concurrency: Vec<u32>| ClientLoad::Concurrency {
        levels: concurrency
            .into_iter()
            .map(|c| ConcurrencyLevel {
                concurrency: c,
                // Time-limited: set from the simulated rate before the run.
                num_requests: per_run.unwrap_or(0),
            })
            .collect(),
    };
    let needs_rates = |kind: &str| -> Result<()> {
        if rates.is_empty() {
            return Err(Error::invalid(
                ORIGIN,
                "--rate",
                format!("needed for --rate-type {kind}"),
            ));
        }
        Ok(())
    };
    let load = match rate_type.as_str() {
        "synchronous" => queue(vec![1]),
        "concurrent" => {
            needs_rates("concurrent")?;
            queue(rates.iter().map(|r| whole(*r)).collect::<Result<_>>()?)
        }
        "throughput" => queue(vec![match rates.first() {
            Some(r) => whole(*r)?,
            None => MAX_CONCURRENCY,
        }]),
        "constant" | "async" | "poisson" => {
            needs_rates(&rate_type)?;
            let num_requests = match (per_run, max_seconds) {
                (Some(n), _) => vec![n; rates.len()],
                (None, Some(s)) => rates
                    .iter()
                    .map(|r| (r * s).ceil().clamp(1.0, f64::from(u32::MAX)) as u32)
                    .collect(),
                (None, None) => vec![1000; rates.len()],
            };
            ClientLoad::Rates {
                qps: rates.clone(),
                num_requests: num_requests[0],
                num_requests_per_level: (num_requests.iter().any(|n| *n != num_requests[0])).then_some(num_requests),
                max_concurrency: Some(MAX_CONCURRENCY),
                burstiness: if rate_type == "poisson" { 1.0 } else { f64::INFINITY },
            }
        }
        "sweep" => {
            let size = match rates.first() {
                Some(r) => whole(*r)?,
                None => SWEEP_SIZE,
            };
            if size < 3 {
                return Err(Error::invalid(
                    ORIGIN,
                    "--rate",
                    format!("a sweep of {size} runs has no constant rate between synchronous and throughput: give ≥ 3"),
                ));
            }
            ClientLoad::Sweep {
                constant_rates: size - 2,
                max_concurrency: MAX_CONCURRENCY,
            }
        }
        other => {
            return Err(Error::invalid(
                ORIGIN,
                "--rate-type",
                format!(
                    "'{other}': GuideLLM's are synchronous, concurrent, throughput, constant, async, poisson and sweep"
                ),
            ))
        }
    };
    Ok(ClientCommand {
        program: ClientProgram::GuideLlm,
        dataset: ClientDataset::Lengths {
            input,
            output: Some(output),
        },
        load,
        endpoint,
        model,
        ignored,
        notes,
        max_requests_per_run: per_run,
        max_seconds_per_run: max_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad};
    use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    #[test]
    fn guidellms_rate_types_are_the_loads_they_send() {
        let c = ClientCommand::parse(
            "guidellm benchmark --target http://localhost:8000 --rate-type concurrent --rate 1,4,16 \
             --max-requests 200 --data \"prompt_tokens=512,output_tokens=128\" --request-type text_completions",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Completions);
        let level = |concurrency| ConcurrencyLevel {
            concurrency,
            num_requests: 200,
        };
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![level(1), level(4), level(16)]
            }
        );
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Fixed { tokens: 512 },
                output: Some(LengthDist::Fixed { tokens: 128 })
            }
        );
        // Constant rates over --max-seconds: rate × seconds requests each, evenly spaced, 512 in flight at most.
        let c = ClientCommand::parse(
            "guidellm benchmark --target http://localhost:8000 --rate-type constant --rate 2 --rate 5 \
             --max-seconds 60 --data '{\"prompt_tokens\": 1000, \"prompt_tokens_stdev\": 100, \"output_tokens\": 200, \
             \"output_tokens_min\": 100, \"output_tokens_max\": 300}'",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(
            c.load,
            ClientLoad::Rates {
                qps: vec![2.0, 5.0],
                num_requests: 120,
                num_requests_per_level: Some(vec![120, 300]),
                max_concurrency: Some(512),
                burstiness: f64::INFINITY
            }
        );
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Normal {
                    mean: 1000.0,
                    sd: 100.0,
                    min: 500,
                    max: 1500
                },
                output: Some(LengthDist::Uniform { min: 100, max: 300 })
            }
        );
        // The default is a sweep of 10 runs: 8 constant rates between synchronous and throughput.
        let c = ClientCommand::parse(
            "guidellm benchmark --target http://localhost:8000 --max-requests 100 --data prompt_tokens=256,output_tokens=64",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.load,
            ClientLoad::Sweep {
                constant_rates: 8,
                max_concurrency: 512
            }
        );
        for (line, words) in [
            ("guidellm benchmark --target u --rate-type poisson --data prompt_tokens=5,output_tokens=5", "--rate"),
            ("guidellm benchmark --target u --rate-type concurrent --rate 1.5 --data prompt_tokens=5,output_tokens=5", "whole number"),
            ("guidellm benchmark --target u --rate-type sweep --rate 2 --data prompt_tokens=5,output_tokens=5", "≥ 3"),
            ("guidellm benchmark --target u --rate-type synchronous --data prompt_tokens=5", "output_tokens"),
            ("guidellm benchmark --target u --rate-type synchronous --data sharegpt.json", "--workload"),
            ("guidellm benchmark --target u --rate-type synchronous", "synthetic data"),
            ("guidellm run --profile kind=sweep --data prompt_tokens=5,output_tokens=5", "0.7"),
            ("guidellm benchmark --target u --rate-type bursty --data prompt_tokens=5,output_tokens=5", "sweep"),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
