//! Configurations the engine refuses are refused with the engine's own words; bad input gets a
//! clear error naming the field, never a panic.

use servecast::error::{Error, RefusalKind};
use servecast::measured::{builtin_recorded_configs, MeasuredReport, StartupOutcome};
use servecast::scenario::Scenario;
use servecast::spec::cmdline::check_serve_command;
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::lengths::LengthDist;

#[test]
fn every_seed_004_line_gets_the_outcome_vllm_gave_it() {
    let recorded = builtin_recorded_configs().unwrap();
    assert_eq!(recorded.configs.len(), 9);
    for c in &recorded.configs {
        let got = check_serve_command(&c.command, &recorded.gpu, recorded.engine);
        match (c.outcome, got) {
            (StartupOutcome::Refused, Err(e)) => {
                assert_eq!(Some(e.to_string()), c.error, "{}", c.command);
                assert!(matches!(
                    e,
                    Error::EngineRefused {
                        kind: RefusalKind::BatchedTokensBelowModelLen,
                        ..
                    }
                ));
            }
            (StartupOutcome::Started, Ok((cfg, plan))) => {
                assert!(cfg.enable_chunked_prefill);
                assert!(plan.num_gpu_blocks > 0);
            }
            (want, got) => panic!("{}: recorded {want:?}, servecast says {got:?}", c.command),
        }
    }
}

fn seed000_with(flags: EngineFlags) -> Result<Scenario, Error> {
    Scenario::builder()
        .gpu("4090")
        .flags(flags)
        .from_builtin_report()?
        .build()
}

#[test]
fn kv_cache_too_small_for_one_request_uses_v1_words() {
    // util 0.05 of a 4090 is about 1.18 GiB: the weights fit, one 1818-token request (0.21 GiB) does not.
    let s = seed000_with(EngineFlags {
        gpu_memory_utilization: Some(0.05),
        ..Default::default()
    })
    .unwrap();
    let err = s.memory().unwrap_err();
    let text = err.to_string();
    match err {
        Error::EngineRefused { kind, .. } => assert!(matches!(
            kind,
            RefusalKind::KvCacheTooSmall | RefusalKind::NoMemoryForCache
        )),
        other => panic!("{other:?}"),
    }
    assert!(
        text.starts_with("ValueError: To serve at least one request with the models's max seq len (1818)")
            || text.starts_with("ValueError: No available memory for the cache blocks."),
        "{text}"
    );
}

#[test]
fn kv_too_small_message_names_the_estimated_max_len() {
    // Qwen2.5-7B on a 24 GB A10 at util 0.7 leaves less than one 32K request of KV.
    let s = Scenario::builder()
        .gpu("a10")
        .model("qwen2.5-7b-instruct")
        .flags(EngineFlags {
            gpu_memory_utilization: Some(0.7),
            ..Default::default()
        })
        .workload(tiny_workload())
        .build()
        .unwrap();
    let text = s.memory().unwrap_err().to_string();
    assert!(
        text.contains("To serve at least one request with the models's max seq len (32768)"),
        "{text}"
    );
    assert!(
        text.contains("Based on the available memory, the estimated maximum model length is"),
        "{text}"
    );
    assert!(text.ends_with(
        "Try increasing `gpu_memory_utilization` or decreasing `max_model_len` when initializing the engine."
    ));
}

#[test]
fn v0_uses_its_own_cache_size_message() {
    // Llama-2-7B (12.55 GiB of weights) at util 0.66 of an A10 leaves ~1.5 GiB, less than one
    // 4096-token request (2 GiB).
    let s = Scenario::builder()
        .gpu("a10")
        .model("llama-2-7b")
        .engine(EngineVersion::Vllm06)
        .flags(EngineFlags {
            gpu_memory_utilization: Some(0.66),
            ..Default::default()
        })
        .workload(tiny_workload())
        .build()
        .unwrap();
    let text = s.memory().unwrap_err().to_string();
    assert!(text.starts_with("ValueError: The model's max seq len (4096) is larger than the maximum number of tokens that can be stored in KV cache ("), "{text}");
}

#[test]
fn batched_tokens_below_num_seqs_is_refused() {
    let err = seed000_with(EngineFlags {
        max_num_seqs: Some(300),
        max_num_batched_tokens: Some(256),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ValueError: max_num_batched_tokens (256) must be greater than or equal to max_num_seqs (300)."
    );
}

#[test]
fn util_out_of_range_names_the_field_and_range() {
    for util in [0.0, -0.5, 1.5, f64::NAN] {
        let err = seed000_with(EngineFlags {
            gpu_memory_utilization: Some(util),
            ..Default::default()
        })
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("gpu_memory_utilization") && text.contains("(0, 1]"),
            "{text}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}

#[test]
fn unknown_gpu_and_model_suggest_the_closest_names() {
    let err = Scenario::builder().gpu("rtx 4080").build().unwrap_err();
    match &err {
        Error::UnknownGpu { suggestions, .. } => {
            assert!(suggestions.iter().any(|s| s.contains("4090")), "{suggestions:?}")
        }
        other => panic!("{other:?}"),
    }
    let err = Scenario::builder()
        .gpu("4090")
        .model("llama-3.1-9b")
        .workload(tiny_workload())
        .build()
        .unwrap_err();
    match &err {
        Error::UnknownModel { suggestions, .. } => assert!(
            suggestions.iter().any(|s| s.contains("llama-3.1-8b")),
            "{suggestions:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("did you mean"));
}

#[test]
fn zero_or_negative_lengths_are_refused() {
    for text in ["0", "-5", "0..10", "10..5", "normal:-3,1", "empirical:"] {
        let err = LengthDist::parse(text, "--output-len").unwrap_err().to_string();
        assert!(err.contains("--output-len"), "{text}: {err}");
    }
}

#[test]
fn malformed_measured_file_names_line_and_field() {
    let text = include_str!("../../data/measured/rtx4090-indextts2-gpt-vllm0.10.yaml")
        .replace("requests_per_user: 10", "requests_per_user: ten");
    let err = MeasuredReport::from_yaml(&text, "bad.yaml").unwrap_err();
    match &err {
        Error::Parse { origin, line, .. } => {
            assert_eq!(origin, "bad.yaml");
            assert!(*line > 0, "line number given: {err}");
        }
        other => panic!("{other:?}"),
    }
    let text = include_str!("../../data/measured/rtx4090-indextts2-gpt-vllm0.10.yaml")
        .replace("total_time_s: 26.95", "total_time_s: -1");
    let err = MeasuredReport::from_yaml(&text, "neg.yaml").unwrap_err().to_string();
    assert!(
        err.contains("neg.yaml") && err.contains("levels[0].total_time_s"),
        "{err}"
    );
    let text = include_str!("../../data/measured/rtx4090-indextts2-gpt-vllm0.10.yaml")
        .replace("gpu: rtx-4090", "gpu: rtx-4090\nbogus_field: 1");
    let err = MeasuredReport::from_yaml(&text, "unknown.yaml")
        .unwrap_err()
        .to_string();
    assert!(err.contains("bogus_field"), "{err}");
}

fn tiny_workload() -> servecast::workload::arrivals::WorkloadSpec {
    servecast::workload::arrivals::WorkloadSpec::closed_loop(
        vec![1],
        1,
        LengthDist::Fixed { tokens: 10 },
        LengthDist::Fixed { tokens: 10 },
    )
}

#[test]
fn a_profile_faster_than_the_datasheet_is_rejected() {
    let original = include_str!("../../data/profiles/rtx4090-indextts2-gpt-vllm0.10.yaml");
    let line = original
        .lines()
        .find(|l| l.trim_start().starts_with("weights_bandwidth_efficiency:"))
        .unwrap();
    let text = original.replace(line, "  weights_bandwidth_efficiency: 1.2");
    let err = servecast::cost::Profile::from_yaml(&text, "fast.yaml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fast.yaml") && err.contains("weights_bandwidth_efficiency") && err.contains("datasheet"),
        "{err}"
    );
}

#[test]
fn tts_texts_longer_than_max_model_len_fail_as_in_seed_003() {
    // Seed 003 §4: at util 0.4 and max_num_seqs 128, the 313-character text fails at
    // max_model_len 512 and 256 and passes at 1024 and 2048; 8 and 68 characters always pass.
    for (len, chars, fails) in [
        (2048, 313, false),
        (1024, 313, false),
        (512, 313, true),
        (256, 313, true),
        (256, 68, false),
        (256, 8, false),
        (2048, 8, false),
    ] {
        let mut s = Scenario::builder()
            .gpu("4090")
            .model("voxcpm-1.5")
            .engine(EngineVersion::NanoVllm)
            .flags(EngineFlags {
                gpu_memory_utilization: Some(0.4),
                max_num_seqs: Some(128),
                max_model_len: Some(len),
                ..Default::default()
            })
            .workload(tiny_workload())
            .build()
            .unwrap();
        let text = s.model.tts_text.clone().expect("VoxCPM has text rates");
        s.workload.set_text_chars(chars, &text);
        let level = &s.run().unwrap().levels[0];
        assert_eq!(level.failed == 1, fails, "max_model_len {len}, {chars} characters");
        assert_eq!(level.requests + level.failed, 1);
    }
}

/// What each release refuses, in its words: V0's flags are gone from 0.11 (argparse's
/// "unrecognized arguments", exit 2); `--kv-cache-memory` arrived in 0.11.
#[test]
fn each_release_refuses_what_it_refuses() {
    let on = |release: &str, flags: EngineFlags| {
        Scenario::builder()
            .gpu("4090")
            .from_builtin_report()
            .unwrap()
            .release(release)
            .edit_flags(|f| *f = flags.or(f))
            .build()
    };
    for (release, flags, flag) in [
        (
            "0.11.0",
            EngineFlags {
                scheduler_delay_factor: Some(0.5),
                ..EngineFlags::default()
            },
            "--scheduler-delay-factor 0.5",
        ),
        (
            "0.31.0",
            EngineFlags {
                num_scheduler_steps: Some(8),
                ..EngineFlags::default()
            },
            "--num-scheduler-steps 8",
        ),
    ] {
        match on(release, flags) {
            Err(e @ Error::EngineRefused { .. }) => {
                assert_eq!(
                    e.to_string().lines().last(),
                    Some(format!("vllm serve: error: unrecognized arguments: {flag}").as_str()),
                    "{release}"
                );
                assert_eq!(e.exit_code(), 2);
            }
            other => panic!("{release} {flag}: expected argparse's refusal, got {other:?}"),
        }
    }
    // 0.10.2 still had the V1 engine's own answer to a V0 flag: servecast names the field.
    let kv = EngineFlags {
        kv_cache_memory_bytes: Some(8 << 30),
        ..EngineFlags::default()
    };
    match on("0.10.2", kv.clone()) {
        Err(Error::InvalidField { field, message, .. }) => {
            assert_eq!(field, "kv_cache_memory_bytes");
            assert!(message.contains("0.11"), "{message}");
        }
        other => panic!("expected --kv-cache-memory refused before 0.11, got {other:?}"),
    }
    // More than the card holds: refused, naming the flag and the card's memory.
    let huge = EngineFlags {
        kv_cache_memory_bytes: Some(64 << 30),
        ..EngineFlags::default()
    };
    match on("0.11.0", huge).and_then(|s| s.memory()) {
        Err(Error::InvalidField { field, message, .. }) => {
            assert_eq!(field, "kv_cache_memory_bytes");
            assert!(
                message.contains("64.00 GiB") && message.contains("23.53 GiB"),
                "{message}"
            );
        }
        other => panic!("expected a KV cache larger than the 4090 refused, got {other:?}"),
    }
    // From 0.11 it replaces the budget: 8 GiB of KV cache whatever util says.
    let plan = on("0.11.0", kv).unwrap().memory().unwrap();
    assert_eq!(plan.kv_cache_bytes, 8 << 30);
    assert_eq!(
        plan.available_kv_cache_line(Some("0.11.0")),
        "Available KV cache memory: 8.00 GiB"
    );
}

/// `--quantization` offers the methods of its release's `QUANTIZATION_METHODS` (up to 0.10 as
/// argparse choices): AWQ-Marlin arrived in 0.5.3, MXFP4 in 0.10.1; AWQ was there from the start.
#[test]
fn quantization_methods_follow_the_release() {
    use servecast::spec::engine::Quantization;
    use servecast::spec::Catalog;
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("a100-80g-sxm").unwrap();
    let model = catalog.model("llama-3.1-8b").unwrap();
    let resolve = |q: Quantization, release: &str| {
        EngineFlags {
            quantization: Some(q),
            ..EngineFlags::default()
        }
        .resolve_release(EngineVersion::Vllm010, Some(release), model, gpu, "test")
    };
    match resolve(Quantization::AwqMarlin, "0.5.2") {
        Err(Error::EngineRefused { kind, message }) => {
            assert_eq!(kind, RefusalKind::InvalidConfig);
            assert_eq!(
                message,
                "usage: vllm serve [model_tag] [options]\nvllm serve: error: argument --quantization/-q: invalid \
                 choice: 'awq_marlin' (choose from …)"
            );
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(resolve(Quantization::AwqMarlin, "0.5.3").is_ok());
    assert!(resolve(Quantization::Awq, "0.5.2").is_ok());
    assert!(resolve(Quantization::Mxfp4, "0.10.0").is_err());
    assert!(
        resolve(Quantization::Mxfp4, "0.10").is_ok(),
        "0.10 may be 0.10.1 or later"
    );
}

/// A bfloat16 checkpoint on a GPU without bfloat16 (Turing, Volta), as each release treats
/// `--dtype`: vLLM before 0.9 stops with `_check_if_gpu_supports_dtype`'s message (text from
/// vLLM issue #946 / #1157 and gpustack #1774 logs: "… Your Tesla T4 GPU has compute capability
/// 7.5. You can use float16 instead by explicitly setting the`dtype` flag …"); from 0.9 `auto`
/// falls back to float16 (0.9.2 and 0.11.0 T4 logs: "doesn't support torch.bfloat16. Falling
/// back to torch.float16"); an explicit `--dtype bfloat16` stays refused everywhere, from 0.10 by
/// V1's `check_if_supports_dtype`, whose text has "the `dtype`" with a space.
#[test]
fn a_bfloat16_checkpoint_on_turing_or_volta_is_refused_or_cast_as_each_release_does() {
    use servecast::spec::engine::{resolve_dtype, DtypeFlag};
    use servecast::spec::{catalog::Catalog, Dtype};
    let catalog = Catalog::builtin().unwrap();
    let t4 = catalog.gpu("t4").unwrap().clone();
    let v100 = catalog.gpu("v100-16g").unwrap().clone();
    let a10 = catalog.gpu("a10").unwrap().clone();
    let qwen = catalog.model("qwen2.5-3b-instruct").unwrap().clone();
    assert_eq!(qwen.dtype, Dtype::Bf16);
    let t4_text = "ValueError: Bfloat16 is only supported on GPUs with compute capability of at least 8.0. Your \
                   Tesla T4 GPU has compute capability 7.5. You can use float16 instead by explicitly setting \
                   the`dtype` flag in CLI, for example: --dtype=half.";
    for release in ["0.4.3", "0.6.3.post1", "0.8.5.post1"] {
        let e = resolve_dtype(DtypeFlag::Auto, &qwen, &t4, Some(release)).unwrap_err();
        assert_eq!(e.to_string(), t4_text, "{release}");
        assert!(matches!(
            e,
            Error::EngineRefused {
                kind: RefusalKind::InvalidConfig,
                ..
            }
        ));
        assert_eq!(
            resolve_dtype(DtypeFlag::Float16, &qwen, &t4, Some(release)).unwrap(),
            Dtype::F16
        );
    }
    // V1's platform check (0.10+, which serves Turing itself) spells "the `dtype`" with a space.
    let t4_text_v1 = t4_text.replace("the`dtype`", "the `dtype`");
    for (release, text) in [
        ("0.9.0", t4_text),
        ("0.9.2", t4_text),
        ("0.23.0", t4_text_v1.as_str()),
        ("0.31.0", t4_text_v1.as_str()),
    ] {
        assert_eq!(
            resolve_dtype(DtypeFlag::Auto, &qwen, &t4, Some(release)).unwrap(),
            Dtype::F16
        );
        assert_eq!(
            resolve_dtype(DtypeFlag::Bfloat16, &qwen, &t4, Some(release))
                .unwrap_err()
                .to_string(),
            text
        );
    }
    let e = resolve_dtype(DtypeFlag::Auto, &qwen, &v100, Some("0.6.3"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("has compute capability 7.0."), "{e}");
    // Ampere serves the checkpoint as it is, whatever the release.
    assert_eq!(
        resolve_dtype(DtypeFlag::Auto, &qwen, &a10, Some("0.6.3")).unwrap(),
        Dtype::Bf16
    );
    assert_eq!(
        resolve_dtype(DtypeFlag::Float16, &qwen, &a10, Some("0.6.3")).unwrap(),
        Dtype::F16
    );
    // Gemma 3 has no float16 in vLLM: on a T4 from 0.9 `auto` would load it in float32.
    let gemma = catalog.model("gemma-3-1b").unwrap().clone();
    let e = resolve_dtype(DtypeFlag::Auto, &gemma, &t4, Some("0.31.0"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("float32") && e.contains("gemma3_text"), "{e}");
    // Through a scenario: the KV cache follows the served dtype, and so does the engine line.
    let scenario = |release: &str, dtype: Option<DtypeFlag>| {
        Scenario::builder()
            .gpu("t4")
            .model("qwen2.5-3b-instruct")
            .engine(EngineVersion::Vllm010)
            .release(release)
            .flags(EngineFlags {
                dtype,
                max_model_len: Some(4096),
                ..Default::default()
            })
            .workload(tiny_workload())
            .build()
    };
    let s = scenario("0.31.0", None).unwrap();
    assert_eq!((s.engine.dtype, s.engine.kv_cache_dtype), (Dtype::F16, Dtype::F16));
    assert_eq!(scenario("0.8.3", None).unwrap_err().to_string(), t4_text);
    assert_eq!(
        scenario("0.8.3", Some(DtypeFlag::Float16)).unwrap().engine.dtype,
        Dtype::F16
    );
}

/// Quantization methods a pre-Ampere GPU cannot run stop the start-up in the model loader's
/// words: AWQ needs compute capability 7.5 (a V100 under 0.8.5.post1 logged "The quantization
/// method awq is not supported for the current GPU. Minimum capability: 75. Current capability:
/// 70."), MXFP4 8.0. A T4 serves AWQ (the corpus' FXAssist runs under 0.31).
#[test]
fn awq_on_volta_and_mxfp4_before_ampere_are_refused_in_the_loaders_words() {
    use servecast::spec::engine::{DtypeFlag, Quantization};
    let build = |gpu: &str, model: &str, quantization: Option<Quantization>| {
        Scenario::builder()
            .gpu(gpu)
            .model(model)
            .engine(EngineVersion::Vllm010)
            .release("0.10.2")
            .flags(EngineFlags {
                dtype: Some(DtypeFlag::Float16),
                quantization,
                max_model_len: Some(4096),
                ..Default::default()
            })
            .workload(tiny_workload())
            .build()
    };
    assert_eq!(
        build("v100-16g", "qwen2.5-3b-instruct", Some(Quantization::Awq))
            .unwrap_err()
            .to_string(),
        "ValueError: The quantization method awq is not supported for the current GPU. Minimum capability: 75. \
         Current capability: 70."
    );
    assert!(build("t4", "qwen2.5-3b-instruct", Some(Quantization::Awq)).is_ok());
    assert!(build("v100-16g", "qwen2.5-3b-instruct", Some(Quantization::Gptq)).is_ok());
    assert_eq!(
        build("t4", "gpt-oss-20b", None).unwrap_err().to_string(),
        "ValueError: The quantization method mxfp4 is not supported for the current GPU. Minimum capability: 80. \
         Current capability: 75."
    );
    assert!(build("a10g", "gpt-oss-20b", None).is_ok());
}

/// Weights larger than the device stop the start-up in PyTorch's loader, before vLLM sizes a KV
/// cache: servecast says so (naming the GiB per GPU and the device) rather than printing vLLM's
/// "No available memory for the cache blocks", which only weights that fit but leave no room get.
#[test]
fn weights_larger_than_the_device_fail_while_loading_not_at_the_kv_cache() {
    let build = |model: &str, tp: u32, util: f64| {
        Scenario::builder()
            .gpu("4090")
            .model(model)
            .flags(EngineFlags {
                tensor_parallel_size: Some(tp),
                gpu_memory_utilization: Some(util),
                max_model_len: Some(4096),
                ..Default::default()
            })
            .workload(tiny_workload())
            .build()
            .and_then(|s| s.memory())
    };
    // Llama-3.1-70B in bf16: 70.55e9 parameters × 2 bytes = 131.4 GiB, 32.9 GiB per GPU at TP 4.
    for tp in [1, 4] {
        let e = build("llama-3.1-70b", tp, 0.9).unwrap_err().to_string();
        assert!(
            e.starts_with("torch.OutOfMemoryError: CUDA out of memory while loading the weights")
                && e.contains(&format!("(tensor parallel size {tp})"))
                && e.contains("which holds 23.53 GiB"),
            "{e}"
        );
    }
    // 15 GiB of Llama-3.1-8B fit the card but not 30% of it.
    let e = build("llama-3.1-8b", 1, 0.3).unwrap_err().to_string();
    assert!(
        e.starts_with("ValueError: No available memory for the cache blocks."),
        "{e}"
    );
}
