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
    /// Flags accepted by vLLM that servecast does not model (e.g. --swap-space).
    pub ignored: Vec<String>,
}

/// Flags that take a value but do not change what servecast simulates.
const IGNORED_WITH_VALUE: &[&str] = &[
    "--host",
    "--port",
    "--served-model-name",
    "--dtype",
    "--swap-space",
    "--seed",
    "--trust-remote-code-revision",
    "--tokenizer",
    "--api-key",
    "--num-scheduler-steps",
];

/// Switches that do not change what servecast simulates.
const IGNORED_SWITCHES: &[&str] = &[
    "--use-v2-block-manager",
    "--disable-custom-all-reduce",
    "--trust-remote-code",
    "--enforce-eager",
    "--disable-log-requests",
    "--disable-log-stats",
];

fn value<'a>(flag: &str, it: &mut impl Iterator<Item = &'a str>) -> Result<&'a str> {
    it.next()
        .ok_or_else(|| Error::invalid("vllm serve", flag, "expects a value"))
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T> {
    text.parse()
        .map_err(|_| Error::invalid("vllm serve", flag, format!("'{text}' is not a valid number")))
}

/// Parses one `vllm serve …` line (leading `vllm serve` optional; `--flag=value` accepted).
pub fn parse_vllm_serve(line: &str) -> Result<ServeCommand> {
    let mut words: Vec<&str> = Vec::new();
    for w in line.split_whitespace() {
        match w.split_once('=') {
            Some((k, v)) if k.starts_with("--") => {
                words.push(k);
                words.push(v);
            }
            _ => words.push(w),
        }
    }
    let mut it = words.into_iter().peekable();
    if it.peek() == Some(&"vllm") {
        it.next();
    }
    if it.peek() == Some(&"serve") {
        it.next();
    }
    let mut model = None;
    let mut flags = EngineFlags::default();
    let mut ignored = Vec::new();
    while let Some(w) = it.next() {
        match w {
            "--model" => model = Some(value(w, &mut it)?.to_string()),
            "--gpu-memory-utilization" => flags.gpu_memory_utilization = Some(number(w, value(w, &mut it)?)?),
            "--max-num-seqs" => flags.max_num_seqs = Some(number(w, value(w, &mut it)?)?),
            "--max-model-len" => flags.max_model_len = Some(number(w, value(w, &mut it)?)?),
            "--max-num-batched-tokens" => flags.max_num_batched_tokens = Some(number(w, value(w, &mut it)?)?),
            "--block-size" => flags.block_size = Some(number(w, value(w, &mut it)?)?),
            "--scheduler-delay-factor" => flags.scheduler_delay_factor = Some(number(w, value(w, &mut it)?)?),
            "--quantization" | "-q" => {
                flags.quantization = Some(super::engine::Quantization::parse(value(w, &mut it)?, "vllm serve")?)
            }
            "--kv-cache-dtype" => {
                flags.kv_cache_dtype = Some(super::engine::KvCacheDtype::parse(value(w, &mut it)?, "vllm serve")?)
            }
            "--tensor-parallel-size" | "-tp" => flags.tensor_parallel_size = Some(number(w, value(w, &mut it)?)?),
            "--enable-chunked-prefill" => flags.enable_chunked_prefill = Some(true),
            "--no-enable-chunked-prefill" => flags.enable_chunked_prefill = Some(false),
            "--enable-prefix-caching" => flags.enable_prefix_caching = Some(true),
            "--no-enable-prefix-caching" => flags.enable_prefix_caching = Some(false),
            w if IGNORED_SWITCHES.contains(&w) => ignored.push(w.to_string()),
            w if IGNORED_WITH_VALUE.contains(&w) => {
                let v = value(w, &mut it)?;
                ignored.push(format!("{w} {v}"));
            }
            w if w.starts_with("--") => {
                // Unknown flag: keep it, with its value if the next word is not a flag.
                match it.peek() {
                    Some(next) if !next.starts_with("--") => {
                        let v = it.next().unwrap_or_default();
                        ignored.push(format!("{w} {v}"));
                    }
                    _ => ignored.push(w.to_string()),
                }
            }
            positional if model.is_none() => model = Some(positional.to_string()),
            other => {
                return Err(Error::invalid(
                    "vllm serve",
                    "arguments",
                    format!("unexpected argument '{other}'"),
                ));
            }
        }
    }
    let model = model.ok_or_else(|| Error::invalid("vllm serve", "model", "no model given"))?;
    Ok(ServeCommand { model, flags, ignored })
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
    }

    #[test]
    fn bad_number_names_the_flag() {
        let e = parse_vllm_serve("vllm serve m --max-num-seqs lots")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--max-num-seqs") && e.contains("lots"), "{e}");
    }
}
