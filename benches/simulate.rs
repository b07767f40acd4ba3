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

/// Llama-3.1-8B on an A100 80 GB, 10,000 Poisson requests at 20 req/s, lognormal lengths.
pub fn poisson_10k_a100() -> Scenario {
    Scenario::builder()
        .gpu("a100-80g")
        .model("llama-3.1-8b")
        .flags(EngineFlags {
            max_model_len: Some(8192),
            ..Default::default()
        })
        .workload(WorkloadSpec::new(
            LoadSpec::Poisson {
                qps: vec![20.0],
                num_requests: 10_000,
                max_concurrency: None,
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
    let p = poisson_10k_a100();
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

criterion_group!(benches, bench, bench_fit);
criterion_main!(benches);
