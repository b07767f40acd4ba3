//! NVIDIA's load testers: GenAI-Perf (`genai-perf profile …`, triton-inference-server/perf_analyzer
//! `genai-perf/`, read at 263c5f6, 2025-12) and its successor AIPerf (`aiperf profile …`,
//! ai-dynamo/aiperf, read at db4f639, 2025-10). Both write synthetic prompts of
//! `--synthetic-input-tokens-mean` ± `-stddev` tokens (default 550 ± 0) and send `max_tokens`
//! only when `--output-tokens-mean` is given.
//!
//! They differ in the load: GenAI-Perf hands it to perf_analyzer, where `--concurrency N` is a
//! closed loop of N and `--request-rate R` evenly spaced sends (perf_analyzer's default
//! distribution, which genai-perf never changes), counting `max(10, 2 × N)` requests unless
//! `--request-count` says otherwise; AIPerf's `--request-rate` is Poisson unless
//! `--request-rate-mode constant`, `--concurrency` then a cap, and it sends `--request-count`
//! (default 10) requests. GenAI-Perf has no default endpoint for an OpenAI server; AIPerf's is
//! chat. Neither streams unless `--streaming`.

use super::{
    count, count_or_zero, normal_lengths, number, rate, std_dev, ClientCommand, ClientDataset, ClientLoad,
    ClientProgram, Flags, ORIGIN,
};
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// `--extra-inputs`: `key:value` or a JSON object; returns `max_tokens` when it sets one.
fn extra_inputs(flag: &str, text: &str) -> Result<Option<u32>> {
    let bad = |why: String| Error::invalid(ORIGIN, flag, why);
    let max_tokens = |v: &serde_json::Value| -> Result<u32> {
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .and_then(|n| u32::try_from(n).ok())
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad(format!("max_tokens {v} must be a whole number ≥ 1")))
    };
    if text.trim_start().starts_with('{') {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| bad(format!("'{text}' is not a JSON object: {e}")))?;
        return v
            .get("max_tokens")
            .or_else(|| v.get("max_completion_tokens"))
            .map(max_tokens)
            .transpose();
    }
    let Some((key, value)) = text.split_once(':') else {
        return Err(bad(format!("'{text}' is neither key:value nor a JSON object")));
    };
    match key.trim() {
        "max_tokens" | "max_completion_tokens" => Ok(Some(max_tokens(&serde_json::Value::String(value.into()))?)),
        _ => Ok(None),
    }
}

/// Reads the flags of a `genai-perf profile` or `aiperf profile` command.
pub(super) fn parse(program: ClientProgram, mut flags: Flags<'_>) -> Result<ClientCommand> {
    let aiperf = program == ClientProgram::AiPerf;
    let (mut isl, mut isl_sd, mut osl, mut osl_sd) = (550u32, 0.0, None, 0.0);
    let (mut concurrency, mut request_rate, mut request_count) = (None, None, None);
    let (mut constant, mut duration_s, mut streaming) = (!aiperf, None, false);
    let mut endpoint = aiperf.then_some(Endpoint::Chat);
    let (mut model, mut ignored, mut notes) = (None, Vec::new(), Vec::new());
    let mut max_tokens_override = None;
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "-m" | "--model" | "--model-names" => model = Some(flags.need(&flag)?),
            "--concurrency" => concurrency = Some(count(f, &flags.need(&flag)?)?),
            "--request-rate" => request_rate = Some(rate(f, &flags.need(&flag)?)?),
            "--request-rate-mode" if aiperf => {
                let mode = flags.need(&flag)?;
                constant = match mode.to_ascii_lowercase().as_str() {
                    "constant" => true,
                    "poisson" => false,
                    _ => {
                        return Err(Error::invalid(
                            ORIGIN,
                            f,
                            format!("'{mode}': servecast reads constant and poisson"),
                        ))
                    }
                };
            }
            "--request-count" | "--num-requests" => request_count = Some(count(f, &flags.need(&flag)?)?),
            "--benchmark-duration" if aiperf => {
                let v = flags.need(&flag)?;
                let d = number(f, &v)?;
                if d <= 0.0 {
                    return Err(Error::invalid(ORIGIN, f, format!("'{v}' must be > 0 seconds")));
                }
                duration_s = Some(d);
            }
            "--synthetic-input-tokens-mean" | "--prompt-input-tokens-mean" | "--isl" => {
                isl = count(f, &flags.need(&flag)?)?
            }
            "--synthetic-input-tokens-stddev" | "--prompt-input-tokens-stddev" | "--isl-stddev" => {
                isl_sd = std_dev(f, &flags.need(&flag)?)?
            }
            "--output-tokens-mean" | "--prompt-output-tokens-mean" | "--osl" => {
                osl = Some(count(f, &flags.need(&flag)?)?)
            }
            "--output-tokens-stddev" | "--prompt-output-tokens-stddev" | "--osl-stddev" => {
                osl_sd = std_dev(f, &flags.need(&flag)?)?
            }
            "--endpoint-type" => {
                let kind = flags.need(&flag)?;
                endpoint = Some(match kind.to_ascii_lowercase().as_str() {
                    "chat" => Endpoint::Chat,
                    "completions" => Endpoint::Completions,
                    _ => {
                        return Err(Error::invalid(
                            ORIGIN,
                            f,
                            format!("'{kind}': servecast simulates the chat and completions endpoints"),
                        ))
                    }
                });
            }
            "--streaming" => streaming = true,
            "--extra-inputs" => {
                let v = flags.need(&flag)?;
                if let Some(n) = extra_inputs(f, &v)? {
                    max_tokens_override = Some(n);
                }
                ignored.push(format!("{f} {v}"));
            }
            "--warmup-request-count" | "--num-warmup-requests" => {
                if count_or_zero(f, &flags.need(&flag)?)? > 0 {
                    notes.push("the warm-up requests are not simulated: the server starts the level idle".into());
                }
            }
            "--input-file" | "--fixed-schedule" | "--public-dataset" | "--seq-dist" | "--sequence-distribution" => {
                return Err(Error::invalid(
                    ORIGIN,
                    f,
                    "servecast reads the synthetic prompts from a client command; replay a dataset or trace \
                     with --workload FILE",
                ))
            }
            _ => ignored.push(flags.shown(&flag)),
        }
    }
    let Some(endpoint) = endpoint else {
        return Err(Error::invalid(
            ORIGIN,
            "--endpoint-type",
            "genai-perf needs --endpoint-type chat or completions to reach an OpenAI server",
        ));
    };
    if !streaming {
        notes.push(format!(
            "without --streaming {} receives each answer whole, so its time to first token is the whole \
             latency; servecast's TTFT is the first token's",
            program.name()
        ));
    }
    let output = max_tokens_override
        .map(|n| LengthDist::Fixed { tokens: n })
        .or(osl.map(|m| normal_lengths(m, osl_sd)));
    let load = match (request_rate, concurrency) {
        (Some(r), cap) => {
            let n = match (request_count, duration_s) {
                (Some(n), _) => n,
                (None, Some(d)) if r.is_finite() => {
                    notes.push(format!(
                        "--benchmark-duration {d} s at {r} req/s: {} requests",
                        (r * d).ceil()
                    ));
                    (r * d).ceil().min(f64::from(u32::MAX)) as u32
                }
                _ => 10,
            };
            // GenAI-Perf's rate and concurrency exclude each other; AIPerf's concurrency caps.
            ClientLoad::one_rate(
                r,
                n.max(1),
                if aiperf { cap } else { None },
                if constant { f64::INFINITY } else { 1.0 },
            )
        }
        (None, c) => {
            let c = c.unwrap_or(1);
            if duration_s.is_some() && request_count.is_none() {
                return Err(Error::invalid(
                    ORIGIN,
                    "--benchmark-duration",
                    "at a concurrency the requests a duration holds depend on the answer: give --request-count",
                ));
            }
            let n = request_count.unwrap_or(if aiperf { 10 } else { 10u32.max(c.saturating_mul(2)) });
            ClientLoad::Concurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: c,
                    num_requests: n,
                }],
            }
        }
    };
    let dataset = ClientDataset::Lengths {
        input: normal_lengths(isl, isl_sd),
        output,
    };
    Ok(ClientCommand {
        model,
        ignored,
        notes,
        ..ClientCommand::new(program, dataset, load, endpoint)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad, ClientProgram};
    use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    #[test]
    fn genai_perf_at_a_concurrency_counts_twice_its_streams_and_a_rate_is_evenly_spaced() {
        let c = ClientCommand::parse(
            "genai-perf profile -m meta-llama/Meta-Llama-3-8B-Instruct --endpoint-type chat --streaming \
             --synthetic-input-tokens-mean 200 --synthetic-input-tokens-stddev 0 --output-tokens-mean 100 \
             --concurrency 32 --url localhost:8000",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.program, ClientProgram::GenAiPerf);
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Fixed { tokens: 200 },
                output: Some(LengthDist::Fixed { tokens: 100 })
            }
        );
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: 32,
                    num_requests: 64
                }]
            }
        );
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        let c = ClientCommand::parse(
            "genai-perf profile -m m --endpoint-type completions --request-rate 4 --request-count 100 \
             --extra-inputs max_tokens:256 --extra-inputs ignore_eos:true",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.load,
            ClientLoad::Rates {
                qps: vec![4.0],
                num_requests: 100,
                num_requests_per_level: None,
                max_concurrency: None,
                burstiness: f64::INFINITY
            }
        );
        assert!(matches!(
            c.dataset,
            ClientDataset::Lengths {
                output: Some(LengthDist::Fixed { tokens: 256 }),
                ..
            }
        ));
        assert!(c.notes.iter().any(|n| n.contains("--streaming")));
    }

    #[test]
    fn aiperf_defaults_to_chat_poisson_rates_under_its_concurrency_cap() {
        let c = ClientCommand::parse(
            "aiperf profile --model Qwen/Qwen3-8B --request-rate 10 --concurrency 50 --request-count 500 \
             --isl 1000 --isl-stddev 100 --osl 200 --streaming",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(
            c.load,
            ClientLoad::Rates {
                qps: vec![10.0],
                num_requests: 500,
                num_requests_per_level: None,
                max_concurrency: Some(50),
                burstiness: 1.0
            }
        );
        assert!(matches!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Normal { mean, sd, min: 1, .. },
                output: Some(LengthDist::Fixed { tokens: 200 })
            } if mean == 1000.0 && sd == 100.0
        ));
        // No rate: a closed loop of --concurrency (default 1), 10 requests.
        let c = ClientCommand::parse("aiperf profile --model m --concurrency 8").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: 8,
                    num_requests: 10
                }]
            }
        );
        assert!(matches!(c.dataset, ClientDataset::Lengths { output: None, .. }));
        for (line, words) in [
            (
                "genai-perf profile -m m --concurrency 4",
                "--endpoint-type chat or completions",
            ),
            (
                "aiperf profile --model m --endpoint-type embeddings",
                "chat and completions",
            ),
            (
                "aiperf profile --model m --request-rate-mode gamma",
                "constant and poisson",
            ),
            ("aiperf profile --model m --benchmark-duration 60", "--request-count"),
            ("aiperf profile --model m --input-file x.jsonl", "--workload FILE"),
            ("aiperf profile --model m --extra-inputs max_tokens:0", "≥ 1"),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
