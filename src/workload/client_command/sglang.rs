//! SGLang's load tester pointed at a vLLM server: `python -m sglang.bench_serving --backend vllm …`
//! (`python/sglang/bench_serving.py`, read up to 2026-04).
//!
//! What differs from vLLM's own client: `--backend vllm` (or `sglang-oai`) posts to
//! `/v1/completions`, `vllm-chat` (or `sglang-oai-chat`) to `/v1/chat/completions`; the default
//! backend `sglang` posts to SGLang's own `/generate`, which a vLLM server does not serve. The
//! default dataset is ShareGPT. `random` draws lengths uniform in [max(⌊L·r⌋, 1), L] with
//! `--random-range-ratio` r defaulting to 0 (since July 2024) and `--random-input-len` /
//! `--random-output-len` defaulting to 1024 / 1024 (since November 2024): prompts of 1–1024 tokens
//! and answers of 1–1024 unless told. Gaps are exponential (`--request-rate`, default inf: all at
//! once), behind `--max-concurrency`; `ignore_eos` is sent unless `--disable-ignore-eos`.

use super::{
    count, count_or_zero, number, rate, unread_dataset, ClientCommand, ClientDataset, ClientLoad, ClientProgram, Flags,
    ORIGIN,
};
use crate::workload::arrivals::Endpoint;
use crate::workload::datasets::{random_range_lengths, RandomRangeEra};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Reads the flags of a `python -m sglang.bench_serving` command.
pub(super) fn parse(mut flags: Flags<'_>) -> Result<ClientCommand> {
    let mut dataset_name = "sharegpt".to_string();
    let mut backend = "sglang".to_string();
    let (mut random_input, mut random_output, mut range_ratio) = (1024u32, 1024u32, 0.0);
    let mut sharegpt_output = None;
    let (mut num_prompts, mut request_rate, mut max_concurrency) = (1000u32, f64::INFINITY, None);
    let (mut model, mut ignored, mut notes) = (None, Vec::new(), Vec::new());
    let (mut stream, mut ignore_eos) = (true, true);
    // `--warmup-requests` copies of the first prompt before the timed run (default 1).
    let mut warmup_requests = 1u32;
    // generated-shared-prefix: groups × prompts, each a group's system prompt and a question.
    let (mut gsp_groups, mut gsp_per_group, mut gsp_system, mut gsp_question, mut gsp_output) =
        (64u32, 16u32, 2048u32, 128u32, 256u32);
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "--backend" => backend = flags.need(&flag)?.to_ascii_lowercase(),
            "--dataset-name" => dataset_name = flags.need(&flag)?.to_ascii_lowercase(),
            "--model" => model = Some(flags.need(&flag)?),
            "--random-input-len" => random_input = count(f, &flags.need(&flag)?)?,
            "--random-output-len" => random_output = count(f, &flags.need(&flag)?)?,
            "--random-range-ratio" => range_ratio = number(f, &flags.need(&flag)?)?,
            "--sharegpt-output-len" => sharegpt_output = Some(count(f, &flags.need(&flag)?)?),
            "--num-prompts" => num_prompts = count(f, &flags.need(&flag)?)?,
            "--request-rate" => request_rate = rate(f, &flags.need(&flag)?)?,
            "--max-concurrency" => max_concurrency = Some(count(f, &flags.need(&flag)?)?),
            "--gsp-num-groups" => gsp_groups = count(f, &flags.need(&flag)?)?,
            "--gsp-prompts-per-group" => gsp_per_group = count(f, &flags.need(&flag)?)?,
            "--gsp-system-prompt-len" => gsp_system = count(f, &flags.need(&flag)?)?,
            "--gsp-question-len" => gsp_question = count(f, &flags.need(&flag)?)?,
            "--gsp-output-len" => gsp_output = count(f, &flags.need(&flag)?)?,
            "--warmup-requests" => warmup_requests = count_or_zero(f, &flags.need(&flag)?)?,
            "--disable-stream" => stream = false,
            "--disable-ignore-eos" => ignore_eos = false,
            "--sharegpt-context-len" | "--tokenize-prompt" | "--lora-name" => {
                return Err(Error::invalid(
                    ORIGIN,
                    f,
                    "changes the requests in a way servecast does not read from a client command: \
                     replay the run's result file (--output-file) with --workload",
                ))
            }
            _ => ignored.push(flags.shown(&flag)),
        }
    }
    let endpoint = match backend.as_str() {
        "vllm" | "sglang-oai" | "lmdeploy" => Endpoint::Completions,
        "vllm-chat" | "sglang-oai-chat" | "lmdeploy-chat" => Endpoint::Chat,
        other => {
            return Err(Error::invalid(
                ORIGIN,
                "--backend",
                format!(
                    "'{other}' does not send to a vLLM server's OpenAI API: servecast simulates vLLM, which \
                     sglang.bench_serving reaches with --backend vllm (completions) or vllm-chat"
                ),
            ))
        }
    };
    let mut shared_prefix = None;
    let dataset = match dataset_name.as_str() {
        "sharegpt" => {
            notes.push(
                "ShareGPT is drawn as vLLM's client samples it (prompts up to 1,024 tokens, prompt + answer up to \
                 2,048); sglang.bench_serving since January 2025 keeps longer conversations"
                    .into(),
            );
            ClientDataset::Sharegpt {
                output_len: sharegpt_output,
            }
        }
        // Both fill the prompt to its drawn length (ShareGPT text or token ids).
        "random" | "random-ids" => ClientDataset::Lengths {
            input: random_range_lengths(random_input, range_ratio, RandomRangeEra::Y2024, ORIGIN)?,
            output: Some(random_range_lengths(
                random_output,
                range_ratio,
                RandomRangeEra::Y2024,
                ORIGIN,
            )?),
        },
        "generated-shared-prefix" => {
            // --num-prompts is not read: the groups make the requests.
            num_prompts = gsp_groups.saturating_mul(gsp_per_group);
            shared_prefix = Some((gsp_groups, gsp_system));
            ClientDataset::Lengths {
                input: LengthDist::Fixed {
                    tokens: gsp_system.saturating_add(gsp_question),
                },
                output: Some(LengthDist::Fixed { tokens: gsp_output }),
            }
        }
        other => {
            return Err(unread_dataset(
                other,
                "sharegpt, random, random-ids and generated-shared-prefix",
            ))
        }
    };
    if !stream {
        notes.push(
            "with --disable-stream each answer comes whole, so the tester's TTFT is the whole latency; \
             servecast's TTFT is the first token's"
                .into(),
        );
    }
    if !ignore_eos && dataset_name != "sharegpt" {
        notes.push(
            "with --disable-ignore-eos answers may end before max_tokens; servecast generates every token asked for"
                .into(),
        );
    }
    let load = ClientLoad::one_rate(request_rate, num_prompts, max_concurrency, 1.0);
    Ok(ClientCommand {
        model,
        ignored,
        notes,
        shared_prefix,
        test_prompt: warmup_requests > 0,
        ..ClientCommand::new(ClientProgram::SglangBenchServing, dataset, load, endpoint)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad, ClientProgram};
    use crate::workload::arrivals::Endpoint;
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    #[test]
    fn sglangs_random_dataset_draws_from_one_token_up_unless_given_a_ratio() {
        // Defaults: 1024 / 1024 with ratio 0, so uniform 1..=1024 each.
        let c = ClientCommand::parse("python3 -m sglang.bench_serving --backend vllm --dataset-name random")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.program, ClientProgram::SglangBenchServing);
        assert_eq!(c.endpoint, Endpoint::Completions);
        let uniform = LengthDist::Uniform { min: 1, max: 1024 };
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: uniform.clone(),
                output: Some(uniform)
            }
        );
        assert_eq!(
            c.load,
            ClientLoad::Rates {
                qps: vec![f64::INFINITY],
                num_requests: 1000,
                num_requests_per_level: None,
                max_concurrency: None,
                burstiness: 1.0
            }
        );
        let c = ClientCommand::parse(
            "python -m sglang.bench_serving --backend vllm-chat --dataset-name random --random-input-len 4096 \
             --random-output-len 512 --random-range-ratio 0.5 --num-prompts 200 --request-rate 4 \
             --max-concurrency 32 --port 8000",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Uniform { min: 2048, max: 4096 },
                output: Some(LengthDist::Uniform { min: 256, max: 512 })
            }
        );
        assert_eq!(
            c.load,
            ClientLoad::Rates {
                qps: vec![4.0],
                num_requests: 200,
                num_requests_per_level: None,
                max_concurrency: Some(32),
                burstiness: 1.0
            }
        );
        // generated-shared-prefix: 64 groups × 16 prompts of a 2,048-token system prompt and a
        // 128-token question, 256-token answers; --num-prompts not read.
        let c = ClientCommand::parse(
            "python -m sglang.bench_serving --backend vllm --dataset-name generated-shared-prefix --num-prompts 5",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.shared_prefix, Some((64, 2048)));
        assert_eq!(
            c.dataset,
            ClientDataset::Lengths {
                input: LengthDist::Fixed { tokens: 2176 },
                output: Some(LengthDist::Fixed { tokens: 256 })
            }
        );
        assert!(matches!(c.load, ClientLoad::Rates { num_requests: 1024, .. }));
        // The default backend posts to SGLang's /generate, which vLLM does not serve.
        for (line, words) in [
            ("python -m sglang.bench_serving --dataset-name random", "--backend vllm"),
            (
                "python -m sglang.bench_serving --backend vllm --dataset-name mmmu",
                "random-ids",
            ),
            (
                "python -m sglang.bench_serving --backend vllm --sharegpt-context-len 4096",
                "--workload",
            ),
            (
                "python -m sglang.bench_serving --backend vllm --dataset-name random --random-range-ratio 1.5",
                "[0, 1]",
            ),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
