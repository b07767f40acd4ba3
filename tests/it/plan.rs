//! Capacity plans: the answered load meets the SLO when simulated again, and 10% more breaks it.

use servecast::measured::builtin_reports;
use servecast::plan::{at_load, cheapest, max_load, DeploymentSpace, LoadKind, PlanOptions, Slo};
use servecast::scenario::{Scenario, ScenarioBuilder};

fn builder_for(report_id: &str) -> ScenarioBuilder {
    let reports = builtin_reports().unwrap();
    let r = reports.iter().find(|r| r.id == report_id).unwrap();
    Scenario::builder().from_report(r).without_report()
}

/// Simulates `base` at `load` through the plain scenario API and checks the SLO.
fn meets(base: &Scenario, slo: &Slo, kind: LoadKind, load: f64) -> bool {
    let s = at_load(base, kind, load, &PlanOptions::default());
    let memory = s.memory().unwrap();
    let out = s.simulate_level(0, &memory, &s.cost_model());
    let p = s.run().unwrap();
    slo.check(&p.levels[0], &out).met
}

#[test]
fn max_request_rate_meets_the_slo_and_ten_percent_more_breaks_it() {
    let base = builder_for("a10-qwen2.5-7b-vllm0.6").build().unwrap();
    let slo = Slo::parse("ttft_p95_ms=500,tpot_p95_ms=50", "test").unwrap();
    let answer = max_load(&base, &slo, LoadKind::RequestRate, &PlanOptions::default()).unwrap();
    let m = answer.max_load.expect("some load meets the SLO");
    println!(
        "A10 Qwen2.5-7B: {m:.2} req/s within {slo} ({} simulations)",
        answer.evaluations
    );
    assert!(meets(&base, &slo, LoadKind::RequestRate, m));
    assert!(!meets(&base, &slo, LoadKind::RequestRate, m * 1.1));
    assert!(m > 0.25 && m < 100.0);
}

#[test]
fn max_concurrency_meets_the_slo_and_ten_percent_more_breaks_it() {
    let base = builder_for("rtx4090-indextts2-gpt-vllm0.10").build().unwrap();
    let slo = Slo::parse("ttft_p95_ms=1000,e2e_p95_ms=20000", "test").unwrap();
    let answer = max_load(&base, &slo, LoadKind::Concurrency, &PlanOptions::default()).unwrap();
    let c = answer.max_load.unwrap();
    println!("RTX 4090 IndexTTS-2 GPT: {c} users within {slo}");
    assert!(meets(&base, &slo, LoadKind::Concurrency, c));
    assert!(!meets(
        &base,
        &slo,
        LoadKind::Concurrency,
        (c * 1.1).ceil().max(c + 1.0)
    ));
}

#[test]
fn an_slo_nothing_meets_says_so() {
    let base = builder_for("a10-qwen2.5-7b-vllm0.6").build().unwrap();
    let slo = Slo::parse("tpot_p50_ms=1", "test").unwrap();
    let answer = max_load(&base, &slo, LoadKind::RequestRate, &PlanOptions::default()).unwrap();
    assert_eq!(answer.max_load, None);
    assert!(!answer.at_max.check.met);
}

#[test]
fn cheapest_deployment_meets_the_slo_and_one_replica_fewer_does_not() {
    let builder = builder_for("a10-qwen2.5-7b-vllm0.6");
    let slo = Slo::parse("ttft_p95_ms=500,tpot_p95_ms=50", "test").unwrap();
    let space = DeploymentSpace {
        gpus: vec!["a10".into(), "l40s".into(), "rtx-4090".into()],
        tensor_parallel_sizes: vec![1, 2],
        utils: vec![0.9],
        max_num_seqs: vec![256],
        max_replicas: 16,
    };
    let opts = PlanOptions::default();
    let answer = cheapest(&builder, &slo, 12.0, &space, &opts).unwrap();
    let best = answer.candidates.first().expect("a deployment meets the SLO");
    println!(
        "12 req/s: {} × {} (TP {} × {}), ${:.2}/h",
        best.gpus, best.gpu, best.tensor_parallel_size, best.replicas, best.price_usd_per_hour
    );
    for w in answer.candidates.windows(2) {
        assert!(w[0].price_usd_per_hour <= w[1].price_usd_per_hour);
    }
    for c in &answer.candidates {
        assert!(c.check.met);
        let g = builder.clone().gpu(&c.gpu).build().unwrap().gpu;
        let expected = g.price_usd_per_hour.unwrap() * (c.tensor_parallel_size * c.replicas) as f64;
        assert!((c.price_usd_per_hour - expected).abs() < 1e-9);
        // Re-simulate with one replica fewer: it must break the SLO (else it was not the fewest).
        if c.replicas > 1 {
            let mut s = builder
                .clone()
                .gpu(&c.gpu)
                .edit_flags(|f| {
                    f.tensor_parallel_size = Some(c.tensor_parallel_size);
                    f.gpu_memory_utilization = Some(c.gpu_memory_utilization);
                    f.max_num_seqs = Some(c.max_num_seqs);
                })
                .build()
                .unwrap();
            s.replicas = c.replicas;
            assert!(meets(&s, &slo, LoadKind::RequestRate, 12.0), "{} re-simulated", c.gpu);
            s.replicas = c.replicas - 1;
            assert!(
                !meets(&s, &slo, LoadKind::RequestRate, 12.0),
                "{} with one replica fewer",
                c.gpu
            );
        }
    }
}

#[test]
fn slo_strings_are_checked() {
    for bad in [
        "",
        "ttft=5",
        "ttft_p97_ms=5",
        "tpot_p95_ms=-1",
        "goodput_pct=90",
        "goodput_pct=120,ttft_p95_ms=5",
        "ttft_p95_ms=abc",
    ] {
        let e = Slo::parse(bad, "--slo").unwrap_err();
        assert!(e.to_string().starts_with("--slo"), "{bad}: {e}");
    }
    let slo = Slo::parse("ttft_p95_ms=500, tpot_p99_ms=40, goodput_pct=90", "--slo").unwrap();
    assert_eq!(slo.targets.len(), 3);
}
