"""Where the images of a batch fix are worked on: in this process (``local``) or on Ray actors
(``ray``), one worker (one pipeline) per actor.

Host-neutral: a *factory* (picklable, e.g. :class:`lib_qfix.diffusers_host.job.FixJob`) builds a
worker once per process or actor (``factory.build()``, loading the model), and the worker turns a
:class:`~lib_qfix.fixrun.records.FixTask` into a :class:`~lib_qfix.fixrun.records.FixRecord`,
catching everything about one image itself. Both engines call the very same worker on each task, so
they make the same decisions. Each record is handed to ``on_record`` as soon as it is done (the
caller logs it for resuming and advances the progress bar); ``should_stop()`` is asked after each.

Ray: the cluster is started (or joined, ``address``) the way ``qfix filter --engine ray`` does it
(:func:`lib_qfix.filter.engine_ray._init_ray`: loopback, no dashboard, QFix on the workers' path);
each actor asks for ``num_gpus`` (1 when this machine has CUDA) and one CPU. An actor whose model
does not load stops the run with that one error. The images must be readable, and ``--out``
writable, at the same paths on every node (a shared file system). Ray is imported only here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from lib_qfix.errors import error_text
from lib_qfix.filter.engine_ray import _init_ray  # the one way QFix starts or joins a Ray cluster
from lib_qfix.fixrun.records import FixRecord, FixTask, error_record

ENGINES = ("local", "ray")
Worker = Callable[[FixTask], FixRecord]


class WorkerFactory(Protocol):
    def build(self) -> Worker: ...


class EngineError(RuntimeError):
    """The run cannot go on (a worker could not be built); one line."""


def _never() -> bool:
    return False


def run_local(tasks: Sequence[FixTask], factory: WorkerFactory, on_record: Callable[[FixRecord], None],
              should_stop: Callable[[], bool] = _never, worker: Worker | None = None) -> bool:
    """Fix ``tasks`` one after the other with one worker (``worker``, else ``factory.build()``).
    Returns False when stopped early (``should_stop`` or Ctrl-C), True when every task is done."""
    if not tasks:
        return True
    work = worker or factory.build()
    try:
        for task in tasks:
            on_record(work(task))
            if should_stop():
                return False
    except KeyboardInterrupt:
        return False
    return True


class FixActor:
    """The Ray actor: builds its worker once; :meth:`ready` says why it could not ("" when it can)."""

    def __init__(self, factory: WorkerFactory):
        self.work: Worker | None = None
        self.why = ""
        try:
            self.work = factory.build()
        except Exception as e:  # reported once by the driver, not as a traceback per image
            self.why = error_text(e)

    def ready(self) -> str:
        return self.why

    def fix(self, task: FixTask) -> FixRecord:
        if self.work is None:
            return error_record(task, self.why)
        return self.work(task)


def gpus_per_actor() -> float:
    """1 when this machine has a CUDA GPU (one pipeline per GPU), else 0."""
    try:
        import torch

        return 1.0 if torch.cuda.is_available() else 0.0
    except Exception:  # no torch here: the actors find out themselves
        return 0.0


def run_ray(tasks: Sequence[FixTask], factory: WorkerFactory, on_record: Callable[[FixRecord], None],
            should_stop: Callable[[], bool] = _never, *, address: str | None = None, actors: int = 0,
            num_gpus: float | None = None) -> bool:
    """Like :func:`run_local` on ``actors`` Ray actors (0: one per GPU, else one per CPU of this
    machine, at most one per task); each actor works on one task at a time."""
    if not tasks:
        return True
    from ray.exceptions import RayActorError, RayTaskError

    gpus = gpus_per_actor() if num_gpus is None else float(num_gpus)
    n = actors or _default_actors(gpus)
    n = max(1, min(n, len(tasks)))
    ray = _init_ray(address, n)
    remote = ray.remote(num_cpus=1, num_gpus=gpus)(FixActor)
    pool = [remote.remote(factory) for _ in range(n)]
    try:
        why = [w for w in ray.get([a.ready.remote() for a in pool]) if w]
        if why:
            raise EngineError(why[0])
        return _drive(ray, pool, tasks, on_record, should_stop, RayActorError, RayTaskError)
    finally:
        for a in pool:
            ray.kill(a)


def _default_actors(gpus: float) -> int:
    if gpus > 0:
        try:
            import torch

            return max(1, torch.cuda.device_count())
        except Exception:
            return 1
    return os.cpu_count() or 2


def _drive(ray: Any, pool: list[Any], tasks: Sequence[FixTask], on_record: Callable[[FixRecord], None],
           should_stop: Callable[[], bool], actor_error: type[BaseException],
           task_error: type[BaseException]) -> bool:
    """Keep every actor busy with one task; hand back records as they finish. An actor that dies
    (out of memory, a crash) fails its image and leaves the pool; with none left the run stops."""
    idle, pending = list(pool), {}
    it = iter(tasks)
    try:
        while True:
            while idle:
                task = next(it, None)
                if task is None:
                    break
                actor = idle.pop()
                pending[actor.fix.remote(task)] = (task, actor)
            if not pending:
                return True
            done, _ = ray.wait(list(pending), num_returns=1)
            task, actor = pending.pop(done[0])
            try:
                record = ray.get(done[0])
                idle.append(actor)
            except actor_error as e:
                record = error_record(task, f"worker died: {error_text(e).splitlines()[0]}")
                if not idle and not pending:
                    on_record(record)
                    raise EngineError(f"every Ray worker died; the last one on {task.path}") from None
            except task_error as e:
                record = error_record(task, f"worker failed: {error_text(e).splitlines()[0]}")
                idle.append(actor)
            on_record(record)
            if should_stop():
                return False
    except KeyboardInterrupt:
        return False
