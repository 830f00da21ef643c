"""Collect many hosts at once: a thread pool, one connection and one batched script per host.

A host problem never raises: it becomes that host's ``CollectResult.error``/``error_kind`` and the other
hosts go on. ``on_result`` runs in the calling thread as each host finishes, so the caller can commit per
host (a crash loses at most the hosts in flight).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from secops.collect import ssh
from secops.collect.bundle import CollectResult, FactSpec
from secops.collect.errors import Dropped, HostError, Timeout
from secops.collect.local import Output, run_local
from secops.collect.script import FrameParser, build_script, new_nonce
from secops.collect.target import Target
from secops.i18n import _

MiB = 1 << 20
DEFAULT_CAP = 4 * MiB


def total_limit(output_cap: int) -> int:
    """Bytes one host may send in all: facts are cut to the cap as they stream in; a runaway host stops."""
    return max(8 * output_cap, 64 * MiB)


def _finish(result: CollectResult, parser: FrameParser, output: Output, deadline_s: float) -> None:
    result.facts = parser.facts
    if parser.done:
        return
    stuck = f" (while running fact {parser.partial})" if parser.partial else ""
    if output.timed_out:
        raise Timeout(f"timeout: host deadline of {deadline_s:g}s passed{stuck}")
    if output.overflow:
        raise HostError(f"output limit: the host sent more than the total output limit{stuck}")
    if parser.corrupt:
        raise HostError(f"garbled output: the collection markers are out of order{stuck}")
    if output.status is None:
        raise Dropped(f"dropped: connection closed before the collection finished{stuck}")
    detail = output.stderr.replace(b"\0", b"").decode("utf-8", errors="replace").strip()[-300:]
    raise HostError(f"collection script failed with exit status {output.status}{stuck}: "
                    f"{detail or 'no message'}")


def collect_one(
    target: Target, specs: Sequence[FactSpec], *, host_deadline: float = 60.0, output_cap: int = DEFAULT_CAP
) -> CollectResult:
    """Collect one host; every failure is folded into the result."""
    result = CollectResult(host=target.name, transport=target.transport, started=time.time())
    deadline = time.monotonic() + host_deadline
    nonce = new_nonce()
    script = build_script(specs, nonce, sudo=target.sudo, cap=output_cap)
    parser = FrameParser(nonce, output_cap)
    session: ssh.Session | None = None
    try:
        if target.transport == "local":
            output = run_local(script, deadline, parser.feed, total_limit(output_cap))
        else:
            session = ssh.connect(target, deadline)
            result.host_key_fingerprint = session.fingerprint
            output = ssh.run_ssh(session, script, deadline, parser.feed, total_limit(output_cap))
        _finish(result, parser, output, host_deadline)
    except HostError as exc:
        result.facts = parser.facts
        result.error, result.error_kind = exc.reason, exc.kind
        if exc.fingerprint and not result.host_key_fingerprint:
            result.host_key_fingerprint = exc.fingerprint
    except Exception as exc:  # a bug or an unexpected library error must still not stop the other hosts
        result.error, result.error_kind = f"{type(exc).__name__}: {exc}", "other"
    finally:
        if session is not None:
            session.close()
        result.finished = time.time()
    return result


def collect_hosts(
    targets: Iterable[Target],
    specs: Sequence[FactSpec],
    *,
    concurrency: int = 10,
    host_deadline: float = 60.0,
    output_cap: int = DEFAULT_CAP,
    on_result: Callable[[CollectResult], None] | None = None,
    progress: bool = False,
    keep: bool = True,
) -> list[CollectResult]:
    """Collect every target (``concurrency`` at a time); results come back in the targets' order.

    ``keep=False`` hands each result to ``on_result`` only and returns nothing, so a large fleet is never
    held in memory at once (a run stores each host as it finishes)."""
    todo = list(targets)
    if not todo:
        return []
    results: dict[int, CollectResult] = {}
    show = progress and sys.stdout.isatty()
    bar = _progress(len(todo)) if show else None
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(todo))), thread_name_prefix="collect")
    try:
        pending: dict[Future[CollectResult], int] = {
            pool.submit(collect_one, t, specs, host_deadline=host_deadline, output_cap=output_cap): i
            for i, t in enumerate(todo)
        }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                result = future.result()
                if keep:
                    results[index] = result
                if bar is not None:
                    bar[0].advance(bar[1])
                if on_result is not None:
                    on_result(result)
    except BaseException:
        # Ctrl-C or a failing callback: start no more hosts; those in flight end by their deadline
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown()
    finally:
        if bar is not None:
            bar[0].stop()
    return [results[i] for i in range(len(todo))] if keep else []


def _progress(total: int) -> tuple[Progress, TaskID]:  # pragma: no cover - needs a terminal
    bar = Progress(TextColumn(_("Collecting facts")), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=Console(stderr=True), transient=True)  # stdout stays clean for --format json
    task = bar.add_task("collect", total=total)
    bar.start()
    return bar, task
