//! Weight quantization (`--quantization`, or a checkpoint's own) and the FP8 KV cache: bytes
//! stored and read, the memory budget they leave, and the tensor-core rate their GEMMs run at.

use servecast::cost::{CostParams, StepBatch, StepCostModel};
use servecast::scenario::Scenario;
use servecast::spec::engine::{EngineVersion, Quantization};
use servecast::spec::{Catalog, ModelSpec};
use servecast::workload::arrivals::WorkloadSpec;
use servecast::workload::lengths::LengthDist;

/// `users` closed-loop users sending 4 requests each of 512 prompt and 128 output tokens.
fn closed_loop(users: u32) -> WorkloadSpec {
    WorkloadSpec::closed_loop(
        vec![users],
        4,
        LengthDist::Fixed { tokens: 512 },
        LengthDist::Fixed { tokens: 128 },
    )
}

fn qwen7b() -> ModelSpec {
    Catalog::builtin()
        .unwrap()
        .model("qwen2.5-7b-instruct")
        .unwrap()
        .clone()
}

#[test]
fn quantized_weights_take_their_bytes_in_the_linear_layers_only() {
    let m = qwen7b();
    let linear = m.linear_layer_weights();
    // Qwen2.5-7B: 28 layers × (attention 3584·(3584+2·512+3584) + MLP 3·3584·18944).
    assert_eq!(linear, 28 * (3584 * (3584 + 2 * 512 + 3584) + 3 * 3584 * 18944));
    let rest = m.params_total() - linear;
    // Embeddings and the untied LM head (2 × 152,064 × 3,584) plus norms and biases stay 16-bit.
    assert!(
        rest > 2 * 152_064 * 3584 && rest < 2 * 152_064 * 3584 + 2_000_000,
        "{rest}"
    );
    let bf16 = m.weight_bytes();
    let fp8 = m.weight_bytes_with(Some(Quantization::Fp8));
    let awq = m.weight_bytes_with(Some(Quantization::Awq));
    assert_eq!(fp8, linear + rest * 2);
    assert_eq!(awq, (linear as f64 * (0.5 + 2.5 / 128.0)).round() as u64 + rest * 2);
    assert_eq!(m.weight_bytes_with(Some(Quantization::GptqMarlin)), awq);
    println!(
        "Qwen2.5-7B weights: bf16 {:.2} GB, fp8 {:.2} GB, 4-bit {:.2} GB",
        bf16 as f64 / 1e9,
        fp8 as f64 / 1e9,
        awq as f64 / 1e9
    );
    assert!(awq < fp8 && fp8 < bf16);
}

#[test]
fn the_weights_saved_go_to_the_kv_cache() {
    let build = |q: Option<Quantization>| {
        Scenario::builder()
            .gpu("4090")
            .model("qwen2.5-7b-instruct")
            .engine(EngineVersion::Vllm010)
            .edit_flags(|f| {
                f.quantization = q;
                f.max_model_len = Some(8192);
            })
            .workload(closed_loop(8))
            .build()
            .unwrap()
    };
    let (plain, awq) = (build(None), build(Some(Quantization::Awq)));
    let (mp, ma) = (plain.memory().unwrap(), awq.memory().unwrap());
    assert_eq!(
        ma.kv_cache_bytes - mp.kv_cache_bytes,
        mp.weights_bytes - ma.weights_bytes,
        "every byte the weights give up is KV cache"
    );
    println!(
        "4090, Qwen2.5-7B: {} → {}",
        mp.max_concurrency_line(),
        ma.max_concurrency_line()
    );
    // Decode of a small batch streams the weights: 4-bit weights make it faster.
    let tpot = |s: &Scenario| s.run().unwrap().levels[0].tpot_ms.mean;
    assert!(tpot(&awq) < tpot(&plain) * 0.6, "{} vs {}", tpot(&awq), tpot(&plain));
}

#[test]
fn fp8_gemms_run_on_fp8_tensor_cores_only_where_the_gpu_has_them() {
    let catalog = Catalog::builtin().unwrap();
    let m = qwen7b();
    let params = CostParams::prior(EngineVersion::Vllm010);
    // A compute-bound prefill of 8,192 tokens, with and without FP8 weights.
    let prefill = StepBatch {
        prefill_tokens: 8192,
        prefill_seqs: 8,
        ..StepBatch::default()
    };
    // On Ampere FP8 weights are dequantised in 16-bit GEMMs (W8A16 Marlin): a compute-bound
    // prefill runs at the dequantising kernels' share of the 16-bit peak (prior 0.4 against 0.6),
    // so slower than BF16, as vLLM documents for FP8 on GPUs without FP8 tensor cores.
    for (gpu, speedup_lo, speedup_hi) in [("l40s", 1.7, 1.95), ("a100-80g", 0.62, 0.72)] {
        let g = catalog.gpu(gpu).unwrap();
        let base = Scenario::builder()
            .gpu(gpu)
            .model("qwen2.5-7b-instruct")
            .workload(closed_loop(1))
            .build()
            .unwrap();
        let mut fp8_engine = base.engine.clone();
        fp8_engine.quantization = Some(Quantization::Fp8);
        let t16 = StepCostModel::new(g, &m, &base.engine, &params).roofline_seconds(&prefill);
        let t8 = StepCostModel::new(g, &m, &fp8_engine, &params).roofline_seconds(&prefill);
        println!(
            "{gpu}: 8k-token prefill {:.1} ms bf16, {:.1} ms fp8",
            t16 * 1e3,
            t8 * 1e3
        );
        let speedup = t16 / t8;
        assert!((speedup_lo..=speedup_hi).contains(&speedup), "{gpu}: ×{speedup:.2}");
    }
}

#[test]
fn a_pre_quantized_checkpoint_is_served_quantized_and_nano_vllm_refuses_one() {
    let json = r#"{"architectures":["Qwen2ForCausalLM"],"hidden_size":3584,"intermediate_size":18944,
        "max_position_embeddings":32768,"num_attention_heads":28,"num_hidden_layers":28,"num_key_value_heads":4,
        "tie_word_embeddings":false,"torch_dtype":"float16","vocab_size":152064,
        "quantization_config":{"bits":4,"group_size":128,"quant_method":"awq","version":"gemm","zero_point":true}}"#;
    let spec = ModelSpec::from_hf_config_json(json, "config.json").unwrap();
    assert_eq!(spec.checkpoint_quantization, Some(Quantization::Awq));
    let s = Scenario::builder()
        .gpu("4090")
        .model_spec(spec.clone())
        .workload(closed_loop(1))
        .build()
        .unwrap();
    // Served, as vLLM converts an AWQ checkpoint on an Ampere-or-newer GPU, by the Marlin kernels.
    assert_eq!(s.engine.quantization, Some(Quantization::AwqMarlin));
    // An llm-compressor FP8 checkpoint names its scheme in its config groups.
    let ct = json.replace(
        r#""quant_method":"awq""#,
        r#""quant_method":"compressed-tensors","config_groups":{"group_0":{"targets":["Linear"],
            "weights":{"num_bits":8,"type":"float","strategy":"channel"}}}"#,
    );
    let ct_spec = ModelSpec::from_hf_config_json(&ct, "config.json").unwrap();
    assert_eq!(ct_spec.checkpoint_quantization, Some(Quantization::Fp8));
    // GPTQ says its width: an Int8 checkpoint takes about a byte per weight, not half.
    let int8 = json
        .replace(r#""quant_method":"awq""#, r#""quant_method":"gptq""#)
        .replace(r#""bits":4"#, r#""bits":8"#);
    let int8 = ModelSpec::from_hf_config_json(&int8, "config.json").unwrap();
    assert_eq!(int8.checkpoint_quantization, Some(Quantization::GptqInt8));
    let linear = int8.linear_layer_weights() as f64;
    let bytes = int8.weight_bytes_with(int8.checkpoint_quantization) as f64;
    let rest = (int8.params_total() as f64 - linear) * 2.0;
    assert!(((bytes - rest) / linear - (1.0 + 3.0 / 128.0)).abs() < 1e-6);
    let three_bit = json.replace(r#""bits":4"#, r#""bits":3"#);
    let err = ModelSpec::from_hf_config_json(&three_bit, "config.json")
        .unwrap_err()
        .to_string();
    assert!(err.contains("quantization_config.bits"), "{err}");
    // vLLM refuses a --quantization that names another method than the checkpoint's (its Marlin
    // kernel aside), and `none` cannot dequantize a checkpoint.
    let with_flag = |q: Quantization| {
        Scenario::builder()
            .gpu("4090")
            .model_spec(spec.clone())
            .edit_flags(|f| f.quantization = Some(q))
            .workload(closed_loop(1))
            .build()
    };
    assert_eq!(
        with_flag(Quantization::AwqMarlin).unwrap().engine.quantization,
        Some(Quantization::AwqMarlin)
    );
    for q in [Quantization::Fp8, Quantization::Unquantized] {
        let err = with_flag(q).unwrap_err().to_string();
        assert!(
            err.contains(&format!(
                "Quantization method specified in the model config (awq) does not match the quantization method \
                 specified in the `quantization` argument ({}).",
                q.name()
            )),
            "{err}"
        );
    }
    let bnb = json.replace("\"awq\"", "\"bitsandbytes\"");
    let err = ModelSpec::from_hf_config_json(&bnb, "config.json")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("quantization_config.quant_method") && err.contains("bitsandbytes"),
        "{err}"
    );
    let nano = Scenario::builder()
        .gpu("4090")
        .model_spec(spec)
        .engine(EngineVersion::NanoVllm)
        .workload(closed_loop(1))
        .build();
    assert!(nano.is_err_and(|e| e.to_string().contains("nano-vllm loads 16-bit weights only")));
}

/// An AWQ or GPTQ checkpoint served without `--quantization` runs on vLLM's Marlin kernels where
/// the GPU has them (compute capability ≥ 8.0) and the release offers them (awq_marlin from
/// 0.5.3, gptq_marlin from 0.4.2), as `AWQMarlinConfig.override_quantization_method` decides;
/// `--quantization awq` forces the base kernels.
#[test]
fn an_awq_or_gptq_checkpoint_runs_on_marlin_where_vllm_converts_it() {
    use servecast::spec::engine::EngineFlags;
    let c = Catalog::builtin().unwrap();
    let awq = c.model("Qwen/Qwen2.5-7B-Instruct-AWQ").unwrap();
    let gptq = c.model("Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4").unwrap();
    let (a100, t4) = (c.gpu("a100-80g-sxm").unwrap(), c.gpu("t4").unwrap());
    let resolved = |flags: &EngineFlags, model: &ModelSpec, gpu, release: &str| {
        flags
            .resolve_release(EngineVersion::Vllm010, Some(release), model, gpu, "t")
            .map(|cfg| cfg.quantization)
            .unwrap_or_else(|e| panic!("{release}: {e}"))
    };
    let none = EngineFlags::default();
    assert_eq!(resolved(&none, awq, a100, "0.11.0"), Some(Quantization::AwqMarlin));
    assert_eq!(resolved(&none, gptq, a100, "0.11.0"), Some(Quantization::GptqMarlin));
    // Turing has no Marlin kernels; 0.5.2 had no awq_marlin.
    assert_eq!(resolved(&none, awq, t4, "0.11.0"), Some(Quantization::Awq));
    let v05 = |model| {
        none.resolve_release(EngineVersion::Vllm05, Some("0.5.2"), model, a100, "t")
            .map(|cfg| cfg.quantization)
            .unwrap_or_else(|e| panic!("{e}"))
    };
    assert_eq!(v05(awq), Some(Quantization::Awq));
    assert_eq!(v05(gptq), Some(Quantization::GptqMarlin));
    // A flag naming the base method keeps it.
    let forced = EngineFlags {
        quantization: Some(Quantization::Awq),
        ..EngineFlags::default()
    };
    assert_eq!(resolved(&forced, awq, a100, "0.11.0"), Some(Quantization::Awq));
}
