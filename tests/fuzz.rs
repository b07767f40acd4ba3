//! Fuzz harness: generated inputs for every loader and for the command-line parsers.
//!
//! Each target feeds one loader structure-aware inputs (the real fixtures of `tests/data/import`,
//! `data/measured`, `data/profiles`, `data/hf-configs` mutated: numbers replaced by extreme values,
//! fields dropped or duplicated, arrays stretched, text truncated) and plain random bytes, and
//! asserts: no panic, no abort, and on an Ok result no non-finite or negative figure. Inputs that
//! load Ok and are small (≤ 200 requests) are simulated, and every figure of the prediction must
//! be finite and ≥ 0 as well (a request rate may be `inf`). An Err is a refusal and passes.
//!
//! The target runs its own `main` (`harness = false`) so that it can count: it prints each
//! target's inputs and the total generated, and fails if any target found a failure.
//!
//! ```text
//! cargo test --release --test fuzz                           # PROPTEST_CASES (default 64) per unit
//! PROPTEST_CASES=20000 cargo test --release --test fuzz      # a long run
//! cargo test --release --test fuzz -- import                 # targets whose name contains "import"
//! PROPTEST_RNG_SEED=7 cargo test --release --test fuzz       # other inputs than the default seed's
//! ```
//!
//! Each target runs `PROPTEST_CASES × its multiplier` cases (cheap loaders get more). Inputs are
//! deterministic for a given `PROPTEST_RNG_SEED` (default 0). A failure prints the shrunk plan of
//! edits and the error; the failing text is written under `$CARGO_TARGET_TMPDIR/fuzz-failures`.
//! `FUZZ_TRACE=1` writes every input to stderr before it runs (to find an input that aborts).

// The files under `tests/fuzz/` (an inline module of the crate root, so not test targets).
mod fuzz {
    pub mod check;
    pub mod cli;
    pub mod importers;
    pub mod loaders;
    pub mod mutate;
}

use std::cell::RefCell;
use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

/// One fuzz target: a loader (or parser) and how many cases it runs per `PROPTEST_CASES`.
pub struct Target {
    /// Name, matched by the command line's filters.
    pub name: &'static str,
    /// Cases per unit of `PROPTEST_CASES` (cheap loaders run more).
    pub multiplier: f64,
    /// Runs the target.
    pub run: fn(&Ctx) -> Result<(), String>,
}

/// What a running target knows: its case count, its seed, and its counters.
pub struct Ctx {
    /// The target's name.
    pub name: &'static str,
    /// Cases to generate.
    pub cases: u32,
    seed: u64,
    /// Inputs generated (every call of the property, shrinking included).
    pub inputs: AtomicU64,
    /// Inputs that loaded Ok and were simulated end to end.
    pub simulated: AtomicU64,
    /// Inputs that loaded Ok.
    pub loaded: AtomicU64,
}

thread_local! {
    /// The input the current case is checking (written out when it panics).
    static CURRENT: RefCell<String> = const { RefCell::new(String::new()) };
    /// Where the last panic on this thread happened.
    static LAST_PANIC: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Remembers the text the current case checks: written to the failures folder if it panics.
pub fn note_input(text: &str) {
    if std::env::var_os("FUZZ_TRACE").is_some() {
        eprintln!("FUZZ_TRACE input ({} bytes):\n{text}\n", text.len());
    }
    CURRENT.with(|c| {
        let mut c = c.borrow_mut();
        c.clear();
        c.push_str(text);
    });
}

fn failures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures")
}

/// A scratch folder for this thread's files (traces, workloads, importer fixtures).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("fuzz-scratch")
        .join(format!("{name}-{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    let _ = std::fs::create_dir_all(&dir);
    dir
}

impl Ctx {
    /// Runs `property` on `cases` inputs of `strategy`; a panic or an Err is a failure, shrunk.
    pub fn run<S>(&self, strategy: S, property: impl Fn(&S::Value) -> Result<(), String>) -> Result<(), String>
    where
        S: Strategy,
        S::Value: Debug,
    {
        let config = Config {
            cases: self.cases,
            failure_persistence: None,
            max_shrink_time: 60_000,
            max_shrink_iters: 2_000,
            ..Config::default()
        };
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&self.seed.to_le_bytes());
        let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        let result = runner.run(&strategy, |value| {
            self.inputs.fetch_add(1, Ordering::Relaxed);
            LAST_PANIC.with(|p| p.borrow_mut().clear());
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| property(&value))) {
                Ok(Ok(())) => Ok(()),
                Ok(Err(message)) => {
                    save_failure(self.name);
                    Err(TestCaseError::fail(message))
                }
                Err(payload) => {
                    save_failure(self.name);
                    let text = payload
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    let at = LAST_PANIC.with(|p| p.borrow().clone());
                    Err(TestCaseError::fail(format!("PANIC {at}: {text}")))
                }
            }
        });
        match result {
            Ok(()) => Ok(()),
            Err(TestError::Fail(reason, value)) => {
                let plan = format!("{value:?}");
                let plan: String = plan.chars().take(4000).collect();
                Err(format!(
                    "{reason}\n  shrunk input plan: {plan}\n  failing text: {}",
                    failures_dir().join(format!("{}.txt", self.name)).display()
                ))
            }
            Err(TestError::Abort(reason)) => Err(format!("aborted: {reason}")),
        }
    }

    /// Counts an input that loaded Ok.
    pub fn loaded(&self) {
        self.loaded.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an input that was simulated end to end.
    pub fn simulated(&self) {
        self.simulated.fetch_add(1, Ordering::Relaxed);
    }
}

fn save_failure(name: &str) {
    let _ = std::fs::create_dir_all(failures_dir());
    CURRENT.with(|c| {
        let _ = std::fs::write(failures_dir().join(format!("{name}.txt")), c.borrow().as_bytes());
    });
}

fn targets() -> Vec<Target> {
    let mut all = Vec::new();
    all.extend(fuzz::loaders::targets());
    all.extend(fuzz::importers::targets());
    all.extend(fuzz::cli::targets());
    all
}

/// Command-line options as libtest takes them (those that make sense here).
struct Options {
    filters: Vec<String>,
    exact: bool,
    list: bool,
    threads: usize,
    ignored_only: bool,
}

fn options() -> Options {
    let mut o = Options {
        filters: Vec::new(),
        exact: false,
        list: false,
        threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        ignored_only: false,
    };
    if let Some(n) = std::env::var("RUST_TEST_THREADS").ok().and_then(|v| v.parse().ok()) {
        o.threads = n;
    }
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--list" => o.list = true,
            "--exact" => o.exact = true,
            "--ignored" => o.ignored_only = true,
            "--test-threads" => {
                if let Some(n) = args.next().and_then(|v| v.parse().ok()) {
                    o.threads = n;
                }
            }
            "--skip" | "--format" | "--color" | "-Z" | "--logfile" | "--report-time" => {
                args.next();
            }
            s if s.starts_with("--test-threads=") => {
                if let Ok(n) = s["--test-threads=".len()..].parse() {
                    o.threads = n;
                }
            }
            s if s.starts_with('-') => {}
            s => o.filters.push(s.to_string()),
        }
    }
    o.threads = o.threads.max(1);
    o
}

fn main() {
    let o = options();
    let base: f64 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64.0);
    let seed: u64 = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let selected: Vec<Target> = targets()
        .into_iter()
        .filter(|t| {
            o.filters.is_empty()
                || o.filters.iter().any(|f| {
                    if o.exact {
                        t.name == f
                    } else {
                        t.name.contains(f.as_str())
                    }
                })
        })
        .collect();
    if o.list {
        for t in &selected {
            println!("{}: test", t.name);
        }
        return;
    }
    if o.ignored_only {
        println!("fuzz: no ignored targets");
        return;
    }
    // Panics are caught and reported per case; the hook only remembers where they happened.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("at {}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        LAST_PANIC.with(|p| *p.borrow_mut() = at);
    }));
    let started = Instant::now();
    println!(
        "fuzz: {} targets, PROPTEST_CASES={base}, seed {seed}, {} threads",
        selected.len(),
        o.threads
    );
    let contexts: Vec<(Target, Ctx)> = selected
        .into_iter()
        .map(|t| {
            let cases = (base * t.multiplier).ceil().clamp(1.0, f64::from(u32::MAX)) as u32;
            let ctx = Ctx {
                name: t.name,
                cases,
                // Each target's inputs depend on its name and the seed, not on which run it.
                seed: t.name.bytes().fold(0xCBF2_9CE4_8422_2325u64 ^ seed, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3)
                }),
                inputs: AtomicU64::new(0),
                simulated: AtomicU64::new(0),
                loaded: AtomicU64::new(0),
            };
            (t, ctx)
        })
        .collect();
    let next = AtomicU64::new(0);
    let failures: Mutex<Vec<String>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..o.threads.min(contexts.len().max(1)) {
            std::thread::Builder::new()
                // The command line's main thread has 8 MiB of stack; so do the fuzz threads.
                .stack_size(8 << 20)
                .spawn_scoped(scope, || loop {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                    let Some((t, ctx)) = contexts.get(i) else { break };
                    let t0 = Instant::now();
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (t.run)(ctx)))
                        .unwrap_or_else(|_| {
                            Err(format!(
                                "the harness panicked {}",
                                LAST_PANIC.with(|p| p.borrow().clone())
                            ))
                        });
                    let line = format!(
                        "fuzz {:<16} {:>9} inputs ({:>8} loaded Ok, {:>7} simulations) in {:>7.1} s",
                        t.name,
                        ctx.inputs.load(Ordering::Relaxed),
                        ctx.loaded.load(Ordering::Relaxed),
                        ctx.simulated.load(Ordering::Relaxed),
                        t0.elapsed().as_secs_f64()
                    );
                    match result {
                        Ok(()) => println!("{line} ... ok"),
                        Err(e) => {
                            println!("{line} ... FAILED\n{e}");
                            failures
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(format!("{}: {e}", t.name));
                        }
                    }
                })
                .expect("spawning a fuzz thread");
        }
    });
    let total: u64 = contexts.iter().map(|(_, c)| c.inputs.load(Ordering::Relaxed)).sum();
    let elapsed = started.elapsed();
    let failures = failures.into_inner().unwrap_or_else(|p| p.into_inner());
    println!(
        "fuzz: total inputs generated: {total} in {:.1} s ({:.0} inputs/s); {} failed target(s)",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.max(Duration::from_millis(1)).as_secs_f64(),
        failures.len()
    );
    if !failures.is_empty() {
        for f in &failures {
            eprintln!("FAILED {f}");
        }
        std::process::exit(101);
    }
}
