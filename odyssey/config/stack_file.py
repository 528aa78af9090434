"""The stack file (``Pulumi.<stack>.yaml``) as text: valid YAML, one mapping, keys once, config under ``config:``.

PyYAML keeps the last of two equal keys silently: a copied service block
replaces the first, and the next ``up`` deletes that service. So the file is
composed first and every mapping checked for a key given twice, with the line
of both. Pulumi reads only its own settings at the top of a stack file (the
``ProjectStack`` settings: ``config``, ``secretsprovider``, ``encryptedkey``,
``encryptionsalt``, ``environment``); a key beside them, such as a config
key that lost its indentation, would be ignored. Keys of a namespace nothing
reads (``odyssy:cluster``) are refused too, with the nearest known key.

The offline plan reads the file through ``read_stack_file``; the program
checks the same file again (``stack_file_problems``) when it runs under the
Pulumi CLI, so both refuse the same files.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from odyssey.config.base import ConfigError, Problem

# The top-level settings of a stack file (Pulumi's ProjectStack: sdk/go/common/workspace/project.go).
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")
# Namespaces read by something: the engine's own settings (pulumi:tags, ...) and the providers this program
# creates resources with (requirements.txt). The project's own namespace is added by the caller.
ENGINE_NAMESPACE = "pulumi"
PROVIDER_NAMESPACES = ("aws", "awsx")
EXAMPLE = "config:\n      aws:region: us-east-1"
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def _duplicates(node: yaml.Node, path: tuple[str, ...] = ()) -> Iterable[tuple[tuple[str, ...], int, int]]:
    """(path of the key, line of its first use, line of its repeat) for each key a mapping gives twice."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key is not None and key in seen:
                yield (*path, key), seen[key], line
            elif key is not None:
                seen[key] = line
            yield from _duplicates(value_node, (*path, key or "?"))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*path, f"[{index}]"))


def _key_of(path: tuple[str, ...]) -> str:
    """``("config", "odyssey:services", "web")`` is ``odyssey:services.web``; outside config, the path itself."""
    parts = list(path[1:] if path[:1] == ("config",) and len(path) > 1 else path)
    text = parts[0]
    for part in parts[1:]:
        text += part if part.startswith("[") else f".{part}"
    return text


def _parse(text: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _in_detail(text: str, error: yaml.YAMLError) -> yaml.YAMLError:
    """The error as Python's parser words it: it says more (it names the character a tab is, for one)."""
    if SAFE_LOADER is yaml.SafeLoader:
        return error
    try:
        _parse(text, yaml.SafeLoader)
    except yaml.YAMLError as detailed:
        return detailed
    return error


def parse_stack_file(text: str, name: str) -> tuple[dict[str, Any], list[Problem]]:
    """The ``config`` mapping of a stack file's text, and every problem with the file (``name`` for messages)."""
    # Parsed once: the node tree finds the duplicates, and the same tree becomes the document. libyaml's parser
    # (PyYAML's C loader, where PyYAML has it) reads the same YAML several times faster: a 100-service stack
    # file took 0.65 s a read in Python.
    try:
        node, document = _parse(text, SAFE_LOADER)
    except yaml.YAMLError as error:
        return {}, [_syntax_problem(_in_detail(text, error), name)]
    problems = [Problem(_key_of(path), f"is given twice in {name} (lines {first} and {again}); YAML keeps the last "
                        "silently, so the first would be lost (a copied service block replaces the first, and the "
                        "next up deletes it); remove one, merge them, or rename one", _renamed(path))
                for path, first, again in (_duplicates(node) if node is not None else ())]
    if document is None:
        return {}, problems
    if not isinstance(document, dict):
        return {}, problems + [Problem(name, f"is a YAML {_kind(document)}, not a mapping of Pulumi's stack "
                                             f"settings ({', '.join(STACK_FILE_KEYS)})", EXAMPLE)]
    for key in document:
        if key not in STACK_FILE_KEYS:
            problems.append(_outside_config(str(key), name))
    config = document.get("config")
    if config is None:
        return {}, problems
    if not isinstance(config, dict):
        return {}, problems + [Problem(f"{name}: config", f"is a YAML {_kind(config)}; it must be a mapping of "
                                                          "config keys to values", EXAMPLE)]
    return {str(k): v for k, v in config.items()}, problems


def _renamed(path: tuple[str, ...]) -> str:
    return f"{_key_of(path)}: ... (given once; a second entry under a name of its own)"


def _syntax_problem(error: yaml.YAMLError, name: str) -> Problem:
    mark = getattr(error, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    what = getattr(error, "problem", None) or "cannot be parsed"
    context = getattr(error, "context", None)
    context_mark = getattr(error, "context_mark", None)
    if context and context_mark is not None:
        context += f" started at line {context_mark.line + 1}, column {context_mark.column + 1}"
    return Problem(name, f"is not valid YAML{where}: {what}{f' ({context})' if context else ''}",
                   "config:\n      odyssey:services:\n        web: {image: 'nginx:1.27.2', port: 80}")


def _outside_config(key: str, name: str) -> Problem:
    meant = difflib.get_close_matches(key, STACK_FILE_KEYS, n=1)
    if meant:
        return Problem(f"{name}: {key}", f"is not a stack-file setting; did you mean {meant[0]}?",
                       f"{meant[0]}: ...")
    return Problem(f"{name}: {key}", f"sits outside config: at the top of the file, where Pulumi reads only "
                   f"{', '.join(STACK_FILE_KEYS)}, so it would be ignored; indent it under config:",
                   f"config:\n      {key}: ...")


def _kind(value: Any) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(value), "value")


def namespace_problems(keys: Iterable[str], program: str, project: str) -> list[Problem]:
    """Keys of a namespace that is neither the program's nor the engine's nor a provider's: nothing reads them.

    The project's namespace is accepted too: the CLI puts the defaults ``Pulumi.yaml`` declares there.
    """
    known = tuple(dict.fromkeys((program, project, ENGINE_NAMESPACE, *PROVIDER_NAMESPACES)))
    problems = []
    for key in keys:
        namespace, colon, rest = key.partition(":")
        if not colon or namespace in known:
            continue
        meant = difflib.get_close_matches(namespace, known, n=1, cutoff=0.6)
        hint = f"; did you mean {meant[0]}:{rest}?" if meant else ""
        problems.append(Problem(
            key,
            f"is in the namespace {namespace}:, which nothing reads (this program's keys are {program}:, the "
            f"providers' {', '.join(f'{n}:' for n in PROVIDER_NAMESPACES)} and the engine's {ENGINE_NAMESPACE}:), "
            f"so it would be ignored and the defaults planned{hint}",
            f"{meant[0] if meant else program}:{rest}: ...",
        ))
    return problems


def stack_file_problems(path: Path) -> list[Problem]:
    """Every problem with the stack file at ``path`` (none when there is no such file)."""
    if not path.is_file():
        return []
    return parse_stack_file(path.read_text(), path.name)[1]


def read_stack_file(path: Path) -> dict[str, Any]:
    """The ``config`` mapping of the stack file at ``path``; ``ConfigError`` listing every problem with the file."""
    config, problems = parse_stack_file(path.read_text(), path.name)
    if problems:
        raise ConfigError(problems)
    return config

