//! `servecast._native`: the library's commands ([`servecast::app`]) for Python.
//!
//! Each function takes the options of one command, runs it with the GIL released and returns
//! what the command line would print with `--format json` (as text: `servecast/__init__.py`
//! decodes it) and the notes it would write to stderr. Errors are `servecast.ServecastError`
//! with the library's message. The Python package around this module is `python/servecast/`.

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use serde::Deserialize;
use servecast::app::{self, DeploymentOptions, Outcome};
use servecast::report::Format;

create_exception!(
    _native,
    ServecastError,
    PyValueError,
    "An error of servecast: an unknown GPU or model, a configuration vLLM would refuse (in vLLM's \
     words), an option out of range. The message is the one the command line prints."
);

/// A deployment and its workload as the Python functions take it (keyword names as in
/// `servecast simulate --help`, with `_` for `-`); `flags` are vLLM flag words
/// (`--max-num-seqs 64`), built by the Python layer from its keyword arguments.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Deployment {
    gpu: Option<String>,
    model: Option<String>,
    engine: Option<String>,
    flags: Vec<String>,
    replicas: Option<u32>,
    router: Option<String>,
    text_chars: Option<u32>,
    first_chunk_tokens: Option<u32>,
    concurrency: Option<Vec<u32>>,
    requests_per_user: Option<u32>,
    qps: Option<Vec<f64>>,
    num_requests: Option<u32>,
    max_concurrency: Option<u32>,
    client_draws: Option<servecast::workload::arrivals::ClientDraws>,
    input_len: Option<String>,
    output_len: Option<String>,
    random_range_ratio: Option<f64>,
    client: Option<String>,
    workload: Option<PathBuf>,
    warm_prefix_cache: Option<bool>,
    endpoint: Option<servecast::workload::arrivals::Endpoint>,
    profile: Option<String>,
    seed: Option<u64>,
    serve: Option<Serve>,
}

/// A pasted server command: one line (split as a shell would) or its words.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Serve {
    Line(String),
    Words(Vec<String>),
}

impl Serve {
    /// The command's words.
    fn words(self) -> servecast::Result<Vec<String>> {
        match self {
            Serve::Line(line) => servecast::spec::cmdline::shell_words(&line),
            Serve::Words(words) => Ok(words),
        }
    }
}

/// vLLM flag words (`--max-num-seqs 64 --enable-prefix-caching`) as engine flags, parsed as a
/// pasted `vllm serve` command's are; `--data-parallel-size` comes back apart (it is replicas).
fn parse_flag_words(words: &[String]) -> servecast::Result<(servecast::spec::engine::EngineFlags, Option<u32>)> {
    if words.is_empty() {
        return Ok(Default::default());
    }
    let mut line = vec!["vllm".to_string(), "serve".into(), "--model".into(), "flags".into()];
    line.extend(words.iter().cloned());
    let cmd = servecast::spec::cmdline::parse_vllm_serve_args(&line)?;
    Ok((cmd.flags, cmd.data_parallel_size))
}

impl Deployment {
    /// The library's options: unset fields keep the command line's defaults.
    fn options(self) -> servecast::Result<DeploymentOptions> {
        let defaults = DeploymentOptions::default();
        let (flags, dp) = parse_flag_words(&self.flags)?;
        let serve = self.serve.map(Serve::words).transpose()?.unwrap_or_default();
        Ok(DeploymentOptions {
            gpu: self.gpu.unwrap_or_default(),
            model: self.model,
            engine: self.engine,
            flags,
            replicas: self.replicas.or(dp).unwrap_or(defaults.replicas),
            router: self.router.unwrap_or(defaults.router),
            text_chars: self.text_chars,
            first_chunk_tokens: self.first_chunk_tokens.unwrap_or(defaults.first_chunk_tokens),
            concurrency: self.concurrency,
            requests_per_user: self.requests_per_user,
            qps: self.qps,
            num_requests: self.num_requests,
            max_concurrency: self.max_concurrency,
            client_draws: self.client_draws,
            input_len: self.input_len,
            output_len: self.output_len,
            random_range_ratio: self.random_range_ratio,
            client: self.client,
            workload: self.workload,
            warm_prefix_cache: self.warm_prefix_cache.unwrap_or(defaults.warm_prefix_cache),
            endpoint: self.endpoint,
            profile: self.profile,
            seed: self.seed.unwrap_or(defaults.seed),
            serve,
        })
    }
}

/// The library's error as `ServecastError`.
fn py_err(e: servecast::Error) -> PyErr {
    ServecastError::new_err(e.to_string())
}

/// Reads a Python dict of options into `T` (an unknown key is a `ServecastError` naming it).
fn from_dict<T: serde::de::DeserializeOwned>(what: &str, d: &Bound<'_, PyDict>) -> PyResult<T> {
    pythonize::depythonize(d.as_any()).map_err(|e| ServecastError::new_err(format!("{what}: {e}")))
}

/// Runs a command with the GIL released; its output text and notes, or `ServecastError`.
fn run<F>(py: Python<'_>, f: F) -> PyResult<(String, Vec<String>)>
where
    F: FnOnce() -> servecast::Result<Outcome> + Send,
{
    let outcome = py.allow_threads(f).map_err(py_err)?;
    Ok((outcome.text, outcome.notes))
}

/// `simulate --format json`: the deployment under its load levels; `per_request` (.csv or
/// .jsonl: every request's record as it finishes) and the charts (`plot`: the load curve,
/// `plot_memory`: the memory budget, `plot_ttft`: the TTFT distribution; .png or .svg) are
/// written when given.
#[pyfunction]
#[pyo3(signature = (deployment, replications = 1, per_request = None, plot = None, plot_memory = None, plot_ttft = None))]
fn simulate(
    py: Python<'_>,
    deployment: &Bound<'_, PyDict>,
    replications: u32,
    per_request: Option<PathBuf>,
    plot: Option<PathBuf>,
    plot_memory: Option<PathBuf>,
    plot_ttft: Option<PathBuf>,
) -> PyResult<(String, Vec<String>)> {
    let d = from_dict::<Deployment>("simulate", deployment)?
        .options()
        .map_err(py_err)?;
    let o = app::simulate::SimulateOptions {
        format: Format::Json,
        replications,
        per_request,
        plot,
        plot_memory,
        plot_ttft,
    };
    run(py, move || app::simulate::simulate(&d, &o))
}

/// The memory budget of a deployment (the `memory` object of `simulate --format json`).
#[pyfunction]
fn memory(py: Python<'_>, deployment: &Bound<'_, PyDict>) -> PyResult<(String, Vec<String>)> {
    let d = from_dict::<Deployment>("memory", deployment)?
        .options()
        .map_err(py_err)?;
    run(py, move || app::memory(&d))
}

/// The built-in GPUs and models.
#[pyfunction]
fn catalog(py: Python<'_>) -> PyResult<(String, Vec<String>)> {
    run(py, app::catalog)
}

/// A pasted `vllm serve …` line, parsed.
#[pyfunction]
fn serve_line(py: Python<'_>, line: String) -> PyResult<(String, Vec<String>)> {
    run(py, move || app::serve_line(&line))
}

/// What `plan` takes beside the deployment.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Plan {
    slo: String,
    load: String,
    target_qps: Option<f64>,
    gpus: Vec<String>,
    tp_options: Vec<u32>,
    util_options: Vec<f64>,
    seqs_options: Vec<u32>,
    max_replicas: u32,
    duration_s: f64,
}

impl Default for Plan {
    fn default() -> Self {
        let c = app::plan::PlanCommand::default();
        Plan {
            slo: c.slo,
            load: c.load,
            target_qps: c.target_qps,
            gpus: c.gpus,
            tp_options: c.tp_options,
            util_options: c.util_options,
            seqs_options: c.seqs_options,
            max_replicas: c.max_replicas,
            duration_s: c.duration_s,
        }
    }
}

/// `plan --format json`: the most load within an SLO and the knee, or the cheapest deployments
/// for a rate.
#[pyfunction]
fn plan(py: Python<'_>, deployment: &Bound<'_, PyDict>, plan: &Bound<'_, PyDict>) -> PyResult<(String, Vec<String>)> {
    let d = from_dict::<Deployment>("plan", deployment)?.options().map_err(py_err)?;
    let p: Plan = from_dict("plan", plan)?;
    let c = app::plan::PlanCommand {
        slo: p.slo,
        load: p.load,
        target_qps: p.target_qps,
        gpus: p.gpus,
        tp_options: p.tp_options,
        util_options: p.util_options,
        seqs_options: p.seqs_options,
        max_replicas: p.max_replicas,
        duration_s: p.duration_s,
        format: Format::Json,
        plot: None,
    };
    run(py, move || app::plan::plan(&d, &c))
}

/// What `sweep` takes beside the deployment.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Sweep {
    axes: Vec<String>,
    samples: Option<u32>,
    sample_seed: u64,
    rank_by: String,
    top: usize,
    output: Option<PathBuf>,
    config_timeout_s: f64,
    /// `"I/N"`: run shard I of N only (its rows go to `output`, a .jsonl file, for `sweep_merge`).
    shard: Option<String>,
}

impl Default for Sweep {
    fn default() -> Self {
        let c = app::sweep::SweepCommand::default();
        Sweep {
            axes: c.axes,
            samples: c.samples,
            sample_seed: c.sample_seed,
            rank_by: c.rank_by,
            top: c.top,
            output: c.output,
            config_timeout_s: c.config_timeout_s,
            shard: None,
        }
    }
}

/// `sweep --format json`: many configurations simulated in parallel, ranked.
#[pyfunction]
fn sweep(py: Python<'_>, deployment: &Bound<'_, PyDict>, sweep: &Bound<'_, PyDict>) -> PyResult<(String, Vec<String>)> {
    let d = from_dict::<Deployment>("sweep", deployment)?
        .options()
        .map_err(py_err)?;
    let s: Sweep = from_dict("sweep", sweep)?;
    let shard = s
        .shard
        .as_deref()
        .map(app::sweep::parse_shard)
        .transpose()
        .map_err(py_err)?;
    let c = app::sweep::SweepCommand {
        axes: s.axes,
        samples: s.samples,
        sample_seed: s.sample_seed,
        rank_by: s.rank_by,
        top: s.top,
        output: s.output,
        config_timeout_s: s.config_timeout_s,
        progress: false,
        format: Format::Json,
        shard,
        ..Default::default()
    };
    run(py, move || app::sweep::sweep(&d, &c))
}

/// What `sweep_merge` takes.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Merge {
    shards: Vec<PathBuf>,
    rank_by: String,
    top: usize,
    output: Option<PathBuf>,
}

impl Default for Merge {
    fn default() -> Self {
        let c = app::sweep::SweepCommand::default();
        Merge {
            shards: Vec::new(),
            rank_by: c.rank_by,
            top: c.top,
            output: None,
        }
    }
}

/// `sweep-merge --format json`: the shards of one sweep combined into the ranked table the
/// unsharded sweep gives.
#[pyfunction]
fn sweep_merge(py: Python<'_>, merge: &Bound<'_, PyDict>) -> PyResult<(String, Vec<String>)> {
    let m: Merge = from_dict("sweep_merge", merge)?;
    let c = app::sweep::MergeCommand {
        shards: m.shards,
        rank_by: m.rank_by,
        top: m.top,
        format: Format::Json,
        output: m.output,
    };
    run(py, move || app::sweep::merge(&c))
}

/// What `fit` takes.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Fit {
    inputs: Vec<String>,
    gpu: Option<String>,
    model: Option<String>,
    engine: Option<String>,
    flags: Vec<String>,
    output: Option<PathBuf>,
    hold_out: Vec<u32>,
    seed: u64,
    ttft_weight: f64,
    serve: Option<Serve>,
    warm_prefix_cache: bool,
    endpoint: Option<servecast::workload::arrivals::Endpoint>,
}

impl Default for Fit {
    fn default() -> Self {
        let c = app::fit::FitCommand::default();
        Fit {
            inputs: c.inputs,
            gpu: c.gpu,
            model: c.model,
            engine: c.engine,
            flags: Vec::new(),
            output: c.output,
            hold_out: c.hold_out,
            seed: c.seed,
            ttft_weight: c.ttft_weight,
            serve: None,
            warm_prefix_cache: c.warm_prefix_cache,
            endpoint: c.endpoint,
        }
    }
}

/// `fit --format json`: a profile fitted to measured reports and load-test results (the
/// parameters, every level measured vs predicted, the profile), written to `output` when given.
#[pyfunction]
fn fit(py: Python<'_>, fit: &Bound<'_, PyDict>) -> PyResult<(String, Vec<String>)> {
    let f: Fit = from_dict("fit", fit)?;
    let (flags, _) = parse_flag_words(&f.flags).map_err(py_err)?;
    let serve = f
        .serve
        .map(Serve::words)
        .transpose()
        .map_err(py_err)?
        .unwrap_or_default();
    let c = app::fit::FitCommand {
        inputs: f.inputs,
        gpu: f.gpu,
        model: f.model,
        engine: f.engine,
        flags,
        output: f.output,
        hold_out: f.hold_out,
        seed: f.seed,
        ttft_weight: f.ttft_weight,
        serve,
        warm_prefix_cache: f.warm_prefix_cache,
        endpoint: f.endpoint,
        format: Format::Json,
    };
    run(py, move || app::fit::fit(&c))
}

/// The extension module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ServecastError", m.py().get_type::<ServecastError>())?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    m.add_function(wrap_pyfunction!(memory, m)?)?;
    m.add_function(wrap_pyfunction!(catalog, m)?)?;
    m.add_function(wrap_pyfunction!(serve_line, m)?)?;
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(sweep_merge, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    Ok(())
}
