//! Requests to `/v1/chat/completions` (`vllm bench serve --backend openai-chat`): the server wraps
//! each prompt in the model's chat template, so the engine prefills more tokens than the client
//! counted, and the template's leading part is the same in every request.

use servecast::scenario::{Prediction, Scenario};
use servecast::spec::engine::{EngineFlags, EngineVersion};
use servecast::workload::arrivals::{Endpoint, WorkloadSpec};
use servecast::workload::lengths::LengthDist;

const PROMPT: u32 = 256;
const USERS: u32 = 1;
const REQUESTS_PER_USER: u32 = 8;

/// One user's `REQUESTS_PER_USER` requests of `PROMPT` tokens (32 out) to `endpoint`.
fn one_user(endpoint: Endpoint) -> WorkloadSpec {
    let mut workload = WorkloadSpec::closed_loop(
        vec![USERS],
        REQUESTS_PER_USER,
        LengthDist::Fixed { tokens: PROMPT },
        LengthDist::Fixed { tokens: 32 },
    );
    workload.endpoint = endpoint;
    workload
}

fn run(model: &str, endpoint: Endpoint, prefix_caching: bool) -> Result<Prediction, servecast::error::Error> {
    let workload = one_user(endpoint);
    Scenario::builder()
        .gpu("l4")
        .model(model)
        .engine(EngineVersion::parse("0.23.0", "test").unwrap())
        .release("0.23.0")
        .flags(EngineFlags {
            max_model_len: Some(4096),
            enable_prefix_caching: Some(prefix_caching),
            ..EngineFlags::default()
        })
        .workload(workload)
        .build()?
        .run()
}

#[test]
fn a_chat_prompt_carries_the_templates_tokens_and_shares_its_system_message() {
    // Qwen2.5's template: 23 tokens before the message (its default system message 'You are
    // Qwen, created by Alibaba Cloud. You are a helpful assistant.' is 15 of them) and 5 after.
    let chat = run("qwen2.5-0.5b-instruct", Endpoint::Chat, true).unwrap();
    let level = &chat.levels[0];
    assert_eq!(level.input_tokens.mean, f64::from(PROMPT + 23 + 5));
    // One user sends its requests one after another: from the second on, the first full block
    // of the shared 23 tokens (16 tokens) is in the cache.
    assert_eq!(level.engine.prefix_hit_tokens, u64::from(REQUESTS_PER_USER - 1) * 16);
    let plain = run("qwen2.5-0.5b-instruct", Endpoint::Completions, true).unwrap();
    assert_eq!(plain.levels[0].input_tokens.mean, f64::from(PROMPT));
    assert_eq!(plain.levels[0].engine.prefix_hit_tokens, 0);
    // Without prefix caching the template's tokens are all prefilled every time.
    let uncached = run("qwen2.5-0.5b-instruct", Endpoint::Chat, false).unwrap();
    assert_eq!(uncached.levels[0].engine.prefix_hit_tokens, 0);
    assert!(
        uncached.levels[0].ttft_ms.mean > plain.levels[0].ttft_ms.mean,
        "the template's render and 284 prompt tokens take longer than 256 tokens: {} vs {} ms",
        uncached.levels[0].ttft_ms.mean,
        plain.levels[0].ttft_ms.mean
    );
}

#[test]
fn gpt_oss_chat_prompts_carry_the_harmony_system_message() {
    // vLLM renders gpt-oss chats in harmony: a 61-token system message and the user header (64
    // tokens, four full blocks shared by every request), the end of turn and the assistant's
    // start after (3).
    let chat = run("gpt-oss-20b", Endpoint::Chat, true).unwrap();
    let level = &chat.levels[0];
    assert_eq!(level.input_tokens.mean, f64::from(PROMPT + 64 + 3));
    assert_eq!(level.engine.prefix_hit_tokens, u64::from(REQUESTS_PER_USER - 1) * 64);
}

#[test]
fn the_total_token_throughput_counts_prompts_as_the_client_does() {
    // `vllm bench serve` sums its dataset prompts' own lengths into "Total input tokens", so its
    // "Total Token throughput" leaves out the 67 tokens harmony adds to each gpt-oss prompt.
    let chat = run("gpt-oss-20b", Endpoint::Chat, true).unwrap();
    let level = &chat.levels[0];
    let tokens = level.total_throughput_tok_s * level.duration_s;
    let client = f64::from(USERS * REQUESTS_PER_USER * (PROMPT + 32));
    assert!(
        (tokens - client).abs() < 1e-6 * client,
        "total throughput × duration = {tokens} tokens, the client counts {client}"
    );
    // The engine still prefilled them: the template makes each request slower, not the count larger.
    assert_eq!(level.input_tokens.mean, f64::from(PROMPT + 67));
}

#[test]
fn a_model_without_a_catalogued_chat_template_is_refused_for_chat() {
    // A model read from its config.json alone: servecast does not know what its template adds.
    let path = "data/hf-configs/deepseek-ai--DeepSeek-R1-Distill-Qwen-32B.json";
    let spec = servecast::spec::hf::parse(&std::fs::read_to_string(path).unwrap(), path).unwrap();
    let build = |endpoint: Endpoint| {
        let mut workload = WorkloadSpec::closed_loop(
            vec![1],
            1,
            LengthDist::Fixed { tokens: PROMPT },
            LengthDist::Fixed { tokens: 8 },
        );
        workload.endpoint = endpoint;
        Scenario::builder()
            .gpu("h100-sxm")
            .model_spec(spec.clone())
            .flags(EngineFlags {
                max_model_len: Some(4096),
                ..EngineFlags::default()
            })
            .workload(workload)
            .build()
    };
    let err = build(Endpoint::Chat).unwrap_err().to_string();
    assert!(err.contains("workload.endpoint"), "{err}");
    assert!(err.contains("no chat template for"), "{err}");
    assert!(build(Endpoint::Completions).is_ok());
}

#[test]
fn the_chat_variants_of_base_catalog_entries_carry_their_templates() {
    // Catalog entries named after base checkpoints serve their chat variants too (aliases):
    // Llama 2's [INST] wrapping, 4 tokens on each side; Llama 3 Instruct's headers, 5 and 5.
    for (model, added) in [("llama-2-7b", 8.0), ("llama-3-8b", 10.0)] {
        let p = run(model, Endpoint::Chat, false).unwrap();
        assert_eq!(p.levels[0].input_tokens.mean, f64::from(PROMPT) + added, "{model}");
    }
}

#[test]
fn templates_counted_from_their_tokenizers_wrap_each_prompt() {
    // Phi-3's role tokens fold the newline after them (rstrip), so <|user|>\n is one token and
    // <|end|>\n<|assistant|>\n two; Mistral v0.3's <s>[INST] … [/INST] are control tokens; DeepSeek
    // R1's distills add <｜begin▁of▁sentence｜><｜User｜> and <｜Assistant｜><think>\n.
    for (model, added) in [
        ("phi-3-mini-4k-instruct", 3.0),
        ("phi-3.5-mini-instruct", 3.0),
        ("mistral-7b-instruct-v0.3", 3.0),
        ("deepseek-r1-distill-qwen-1.5b", 5.0),
    ] {
        let p = run(model, Endpoint::Chat, false).unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(p.levels[0].input_tokens.mean, f64::from(PROMPT) + added, "{model}");
    }
}

#[test]
fn a_jinja_chat_request_costs_the_api_server_its_render_and_a_harmony_one_does_not() {
    // One user, so the API server is idle when each request arrives: its intake time is in the
    // TTFT once per request. The same chat workload under the same profile, with the render time
    // set to 0 and to 50 ms.
    let mean_ttft_ms = |model: &str, render_s: f64| -> f64 {
        let mut workload = WorkloadSpec::closed_loop(
            vec![1],
            REQUESTS_PER_USER,
            LengthDist::Fixed { tokens: PROMPT },
            LengthDist::Fixed { tokens: 32 },
        );
        workload.endpoint = Endpoint::Chat;
        let builder = || {
            Scenario::builder()
                .gpu("l4")
                .model(model)
                .engine(EngineVersion::parse("0.23.0", "test").unwrap())
                .release("0.23.0")
                .flags(EngineFlags {
                    max_model_len: Some(4096),
                    ..EngineFlags::default()
                })
                .workload(workload.clone())
        };
        let mut profile = builder().build().unwrap().profile;
        profile.cost.api_server_chat_request_s = render_s;
        builder().profile(profile).build().unwrap().run().unwrap().levels[0]
            .ttft_ms
            .mean
    };
    let jinja = mean_ttft_ms("qwen2.5-0.5b-instruct", 0.05) - mean_ttft_ms("qwen2.5-0.5b-instruct", 0.0);
    assert!((jinja - 50.0).abs() < 0.01, "Qwen2.5's Jinja template: +{jinja} ms");
    // gpt-oss's harmony renderer is compiled code: the term does not apply.
    let harmony = mean_ttft_ms("gpt-oss-20b", 0.05) - mean_ttft_ms("gpt-oss-20b", 0.0);
    assert_eq!(harmony, 0.0);
}

/// Mean TTFT (ms) of one user's chat or completions requests to `model` on `tp` H200s under
/// `release`.
fn ttft_on(model: &str, tp: u32, endpoint: Endpoint, release: &str) -> f64 {
    let workload = one_user(endpoint);
    let p = Scenario::builder()
        .gpu("h200")
        .model(model)
        .engine(EngineVersion::parse(release, "test").unwrap())
        .release(release)
        .flags(EngineFlags {
            max_model_len: Some(4096),
            tensor_parallel_size: Some(tp),
            ..EngineFlags::default()
        })
        .workload(workload)
        .build()
        .unwrap()
        .run()
        .unwrap();
    p.levels[0].ttft_ms.mean
}

#[test]
fn vllm_0_11_0_parses_each_chat_requests_jinja_template_and_0_11_1_does_not() {
    // 0.11.0's resolve_chat_template_kwargs parses the template on every chat request; 0.11.1
    // caches it (docs/research/chat-template-0.11.0.md). Measured parse on the reference CPU:
    // Qwen3's template 14.0 ms, an Instruct-2507-style one 7.3 ms, DeepSeek-R1-0528's 16.3 ms
    // (docs/research/output-path-0.11.0.md §3). One user: nothing queues, so the mean TTFT
    // differs by exactly the parse.
    for (model, tp, parse_ms) in [
        ("qwen3-8b", 1, 14.0),
        ("qwen3-235b-a22b-2507", 4, 7.3),
        ("deepseek-r1", 8, 16.3),
    ] {
        let gap = ttft_on(model, tp, Endpoint::Chat, "0.11.0") - ttft_on(model, tp, Endpoint::Chat, "0.11.1");
        assert!((gap - parse_ms).abs() < 0.01, "{model}: 0.11.0 − 0.11.1 TTFT {gap} ms");
    }
    // gpt-oss renders chat through harmony (no Jinja); completions render nothing.
    let harmony =
        ttft_on("gpt-oss-20b", 1, Endpoint::Chat, "0.11.0") - ttft_on("gpt-oss-20b", 1, Endpoint::Chat, "0.11.1");
    assert!(harmony.abs() < 0.01, "gpt-oss chat: {harmony} ms");
    let plain = ttft_on("qwen3-8b", 1, Endpoint::Completions, "0.11.0")
        - ttft_on("qwen3-8b", 1, Endpoint::Completions, "0.11.1");
    assert!(plain.abs() < 0.01, "completions: {plain} ms");
}

#[test]
fn a_template_parse_time_out_of_range_is_refused_naming_the_field() {
    let mut spec = servecast::spec::Catalog::builtin()
        .unwrap()
        .model("qwen3-8b")
        .unwrap()
        .clone();
    for bad in [-1.0, f64::NAN, 5000.0] {
        spec.chat_template = spec.chat_template.map(|t| servecast::spec::ChatTemplate {
            parse_ms: Some(bad),
            ..t
        });
        let err = spec.validate("models.yaml").unwrap_err().to_string();
        assert!(err.contains("chat_template.parse_ms"), "{err}");
    }
}
