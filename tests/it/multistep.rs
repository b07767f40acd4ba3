//! vLLM 0.6 multi-step scheduling (`--num-scheduler-steps N`): the scheduler plans a decode batch
//! and the GPU runs it N times before the scheduler runs again, so the host-side time of a step
//! is paid once per pass, nothing is admitted mid-pass, and each decode reserves N − 1 lookahead
//! slots; each release refuses what it refused (docs/research/vllm-memory-current.md §7).

use servecast::error::Error;
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;

fn a10(release: &str, steps: Option<u32>, chunked: Option<bool>, users: u32) -> Result<Scenario, Error> {
    a10_flags(
        release,
        users,
        EngineFlags {
            num_scheduler_steps: steps,
            enable_chunked_prefill: chunked,
            ..EngineFlags::default()
        },
    )
}

/// Qwen2.5-7B on an A10 at `release` with `flags` (max_model_len 4096), `users` closed-loop users
/// sending 4 requests of 256 / 256 tokens each.
fn a10_flags(release: &str, users: u32, flags: EngineFlags) -> Result<Scenario, Error> {
    Scenario::builder()
        .gpu("a10")
        .model("qwen2.5-7b-instruct")
        .engine(EngineVersion::parse(release, "test").unwrap())
        .release(release)
        .flags(EngineFlags {
            max_model_len: Some(4096),
            ..flags
        })
        .workload(WorkloadSpec::closed_loop(
            vec![users],
            4,
            LengthDist::Fixed { tokens: 256 },
            LengthDist::Fixed { tokens: 256 },
        ))
        .build()
}

#[test]
fn a_pass_pays_the_host_once() {
    let run = |steps| a10("0.6.3", Some(steps), None, 1).unwrap().run().unwrap();
    let (one, eight) = (run(1), run(8));
    let (t1, t8) = (one.levels[0].tpot_ms.mean, eight.levels[0].tpot_ms.mean);
    // The GPU time of a decode step is the same; 7 of 8 steps skip the scheduler's host time.
    assert!(t8 < t1, "TPOT {t8} ms with 8 steps vs {t1} ms with 1");
    let gpu_only = a10("0.6.3", Some(1), None, 1).unwrap();
    let cost = gpu_only.cost_model();
    let step = cost.roofline_seconds(&servecast::cost::StepBatch {
        decode_seqs: 1,
        output_seqs: 1,
        context_tokens: 384,
        windowed_context_tokens: 384,
        ..Default::default()
    }) * 1e3;
    let host = t1 - step;
    assert!(
        host > 0.0,
        "the one-step TPOT {t1} ms holds host time over the GPU's {step} ms"
    );
    let expected = step + host / 8.0;
    assert!(
        (t8 / expected - 1.0).abs() < 0.05,
        "TPOT {t8} ms vs GPU {step} + host {host} / 8"
    );
    // Lookahead: every decode holds N − 1 more slots.
    assert!(eight.levels[0].engine.peak_blocks_used > one.levels[0].engine.peak_blocks_used);
}

#[test]
fn each_release_refuses_multi_step_as_it_did() {
    let refused = |release: &str, chunked: Option<bool>| match a10(release, Some(8), chunked, 1) {
        Err(e) => e.to_string(),
        Ok(_) => "started".to_string(),
    };
    // 0.6.0–0.6.2: no multi-step with chunked prefill.
    assert_eq!(
        refused("0.6.1", Some(true)),
        "ValueError: Chunked prefill is not supported with multi-step (--num-scheduler-steps > 1)"
    );
    assert_eq!(
        refused("0.6.3", Some(true)),
        "started",
        "0.6.3 runs multi-step chunked prefill"
    );
    // 0.5 has no such flag; neither has 0.11 on.
    assert!(refused("0.5.4", None).ends_with("unrecognized arguments: --num-scheduler-steps 8"));
    assert!(refused("0.11.0", None).ends_with("unrecognized arguments: --num-scheduler-steps 8"));
    // V1 (0.8–0.10) never had it.
    assert!(
        refused("0.10.2", None).contains("V0 feature"),
        "{}",
        refused("0.10.2", None)
    );
}

/// vLLM PR #8804 (H100 80GB HBM3, Meta-Llama-3-8B, `--num-scheduler-steps 8`, 1000 ShareGPT
/// prompts at once): the two result blocks the stored copy shows, predicted with the learned
/// prior (the setup is held out of the pooled fit), as predicted ÷ measured − 1 of output
/// throughput, mean TTFT and mean TPOT.
fn pr8804() -> servecast::measured::MeasuredReport {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/corpus/h100-sxm-llama-3-8b-vllm0.6.2-multistep8-vllm-pr8804.yaml");
    servecast::measured::MeasuredReport::from_path(&path).unwrap()
}

/// The report's server without multi-step (`--num-scheduler-steps 1`), predicted.
fn single_step(report: &servecast::measured::MeasuredReport) -> servecast::scenario::Prediction {
    Scenario::builder()
        .from_report(report)
        .edit_flags(|f| f.num_scheduler_steps = Some(1))
        .build()
        .unwrap()
        .run()
        .unwrap()
}

fn errors(report: &servecast::measured::MeasuredReport, run: &servecast::scenario::Prediction) -> Vec<(f64, f64, f64)> {
    report
        .levels
        .iter()
        .zip(&run.levels)
        .map(|(m, p)| {
            let c = servecast::report::compare::compare_level(m, p);
            let e = |n: &str| c.figure(n).unwrap().error_pct;
            (e("output_throughput_tok_s"), e("ttft_ms.mean"), e("tpot_ms.mean"))
        })
        .collect()
}

#[test]
fn pr8804_multi_step_is_predicted_out_of_sample() {
    let report = pr8804();
    // Not fitted: the pooled fit leaves every multi-step setup out, with this reason.
    let held_out = servecast::fit::hierarchy::CorpusSetup::new(&report).unwrap_err();
    assert_eq!(held_out, "multi-step: predicted out of sample, not fitted");
    let scenario = Scenario::builder().from_report(&report).build().unwrap();
    assert_eq!(scenario.engine.num_scheduler_steps, 8);
    assert_eq!(
        scenario.profile.kind,
        servecast::cost::ProfileKind::Roofline,
        "{}",
        scenario.profile.id
    );
    let run = scenario.run().unwrap();
    let errs = errors(&report, &run);
    // 0.6.2 hands a pass's tokens over at its end: the client sees one chunk per pass, so its
    // inter-token latency is a pass (the blocks print ITL 168 / 189 ms beside TPOT 20 / 42 ms).
    // The prediction's ITL is high by as much as its step time is (TPOT above): the prior's H100
    // compute efficiency, not the bursts.
    let itl: Vec<f64> = report
        .levels
        .iter()
        .zip(&run.levels)
        .map(|(m, p)| {
            let c = servecast::report::compare::compare_level(m, p);
            c.figure("itl_ms.mean").unwrap().error_pct
        })
        .collect();
    println!(
        "PR #8804 mean ITL: predicted {:.1} ms, error per block {itl:+.1?}",
        run.levels[0].itl_ms.mean
    );
    for e in &itl {
        assert!(e.abs() <= 80.0, "mean ITL {e:+.1}%");
    }
    assert!(run.levels[0].itl_ms.mean > 4.0 * run.levels[0].tpot_ms.mean);
    println!(
        "PR #8804 on {} (compute efficiency {:.3}), baseline flags, 8 steps: \
         [throughput, mean TTFT, mean TPOT] % per block: {errs:+.1?}",
        scenario.profile.id, scenario.profile.cost.compute_efficiency
    );
    // The same server without multi-step, for the speedup servecast attributes to it (the
    // source prints no single-step run).
    let one = single_step(&report);
    let speedup = run.levels[0].output_throughput_tok_s / one.levels[0].output_throughput_tok_s;
    println!(
        "predicted output throughput, 8 steps / 1 step: {:.1} / {:.1} tok/s = {speedup:.2}",
        run.levels[0].output_throughput_tok_s, one.levels[0].output_throughput_tok_s
    );
    assert!(speedup > 1.0, "{speedup}");
    // The chunked-prefill section's reading (0.6.3 is the first release that runs it).
    let chunked = Scenario::builder()
        .from_report(&report)
        .release("0.6.3")
        .edit_flags(|f| f.enable_chunked_prefill = Some(true))
        .build()
        .unwrap()
        .run()
        .unwrap();
    println!("chunked-prefill reading: {:+.1?}", errors(&report, &chunked));
    // Where the miss lies: the engine is busy the whole run and most of it is prefill GEMMs,
    // whose speed is the H100's learned dense compute efficiency. The same prior with the Hopper
    // architecture's centre in its place (a diagnosis, not a prediction: nothing is fitted here).
    let priors = servecast::cost::prior::LearnedPriors::builtin().unwrap();
    let hopper = priors.architectures.iter().find(|g| g.group == "hopper").unwrap();
    let mut profile = scenario.profile.clone();
    profile.cost.compute_efficiency = hopper.terms["compute_efficiency"].centre;
    let arch = Scenario::builder()
        .from_report(&report)
        .profile(profile)
        .build()
        .unwrap()
        .run()
        .unwrap();
    println!(
        "with the Hopper centre {:.3} for dense compute: {:+.1?}",
        hopper.terms["compute_efficiency"].centre,
        errors(&report, &arch)
    );
}

/// A corpus multi-step-8 setup: its report, checked to be held out of the pooled fit, and its
/// scenario under the learned prior.
fn held_out_multistep8(file: &str) -> (servecast::measured::MeasuredReport, Scenario) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/corpus")
        .join(file);
    let report = servecast::measured::MeasuredReport::from_path(&path).unwrap();
    let held_out = servecast::fit::hierarchy::CorpusSetup::new(&report).unwrap_err();
    assert_eq!(held_out, "multi-step: predicted out of sample, not fitted");
    let scenario = Scenario::builder().from_report(&report).build().unwrap();
    assert_eq!(scenario.engine.num_scheduler_steps, 8);
    (report, scenario)
}

/// vLLM PR #7921 / #7743 (H100, Llama-3.1-8B-Instruct, `--num-scheduler-steps 8` without the
/// async output processor, 200 sonnet prompts of ~955 tokens with 512 outputs at 10 requests/s):
/// predicted with the learned prior (held out of the pooled fit like every multi-step setup).
#[test]
fn pr7921_multi_step_at_ten_requests_per_second_is_predicted_out_of_sample() {
    let (report, scenario) = held_out_multistep8("h100-sxm-llama-3.1-8b-vllm0.5.5-multistep8-vllm-pr7921.yaml");
    assert_eq!(scenario.profile.kind, servecast::cost::ProfileKind::Roofline);
    let run = scenario.run().unwrap();
    let c = servecast::report::compare::compare_level(&report.levels[0], &run.levels[0]);
    let e = |n: &str| c.figure(n).unwrap().error_pct;
    let (thr, ttft, tpot) = (e("output_throughput_tok_s"), e("ttft_ms.mean"), e("tpot_ms.mean"));
    println!(
        "PR #7921 [throughput, mean TTFT, mean TPOT] %: [{thr:+.1}, {ttft:+.1}, {tpot:+.1}]; \
         duration {:.2} s (measured 30.71), p99 TPOT {:.2} ms (measured 32.57)",
        run.levels[0].duration_s, run.levels[0].tpot_ms.p99
    );
    // Issue 12's bound for a multi-step measurement is 15% on throughput; the 0.6 measurement of
    // issue #9476 meets it (`issue9476_multi_step…`). At 10 requests/s the arrivals (numpy's draws, 19.64 s
    // for the 200) set two thirds of this run's duration; the rest is the tail's decode. From
    // 0.5.4 the API server is a process of its own (the RPC front end, PR #6883), so its
    // streaming does not hold up the engine: servecast charged 0.2–0.5's in-process streaming
    // (`api_server_inline_item_s`) to this main-after-0.5.5 run until 2026-12-07 and printed
    // −5.7%, +15.0%, +18.4% for the wrong reason. Without it the pass pays the scheduler's host
    // time once and the tail decodes too fast: +20.4%, −19.3%, −36.1% (`cargo test --release
    // --test it pr7921 -- --nocapture`). The rest is most likely the output processing a 0.5.5
    // pass still does per step (detokenising and stop checks per token, no async output
    // processor yet), which servecast amortises with the scheduler's: the line's runs cannot
    // tell the two shares apart, and this run is held out to test the model, not to set it.
    assert!(thr.abs() <= 25.0, "throughput {thr:+.1}%");
    assert!(ttft.abs() <= 30.0, "mean TTFT {ttft:+.1}%");
    assert!(tpot.abs() <= 42.0, "mean TPOT {tpot:+.1}%");
    let one = single_step(&report);
    println!(
        "single-step mean TPOT {:.2} ms vs 8 steps {:.2} ms",
        one.levels[0].tpot_ms.mean, run.levels[0].tpot_ms.mean
    );
}

/// vLLM issue #9476 (@stas00: Llama-3-8B-Instruct on two H100s at TP 2, vLLM 0.6.2,
/// `--num-scheduler-steps 8`, 2,000 ShareGPT prompts at once): predicted with the learned prior
/// (multi-step setups are held out of the pooled fit). The issue's stored copy keeps the counts,
/// the duration and the throughputs, not the latencies; the GPU is the same author's statement
/// five days earlier (sglang #1639), an assumption the file records.
#[test]
fn issue9476_multi_step_burst_on_two_h100s_is_predicted_out_of_sample() {
    let (report, scenario) = held_out_multistep8("h100-sxm-llama-3-8b-tp2-multistep8-vllm0.6.2-vllm9476.yaml");
    assert_eq!(scenario.engine.tensor_parallel_size, 2);
    let run = scenario.run().unwrap();
    let c = servecast::report::compare::compare_level(&report.levels[0], &run.levels[0]);
    let thr = c.figure("output_throughput_tok_s").unwrap().error_pct;
    println!(
        "issue #9476 output throughput {thr:+.1}%; duration {:.2} s (measured 37.56)",
        run.levels[0].duration_s
    );
    // Issue 12's bound for a multi-step measurement: 15% on throughput.
    assert!(thr.abs() <= 15.0, "throughput {thr:+.1}%");
}

/// vLLM PR #7652 (@afeldman-nm's perf test, main of 2024-09-03, the eve of 0.6.0: Meta-Llama-3-8B
/// on one H100, `--num-scheduler-steps 8` with the async output processor, 1,000 ShareGPT prompts
/// at once): predicted with the learned prior (multi-step setups are held out of the pooled fit).
/// The stored copy of the result ends at the median TTFT, so throughput and TTFT are all there is.
#[test]
fn pr7652_multi_step_burst_before_0_6_0_is_predicted_out_of_sample() {
    let (report, scenario) = held_out_multistep8("h100-sxm-llama-3-8b-vllm0.6.0-multistep8-vllm-pr7652.yaml");
    assert_eq!(
        scenario.engine.version,
        servecast::spec::engine::EngineVersion::Vllm0600
    );
    let run = scenario.run().unwrap();
    let c = servecast::report::compare::compare_level(&report.levels[0], &run.levels[0]);
    let e = |n: &str| c.figure(n).unwrap().error_pct;
    let (thr, ttft) = (e("output_throughput_tok_s"), e("ttft_ms.mean"));
    println!(
        "PR #7652 [output throughput, mean TTFT] %: [{thr:+.1}, {ttft:+.1}]; duration {:.2} s (measured 25.30)",
        run.levels[0].duration_s
    );
    // Issue 12's bound for a multi-step measurement: 15% on throughput. A burst's mean TTFT is
    // the queue of 1,000 prompts ahead of each; servecast puts it later than measured (4.7 s),
    // which the bound below pins so that it cannot drift further unnoticed.
    assert!(thr.abs() <= 15.0, "throughput {thr:+.1}%");
    assert!(ttft.abs() <= 120.0, "mean TTFT {ttft:+.1}%");
}

/// How each release hands a pass's tokens to the clients (docs/research/vllm-memory-current.md
/// §7; 0.5.5 read from its sdist): 0.5.5 processes a pass's outputs after its last step; 0.6.0–0.6.2
/// create them at the pass's end but emit a finished request at once; 0.6.3 streams every step
/// (`--multi-step-stream-outputs`, default True from 0.6.3, a flag from 0.6.2).
#[test]
fn each_release_hands_a_pass_over_as_it_did() {
    use servecast::spec::engine::MultiStepOutput::*;
    let scenario = |release: &str, stream: Option<bool>| {
        a10_flags(
            release,
            4,
            EngineFlags {
                num_scheduler_steps: Some(8),
                multi_step_stream_outputs: stream,
                ..EngineFlags::default()
            },
        )
    };
    let mode = |release: &str, stream: Option<bool>| scenario(release, stream).map(|s| s.engine.multi_step_output);
    assert_eq!(mode("0.5.5", None).unwrap(), AtPassEnd);
    assert_eq!(mode("0.6.1", None).unwrap(), AtPassEndFinishesAtOnce);
    assert_eq!(mode("0.6.2", None).unwrap(), AtPassEndFinishesAtOnce);
    assert_eq!(mode("0.6.2", Some(true)).unwrap(), EveryStep);
    assert_eq!(mode("0.6.3", None).unwrap(), EveryStep);
    assert_eq!(mode("0.6.3", Some(false)).unwrap(), AtPassEndFinishesAtOnce);
    // argparse of 0.6.1 has no such flag, nor has 0.11 (V0 gone).
    let e = mode("0.6.1", Some(true)).unwrap_err().to_string();
    assert!(
        e.ends_with("unrecognized arguments: --multi-step-stream-outputs"),
        "{e}"
    );
    let e = mode("0.11.0", Some(true)).unwrap_err().to_string();
    assert!(e.contains("unrecognized arguments: --num-scheduler-steps 8"), "{e}");
    // A client reading the stream sees one chunk of 8 tokens per pass: its inter-token latency
    // is a pass long, while TPOT (per token) is the same either way.
    let run = |stream| scenario("0.6.3", Some(stream)).unwrap().run().unwrap();
    let (bursts, every) = (run(false), run(true));
    let (itl_b, itl_e) = (bursts.levels[0].itl_ms.mean, every.levels[0].itl_ms.mean);
    let (tpot_b, tpot_e) = (bursts.levels[0].tpot_ms.mean, every.levels[0].tpot_ms.mean);
    assert!(itl_b > 6.0 * itl_e, "ITL {itl_b} ms in bursts vs {itl_e} ms streamed");
    assert!((tpot_b / tpot_e - 1.0).abs() < 0.1, "TPOT {tpot_b} vs {tpot_e} ms");
    // The client's ITL is per chunk: about eight steps, the decode step being TPOT.
    assert!(
        (itl_b / (8.0 * tpot_e) - 1.0).abs() < 0.2,
        "ITL {itl_b} ms vs 8 × {tpot_e} ms"
    );
}

/// The vLLM blog's MI300X best-practices post, Case 2 (Llama-3.1-70B at TP 4, vLLM 0.6.2,
/// 1000 ShareGPT prompts at 16, 32 and 1000 QPS): the same server without chunked prefill at one
/// and five scheduler steps. The one-step run is in the pooled prior; the five-step run is
/// predicted out of sample, and so is the speedup multi-step gives, which does not hang on the
/// MI300X's (thinly measured) efficiencies the way each run's own figure does.
#[test]
fn mi300x_multi_step_speedup_is_predicted() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/corpus/mi300x-llama-3.1-70b-tp4-vllm0.6.2-vllm-blog-amd.yaml");
    let reports = servecast::measured::MeasuredReport::all_from_path(&path).unwrap();
    let find = |key: &str| reports.iter().find(|r| r.id.ends_with(key)).unwrap();
    let (one, five) = (find("b-no-chunked-prefill"), find("c-multistep5"));
    assert!(servecast::fit::hierarchy::CorpusSetup::new(one).is_ok());
    assert!(servecast::fit::hierarchy::CorpusSetup::new(five).is_err());
    let run =
        |r: &servecast::measured::MeasuredReport| Scenario::builder().from_report(r).build().unwrap().run().unwrap();
    let (p1, p5) = (run(one), run(five));
    for (i, (m1, m5)) in one.levels.iter().zip(&five.levels).enumerate() {
        let measured = m5.request_throughput_req_s.unwrap() / m1.request_throughput_req_s.unwrap();
        let predicted = p5.levels[i].request_throughput_req_s / p1.levels[i].request_throughput_req_s;
        let e5 = p5.levels[i].request_throughput_req_s / m5.request_throughput_req_s.unwrap() - 1.0;
        let e1 = p1.levels[i].request_throughput_req_s / m1.request_throughput_req_s.unwrap() - 1.0;
        println!(
            "QPS {:?}: 5 steps / 1 step measured {measured:.3}, predicted {predicted:.3}; \
             request throughput error 1 step {:+.1}%, 5 steps {:+.1}%",
            m1.qps,
            e1 * 100.0,
            e5 * 100.0
        );
        // Regression guards at today's figures (1 step +5…+15%, 5 steps +34…+74%). The gain
        // comes out high (1.4–1.9 against 1.22): the 0.6–0.7 line's learned per-sequence host
        // time, 0.23 ms, makes a 256-sequence step mostly host time, which a pass then removes.
        assert!(predicted > 1.0 && measured > 1.0);
        assert!(e1.abs() <= 0.18, "one step {e1:+.3}");
        assert!(e5.abs() <= 0.86, "five steps {e5:+.3}");
    }
}

/// Llama-3-8B on an H100 under `release`, 32 closed-loop users sending 8 requests of 512 / 256
/// tokens each, with the learned prior or, when `streaming` is false, that prior with the 0.2–0.5
/// line's in-process streaming term at zero.
fn h100_v05(release: &str, streaming: bool) -> servecast::scenario::Prediction {
    let build = |profile: Option<servecast::cost::Profile>| {
        let b = Scenario::builder()
            .gpu("h100-sxm")
            .model("llama-3-8b")
            .engine(EngineVersion::parse(release, "test").unwrap())
            .release(release)
            .workload(WorkloadSpec::closed_loop(
                vec![32],
                8,
                LengthDist::Fixed { tokens: 512 },
                LengthDist::Fixed { tokens: 256 },
            ));
        match profile {
            Some(p) => b.profile(p),
            None => b,
        }
        .build()
        .unwrap()
    };
    let s = build(None);
    if streaming {
        return s.run().unwrap();
    }
    let mut profile = s.profile.clone();
    profile.cost.api_server_inline_item_s = 0.0;
    build(Some(profile)).run().unwrap()
}

/// Up to 0.5.3 the OpenAI server runs in the engine's process and every streamed token is step
/// time; 0.5.4 moved it to a process of its own (the RPC front end, vLLM PR #6883). The same
/// served load is faster on 0.5.4 by exactly that term: with it at zero, 0.5.3 predicts what 0.5.4
/// does, to the nanosecond.
#[test]
fn from_0_5_4_the_api_server_streams_outside_the_engine_process() {
    let in_process = h100_v05("0.5.3.post1", true);
    let rpc = h100_v05("0.5.4", true);
    let (a, b) = (&in_process.levels[0], &rpc.levels[0]);
    assert!(
        b.output_throughput_tok_s > a.output_throughput_tok_s * 1.02,
        "0.5.3 {} vs 0.5.4 {} tok/s",
        a.output_throughput_tok_s,
        b.output_throughput_tok_s
    );
    assert!(a.tpot_ms.mean > b.tpot_ms.mean);
    let without = h100_v05("0.5.3.post1", false);
    assert_eq!(without.levels[0].duration_s, b.duration_s);
    assert_eq!(h100_v05("0.5.4", false).levels[0].duration_s, b.duration_s);
}
