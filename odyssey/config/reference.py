"""The configuration reference, rendered from the models: README.md's key table and Pulumi.yaml's declarations.

The pydantic models of ``odyssey.config`` are the one source of every key's
type, default, example and description. This module renders them, as a
markdown table of every key (nested models flattened to dotted keys, maps of
models under a placeholder such as ``odyssey:services.<name>.cpu``) and as the
``config:`` block of ``Pulumi.yaml``. Each goes between marker lines of its
file, so regeneration rewrites only that part::

    python -m odyssey.config.reference --write   # make docs
    python -m odyssey.config.reference --check   # exit 1 and print a diff when a file is stale

``Pulumi.yaml`` declares only the top-level scalar keys that have a default.
Pulumi's project schema types a declared key as string, integer, boolean or
array, so object keys cannot be typed; and a declared key without a default is
required of every stack, so optional keys without one stay undeclared. The
models validate every key either way.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from odyssey.config.stack import REGION_KEY, StackConfig, config_key, unwrap

ROOT = Path(__file__).resolve().parents[2]
README = "README.md"
PROJECT_FILE = "Pulumi.yaml"
README_MARKERS = ("<!-- config-reference:start -->", "<!-- config-reference:end -->")
PROJECT_MARKERS = ("# config-reference:start", "# config-reference:end")
# What stands for a map's keys in a dotted key path; "<name>" unless the keys are something else.
KEY_PLACEHOLDERS = {"secrets": "<VARIABLE>", "ulimits": "<ulimit>"}
# The scalar types by the names Pulumi's project schema gives them (its `simpleConfigType`).
SCALAR_TYPES = {str: "string", int: "integer", bool: "boolean"}


@dataclass(frozen=True)
class ConfigKey:
    """One key of a stack file and the model field it is."""

    path: str
    field: FieldInfo

    @property
    def description(self) -> str:
        return self.field.description or ""

    @property
    def example(self) -> Any:
        return self.field.examples[0] if self.field.examples else None


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _map_of_models(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) is dict:
        value = unwrap(get_args(annotation)[1])
        return value if _is_model(value) else None
    return None


def config_keys(model: type[BaseModel] = StackConfig, loc: tuple[str, ...] = ()) -> Iterator[ConfigKey]:
    """Every key under ``model``, depth first in field order: a nested model's key, then its own keys."""
    for name, field in model.model_fields.items():
        here = (*loc, field.alias or name)
        yield ConfigKey(config_key(here), field)
        inner = unwrap(field.annotation)
        if _is_model(inner):
            yield from config_keys(inner, here)
        elif (values := _map_of_models(inner)) is not None:
            yield from config_keys(values, (*here, KEY_PLACEHOLDERS.get(here[-1], "<name>")))


def type_name(annotation: Any) -> str:
    """The key's type as a stack file writes it."""
    annotation = unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return "string: " + " or ".join(f"`{value}`" for value in get_args(annotation))
    if origin is list:
        return f"list of {type_name(get_args(annotation)[0])}"
    if origin is dict:
        return f"map of {type_name(get_args(annotation)[1])}"
    if _is_model(annotation):
        return "object"
    return SCALAR_TYPES[annotation]


def _code(value: Any) -> str:
    # Strings as a stack file writes them unquoted; everything else as JSON, which YAML also reads.
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return f"`{text}`"


def default_text(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    default = field.get_default(call_default_factory=True)
    if default is None:
        return "unset"
    if isinstance(default, BaseModel):
        # A model default is the model of an empty object: every key below at its own default.
        if default != type(default).model_validate({}):
            raise ValueError(f"a {type(default).__name__} default other than {{}} has no stack-file form here")
        return _code({})
    return _code(default)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_table() -> str:
    """The README's table of every key, one row each."""
    rows = ["| key | type | default | example | description |", "|---|---|---|---|---|"]
    for key in config_keys():
        cells = (f"`{key.path}`", type_name(key.field.annotation), default_text(key.field),
                 _code(key.example) if key.field.examples else "", key.description)
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(rows)


def pulumi_declarations() -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's ``config:`` declarations: each top-level scalar key with a default, by its name."""
    declared = {}
    for name, field in StackConfig.model_fields.items():
        key = config_key((field.alias or name,))
        if key == REGION_KEY or field.is_required() or field.annotation not in SCALAR_TYPES:
            continue
        declared[field.alias or name] = {
            "type": SCALAR_TYPES[field.annotation],
            "default": field.get_default(call_default_factory=True),
            "description": field.description,
        }
    return declared


def render_pulumi_config() -> str:
    """The ``config:`` block, each string JSON-quoted (a JSON string is a YAML double-quoted scalar)."""
    lines = [
        "# Generated from odyssey/config/ by `make docs`; edit the models, not this block. Only the top-level",
        "# scalar keys with a default are declared (the CLI applies the defaults): Pulumi cannot type object",
        "# keys, and a declared key without a default would be required. README.md lists every key.",
        "config:",
    ]
    for key, spec in pulumi_declarations().items():
        lines.append(f"  {key}:")
        lines.append(f"    type: {spec['type']}")
        lines.extend(f"    {name}: {json.dumps(spec[name])}" for name in ("default", "description"))
    return "\n".join(lines)


def splice(text: str, markers: tuple[str, str], body: str, file: str) -> str:
    """``text`` with the lines between the marker lines replaced by ``body``."""
    start, end = markers
    lines = text.split("\n")
    if lines.count(start) != 1 or lines.count(end) != 1 or lines.index(start) > lines.index(end):
        raise ValueError(f"{file} needs one line {start!r} and, after it, one line {end!r}")
    return "\n".join([*lines[: lines.index(start) + 1], body, *lines[lines.index(end):]])


def rendered(root: Path = ROOT) -> dict[Path, str]:
    """Each generated file as it should read, by path."""
    readme, project = root / README, root / PROJECT_FILE
    return {
        readme: splice(readme.read_text(), README_MARKERS, render_table(), README),
        project: splice(project.read_text(), PROJECT_MARKERS, render_pulumi_config(), PROJECT_FILE),
    }


def stale(root: Path = ROOT) -> dict[Path, str]:
    """A unified diff per file whose generated part differs from the models."""
    diffs = {}
    for path, text in rendered(root).items():
        current = path.read_text()
        if current != text:
            diffs[path] = "".join(difflib.unified_diff(
                current.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"{path.name} (committed)", tofile=f"{path.name} (from the models)"))
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m odyssey.config.reference", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help="rewrite the generated parts of README.md and Pulumi.yaml")
    mode.add_argument("--check", action="store_true", help="exit 1 with a diff when either is stale")
    parser.add_argument("--root", type=Path, default=ROOT, help="the directory holding README.md and Pulumi.yaml")
    args = parser.parse_args(argv)
    diffs = stale(args.root)
    if args.check:
        for diff in diffs.values():
            sys.stdout.write(diff)
        if diffs:
            print("stale: run `make docs` (python -m odyssey.config.reference --write)", file=sys.stderr)
        return 1 if diffs else 0
    texts = rendered(args.root)
    for path in diffs:
        path.write_text(texts[path])
        print(f"rewrote {path.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
