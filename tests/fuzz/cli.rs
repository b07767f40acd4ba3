//! Targets of the command-line parsers: a pasted `vllm serve` line (`shell_words` and the flag
//! table), servecast's own arguments (clap, the same `args.rs` the binary compiles, then the
//! library's `app` layer), the small value parsers behind them, and a few runs of the binary.

#[allow(dead_code)]
#[path = "../../src/bin/servecast/args.rs"]
mod args;

use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use clap::{CommandFactory, Parser};
use proptest::prelude::*;

use servecast::app::{self, simulate::SimulateOptions, DeploymentOptions};
use servecast::engine::cluster::Router;
use servecast::plan::{LoadKind, Slo};
use servecast::report::Format;
use servecast::spec::cmdline::{parse_vllm_serve, parse_vllm_serve_args, shell_words};
use servecast::spec::engine::{parse_human_bytes, EngineVersion, KvCacheDtype, Quantization};
use servecast::spec::speculative::SpeculativeConfig;
use servecast::sweep::{Axis, RankMetric};
use servecast::workload::lengths::LengthDist;

use super::check::{figures_ok, json_figures_ok, preview, prints_nan, simulate_if_small, small_enough};
use super::mutate::{extreme_strings, EXTREMES};
use crate::{note_input, Ctx, Target};

/// The command-line targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "vllm_serve",
            multiplier: 16.0,
            run: vllm_serve,
        },
        Target {
            name: "cli_args",
            multiplier: 8.0,
            run: cli_args,
        },
        Target {
            name: "value_parsers",
            multiplier: 128.0,
            run: value_parsers,
        },
        Target {
            name: "cli_binary",
            multiplier: 1.0 / 16.0,
            run: cli_binary,
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Values

const GPUS: &[&str] = &[
    "4090", "RTX 4090", "a100-80g", "h100-sxm", "a10", "l40s", "t4", "mi300x", "b200", "nope",
];
const MODELS: &[&str] = &[
    "qwen2.5-0.5b-instruct",
    "Qwen/Qwen2.5-0.5B-Instruct",
    "llama-3.1-8b",
    "meta-llama/Llama-3.1-8B-Instruct",
    "/models/Qwen2.5-7B-Instruct",
    "indextts2-gpt",
    "voxcpm-1.5",
    "deepseek-r1",
    "qwen3-30b-a3b",
    "data/hf-configs/Qwen--Qwen3-0.6B.json",
    "./missing.json",
    "unknown-model",
];
const ENGINES: &[&str] = &[
    "vllm-0.10",
    "vllm-0.6",
    "vllm-0.6.0",
    "vllm-0.5",
    "nano-vllm",
    "0.11.2",
    "v0",
    "v1",
    "vllm-9.9",
    "0.8.abc",
];
const LENGTHS: &[&str] = &[
    "512",
    "100..900",
    "100..=900",
    "normal:800,200",
    "normal:800,200,400..1200",
    "lognormal:500,0.8",
    "lognormal:500,0.8,1..4096",
    "empirical:1,2,3",
    "matched:423,1157,732.9,637,1155,1157",
    "fixed:7",
    "uniform:5..1",
    "normal:-5,1",
    "lognormal:1e308,1e308",
    "matched:1,1,1,1,1,1",
    "empirical:",
    "0",
];
const SPECULATIVE: &[&str] = &[
    r#"{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}"#,
    r#"{"method": "ngram", "num_speculative_tokens": 2, "acceptance_rate": 0.7}"#,
    r#"{"method": "ngram", "num_speculative_tokens": 16, "acceptance_rate": 1e-300}"#,
    r#"{"method": "eagle", "num_speculative_tokens": 0}"#,
    r#"{"method": "mtp", "num_speculative_tokens": 4294967295, "acceptance_rate": NaN}"#,
    r#"{"method": "eagle3", "num_speculative_tokens": 2, "per_position_acceptance": [1.5, -1]}"#,
    r#"{"model": "yuhuili/EAGLE-LLaMA3.1-Instruct-8B", "num_speculative_tokens": 5}"#,
    "{",
];
const BYTES: &[&str] = &[
    "20G",
    "21.5g",
    "1e30",
    "-5G",
    "0",
    "1K",
    "1.5G",
    "999999999999999999999",
    "7t",
    "NaNg",
];
const SLOS: &[&str] = &[
    "ttft_p95_ms=500,tpot_p95_ms=50",
    "e2e_p99_ms=20000,goodput_pct=90",
    "ttfb_mean_ms=-1",
    "itl_p50_ms=NaN",
    "goodput_pct=1e308",
    "ttft_p95_ms=inf",
    "x=1",
    "",
];
const AXES: &[&str] = &[
    "seqs=8,16,32",
    "util=0.5..0.9:0.1",
    "max_num_batched_tokens=512..8192",
    "enable_chunked_prefill=true,false",
    "gpu=4090,a10",
    "util=0..1:1e-300",
    "seqs=-1",
    "qps=inf,1",
    "concurrency=0",
    "tp=1..1e308:1",
    "replicas=1,64,65",
    "block_size=1e-300..1",
];

/// One value of `pool`, or an extreme number, or an extreme string.
fn value_of(pool: &[&str], k: usize) -> String {
    match k % 8 {
        0 => EXTREMES[(k / 8) % EXTREMES.len()].to_string(),
        1 => {
            let s = extreme_strings();
            let v = &s[(k / 8) % s.len()];
            // The 100,000-character string stays out of argument lists (it only slows clap).
            v.chars().take(300).collect()
        }
        _ => pool[(k / 8) % pool.len()].to_string(),
    }
}

/// A comma list of numbers: small ones mostly, extremes sometimes.
fn number_list(k: usize) -> String {
    let n = 1 + k % 3;
    (0..n)
        .map(|i| {
            let j = k / 3 + i * 7;
            if j.is_multiple_of(4) {
                EXTREMES[(j / 4) % EXTREMES.len()].to_string()
            } else {
                ["1", "2", "4", "inf", "0.5", "3"][j % 6].to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A value for flag `name` (a long flag name without dashes).
fn flag_value(name: &str, k: usize) -> String {
    match name {
        "gpu" | "gpus" => value_of(GPUS, k),
        "model" => value_of(MODELS, k),
        "engine" => value_of(ENGINES, k),
        "format" => value_of(&["table", "json", "csv", "markdown", "md", "yaml"], k),
        "router" => value_of(&["round-robin", "least-outstanding", "random", "fastest"], k),
        "input-len" | "output-len" => value_of(LENGTHS, k),
        "speculative-config" => value_of(SPECULATIVE, k),
        "kv-cache-memory" => value_of(BYTES, k),
        "kv-cache-dtype" => value_of(&["auto", "fp8", "fp8_e4m3", "fp8_e5m2", "int4"], k),
        "quantization" => value_of(
            &[
                "none",
                "fp8",
                "awq",
                "awq_marlin",
                "gptq",
                "gptq_marlin",
                "gptq_int8",
                "bnb",
            ],
            k,
        ),
        "profile" => value_of(
            &[
                "roofline",
                "roofline-vllm-0.6",
                "roofline:nano-vllm",
                "data/profiles/a10-qwen2.5-7b-vllm0.6.yaml",
                "l40s.qwen2-0.5b-instruct.vllm-0.6",
                "rtx-4090.indextts2-gpt.vllm-0.10",
                "roofline-vllm-7",
                "missing.yaml",
            ],
            k,
        ),
        "workload" => value_of(
            &[
                "tests/data/import/traces/azure-style-sample.csv",
                "tests/data/import/sglang/v0.3-short.jsonl",
                "tests/data/import/llmperf/meta-llama-Llama-3-1-8B-Instruct_128_64_summary.json",
                "tests/data/synthetic-vllm-bench-llama3.1-8b-a100-c4.json",
                "data/measured/a10-qwen2.5-7b-vllm0.6.yaml",
                "/nonexistent.yaml",
            ],
            k,
        ),
        "slo" => value_of(SLOS, k),
        "load" => value_of(&["qps", "concurrency", "users", "rate", "tokens"], k),
        "axis" => value_of(AXES, k),
        "rank-by" => value_of(
            &[
                "request_throughput_req_s",
                "ttft_ms_p95",
                "usd_per_million_output_tokens",
                "x_realtime",
                "nothing",
            ],
            k,
        ),
        "concurrency" | "qps" | "hold-out" | "tp-options" | "util-options" | "seqs-options" | "formats" => {
            number_list(k)
        }
        "what" => value_of(&["gpus", "models", "reports", "profiles", "measured", "everything"], k),
        _ => match k % 3 {
            0 => EXTREMES[(k / 3) % EXTREMES.len()].to_string(),
            _ => ["1", "2", "8", "16", "0.5", "0.9", "64", "4096"][(k / 3) % 8].to_string(),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// vllm serve

/// The flags the parser knows, as its source lists them (so new flags are fuzzed as they come).
fn serve_flags() -> &'static [String] {
    static F: OnceLock<Vec<String>> = OnceLock::new();
    F.get_or_init(|| {
        let src = include_str!("../../src/spec/cmdline.rs");
        let mut flags: Vec<String> = src
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| s.starts_with('-') && s.len() > 1 && !s.contains(' ') && !s.contains('{'))
            .map(str::to_string)
            .collect();
        flags.sort();
        flags.dedup();
        flags.push("--not-a-vllm-flag".into());
        flags.push("-x".into());
        flags
    })
}

fn serve_value(flag: &str, k: usize) -> String {
    let name = flag.trim_start_matches('-');
    match name {
        "model" => value_of(MODELS, k),
        "speculative-config" => value_of(SPECULATIVE, k),
        "kv-cache-memory" | "kv-cache-memory-bytes" => value_of(BYTES, k),
        "max-model-len" => value_of(
            &[
                "4096",
                "32k",
                "32K",
                "1M",
                "1m",
                "0k",
                "1e308k",
                "-1",
                "k",
                "4294967295",
            ],
            k,
        ),
        "quantization" | "q" => value_of(&["awq", "fp8", "gptq_marlin", "bnb"], k),
        "kv-cache-dtype" => value_of(&["auto", "fp8", "fp8_e5m2"], k),
        "dtype" => value_of(&["auto", "bfloat16", "half", "float32"], k),
        n if n.starts_with("enable") || n.starts_with("no-") || n.contains("async") => {
            value_of(&["true", "false", "1", "0", "yes", "maybe"], k)
        }
        _ => flag_value(name, k),
    }
}

/// A `vllm serve` line: a launcher, a model, flags with values in every quoting style.
#[derive(Debug, Clone)]
struct ServeLine {
    launcher: usize,
    model: usize,
    flags: Vec<(usize, usize, u8)>,
    garbage: Option<String>,
}

fn serve_line() -> impl Strategy<Value = ServeLine> {
    (
        any::<usize>(),
        any::<usize>(),
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 0..8),
        prop::option::weighted(0.1, "\\PC{0,40}"),
    )
        .prop_map(|(launcher, model, flags, garbage)| ServeLine {
            launcher,
            model,
            flags,
            garbage,
        })
}

impl ServeLine {
    fn render(&self) -> String {
        let launcher = [
            "vllm serve",
            "python -m vllm.entrypoints.openai.api_server --model",
            "VLLM_USE_V1=1 vllm serve",
            "uv run vllm serve",
            "/usr/bin/python3 -m vllm.entrypoints.openai.api_server --model",
            "",
            "vllm serve serve",
        ][self.launcher % 7];
        let mut line = format!("{launcher} {}", value_of(MODELS, self.model));
        let flags = serve_flags();
        for (f, v, style) in &self.flags {
            let flag = &flags[f % flags.len()];
            let value = serve_value(flag, *v);
            let part = match style % 8 {
                0 => format!(" {flag}={value}"),
                1 => format!(" {flag} '{value}'"),
                2 => format!(" {flag} \"{}\"", value.replace('"', "\\\"")),
                3 => format!(" \\\n  {flag} {value}"),
                4 => format!(" {flag}"),
                _ => {
                    if value.contains(['"', '\'', ' ']) || value.is_empty() {
                        format!(" {flag} '{value}'")
                    } else {
                        format!(" {flag} {value}")
                    }
                }
            };
            line.push_str(&part);
        }
        if let Some(g) = &self.garbage {
            line.push(' ');
            line.push_str(g);
        }
        line
    }
}

fn vllm_serve(ctx: &Ctx) -> Result<(), String> {
    let strategy = prop_oneof![
        8 => (serve_line(), any::<usize>()).prop_map(|(l, k)| (l.render(), k)),
        1 => ("\\PC{0,200}", any::<usize>()),
        1 => ("[ '\"\\\\a-z=\\n-]{0,60}", any::<usize>()),
    ];
    ctx.run(strategy, |(line, k)| {
        note_input(line);
        let words = shell_words(line);
        let parsed = parse_vllm_serve(line);
        if let Ok(words) = &words {
            // Word by word (as `--` hands them to servecast) must agree with the line.
            let by_words = parse_vllm_serve_args(words);
            if by_words.is_ok() != parsed.is_ok() {
                return Err(format!(
                    "the line and its words disagree: {:?} vs {:?}",
                    parsed.as_ref().map(|_| ()),
                    by_words.as_ref().map(|_| ())
                ));
            }
        }
        let (Ok(_), Ok(words)) = (parsed, words) else {
            return Ok(());
        };
        ctx.loaded();
        let d = DeploymentOptions {
            gpu: ["4090", "h100-sxm", "a10", "b200"][k % 4].into(),
            serve: words,
            concurrency: Some(vec![1, 2]),
            requests_per_user: Some(3),
            input_len: Some(["128", "16..64"][(k / 4) % 2].into()),
            output_len: Some(["16", "1"][(k / 8) % 2].into()),
            ..DeploymentOptions::default()
        };
        let mut notes = Vec::new();
        if let Ok(r) = app::resolve(&d, &mut notes) {
            if simulate_if_small("vllm serve", r.builder)? {
                ctx.simulated();
            }
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// servecast's arguments

/// A generated argument list: a subcommand, flags with values, sometimes a small load.
#[derive(Debug, Clone)]
struct Argv {
    sub: usize,
    flags: Vec<(usize, usize, u8)>,
    load: usize,
    serve: Option<ServeLine>,
    junk: Option<String>,
}

fn argv() -> impl Strategy<Value = Argv> {
    (
        any::<usize>(),
        prop::collection::vec((any::<usize>(), any::<usize>(), any::<u8>()), 0..7),
        any::<usize>(),
        prop::option::weighted(0.15, serve_line()),
        prop::option::weighted(0.05, "\\PC{0,30}"),
    )
        .prop_map(|(sub, flags, load, serve, junk)| Argv {
            sub,
            flags,
            load,
            serve,
            junk,
        })
}

/// Each subcommand's long flags and whether they take a value, from clap itself.
/// A subcommand's name and its long flags, each with whether it takes a value.
type Flags = (String, Vec<(String, bool)>);

fn subcommand_flags() -> &'static [Flags] {
    static F: OnceLock<Vec<Flags>> = OnceLock::new();
    F.get_or_init(|| {
        let cmd = args::Cli::command();
        cmd.get_subcommands()
            .map(|s| {
                let flags = s
                    .get_arguments()
                    .filter_map(|a| {
                        let long = a.get_long()?.to_string();
                        let takes = a.get_num_args().is_none_or(|n| n.takes_values());
                        let takes =
                            takes && !matches!(a.get_action(), clap::ArgAction::SetTrue | clap::ArgAction::SetFalse);
                        Some((long, takes))
                    })
                    .collect();
                (s.get_name().to_string(), flags)
            })
            .collect()
    })
}

/// Small loads that keep a simulation fast (most simulate cases carry one).
const LOADS: &[&[&str]] = &[
    &["--concurrency", "1,2", "--requests-per-user", "3"],
    &["--qps", "5,inf", "--num-requests", "20"],
    &["--qps", "2", "--num-requests", "10", "--max-concurrency", "2"],
    &[
        "--concurrency",
        "4",
        "--requests-per-user",
        "1",
        "--input-len",
        "16..64",
        "--output-len",
        "8",
    ],
    &["--workload", "tests/data/import/sglang/v0.3-short.jsonl"],
];

impl Argv {
    /// The arguments (without the program name); `restricted` keeps to fast, file-free commands.
    fn render(&self, restricted: bool) -> Vec<String> {
        let subs = subcommand_flags();
        // simulate most often; every other subcommand parsed too.
        let weights = [
            "simulate", "simulate", "simulate", "simulate", "simulate", "sweep", "plan", "fit", "list",
        ];
        let name = if restricted {
            ["simulate", "simulate", "simulate", "list"][self.sub % 4]
        } else if self.sub % 16 == 15 {
            subs[(self.sub / 16) % subs.len()].0.as_str()
        } else {
            weights[self.sub % weights.len()]
        };
        let mut out = vec![name.to_string()];
        let flags = subs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, f)| f.as_slice())
            .unwrap_or(&[]);
        if name == "list" {
            out.push(flag_value("what", self.load));
            return out;
        }
        if ["simulate", "sweep", "plan"].contains(&name) && self.flags.iter().all(|(f, _, _)| f % 5 != 0) {
            out.push("--gpu".into());
            out.push(["4090", "a10", "h100-sxm", "l40s"][self.load % 4].into());
        }
        if name == "fit" {
            out.push(
                [
                    "a10-qwen2.5-7b-vllm0.6",
                    "tests/data/synthetic-vllm-bench-llama3.1-8b-a100-c4.json",
                ][self.load % 2]
                    .into(),
            );
        }
        for (f, v, style) in &self.flags {
            if flags.is_empty() {
                break;
            }
            let (long, takes) = &flags[f % flags.len()];
            if restricted && (long.starts_with("plot") || long == "output" || long == "replications") {
                continue;
            }
            if !takes {
                out.push(format!("--{long}"));
                continue;
            }
            let value = flag_value(long, *v);
            if style % 4 == 0 {
                out.push(format!("--{long}={value}"));
            } else {
                out.push(format!("--{long}"));
                out.push(value);
            }
        }
        if name == "simulate" && (restricted || self.load % 10 < 7) {
            out.extend(LOADS[self.load % LOADS.len()].iter().map(|s| s.to_string()));
        }
        if name == "sweep" {
            out.push("--axis".into());
            out.push(flag_value("axis", self.load));
        }
        if name == "plan" {
            out.push("--slo".into());
            out.push(flag_value("slo", self.load));
        }
        if let Some(j) = &self.junk {
            out.push(j.clone());
        }
        if let Some(s) = &self.serve {
            if let Ok(words) = shell_words(&s.render()) {
                out.push("--".into());
                out.extend(words);
            }
        }
        out
    }
}

/// Runs `simulate` through the library when the load is small; checks what it prints.
fn run_simulate(ctx: &Ctx, d: &DeploymentOptions, o: &SimulateOptions) -> Result<(), String> {
    let mut notes = Vec::new();
    let Ok(r) = app::resolve(d, &mut notes) else {
        return Ok(());
    };
    let Ok(s) = r.builder.clone().build() else {
        return Ok(());
    };
    if !small_enough(&s) || o.replications > 3 || !r.more_replays.is_empty() {
        return Ok(());
    }
    if simulate_if_small("cli simulate", r.builder)? {
        ctx.simulated();
    }
    let o = SimulateOptions {
        plot: None,
        plot_memory: None,
        plot_ttft: None,
        ..o.clone()
    };
    if let Ok(outcome) = app::simulate::simulate(d, &o) {
        let names_nan = serde_json::to_string(d.serve.as_slice()).is_ok_and(|t| t.contains("NaN"))
            || format!("{d:?}").contains("NaN");
        output_ok(&outcome.text, o.format == Format::Json, names_nan)?;
    }
    Ok(())
}

/// What `simulate` printed: no NaN (unless a name given spells it), and in JSON every level
/// figure ≥ 0.
fn output_ok(text: &str, json: bool, names_nan: bool) -> Result<(), String> {
    if !names_nan && prints_nan(text) {
        return Err(format!("simulate printed NaN:\n{}", preview(text)));
    }
    if json {
        for doc in text
            .split("\n{")
            .enumerate()
            .map(|(i, d)| if i == 0 { d.to_string() } else { format!("{{{d}") })
        {
            let v: serde_json::Value = serde_json::from_str(&doc)
                .map_err(|e| format!("simulate's JSON does not parse: {e}\n{}", preview(&doc)))?;
            json_figures_ok("simulate --format json", &v["levels"], "levels")?;
            json_figures_ok("simulate --format json", &v["memory"], "memory")?;
        }
    }
    Ok(())
}

fn cli_args(ctx: &Ctx) -> Result<(), String> {
    let strategy = prop_oneof![
        12 => argv().prop_map(|a| a.render(false)),
        1 => prop::collection::vec("\\PC{0,20}", 0..6),
        1 => prop::collection::vec("--?[a-z-]{1,20}(=[0-9a-z.,-]{0,10})?", 0..6),
    ];
    ctx.run(strategy, |argv| {
        note_input(&argv.join(" "));
        let full = std::iter::once("servecast".to_string()).chain(argv.iter().cloned());
        let Ok(cli) = args::Cli::try_parse_from(full) else {
            return Ok(());
        };
        ctx.loaded();
        match cli.command {
            args::Command::Simulate(a) => {
                let d = a.deployment();
                if let Ok(o) = a.simulate_options() {
                    run_simulate(ctx, &d, &o)?;
                }
            }
            args::Command::Sweep(a) => {
                let _ = a.command();
                for axis in &a.axes {
                    let _ = Axis::parse(axis, "--axis");
                }
                let _ = RankMetric::parse(&a.rank_by, "--rank-by");
                let mut notes = Vec::new();
                let _ = app::resolve(&a.base.deployment(), &mut notes);
            }
            args::Command::Plan(a) => {
                let _ = a.command();
                let _ = Slo::parse(&a.slo, "--slo");
                let _ = LoadKind::parse(&a.load, "--load");
                let mut notes = Vec::new();
                let _ = app::resolve(&a.base.deployment(), &mut notes);
            }
            args::Command::Fit(a) => {
                let _ = a.command();
            }
            args::Command::SweepMerge(a) => {
                // Reads the named files: run it (a missing or foreign file is an error, not a panic).
                if let Ok(m) = a.command() {
                    let _ = app::sweep::merge(&m);
                }
            }
            args::Command::List { what } => {
                let _ = app::list(&what);
            }
            // Corpus-wide commands (minutes each): parsed only.
            args::Command::Validate { .. } | args::Command::Priors { .. } | args::Command::Plot { .. } => {}
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The small value parsers behind the flags

fn value_parsers(ctx: &Ctx) -> Result<(), String> {
    let pools: &[&[&str]] = &[LENGTHS, SPECULATIVE, BYTES, ENGINES, SLOS, AXES, GPUS];
    let strategy = prop_oneof![
        6 => (any::<usize>(), any::<usize>(), prop::collection::vec((any::<usize>(), any::<usize>()), 0..3)).prop_map(
            move |(p, k, edits)| {
                let mut s = value_of(pools[p % pools.len()], k);
                // Replace numbers inside by extremes.
                for (nth, e) in edits {
                    let spans: Vec<(usize, usize)> = s
                        .char_indices()
                        .filter(|(_, c)| c.is_ascii_digit())
                        .map(|(i, _)| (i, i + 1))
                        .collect();
                    if let Some(&(a, b)) = spans.get(nth % spans.len().max(1)) {
                        s.replace_range(a..b, EXTREMES[e % EXTREMES.len()]);
                    }
                }
                s
            }
        ),
        2 => "[a-z_]{0,10}[:=]?[-0-9.,e]{0,20}(\\.\\.=?[-0-9.e]{0,8})?(:[-0-9.e]{0,8})?",
        1 => "\\PC{0,60}",
    ];
    ctx.run(strategy, |text| {
        note_input(text);
        if let Ok(d) = LengthDist::parse(text, "--input-len") {
            ctx.loaded();
            if d.validate("--input-len", "input_len").is_err() {
                return Err(format!("LengthDist::parse gave {d:?}, which does not validate"));
            }
            figures_ok("length", &d)?;
            let m = d.mean();
            if !(m.is_finite() && m >= 0.0) {
                return Err(format!("{d:?} has mean {m}"));
            }
            let mut rng = servecast::workload::SimRng::new(1);
            let _ = d.sample_n(8, &mut rng);
        }
        if let Ok(c) = SpeculativeConfig::parse(text, "--speculative-config") {
            if let Ok(r) = c.resolve("--speculative-config", None) {
                figures_ok("speculative decoding", &r)?;
            }
        }
        let _ = parse_human_bytes(text, "--kv-cache-memory");
        let _ = EngineVersion::parse(text, "--engine");
        let _ = Router::parse(text, "--router");
        let _ = Format::parse(text);
        if let Ok(s) = Slo::parse(text, "--slo") {
            figures_ok("slo", &s)?;
        }
        let _ = LoadKind::parse(text, "--load");
        let _ = KvCacheDtype::parse(text, "--kv-cache-dtype");
        let _ = Quantization::parse(text, "--quantization");
        let _ = RankMetric::parse(text, "--rank-by");
        let _ = Axis::parse(text, "--axis");
        let _ = servecast::spec::engine::release_patch(text);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------------
// The binary itself

fn cli_binary(ctx: &Ctx) -> Result<(), String> {
    let bin = env!("CARGO_BIN_EXE_servecast");
    ctx.run(argv(), |a| {
        let argv = a.render(true);
        note_input(&argv.join(" "));
        if argv.iter().any(|a| a.contains('\0')) {
            // No process can be given a NUL byte in its arguments.
            return Ok(());
        }
        let mut child = Process::new(bin)
            .args(&argv)
            .current_dir(super::mutate::root())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        let t0 = Instant::now();
        // Read the pipes on threads so a large output cannot block the child.
        let mut out_pipe = child.stdout.take();
        let mut err_pipe = child.stderr.take();
        let out_t = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(p) = out_pipe.as_mut() {
                let _ = std::io::Read::read_to_string(p, &mut s);
            }
            s
        });
        let err_t = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(p) = err_pipe.as_mut() {
                let _ = std::io::Read::read_to_string(p, &mut s);
            }
            s
        });
        let status = loop {
            if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
                break Some(s);
            }
            if t0.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let stdout = out_t.join().unwrap_or_default();
        let stderr = err_t.join().unwrap_or_default();
        let Some(status) = status else {
            return Err(format!("servecast {} ran for more than 120 s", argv.join(" ")));
        };
        if stderr.contains("panicked") || !matches!(status.code(), Some(0..=2)) {
            return Err(format!(
                "servecast {} exited with {status:?}:\n{}",
                argv.join(" "),
                preview(&stderr)
            ));
        }
        if status.code() == Some(0) {
            ctx.loaded();
            if argv[0] == "simulate" {
                ctx.simulated();
                let json = argv.windows(2).any(|w| w[0] == "--format" && w[1] == "json")
                    || argv.iter().any(|a| a == "--format=json");
                output_ok(&stdout, json, argv.iter().any(|a| a.contains("NaN")))?;
            }
        }
        Ok(())
    })
}
