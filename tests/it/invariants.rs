//! Engine invariants under random configurations and workloads (proptest).

use proptest::prelude::*;

use servecast::cost::{CostParams, StepCostModel};
use servecast::engine::cluster::{simulate_cluster, Router};
use servecast::engine::{simulate, Clients, EngineModel, RequestSpec, SimOutput};
use servecast::spec::engine::{EngineConfig, EngineVersion, UsageContext};
use servecast::spec::Catalog;

#[derive(Debug, Clone)]
struct Case {
    version: EngineVersion,
    chunked: bool,
    prefix: bool,
    chunk: u32,
    max_num_seqs: u32,
    max_num_batched_tokens: u32,
    block_size: u32,
    capacity_blocks: u64,
    requests: Vec<(u32, u32)>,
    closed_users: Option<u32>,
    gate: Option<u32>,
    gaps_us: Vec<u64>,
    frontend_us: u64,
    /// vLLM V0's scheduler delay factor (0 for the other engines).
    delay_factor: f64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        0usize..5,
        (any::<bool>(), any::<bool>(), 1u32..40),
        1u32..24,
        0u32..600,
        0usize..3,
        0u64..120,
        prop::collection::vec((1u32..200, 1u32..120), 1..40),
        prop::option::of(1u32..12),
        prop::option::of(1u32..8),
        prop::collection::vec(0u64..40_000, 40),
        (0u64..20_000, prop::option::of(0.0f64..3.0)),
    )
        .prop_map(
            |(
                v,
                (chunked, prefix, chunk),
                seqs,
                extra_tokens,
                bs_i,
                extra_blocks,
                requests,
                users,
                gate,
                gaps_us,
                (frontend_us, delay),
            )| {
                let version = [
                    EngineVersion::Vllm010,
                    EngineVersion::Vllm06,
                    EngineVersion::Vllm05,
                    EngineVersion::NanoVllm,
                    EngineVersion::Vllm0600,
                ][v];
                let block_size = if version == EngineVersion::NanoVllm {
                    256
                } else {
                    [8, 16, 32][bs_i]
                };
                let max_model_len = 512u32;
                // Without chunked prefill every prompt must fit the budget (vLLM refuses otherwise).
                let floor = if chunked && version != EngineVersion::NanoVllm {
                    seqs.max(16)
                } else {
                    max_model_len.max(seqs)
                };
                let min_blocks = (max_model_len as u64).div_ceil(block_size as u64) + 2;
                Case {
                    version,
                    chunked,
                    prefix,
                    chunk,
                    max_num_seqs: seqs,
                    max_num_batched_tokens: floor + extra_tokens,
                    block_size,
                    capacity_blocks: min_blocks + extra_blocks / (block_size as u64 / 8),
                    requests,
                    closed_users: users,
                    gate,
                    gaps_us,
                    frontend_us,
                    delay_factor: if version.is_v0() { delay.unwrap_or(0.0) } else { 0.0 },
                }
            },
        )
}

fn run(c: &Case, skip_ahead: bool) -> (SimOutput, EngineConfig) {
    run_with(c, skip_ahead, simulate)
}

fn run_with(
    c: &Case,
    skip_ahead: bool,
    sim: impl Fn(&EngineModel<'_>, &[RequestSpec], &Clients) -> SimOutput,
) -> (SimOutput, EngineConfig) {
    run_deployment(c, skip_ahead, Deployment::default(), sim)
}

/// Tensor parallelism and a single API-server process in front of the replicas.
#[derive(Debug, Clone, Copy)]
struct Deployment {
    tp: u32,
    api_request_us: u64,
    api_item_us: u64,
    /// vLLM V1's async scheduling (ignored for other engines).
    async_scheduling: bool,
    /// vLLM V1 speculative decoding: EAGLE-3 with 3 drafts at [0.8, 0.6, 0.45] (V1 only).
    speculative: bool,
    /// vLLM V0 multi-step scheduling: decode steps per pass (V0 only; 1 = off).
    multi_step: u32,
    /// Spread of each request's front-end latency (log-normal σ; 0: every request the same).
    frontend_jitter_sigma: f64,
    /// The API server takes requests in in two stages, breadth first (vLLM V1).
    breadth_first: bool,
}

impl Default for Deployment {
    fn default() -> Self {
        Deployment {
            tp: 1,
            api_request_us: 0,
            api_item_us: 0,
            async_scheduling: false,
            speculative: false,
            multi_step: 1,
            frontend_jitter_sigma: 0.0,
            breadth_first: false,
        }
    }
}

fn run_deployment(
    c: &Case,
    skip_ahead: bool,
    d: Deployment,
    sim: impl Fn(&EngineModel<'_>, &[RequestSpec], &Clients) -> SimOutput,
) -> (SimOutput, EngineConfig) {
    let catalog = Catalog::builtin().unwrap();
    let gpu = catalog.gpu("4090").unwrap();
    let model = catalog.model("qwen2.5-0.5b-instruct").unwrap();
    let cfg = EngineConfig {
        version: c.version,
        gpu_memory_utilization: 0.9,
        max_num_seqs: c.max_num_seqs,
        max_model_len: 512,
        max_num_batched_tokens: c.max_num_batched_tokens,
        block_size: c.block_size,
        enable_chunked_prefill: c.chunked,
        enable_prefix_caching: c.prefix,
        tensor_parallel_size: d.tp,
        usage_context: UsageContext::OpenaiApiServer,
        scheduler_delay_factor: c.delay_factor,
        kv_cache_dtype: model.dtype,
        dtype: model.dtype,
        quantization: None,
        release_line: servecast::spec::engine::ReleaseLine::of(c.version, None),
        async_scheduling: d.async_scheduling && c.version == EngineVersion::Vllm010,
        tokenizer_wait_s: 0.0,
        enable_expert_parallel: false,
        speculative: (d.speculative && c.version == EngineVersion::Vllm010).then(|| {
            servecast::spec::speculative::SpeculativeConfig::parse(
                r#"{"method": "eagle3", "num_speculative_tokens": 3, "per_position_acceptance": [0.8, 0.6, 0.45]}"#,
                "test",
            )
            .and_then(|c| c.resolve("test", None))
            .unwrap()
        }),
        num_scheduler_steps: if c.version.is_v0() { d.multi_step.max(1) } else { 1 },
        // Each way a release hands a pass's tokens over, by the number of steps.
        multi_step_output: [
            servecast::spec::engine::MultiStepOutput::EveryStep,
            servecast::spec::engine::MultiStepOutput::AtPassEnd,
            servecast::spec::engine::MultiStepOutput::AtPassEndFinishesAtOnce,
        ][(d.multi_step % 3) as usize],
        kv_groups: servecast::spec::engine::KvGroups::UNIFORM,
        kv_cache_memory_bytes: None,
        release: None,
    };
    let cost = StepCostModel::new(gpu, model, &cfg, &CostParams::prior(c.version));
    let m = EngineModel {
        cfg: &cfg,
        cost: &cost,
        usable_blocks: c.capacity_blocks,
        frontend_latency_ns: c.frontend_us * 1000,
        skip_ahead,
        first_chunk_tokens: c.chunk,
        api_server_request_ns: d.api_request_us * 1000,
        api_server_item_ns: d.api_item_us * 1000,
        api_server_breadth_first: d.breadth_first,
        api_server_token_ns: 0.0,
        frontend_jitter_sigma: d.frontend_jitter_sigma,
    };
    let specs: Vec<RequestSpec> = c
        .requests
        .iter()
        .map(|&(i, o)| RequestSpec {
            input_tokens: i,
            output_tokens: o,
            prefix_group: None,
            shared_prefix_tokens: 0,
            replayed_prompt_tokens: 0,
            replay_later_tokens: 0,
            replay_later_requests: 0,
        })
        .collect();
    let clients = match c.closed_users {
        Some(users) => Clients::Closed {
            users,
            requests_per_user: (specs.len() as u32).div_ceil(users),
            think_ns: 0,
            // The gate is unused by closed users: its presence draws llmperf's old waves.
            waves: c.gate.is_some(),
        },
        None => {
            let mut t = 0;
            let send_ns: Vec<u64> = (0..specs.len())
                .map(|i| {
                    t += c.gaps_us[i % c.gaps_us.len()] * 1000;
                    t
                })
                .collect();
            match c.gate {
                Some(max_in_flight) => Clients::Gated { send_ns, max_in_flight },
                None => Clients::Open { send_ns },
            }
        }
    };
    (sim(&m, &specs, &clients), cfg)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96), ..ProptestConfig::default() })]

    /// Speculative decoding (V1) and multi-step passes (V0) lose and invent nothing: every
    /// request ends with exactly its tokens, the pool and the step budget hold, time moves on,
    /// and a streamed chunk never counts more gaps than tokens.
    #[test]
    fn speculation_and_multi_step_keep_the_invariants(c in case(), steps in 2u32..9) {
        let d = Deployment { speculative: true, multi_step: steps, ..Deployment::default() };
        let (out, cfg) = run_deployment(&c, true, d, simulate);
        for (r, &(_, target)) in out.records.iter().zip(&c.requests) {
            if r.send_ns == u64::MAX { continue; }
            prop_assert!(!r.failed, "request {} failed", r.id);
            prop_assert_eq!(r.output_tokens, target);
            prop_assert!(r.first_token_ns <= r.finish_ns);
        }
        prop_assert!(out.stats.peak_blocks_used <= out.stats.capacity_blocks);
        prop_assert!(out.stats.time_monotonic);
        prop_assert!(out.stats.max_step_tokens <= cfg.max_num_batched_tokens as u64);
        let itl_count: u64 = out.itl_ns.iter().map(|&(_, n)| n).sum();
        let tokens: u64 = out.records.iter().filter(|r| r.send_ns != u64::MAX).map(|r| r.output_tokens as u64 - 1).sum();
        prop_assert!(itl_count <= tokens, "{} gaps for {} tokens", itl_count, tokens);
    }

    #[test]
    fn engine_invariants_hold(c in case()) {
        let (out, cfg) = run(&c, true);
        // No request lost or duplicated: every request that was sent finished once, with all its tokens.
        let sent = out.records.iter().filter(|r| r.send_ns != u64::MAX).count();
        let expected_sent = match c.closed_users {
            Some(users) => {
                let rpu = (c.requests.len() as u32).div_ceil(users) as usize;
                (0..users as usize).map(|u| c.requests.len().saturating_sub(u * rpu).min(rpu)).sum()
            }
            None => c.requests.len(),
        };
        prop_assert_eq!(sent, expected_sent);
        for (r, &(_, target)) in out.records.iter().zip(&c.requests) {
            if r.send_ns == u64::MAX { continue; }
            prop_assert!(!r.failed, "request {} failed", r.id);
            prop_assert_eq!(r.output_tokens, target);
            prop_assert!(r.send_ns <= r.arrival_ns && r.arrival_ns <= r.first_scheduled_ns);
            prop_assert!(r.first_scheduled_ns < r.first_token_ns && r.first_token_ns <= r.finish_ns);
            prop_assert!(r.first_token_ns <= r.first_chunk_ns && r.first_chunk_ns <= r.finish_ns);
        }
        // KV blocks in use never above capacity.
        prop_assert!(out.stats.peak_blocks_used <= out.stats.capacity_blocks);
        // Waves: the j-th requests of all users go out together, when the last of the (j−1)-th
        // has ended.
        if let (Some(users), Some(_)) = (c.closed_users, c.gate) {
            let rpu = (c.requests.len() as u32).div_ceil(users) as usize;
            let wave = |j: usize| -> Vec<&servecast::engine::request::RequestRecord> {
                (0..users as usize).filter_map(|u| out.records.get(u * rpu + j)).filter(|r| r.send_ns != u64::MAX).collect()
            };
            for j in 1..rpu {
                let (before, now) = (wave(j - 1), wave(j));
                if now.is_empty() { continue; }
                let last_end = before.iter().map(|r| r.finish_ns).max().unwrap_or(0);
                for r in &now {
                    prop_assert_eq!(r.send_ns, last_end, "wave {} request {} sent at {} not at the last end {}", j, r.id, r.send_ns, last_end);
                }
            }
        }
        // A gated client never has more than its limit outstanding.
        if let (None, Some(limit)) = (c.closed_users, c.gate) {
            let mut events: Vec<(u64, i32)> = out.records.iter().flat_map(|r| [(r.send_ns, 1), (r.finish_ns, -1)]).collect();
            events.sort_by_key(|&(t, d)| (t, d));
            let mut outstanding = 0;
            for (_, d) in events {
                outstanding += d;
                prop_assert!(outstanding <= limit as i32, "{} outstanding > {}", outstanding, limit);
            }
        }
        // Time never goes back.
        prop_assert!(out.stats.time_monotonic);
        // A step never schedules more than max_num_seqs sequences or max_num_batched_tokens tokens.
        prop_assert!(out.stats.max_step_seqs <= cfg.max_num_seqs as u64, "{} seqs > {}", out.stats.max_step_seqs, cfg.max_num_seqs);
        prop_assert!(out.stats.max_step_tokens <= cfg.max_num_batched_tokens as u64);
        // Every generated token but the first has an inter-token latency.
        let itl_count: u64 = out.itl_ns.iter().map(|&(_, n)| n).sum();
        let tokens: u64 = out.records.iter().filter(|r| r.send_ns != u64::MAX).map(|r| r.output_tokens as u64 - 1).sum();
        prop_assert_eq!(itl_count, tokens);
    }

    #[test]
    fn skip_ahead_changes_nothing_but_speed(c in case(), frontend_jitter_sigma in prop_oneof![Just(0.0), 0.1f64..1.0]) {
        // Front-end latencies that differ per request let a later request arrive first.
        let d = Deployment { frontend_jitter_sigma, ..Deployment::default() };
        let (fast, _) = run_deployment(&c, true, d, simulate);
        let (slow, _) = run_deployment(&c, false, d, simulate);
        prop_assert_eq!(&fast.records, &slow.records);
        prop_assert_eq!(fast.stats.steps, slow.stats.steps);
        let mut a: Vec<(u64, u64)> = fast.itl_ns.iter().map(|&(v, n)| (v as u64, n)).collect();
        let mut b: Vec<(u64, u64)> = Vec::new();
        for &(v, n) in &slow.itl_ns { b.push((v as u64, n)); }
        // Compare as multisets of single values.
        let expand = |v: &mut Vec<(u64, u64)>| { let mut e: Vec<u64> = v.iter().flat_map(|&(x, n)| std::iter::repeat_n(x, n as usize)).collect(); e.sort_unstable(); e };
        prop_assert_eq!(expand(&mut a), expand(&mut b));
    }

    #[test]
    fn skip_ahead_with_an_api_server_changes_nothing_but_speed(
        c in case(),
        api_request_us in prop_oneof![Just(0u64), 1u64..5_000],
        api_item_us in 1u64..200,
        async_scheduling in any::<bool>(),
        frontend_jitter_sigma in prop_oneof![Just(0.0), 0.1f64..1.0],
        breadth_first in any::<bool>(),
    ) {
        // The API server's bookings of each step's items are applied in bulk too, with and
        // without async scheduling, through a backlog of items, with front-end latencies that
        // differ per request (a request sent later can arrive first), with intake in one stage
        // or two (breadth first).
        let d = Deployment { tp: 1, api_request_us, api_item_us, async_scheduling, frontend_jitter_sigma, breadth_first, ..Deployment::default() };
        let (fast, _) = run_deployment(&c, true, d, simulate);
        let (slow, _) = run_deployment(&c, false, d, simulate);
        prop_assert_eq!(&fast.records, &slow.records);
        prop_assert_eq!(fast.stats.steps, slow.stats.steps);
    }

    #[test]
    fn cluster_loop_with_one_replica_equals_the_reference_loop(c in case().prop_filter("the reference hands outputs over at once", |c| c.version != EngineVersion::Vllm0600)) {
        let (a, cfg) = run(&c, true);
        let (b, _) = run_with(&c, true, servecast::engine::simulate_reference);
        prop_assert_eq!(&a.records, &b.records);
        prop_assert_eq!(a.stats.steps, b.stats.steps);
        let _ = cfg;
        let sorted = |v: &[(f64, u64)]| { let mut e: Vec<(u64, u64)> = v.iter().map(|&(x, n)| (x as u64, n)).collect(); e.sort_unstable(); e };
        prop_assert_eq!(sorted(&a.itl_ns), sorted(&b.itl_ns));
    }

    #[test]
    fn replicas_lose_nothing_and_respect_their_own_capacity(
        c in case(),
        replicas in 1usize..5,
        router_i in 0usize..3,
        tp in 1u32..3,
        api_request_us in prop_oneof![Just(0u64), 1u64..20_000],
        api_item_us in prop_oneof![Just(0u64), 1u64..500],
    ) {
        // TP engines (Qwen2.5-0.5B: 14 heads, 2 KV heads, so TP 1 or 2) behind one API server.
        let router = [Router::RoundRobin, Router::LeastOutstanding, Router::Random][router_i];
        let d = Deployment { tp, api_request_us, api_item_us, async_scheduling: false, ..Deployment::default() };
        let (out, cfg) = run_deployment(&c, true, d, |m, specs, clients| {
            let models = vec![m.clone(); replicas];
            simulate_cluster(&models, router, 7, specs, clients)
        });
        let sent: Vec<_> = out.records.iter().filter(|r| r.send_ns != u64::MAX).collect();
        for r in &sent {
            prop_assert!(!r.failed);
            prop_assert!((r.replica as usize) < replicas);
            prop_assert_eq!(r.output_tokens, c.requests[r.id as usize].1);
            prop_assert!(r.finish_ns != u64::MAX);
        }
        prop_assert!(out.stats.peak_blocks_used <= c.capacity_blocks);
        prop_assert!(out.stats.max_step_seqs <= cfg.max_num_seqs as u64);
        prop_assert!(out.stats.time_monotonic);
        for r in &sent {
            // Time never goes back for a request, API server or not.
            prop_assert!(r.send_ns <= r.arrival_ns && r.arrival_ns <= r.first_token_ns && r.first_token_ns <= r.finish_ns);
            prop_assert!(r.arrival_ns >= r.send_ns + api_request_us * 1000);
        }
        if router == Router::RoundRobin {
            // Round robin deals requests in arrival order: counts differ by at most one.
            let mut counts = vec![0usize; replicas];
            for r in &sent { counts[r.replica as usize] += 1; }
            let (lo, hi) = (counts.iter().min().copied().unwrap_or(0), counts.iter().max().copied().unwrap_or(0));
            prop_assert!(hi - lo <= 1, "{:?}", counts);
        }
    }

    #[test]
    fn skip_ahead_with_replicas_behind_one_api_server_changes_nothing_but_speed(
        c in case(),
        replicas in 2usize..4,
        router_i in 0usize..3,
        api_request_us in prop_oneof![Just(0u64), 1u64..5_000],
        api_item_us in prop_oneof![Just(0u64), 1u64..200],
        async_scheduling in any::<bool>(),
        frontend_jitter_sigma in prop_oneof![Just(0.0), 0.1f64..1.0],
        breadth_first in any::<bool>(),
    ) {
        // Replicas share the API server: a bulk run on one books its items among the others'.
        let router = [Router::RoundRobin, Router::LeastOutstanding, Router::Random][router_i];
        let d = Deployment { api_request_us, api_item_us, async_scheduling, frontend_jitter_sigma, breadth_first, ..Deployment::default() };
        let cluster = |m: &EngineModel<'_>, specs: &[RequestSpec], clients: &Clients| {
            simulate_cluster(&vec![m.clone(); replicas], router, 7, specs, clients)
        };
        let (fast, _) = run_deployment(&c, true, d, cluster);
        let (slow, _) = run_deployment(&c, false, d, cluster);
        prop_assert_eq!(&fast.records, &slow.records);
        prop_assert_eq!(fast.stats.steps, slow.stats.steps);
    }

    #[test]
    fn same_seed_same_result(c in case()) {
        let (a, _) = run(&c, true);
        let (b, _) = run(&c, true);
        prop_assert_eq!(a.records, b.records);
        prop_assert_eq!(a.itl_ns, b.itl_ns);
    }
}

#[test]
fn preemption_happens_and_is_survived_when_kv_is_scarce() {
    let c = Case {
        version: EngineVersion::Vllm010,
        chunked: true,
        prefix: true,
        chunk: 1,
        max_num_seqs: 16,
        max_num_batched_tokens: 512,
        block_size: 16,
        capacity_blocks: 40,
        requests: vec![(100, 200); 16],
        closed_users: Some(16),
        gate: None,
        gaps_us: vec![0],
        frontend_us: 0,
        delay_factor: 0.0,
    };
    let (out, _) = run(&c, true);
    assert!(
        out.stats.preemptions > 0,
        "16 × 300 tokens in 40 blocks of 16 must preempt"
    );
    assert!(out.records.iter().all(|r| r.output_tokens == 200));
    assert!(out.stats.peak_blocks_used <= 40);
}

#[test]
fn a_burst_reaches_the_engine_only_after_every_first_stage_when_intake_is_breadth_first() {
    // 50 requests sent at once to an API server taking 10 ms of each (vLLM 0.10–0.11's OpenAI
    // server runs every request's first stage before it hands any to the engine:
    // docs/research/output-path-0.11.0.md §2); the one-stage intake hands request i over
    // after (i + 1) × 10 ms.
    let c = Case {
        version: EngineVersion::Vllm010,
        chunked: true,
        prefix: false,
        chunk: 1,
        max_num_seqs: 64,
        max_num_batched_tokens: 2048,
        block_size: 16,
        capacity_blocks: 2000,
        requests: vec![(32, 8); 50],
        closed_users: None,
        gate: None,
        gaps_us: vec![0],
        frontend_us: 0,
        delay_factor: 0.0,
    };
    let arrivals = |breadth_first: bool| -> Vec<u64> {
        let d = Deployment {
            api_request_us: 10_000,
            breadth_first,
            ..Deployment::default()
        };
        let (out, _) = run_deployment(&c, true, d, simulate);
        let mut a: Vec<u64> = out.records.iter().map(|r| r.arrival_ns).collect();
        a.sort_unstable();
        a
    };
    let one_stage = arrivals(false);
    assert_eq!(one_stage.first(), Some(&10_000_000));
    assert_eq!(one_stage.last(), Some(&500_000_000));
    let breadth_first = arrivals(true);
    // Tokenisation costs nothing here, so all 50 reach the engine when the 50th first stage ends.
    assert!(breadth_first.iter().all(|&t| t == 500_000_000), "{breadth_first:?}");
}
