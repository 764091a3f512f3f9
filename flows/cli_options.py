"""Command-line options made from a pydantic model's fields, so the CLI and the config cannot drift apart.

Each field becomes one option, `--max-parallel` for `max_parallel`, read as the field's annotation says:

- `Literal[...]` gives the choices; int, float and str give the type, also when constrained or optional
  (`PositiveInt | None`, `Fraction`);
- `bool` gives a switch (`--force`);
- `list[X]` takes one or more values (`--dropout-rates 0.2 0.5`); a network, `tuple[int, ...]`, is one word
  with dashes: `--capacity-units 32 256-128-64`.

The help is the field's description and its default. A field's `json_schema_extra` may name its value
(`{"metavar": "URI"}`) and list the values a plain type cannot (`{"choices": [...]}`, for list[str]).

Options default to None, and only the flags given are passed on: the model applies its own defaults, and
fields whose default depends on the profile stay None until the profile decides.
"""

from __future__ import annotations

import argparse
import types
from collections.abc import Iterable
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from training.config import PipelineConfig

SCALAR_TYPES = (int, float, str)
# What a field's json_schema_extra may set on its option; the rest of json_schema_extra is not the CLI's.
PRESENTATION_KEYS = ("metavar", "choices")


def add_config_options(parser: argparse.ArgumentParser, model: type[BaseModel] = PipelineConfig,
                       names: Iterable[str] | None = None, keep_defaults: bool = False) -> None:
    """Add an option per field of `model` to `parser`: every field, or those in `names`.

    `keep_defaults`: the options default to the fields' defaults, for a command that reads the values itself
    instead of building the model. Otherwise they default to None (see config_fields_from_args)."""
    for name in model.model_fields if names is None else names:
        field = model.model_fields[name]
        parser.add_argument(flag_for(name), dest=name, **option_for(name, field, keep_defaults))


def config_fields_from_args(args: argparse.Namespace, model: type[BaseModel] = PipelineConfig) -> dict[str, Any]:
    """The fields given on the command line, for `model(**fields)`; the model fills in the others."""
    given = vars(args)
    return {name: given[name] for name in model.model_fields if given.get(name) is not None}


def flag_for(name: str) -> str:
    return "--" + name.replace("_", "-")


def option_for(name: str, field: FieldInfo, keep_defaults: bool) -> dict[str, Any]:
    """The keyword arguments of `parser.add_argument` for one field."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    option = {**value_reading(name, field), **{key: extra[key] for key in PRESENTATION_KEYS if key in extra}}
    option["default"] = default_of(field) if keep_defaults else None
    option["help"] = help_text(field, option)
    return option


def value_reading(name: str, field: FieldInfo) -> dict[str, Any]:
    """How argparse reads the field's value: type and choices, one or more values, or a switch."""
    kind = unwrap(field.annotation)
    if kind is bool:
        # A switch that can only turn a field on would do nothing for a field that is on by default.
        return {"action": argparse.BooleanOptionalAction if default_of(field) else "store_true"}
    if get_origin(kind) is list:
        return {"nargs": "+", **one_value_reading(name, unwrap(get_args(kind)[0]))}
    return one_value_reading(name, kind)


def one_value_reading(name: str, kind: Any) -> dict[str, Any]:
    if get_origin(kind) is Literal:
        values = get_args(kind)
        return {"type": type(values[0]), "choices": list(values)}
    if is_tuple_of_ints(kind):
        return {"type": dashed_ints, "metavar": "N-N-..."}
    if kind in SCALAR_TYPES:
        return {"type": kind}
    # Loud when the parser is built (and in its tests), rather than a field silently missing from the CLI.
    raise TypeError(f"field {name!r}: no command-line form for {kind!r}; extend flows/cli_options.py")


def unwrap(annotation: Any) -> Any:
    """The type under Optional and Annotated: `PositiveInt | None` -> int, `Fraction` -> float."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return unwrap(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        kinds = [kind for kind in get_args(annotation) if kind is not type(None)]
        if len(kinds) == 1:
            return unwrap(kinds[0])
    return annotation


def is_tuple_of_ints(kind: Any) -> bool:
    args = get_args(kind)
    return get_origin(kind) is tuple and len(args) == 2 and args[1] is Ellipsis and unwrap(args[0]) is int


def dashed_ints(text: str) -> tuple[int, ...]:
    """`256-128-64` -> (256, 128, 64): a network's layer sizes as one command-line word."""
    try:
        return tuple(int(part) for part in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not layer sizes joined by '-', e.g. 32 or 256-128-64") from None


def default_of(field: FieldInfo) -> Any:
    return None if field.is_required() else field.get_default(call_default_factory=True)


def help_text(field: FieldInfo, option: dict[str, Any]) -> str:
    parts = [field.description or ""]
    if option.get("metavar") and option.get("choices"):
        # argparse shows the choices only where there is no metavar.
        parts.append(f"Choices: {', '.join(map(str, option['choices']))}.")
    default = default_of(field)
    # A switch's absence already says it is off; any other default is worth stating.
    if default is not None and option.get("action") != "store_true":
        parts.append(f"(default: {default})")
    # argparse %-formats help texts.
    return " ".join(part for part in parts if part).replace("%", "%%")
