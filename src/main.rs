//! The `servecast` command line: a thin layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use servecast::cost::Profile;
use servecast::error::{Error, Result};
use servecast::fit::FitOptions;
use servecast::measured::{builtin_reports, MeasuredReport};
use servecast::profiles::{builtin_profile_by_id, builtin_profiles};
use servecast::report::{compare, render, Format};
use servecast::scenario::{Scenario, ScenarioBuilder};
use servecast::spec::engine::{EngineFlags, EngineVersion, KvCacheDtype, Quantization};
use servecast::spec::{Catalog, ModelSpec};
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

#[derive(Parser, Debug)]
#[command(
    name = "servecast",
    version,
    about = "Predict how an LLM serving deployment behaves before renting the GPUs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
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
    Sweep(Box<SweepArgs>),
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
struct FlagArgs {
    /// Fraction of GPU memory the engine may use, (0, 1].
    #[arg(long = "util", visible_alias = "gpu-memory-utilization")]
    util: Option<f64>,
    /// Most sequences per step (vLLM --max-num-seqs).
    #[arg(long = "seqs", visible_alias = "max-num-seqs")]
    seqs: Option<u32>,
    /// Longest prompt + output, tokens.
    #[arg(long)]
    max_model_len: Option<u32>,
    /// Token budget per step.
    #[arg(long)]
    max_num_batched_tokens: Option<u32>,
    /// Tokens per KV block.
    #[arg(long)]
    block_size: Option<u32>,
    /// Enable chunked prefill.
    #[arg(long, overrides_with = "no_enable_chunked_prefill")]
    enable_chunked_prefill: bool,
    /// Disable chunked prefill.
    #[arg(long)]
    no_enable_chunked_prefill: bool,
    /// Enable prefix caching.
    #[arg(long, overrides_with = "no_enable_prefix_caching")]
    enable_prefix_caching: bool,
    /// Disable prefix caching.
    #[arg(long)]
    no_enable_prefix_caching: bool,
    /// GPUs per engine (tensor parallel).
    #[arg(long = "tp", visible_alias = "tensor-parallel-size")]
    tp: Option<u32>,
    /// vLLM V0: delay waiting prompts until the oldest waited this × the last prompt step's latency.
    #[arg(long)]
    scheduler_delay_factor: Option<f64>,
    /// KV cache element type: auto (the model's dtype), fp8, fp8_e4m3, fp8_e5m2.
    #[arg(long, value_parser = parse_kv_cache_dtype)]
    kv_cache_dtype: Option<KvCacheDtype>,
    /// Weight quantization of the linear layers: none, fp8, awq, awq_marlin, gptq, gptq_marlin,
    /// gptq_int8 (default: the checkpoint's own, else none).
    #[arg(long, value_parser = parse_quantization)]
    quantization: Option<Quantization>,
    /// vLLM V1: schedule step k+1 while step k runs (default on from vLLM 0.14).
    #[arg(long, overrides_with = "no_async_scheduling")]
    async_scheduling: bool,
    /// vLLM V1: schedule one step at a time.
    #[arg(long)]
    no_async_scheduling: bool,
    /// vLLM ≥ 0.11: the KV cache's size per GPU in bytes (20G = 20 GiB, 21.5g = 21.5e9);
    /// gpu_memory_utilization is then ignored.
    #[arg(long, value_parser = parse_kv_cache_memory)]
    kv_cache_memory: Option<u64>,
    /// vLLM V0 (0.6–0.10): decode steps per scheduling pass; 1 is modelled, more is refused.
    #[arg(long)]
    num_scheduler_steps: Option<u32>,
    /// MoE models: spread whole experts over the tensor-parallel ranks.
    #[arg(long)]
    enable_expert_parallel: bool,
    /// vLLM V1 speculative decoding, JSON as vLLM takes it, plus servecast's acceptance:
    /// '{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}'.
    #[arg(long, value_parser = parse_speculative_config)]
    speculative_config: Option<servecast::spec::speculative::SpeculativeConfig>,
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

/// clap's parser for `--kv-cache-dtype`, in the library's words.
fn parse_kv_cache_dtype(text: &str) -> std::result::Result<KvCacheDtype, String> {
    KvCacheDtype::parse(text, "--kv-cache-dtype").map_err(|e| e.to_string())
}

impl FlagArgs {
    /// The flags as the library takes them (unset stays unset).
    fn to_flags(&self) -> EngineFlags {
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
            enable_expert_parallel: self.enable_expert_parallel.then_some(true),
            speculative_config: self.speculative_config.clone(),
        }
    }
}

#[derive(Args, Debug)]
struct SimulateArgs {
    /// GPU (catalog name, matched loosely: 4090, "RTX 4090", a100-80g).
    #[arg(long)]
    gpu: String,
    /// Model: catalog id or path to a Hugging Face config.json.
    #[arg(long)]
    model: Option<String>,
    /// Engine: vllm-0.10 (default), vllm-0.6, vllm-0.6.0 (0.6.0–0.6.1), vllm-0.5, nano-vllm; other vLLM releases run as the scheduler they ship (0.8+ as vllm-0.10, 0.7 as vllm-0.6).
    #[arg(long)]
    engine: Option<String>,
    #[command(flatten)]
    flags: FlagArgs,
    /// Engine replicas behind a router (data parallelism), each with --tp GPUs.
    #[arg(long, default_value_t = 1)]
    replicas: u32,
    /// Router across replicas: round-robin, least-outstanding, random.
    #[arg(long, default_value = "round-robin")]
    router: String,
    /// TTS models: the text length in characters (sets prompt and output tokens from the model's
    /// text and speech rates); requests longer than max_model_len fail as the server's would.
    #[arg(long)]
    text_chars: Option<u32>,
    /// Tokens in the first streamed chunk (TTS: TTFB is the time to this chunk); default 1.
    #[arg(long, default_value_t = 1)]
    first_chunk_tokens: u32,
    /// Closed-loop concurrency levels, e.g. 1,4,8,16.
    #[arg(long, value_delimiter = ',')]
    concurrency: Option<Vec<u32>>,
    /// Requests each closed-loop user sends.
    #[arg(long)]
    requests_per_user: Option<u32>,
    /// Open-loop Poisson request rates (req/s), e.g. 2,4,8.
    #[arg(long, value_delimiter = ',')]
    qps: Option<Vec<f64>>,
    /// Requests per open-loop level.
    #[arg(long)]
    num_requests: Option<u32>,
    /// Most requests outstanding at once with --qps (vllm bench serve --max-concurrency); --qps inf sends as fast as allowed.
    #[arg(long)]
    max_concurrency: Option<u32>,
    /// Prompt length: 512, 100..900, normal:800,200, lognormal:500,0.8, empirical:1,2,3.
    #[arg(long)]
    input_len: Option<String>,
    /// Output length, same syntax as --input-len.
    #[arg(long)]
    output_len: Option<String>,
    /// Workload YAML file (load, input_len, output_len).
    #[arg(long)]
    workload: Option<PathBuf>,
    /// Profile YAML file, built-in profile id, or `roofline`.
    #[arg(long)]
    profile: Option<String>,
    /// Random seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output format: table, markdown, json, csv.
    #[arg(long, default_value = "table")]
    format: String,
    /// Replications over seeds (and the fitted parameters' covariance) for 90% prediction
    /// intervals; 1 = a single run.
    #[arg(long, default_value_t = 1)]
    replications: u32,
    /// Draw a chart here (.png or .svg): load curves for simulate, throughput–latency for sweep,
    /// the scanned load curve for plan.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Draw the memory breakdown here (.png or .svg): simulate's configuration, or the best
    /// configurations of a sweep.
    #[arg(long)]
    plot_memory: Option<PathBuf>,
    /// Draw the TTFT distribution at the highest load level here (simulate only).
    #[arg(long)]
    plot_ttft: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct SweepArgs {
    /// The base deployment and workload, as for `simulate`.
    #[command(flatten)]
    base: SimulateArgs,
    /// A swept parameter: name=values, repeatable. Lists (seqs=8,16,32), stepped ranges
    /// (util=0.5..0.9:0.1), ranges for --samples (max_num_batched_tokens=512..8192), booleans
    /// (enable_chunked_prefill=true,false), names (gpu=4090,a10). Names: vLLM's flags, or gpu,
    /// util, seqs, tp, replicas, concurrency, qps.
    #[arg(long = "axis", required = true)]
    axes: Vec<String>,
    /// Draw this many random configurations instead of the full grid.
    #[arg(long)]
    samples: Option<u32>,
    /// Seed of the random configurations.
    #[arg(long, default_value_t = 0)]
    sample_seed: u64,
    /// Rank by: request_throughput_req_s (default), output_throughput_tok_s, ttft_ms_mean,
    /// ttft_ms_p95, tpot_ms_mean, tpot_ms_p95, e2e_ms_mean, e2e_ms_p95, x_realtime,
    /// usd_per_million_output_tokens.
    #[arg(long, default_value = "request_throughput_req_s")]
    rank_by: String,
    /// Rows shown in the table.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Also write every row here: .csv or .json.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct PlanArgs {
    /// The deployment and workload lengths, as for `simulate` (its load levels are replaced).
    #[command(flatten)]
    base: SimulateArgs,
    /// The SLO: ttft_p95_ms=500,tpot_p95_ms=50 (metrics ttft, tpot, itl, e2e, ttfb; statistics
    /// mean, p50, p95, p99; and goodput_pct=N: percent of requests within every bound).
    #[arg(long, required = true)]
    slo: String,
    /// Load to vary: qps (open-loop Poisson, default) or concurrency (closed-loop users).
    #[arg(long, default_value = "qps")]
    load: String,
    /// Find the cheapest deployment for this request rate (req/s) instead of the most load.
    #[arg(long)]
    target_qps: Option<f64>,
    /// GPU types for --target-qps (default: the --gpu one).
    #[arg(long, value_delimiter = ',')]
    gpus: Vec<String>,
    /// Tensor-parallel sizes for --target-qps.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    tp_options: Vec<u32>,
    /// gpu_memory_utilization values for --target-qps (default: the deployment's).
    #[arg(long, value_delimiter = ',')]
    util_options: Vec<f64>,
    /// max_num_seqs values for --target-qps (default: the deployment's).
    #[arg(long, value_delimiter = ',')]
    seqs_options: Vec<u32>,
    /// Most replicas per deployment for --target-qps.
    #[arg(long, default_value_t = 16)]
    max_replicas: u32,
    /// Simulated seconds of arrivals per evaluation (open loop).
    #[arg(long, default_value_t = servecast::plan::PlanOptions::default().duration_s)]
    duration_s: f64,
}

#[derive(Args, Debug)]
struct FitArgs {
    /// Measured data: report YAML files, built-in report ids, and/or `vllm bench serve
    /// --save-result` JSON files (all JSON files form one report; they need --gpu and --model).
    #[arg(required = true)]
    inputs: Vec<String>,
    /// GPU the JSON runs were measured on.
    #[arg(long)]
    gpu: Option<String>,
    /// Model the JSON runs served.
    #[arg(long)]
    model: Option<String>,
    /// Engine of the JSON runs (default vllm-0.10).
    #[arg(long)]
    engine: Option<String>,
    /// Engine flags of the JSON runs.
    #[command(flatten)]
    flags: FlagArgs,
    /// Write the fitted profile here (YAML).
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Leave these concurrency levels out of the fit and report their error.
    #[arg(long, value_delimiter = ',')]
    hold_out: Vec<u32>,
    /// Random seed of the simulations.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Weight of the mean-TTFT errors relative to throughput and latency errors.
    #[arg(long, default_value_t = FitOptions::default().ttft_weight)]
    ttft_weight: f64,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(a) => simulate(*a),
        Command::Sweep(a) => sweep(*a),
        Command::Plan(a) => plan(*a),
        Command::Plot {
            what,
            output,
            replications,
            formats,
        } => plot(&what, &output, replications, &formats),
        Command::Fit(a) => fit(*a),
        Command::List { what } => list(&what),
        Command::Validate { corpus, output, plot } => validate(&corpus, output.as_deref(), plot.as_deref()),
        Command::Priors { corpus, output } => priors(&corpus, output.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

/// Prints to stdout; a closed pipe (e.g. `| head`) ends the output quietly instead of panicking.
fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", text.trim_end_matches('\n')).is_err() {
        std::process::exit(0);
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn load_profile(arg: &str) -> Result<Profile> {
    let path = Path::new(arg);
    if path.exists() {
        return Profile::from_yaml(&read(path)?, arg);
    }
    if let Some(p) = builtin_profile_by_id(arg)? {
        return Ok(p);
    }
    if let Some(rest) = arg.strip_prefix("roofline") {
        let version = match rest.trim_start_matches(['.', '-', ':']) {
            "" => EngineVersion::default(),
            v => EngineVersion::parse(v, "--profile")?,
        };
        return Ok(Profile::roofline(version));
    }
    let ids: Vec<String> = builtin_profiles()?.into_iter().map(|p| p.id).collect();
    Err(Error::invalid(
        "--profile",
        "profile",
        format!(
            "'{arg}' is neither a file nor a built-in profile; built-in: {}, roofline",
            ids.join(", ")
        ),
    ))
}

/// A measured file (every setup in it) or a built-in report id.
fn load_reports(arg: &str) -> Result<Vec<MeasuredReport>> {
    let path = Path::new(arg);
    if path.exists() {
        return MeasuredReport::all_from_path(path);
    }
    let reports = builtin_reports()?;
    let ids: Vec<String> = reports.iter().map(|r| r.id.clone()).collect();
    reports
        .into_iter()
        .find(|r| r.id == arg)
        .map(|r| vec![r])
        .ok_or_else(|| {
            Error::invalid(
                "fit",
                "report",
                format!(
                    "'{arg}' is neither a file nor a built-in report; built-in: {}",
                    ids.join(", ")
                ),
            )
        })
}

fn bool_flag(on: bool, off: bool) -> Option<bool> {
    match (on, off) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

/// Builds the scenario from flags, a workload file, or the GPU's built-in report.
fn build_scenario(a: &SimulateArgs) -> Result<Scenario> {
    scenario_builder(a)?.build()
}

/// The builder behind [`build_scenario`] (sweeps and plans vary it).
fn scenario_builder(a: &SimulateArgs) -> Result<ScenarioBuilder> {
    let flags = a.flags.to_flags();
    let mut b = Scenario::builder()
        .gpu(&a.gpu)
        .flags(flags)
        .seed(a.seed)
        .replicas(a.replicas)
        .first_chunk_tokens(a.first_chunk_tokens)
        .router(servecast::engine::cluster::Router::parse(&a.router, "--router")?);
    if let Some(m) = &a.model {
        let path = Path::new(m);
        b = if path.is_file() {
            b.model_spec(ModelSpec::from_hf_config_json(&read(path)?, m)?)
        } else {
            b.model(m)
        };
    }
    if let Some(e) = &a.engine {
        b = b.engine(EngineVersion::parse(e, "--engine")?);
        if servecast::spec::engine::release_patch(e).is_some() {
            b = b.release(e);
        }
    }
    if let Some(path) = &a.workload {
        let text = read(path)?;
        let origin = path.display().to_string();
        let mut w: WorkloadSpec = serde_saphyr::from_str_with_options(&text, servecast::measured::yaml_options())
            .map_err(|e| Error::from_yaml(&origin, &e))?;
        w.fill_dataset_parts();
        w.validate(&origin)?;
        b = b.workload(w);
    }
    if a.model.is_none() || a.workload.is_none() {
        b = b.from_builtin_report()?;
        if let Some(id) = b.report_id() {
            eprintln!("note: using the built-in measured report '{id}' for what the command line leaves out (model, engine flags, workload)");
        }
    }
    if b.report_id().is_none() && a.workload.is_none() {
        // No report and no workload file: a default closed-loop sweep.
        b = b.workload(WorkloadSpec::closed_loop(
            vec![1, 4, 8, 16, 32, 64],
            10,
            LengthDist::Fixed { tokens: 512 },
            LengthDist::Fixed { tokens: 256 },
        ));
    }
    let input = a
        .input_len
        .as_deref()
        .map(|t| LengthDist::parse(t, "--input-len"))
        .transpose()?;
    let output = a
        .output_len
        .as_deref()
        .map(|t| LengthDist::parse(t, "--output-len"))
        .transpose()?;
    let concurrency = a.concurrency.clone();
    let qps = a.qps.clone();
    let (rpu, num_requests, max_concurrency) = (a.requests_per_user, a.num_requests, a.max_concurrency);
    b = b.edit_workload(|w| {
        if let Some(d) = input {
            w.input_len = d;
            w.input_len_per_level = None;
        }
        if let Some(d) = output {
            w.set_output_len(d);
        }
        if let Some(q) = qps {
            w.set_poisson(q, num_requests.unwrap_or(1000), max_concurrency);
        } else if let Some(c) = concurrency {
            w.set_concurrency(c, rpu);
        } else if let (Some(n), LoadSpec::ClosedLoop { concurrency, .. }) = (rpu, &w.load) {
            let levels = concurrency.clone();
            w.set_concurrency(levels, Some(n));
        }
        if let (Some(n), LoadSpec::Poisson { num_requests, .. }) = (num_requests, &mut w.load) {
            *num_requests = n;
        }
    });
    match a.profile.as_deref() {
        // The prior of whichever engine the scenario runs (--engine, a report's, or the default).
        Some("roofline") => b = b.roofline_profile(),
        Some(p) => b = b.profile(load_profile(p)?),
        None => {}
    }
    if let Some(chars) = a.text_chars {
        b = b.text_chars(chars);
    }
    Ok(b)
}

/// A one-line description of a deployment for chart titles.
fn deployment_title(s: &Scenario) -> String {
    format!(
        "{} on {}{} ({}, util {}, max_num_seqs {}{})",
        s.model.id,
        if s.replicas * s.engine.tensor_parallel_size > 1 {
            format!("{} × ", s.replicas * s.engine.tensor_parallel_size)
        } else {
            String::new()
        },
        s.gpu.id,
        s.engine.version,
        s.engine.gpu_memory_utilization,
        s.engine.max_num_seqs,
        if s.engine.tensor_parallel_size > 1 {
            format!(", TP {}", s.engine.tensor_parallel_size)
        } else {
            String::new()
        }
    )
}

fn draw_simulate_charts(
    a: &SimulateArgs,
    scenario: &Scenario,
    prediction: &servecast::scenario::Prediction,
) -> Result<()> {
    use servecast::charts;
    let title = deployment_title(scenario);
    if let Some(path) = &a.plot {
        let band = if prediction.intervals.is_empty() {
            ""
        } else {
            ", 90% band"
        };
        charts::draw_panels(
            &format!("{title}: predicted{band}"),
            &charts::prediction_panels(prediction),
            path,
            (1800, 620),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    if let Some(path) = &a.plot_memory {
        charts::memory_breakdown(
            &format!("Memory of {title}"),
            &[(scenario.gpu.id.clone(), prediction.memory.clone())],
            path,
            (1400, 320),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    if let Some(path) = &a.plot_ttft {
        let Some(last) = scenario.workload.levels().len().checked_sub(1) else {
            return Err(Error::invalid("--plot-ttft", "workload", "has no load level"));
        };
        let out = scenario.simulate_level(last, &prediction.memory, &scenario.cost_model());
        let ttfts: Vec<f64> = out
            .records
            .iter()
            .filter(|r| !r.failed)
            .map(|r| r.first_token_ns.saturating_sub(r.send_ns) as f64 / 1e6)
            .collect();
        let level = &prediction.levels[last];
        let load = match (level.concurrency, level.qps) {
            (Some(c), _) => format!("{c} users"),
            (None, Some(q)) => format!("{q} req/s"),
            _ => "the trace".into(),
        };
        charts::ttft_distribution(&format!("TTFT at {load}: {title}"), &ttfts, path, (1300, 650))?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

fn plot(what: &str, output: &Path, replications: u32, formats: &[String]) -> Result<()> {
    if what != "measured" {
        return Err(Error::invalid(
            "plot",
            "what",
            format!("'{what}': only `measured` (use --plot FILE on simulate, sweep and plan for the others)"),
        ));
    }
    for f in formats {
        if f != "png" && f != "svg" {
            return Err(Error::invalid(
                "--formats",
                "formats",
                format!("'{f}' is not png or svg"),
            ));
        }
    }
    if replications == 0 || replications > 1000 {
        return Err(Error::invalid("--replications", "replications", "must be in 1..=1000"));
    }
    let formats: Vec<&str> = formats.iter().map(String::as_str).collect();
    let written = servecast::charts::plot_all_measured(output, replications, &formats)?;
    for p in written {
        emit(&p.display().to_string());
    }
    Ok(())
}

fn plan(a: PlanArgs) -> Result<()> {
    use servecast::plan::{cheapest, knee, max_load, DeploymentSpace, LoadKind, PlanOptions, Slo};
    use std::fmt::Write;
    let format = Format::parse(&a.base.format)?;
    let slo = Slo::parse(&a.slo, "--slo")?;
    let kind = LoadKind::parse(&a.load, "--load")?;
    if !(a.duration_s > 0.0 && a.duration_s.is_finite()) {
        return Err(Error::invalid("--duration-s", "duration_s", "must be > 0 seconds"));
    }
    let opts = PlanOptions {
        duration_s: a.duration_s,
        ..PlanOptions::default()
    };
    let builder = scenario_builder(&a.base)?;
    let base = builder.clone().without_report().build()?;
    let mut t = String::new();
    let describe = |t: &mut String, check: &servecast::plan::SloCheck| {
        for r in &check.targets {
            let _ = writeln!(
                t,
                "    {:<14} {:>10.2}  (bound {:.2}, {} {:+.1}%)",
                r.target,
                r.value,
                r.bound,
                if r.met { "met, margin" } else { "BROKEN by" },
                r.margin().abs() * 100.0 * if r.met { 1.0 } else { -1.0 }
            );
        }
    };
    if let Some(target) = a.target_qps {
        let space = DeploymentSpace {
            gpus: if a.gpus.is_empty() {
                vec![base.gpu.id.clone()]
            } else {
                a.gpus.clone()
            },
            tensor_parallel_sizes: a.tp_options.clone(),
            utils: if a.util_options.is_empty() {
                vec![base.engine.gpu_memory_utilization]
            } else {
                a.util_options.clone()
            },
            max_num_seqs: if a.seqs_options.is_empty() {
                vec![base.engine.max_num_seqs]
            } else {
                a.seqs_options.clone()
            },
            max_replicas: a.max_replicas.clamp(1, 64),
        };
        let started = std::time::Instant::now();
        let answer = cheapest(&builder, &slo, target, &space, &opts)?;
        if format == Format::Json {
            emit(
                &serde_json::to_string_pretty(&answer)
                    .map_err(|e| Error::invalid("--format", "json", e.to_string()))?,
            );
            return Ok(());
        }
        let _ = writeln!(
            t,
            "Cheapest deployments of {} for {target} req/s within {} ({} simulations, {:.1} s):\n",
            base.model.id,
            a.slo,
            answer.evaluations,
            started.elapsed().as_secs_f64()
        );
        for (i, c) in answer.candidates.iter().take(10).enumerate() {
            let _ = writeln!(
                t,
                "{:>2}. {} × {} (TP {} × {} replicas), util {}, max_num_seqs {}: ${:.2}/h  [profile {}]",
                i + 1,
                c.gpus,
                c.gpu,
                c.tensor_parallel_size,
                c.replicas,
                c.gpu_memory_utilization,
                c.max_num_seqs,
                c.price_usd_per_hour,
                c.profile
            );
            if i == 0 {
                let _ = writeln!(t, "    price: {}", c.price_source);
                let _ = writeln!(
                    t,
                    "    re-simulated at {target} req/s: {:.1} req/s served, {:.0} tok/s, TTFT P95 {:.0} ms, TPOT P95 {:.1} ms",
                    c.level.request_throughput_req_s,
                    c.level.output_throughput_tok_s,
                    c.level.ttft_ms.p95,
                    c.level.tpot_ms.p95
                );
                describe(&mut t, &c.check);
            }
        }
        if answer.candidates.is_empty() {
            let _ = writeln!(t, "No deployment in the space meets the SLO.");
        }
        if !answer.rejected.is_empty() {
            let _ = writeln!(t, "\nCannot meet it ({}):", answer.rejected.len());
            for r in answer.rejected.iter().take(12) {
                let _ = writeln!(
                    t,
                    "  {} TP {} util {} seqs {}: {}",
                    r.gpu, r.tensor_parallel_size, r.gpu_memory_utilization, r.max_num_seqs, r.reason
                );
            }
        }
        emit(&t);
        return Ok(());
    }
    if a.base.plot_memory.is_some() || a.base.plot_ttft.is_some() {
        return Err(Error::invalid(
            "--plot-memory",
            "plot",
            "plan draws only --plot (its load curve)",
        ));
    }
    let answer = max_load(&base, &slo, kind, &opts)?;
    let light = match kind {
        LoadKind::RequestRate => 0.25,
        LoadKind::Concurrency => 1.0,
    };
    let top = answer.max_load.map_or(light * 64.0, |m| (m * 3.0).max(light * 4.0));
    let knee = knee(&base, kind, light, top, 12, &opts)?;
    if let Some(path) = &a.base.plot {
        let curve = match &knee {
            Some(k) => k.curve.clone(),
            None => scan_curve(&base, kind, light, top, &opts)?,
        };
        servecast::charts::draw_panels(
            &format!("{}: {}", deployment_title(&base), slo),
            &servecast::charts::plan_panels(&curve, kind.unit(), answer.max_load, knee.as_ref().map(|k| k.load)),
            path,
            (1600, 650),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    if format == Format::Json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            slo: &'a Slo,
            answer: &'a servecast::plan::MaxLoad,
            knee: &'a Option<servecast::plan::Knee>,
        }
        let out = Out {
            slo: &slo,
            answer: &answer,
            knee: &knee,
        };
        emit(&serde_json::to_string_pretty(&out).map_err(|e| Error::invalid("--format", "json", e.to_string()))?);
        return Ok(());
    }
    let unit = kind.unit();
    let _ = writeln!(
        t,
        "{} on {} × {} (TP {}, {} replica(s), util {}, max_num_seqs {}), SLO {}:",
        base.model.id,
        base.engine.tensor_parallel_size * base.replicas,
        base.gpu.id,
        base.engine.tensor_parallel_size,
        base.replicas,
        base.engine.gpu_memory_utilization,
        base.engine.max_num_seqs,
        a.slo
    );
    match answer.max_load {
        Some(m) => {
            let _ = writeln!(
                t,
                "\nHighest load within the SLO: {m:.2} {unit} ({} simulations)",
                answer.evaluations
            );
            let l = &answer.at_max.level;
            let _ = writeln!(
                t,
                "  re-simulated there: {:.2} req/s, {:.0} out tok/s, TTFT mean/P95 {:.0}/{:.0} ms, TPOT P95 {:.1} ms, E2E P95 {:.0} ms",
                l.request_throughput_req_s, l.output_throughput_tok_s, l.ttft_ms.mean, l.ttft_ms.p95, l.tpot_ms.p95, l.e2e_latency_ms.p95
            );
            describe(&mut t, &answer.at_max.check);
            if let Some(above) = &answer.above {
                let _ = writeln!(t, "  at {:.2} {unit} (+10%) the SLO breaks:", above.load);
                describe(&mut t, &above.check);
            }
            let _ = writeln!(t, "  what limits it there: {}", answer.at_max.bottleneck);
        }
        None => {
            let _ = writeln!(
                t,
                "\nNo load meets the SLO: even {:.2} {unit} breaks it:",
                answer.at_max.load
            );
            describe(&mut t, &answer.at_max.check);
        }
    }
    match &knee {
        Some(k) => {
            let _ = writeln!(
                t,
                "\nKnee: mean TTFT doubles from {:.0} ms (light load) to {:.0} ms at {:.2} {unit}: {}",
                k.light_load_ttft_ms, k.ttft_ms, k.load, k.reason
            );
        }
        None => {
            let _ = writeln!(t, "\nKnee: mean TTFT does not double up to {top:.2} {unit}");
        }
    }
    emit(&t);
    Ok(())
}

/// The load curve without a knee: (load, mean TTFT ms, output tok/s) at 12 loads.
fn scan_curve(
    base: &Scenario,
    kind: servecast::plan::LoadKind,
    from: f64,
    to: f64,
    opts: &servecast::plan::PlanOptions,
) -> Result<Vec<(f64, f64, f64)>> {
    let slo = servecast::plan::Slo::parse("ttft_mean_ms=1e300", "plan")?;
    let ratio = (to / from).max(1.0).powf(1.0 / 11.0);
    (0..12)
        .map(|i| {
            let p = servecast::plan::evaluate(base, &slo, kind, from * ratio.powi(i), opts)?;
            Ok((p.load, p.level.ttft_ms.mean, p.level.output_throughput_tok_s))
        })
        .collect()
}

fn sweep(a: SweepArgs) -> Result<()> {
    use servecast::report::sweep::render_sweep;
    use servecast::sweep::{rank, run_sweep, Axis, RankMetric, SweepDesign, SweepSpec};
    let format = Format::parse(&a.base.format)?;
    let metric = RankMetric::parse(&a.rank_by, "--rank-by")?;
    let axes = a
        .axes
        .iter()
        .map(|t| Axis::parse(t, "--axis"))
        .collect::<Result<Vec<_>>>()?;
    let design = match a.samples {
        Some(0) => return Err(Error::invalid("--samples", "samples", "must be ≥ 1")),
        Some(n) => SweepDesign::Random {
            samples: n,
            seed: a.sample_seed,
        },
        None => SweepDesign::Grid,
    };
    let spec = SweepSpec { axes, design };
    let base = scenario_builder(&a.base)?;
    // Fail fast on a base that does not build at all (unknown model, bad workload).
    if let Err(e) = base.clone().without_report().build() {
        if !matches!(e, Error::EngineRefused { .. }) {
            return Err(e);
        }
    }
    let started = std::time::Instant::now();
    let mut rows = run_sweep(&base, &spec, !a.quiet)?;
    let elapsed = started.elapsed().as_secs_f64();
    rank(&mut rows, metric);
    if let Some(path) = &a.output {
        let text = match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => render_sweep(&rows, metric, usize::MAX, Format::Csv)?,
            Some("json") => render_sweep(&rows, metric, usize::MAX, Format::Json)?,
            _ => {
                return Err(Error::invalid(
                    "-o",
                    "output",
                    format!("{}: the file name must end in .csv or .json", path.display()),
                ))
            }
        };
        std::fs::write(path, text).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
    }
    if let Some(path) = &a.base.plot {
        servecast::charts::draw_panels(
            &format!("Sweep of {} configurations", rows.len()),
            &servecast::charts::sweep_panels(&rows),
            path,
            (1700, 700),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    if let Some(path) = &a.base.plot_memory {
        let mut configs = Vec::new();
        for r in rows.iter().filter(|r| r.metrics().is_some()).take(a.top.min(12)) {
            let s = servecast::sweep::apply_settings(&base, &r.settings)
                .without_report()
                .build()?;
            let label = r
                .settings
                .iter()
                .map(|(p, v)| format!("{}={v}", p.short()))
                .collect::<Vec<_>>()
                .join(" ");
            configs.push((label, s.memory()?));
        }
        servecast::charts::memory_breakdown(
            "Memory of the best configurations",
            &configs,
            path,
            (1500, 120 + 60 * configs.len() as u32),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    if a.base.plot_ttft.is_some() {
        return Err(Error::invalid(
            "--plot-ttft",
            "plot_ttft",
            "is drawn by simulate, for one configuration",
        ));
    }
    let text = render_sweep(&rows, metric, a.top, format)?;
    emit(&text);
    if matches!(format, Format::Table | Format::Markdown) {
        eprintln!("swept in {elapsed:.2} s");
    }
    Ok(())
}

fn simulate(a: SimulateArgs) -> Result<()> {
    let format = Format::parse(&a.format)?;
    let scenario = build_scenario(&a)?;
    if a.replications == 0 {
        return Err(Error::invalid(
            "--replications",
            "replications",
            "must be in 1..=10000 (1: a single run)",
        ));
    }
    let prediction = if a.replications > 1 {
        servecast::uncertainty::predict_with_intervals(
            &scenario,
            &servecast::uncertainty::UncertaintyOptions {
                replications: a.replications,
                ..Default::default()
            },
        )?
    } else {
        scenario.run()?
    };
    let report = match &scenario.measured_report {
        Some(id) => builtin_reports()?.into_iter().find(|r| &r.id == id),
        None => None,
    };
    draw_simulate_charts(&a, &scenario, &prediction)?;
    let comparison = report.as_ref().map(|r| compare(r, &prediction.levels));
    let text = render(
        &prediction,
        report
            .as_ref()
            .zip(comparison.as_deref())
            .map(|(r, c)| (r.id.as_str(), c)),
        format,
    )?;
    emit(&text);
    Ok(())
}

fn fit(a: FitArgs) -> Result<()> {
    use servecast::measured::import::{from_vllm_bench_runs, ImportContext};
    let mut reports: Vec<MeasuredReport> = Vec::new();
    let mut json: Vec<(String, String)> = Vec::new();
    for input in &a.inputs {
        if input.to_ascii_lowercase().ends_with(".json") {
            json.push((input.clone(), read(Path::new(input))?));
        } else {
            reports.extend(load_reports(input)?);
        }
    }
    if !json.is_empty() {
        let (Some(gpu), Some(model)) = (&a.gpu, &a.model) else {
            return Err(Error::invalid(
                "fit",
                "--gpu/--model",
                "JSON benchmark results do not say what they ran on: give --gpu and --model (and the engine flags)",
            ));
        };
        let ctx = ImportContext {
            gpu: gpu.clone(),
            model: model.clone(),
            engine: a
                .engine
                .as_deref()
                .map(|e| EngineVersion::parse(e, "--engine"))
                .transpose()?
                .unwrap_or_default(),
            flags: a.flags.to_flags(),
        };
        reports.push(from_vllm_bench_runs(&json, &ctx)?);
    }
    let scenarios: Vec<Scenario> = reports
        .iter()
        .map(|r| Scenario::builder().from_report(r).seed(a.seed).build())
        .collect::<Result<_>>()?;
    let exclude: Vec<usize> = reports[0]
        .levels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.concurrency.is_some_and(|c| a.hold_out.contains(&c)))
        .map(|(i, _)| i)
        .collect();
    let inputs: Vec<(&MeasuredReport, &Scenario)> = reports.iter().zip(&scenarios).collect();
    let result = servecast::fit::fit_reports(
        &inputs,
        &FitOptions {
            exclude_levels: exclude,
            ttft_weight: a.ttft_weight,
            ..FitOptions::default()
        },
    )?;
    let mut t = String::new();
    use std::fmt::Write as _;
    if !result.card_memory.is_empty() {
        let _ = writeln!(
            t,
            "| setup | card memory measured (MiB) | predicted (MiB) | error |\n|---|---|---|---|"
        );
        for c in &result.card_memory {
            let _ = writeln!(
                t,
                "| {} | {:.0} | {:.0} | {:+.1}% |",
                c.report, c.measured_mib, c.predicted_mib, c.error_pct
            );
        }
        let _ = writeln!(t);
    }
    let _ = writeln!(
        t,
        "# Fit of {} ({} simulations, {:.2} s)\n",
        reports.iter().map(|r| r.id.as_str()).collect::<Vec<_>>().join(" + "),
        result.evaluations,
        result.elapsed_s
    );
    let _ = writeln!(
        t,
        "| parameter | value | std. error (local curvature) | origin |\n|---|---|---|---|"
    );
    for p in &result.params {
        let _ = writeln!(
            t,
            "| {} | {:.6} | {} | {} |",
            p.name,
            p.value,
            if p.std_err.is_finite() {
                format!("{:.6}", p.std_err)
            } else {
                "–".into()
            },
            p.origin
        );
    }
    let _ = writeln!(
        t,
        "\n| level | in fit | throughput: measured / predicted / error | E2E latency (TTS: RTF) | TTFT (TTS: TTFB) |"
    );
    let _ = writeln!(t, "|---|---|---|---|---|");
    for l in &result.levels {
        let pick = |names: &[&str]| {
            names
                .iter()
                .find_map(|n| l.comparison.figure(n))
                .map_or("–".to_string(), |f| {
                    let digits = if f.measured.abs() < 1.0 { 3 } else { 2 };
                    format!(
                        "{} {:.digits$} / {:.digits$} / {:+.1}%",
                        f.name, f.measured, f.predicted, f.error_pct
                    )
                })
        };
        let _ = writeln!(
            t,
            "| {}{} | {} | {} | {} | {} |",
            if reports.len() > 1 {
                format!("{} ", l.report)
            } else {
                String::new()
            },
            l.comparison.concurrency.map_or("–".into(), |c| c.to_string()),
            if l.in_fit { "yes" } else { "no" },
            pick(&[
                "output_throughput_tok_s",
                "request_throughput_req_s",
                "audio_throughput_x_realtime",
                "total_time_s",
                "audio_s"
            ]),
            pick(&["e2e_latency_ms.mean", "e2e_latency_ms.p50", "rtf.mean", "reported_rtf"]),
            pick(&["ttft_ms.mean", "ttft_ms.p50", "ttfb_ms.mean"])
        );
    }
    for w in &result.warnings {
        let _ = writeln!(t, "\nwarning: {w}");
    }
    if let Some(path) = &a.output {
        let yaml = format!(
            "# Written by: cargo run --release -- fit {} -o {}\n# Do not edit by hand: tests/it/validation.rs refits and compares.\n{}",
            a.inputs.join(" "),
            path.display(),
            result.profile.to_yaml()?
        );
        std::fs::write(path, yaml).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        let _ = writeln!(t, "\nprofile written to {}", path.display());
    }
    emit(t.trim_end());
    Ok(())
}

/// A progress bar for the pooled fit's stages.
fn stage_bar() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(1);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Moves a stage bar to `done` of `total`, naming the stage.
fn show_stage(bar: &indicatif::ProgressBar, stage: &str, done: usize, total: usize) {
    bar.set_length(total as u64);
    bar.set_position(done as u64);
    bar.set_message(stage.to_string());
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

fn validate(corpus: &Path, output: Option<&Path>, plot: Option<&Path>) -> Result<()> {
    use servecast::fit::classes::validate_corpus;
    use servecast::fit::hierarchy::HierarchyOptions;
    let reports = servecast::measured::corpus_reports(corpus)?;
    let bar = stage_bar();
    let progress = |stage: &str, done: usize, total: usize| show_stage(&bar, stage, done, total);
    let v = validate_corpus(&reports, &HierarchyOptions::default(), &progress)?;
    bar.finish_and_clear();
    let mut command = String::from("servecast validate");
    if let Some(p) = output {
        command.push_str(&format!(" -o {}", p.display()));
    }
    let md = v.to_markdown(&command);
    emit(&md);
    if let Some(path) = output {
        write_file(path, &md)?;
    }
    if let Some(path) = plot {
        let mut classes = vec![&v.fitted];
        classes.extend(v.classes.iter());
        servecast::charts::draw_panels(
            &format!(
                "servecast on {} measured vLLM setups: share of levels predicted within an error",
                v.hierarchy.setups.len()
            ),
            &servecast::charts::validation_panels(&classes),
            path,
            (1800, 620),
        )?;
        eprintln!("chart written to {}", path.display());
    }
    Ok(())
}

fn priors(corpus: &Path, output: Option<&Path>) -> Result<()> {
    use servecast::fit::hierarchy::{Hierarchy, HierarchyOptions};
    let reports = servecast::measured::corpus_reports(corpus)?;
    let bar = stage_bar();
    let progress = |stage: &str, done: usize, total: usize| show_stage(&bar, stage, done, total);
    let started = std::time::Instant::now();
    let h = Hierarchy::fit(&reports, &HierarchyOptions::default(), &progress)?;
    bar.finish_and_clear();
    let command = match output {
        Some(p) => format!("servecast priors -o {}", p.display()),
        None => "servecast priors".to_string(),
    };
    let learned = h.learned_priors(&format!(
        "pooled fit of {} measured setups ({} simulations, {} re-linearisations, last step {}) by `{command}`",
        h.setups.len(),
        h.simulations,
        h.iterations,
        match h.final_step {
            servecast::fit::hierarchy::FinalStep::Undamped => "undamped",
            servecast::fit::hierarchy::FinalStep::Damped => "damped",
            servecast::fit::hierarchy::FinalStep::Kept => "refused (best point kept)",
        }
    ));
    let yaml = format!(
        "# Written by: cargo run --release -- {}\n# Do not edit by hand: the learned prior of servecast (src/cost/prior.rs); tests/it/validation.rs\n# checks it against a fresh pooled fit of the corpus.\n{}",
        command.trim_start_matches("servecast "),
        serde_saphyr::to_string(&learned).map_err(|e| Error::Fit(format!("cannot write the priors as YAML: {e}")))?
    );
    match output {
        Some(path) => {
            write_file(path, &yaml)?;
            eprintln!(
                "{} setups ({} left out), σ {:?}, {:.1} s → {}",
                h.setups.len(),
                h.excluded.len(),
                h.sigma.map(|v| (v * 1000.0).round() / 1000.0),
                started.elapsed().as_secs_f64(),
                path.display()
            );
            for e in &h.excluded {
                eprintln!("  left out {}: {}", e.id, e.reason);
            }
        }
        None => emit(&yaml),
    }
    Ok(())
}

fn list(what: &str) -> Result<()> {
    let catalog = Catalog::builtin()?;
    match what {
        "gpus" => catalog
            .gpus
            .iter()
            .for_each(|g| emit(&format!("{:<14} {}", g.id, g.name))),
        "models" => catalog
            .models
            .iter()
            .for_each(|m| emit(&format!("{:<24} {}", m.id, m.name))),
        "reports" => builtin_reports()?
            .iter()
            .for_each(|r| emit(&format!("{:<40} {}", r.id, r.provenance.file))),
        "profiles" => builtin_profiles()?
            .iter()
            .for_each(|p| emit(&format!("{:<40} {}", p.id, p.source))),
        other => {
            return Err(Error::invalid(
                "list",
                "what",
                format!("'{other}' is not one of gpus, models, reports, profiles"),
            ));
        }
    }
    Ok(())
}
