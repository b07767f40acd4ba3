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

fn run(model: &str, endpoint: Endpoint, prefix_caching: bool) -> Result<Prediction, servecast::error::Error> {
    let mut workload = WorkloadSpec::closed_loop(
        vec![USERS],
        REQUESTS_PER_USER,
        LengthDist::Fixed { tokens: PROMPT },
        LengthDist::Fixed { tokens: 32 },
    );
    workload.endpoint = endpoint;
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
        "284 prompt tokens take longer than 256: {} vs {} ms",
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
fn a_model_without_a_chat_template_is_refused_for_chat() {
    // Llama 2 base ships no chat template: vLLM's chat endpoint refuses it, and servecast cannot
    // know what the prompts would carry.
    let err = run("llama-2-7b", Endpoint::Chat, true).unwrap_err().to_string();
    assert!(err.contains("workload.endpoint"), "{err}");
    assert!(err.contains("no chat template for llama-2-7b"), "{err}");
    assert!(run("llama-2-7b", Endpoint::Completions, true).is_ok());
}
