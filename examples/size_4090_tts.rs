//! Sizing a text-to-speech deployment on RTX 4090s: how many concurrent VoxCPM 1.5 streams do one
//! and two cards (nano-vllm, one engine per card behind one API server) serve with the first audio
//! within 3 s (P95) and every request faster than real time?
//!
//! ```text
//!  N users ──► API server ──► [ nano-vllm · 4090 ] × replicas ──► TTFB, RTF, × real time
//! ```
//! The profile is the one fitted to seed 003 (picked automatically); the answer is found by
//! bisection on the number of users and re-simulated there.

use servecast::plan::{knee, max_load, LoadKind, PlanOptions, Slo};
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

fn main() -> Result<(), servecast::Error> {
    // TTFB counts the first 4 audio tokens (0.64 s of audio at 6.25 Hz); E2E bounds the RTF.
    let slo = Slo::parse("ttfb_p95_ms=3000,e2e_p95_ms=9000", "example")?;
    println!("VoxCPM 1.5 on RTX 4090 (nano-vllm, util 0.5, max_num_seqs 64), 68-character texts (~14 s of audio):");
    let mut users_per_replica = Vec::new();
    for replicas in [1, 2] {
        let scenario = Scenario::builder()
            .gpu("4090")
            .model("voxcpm-1.5")
            .engine(EngineVersion::NanoVllm)
            .flags(EngineFlags {
                gpu_memory_utilization: Some(0.5),
                max_num_seqs: Some(64),
                max_model_len: Some(2048),
                ..Default::default()
            })
            .workload(WorkloadSpec::new(
                LoadSpec::ClosedLoop {
                    concurrency: vec![1],
                    requests_per_user: 4,
                    think_time_s: 0.0,
                    waves: false,
                },
                LengthDist::Fixed { tokens: 64 },
                LengthDist::Fixed { tokens: 64 },
            ))
            .text_chars(68)
            .first_chunk_tokens(4)
            .replicas(replicas)
            .build()?;
        let opts = PlanOptions {
            requests_per_user: 4,
            ..PlanOptions::default()
        };
        let answer = max_load(&scenario, &slo, LoadKind::Concurrency, &opts)?;
        let Some(users) = answer.max_load else {
            println!("  {replicas} card(s): no load meets {slo}");
            continue;
        };
        let l = &answer.at_max.level;
        let tts = l
            .tts
            .as_ref()
            .ok_or_else(|| servecast::Error::invalid("example", "model", "not TTS"))?;
        println!(
            "  {replicas} card(s): {users:.0} concurrent streams, {:.0}× real time, TTFB P95 {:.0} ms, RTF P95 {:.2} — limited by {}",
            tts.throughput_x_realtime, tts.ttfb_ms.p95, tts.rtf.p95, answer.at_max.bottleneck
        );
        if let Some(k) = knee(&scenario, LoadKind::Concurrency, 1.0, users * 2.0, 8, &opts)? {
            println!("    knee at {:.0} users: {}", k.load, k.reason);
        }
        users_per_replica.push(users);
        // Checked: the answer meets the SLO and 10% more users break it.
        assert!(answer.at_max.check.met);
        assert!(answer.above.as_ref().is_none_or(|a| !a.check.met));
        assert!(tts.rtf.p95 < 1.0, "faster than real time");
    }
    if let [one, two] = users_per_replica[..] {
        println!(
            "  a second card adds {:.0} streams ({:.2}× one card)",
            two - one,
            two / one
        );
        // One API process admits every request (≈13 ms each), so a second card adds less than a
        // first; it never subtracts.
        assert!(two >= one && two <= 2.0 * one + 1.0);
    }
    Ok(())
}
