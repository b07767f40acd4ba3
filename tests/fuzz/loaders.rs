//! Targets of the file loaders: workload YAML, request traces (CSV / TSV / JSON Lines), profile
//! YAML, Hugging Face config.json, and measured report YAML.

use std::sync::OnceLock;

use proptest::prelude::*;

use servecast::app::{self, DeploymentOptions};
use servecast::cost::Profile;
use servecast::measured::MeasuredReport;
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::spec::ModelSpec;
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;
use servecast::workload::trace::read_trace;

use super::check::{figures_ok, simulate_if_small};
use super::mutate::{self, files, fixture, load, Fixture};
use crate::{note_input, scratch, Ctx, Target};

/// The loader targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "workload_yaml",
            multiplier: 6.0,
            run: workload_yaml,
        },
        Target {
            name: "trace",
            multiplier: 8.0,
            run: trace,
        },
        Target {
            name: "profile_yaml",
            multiplier: 16.0,
            run: profile_yaml,
        },
        Target {
            name: "hf_config",
            multiplier: 16.0,
            run: hf_config,
        },
        Target {
            name: "measured_yaml",
            multiplier: 6.0,
            run: measured_yaml,
        },
    ]
}

/// Small models and GPUs that start quickly (a refusal is fine too).
const GPUS: &[&str] = &["4090", "h100-sxm", "a10", "l40s", "b200"];
const MODELS: &[&str] = &[
    "qwen2.5-0.5b-instruct",
    "llama-3.1-8b",
    "indextts2-gpt",
    "qwen3-30b-a3b",
];

const WORKLOADS: &[&str] = &[
    "load: {kind: closed_loop, concurrency: [1, 4], requests_per_user: 5, think_time_s: 0.5}
input_len: {kind: fixed, tokens: 128}
output_len: {kind: uniform, min: 8, max: 64}
",
    "load: {kind: poisson, qps: [2, .inf], num_requests: 50, max_concurrency: 8, burstiness: 0.5}
input_len: {kind: normal, mean: 300, sd: 100, min: 10, max: 1000}
output_len: {kind: lognormal, median: 100, sigma: 0.8, min: 1, max: 512}
",
    "load:
  kind: max_concurrency
  levels:
    - {concurrency: 2, num_requests: 20}
    - {concurrency: 8, num_requests: 40}
input_len: {kind: empirical, values: [10, 200, 3000]}
output_len: {kind: cycle, values: [88, 256]}
ignore_eos: true
prefix_groups: 4
shared_prefix_tokens: 64
",
    "load:
  kind: trace
  requests:
    - {arrival_s: 0, input_tokens: 100, output_tokens: 20}
    - {arrival_s: 0.5, input_tokens: 2000, output_tokens: 200}
    - {arrival_s: 3, input_tokens: 1, output_tokens: 1}
",
    "load: {kind: poisson, qps: [1, 4], num_requests_per_level: [10, 40]}
input_len: {kind: dataset, name: sharegpt}
output_len: {kind: dataset, name: sharegpt, max: 256}
",
    "load: {kind: closed_loop, concurrency: [1, 2, 3], requests_per_user: 4}
input_len: {kind: matched, stats: {min: 10, max: 900, mean: 300, p50: 250, p95: 800, p99: 880}}
output_len: {kind: capped, cap: 256, mean: 120}
input_len_per_level: [{kind: fixed, tokens: 10}, {kind: fixed, tokens: 20}, {kind: fixed, tokens: 30}]
output_len_per_level: [{kind: fixed, tokens: 5}, {kind: fixed, tokens: 6}, {kind: fixed, tokens: 7}]
busiest_user_ratio_per_level: [1.5, null, 2]
",
    "load: {kind: closed_loop, concurrency: [1, 8], requests_per_user: 3}
input_len: {kind: fixed, tokens: 1}
output_len: {kind: fixed, tokens: 1}
text_chars: 120
text_chars_per_level: [40, 400]
",
];

/// Workload fixtures: the hand-written ones above and the `workload` of every measured report.
fn workload_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut out: Vec<Fixture> = WORKLOADS
            .iter()
            .enumerate()
            .map(|(i, w)| fixture(format!("workload{i}.yaml"), w.to_string(), "yaml"))
            .collect();
        let mut reports = files("data/measured", &["yaml"]);
        reports.truncate(40);
        for p in reports {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            let docs: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap_or_default();
            for d in docs.iter().take(2) {
                if let Some(w) = d.get("workload") {
                    let json = serde_json::to_string_pretty(w).unwrap_or_default();
                    out.push(fixture(format!("{}#workload", p.display()), json, "yaml"));
                }
            }
        }
        out
    })
}

fn pick<'a>(list: &[&'a str], k: usize) -> &'a str {
    list[k % list.len()]
}

fn workload_yaml(ctx: &Ctx) -> Result<(), String> {
    let fixtures = workload_fixtures();
    let dir = scratch(ctx.name);
    ctx.run((mutate::input(), any::<usize>(), 0u8..8), |(input, k, ext)| {
        let (text, _) = input.render(fixtures);
        note_input(&text);
        // Mostly .yaml; a .json or extension-less file goes through format detection first.
        let path = dir.join(match ext {
            0 => "w.json",
            1 => "w",
            2 => "w.yml",
            _ => "w.yaml",
        });
        std::fs::write(&path, &text).map_err(|e| e.to_string())?;
        // The loader as the library's own deserialisation reads it, without the CLI around it.
        if let Ok(mut w) =
            serde_saphyr::from_str_with_options::<WorkloadSpec>(&text, servecast::measured::yaml_options())
        {
            w.fill_dataset_parts();
            if w.validate("fuzz").is_ok() {
                figures_ok("workload (validated)", &w)?;
            }
        }
        let o = DeploymentOptions {
            gpu: pick(GPUS, *k).to_string(),
            model: Some(pick(MODELS, k / 7).to_string()),
            workload: Some(path),
            ..DeploymentOptions::default()
        };
        let mut notes = Vec::new();
        if let Ok(r) = app::resolve(&o, &mut notes) {
            ctx.loaded();
            if simulate_if_small("workload", r.builder)? {
                ctx.simulated();
            }
        }
        Ok(())
    })
}

/// Trace fixtures: the Azure-style sample and traces in each column naming and format.
fn trace_fixtures() -> (&'static [Fixture], &'static [&'static str]) {
    static F: OnceLock<(Vec<Fixture>, Vec<&'static str>)> = OnceLock::new();
    let (f, e) = F.get_or_init(|| {
        let mut out: Vec<(Fixture, &'static str)> = files("tests/data/import/traces", &["csv"])
            .iter()
            .map(|p| (load(p), "csv"))
            .collect();
        let csv = "arrival_s,input_tokens,output_tokens\n0,100,20\n0.25,2000,200\n1.5,1,1\n3,512,64\n";
        let tsv = "timestamp_ms\tprompt_len\toutput_len\n1000\t100\t20\n1500\t200\t30\n9000\t7\t7\n";
        let jsonl = "{\"timestamp\": 0, \"input_length\": 100, \"output_length\": 20, \"hash_ids\": [1, 2]}\n\
                     {\"timestamp\": 500, \"input_length\": 300, \"output_length\": 10, \"hash_ids\": [1]}\n";
        let jsonl2 = "{\"arrival_time\": \"2023-11-16 18:15:46.5\", \"prompt_tokens\": 10, \"completion_tokens\": 5}\n\
                      {\"arrival_time\": \"2023-11-16T18:15:47Z\", \"prompt_tokens\": 11, \"completion_tokens\": 6}\n\
                      {\"arrival_time\": 1700158548.25, \"prompt_tokens\": 12, \"completion_tokens\": 7}\n";
        out.push((fixture("trace.csv".into(), csv.into(), "csv"), "csv"));
        out.push((fixture("trace.tsv".into(), tsv.into(), "tsv"), "tsv"));
        out.push((fixture("mooncake.jsonl".into(), jsonl.into(), "jsonl"), "jsonl"));
        out.push((fixture("dates.ndjson".into(), jsonl2.into(), "jsonl"), "ndjson"));
        out.into_iter().unzip()
    });
    (f, e)
}

fn trace(ctx: &Ctx) -> Result<(), String> {
    let (fixtures, exts) = trace_fixtures();
    let dir = scratch(ctx.name);
    ctx.run(
        (mutate::input(), any::<u8>(), any::<usize>()),
        |(input, ext_pick, k)| {
            let (text, i) = input.render(fixtures);
            note_input(&text);
            let ext = match (ext_pick % 8, i) {
                (0, _) => "csv",
                (1, _) => "tsv",
                (2, _) => "jsonl",
                (_, Some(i)) => exts[i],
                (_, None) => "csv",
            };
            let path = dir.join(format!("t.{ext}"));
            std::fs::write(&path, &text).map_err(|e| e.to_string())?;
            if let Ok(rows) = read_trace(&path) {
                ctx.loaded();
                for (n, r) in rows.iter().enumerate() {
                    if !(r.arrival_s.is_finite() && r.arrival_s >= 0.0) || r.input_tokens == 0 || r.output_tokens == 0 {
                        return Err(format!("trace row {n} loaded Ok as {r:?}"));
                    }
                }
                if rows.first().is_some_and(|r| r.arrival_s != 0.0) {
                    return Err(format!("the first request is sent at {} s, not 0", rows[0].arrival_s));
                }
            }
            let o = DeploymentOptions {
                gpu: pick(GPUS, *k).to_string(),
                model: Some(pick(MODELS, k / 7).to_string()),
                workload: Some(path.clone()),
                ..DeploymentOptions::default()
            };
            let mut notes = Vec::new();
            if let Ok(r) = app::resolve(&o, &mut notes) {
                if simulate_if_small("trace", r.builder)? {
                    ctx.simulated();
                }
            }
            Ok(())
        },
    )
}

fn profile_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut out: Vec<Fixture> = files("data/profiles", &["yaml"]).iter().map(|p| load(p)).collect();
        for v in EngineVersion::ALL {
            let text = Profile::roofline(v).to_yaml().unwrap_or_default();
            out.push(fixture(format!("roofline-{v}.yaml"), text, "yaml"));
        }
        out
    })
}

/// A workload of a few requests for end-to-end runs of what loaded.
fn tiny_workload(k: usize) -> WorkloadSpec {
    WorkloadSpec::closed_loop(
        vec![1, 1 + (k % 4) as u32],
        3,
        LengthDist::Fixed {
            tokens: [16, 300, 2000][k % 3],
        },
        LengthDist::Fixed {
            tokens: [1, 8, 40][(k / 3) % 3],
        },
    )
}

fn profile_yaml(ctx: &Ctx) -> Result<(), String> {
    let fixtures = profile_fixtures();
    let dir = scratch(ctx.name);
    ctx.run((mutate::input(), any::<usize>()), |(input, k)| {
        let (text, _) = input.render(fixtures);
        note_input(&text);
        let loaded = Profile::from_yaml(&text, "fuzz.yaml");
        if k % 16 == 0 {
            // The CLI's path: a file, checked against the catalog.
            let path = dir.join("p.yaml");
            std::fs::write(&path, &text).map_err(|e| e.to_string())?;
            let _ = app::load_profile(&path.display().to_string());
        }
        let Ok(p) = loaded else { return Ok(()) };
        ctx.loaded();
        figures_ok("profile cost", &p.cost)?;
        figures_ok("profile memory", &p.memory)?;
        let b = Scenario::builder()
            .gpu(p.gpu.as_deref().unwrap_or(pick(GPUS, *k)))
            .model(p.model.as_deref().unwrap_or(pick(MODELS, k / 5)))
            .engine(p.engine)
            .workload(tiny_workload(*k))
            .profile(p);
        if simulate_if_small("profile", b)? {
            ctx.simulated();
        }
        Ok(())
    })
}

fn hf_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| files("data/hf-configs", &["json"]).iter().map(|p| load(p)).collect())
}

fn hf_config(ctx: &Ctx) -> Result<(), String> {
    let fixtures = hf_fixtures();
    ctx.run((mutate::input(), any::<usize>()), |(input, k)| {
        let (text, _) = input.render(fixtures);
        note_input(&text);
        let Ok(m) = ModelSpec::from_hf_config_json(&text, "config.json") else {
            return Ok(());
        };
        ctx.loaded();
        figures_ok("model spec", &m)?;
        let flags = EngineFlags {
            tensor_parallel_size: Some([1, 8, 2][k % 3]),
            max_model_len: [None, Some(4096)][(k / 3) % 2],
            ..EngineFlags::default()
        };
        let b = Scenario::builder()
            .gpu(["h200", "b200", "4090", "mi300x"][(k / 6) % 4])
            .model_spec(m)
            .flags(flags)
            .workload(tiny_workload(k / 24));
        if simulate_if_small("hf config", b)? {
            ctx.simulated();
        }
        Ok(())
    })
}

fn measured_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| files("data/measured", &["yaml"]).iter().map(|p| load(p)).collect())
}

fn measured_yaml(ctx: &Ctx) -> Result<(), String> {
    let fixtures = measured_fixtures();
    ctx.run(mutate::input(), |input| {
        let (text, _) = input.render(fixtures);
        note_input(&text);
        let Ok(reports) = MeasuredReport::from_yaml_documents(&text, "fuzz.yaml") else {
            let _ = MeasuredReport::from_yaml(&text, "fuzz.yaml");
            return Ok(());
        };
        ctx.loaded();
        for r in &reports {
            figures_ok("measured levels", &r.levels)?;
            figures_ok("measured workload", &r.workload)?;
            figures_ok("measured logged memory", &r.logged)?;
            figures_ok("measured flags", &r.flags)?;
        }
        if let Some(r) = reports.first() {
            if simulate_if_small("measured report", Scenario::builder().from_report(r))? {
                ctx.simulated();
            }
        }
        Ok(())
    })
}
