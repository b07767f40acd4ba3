//! Several engine replicas behind a router, in one event loop (data parallelism).
//!
//! Events are processed in time order: a client send or gated release, an arrival at the router
//! (which picks a replica and puts the request in its inbox), or a replica's next step. A replica
//! steps from the time its previous step ended; a request routed to it is admitted at its next
//! step boundary, exactly as with one engine. With one replica this is [`super::simulate`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use serde::{Deserialize, Serialize};

use super::request::NEVER;
use super::{scheduler, Clients, EngineModel, EngineState, EngineStats, RequestRecord, RequestSpec, SimOutput};
use crate::cost::StepBatch;
use crate::units::Nanos;
use crate::workload::rng::SimRng;

/// How the router picks a replica for each arriving request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Router {
    /// Replicas in turn.
    #[default]
    RoundRobin,
    /// The replica with the fewest requests routed to it and not yet finished (ties: lowest index).
    LeastOutstanding,
    /// Uniformly at random (seeded).
    Random,
}

impl Router {
    /// Parses `round-robin`, `least-outstanding`, `random`.
    pub fn parse(text: &str, origin: &str) -> crate::Result<Router> {
        match text.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "round-robin" | "rr" => Ok(Router::RoundRobin),
            "least-outstanding" | "least-loaded" | "lor" => Ok(Router::LeastOutstanding),
            "random" => Ok(Router::Random),
            other => Err(crate::Error::invalid(
                origin,
                "router",
                format!("'{other}' is not one of round-robin, least-outstanding, random"),
            )),
        }
    }
}

/// Marks a heap entry that has passed the API server and goes to the router (high bit of its
/// insertion number, so routed entries keep their order among themselves).
const ROUTE_TAG: u64 = 1 << 63;

/// Per-replica bookkeeping besides its engine state.
struct Replica<'a> {
    st: EngineState<'a>,
    /// Requests routed here and not yet admitted: (arrival time, insertion number, request).
    inbox: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    /// Nothing in its queue fits; it waits for the next request routed to it.
    stalled: bool,
    /// Requests routed here.
    routed: u64,
    /// Finish times of its requests, nondecreasing.
    finishes: Vec<Nanos>,
}

impl Replica<'_> {
    /// When this replica next has something to do.
    fn next_time(&self) -> Nanos {
        let inbox = self.inbox.peek().map_or(NEVER, |&Reverse((t, _, _))| t);
        if self.stalled || (self.st.running.is_empty() && self.st.waiting.is_empty()) {
            // Idle: it wakes for the next request routed to it, not before its last step ended.
            if inbox == NEVER {
                NEVER
            } else {
                inbox.max(self.st.now)
            }
        } else {
            self.st.now
        }
    }

    /// Requests routed here and not finished by time `t`.
    fn outstanding_at(&self, t: Nanos) -> u64 {
        self.routed - self.finishes.partition_point(|&f| f <= t) as u64
    }
}

/// Simulates `models.len()` replicas behind `router`; request records carry their replica.
pub fn simulate_cluster(
    models: &[EngineModel<'_>],
    router: Router,
    seed: u64,
    requests: &[RequestSpec],
    clients: &Clients,
) -> SimOutput {
    let Some(first) = models.first() else {
        return SimOutput {
            records: Vec::new(),
            itl_ns: Vec::new(),
            stats: EngineStats::default(),
        };
    };
    let fe = first.frontend_delays(requests.len(), seed);
    // The API server (one process in front of every replica) handles each request in turn.
    let api_intake = first.api_server_request_ns > 0 || first.api_server_token_ns > 0.0;
    let mut api_free: Nanos = 0;
    // The latest booking of output items (starting at a step's end) and the free time before it.
    let mut api_booking_start: Nanos = 0;
    let mut api_free_before_booking: Nanos = 0;
    let mut reps: Vec<Replica<'_>> = models
        .iter()
        .map(|m| Replica {
            st: EngineState::new(m, requests),
            inbox: BinaryHeap::new(),
            stalled: false,
            routed: 0,
            finishes: Vec::new(),
        })
        .collect();
    let n_reqs = requests.len();
    // Client-side state lives in a per-request table shared by all replicas.
    let mut send_ns = vec![NEVER; n_reqs];
    let mut user_of = vec![0u32; n_reqs];
    let mut served_by = vec![u32::MAX; n_reqs];
    let failed_at_router: Vec<bool> = reps[0].st.reqs.iter().map(|r| r.failed).collect();
    let mut rejected_at = vec![NEVER; n_reqs];
    let mut heap: BinaryHeap<Reverse<(Nanos, u64, u32)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut next_of_user: Vec<u32> = Vec::new();
    let mut gate: VecDeque<(Nanos, u32)> = VecDeque::new();
    let mut free_slots: VecDeque<Nanos> = VecDeque::new();
    let (rpu, think) = match clients {
        Clients::Open { send_ns: times } => {
            for (i, &t) in times.iter().enumerate().take(n_reqs) {
                send_ns[i] = t;
                heap.push(Reverse((t.saturating_add(fe[i]), seq, i as u32)));
                seq += 1;
            }
            (0, 0)
        }
        Clients::Gated {
            send_ns: times,
            max_in_flight,
        } => {
            gate.extend(times.iter().take(n_reqs).enumerate().map(|(i, &t)| (t, i as u32)));
            let slots = (*max_in_flight).max(1) as usize;
            free_slots.extend(std::iter::repeat_n(0, slots.min(n_reqs)));
            (0, 0)
        }
        Clients::Closed {
            users,
            requests_per_user,
            think_ns,
        } => {
            let rpu = *requests_per_user;
            for u in 0..*users {
                let i = u as u64 * rpu as u64;
                if rpu > 0 && (i as usize) < n_reqs {
                    send_ns[i as usize] = 0;
                    user_of[i as usize] = u;
                    heap.push(Reverse((fe[i as usize], seq, i as u32)));
                    seq += 1;
                }
                next_of_user.push(1);
            }
            (rpu, *think_ns)
        }
    };
    let gate_due = |gate: &VecDeque<(Nanos, u32)>, free_slots: &VecDeque<Nanos>| -> Nanos {
        match (gate.front(), free_slots.front()) {
            (Some(&(t, _)), Some(&slot)) => t.max(slot),
            _ => NEVER,
        }
    };
    let mut rng = SimRng::new(seed ^ 0x005E_ED0F_C1A5);
    let mut rr_next = 0usize;
    let mut done: Vec<(u32, Nanos)> = Vec::new();
    loop {
        // The next event: a gated release, an arrival at the router, or a replica step.
        let t_gate = gate_due(&gate, &free_slots);
        let t_arr = heap.peek().map_or(NEVER, |&Reverse((t, _, _))| t);
        let (r_min, t_rep) = reps
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.next_time()))
            .min_by_key(|&(i, t)| (t, i))
            .unwrap_or((0, NEVER));
        if t_gate == NEVER && t_arr == NEVER && t_rep == NEVER {
            break;
        }
        if t_gate <= t_arr && t_gate <= t_rep {
            // A gated request goes out.
            if let (Some((_, idx)), Some(_)) = (gate.pop_front(), free_slots.pop_front()) {
                send_ns[idx as usize] = t_gate;
                heap.push(Reverse((t_gate.saturating_add(fe[idx as usize]), seq, idx)));
                seq += 1;
            }
            continue;
        }
        if t_arr <= t_rep {
            let Some(Reverse((t, s, idx))) = heap.pop() else {
                continue;
            };
            // First pass through the API server: queue for it, then come back to be routed.
            if api_intake && s & ROUTE_TAG == 0 {
                let intake = first.intake_ns(requests[idx as usize].input_tokens);
                // One process serves intake and output items in arrival order: a request that
                // arrives before a step's items are booked is taken first when it fits in the
                // gap before them; one that would run into them waits behind them (their
                // delivery is already stamped), and so does every later request.
                let done = if t < api_booking_start {
                    let before = t.max(api_free_before_booking).saturating_add(intake);
                    if before <= api_booking_start {
                        api_free_before_booking = before;
                        before
                    } else {
                        api_free_before_booking = api_booking_start;
                        let after = t.max(api_free).saturating_add(intake);
                        api_free = after;
                        after
                    }
                } else {
                    let done = t.max(api_free).saturating_add(intake);
                    api_free = done;
                    api_free_before_booking = done;
                    api_booking_start = done;
                    done
                };
                heap.push(Reverse((done, seq | ROUTE_TAG, idx)));
                seq += 1;
                continue;
            }
            if failed_at_router[idx as usize] {
                rejected_at[idx as usize] = t;
                done.push((idx, t));
            } else {
                let r = match router {
                    Router::RoundRobin => {
                        let r = rr_next % reps.len();
                        rr_next += 1;
                        r
                    }
                    Router::Random => rng.range_inclusive(0, reps.len() as u64 - 1) as usize,
                    Router::LeastOutstanding => (0..reps.len())
                        .min_by_key(|&i| (reps[i].outstanding_at(t), i))
                        .unwrap_or(0),
                };
                served_by[idx as usize] = r as u32;
                let rep = &mut reps[r];
                rep.routed += 1;
                rep.stalled = false;
                rep.inbox.push(Reverse((t, s, idx)));
            }
        } else {
            // Replica r_min takes its next step.
            let head = gate.front().map_or(0, |&(_, i)| fe[i as usize]);
            let next_global = t_arr.min(t_gate.saturating_add(head).max(t_gate));
            let rep = &mut reps[r_min];
            let st = &mut rep.st;
            st.now = st.now.max(t_rep);
            st.api_free_ns = api_free;
            st.api_booking_start_ns = api_booking_start;
            st.api_free_before_booking_ns = api_free_before_booking;
            let cutoff = st.admission_cutoff();
            while let Some(&Reverse((t, _, idx))) = rep.inbox.peek() {
                if t > cutoff {
                    break;
                }
                rep.inbox.pop();
                let req = &mut st.reqs[idx as usize];
                req.arrival_ns = t;
                req.send_ns = send_ns[idx as usize];
                req.user = user_of[idx as usize];
                st.waiting.push_back(idx);
            }
            if st.running.is_empty() && st.waiting.is_empty() {
                continue;
            }
            st.sched.clear();
            st.batch = StepBatch::default();
            st.preempted_this_step = false;
            scheduler::schedule(st);
            if st.sched.is_empty() {
                if st.running.is_empty() {
                    if let Some(idx) = st.waiting.pop_front() {
                        let now = st.now;
                        st.reqs[idx as usize].mark_failed(now);
                        st.delivered_finishes.push(idx);
                    }
                }
                if st.delivered_finishes.is_empty() {
                    rep.stalled = true;
                }
            } else {
                st.execute_step();
                if st.finished.is_empty() && st.delivered_finishes.is_empty() && st.m.skip_ahead {
                    let inbox = rep.inbox.peek().map_or(NEVER, |&Reverse((t, _, _))| t);
                    st.skip_ahead(next_global.min(inbox));
                }
            }
            st.finished.clear();
            // An engine with nothing left to run hands over its last outputs at once.
            if !st.undelivered.is_empty() && st.running.is_empty() && st.waiting.is_empty() {
                let now = st.now;
                st.deliver(now);
            }
            if st.api_free_ns > api_free || st.api_booking_start_ns > api_booking_start {
                api_free = api_free.max(st.api_free_ns);
                api_booking_start = st.api_booking_start_ns;
                api_free_before_booking = st.api_free_before_booking_ns;
            }
            for k in 0..st.delivered_finishes.len() {
                let idx = st.delivered_finishes[k];
                let f = st.reqs[idx as usize].client_finish_ns;
                rep.finishes.push(f);
                done.push((idx, f));
            }
            st.delivered_finishes.clear();
        }
        // Clients react to finished (or rejected) requests.
        for &(idx, f) in &done {
            match clients {
                Clients::Gated { .. } => free_slots.push_back(f),
                Clients::Closed { .. } => {
                    let user = user_of[idx as usize];
                    let j = next_of_user[user as usize];
                    if j < rpu {
                        let next = user as u64 * rpu as u64 + j as u64;
                        if (next as usize) < n_reqs {
                            let send = f.saturating_add(think);
                            send_ns[next as usize] = send;
                            user_of[next as usize] = user;
                            heap.push(Reverse((send.saturating_add(fe[next as usize]), seq, next as u32)));
                            seq += 1;
                        }
                        next_of_user[user as usize] = j + 1;
                    }
                }
                Clients::Open { .. } => {}
            }
        }
        done.clear();
    }
    // Gather the records from the replica that served each request.
    let records: Vec<RequestRecord> = (0..n_reqs)
        .map(|i| {
            let replica = served_by[i];
            let r = if replica == u32::MAX {
                &reps[0].st.reqs[i]
            } else {
                &reps[replica as usize].st.reqs[i]
            };
            let rejected = rejected_at[i];
            let (arrival, first_sched, first_tok, first_chunk, finish) = if rejected != NEVER {
                (rejected, rejected, rejected, rejected, rejected)
            } else {
                let client = |c: Nanos, engine: Nanos| if c != NEVER { c } else { engine };
                (
                    r.arrival_ns,
                    r.first_scheduled_ns,
                    client(r.client_first_token_ns, r.first_token_ns),
                    client(r.client_first_chunk_ns, r.first_chunk_ns),
                    client(r.client_finish_ns, r.finish_ns),
                )
            };
            RequestRecord {
                id: i as u32,
                user: user_of[i],
                replica: if replica == u32::MAX { 0 } else { replica },
                input_tokens: r.prompt,
                output_tokens: r.output,
                send_ns: send_ns[i],
                arrival_ns: arrival,
                first_scheduled_ns: first_sched,
                first_token_ns: first_tok,
                first_chunk_ns: first_chunk,
                finish_ns: finish,
                preemptions: r.preemptions,
                failed: r.failed || rejected != NEVER,
            }
        })
        .collect();
    let mut stats = EngineStats {
        time_monotonic: true,
        ..EngineStats::default()
    };
    let mut itl = Vec::new();
    for rep in reps {
        let s = &rep.st.stats;
        stats.steps += s.steps;
        stats.skipped_steps += s.skipped_steps;
        stats.preemptions += s.preemptions;
        stats.peak_blocks_used = stats.peak_blocks_used.max(s.peak_blocks_used);
        stats.capacity_blocks = stats.capacity_blocks.max(s.capacity_blocks);
        stats.max_step_seqs = stats.max_step_seqs.max(s.max_step_seqs);
        stats.max_step_tokens = stats.max_step_tokens.max(s.max_step_tokens);
        stats.time_monotonic &= s.time_monotonic;
        stats.busy_ns += s.busy_ns;
        itl.extend(rep.st.itl);
    }
    stats.end_ns = records
        .iter()
        .map(|r| r.finish_ns)
        .filter(|&t| t != NEVER)
        .max()
        .unwrap_or(0);
    SimOutput {
        records,
        itl_ns: itl,
        stats,
    }
}
