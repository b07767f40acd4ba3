//! Speed of the simulator: the README's default run, and 10,000 Poisson requests on an A100.

use criterion::{criterion_group, criterion_main, Criterion};

use servecast::scenario::Scenario;
use servecast::spec::engine::EngineFlags;
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

fn default_4090() -> Scenario {
    Scenario::builder()
        .gpu("4090")
        .flags(EngineFlags {
            gpu_memory_utilization: Some(0.5),
            max_num_seqs: Some(50),
            ..Default::default()
        })
        .from_builtin_report()
        .and_then(|b| b.build())
        .expect("the built-in 4090 scenario builds")
}

/// Llama-3.1-8B on an A100 80 GB, `n` Poisson requests at `qps` req/s, lognormal lengths
/// (prompts median 512, outputs median 256), optionally with `--max-model-len`.
fn poisson_a100(qps: f64, n: u32, max_model_len: Option<u32>) -> Scenario {
    Scenario::builder()
        .gpu("a100-80g")
        .model("llama-3.1-8b")
        .flags(EngineFlags {
            max_model_len,
            ..Default::default()
        })
        .workload(WorkloadSpec::new(
            LoadSpec::Poisson {
                qps: vec![qps],
                num_requests: n,
                max_concurrency: None,
                burstiness: 1.0,
                num_requests_per_level: None,
                client_draws: None,
            },
            LengthDist::LogNormal {
                median: 512.0,
                sigma: 0.8,
                min: 1,
                max: 4096,
            },
            LengthDist::LogNormal {
                median: 256.0,
                sigma: 0.8,
                min: 1,
                max: 2048,
            },
        ))
        .build()
        .expect("the A100 scenario builds")
}

fn bench(c: &mut Criterion) {
    let s = default_4090();
    c.bench_function("default_4090_six_levels", |b| b.iter(|| s.run().expect("runs")));
    let p = poisson_a100(20.0, 10_000, Some(8192));
    let mut g = c.benchmark_group("poisson");
    g.sample_size(20);
    g.bench_function("llama31_8b_a100_10k_requests", |b| b.iter(|| p.run().expect("runs")));
    g.finish();
}

fn bench_fit(c: &mut Criterion) {
    let reports = servecast::measured::builtin_reports().expect("built-in reports parse");
    let mut g = c.benchmark_group("fit");
    g.sample_size(10);
    for id in ["rtx4090-indextts2-gpt-vllm0.10", "a10-qwen2.5-7b-vllm0.6"] {
        let report = reports.iter().find(|r| r.id == id).expect("report exists");
        let scenario = Scenario::builder().from_report(report).build().expect("builds");
        g.bench_function(id, |b| {
            b.iter(|| {
                servecast::fit::fit_report(report, &scenario, &servecast::fit::FitOptions::default()).expect("fits")
            })
        });
    }
    g.finish();
}

/// 10,000 random configurations over seed 004's flag space at its workload (300 requests,
/// concurrency 100, 200 output tokens), all of which start (max_num_batched_tokens ≥ max_model_len).
fn bench_sweep(c: &mut Criterion) {
    use servecast::sweep::{run_sweep, Axis, SweepDesign, SweepSpec};
    let reports = servecast::measured::builtin_reports().expect("embedded reports");
    let r = reports
        .iter()
        .find(|r| r.id == "l40s-qwen2-0.5b-vllm0.6-seqs3563")
        .expect("seed 004 report");
    let base = Scenario::builder().from_report(r);
    let spec = SweepSpec {
        axes: [
            "max_num_seqs=256..8192",
            "max_num_batched_tokens=32768..65536",
            "block_size=8,16,32",
            "enable_prefix_caching=true,false",
        ]
        .iter()
        .map(|a| Axis::parse(a, "bench").expect("axis"))
        .collect(),
        design: SweepDesign::Random {
            samples: 10_000,
            seed: 1,
        },
    };
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.bench_function("seed004_10k_configs", |b| {
        b.iter(|| run_sweep(&base, &spec, false).expect("sweep"))
    });
    g.finish();
}

/// The most request rate within an SLO for the A10 report (bisection with the +10% check).
fn bench_plan(c: &mut Criterion) {
    use servecast::plan::{max_load, LoadKind, PlanOptions, Slo};
    let s = Scenario::builder()
        .gpu("a10")
        .from_builtin_report()
        .expect("a10 report")
        .build()
        .expect("builds");
    let slo = Slo::parse("ttft_p95_ms=500,tpot_p95_ms=50", "bench").expect("slo");
    let mut g = c.benchmark_group("plan");
    g.sample_size(10);
    g.bench_function("a10_max_rate", |b| {
        b.iter(|| max_load(&s, &slo, LoadKind::RequestRate, &PlanOptions::default()).expect("plan"))
    });
    g.finish();
}

/// How the run time grows with the request count (README's scaling table): the issue-14 scale
/// run, Llama-3.1-8B on an A100 80 GB at 8 req/s.
fn bench_scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(10);
    for n in [1_000u32, 10_000, 100_000, 1_000_000] {
        let s = poisson_a100(8.0, n, None);
        g.bench_function(format!("a100_8qps_{n}_requests"), |b| b.iter(|| s.run().expect("runs")));
    }
    g.finish();
}

criterion_group!(benches, bench, bench_fit, bench_sweep, bench_plan, bench_scaling);
criterion_main!(benches);
