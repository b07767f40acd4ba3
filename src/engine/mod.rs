//! The event loop: clients send requests, the engine schedules steps, the cost model times them.
//!
//! Time is integer nanoseconds. Arrivals wait in a heap ordered by (time, insertion number), so
//! equal times resolve the same way on every run. Between events the engine does not step token by
//! token: when a step is pure decode and the batch cannot change before the next finish, arrival or
//! block shortage, the following identical steps are applied in one go (`skip ahead`).

pub mod cluster;
pub mod kv_cache;
pub mod request;
mod scheduler;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use serde::Serialize;

use crate::cost::{StepBatch, StepCostModel};
use crate::spec::engine::{EngineConfig, EngineVersion, MultiStepOutput};
use crate::units::Nanos;
use kv_cache::BlockPool;
pub use request::RequestRecord;
use request::{Request, NEVER};

/// One request of a workload: its lengths and prefix group.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RequestSpec {
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Tokens to generate.
    pub output_tokens: u32,
    /// Requests of one group share their first `shared_prefix_tokens` prompt tokens.
    pub prefix_group: Option<u32>,
    /// Length of the shared prefix, tokens.
    pub shared_prefix_tokens: u32,
    /// Warm prefix cache ([`crate::workload::arrivals::WorkloadSpec::warm_prefix_cache`]):
    /// prompt tokens this request shares with its twin, the same request of the level run just
    /// before on the same server; 0 for none.
    pub replayed_prompt_tokens: u32,
    /// Prompt plus output tokens of the requests after the twin in the level before: their
    /// blocks were freed after the twin's, so a new allocation evicts them after the twin's.
    pub replay_later_tokens: u64,
    /// Number of those later requests (each rounds its blocks up, half a block on average).
    pub replay_later_requests: u32,
}

/// Who sends the requests and when.
#[derive(Debug, Clone, PartialEq)]
pub enum Clients {
    /// Open loop: request i is sent at `send_ns[i]` whatever the server does.
    Open {
        /// Send times, one per request, nanoseconds.
        send_ns: Vec<Nanos>,
    },
    /// Open loop behind a semaphore, as `vllm bench serve --max-concurrency N`: request i is due at
    /// `send_ns[i]` but goes out only when fewer than `max_in_flight` are outstanding; its clock
    /// starts when it goes out.
    Gated {
        /// Due times, one per request, in nondecreasing order, nanoseconds.
        send_ns: Vec<Nanos>,
        /// Most requests outstanding at once.
        max_in_flight: u32,
    },
    /// Closed loop: `users` users each send `requests_per_user` requests back to back; user u's
    /// j-th request is request `u × requests_per_user + j`.
    Closed {
        /// Concurrent users.
        users: u32,
        /// Requests each user sends.
        requests_per_user: u32,
        /// Pause between a response and the next request, nanoseconds.
        think_ns: Nanos,
        /// Waves: every user's next request waits until all users' current ones have ended, and
        /// they all go out together at the last end (plus the think time) — llmperf before its
        /// commit f1d6bed (2024-12-09), which collected results every N launches and waited for
        /// all N. False: each user sends when its own answer ends.
        waves: bool,
    },
}

/// Counters that let tests check the engine's invariants.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineStats {
    /// Engine steps executed (including skipped-ahead ones).
    pub steps: u64,
    /// Steps applied in bulk by skip-ahead.
    pub skipped_steps: u64,
    /// Preemptions (recomputations).
    pub preemptions: u64,
    /// Most KV blocks held at once.
    pub peak_blocks_used: u64,
    /// Usable KV blocks.
    pub capacity_blocks: u64,
    /// Most sequences in one step.
    pub max_step_seqs: u64,
    /// Most tokens in one step.
    pub max_step_tokens: u64,
    /// False if simulated time ever moved backwards (never expected).
    pub time_monotonic: bool,
    /// When the last request finished, nanoseconds.
    pub end_ns: Nanos,
    /// Time the engine was busy, nanoseconds.
    pub busy_ns: Nanos,
    /// Prompt tokens served from the prefix cache when requests were scheduled (a shared prefix,
    /// a preempted request's own blocks, a replayed prompt's twin), tokens.
    pub prefix_hit_tokens: u64,
    /// Set when a step's duration (this many seconds: NaN, infinite, or beyond the clock's
    /// range) would have overflowed the simulated clock; the run stopped there and its figures
    /// must not be reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_overflow_step_s: Option<f64>,
}

/// The simulated clock's limit, nanoseconds (2^62 ns ≈ 146 years): no step may carry time past
/// it, so time arithmetic never wraps.
pub const MAX_CLOCK_NS: Nanos = 1 << 62;

/// What one simulation produces.
#[derive(Debug, Clone)]
pub struct SimOutput {
    /// One record per request, in workload order.
    pub records: Vec<RequestRecord>,
    /// Pooled inter-token latencies: (nanoseconds, how many tokens had it).
    pub itl_ns: Vec<(f64, u64)>,
    /// Engine counters.
    pub stats: EngineStats,
}

thread_local! {
    /// When simulations on this thread must stop (see [`with_deadline`]).
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> = const { std::cell::Cell::new(None) };
    /// Whether a simulation on this thread stopped at the deadline.
    static STOPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Event-loop iterations between two looks at the clock (about a millisecond of simulation).
const DEADLINE_CHECK_EVERY: u32 = 1 << 12;

/// Runs `f` with a wall-clock deadline for every simulation it starts on this thread; returns
/// its result and whether a simulation stopped at the deadline (its figures are then partial and
/// must not be reported). Sweeps use it so one configuration cannot stall the others.
pub fn with_deadline<R>(deadline: Option<std::time::Instant>, f: impl FnOnce() -> R) -> (R, bool) {
    let before = DEADLINE.with(|d| d.replace(deadline));
    let stopped_before = STOPPED.with(|s| s.replace(false));
    let out = f();
    let stopped = STOPPED.with(|s| s.replace(stopped_before));
    DEADLINE.with(|d| d.set(before));
    (out, stopped)
}

/// Whether this thread's deadline has passed (and records that a simulation stopped).
pub(crate) fn deadline_passed() -> bool {
    let passed = DEADLINE
        .with(|d| d.get())
        .is_some_and(|t| std::time::Instant::now() >= t);
    if passed {
        STOPPED.with(|s| s.set(true));
    }
    passed
}

/// Where a simulation sends what it measures as it goes: each request's record when its last
/// token reaches the client (or it is rejected), and the inter-token latencies of each step.
///
/// The engine keeps only the requests in flight; a sink that summarises as it receives (see
/// `metrics::level::LevelAccumulator`) keeps a run of any length in bounded memory.
pub trait RecordSink {
    /// One request is done (finished, or rejected). Records arrive in completion order.
    fn record(&mut self, r: &RequestRecord);
    /// `count` output tokens came `ns` nanoseconds after the previous token of their request.
    fn itl(&mut self, ns: f64, count: u64);
}

/// A sink that keeps everything, for the callers that want per-request records.
#[derive(Debug, Clone, Default)]
pub struct CollectSink {
    /// Records in completion order.
    pub records: Vec<RequestRecord>,
    /// Pooled inter-token latencies: (nanoseconds, how many tokens had it).
    pub itl_ns: Vec<(f64, u64)>,
}

impl RecordSink for CollectSink {
    fn record(&mut self, r: &RequestRecord) {
        self.records.push(*r);
    }

    fn itl(&mut self, ns: f64, count: u64) {
        self.itl_ns.push((ns, count));
    }
}

/// Sends to two sinks at once (e.g. the level's summary and a per-request file).
pub struct TeeSink<'a, A: RecordSink + ?Sized, B: RecordSink + ?Sized>(pub &'a mut A, pub &'a mut B);

impl<A: RecordSink + ?Sized, B: RecordSink + ?Sized> RecordSink for TeeSink<'_, A, B> {
    fn record(&mut self, r: &RequestRecord) {
        self.0.record(r);
        self.1.record(r);
    }

    fn itl(&mut self, ns: f64, count: u64) {
        self.0.itl(ns, count);
        self.1.itl(ns, count);
    }
}

/// An engine instance ready to run: configuration, step costs and KV capacity.
#[derive(Debug, Clone)]
pub struct EngineModel<'a> {
    /// Resolved engine flags.
    pub cfg: &'a EngineConfig,
    /// Step-cost model.
    pub cost: &'a StepCostModel,
    /// KV blocks requests may use.
    pub usable_blocks: u64,
    /// Client-to-engine latency, nanoseconds.
    pub frontend_latency_ns: Nanos,
    /// Tokens in the first streamed chunk (TTS servers stream audio in chunks of k tokens), ≥ 1.
    pub first_chunk_tokens: u32,
    /// Log-normal spread (σ of the log) of each request's client-to-engine latency around
    /// `frontend_latency_ns`, its mean (0: every request takes exactly the mean).
    pub frontend_jitter_sigma: f64,
    /// API-server time per request at intake, nanoseconds (0: the API server never queues).
    pub api_server_request_ns: Nanos,
    /// API-server time per prompt token at intake (tokenisation), nanoseconds.
    pub api_server_token_ns: f64,
    /// API-server time per output item (token or audio chunk), nanoseconds.
    pub api_server_item_ns: Nanos,
    /// Whether the API server takes requests in breadth first (vLLM's V1 OpenAI server): each
    /// request's first stage (HTTP, validation, chat template: `api_server_request_ns`) runs when
    /// it arrives, then the request waits at the back of the event loop's queue for its second
    /// (tokenisation and hand-off to the engine: `api_server_token_ns` per prompt token), so in a
    /// burst every request's first stage runs before any reaches the engine
    /// (docs/research/output-path-0.11.0.md §2). False: both stages at once, request by request.
    pub api_server_breadth_first: bool,
    /// Apply runs of identical decode steps in bulk (true); false steps one by one (for tests).
    pub skip_ahead: bool,
}

impl EngineModel<'_> {
    /// Whether requests and outputs queue for a single API-server process.
    pub fn has_api_server(&self) -> bool {
        self.api_server_request_ns > 0 || self.api_server_item_ns > 0 || self.api_server_token_ns > 0.0
    }

    /// The API server's intake time for a prompt of `input_tokens` tokens, nanoseconds.
    pub fn intake_ns(&self, input_tokens: u32) -> Nanos {
        self.api_server_request_ns
            .saturating_add(self.tokenize_ns(input_tokens))
    }

    /// The tokenisation part of the intake of a prompt of `input_tokens` tokens, nanoseconds.
    pub fn tokenize_ns(&self, input_tokens: u32) -> Nanos {
        let tokens = (self.api_server_token_ns * f64::from(input_tokens)).round();
        if tokens.is_finite() && tokens > 0.0 {
            tokens as Nanos
        } else {
            0
        }
    }

    /// Each request's client-to-engine latency, nanoseconds: the mean `frontend_latency_ns` times
    /// a mean-one log-normal factor of spread `frontend_jitter_sigma`, drawn from its own stream
    /// of `seed` (HTTP, the event loop and the hand-off take a little longer or shorter each time,
    /// which is why one user's TTFTs spread).
    pub fn frontend_delays(&self, n: usize, seed: u64) -> Vec<Nanos> {
        let mut stream = self.frontend_stream(seed);
        (0..n).map(|_| stream.draw()).collect()
    }

    /// The same delays drawn one at a time, in request order (no table for the whole run).
    pub fn frontend_stream(&self, seed: u64) -> FrontendStream {
        let sigma = self.frontend_jitter_sigma;
        let jitter = sigma.is_finite() && sigma > 0.0 && self.frontend_latency_ns > 0;
        FrontendStream {
            mean: self.frontend_latency_ns,
            sigma,
            rng: jitter.then(|| crate::workload::rng::SimRng::new(seed ^ 0x0F12_E7D0_3A11_7E55)),
        }
    }
}

/// Client-to-engine latencies drawn in request order (see [`EngineModel::frontend_delays`]).
#[derive(Debug, Clone)]
pub struct FrontendStream {
    mean: Nanos,
    sigma: f64,
    rng: Option<crate::workload::rng::SimRng>,
}

impl FrontendStream {
    /// The delay of every request when they do not differ (no jitter), nanoseconds.
    pub fn constant(&self) -> Option<Nanos> {
        self.rng.is_none().then_some(self.mean)
    }

    /// The next request's delay, nanoseconds.
    pub fn draw(&mut self) -> Nanos {
        let Some(rng) = self.rng.as_mut() else {
            return self.mean;
        };
        let sigma = self.sigma;
        let factor = crate::workload::rng::portable_exp(sigma * rng.standard_normal() - sigma * sigma / 2.0);
        let v = self.mean as f64 * factor;
        if v.is_finite() && v < 1e18 {
            v.round() as Nanos
        } else {
            self.mean
        }
    }
}

/// Entries the prefix-cache table needs: one past the highest prefix group of `specs`.
pub(crate) fn prefix_groups(specs: &[RequestSpec]) -> usize {
    specs
        .iter()
        .filter_map(|s| s.prefix_group)
        .max()
        .map_or(0, |g| g as usize + 1)
}

/// The batch a decode step of `seqs` sequences computes: nano-vllm replays the CUDA graph captured
/// for the next size in [1, 2, 4, 8, 16, 32, 48, …, max_bs] (`model_runner.py::capture_cudagraph`,
/// max_bs = min(max_num_seqs, 512); larger batches run eagerly); 0 (no padding) for vLLM, whose
/// graphs pad by at most 7 tokens.
pub(crate) fn graph_batch(cfg: &crate::spec::engine::EngineConfig, seqs: u64) -> u64 {
    if cfg.version != EngineVersion::NanoVllm || seqs == 0 {
        return 0;
    }
    let max_bs = (cfg.max_num_seqs as u64).min(512);
    if seqs > max_bs {
        return 0;
    }
    let padded = match seqs {
        1 | 2 => seqs,
        3..=4 => 4,
        5..=8 => 8,
        _ => seqs.div_ceil(16) * 16,
    };
    padded.min(max_bs)
}

/// Mutable state of one engine during a run.
pub(crate) struct EngineState<'a> {
    pub m: &'a EngineModel<'a>,
    /// Draws of how many drafts each step accepts (speculative decoding).
    pub spec_rng: crate::workload::rng::SimRng,
    /// Tokens a sliding-window layer attends to (`u64::MAX` without one), cached from the cost model.
    pub window_tokens: u64,
    /// Whether one uniform KV group holds every layer (the common case: one block per
    /// `block_size` tokens), cached from the configuration with the block size, tokens.
    pub kv_uniform: bool,
    pub block_size: u64,
    /// Steps left in the current multi-step pass (vLLM 0.6 `--num-scheduler-steps`; 0: the next
    /// step goes through the scheduler).
    pub pass_left: u32,
    /// Requests in flight, by slot (a slot is reused once its request is done).
    pub reqs: Vec<Request>,
    /// Slots free for the next request.
    pub free_slots: Vec<u32>,
    pub running: Vec<u32>,
    pub waiting: VecDeque<u32>,
    pub pool: BlockPool,
    pub now: Nanos,
    /// (request, tokens) scheduled in the current step.
    pub sched: Vec<(u32, u32)>,
    pub batch: StepBatch,
    pub preempted_this_step: bool,
    /// Requests that finished in the step just run (they left `running`, not `sched`).
    pub finished_in_step: u32,
    /// Requests that produced a token in the step just run.
    pub outputs_in_step: u64,
    pub warm_prefix_groups: Vec<bool>,
    pub skipped_buf: Vec<u32>,
    pub stats: EngineStats,
    pub itl: Vec<(f64, u64)>,
    pub finished: Vec<u32>,
    /// End times of the steps of the current bulk run (reused, no allocation per step).
    pub step_ends: Vec<Nanos>,
    /// When each step of the bulk run's outputs reach the clients (after the API server).
    pub deliveries: Vec<Nanos>,
    /// Requests with outputs the engine produced but has not handed to the server yet.
    pub undelivered: Vec<u32>,
    /// Requests whose last token reached the client in the latest step (for the clients).
    pub delivered_finishes: Vec<u32>,
    /// When the (shared) API server is next free; the cluster keeps it in step across replicas.
    pub api_free_ns: Nanos,
    /// When the latest booking of output items on the API server starts (a step's end), and when
    /// the server was free before that booking: work arriving earlier (a request's intake during
    /// the step) is served before those items, not after them.
    pub api_booking_start_ns: Nanos,
    /// See `api_booking_start_ns`.
    pub api_free_before_booking_ns: Nanos,
    /// Output items of the step whose outputs are still to be handed over.
    pub undelivered_items: u64,
    /// The latest step's outputs wait for the end of its multi-step pass.
    pub prev_step_deferred: bool,
    /// vLLM V0's scheduler delay: when the scheduler last ran, and whether it admitted prompts
    /// then (`prev_time`, `prev_prompt`), and the latency of the last step with prompts.
    pub delay_prev_ns: Nanos,
    pub delay_prev_prompt: bool,
    pub delay_last_prompt_latency_ns: Nanos,
    /// Whether the current step admitted a waiting prompt.
    pub delay_admitted: bool,
    /// When the latest step began on the GPU: with async scheduling the step after it was
    /// scheduled then, so only requests queued by that time join it.
    pub last_step_start_ns: Nanos,
}

impl<'a> EngineState<'a> {
    /// An engine with no request yet: requests enter with [`EngineState::admit`] and leave with
    /// [`EngineState::release_slot`], so it holds only those in flight. `n_requests` (the run's
    /// size) seeds the speculative-decoding draws, `prefix_groups` sizes the prefix-cache table.
    fn new(m: &'a EngineModel<'a>, n_requests: usize, prefix_groups: usize) -> EngineState<'a> {
        // Sized by what is in flight, never by a flag: `--max-num-seqs 4294967295` must not
        // reserve 16 GiB up front.
        let slots = (m.cfg.max_num_seqs as usize).min(n_requests).min(4096) + 1;
        EngineState {
            m,
            spec_rng: crate::workload::rng::SimRng::new(0x5BEC_DEC0 ^ n_requests as u64),
            pass_left: 0,
            window_tokens: m.cost.window_tokens(),
            kv_uniform: m.cfg.kv_groups == crate::spec::engine::KvGroups::UNIFORM,
            block_size: u64::from(m.cfg.block_size.max(1)),
            reqs: Vec::with_capacity(slots),
            free_slots: Vec::new(),
            running: Vec::with_capacity(slots),
            waiting: VecDeque::new(),
            pool: BlockPool::new(m.usable_blocks),
            now: 0,
            sched: Vec::with_capacity(slots),
            batch: StepBatch::default(),
            preempted_this_step: false,
            finished_in_step: 0,
            outputs_in_step: 0,
            warm_prefix_groups: vec![false; prefix_groups],
            skipped_buf: Vec::new(),
            stats: EngineStats {
                capacity_blocks: m.usable_blocks,
                time_monotonic: true,
                ..EngineStats::default()
            },
            itl: Vec::new(),
            finished: Vec::new(),
            step_ends: Vec::new(),
            deliveries: Vec::new(),
            undelivered: Vec::new(),
            delivered_finishes: Vec::new(),
            api_free_ns: 0,
            api_booking_start_ns: 0,
            api_free_before_booking_ns: 0,
            undelivered_items: 0,
            prev_step_deferred: false,
            delay_prev_ns: 0,
            delay_prev_prompt: false,
            delay_last_prompt_latency_ns: 0,
            delay_admitted: false,
            last_step_start_ns: 0,
        }
    }

    /// An engine holding every request of `specs` from the start, request i in slot i (the
    /// reference loop indexes requests by workload position).
    fn with_requests(m: &'a EngineModel<'a>, specs: &[RequestSpec]) -> EngineState<'a> {
        let mut st = EngineState::new(m, specs.len(), prefix_groups(specs));
        let mut reqs: Vec<Request> = specs
            .iter()
            .enumerate()
            .map(|(i, s)| Request::from_spec(s, i as u32, m.cfg.max_model_len))
            .collect();
        for (r, s) in reqs.iter_mut().zip(specs) {
            st.warm_from_twin(r, s);
        }
        st.reqs = reqs;
        st
    }

    /// A request whose twin ran in the level before (a sweep sending one sample at every level to
    /// one server, prefix caching on) finds the twin's full prompt blocks in the cache, as far as
    /// the cache kept them. The free queue evicts least recently freed blocks first: at the
    /// level's start it holds the blocks nobody used, then the earlier level's in the order they
    /// were freed (requests taken to finish in workload order, each tail block first), so the
    /// twin's blocks go after the capacity minus what was freed after them minus their own
    /// count has been allocated; a level larger than the cache evicted the earliest already.
    fn warm_from_twin(&self, r: &mut Request, spec: &RequestSpec) {
        if spec.replayed_prompt_tokens == 0 || !self.m.cfg.enable_prefix_caching {
            return;
        }
        let bs = self.block_size;
        let own = u64::from(spec.replayed_prompt_tokens) / bs;
        let later = spec.replay_later_tokens / bs + u64::from(spec.replay_later_requests).div_ceil(2);
        let slack = self.m.usable_blocks as i64 - later as i64 - own as i64;
        let kept = if slack < 0 {
            own.saturating_sub(slack.unsigned_abs())
        } else {
            own
        };
        r.cached_own_blocks = kept as u32;
        r.evict_mark = slack.max(0) as u64;
    }

    /// Takes request `id` of the workload into a free slot (a request in flight); returns the slot.
    pub(crate) fn admit(&mut self, spec: &RequestSpec, id: u32) -> u32 {
        let mut r = Request::from_spec(spec, id, self.m.cfg.max_model_len);
        self.warm_from_twin(&mut r, spec);
        match self.free_slots.pop() {
            Some(slot) => {
                self.reqs[slot as usize] = r;
                slot
            }
            None => {
                self.reqs.push(r);
                (self.reqs.len() - 1) as u32
            }
        }
    }

    /// Frees a slot whose request is done (its record was taken).
    pub(crate) fn release_slot(&mut self, slot: u32) {
        self.reqs[slot as usize].id = request::FREE_SLOT;
        self.free_slots.push(slot);
    }

    /// The latest arrival time the next step may admit: now, or with async scheduling on a busy
    /// engine the start of the step that just ran (the next step was scheduled then; a request
    /// that arrived during it joins the step after: docs/research/frontend.md §4).
    pub(crate) fn admission_cutoff(&self) -> Nanos {
        if self.m.cfg.async_scheduling && self.stats.steps > 0 && !(self.running.is_empty() && self.waiting.is_empty())
        {
            self.last_step_start_ns
        } else {
            self.now
        }
    }

    /// Frees a request's blocks and sends it back to the front of the queue for recomputation.
    pub(crate) fn preempt(&mut self, idx: u32) {
        let r = &mut self.reqs[idx as usize];
        if self.m.cfg.enable_prefix_caching && self.m.cfg.version == EngineVersion::Vllm010 {
            // Blocks of its own prompt a re-admission can find again (a sliding-window group
            // keeps only the window's, so count the full group's).
            r.cached_own_blocks = if self.m.cfg.kv_groups.sliding == 0 {
                r.blocks
            } else {
                r.computed / self.m.cfg.block_size.max(1)
            };
            r.evict_mark = self.pool.total_allocated() + self.pool.free();
        }
        self.pool.release(r.blocks as u64);
        r.blocks = 0;
        r.computed = 0;
        r.preemptions += 1;
        self.stats.preemptions += 1;
        self.preempted_this_step = true;
        self.waiting.push_front(idx);
    }

    /// Tokens of `idx`'s prompt served from the prefix cache if it were admitted now.
    pub(crate) fn prefix_hit_tokens(&self, idx: u32) -> u32 {
        if !self.m.cfg.enable_prefix_caching {
            return 0;
        }
        let r = &self.reqs[idx as usize];
        let bs = self.m.cfg.block_size;
        let limit = r.num_tokens().saturating_sub(1);
        // Its own blocks from before a preemption, minus those reused by others since
        // (evicted from the tail of its sequence first).
        let evicted = self
            .pool
            .total_allocated()
            .saturating_sub(r.evict_mark)
            .min(r.cached_own_blocks as u64) as u32;
        let own = (r.cached_own_blocks - evicted) * bs;
        let group = if r.prefix_group != u32::MAX && self.warm_prefix_groups[r.prefix_group as usize] {
            r.cached_prefix
        } else {
            0
        };
        // Full blocks only, and at least one token left to compute (vLLM recomputes the last one).
        own.max(group).min(limit) / bs * bs
    }

    /// Adds one scheduled chunk to the step's batch summary.
    #[inline]
    pub(crate) fn account(&mut self, idx: u32, n: u32) {
        let r = &self.reqs[idx as usize];
        let context = (r.computed + n) as u64;
        // Sliding-window layers read contexts capped at the window; models without one leave
        // the windowed figures at 0 (their cost per windowed token is 0).
        let window = self.window_tokens;
        if r.is_decoding() && n == 1 {
            self.batch.decode_seqs += 1;
            if r.spec_scheduled > 0 {
                // The K drafts are verified as K more query rows over the same context.
                let k = u64::from(r.spec_scheduled);
                self.batch.spec_tokens += k;
                self.batch.prefill_attention_pairs += (k * context) as f64;
                if window != u64::MAX {
                    self.batch.windowed_attention_pairs += (k * context.min(window)) as f64;
                }
            }
        } else {
            self.batch.prefill_seqs += 1;
            self.batch.prefill_tokens += n as u64;
            let pairs_per_token = r.computed as f64 + n as f64 / 2.0;
            self.batch.prefill_attention_pairs += n as f64 * pairs_per_token;
            if window != u64::MAX {
                self.batch.windowed_attention_pairs += n as f64 * pairs_per_token.min(window as f64);
            }
        }
        if context >= r.num_tokens() as u64 {
            self.batch.output_seqs += 1;
        }
        self.batch.context_tokens += context;
        if window != u64::MAX {
            self.batch.windowed_context_tokens += context.min(window);
        }
        self.sched.push((idx, n));
    }

    /// Blocks `idx` needs beyond what it holds to have `tokens` tokens of KV.
    #[inline]
    pub(crate) fn blocks_needed(&self, idx: u32, tokens: u32) -> u64 {
        let have = self.reqs[idx as usize].blocks as u64;
        let held = if self.kv_uniform {
            (tokens as u64).div_ceil(self.block_size)
        } else {
            self.m.cfg.kv_groups.blocks_for(tokens as u64, self.m.cfg.block_size)
        };
        held.saturating_sub(have)
    }

    /// Allocates blocks so `idx` holds enough for `tokens` tokens; false if the pool is short.
    #[inline]
    pub(crate) fn try_grow(&mut self, idx: u32, tokens: u32) -> bool {
        let need = self.blocks_needed(idx, tokens);
        if need == 0 {
            return true;
        }
        if self.pool.try_allocate(need) {
            self.reqs[idx as usize].blocks += need as u32;
            true
        } else {
            false
        }
    }

    /// Hands the outputs produced so far to the server at time `t`; the client sees them once the
    /// API server has handled the step's items (at once when it has no per-item cost).
    pub(crate) fn deliver(&mut self, t: Nanos) {
        let items = std::mem::take(&mut self.undelivered_items);
        let t = self.book_items(t, items);
        self.hand_over(t);
    }

    /// Books `items` output items on the API server from time `t` (behind its earlier work) and
    /// returns when they are handed to the clients (`t` itself without an API server).
    pub(crate) fn book_items(&mut self, t: Nanos, items: u64) -> Nanos {
        if !self.m.has_api_server() {
            return t;
        }
        // A call with no item (outputs already handed over) books nothing, so it must not move
        // the booking marks.
        let start = t.max(self.api_free_ns);
        let work = self.m.api_server_item_ns.saturating_mul(items);
        if work > 0 {
            if start > self.api_booking_start_ns {
                self.api_free_before_booking_ns = self.api_free_ns;
                self.api_booking_start_ns = start;
            }
            self.api_free_ns = start.saturating_add(work);
        }
        start.saturating_add(work)
    }

    /// vLLM 0.6.0–0.6.2 mid-pass: the requests that finished are emitted at once, the others'
    /// tokens wait for the pass's end. Books one item per finish on the API server.
    fn deliver_finished(&mut self, now: Nanos) {
        let finished = self
            .undelivered
            .iter()
            .filter(|&&i| self.reqs[i as usize].finish_ns != NEVER)
            .count() as u64;
        if finished == 0 {
            return;
        }
        let t = self.book_items(now, finished);
        self.undelivered_items = self.undelivered_items.saturating_sub(finished);
        self.hand_over_where(t, true);
    }

    /// The clients see the pending events (first token, first chunk, finish) at time `t`.
    fn hand_over(&mut self, t: Nanos) {
        self.hand_over_where(t, false);
    }

    /// [`Self::hand_over`] of every pending request, or with `finished_only` of those that
    /// finished (the others stay pending, in order).
    fn hand_over_where(&mut self, t: Nanos, finished_only: bool) {
        let mut kept = 0;
        for k in 0..self.undelivered.len() {
            let idx = self.undelivered[k];
            let r = &mut self.reqs[idx as usize];
            if finished_only && r.finish_ns == NEVER {
                self.undelivered[kept] = idx;
                kept += 1;
                continue;
            }
            if r.first_token_ns != NEVER && r.client_first_token_ns == NEVER {
                r.client_first_token_ns = t;
            }
            if r.first_chunk_ns != NEVER && r.client_first_chunk_ns == NEVER {
                r.client_first_chunk_ns = t;
            }
            if r.finish_ns != NEVER && r.client_finish_ns == NEVER {
                r.client_finish_ns = t;
                self.delivered_finishes.push(idx);
            }
        }
        self.undelivered.truncate(kept);
    }

    /// The duration of a step of batch `b`, nanoseconds, rounded as
    /// [`StepCostModel::step_nanos`]; a duration that is not finite, or would carry the clock past
    /// [`MAX_CLOCK_NS`], is recorded in `stats.clock_overflow_step_s` (the run then stops and is
    /// refused) and the clock stops at the limit instead of wrapping.
    fn step_ns(&mut self, b: &StepBatch) -> Nanos {
        let secs = self.m.cost.step_seconds(b);
        let ns = (secs * 1e9).round();
        let room = MAX_CLOCK_NS.saturating_sub(self.now);
        if ns.is_finite() && ns >= 0.0 && ns <= room as f64 {
            (ns as Nanos).max(1)
        } else {
            self.stats.clock_overflow_step_s = Some(secs);
            room
        }
    }

    /// Multi-step bursts: books one inter-token gap per decoding request of the step, the time
    /// since its previous chunk was handed over, and starts its next gap at `now`.
    fn chunk_gaps(&mut self, now: Nanos) {
        let mut run: Option<(Nanos, u64)> = None;
        for k in 0..self.sched.len() {
            let idx = self.sched[k].0 as usize;
            let r = &mut self.reqs[idx];
            if r.last_token_ns != now || r.output < 2 || r.chunk_ns == NEVER || r.chunk_ns >= now {
                continue;
            }
            let gap = now - r.chunk_ns;
            r.chunk_ns = now;
            match run {
                Some((g, ref mut n)) if g == gap => *n += 1,
                _ => {
                    if let Some((g, n)) = run {
                        self.itl.push((g as f64, n));
                    }
                    run = Some((gap, 1));
                }
            }
        }
        if let Some((g, n)) = run {
            self.itl.push((g as f64, n));
        }
    }

    /// Runs the scheduled step: advances time, produces tokens, finishes requests.
    fn execute_step(&mut self) {
        if self.batch.prefill_seqs == 0 {
            self.batch.graph_seqs = graph_batch(self.m.cfg, self.batch.decode_seqs);
        }
        // Multi-step: a decode-only step the scheduler planned opens a pass of N steps.
        let steps = self.m.cfg.num_scheduler_steps;
        if steps > 1 {
            if self.pass_left > 0 {
                self.pass_left -= 1;
            } else if self.batch.prefill_seqs == 0 && self.batch.decode_seqs > 0 {
                self.pass_left = steps - 1;
            }
        }
        let d = self.step_ns(&self.batch.clone());
        let start = self.now;
        self.last_step_start_ns = start;
        self.now += d;
        if self.now < start {
            self.stats.time_monotonic = false;
        }
        self.stats.steps += 1;
        self.stats.busy_ns += d;
        self.stats.max_step_seqs = self.stats.max_step_seqs.max(self.batch.seqs());
        self.stats.max_step_tokens = self.stats.max_step_tokens.max(self.batch.tokens());
        let now = self.now;
        // Outputs of the previous step reach the server as this one ends (vLLM 0.6.0–0.6.1),
        // unless they wait for the end of their multi-step pass.
        if !self.prev_step_deferred && (!self.undelivered.is_empty() || self.undelivered_items > 0) {
            self.deliver(now);
        }
        // Multi-step passes whose tokens reach the clients in one chunk per pass: the client's
        // inter-token gaps are the times between chunks, counted when a chunk is handed over.
        let bursts = steps > 1 && self.m.cfg.multi_step_output != MultiStepOutput::EveryStep;
        let mut finished_now = false;
        let mut single_itl = 0u64;
        let mut items = 0u64;
        let chunk_tokens = self.m.first_chunk_tokens.max(1);
        for k in 0..self.sched.len() {
            let (idx, n) = self.sched[k];
            let r = &mut self.reqs[idx as usize];
            if r.first_scheduled_ns == NEVER {
                r.first_scheduled_ns = start;
            }
            r.computed += n;
            r.cached_own_blocks = 0;
            if r.prefix_group != u32::MAX && r.computed >= r.cached_prefix {
                self.warm_prefix_groups[r.prefix_group as usize] = true;
            }
            if r.computed >= r.num_tokens() {
                r.output += 1;
                let drafts = if r.spec_scheduled > 0 {
                    std::mem::take(&mut r.spec_scheduled)
                } else {
                    0
                };
                if drafts > 0 && r.output > 1 {
                    // Speculative decoding: the accepted prefix of the drafts comes out with the
                    // bonus token, in the same streamed chunk; their KV is already computed.
                    let accepted = self.m.cfg.speculative.as_ref().map_or(0, |spec| {
                        spec.accepted_for(self.spec_rng.uniform())
                            .min(drafts)
                            .min(r.target_output.saturating_sub(r.output))
                    });
                    r.output += accepted;
                    r.computed += accepted;
                }
                if r.output == 1 {
                    r.first_token_ns = now;
                    r.chunk_ns = now;
                } else if !bursts {
                    let gap = now - r.last_token_ns;
                    if gap == d {
                        single_itl += 1;
                    } else {
                        self.itl.push((gap as f64, 1));
                    }
                }
                r.last_token_ns = now;
                items += 1;
                let at_chunk = r.output == chunk_tokens.min(r.target_output);
                let new_event = r.output == 1 || at_chunk;
                if at_chunk {
                    r.first_chunk_ns = now;
                }
                let done = r.output >= r.target_output;
                if done {
                    r.finish_ns = now;
                    self.finished.push(idx);
                    finished_now = true;
                }
                if new_event || done {
                    self.undelivered.push(idx);
                }
            }
        }
        // This step's outputs reach the server now, or when the next step ends (0.6.0–0.6.1), or
        // with the pass's last step (multi-step before 0.6.3; 0.6.0–0.6.2 emit a finish at once).
        self.undelivered_items += items;
        self.outputs_in_step = items;
        let defer = bursts && self.pass_left > 0;
        if defer && finished_now && self.m.cfg.multi_step_output == MultiStepOutput::AtPassEndFinishesAtOnce {
            self.deliver_finished(now);
        }
        if bursts && !defer {
            self.chunk_gaps(now);
        }
        self.prev_step_deferred = defer;
        if !defer
            && !self.m.cfg.version.delays_output_one_step()
            && (!self.undelivered.is_empty() || self.m.has_api_server())
        {
            self.deliver(now);
        }
        if single_itl > 0 {
            self.itl.push((d as f64, single_itl));
        }
        self.finished_in_step = self.finished.len() as u32;
        if !self.finished.is_empty() {
            for k in 0..self.finished.len() {
                let idx = self.finished[k];
                let blocks = std::mem::take(&mut self.reqs[idx as usize].blocks);
                self.pool.release(blocks as u64);
            }
            let reqs = &self.reqs;
            self.running.retain(|&i| reqs[i as usize].finish_ns == NEVER);
            if self.running.is_empty() {
                self.pass_left = 0;
            }
        }
        self.stats.peak_blocks_used = self.pool.peak_used();
    }

    /// After a pure-decode step, applies the identical steps that follow in bulk.
    ///
    /// `next_arrival` is when the next request reaches the queue (NEVER if none pending);
    /// `turn_end` the time from which another replica's step comes first (replicas sharing an API
    /// server book their items on it in the order their steps run; NEVER when none does).
    fn skip_ahead(&mut self, next_arrival: Nanos, turn_end: Nanos) {
        let cfg = self.m.cfg;
        let b = self.running.len() as u64;
        // Speculative steps advance requests by a drawn number of tokens, and multi-step
        // passes alternate scheduled and unscheduled steps: neither repeats identically.
        if b == 0
            || cfg.speculative.is_some()
            || cfg.num_scheduler_steps > 1
            || self.preempted_this_step
            || self.sched.len() as u64 != b + u64::from(self.finished_in_step)
            || b > cfg.max_num_batched_tokens as u64
            // Every running request produced a token in the step just run (a cheap count
            // before the scan below).
            || self.outputs_in_step != b + u64::from(self.finished_in_step)
        {
            return;
        }
        // nano-vllm admits new prompts whatever the number running (its limit is per step).
        let room = cfg.version == EngineVersion::NanoVllm || self.running.len() < cfg.max_num_seqs as usize;
        if room && !self.waiting.is_empty() {
            return;
        }
        if !self.running.iter().all(|&i| {
            // Decoding, and its latest token came out of the step just run (a request that
            // finished a recompute chunk one token short looks alike but has no token yet).
            let r = &self.reqs[i as usize];
            r.is_decoding() && r.last_token_ns == self.now
        }) {
            return;
        }
        // An arrival matters when it could be admitted, or when the API server takes it in while
        // the bulk run books items: its intake queues among those bookings in time order.
        let intake = self.m.api_server_request_ns > 0 || self.m.api_server_token_ns > 0.0;
        let arrival_matters = room || intake;
        if (arrival_matters && next_arrival <= self.now) || self.now >= turn_end {
            return;
        }
        // Steps until the first finish; the finishing step itself runs through the general path.
        let k_finish = self
            .running
            .iter()
            .map(|&i| {
                let r = &self.reqs[i as usize];
                (r.target_output - r.output) as u64
            })
            .min()
            .unwrap_or(0);
        if k_finish <= 1 {
            return;
        }
        let mut k_max = k_finish - 1;
        // Steps until the pool runs short of blocks (then the general path preempts).
        // vLLM 0.5's block_manager_v1 preempts when no block is free at a decode, so a bulk run
        // must end each step with one block to spare.
        let spare = u64::from(cfg.version == EngineVersion::Vllm05 && self.running.len() > 1);
        if self.pool.free() <= spare && spare > 0 {
            return;
        }
        let free = self.pool.free() - spare;
        let need = |k: u64| -> u64 {
            self.running
                .iter()
                .map(|&i| {
                    let r = &self.reqs[i as usize];
                    cfg.kv_groups
                        .blocks_for(r.computed as u64 + k, cfg.block_size)
                        .saturating_sub(r.blocks as u64)
                })
                .sum()
        };
        if need(k_max) > free {
            let (mut lo, mut hi) = (0u64, k_max);
            while lo < hi {
                let mid = lo + (hi - lo).div_ceil(2);
                if need(mid) <= free {
                    lo = mid;
                } else {
                    hi = mid - 1;
                }
            }
            k_max = lo;
        }
        if k_max == 0 {
            return;
        }
        // A finish still to be handed over (0.6.0–0.6.1) lets a client act when the next step
        // ends: that step goes through the general path, whose finishes the clients see at once.
        if self
            .undelivered
            .iter()
            .any(|&i| self.reqs[i as usize].finish_ns != NEVER)
        {
            return;
        }
        // V0's scheduler delay measures the last prompt step at the next scheduler call, which is
        // now; the bulk steps skip those calls, so take the measurement here.
        if self.delay_prev_prompt {
            self.delay_last_prompt_latency_ns = self.now.saturating_sub(self.delay_prev_ns);
            self.delay_prev_ns = self.now;
            self.delay_prev_prompt = false;
        }
        // Apply up to k_max steps, stopping at the step during which the next request arrives.
        let base_context: u64 = self
            .running
            .iter()
            .map(|&i| self.reqs[i as usize].computed as u64 + 1)
            .sum();
        // Sliding-window layers: each context is capped at the window, so only the sequences
        // still below it add a token of windowed context per step (`below`, in order of the
        // step at which each reaches the window).
        let window = self.m.cost.window_tokens();
        let mut below: Vec<u64> = if window == u64::MAX {
            Vec::new()
        } else {
            self.running
                .iter()
                .map(|&i| self.reqs[i as usize].computed as u64 + 1)
                .filter(|&c| c < window)
                .map(|c| window - c)
                .collect()
        };
        below.sort_unstable_by(|a, b| b.cmp(a));
        let windowed_context: u64 = if window == u64::MAX {
            0
        } else {
            self.running
                .iter()
                .map(|&i| (self.reqs[i as usize].computed as u64 + 1).min(window))
                .sum()
        };
        let mut batch = StepBatch {
            decode_seqs: b,
            output_seqs: b,
            graph_seqs: graph_batch(cfg, b),
            context_tokens: base_context,
            windowed_context_tokens: windowed_context,
            ..StepBatch::default()
        };
        let mut k = 0u64;
        self.step_ends.clear();
        self.deliveries.clear();
        let delay = self.m.cfg.version.delays_output_one_step();
        while k < k_max {
            let d = self.step_ns(&batch);
            if self.stats.clock_overflow_step_s.is_some() {
                break;
            }
            self.last_step_start_ns = self.now;
            self.now += d;
            self.step_ends.push(self.now);
            // Each step's end hands a step's items to the API server, as the general path does:
            // this step's, or (0.6.0–0.6.1) the previous step's — before the bulk run, whatever
            // was pending, whose events reach the clients then.
            let items = if delay && k == 0 {
                std::mem::take(&mut self.undelivered_items)
            } else {
                b
            };
            let step_end = self.now;
            let handed = self.book_items(step_end, items);
            if delay && k == 0 {
                self.hand_over(handed);
            }
            self.deliveries.push(handed);
            self.stats.busy_ns += d;
            self.itl.push((d as f64, b));
            k += 1;
            batch.context_tokens += b;
            if window != u64::MAX {
                while below.last().is_some_and(|&gap| gap < k) {
                    below.pop();
                }
                batch.windowed_context_tokens += below.len() as u64;
            }
            if (arrival_matters && self.now >= next_arrival) || self.now >= turn_end {
                break;
            }
        }
        if delay && k > 0 {
            // The last step's items wait for the next step's end.
            self.undelivered_items = b;
        }
        self.stats.steps += k;
        self.stats.skipped_steps += k;
        let now = self.now;
        for idx in 0..self.running.len() {
            let i = self.running[idx] as usize;
            let r = &mut self.reqs[i];
            // The first streamed chunk completes inside the bulk run: step (chunk − output) of it.
            let chunk = self.m.first_chunk_tokens.max(1).min(r.target_output);
            if r.output < chunk && chunk <= r.output + k as u32 {
                let j = (chunk - r.output - 1) as usize;
                r.first_chunk_ns = self.step_ends[j];
                if !delay {
                    r.client_first_chunk_ns = self.deliveries[j];
                } else if j + 1 < self.deliveries.len() {
                    r.client_first_chunk_ns = self.deliveries[j + 1];
                } else {
                    self.undelivered.push(i as u32);
                }
            }
            r.computed += k as u32;
            r.output += k as u32;
            r.last_token_ns = now;
            // Each step allocated the block for the token it computed.
            let target = self
                .m
                .cfg
                .kv_groups
                .blocks_for(r.computed as u64, self.m.cfg.block_size) as u32;
            if target > r.blocks {
                let extra = (target - r.blocks) as u64;
                let ok = self.pool.try_allocate(extra);
                debug_assert!(ok, "skip-ahead allocated beyond the free blocks it checked");
                r.blocks = target;
            }
        }
        self.stats.peak_blocks_used = self.pool.peak_used();
    }
}

/// Simulates one engine serving `requests` sent by `clients`; returns per-request records.
pub fn simulate(model: &EngineModel<'_>, requests: &[RequestSpec], clients: &Clients) -> SimOutput {
    cluster::simulate_cluster(
        std::slice::from_ref(model),
        cluster::Router::RoundRobin,
        0,
        requests,
        clients,
    )
}

/// The single-engine event loop the cluster loop generalises, kept as an independent reference
/// that tests compare [`simulate`] against (same records, same inter-token latencies).
#[doc(hidden)]
pub fn simulate_reference(model: &EngineModel<'_>, requests: &[RequestSpec], clients: &Clients) -> SimOutput {
    let mut st = EngineState::with_requests(model, requests);
    let fe = model.frontend_delays(requests.len(), 0);
    // Arrival heap: (engine arrival time, insertion number, request).
    let mut heap: BinaryHeap<Reverse<(Nanos, u64, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut next_of_user: Vec<u32> = Vec::new();
    let (rpu, think) = match clients {
        Clients::Open { send_ns } => {
            for (i, &t) in send_ns.iter().enumerate().take(requests.len()) {
                st.reqs[i].send_ns = t;
                heap.push(Reverse((t.saturating_add(fe[i]), seq, i as u32)));
                seq += 1;
            }
            (0, 0)
        }
        Clients::Gated { .. } => (0, 0),
        Clients::Closed {
            users,
            requests_per_user,
            think_ns,
            ..
        } => {
            let rpu = *requests_per_user;
            for u in 0..*users {
                let i = u as u64 * rpu as u64;
                if rpu > 0 && (i as usize) < requests.len() {
                    let r = &mut st.reqs[i as usize];
                    r.send_ns = 0;
                    r.user = u;
                    heap.push(Reverse((fe[i as usize], seq, i as u32)));
                    seq += 1;
                }
                next_of_user.push(1);
            }
            (rpu, *think_ns)
        }
    };
    // Semaphore-gated requests not yet sent: (due time, request) in due order.
    let mut gate: VecDeque<(Nanos, u32)> = VecDeque::new();
    // Times at which semaphore slots became free, oldest first (all free at 0 to begin with).
    let mut free_slots: VecDeque<Nanos> = VecDeque::new();
    if let Clients::Gated { send_ns, max_in_flight } = clients {
        gate.extend(
            send_ns
                .iter()
                .take(requests.len())
                .enumerate()
                .map(|(i, &t)| (t, i as u32)),
        );
        let slots = (*max_in_flight).max(1) as usize;
        free_slots.extend(std::iter::repeat_n(0, slots.min(requests.len())));
    }
    // When the next gated request can go out (a slot is free and it is due).
    let gate_due = |gate: &VecDeque<(Nanos, u32)>, free_slots: &VecDeque<Nanos>| -> Nanos {
        match (gate.front(), free_slots.front()) {
            (Some(&(t, _)), Some(&slot)) => t.max(slot),
            _ => NEVER,
        }
    };
    let next_event = |heap: &BinaryHeap<Reverse<(Nanos, u64, u32)>>, due: Nanos| -> Nanos {
        heap.peek().map_or(NEVER, |&Reverse((t, _, _))| t).min(due)
    };
    let mut pending_finishes: Vec<u32> = Vec::new();
    // Waves: requests of the current wave still out, and its latest end so far.
    let mut wave_out: u64 = heap.len() as u64;
    let mut wave_end: Nanos = 0;
    loop {
        // Gated requests go out while slots are free and they are due.
        while let (Some(&(t, idx)), Some(&slot)) = (gate.front(), free_slots.front()) {
            let send = t.max(slot);
            if send > st.now {
                break;
            }
            gate.pop_front();
            free_slots.pop_front();
            st.reqs[idx as usize].send_ns = send;
            heap.push(Reverse((send.saturating_add(fe[idx as usize]), seq, idx)));
            seq += 1;
        }
        // Failed (rejected) requests finish at once, and closed-loop users move on.
        // Admit everything that has arrived by now.
        while let Some(&Reverse((t, _, idx))) = heap.peek() {
            if t > st.now {
                break;
            }
            heap.pop();
            let r = &mut st.reqs[idx as usize];
            r.arrival_ns = t;
            if r.failed {
                r.finish_ns = t;
                r.first_token_ns = t;
                r.first_chunk_ns = t;
                r.first_scheduled_ns = t;
                pending_finishes.push(idx);
            } else {
                st.waiting.push_back(idx);
            }
        }
        st.delivered_finishes.clear();
        if !pending_finishes.is_empty() || !st.finished.is_empty() {
            pending_finishes.append(&mut st.finished);
            for &idx in &pending_finishes {
                if let Clients::Gated { .. } = clients {
                    free_slots.push_back(st.reqs[idx as usize].finish_ns);
                }
                if let Clients::Closed { waves: true, .. } = clients {
                    // The wave's last answer sends every user's next request.
                    wave_out = wave_out.saturating_sub(1);
                    wave_end = wave_end.max(st.reqs[idx as usize].finish_ns);
                    if wave_out == 0 {
                        let send = wave_end.saturating_add(think);
                        for user in 0..next_of_user.len() as u32 {
                            let j = next_of_user[user as usize];
                            if j < rpu {
                                let next = user as u64 * rpu as u64 + j as u64;
                                if (next as usize) < st.reqs.len() {
                                    let r = &mut st.reqs[next as usize];
                                    r.send_ns = send;
                                    r.user = user;
                                    heap.push(Reverse((send.saturating_add(fe[next as usize]), seq, next as u32)));
                                    seq += 1;
                                    wave_out += 1;
                                }
                                next_of_user[user as usize] = j + 1;
                            }
                        }
                    }
                } else if let Clients::Closed { .. } = clients {
                    let user = st.reqs[idx as usize].user;
                    let done_at = st.reqs[idx as usize].finish_ns;
                    let j = next_of_user[user as usize];
                    if j < rpu {
                        let next = user as u64 * rpu as u64 + j as u64;
                        if (next as usize) < st.reqs.len() {
                            let send = done_at.saturating_add(think);
                            let r = &mut st.reqs[next as usize];
                            r.send_ns = send;
                            r.user = user;
                            heap.push(Reverse((send.saturating_add(fe[next as usize]), seq, next as u32)));
                            seq += 1;
                        }
                        next_of_user[user as usize] = j + 1;
                    }
                }
            }
            pending_finishes.clear();
            continue;
        }
        if st.running.is_empty() && st.waiting.is_empty() {
            match next_event(&heap, gate_due(&gate, &free_slots)) {
                NEVER => break,
                t => {
                    st.now = st.now.max(t);
                    continue;
                }
            }
        }
        st.sched.clear();
        st.batch = StepBatch::default();
        st.preempted_this_step = false;
        scheduler::schedule(&mut st);
        if st.sched.is_empty() {
            // Nothing fits: the queue head can never be served (larger than the whole cache).
            if st.running.is_empty() {
                if let Some(idx) = st.waiting.pop_front() {
                    let now = st.now;
                    st.reqs[idx as usize].mark_failed(now);
                    pending_finishes.push(idx);
                    continue;
                }
            }
            // Wait for the next arrival (cannot happen with running requests: they always fit).
            match next_event(&heap, gate_due(&gate, &free_slots)) {
                NEVER => break,
                t => {
                    st.now = st.now.max(t);
                    continue;
                }
            }
        }
        st.execute_step();
        if st.finished.is_empty() && model.skip_ahead {
            let due = gate_due(&gate, &free_slots);
            // A gated request due now or earlier reaches the engine its front-end latency later.
            let head = gate.front().map_or(0, |&(_, i)| fe[i as usize]);
            let next_arrival = next_event(&heap, due.saturating_add(head).max(due));
            st.skip_ahead(next_arrival, NEVER);
        }
    }
    let end = st
        .reqs
        .iter()
        .map(|r| r.finish_ns)
        .filter(|&t| t != NEVER)
        .max()
        .unwrap_or(0);
    st.stats.end_ns = end;
    let records = st
        .reqs
        .iter()
        .enumerate()
        .map(|(i, r)| RequestRecord {
            id: i as u32,
            user: r.user,
            replica: 0,
            input_tokens: r.prompt,
            output_tokens: r.output,
            send_ns: r.send_ns,
            arrival_ns: r.arrival_ns,
            first_scheduled_ns: r.first_scheduled_ns,
            first_token_ns: r.first_token_ns,
            first_chunk_ns: r.first_chunk_ns,
            finish_ns: r.finish_ns,
            preemptions: r.preemptions,
            failed: r.failed,
        })
        .collect();
    SimOutput {
        records,
        itl_ns: st.itl,
        stats: st.stats,
    }
}

#[cfg(test)]
mod graph_tests {
    use super::graph_batch;
    use crate::spec::engine::{EngineConfig, EngineVersion, UsageContext};

    fn cfg(version: EngineVersion, max_num_seqs: u32) -> EngineConfig {
        EngineConfig {
            version,
            gpu_memory_utilization: 0.9,
            max_num_seqs,
            max_model_len: 2048,
            max_num_batched_tokens: 16384,
            block_size: 256,
            enable_chunked_prefill: false,
            enable_prefix_caching: false,
            tensor_parallel_size: 1,
            usage_context: UsageContext::OpenaiApiServer,
            scheduler_delay_factor: 0.0,
            kv_cache_dtype: crate::spec::Dtype::Bf16,
            dtype: crate::spec::Dtype::Bf16,
            quantization: None,
            release_line: crate::spec::engine::ReleaseLine::of(version, None),
            async_scheduling: false,
            tokenizer_wait_s: 0.0,
            enable_expert_parallel: false,
            speculative: None,
            num_scheduler_steps: 1,
            multi_step_output: crate::spec::engine::MultiStepOutput::EveryStep,
            kv_groups: crate::spec::engine::KvGroups::UNIFORM,
            kv_cache_memory_bytes: None,
            release: None,
        }
    }

    #[test]
    fn nano_vllm_pads_decode_batches_to_its_captured_sizes() {
        let c = cfg(EngineVersion::NanoVllm, 50);
        let got: Vec<u64> = [1, 2, 3, 5, 9, 16, 17, 33, 49, 50]
            .iter()
            .map(|&b| graph_batch(&c, b))
            .collect();
        // [1, 2, 4, 8, 16, 32, 48] plus max_bs = 50.
        assert_eq!(got, [1, 2, 4, 8, 16, 16, 32, 48, 50, 50]);
        let big = cfg(EngineVersion::NanoVllm, 1024);
        assert_eq!(graph_batch(&big, 500), 512);
        assert_eq!(graph_batch(&big, 600), 0, "beyond 512 the step runs eagerly");
        assert_eq!(graph_batch(&cfg(EngineVersion::Vllm010, 50), 9), 0);
    }
}
