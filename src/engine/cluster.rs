//! Several engine replicas behind a router, in one event loop (data parallelism).
//!
//! Events are processed in time order: a client send or gated release, an arrival at the router
//! (which picks a replica and puts the request in its inbox), or a replica's next step. A replica
//! steps from the time its previous step ended; a request routed to it is admitted at its next
//! step boundary, exactly as with one engine. With one replica this is [`super::simulate`].

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use serde::{Deserialize, Serialize};

use super::request::{rejected, NEVER};
use super::{
    prefix_groups, scheduler, Clients, CollectSink, EngineModel, EngineState, EngineStats, FrontendStream, RecordSink,
    RequestRecord, RequestSpec, SimOutput,
};
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

/// Marks a heap entry that has passed the API server's first stage and waits for its second
/// (breadth-first intake: [`EngineModel::api_server_breadth_first`]).
const HANDOFF_TAG: u64 = 1 << 62;

/// The API server's bookings: when it is next free, when its latest booking of output items
/// starts, and when it was free before that booking (work arriving earlier is served first when
/// it fits in the gap).
#[derive(Debug, Default, Clone, Copy)]
struct ApiBookings {
    free: Nanos,
    booking_start: Nanos,
    free_before_booking: Nanos,
}

impl ApiBookings {
    /// Hands the bookings to a replica about to step (it books its items on them).
    fn give_to(&self, st: &mut EngineState<'_>) {
        st.api_free_ns = self.free;
        st.api_booking_start_ns = self.booking_start;
        st.api_free_before_booking_ns = self.free_before_booking;
    }

    /// Takes back what a replica's steps booked.
    fn take_from(&mut self, st: &EngineState<'_>) {
        if st.api_free_ns > self.free || st.api_booking_start_ns > self.booking_start {
            self.free = self.free.max(st.api_free_ns);
            self.booking_start = st.api_booking_start_ns;
            self.free_before_booking = st.api_free_before_booking_ns;
        }
    }

    /// Books `work` arriving at `t` and returns when it is done. One process serves intake and
    /// output items in arrival order: work that arrives before a step's items are booked is taken
    /// first when it fits in the gap before them; work that would run into them waits behind
    /// them (their delivery is already stamped), and so does all later work.
    fn book(&mut self, t: Nanos, work: Nanos) -> Nanos {
        if t < self.booking_start {
            let before = t.max(self.free_before_booking).saturating_add(work);
            if before <= self.booking_start {
                self.free_before_booking = before;
                before
            } else {
                self.free_before_booking = self.booking_start;
                let after = t.max(self.free).saturating_add(work);
                self.free = after;
                after
            }
        } else {
            let done_at = t.max(self.free).saturating_add(work);
            self.free = done_at;
            self.free_before_booking = done_at;
            self.booking_start = done_at;
            done_at
        }
    }
}

/// A closed-loop user's next request, queued when it is sent.
struct NextRequest<'a> {
    /// Requests each user sends.
    rpu: u32,
    /// Requests in the workload.
    n_reqs: usize,
    /// Each user's next request number (0-based within the user).
    next_of_user: &'a mut [u32],
    heap: &'a mut BinaryHeap<Reverse<Pending>>,
    seq: &'a mut u64,
    fe: &'a mut Delays,
}

impl NextRequest<'_> {
    /// Sends `user`'s next request at `send` (ns), if it has one left; true if it sent one.
    fn send(&mut self, user: u32, send: Nanos) -> bool {
        let j = self.next_of_user[user as usize];
        if j >= self.rpu {
            return false;
        }
        self.next_of_user[user as usize] = j + 1;
        let next = u64::from(user) * u64::from(self.rpu) + u64::from(j);
        if next >= self.n_reqs as u64 {
            return false;
        }
        let id = next as u32;
        self.heap.push(Reverse(Pending {
            t: send.saturating_add(self.fe.at(id)),
            seq: *self.seq,
            id,
            send,
            user,
        }));
        *self.seq += 1;
        true
    }
}

/// A request on its way to an engine: ordered by (time, insertion number), which are unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Pending {
    /// When it reaches the next stage (API server, router, engine queue), nanoseconds.
    t: Nanos,
    /// Insertion number (ties at equal times resolve in insertion order).
    seq: u64,
    /// Position in the workload.
    id: u32,
    /// When the client sent it.
    send: Nanos,
    /// Closed-loop user (0 otherwise).
    user: u32,
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.t, self.seq, self.id).cmp(&(other.t, other.seq, other.id))
    }
}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Per-replica bookkeeping besides its engine state.
struct Replica<'a> {
    st: EngineState<'a>,
    /// Requests routed here and not yet admitted.
    inbox: BinaryHeap<Reverse<Pending>>,
    /// Nothing in its queue fits; it waits for the next request routed to it.
    stalled: bool,
    /// Requests routed here.
    routed: u64,
    /// Of those, finished by the latest routing time.
    finished: u64,
    /// Finish times of its requests not yet counted in `finished`, nondecreasing.
    finishes: VecDeque<Nanos>,
}

impl Replica<'_> {
    /// When this replica next has something to do.
    fn next_time(&self) -> Nanos {
        let inbox = self.inbox.peek().map_or(NEVER, |Reverse(p)| p.t);
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

    /// Requests routed here and not finished by time `t` (routing times never decrease, so the
    /// finishes counted once stay counted).
    fn outstanding_at(&mut self, t: Nanos) -> u64 {
        while self.finishes.front().is_some_and(|&f| f <= t) {
            self.finishes.pop_front();
            self.finished += 1;
        }
        self.routed - self.finished
    }
}

/// Semaphore slots of gated clients: those free from the start, then the times at which busy
/// ones were freed (in order). Counting the initial ones keeps `--max-concurrency 4294967295`
/// from needing a table of that size.
#[derive(Debug, Default)]
struct Slots {
    initially_free: u64,
    freed_at: VecDeque<Nanos>,
}

impl Slots {
    fn front(&self) -> Option<Nanos> {
        if self.initially_free > 0 {
            Some(0)
        } else {
            self.freed_at.front().copied()
        }
    }

    /// When the `k`-th slot from the front is free (0 for one free from the start); `None` when
    /// it is not free yet (it waits for a finish still to come).
    fn nth(&self, k: u64) -> Option<Nanos> {
        if k < self.initially_free {
            Some(0)
        } else {
            usize::try_from(k - self.initially_free)
                .ok()
                .and_then(|i| self.freed_at.get(i).copied())
        }
    }

    fn pop(&mut self) {
        if self.initially_free > 0 {
            self.initially_free -= 1;
        } else {
            self.freed_at.pop_front();
        }
    }
}

/// Client-to-engine delays by request: drawn in request order when requests go out in that
/// order, from a table otherwise (closed loops, unsorted traces).
enum Delays {
    /// Drawn on demand; `drawn` holds the draws of requests `base..` not consumed yet.
    Stream {
        stream: FrontendStream,
        base: u32,
        drawn: VecDeque<Nanos>,
    },
    Table(Vec<Nanos>),
}

impl Delays {
    fn at(&mut self, id: u32) -> Nanos {
        match self {
            Delays::Table(v) => v.get(id as usize).copied().unwrap_or(0),
            Delays::Stream { stream, base, drawn } => {
                debug_assert!(id >= *base, "delays are drawn in request order");
                let k = id.saturating_sub(*base) as usize;
                while drawn.len() <= k {
                    drawn.push_back(stream.draw());
                }
                drawn[k]
            }
        }
    }

    /// The one delay every request takes, when they do not differ (no jitter, not a table).
    fn constant(&self) -> Option<Nanos> {
        match self {
            Delays::Stream { stream, .. } => stream.constant(),
            Delays::Table(_) => None,
        }
    }

    /// Requests below `id` will not be asked for again.
    fn forget_before(&mut self, id: u32) {
        if let Delays::Stream { base, drawn, .. } = self {
            while *base < id {
                drawn.pop_front();
                *base += 1;
            }
        }
    }
}

/// A lower bound on when the next gated request still to go out reaches the server (`NEVER` when
/// none can go out before `bound`), for a bulk run of decode steps, which must stop at it.
///
/// Gated requests go out in order, request `gate_next + k` no earlier than its send time and the
/// `k`-th free slot, and then take their own front-end delay: with delays that differ per request
/// a later one can arrive first, so every one that goes out before the best arrival so far is
/// looked at (those waiting for a slot no finish has freed yet go out after the bulk run, which
/// stops before the next finish).
fn next_gated_arrival(gate_times: &[Nanos], gate_next: usize, slots: &Slots, fe: &mut Delays, bound: Nanos) -> Nanos {
    let mut best = NEVER;
    let constant = fe.constant();
    for (k, &send) in gate_times.iter().enumerate().skip(gate_next) {
        let Some(slot) = slots.nth((k - gate_next) as u64) else {
            break;
        };
        let out = send.max(slot);
        if out >= best.min(bound) {
            break;
        }
        best = best.min(out.saturating_add(constant.unwrap_or_else(|| fe.at(k as u32))));
        if constant.is_some() {
            // Later ones go out no earlier and take as long.
            break;
        }
    }
    best
}

/// Simulates `models.len()` replicas behind `router`; request records carry their replica and
/// come back in workload order.
pub fn simulate_cluster(
    models: &[EngineModel<'_>],
    router: Router,
    seed: u64,
    requests: &[RequestSpec],
    clients: &Clients,
) -> SimOutput {
    let mut sink = CollectSink::default();
    let stats = simulate_cluster_into(models, router, seed, requests, clients, &mut sink);
    let mut records = sink.records;
    records.sort_unstable_by_key(|r| r.id);
    SimOutput {
        records,
        itl_ns: sink.itl_ns,
        stats,
    }
}

/// The record of the request in `slot` of replica `replica` as the client saw it.
fn record_of(st: &EngineState<'_>, slot: u32, replica: u32) -> RequestRecord {
    let r = &st.reqs[slot as usize];
    let client = |c: Nanos, engine: Nanos| if c != NEVER { c } else { engine };
    RequestRecord {
        id: r.id,
        user: r.user,
        replica,
        input_tokens: r.prompt,
        output_tokens: r.output,
        send_ns: r.send_ns,
        arrival_ns: r.arrival_ns,
        first_scheduled_ns: r.first_scheduled_ns,
        first_token_ns: client(r.client_first_token_ns, r.first_token_ns),
        first_chunk_ns: client(r.client_first_chunk_ns, r.first_chunk_ns),
        finish_ns: client(r.client_finish_ns, r.finish_ns),
        preemptions: r.preemptions,
        failed: r.failed,
    }
}

/// The record of a request refused before any engine (or never served), at time `t`.
fn rejected_record(spec: &RequestSpec, p: &Pending, t: Nanos, failed: bool) -> RequestRecord {
    RequestRecord {
        id: p.id,
        user: p.user,
        replica: 0,
        input_tokens: spec.input_tokens,
        output_tokens: 0,
        send_ns: p.send,
        arrival_ns: t,
        first_scheduled_ns: t,
        first_token_ns: t,
        first_chunk_ns: t,
        finish_ns: t,
        preemptions: 0,
        failed,
    }
}

/// Simulates `models.len()` replicas behind `router`, sending each request's record to `sink`
/// when it is done and the inter-token latencies as they happen; returns the engine counters.
///
/// Memory is bounded by the requests in flight (plus the workload itself): requests enter an
/// engine's slot table when routed and leave it when their record is sent, and open-loop
/// arrivals join the event queue only when the simulation reaches their send time.
pub fn simulate_cluster_into(
    models: &[EngineModel<'_>],
    router: Router,
    seed: u64,
    requests: &[RequestSpec],
    clients: &Clients,
    sink: &mut dyn RecordSink,
) -> EngineStats {
    let Some(first) = models.first() else {
        return EngineStats::default();
    };
    let mut sink = EndTracking { sink, end_ns: 0 };
    let n_reqs = requests.len().min(u32::MAX as usize);
    // Open-loop send times, when every request has one (else the missing ones are never sent).
    let open_times: &[Nanos] = match clients {
        Clients::Open { send_ns } => &send_ns[..send_ns.len().min(n_reqs)],
        _ => &[],
    };
    // Open-loop requests join the queue in send order; a trace not sorted by send time is
    // visited through a sorted index (ties keep workload order, as the heap would).
    let open_order: Option<Vec<u32>> = if open_times.windows(2).all(|w| w[0] <= w[1]) {
        None
    } else {
        let mut order: Vec<u32> = (0..open_times.len() as u32).collect();
        order.sort_by_key(|&i| (open_times[i as usize], i));
        Some(order)
    };
    let mut fe = if matches!(clients, Clients::Closed { .. }) || open_order.is_some() {
        Delays::Table(first.frontend_delays(n_reqs, seed))
    } else {
        Delays::Stream {
            stream: first.frontend_stream(seed),
            base: 0,
            drawn: VecDeque::new(),
        }
    };
    // The API server (one process in front of every replica) handles each request in turn.
    let api_intake = first.api_server_request_ns > 0 || first.api_server_token_ns > 0.0;
    // Several replicas: each one's steps may book items on the shared API server or finish
    // requests whose clients send the next, so a bulk run yields to the others' steps.
    let shared = models.len() > 1;
    let mut api = ApiBookings::default();
    let groups = prefix_groups(&requests[..n_reqs]);
    let mut reps: Vec<Replica<'_>> = models
        .iter()
        .map(|m| Replica {
            st: EngineState::new(m, n_reqs, groups),
            inbox: BinaryHeap::new(),
            stalled: false,
            routed: 0,
            finished: 0,
            finishes: VecDeque::new(),
        })
        .collect();
    let max_model_len = first.cfg.max_model_len;
    let mut heap: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    // Open-loop requests take their workload index as insertion number, as when all were queued
    // at the start; everything queued later numbers on from there.
    let mut seq = open_times.len() as u64;
    let mut open_next = 0usize;
    let mut next_of_user: Vec<u32> = Vec::new();
    let mut gate_next = 0usize;
    let gate_times: &[Nanos] = match clients {
        Clients::Gated { send_ns, .. } => &send_ns[..send_ns.len().min(n_reqs)],
        _ => &[],
    };
    let mut slots = Slots::default();
    let (rpu, think) = match clients {
        Clients::Open { .. } => (0, 0),
        Clients::Gated { max_in_flight, .. } => {
            slots.initially_free = u64::from((*max_in_flight).max(1)).min(gate_times.len() as u64);
            (0, 0)
        }
        Clients::Closed {
            users,
            requests_per_user,
            think_ns,
            ..
        } => {
            let rpu = *requests_per_user;
            if rpu > 0 {
                for u in 0..*users {
                    let i = u64::from(u) * u64::from(rpu);
                    if i >= n_reqs as u64 {
                        break;
                    }
                    let id = i as u32;
                    heap.push(Reverse(Pending {
                        t: fe.at(id),
                        seq,
                        id,
                        send: 0,
                        user: u,
                    }));
                    seq += 1;
                    next_of_user.push(1);
                }
            }
            (rpu, *think_ns)
        }
    };
    // Waves: requests of the current wave still out, and its latest end so far.
    let waves = matches!(clients, Clients::Closed { waves: true, .. });
    let mut wave_out: u64 = if waves { heap.len() as u64 } else { 0 };
    let mut wave_end: Nanos = 0;
    let open_id = |k: usize| -> u32 { open_order.as_ref().map_or(k as u32, |o| o[k]) };
    let mut rng = SimRng::new(seed ^ 0x005E_ED0F_C1A5);
    let mut rr_next = 0usize;
    // Requests done in the latest event: (user, when the client saw the end).
    let mut done: Vec<(u32, Nanos)> = Vec::new();
    let mut until_clock_check = super::DEADLINE_CHECK_EVERY;
    // The replica whose step just ran, to apply the identical steps that follow in bulk.
    let mut skip_after: Option<usize> = None;
    loop {
        until_clock_check -= 1;
        if until_clock_check == 0 {
            until_clock_check = super::DEADLINE_CHECK_EVERY;
            if super::deadline_passed() {
                break;
            }
        }
        // The next event: a gated release, an arrival at the router, or a replica step.
        let t_gate = match (gate_times.get(gate_next), slots.front()) {
            (Some(&t), Some(slot)) => t.max(slot),
            _ => NEVER,
        };
        let (r_min, t_rep) = reps
            .iter()
            .enumerate()
            .map(|(i, r)| (i, r.next_time()))
            .min_by_key(|&(i, t)| (t, i))
            .unwrap_or((0, NEVER));
        // Open-loop requests join the queue once sent no later than the earliest arrival queued:
        // any later one arrives after it (a request arrives no earlier than it is sent), so the
        // queue's head is the next arrival of the whole workload, as if all were queued at once.
        while open_next < open_times.len() {
            let id = open_id(open_next);
            let send = open_times[id as usize];
            let bound = heap.peek().map_or(NEVER, |Reverse(p)| p.t);
            if send > bound {
                break;
            }
            let delay = fe.at(id);
            fe.forget_before(id + 1);
            heap.push(Reverse(Pending {
                t: send.saturating_add(delay),
                seq: u64::from(id),
                id,
                send,
                user: 0,
            }));
            open_next += 1;
        }
        let t_arr = heap.peek().map_or(NEVER, |Reverse(p)| p.t);
        if t_gate == NEVER && t_arr == NEVER && t_rep == NEVER {
            break;
        }
        if t_gate <= t_arr && t_gate <= t_rep {
            // A gated request goes out.
            let id = gate_next as u32;
            gate_next += 1;
            slots.pop();
            let delay = fe.at(id);
            fe.forget_before(id + 1);
            heap.push(Reverse(Pending {
                t: t_gate.saturating_add(delay),
                seq,
                id,
                send: t_gate,
                user: 0,
            }));
            seq += 1;
            continue;
        }
        if t_arr <= t_rep {
            let Some(Reverse(p)) = heap.pop() else {
                continue;
            };
            let t = p.t;
            let spec = &requests[p.id as usize];
            // First pass through the API server: queue for it, then come back to be routed
            // (breadth first: the first stage, then back in the queue for the second).
            if api_intake && p.seq & ROUTE_TAG == 0 {
                let (work, tag) = if !first.api_server_breadth_first {
                    (first.intake_ns(spec.input_tokens), ROUTE_TAG)
                } else if p.seq & HANDOFF_TAG == 0 {
                    (first.api_server_request_ns, HANDOFF_TAG)
                } else {
                    (first.tokenize_ns(spec.input_tokens), ROUTE_TAG)
                };
                let done_at = api.book(t, work);
                heap.push(Reverse(Pending {
                    t: done_at,
                    seq: seq | tag,
                    ..p
                }));
                seq += 1;
                continue;
            }
            if rejected(spec, max_model_len) {
                sink.record(&rejected_record(spec, &p, t, true));
                done.push((p.user, t));
            } else {
                let r = match router {
                    Router::RoundRobin => {
                        let r = rr_next % reps.len();
                        rr_next += 1;
                        r
                    }
                    Router::Random => rng.range_inclusive(0, reps.len() as u64 - 1) as usize,
                    Router::LeastOutstanding => {
                        let mut best = (u64::MAX, 0usize);
                        for (i, rep) in reps.iter_mut().enumerate() {
                            let o = rep.outstanding_at(t);
                            if o < best.0 {
                                best = (o, i);
                            }
                        }
                        best.1
                    }
                };
                let rep = &mut reps[r];
                rep.routed += 1;
                rep.stalled = false;
                rep.inbox.push(Reverse(p));
            }
        } else {
            // Replica r_min takes its next step.
            let replica = r_min as u32;
            let rep = &mut reps[r_min];
            let st = &mut rep.st;
            st.now = st.now.max(t_rep);
            api.give_to(st);
            let cutoff = st.admission_cutoff();
            while let Some(&Reverse(p)) = rep.inbox.peek() {
                if p.t > cutoff {
                    break;
                }
                rep.inbox.pop();
                let slot = st.admit(&requests[p.id as usize], p.id);
                let req = &mut st.reqs[slot as usize];
                req.arrival_ns = p.t;
                req.send_ns = p.send;
                req.user = p.user;
                st.waiting.push_back(slot);
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
                // Runs of identical steps are applied once the clients have reacted to this
                // step's finishes (their next requests bound the run).
                if st.m.skip_ahead {
                    skip_after = Some(r_min);
                }
            }
            st.finished.clear();
            // An engine with nothing left to run hands over its last outputs at once.
            if !st.undelivered.is_empty() && st.running.is_empty() && st.waiting.is_empty() {
                let now = st.now;
                st.deliver(now);
            }
            api.take_from(st);
            for &(ns, count) in &st.itl {
                sink.itl(ns, count);
            }
            st.itl.clear();
            for k in 0..st.delivered_finishes.len() {
                let slot = st.delivered_finishes[k];
                let record = record_of(st, slot, replica);
                sink.record(&record);
                rep.finishes.push_back(record.finish_ns);
                done.push((record.user, record.finish_ns));
                st.release_slot(slot);
            }
            st.delivered_finishes.clear();
        }
        // Clients react to finished (or rejected) requests.
        let mut next = NextRequest {
            rpu,
            n_reqs,
            next_of_user: &mut next_of_user,
            heap: &mut heap,
            seq: &mut seq,
            fe: &mut fe,
        };
        for &(user, f) in &done {
            match clients {
                Clients::Gated { .. } => slots.freed_at.push_back(f),
                Clients::Closed { waves: true, .. } => {
                    // The wave's last answer sends every user's next request.
                    wave_out = wave_out.saturating_sub(1);
                    wave_end = wave_end.max(f);
                    if wave_out == 0 {
                        let send = wave_end.saturating_add(think);
                        for user in 0..next.next_of_user.len() as u32 {
                            wave_out += u64::from(next.send(user, send));
                        }
                    }
                }
                Clients::Closed { .. } => {
                    next.send(user, f.saturating_add(think));
                }
                Clients::Open { .. } => {}
            }
        }
        done.clear();
        // After a step, the identical steps that follow are applied in bulk, up to the next
        // arrival anywhere (a gated request arrives a front-end delay after it goes out), or its
        // own inbox.
        if let Some(r) = skip_after.take() {
            let t_arr = heap.peek().map_or(NEVER, |Reverse(p)| p.t);
            let next_global = t_arr.min(next_gated_arrival(gate_times, gate_next, &slots, &mut fe, t_arr));
            // Steps run in order of start, then replica: another replica's step may book its
            // items on the API server, or finish a request whose client sends the next, before
            // this run's later steps, so the run yields to the first other replica — and to any
            // arrival, which may be routed to another replica and start its steps.
            let turn_end = if shared {
                let others = reps
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| i != r)
                    .map(|(i, rep)| {
                        let t = rep.next_time();
                        if i > r {
                            t.saturating_add(1)
                        } else {
                            t
                        }
                    })
                    .min()
                    .unwrap_or(NEVER);
                others.min(next_global)
            } else {
                NEVER
            };
            let rep = &mut reps[r];
            let inbox = rep.inbox.peek().map_or(NEVER, |Reverse(p)| p.t);
            let st = &mut rep.st;
            st.skip_ahead(next_global.min(inbox), turn_end);
            api.take_from(st);
            for &(ns, count) in &st.itl {
                sink.itl(ns, count);
            }
            st.itl.clear();
        }
        // A step too long for the clock ends the run (the caller refuses its figures).
        if reps.iter().any(|r| r.st.stats.clock_overflow_step_s.is_some()) {
            break;
        }
    }
    // Requests still inside an engine or its inbox when nothing more can happen (never served).
    for (k, rep) in reps.iter().enumerate() {
        for slot in 0..rep.st.reqs.len() as u32 {
            if rep.st.reqs[slot as usize].id != super::request::FREE_SLOT {
                sink.record(&record_of(&rep.st, slot, k as u32));
            }
        }
        for Reverse(p) in rep.inbox.iter() {
            let spec = &requests[p.id as usize];
            let mut r = rejected_record(spec, p, NEVER, rejected(spec, max_model_len));
            r.replica = k as u32;
            sink.record(&r);
        }
    }
    let mut stats = EngineStats {
        time_monotonic: true,
        ..EngineStats::default()
    };
    for rep in &reps {
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
        stats.prefix_hit_tokens += s.prefix_hit_tokens;
        stats.clock_overflow_step_s = stats.clock_overflow_step_s.or(s.clock_overflow_step_s);
    }
    stats.end_ns = sink.end_ns;
    stats
}

/// Passes records on and keeps the latest finish among them (the run's end).
struct EndTracking<'s> {
    sink: &'s mut dyn RecordSink,
    end_ns: Nanos,
}

impl EndTracking<'_> {
    fn record(&mut self, r: &RequestRecord) {
        if r.finish_ns != NEVER {
            self.end_ns = self.end_ns.max(r.finish_ns);
        }
        self.sink.record(r);
    }

    fn itl(&mut self, ns: f64, count: u64) {
        self.sink.itl(ns, count);
    }
}
