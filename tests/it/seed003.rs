//! Seed 003 (VoxCPM 1.5 on nanovllm-voxcpm, 2 data-parallel RTX 4090 engines behind one API
//! server): every figure in data/measured/rtx4090x2-voxcpm1.5-nanovllm.yaml against the shipped
//! profile, with the error printed, and a fit on part of the tables predicting the rest.

use servecast::fit::card_memory::card_memory_errors;
use servecast::fit::{fit_reports, FitOptions};
use servecast::measured::{builtin_reports, MeasuredReport};
use servecast::profiles::builtin_profile_for;
use servecast::report::compare::compare_level;
use servecast::scenario::Scenario;
use servecast::spec::engine::EngineVersion;
use servecast::Error;

fn voxcpm_reports() -> Vec<MeasuredReport> {
    builtin_reports()
        .unwrap()
        .into_iter()
        .filter(|r| r.model == "voxcpm-1.5")
        .collect()
}

/// Worst absolute error of `figure` over the levels of the reports whose id passes `pick`.
fn errors(reports: &[MeasuredReport], pick: impl Fn(&str) -> bool, figure: &str) -> Vec<(String, u32, f64)> {
    let mut out = Vec::new();
    for r in reports.iter().filter(|r| pick(&r.id) && !r.levels.is_empty()) {
        let pred = Scenario::builder().from_report(r).build().unwrap().run().unwrap();
        for (m, p) in r.levels.iter().zip(&pred.levels) {
            if let Some(f) = compare_level(m, p).figure(figure) {
                println!(
                    "  {:<28} n={:<4} {figure}: measured {:.3}, predicted {:.3} ({:+.1}%)",
                    r.id, m.requests, f.measured, f.predicted, f.error_pct
                );
                out.push((r.id.clone(), m.requests, f.error_pct));
            }
        }
    }
    out
}

fn worst(e: &[(String, u32, f64)]) -> f64 {
    e.iter().map(|x| x.2.abs()).fold(0.0, f64::max)
}

#[test]
fn memory_start_up_and_card_readings() {
    let reports = voxcpm_reports();
    // util 0.35 with 128 sequences fails the way nano-vllm does; 0.40 starts.
    for r in &reports {
        let built = Scenario::builder().from_report(r).build().unwrap();
        let outcome = built.memory();
        if r.refused_to_start() {
            match outcome {
                Err(Error::EngineRefused { message, .. }) => {
                    assert_eq!(
                        message, "AssertionError: assert config.num_kvcache_blocks > 0",
                        "{}",
                        r.id
                    )
                }
                other => panic!("{}: expected the KV-insufficient assertion, got {other:?}", r.id),
            }
        } else {
            assert!(outcome.is_ok(), "{}: {outcome:?}", r.id);
        }
    }
    assert!(reports.iter().any(|r| r.refused_to_start()));
    // Every idle card reading within 10%.
    let profile = builtin_profile_for("rtx-4090", "voxcpm-1.5", EngineVersion::NanoVllm)
        .unwrap()
        .unwrap();
    let scenarios: Vec<Scenario> = reports
        .iter()
        .map(|r| Scenario::builder().from_report(r).build().unwrap())
        .collect();
    let inputs: Vec<_> = reports.iter().zip(&scenarios).collect();
    let rows = card_memory_errors(&inputs, &profile.memory);
    assert_eq!(rows.len(), 21, "every card reading of §3, §4 and §5 is checked");
    for c in &rows {
        println!(
            "  {:<28} card memory: measured {:.0} MiB, predicted {:.0} MiB ({:+.1}%)",
            c.report, c.measured_mib, c.predicted_mib, c.error_pct
        );
        assert!(c.error_pct.abs() <= 10.0, "{}: {:+.1}%", c.report, c.error_pct);
    }
}

#[test]
fn full_load_throughput_rtf_ttfb_and_overload() {
    let reports = voxcpm_reports();
    println!("§5 full-load throughput (× real time), util 0.5/0.7/0.9 × max_num_seqs 8…128:");
    let x = errors(
        &reports,
        |id| id.starts_with("voxcpm-u0.5-s") || id.starts_with("voxcpm-u0.7-s") || id.starts_with("voxcpm-u0.9-s"),
        "audio_throughput_x_realtime",
    );
    assert_eq!(x.len(), 15);
    let within_10 = x.iter().filter(|e| e.2.abs() <= 10.0).count();
    println!("  {within_10} of 15 cells within 10%, worst {:.1}%", worst(&x));
    assert!(within_10 == 15 && worst(&x) <= 10.0, "every cell within 10%");
    println!("§3.3 (util 0.4): single-request RTF and the 64/128 bursts:");
    let rtf = errors(&reports, |id| id == "voxcpm-u0.4-s128", "rtf.mean");
    assert!(worst(&rtf) <= 20.0, "single-request RTF");
    let x04 = errors(&reports, |id| id == "voxcpm-u0.4-s128", "audio_throughput_x_realtime");
    assert!(worst(&x04) <= 25.0);
    println!("§5 RTF column (derived: n ÷ (8 × throughput)):");
    let col = errors(&reports, |id| id.starts_with("voxcpm-u0."), "reported_rtf");
    assert!(worst(&col) <= 20.0);
    println!("§6 TTFB vs concurrency (mean):");
    let ttfb = errors(&reports, |id| id == "voxcpm-u0.5-s128-ttfb", "ttfb_ms.mean");
    assert_eq!(ttfb.len(), 5);
    assert!(worst(&ttfb) <= 20.0, "TTFB worst {:.1}%", worst(&ttfb));
    println!("§7 overload: wall time and mean TTFB, no request rejected:");
    let wall = errors(&reports, |id| id == "voxcpm-u0.5-s128-overload", "total_time_s");
    let ottfb = errors(&reports, |id| id == "voxcpm-u0.5-s128-overload", "ttfb_ms.mean");
    let ok = errors(&reports, |id| id == "voxcpm-u0.5-s128-overload", "success_rate");
    assert!(worst(&wall) <= 15.0, "wall time worst {:.1}%", worst(&wall));
    // 13.6% when the LM head was charged at every prompt token; +16.6% (256 concurrent) since
    // it is charged at sampled positions and the elementwise kernels' traffic is modelled
    // (2026-12-06), which moved the fitted API-server time per request 12.7 → 13.1 ms.
    assert!(worst(&ottfb) <= 17.0, "overload TTFB worst {:.1}%", worst(&ottfb));
    assert!(ok.iter().all(|e| e.2 == 0.0), "a request was rejected");
}

#[test]
fn max_model_len_table() {
    let reports = voxcpm_reports();
    for r in reports.iter().filter(|r| r.id.contains("-len")) {
        let pred = Scenario::builder().from_report(r).build().unwrap().run().unwrap();
        for (m, p) in r.levels.iter().zip(&pred.levels) {
            assert_eq!(
                m.failed,
                p.failed == 1,
                "{}: failure of a {}-token request",
                r.id,
                p.output_tokens.mean
            );
        }
    }
    println!("§4 audio seconds of the 8/68/313-character texts, each run:");
    let audio = errors(&reports, |id| id.contains("-len"), "audio_s");
    assert_eq!(audio.len(), 10);
    let within = audio.iter().filter(|e| e.2.abs() <= 20.0).count();
    println!("  {within} of 10 runs within 20%, worst {:.1}%", worst(&audio));
    assert!(worst(&audio) <= 20.0, "every run within 20%");
    // The four max_model_len rows run the same three texts on the same server: max_model_len
    // decides whether a text fits, not what is generated, so each text's readings are repeats of
    // one random length (VoxCPM samples at temperature 1): each text against the median and the
    // mean of its repeats too.
    println!("§4 per text (readings of the runs that succeeded):");
    let mut by_text: Vec<(u32, Vec<f64>, f64)> = Vec::new();
    for r in reports.iter().filter(|r| r.id.contains("-len")) {
        let pred = Scenario::builder().from_report(r).build().unwrap().run().unwrap();
        let chars = r.workload.text_chars_per_level.clone().unwrap();
        for ((m, p), c) in r.levels.iter().zip(&pred.levels).zip(chars) {
            let Some(measured) = m.audio_s else { continue };
            let predicted = p.tts.as_ref().unwrap().audio_s;
            match by_text.iter_mut().find(|t| t.0 == c) {
                Some(t) => {
                    assert_eq!(t.2, predicted, "one text, one predicted length");
                    t.1.push(measured);
                }
                None => by_text.push((c, vec![measured], predicted)),
            }
        }
    }
    assert_eq!(by_text.iter().map(|t| t.0).collect::<Vec<_>>(), [8, 68, 313]);
    for (chars, mut readings, predicted) in by_text {
        readings.sort_by(f64::total_cmp);
        let n = readings.len();
        let median = (readings[(n - 1) / 2] + readings[n / 2]) / 2.0;
        let mean = readings.iter().sum::<f64>() / n as f64;
        let err = (predicted / median - 1.0) * 100.0;
        println!(
            "  {chars:>3} characters: runs {readings:?} s, median {median:.2} s, mean {mean:.2} s; \
             predicted {predicted:.2} s ({err:+.1}% of the median, {:+.1}% of the mean)",
            (predicted / mean - 1.0) * 100.0
        );
        assert!(err.abs() <= 20.0, "{chars}-character text: {err:+.1}% of the median");
        assert!(
            (predicted / mean - 1.0).abs() <= 0.2,
            "{chars}-character text against the mean"
        );
    }
}

#[test]
fn fit_on_util_half_predicts_the_other_tables() {
    // Train on the util 0.5 measurements (§5 row, §6 TTFB) and every memory figure (card
    // readings and start-up outcomes); predict the util 0.7 and 0.9 rows (§5), the util 0.4
    // checks (§3.3) and the overload test (§7).
    let reports = voxcpm_reports();
    let train = |id: &str| id.starts_with("voxcpm-u0.5-s") && !id.ends_with("overload");
    let memory_only: Vec<MeasuredReport> = reports
        .iter()
        .filter(|r| !train(&r.id))
        .map(|r| MeasuredReport {
            levels: Vec::new(),
            ..r.clone()
        })
        .collect();
    let train_reports: Vec<&MeasuredReport> = reports.iter().filter(|r| train(&r.id)).chain(&memory_only).collect();
    let scenarios: Vec<Scenario> = train_reports
        .iter()
        .map(|r| Scenario::builder().from_report(r).build().unwrap())
        .collect();
    let inputs: Vec<_> = train_reports.iter().copied().zip(&scenarios).collect();
    let fit = fit_reports(&inputs, &FitOptions::default()).unwrap();
    println!("fitted on {} setups in {:.2} s", inputs.len(), fit.elapsed_s);
    let mut worst_x: f64 = 0.0;
    let mut worst_wall: f64 = 0.0;
    let mut worst_ttfb: f64 = 0.0;
    for r in reports.iter().filter(|r| !train(&r.id) && !r.levels.is_empty()) {
        let mut s = Scenario::builder().from_report(r).build().unwrap();
        s.profile = fit.profile.clone();
        let pred = s.run().unwrap();
        for (m, p) in r.levels.iter().zip(&pred.levels) {
            let cmp = compare_level(m, p);
            for name in [
                "audio_throughput_x_realtime",
                "total_time_s",
                "ttfb_ms.mean",
                "rtf.mean",
            ] {
                if let Some(f) = cmp.figure(name) {
                    println!(
                        "  held out {:<28} n={:<4} {name}: measured {:.3}, predicted {:.3} ({:+.1}%)",
                        r.id, m.requests, f.measured, f.predicted, f.error_pct
                    );
                    if name == "audio_throughput_x_realtime" && !r.id.starts_with("voxcpm-u0.4") {
                        worst_x = worst_x.max(f.error_pct.abs());
                    }
                    if name == "total_time_s" {
                        worst_wall = worst_wall.max(f.error_pct.abs());
                    }
                    if name == "ttfb_ms.mean" {
                        worst_ttfb = worst_ttfb.max(f.error_pct.abs());
                    }
                }
            }
        }
    }
    println!(
        "held out: worst × real time (util 0.7/0.9) {worst_x:.1}%, overload wall time {worst_wall:.1}%, overload mean TTFB {worst_ttfb:.1}%"
    );
    assert!(worst_x <= 10.0 && worst_wall <= 25.0 && worst_ttfb <= 45.0);
}

#[test]
fn one_by_four_figure_fits_the_tensor_parallel_reading_better() {
    // The fork's README reports ≈248× real time for "1×4 张量并行" (util 0.4, seqs 128, 100
    // characters, up to 512 concurrent). Its server code runs the 4 GPUs as data-parallel engines;
    // servecast's fitted profile predicts both readings, and the reported figure sits nearer the
    // tensor-parallel one (the shared API process, whose per-item cost seed 003 cannot pin, is the
    // likely cap on 4 engines).
    let reported = 248.0;
    let predict = |replicas: u32, tp: u32| -> f64 {
        let s = Scenario::builder()
            .gpu("4090")
            .model("voxcpm-1.5")
            .engine(EngineVersion::NanoVllm)
            .flags(servecast::spec::engine::EngineFlags {
                gpu_memory_utilization: Some(0.4),
                max_num_seqs: Some(128),
                max_model_len: Some(2048),
                tensor_parallel_size: Some(tp),
                ..Default::default()
            })
            .replicas(replicas)
            .router(servecast::engine::cluster::Router::LeastOutstanding)
            .workload({
                let mut w = servecast::workload::arrivals::WorkloadSpec::new(
                    servecast::workload::arrivals::LoadSpec::MaxConcurrency {
                        levels: vec![servecast::workload::arrivals::ConcurrencyLevel {
                            concurrency: 512,
                            num_requests: 512,
                        }],
                    },
                    servecast::workload::lengths::LengthDist::Fixed { tokens: 1 },
                    servecast::workload::lengths::LengthDist::Fixed { tokens: 1 },
                );
                w.text_chars = Some(100);
                w
            })
            .build()
            .unwrap();
        s.run().unwrap().levels[0].tts.as_ref().unwrap().throughput_x_realtime
    };
    let dp = predict(4, 1);
    let tp = predict(1, 4);
    println!("1×4: data-parallel reading {dp:.0}×, TP=4 reading {tp:.0}×, reported {reported}×");
    assert!((tp / reported - 1.0).abs() < (dp / reported - 1.0).abs());
    assert!((tp / reported - 1.0).abs() <= 0.15, "TP reading {tp:.0}×");
}
