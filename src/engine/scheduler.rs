//! Scheduling policies per engine version: which requests run in the next step and with how many
//! tokens. Each fills `EngineState::sched` and the step's batch summary; none allocates memory.
//!
//! - vLLM V1 (0.10, `vllm/v1/core/sched/scheduler.py`): running requests first, in order, each with
//!   min(remaining, budget) tokens; on a block shortage the newest running request is preempted
//!   (recompute) and goes to the front of the queue; new requests are admitted FCFS only if nothing
//!   was preempted in this step and fewer than max_num_seqs run; without chunked prefill a prompt
//!   larger than the remaining budget is skipped.
//! - vLLM V0 (0.5/0.6, `vllm/core/scheduler.py::_schedule_default`): waiting prompts first, FCFS with
//!   head-of-line blocking, whole prompts only, 1% free-block watermark; a step with any prefill is
//!   prefill-only; otherwise every running request decodes, preempting from the tail on shortage.
//!   With chunked prefill V0 mixes like V1.
//! - nano-vllm (`nanovllm/engine/scheduler.py`): prefill-first; a prefill step admits up to
//!   max_num_seqs new sequences within the token budget (only the first may be chunked, when
//!   chunking is on) and allocates all their prompt blocks; a decode step runs up to max_num_seqs
//!   running sequences from the front, preempting from the tail.

use super::EngineState;
use crate::spec::engine::EngineVersion;

/// Fills the next step's schedule for the engine's version.
pub(super) fn schedule(st: &mut EngineState<'_>) {
    match st.m.cfg.version {
        EngineVersion::Vllm010 => schedule_mixed(st, true),
        EngineVersion::Vllm05 | EngineVersion::Vllm06 | EngineVersion::Vllm0600 => {
            if st.pass_left > 0 {
                // Multi-step (`--num-scheduler-steps N`): inside a pass the GPU runs the same
                // decode batch again without going back to the scheduler; nothing is admitted.
                st.batch.host_free = true;
                decode_running(st, st.running.len());
                return;
            }
            let admit = passed_delay(st);
            st.delay_admitted = false;
            if st.m.cfg.enable_chunked_prefill {
                schedule_mixed(st, admit)
            } else {
                schedule_v0_default(st, admit)
            }
            // `_schedule_prefills` sets prev_prompt when it scheduled any prompt.
            if st.delay_admitted {
                st.delay_prev_prompt = true;
            }
        }
        EngineVersion::NanoVllm => schedule_nano(st),
    }
}

/// vLLM V0's `Scheduler._passed_delay`: with `--scheduler-delay-factor` d > 0, waiting prompts are
/// admitted only when the oldest has waited longer than d × the latency of the last step that
/// admitted prompts, or when nothing runs.
fn passed_delay(st: &mut EngineState<'_>) -> bool {
    let now = st.now;
    if st.delay_prev_prompt {
        st.delay_last_prompt_latency_ns = now.saturating_sub(st.delay_prev_ns);
    }
    st.delay_prev_ns = now;
    st.delay_prev_prompt = false;
    let d = st.m.cfg.scheduler_delay_factor;
    if d <= 0.0 || st.waiting.is_empty() || st.running.is_empty() {
        return true;
    }
    let earliest = st
        .waiting
        .iter()
        .map(|&i| st.reqs[i as usize].arrival_ns)
        .min()
        .unwrap_or(now);
    now.saturating_sub(earliest) as f64 > d * st.delay_last_prompt_latency_ns as f64
}

/// vLLM V1 (and V0 with chunked prefill): running first within the token budget, then admissions
/// (unless V0's scheduler delay holds them back: `admit` false).
fn schedule_mixed(st: &mut EngineState<'_>, admit: bool) {
    let cfg = st.m.cfg;
    let mut budget = cfg.max_num_batched_tokens;
    let (spec_k, lookahead) = cfg
        .speculative
        .as_ref()
        .map_or((0, 0), |s| (s.num_speculative_tokens, s.lookahead_tokens));
    // A plain decode (one token, no drafts, its block already held) needs none of the general
    // bookkeeping below: the batch summary takes it in a few additions.
    let plain_decodes = spec_k == 0 && st.kv_uniform;
    let window = st.window_tokens;
    let mut i = 0;
    while i < st.running.len() && budget > 0 {
        let idx = st.running[i];
        let r = &st.reqs[idx as usize];
        if plain_decodes && r.is_decoding() && u64::from(r.computed) < u64::from(r.blocks) * st.block_size {
            let context = u64::from(r.computed) + 1;
            let b = &mut st.batch;
            b.decode_seqs += 1;
            b.output_seqs += 1;
            b.context_tokens += context;
            if window != u64::MAX {
                b.windowed_context_tokens += context.min(window);
            }
            st.sched.push((idx, 1));
            budget -= 1;
            i += 1;
            continue;
        }
        let remaining = r.num_tokens() - r.computed;
        let n = remaining.min(budget);
        // Speculative decoding: a decoding request verifies K drafts as well (as many as the
        // budget leaves) and reserves KV for them and the proposer's lookahead.
        let drafts = if spec_k > 0 && r.is_decoding() && n == 1 {
            spec_k.min(budget - n)
        } else {
            0
        };
        let target = if drafts > 0 {
            (r.computed + n + drafts + lookahead).min(cfg.max_model_len.max(r.computed + n))
        } else {
            r.computed + n
        };
        // Most steps need no new block for most requests (one per block_size tokens): only a
        // request that does goes through the allocator.
        if st.blocks_needed(idx, target) > 0 && !grow_or_preempt(st, idx, target, false) {
            break;
        }
        if drafts > 0 {
            st.reqs[idx as usize].spec_scheduled = drafts;
        }
        st.account(idx, n);
        budget -= n + drafts;
        i += 1;
    }
    let v0 = st.m.cfg.version.is_v0();
    // V1 admits nothing in a step that preempted; V0's chunked scheduler still admits prefills
    // (only swap-in is blocked).
    if st.preempted_this_step && !v0 {
        return;
    }
    let watermark = if v0 { st.pool.capacity() / 100 } else { 0 };
    while admit && budget > 0 && st.running.len() < cfg.max_num_seqs as usize {
        let Some(&idx) = st.waiting.front() else { break };
        let hit = st.prefix_hit_tokens(idx);
        let r = &st.reqs[idx as usize];
        let remaining = r.num_tokens() - hit;
        if !cfg.enable_chunked_prefill && remaining > budget {
            // V1 skips it and looks at the next one; it keeps its place in the queue.
            st.waiting.pop_front();
            st.skipped_buf.push(idx);
            continue;
        }
        let n = remaining.min(budget);
        // V0 allocates the whole prompt at admission (can_allocate, with the 1% watermark);
        // V1 allocates only the chunk it schedules.
        let alloc_to = if v0 { r.num_tokens() } else { hit + n };
        if v0 && st.pool.free() < st.blocks_needed(idx, alloc_to) + watermark {
            break;
        }
        st.reqs[idx as usize].computed = hit;
        if !st.try_grow(idx, alloc_to) {
            st.reqs[idx as usize].computed = 0;
            break;
        }
        st.waiting.pop_front();
        st.running.push(idx);
        st.delay_admitted = true;
        st.stats.prefix_hit_tokens += u64::from(hit);
        st.account(idx, n);
        budget -= n;
    }
    while let Some(idx) = st.skipped_buf.pop() {
        st.waiting.push_front(idx);
    }
}

/// Gives running request `idx` the blocks for `target` tokens, preempting the newest running
/// requests (not yet scheduled in this step) until they fit; false if `idx` itself was preempted.
/// With `spare_block`, a free block must also remain while others run (block_manager_v1).
fn grow_or_preempt(st: &mut EngineState<'_>, idx: u32, target: u32, spare_block: bool) -> bool {
    while (spare_block && st.pool.free() == 0 && st.running.len() > 1) || !st.try_grow(idx, target) {
        let Some(victim) = st.running.pop() else {
            return false;
        };
        st.preempt(victim);
        if victim == idx {
            return false;
        }
    }
    true
}

/// vLLM V0 without chunked prefill: prefill-only steps whenever a prompt can be admitted (and
/// the scheduler delay lets it: `admit`).
fn schedule_v0_default(st: &mut EngineState<'_>, admit: bool) {
    let cfg = st.m.cfg;
    let watermark = st.pool.capacity() / 100;
    let prompt_limit = cfg.max_model_len.min(cfg.max_num_batched_tokens);
    let mut batched = 0u32;
    let mut seqs = st.running.len();
    while let Some(&idx) = st.waiting.front().filter(|_| admit) {
        let hit = st.prefix_hit_tokens(idx);
        let r = &st.reqs[idx as usize];
        let tokens = r.num_tokens();
        if tokens > prompt_limit || (tokens as u64).div_ceil(cfg.block_size as u64) + watermark > st.pool.capacity() {
            // FINISHED_IGNORED: the prompt can never be scheduled.
            st.waiting.pop_front();
            let r = &mut st.reqs[idx as usize];
            r.failed = true;
            r.finish_ns = st.now;
            r.first_token_ns = st.now;
            r.first_chunk_ns = st.now;
            r.first_scheduled_ns = st.now;
            st.finished.push(idx);
            continue;
        }
        let n = tokens - hit;
        if batched + n > cfg.max_num_batched_tokens || seqs + 1 > cfg.max_num_seqs as usize {
            break;
        }
        let need = st.blocks_needed(idx, tokens);
        if st.pool.free() < need + watermark {
            break;
        }
        st.reqs[idx as usize].computed = hit;
        if !st.try_grow(idx, tokens) {
            st.reqs[idx as usize].computed = 0;
            break;
        }
        st.waiting.pop_front();
        st.running.push(idx);
        st.delay_admitted = true;
        st.stats.prefix_hit_tokens += u64::from(hit);
        st.account(idx, n);
        batched += n;
        seqs += 1;
    }
    if !st.sched.is_empty() {
        return;
    }
    decode_running(st, st.running.len());
}

/// Decodes up to `limit` running sequences from the front, preempting from the tail on shortage.
fn decode_running(st: &mut EngineState<'_>, limit: usize) {
    let mut i = 0;
    while i < st.running.len() && i < limit {
        let idx = st.running[i];
        let r = &st.reqs[idx as usize];
        let remaining = r.num_tokens() - r.computed;
        // Multi-step reserves N − 1 lookahead slots per decode (num_lookahead_slots).
        let steps = st.m.cfg.num_scheduler_steps;
        let target = if steps > 1 {
            (r.computed + remaining + steps - 1).min(st.m.cfg.max_model_len.max(r.computed + remaining))
        } else {
            r.computed + remaining
        };
        // block_manager_v1 (vLLM 0.5's default) lets a sequence decode only while at least one
        // block per sequence is free, even if its last block still has room (can_append_slots).
        let spare_block = st.m.cfg.version == EngineVersion::Vllm05;
        if !grow_or_preempt(st, idx, target, spare_block) {
            break;
        }
        st.account(idx, remaining);
        i += 1;
    }
}

/// nano-vllm: prefill-first, whole-prompt block allocation, decode otherwise.
fn schedule_nano(st: &mut EngineState<'_>) {
    let cfg = st.m.cfg;
    let mut batched = 0u32;
    let mut seqs = 0u32;
    while seqs < cfg.max_num_seqs {
        let Some(&idx) = st.waiting.front() else { break };
        let hit = st.prefix_hit_tokens(idx);
        let r = &st.reqs[idx as usize];
        let tokens = r.num_tokens();
        let start = r.computed.max(hit);
        let remaining = tokens - start;
        let mut n = remaining;
        if batched + remaining > cfg.max_num_batched_tokens {
            if seqs == 0 && cfg.enable_chunked_prefill {
                n = cfg.max_num_batched_tokens - batched;
            } else {
                break;
            }
        }
        let before = st.reqs[idx as usize].computed;
        st.reqs[idx as usize].computed = start;
        if !st.try_grow(idx, tokens) {
            st.reqs[idx as usize].computed = before;
            break;
        }
        st.waiting.pop_front();
        st.stats.prefix_hit_tokens += u64::from(start - before);
        if n < remaining {
            // A chunked first sequence stays at the queue head until its prompt is done.
            st.waiting.push_front(idx);
        } else {
            st.running.push(idx);
        }
        st.account(idx, n);
        batched += n;
        seqs += 1;
    }
    if !st.sched.is_empty() {
        return;
    }
    decode_running(st, cfg.max_num_seqs as usize);
}
