"""Bad input at the config edge, fed to `odyssey plan` as a new user would write it: exit 2, the key, no traceback."""

from __future__ import annotations

import asyncio
import gc
import json
import shutil

import pytest
from pulumi import RunError
from typer.testing import CliRunner

from odyssey.config.base import ConfigError
from odyssey.ops.cli import EXIT_CONFIG, app
from odyssey.ops.offline.plan import StackFiles, run_plan
from tests.plans import ROOT, TAGS

runner = CliRunner()

HEAD = "config:\n  aws:region: us-east-1\n  odyssey:tags: {department: platform, contact: ops@example.com}\n"
WEB = "image: 'nginx:1.27.2', port: 80"


def service(body: str, name: str = "web") -> str:
    return f"  odyssey:services:\n    {name}: {{{WEB}, {body}}}\n"


CASES = {
    "invalid YAML": ("config:\n  aws:region: us-east-1\n  odyssey:tags: {department: platform\n",
                     ["Pulumi.bad.yaml: is not valid YAML at line 4, column 1", "started at line 3"]),
    "config not a mapping": ("config:\n  - aws:region\n", ["Pulumi.bad.yaml: config: is a YAML list"]),
    "a key outside config": (HEAD + "odyssey:services:\n  web: {}\n",
                             ["Pulumi.bad.yaml: odyssey:services: sits outside config:"]),
    "a key given twice": (HEAD + "  odyssey:services:\n    web: {" + WEB + "}\n    web: {" + WEB + "}\n",
                          ["odyssey:services.web: is given twice in Pulumi.bad.yaml (lines 5 and 6)"]),
    "a namespace nothing reads": (HEAD + "  odyssy:cluster: {minSize: 6}\n",
                                  ["odyssy:cluster: is in the namespace odyssy:", "did you mean odyssey:cluster?"]),
    "names that collide after cleaning": (
        HEAD + "  odyssey:services:\n    web-api: {image: 'api:1.0.0'}\n    web--api: {image: 'api:1.0.0'}\n",
        ["odyssey:services.web-api: web--api and web-api both become 'app-web-api'"]),
    "a tag value AWS refuses": (HEAD.replace("platform,", "R&D,"),
                                ["odyssey:tags.department: 'R&D' has '&'"]),
    "an extra tag value AWS refuses": (HEAD.replace("ops@example.com}", "ops@example.com, extra: {Team: 'a,b'}}"),
                                       ["odyssey:tags.extra: Team: 'a,b' has ','"]),
    "a region that does not exist": (HEAD.replace("us-east-1", "us-east-7"),
                                     ["aws:region: 'us-east-7' is not an AWS region", "did you mean us-east-2"]),
    "an instance type that does not exist": (HEAD + "  odyssey:cluster: {instanceType: m7i.lrage}\n",
                                             ["odyssey:cluster.instanceType: 'm7i.lrage' is not an EC2 instance type",
                                              "did you mean m7i.large"]),
    "too many wildcards in one rule": (
        HEAD + service("public: {hosts: ['*.example.com'], paths: ['/a*/*/*', '/b?/*']}"),
        ["odyssey:services.web.public: has 6 wildcards", "at most 5"]),
    "a host header too long": (HEAD + service("public: {hosts: ['" + "a" * 60 + "." + "b" * 60 + ".example.com']}"),
                               ["odyssey:services.web.public.hosts:", "longer than the 128 characters"]),
    "a health-check code ALB refuses": (HEAD + service("public: {hosts: [www.example.com], healthCheck: "
                                                       "{matcher: '200-599'}}"),
                                        ["odyssey:services.web.public.healthCheck.matcher: '200-599': 599 outside "
                                         "the 200-499"]),
    "an owner of another project": (HEAD + "  odyssey:clusterStack: organization/platform/prod\n",
                                    ["odyssey:clusterStack: names organization/platform/prod, a stack of project "
                                     "platform", "example: odyssey:clusterStack: organization/odyssey/prod"]),
    "an owner with a typo": (HEAD + "  odyssey:clusterStack: organization/odyssey/prd\n",
                             ["odyssey:clusterStack: names stack prd, which has no stack file here (stacks here: "
                              "prod)", "did you mean organization/odyssey/prod?"]),
    "an unknown key in a service": (HEAD + service("imgae: x, zzz: 1"),
                                    ["odyssey:services.web.imgae: unknown key; did you mean odyssey:services.web.image?",
                                     "odyssey:services.web.zzz: unknown key; the keys here are image, cpu, memory"]),
    "an unknown key in a schedule": (
        HEAD + service("desiredCount: 1") + "  odyssey:schedules:\n    nightly: {service: web, expression: "
        "'rate(1 day)', comand: [x]}\n",
        ["odyssey:schedules.nightly.comand: unknown key; did you mean odyssey:schedules.nightly.command?"]),
    "an unknown key in a secret": (HEAD + service("secrets: {DB_PASSWORD: {ssn: db/password}}"),
                                   ["odyssey:services.web.secrets.DB_PASSWORD.ssn: unknown key; did you mean "
                                    "odyssey:services.web.secrets.DB_PASSWORD.ssm?"]),
    # Beyond the list: what AWS refuses at deploy time, decided offline.
    "zones of another region": (HEAD + "  odyssey:network: {availabilityZones: [eu-west-1a, us-east-1b, us-east-1c]}\n",
                                ["odyssey:network.availabilityZones: eu-west-1a is not a zone of us-east-1"]),
    "more tasks than a service holds": (HEAD + service("desiredCount: 6000"),
                                        ["odyssey:services.web.desiredCount:", "5000"]),
    "a secrets path SSM reserves": (HEAD + "  odyssey:app: {secretsPath: /aws/prod/}\n"
                                    + service("secrets: {DB_PASSWORD: {ssm: db/password}}"),
                                    ["odyssey:app.secretsPath: '/aws/prod/' starts with 'aws'"]),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    directory = tmp_path_factory.mktemp("project")
    for name in ("Pulumi.yaml", "__main__.py", "Pulumi.prod.yaml"):
        shutil.copy(ROOT / name, directory / name)
    return directory


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_naming_the_key_without_a_traceback(project, case):
    text, expected = CASES[case]
    (project / "Pulumi.bad.yaml").write_text(text)
    result = runner.invoke(app, ["plan", "bad", "--project-dir", str(project), "--skip-policies", "-q"])
    assert result.exit_code == EXIT_CONFIG, result.output
    output = " ".join(result.output.split())  # the console wraps long lines
    for part in expected:
        assert " ".join(part.split()) in output
    assert "example:" in output
    assert "Traceback" not in output and "Exception ignored" not in output


def open_loops() -> set[asyncio.AbstractEventLoop]:
    gc.collect()
    return {o for o in gc.get_objects() if isinstance(o, asyncio.BaseEventLoop) and not o.is_closed()}


def test_a_failed_plan_leaves_no_event_loop_open(project):
    """A loop left open is collected at exit, maybe after its sockets: 'Exception ignored ... Invalid file descriptor'.

    The program fails after resources registered (an availability zone the region lacks), with loops running in
    the mock monitor's worker threads too.
    """
    (project / "Pulumi.late.yaml").write_text(
        HEAD + "  odyssey:network: {availabilityZones: [us-east-1a, us-east-1b, us-east-1z]}\n")
    before = open_loops()
    result = runner.invoke(app, ["plan", "late", "--project-dir", str(project), "--skip-policies", "-q"])
    assert result.exit_code == EXIT_CONFIG and "us-east-1z not available" in result.output
    assert open_loops() - before == set()


def test_the_cluster_view_refuses_a_broken_owner_file_the_same_way(project):
    (project / "Pulumi.bad.yaml").write_text(CASES["a key given twice"][0])
    result = runner.invoke(app, ["plan", "bad", "--cluster", "--project-dir", str(project), "--skip-policies"])
    assert result.exit_code == EXIT_CONFIG, result.output
    assert "odyssey:services.web: is given twice" in result.output and "Traceback" not in result.output


def test_the_program_checks_its_stack_file_itself_as_under_the_pulumi_cli(project):
    """The CLI hands the program values only; the program reads the file beside it for what values cannot show."""
    (project / "Pulumi.bad.yaml").write_text(CASES["a key given twice"][0] + "odyssey:app: {}\n")
    files = StackFiles(project="odyssey", stack="bad", secret_keys=[],
                       config={"aws:region": "us-east-1", "odyssey:tags": json.dumps(TAGS), "odyssy:app": "{}"})
    with pytest.raises(ConfigError) as raised:
        run_plan(project, "bad", files=files)
    assert [p.key for p in raised.value.problems] == ["odyssey:services.web", "Pulumi.bad.yaml: odyssey:app",
                                                       "odyssy:app"]


def test_a_config_error_is_a_pulumi_run_error():
    """Pulumi's language host prints a RunError's message alone, without the program's traceback."""
    assert issubclass(ConfigError, RunError)
