//! `fit`: a profile fitted to measured reports and load-test results.

use std::path::{Path, PathBuf};

use super::{load_reports, write_file, Outcome};
use crate::error::{Error, Result};
use crate::fit::FitOptions;
use crate::measured::import::{build_report, import_file, ImportContext, ImportedRun};
use crate::measured::MeasuredReport;
use crate::report::Format;
use crate::scenario::Scenario;
use crate::spec::engine::{EngineFlags, EngineVersion};
use crate::workload::arrivals::Endpoint;

/// What `fit` is asked.
#[derive(Debug, Clone, PartialEq)]
pub struct FitCommand {
    /// Report YAML files, built-in report ids and/or load-test result files (any format
    /// [`crate::measured::import`] detects; all of them form one report).
    pub inputs: Vec<String>,
    /// GPU the result files were measured on.
    pub gpu: Option<String>,
    /// Model the result files served.
    pub model: Option<String>,
    /// Engine of the result files.
    pub engine: Option<String>,
    /// Engine flags of the result files.
    pub flags: EngineFlags,
    /// Write the fitted profile here (YAML).
    pub output: Option<PathBuf>,
    /// Concurrency levels left out of the fit (their error is reported).
    pub hold_out: Vec<u32>,
    /// Random seed of the simulations.
    pub seed: u64,
    /// Weight of the mean-TTFT errors relative to throughput and latency errors.
    pub ttft_weight: f64,
    /// The pasted server command of the result files (sets model and flags), as words.
    pub serve: Vec<String>,
    /// The levels ran in order against one long-lived server with the same prompts
    /// ([`crate::workload::arrivals::WorkloadSpec::warm_prefix_cache`]).
    pub warm_prefix_cache: bool,
    /// The endpoint the result files' clients sent to, where they do not say (`vllm bench serve`
    /// files record it; none: as the files say, else completions).
    pub endpoint: Option<Endpoint>,
    /// Output format: the markdown tables (`Table`, `Markdown`) or one JSON object (`Json`:
    /// the reports, the parameters, every level measured vs predicted, the warnings and the
    /// fitted profile).
    pub format: Format,
}

impl Default for FitCommand {
    fn default() -> Self {
        FitCommand {
            inputs: Vec::new(),
            gpu: None,
            model: None,
            engine: None,
            flags: EngineFlags::default(),
            output: None,
            hold_out: Vec::new(),
            seed: 0,
            ttft_weight: FitOptions::default().ttft_weight,
            serve: Vec::new(),
            warm_prefix_cache: false,
            endpoint: None,
            format: Format::Table,
        }
    }
}

/// Fits a profile to measured reports (YAML files, built-in ids) and load-test result files
/// (which need `gpu` and `model`); the table of parameters and per-level errors, and the profile
/// written to `output`.
pub fn fit(a: &FitCommand) -> Result<Outcome> {
    if a.format == Format::Csv {
        return Err(Error::invalid(
            "--format",
            "format",
            "fit prints tables (table, markdown) or one JSON object (json), not csv",
        ));
    }
    let mut a = a.clone();
    if !a.serve.is_empty() {
        let cmd = crate::spec::cmdline::parse_vllm_serve_args(&a.serve)?;
        a.flags = super::merge_pasted_flags(&a.flags, &cmd.flags)?;
        match &a.model {
            Some(m) if m != &cmd.model => {
                return Err(Error::invalid(
                    "--model",
                    "model",
                    format!("is '{m}' but the pasted command serves '{}'; give one", cmd.model),
                ))
            }
            _ => {
                let id = crate::spec::cmdline::resolve_model(crate::spec::Catalog::builtin()?, &cmd.model)
                    .map(|m| m.id.clone())
                    .unwrap_or(cmd.model.clone());
                a.model = Some(id);
            }
        }
    }
    let a = &a;
    let mut reports: Vec<(String, MeasuredReport)> = Vec::new();
    let mut runs: Vec<ImportedRun> = Vec::new();
    for input in &a.inputs {
        let path = Path::new(input);
        let yaml = matches!(
            path.extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase)
                .as_deref(),
            Some("yaml" | "yml")
        );
        if yaml || !path.exists() {
            reports.extend(load_reports(input)?.into_iter().map(|r| (input.clone(), r)));
        } else {
            runs.extend(import_file(path)?);
        }
    }
    let (runs, dropped) = crate::measured::import::dedupe_runs(runs);
    let mut notes = Vec::new();
    if dropped > 0 {
        notes.push(format!(
            "note: {dropped} run(s) repeated another file's run (e.g. llmperf's summary beside its individual responses) and were read once"
        ));
    }
    if !runs.is_empty() {
        let origin = runs[0].origin.clone();
        let Some(gpu) = &a.gpu else {
            return Err(Error::invalid(
                "fit",
                "--gpu",
                format!(
                    "{origin}: a load-test result does not say which GPU served it; give --gpu (and the engine flags)"
                ),
            ));
        };
        let model = match &a.model {
            Some(m) => super::catalog_model_id(m).map_err(|e| e.located("--model"))?,
            None => {
                let named = runs
                    .iter()
                    .find_map(|r| r.model_id.clone().map(|m| (r.origin.clone(), m)));
                let Some((file, id)) = named else {
                    return Err(Error::invalid(
                        &origin,
                        "model_id",
                        "the file does not name its model; give --model (a catalog id or the path to a config.json)",
                    ));
                };
                crate::spec::cmdline::resolve_model(crate::spec::Catalog::builtin()?, &id)
                    .map(|m| m.id.clone())
                    .map_err(|_| {
                        Error::invalid(
                            &file,
                            "model_id",
                            format!("'{id}' is not in the catalog; give --model with a catalog id or the path to the model's config.json"),
                        )
                    })?
            }
        };
        let ctx = ImportContext {
            gpu: crate::spec::Catalog::builtin()?
                .gpu(gpu)
                .map_err(|e| e.located("--gpu"))?
                .id
                .clone(),
            model,
            engine: a
                .engine
                .as_deref()
                .map(|e| EngineVersion::parse(e, "--engine"))
                .transpose()?
                .unwrap_or_default(),
            flags: a.flags.clone(),
        };
        reports.push((origin, build_report(runs, &ctx)?));
    }
    for (origin, r) in &mut reports {
        r.workload.warm_prefix_cache |= a.warm_prefix_cache;
        if let Some(e) = a.endpoint {
            r.workload.endpoint = e;
        }
        if let Some(note) = replayed_prompts_note(origin, r) {
            notes.push(note);
        }
        // A figure no GPU could reach for the setup as stated would pull the fit anywhere.
        for b in crate::fit::floor::floor_breaches(r).unwrap_or_default() {
            let hold_out = r.levels[b.level].concurrency.map_or(String::new(), |c| {
                format!(", or leave the level out with --hold-out {c}")
            });
            notes.push(format!(
                "warning: {origin} ({}): {}: the fit will chase a figure the setup as stated cannot produce; check \
                 the report's load and flags{hold_out}",
                r.id,
                b.describe()
            ));
        }
    }
    let scenarios: Vec<Scenario> = reports
        .iter()
        .map(|(origin, r)| {
            Scenario::builder()
                .from_report(r)
                .seed(a.seed)
                .build()
                .map_err(|e| e.located(origin))
        })
        .collect::<Result<_>>()?;
    let reports: Vec<MeasuredReport> = reports.into_iter().map(|(_, r)| r).collect();
    let exclude: Vec<usize> = reports[0]
        .levels
        .iter()
        .enumerate()
        .filter(|(_, l)| l.concurrency.is_some_and(|c| a.hold_out.contains(&c)))
        .map(|(i, _)| i)
        .collect();
    // A held-out concurrency the report does not have would silently fit every level.
    let levels: Vec<u32> = reports[0].levels.iter().filter_map(|l| l.concurrency).collect();
    if let Some(c) = a.hold_out.iter().find(|c| !levels.contains(c)) {
        return Err(Error::invalid(
            "fit",
            "--hold-out",
            format!(
                "{c} is not a concurrency level of {}; its levels are {}",
                reports[0].id,
                levels.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    let inputs: Vec<(&MeasuredReport, &Scenario)> = reports.iter().zip(&scenarios).collect();
    let result = crate::fit::fit_reports(
        &inputs,
        &FitOptions {
            exclude_levels: exclude,
            ttft_weight: a.ttft_weight,
            ..FitOptions::default()
        },
    )?;
    if a.format == Format::Json {
        if let Some(path) = &a.output {
            write_profile(a, path, &result)?;
        }
        let mut doc =
            serde_json::to_value(&result).map_err(|e| Error::invalid("fit", "--format json", e.to_string()))?;
        if let serde_json::Value::Object(map) = &mut doc {
            map.insert(
                "reports".into(),
                serde_json::json!(reports.iter().map(|r| r.id.as_str()).collect::<Vec<_>>()),
            );
            map.insert(
                "profile_written".into(),
                serde_json::json!(a.output.as_ref().map(|p| p.display().to_string())),
            );
        }
        let text =
            serde_json::to_string_pretty(&doc).map_err(|e| Error::invalid("fit", "--format json", e.to_string()))?;
        return Ok(Outcome { text, notes });
    }
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
            match (l.comparison.concurrency, l.comparison.qps) {
                (Some(c), _) => format!("c={c}"),
                (None, Some(q)) => format!("{} req/s", crate::report::text::rate_text(q)),
                _ => "trace".to_string(),
            },
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
        write_profile(a, path, &result)?;
        let _ = writeln!(t, "\nprofile written to {}", path.display());
    }
    Ok(Outcome {
        text: t.trim_end().to_string(),
        notes,
    })
}

/// Writes the fitted profile as YAML, headed by the command that made it.
fn write_profile(a: &FitCommand, path: &Path, result: &crate::fit::FitResult) -> Result<()> {
    let yaml = format!(
        "# Written by: cargo run --release -- fit {} -o {}\n# Do not edit by hand: tests/it/validation.rs refits and compares.\n{}",
        a.inputs.join(" "),
        path.display(),
        result.profile.to_yaml()?
    );
    write_file(path, &yaml)
}

/// A note when a report's levels look like one sample of prompts sent again and again (the same
/// total input tokens at two or more levels) to a server with prefix caching on (vLLM V1's
/// default), and the report does not say the cache was warm: if the levels ran in order against
/// one server, the later ones were served partly from the cache, and a fit that does not know it
/// puts that speed into the GPU's efficiencies.
fn replayed_prompts_note(origin: &str, r: &MeasuredReport) -> Option<String> {
    if r.workload.warm_prefix_cache {
        return None;
    }
    let scenario = Scenario::builder().from_report(r).build().ok()?;
    if !scenario.engine.enable_prefix_caching {
        return None;
    }
    let totals: Vec<u64> = r.levels.iter().filter_map(|l| l.total_input_tokens).collect();
    let first = *totals.first()?;
    let same = totals.iter().filter(|&&t| t == first && t > 0).count();
    (same >= 2).then(|| {
        format!(
            "note: {origin}: {same} levels sent {first} prompt tokens each, likely the same prompts (one client seed), \
             to a server with prefix caching on: if they ran in order against one server, the later levels were \
             served partly from the prefix cache; pass --warm-prefix-cache to simulate that (or \
             --no-enable-prefix-caching if the server ran without it)"
        )
    })
}
