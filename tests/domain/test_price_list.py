"""Reading Price List products: the figure each pinned price key asks for, and nothing that only looks like it.

No client here: the requests a refresh sends are checked against botocore's own
service model for pricing GetProducts, and the products it would get back are
recorded rows or made up in the API's shape. The live call itself
(odyssey.ops.live.prices.fetch) is not verified offline: moto has no pricing.
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from odyssey.domain.cost import PRICES_FILE, pinned_prices
from odyssey.domain.log_search import INSTANCE_TYPES as SEARCH_TYPES
from odyssey.domain.price_list import (
    Query,
    apply_products,
    on_demand,
    pick,
    price_entry,
    queries,
    refresh_queries,
    request_key,
    requests_of,
)

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


# ---------------------------------------------------------------- the requests a refresh sends

GET_PRODUCTS = botocore.session.get_session().get_service_model("pricing").operation_model("GetProducts").input_shape
PINNED_KEYS = pinned_prices("us-east-1").prices
REFRESH = refresh_queries(PINNED_KEYS, SEARCH_TYPES)


def families(requests):
    return [(r["ServiceCode"], next((f["Value"] for f in r["Filters"] if f["Field"] == "productFamily"), None),
             next((f["Value"] for f in r["Filters"] if f["Field"] == "instanceType"), None)) for r in requests]


def test_a_refresh_sends_one_request_per_product_kind():
    # NAT hours and bytes share one request (the NAT Gateway family), and so do ALB hours and LCUs; every
    # OpenSearch instance type log search accepts goes in one request, its storage in another
    assert families(requests_of(REFRESH, "us-east-1")) == [
        ("AmazonEC2", "Compute Instance", "m7g.large"),
        ("AmazonEC2", "Compute Instance", "m7i.large"),
        ("AmazonEC2", "Storage", None),
        ("AmazonEC2", "NAT Gateway", None),
        ("AmazonVPC", None, None),
        ("AWSELB", "Load Balancer-Application", None),
        ("awskms", None, None),
        ("AWSCloudMap", None, None),
        ("AmazonES", "Amazon OpenSearch Service Instance", None),
        ("AmazonES", "Amazon OpenSearch Service Volume", None),
    ]


def test_every_opensearch_instance_type_is_read_in_one_request():
    searched = [q for q in REFRESH if q.key.startswith("opensearch.instance.")]
    assert sorted(q.key.removeprefix("opensearch.instance.") for q in searched) == sorted(SEARCH_TYPES)
    assert len(SEARCH_TYPES) > 1 and len({request_key(q.request("us-east-1")) for q in searched}) == 1


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_every_request_is_valid_for_botocores_get_products(region):
    # botocore's validator checks names, types and required members, not enums: the filter types are checked here
    filter_types = GET_PRODUCTS.members["Filters"].member.members["Type"].enum
    for request in requests_of(REFRESH, region):
        validate_parameters(request, GET_PRODUCTS)  # raises ParamValidationError on a malformed request
        assert all(f["Type"] in filter_types for f in request["Filters"])
        assert {"Type": "TERM_MATCH", "Field": "regionCode", "Value": region} in request["Filters"]


@pytest.mark.parametrize("request_", [
    {"Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}]},  # no ServiceCode
    {"ServiceCode": "AmazonES", "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode"}]},  # no Value
    {"ServiceCode": "AmazonES", "Filters": {"regionCode": "us-east-1"}},  # a dict where the API takes a list
])
def test_the_model_refuses_malformed_requests(request_):
    with pytest.raises(ParamValidationError):
        validate_parameters(request_, GET_PRODUCTS)


# ---------------------------------------------------------------- the products it gets back, written to the table


def fetched_for(region, products_by_family):
    """What get_products would return for each request of REFRESH: the products of its family (made up)."""
    return {request_key(r): products_by_family.get(family, []) for r, (_, family, _) in
            zip(requests_of(REFRESH, region), families(requests_of(REFRESH, region)), strict=True)}


def test_the_products_found_are_written_and_the_rest_keep_their_pinned_figure(tmp_path):
    document = json.loads(PRICES_FILE.read_text())
    fetched = fetched_for("us-east-1", {
        "Amazon OpenSearch Service Instance": [json.dumps(p) for p in SEARCH_PRODUCTS[:2]],
        "Amazon OpenSearch Service Volume": [json.dumps(p) for p in SEARCH_PRODUCTS[2:]],
    })
    written = apply_products(document, "us-east-1", REFRESH, fetched, "2026-12-01")
    # the made-up products price r6g.large (usage type without .search) and r6g.xlarge.search, and gp3 (not gp2)
    assert {key: entry["usd"] for key, entry in written.items()} == {
        "opensearch.instance.r6g.large.search": 1.5, "opensearch.instance.r6g.xlarge.search": 3.5,
        "opensearch.storage.gp3": 0.5}
    table = tmp_path / "prices.json"
    table.write_text(json.dumps(document, indent=2) + "\n")
    refreshed = pinned_prices("us-east-1", table)
    assert refreshed.date == "2026-12-01" and refreshed.not_found == {}
    assert refreshed.get("opensearch.storage.gp3").usd == 0.5
    assert "SKU C, effective 2026-01-01" in refreshed.get("opensearch.storage.gp3").seen_in
    assert refreshed.get("ec2.instance.m7i.large").usd == 0.1008  # not returned: kept as pinned
    assert refreshed.get("opensearch.instance.m6g.large.search") is None  # not returned: still unpriced


def test_recorded_rows_of_another_region_fill_that_region():
    # the recorded Cloud Map row is eu-south-2's (usage type EUS2-Cloud-Map-Resources)
    document = json.loads(PRICES_FILE.read_text())
    written = apply_products(document, "eu-south-2", REFRESH, fetched_for("eu-south-2", {None: RECORDED}),
                             "2026-12-01")
    assert list(written) == ["cloudmap.resource.month"]
    assert document["regions"]["eu-south-2"]["prices"]["cloudmap.resource.month"]["usd"] == 0.1
    assert document["regions"]["us-east-1"] == json.loads(PRICES_FILE.read_text())["regions"]["us-east-1"]


def test_nothing_found_leaves_the_document_alone():
    document = json.loads(PRICES_FILE.read_text())
    assert apply_products(document, "us-east-1", REFRESH, fetched_for("us-east-1", {}), "2026-12-01") == {}
    assert document == json.loads(PRICES_FILE.read_text())
