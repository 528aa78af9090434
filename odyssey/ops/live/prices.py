"""``odyssey cost --refresh-prices``: rewrite a region of the pinned price table from the AWS Price List API.

The boto3 part is thin on purpose, ``fetch``: one ``get_products`` call
through its paginator per request, against the Price List endpoint in
us-east-1 (it serves every region's prices). Which requests are sent, which
figure each product gives and how the table is rewritten are pure functions
in ``odyssey.domain.price_list``.

**The live Price List call is not verified offline.** moto does not implement
``pricing`` and no AWS account is reachable from the build machines. What is
verified: the requests, against botocore's own service model for
pricing GetProducts (and its paginator); the parsing and the table update, on
products in the API's documented shape; and the missing-credentials error,
against a real boto3 client. Figures the API does not return keep their pinned
value. The AmazonES product families and usage types it asks for were seen in
third-party code only; a first refresh with credentials will tell.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from odyssey.domain.cost import PRICES_FILE, PriceTableError, price_tables
from odyssey.domain.log_search import INSTANCE_TYPES as SEARCH_INSTANCE_TYPES
from odyssey.domain.price_list import apply_products, refresh_queries, request_key, requests_of
from odyssey.ops.live.aws_ops import CLIENT_CONFIG, explain

PRICE_LIST_REGION = "us-east-1"  # the Price List API's endpoint (it also runs in ap-south-1 and eu-central-1)


class PriceRefreshError(Exception):
    """The Price List API could not be read; the message says why and what to do."""


def pricing_client(session: boto3.Session | None = None) -> Any:
    return (session or boto3.Session()).client("pricing", region_name=PRICE_LIST_REGION, config=CLIENT_CONFIG)


def fetch(client: Any, requests: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Every product each request matches, as the API returns them (JSON strings), by ``request_key``."""
    found: dict[str, list[str]] = {}
    for request in requests:
        try:
            pages = client.get_paginator("get_products").paginate(**request)
            found[request_key(request)] = [product for page in pages for product in page.get("PriceList") or ()]
        except (BotoCoreError, ClientError) as error:
            raise PriceRefreshError(str(explain(
                error, f"reading {request['ServiceCode']} prices from the AWS Price List API"))) from None
    return found


def refresh_region(region: str, path: Path = PRICES_FILE, client: Any = None,
                   today: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """Read the Price List for ``region`` and write its figures into ``path``; returns the entries written."""
    document = json.loads(path.read_text())
    try:
        tables = price_tables(document)
    except PriceTableError as error:
        raise PriceRefreshError(str(error)) from None
    template = tables.get(region) or tables.get(PRICE_LIST_REGION)
    chosen = refresh_queries(template.prices if template else (), SEARCH_INSTANCE_TYPES)
    fetched = fetch(client or pricing_client(), requests_of(chosen, region))
    written = apply_products(document, region, chosen, fetched, (today or dt.date.today()).isoformat())
    if not written:
        raise PriceRefreshError(f"the AWS Price List returned none of the prices for {region}; is it a region?")
    path.write_text(json.dumps(document, indent=2) + "\n")
    return written
