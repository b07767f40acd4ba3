//! The measured corpus (data/measured): coverage, provenance, and the sources reserved for
//! independent validation, which must never appear in it.

use std::collections::BTreeSet;
use std::path::Path;

use servecast::measured::{corpus_reports, MeasuredReport};
use servecast::spec::engine::release_number;
use servecast::workload::arrivals::LoadSpec;

fn corpus() -> Vec<MeasuredReport> {
    corpus_reports(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured")).unwrap()
}

/// The vLLM setups with load levels (nano-vllm's seed 003 is not part of the learned prior).
fn vllm_setups(all: &[MeasuredReport]) -> Vec<&MeasuredReport> {
    all.iter()
        .filter(|r| r.engine != servecast::spec::engine::EngineVersion::NanoVllm && !r.levels.is_empty())
        .collect()
}

/// The coverage lines: 0.4–0.6, 0.7–0.10, 0.11–0.2x, ≥ 0.25 (a report without a stated
/// release is placed by its engine).
fn coverage_line(r: &MeasuredReport) -> &'static str {
    let n = r
        .release
        .as_deref()
        .and_then(release_number)
        .unwrap_or(match r.engine.as_str() {
            "vllm-0.10" => (0, 10),
            "vllm-0.5" => (0, 5),
            _ => (0, 6),
        });
    match n {
        (0, 0..=6) => "0.4-0.6",
        (0, 7..=10) => "0.7-0.10",
        (0, 11..=24) => "0.11-0.2x",
        _ => ">=0.25",
    }
}

#[test]
fn the_corpus_covers_gpus_models_releases_and_loads() {
    let all = corpus();
    let setups = vllm_setups(&all);
    let gpus: BTreeSet<&str> = setups.iter().map(|r| r.gpu.as_str()).collect();
    let models: BTreeSet<&str> = setups.iter().map(|r| r.model.as_str()).collect();
    let lines: BTreeSet<&str> = setups.iter().map(|r| coverage_line(r)).collect();
    let catalog = servecast::spec::catalog::Catalog::builtin().unwrap();
    let archs: BTreeSet<String> = gpus
        .iter()
        .map(|g| catalog.gpu(g).unwrap().architecture.to_string())
        .collect();
    println!(
        "{} vLLM setups; {} GPU types {gpus:?} ({archs:?}); {} models {models:?}; release lines {lines:?}",
        setups.len(),
        gpus.len(),
        models.len()
    );
    assert!(setups.len() >= 30, "{} setups", setups.len());
    assert!(gpus.len() >= 6, "{gpus:?}");
    assert!(models.len() >= 8, "{models:?}");
    assert_eq!(lines.len(), 4, "{lines:?}");
    for arch in ["ampere", "ada", "hopper", "blackwell", "blackwell_rtx"] {
        assert!(archs.contains(arch), "no {arch} GPU in {archs:?}");
    }
    // Dense models from 0.5B to 70B parameters.
    let sizes: Vec<f64> = models
        .iter()
        .map(|m| catalog.model(m).unwrap().params_total() as f64 / 1e9)
        .collect();
    let (lo, hi) = sizes.iter().fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
    println!("model sizes {lo:.2}B … {hi:.1}B");
    assert!(lo <= 0.6 && hi >= 65.0, "{lo}B … {hi}B");
    // Closed-loop users, Poisson rates and bursts (everything sent at once).
    let closed = setups
        .iter()
        .any(|r| matches!(r.workload.load, LoadSpec::ClosedLoop { .. }));
    let poisson = setups
        .iter()
        .any(|r| matches!(&r.workload.load, LoadSpec::Poisson { qps, .. } if qps.iter().any(|q| q.is_finite())));
    let burst = setups.iter().any(|r| {
        matches!(&r.workload.load, LoadSpec::Poisson { qps, max_concurrency: None, .. } if qps.iter().any(|q| q.is_infinite()))
    });
    assert!(
        closed && poisson && burst,
        "closed {closed}, poisson {poisson}, burst {burst}"
    );
}

#[test]
fn every_corpus_file_names_its_source_and_none_is_reserved() {
    // Reserved for independent validation (the project brief): never used, fitted or transcribed.
    const RESERVED: [&str; 8] = [
        "lambdalabsml/vllm-benchmark",
        "benchmark_vllm_060",
        "ovg-project/kvcached",
        "deutscheki/llm-performance-tests",
        "mushfiqrahman.dev",
        "inference-sim/",
        "llmservingsim",
        "llama 3 8b instruct on nvidia a10g",
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/measured");
    let mut files = 0;
    // The corpus, and the measurements staged to join it (data/measured/staged/README.md).
    let entries = ["corpus", "staged"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"));
    for path in entries {
        let text = std::fs::read_to_string(&path).unwrap().to_ascii_lowercase();
        for r in RESERVED {
            assert!(
                !text.contains(r),
                "{} mentions the reserved source '{r}'",
                path.display()
            );
        }
        files += 1;
        for report in MeasuredReport::all_from_path(&path).unwrap() {
            let p = &report.provenance;
            assert!(
                !p.url.is_empty() || (!p.repo.is_empty() && p.commit.len() == 40),
                "{}: no URL and no repository at a commit",
                report.id
            );
            assert!(p.date.len() >= 7, "{}: no date", report.id);
            assert!(
                !p.stated.is_empty(),
                "{}: what the source states is not recorded",
                report.id
            );
            assert!(!p.section.is_empty(), "{}: no section", report.id);
            // A server or client command the source does not print is an assumption instead.
            for (command, field) in [(&p.server_command, "flags"), (&p.client_command, "workload")] {
                if command.is_empty() {
                    assert!(
                        report
                            .assumptions
                            .iter()
                            .any(|a| a.field.starts_with(field) || a.field.contains("command")),
                        "{}: no {field} command and no assumption about it",
                        report.id
                    );
                }
            }
            assert!(report.release.is_some(), "{}: no vLLM release", report.id);
        }
    }
    assert!(files >= 10, "{files} files");
}
