//! Output lengths as benchmarks produce them: dataset presets (prompt and reference completion of
//! one entry together), their scaling to a report's token totals, and answers that end before
//! the client's max_tokens.

use servecast::measured::MeasuredReport;
use servecast::workload::arrivals::{LoadSpec, WorkloadSpec};
use servecast::workload::datasets::preset;
use servecast::workload::lengths::{DatasetPart, LengthDist};

#[test]
fn sharegpt_draws_each_request_from_one_entry() {
    let p = preset("sharegpt").unwrap();
    assert_eq!(p.len(), 200, "the preset's 200 (prompt, completion) pairs");
    let mut w = WorkloadSpec::new(
        LoadSpec::Poisson {
            qps: vec![f64::INFINITY],
            num_requests: 20_000,
            max_concurrency: None,
            burstiness: 1.0,
            num_requests_per_level: None,
            client_draws: None,
        },
        LengthDist::Dataset {
            name: "sharegpt".into(),
            part: None,
            mean: None,
            max: None,
        },
        LengthDist::Dataset {
            name: "sharegpt".into(),
            part: None,
            mean: None,
            max: None,
        },
    );
    w.fill_dataset_parts();
    let (requests, _) = w.generate(0, 7);
    let inputs: Vec<f64> = requests.iter().map(|r| f64::from(r.input_tokens)).collect();
    let outputs: Vec<f64> = requests.iter().map(|r| f64::from(r.output_tokens)).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let rho = servecast::sweep::spearman_rho(&inputs, &outputs).unwrap();
    println!(
        "ShareGPT draws: prompt mean {:.1} (preset {:.1}), completion mean {:.1} (preset {:.1}), Spearman {rho:.2} (dataset −0.41)",
        mean(&inputs),
        p.mean(DatasetPart::Input),
        mean(&outputs),
        p.mean(DatasetPart::Output)
    );
    assert!((mean(&inputs) / p.mean(DatasetPart::Input) - 1.0).abs() < 0.03);
    assert!((mean(&outputs) / p.mean(DatasetPart::Output) - 1.0).abs() < 0.03);
    // Long questions get short answers in ShareGPT: the pair keeps that (independent draws: 0).
    assert!(rho < -0.25, "{rho}");
}

#[test]
fn a_reports_token_totals_scale_the_dataset_and_cap_fixed_answers() {
    // A ShareGPT burst whose report prints its totals: the draws average what it printed.
    let text = r#"
id: t
provenance: {url: "https://example.org/x", date: "2026-01-01", section: "s", stated: "s"}
gpu: a100-80g-sxm
model: qwen3-8b
release: "0.11.0"
engine: vllm-0.10
flags: {}
workload:
  load: {kind: poisson, qps: [.inf], num_requests: 1000}
  ignore_eos: false
  input_len: {kind: dataset, name: sharegpt}
  output_len: {kind: dataset, name: sharegpt}
levels:
  - {qps: .inf, requests: 1000, successful_requests: 1000, total_input_tokens: 230969, total_output_tokens: 194523, output_throughput_tok_s: 3000}
"#;
    let r = MeasuredReport::from_yaml(text, "t.yaml").unwrap();
    let (requests, _) = r.workload.generate(0, 1);
    let n = requests.len() as f64;
    let mean_in = requests.iter().map(|q| f64::from(q.input_tokens)).sum::<f64>() / n;
    let mean_out = requests.iter().map(|q| f64::from(q.output_tokens)).sum::<f64>() / n;
    println!("scaled to the report's totals: prompts {mean_in:.1} (230.969), answers {mean_out:.1} (194.523)");
    assert!((mean_in / 230.969 - 1.0).abs() < 0.03 && (mean_out / 194.523 - 1.0).abs() < 0.03);

    // Fixed max_tokens 256 without --ignore-eos, and 180 generated on average: answers end early
    // with a spread (each token the last with one probability), never beyond 256.
    let capped = text
        .replace(
            "input_len: {kind: dataset, name: sharegpt}",
            "input_len: {kind: fixed, tokens: 1024}",
        )
        .replace(
            "output_len: {kind: dataset, name: sharegpt}",
            "output_len: {kind: fixed, tokens: 256}",
        )
        .replace(
            "total_input_tokens: 230969, total_output_tokens: 194523",
            "total_input_tokens: 1024000, total_output_tokens: 180000",
        );
    let r = MeasuredReport::from_yaml(&capped, "t.yaml").unwrap();
    assert_eq!(
        r.workload.output_len_at(0),
        &LengthDist::Capped { cap: 256, mean: 180.0 },
        "a fixed max_tokens the model may stop before"
    );
    let (requests, _) = r.workload.generate(0, 1);
    let outs: Vec<u32> = requests.iter().map(|q| q.output_tokens).collect();
    let mean = outs.iter().map(|&o| f64::from(o)).sum::<f64>() / outs.len() as f64;
    let at_cap = outs.iter().filter(|&&o| o == 256).count() as f64 / outs.len() as f64;
    println!(
        "capped answers: mean {mean:.1} (180), {:.0}% at the cap, max {}",
        at_cap * 100.0,
        outs.iter().max().unwrap()
    );
    assert!((mean / 180.0 - 1.0).abs() < 0.05, "{mean}");
    assert!(
        *outs.iter().max().unwrap() == 256 && at_cap > 0.1 && at_cap < 0.9,
        "{at_cap}"
    );
    // With --ignore-eos the same report keeps every answer at 256.
    let exact = capped.replace("ignore_eos: false", "ignore_eos: true");
    let r = MeasuredReport::from_yaml(&exact, "t.yaml").unwrap();
    assert_eq!(r.workload.output_len_at(0), &LengthDist::Fixed { tokens: 256 });
}

#[test]
fn dataset_lengths_parse_from_the_command_line() {
    let d = LengthDist::parse("dataset:sharegpt,mean=300,max=512", "--output-len").unwrap();
    assert_eq!(
        d,
        LengthDist::Dataset {
            name: "sharegpt".into(),
            part: None,
            mean: Some(300.0),
            max: Some(512)
        }
    );
    assert_eq!(d.to_string(), "dataset:sharegpt,mean=300,max=512");
    assert!(LengthDist::parse("dataset:nosuch", "--output-len").is_err());
    // A mean no capped draw can average.
    let e = LengthDist::parse("dataset:sharegpt,mean=500,max=256", "--output-len").unwrap_err();
    assert!(e.to_string().contains("max = 256"), "{e}");
    let c = LengthDist::parse("capped:256,180", "--output-len").unwrap();
    assert_eq!(c, LengthDist::Capped { cap: 256, mean: 180.0 });
    assert!(
        LengthDist::parse("capped:256,300", "--output-len").is_err(),
        "a mean above the cap"
    );
}

#[test]
fn a_scaled_dataset_clipped_at_max_tokens_still_averages_its_mean() {
    // The report's total says 180 tokens per answer and the client capped answers at 256: the
    // scaled ShareGPT completions run past 256 often, so scaling to 180 and clipping afterwards
    // would average well under 180.
    let p = preset("sharegpt").unwrap();
    let d = LengthDist::Dataset {
        name: "sharegpt".into(),
        part: Some(DatasetPart::Output),
        mean: Some(180.0),
        max: Some(256),
    };
    let naive: f64 = (0..p.len())
        .map(|i| {
            let raw = f64::from(p.value((i as f64 + 0.5) / p.len() as f64, DatasetPart::Output));
            (raw * 180.0 / p.mean(DatasetPart::Output)).round().clamp(1.0, 256.0)
        })
        .sum::<f64>()
        / p.len() as f64;
    assert!(
        naive < 170.0,
        "the clip must matter for this test to mean anything: {naive}"
    );
    let mut rng = servecast::workload::rng::SimRng::new(11);
    let draws = d.sample_n(40_000, &mut rng);
    let mean = draws.iter().map(|&v| f64::from(v)).sum::<f64>() / draws.len() as f64;
    assert!(draws.iter().all(|&v| (1..=256).contains(&v)));
    assert!(
        (mean / 180.0 - 1.0).abs() < 0.02,
        "draws average {mean}, clip-after-scale {naive}"
    );
    assert!((d.mean() / 180.0 - 1.0).abs() < 0.01, "{}", d.mean());
}

/// vLLM PR #7921's sonnet run, read from its printed client command (1,024-token prompts, 512
/// shared, Llama-3.1-8B-Instruct, the 2024 client): servecast's prompts average 939 tokens; the
/// run's client counted 191,053 prompt tokens for 200 requests (955.3 each). The 1.7% left is
/// the fixed first 39 lines, which servecast counts at the average line's length.
#[test]
fn sonnet_prompts_match_a_measured_runs_prompt_tokens() {
    use servecast::workload::client_command::ClientCommand;
    use servecast::workload::datasets::RandomRangeEra;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data/measured/corpus/h100-sxm-llama-3.1-8b-vllm0.5.5-multistep8-vllm-pr7921.yaml");
    let report = &MeasuredReport::all_from_path(&path).unwrap()[0];
    let command = report.provenance.client_command.clone();
    let level = &report.levels[0];
    let measured = level.total_input_tokens.unwrap() as f64 / f64::from(level.requests);
    assert!((measured - 955.3).abs() < 0.1, "{measured}");
    let c = ClientCommand::parse(&command).unwrap();
    let (input, output) = c.lengths(RandomRangeEra::Y2024).unwrap();
    assert_eq!(output, Some(LengthDist::Fixed { tokens: 512 }));
    let predicted = input.mean();
    assert!((predicted / measured - 1.0).abs() < 0.02, "{predicted} vs {measured}");
    // The 39 shared lines and the templated instruction: about 467 tokens every prompt shares.
    let (_, shared) = c.shared_prefix.unwrap();
    assert!((460..=475).contains(&shared), "{shared}");
}
