//! GuideLLM, both command lines: 0.2–0.6's `guidellm benchmark --target URL --rate-type T --rate R
//! --max-requests N --max-seconds S --data "prompt_tokens=…,output_tokens=…"` (0.1's `guidellm
//! --target …` reads the same way) and 0.7's `guidellm run --backend kind=openai_http,target=URL
//! --profile kind=T,… --constraint kind=max_requests,count=N --data kind=synthetic_text,…`, whose
//! values are `key=value` lists (`key[i]=` for list items) or JSON / YAML objects and whose lists
//! also come from `--override profile.rate 1,2,4` (vllm-project/guidellm, read at its tags;
//! `docs/research/load-testers.md`).
//!
//! Rate types (0.7: profile kinds): `synchronous` (one request at a time), `concurrent` (`--rate`
//! or `streams` streams, each sending when its last answer ends), `throughput` (everything at once,
//! at most `--rate` / `max_concurrency` — 512 by default up to 0.6 — in flight), `constant` /
//! `async` (evenly spaced at `--rate` req/s) and `poisson` (exponential gaps), the open-loop ones
//! capped at 512 in flight (0.7: 10,240 unless `max_concurrency`); `sweep` (the default) runs
//! synchronous, then throughput, then `--rate` (0.7: `sweep_size`) − 2 (default 8) constant
//! rates evenly spaced from the synchronous rate to the throughput rate, both measured (0.7:
//! Poisson with `strategy_type=poisson`). `--max-requests` / `--max-seconds` (0.7: constraints
//! `max_requests` `count`, `max_duration` `seconds`) bound each run; 0.7 without either never
//! stops, so it is refused. Synthetic data: lengths fixed at the average unless `_min`/`_max`
//! (uniform) or `_stdev` (a normal clipped to ±5σ) are given; answers forced to length with
//! `max_tokens` and `ignore_eos` (0.7 without `output_tokens` sends no limit); always streamed,
//! to chat from 0.4 (completions in 0.2–0.3; 0.7's `request_format`).

use super::{count, number, rate, ClientCommand, ClientDataset, ClientLoad, ClientProgram, Flags, ORIGIN};
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// GuideLLM's cap on requests in flight (`settings.max_concurrency`) up to 0.6, and its sweep's
/// default in 0.7.
const MAX_CONCURRENCY: u32 = 512;
/// GuideLLM 0.7's cap when a profile gives none (`settings.max_concurrency`, 1024 × 10).
const MAX_CONCURRENCY_V07: u32 = 10_240;
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

/// A GuideLLM option value: a JSON / YAML object, or `key=value,…` pairs (each value a YAML
/// scalar; `key[i]=v` builds a list), as GuideLLM 0.7's `arg_string` reads them and 0.2–0.6's
/// `--data` did.
fn object(flag: &str, text: &str) -> Result<serde_json::Map<String, serde_json::Value>> {
    let bad = |why: String| Error::invalid(ORIGIN, flag, why);
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let v: serde_json::Value =
            serde_saphyr::from_str(text).map_err(|e| bad(format!("'{text}' is not a JSON or YAML object: {e}")))?;
        return match v {
            serde_json::Value::Object(m) => Ok(m),
            _ => Err(bad(format!("'{text}' is not a JSON or YAML object"))),
        };
    }
    if !text.contains('=') {
        return Err(bad(format!("'{text}' is neither key=value pairs nor a JSON object")));
    }
    let mut m = serde_json::Map::new();
    for part in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(|| {
            bad(format!(
                "'{part}' is not key=value (a list is written key[0]=a,key[1]=b)"
            ))
        })?;
        let value: serde_json::Value = match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => serde_json::json!(x),
            _ => serde_json::Value::String(v.trim().to_string()),
        };
        let key = k.trim();
        match key.split_once('[') {
            Some((base, _)) => match m.entry(base.to_string()).or_insert_with(|| serde_json::json!([])) {
                serde_json::Value::Array(list) => list.push(value),
                _ => return Err(bad(format!("'{base}' is given both as a value and as a list"))),
            },
            None => {
                m.insert(key.to_string(), value);
            }
        }
    }
    Ok(m)
}

/// A number, or each number of a list.
fn numbers(flag: &str, key: &str, v: &serde_json::Value) -> Result<Vec<f64>> {
    let one = |x: &serde_json::Value| -> Result<f64> {
        x.as_f64()
            .or_else(|| x.as_str().and_then(|s| s.trim().parse().ok()))
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| Error::invalid(ORIGIN, flag, format!("{key} {x} is not a number")))
    };
    match v {
        serde_json::Value::Array(list) if !list.is_empty() => list.iter().map(one).collect(),
        serde_json::Value::Array(_) => Err(Error::invalid(ORIGIN, flag, format!("{key} is an empty list"))),
        x => Ok(vec![one(x)?]),
    }
}

/// The synthetic data config (GuideLLM's `prompt_tokens`, `output_tokens`, their `_stdev`,
/// `_min`, `_max`; 0.1's `generated_tokens` and `_variance`) into (prompt, output) lengths; no
/// output length when the config has none (GuideLLM 0.7 then sends no `max_tokens`).
fn synthetic(m: &serde_json::Map<String, serde_json::Value>, text: &str) -> Result<(LengthDist, Option<LengthDist>)> {
    let bad = |why: String| Error::invalid(ORIGIN, "--data", why);
    let get =
        |key: &str| -> Result<Option<f64>> { m.get(key).map(|v| numbers("--data", key, v).map(|n| n[0])).transpose() };
    let tokens = |key: &str| -> Result<Option<u32>> {
        get(key)?
            .map(|v| {
                (v >= 0.0 && v <= f64::from(u32::MAX) && v.fract() == 0.0)
                    .then_some(v as u32)
                    .ok_or_else(|| bad(format!("{key}={v} must be a whole number of tokens")))
            })
            .transpose()
    };
    let stdev = |key: &str, variance: &str| -> Result<Option<f64>> {
        match (get(key)?, get(variance)?) {
            (Some(s), _) | (None, Some(s)) if s < 0.0 => Err(bad(format!("{key} {s} must be ≥ 0"))),
            (Some(s), _) => Ok(Some(s)),
            // GuideLLM 0.1's variance: σ = √variance.
            (None, Some(v)) => Ok(Some(v.sqrt())),
            (None, None) => Ok(None),
        }
    };
    let prompt = tokens("prompt_tokens")?
        .filter(|n| *n >= 1)
        .ok_or_else(|| bad(format!("'{text}' needs prompt_tokens ≥ 1")))?;
    let input = sampled(
        prompt,
        stdev("prompt_tokens_stdev", "prompt_tokens_variance")?,
        tokens("prompt_tokens_min")?,
        tokens("prompt_tokens_max")?,
        "prompt_tokens",
    )?;
    let (out_key, out) = match (tokens("output_tokens")?, tokens("generated_tokens")?) {
        (Some(n), _) => ("output_tokens", n),
        (None, Some(n)) => ("generated_tokens", n),
        (None, None) => return Ok((input, None)),
    };
    if out == 0 {
        return Err(bad(format!("{out_key} must be ≥ 1")));
    }
    let output = sampled(
        out,
        stdev(&format!("{out_key}_stdev"), &format!("{out_key}_variance"))?,
        tokens(&format!("{out_key}_min"))?,
        tokens(&format!("{out_key}_max"))?,
        out_key,
    )?;
    Ok((input, Some(output)))
}

/// `--data`: synthetic data, or a file or dataset servecast cannot read from a command.
fn data(text: &str) -> Result<(LengthDist, Option<LengthDist>)> {
    let file = !(text.trim_start().starts_with('{') || text.contains('='));
    if file {
        return Err(Error::invalid(
            ORIGIN,
            "--data",
            format!(
                "'{text}' is a file or dataset: servecast reads GuideLLM's synthetic data \
                 (\"prompt_tokens=…,output_tokens=…\") from a client command; replay the run's benchmarks.json \
                 with --workload"
            ),
        ));
    }
    let m = object("--data", text)?;
    match m.get("kind").and_then(|k| k.as_str()) {
        None | Some("synthetic_text") => {}
        Some(other) => {
            return Err(Error::invalid(
                ORIGIN,
                "--data",
                format!("kind={other}: servecast reads synthetic_text from a client command; replay the run's result with --workload"),
            ))
        }
    }
    synthetic(&m, text)
}

/// What a GuideLLM command asks for, whichever syntax it uses.
#[derive(Default)]
struct Run {
    /// Rate type / profile kind.
    kind: Option<String>,
    /// `--rate` (0.2–0.6), or the profile's `rate` / `streams` (0.7).
    rates: Vec<f64>,
    /// 0.7's `max_concurrency` of a throughput, constant, poisson or sweep profile.
    max_concurrency: Option<f64>,
    /// 0.7's `sweep_size`.
    sweep_size: Option<f64>,
    /// 0.7 sweep's `strategy_type` is poisson.
    sweep_poisson: bool,
    max_requests: Option<u32>,
    max_seconds: Option<f64>,
    data: Option<(LengthDist, Option<LengthDist>)>,
    endpoint: Option<Endpoint>,
    model: Option<String>,
    /// GuideLLM 0.7's syntax (its in-flight cap when none is given is 10,240, not 512).
    v07: bool,
}

/// Reads the flags of a `guidellm benchmark` (0.1–0.6) or `guidellm run` (0.7) command.
pub(super) fn parse(mut flags: Flags<'_>) -> Result<ClientCommand> {
    let mut pairs: Vec<(String, Option<String>)> = Vec::new();
    while let Some(flag) = flags.next_flag()? {
        let mut value = flags.value(&flag);
        if flag.name == "--override" {
            // nargs=2: the key, then its values.
            if let (Some(key), Some(values)) = (&value, flags.value(&flag)) {
                value = Some(format!("{key}\n{values}"));
            }
        }
        pairs.push((flag.name, value));
    }
    // GuideLLM 0.7 writes its options as kind=… objects.
    let v07 = pairs.iter().any(|(f, v)| {
        f == "--constraint"
            || f == "--override"
            || (matches!(f.as_str(), "--profile" | "--backend" | "--data")
                && v.as_deref().is_some_and(|v| v.contains("kind")))
    });
    let (mut run, mut ignored, mut notes) = (Run { v07, ..Run::default() }, Vec::new(), Vec::new());
    let mut overrides = Vec::new();
    for (f, value) in pairs {
        let need = || -> Result<String> { value.clone().ok_or_else(|| Error::invalid(ORIGIN, &f, "needs a value")) };
        match f.as_str() {
            "--profile" | "--rate-type" if v07 => {
                let m = object(&f, &need()?)?;
                read_profile(&m, &mut run)?;
            }
            "--rate-type" | "--profile" => {
                let v = need()?;
                if v.contains('=') {
                    return Err(Error::invalid(ORIGIN, &f, format!("'{v}' needs kind=…")));
                }
                run.kind = Some(v.to_ascii_lowercase());
            }
            "--rate" => {
                for part in need()?.split(',').filter(|p| !p.trim().is_empty()) {
                    run.rates.push(rate(&f, part)?);
                }
            }
            "--max-requests" => run.max_requests = Some(count(&f, &need()?)?),
            "--max-seconds" => run.max_seconds = Some(seconds(&f, &need()?)?),
            "--constraint" => {
                let m = object(&f, &need()?)?;
                match m.get("kind").and_then(|k| k.as_str()) {
                    Some("max_requests") => {
                        let n = m.get("count").map(|v| numbers(&f, "count", v)).transpose()?;
                        let n = n
                            .and_then(|n| n.first().copied())
                            .ok_or_else(|| Error::invalid(ORIGIN, &f, "kind=max_requests needs count"))?;
                        run.max_requests = Some(count(&f, &n.to_string())?);
                    }
                    Some("max_duration") => {
                        let n = m.get("seconds").map(|v| numbers(&f, "seconds", v)).transpose()?;
                        let n = n
                            .and_then(|n| n.first().copied())
                            .ok_or_else(|| Error::invalid(ORIGIN, &f, "kind=max_duration needs seconds"))?;
                        run.max_seconds = Some(seconds(&f, &n.to_string())?);
                    }
                    _ => ignored.push(format!("{f} {}", need()?)),
                }
            }
            "--override" => {
                let v = need()?;
                let (key, values) = match v.split_once('\n') {
                    Some((k, vs)) => (k.to_string(), Some(vs.to_string())),
                    None => (v, None),
                };
                overrides.push((key, values));
            }
            "--data" => run.data = Some(data(&need()?)?),
            "--model" => run.model = Some(need()?),
            "--backend" if v07 => {
                let m = object(&f, &need()?)?;
                if let Some(format) = m.get("request_format").and_then(|v| v.as_str()) {
                    run.endpoint = Some(endpoint_of(&f, format)?);
                }
                if let Some(model) = m.get("model").and_then(|v| v.as_str()).filter(|m| !m.is_empty()) {
                    run.model = Some(model.to_string());
                }
            }
            "--request-type" | "--request-format" => run.endpoint = Some(endpoint_of(&f, &need()?)?),
            "--warmup" | "--warmup-percent" | "--cooldown" | "--cooldown-percent" => {
                notes.push(format!(
                    "{f} {}: GuideLLM leaves the warm-up and cool-down requests out of its statistics; servecast \
                     counts every request",
                    value.as_deref().unwrap_or("")
                ));
            }
            _ => ignored.push(match &value {
                Some(v) => format!("{f} {v}"),
                None => f.clone(),
            }),
        }
    }
    for (key, values) in overrides {
        let Some(values) = values else {
            return Err(Error::invalid(
                ORIGIN,
                "--override",
                format!("{key} needs its values (--override KEY V1,V2)"),
            ));
        };
        match key.as_str() {
            "profile.rate" | "profile.streams" => {
                run.rates = values
                    .split(',')
                    .map(|v| rate("--override", v))
                    .collect::<Result<_>>()?;
            }
            _ => ignored.push(format!("--override {key} {values}")),
        }
    }
    build(run, ignored, notes)
}

/// A duration in seconds, > 0.
fn seconds(flag: &str, text: &str) -> Result<f64> {
    let s = number(flag, text)?;
    if s <= 0.0 {
        return Err(Error::invalid(ORIGIN, flag, format!("'{text}' must be > 0 seconds")));
    }
    Ok(s)
}

/// A request format: chat or text completions.
fn endpoint_of(flag: &str, v: &str) -> Result<Endpoint> {
    let v = v.to_ascii_lowercase();
    if v.contains("chat") {
        Ok(Endpoint::Chat)
    } else if v.contains("completions") {
        Ok(Endpoint::Completions)
    } else {
        Err(Error::invalid(
            ORIGIN,
            flag,
            format!("'{v}': servecast simulates chat and text completions"),
        ))
    }
}

/// GuideLLM 0.7's `--profile kind=…` object.
fn read_profile(m: &serde_json::Map<String, serde_json::Value>, run: &mut Run) -> Result<()> {
    let f = "--profile";
    let kind = m.get("kind").and_then(|k| k.as_str()).ok_or_else(|| {
        Error::invalid(
            ORIGIN,
            f,
            "needs kind=… (synchronous, concurrent, throughput, constant, poisson, sweep)",
        )
    })?;
    run.kind = Some(kind.to_ascii_lowercase());
    for (key, v) in m {
        match key.as_str() {
            "kind" => {}
            "rate" | "streams" => run.rates = numbers(f, key, v)?,
            "max_concurrency" => run.max_concurrency = numbers(f, key, v)?.first().copied(),
            "sweep_size" => run.sweep_size = numbers(f, key, v)?.first().copied(),
            "strategy_type" => run.sweep_poisson = v.as_str().is_some_and(|t| t.eq_ignore_ascii_case("poisson")),
            "rampup_duration" | "warmup" | "cooldown" => {}
            other => {
                return Err(Error::invalid(
                    ORIGIN,
                    f,
                    format!("'{other}' is not a key of GuideLLM's {kind} profile"),
                ))
            }
        }
    }
    Ok(())
}

/// The load a GuideLLM run sends.
fn build(run: Run, ignored: Vec<String>, mut notes: Vec<String>) -> Result<ClientCommand> {
    let Some((input, output)) = run.data else {
        return Err(Error::invalid(
            ORIGIN,
            "--data",
            "needed: the synthetic data, e.g. --data \"prompt_tokens=512,output_tokens=128\"",
        ));
    };
    let rate_type = run.kind.clone().unwrap_or_else(|| "sweep".into());
    let endpoint = run.endpoint.unwrap_or_else(|| {
        if !run.v07 {
            notes.push(
                "GuideLLM 0.4 and later send to /v1/chat/completions (taken here); 0.2–0.3 sent to /v1/completions: \
                 add --endpoint completions for those"
                    .into(),
            );
        }
        Endpoint::Chat
    });
    let per_run = match (run.max_requests, run.max_seconds) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => None,
        (None, None) if run.v07 => {
            return Err(Error::invalid(
                ORIGIN,
                "--constraint",
                "GuideLLM 0.7 runs synthetic data until a constraint stops it: give --constraint \
                 kind=max_requests,count=N or kind=max_duration,seconds=S",
            ))
        }
        (None, None) => {
            notes.push(
                "neither --max-requests nor --max-seconds: 1,000 requests per run (GuideLLM 0.2–0.3's synthetic \
                 samples; later versions run until stopped)"
                    .into(),
            );
            Some(1000)
        }
    };
    let whole = |r: f64, what: &str| -> Result<u32> {
        (r >= 1.0 && r.fract() == 0.0 && r <= f64::from(u32::MAX))
            .then_some(r as u32)
            .ok_or_else(|| Error::invalid(ORIGIN, what, format!("{r} must be a whole number ≥ 1 for {rate_type}")))
    };
    // In-flight cap of the open-loop runs: 512 up to 0.6, 10,240 in 0.7 unless given.
    let cap = match run.max_concurrency {
        Some(c) => whole(c, "max_concurrency")?,
        None if run.v07 => MAX_CONCURRENCY_V07,
        None => MAX_CONCURRENCY,
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
        if run.rates.is_empty() {
            return Err(Error::invalid(
                ORIGIN,
                "--rate",
                format!("--rate is needed for {kind} (GuideLLM 0.7: the profile's rate or streams)"),
            ));
        }
        Ok(())
    };
    let load = match rate_type.as_str() {
        "synchronous" => queue(vec![1]),
        "concurrent" => {
            needs_rates("concurrent")?;
            queue(run.rates.iter().map(|r| whole(*r, "--rate")).collect::<Result<_>>()?)
        }
        "throughput" => queue(vec![match (run.rates.first(), run.max_concurrency) {
            (_, Some(c)) => whole(c, "max_concurrency")?,
            (Some(r), None) => whole(*r, "--rate")?,
            (None, None) if run.v07 => {
                return Err(Error::invalid(
                    ORIGIN,
                    "--profile",
                    "GuideLLM 0.7's throughput profile needs max_concurrency",
                ))
            }
            (None, None) => MAX_CONCURRENCY,
        }]),
        "constant" | "async" | "poisson" => {
            needs_rates(&rate_type)?;
            let num_requests = match (per_run, run.max_seconds) {
                (Some(n), _) => vec![n; run.rates.len()],
                (None, Some(s)) => run
                    .rates
                    .iter()
                    .map(|r| (r * s).ceil().clamp(1.0, f64::from(u32::MAX)) as u32)
                    .collect(),
                (None, None) => vec![1000; run.rates.len()],
            };
            ClientLoad::Rates {
                qps: run.rates.clone(),
                num_requests: num_requests[0],
                num_requests_per_level: (num_requests.iter().any(|n| *n != num_requests[0])).then_some(num_requests),
                max_concurrency: Some(cap),
                burstiness: if rate_type == "poisson" { 1.0 } else { f64::INFINITY },
            }
        }
        "sweep" => {
            let size = match (run.sweep_size, run.rates.first()) {
                (Some(n), _) => whole(n, "sweep_size")?,
                (None, Some(r)) => whole(*r, "--rate")?,
                (None, None) => SWEEP_SIZE,
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
                max_concurrency: run
                    .max_concurrency
                    .map_or(Ok(MAX_CONCURRENCY), |c| whole(c, "max_concurrency"))?,
                burstiness: if run.sweep_poisson { 1.0 } else { f64::INFINITY },
            }
        }
        "replay" => {
            return Err(Error::invalid(
                ORIGIN,
                "--profile",
                "kind=replay replays a trace: give the trace to servecast with --workload",
            ))
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
    let dataset = ClientDataset::Lengths { input, output };
    Ok(ClientCommand {
        model: run.model,
        ignored,
        notes,
        max_requests_per_run: per_run,
        max_seconds_per_run: run.max_seconds,
        ..ClientCommand::new(ClientProgram::GuideLlm, dataset, load, endpoint)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad};
    use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    #[test]
    fn guidellm_07s_kind_objects_read_as_its_flags_did() {
        // README-style: a sweep of poisson rates, 200 requests per run, completions.
        let c = ClientCommand::parse(
            "guidellm run --backend kind=openai_http,target=http://localhost:8000,request_format=/v1/completions \
             --profile kind=sweep,sweep_size=6,strategy_type=poisson --constraint kind=max_requests,count=200 \
             --data kind=synthetic_text,prompt_tokens=256,output_tokens=128",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Completions);
        assert_eq!(
            c.load,
            ClientLoad::Sweep {
                constant_rates: 4,
                max_concurrency: 512,
                burstiness: 1.0
            }
        );
        assert_eq!(c.max_requests_per_run, Some(200));
        // Lists as JSON, as index keys, or through --override; constant rates capped at 10,240.
        for line in [
            r#"guidellm run --backend kind=openai_http,target=u --profile '{"kind": "constant", "rate": [2, 8]}' --constraint kind=max_duration,seconds=30 --data '{"kind": "synthetic_text", "prompt_tokens": 512, "output_tokens": 64}'"#,
            "guidellm run --backend kind=openai_http,target=u --profile kind=constant,rate[0]=2,rate[1]=8 --constraint kind=max_duration,seconds=30 --data kind=synthetic_text,prompt_tokens=512,output_tokens=64",
            "guidellm run --backend kind=openai_http,target=u --profile kind=constant,rate=1 --override profile.rate 2,8 --constraint kind=max_duration,seconds=30 --data kind=synthetic_text,prompt_tokens=512,output_tokens=64",
        ] {
            let c = ClientCommand::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(
                c.load,
                ClientLoad::Rates {
                    qps: vec![2.0, 8.0],
                    num_requests: 60,
                    num_requests_per_level: Some(vec![60, 240]),
                    max_concurrency: Some(10_240),
                    burstiness: f64::INFINITY
                },
                "{line}"
            );
            assert_eq!(c.endpoint, Endpoint::Chat);
        }
        // Concurrent streams; no output_tokens: no max_tokens, the answer length left open.
        let c = ClientCommand::parse(
            r#"guidellm run --backend kind=openai_http,target=u --profile '{"kind":"concurrent","streams":[1,16]}' --constraint kind=max_requests,count=50 --data kind=synthetic_text,prompt_tokens=1000"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let level = |concurrency| ConcurrencyLevel {
            concurrency,
            num_requests: 50,
        };
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![level(1), level(16)]
            }
        );
        assert!(matches!(c.dataset, ClientDataset::Lengths { output: None, .. }));
        for (line, words) in [
            ("guidellm run --backend kind=openai_http,target=u --profile kind=sweep --data kind=synthetic_text,prompt_tokens=5", "--constraint"),
            ("guidellm run --backend kind=openai_http,target=u --profile kind=throughput --constraint kind=max_requests,count=9 --data kind=synthetic_text,prompt_tokens=5", "max_concurrency"),
            ("guidellm run --backend kind=openai_http,target=u --profile kind=constant,rates=4 --constraint kind=max_requests,count=9 --data kind=synthetic_text,prompt_tokens=5", "'rates'"),
            ("guidellm run --backend kind=openai_http,target=u --profile kind=replay --constraint kind=max_requests,count=9 --data kind=synthetic_text,prompt_tokens=5", "--workload"),
            ("guidellm run --backend kind=openai_http,target=u --profile kind=synchronous --constraint kind=max_requests,count=9 --data kind=huggingface,path=x", "synthetic_text"),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }

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
                max_concurrency: 512,
                burstiness: f64::INFINITY
            }
        );
        for (line, words) in [
            ("guidellm benchmark --target u --rate-type poisson --data prompt_tokens=5,output_tokens=5", "--rate"),
            ("guidellm benchmark --target u --rate-type concurrent --rate 1.5 --data prompt_tokens=5,output_tokens=5", "whole number"),
            ("guidellm benchmark --target u --rate-type sweep --rate 2 --data prompt_tokens=5,output_tokens=5", "≥ 3"),
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
