//! Replay: a load test written in `vllm bench serve`'s format and given to `simulate --workload`
//! reproduces what servecast predicts for the measured report it was written from, and so the
//! fitted report's errors.
//!
//! The measured report is seed 002 (A10, Qwen2.5-7B-Instruct, vLLM 0.6, five levels of a
//! max-concurrency queue) with its fitted profile. The test writes one `--append-result` line
//! per level: the report's measured figures (request count, duration, throughput, E2E latency,
//! TTFT P50) and the per-request lengths the report's workload sends, exactly as `vllm bench
//! serve --save-detailed` would record them.

use std::path::PathBuf;

use serde_json::{json, Value};
use servecast::app::simulate::{simulate, SimulateOptions};
use servecast::app::{load_profile, DeploymentOptions};
use servecast::measured::{builtin_reports, MeasuredReport};
use servecast::report::{compare, Format, LevelComparison};
use servecast::scenario::Scenario;

const REPORT: &str = "a10-qwen2.5-7b-vllm0.6";
const PROFILE: &str = "data/profiles/a10-qwen2.5-7b-vllm0.6.yaml";

fn manifest(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn error_of(level: &Value, name: &str) -> Option<f64> {
    level["figures"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == name)
        .and_then(|f| f["error_pct"].as_f64())
}

/// Seed 002's report, its scenario under the fitted profile, and the errors of that scenario's
/// prediction against the report (what a replay must reproduce).
fn fitted_report() -> (MeasuredReport, Scenario, Vec<LevelComparison>) {
    let report = builtin_reports().unwrap().into_iter().find(|r| r.id == REPORT).unwrap();
    let profile = load_profile(manifest(PROFILE).to_str().unwrap()).unwrap();
    let direct = Scenario::builder()
        .from_report(&report)
        .profile(profile)
        .build()
        .unwrap();
    let errors = compare(&report, &direct.run().unwrap().levels);
    (report, direct, errors)
}

#[test]
fn a_vllm_bench_file_replays_the_fitted_report() {
    let (report, direct, direct_errors) = fitted_report();

    // One vllm bench result per level, appended one per line.
    let memory = direct.memory().unwrap();
    let cost = direct.cost_model();
    let mut lines = Vec::new();
    for (i, level) in report.levels.iter().enumerate() {
        let mut records = direct.simulate_level(i, &memory, &cost).records;
        records.sort_by_key(|r| r.id);
        let input: Vec<u32> = records.iter().map(|r| r.input_tokens).collect();
        let output: Vec<u32> = records.iter().map(|r| r.output_tokens).collect();
        let e2e = level.e2e_latency_ms.unwrap();
        lines.push(
            json!({
                "date": "20241001-120000",
                "backend": "vllm",
                "model_id": "Qwen/Qwen2.5-7B-Instruct",
                "num_prompts": level.requests,
                "request_rate": "inf",
                "max_concurrency": level.concurrency,
                "duration": level.total_time_s,
                "completed": level.requests,
                "total_input_tokens": input.iter().sum::<u32>(),
                "total_output_tokens": output.iter().sum::<u32>(),
                "request_throughput": level.request_throughput_req_s,
                "median_ttft_ms": level.ttft_ms.and_then(|t| t.p50),
                "mean_e2el_ms": e2e.mean,
                "median_e2el_ms": e2e.p50,
                "p95_e2el_ms": e2e.p95,
                "p99_e2el_ms": e2e.p99,
                "input_lens": input,
                "output_lens": output,
                "errors": vec![""; records.len()],
            })
            .to_string(),
        );
    }
    let dir = std::env::temp_dir().join(format!("servecast-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("a10-qwen2.5-7b.json");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let out = simulate(
        &DeploymentOptions {
            gpu: "a10".into(),
            engine: Some(report.engine.as_str().to_string()),
            flags: report.flags.clone(),
            workload: Some(file.clone()),
            profile: Some(manifest(PROFILE).display().to_string()),
            ..DeploymentOptions::default()
        },
        &SimulateOptions {
            format: Format::Json,
            ..SimulateOptions::default()
        },
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(out.notes.iter().any(|n| n.contains("replaying")), "{:?}", out.notes);
    let doc: Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(
        doc["scenario"]["model"]["id"], "qwen2.5-7b-instruct",
        "model from the file's model_id"
    );
    let replayed = doc["measured"]["levels"]
        .as_array()
        .expect("measured figures beside the prediction");
    assert_eq!(replayed.len(), report.levels.len());
    for (i, (r, d)) in replayed.iter().zip(&direct_errors).enumerate() {
        for name in ["request_throughput_req_s", "e2e_latency_ms.mean", "ttft_ms.p50"] {
            let (Some(replay), Some(direct)) = (error_of(r, name), d.figure(name).map(|f| f.error_pct)) else {
                panic!("level {i}: {name} missing");
            };
            println!("level {i} {name}: replay {replay:+.2}% direct {direct:+.2}%");
            assert!(
                (replay - direct).abs() < 0.5,
                "level {i} {name}: the replay's error {replay:+.2}% differs from the report's {direct:+.2}%"
            );
            if i > 0 && name != "ttft_ms.p50" {
                // Warm levels are fitted: throughput and mean latency within 5%.
                assert!(replay.abs() < 5.0, "level {i} {name}: {replay:+.2}%");
            }
        }
    }
}

/// servecast's own measured-report YAML (`data/measured`) given to `simulate --workload` runs the
/// report's server flags and load and shows its measured figures beside: the same errors as the
/// report compared directly.
#[test]
fn a_measured_report_file_replays_with_its_own_flags() {
    let (_, _, direct_errors) = fitted_report();
    let run = |gpu: &str| {
        simulate(
            &DeploymentOptions {
                gpu: gpu.into(),
                workload: Some(manifest("data/measured/a10-qwen2.5-7b-vllm0.6.yaml")),
                profile: Some(manifest(PROFILE).display().to_string()),
                ..DeploymentOptions::default()
            },
            &SimulateOptions {
                format: Format::Json,
                ..SimulateOptions::default()
            },
        )
        .unwrap()
    };
    let out = run("a10");
    assert!(
        out.notes.iter().any(|n| n.contains("1 measured setup")),
        "{:?}",
        out.notes
    );
    let doc: Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(doc["scenario"]["engine"]["max_num_seqs"], 256);
    let replayed = doc["measured"]["levels"].as_array().expect("measured figures beside");
    assert_eq!(replayed.len(), 5, "the report's five max-concurrency levels");
    for (r, d) in replayed.iter().zip(&direct_errors) {
        let (Some(replay), Some(direct)) = (
            error_of(r, "request_throughput_req_s"),
            d.figure("request_throughput_req_s").map(|f| f.error_pct),
        ) else {
            panic!("throughput missing");
        };
        assert!(
            (replay - direct).abs() < 1e-9,
            "replay {replay:+.3}% vs direct {direct:+.3}%"
        );
    }
    // On another GPU the load is a what-if: no measured figures, and a note saying why.
    let out = run("l4");
    let doc: Value = serde_json::from_str(&out.text).unwrap();
    assert!(doc["measured"].is_null(), "{}", doc["measured"]);
    assert!(
        out.notes
            .iter()
            .any(|n| n.contains("was measured with qwen2.5-7b-instruct on a10")),
        "{:?}",
        out.notes
    );
    // With its server flags changed, likewise.
    let out = simulate(
        &DeploymentOptions {
            gpu: "a10".into(),
            workload: Some(manifest("data/measured/a10-qwen2.5-7b-vllm0.6.yaml")),
            flags: servecast::spec::engine::EngineFlags {
                max_num_seqs: Some(8),
                ..Default::default()
            },
            ..DeploymentOptions::default()
        },
        &SimulateOptions {
            format: Format::Json,
            ..SimulateOptions::default()
        },
    )
    .unwrap();
    let doc: Value = serde_json::from_str(&out.text).unwrap();
    assert!(doc["measured"].is_null(), "{}", doc["measured"]);
    assert_eq!(doc["scenario"]["engine"]["max_num_seqs"], 8);
    // A report naming a GPU the catalog lacks is refused, naming the file and the field.
    let text = std::fs::read_to_string(manifest("data/measured/a10-qwen2.5-7b-vllm0.6.yaml")).unwrap();
    let bad = std::env::temp_dir().join(format!("servecast-bad-gpu-{}.yaml", std::process::id()));
    std::fs::write(&bad, text.replacen("\ngpu: a10\n", "\ngpu: a99\n", 1)).unwrap();
    let err = simulate(
        &DeploymentOptions {
            gpu: "a10".into(),
            workload: Some(bad.clone()),
            ..DeploymentOptions::default()
        },
        &SimulateOptions::default(),
    )
    .unwrap_err();
    std::fs::remove_file(&bad).ok();
    let msg = err.to_string();
    assert!(
        msg.contains("servecast-bad-gpu") && msg.contains("field `gpu`") && msg.contains("'a99'"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 2);
}

/// |error| of output throughput, percent, of every level of a staged measurement file replayed on
/// `gpu` with the shipped prior and no fit.
fn replayed_throughput_errors(gpu: &str, path: &str) -> Vec<f64> {
    replayed_errors(gpu, path, "output_throughput_tok_s")
        .into_iter()
        .map(f64::abs)
        .collect()
}

/// Signed error of `figure`, percent, of every level (that has it) of a staged measurement file
/// replayed on `gpu` with the shipped prior and no fit.
fn replayed_errors(gpu: &str, path: &str, figure: &str) -> Vec<f64> {
    let out = simulate(
        &DeploymentOptions {
            gpu: gpu.into(),
            workload: Some(manifest(path)),
            ..DeploymentOptions::default()
        },
        &SimulateOptions {
            format: Format::Json,
            ..SimulateOptions::default()
        },
    )
    .unwrap();
    serde_json::Deserializer::from_str(&out.text)
        .into_iter::<Value>()
        .flat_map(|doc| {
            let doc = doc.unwrap();
            doc["measured"]["levels"]
                .as_array()
                .expect("measured figures beside")
                .iter()
                .filter_map(|l| error_of(l, figure))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The shipped prior, with no fit, on measurements no fit has seen: litkhai/runpod-hols's
/// Qwen2.5-7B-Instruct sweeps on an H100 SXM under vLLM 0.31.0 (data/measured/staged: not in the
/// corpus, so not in data/priors.yaml). Three workloads (512/256, 4096/256, 2048/1024 at 4–5
/// Poisson rates each) replayed from the file; measured 2.9% median |error| of output throughput
/// (worst +5.3%) when written, 3.2% (worst 5.6%) since the step cost's LM head and elementwise
/// traffic changed (2026-12-06).
#[test]
fn the_prior_predicts_unseen_h100_sweeps_of_a_recent_release() {
    let mut errors = replayed_throughput_errors(
        "h100-sxm",
        "data/measured/staged/h100-sxm-qwen2.5-7b-instruct-vllm0.31.0-runpod-hols.yaml",
    );
    assert_eq!(errors.len(), 14, "three setups of 5, 5 and 4 levels");
    // Reported, not bounded: the decode on 0.31 comes out fast (mean TPOT −2…−14% when written).
    let mut tpot = replayed_errors(
        "h100-sxm",
        "data/measured/staged/h100-sxm-qwen2.5-7b-instruct-vllm0.31.0-runpod-hols.yaml",
        "tpot_ms.mean",
    );
    tpot.sort_by(f64::total_cmp);
    println!(
        "h100-sxm: mean TPOT error {:+.1}…{:+.1}% over {} levels",
        tpot[0],
        tpot[tpot.len() - 1],
        tpot.len()
    );
    errors.sort_by(f64::total_cmp);
    let median = errors[errors.len() / 2];
    assert!(median <= 5.0, "median |error| {median:.1}% ({errors:?})");
    assert!(
        errors[errors.len() - 1] <= 10.0,
        "worst |error| {:.1}%",
        errors[errors.len() - 1]
    );
}

/// The same lab's sweeps on its eight other GPUs and hosts (L4, L40, A100 80 GB SXM and PCIe,
/// H100 PCIe and NVL, H200, two RTX 4090 hosts; vLLM 0.31.0, staged, so in no fit): the shipped
/// prior's median |error| of output throughput per file, and over all their levels. When written:
/// A100 PCIe 5.2%, A100 SXM 5.3%, H100 NVL 3.5%, H100 PCIe 2.8%, H200 3.1%, L4 7.3%, L40 3.3%,
/// RTX 4090 4.5% and 2.6% (the second host's repeat of one workload); 3.3% over the 117 levels
/// (the upper median; excluded levels counted). Bounds 1.15× those. (Before the untied input
/// embedding left the streamed weights, 2026-12-06: 5.1, 5.2, 2.9, 2.7, 3.0, 5.8, 3.0, 4.9, 2.6;
/// 3.1% over all. Since the LM head is charged per sampled row and the elementwise traffic per
/// token, 2026-12-06: 5.2, 5.3, 3.3, 2.8, 3.1, 6.2, 3.3, 4.4, 2.6; 3.2% over all.) The L4 is the
/// fragile one:
/// its learned efficiencies rest on one setup in the corpus, Qwen2.5-0.5B under vLLM 0.23, whose
/// step time is mostly host time, so they move with any change to the pooled fit (2026-12-06:
/// 7.0–8.8% with that day's intermediate priors, 11.8–14.0% with six EM iterations instead of
/// three, 5.1% with the MoE layer floor that took MoE-only time out of the shared terms).
#[test]
fn the_prior_predicts_one_unseen_labs_sweeps_on_eight_more_gpus() {
    let files = [
        ("a100-80g-pcie", "a100-80g-pcie", 6.0),
        ("a100-80g-sxm", "a100-80g-sxm", 6.1),
        ("h100-nvl", "h100-nvl", 4.1),
        ("h100-pcie", "h100-pcie", 3.3),
        ("h200", "h200", 3.6),
        ("l4", "l4", 8.4),
        ("l40", "l40", 3.8),
        ("rtx-4090", "4090", 5.2),
        (
            "rtx-4090-qwen2.5-7b-instruct-vllm0.31.0-runpod-hols-repeat",
            "4090",
            3.0,
        ),
    ];
    let upper_median = |e: &mut Vec<f64>| -> f64 {
        e.sort_by(f64::total_cmp);
        e[e.len() / 2]
    };
    let mut all = Vec::new();
    for (file, gpu, bound) in files {
        let path = if file.ends_with("-repeat") {
            format!("data/measured/staged/{file}.yaml")
        } else {
            format!("data/measured/staged/{file}-qwen2.5-7b-instruct-vllm0.31.0-runpod-hols.yaml")
        };
        let mut errors = replayed_throughput_errors(gpu, &path);
        assert!(errors.len() >= 5, "{path}: {} levels", errors.len());
        all.extend(errors.iter().copied());
        let median = upper_median(&mut errors);
        // Mean E2E, reported, not bounded (3.0–23.5% median per file when written).
        let mut e2e: Vec<f64> = replayed_errors(gpu, &path, "e2e_latency_ms.mean")
            .into_iter()
            .map(f64::abs)
            .collect();
        e2e.sort_by(f64::total_cmp);
        let e2e_median = (e2e[(e2e.len() - 1) / 2] + e2e[e2e.len() / 2]) / 2.0;
        println!(
            "{file}: median |throughput error| {median:.1}% over {} levels; median |mean E2E error| {e2e_median:.1}%",
            errors.len()
        );
        assert!(median <= bound, "{path}: median {median:.1}% > {bound}% ({errors:?})");
    }
    let median = upper_median(&mut all);
    println!("all: median {median:.1}% over {} levels", all.len());
    assert_eq!(all.len(), 117);
    assert!(median <= 3.8, "median {median:.1}% over every level");
}

/// `servecast fit --hold-out` of a concurrency the report does not have is refused (exit 2, the
/// flag and the report's levels named) instead of silently fitting every level.
#[test]
fn holding_out_a_level_the_report_lacks_is_refused() {
    use servecast::app::fit::{fit, FitCommand};
    let err = fit(&FitCommand {
        inputs: vec!["rtx4090-indextts2-gpt-vllm0.10".into()],
        hold_out: vec![999],
        ..FitCommand::default()
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("--hold-out") && msg.contains("999") && msg.contains("1, 4, 8, 16, 32, 64"),
        "{msg}"
    );
    assert_eq!(err.exit_code(), 2);
}

/// The MoE layer floor against a measurement no fit has seen: dstack's DeepSeek-R1 on 8× H200
/// (data/measured/staged, vLLM 0.7.4 nightly, random 3200 / 800 at 4 concurrent requests),
/// replayed with the shipped prior. Measured 148.6 output tok/s; with the learned floor servecast
/// predicts +82% (2026-12-06, priors learned with vLLM bench's test prompt modelled), with the
/// floor set to zero +129%: the floor takes over a third of the miss at a small batch, and the
/// rest (MLA's and block-FP8's own small kernels) is not modelled yet. Bounds: 1.15× the figure
/// with the floor, and the floor must still close 35 points of the gap.
#[test]
fn the_moe_layer_floor_closes_much_of_deepseek_r1s_small_batch_miss_on_an_unseen_run() {
    use servecast::measured::MeasuredReport;
    use servecast::scenario::Scenario;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/staged/h200-deepseek-r1-tp8-vllm0.7.3-dstack.yaml");
    let report = MeasuredReport::all_from_path(&path).unwrap().remove(0);
    assert_eq!(report.levels[0].concurrency, Some(4));
    let measured = report.levels[0].output_throughput_tok_s.unwrap();
    let mut scenario = Scenario::builder().from_report(&report).build().unwrap();
    let memory = scenario.memory().unwrap();
    let error = |s: &Scenario| {
        let level = s.run_level_with(0, &memory, &s.cost_model());
        (level.output_throughput_tok_s / measured - 1.0) * 100.0
    };
    let with_floor = error(&scenario);
    scenario.profile.cost.moe_layer_floor_s = 0.0;
    let without = error(&scenario);
    println!("dstack R1 at 4 users: output throughput {with_floor:+.1}% with the floor, {without:+.1}% without");
    assert!(with_floor > 0.0 && with_floor <= 94.0, "{with_floor:+.1}%");
    assert!(without >= with_floor + 35.0, "{without:+.1}% without the floor");
}
