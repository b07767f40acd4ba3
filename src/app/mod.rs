//! The commands, as a library: what the `servecast` CLI and the Python package call.
//!
//! Each command takes plain option structs (no argument parsing here) and returns an
//! [`Outcome`]: the text for stdout and the notes for stderr, so a caller decides where they go.
//! `main.rs` maps command-line arguments onto these structs and nothing else.

pub mod corpus;
pub mod fit;
pub mod plan;
pub mod simulate;
pub mod sweep;

use std::path::{Path, PathBuf};

use crate::cost::Profile;
use crate::error::{Error, Result};
use crate::measured::{builtin_reports, MeasuredReport};
use crate::profiles::{builtin_profile_by_id, builtin_profiles};
use crate::scenario::{Scenario, ScenarioBuilder};
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::spec::{Catalog, ModelSpec};
use crate::workload::arrivals::{Endpoint, LoadSpec, WorkloadSpec};
use crate::workload::client_command::ClientLoad;
use crate::workload::lengths::LengthDist;

/// What a command produced: text for stdout, notes for stderr (progress, charts written, what
/// was assumed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The command's output (a table, markdown, JSON or CSV).
    pub text: String,
    /// Messages for the user beside the output (stderr on the command line).
    pub notes: Vec<String>,
}

/// A deployment and its workload, as `simulate` (and `sweep` and `plan` as their base) takes it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentOptions {
    /// GPU (catalog name, matched loosely: 4090, "RTX 4090", a100-80g; whole words only, so "GH200" is
    /// never taken for an H200).
    pub gpu: String,
    /// Model: catalog id or path to a Hugging Face config.json.
    pub model: Option<String>,
    /// Engine release (vllm-0.10, vllm-0.6, 0.11.0, nano-vllm, …).
    pub engine: Option<String>,
    /// vLLM's engine flags (unset stays unset).
    pub flags: EngineFlags,
    /// Engine replicas behind a router, each with `tensor_parallel_size` GPUs.
    pub replicas: u32,
    /// Router across replicas: round-robin, least-outstanding, random.
    pub router: String,
    /// TTS: the text length in characters.
    pub text_chars: Option<u32>,
    /// Tokens in the first streamed chunk (TTS: TTFB is the time to it).
    pub first_chunk_tokens: u32,
    /// Closed-loop concurrency levels.
    pub concurrency: Option<Vec<u32>>,
    /// Requests each closed-loop user sends.
    pub requests_per_user: Option<u32>,
    /// Open-loop request rates, req/s (`inf`: everything at once).
    pub qps: Option<Vec<f64>>,
    /// Requests per open-loop level.
    pub num_requests: Option<u32>,
    /// Most requests outstanding at once with `qps`.
    pub max_concurrency: Option<u32>,
    /// Poisson gaps as vLLM's own client draws them (`--seed` of `benchmark_serving.py` /
    /// `vllm bench serve`), draw for draw; none: the workload file's, else servecast's own.
    pub client_draws: Option<crate::workload::arrivals::ClientDraws>,
    /// Prompt length (`512`, `100..900`, `lognormal:500,0.8`, …).
    pub input_len: Option<String>,
    /// Output length, same syntax.
    pub output_len: Option<String>,
    /// vLLM bench's `--random-range-ratio`: prompt and output lengths drawn around the plain
    /// `input_len` / `output_len` (default 1024 and 128, its `random` dataset's) as the client
    /// of the engine's release draws them.
    pub random_range_ratio: Option<f64>,
    /// A pasted `vllm bench serve …` / `benchmark_serving.py …` command: the load it sends, for
    /// whatever the other workload options leave unset.
    pub client: Option<String>,
    /// Workload YAML file.
    pub workload: Option<PathBuf>,
    /// The levels replay one sample of prompts to one long-lived server (a sweep with one client
    /// seed): from the second level on, prompts hit their twins' blocks in the prefix cache.
    pub warm_prefix_cache: bool,
    /// The endpoint requests go to (none: the workload file's, else completions).
    pub endpoint: Option<Endpoint>,
    /// Profile YAML file, built-in profile id, or `roofline`.
    pub profile: Option<String>,
    /// Random seed.
    pub seed: u64,
    /// A pasted server command (`vllm serve MODEL --flag …`, or `python -m
    /// vllm.entrypoints.openai.api_server …`), as words: sets the model and the engine flags.
    pub serve: Vec<String>,
}

impl Default for DeploymentOptions {
    fn default() -> Self {
        DeploymentOptions {
            gpu: String::new(),
            model: None,
            engine: None,
            flags: EngineFlags::default(),
            replicas: 1,
            router: "round-robin".into(),
            text_chars: None,
            first_chunk_tokens: 1,
            concurrency: None,
            requests_per_user: None,
            qps: None,
            num_requests: None,
            max_concurrency: None,
            client_draws: None,
            input_len: None,
            random_range_ratio: None,
            client: None,
            output_len: None,
            workload: None,
            warm_prefix_cache: false,
            endpoint: None,
            profile: None,
            seed: 0,
            serve: Vec::new(),
        }
    }
}

/// Reads a file, naming it on failure.
pub fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Writes a file, naming it on failure.
pub fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Refuses an output path whose directory does not exist, before a long run would fail to write
/// it (exit 2, naming the flag).
pub fn check_output_dir(flag: &str, path: &Path) -> Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => return Ok(()),
    };
    if dir.is_dir() {
        Ok(())
    } else {
        Err(Error::invalid(
            flag,
            flag.trim_start_matches('-'),
            format!(
                "cannot write {}: directory {} does not exist",
                path.display(),
                dir.display()
            ),
        ))
    }
}

/// A profile: a YAML file, a built-in profile id, or `roofline` / `roofline-<engine>`.
pub fn load_profile(arg: &str) -> Result<Profile> {
    let path = Path::new(arg);
    if path.exists() {
        let p = Profile::from_yaml(&read(path)?, arg)?;
        let catalog = Catalog::builtin()?;
        if let Some(g) = &p.gpu {
            catalog.gpu(g).map_err(|e| e.located(arg))?;
        }
        if let Some(m) = &p.model {
            catalog.model(m).map_err(|e| e.located(arg))?;
        }
        return Ok(p);
    }
    if let Some(p) = builtin_profile_by_id(arg)? {
        return Ok(p);
    }
    if let Some(rest) = arg.strip_prefix("ideal") {
        let version = match rest.trim_start_matches(['.', '-', ':']) {
            "" => EngineVersion::default(),
            v => EngineVersion::parse(v, "--profile")?,
        };
        return Ok(Profile::ideal(version));
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
            "'{arg}' is neither a file nor a built-in profile; built-in: {}, roofline, ideal",
            ids.join(", ")
        ),
    ))
}

/// A measured file (every setup in it) or a built-in report id.
pub fn load_reports(arg: &str) -> Result<Vec<MeasuredReport>> {
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
                arg,
                "report",
                format!("is neither a file nor a built-in report; built-in: {}", ids.join(", ")),
            )
        })
}

/// The scenario builder of a deployment: flags, a workload file, or the GPU's built-in report
/// for what is left out. Notes (e.g. which built-in report filled the gaps) go to `notes`.
pub fn scenario_builder(o: &DeploymentOptions, notes: &mut Vec<String>) -> Result<ScenarioBuilder> {
    resolve(o, notes).map(|r| r.builder)
}

/// Levels of a pasted client command that depend on what the server does: counts of runs the
/// tester bounds by time, and GuideLLM's sweep rates. Each is set from a short simulation of the
/// scenario first (the same model, engine, profile and lengths).
enum ClientProbe {
    /// Shared-queue levels bounded by `seconds` (their count 0): each sends what its simulated
    /// request rate fits into them.
    Timed {
        levels: Vec<crate::workload::arrivals::ConcurrencyLevel>,
        seconds: f64,
    },
    /// GuideLLM's sweep: the synchronous and throughput runs simulated, then `constant_rates`
    /// evenly spaced rates from the one to the other.
    Sweep {
        constant_rates: u32,
        max_concurrency: u32,
        burstiness: f64,
        per_run: Option<u32>,
        seconds: Option<f64>,
    },
}

impl ClientProbe {
    /// Simulated completed requests per second of one shared-queue level.
    fn rate(b: &ScenarioBuilder, concurrency: u32, num_requests: u32) -> Result<f64> {
        let level = crate::workload::arrivals::ConcurrencyLevel {
            concurrency,
            num_requests: num_requests.max(1),
        };
        let scenario = b
            .clone()
            .edit_workload(|w| w.set_shared_queue(vec![level]))
            .build()
            .map_err(at_flags)?;
        let rate = scenario
            .run()?
            .levels
            .first()
            .map_or(0.0, |l| l.request_throughput_req_s);
        if rate > 0.0 && rate.is_finite() {
            Ok(rate)
        } else {
            Err(Error::invalid(
                "--client",
                "load",
                format!(
                    "no request completes at {concurrency} in flight (each is refused): nothing to time the run by"
                ),
            ))
        }
    }

    /// Requests a run of `seconds` at `rate` req/s sends (at least `floor`).
    fn count(rate: f64, seconds: f64, floor: u32) -> u32 {
        ((rate * seconds).ceil().min(f64::from(u32::MAX)) as u32).max(floor)
    }

    fn resolve(self, b: ScenarioBuilder, notes: &mut Vec<String>) -> Result<ScenarioBuilder> {
        match self {
            ClientProbe::Timed { mut levels, seconds } => {
                for l in levels.iter_mut().filter(|l| l.num_requests == 0) {
                    let rate = Self::rate(&b, l.concurrency, l.concurrency.saturating_mul(4).max(40))?;
                    l.num_requests = Self::count(rate, seconds, l.concurrency);
                    notes.push(format!(
                        "note: --client: {seconds} s at {} in flight: {} requests (the simulated {rate:.2} req/s)",
                        l.concurrency, l.num_requests
                    ));
                }
                Ok(b.edit_workload(|w| w.set_shared_queue(levels)))
            }
            ClientProbe::Sweep {
                constant_rates,
                max_concurrency,
                burstiness: shape,
                per_run,
                seconds,
            } => {
                let sync = Self::rate(&b, 1, per_run.unwrap_or(20).min(20))?;
                let thr = Self::rate(
                    &b,
                    max_concurrency,
                    per_run.unwrap_or(max_concurrency.saturating_mul(2)),
                )?;
                // np.linspace(sync, thr, n + 1)[1:]: the last at the throughput rate.
                let n = f64::from(constant_rates);
                let rates: Vec<f64> = (1..=constant_rates)
                    .map(|k| {
                        let r = sync + (thr - sync) * f64::from(k) / n;
                        (r * 1e4).round() / 1e4
                    })
                    .collect();
                let counts: Vec<u32> = match (per_run, seconds) {
                    (Some(n), _) => vec![n; rates.len()],
                    (None, Some(s)) => rates.iter().map(|r| Self::count(*r, s, 1)).collect(),
                    (None, None) => vec![1000; rates.len()],
                };
                notes.push(format!(
                    "note: --client: GuideLLM's sweep: its synchronous run simulated at {sync:.3} req/s and its \
                     throughput run ({max_concurrency} in flight) at {thr:.3} req/s; shown are the {constant_rates} \
                     constant rates between them (the two runs themselves: GuideLLM's synchronous and throughput profiles)"
                ));
                Ok(b.edit_workload(|w| {
                    w.set_poisson(rates, counts[0], Some(max_concurrency));
                    if let LoadSpec::Poisson {
                        burstiness,
                        num_requests_per_level,
                        ..
                    } = &mut w.load
                    {
                        *burstiness = shape;
                        *num_requests_per_level = counts.iter().any(|c| *c != counts[0]).then_some(counts);
                    }
                }))
            }
        }
    }
}

/// A deployment resolved: its scenario builder, and the measured report a replayed load-test
/// file became (its figures are shown beside the prediction while the levels are the file's).
pub struct Resolved {
    /// The scenario, ready to build (or to vary, for sweeps and plans).
    pub builder: ScenarioBuilder,
    /// The load-test result `--workload` replays, as a measured report; none otherwise, or when
    /// the command line changed its levels or lengths.
    pub replayed: Option<MeasuredReport>,
    /// Further groups of runs of the same file that need a report of their own (a GuideLLM
    /// sweep's synchronous, throughput and rate runs): each scenario with its report.
    pub more_replays: Vec<(ScenarioBuilder, MeasuredReport)>,
}

/// An unknown GPU or model named by the command line, said with its flag.
pub fn at_flags(e: Error) -> Error {
    match &e {
        Error::UnknownGpu { .. } => e.located("--gpu"),
        Error::UnknownModel { .. } => e.located("--model"),
        _ => e,
    }
}

/// [`scenario_builder`], keeping the replayed report.
pub fn resolve(o: &DeploymentOptions, notes: &mut Vec<String>) -> Result<Resolved> {
    resolve_inner(o, notes).map_err(at_flags)
}

/// Refuses options that contradict each other instead of letting one silently win.
fn refuse_conflicts(o: &DeploymentOptions) -> Result<()> {
    if o.qps.is_some() && (o.concurrency.is_some() || o.requests_per_user.is_some()) {
        return Err(Error::invalid(
            "--qps",
            "qps",
            "open-loop rates (--qps) and closed-loop users (--concurrency / --requests-per-user) describe two different \
             loads; give one (--qps R --max-concurrency C is a rate behind a concurrency limit)",
        ));
    }
    if o.max_concurrency.is_some() && o.qps.is_none() {
        return Err(Error::invalid(
            "--max-concurrency",
            "max_concurrency",
            "limits an open-loop load: give it with --qps (use --concurrency for closed-loop users)",
        ));
    }
    if o.text_chars.is_some() && (o.input_len.is_some() || o.output_len.is_some()) {
        return Err(Error::invalid(
            "--text-chars",
            "text_chars",
            "sets prompt and output tokens from the model's text and speech rates; it cannot be combined with \
             --input-len / --output-len",
        ));
    }
    Ok(())
}

fn resolve_inner(o: &DeploymentOptions, notes: &mut Vec<String>) -> Result<Resolved> {
    refuse_conflicts(o)?;
    let mut bench = o
        .client
        .as_deref()
        .map(crate::workload::client_command::ClientCommand::parse)
        .transpose()?;
    // An offline benchmark starts its own engine: its engine arguments are the server command.
    let offline = bench.as_ref().filter(|c| c.program.is_offline());
    let pasted = match offline {
        Some(c) => Some(offline_engine(c, o)?),
        None if o.serve.is_empty() => None,
        None => Some(crate::spec::cmdline::parse_vllm_serve_args(&o.serve)?),
    };
    let offline = offline.is_some();
    let mut flags = o.flags.clone();
    let mut replicas = o.replicas;
    let mut model = o.model.clone();
    if let Some(cmd) = &pasted {
        flags = merge_pasted_flags(&o.flags, &cmd.flags)?;
        if let Some(dp) = cmd.data_parallel_size.filter(|&dp| offline && dp > 1) {
            // vLLM's offline benchmark refuses it (vllm/benchmarks/throughput.py validate_args).
            return Err(Error::invalid(
                "--client",
                "--data-parallel-size",
                format!(
                    "{dp}: Data parallel is only supported with external launcher mode with synchronous engine in \
                     offline benchmark, please use benchmark serving instead"
                ),
            ));
        }
        if let Some(dp) = cmd.data_parallel_size {
            if o.replicas != 1 && o.replicas != dp {
                return Err(Error::invalid(
                    "--replicas",
                    "replicas",
                    format!(
                        "is {} but the pasted command has --data-parallel-size {dp}; give one",
                        o.replicas
                    ),
                ));
            }
            replicas = dp;
        }
        match &model {
            Some(m) if m != &cmd.model => {
                return Err(Error::invalid(
                    "--model",
                    "model",
                    format!("is '{m}' but the pasted command serves '{}'; give one", cmd.model),
                ))
            }
            _ => model = Some(cmd.model.clone()),
        }
        if !cmd.ignored.is_empty() {
            notes.push(format!(
                "note: performance-neutral flags of the pasted command: {}",
                cmd.ignored.join(" ")
            ));
        }
    }
    if offline {
        flags.usage_context = Some(crate::spec::engine::UsageContext::LlmClass);
    }
    if let (None, Some(m)) = (&model, bench.as_ref().and_then(|c| c.model.as_ref())) {
        notes.push(format!("note: the model is the --client command's --model, {m}"));
        model = Some(m.clone());
    }
    if let Some(c) = bench.as_mut() {
        let endpoint = o.endpoint.unwrap_or(c.endpoint);
        c.recount_sonnet(model.as_deref(), endpoint)?;
    }
    let mut b = Scenario::builder()
        .gpu(&o.gpu)
        .flags(flags)
        .seed(o.seed)
        .replicas(replicas)
        .first_chunk_tokens(o.first_chunk_tokens)
        .router(crate::engine::cluster::Router::parse(&o.router, "--router")?);
    if let Some(m) = &model {
        b = match model_source(m, pasted.is_some())? {
            ModelSource::Config(path) => b.model_spec(ModelSpec::from_hf_config_json(&read(&path)?, m)?),
            ModelSource::Catalog(id) => b.model(&id),
        };
    }
    if let Some(e) = &o.engine {
        b = b.engine(EngineVersion::parse(e, "--engine")?);
        if crate::spec::engine::release_patch(e).is_some() {
            b = b.release(e);
        }
        let newest = crate::spec::engine::NEWEST_MODELLED_RELEASE;
        if crate::spec::engine::release_number(e).is_some_and(|r| r > newest) {
            notes.push(format!(
                "note: --engine {e} is newer than the newest vLLM release servecast models ({}.{}): it runs with {}.{}'s rules and host costs",
                newest.0, newest.1, newest.0, newest.1
            ));
        }
    }
    let mut replay = None;
    let mut measured_flags = false;
    let mut more_reports = Vec::new();
    let before_replay = b.clone();
    if let Some(path) = &o.workload {
        match workload_file(path, o, model.as_deref(), notes)? {
            WorkloadFile::Spec(w) => b = b.workload(w),
            WorkloadFile::Replay {
                mut reports,
                workload,
                own_flags,
            } => {
                measured_flags = own_flags;
                let first = reports.remove(0);
                b = b.from_report(&first);
                if let Some(w) = workload {
                    b = b.workload(w);
                }
                if model.is_none() {
                    model = Some(first.model.clone());
                }
                replay = Some(first);
                more_reports = reports;
            }
        }
    }
    if let Some(first) = &replay {
        // A measured report names its own GPU and model: simulated on others, its load is a
        // what-if and its figures are no yardstick.
        let catalog = Catalog::builtin()?;
        let asked_gpu = catalog.gpu(&o.gpu)?.id.clone();
        let origin = o.workload.as_ref().map_or(String::new(), |p| p.display().to_string());
        // Catalog ids of each report's GPU and model; one the catalog lacks is a broken file,
        // not a what-if.
        let mut ids = Vec::new();
        for r in std::iter::once(first).chain(&more_reports) {
            let at = format!("{origin} ({})", r.id);
            let gpu = catalog.gpu(&r.gpu).map_err(|e| e.located(&at))?.id.clone();
            let model = catalog.model(&r.model).map_err(|e| e.located(&at))?.id.clone();
            ids.push((r.id.clone(), gpu, model));
        }
        let asked_model = o
            .model
            .as_deref()
            .map(|m| catalog.model(m).map_or(m.to_string(), |x| x.id.clone()));
        let other = ids
            .iter()
            .find(|(_, gpu, model)| *gpu != asked_gpu || asked_model.as_ref().is_some_and(|m| m != model));
        let flags_changed = measured_flags && o.flags != EngineFlags::default();
        if other.is_none() && flags_changed {
            notes.push(format!(
                "note: the command line changes '{}''s server flags, so no measured figures are shown beside the prediction",
                first.id
            ));
            replay = None;
            more_reports.clear();
        } else if let Some((id, gpu, model)) = other {
            notes.push(format!(
                "note: '{id}' was measured with {model} on {gpu}; simulated with {} on {asked_gpu}, so no measured \
                 figures are shown beside the prediction",
                asked_model.as_deref().unwrap_or(model),
            ));
            replay = None;
            more_reports.clear();
        }
    }
    if model.is_none() || o.workload.is_none() {
        b = b.from_builtin_report()?;
        if let Some(id) = b.report_id() {
            notes.push(format!(
                "note: using the built-in measured report '{id}' for what the command line leaves out (model, engine flags, workload)"
            ));
        }
    }
    if b.report_id().is_none() && o.workload.is_none() {
        // No report and no workload file: a default closed-loop sweep.
        if o.qps.is_none() && o.concurrency.is_none() && o.client.is_none() {
            notes.push(
                "note: no workload given: servecast's default closed loop (1, 4, 8, 16, 32, 64 users × 10 requests each; \
                 512-token prompts, 256-token outputs, lengths overridable with --input-len/--output-len); set \
                 --concurrency or --qps, or pass --workload FILE"
                    .into(),
            );
        }
        b = b.workload(WorkloadSpec::closed_loop(
            vec![1, 4, 8, 16, 32, 64],
            10,
            LengthDist::Fixed { tokens: 512 },
            LengthDist::Fixed { tokens: 256 },
        ));
    }
    // The client whose rules the random dataset's lengths follow: the --engine release's.
    let era = {
        let release = o.engine.as_deref().and_then(crate::spec::engine::release_patch);
        let v0_line = o
            .engine
            .as_deref()
            .and_then(|e| EngineVersion::parse(e, "--engine").ok())
            .is_some_and(|v| {
                matches!(
                    v,
                    EngineVersion::Vllm05 | EngineVersion::Vllm06 | EngineVersion::Vllm0600
                )
            });
        crate::workload::datasets::RandomRangeEra::of(release, v0_line)
    };
    let (input, output) = match o.random_range_ratio {
        None => (
            o.input_len
                .as_deref()
                .map(|t| LengthDist::parse(t, "--input-len"))
                .transpose()?,
            o.output_len
                .as_deref()
                .map(|t| LengthDist::parse(t, "--output-len"))
                .transpose()?,
        ),
        Some(ratio) => {
            use crate::workload::datasets::random_range_lengths;
            let plain = |text: Option<&str>, default: u32, flag: &str| -> Result<u32> {
                match text {
                    None => Ok(default),
                    Some(t) => t.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        Error::invalid(
                            flag,
                            flag.trim_start_matches('-'),
                            format!(
                                "'{t}': with --random-range-ratio, a whole number of tokens ≥ 1 (vLLM's --random-{})",
                                flag.trim_start_matches("--")
                            ),
                        )
                    }),
                }
            };
            let input_len = plain(o.input_len.as_deref(), 1024, "--input-len")?;
            let output_len = plain(o.output_len.as_deref(), 128, "--output-len")?;
            (
                Some(random_range_lengths(input_len, ratio, era, "--random-range-ratio")?),
                Some(random_range_lengths(output_len, ratio, era, "--random-range-ratio")?),
            )
        }
    };
    // A pasted client command sets what the command line leaves unset.
    let (mut input, mut output) = (input, output);
    let (mut qps, mut num_requests, mut max_concurrency) = (o.qps.clone(), o.num_requests, o.max_concurrency);
    let (mut endpoint, mut burstiness) = (o.endpoint, None);
    let mut shared_queue: Option<Vec<crate::workload::arrivals::ConcurrencyLevel>> = None;
    let mut rate_counts: Option<Vec<u32>> = None;
    let mut shared_prefix: Option<(u32, u32)> = None;
    let mut test_prompt = None;
    let mut probe = None;
    if let Some(c) = &bench {
        let (i, out) = c.lengths(era)?;
        // Lengths given on the command line win, each on its own (both with --random-range-ratio).
        let ranged = o.random_range_ratio.is_some();
        if o.input_len.is_none() && !ranged {
            input = Some(i);
        }
        if o.output_len.is_none() && !ranged {
            match out {
                Some(out) => output = Some(out),
                None => {
                    return Err(Error::invalid(
                        "--client",
                        "max_tokens",
                        format!(
                            "the {} command sets no output length (no max_tokens is sent), so the answers are as \
                             long as the model makes them: give --output-len",
                            c.program.name()
                        ),
                    ))
                }
            }
        }
        match &c.load {
            ClientLoad::Rates {
                qps: rates,
                num_requests: n,
                num_requests_per_level: per_level,
                max_concurrency: cap,
                burstiness: b,
            } => {
                if qps.is_none() && o.concurrency.is_none() {
                    qps = Some(rates.clone());
                    burstiness = Some(*b);
                    if o.num_requests.is_none() {
                        rate_counts.clone_from(per_level);
                    }
                }
                num_requests = num_requests.or(Some(*n));
                max_concurrency = max_concurrency.or(*cap);
            }
            ClientLoad::Concurrency { levels } => {
                if qps.is_none() && o.concurrency.is_none() && o.requests_per_user.is_none() {
                    let mut levels = levels.clone();
                    if let Some(n) = o.num_requests {
                        levels.iter_mut().for_each(|l| l.num_requests = n);
                    }
                    if levels.iter().any(|l| l.num_requests == 0) {
                        probe = Some(ClientProbe::Timed {
                            levels: levels.clone(),
                            seconds: c.max_seconds_per_run.unwrap_or(60.0),
                        });
                    }
                    shared_queue = Some(levels);
                }
            }
            ClientLoad::Sweep {
                constant_rates,
                max_concurrency: cap,
                burstiness: shape,
            } => {
                if qps.is_none() && o.concurrency.is_none() && o.requests_per_user.is_none() {
                    probe = Some(ClientProbe::Sweep {
                        constant_rates: *constant_rates,
                        max_concurrency: *cap,
                        burstiness: *shape,
                        per_run: o.num_requests.or(c.max_requests_per_run),
                        seconds: c.max_seconds_per_run,
                    });
                }
            }
        }
        endpoint = endpoint.or(Some(c.endpoint));
        shared_prefix = c.shared_prefix;
        test_prompt = Some(c.test_prompt);
        notes.extend(c.notes.iter().map(|n| format!("note: --client: {n}")));
        if !c.ignored.is_empty() {
            notes.push(format!(
                "note: --client: without effect on the simulation: {}",
                c.ignored.join(", ")
            ));
        }
    }
    let concurrency = o.concurrency.clone();
    let (rpu, num_requests, max_concurrency) = (o.requests_per_user, num_requests, max_concurrency);
    let warm = o.warm_prefix_cache;
    let draws = o.client_draws;
    b = b.edit_workload(|w| {
        w.warm_prefix_cache |= warm;
        if test_prompt == Some(true) {
            w.initial_test_run = test_prompt;
        }
        if let Some((groups, tokens)) = shared_prefix {
            w.prefix_groups = groups;
            w.shared_prefix_tokens = tokens;
        }
        if let Some(e) = endpoint {
            w.endpoint = e;
        }
        if let Some(d) = input {
            w.input_len = d;
            w.input_len_per_level = None;
        }
        if let Some(d) = output {
            w.set_output_len(d);
        }
        if let Some(levels) = shared_queue {
            w.set_shared_queue(levels);
        } else if let Some(q) = qps {
            w.set_poisson(q, num_requests.unwrap_or(1000), max_concurrency);
            if let (Some(b), LoadSpec::Poisson { burstiness, .. }) = (burstiness, &mut w.load) {
                *burstiness = b;
            }
            if let LoadSpec::Poisson {
                num_requests_per_level, ..
            } = &mut w.load
            {
                num_requests_per_level.clone_from(&rate_counts);
            }
        } else if let Some(c) = concurrency {
            w.set_concurrency(c, rpu);
        } else if let (Some(n), LoadSpec::ClosedLoop { concurrency, .. }) = (rpu, &w.load) {
            let levels = concurrency.clone();
            w.set_concurrency(levels, Some(n));
        }
        if let (Some(n), LoadSpec::Poisson { num_requests, .. }) = (num_requests, &mut w.load) {
            *num_requests = n;
        }
        if let (Some(d), LoadSpec::Poisson { client_draws, .. }) = (draws, &mut w.load) {
            *client_draws = Some(d);
        }
    });
    match o.profile.as_deref() {
        // The prior of whichever engine the scenario runs (--engine, a report's, or the default).
        Some("roofline") => b = b.roofline_profile(),
        // A bound: the ideal GPU of the scenario's engine.
        Some("ideal") => b = b.ideal_profile(),
        Some(p) => b = b.profile(load_profile(p)?),
        None => {}
    }
    if let Some(chars) = o.text_chars {
        b = b.text_chars(chars);
    }
    if let Some(p) = probe {
        b = p.resolve(b, notes)?;
    }
    let changed = o.qps.is_some()
        || o.concurrency.is_some()
        || o.requests_per_user.is_some()
        || o.num_requests.is_some()
        || o.input_len.is_some()
        || o.output_len.is_some()
        || o.random_range_ratio.is_some()
        || o.client.is_some()
        || o.text_chars.is_some();
    if changed && replay.is_some() {
        notes.push(
            "note: the command line changes the replayed load, so no measured figures are shown beside the prediction"
                .into(),
        );
        replay = None;
        more_reports.clear();
    }
    let mut more_replays = Vec::new();
    for r in more_reports {
        let mut extra = before_replay.clone().from_report(&r);
        match o.profile.as_deref() {
            Some("roofline") => extra = extra.roofline_profile(),
            Some("ideal") => extra = extra.ideal_profile(),
            Some(p) => extra = extra.profile(load_profile(p)?),
            None => {}
        }
        more_replays.push((extra, r));
    }
    Ok(Resolved {
        builder: b,
        replayed: replay,
        more_replays,
    })
}

/// What a `--workload` file holds.
enum WorkloadFile {
    /// A workload (YAML, or a CSV / JSON Lines trace).
    Spec(WorkloadSpec),
    /// A load-test result: the report it imports as, and (for one open-loop run whose send
    /// times are recorded) the trace that re-sends it exactly.
    Replay {
        reports: Vec<MeasuredReport>,
        workload: Option<WorkloadSpec>,
        /// The reports carry their own server flags (a measured report); an imported load
        /// test's reports take the command line's.
        own_flags: bool,
    },
}

/// YAML reading options for workload files: non-finite rates pass, and traces of up to about
/// ten million requests fit the node budget (use CSV or JSON Lines beyond).
fn workload_yaml_options() -> serde_saphyr::Options {
    let mut o = crate::measured::yaml_options();
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(2 << 30);
    budget.max_events = 200_000_000;
    budget.max_nodes = 50_000_000;
    budget.max_total_scalar_bytes = 1 << 30;
    o.budget = Some(budget);
    o
}

/// Reads a `--workload` file: YAML, a CSV / JSON Lines trace, or any load-test result servecast
/// imports (replayed: the same requests, lengths and load, with the measured figures kept).
fn workload_file(
    path: &Path,
    o: &DeploymentOptions,
    model: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<WorkloadFile> {
    use crate::measured::import;
    let origin = path.display().to_string();
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    let claimed_by_importer = || -> bool {
        // A result file with a trace's extension (AIPerf's profile_export.jsonl, SGLang's
        // JSONL): its first 64 KiB decide, so a long trace is never read whole for this.
        use std::io::Read;
        let mut head = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
            .map(|_| import::detect(&origin, &String::from_utf8_lossy(&head)).is_ok())
            .unwrap_or(false)
    };
    if crate::workload::trace::is_trace_file(path) && !claimed_by_importer() {
        let requests = crate::workload::trace::read_trace(path)?;
        let (input, output) = crate::workload::arrivals::trace_mean_lengths(&requests);
        notes.push(format!(
            "note: {origin}: a trace of {} requests, replayed once",
            requests.len()
        ));
        return Ok(WorkloadFile::Spec(WorkloadSpec::new(
            LoadSpec::Trace { requests },
            input,
            output,
        )));
    }
    let text = read(path)?;
    if is_measured_report(&text) {
        // servecast's own measured-report format (data/measured): every setup it holds is
        // replayed with its server flags and load, its measured figures beside.
        let reports = MeasuredReport::from_yaml_documents(&text, &origin)?;
        notes.push(format!(
            "note: replaying {origin} ({} measured setup(s)): each runs with its own model, engine and flags, its \
             measured figures beside the predicted ones",
            reports.len()
        ));
        // A measured figure no GPU could reach means the file does not describe what ran.
        for r in &reports {
            for b in crate::fit::floor::floor_breaches(r).unwrap_or_default() {
                notes.push(format!(
                    "warning: {}: {}: the setup as the file states it cannot have produced this figure",
                    r.id,
                    b.describe()
                ));
            }
        }
        return Ok(WorkloadFile::Replay {
            reports,
            workload: None,
            own_flags: true,
        });
    }
    if matches!(ext.as_deref(), Some("yaml" | "yml")) || import::detect(&origin, &text).is_err() {
        if ext.as_deref() == Some("json") {
            // A JSON file that is no known result format: say which formats are read.
            import::detect(&origin, &text)?;
        }
        let mut w: WorkloadSpec = serde_saphyr::from_str_with_options(&text, workload_yaml_options()).map_err(|e| {
            let err = Error::from_yaml(&origin, &e);
            if e.to_string().contains("budget") {
                Error::invalid(
                    &origin,
                    "requests",
                    format!("is too large for a YAML workload ({err}); write the trace as CSV or JSON Lines instead"),
                )
            } else {
                err
            }
        })?;
        w.fill_dataset_parts();
        w.validate(&origin)?;
        return Ok(WorkloadFile::Spec(w));
    }
    let runs = import::import_file(path)?;
    let model_id =
        match model {
            Some(m) => catalog_model_id(m)?,
            None => {
                let named = runs.iter().find_map(|r| r.model_id.clone());
                match named {
                    Some(id) => crate::spec::cmdline::resolve_model(Catalog::builtin()?, &id)
                        .map(|m| m.id.clone())
                        .map_err(|_| {
                            Error::invalid(
                                &origin,
                                "model_id",
                                format!(
                                "'{id}' is not in the catalog; pass --model with a catalog id (servecast list models) \
                                 or the path to the model's config.json"
                            ),
                            )
                        })?,
                    None => return Err(Error::invalid(
                        &origin,
                        "model_id",
                        "the file does not name its model; pass --model with a catalog id or the path to a config.json",
                    )),
                }
            }
        };
    let engine = o
        .engine
        .as_deref()
        .map(|e| EngineVersion::parse(e, "--engine"))
        .transpose()?
        .unwrap_or_default();
    let groups = import::group_runs(runs);
    let trace = (groups.len() == 1 && groups[0].len() == 1)
        .then(|| import::replay_workload(&groups[0][0]))
        .filter(|w| matches!(w.load, LoadSpec::Trace { .. }));
    let total: usize = groups.iter().map(Vec::len).sum();
    notes.push(format!(
        "note: replaying {origin} ({total} run(s), {}{}): measured figures are shown beside the predicted ones",
        groups[0][0].format,
        if groups.len() > 1 {
            format!(", in {} groups of one load kind each", groups.len())
        } else {
            String::new()
        }
    ));
    let ctx = import::ImportContext {
        gpu: Catalog::builtin()?.gpu(&o.gpu)?.id.clone(),
        model: model_id,
        engine,
        flags: o.flags.clone(),
    };
    let reports = groups
        .into_iter()
        .map(|g| import::build_report(g, &ctx))
        .collect::<Result<Vec<_>>>()?;
    Ok(WorkloadFile::Replay {
        reports,
        workload: trace,
        own_flags: false,
    })
}

/// Whether a YAML text is one of servecast's measured reports (`data/measured`'s format: `id`,
/// `provenance` and `levels` at the top level of a document) rather than a workload.
fn is_measured_report(text: &str) -> bool {
    let top = |key: &str| {
        text.lines()
            .any(|l| l.strip_prefix(key).is_some_and(|r| r.starts_with(':')))
    };
    top("levels") && top("provenance") && top("id")
}

/// The catalog id a `--model` argument names (a config.json path keeps its own name).
pub(crate) fn catalog_model_id(arg: &str) -> Result<String> {
    match model_source(arg, false)? {
        ModelSource::Catalog(name) => Ok(Catalog::builtin()?.model(&name)?.id.clone()),
        ModelSource::Config(path) => Ok(ModelSpec::from_hf_config_json(&read(&path)?, arg)?.id),
    }
}

/// Where a model argument points.
enum ModelSource {
    /// A Hugging Face config.json on disk.
    Config(PathBuf),
    /// A catalog id (matched exactly).
    Catalog(String),
}

/// The engine an offline benchmark (`vllm bench throughput …`) starts, read from its engine
/// arguments as a `vllm serve` command; the model is `--model`'s when the benchmark names none.
fn offline_engine(
    c: &crate::workload::client_command::ClientCommand,
    o: &DeploymentOptions,
) -> Result<crate::spec::cmdline::ServeCommand> {
    if !o.serve.is_empty() {
        return Err(Error::invalid(
            "--client",
            "command",
            format!(
                "{} starts its own engine (vLLM's LLM class): give its engine flags in the --client command, not \
                 as a server command after --",
                c.program.name()
            ),
        ));
    }
    let mut words = c.engine_args.clone();
    if c.model.is_none() {
        let Some(m) = &o.model else {
            return Err(Error::invalid(
                "--client",
                "--model",
                format!(
                    "the {} command names no --model (vLLM's default is facebook/opt-125m): give --model",
                    c.program.name()
                ),
            ));
        };
        words.splice(0..0, ["--model".to_string(), m.clone()]);
    }
    crate::spec::cmdline::parse_vllm_serve_args(&words)
}

/// Resolves a model argument: a config.json (or a directory holding one), a catalog id, or (for
/// a pasted server command, whose model is often a local path) the catalog id its last path part
/// names. A path that does not exist is an error naming it, not an unknown model.
fn model_source(arg: &str, pasted: bool) -> Result<ModelSource> {
    let path = Path::new(arg);
    if path.is_file() {
        return Ok(ModelSource::Config(path.to_path_buf()));
    }
    if path.is_dir() {
        let config = path.join("config.json");
        if config.is_file() {
            return Ok(ModelSource::Config(config));
        }
        return Err(Error::invalid(
            arg,
            "model",
            "is a directory without a config.json; pass the model's config.json or a catalog id",
        ));
    }
    let looks_like_path = arg.ends_with(".json") || arg.starts_with(['.', '/', '~']);
    if looks_like_path && !pasted {
        return Err(Error::Io {
            path: arg.to_string(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file (--model takes a catalog id or the path to a model's config.json)",
            ),
        });
    }
    let catalog = Catalog::builtin()?;
    if pasted {
        return crate::spec::cmdline::resolve_model(catalog, arg).map(|m| ModelSource::Catalog(m.id.clone()));
    }
    Ok(ModelSource::Catalog(arg.to_string()))
}

/// The pasted command's flags under the command line's: a flag both set must agree.
pub(crate) fn merge_pasted_flags(cli: &EngineFlags, pasted: &EngineFlags) -> Result<EngineFlags> {
    let a = serde_json::to_value(cli).map_err(|e| Error::invalid("vllm serve", "flags", e.to_string()))?;
    let b = serde_json::to_value(pasted).map_err(|e| Error::invalid("vllm serve", "flags", e.to_string()))?;
    if let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (&a, &b) {
        for (k, va) in a {
            if let Some(vb) = b.get(k) {
                if !va.is_null() && !vb.is_null() && va != vb {
                    return Err(Error::invalid(
                        "vllm serve",
                        k,
                        format!("the command line sets {va} but the pasted command sets {vb}; give one"),
                    ));
                }
            }
        }
    }
    Ok(cli.or(pasted))
}

/// A one-line description of a deployment for chart titles and headers.
pub fn deployment_title(s: &Scenario) -> String {
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

/// The built-in catalog, listed: `gpus`, `models`, `reports` or `profiles`, one per line.
pub fn list(what: &str) -> Result<Outcome> {
    let catalog = Catalog::builtin()?;
    let lines: Vec<String> = match what {
        "gpus" => catalog
            .gpus
            .iter()
            .map(|g| format!("{:<14} {}", g.id, g.name))
            .collect(),
        "models" => catalog
            .models
            .iter()
            .map(|m| format!("{:<24} {}", m.id, m.name))
            .collect(),
        "reports" => builtin_reports()?
            .iter()
            .map(|r| format!("{:<40} {}", r.id, r.provenance.file))
            .collect(),
        "profiles" => builtin_profiles()?
            .iter()
            .map(|p| format!("{:<40} {}", p.id, p.source))
            .collect(),
        other => {
            return Err(Error::invalid(
                "list",
                "what",
                format!("'{other}' is not one of gpus, models, reports, profiles"),
            ));
        }
    };
    Ok(Outcome {
        text: lines.join("\n"),
        notes: Vec::new(),
    })
}

/// Renders a value as pretty JSON, as the commands' `--format json` do.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Fit(format!("cannot write JSON: {e}")))
}

/// The memory budget of a deployment as vLLM would compute it at start-up (the `memory` object
/// of `simulate --format json`), as JSON, without simulating any load; the engine's start-up
/// error when it would refuse to start.
pub fn memory(d: &DeploymentOptions) -> Result<Outcome> {
    let mut notes = Vec::new();
    let scenario = resolve(d, &mut notes)?.builder.build().map_err(at_flags)?;
    Ok(Outcome {
        text: to_json(&scenario.memory()?)?,
        notes,
    })
}

/// The built-in catalog as JSON: `{"gpus": [...], "models": [...]}`, every spec in full.
pub fn catalog() -> Result<Outcome> {
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        gpus: &'a [crate::spec::gpu::GpuSpec],
        models: &'a [ModelSpec],
    }
    let c = Catalog::builtin()?;
    Ok(Outcome {
        text: to_json(&Doc {
            gpus: &c.gpus,
            models: &c.models,
        })?,
        notes: Vec::new(),
    })
}

/// A pasted server command (`vllm serve MODEL --flag …`), parsed, as JSON: the model argument,
/// the engine flags servecast models, `data_parallel_size`, and the performance-neutral flags
/// it ignores (see [`crate::spec::cmdline::parse_vllm_serve`]).
pub fn serve_line(line: &str) -> Result<Outcome> {
    Ok(Outcome {
        text: to_json(&crate::spec::cmdline::parse_vllm_serve(line)?)?,
        notes: Vec::new(),
    })
}

#[cfg(test)]
mod output_dir_tests {
    use super::*;

    #[test]
    fn an_output_in_a_missing_directory_is_refused_before_the_run() {
        let err = check_output_dir("--calibration", Path::new("/no/such/dir/calibration.yaml"))
            .expect_err("a missing directory");
        assert_eq!(err.exit_code(), 2);
        let text = err.to_string();
        assert!(
            text.contains("--calibration") && text.contains("/no/such/dir"),
            "{text}"
        );
        // A bare file name writes to the working directory; an existing directory is fine.
        assert!(check_output_dir("--output", Path::new("validation.md")).is_ok());
        let tmp = std::env::temp_dir().join("servecast-out.md");
        assert!(check_output_dir("--output", &tmp).is_ok());
    }
}
