//! Parses a `vllm serve MODEL --flag value …` command line into a model name and engine flags.

use serde::Serialize;

use super::engine::EngineFlags;
use crate::error::{Error, Result};

/// A parsed `vllm serve` command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServeCommand {
    /// The model argument as written (a path or a Hugging Face id).
    pub model: String,
    /// The engine flags servecast models.
    pub flags: EngineFlags,
    /// `--data-parallel-size`: engine replicas (servecast's `--replicas`); none: not given.
    pub data_parallel_size: Option<u32>,
    /// Flags vLLM accepts that do not change what servecast simulates (`--port 8000`).
    pub ignored: Vec<String>,
}

/// How servecast treats one `vllm serve` flag.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Treatment {
    /// Sets an engine flag servecast models.
    Modelled,
    /// Does not change performance (networking, logging, chat templates, tokenizer source, …).
    Neutral,
    /// Changes performance in a way servecast does not model: refused, naming the flag.
    Unmodelled(&'static str),
}

/// `vllm serve` flags that take a value and do not change what servecast simulates.
const NEUTRAL_WITH_VALUE: &[&str] = &[
    "--host",
    "--port",
    "--uds",
    "--api-key",
    "--served-model-name",
    "--tokenizer",
    "--tokenizer-mode",
    "--tokenizer-revision",
    "--revision",
    "--code-revision",
    "--download-dir",
    "--load-format",
    "--config-format",
    "--seed",
    "--uvicorn-log-level",
    "--log-level",
    "--chat-template",
    "--chat-template-content-format",
    "--response-role",
    "--ssl-keyfile",
    "--ssl-certfile",
    "--ssl-ca-certs",
    "--ssl-cert-reqs",
    "--root-path",
    "--middleware",
    "--allowed-origins",
    "--allowed-methods",
    "--allowed-headers",
    "--tool-call-parser",
    "--tool-parser-plugin",
    "--reasoning-parser",
    "--max-log-len",
    "--generation-config",
    "--override-generation-config",
    "--hf-config-path",
    "--swap-space",
    "--distributed-executor-backend",
    "--worker-cls",
    "--guided-decoding-backend",
    "--structured-outputs-config",
    "--max-logprobs",
    "--logprobs-mode",
    "--otlp-traces-endpoint",
    "--collect-detailed-traces",
    "--lora-modules",
    "--prompt-adapters",
    "--limit-mm-per-prompt",
    "--mm-processor-kwargs",
    "--disable-log-stats-interval",
    "--api-server-count",
    "--tokenizer-pool-size",
    "--model-impl",
    "--max-seq-len-to-capture",
    "--cuda-graph-sizes",
    "--pooler-config",
    "--task",
    "--runner",
    "--convert",
];

/// `vllm serve` switches that do not change what servecast simulates.
const NEUTRAL_SWITCHES: &[&str] = &[
    "--trust-remote-code",
    "--disable-log-requests",
    "--enable-log-requests",
    "--disable-log-stats",
    "--enable-auto-tool-choice",
    "--disable-fastapi-docs",
    "--enable-request-id-headers",
    "--return-tokens-as-token-ids",
    "--enable-prompt-tokens-details",
    "--enable-server-load-tracking",
    "--enable-force-include-usage",
    "--use-v2-block-manager",
    // 0.4–0.6: the Ray executor (`--distributed-executor-backend ray`, also neutral).
    "--worker-use-ray",
    "--disable-custom-all-reduce",
    "--disable-uvicorn-access-log",
    "--skip-tokenizer-init",
    "--headless",
];

/// `vllm serve` flags that change performance in ways servecast does not model, and why.
const UNMODELLED: &[(&str, &str)] = &[
    (
        "--enforce-eager",
        "runs without CUDA graphs, which slows decode steps; servecast models the CUDA-graph engine",
    ),
    (
        "--pipeline-parallel-size",
        "pipeline parallelism is not modelled (use --tensor-parallel-size, or --replicas for data parallelism)",
    ),
    (
        "-pp",
        "pipeline parallelism is not modelled (use --tensor-parallel-size, or --replicas for data parallelism)",
    ),
    (
        "--enable-lora",
        "LoRA adapters add per-step work servecast does not model",
    ),
    (
        "--cpu-offload-gb",
        "offloading weights to CPU memory moves them over PCIe every step; not modelled",
    ),
    (
        "--speculative-model",
        "give speculative decoding as --speculative-config (with its acceptance rates)",
    ),
    (
        "--num-speculative-tokens",
        "give speculative decoding as --speculative-config (with its acceptance rates)",
    ),
    ("--preemption-mode", "only recompute preemption is modelled"),
    (
        "--scheduling-policy",
        "only first-come-first-served scheduling is modelled",
    ),
    (
        "--long-prefill-token-threshold",
        "partial-prefill limits are not modelled",
    ),
    ("--max-num-partial-prefills", "partial-prefill limits are not modelled"),
    ("--max-long-partial-prefills", "partial-prefill limits are not modelled"),
    ("--kv-transfer-config", "disaggregated prefill/decode is not modelled"),
    ("--kv-offloading-size", "KV offloading to CPU is not modelled"),
    (
        "--disable-sliding-window",
        "servecast models the sliding window as the model's config declares it",
    ),
    ("--enable-dbo", "dual-batch overlap is not modelled"),
    ("--enable-eplb", "expert load balancing is not modelled"),
    (
        "--disable-frontend-multiprocessing",
        "an in-process front end changes TTFT in ways not modelled",
    ),
    ("--compilation-config", "custom compilation settings are not modelled"),
    ("-O", "custom compilation levels are not modelled"),
    (
        "--hf-overrides",
        "overriding the model's config.json: pass the edited config.json as the model instead",
    ),
    (
        "--rope-scaling",
        "overriding the model's config.json: pass the edited config.json as the model instead",
    ),
    ("--max-cpu-loras", "LoRA adapters are not modelled"),
];

fn value<'a>(flag: &str, it: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Result<&'a str> {
    match it.next() {
        Some(v) if !v.starts_with("--") => Ok(v),
        _ => Err(Error::invalid("vllm serve", flag, "expects a value")),
    }
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::invalid("vllm serve", flag, format!("'{text}' is not a valid number")))
}

/// An optional boolean word after a switch (`True`, `false`, `1`, `0`); the switch alone is true.
fn optional_bool<'a>(flag: &str, it: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>) -> Result<bool> {
    match it.peek().map(|w| w.to_ascii_lowercase()) {
        Some(w) if ["true", "1", "yes"].contains(&w.as_str()) => {
            it.next();
            Ok(true)
        }
        Some(w) if ["false", "0", "no"].contains(&w.as_str()) => {
            it.next();
            Ok(false)
        }
        Some(w) if !w.starts_with('-') && flag.starts_with("--no-") => {
            Err(Error::invalid("vllm serve", flag, format!("takes no value, got '{w}'")))
        }
        _ => Ok(true),
    }
}

fn treatment(flag: &str) -> Option<Treatment> {
    const MODELLED: &[&str] = &[
        "--model",
        "--gpu-memory-utilization",
        "--max-num-seqs",
        "--max-model-len",
        "--max-num-batched-tokens",
        "--block-size",
        "--scheduler-delay-factor",
        "--quantization",
        "-q",
        "--kv-cache-dtype",
        "--tensor-parallel-size",
        "-tp",
        "--data-parallel-size",
        "-dp",
        "--enable-chunked-prefill",
        "--no-enable-chunked-prefill",
        "--enable-prefix-caching",
        "--no-enable-prefix-caching",
        "--async-scheduling",
        "--no-async-scheduling",
        "--kv-cache-memory",
        "--kv-cache-memory-bytes",
        "--num-scheduler-steps",
        "--multi-step-stream-outputs",
        "--enable-expert-parallel",
        "--no-enable-expert-parallel",
        "--speculative-config",
        "--dtype",
        "--device",
    ];
    if MODELLED.contains(&flag) {
        Some(Treatment::Modelled)
    } else if NEUTRAL_SWITCHES.contains(&flag) || NEUTRAL_WITH_VALUE.contains(&flag) {
        Some(Treatment::Neutral)
    } else {
        UNMODELLED
            .iter()
            .find(|(f, _)| *f == flag)
            .map(|(_, why)| Treatment::Unmodelled(why))
    }
}

/// Splits a command line into words as a POSIX shell would for the common cases: single and
/// double quotes group words (so `--speculative-config '{"method": "ngram"}'` stays one word),
/// a backslash before a newline continues the line.
pub fn shell_words(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(n) => {
                    cur.push(n);
                    in_word = true;
                }
                None => {}
            },
            '\'' | '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(ch) => cur.push(ch),
                        None => {
                            return Err(Error::invalid(
                                "vllm serve",
                                "arguments",
                                format!("unterminated {c} quote"),
                            ))
                        }
                    }
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// Parses one `vllm serve …` line (quoted as a shell would; `--flag=value` accepted).
pub fn parse_vllm_serve(line: &str) -> Result<ServeCommand> {
    parse_vllm_serve_args(&shell_words(line)?)
}

/// Parses the words of a server command: `vllm serve MODEL --flag value …`, or `python -m
/// vllm.entrypoints.openai.api_server --model MODEL …` (leading `python`/`python3`, `-m`, the
/// module, and environment assignments such as `VLLM_USE_V1=1` are skipped).
///
/// Every flag is modelled (it sets [`EngineFlags`]), accepted as performance-neutral (listed
/// in [`ServeCommand::ignored`]), or refused: a flag that changes performance in a way
/// servecast does not model is refused saying why; a flag vLLM does not have is refused in
/// vLLM's argparse words.
pub fn parse_vllm_serve_args<S: AsRef<str>>(args: &[S]) -> Result<ServeCommand> {
    let mut words: Vec<&str> = Vec::new();
    for w in args.iter().map(AsRef::as_ref) {
        match w.split_once('=') {
            Some((k, v)) if k.starts_with('-') => {
                words.push(k);
                words.push(v);
            }
            _ => words.push(w),
        }
    }
    // Leading environment assignments, `python -m module`, `vllm serve`.
    let mut start = 0;
    while start < words.len() {
        let w = words[start];
        let is_env = w.contains('=') && !w.starts_with('-');
        let is_launcher = matches!(w, "python" | "python3" | "-m" | "vllm" | "serve" | "uv" | "run")
            || w.starts_with("vllm.entrypoints")
            || w.ends_with("/vllm")
            || w.ends_with("/python")
            || w.ends_with("/python3");
        if is_env || is_launcher {
            start += 1;
        } else {
            break;
        }
    }
    let mut it = words[start..].iter().copied().peekable();
    let mut model = None;
    let mut flags = EngineFlags::default();
    let mut ignored = Vec::new();
    let mut data_parallel_size = None;
    while let Some(w) = it.next() {
        if !w.starts_with('-') {
            if model.is_none() {
                model = Some(w.to_string());
                continue;
            }
            return Err(Error::invalid(
                "vllm serve",
                "arguments",
                format!(
                    "unexpected argument '{w}' (the model is already '{}')",
                    model.unwrap_or_default()
                ),
            ));
        }
        let Some(t) = treatment(w) else {
            return Err(super::engine::unrecognized_argument(w));
        };
        match t {
            // Pipeline parallelism of 1 is vLLM's default: nothing to model.
            Treatment::Unmodelled(_)
                if matches!(w, "--pipeline-parallel-size" | "-pp") && it.peek().is_some_and(|v| v.trim() == "1") =>
            {
                let v = value(w, &mut it)?;
                ignored.push(format!("{w} {v}"));
            }
            Treatment::Unmodelled(why) => {
                return Err(Error::invalid(
                    "vllm serve",
                    w,
                    format!("changes performance in a way servecast does not model: {why}"),
                ));
            }
            Treatment::Neutral => {
                if NEUTRAL_WITH_VALUE.contains(&w) {
                    let v = value(w, &mut it)?;
                    ignored.push(format!("{w} {v}"));
                } else {
                    ignored.push(w.to_string());
                }
            }
            Treatment::Modelled => match w {
                "--model" => model = Some(value(w, &mut it)?.to_string()),
                "--gpu-memory-utilization" => flags.gpu_memory_utilization = Some(number(w, value(w, &mut it)?)?),
                "--max-num-seqs" => flags.max_num_seqs = Some(number(w, value(w, &mut it)?)?),
                "--max-model-len" => flags.max_model_len = Some(parse_model_len(value(w, &mut it)?)?),
                "--max-num-batched-tokens" => flags.max_num_batched_tokens = Some(number(w, value(w, &mut it)?)?),
                "--block-size" => flags.block_size = Some(number(w, value(w, &mut it)?)?),
                "--scheduler-delay-factor" => flags.scheduler_delay_factor = Some(number(w, value(w, &mut it)?)?),
                "--quantization" | "-q" => {
                    flags.quantization = Some(super::engine::Quantization::parse(value(w, &mut it)?, w)?)
                }
                "--kv-cache-dtype" => {
                    flags.kv_cache_dtype = Some(super::engine::KvCacheDtype::parse(value(w, &mut it)?, w)?)
                }
                "--tensor-parallel-size" | "-tp" => flags.tensor_parallel_size = Some(number(w, value(w, &mut it)?)?),
                "--data-parallel-size" | "-dp" => data_parallel_size = Some(number(w, value(w, &mut it)?)?),
                "--enable-chunked-prefill" => flags.enable_chunked_prefill = Some(optional_bool(w, &mut it)?),
                "--no-enable-chunked-prefill" => flags.enable_chunked_prefill = Some(!optional_bool(w, &mut it)?),
                "--enable-prefix-caching" => flags.enable_prefix_caching = Some(optional_bool(w, &mut it)?),
                "--no-enable-prefix-caching" => flags.enable_prefix_caching = Some(!optional_bool(w, &mut it)?),
                "--async-scheduling" => flags.async_scheduling = Some(optional_bool(w, &mut it)?),
                "--no-async-scheduling" => flags.async_scheduling = Some(!optional_bool(w, &mut it)?),
                "--enable-expert-parallel" => flags.enable_expert_parallel = Some(optional_bool(w, &mut it)?),
                "--no-enable-expert-parallel" => flags.enable_expert_parallel = Some(!optional_bool(w, &mut it)?),
                "--kv-cache-memory" | "--kv-cache-memory-bytes" => {
                    flags.kv_cache_memory_bytes = Some(super::engine::parse_human_bytes(value(w, &mut it)?, w)?)
                }
                "--num-scheduler-steps" => flags.num_scheduler_steps = Some(number(w, value(w, &mut it)?)?),
                "--multi-step-stream-outputs" => flags.multi_step_stream_outputs = Some(optional_bool(w, &mut it)?),
                "--speculative-config" => {
                    flags.speculative_config =
                        Some(super::speculative::SpeculativeConfig::parse(value(w, &mut it)?, w)?)
                }
                "--dtype" => {
                    flags.dtype = Some(super::engine::DtypeFlag::parse(value(w, &mut it)?, w)?);
                    if flags.dtype == Some(super::engine::DtypeFlag::Float32) {
                        return Err(Error::invalid(
                            "vllm serve",
                            w,
                            "'float32': servecast models 16-bit weights and activations (auto, bfloat16, float16, \
                             half); quantized weights are set with --quantization",
                        ));
                    }
                }
                // vLLM 0.4–0.10's device type: the GPU is servecast's --gpu.
                "--device" => {
                    let v = value(w, &mut it)?;
                    if !matches!(v.to_ascii_lowercase().as_str(), "auto" | "cuda") {
                        return Err(Error::invalid(
                            "vllm serve",
                            w,
                            format!("'{v}': servecast models GPU engines (auto, cuda)"),
                        ));
                    }
                    ignored.push(format!("{w} {v}"));
                }
                other => ignored.push(other.to_string()),
            },
        }
    }
    let model = model.ok_or_else(|| Error::invalid("vllm serve", "model", "no model given"))?;
    Ok(ServeCommand {
        model,
        flags,
        data_parallel_size,
        ignored,
    })
}

/// `--max-model-len` as vLLM reads it: a number, with `k`/`K` (×1000 / ×1024) and `m`/`M`
/// suffixes from 0.11.
fn parse_model_len(text: &str) -> Result<u32> {
    let (digits, scale) = match text.chars().last() {
        Some('k') => (&text[..text.len() - 1], 1_000.0),
        Some('K') => (&text[..text.len() - 1], 1_024.0),
        Some('m') => (&text[..text.len() - 1], 1_000_000.0),
        Some('M') => (&text[..text.len() - 1], 1_048_576.0),
        _ => (text, 1.0),
    };
    let v: f64 = number("--max-model-len", digits)?;
    let tokens = v * scale;
    if !(tokens >= 1.0 && tokens <= f64::from(u32::MAX)) {
        return Err(Error::invalid(
            "vllm serve",
            "--max-model-len",
            format!("'{text}' must be between 1 and {} tokens", u32::MAX),
        ));
    }
    Ok(tokens.round() as u32)
}

/// Resolves a command's model argument against the catalog: the whole string, then its last path part.
pub fn resolve_model<'c>(catalog: &'c super::Catalog, model_arg: &str) -> Result<&'c super::ModelSpec> {
    match catalog.model(model_arg) {
        Ok(m) => Ok(m),
        Err(first) => {
            let base = model_arg.trim_end_matches('/').rsplit('/').next().unwrap_or(model_arg);
            catalog.model(base).map_err(|_| first)
        }
    }
}

/// Checks a `vllm serve` line on a GPU as the engine would at start-up: the resolved configuration
/// and its memory plan, or the engine's error.
pub fn check_serve_command(
    line: &str,
    gpu_name: &str,
    version: super::engine::EngineVersion,
) -> Result<(super::engine::EngineConfig, crate::memory::MemoryPlan)> {
    let catalog = super::Catalog::builtin()?;
    let cmd = parse_vllm_serve(line)?;
    let gpu = catalog.gpu(gpu_name)?;
    let model = resolve_model(catalog, &cmd.model)?;
    let cfg = cmd.flags.resolve(version, model, gpu, "vllm serve")?;
    let plan = crate::memory::plan_memory(
        model,
        gpu,
        &cfg,
        &crate::memory::MemoryCalibration::default(),
        "estimated from first principles",
    )?;
    Ok((cfg, plan))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_seed_004_line() {
        let c = parse_vllm_serve(
            "vllm serve llm/qwen/Qwen2-0.5B-Instruct --max-num-seqs 3563 --max-num-batched-tokens 7472 --block-size 32 \
             --scheduler-delay-factor 1.6759809854478747 --enable-chunked-prefill --enable-prefix-caching \
             --disable-custom-all-reduce --use-v2-block-manager",
        )
        .unwrap();
        assert_eq!(c.model, "llm/qwen/Qwen2-0.5B-Instruct");
        assert_eq!(c.flags.max_num_seqs, Some(3563));
        assert_eq!(c.flags.max_num_batched_tokens, Some(7472));
        assert_eq!(c.flags.block_size, Some(32));
        assert_eq!(c.flags.enable_chunked_prefill, Some(true));
        assert_eq!(c.flags.enable_prefix_caching, Some(true));
        assert_eq!(c.flags.scheduler_delay_factor, Some(1.6759809854478747));
        let fp8 = parse_vllm_serve("vllm serve Qwen/Qwen2.5-7B-Instruct --kv-cache-dtype=fp8_e5m2").unwrap();
        assert_eq!(
            fp8.flags.kv_cache_dtype,
            Some(super::super::engine::KvCacheDtype::Fp8E5m2)
        );
        assert!(parse_vllm_serve("vllm serve m --kv-cache-dtype int3").is_err());
        let awq = parse_vllm_serve("vllm serve Qwen/Qwen2.5-7B-Instruct-AWQ -q awq_marlin").unwrap();
        assert_eq!(
            awq.flags.quantization,
            Some(super::super::engine::Quantization::AwqMarlin)
        );
        assert_eq!(c.ignored, ["--disable-custom-all-reduce", "--use-v2-block-manager"]);
        let api = parse_vllm_serve(
            "VLLM_USE_V1=1 python -m vllm.entrypoints.openai.api_server --model meta-llama/Llama-3.1-8B-Instruct \\\n  --dtype bfloat16 --port 8000 --enable-chunked-prefill False --speculative-config '{\"method\": \"ngram\", \"num_speculative_tokens\": 3, \"prompt_lookup_max\": 4, \"acceptance_rate\": 0.5}' -dp 2",
        )
        .unwrap();
        assert_eq!(api.model, "meta-llama/Llama-3.1-8B-Instruct");
        assert_eq!(api.flags.enable_chunked_prefill, Some(false));
        assert_eq!(api.data_parallel_size, Some(2));
        assert!(api.flags.speculative_config.is_some());
        assert_eq!(api.flags.dtype, Some(super::super::engine::DtypeFlag::Bfloat16));
        assert_eq!(api.ignored, ["--port 8000"]);
    }

    #[test]
    fn pr_8804s_multi_step_line_parses_with_its_default_and_deprecated_flags() {
        // vLLM PR #8804's server command (0.6.2): pipeline parallelism 1 is the default and
        // --worker-use-ray picks the Ray executor; neither changes what servecast simulates.
        let c = parse_vllm_serve(
            "python -m vllm.entrypoints.openai.api_server --model meta-llama/Meta-Llama-3-8B --swap-space 16 \\\n --disable-log-requests --use-v2-block-manager --tensor-parallel-size 1 --pipeline-parallel-size 1 \\\n --gpu-memory-utilization 0.90 --num-scheduler-steps 8 --port 9000 --worker-use-ray",
        )
        .unwrap();
        assert_eq!(c.flags.num_scheduler_steps, Some(8));
        assert_eq!(c.flags.multi_step_stream_outputs, None);
        assert_eq!(c.flags.gpu_memory_utilization, Some(0.9));
        // 0.6.3's StoreBoolean takes an optional value; 0.6.2's store_true none.
        let streamed = |line: &str| parse_vllm_serve(line).unwrap().flags.multi_step_stream_outputs;
        assert_eq!(
            streamed("vllm serve m --num-scheduler-steps 8 --multi-step-stream-outputs"),
            Some(true)
        );
        assert_eq!(
            streamed("vllm serve m --multi-step-stream-outputs False --port 1"),
            Some(false)
        );
        assert!(
            c.ignored.contains(&"--pipeline-parallel-size 1".to_string()),
            "{:?}",
            c.ignored
        );
        assert!(c.ignored.contains(&"--worker-use-ray".to_string()), "{:?}", c.ignored);
        let e = parse_vllm_serve("vllm serve m -pp 2").unwrap_err().to_string();
        assert!(e.contains("-pp") && e.contains("pipeline parallelism"), "{e}");
    }

    #[test]
    fn unknown_and_unmodelled_flags_are_refused_by_name() {
        let e = parse_vllm_serve("vllm serve m --max-num-seqz 8")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unrecognized arguments: --max-num-seqz"), "{e}");
        let e = parse_vllm_serve("vllm serve m --enforce-eager")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--enforce-eager") && e.contains("CUDA graphs"), "{e}");
        let e = parse_vllm_serve("vllm serve m --dtype float32")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--dtype") && e.contains("float32"), "{e}");
        assert_eq!(
            parse_vllm_serve("vllm serve m --max-model-len 32k")
                .unwrap()
                .flags
                .max_model_len,
            Some(32_000)
        );
        assert_eq!(
            parse_vllm_serve("vllm serve m --max-model-len=4K")
                .unwrap()
                .flags
                .max_model_len,
            Some(4096)
        );
    }

    #[test]
    fn bad_number_names_the_flag() {
        let e = parse_vllm_serve("vllm serve m --max-num-seqs lots")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--max-num-seqs") && e.contains("lots"), "{e}");
    }
}
