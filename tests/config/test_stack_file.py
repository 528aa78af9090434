"""The stack file as text: YAML syntax, keys given twice, keys outside config:, namespaces nothing reads."""

import pytest

from odyssey.config.base import ConfigError
from odyssey.config.stack_file import STACK_FILE_KEYS, namespace_problems, parse_stack_file, read_stack_file
from tests.plans import ROOT


def problems_of(text: str) -> list[str]:
    return [str(p) for p in parse_stack_file(text, "Pulumi.x.yaml")[1]]


def test_the_committed_stack_files_have_no_problem():
    for stack in ("prod", "stage"):
        config, problems = parse_stack_file((ROOT / f"Pulumi.{stack}.yaml").read_text(), stack)
        assert problems == [] and config["aws:region"] == "us-east-1"


def test_invalid_yaml_names_the_file_line_and_column_without_a_parser_dump():
    (problem,) = problems_of("config:\n  aws:region: us-east-1\n  odyssey:tags: {department: x\n")
    assert problem.startswith("Pulumi.x.yaml: is not valid YAML at line 4, column 1:")
    assert "started at line 3, column 17" in problem
    assert "Traceback" not in problem and "yaml." not in problem


def test_a_tab_is_reported_where_it_is():
    (problem,) = problems_of("config:\n\taws:region: us-east-1\n")
    assert "line 2, column 1" in problem and "'\\t'" in problem


def test_a_key_given_twice_is_reported_with_both_lines_at_any_depth():
    text = ("config:\n"
            "  odyssey:services:\n"
            "    web: {image: 'nginx:1.27.2'}\n"
            "    api: {image: 'api:1.0.0'}\n"
            "    web: {image: 'nginx:1.27.3'}\n"
            "  aws:region: us-east-1\n"
            "  aws:region: us-east-2\n")
    problems = problems_of(text)
    assert len(problems) == 2
    assert problems[0].startswith("odyssey:services.web: is given twice in Pulumi.x.yaml (lines 3 and 5)")
    assert problems[1].startswith("aws:region: is given twice in Pulumi.x.yaml (lines 6 and 7)")


def test_keys_twice_inside_a_list_entry_are_found_too():
    (problem,) = problems_of("config:\n  odyssey:x:\n    - {a: 1, a: 2}\n")
    assert problem.startswith("odyssey:x[0].a: is given twice")


def test_keys_outside_config_are_refused_and_a_near_miss_is_named():
    problems = problems_of("config:\n  aws:region: us-east-1\nodyssey:services: {}\nconfg: {}\nencryptionsalt: v1:x\n")
    assert len(problems) == 2
    assert problems[0].startswith("Pulumi.x.yaml: odyssey:services: sits outside config:")
    assert "indent it under config:" in problems[0]
    assert problems[1].startswith("Pulumi.x.yaml: confg: is not a stack-file setting; did you mean config?")


@pytest.mark.parametrize(("text", "kind"), [("config: [a, b]\n", "list"), ("config: text\n", "string")])
def test_config_must_be_a_mapping(text, kind):
    (problem,) = problems_of(text)
    assert problem.startswith(f"Pulumi.x.yaml: config: is a YAML {kind}; it must be a mapping")


def test_the_file_must_be_a_mapping():
    (problem,) = problems_of("- config\n")
    assert "is a YAML list, not a mapping of Pulumi's stack settings" in problem


def test_an_empty_file_or_config_is_no_config():
    assert parse_stack_file("", "x") == ({}, [])
    assert parse_stack_file("config:\n", "x") == ({}, [])


def test_every_pulumi_stack_setting_is_accepted():
    text = "".join(f"{key}: {'{}' if key == 'config' else 'x'}\n" for key in STACK_FILE_KEYS)
    assert problems_of(text) == []


def test_read_stack_file_raises_every_problem(tmp_path):
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  a:b: 1\n  a:b: 2\nother: 1\n")
    with pytest.raises(ConfigError) as raised:
        read_stack_file(path)
    assert len(raised.value.problems) == 2


def test_the_project_namespace_holds_pulumi_yamls_declared_defaults():
    assert namespace_problems(["acme:logRetentionDays", "odyssey:app"], "odyssey", "acme") == []


def test_namespaces_nothing_reads_are_refused_with_the_nearest():
    problems = namespace_problems(["odyssy:cluster", "aws:region", "pulumi:tags", "awsx:x", "odyssey:app",
                                   "zzz:key", "plain"], "odyssey", "odyssey")
    assert [p.key for p in problems] == ["odyssy:cluster", "zzz:key"]
    assert "did you mean odyssey:cluster?" in problems[0].message
    assert problems[0].example == "odyssey:cluster: ..."
    assert "did you mean" not in problems[1].message
