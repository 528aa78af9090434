"""Reading the AWS Price List: which product each pinned price comes from, and its on-demand figure.

The Price List API (``pricing.get_products``) and the bulk offer files give a
product as ``{"product": {"sku", "productFamily", "attributes": {...}},
"terms": {"OnDemand": {"<sku>.<offerTermCode>": {"effectiveDate",
"priceDimensions": {"<rateCode>": {"unit", "beginRange", "pricePerUnit":
{"USD": "..."}, "description"}}}}}}``. These functions are pure: they build the
requests a refresh sends (``refresh_queries``, ``requests_of``), pick each
figure from the products those requests return and write them into a prices
document (``apply_products``). The call that sends the requests is
``odyssey.ops.live.prices``, and only it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Query:
    """How to find one price: server-side filters, then the product family, usage type and unit it must have."""

    key: str
    service_code: str
    filters: Mapping[str, str]  # TERM_MATCH filters sent to get_products (regionCode is added)
    usage_suffix: str  # usage types carry a region prefix outside us-east-1 ("EUW1-NatGateway-Hours")
    product_family: str | None = None
    unit: str | None = None
    page: str = ""
    also: tuple[str, ...] = ()  # other spellings of the usage type suffix, accepted alike

    def matches_usage(self, usage: str) -> bool:
        return any(usage == suffix or usage.endswith(f"-{suffix}") for suffix in (self.usage_suffix, *self.also))

    def request(self, region: str) -> dict[str, Any]:
        filters = {"regionCode": region, **self.filters}
        if self.product_family:
            filters["productFamily"] = self.product_family
        return {"ServiceCode": self.service_code,
                "Filters": [{"Type": "TERM_MATCH", "Field": field, "Value": value} for field, value in filters.items()]}


def queries(instance_types: Iterable[str], search_types: Iterable[str] = ()) -> list[Query]:
    """The prices ``--refresh-prices`` reads: the EC2 and OpenSearch instance types asked for and the fixed set below.

    The OpenSearch instance queries share one request (every instance of the family in the region, one paginated
    call) and each picks its type by usage type; whether that names the type with or without ``.search`` was seen
    both ways in third-party billing extracts, so both are accepted.
    """
    ec2 = "https://aws.amazon.com/ec2/pricing/on-demand/"
    search = "https://aws.amazon.com/opensearch-service/pricing/"
    vpc = "https://aws.amazon.com/vpc/pricing/"
    elb = "https://aws.amazon.com/elasticloadbalancing/pricing/"
    return [
        *(Query(f"ec2.instance.{kind}", "AmazonEC2",
                {"instanceType": kind, "operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA",
                 "capacitystatus": "Used"}, f"BoxUsage:{kind}", "Compute Instance", "Hrs", ec2)
          for kind in sorted(set(instance_types))),
        Query("ebs.gp3.gbMonth", "AmazonEC2", {"volumeApiName": "gp3"}, "EBS:VolumeUsage.gp3", "Storage", "GB-Mo",
              "https://aws.amazon.com/ebs/pricing/"),
        Query("vpc.natGateway.hour", "AmazonEC2", {}, "NatGateway-Hours", "NAT Gateway", "Hrs", vpc),
        Query("vpc.natGateway.gb", "AmazonEC2", {}, "NatGateway-Bytes", "NAT Gateway", "GB", vpc),
        Query("vpc.publicIpv4.hour", "AmazonVPC", {}, "PublicIPv4:InUseAddress", None, "Hrs", vpc),
        Query("elb.alb.hour", "AWSELB", {}, "LoadBalancerUsage", "Load Balancer-Application", "Hrs", elb),
        Query("elb.alb.lcuHour", "AWSELB", {}, "LCUUsage", "Load Balancer-Application", "LCU-Hrs", elb),
        Query("kms.key.month", "awskms", {}, "KMS-Keys", None, None, "https://aws.amazon.com/kms/pricing/"),
        Query("cloudmap.resource.month", "AWSCloudMap", {}, "Cloud-Map-Resources", None, None,
              "https://aws.amazon.com/cloud-map/pricing/"),
        *(Query(f"opensearch.instance.{kind}", "AmazonES", {}, f"ESInstance:{kind.removesuffix('.search')}",
                "Amazon OpenSearch Service Instance", "Hrs", search, also=(f"ESInstance:{kind}",))
          for kind in sorted(set(search_types))),
        Query("opensearch.storage.gp3", "AmazonES", {}, "ES:GP3-Storage", "Amazon OpenSearch Service Volume",
              "GB-Mo", search),
    ]


@dataclass(frozen=True)
class Figure:
    usd: float
    unit: str
    sku: str
    usage_type: str
    effective: str
    description: str


def on_demand(product: Mapping[str, Any] | str) -> list[Figure]:
    """The on-demand price dimensions of one Price List product (a dict, or the JSON string the API returns)."""
    if isinstance(product, str):
        product = json.loads(product)
    body = product.get("product") or {}
    attributes = body.get("attributes") or {}
    figures = []
    for term in ((product.get("terms") or {}).get("OnDemand") or {}).values():
        for dimension in (term.get("priceDimensions") or {}).values():
            usd = (dimension.get("pricePerUnit") or {}).get("USD")
            if usd is None or str(dimension.get("beginRange", "0")) not in ("0", "0.0"):
                continue  # a later tier of a tiered price: the first tier is what a small stack pays
            figures.append(Figure(float(usd), dimension.get("unit") or "", body.get("sku") or "",
                                  attributes.get("usagetype") or "", (term.get("effectiveDate") or "")[:10],
                                  dimension.get("description") or ""))
    return figures


def pick(query: Query, products: Iterable[Mapping[str, Any] | str]) -> Figure | None:
    """The one figure ``query`` asks for among ``products``: its family, usage type and unit, priced above zero."""
    found = []
    for product in products:
        parsed = json.loads(product) if isinstance(product, str) else product
        family = (parsed.get("product") or {}).get("productFamily")
        if query.product_family and family != query.product_family:
            continue
        for figure in on_demand(parsed):
            if not query.matches_usage(figure.usage_type):
                continue
            if (query.unit and figure.unit != query.unit) or figure.usd <= 0:
                continue
            found.append(figure)
    # Several SKUs can match (e.g. a usage type sold under two operations): the lowest list price is on-demand's.
    return min(found, key=lambda f: f.usd) if found else None


def price_entry(query: Query, figure: Figure, read_on: str) -> dict[str, Any]:
    """A ``prices.json`` entry for ``figure``."""
    return {"usd": figure.usd, "unit": figure.unit, "serviceCode": query.service_code, "usageType": figure.usage_type,
            "page": query.page,
            "seenIn": f"AWS Price List API get_products on {read_on}: SKU {figure.sku}, effective {figure.effective}, "
                      f"\"{figure.description}\""}


def refresh_queries(priced_keys: Iterable[str], search_types: Iterable[str]) -> list[Query]:
    """What a refresh reads: the EC2 instance types among a table's ``priced_keys``, ``search_types`` and the rest."""
    prefix = "ec2.instance."
    return queries([key.removeprefix(prefix) for key in priced_keys if key.startswith(prefix)], search_types)


def request_key(request: Mapping[str, Any]) -> str:
    """One get_products request as a key: queries whose requests are equal share one call."""
    return json.dumps(request, sort_keys=True)


def requests_of(chosen: Iterable[Query], region: str) -> list[dict[str, Any]]:
    """The distinct get_products requests ``chosen`` need in ``region``, in order (shared requests sent once)."""
    found: dict[str, dict[str, Any]] = {}
    for query in chosen:
        request = query.request(region)
        found.setdefault(request_key(request), request)
    return list(found.values())


def apply_products(document: dict[str, Any], region: str, chosen: Iterable[Query],
                   fetched: Mapping[str, Iterable[Mapping[str, Any] | str]], read_on: str) -> dict[str, dict[str, Any]]:
    """Write into ``document`` (``prices.json``'s shape) the figure each query picks from the products ``fetched``
    for its request (by ``request_key``); returns the entries written, and leaves ``document`` alone when none.

    The region's date becomes ``read_on``; prices not found keep their pinned figure; a ``notFound`` key goes once
    its price is written (``opensearch.instance.*`` once any of its keys is).
    """
    written = {}
    for query in chosen:
        figure = pick(query, list(fetched.get(request_key(query.request(region))) or ()))
        if figure is not None:
            written[query.key] = price_entry(query, figure, read_on)
    if not written:
        return written
    body = document.setdefault("regions", {}).setdefault(region, {"prices": {}})
    body["date"] = read_on
    body.setdefault("prices", {}).update(written)
    not_found = body.get("notFound") or {}
    for key in list(not_found):
        if key in written or (key.endswith(".*") and any(k.startswith(key[:-1]) for k in written)):
            del not_found[key]
    return written
