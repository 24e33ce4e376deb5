"""The API's ``infotext`` request field (``Api.apply_infotext``) on Forge and on A1111 1.10.1, and the
gradio 4 values Forge's components hold: a faithful fake written from the hosts' sources.

Sources read: Forge ``f2.0.1v1.10.1-previous-669-gdfdcbab6`` (``modules/api/api.py``
``apply_infotext``/``init_script_args``, ``modules/api/models.py``, ``modules/processing.py``,
``modules/infotext_utils.py``, ``modules/ui.py``), A1111 v1.10.1 (same files), gradio 4.40.0
(``components/{checkbox,slider,dropdown,textbox}.py`` ``postprocess``, ``gr.update``).

What the hosts do with a request's ``infotext`` (both): parse it; for every paste field of the tab
(the host's own and every script's ``infotext_fields``) take ``field.function(params)`` or
``params[label]``; pick a target type; unwrap a ``gr.update`` dict only when its ``__type__`` is
``"generic_update"``; convert with ``target(value)`` unless already an instance. Fields with an
``api`` name set the request attribute (unless the caller sent it); fields whose component is a
script input fill that script arg. No ``on_infotext_pasted`` callback runs. The differences:

- target type: a field whose ``api`` names a request field takes that field's type. The request
  model wraps every processing attribute in ``Optional[...]``. A1111 (pydantic 1) reads
  ``ModelField.type_`` (the innermost type: ``str`` for ``Optional[list[str]]``); Forge (pydantic 2)
  strips ``Optional`` from ``FieldInfo.annotation`` and keeps ``list[str]``, a parameterized generic
  that ``isinstance`` refuses. Other fields: ``type(component.value)`` on both.
- ``gr.update()`` is ``{"__type__": "generic_update"}`` in gradio 3.41 and ``{"__type__": "update"}``
  in gradio 4.40, which apply_infotext does not unwrap.

Hence on Forge the host's own txt2img ``styles`` field (``api="styles"``, a function returning the
infotext's styles or ``gr.update()``, never None) raises ``TypeError: isinstance() argument 2 cannot
be a parameterized generic`` for every txt2img request with ``infotext`` that does not send
``styles`` itself: the HTTP 500, with or without QFix (img2img's styles field has no ``api``). On
both hosts, ``bool("False")`` is ``True``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Union, get_args, get_origin

from testkit.fake_a1111.host_infotext import parse_generation_parameters

FORGE = "forge"
A1111 = "a1111"
HOSTS = (FORGE, A1111)

#: ``gr.update()``'s marker: gradio 4.40 (Forge) and gradio 3.41 (A1111)
UPDATE_MARKER = {FORGE: "update", A1111: "generic_update"}


def gr_update(host: str, **kw: Any) -> dict[str, Any]:
    """What ``gr.update(**kw)`` returns on ``host``."""
    return {**kw, "__type__": UPDATE_MARKER[host]}


class PasteField(tuple):
    """``infotext_utils.PasteField``: ``(component, target)`` with ``api``, ``label`` (target if a
    str) and ``function`` (target if callable); a plain tuple from a script is wrapped in one."""

    def __new__(cls, component: Any, target: Any, *, api: str | None = None) -> PasteField:
        return super().__new__(cls, (component, target))

    def __init__(self, component: Any, target: Any, *, api: str | None = None) -> None:
        super().__init__()
        self.api, self.component = api, component
        self.label = target if isinstance(target, str) else None
        self.function = target if callable(target) else None


@dataclass
class Component:
    """A host component: only its ``value`` matters here."""

    value: Any


# --- the txt2img request model: (attribute, annotation as processing.py declares it, default)
_REQUEST: list[tuple[str, Any, Any]] = [
    ("prompt", str, ""), ("negative_prompt", str, ""), ("styles", list[str], None), ("seed", int, -1),
    ("subseed", int, -1), ("subseed_strength", float, 0), ("sampler_name", str, None),
    ("scheduler", str, None), ("batch_size", int, 1), ("n_iter", int, 1), ("steps", int, 50),
    ("cfg_scale", float, 7.0), ("width", int, 512), ("height", int, 512), ("denoising_strength", float, 0.75),
    ("override_settings", dict[str, Any], None), ("enable_hr", bool, False), ("hr_scale", float, 2.0),
    ("hr_upscaler", str, None), ("hr_checkpoint_name", str, None), ("hr_prompt", str, ""),
    ("hr_negative_prompt", str, ""),
    # models.py's additional fields
    ("script_args", list, []), ("alwayson_scripts", dict, {}), ("infotext", Optional[str], None),
]
_FORGE_ONLY = [("distilled_cfg_scale", float, 3.5), ("hr_additional_modules", list, None), ("hr_cfg", float, 1.0)]


def _request_fields(host: str) -> list[tuple[str, Any, Any]]:
    return _REQUEST + (_FORGE_ONLY if host == FORGE else [])


@dataclass
class FieldInfo:
    """pydantic 2's ``FieldInfo``: ``annotation`` as the model holds it."""

    annotation: Any
    default: Any


class ForgeRequest:
    """Forge's txt2img request (pydantic 2 model): ``model_fields``/``__fields__`` map each name to
    a :class:`FieldInfo` whose annotation is ``Optional[<processing.py annotation>]``."""

    def __init__(self, **given: Any) -> None:
        fields = {n: FieldInfo(a if get_origin(a) is Union else Optional[a], d) for n, a, d in _request_fields(FORGE)}
        object.__setattr__(self, "model_fields", fields)
        object.__setattr__(self, "_set", set(given))
        for n, f in fields.items():
            object.__setattr__(self, n, given.get(n, f.default))

    @property
    def __fields__(self) -> dict[str, FieldInfo]:
        return self.model_fields

    def dict(self, exclude_unset: bool = False) -> dict[str, Any]:
        return {n: getattr(self, n) for n in self.model_fields if not exclude_unset or n in self._set}


def a1111_request(**given: Any) -> Any:
    """A1111's txt2img request: a real pydantic 1 model built as its ``PydanticModelGenerator``
    builds it (needs pydantic 1, which the main venv pins for A1111)."""
    from pydantic import Field, create_model

    spec = {n: (a if get_origin(a) is Union else Optional[a], Field(default=d, alias=n))
            for n, a, d in _request_fields(A1111)}
    model = create_model("StableDiffusionProcessingTxt2Img", **spec)  # type: ignore[call-overload]
    model.__config__.allow_population_by_field_name = True
    model.__config__.allow_mutation = True
    return model(**given)


def request(host: str, **given: Any) -> Any:
    return ForgeRequest(**given) if host == FORGE else a1111_request(**given)


def _target_type(host: str, model_field: Any) -> Any:
    if host == A1111:
        return model_field.type_
    annotation = model_field.annotation  # Forge: Optional[X] -> X
    if get_origin(annotation) is Union:
        rest = [a for a in get_args(annotation) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return annotation


def host_paste_fields(host: str, tab: str = "txt2img") -> list[PasteField]:
    """The host's own paste fields of ``tab`` that matter here (``modules/ui.py`` and the
    seed/sampler processing scripts), with the host's ``gr.update``. On txt2img most carry an
    ``api`` name, ``styles`` included; on img2img only the processing scripts' do (its styles field
    is a plain tuple, so it never sets the request and never raises)."""

    def styles(d: dict[str, Any]) -> Any:
        return d["Styles array"] if isinstance(d.get("Styles array"), list) else gr_update(host)

    def enable_hr(d: dict[str, Any]) -> bool:
        return "Denoising strength" in d and ("Hires upscale" in d or "Hires upscaler" in d or "Hires resize-1" in d)

    c = Component
    if tab == "img2img":
        return [PasteField(c(""), "Prompt"), PasteField(c([]), styles), PasteField(c(0.75), "Denoising strength"),
                PasteField(c(20), "Steps", api="steps"), PasteField(c(-1), "Seed", api="seed")]
    fields = [
        PasteField(c(""), "Prompt", api="prompt"), PasteField(c(""), "Negative prompt", api="negative_prompt"),
        PasteField(c(7.0), "CFG scale", api="cfg_scale"), PasteField(c(512), "Size-1", api="width"),
        PasteField(c(512), "Size-2", api="height"), PasteField(c(1), "Batch size", api="batch_size"),
        PasteField(c([]), styles, api="styles"), PasteField(c(0.7), "Denoising strength", api="denoising_strength"),
        PasteField(c(False), enable_hr, api="enable_hr"), PasteField(c(2.0), "Hires upscale", api="hr_scale"),
        PasteField(c("Latent"), "Hires upscaler", api="hr_upscaler"),
        PasteField(c("Use same checkpoint"), "Hires checkpoint", api="hr_checkpoint_name"),
        PasteField(c(""), "Hires prompt", api="hr_prompt"),
        PasteField(c(""), "Hires negative prompt", api="hr_negative_prompt"),
        PasteField(c(20), "Steps", api="steps"), PasteField(c(-1), "Seed", api="seed"),
    ]
    if host == FORGE:
        fields += [PasteField(c(3.5), "Distilled CFG Scale", api="distilled_cfg_scale"),
                   PasteField(c(["Use same choices"]), "Hires VAE/TE", api="hr_additional_modules"),
                   PasteField(c(1.0), "Hires CFG Scale", api="hr_cfg")]
    return fields


def apply_infotext(host: str, req: Any, fields: list[Any], script_inputs: list[Any] | None = None,
                   mentioned: dict[int, Any] | None = None) -> dict[str, Any]:
    """``Api.apply_infotext``: sets request attributes from ``req.infotext`` and fills ``mentioned``
    (script arg index -> value) for fields whose component is in ``script_inputs`` (the runner's
    ``inputs``: position 0 is None, then every script's components in args order). Raises what the
    host raises (the HTTP 500)."""
    if not req.infotext:
        return {}
    fields = [f if isinstance(f, PasteField) else PasteField(*f) for f in fields]  # add_paste_fields
    already = req.dict(exclude_unset=True)
    params = parse_generation_parameters(req.infotext, forge=host == FORGE)

    def value_of(field: PasteField) -> Any:
        value = field.function(params) if field.function else params.get(field.label)
        if value is None:
            return None
        if field.api in req.__fields__:
            target = _target_type(host, req.__fields__[field.api])
        else:
            target = type(field.component.value)
        if target is type(None):
            return None
        if isinstance(value, dict) and value.get("__type__") == "generic_update":
            value = value.get("value")
        if value is not None and not isinstance(value, target):
            value = target(value)
        return value

    for field in fields:
        if field.api and field.api not in already:
            value = value_of(field)
            if value is not None:
                setattr(req, field.api, value)
    if req.override_settings is None:
        req.override_settings = {}
    if script_inputs is not None and mentioned is not None:
        index = {id(c): i for i, c in enumerate(script_inputs) if c is not None}
        for field in fields:
            if id(field.component) in index:
                value = value_of(field)
                if value is not None:
                    mentioned[index[id(field.component)]] = value
    return params


def script_args(host: str, script: Any, components: list[Any], defaults: list[Any], body: dict[str, Any],
                extra_fields: list[Any] | None = None, tab: str = "txt2img") -> tuple[Any, list[Any]]:
    """``text2imgapi`` (``img2imgapi`` with ``tab="img2img"``) up to the script args, for a runner
    holding only ``script`` (args from 1):
    apply_infotext over the host's fields, ``extra_fields`` and the script's ``infotext_fields``, then
    ``init_script_args`` (defaults, infotext values by index, then ``alwayson_scripts`` args by
    position). ``components``: the script's ``ui()`` components; ``defaults``: ``[0] + their values``.
    Returns (request, script args)."""
    req = request(host, **body)
    mentioned: dict[int, Any] = {}
    fields = host_paste_fields(host, tab) + list(extra_fields or []) + list(script.infotext_fields)
    apply_infotext(host, req, fields, [None, *components], mentioned)
    args = list(defaults)
    for i, v in mentioned.items():
        args[i] = v
    for title, spec in (req.alwayson_scripts or {}).items():
        if title.lower() == script.title().lower():
            given = spec.get("args", [])
            for i in range(min(len(components), len(given))):
                args[1 + i] = given[i]
    return req, args


# --- gradio 4.40 component values (``Component.__init__``: ``self.value = self.postprocess(value)``)
def gradio4_value(kind: str, value: Any, *, minimum: float | None = None, multiselect: bool = False) -> Any:
    """The ``.value`` gradio 4.40 gives a component of ``kind`` (``checkbox``, ``slider``,
    ``dropdown``, ``textbox``) constructed with ``value``."""
    if kind == "checkbox":
        return bool(value)
    if kind == "slider":
        return minimum if value is None else value
    if kind == "dropdown":
        if value is None:
            return None
        return ([value] if not isinstance(value, list) else value) if multiselect else value
    if kind == "textbox":
        return None if value is None else str(value)
    raise ValueError(f"kind {kind!r}: allowed: checkbox, slider, dropdown, textbox")


class Gradio4(Component):
    """A gradio 3.41 component as gradio 4.40 would hold it: ``value`` by gradio 4's rules."""

    def __init__(self, component: Any):
        kind = type(component).__name__.lower()
        super().__init__(gradio4_value(kind, component.value, minimum=getattr(component, "minimum", None),
                                       multiselect=bool(getattr(component, "multiselect", False))))
        self.wrapped = component


def as_gradio4(infotext_fields: list[tuple[Any, Any]]) -> tuple[list[Any], list[tuple[Any, Any]]]:
    """A script's ``infotext_fields`` with each component as gradio 4 holds it; returns (the new
    components in order, the new fields)."""
    comps = [Gradio4(c) for c, _ in infotext_fields]
    return comps, [(c, key) for c, (_, key) in zip(comps, infotext_fields, strict=True)]
