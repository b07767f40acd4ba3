//! Calibrating servecast from your own `vllm bench serve --save-result` files, then predicting
//! concurrencies you did not run.
//!
//! The two input files in tests/data are SYNTHETIC: servecast simulated them and wrote them in
//! vllm bench's format (their `note` field says so). Replace them with your own runs.
//!
//! ```text
//!  runs/*.json ──► import ──► fit (overheads, memory) ──► profile ──► simulate c = 1 … 64
//! ```

use servecast::fit::{fit_reports, FitOptions};
use servecast::measured::import::{from_vllm_bench_runs, ImportContext};
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion};

fn main() -> Result<(), servecast::Error> {
    let files: Vec<(String, String)> = ["c4", "c16"]
        .iter()
        .map(|c| {
            let path = format!(
                "{}/tests/data/synthetic-vllm-bench-llama3.1-8b-a100-{c}.json",
                env!("CARGO_MANIFEST_DIR")
            );
            std::fs::read_to_string(&path)
                .map(|text| (path.clone(), text))
                .map_err(|source| servecast::Error::Io { path, source })
        })
        .collect::<Result<_, _>>()?;
    // What the JSON does not carry: the GPU, the model and the server's flags.
    let ctx = ImportContext {
        gpu: "a100-80g".into(),
        model: "llama-3.1-8b".into(),
        engine: EngineVersion::Vllm010,
        flags: EngineFlags {
            gpu_memory_utilization: Some(0.9),
            max_model_len: Some(8192),
            ..Default::default()
        },
    };
    let report = from_vllm_bench_runs(&files, &ctx)?;
    let scenario = Scenario::builder().from_report(&report).build()?;
    let fit = fit_reports(&[(&report, &scenario)], &FitOptions::default())?;
    println!(
        "fitted {} in {} simulations ({:.2} s):",
        fit.profile.id, fit.evaluations, fit.elapsed_s
    );
    for p in fit.params.iter().filter(|p| p.origin.starts_with("fitted")) {
        println!("  {:<22} {:.6} s ± {:.1e}", p.name, p.value, p.std_err);
    }
    for l in &fit.levels {
        if let Some(f) = l.comparison.figure("output_throughput_tok_s") {
            println!(
                "  c={:<3} throughput measured {:.0}, fitted {:.0} tok/s ({:+.1}%)",
                l.comparison.concurrency.unwrap_or(0),
                f.measured,
                f.predicted,
                f.error_pct
            );
            assert!(f.error_pct.abs() < 5.0, "the round trip reproduces the runs");
        }
    }
    // Predict what was not run: the same server at 1 … 64 concurrent users.
    let mut predict = scenario.clone();
    predict.profile = fit.profile.clone();
    predict.measured_report = None;
    predict.workload.set_concurrency(vec![1, 2, 4, 8, 32, 64], Some(8));
    let prediction = predict.run()?;
    println!("predicted with the fitted profile:");
    let mut last = 0.0;
    for l in &prediction.levels {
        println!(
            "  c={:<3} {:>6.0} tok/s, TTFT mean {:>6.1} ms, TPOT mean {:>5.2} ms",
            l.concurrency.unwrap_or(0),
            l.output_throughput_tok_s,
            l.ttft_ms.mean,
            l.tpot_ms.mean
        );
        assert!(
            l.output_throughput_tok_s > last,
            "throughput grows with users below saturation"
        );
        last = l.output_throughput_tok_s;
    }
    Ok(())
}
