"""Type stubs of servecast: thin wrappers over the ``servecast`` command line's commands.

Each returns what the command prints with ``--format json``, decoded (dicts and lists). Keyword
names are the command line's with ``_`` for ``-``; further keywords are vLLM engine flags by
their vLLM names (``max_model_len=4096``, ``enable_prefix_caching=True``), read as a pasted
``vllm serve`` command's.
"""

import os
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import pandas

_Path = Union[str, "os.PathLike[str]"]
_Levels = Union[int, Sequence[int]]
_Rates = Union[float, str, Sequence[Union[float, str]]]
_Length = Union[int, str]
_Serve = Union[str, Sequence[str]]

__version__: str

class ServecastError(ValueError):
    """An error of servecast, with the message the command line prints: an unknown GPU or model
    (with suggestions), a configuration vLLM would refuse (in vLLM's words), an option out of
    range, a file that cannot be read."""

class ServecastWarning(UserWarning):
    """Something a planner must not miss: failed requests, an overloaded open-loop level."""

def simulate(
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    workload: Optional[_Path] = None,
    profile: Optional[_Path] = None,
    engine: Optional[str] = None,
    concurrency: Optional[_Levels] = None,
    qps: Optional[_Rates] = None,
    num_requests: Optional[int] = None,
    input_len: Optional[_Length] = None,
    output_len: Optional[_Length] = None,
    serve: Optional[_Serve] = None,
    replications: int = 1,
    per_request: Optional[_Path] = None,
    plot: Optional[_Path] = None,
    plot_memory: Optional[_Path] = None,
    plot_ttft: Optional[_Path] = None,
    *,
    replicas: int = ...,
    router: str = ...,
    text_chars: Optional[int] = ...,
    first_chunk_tokens: int = ...,
    requests_per_user: Optional[int] = ...,
    max_concurrency: Optional[int] = ...,
    random_range_ratio: Optional[float] = ...,
    client: Optional[str] = ...,
    client_draws: Optional[Dict[str, Any]] = ...,
    warm_prefix_cache: bool = ...,
    endpoint: Optional[str] = ...,
    seed: int = ...,
    tp: Optional[int] = ...,
    **vllm_flags: Any,
) -> Union[Result, Rows]:
    """Simulates a deployment under its load levels: ``servecast simulate --format json``.

    gpu: catalog name, matched loosely (``"4090"``, ``"RTX 4090"``, ``"a100-80g"``).
    model: catalog id or path to a Hugging Face config.json; default: the GPU's built-in
        measured report's model (its flags and workload fill what is not given).
    util, seqs: ``--gpu-memory-utilization``, ``--max-num-seqs``.
    workload: YAML workload, CSV / JSON Lines trace, or a load-test result file (replayed).
    client_draws: ``{"numpy_seed": S, "normalized_span": bool}``: Poisson levels sent when vLLM's
        own client with ``--seed S`` sends them (``--client-seed``, ``--client-normalized-span``).
    random_range_ratio: vLLM bench's ``--random-range-ratio``: each prompt and output length drawn
        around ``input_len`` / ``output_len`` (whole numbers; default 1024 and 128) as the
        ``engine`` release's client draws them.
    client: a pasted load-test command (``vllm bench serve …``, ``benchmark_serving.py …``,
        ``python -m sglang.bench_serving …``, llmperf's ``token_benchmark_ray.py …``,
        ``genai-perf profile …``, ``aiperf profile …``, ``guidellm benchmark …``): its prompts and
        lengths, requests, rate or concurrency and endpoint, for what the other keywords leave
        unset (``--client``).
    warm_prefix_cache: the levels replay one sample of prompts to one long-lived server (a sweep
        with one client seed): with prefix caching on, each level from the second finds the level
        before's prompts in the cache, as far as it kept them.
    endpoint: ``"completions"`` (prompts as sent) or ``"chat"`` (each prompt one user message in
        the model's chat template, whose tokens the server prefills too, as ``vllm bench serve
        --backend openai-chat`` sends); default: the workload file's, else completions.
    profile: profile YAML, built-in profile id, or ``"roofline"``.
    engine: ``"vllm-0.10"``, ``"0.11.0"``, ``"nano-vllm"``, …
    concurrency: closed-loop users per level; qps: open-loop rates (``"inf"``: all at once),
        with ``num_requests`` per level.
    input_len, output_len: ``512``, ``"100..900"``, ``"lognormal:500,0.8"``, …
    serve: a pasted ``vllm serve MODEL --flag …`` command (a line or its words).
    replications: runs over seeds and the profile's covariance for 90% ``intervals``.
    per_request: every request's record to a .csv or .jsonl file, written as requests finish.
    plot, plot_memory, plot_ttft: the load curve, the memory budget, the TTFT distribution
        (.png or .svg).

    Returns a dict with ``scenario``, ``profile``, ``memory``, ``levels`` (one dict per level:
    ``ttft_ms``, ``tpot_ms``, ``itl_ms``, ``e2e_latency_ms`` with mean/min/max/p50/p90/p95/p99,
    throughputs, requests, failed, …), for a measured setup ``measured``, and for a prediction
    from the unfitted prior ``unmeasured_error_band`` (how far measurements fell from such
    predictions on the corpus: 5th–95th percentiles of the signed error per headline metric), and
    ``step_time`` (typical engine steps, decode of 1, 8 and the most sequences and a prefill chunk,
    each with its parts in seconds: ``dense_s``, ``experts_read_s``, ``attention_s``,
    ``allreduce_s``, ``host_s``, …, ``step_s``); a list of such dicts when a replayed file holds
    several groups of runs. Raises ServecastError.
    """

def memory(
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    profile: Optional[_Path] = None,
    engine: Optional[str] = None,
    serve: Optional[_Serve] = None,
    **vllm_flags: Any,
) -> Dict[str, Any]:
    """The memory budget vLLM would compute at start-up, equal to ``simulate(...)["memory"]``
    (``num_gpu_blocks``, ``kv_cache_bytes``, ``weights_bytes``, ``max_concurrency``, …) without
    simulating load. Raises ServecastError in vLLM's words when the engine would not start."""

def catalog() -> Dict[str, List[Dict[str, Any]]]:
    """The built-in catalog: ``{"gpus": [...], "models": [...]}``, each spec in full (``id``,
    ``name``, ``aliases``, memory, bandwidth, FLOPs, price; a model's shapes)."""

def serve_line(line: str) -> Dict[str, Any]:
    """Parses a pasted ``vllm serve MODEL --flag …`` (or ``python -m
    vllm.entrypoints.openai.api_server …``) line: ``model``, ``flags`` (the engine flags
    servecast models), ``data_parallel_size``, ``ignored`` (performance-neutral flags). Raises
    ServecastError for a flag servecast does not model or vLLM does not have."""

def plan(
    slo: str,
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    load: str = "qps",
    target_qps: Optional[float] = None,
    gpus: Optional[Sequence[str]] = None,
    tp_options: Optional[Sequence[int]] = None,
    util_options: Optional[Sequence[float]] = None,
    seqs_options: Optional[Sequence[int]] = None,
    max_replicas: Optional[int] = None,
    duration_s: Optional[float] = None,
    workload: Optional[_Path] = None,
    profile: Optional[_Path] = None,
    engine: Optional[str] = None,
    input_len: Optional[_Length] = None,
    output_len: Optional[_Length] = None,
    serve: Optional[_Serve] = None,
    **vllm_flags: Any,
) -> Result:
    """Capacity planning, ``servecast plan --format json``: the most load within ``slo``
    (``"ttft_p95_ms=500,tpot_p95_ms=50"``, ``"goodput_pct=95"``) and the knee, or with
    ``target_qps`` the cheapest deployments (over ``gpus``, ``tp_options``, …) for that rate."""

def sweep(
    axes: Union[str, Sequence[str]],
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    samples: Optional[int] = None,
    sample_seed: int = 0,
    rank_by: str = "request_throughput_req_s",
    top: int = 20,
    output: Optional[_Path] = None,
    config_timeout_s: float = 600.0,
    workload: Optional[_Path] = None,
    profile: Optional[_Path] = None,
    engine: Optional[str] = None,
    concurrency: Optional[_Levels] = None,
    qps: Optional[_Rates] = None,
    num_requests: Optional[int] = None,
    input_len: Optional[_Length] = None,
    output_len: Optional[_Length] = None,
    serve: Optional[_Serve] = None,
    shard: Union[str, Tuple[int, int], None] = None,
    **vllm_flags: Any,
) -> Rows:
    """Many configurations simulated in parallel and ranked, ``servecast sweep --format json``.
    ``axes``: ``--axis`` values, ``"seqs=8,16,32"``, ``"util=0.5..0.9:0.1"``, ``"gpu=4090,a10"``;
    ``samples``: random configurations instead of the grid; ``output``: every row to a .csv,
    .json or .jsonl file; ``shard=(i, n)``: only the configurations whose index is i modulo n,
    their rows written to ``output`` (.jsonl, required) for :func:`sweep_merge`."""

def sweep_merge(
    shards: Union[_Path, Sequence[_Path]],
    rank_by: str = "request_throughput_req_s",
    top: int = 20,
    output: Optional[_Path] = None,
) -> Rows:
    """The shards of one sweep (.jsonl files of ``sweep(shard=...)`` or ``servecast sweep
    --shard I/N -o FILE``) combined into the document the unsharded ``sweep`` returns
    (``servecast sweep-merge --format json``). Every shard once; other sweeps' shards refused."""

def fit(
    inputs: Union[_Path, Sequence[_Path]],
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    engine: Optional[str] = None,
    output: Optional[_Path] = None,
    hold_out: Sequence[int] = (),
    seed: int = 0,
    ttft_weight: Optional[float] = None,
    serve: Optional[_Serve] = None,
    warm_prefix_cache: bool = False,
    endpoint: Optional[str] = None,
    **vllm_flags: Any,
) -> Result:
    """Fits a profile to measured reports (YAML, built-in ids) or load-test result files
    (``vllm bench serve``, GuideLLM, AIPerf, llmperf, SGLang; they need ``gpu``), as ``servecast
    fit --format json``: ``params`` (value, std. error, ``origin``: prior → fitted and how many
    σ the data moved it), ``levels`` (measured vs predicted, ``in_fit``), ``warnings``,
    ``profile``, ``reports``; ``.to_pandas()``: one row per level and figure. With ``output``
    the fitted profile is written there (YAML), for ``simulate(profile=output)``.
    ``warm_prefix_cache``: the levels replayed one sample of prompts to one server with prefix
    caching on (the CLI's ``--warm-prefix-cache``); the notes say when the levels look so.
    ``endpoint``: ``"chat"`` when the files' client sent chat messages and the files do not say
    (``vllm bench serve`` results record their backend); the CLI's ``--endpoint``."""

class Result(Dict[str, Any]):
    """A JSON object a command printed (``simulate``, ``plan``, ``fit``), as a dict."""
    def to_pandas(self) -> pandas.DataFrame:
        """This result as a pandas DataFrame (see :func:`to_pandas`). Needs pandas."""

class Rows(List[Any]):
    """A JSON list a command printed (``sweep``'s ranked rows; ``simulate`` of a replayed file
    with several groups of runs), as a list."""
    def to_pandas(self) -> pandas.DataFrame:
        """This result as a pandas DataFrame (see :func:`to_pandas`). Needs pandas."""

def to_pandas(result: Any) -> pandas.DataFrame:
    """A result as a DataFrame, nested figures flattened (``ttft_ms.p95``). Needs pandas.
    ``simulate``: one row per level (a ``report`` column for measured setups); ``sweep`` /
    ``sweep_merge``: one row per configuration and level, best first, with ``rank``; ``plan``
    with ``target_qps``: one row per candidate, cheapest first; ``plan`` against an SLO: the
    ``at_max`` and ``above`` levels. Also a method of every result: ``.to_pandas()``."""
