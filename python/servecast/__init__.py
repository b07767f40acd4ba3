"""servecast from Python: predict how an LLM serving deployment (vLLM, nano-vllm) behaves.

Every function is a thin wrapper over one command of the ``servecast`` command line and returns
what that command prints with ``--format json``, decoded into dicts and lists::

    import servecast
    p = servecast.simulate(gpu="4090", util=0.5, seqs=50)
    for level in p["levels"]:
        print(level["concurrency"], level["output_throughput_tok_s"], level["ttft_ms"]["p95"])

Keyword names are the command line's with ``_`` for ``-`` (``num_requests=`` is
``--num-requests``); any further keyword is a vLLM engine flag by its vLLM name
(``max_model_len=4096``, ``enable_prefix_caching=True``, ``kv_cache_dtype="fp8"``,
``speculative_config={...}``), read exactly as in a pasted ``vllm serve`` command.

Errors raise :class:`ServecastError` (a ``ValueError``) with the message the command line
prints: an unknown GPU (with suggestions), a configuration vLLM would refuse (in vLLM's words).
What the command line writes to stderr goes to :mod:`warnings` (lines starting ``warning:``, as
:class:`ServecastWarning`) or to the ``servecast`` logger (notes, at INFO).

The simulations run with the GIL released, so threads can run several at once.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _native
from ._native import ServecastError

__all__ = [
    "ServecastError",
    "ServecastWarning",
    "simulate",
    "memory",
    "catalog",
    "serve_line",
    "plan",
    "sweep",
    "sweep_merge",
    "fit",
    "to_pandas",
    "Result",
    "Rows",
]

__version__ = "0.1.0"

_log = logging.getLogger("servecast")


class ServecastWarning(UserWarning):
    """A warning of servecast a planner must not miss: failed requests, an overloaded level."""


# servecast options (not vLLM flags) the deployment functions take through their keywords; the
# type stubs list them as keyword-only parameters.
_OWN_KEYWORDS = (
    "replicas",
    "router",
    "text_chars",
    "first_chunk_tokens",
    "requests_per_user",
    "max_concurrency",
    "random_range_ratio",
    "client",
    "client_draws",
    "warm_prefix_cache",
    "endpoint",
    "seed",
)


def _emit(notes: Sequence[str]) -> None:
    for note in notes:
        if note.startswith("warning:"):
            warnings.warn(note[len("warning:") :].strip(), ServecastWarning, stacklevel=3)
        else:
            _log.info("%s", note)


def _decode(text: str) -> Any:
    """One JSON document, or a list of them when the command printed several (a replayed file
    with several groups of runs prints one document per group)."""
    decoder = json.JSONDecoder()
    docs = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        doc, i = decoder.raw_decode(text, i)
        docs.append(doc)
    if len(docs) == 1:
        return docs[0]
    return docs


def _flag_words(flags: Dict[str, Any]) -> List[str]:
    """vLLM flags given as keywords, as the words of a ``vllm serve`` command line."""
    words: List[str] = []
    for key, value in flags.items():
        if value is None:
            continue
        name = "--" + key.replace("_", "-")
        if value is True:
            words.append(name)
        elif value is False:
            if name.startswith("--no-"):
                words.append("--" + name[len("--no-") :])
            else:
                words.append("--no-" + name[2:])
        elif isinstance(value, (dict, list, tuple)):
            words += [name, json.dumps(value)]
        else:
            words += [name, str(value)]
    return words


def _levels(value: Any, kind: type) -> Optional[List[Any]]:
    if value is None:
        return None
    if isinstance(value, (str, int, float)):
        value = [value]
    return [float(v) if kind is float else int(v) for v in value]


def _deployment(
    gpu: Optional[str],
    model: Optional[str],
    util: Optional[float],
    seqs: Optional[int],
    workload: Union[str, "os.PathLike[str]", None],
    profile: Union[str, "os.PathLike[str]", None],
    engine: Optional[str],
    concurrency: Union[int, Sequence[int], None],
    qps: Union[float, str, Sequence[Union[float, str]], None],
    num_requests: Optional[int],
    input_len: Union[int, str, None],
    output_len: Union[int, str, None],
    serve: Union[str, Sequence[str], None],
    extra: Dict[str, Any],
) -> Dict[str, Any]:
    """The options dict ``servecast._native`` reads."""
    if gpu is None:
        raise ServecastError("gpu is required: a catalog name, matched loosely (4090, a100-80g, h100-sxm; servecast.catalog())")
    own = {k: extra.pop(k) for k in _OWN_KEYWORDS if k in extra}
    flags = dict(extra)
    for alias, name, value in (
        ("util", "gpu_memory_utilization", util),
        ("seqs", "max_num_seqs", seqs),
        ("tp", "tensor_parallel_size", flags.pop("tp", None)),
    ):
        if value is None:
            continue
        if flags.get(name) is not None:
            raise ServecastError(f"{alias} and {name} are the same flag; give one")
        flags[name] = value
    if isinstance(serve, tuple):
        serve = list(serve)
    d: Dict[str, Any] = {
        "gpu": gpu,
        "model": model,
        "engine": engine,
        "flags": _flag_words(flags),
        "concurrency": _levels(concurrency, int),
        "qps": _levels(qps, float),
        "num_requests": num_requests,
        "input_len": None if input_len is None else str(input_len),
        "output_len": None if output_len is None else str(output_len),
        "workload": None if workload is None else os.fspath(workload),
        "profile": None if profile is None else os.fspath(profile),
        "serve": serve,
    }
    d.update(own)
    return {k: v for k, v in d.items() if v is not None}


def simulate(
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    workload: Union[str, "os.PathLike[str]", None] = None,
    profile: Union[str, "os.PathLike[str]", None] = None,
    engine: Optional[str] = None,
    concurrency: Union[int, Sequence[int], None] = None,
    qps: Union[float, str, Sequence[Union[float, str]], None] = None,
    num_requests: Optional[int] = None,
    input_len: Union[int, str, None] = None,
    output_len: Union[int, str, None] = None,
    serve: Union[str, Sequence[str], None] = None,
    replications: int = 1,
    per_request: Union[str, "os.PathLike[str]", None] = None,
    plot: Union[str, "os.PathLike[str]", None] = None,
    plot_memory: Union[str, "os.PathLike[str]", None] = None,
    plot_ttft: Union[str, "os.PathLike[str]", None] = None,
    **vllm_flags: Any,
) -> Any:
    """Simulates a deployment under its load levels: ``servecast simulate --format json``.

    ``per_request`` (.csv or .jsonl) receives every request's record as it finishes (bounded
    memory at any request count); ``plot`` (the load curve), ``plot_memory`` (the memory
    budget) and ``plot_ttft`` (the TTFT distribution) draw charts (.png or .svg)."""
    d = _deployment(
        gpu, model, util, seqs, workload, profile, engine, concurrency, qps, num_requests,
        input_len, output_len, serve, vllm_flags,
    )  # fmt: skip
    paths = [None if p is None else os.fspath(p) for p in (per_request, plot, plot_memory, plot_ttft)]
    text, notes = _native.simulate(d, replications, *paths)
    _emit(notes)
    return _Result.wrap(_decode(text))


def memory(
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    util: Optional[float] = None,
    seqs: Optional[int] = None,
    profile: Union[str, "os.PathLike[str]", None] = None,
    engine: Optional[str] = None,
    serve: Union[str, Sequence[str], None] = None,
    **vllm_flags: Any,
) -> Dict[str, Any]:
    """The memory budget vLLM would compute at start-up (``simulate(...)["memory"]``), without
    simulating load; raises ServecastError with vLLM's words when the engine would not start."""
    d = _deployment(
        gpu, model, util, seqs, None, profile, engine, None, None, None, None, None, serve, vllm_flags
    )
    text, notes = _native.memory(d)
    _emit(notes)
    return json.loads(text)


def catalog() -> Dict[str, List[Dict[str, Any]]]:
    """The built-in GPUs and models: ``{"gpus": [...], "models": [...]}``, each spec in full
    (``id``, ``name``, memory, bandwidth, shapes)."""
    text, _ = _native.catalog()
    return json.loads(text)


def serve_line(line: str) -> Dict[str, Any]:
    """Parses a pasted server command (``vllm serve MODEL --flag …`` or ``python -m
    vllm.entrypoints.openai.api_server …``): ``model``, ``flags``, ``data_parallel_size`` and the
    performance-neutral flags it ``ignored``. A flag servecast does not model is refused."""
    text, _ = _native.serve_line(line)
    return json.loads(text)


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
    workload: Union[str, "os.PathLike[str]", None] = None,
    profile: Union[str, "os.PathLike[str]", None] = None,
    engine: Optional[str] = None,
    input_len: Union[int, str, None] = None,
    output_len: Union[int, str, None] = None,
    serve: Union[str, Sequence[str], None] = None,
    **vllm_flags: Any,
) -> Any:
    """Capacity planning against an SLO: ``servecast plan --format json``."""
    d = _deployment(
        gpu, model, util, seqs, workload, profile, engine, None, None, None, input_len,
        output_len, serve, vllm_flags,
    )  # fmt: skip
    p: Dict[str, Any] = {"slo": slo, "load": load}
    for key, value in (
        ("target_qps", target_qps),
        ("gpus", None if gpus is None else list(gpus)),
        ("tp_options", None if tp_options is None else [int(v) for v in tp_options]),
        ("util_options", None if util_options is None else [float(v) for v in util_options]),
        ("seqs_options", None if seqs_options is None else [int(v) for v in seqs_options]),
        ("max_replicas", max_replicas),
        ("duration_s", duration_s),
    ):
        if value is not None:
            p[key] = value
    text, notes = _native.plan(d, p)
    _emit(notes)
    return _Result.wrap(_decode(text))


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
    output: Union[str, "os.PathLike[str]", None] = None,
    config_timeout_s: float = 600.0,
    workload: Union[str, "os.PathLike[str]", None] = None,
    profile: Union[str, "os.PathLike[str]", None] = None,
    engine: Optional[str] = None,
    concurrency: Union[int, Sequence[int], None] = None,
    qps: Union[float, str, Sequence[Union[float, str]], None] = None,
    num_requests: Optional[int] = None,
    input_len: Union[int, str, None] = None,
    output_len: Union[int, str, None] = None,
    serve: Union[str, Sequence[str], None] = None,
    shard: Union[str, Tuple[int, int], None] = None,
    **vllm_flags: Any,
) -> Any:
    """Many configurations simulated in parallel and ranked: ``servecast sweep --format json``.
    ``axes`` are the ``--axis`` values (``"seqs=8,16,32"``, ``"util=0.5..0.9:0.1"``).

    ``shard=(i, n)`` (or ``"i/n"``) runs only the configurations whose index is i modulo n and
    writes their rows to ``output`` (a ``.jsonl`` file, required) for :func:`sweep_merge`: one
    shard per task of a cluster engine (docs/cluster/ray_sweep.py)."""
    d = _deployment(
        gpu, model, util, seqs, workload, profile, engine, concurrency, qps, num_requests,
        input_len, output_len, serve, vllm_flags,
    )  # fmt: skip
    s: Dict[str, Any] = {
        "axes": [axes] if isinstance(axes, str) else list(axes),
        "sample_seed": sample_seed,
        "rank_by": rank_by,
        "top": top,
        "config_timeout_s": float(config_timeout_s),
    }
    if samples is not None:
        s["samples"] = samples
    if output is not None:
        s["output"] = os.fspath(output)
    if shard is not None:
        if isinstance(shard, str):
            s["shard"] = shard
        else:
            i, n = shard
            s["shard"] = f"{int(i)}/{int(n)}"
    text, notes = _native.sweep(d, s)
    _emit(notes)
    return _Result.wrap(_decode(text))


def sweep_merge(
    shards: Sequence[Union[str, "os.PathLike[str]"]],
    rank_by: str = "request_throughput_req_s",
    top: int = 20,
    output: Union[str, "os.PathLike[str]", None] = None,
) -> Any:
    """The shards of one sweep (their ``.jsonl`` files, each written by ``sweep(shard=...)`` or
    ``servecast sweep --shard I/N -o FILE``) combined into the document the unsharded
    ``sweep`` returns: ``servecast sweep-merge --format json``. Every shard must be there once;
    shards of another sweep (other deployment, axes or design) are refused."""
    if isinstance(shards, (str, os.PathLike)):
        shards = [shards]
    m: Dict[str, Any] = {"shards": [os.fspath(p) for p in shards], "rank_by": rank_by, "top": top}
    if output is not None:
        m["output"] = os.fspath(output)
    text, notes = _native.sweep_merge(m)
    _emit(notes)
    return _Result.wrap(_decode(text))


def fit(
    inputs: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    gpu: Optional[str] = None,
    model: Optional[str] = None,
    engine: Optional[str] = None,
    output: Union[str, "os.PathLike[str]", None] = None,
    hold_out: Sequence[int] = (),
    seed: int = 0,
    ttft_weight: Optional[float] = None,
    serve: Union[str, Sequence[str], None] = None,
    warm_prefix_cache: bool = False,
    endpoint: Optional[str] = None,
    **vllm_flags: Any,
) -> Any:
    """Fits a profile to measured reports or load-test result files: ``servecast fit --format
    json``. Returns ``params`` (each term's value and how far the data moved it from the
    learned prior: ``origin``), ``levels`` (every level measured vs predicted, ``in_fit``),
    ``warnings``, ``profile`` (the fitted profile) and ``reports``; ``.to_pandas()`` gives one
    row per level and figure. The profile is written to ``output`` (YAML) when given, for
    ``simulate(profile=output)``."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    if isinstance(serve, tuple):
        serve = list(serve)
    f: Dict[str, Any] = {
        "inputs": [os.fspath(i) for i in inputs],
        "flags": _flag_words(vllm_flags),
        "hold_out": [int(c) for c in hold_out],
        "seed": seed,
        "warm_prefix_cache": bool(warm_prefix_cache),
    }
    for key, value in (
        ("gpu", gpu),
        ("model", model),
        ("engine", engine),
        ("output", None if output is None else os.fspath(output)),
        ("ttft_weight", ttft_weight),
        ("serve", serve),
        ("endpoint", endpoint),
    ):
        if value is not None:
            f[key] = value
    text, notes = _native.fit(f)
    _emit(notes)
    return _Result.wrap(_decode(text))


def _pandas():
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("servecast's to_pandas needs pandas: pip install pandas") from e
    return pd


def to_pandas(result: Any) -> "pandas.DataFrame":  # noqa: F821
    """A result as a pandas DataFrame, nested figures flattened (``ttft_ms.p95``). Needs pandas.

    - ``simulate``'s document (or a list of them): one row per load level (with ``report`` when
      the scenario replays a measured report);
    - ``sweep`` / ``sweep_merge`` rows: one row per configuration and level, best first, with
      ``rank`` from 1;
    - ``fit``: one row per level and figure (``name``, ``measured``, ``predicted``,
      ``error_pct``, ``in_fit``);
    - ``plan`` with ``target_qps``: one row per candidate deployment, cheapest first; ``plan``
      against an SLO: the level at the most load within it (``at_max``) and 10% above it
      (``above``), indexed by those names.

    Results also have this as a method: ``servecast.simulate(...).to_pandas()``."""
    pd = _pandas()
    if isinstance(result, dict) and "params" in result and "levels" in result:
        rows = []
        for level in result["levels"]:
            c = level["comparison"]
            for f in c["figures"]:
                rows.append({"report": level["report"], "concurrency": c.get("concurrency"), "qps": c.get("qps"),
                             "in_fit": level["in_fit"], **f})  # fmt: skip
        return pd.DataFrame(rows)
    if isinstance(result, dict) and "levels" in result:
        result = [result]
    if isinstance(result, list) and all(isinstance(d, dict) and "levels" in d for d in result) and result:
        frames = []
        for doc in result:
            frame = pd.json_normalize(doc["levels"])
            measured = doc.get("measured")
            if measured is not None:
                frame.insert(0, "report", measured.get("report"))
            frames.append(frame)
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if isinstance(result, list):
        frame = pd.json_normalize(result)
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return frame
    if isinstance(result, dict) and "candidates" in result:
        return pd.json_normalize(result["candidates"])
    if isinstance(result, dict) and "answer" in result:
        answer = result["answer"]
        rows = {k: answer[k] for k in ("at_max", "above") if answer.get(k) is not None}
        frame = pd.json_normalize(list(rows.values()))
        frame.index = list(rows)
        return frame
    raise TypeError("to_pandas takes what simulate, sweep, sweep_merge or plan returned")


class _Result:
    """Mixin: the decoded JSON document, with ``to_pandas()``."""

    @staticmethod
    def wrap(doc: Any) -> Any:
        if isinstance(doc, dict):
            return Result(doc)
        if isinstance(doc, list):
            return Rows(doc)
        return doc  # pragma: no cover - every command prints an object or a list

    def to_pandas(self) -> "pandas.DataFrame":  # noqa: F821
        """This result as a pandas DataFrame (see :func:`servecast.to_pandas`). Needs pandas."""
        return to_pandas(self)


class Result(_Result, dict):
    """A JSON object a command printed (``simulate``, ``plan``, ``fit``), as a dict, with
    ``to_pandas()``."""


class Rows(_Result, list):
    """A JSON list a command printed (``sweep``'s ranked rows; ``simulate`` of a replayed file
    with several groups of runs), as a list, with ``to_pandas()``."""
