"""`odyssey cost`, the cost line of `odyssey plan`, the chargeback of `odyssey plan --cluster`, and the price refresh."""

from __future__ import annotations

import json
import shutil

import boto3
import pytest
from typer.testing import CliRunner

from odyssey.domain.cost import PRICES_FILE
from odyssey.ops.cli import app
from odyssey.ops.live.prices import PriceRefreshError, pricing_client, refresh_region
from tests.plans import ROOT

runner = CliRunner()


@pytest.fixture(scope="module")
def prod_cost():
    result = runner.invoke(app, ["cost", "prod", "--project-dir", str(ROOT), "--json", "-"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_cost_json_carries_lines_chargeback_and_counterfactual(prod_cost):
    assert prod_cost["stack"] == "prod" and prod_cost["region"] == "us-east-1"
    assert prod_cost["priceTable"]["date"] == "2026-11-26" and prod_cost["hoursPerMonth"] == 730
    # tests/domain/test_cost.py's hand-computed lines: cluster 634.7492 .. 1090.6532 + the stack's 39.5666
    assert prod_cost["estimate"]["total"] == {"min": 674.32, "max": 1130.22}
    keys = {line["key"] for line in prod_cost["estimate"]["lines"]}
    assert {"ec2Instances", "natGatewayHours", "albHours", "kmsKeys", "alarms", "flowLogDelivery",
            "opensearchInstances", "opensearchStorage", "firehoseIngestion", "albAccessLogs", "s3Storage",
            "wafWebAcls", "wafRules"} <= keys
    assert [line["label"] for line in prod_cost["estimate"]["lines"] if line["unpriced"]] == [
        "OpenSearch r6g.large.search instances", "OpenSearch m6g.large.search instances", "OpenSearch gp3 storage"]
    tenants = {t["stack"]: t for t in prod_cost["cluster"]["chargeback"]["tenants"]}
    assert set(tenants) == {"prod", "stage"}
    assert tenants["stage"]["computeShare"] == pytest.approx(1 / 3, abs=1e-4)
    # stage's own: 37.8466 before the security baseline + its audit log kept 365 days, not 30: 0.01 x 335 x 0.03
    assert tenants["stage"]["own"] == {"min": 37.95, "max": 37.95}
    # shared: the ALB's 42.422 (with its WAF) by rules (half each), the other 592.3272 .. 1048.2312 by compute
    # (1/3 for stage)
    assert tenants["stage"]["shared"] == {"min": 218.65, "max": 370.62}
    assert tenants["prod"]["shared"] == {"min": 416.10, "max": 720.03}
    assert tenants["prod"]["own"] == {"min": 39.57, "max": 39.57}
    shared = sum(t["shared"]["min"] for t in tenants.values())
    cluster_lines = sum(line["monthly"]["min"] for line in prod_cost["estimate"]["lines"]
                        if line["scope"] == "cluster")
    assert shared == pytest.approx(cluster_lines, abs=0.02)  # the shares add up to the shared layer
    counterfactual = prod_cost["cluster"]["counterfactual"]["cluster"]
    assert counterfactual["publicServices"] == 4 and counterfactual["oneAlbPerServiceMonthly"] == 132.86
    assert prod_cost["notEstimated"] and prod_cost["assumptions"]
    assert ("the shares are of the priced shared lines; not counted: 3 unpriced lines (OpenSearch "
            "r6g.large.search instances, OpenSearch m6g.large.search instances, OpenSearch gp3 storage)"
            in prod_cost["notes"])


def test_cost_prints_the_lines_shares_and_counterfactual():
    result = runner.invoke(app, ["cost", "stage", "--project-dir", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "Chargeback of prod's cluster" in result.output
    assert "one ALB per public service (003/004): 4 ALBs would cost $132.86 a month" in result.output
    assert "stage alone: 2 public services on ALBs of their own" in result.output
    assert "not estimated:" in result.output
    assert result.output.count("note: the shares are of the priced shared lines") == 1


def test_plan_ends_with_a_cost_line():
    result = runner.invoke(app, ["plan", "prod", "--project-dir", str(ROOT), "-q", "--skip-policies"])
    assert result.exit_code == 0, result.output
    # 674.32 .. 1130.22, the total of tests/domain/test_cost.py, and the domain it cannot price named
    assert "cost: about $674.32-$1,130 a month (us-east-1 list prices of 2026-11-26" in result.output
    assert ("`odyssey cost prod` itemizes it; not counted: 3 unpriced lines (OpenSearch r6g.large.search "
            "instances, OpenSearch m6g.large.search instances, OpenSearch gp3 storage)") in " ".join(result.output.split())


def test_a_region_without_prices_is_refused_with_the_way_out(tmp_path):
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(ROOT / name, tmp_path / name)
    text = (ROOT / "Pulumi.prod.yaml").read_text().replace("aws:region: us-east-1", "aws:region: eu-north-1")
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    result = runner.invoke(app, ["cost", "prod", "--project-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no pinned prices for eu-north-1" in result.output and "--refresh-prices" in result.output


def test_refresh_without_credentials_is_one_sentence_and_writes_nothing(tmp_path, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    table = tmp_path / "prices.json"
    shutil.copy(PRICES_FILE, table)
    with pytest.raises(PriceRefreshError, match="no AWS credentials found"):
        refresh_region("us-east-1", table)
    assert table.read_text() == PRICES_FILE.read_text()


def test_the_cluster_view_carries_the_chargeback():
    result = runner.invoke(app, ["plan", "prod", "--cluster", "--project-dir", str(ROOT), "--skip-policies",
                                 "--json", "-"])
    assert result.exit_code == 0, result.output
    cost = json.loads(result.output)["cost"]
    assert [t["stack"] for t in cost["cluster"]["chargeback"]["tenants"]] == ["prod", "stage"]
    assert "reserved CPU units" in cost["cluster"]["chargeback"]["formula"]
    shown = runner.invoke(app, ["plan", "prod", "--cluster", "--project-dir", str(ROOT), "--skip-policies"])
    assert "Chargeback of prod's cluster" in shown.output


def test_a_tenant_without_a_stack_file_is_charged_by_its_quota(tmp_path):
    from tests.ops.test_cluster import project, roomy

    directory = project(tmp_path, prod=lambda c: roomy(c, qa={"slot": 3, "cpu": 512, "memory": 1024}))
    result = runner.invoke(app, ["cost", "prod", "--project-dir", str(directory), "--json", "-"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    tenants = {t["stack"]: t for t in document["cluster"]["chargeback"]["tenants"]}
    # quotas 4096/8192, 2048/4096 and 512/1024: qa holds 512 / 6656 of the CPU and 1024 / 13312 of the memory
    assert tenants["qa"]["computeShare"] == pytest.approx((512 / 6656 + 1024 / 13312) / 2, abs=1e-4)
    assert tenants["qa"]["own"] is None and tenants["qa"]["albShare"] == 0
    assert "qa is not planned here: it is charged by its quota, and for no ALB rules or own lines" in \
        document["notes"]


def test_the_real_pricing_client_pages_get_products_without_the_network():
    # the one boto3 call fetch() makes: a real client (dummy credentials; creating it sends nothing), its endpoint,
    # and a paginator for get_products in botocore's own paginator model
    session = boto3.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")
    client = pricing_client(session)
    assert client.meta.region_name == "us-east-1" and client.meta.service_model.service_name == "pricing"
    assert client.can_paginate("get_products")
