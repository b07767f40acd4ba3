//! ray-project llmperf: `python token_benchmark_ray.py --model M --mean-input-tokens 550 …`.
//!
//! What it sends (llmperf at commit f1d6bed, 2024-12; `token_benchmark_ray.py`, `src/llmperf/utils.py`,
//! `src/llmperf/ray_clients/openai_chat_completions_client.py`):
//! - `--num-concurrent-requests` N (default 10) threads, each keeping one request in flight and
//!   sending the next as soon as the last ends, until `--max-num-completed-requests` (default 10)
//!   have completed or `--timeout` (default 90 s) has passed: a shared queue at concurrency N.
//! - Prompt lengths `int(gauss(mean, sd))`, redrawn while ≤ 0 (default 550 ± 150 tokens of the
//!   Llama 2 tokenizer `hf-internal-testing/llama-tokenizer`, whatever the served model);
//!   `max_tokens` drawn the same way (default 150 ± 80), no `ignore_eos`.
//! - Always streamed to `/v1/chat/completions`, with an empty system message.

use super::{
    count, normal_lengths, number, std_dev, ClientCommand, ClientDataset, ClientLoad, ClientProgram, Flags, ORIGIN,
};
use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Reads the flags of a `token_benchmark_ray.py` command.
pub(super) fn parse(mut flags: Flags<'_>) -> Result<ClientCommand> {
    let (mut mean_in, mut sd_in, mut mean_out, mut sd_out) = (550u32, 150.0, 150u32, 80.0);
    let (mut users, mut completed, mut timeout_s) = (10u32, 10u32, 90.0);
    let (mut model, mut ignored, mut notes) = (None, Vec::new(), Vec::new());
    let mut max_tokens_override = None;
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "--model" => model = Some(flags.need(&flag)?),
            "--mean-input-tokens" => mean_in = count(f, &flags.need(&flag)?)?,
            "--stddev-input-tokens" => sd_in = std_dev(f, &flags.need(&flag)?)?,
            "--mean-output-tokens" => mean_out = count(f, &flags.need(&flag)?)?,
            "--stddev-output-tokens" => sd_out = std_dev(f, &flags.need(&flag)?)?,
            "--num-concurrent-requests" => users = count(f, &flags.need(&flag)?)?,
            "--max-num-completed-requests" => completed = count(f, &flags.need(&flag)?)?,
            "--timeout" => {
                let v = flags.need(&flag)?;
                timeout_s = number(f, &v)?;
                if timeout_s <= 0.0 {
                    return Err(Error::invalid(ORIGIN, f, format!("'{v}' must be > 0 seconds")));
                }
            }
            "--llm-api" => {
                let api = flags.need(&flag)?;
                if !api.eq_ignore_ascii_case("openai") {
                    return Err(Error::invalid(
                        ORIGIN,
                        f,
                        format!("'{api}': servecast simulates a vLLM OpenAI server, which llmperf reaches with --llm-api openai"),
                    ));
                }
            }
            "--additional-sampling-params" => {
                let text = flags.need(&flag)?;
                let params: serde_json::Value = serde_json::from_str(&text)
                    .map_err(|e| Error::invalid(ORIGIN, f, format!("'{text}' is not a JSON object: {e}")))?;
                let Some(params) = params.as_object() else {
                    return Err(Error::invalid(ORIGIN, f, format!("'{text}' is not a JSON object")));
                };
                // Merged after max_tokens, so it overrides the drawn length.
                if let Some(v) = params.get("max_tokens") {
                    let n = v
                        .as_u64()
                        .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
                        .ok_or_else(|| {
                            Error::invalid(ORIGIN, f, format!("max_tokens {v} must be a whole number ≥ 1"))
                        })?;
                    max_tokens_override = u32::try_from(n).ok();
                }
                if !params.is_empty() {
                    ignored.push(format!("{f} {text}"));
                }
            }
            _ => ignored.push(flags.shown(&flag)),
        }
    }
    notes.push(format!(
        "llmperf counts prompt tokens with the Llama 2 tokenizer and reports the length it drew; \
         servecast sends {mean_in} ± {sd_in} tokens as drawn, which the served model's tokenizer may count otherwise"
    ));
    notes.push(
        "llmperf before commit f1d6bed (2024-12-09) sent waves of --num-concurrent-requests, each when the whole \
         last wave had ended; servecast keeps that many in flight as llmperf does since (a workload file's \
         closed loop with waves: true sends waves)"
            .into(),
    );
    notes.push(format!(
        "llmperf stops sending after --timeout ({timeout_s} s) even short of {completed} completed requests; \
         servecast sends them all (compare the simulated duration with it)"
    ));
    let output = match max_tokens_override {
        Some(n) => LengthDist::Fixed { tokens: n },
        None => normal_lengths(mean_out, sd_out),
    };
    let dataset = ClientDataset::Lengths {
        input: normal_lengths(mean_in, sd_in),
        output: Some(output),
    };
    let load = ClientLoad::Concurrency {
        levels: vec![ConcurrencyLevel {
            concurrency: users,
            // Every thread sends its first request before any completes.
            num_requests: completed.max(users),
        }],
    };
    Ok(ClientCommand {
        model,
        ignored,
        notes,
        ..ClientCommand::new(ClientProgram::LlmPerf, dataset, load, Endpoint::Chat)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad, ClientProgram};
    use crate::workload::arrivals::{ConcurrencyLevel, Endpoint};
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    #[test]
    fn an_llmperf_run_is_a_queue_of_its_threads_sending_drawn_lengths_to_chat() {
        let c = ClientCommand::parse(
            "python token_benchmark_ray.py --model meta-llama/Meta-Llama-3-8B-Instruct \
             --mean-input-tokens 1000 --stddev-input-tokens 0 --mean-output-tokens 200 \
             --stddev-output-tokens 20 --max-num-completed-requests 300 --timeout 600 \
             --num-concurrent-requests 16 --results-dir out --llm-api openai --additional-sampling-params '{}'",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.program, ClientProgram::LlmPerf);
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(c.model.as_deref(), Some("meta-llama/Meta-Llama-3-8B-Instruct"));
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Fixed { tokens: 1000 },
                output: Some(LengthDist::Normal {
                    mean: 200.0,
                    sd: 20.0,
                    min: 1,
                    max: u32::MAX
                }),
            }
        );
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: 16,
                    num_requests: 300
                }]
            }
        );
        assert_eq!(c.ignored, vec!["--results-dir out".to_string()]);
    }

    #[test]
    fn llmperfs_defaults_hold_and_max_tokens_in_the_sampling_params_wins() {
        // 550 ± 150 prompts, 150 ± 80 answers, 10 threads, 10 requests.
        let c = ClientCommand::parse("python token_benchmark_ray.py --model m").unwrap_or_else(|e| panic!("{e}"));
        let normal = |mean: f64, sd: f64| LengthDist::Normal {
            mean,
            sd,
            min: 1,
            max: u32::MAX,
        };
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: normal(550.0, 150.0),
                output: Some(normal(150.0, 80.0))
            }
        );
        assert_eq!(
            c.load,
            ClientLoad::Concurrency {
                levels: vec![ConcurrencyLevel {
                    concurrency: 10,
                    num_requests: 10
                }]
            }
        );
        let c = ClientCommand::parse(
            r#"python token_benchmark_ray.py --model m --additional-sampling-params '{"max_tokens": 64}'"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            c.dataset,
            ClientDataset::Lengths {
                output: Some(LengthDist::Fixed { tokens: 64 }),
                ..
            }
        ));
        for (line, words) in [
            ("python token_benchmark_ray.py --llm-api vertexai", "--llm-api openai"),
            (
                "python token_benchmark_ray.py --additional-sampling-params '[1]'",
                "JSON object",
            ),
            ("python token_benchmark_ray.py --stddev-input-tokens -5", "≥ 0"),
            ("python token_benchmark_ray.py --num-concurrent-requests 0", "≥ 1"),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
