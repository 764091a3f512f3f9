"""A flow's parameters made from the config's fields: the pipeline's settings are declared once, in
training.config.PipelineConfig, and the pipeline flow's signature is made from them (each field's type with its
constraints, its default and its description), so Prefect's parameter schema of every deployment is too; the
command line makes its options from the same fields (flows/cli_options.py). tests/flows/test_parameters.py holds
the three against each other, field by field.

    @flow(name="training-pipeline")
    @takes_config(after={"resume": (str | None, None, "...")})
    def training_pipeline(config: PipelineConfig, resume: str | None = None): ...

`prefect deployment run training-pipeline/manual --param profile=quick` then sets one field, as a flag does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Annotated, Any

from pydantic import BaseModel, Field
from pydantic.fields import FieldInfo

from training.config import PipelineConfig

Extra = dict[str, tuple[Any, Any, str]]  # name -> (annotation, default, description)


def field_annotation(field: FieldInfo, optional: bool = False) -> Any:
    """The field's type with its constraints (gt, pattern, ...) and description, as pydantic declared it."""
    annotation = field.annotation | None if optional else field.annotation
    metadata = [*field.metadata, *([Field(description=field.description)] if field.description else [])]
    return Annotated[(annotation, *metadata)] if metadata else annotation


def config_parameters(model: type[BaseModel] = PipelineConfig, names: Iterable[str] | None = None,
                      overrides: bool = False) -> list[inspect.Parameter]:
    """One keyword parameter per field (all of them, or `names`): the field's default, or with `overrides` None
    (the field is optional then, and None means "as recorded")."""
    fields = model.model_fields
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY,
                              default=None if overrides else fields[name].get_default(call_default_factory=True),
                              annotation=field_annotation(fields[name], optional=overrides))
            for name in (fields if names is None else names)]


def extra_parameters(extra: Extra | None) -> list[inspect.Parameter]:
    return [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                              annotation=Annotated[annotation, Field(description=text)])
            for name, (annotation, default, text) in (extra or {}).items()]


def documented(doc: str | None, parameters: list[inspect.Parameter]) -> str:
    """The function's docstring with an Args section from the descriptions: Prefect shows it per parameter."""
    lines = [(doc or "").rstrip(), "", "Args:"]
    for parameter in parameters:
        text = next((m.description for m in getattr(parameter.annotation, "__metadata__", ())
                     if isinstance(m, FieldInfo) and m.description), "")
        lines.append(f"    {parameter.name}: {' '.join(text.split())}")
    return "\n".join(lines)


def takes_config(fn: Callable | None = None, *, model: type[BaseModel] = PipelineConfig, before: Extra | None = None,
                 after: Extra | None = None) -> Callable:
    """Make `fn(config, **extra)` a function of the config's fields as keyword parameters (after `before`, before
    `after`): it builds the config from them, so pydantic's validators run, and calls `fn`."""
    if fn is None:
        return functools.partial(takes_config, model=model, before=before, after=after)
    own = {**(before or {}), **(after or {})}
    parameters = [*extra_parameters(before), *config_parameters(model), *extra_parameters(after)]

    @functools.wraps(fn)
    def with_config_fields(**arguments):
        extra = {name: arguments.pop(name) for name in own if name in arguments}
        return fn(model(**arguments), **extra)

    del with_config_fields.__wrapped__  # the signature is the fields', not fn's
    with_config_fields.__signature__ = inspect.Signature(parameters, return_annotation=inspect.signature(fn)
                                                         .return_annotation)
    with_config_fields.__doc__ = documented(fn.__doc__, parameters)
    return with_config_fields


def config_fields(names: Iterable[str] = (), overrides: Iterable[str] = (),
                  model: type[BaseModel] = PipelineConfig) -> Callable:
    """Give `fn`'s keyword parameters of these names the config fields' types, descriptions and defaults: `names`
    with the field's default, `overrides` optional with None ("as recorded"). For a flow that takes a few
    settings of a recorded run, not a whole config (the promotion). Its other parameters stay as written."""
    names, overrides = tuple(names), tuple(overrides)

    def decorate(fn: Callable) -> Callable:
        own = inspect.signature(fn)
        missing = [n for n in (*names, *overrides) if n not in own.parameters]
        if missing:  # loud at import, not a parameter silently missing from a deployment
            raise TypeError(f"{fn.__name__} has no parameter {missing}")
        made = {p.name: p for p in (*config_parameters(model, names), *config_parameters(model, overrides, True))}
        # Each parameter keeps its place and kind in fn's signature (callers may pass them by position).
        parameters = [made[p.name].replace(kind=p.kind) if p.name in made else p for p in own.parameters.values()]
        fn.__signature__ = own.replace(parameters=parameters)
        fn.__doc__ = documented(fn.__doc__, [p for p in parameters if p.name in made])
        return fn

    return decorate
