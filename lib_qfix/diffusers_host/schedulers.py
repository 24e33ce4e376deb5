"""A1111 sampler names -> diffusers schedulers, so a fix samples the way the image was made.

A1111 (1.9+) writes ``Sampler: DPM++ 2M, Schedule type: Karras``; older versions fold the schedule
into the name (``Sampler: DPM++ 2M Karras``). Both are read. The table is the usual correspondence
(k-diffusion sampler -> diffusers scheduler); samplers marked approximate have no exact diffusers
counterpart (A1111's "DPM++ SDE" is a single-step SDE solver; diffusers' needs torchsde). A sampler
that is not in the table keeps the pipeline's own scheduler, and :func:`scheduler_for` says so.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from lib_qfix.diffusers_host.libs import diffusers


@dataclass(frozen=True)
class SamplerEntry:
    """The diffusers scheduler class name and its keyword settings; ``approximate``: not the same
    algorithm, the nearest one."""

    cls: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    approximate: bool = False


_SDE = (("algorithm_type", "sde-dpmsolver++"),)
SAMPLERS: dict[str, SamplerEntry] = {
    "euler a": SamplerEntry("EulerAncestralDiscreteScheduler"),
    "euler": SamplerEntry("EulerDiscreteScheduler"),
    "lms": SamplerEntry("LMSDiscreteScheduler"),
    "heun": SamplerEntry("HeunDiscreteScheduler"),
    "dpm2": SamplerEntry("KDPM2DiscreteScheduler"),
    "dpm2 a": SamplerEntry("KDPM2AncestralDiscreteScheduler"),
    "dpm++ 2m": SamplerEntry("DPMSolverMultistepScheduler"),
    "dpm++ 2m sde": SamplerEntry("DPMSolverMultistepScheduler", _SDE),
    "dpm++ 3m sde": SamplerEntry("DPMSolverMultistepScheduler", _SDE + (("solver_order", 3),)),
    "dpm++ sde": SamplerEntry("DPMSolverMultistepScheduler", _SDE, approximate=True),
    "dpm++ 2s a": SamplerEntry("DPMSolverSinglestepScheduler", approximate=True),
    "ddim": SamplerEntry("DDIMScheduler"),
    "plms": SamplerEntry("PNDMScheduler"),
    "unipc": SamplerEntry("UniPCMultistepScheduler"),
    "lcm": SamplerEntry("LCMScheduler"),
}
#: A1111 schedule types -> the scheduler setting that gives them (others: the scheduler's default)
SCHEDULES: dict[str, tuple[str, Any]] = {
    "karras": ("use_karras_sigmas", True),
    "exponential": ("use_exponential_sigmas", True),
    "beta": ("use_beta_sigmas", True),
    "sgm uniform": ("timestep_spacing", "trailing"),
}


def split_sampler(sampler: str, schedule: str = "") -> tuple[str, str]:
    """(sampler, schedule type), lower-case; a pre-1.9 name such as "DPM++ 2M Karras" is split."""
    name, sched = sampler.strip().lower(), schedule.strip().lower()
    for suffix in SCHEDULES:
        if name.endswith(" " + suffix) and name[: -len(suffix) - 1] in SAMPLERS:
            return name[: -len(suffix) - 1], sched or suffix
    return name, sched


def scheduler_for(base: Any, sampler: str, schedule: str = "") -> tuple[Any, str]:
    """(a scheduler for ``sampler``/``schedule`` built from ``base``'s configuration, a note or "").
    An empty or unknown sampler returns ``base`` itself (with a note when unknown)."""
    name, sched = split_sampler(sampler, schedule)
    if not name:
        return base, ""
    entry = SAMPLERS.get(name)
    if entry is None:
        return base, f"sampler {sampler!r} has no diffusers scheduler here; the model's own was used"
    cls = getattr(diffusers, entry.cls)
    kwargs = dict(entry.kwargs)
    accepted = inspect.signature(cls.__init__).parameters
    if sched in SCHEDULES and SCHEDULES[sched][0] in accepted:
        key, value = SCHEDULES[sched]
        kwargs[key] = value
    note = f"sampler {sampler!r} approximated by {entry.cls}" if entry.approximate else ""
    return cls.from_config(base.config, **kwargs), note
