"""Reading Price List products: the figure each pinned price key asks for, and nothing that only looks like it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from odyssey.domain.price_list import Query, on_demand, pick, price_entry, queries

RECORDED = json.loads((Path(__file__).parent / "data" / "price_list_products.json").read_text())["products"]
BY_KEY = {q.key: q for q in queries(["m7i.large"])}


def test_the_cloud_map_resource_price_of_a_region():
    figure = pick(BY_KEY["cloudmap.resource.month"], RECORDED)
    assert figure is not None
    assert (figure.usd, figure.sku, figure.usage_type, figure.effective) == (
        0.1, "266DFY974GB4E5FK", "EUS2-Cloud-Map-Resources", "2025-08-01")


def test_api_strings_parse_as_dicts_do():
    assert pick(BY_KEY["cloudmap.resource.month"], [json.dumps(p) for p in RECORDED]) == \
        pick(BY_KEY["cloudmap.resource.month"], RECORDED)


def test_a_classic_load_balancer_hour_is_not_an_alb_hour():
    # APE1-LoadBalancerUsage ends like the ALB's usage type, but its family is the Classic Load Balancer's.
    assert pick(BY_KEY["elb.alb.hour"], RECORDED) is None
    assert pick(Query("x", "AWSELB", {}, "LoadBalancerUsage", "Load Balancer", "Hrs"), RECORDED).usd == 0.0308


def test_an_idle_lcu_is_not_an_lcu_hour():
    assert pick(BY_KEY["elb.alb.lcuHour"], RECORDED) is None


def test_only_the_first_tier_of_a_tiered_price_counts():
    tiered = {"product": {"sku": "S", "attributes": {"usagetype": "USE2-NatGateway-Bytes"}},
              "terms": {"OnDemand": {"S.T": {"effectiveDate": "2026-01-01T00:00:00Z", "priceDimensions": {
                  "S.T.1": {"beginRange": "0", "unit": "GB", "pricePerUnit": {"USD": "0.045"}},
                  "S.T.2": {"beginRange": "10240", "unit": "GB", "pricePerUnit": {"USD": "0.02"}}}}}}}
    assert [f.usd for f in on_demand(tiered)] == [0.045]


def test_the_request_filters_by_region_and_family():
    request = BY_KEY["ec2.instance.m7i.large"].request("eu-west-1")
    fields = {f["Field"]: f["Value"] for f in request["Filters"]}
    assert request["ServiceCode"] == "AmazonEC2"
    assert fields == {"regionCode": "eu-west-1", "instanceType": "m7i.large", "operatingSystem": "Linux",
                      "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used",
                      "productFamily": "Compute Instance"}
    assert all(f["Type"] == "TERM_MATCH" for f in request["Filters"])


def test_an_entry_names_its_sku_and_dates():
    query = BY_KEY["cloudmap.resource.month"]
    entry = price_entry(query, pick(query, RECORDED), "2026-11-26")
    assert entry["usd"] == 0.1 and entry["serviceCode"] == "AWSCloudMap"
    assert "SKU 266DFY974GB4E5FK, effective 2025-08-01" in entry["seenIn"]
    assert "2026-11-26" in entry["seenIn"]


@pytest.mark.parametrize("key", ["ec2.instance.m7i.large", "ebs.gp3.gbMonth", "vpc.natGateway.hour",
                                 "vpc.natGateway.gb", "elb.alb.hour", "elb.alb.lcuHour", "kms.key.month"])
def test_every_refreshed_key_is_one_the_estimate_reads(key):
    from odyssey.domain.cost import pinned_prices

    assert pinned_prices("us-east-1").get(key) is not None


def search_product(sku: str, usage: str, family: str, unit: str, usd: str) -> dict:
    """A product in get_products' shape; the figures are made up for the test, not prices."""
    return {"product": {"sku": sku, "productFamily": family, "attributes": {"usagetype": usage}},
            "terms": {"OnDemand": {f"{sku}.T": {"effectiveDate": "2026-01-01T00:00:00Z", "priceDimensions": {
                f"{sku}.T.1": {"beginRange": "0", "unit": unit, "pricePerUnit": {"USD": usd}}}}}}}


SEARCH_PRODUCTS = [
    search_product("A", "ESInstance:r6g.large", "Amazon OpenSearch Service Instance", "Hrs", "1.5"),
    search_product("B", "USE1-ESInstance:r6g.xlarge.search", "Amazon OpenSearch Service Instance", "Hrs", "3.5"),
    search_product("C", "ES:GP3-Storage", "Amazon OpenSearch Service Volume", "GB-Mo", "0.5"),
    search_product("D", "ES:GP2-Storage", "Amazon OpenSearch Service Volume", "GB-Mo", "0.75"),
]


def test_opensearch_types_share_one_request_and_each_picks_its_own_usage_type():
    by_key = {q.key: q for q in queries([], ["r6g.large.search", "r6g.xlarge.search", "m6g.large.search"])}
    instances = [by_key[f"opensearch.instance.{kind}"] for kind in ("r6g.large.search", "r6g.xlarge.search")]
    assert instances[0].request("us-east-1") == instances[1].request("us-east-1")
    assert instances[0].request("us-east-1")["ServiceCode"] == "AmazonES"
    # the usage type spelled without and with .search: both are the type's; r6g.large is not r6g.xlarge
    assert pick(instances[0], SEARCH_PRODUCTS).sku == "A"
    assert pick(instances[1], SEARCH_PRODUCTS).sku == "B"
    assert pick(by_key["opensearch.instance.m6g.large.search"], SEARCH_PRODUCTS) is None
    assert pick(by_key["opensearch.storage.gp3"], SEARCH_PRODUCTS).sku == "C"


def test_the_refreshed_opensearch_keys_are_the_ones_the_estimate_reads():
    from odyssey.domain.cost import Price, PriceTable, estimate

    domain = {"type": "aws:opensearch/domain:Domain", "name": "d", "urn": "u", "custom": True,
              "inputs": {"clusterConfig": {"instanceType": "r6g.large.search", "instanceCount": 3.0},
                         "ebsOptions": {"volumeSize": 10.0, "volumeType": "gp3"}}}
    keys = {q.key for q in queries([], ["r6g.large.search"])}
    table = PriceTable("us-east-1", "2026-01-01", {k: Price(k, 1.0, "u", "AmazonES", None, "p", "s") for k in keys})
    assert [line.unpriced for line in estimate("x", [domain], table).lines] == [None, None]
