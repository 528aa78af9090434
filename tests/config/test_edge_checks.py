"""Config-edge checks of issue 10 through parse_stack_config: each bad input is one problem naming its key."""

import pytest

from odyssey.config.base import ConfigError
from odyssey.config.checks import cluster_stack_problems
from odyssey.config.stack import parse_stack_config

TAGS = {"department": "platform", "contact": "ops@example.com"}
BASE = {"region": "us-east-1", "tags": TAGS}
WEB = {"image": "nginx:1.27.2", "port": 80}


def problems(raw, stack="prod"):
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(raw, stack=stack)
    return raised.value.problems


@pytest.mark.parametrize(("entry", "where", "known"), [
    ({"services": {"web": {**WEB, "zzz": 1}}}, "odyssey:services.web.zzz", "image, cpu, memory, memoryReservation"),
    ({"services": {"web": WEB}, "schedules": {"n": {"service": "web", "expression": "rate(1 day)", "zzz": 1}}},
     "odyssey:schedules.n.zzz", "service, expression, timezone, command"),
    ({"services": {"web": {**WEB, "secrets": {"A_B": {"ssm": "a", "zzz": 1}}}}},
     "odyssey:services.web.secrets.A_B.zzz", "ssm, secretsManager"),
    ({"cluster": {"applicationStacks": {"prod": {"slot": 1, "zzz": 1}}}},
     "odyssey:cluster.applicationStacks.prod.zzz", "slot, hosts, targetGroups"),
])
def test_an_unknown_key_in_a_map_entry_lists_the_entrys_real_keys(entry, where, known):
    (problem,) = problems({**BASE, **entry})
    assert problem.key == where and problem.message.startswith(f"unknown key; the keys here are {known}")


def test_a_near_miss_in_a_map_entry_names_the_key_and_its_example():
    (problem,) = problems({**BASE, "services": {"web": {**WEB, "desiredCont": 1}}})
    assert problem.message == "unknown key; did you mean odyssey:services.web.desiredCount?"
    assert problem.example == "odyssey:services.web.desiredCount: 2"


@pytest.mark.parametrize(("tags", "key", "text"), [
    ({**TAGS, "department": "R&D"}, "odyssey:tags.department", "'&'"),
    ({**TAGS, "contact": "o'brien@example.com"}, "odyssey:tags.contact", "which AWS refuses in tag values"),
    ({**TAGS, "extra": {"Team": "a;b"}}, "odyssey:tags.extra", "Team: 'a;b' has ';'"),
    ({**TAGS, "extra": {"Project": "other"}}, "odyssey:tags.extra", "Project is a tag Odyssey sets itself"),
    ({**TAGS, "extra": {f"k{i}": "v" for i in range(44)}}, "odyssey:tags.extra", "has 44 tags; AWS allows 50"),
])
def test_tags_aws_or_odyssey_would_refuse(tags, key, text):
    (problem,) = problems({**BASE, "tags": tags})
    assert problem.key == key and text in problem.message


def test_forty_three_extra_tags_fit():
    assert len(parse_stack_config({**BASE, "tags": {**TAGS, "extra": {f"k{i}": "v" for i in range(43)}}}).tags.extra) == 43


def test_services_whose_names_collide_once_cleaned_are_one_problem():
    (problem,) = problems({**BASE, "services": {"web-api": WEB, "web--api": WEB}})
    assert problem.key == "odyssey:services.web-api"
    assert "'app-web-api' as the logical name (URN), 'app-web-api-tg'" in problem.message


def test_too_many_wildcards_in_one_rule():
    route = {"hosts": ["*.example.com", "*.example.org"], "paths": ["/a/*/b/*", "/c?"]}
    assert parse_stack_config({**BASE, "services": {"web": {**WEB, "public": route}}}, stack="prod")  # 5 fit
    route["paths"].append("/d*")
    (problem,) = problems({**BASE, "services": {"web": {**WEB, "public": route}}})
    assert problem.key == "odyssey:services.web.public" and "has 6 wildcards" in problem.message


def test_a_matcher_outside_200_to_499():
    route = {"hosts": ["www.example.com"], "healthCheck": {"matcher": "200-599"}}
    (problem,) = problems({**BASE, "services": {"web": {**WEB, "public": route}}})
    assert problem.key == "odyssey:services.web.public.healthCheck.matcher"


@pytest.mark.parametrize(("owner", "stacks", "text", "example"), [
    ("acme/platform/prod", None, "a stack of project platform", "acme/odyssey/prod"),
    ("acme/odyssey/stage", None, "names this stack (stage) as its own cluster's owner", "acme/odyssey/prod"),
    ("acme/odyssey/prd", ["prod", "stage"], "no stack file here (stacks here: prod); did you mean acme/odyssey/prod?",
     "acme/odyssey/prod"),
    ("acme/odyssey/zzz", ["stage"], "no stack file here (stacks here: none)", "acme/odyssey/prod"),
])
def test_cluster_stack_problems(owner, stacks, text, example):
    (problem,) = cluster_stack_problems(owner, "stage", "odyssey", stacks if stacks is None else stacks)
    assert problem.key == "odyssey:clusterStack" and text in problem.message
    assert problem.example == f"odyssey:clusterStack: {example}"


def test_an_owner_of_this_project_with_a_stack_file_is_fine():
    assert cluster_stack_problems("acme/odyssey/prod", "stage", "odyssey", ["prod", "stage"]) == []


def test_the_config_refuses_an_owner_of_another_project():
    (problem,) = problems({**BASE, "clusterStack": "acme/platform/prod"}, stack="stage")
    assert problem.key == "odyssey:clusterStack"


# ---------------------------------------------------------------- beyond the list: what AWS refuses at deploy time

def test_zones_of_another_region_are_refused_before_anything_registers():
    (problem,) = problems({**BASE, "network": {"availabilityZones": ["eu-west-1a", "us-east-1b", "us-east-1c"]}})
    assert problem.key == "odyssey:network.availabilityZones" and "eu-west-1a is not a zone of us-east-1" in problem.message
    assert problem.example == 'odyssey:network.availabilityZones: ["us-east-1a", "us-east-1b", "us-east-1c"]'


@pytest.mark.parametrize(("service", "key"), [
    ({**WEB, "desiredCount": 5001}, "odyssey:services.web.desiredCount"),
    ({**WEB, "autoscaling": {"minCount": 2, "maxCount": 5001, "cpuTargetPercent": 60}},
     "odyssey:services.web.autoscaling.maxCount"),
])
def test_more_tasks_than_an_ecs_service_holds(service, key):
    (problem,) = problems({**BASE, "services": {"web": service}})
    assert problem.key == key and "5000" in problem.message


def test_a_secrets_path_ssm_reserves_is_one_problem():
    secrets = {"A": {"ssm": "a"}, "B": {"ssm": "b"}}
    (problem,) = problems({**BASE, "app": {"secretsPath": "/ssm/prod/"},
                           "services": {"web": {**WEB, "secrets": secrets}}})
    assert problem.key == "odyssey:app.secretsPath" and "prefixed with 'aws' or 'ssm'" in problem.message
    assert problem.example == 'odyssey:app.secretsPath: "/odyssey/prod/"'


def test_a_secret_deeper_than_ssm_allows():
    deep = "/".join("abcdefghijklmn")  # 14 levels under /odyssey/prod/
    (problem,) = problems({**BASE, "services": {"web": {**WEB, "secrets": {"A": {"ssm": deep}}}}})
    assert problem.key == "odyssey:services.web.secrets.A.ssm" and "16 levels deep" in problem.message
    assert parse_stack_config({**BASE, "services": {"web": {**WEB, "secrets": {"A": {"ssm": deep[2:]}}}}}, stack="prod")
