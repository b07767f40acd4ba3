//! The command-line arguments (clap) and their mapping onto the library's command structs.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use servecast::app::fit::FitCommand;
use servecast::app::plan::PlanCommand;
use servecast::app::simulate::SimulateOptions;
use servecast::app::sweep::{parse_shard, MergeCommand, SweepCommand};
use servecast::app::DeploymentOptions;
use servecast::error::{Error, Result};
use servecast::fit::FitOptions;
use servecast::report::Format;
use servecast::spec::engine::{DtypeFlag, EngineFlags, KvCacheDtype, Quantization};
use servecast::workload::arrivals::Endpoint;

#[derive(Parser, Debug)]
#[command(
    name = "servecast",
    version,
    about = "Predict how an LLM serving deployment behaves before renting the GPUs"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Simulate a deployment under load and print TTFT, TPOT, ITL, latency and throughput per level.
    Simulate(Box<SimulateArgs>),
    /// Fit a profile (step-cost overheads, memory terms) to a measured report.
    Fit(Box<FitArgs>),
    /// Fitted and cross-validated (leave one level out) error of every measured report.
    Validate {
        /// The measured corpus: the built-in seeds plus every file in DIR/corpus.
        #[arg(long, default_value = "data/measured")]
        corpus: PathBuf,
        /// Also write the tables as markdown here.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
        /// Also draw each class's cumulative error distribution (.png or .svg).
        #[arg(long)]
        plot: Option<PathBuf>,
        /// Also write the unseen-source class's signed-error bands here (YAML;
        /// data/calibration.yaml is the one servecast prints beside unfitted predictions).
        #[arg(long)]
        calibration: Option<PathBuf>,
    },
    /// Learn the prior (host-side terms per vLLM release line, roofline efficiencies per GPU
    /// architecture) from the measured corpus in one pooled fit.
    Priors {
        /// The measured corpus: the built-in seeds plus every file in DIR/corpus.
        #[arg(long, default_value = "data/measured")]
        corpus: PathBuf,
        /// Write the priors here (data/priors.yaml is the one servecast embeds); default: print.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Simulate many configurations (flags, GPUs, TP, replicas, load) in parallel and rank them.
    ///
    /// Each configuration runs isolated: one the engine would refuse, one servecast cannot
    /// simulate (an internal error, a bug to report) or one over --config-timeout becomes a row
    /// saying why, and the others run on. A configuration simulates at most 10,000,000 requests
    /// over all its levels; a sweep at most 1,000,000,000 over all its configurations.
    Sweep(Box<SweepArgs>),
    /// Combine the shards of one sweep (`sweep … --shard I/N -o shard-I.jsonl`, run anywhere:
    /// a Kubernetes Indexed Job, a Slurm array, Ray) into the ranked table one run would print.
    SweepMerge(Box<MergeArgs>),
    /// Capacity planning: the most load within an SLO, the knee, or the cheapest GPUs for a rate.
    Plan(Box<PlanArgs>),
    /// Draw charts: `measured` writes predicted vs measured for every measured report.
    Plot {
        /// What to draw: measured.
        what: String,
        /// Output directory.
        #[arg(short = 'o', long, default_value = "docs/img")]
        output: PathBuf,
        /// Replications per setup for the 90% band (seeds and the fit's parameter covariance).
        #[arg(long, default_value_t = 8)]
        replications: u32,
        /// Image formats: png, svg.
        #[arg(long, value_delimiter = ',', default_value = "png,svg")]
        formats: Vec<String>,
    },
    /// List the built-in GPUs, models, measured reports or profiles.
    List {
        /// What to list: gpus, models, reports, profiles.
        what: String,
    },
}

/// vLLM's engine flags, shared by the subcommands (vLLM's long names are aliases).
#[derive(Args, Debug)]
pub struct FlagArgs {
    /// Fraction of GPU memory the engine may use, (0, 1].
    #[arg(long = "util", visible_alias = "gpu-memory-utilization")]
    pub util: Option<f64>,
    /// Most sequences per step (vLLM --max-num-seqs).
    #[arg(long = "seqs", visible_alias = "max-num-seqs")]
    pub seqs: Option<u32>,
    /// Longest prompt + output, tokens.
    #[arg(long)]
    pub max_model_len: Option<u32>,
    /// Token budget per step.
    #[arg(long)]
    pub max_num_batched_tokens: Option<u32>,
    /// Tokens per KV block.
    #[arg(long)]
    pub block_size: Option<u32>,
    /// Enable chunked prefill.
    #[arg(long, overrides_with = "no_enable_chunked_prefill")]
    pub enable_chunked_prefill: bool,
    /// Disable chunked prefill.
    #[arg(long)]
    pub no_enable_chunked_prefill: bool,
    /// Enable prefix caching.
    #[arg(long, overrides_with = "no_enable_prefix_caching")]
    pub enable_prefix_caching: bool,
    /// Disable prefix caching.
    #[arg(long)]
    pub no_enable_prefix_caching: bool,
    /// GPUs per engine (tensor parallel).
    #[arg(long = "tp", visible_alias = "tensor-parallel-size")]
    pub tp: Option<u32>,
    /// vLLM V0: delay waiting prompts until the oldest waited this × the last prompt step's latency.
    #[arg(long)]
    pub scheduler_delay_factor: Option<f64>,
    /// KV cache element type: auto (the served dtype), fp8, fp8_e4m3, fp8_e5m2.
    #[arg(long, value_parser = parse_kv_cache_dtype)]
    pub kv_cache_dtype: Option<KvCacheDtype>,
    /// Weights' and activations' element type: auto (the checkpoint's; on a GPU without bfloat16,
    /// Volta or Turing, refused before vLLM 0.9 and float16 from 0.9), half / float16, bfloat16.
    #[arg(long, value_parser = parse_dtype)]
    pub dtype: Option<DtypeFlag>,
    /// Weight quantization of the linear layers: none, fp8, awq, awq_marlin, gptq, gptq_marlin,
    /// gptq_int8 (default: the checkpoint's own, else none).
    #[arg(long, value_parser = parse_quantization)]
    pub quantization: Option<Quantization>,
    /// vLLM V1: schedule step k+1 while step k runs (default on from vLLM 0.14).
    #[arg(long, overrides_with = "no_async_scheduling")]
    pub async_scheduling: bool,
    /// vLLM V1: schedule one step at a time.
    #[arg(long)]
    pub no_async_scheduling: bool,
    /// vLLM ≥ 0.11: the KV cache's size per GPU in bytes (20G = 20 GiB, 21.5g = 21.5e9);
    /// gpu_memory_utilization is then ignored.
    #[arg(long, value_parser = parse_kv_cache_memory)]
    pub kv_cache_memory: Option<u64>,
    /// vLLM V0 multi-step scheduling (0.5.5–0.10): decode steps per scheduling pass (host time once
    /// per pass, nothing admitted mid-pass, N − 1 lookahead slots); refused where the release
    /// refuses it (before 0.5.5, 0.11+; with chunked prefill on 0.6.0–0.6.2), in its words.
    #[arg(long)]
    pub num_scheduler_steps: Option<u32>,
    /// With multi-step: hand each step's tokens to the clients as it ends (true, 0.6.3+'s default)
    /// or a pass's tokens at its end (false, the default up to 0.6.2); 0.6.2–0.10 take the flag.
    #[arg(long)]
    pub multi_step_stream_outputs: Option<bool>,
    /// MoE models: spread whole experts over the tensor-parallel ranks.
    #[arg(long)]
    pub enable_expert_parallel: bool,
    /// vLLM V1 speculative decoding, JSON as vLLM takes it, plus servecast's acceptance:
    /// '{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}'
    /// (or "acceptance_rate": α); without either, the published acceptance of the method on the
    /// model and on chat prompts (or on "acceptance_dataset": "humaneval", "instructcoder", …) from
    /// data/speculative-acceptance.yaml.
    #[arg(long, value_parser = parse_speculative_config)]
    pub speculative_config: Option<servecast::spec::speculative::SpeculativeConfig>,
}

/// clap's parser for `--speculative-config`, in the library's words.
fn parse_speculative_config(
    text: &str,
) -> std::result::Result<servecast::spec::speculative::SpeculativeConfig, String> {
    servecast::spec::speculative::SpeculativeConfig::parse(text, "--speculative-config").map_err(|e| e.to_string())
}

/// clap's parser for `--kv-cache-memory`, in the library's words.
fn parse_kv_cache_memory(text: &str) -> std::result::Result<u64, String> {
    servecast::spec::engine::parse_human_bytes(text, "--kv-cache-memory").map_err(|e| e.to_string())
}

/// clap's parser for `--quantization`, in the library's words.
fn parse_quantization(text: &str) -> std::result::Result<Quantization, String> {
    Quantization::parse(text, "--quantization").map_err(|e| e.to_string())
}

/// clap's parser for `--dtype`, in the library's words.
fn parse_dtype(text: &str) -> std::result::Result<DtypeFlag, String> {
    DtypeFlag::parse(text, "--dtype").map_err(|e| e.to_string())
}

/// clap's parser for `--kv-cache-dtype`, in the library's words.
fn parse_kv_cache_dtype(text: &str) -> std::result::Result<KvCacheDtype, String> {
    KvCacheDtype::parse(text, "--kv-cache-dtype").map_err(|e| e.to_string())
}

impl FlagArgs {
    /// The flags as the library takes them (unset stays unset).
    pub fn to_flags(&self) -> EngineFlags {
        EngineFlags {
            gpu_memory_utilization: self.util,
            max_num_seqs: self.seqs,
            max_model_len: self.max_model_len,
            max_num_batched_tokens: self.max_num_batched_tokens,
            block_size: self.block_size,
            enable_chunked_prefill: bool_flag(self.enable_chunked_prefill, self.no_enable_chunked_prefill),
            enable_prefix_caching: bool_flag(self.enable_prefix_caching, self.no_enable_prefix_caching),
            tensor_parallel_size: self.tp,
            usage_context: None,
            scheduler_delay_factor: self.scheduler_delay_factor,
            kv_cache_dtype: self.kv_cache_dtype,
            quantization: self.quantization,
            async_scheduling: bool_flag(self.async_scheduling, self.no_async_scheduling),
            kv_cache_memory_bytes: self.kv_cache_memory,
            num_scheduler_steps: self.num_scheduler_steps,
            multi_step_stream_outputs: self.multi_step_stream_outputs,
            enable_expert_parallel: self.enable_expert_parallel.then_some(true),
            speculative_config: self.speculative_config.clone(),
            dtype: self.dtype,
        }
    }
}

#[derive(Args, Debug)]
pub struct SimulateArgs {
    /// GPU (catalog name, matched loosely: 4090, "RTX 4090", a100-80g; whole words only, so "GH200" is
    /// never taken for an H200; a GPU the catalog lacks: add it with SERVECAST_GPUS=file.yaml, in
    /// data/gpus.yaml's format).
    #[arg(long)]
    pub gpu: String,
    /// Model: catalog id or path to a Hugging Face config.json.
    #[arg(long)]
    pub model: Option<String>,
    /// Engine: a vLLM release, 0.4 to 0.31 (`0.11.2`, `vllm-0.25`), run with the rules it ships
    /// (its scheduler, memory budget and start-up lines, defaults, refusals and its release line's
    /// host costs); or vllm-0.10 (default), vllm-0.6, vllm-0.6.0 (0.6.0–0.6.1), vllm-0.5, nano-vllm.
    #[arg(long)]
    pub engine: Option<String>,
    #[command(flatten)]
    pub flags: FlagArgs,
    /// Engine replicas behind a router (data parallelism), each with --tp GPUs.
    #[arg(long, default_value_t = 1)]
    pub replicas: u32,
    /// Router across replicas: round-robin, least-outstanding, random.
    #[arg(long, default_value = "round-robin")]
    pub router: String,
    /// TTS models: the text length in characters (sets prompt and output tokens from the model's
    /// text and speech rates); requests longer than max_model_len fail as the server's would.
    #[arg(long)]
    pub text_chars: Option<u32>,
    /// Tokens in the first streamed chunk (TTS: TTFB is the time to this chunk); default 1.
    #[arg(long, default_value_t = 1)]
    pub first_chunk_tokens: u32,
    /// Closed-loop concurrency levels, e.g. 1,4,8,16.
    #[arg(long, value_delimiter = ',')]
    pub concurrency: Option<Vec<u32>>,
    /// Requests each closed-loop user sends.
    #[arg(long)]
    pub requests_per_user: Option<u32>,
    /// Open-loop Poisson request rates (req/s), e.g. 2,4,8.
    #[arg(long, value_delimiter = ',', visible_alias = "request-rate")]
    pub qps: Option<Vec<f64>>,
    /// Requests per open-loop level.
    #[arg(long, visible_alias = "num-prompts")]
    pub num_requests: Option<u32>,
    /// Most requests outstanding at once with --qps (vllm bench serve --max-concurrency); --qps inf sends as fast as allowed.
    #[arg(long)]
    pub max_concurrency: Option<u32>,
    /// Send the Poisson levels when vLLM's own client with this --seed sends them (benchmark_serving.py,
    /// vllm bench serve: numpy's legacy generator, draw for draw), instead of servecast's own draws.
    /// Exact when its dataset sampler drew nothing from numpy first (sharegpt, sonnet, a file; random from 0.11).
    #[arg(long)]
    pub client_seed: Option<u32>,
    /// With --client-seed: vLLM ≥ 0.10's client, whose arrivals are rescaled to end at exactly N ÷ rate.
    #[arg(long, requires = "client_seed")]
    pub client_normalized_span: bool,
    /// Prompt length: 512, 100..900, normal:800,200, lognormal:500,0.8, empirical:1,2,3.
    #[arg(long, visible_alias = "random-input-len")]
    pub input_len: Option<String>,
    /// Output length, same syntax as --input-len.
    #[arg(long, visible_alias = "random-output-len")]
    pub output_len: Option<String>,
    /// vLLM bench's random dataset: draw each prompt and output length around --input-len and
    /// --output-len (default 1024 and 128) as that release's client does: up to 0.8.3
    /// [len × R, len]; 0.8.4–0.10.1 [len × (1 − R), len × (1 + R)]; from 0.10.2 the same with the
    /// upper bound rounded up. The release is --engine's (none: the current client).
    #[arg(long)]
    pub random_range_ratio: Option<f64>,
    /// A load-test command as the team will run it, quoted: `--client "vllm bench serve
    /// --dataset-name random --random-input-len 2000 --num-prompts 500 --request-rate 8"` (or
    /// `python benchmarks/benchmark_serving.py …`, `python -m sglang.bench_serving …`, llmperf's
    /// `python token_benchmark_ray.py …`, `genai-perf profile …`, `aiperf profile …`, `guidellm
    /// benchmark …` or `guidellm run …`): its prompts and their lengths, requests, rate or concurrency and endpoint,
    /// each program's defaults for what it leaves out; --qps, --num-requests, --input-len, …
    /// given here win.
    #[arg(long)]
    pub client: Option<String>,
    /// Workload: a YAML file (load, input_len, output_len), a CSV / JSON Lines trace, a
    /// load-test result of any format servecast imports, or a measured report of data/measured's
    /// format (replayed, measured figures beside).
    #[arg(long)]
    pub workload: Option<PathBuf>,
    /// The levels ran in order against one long-lived server with the same prompts (one client
    /// seed, as `vllm bench serve --seed 0` at every level): with prefix caching on, each level
    /// from the second finds the prompts of the level before in the cache, as far as it kept them.
    #[arg(long)]
    pub warm_prefix_cache: bool,
    /// The endpoint requests go to: `completions` (prompts as sent) or `chat` (each prompt one
    /// user message in the model's chat template, whose tokens the server prefills too; as
    /// `vllm bench serve --backend openai-chat`). Default: the workload file's, else completions.
    #[arg(long, value_parser = ["completions", "chat"])]
    pub endpoint: Option<String>,
    /// Profile YAML file, built-in profile id, `roofline` (the learned prior), or `ideal` (a bound:
    /// every roofline efficiency at 100%, no host time, so no run of the setup can beat it).
    #[arg(long)]
    pub profile: Option<String>,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format: table, markdown, json, csv.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Replications over seeds (and the fitted parameters' covariance) for 90% prediction
    /// intervals; 1 = a single run.
    #[arg(long, default_value_t = 1)]
    pub replications: u32,
    /// Draw a chart here (.png or .svg): load curves for simulate, throughput–latency for sweep,
    /// the scanned load curve for plan.
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Draw the memory breakdown here (.png or .svg): simulate's configuration, or the best
    /// configurations of a sweep.
    #[arg(long)]
    pub plot_memory: Option<PathBuf>,
    /// Draw the TTFT distribution at the highest load level here (simulate only).
    #[arg(long)]
    pub plot_ttft: Option<PathBuf>,
    /// Write every request's record here as it finishes (simulate only): .jsonl / .ndjson (one
    /// JSON object per line) or .csv; times in simulated ns from the level's start.
    #[arg(long, value_name = "FILE")]
    pub per_request: Option<PathBuf>,
    /// A server command pasted after `--`: `-- vllm serve MODEL --max-num-seqs 64 …` (or `python -m
    /// vllm.entrypoints.openai.api_server --model MODEL …`); sets the model and engine flags.
    #[arg(last = true, value_name = "VLLM_SERVE_COMMAND")]
    pub serve: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The base deployment and workload, as for `simulate`.
    #[command(flatten)]
    pub base: SimulateArgs,
    /// A swept parameter: name=values, repeatable. Lists (seqs=8,16,32), stepped ranges
    /// (util=0.5..0.9:0.1), ranges for --samples (max_num_batched_tokens=512..8192), booleans
    /// (enable_chunked_prefill=true,false), names (gpu=4090,a10). Names: vLLM's flags, or gpu,
    /// util, seqs, tp, replicas, concurrency, qps.
    #[arg(long = "axis", required = true)]
    pub axes: Vec<String>,
    /// Draw this many distinct random configurations (1..=1,000,000) instead of the full grid; a
    /// space with fewer runs all of them (and says so).
    #[arg(long)]
    pub samples: Option<u32>,
    /// Seed of the random configurations.
    #[arg(long, default_value_t = 0)]
    pub sample_seed: u64,
    /// Rank by: request_throughput_req_s (default), output_throughput_tok_s, ttft_ms_mean,
    /// ttft_ms_p95, tpot_ms_mean, tpot_ms_p95, e2e_ms_mean, e2e_ms_p95, x_realtime,
    /// usd_per_million_output_tokens.
    #[arg(long, default_value = "request_throughput_req_s")]
    pub rank_by: String,
    /// Rows shown in the table.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Also write every row here: .csv, .jsonl (JSON Lines) or .json. Rows are written as each
    /// configuration finishes (completion order, each with its `config` index), so an interrupted
    /// sweep keeps the rows that finished; a .json array streams to NAME.partial.jsonl meanwhile
    /// (NAME.json stays empty until the end). When the sweep ends the file holds every row ranked
    /// as the table.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Stop a configuration that has run this many seconds, checked between its load levels (a
    /// level is at most 10,000,000 requests, as is a configuration): its unfinished levels become
    /// one failed row, "stopped after N s (--config-timeout)". 0: no limit.
    #[arg(long, default_value_t = 600.0, value_name = "SECONDS", allow_negative_numbers = true)]
    pub config_timeout: f64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run shard I of N (0 ≤ I < N): the configurations whose index is I modulo N, written to
    /// -o FILE.jsonl for `servecast sweep-merge` (e.g. --shard $JOB_COMPLETION_INDEX/8).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' .jsonl files, every shard of the sweep once.
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Rank by (as for sweep).
    #[arg(long, default_value = "request_throughput_req_s")]
    pub rank_by: String,
    /// Rows shown in the table.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Output format: table, markdown, json, csv.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Also write every row here, ranked: .csv, .jsonl or .json.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
}

impl MergeArgs {
    /// The merge as the library takes it.
    pub fn command(&self) -> Result<MergeCommand> {
        Ok(MergeCommand {
            shards: self.shards.clone(),
            rank_by: self.rank_by.clone(),
            top: self.top,
            format: Format::parse(&self.format)?,
            output: self.output.clone(),
        })
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The deployment and workload lengths, as for `simulate` (its load levels are replaced).
    #[command(flatten)]
    pub base: SimulateArgs,
    /// The SLO: ttft_p95_ms=500,tpot_p95_ms=50 (metrics ttft, tpot, itl, e2e, ttfb; statistics
    /// mean, p50, p95, p99; and goodput_pct=N: percent of requests within every bound).
    #[arg(long, required = true)]
    pub slo: String,
    /// Load to vary: qps (open-loop Poisson, default) or concurrency (closed-loop users).
    #[arg(long, default_value = "qps")]
    pub load: String,
    /// Find the cheapest deployment for this request rate (req/s) instead of the most load.
    #[arg(long)]
    pub target_qps: Option<f64>,
    /// GPU types for --target-qps (default: the --gpu one).
    #[arg(long, value_delimiter = ',')]
    pub gpus: Vec<String>,
    /// Tensor-parallel sizes for --target-qps.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub tp_options: Vec<u32>,
    /// gpu_memory_utilization values for --target-qps (default: the deployment's).
    #[arg(long, value_delimiter = ',')]
    pub util_options: Vec<f64>,
    /// max_num_seqs values for --target-qps (default: the deployment's).
    #[arg(long, value_delimiter = ',')]
    pub seqs_options: Vec<u32>,
    /// Most replicas per deployment for --target-qps.
    #[arg(long, default_value_t = 16)]
    pub max_replicas: u32,
    /// Simulated seconds of arrivals per evaluation (open loop).
    #[arg(long, default_value_t = servecast::plan::PlanOptions::default().duration_s)]
    pub duration_s: f64,
}

#[derive(Args, Debug)]
pub struct FitArgs {
    /// Measured data: report YAML files, built-in report ids, and/or load-test result files in
    /// any format servecast imports (vllm bench serve / benchmark_serving.py, GuideLLM, AIPerf,
    /// llmperf, SGLang bench_serving); all result files form one report and need --gpu.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// GPU the result files were measured on.
    #[arg(long)]
    pub gpu: Option<String>,
    /// Model the result files served (default: the model id the files name, matched exactly).
    #[arg(long)]
    pub model: Option<String>,
    /// Engine of the result files (default vllm-0.10).
    #[arg(long)]
    pub engine: Option<String>,
    /// Engine flags of the result files.
    #[command(flatten)]
    pub flags: FlagArgs,
    /// Write the fitted profile here (YAML).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// Leave these concurrency levels out of the fit and report their error.
    #[arg(long, value_delimiter = ',')]
    pub hold_out: Vec<u32>,
    /// Random seed of the simulations.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Weight of the mean-TTFT errors relative to throughput and latency errors.
    #[arg(long, default_value_t = FitOptions::default().ttft_weight)]
    pub ttft_weight: f64,
    /// The levels ran in order against one long-lived server with the same prompts (one client
    /// seed): with prefix caching on, each level from the second found the level before's prompts
    /// in the cache, as far as it kept them.
    #[arg(long)]
    pub warm_prefix_cache: bool,
    /// The endpoint the result files' clients sent to, for files that do not say: `chat` when
    /// they sent chat messages (the server adds the model's chat template). `vllm bench serve`
    /// files record their backend.
    #[arg(long, value_parser = ["completions", "chat"])]
    pub endpoint: Option<String>,
    /// Output format: table (markdown tables), json (one object: parameters, levels measured
    /// vs predicted, warnings, the fitted profile).
    #[arg(long, default_value = "table")]
    pub format: String,
    /// The server command the result files were measured against, pasted after `--` (`-- vllm
    /// serve MODEL --max-num-seqs 64 …`): sets the model and engine flags.
    #[arg(last = true, value_name = "VLLM_SERVE_COMMAND")]
    pub serve: Vec<String>,
}

fn bool_flag(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

impl SimulateArgs {
    /// The deployment as the library takes it.
    pub fn deployment(&self) -> DeploymentOptions {
        DeploymentOptions {
            gpu: self.gpu.clone(),
            model: self.model.clone(),
            engine: self.engine.clone(),
            flags: self.flags.to_flags(),
            replicas: self.replicas,
            router: self.router.clone(),
            text_chars: self.text_chars,
            first_chunk_tokens: self.first_chunk_tokens,
            concurrency: self.concurrency.clone(),
            requests_per_user: self.requests_per_user,
            qps: self.qps.clone(),
            num_requests: self.num_requests,
            max_concurrency: self.max_concurrency,
            client_draws: self.client_seed.map(|seed| servecast::workload::arrivals::ClientDraws {
                numpy_seed: seed,
                normalized_span: self.client_normalized_span,
            }),
            input_len: self.input_len.clone(),
            output_len: self.output_len.clone(),
            random_range_ratio: self.random_range_ratio,
            client: self.client.clone(),
            workload: self.workload.clone(),
            warm_prefix_cache: self.warm_prefix_cache,
            endpoint: self.endpoint.as_deref().map(endpoint),
            profile: self.profile.clone(),
            seed: self.seed,
            serve: self.serve.clone(),
        }
    }

    /// How simulate reports.
    pub fn simulate_options(&self) -> Result<SimulateOptions> {
        Ok(SimulateOptions {
            format: Format::parse(&self.format)?,
            replications: self.replications,
            plot: self.plot.clone(),
            plot_memory: self.plot_memory.clone(),
            plot_ttft: self.plot_ttft.clone(),
            per_request: self.per_request.clone(),
        })
    }

    /// Refuses the chart flags a command does not draw.
    pub fn refuse_charts(&self, command: &str, memory: bool) -> Result<()> {
        if self.per_request.is_some() {
            return Err(Error::invalid(
                "--per-request",
                "per_request",
                format!("is written by simulate, for one configuration, not by {command}"),
            ));
        }
        if self.plot_ttft.is_some() {
            return Err(Error::invalid(
                "--plot-ttft",
                "plot_ttft",
                format!("is drawn by simulate, for one configuration, not by {command}"),
            ));
        }
        if !memory && self.plot_memory.is_some() {
            return Err(Error::invalid(
                "--plot-memory",
                "plot_memory",
                format!("{command} draws only --plot (its load curve)"),
            ));
        }
        Ok(())
    }
}

impl SweepArgs {
    /// The sweep as the library takes it.
    pub fn command(&self) -> Result<SweepCommand> {
        self.base.refuse_charts("sweep", true)?;
        Ok(SweepCommand {
            axes: self.axes.clone(),
            samples: self.samples,
            sample_seed: self.sample_seed,
            rank_by: self.rank_by.clone(),
            top: self.top,
            output: self.output.clone(),
            config_timeout_s: self.config_timeout,
            progress: !self.quiet,
            format: Format::parse(&self.base.format)?,
            plot: self.base.plot.clone(),
            plot_memory: self.base.plot_memory.clone(),
            shard: self.shard.as_deref().map(parse_shard).transpose()?,
            test_hook: None,
        })
    }
}

impl PlanArgs {
    /// The plan as the library takes it.
    pub fn command(&self) -> Result<PlanCommand> {
        self.base.refuse_charts("plan", false)?;
        Ok(PlanCommand {
            slo: self.slo.clone(),
            load: self.load.clone(),
            target_qps: self.target_qps,
            gpus: self.gpus.clone(),
            tp_options: self.tp_options.clone(),
            util_options: self.util_options.clone(),
            seqs_options: self.seqs_options.clone(),
            max_replicas: self.max_replicas,
            duration_s: self.duration_s,
            format: Format::parse(&self.base.format)?,
            plot: self.base.plot.clone(),
        })
    }
}

impl FitArgs {
    /// The fit as the library takes it.
    pub fn command(&self) -> Result<FitCommand> {
        Ok(FitCommand {
            inputs: self.inputs.clone(),
            gpu: self.gpu.clone(),
            model: self.model.clone(),
            engine: self.engine.clone(),
            flags: self.flags.to_flags(),
            output: self.output.clone(),
            hold_out: self.hold_out.clone(),
            seed: self.seed,
            ttft_weight: self.ttft_weight,
            serve: self.serve.clone(),
            warm_prefix_cache: self.warm_prefix_cache,
            endpoint: self.endpoint.as_deref().map(endpoint),
            format: Format::parse(&self.format)?,
        })
    }
}

/// `--endpoint`'s value (clap has checked it is one of the two).
fn endpoint(name: &str) -> Endpoint {
    match name {
        "chat" => Endpoint::Chat,
        _ => Endpoint::Completions,
    }
}
