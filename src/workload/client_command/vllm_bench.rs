//! vLLM's own load tester: `vllm bench serve …` (vLLM ≥ 0.10) and
//! `benchmarks/benchmark_serving.py …` before it. Defaults: `vllm bench serve` draws from the
//! `random` dataset (1024-token prompts, 128-token answers), `benchmark_serving.py` from
//! ShareGPT; both send 1000 prompts at once (`--request-rate inf`) to `/v1/completions`.
//! Datasets read: `sharegpt` (and a Hugging Face ShareGPT dataset), `random` (with its prefix),
//! `prefix_repetition` and `sonnet` (550-token prompts, 200 of them shared, 150-token answers by
//! default; lengths per model family from `data/datasets.yaml`).

use super::{
    count, count_or_zero, number, rate, unread_dataset, ClientCommand, ClientDataset, ClientLoad, ClientProgram, Flags,
    ORIGIN,
};
use crate::workload::arrivals::Endpoint;
use crate::workload::datasets::{sonnet_prompts, sonnet_template};
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Reads the flags of a `vllm bench serve` or `benchmark_serving.py` command.
pub(super) fn parse(program: ClientProgram, mut flags: Flags<'_>) -> Result<ClientCommand> {
    // benchmark_serving.py drew ShareGPT unless told otherwise; `vllm bench serve` draws `random`.
    let mut dataset_name = if program == ClientProgram::BenchmarkServing {
        "sharegpt".to_string()
    } else {
        "random".to_string()
    };
    let (mut random_input, mut random_output, mut range_ratio) = (1024u32, 128u32, None);
    let mut output_range_ratio = None;
    let mut sharegpt_output = None;
    // `--dataset-name hf --dataset-path …`: a Hugging Face dataset; a ShareGPT one is sampled as
    // ShareGPT (`data/datasets.yaml`, hf-sharegpt), `--hf-output-len` fixing its answers.
    let (mut dataset_path, mut hf_output) = (None::<String>, None);
    // The sonnet dataset: defaults 550, 200 and 150 tokens.
    let (mut sonnet_input, mut sonnet_prefix, mut sonnet_output) = (550u32, 200u32, 150u32);
    // `--random-prefix-len`: one prefix of that many random tokens in front of every prompt.
    let mut random_prefix = 0u32;
    // The prefix_repetition dataset (vLLM ≥ 0.10.2): defaults 256, 256, 10, 128.
    let (mut rep_prefix, mut rep_suffix, mut rep_groups, mut rep_output) = (256u32, 256u32, 10u32, 128u32);
    let (mut num_prompts, mut request_rate, mut max_concurrency, mut burstiness) = (1000u32, f64::INFINITY, None, 1.0);
    let (mut endpoint, mut model, mut ignored) = (Endpoint::Completions, None, Vec::new());
    // The initial single-prompt test run (the endpoint ready check), skipped with a timeout of 0;
    // `--num-warmups N` sends that same prompt N times whether or not it ran.
    let (mut ready_check, mut warmups) = (true, 0u32);
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "--dataset-name" => dataset_name = flags.need(&flag)?.to_ascii_lowercase(),
            "--model" => model = Some(flags.need(&flag)?),
            // benchmark_serving.py before 0.5: `--dataset PATH` was a ShareGPT file.
            "--dataset" => {
                flags.need(&flag)?;
                dataset_name = "sharegpt".into();
            }
            "--random-input-len" => random_input = count(f, &flags.need(&flag)?)?,
            "--random-output-len" => random_output = count(f, &flags.need(&flag)?)?,
            "--random-range-ratio" => {
                let v = flags.need(&flag)?;
                if v.trim_start().starts_with('{') {
                    let (input, output) = range_ratio_pair(&v)?;
                    range_ratio = Some(input);
                    output_range_ratio = Some(output);
                } else {
                    range_ratio = Some(number(f, &v)?);
                }
            }
            "--random-prefix-len" => random_prefix = count_or_zero(f, &flags.need(&flag)?)?,
            "--prefix-repetition-prefix-len" => rep_prefix = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-suffix-len" => rep_suffix = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-num-prefixes" => rep_groups = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-output-len" => rep_output = count(f, &flags.need(&flag)?)?,
            "--sharegpt-output-len" => sharegpt_output = Some(count(f, &flags.need(&flag)?)?),
            "--dataset-path" => dataset_path = Some(flags.need(&flag)?),
            "--hf-output-len" => hf_output = Some(count(f, &flags.need(&flag)?)?),
            "--sonnet-input-len" => sonnet_input = count(f, &flags.need(&flag)?)?,
            "--sonnet-prefix-len" => sonnet_prefix = count_or_zero(f, &flags.need(&flag)?)?,
            "--sonnet-output-len" => sonnet_output = count(f, &flags.need(&flag)?)?,
            "--num-prompts" => num_prompts = count(f, &flags.need(&flag)?)?,
            "--request-rate" => request_rate = rate(f, &flags.need(&flag)?)?,
            "--max-concurrency" => max_concurrency = Some(count(f, &flags.need(&flag)?)?),
            "--burstiness" => {
                let v = flags.need(&flag)?;
                let b = number(f, &v)?;
                if b <= 0.0 {
                    return Err(Error::invalid(ORIGIN, f, format!("'{v}' must be > 0")));
                }
                burstiness = b;
            }
            "--backend" | "--endpoint-type" => {
                if flags.need(&flag)?.eq_ignore_ascii_case("openai-chat") {
                    endpoint = Endpoint::Chat;
                }
            }
            "--endpoint" => {
                if flags.need(&flag)?.contains("chat/completions") {
                    endpoint = Endpoint::Chat;
                }
            }
            "--ready-check-timeout-sec" => ready_check = number(f, &flags.need(&flag)?)? > 0.0,
            "--num-warmups" => warmups = count_or_zero(f, &flags.need(&flag)?)?,
            _ => ignored.push(flags.shown(&flag)),
        }
    }
    let mut shared_prefix = None;
    let mut notes = Vec::new();
    let dataset = match dataset_name.as_str() {
        "sharegpt" => ClientDataset::Sharegpt {
            output_len: sharegpt_output,
        },
        "hf" if dataset_path
            .as_deref()
            .is_some_and(|p| p.to_ascii_lowercase().contains("sharegpt")) =>
        {
            ClientDataset::Sharegpt { output_len: hf_output }
        }
        "random" => {
            if random_prefix > 0 {
                shared_prefix = Some((1, random_prefix));
            }
            ClientDataset::VllmRandom {
                input_len: random_input,
                output_len: random_output,
                range_ratio,
                output_range_ratio,
                prefix_len: random_prefix,
            }
        }
        // num_prompts ÷ num_prefixes prompts per prefix, each prefix + suffix random tokens.
        "prefix_repetition" | "prefix-repetition" => {
            let (dataset, prefix) = prefix_repetition(rep_groups, rep_prefix, rep_suffix, rep_output);
            shared_prefix = Some(prefix);
            dataset
        }
        "sonnet" => {
            let (dataset, prefix, note) = sonnet(
                model.as_deref(),
                sonnet_input,
                sonnet_prefix,
                sonnet_output,
                endpoint == Endpoint::Chat,
            )?;
            shared_prefix = prefix;
            notes.extend(note);
            dataset
        }
        other => {
            return Err(unread_dataset(
                other,
                "sharegpt (also as a Hugging Face ShareGPT dataset), random, sonnet and prefix_repetition",
            ))
        }
    };
    let load = ClientLoad::one_rate(request_rate, num_prompts, max_concurrency, burstiness);
    Ok(ClientCommand {
        model,
        ignored,
        shared_prefix,
        notes,
        test_prompt: ready_check || warmups > 0,
        ..ClientCommand::new(program, dataset, load, endpoint)
    })
}

/// vLLM bench's `prefix_repetition` dataset (≥ 0.10.2): `groups` prefixes of `prefix` random
/// tokens, each prompt one of them and `suffix` tokens of its own, `output` tokens asked for.
/// Returns the dataset and the `(groups, tokens)` prefix the prompts share.
pub(super) fn prefix_repetition(groups: u32, prefix: u32, suffix: u32, output: u32) -> (ClientDataset, (u32, u32)) {
    let dataset = ClientDataset::Lengths {
        input: LengthDist::Fixed {
            tokens: prefix.saturating_add(suffix),
        },
        output: Some(LengthDist::Fixed { tokens: output }),
    };
    (dataset, (groups, prefix))
}

/// vLLM ≥ 0.20's `--random-range-ratio '{"input": a, "output": b}'`: both keys, numbers.
fn range_ratio_pair(text: &str) -> Result<(f64, f64)> {
    let bad = |message: String| Error::invalid(ORIGIN, "--random-range-ratio", message);
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("'{text}' is not a JSON object: {e}")))?;
    let side = |key: &str| {
        value.get(key).and_then(serde_json::Value::as_f64).ok_or_else(|| {
            bad(format!(
                "When range_ratio is a dict it must contain 'input' and 'output' keys, got: '{text}'"
            ))
        })
    };
    Ok((side("input")?, side("output")?))
}

/// The sonnet dataset as [`sonnet`] reads it: the dataset, the `(groups, tokens)` prefix every
/// prompt shares, and a note when the family counted is not the model's.
pub(super) type Sonnet = (ClientDataset, Option<(u32, u32)>, Option<String>);

/// The sonnet dataset for `model`'s family (Llama-3.1's when it names none servecast has): the
/// dataset, the prefix every prompt shares, and a note when the family was not the model's.
pub(super) fn sonnet(
    model: Option<&str>,
    input_len: u32,
    prefix_len: u32,
    output_len: u32,
    chat: bool,
) -> Result<Sonnet> {
    let Some((template, matched)) = sonnet_template(model) else {
        return Err(unread_dataset("sonnet", "sharegpt, random and prefix_repetition"));
    };
    let note = (!matched).then(|| {
        format!(
            "{SONNET_NOTE} {}'s tokenizer and chat template (servecast has the sonnet lengths of Llama 2, Llama 3, \
             Llama 3.1 and Qwen2.5); {}'s own may differ by a few percent",
            template.name,
            model.unwrap_or("the model")
        )
    });
    // The shared prefix does not depend on the client's era; its refusals are checked again, by
    // era, when the lengths are drawn.
    let prompts = sonnet_prompts(
        template,
        input_len,
        prefix_len,
        chat,
        crate::workload::datasets::RandomRangeEra::Current,
        ORIGIN,
    )?;
    let prefix = (prompts.shared_prefix_tokens > 0).then_some((1, prompts.shared_prefix_tokens));
    let dataset = ClientDataset::Sonnet {
        input_len,
        prefix_len,
        output_len,
        template: template.clone(),
        chat,
    };
    Ok((dataset, prefix, note))
}

/// How a note on the sonnet dataset's stand-in family begins.
pub(super) const SONNET_NOTE: &str = "sonnet prompts counted with";

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad};
    use crate::workload::arrivals::Endpoint;
    use crate::workload::datasets::RandomRangeEra;
    use crate::workload::lengths::LengthDist;
    use crate::Error;

    /// The load of a command with one rate level: (rate, prompts, cap, burstiness).
    fn rates(c: &ClientCommand) -> (f64, u32, Option<u32>, f64) {
        match &c.load {
            ClientLoad::Rates {
                qps,
                num_requests,
                max_concurrency,
                burstiness,
                ..
            } if qps.len() == 1 => (qps[0], *num_requests, *max_concurrency, *burstiness),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_vllm_bench_serve_line_reads_as_the_load_it_sends() {
        let c = ClientCommand::parse(
            "vllm bench serve --model meta-llama/Llama-3.1-8B-Instruct --dataset-name random \
             --random-input-len 2000 --random-output-len=200 --random-range-ratio 0.25 \
             --num-prompts 500 --request-rate 8 --max-concurrency 64 --burstiness 0.5 \
             --backend openai-chat --endpoint /v1/chat/completions --save-result --port 8000",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rates(&c), (8.0, 500, Some(64), 0.5));
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert_eq!(c.model.as_deref(), Some("meta-llama/Llama-3.1-8B-Instruct"));
        assert_eq!(c.ignored, vec!["--save-result".to_string(), "--port 8000".into()]);
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input, LengthDist::Uniform { min: 1500, max: 2500 });
        assert_eq!(output, Some(LengthDist::Uniform { min: 150, max: 250 }));
    }

    #[test]
    fn each_programs_defaults_hold() {
        // vllm bench serve: random 1024/128, 1000 prompts, all at once.
        let c = ClientCommand::parse("vllm bench serve --model m").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rates(&c), (f64::INFINITY, 1000, None, 1.0));
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (input, output),
            (
                LengthDist::Fixed { tokens: 1024 },
                Some(LengthDist::Fixed { tokens: 128 })
            )
        );
        // benchmark_serving.py: ShareGPT; a fixed answer length when asked.
        let c = ClientCommand::parse(
            "python benchmarks/benchmark_serving.py --backend vllm --dataset-path x.json --sharegpt-output-len 256",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.dataset, ClientDataset::Sharegpt { output_len: Some(256) });
        // 2024's client: range ratio r draws [L·r, L].
        let c = ClientCommand::parse("vllm bench serve --dataset-name random --random-range-ratio 0.5")
            .unwrap_or_else(|e| panic!("{e}"));
        let (input, _) = c.lengths(RandomRangeEra::Y2024).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input, LengthDist::Uniform { min: 512, max: 1024 });
    }

    #[test]
    fn a_shared_prefix_is_read_from_the_random_and_prefix_repetition_datasets() {
        // --random-prefix-len: one prefix in front of every drawn prompt.
        let c = ClientCommand::parse(
            "vllm bench serve --dataset-name random --random-input-len 1000 --random-range-ratio 0.5 \
             --random-prefix-len 500",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.shared_prefix, Some((1, 500)));
        let (input, _) = c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(input, LengthDist::Uniform { min: 1000, max: 2000 });
        // prefix_repetition: defaults 10 prefixes of 256 tokens, 256-token suffixes, 128-token answers.
        let c = ClientCommand::parse("vllm bench serve --dataset-name prefix_repetition --num-prompts 100")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.shared_prefix, Some((10, 256)));
        assert_eq!(
            c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}")),
            (
                LengthDist::Fixed { tokens: 512 },
                Some(LengthDist::Fixed { tokens: 128 })
            )
        );
        let c = ClientCommand::parse(
            "vllm bench serve --dataset-name prefix_repetition --prefix-repetition-prefix-len 1024 \
             --prefix-repetition-suffix-len 64 --prefix-repetition-num-prefixes 4 --prefix-repetition-output-len 32",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.shared_prefix, Some((4, 1024)));
        assert_eq!(
            c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}")),
            (
                LengthDist::Fixed { tokens: 1088 },
                Some(LengthDist::Fixed { tokens: 32 })
            )
        );
    }

    #[test]
    fn the_sonnet_dataset_is_read_with_its_defaults_and_its_shared_lines() {
        // Defaults 550 / 200 / 150 tokens; Llama-3's template: 45 lines, the first 15 shared.
        let c = ClientCommand::parse(
            "python benchmarks/benchmark_serving.py --backend vllm --model meta-llama/Meta-Llama-3-8B-Instruct \
             --dataset-name sonnet --dataset-path benchmarks/sonnet.txt --request-rate 4 --num-prompts 200",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        let (input, output) = c.lengths(RandomRangeEra::Y2024).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(output, Some(LengthDist::Fixed { tokens: 150 }));
        // data/datasets.yaml: mean 507.5 tokens, 185 shared.
        assert!((input.mean() - 507.5).abs() < 1.0, "{input:?}");
        let (_, shared) = c.shared_prefix.unwrap_or_else(|| panic!("no shared prefix"));
        assert!(shared.abs_diff(185) <= 2, "{shared}");
        // The chat backend sends the raw lines; another family is named in a note.
        let c = ClientCommand::parse(
            "vllm bench serve --backend openai-chat --endpoint /v1/chat/completions --model mistralai/Mistral-7B-Instruct-v0.3 \
             --dataset-name sonnet --sonnet-input-len 1024 --sonnet-output-len 64",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.endpoint, Endpoint::Chat);
        assert!(c.notes.iter().any(|n| n.contains("llama3.1-instruct")), "{:?}", c.notes);
        assert!(matches!(
            c.dataset,
            ClientDataset::Sonnet {
                chat: true,
                output_len: 64,
                ..
            }
        ));
    }

    #[test]
    fn the_range_ratio_may_set_prompts_and_answers_apart() {
        // vLLM 0.20: '{"input": a, "output": b}', each side's rule the current one.
        let c = ClientCommand::parse(
            r#"vllm bench serve --dataset-name random --random-input-len 1000 --random-output-len 200 --random-range-ratio '{"input": 0.1, "output": 0.5}'"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            c.lengths(RandomRangeEra::Current).unwrap_or_else(|e| panic!("{e}")),
            (
                LengthDist::Uniform { min: 900, max: 1100 },
                Some(LengthDist::Uniform { min: 100, max: 300 })
            )
        );
        // An older client takes one number; out of range and missing keys in vLLM's words.
        assert!(c.lengths(RandomRangeEra::Y2025).is_err());
        let out_of_range =
            ClientCommand::parse(r#"vllm bench serve --random-range-ratio '{"input": 0.2, "output": 1.0}'"#)
                .unwrap_or_else(|e| panic!("{e}"));
        match out_of_range.lengths(RandomRangeEra::Current) {
            Err(Error::InvalidField { message, .. }) => assert_eq!(message, "output_range_ratio must be in [0, 1)."),
            other => panic!("{other:?}"),
        }
        match ClientCommand::parse(r#"vllm bench serve --random-range-ratio '{"output": 0.5}'"#) {
            Err(Error::InvalidField { message, .. }) => {
                assert!(message.contains("'input' and 'output' keys"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_hugging_face_sharegpt_dataset_is_sampled_as_sharegpt() {
        let c = ClientCommand::parse(
            "vllm bench serve --dataset-name hf --dataset-path Aeala/ShareGPT_Vicuna_unfiltered --hf-output-len 128",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.dataset, ClientDataset::Sharegpt { output_len: Some(128) });
    }

    #[test]
    fn what_it_cannot_read_is_refused_naming_the_flag() {
        for (line, words) in [
            ("vllm serve m --max-num-seqs 8", "not a load tester"),
            ("vllm bench serve --dataset-name burstgpt", "prefix_repetition datasets"),
            (
                "vllm bench serve --dataset-name hf --dataset-path likaixin/InstructCoder",
                "ShareGPT dataset",
            ),
            (
                "vllm bench serve --dataset-name sonnet --sonnet-input-len 100 --sonnet-prefix-len 100",
                "must be greater",
            ),
            ("vllm bench serve --num-prompts 0", "whole number ≥ 1"),
            ("vllm bench serve --request-rate -1", "> 0 or inf"),
            ("vllm bench serve --burstiness nan", "not a number"),
            ("vllm bench serve --num-prompts", "needs a value"),
            ("vllm bench serve --num-prompts 5 stray", "no flag"),
            ("vllm bench serve --model 'unterminated", "quote"),
        ] {
            match ClientCommand::parse(line) {
                Err(Error::InvalidField { message, .. }) => assert!(message.contains(words), "{line}: {message}"),
                other => panic!("{line}: {other:?}"),
            }
        }
        let c = ClientCommand::parse("vllm bench serve --random-range-ratio 1").unwrap_or_else(|e| panic!("{e}"));
        assert!(c.lengths(RandomRangeEra::Current).is_err());
    }
}
