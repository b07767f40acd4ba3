//! The cheapest GPUs for an SLO: Qwen2.5-7B-Instruct at 10 requests/s with P95 TTFT under 500 ms
//! and P95 TPOT under 50 ms, over A10, L40S, RTX 4090 and A100 80GB, tensor parallel 1 or 2.
//!
//! ```text
//!  10 req/s ──► router ──► [ vLLM · GPU × TP ] × replicas ──► $/hour, TTFT, TPOT
//! ```
//! Each GPU type × TP gets the fewest replicas that meet the SLO (doubling, then bisection), and
//! the deployments are ranked by the catalog's on-demand price. Only the A10 has a profile fitted
//! to a measured report; the others take its host-side (CPU) terms over their own roofline (a
//! transferred profile), which the answer says.

use servecast::measured::builtin_reports;
use servecast::plan::{cheapest, DeploymentSpace, PlanOptions, Slo};
use servecast::scenario::Scenario;

fn main() -> Result<(), servecast::Error> {
    // The workload of seed 002 (A10, Qwen2.5-7B, vLLM 0.6.0): its prompt and output lengths.
    let reports = builtin_reports()?;
    let Some(report) = reports.iter().find(|r| r.id == "a10-qwen2.5-7b-vllm0.6") else {
        return Err(servecast::Error::invalid(
            "example",
            "report",
            "seed 002 is not embedded",
        ));
    };
    let base = Scenario::builder().from_report(report).without_report();
    let slo = Slo::parse("ttft_p95_ms=500,tpot_p95_ms=50", "example")?;
    let space = DeploymentSpace {
        gpus: vec!["a10".into(), "l40s".into(), "rtx-4090".into(), "a100-80g".into()],
        tensor_parallel_sizes: vec![1, 2],
        utils: vec![0.9],
        max_num_seqs: vec![256],
        max_replicas: 16,
    };
    let answer = cheapest(&base, &slo, 10.0, &space, &PlanOptions::default())?;
    println!(
        "10 req/s within {slo}: {} deployments meet it ({} simulations)",
        answer.candidates.len(),
        answer.evaluations
    );
    for c in answer.candidates.iter().take(5) {
        println!(
            "  ${:>6.2}/h  {} × {} (TP {} × {} replicas)  TTFT P95 {:>5.0} ms  TPOT P95 {:>5.1} ms  [{}]",
            c.price_usd_per_hour,
            c.gpus,
            c.gpu,
            c.tensor_parallel_size,
            c.replicas,
            c.level.ttft_ms.p95,
            c.level.tpot_ms.p95,
            c.profile
        );
    }
    let best = answer
        .candidates
        .first()
        .ok_or_else(|| servecast::Error::invalid("example", "slo", "no deployment meets it"))?;
    println!("  price source: {}", best.price_source);
    for r in &answer.rejected {
        println!("  cannot: {} TP {}: {}", r.gpu, r.tensor_parallel_size, r.reason);
    }
    assert!(best.check.met, "the answer was re-simulated and meets the SLO");
    assert!(answer
        .candidates
        .windows(2)
        .all(|w| w[0].price_usd_per_hour <= w[1].price_usd_per_hour));
    Ok(())
}
