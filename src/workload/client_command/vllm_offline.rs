//! vLLM's offline benchmarks, which start their own engine through the `LLM` class and hand it
//! every prompt at once, with no API server in between:
//!
//! - `vllm bench throughput …` (vLLM ≥ 0.10) and `benchmarks/benchmark_throughput.py …` before
//!   it: `--num-prompts` prompts (default 1,000) to one `LLM.generate` call, `ignore_eos`, so each
//!   answer is exactly its `max_tokens`; it prints `Throughput: X requests/s, Y total tokens/s,
//!   Z output tokens/s` over that call's wall time. Without a dataset path the prompts are
//!   `--input-len` tokens (a `random` dataset, `--random-range-ratio` 0 by default: every prompt
//!   that long); with `--dataset`/`--dataset-path` they are ShareGPT's, the answers the reference
//!   lengths or `--output-len`.
//! - `vllm bench latency …` and `benchmarks/benchmark_latency.py …`: one batch of `--batch-size`
//!   prompts (default 8) of `--input-len` tokens (32) with `--output-len` answers (128), timed per
//!   `LLM.generate` call (`Avg latency: … seconds`); prefix caching off unless the command turns
//!   it on (from vLLM 0.10 the benchmark sets that default, since it sends the same prompts in
//!   every iteration).
//!
//! Every other flag is an engine argument (`EngineArgs.add_cli_args`): it goes to the engine as
//! a `vllm serve` flag would ([`ClientCommand::engine_args`]), and the engine starts in the `LLM`
//! class's usage context, with its defaults. Source: `vllm/benchmarks/throughput.py` and
//! `latency.py` (`add_cli_args`, `get_requests`, `validate_args`, `main`) at v0.11–v0.20;
//! `benchmarks/benchmark_throughput.py` (`main`, `run_vllm`) at v0.6.x.

use super::{count, count_or_zero, number, unread_dataset, ClientCommand, ClientDataset, ClientLoad, ClientProgram};
use super::{Flags, ORIGIN};
use crate::workload::arrivals::Endpoint;
use crate::workload::lengths::LengthDist;
use crate::{Error, Result};

/// Reads the flags of an offline throughput or latency benchmark.
pub(super) fn parse(program: ClientProgram, mut flags: Flags<'_>) -> Result<ClientCommand> {
    let latency = matches!(
        program,
        ClientProgram::VllmBenchLatency | ClientProgram::BenchmarkLatency
    );
    let (mut input_len, mut output_len) = (None::<u32>, None::<u32>);
    let mut dataset_name = None::<String>;
    let mut dataset_path = None::<String>;
    let (mut num_prompts, mut batch_size) = (1000u32, 8u32);
    let (mut range_ratio, mut prefix_len) = (None, 0u32);
    let (mut rep_prefix, mut rep_suffix, mut rep_groups, mut rep_output) = (256u32, 256u32, 10u32, 128u32);
    let (mut model, mut endpoint, mut async_engine) = (None, Endpoint::Completions, false);
    let (mut ignored, mut engine_args) = (Vec::new(), Vec::new());
    while let Some(flag) = flags.next_flag()? {
        let f = flag.name.as_str();
        match f {
            "--input-len" => input_len = Some(count(f, &flags.need(&flag)?)?),
            "--output-len" => output_len = Some(count(f, &flags.need(&flag)?)?),
            "--num-prompts" if !latency => num_prompts = count(f, &flags.need(&flag)?)?,
            "--batch-size" if latency => batch_size = count(f, &flags.need(&flag)?)?,
            "--dataset-name" if !latency => dataset_name = Some(flags.need(&flag)?.to_ascii_lowercase()),
            // `--dataset PATH`: a ShareGPT file (the only dataset before `--dataset-name`).
            "--dataset" | "--dataset-path" if !latency => dataset_path = Some(flags.need(&flag)?),
            "--random-range-ratio" if !latency => range_ratio = Some(number(f, &flags.need(&flag)?)?),
            "--prefix-len" if !latency => prefix_len = count_or_zero(f, &flags.need(&flag)?)?,
            "--prefix-repetition-prefix-len" if !latency => rep_prefix = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-suffix-len" if !latency => rep_suffix = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-num-prefixes" if !latency => rep_groups = count(f, &flags.need(&flag)?)?,
            "--prefix-repetition-output-len" if !latency => rep_output = count(f, &flags.need(&flag)?)?,
            "--backend" => match flags.need(&flag)?.to_ascii_lowercase().as_str() {
                "vllm" => {}
                // `LLM.chat`: each prompt one user message in the model's chat template.
                "vllm-chat" => endpoint = Endpoint::Chat,
                other => {
                    return Err(Error::invalid(
                        ORIGIN,
                        f,
                        format!(
                        "'{other}' runs another engine than vLLM (servecast models the vllm and vllm-chat backends)"
                    ),
                    ))
                }
            },
            "--n" => {
                let v = flags.need(&flag)?;
                if count(f, &v)? > 1 {
                    return Err(Error::invalid(
                        ORIGIN,
                        f,
                        format!("'{v}': {v} sequences per prompt (parallel sampling) are not modelled; servecast runs n = 1"),
                    ));
                }
            }
            "--use-beam-search" => {
                return Err(Error::invalid(
                    ORIGIN,
                    f,
                    "beam search is not modelled; servecast samples one sequence per prompt",
                ))
            }
            "--async-engine" => async_engine = true,
            "--model" => {
                let v = flags.need(&flag)?;
                engine_args.extend(["--model".to_string(), v.clone()]);
                model = Some(v);
            }
            // The benchmark's own flags that change nothing servecast simulates.
            "--output-json" | "--seed" | "--hf-subset" | "--hf-split" | "--lora-path" | "--num-iters"
            | "--num-iters-warmup" => ignored.push(flags.shown(&flag)),
            "--disable-detokenize" | "--profile" | "--disable-frontend-multiprocessing" => {
                ignored.push(flag.name.clone())
            }
            // Everything else is an engine argument, read as `vllm serve` reads it.
            _ => {
                engine_args.push(flag.name.clone());
                if let Some(v) = flags.value(&flag) {
                    engine_args.push(v);
                }
            }
        }
    }
    let mut notes = Vec::new();
    if async_engine {
        notes.push(
            "--async-engine drives the engine through AsyncLLM in the benchmark's own process, with the API \
             server's engine defaults; servecast runs it as the LLM class does (no HTTP, every prompt at once)"
                .to_string(),
        );
    }
    let mut shared_prefix = None;
    let (dataset, requests) = if latency {
        if !engine_args.iter().any(|a| a.contains("prefix-caching")) {
            engine_args.push("--no-enable-prefix-caching".into());
        }
        (
            ClientDataset::Lengths {
                input: LengthDist::Fixed {
                    tokens: input_len.unwrap_or(32),
                },
                output: Some(LengthDist::Fixed {
                    tokens: output_len.unwrap_or(128),
                }),
            },
            batch_size,
        )
    } else {
        // Without a dataset path the benchmark draws `random` prompts (it says "When dataset
        // path is not set, it will default to random dataset"); prefix_repetition needs none.
        let name = match (&dataset_path, dataset_name.as_deref()) {
            (_, Some("prefix_repetition" | "prefix-repetition")) => "prefix_repetition",
            (None, _) => "random",
            (Some(_), None) => "sharegpt",
            (Some(_), Some(n)) => n,
        };
        let dataset = match name {
            "random" => {
                let Some(input_len) = input_len else {
                    return Err(Error::invalid(
                        ORIGIN,
                        "--input-len",
                        "input_len must be provided for a random dataset",
                    ));
                };
                if prefix_len > 0 {
                    shared_prefix = Some((1, prefix_len));
                }
                ClientDataset::VllmRandom {
                    input_len,
                    output_len: output_len.unwrap_or(128),
                    // Not given: every length exact, as each release's default ratio draws them.
                    range_ratio,
                    output_range_ratio: None,
                    prefix_len,
                }
            }
            "sharegpt" => ClientDataset::Sharegpt { output_len },
            "prefix_repetition" => {
                let (dataset, prefix) =
                    super::vllm_bench::prefix_repetition(rep_groups, rep_prefix, rep_suffix, rep_output);
                shared_prefix = Some(prefix);
                dataset
            }
            "sonnet" => {
                // The prompts come with the chat template applied (return_prompt_formatted).
                let (dataset, prefix, note) = super::vllm_bench::sonnet(
                    model.as_deref(),
                    input_len.unwrap_or(550),
                    prefix_len,
                    output_len.unwrap_or(150),
                    false,
                )?;
                shared_prefix = prefix;
                notes.extend(note);
                dataset
            }
            other => return Err(unread_dataset(other, "sharegpt, random, sonnet and prefix_repetition")),
        };
        (dataset, num_prompts)
    };
    let load = ClientLoad::one_rate(f64::INFINITY, requests, None, 1.0);
    Ok(ClientCommand {
        model,
        ignored,
        notes,
        shared_prefix,
        engine_args,
        ..ClientCommand::new(program, dataset, load, endpoint)
    })
}

#[cfg(test)]
mod tests {
    use super::super::{ClientCommand, ClientDataset, ClientLoad, ClientProgram};
    use crate::workload::arrivals::Endpoint;
    use crate::workload::datasets::RandomRangeEra;
    use crate::workload::lengths::LengthDist;

    /// (rate, prompts) of a one-level command.
    fn load(c: &ClientCommand) -> (f64, u32, Option<u32>) {
        match &c.load {
            ClientLoad::Rates {
                qps,
                num_requests,
                max_concurrency,
                ..
            } => (qps[0], *num_requests, *max_concurrency),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_throughput_benchmark_sends_every_prompt_at_once_and_passes_its_engine_flags_on() {
        let c = ClientCommand::parse(
            "vllm bench throughput --model meta-llama/Llama-3.1-8B-Instruct --input-len 1024 --output-len 128 \
             --num-prompts 500 --max-num-seqs 128 --gpu-memory-utilization 0.85 --enforce-eager --seed 7",
        )
        .unwrap();
        assert_eq!(c.program, ClientProgram::VllmBenchThroughput);
        assert_eq!(load(&c), (f64::INFINITY, 500, None));
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap();
        assert_eq!(input, LengthDist::Fixed { tokens: 1024 });
        assert_eq!(output, Some(LengthDist::Fixed { tokens: 128 }));
        assert_eq!(
            c.engine_args,
            [
                "--model",
                "meta-llama/Llama-3.1-8B-Instruct",
                "--max-num-seqs",
                "128",
                "--gpu-memory-utilization",
                "0.85",
                "--enforce-eager"
            ]
        );
        assert_eq!(c.ignored, ["--seed 7"]);
        assert!(c.program.is_offline());
    }

    #[test]
    fn the_old_script_reads_a_sharegpt_path_and_its_output_override() {
        let c = ClientCommand::parse(
            "python benchmarks/benchmark_throughput.py --backend vllm --dataset ShareGPT_V3_unfiltered_cleaned_split.json \
             --model meta-llama/Llama-2-7b-hf --output-len 256",
        )
        .unwrap();
        assert_eq!(c.program, ClientProgram::BenchmarkThroughput);
        assert_eq!(c.dataset, ClientDataset::Sharegpt { output_len: Some(256) });
        assert_eq!(load(&c), (f64::INFINITY, 1000, None));
    }

    #[test]
    fn a_latency_benchmark_is_one_batch_with_prefix_caching_off() {
        let c = ClientCommand::parse("vllm bench latency --model Qwen/Qwen2.5-7B-Instruct --batch-size 16").unwrap();
        assert_eq!(c.program, ClientProgram::VllmBenchLatency);
        assert_eq!(load(&c), (f64::INFINITY, 16, None));
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap();
        assert_eq!(
            (input, output),
            (
                LengthDist::Fixed { tokens: 32 },
                Some(LengthDist::Fixed { tokens: 128 })
            )
        );
        assert!(c.engine_args.iter().any(|a| a == "--no-enable-prefix-caching"));
        let on = ClientCommand::parse("python benchmark_latency.py --model m --enable-prefix-caching").unwrap();
        assert_eq!(on.program, ClientProgram::BenchmarkLatency);
        assert!(!on.engine_args.iter().any(|a| a == "--no-enable-prefix-caching"));
    }

    #[test]
    fn what_the_benchmarks_refuse_or_servecast_cannot_run_is_refused_naming_the_flag() {
        for (line, flag, words) in [
            (
                "vllm bench throughput --model m --output-len 128",
                "--input-len",
                "must be provided",
            ),
            (
                "vllm bench throughput --model m --input-len 8 --n 4",
                "--n",
                "parallel sampling",
            ),
            (
                "vllm bench throughput --model m --input-len 8 --backend hf",
                "--backend",
                "another engine",
            ),
            (
                "vllm bench throughput --model m --input-len 8 --use-beam-search",
                "--use-beam-search",
                "beam search",
            ),
            (
                "vllm bench throughput --model m --dataset-name burstgpt --dataset-path x.csv",
                "--dataset-name",
                "burstgpt",
            ),
            ("vllm bench latency --model m --batch-size 0", "--batch-size", "≥ 1"),
        ] {
            let e = ClientCommand::parse(line).unwrap_err().to_string();
            assert!(e.contains(flag) && e.contains(words), "{line}: {e}");
        }
    }

    #[test]
    fn prefix_repetition_needs_no_dataset_path() {
        // 4 prefixes of 100 tokens, each prompt one of them and 256 tokens of its own.
        let c = ClientCommand::parse(
            "vllm bench throughput --model m --dataset-name prefix_repetition --prefix-repetition-prefix-len 100 \
             --prefix-repetition-num-prefixes 4 --num-prompts 40",
        )
        .unwrap();
        assert_eq!(c.shared_prefix, Some((4, 100)));
        let (input, output) = c.lengths(RandomRangeEra::Current).unwrap();
        assert_eq!(input, LengthDist::Fixed { tokens: 356 });
        assert_eq!(output, Some(LengthDist::Fixed { tokens: 128 }));
        assert_eq!(load(&c), (f64::INFINITY, 40, None));
    }

    #[test]
    fn the_chat_backend_sends_each_prompt_through_the_chat_template() {
        let c = ClientCommand::parse("vllm bench throughput --model m --input-len 100 --backend vllm-chat").unwrap();
        assert_eq!(c.endpoint, Endpoint::Chat);
    }
}
