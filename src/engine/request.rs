//! One request inside the engine, and what the metrics keep of it when it ends.

use serde::Serialize;

use crate::units::Nanos;

/// A time not reached yet.
pub const NEVER: Nanos = Nanos::MAX;

/// The `id` of a slot no request occupies.
pub(crate) const FREE_SLOT: u32 = u32::MAX;

/// A request as the engine tracks it. The fields every step reads and writes come first, in
/// declaration order (`repr(C)`), so a decode touches one cache line of its request.
#[derive(Debug, Clone)]
#[repr(C)]
pub(crate) struct Request {
    /// Its position in the workload ([`FREE_SLOT`] once done and its slot freed).
    pub id: u32,
    /// Prompt tokens.
    pub prompt: u32,
    /// Tokens to generate (benchmarks set ignore_eos, so this is exact).
    pub target_output: u32,
    /// Tokens whose KV has been computed.
    pub computed: u32,
    /// Tokens generated so far.
    pub output: u32,
    /// KV blocks held.
    pub blocks: u32,
    /// Draft tokens verified for it in the step being run (speculative decoding; 0 otherwise).
    pub spec_scheduled: u32,
    /// Prefix-sharing group (`u32::MAX` for none).
    pub prefix_group: u32,
    /// Prompt tokens served from the prefix cache at admission.
    pub cached_prefix: u32,
    /// Blocks it held when last preempted; with prefix caching they stay hashed in the free
    /// queue until reused, so its recomputation can hit them.
    pub cached_own_blocks: u32,
    /// Closed-loop user (or 0 for open-loop arrivals).
    pub user: u32,
    /// Times it was preempted (recomputed).
    pub preemptions: u32,
    /// When its latest output token was produced.
    pub last_token_ns: Nanos,
    /// Multi-step passes that hand tokens over at their end: when its latest chunk of tokens was
    /// handed over (engine time), the start of the client's current inter-token gap.
    pub chunk_ns: Nanos,
    /// When it was first scheduled.
    pub first_scheduled_ns: Nanos,
    /// When its first output token was produced.
    pub first_token_ns: Nanos,
    /// When its output reached the first streaming chunk (`first_chunk_tokens` tokens).
    pub first_chunk_ns: Nanos,
    /// When it finished.
    pub finish_ns: Nanos,
    /// When the client sent it.
    pub send_ns: Nanos,
    /// When it entered the engine's waiting queue.
    pub arrival_ns: Nanos,
    /// When the client received the first token (later than `first_token_ns` when the engine
    /// hands outputs over one step late).
    pub client_first_token_ns: Nanos,
    /// When the client received the first chunk.
    pub client_first_chunk_ns: Nanos,
    /// When the client received the last token.
    pub client_finish_ns: Nanos,
    /// `total_allocated` at which the first of those blocks gets evicted (they sit behind the
    /// blocks that were free when it was preempted, tail blocks first).
    pub evict_mark: u64,
    /// Rejected before reaching the engine (too long for max_model_len).
    pub failed: bool,
}

impl Request {
    /// Request `id` of a workload as it enters the engine; rejected at once when it cannot be
    /// served at all (the OpenAI server refuses prompt + max_tokens > max_model_len, and empty
    /// prompts or outputs).
    pub fn from_spec(s: &super::RequestSpec, id: u32, max_model_len: u32) -> Request {
        Request {
            id,
            prompt: s.input_tokens,
            target_output: s.output_tokens,
            computed: 0,
            output: 0,
            blocks: 0,
            cached_prefix: if s.prefix_group.is_some() {
                s.shared_prefix_tokens
            } else {
                0
            },
            prefix_group: s.prefix_group.unwrap_or(u32::MAX),
            user: 0,
            send_ns: NEVER,
            arrival_ns: NEVER,
            first_scheduled_ns: NEVER,
            first_token_ns: NEVER,
            last_token_ns: NEVER,
            chunk_ns: NEVER,
            first_chunk_ns: NEVER,
            client_first_token_ns: NEVER,
            client_first_chunk_ns: NEVER,
            client_finish_ns: NEVER,
            finish_ns: NEVER,
            preemptions: 0,
            cached_own_blocks: 0,
            evict_mark: 0,
            spec_scheduled: 0,
            failed: rejected(s, max_model_len),
        }
    }

    /// Prompt plus generated tokens.
    #[inline]
    pub fn num_tokens(&self) -> u32 {
        self.prompt + self.output
    }

    /// Marks the request failed at `now`: every engine and client time is set to it.
    pub fn mark_failed(&mut self, now: Nanos) {
        self.failed = true;
        self.finish_ns = now;
        self.first_token_ns = now;
        self.first_chunk_ns = now;
        self.first_scheduled_ns = now;
        self.client_first_token_ns = now;
        self.client_first_chunk_ns = now;
        self.client_finish_ns = now;
    }

    /// Whether all tokens but the newest have KV computed (it is decoding, or about to).
    #[inline]
    pub fn is_decoding(&self) -> bool {
        self.output > 0 && self.computed + 1 == self.num_tokens()
    }
}

/// Whether the server refuses `s` outright: an empty prompt or output, or prompt + output over
/// `max_model_len`.
pub(crate) fn rejected(s: &super::RequestSpec, max_model_len: u32) -> bool {
    s.input_tokens == 0
        || s.output_tokens == 0
        || u64::from(s.input_tokens) + u64::from(s.output_tokens) > u64::from(max_model_len)
}

/// What the metrics keep of a finished request, in simulated nanoseconds from the level's start.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RequestRecord {
    /// Index of the request in its workload.
    pub id: u32,
    /// Closed-loop user that sent it (0 for open-loop arrivals).
    pub user: u32,
    /// Replica that served it.
    pub replica: u32,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
    /// When the client sent it.
    pub send_ns: Nanos,
    /// When it entered the engine queue.
    pub arrival_ns: Nanos,
    /// When the engine first scheduled it.
    pub first_scheduled_ns: Nanos,
    /// When the client received the first token.
    pub first_token_ns: Nanos,
    /// When the client received the first streaming chunk (TTS: the first audio; equals
    /// `first_token_ns` with one-token chunks, or `finish_ns` for shorter outputs).
    pub first_chunk_ns: Nanos,
    /// When the client received the last token.
    pub finish_ns: Nanos,
    /// Preemptions (recomputations) it suffered.
    pub preemptions: u32,
    /// True when it was rejected (prompt + output longer than max_model_len).
    pub failed: bool,
}

impl RequestRecord {
    /// Time to first token as the client sees it.
    pub fn ttft_ns(&self) -> Nanos {
        self.first_token_ns.saturating_sub(self.send_ns)
    }

    /// End-to-end latency as the client sees it.
    pub fn e2e_ns(&self) -> Nanos {
        self.finish_ns.saturating_sub(self.send_ns)
    }

    /// Time per output token after the first (vLLM bench's TPOT), or None for one-token outputs.
    pub fn tpot_ns(&self) -> Option<f64> {
        (self.output_tokens > 1)
            .then(|| (self.finish_ns - self.first_token_ns) as f64 / (self.output_tokens - 1) as f64)
    }

    /// Time waiting in the engine queue before first being scheduled.
    pub fn queue_ns(&self) -> Nanos {
        self.first_scheduled_ns.saturating_sub(self.arrival_ns)
    }
}
