//! Targets of the load-test result importers (vllm bench, GuideLLM, AIPerf JSON / JSON Lines /
//! CSV, llmperf, SGLang, seed 004's script summary), their detection, `import_file(s)` with
//! companion files, and `build_report` / `replay_workload` of what they import.

use std::sync::OnceLock;

use proptest::prelude::*;

use servecast::measured::import::{
    build_report, dedupe_runs, detect, from_vllm_bench_json, group_runs, import_file, import_files, importers,
    level_from_summary_json, replay_workload, ImportContext, ImportedRun, RunLengths, RunLoad, Source,
};
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion};

use super::check::{figures_ok, simulate_if_small};
use super::mutate::{self, files, fixture, load, Fixture};
use crate::{note_input, scratch, Ctx, Target};

/// The importer targets.
pub fn targets() -> Vec<Target> {
    vec![
        Target {
            name: "importers",
            multiplier: 6.0,
            run: importers_target,
        },
        Target {
            name: "import_files",
            multiplier: 2.0,
            run: import_files_target,
        },
        Target {
            name: "script_summary",
            multiplier: 32.0,
            run: script_summary,
        },
    ]
}

/// Every result fixture (not the traces, which have a target of their own, but they are fed to
/// the importers too: detection must refuse them).
fn import_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let mut paths = files("tests/data/import", &["json", "jsonl", "csv"]);
        paths.extend(files("tests/data", &["json"]).into_iter().filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("synthetic-vllm-bench"))
        }));
        paths.sort();
        paths.dedup();
        paths.iter().map(|p| load(p)).collect()
    })
}

/// The deployment every imported run is put on.
fn context(k: usize) -> ImportContext {
    let (gpu, model) = [
        ("a100-80g-sxm", "llama-3.1-8b"),
        ("h100-sxm", "qwen3-8b"),
        ("4090", "qwen2.5-0.5b-instruct"),
    ][k % 3];
    ImportContext {
        gpu: gpu.into(),
        model: model.into(),
        engine: [EngineVersion::Vllm010, EngineVersion::Vllm06][(k / 3) % 2],
        flags: EngineFlags::default(),
    }
}

/// The figures of imported runs: finite and ≥ 0 (a rate may be `inf`), successes timed.
fn runs_ok(what: &str, runs: &[ImportedRun]) -> Result<(), String> {
    for r in runs {
        let at = format!("{what} {}", r.origin);
        figures_ok(&format!("{at}: level"), &r.level)?;
        match r.load {
            RunLoad::Queue { concurrency } | RunLoad::Waves { concurrency } => {
                if concurrency == 0 {
                    return Err(format!("{at}: a queue of 0 requests in flight"));
                }
            }
            RunLoad::Poisson {
                rate,
                max_concurrency,
                burstiness,
            } => {
                if rate.is_nan()
                    || rate <= 0.0
                    || max_concurrency == Some(0)
                    || !(burstiness.is_finite() && burstiness > 0.0)
                {
                    return Err(format!("{at}: load {:?}", r.load));
                }
            }
        }
        for (name, v) in [("total_input", r.total_input), ("total_output", r.total_output)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{at}: {name} = {v}"));
            }
        }
        for (name, l) in [("input", &r.input), ("output", &r.output)] {
            if let RunLengths::Mean(m) = l {
                if !(m.is_finite() && *m >= 0.0) {
                    return Err(format!("{at}: mean {name} length {m}"));
                }
            }
        }
        for (i, q) in r.requests.iter().enumerate() {
            // A send time counts from any fixed origin (a client's monotonic clock): finite only.
            if let Some(s) = q.start_s.filter(|s| !s.is_finite()) {
                return Err(format!("{at}: request {i}: start_s = {s}"));
            }
            let times = [("ttft_ms", q.ttft_ms), ("e2e_ms", q.e2e_ms)];
            for (name, v) in times {
                if let Some(v) = v {
                    if !(v.is_finite() && v >= 0.0) {
                        return Err(format!("{at}: request {i}: {name} = {v}"));
                    }
                }
            }
        }
    }
    Ok(())
}

/// Everything done with runs that imported Ok: grouping, replay, a report, and (when small) a
/// simulation of that report.
fn use_runs(ctx: &Ctx, what: &str, runs: Vec<ImportedRun>, k: usize) -> Result<(), String> {
    runs_ok(what, &runs)?;
    for r in &runs {
        let w = replay_workload(r);
        if w.validate("replay").is_ok() {
            figures_ok(&format!("{what}: replay workload"), &w)?;
        }
    }
    let (kept, _) = dedupe_runs(runs.clone());
    let groups = group_runs(kept);
    for g in groups.into_iter().take(3) {
        let Ok(report) = build_report(g, &context(k)) else {
            continue;
        };
        figures_ok(&format!("{what}: report levels"), &report.levels)?;
        figures_ok(&format!("{what}: report workload"), &report.workload)?;
        if simulate_if_small(what, Scenario::builder().from_report(&report))? {
            ctx.simulated();
        }
    }
    Ok(())
}

fn importers_target(ctx: &Ctx) -> Result<(), String> {
    let fixtures = import_fixtures();
    ctx.run((mutate::input(), any::<usize>()), |(input, k)| {
        let (text, i) = input.render(fixtures);
        note_input(&text);
        let origin = i.map_or("fuzz.json", |i| fixtures[i].name.as_str());
        if let Ok(importer) = detect(origin, &text) {
            if let Ok(runs) = importer.import(&Source::alone(origin, &text)) {
                ctx.loaded();
                use_runs(ctx, importer.name(), runs, *k)?;
            }
        }
        // Each importer on any text: detection is cheap and may be fooled, the import must refuse.
        let all = importers();
        let other = all[k % all.len()];
        if let Ok(runs) = other.import(&Source::alone(origin, &text)) {
            runs_ok(other.name(), &runs)?;
        }
        if k % 4 == 0 {
            if let Ok(report) = from_vllm_bench_json(&text, origin, &context(*k)) {
                figures_ok("from_vllm_bench_json levels", &report.levels)?;
            }
        }
        Ok(())
    })
}

/// Fixture folders whose files go together (a summary beside its per-request file).
fn groups() -> &'static [Vec<Fixture>] {
    static F: OnceLock<Vec<Vec<Fixture>>> = OnceLock::new();
    F.get_or_init(|| {
        ["aiperf", "guidellm", "llmperf", "sglang", "vllm"]
            .iter()
            .map(|d| {
                files(&format!("tests/data/import/{d}"), &["json", "jsonl", "csv"])
                    .iter()
                    .map(|p| load(p))
                    .collect()
            })
            .collect()
    })
}

fn import_files_target(ctx: &Ctx) -> Result<(), String> {
    let groups = groups();
    let base = scratch(ctx.name);
    ctx.run(
        (
            any::<usize>(),
            any::<usize>(),
            prop::collection::vec(mutate::op(), 0..5),
            any::<usize>(),
        ),
        |(g, which, ops, k)| {
            let group = &groups[g % groups.len()];
            let target = which % group.len();
            let dir = base.join(format!("g{}", g % groups.len()));
            let _ = std::fs::create_dir_all(&dir);
            let mut paths = Vec::new();
            let mut mutated = String::new();
            for (i, f) in group.iter().enumerate() {
                let name = std::path::Path::new(&f.name)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let text = if i == target {
                    mutated = mutate::apply(f, ops);
                    mutated.clone()
                } else {
                    f.text.clone()
                };
                let p = dir.join(name);
                std::fs::write(&p, &text).map_err(|e| e.to_string())?;
                paths.push(p);
            }
            note_input(&mutated);
            if let Ok(runs) = import_file(&paths[target]) {
                ctx.loaded();
                use_runs(ctx, "import_file", runs, *k)?;
            }
            if k % 3 == 0 {
                if let Ok(runs) = import_files(&paths) {
                    use_runs(ctx, "import_files", runs, *k)?;
                }
            }
            Ok(())
        },
    )
}

/// The summary blocks of seed 004 (each a JSON object printed after its server command).
fn summary_fixtures() -> &'static [Fixture] {
    static F: OnceLock<Vec<Fixture>> = OnceLock::new();
    F.get_or_init(|| {
        let text =
            std::fs::read_to_string(mutate::root().join("tests/data/seed004_564cae3269120fa6.txt")).unwrap_or_default();
        let mut out = Vec::new();
        let mut block: Option<String> = None;
        for line in text.lines() {
            if line.starts_with('{') {
                block = Some(String::new());
            }
            if let Some(b) = block.as_mut() {
                b.push_str(line);
                b.push('\n');
                if line.starts_with('}') {
                    out.push(fixture(format!("seed004#{}", out.len()), std::mem::take(b), "json"));
                    block = None;
                }
            }
        }
        out
    })
}

fn script_summary(ctx: &Ctx) -> Result<(), String> {
    let fixtures = summary_fixtures();
    if fixtures.is_empty() {
        return Err("no summary blocks found in tests/data/seed004_564cae3269120fa6.txt".into());
    }
    ctx.run(mutate::input(), |input| {
        let (text, _) = input.render(fixtures);
        note_input(&text);
        if let Ok(level) = level_from_summary_json(&text, "summary.json") {
            ctx.loaded();
            figures_ok("script summary level", &level)?;
        }
        Ok(())
    })
}
