"""Log search: the OpenSearch domain's shape and the ingestion's names, decided from plain values.

Each rule cites the AWS document it comes from (Amazon OpenSearch Service
Developer Guide unless said otherwise):

* engine versions: "Supported versions of Elasticsearch and OpenSearch";
* instance types: "Supported instance types in Amazon OpenSearch Service": every type ends in ``.search``;
* volume sizes: "Amazon OpenSearch Service quotas", "EBS volume size quotas", the gp3 column (Odyssey gives
  data nodes gp3 volumes);
* zones: "Configuring a multi-AZ domain": with three zones, data nodes in multiples of three spread evenly;
* dedicated master nodes: "Dedicated master nodes in Amazon OpenSearch Service": "we recommend that you add
  three dedicated master nodes to each production OpenSearch Service domain", sized by the instance count.

The rule for dedicated masters: every domain Odyssey makes holds the
cluster's logs across three zones, a production domain in AWS's sense, so it
always gets three dedicated master nodes (one per zone: an even count loses
quorum with a zone, one has no backup). What the data nodes warrant is their
size: the smallest type AWS recommends for that many instances.
"""

from __future__ import annotations

SEARCH_SUFFIX = ".search"
# Zone awareness over three zones: one replica of each shard survives a zone's loss (Security Hub Opensearch.6).
ZONES = 3
DEDICATED_MASTERS = 3
# "Total node limit by instance family": the default quota of instances per domain (adjustable).
MAX_DATA_NODES = 80

# "Supported versions of Elasticsearch and OpenSearch": the OpenSearch engine versions the service runs.
ENGINE_VERSIONS = (
    "OpenSearch_1.0", "OpenSearch_1.1", "OpenSearch_1.2", "OpenSearch_1.3",
    "OpenSearch_2.3", "OpenSearch_2.5", "OpenSearch_2.7", "OpenSearch_2.9", "OpenSearch_2.11",
    "OpenSearch_2.13", "OpenSearch_2.15", "OpenSearch_2.17", "OpenSearch_2.19", "OpenSearch_3.1",
)

TIB = 1024
# "EBS volume size quotas", gp3 column: per instance type, the smallest and largest volume in GiB. Only
# current-generation EBS-backed types; burstable T2/T3 are left out (AWS recommends them for development only,
# and t3.small cannot encrypt at rest), as are types with instance storage (i3, r6gd, im4gn...), which take no
# EBS volume.
VOLUME_LIMITS_GIB: dict[str, tuple[int, int]] = {
    "m5.large.search": (10, 1 * TIB), "m5.xlarge.search": (10, 2 * TIB), "m5.2xlarge.search": (10, 3 * TIB),
    "m5.4xlarge.search": (10, 6 * TIB), "m5.12xlarge.search": (10, 18 * TIB),
    "m6g.large.search": (10, 1 * TIB), "m6g.xlarge.search": (10, 2 * TIB), "m6g.2xlarge.search": (10, 3 * TIB),
    "m6g.4xlarge.search": (10, 6 * TIB), "m6g.8xlarge.search": (10, 12 * TIB),
    "m6g.12xlarge.search": (10, 18 * TIB),
    "m7g.medium.search": (10, 512), "m7g.large.search": (10, 768), "m7g.xlarge.search": (10, 2 * TIB),
    "m7g.2xlarge.search": (10, 3 * TIB), "m7g.4xlarge.search": (10, 6 * TIB), "m7g.8xlarge.search": (10, 12 * TIB),
    "m7g.12xlarge.search": (10, 18 * TIB), "m7g.16xlarge.search": (10, 24 * TIB),
    "m7i.large.search": (10, 768), "m7i.xlarge.search": (10, 2 * TIB), "m7i.2xlarge.search": (10, 3 * TIB),
    "m7i.4xlarge.search": (10, 6 * TIB), "m7i.8xlarge.search": (10, 12 * TIB), "m7i.12xlarge.search": (10, 18 * TIB),
    "m7i.16xlarge.search": (10, 24 * TIB),
    "c5.large.search": (10, 256), "c5.xlarge.search": (10, 512), "c5.2xlarge.search": (10, 1 * TIB),
    "c5.4xlarge.search": (10, 1536), "c5.9xlarge.search": (10, 3584), "c5.18xlarge.search": (10, 7 * TIB),
    "c6g.large.search": (10, 256), "c6g.xlarge.search": (10, 512), "c6g.2xlarge.search": (10, 1 * TIB),
    "c6g.4xlarge.search": (10, 1536), "c6g.8xlarge.search": (10, 3 * TIB), "c6g.12xlarge.search": (10, 4608),
    "c7g.large.search": (10, 256), "c7g.xlarge.search": (10, 512), "c7g.2xlarge.search": (10, 1 * TIB),
    "c7g.4xlarge.search": (10, 1536), "c7g.8xlarge.search": (10, 3 * TIB), "c7g.12xlarge.search": (10, 4608),
    "c7g.16xlarge.search": (10, 6 * TIB),
    "c7i.large.search": (10, 256), "c7i.xlarge.search": (10, 512), "c7i.2xlarge.search": (10, 1 * TIB),
    "c7i.4xlarge.search": (10, 1536), "c7i.8xlarge.search": (10, 3 * TIB), "c7i.12xlarge.search": (10, 4608),
    "c7i.16xlarge.search": (10, 6 * TIB),
    "r5.large.search": (10, 2 * TIB), "r5.xlarge.search": (10, 3 * TIB), "r5.2xlarge.search": (10, 6 * TIB),
    "r5.4xlarge.search": (10, 12 * TIB), "r5.12xlarge.search": (10, 24 * TIB),
    "r6g.large.search": (10, 2 * TIB), "r6g.xlarge.search": (10, 3 * TIB), "r6g.2xlarge.search": (10, 6 * TIB),
    "r6g.4xlarge.search": (10, 12 * TIB), "r6g.8xlarge.search": (10, 16 * TIB),
    "r6g.12xlarge.search": (10, 24 * TIB),
    "r7g.medium.search": (10, 768), "r7g.large.search": (10, 1536), "r7g.xlarge.search": (10, 3 * TIB),
    "r7g.2xlarge.search": (10, 6 * TIB), "r7g.4xlarge.search": (10, 12 * TIB), "r7g.8xlarge.search": (10, 16 * TIB),
    "r7g.12xlarge.search": (10, 24 * TIB), "r7g.16xlarge.search": (10, 36 * TIB),
    "r7i.large.search": (10, 1536), "r7i.xlarge.search": (10, 3 * TIB), "r7i.2xlarge.search": (10, 6 * TIB),
    "r7i.4xlarge.search": (10, 12 * TIB), "r7i.8xlarge.search": (10, 16 * TIB),
    "r7i.12xlarge.search": (10, 24 * TIB),
    "or1.medium.search": (20, 768), "or1.large.search": (20, 1532), "or1.xlarge.search": (20, 3 * TIB),
    "or1.2xlarge.search": (20, 6 * TIB), "or1.4xlarge.search": (20, 12 * TIB), "or1.8xlarge.search": (20, 16 * TIB),
    "or1.12xlarge.search": (20, 24 * TIB), "or1.16xlarge.search": (20, 36 * TIB),
}
INSTANCE_TYPES = tuple(VOLUME_LIMITS_GIB)

# "Choosing instance types for dedicated master nodes": the recommended minimum type by instance count, the
# Graviton choice of each row (upper bound of the row, type).
MASTER_TYPES_BY_INSTANCES = (
    (10, "m6g.large.search"),
    (30, "c6g.2xlarge.search"),
    (75, "c6g.4xlarge.search"),
    (125, "r6g.2xlarge.search"),
    (200, "r6g.4xlarge.search"),
)

def engine_version_problem(version: str) -> str | None:
    if version in ENGINE_VERSIONS:
        return None
    return (f"{version!r} is not an OpenSearch version Amazon OpenSearch Service runs; one of "
            f"{', '.join(ENGINE_VERSIONS)}")


def instance_type_problem(instance_type: str) -> str | None:
    if instance_type in VOLUME_LIMITS_GIB:
        return None
    if not instance_type.endswith(SEARCH_SUFFIX):
        hint = (f"; did you mean {instance_type + SEARCH_SUFFIX!r}?"
                if instance_type + SEARCH_SUFFIX in VOLUME_LIMITS_GIB else "")
        return (f"{instance_type!r} is not an OpenSearch Service instance type: they end in '{SEARCH_SUFFIX}' "
                f"(such as 'r6g.large.search'){hint}")
    families = sorted({t.split(".", 1)[0] for t in INSTANCE_TYPES})
    return (f"{instance_type!r} is not a current-generation OpenSearch Service type with gp3 EBS storage that "
            f"Odyssey supports (families {', '.join(families)}; no burstable or instance-storage types)")


def data_nodes_problem(count: int) -> str | None:
    if count >= ZONES and count % ZONES == 0 and count <= MAX_DATA_NODES:
        return None
    if count > MAX_DATA_NODES:
        return f"is {count}; a domain holds at most {MAX_DATA_NODES} instances by default (an adjustable quota)"
    return (f"is {count}; the domain spreads its data nodes over {ZONES} availability zones, so it needs a "
            f"multiple of {ZONES} (at least {ZONES})")


def volume_problem(instance_type: str, volume_gib: int) -> str | None:
    """Whether a gp3 volume of ``volume_gib`` fits ``instance_type``; None also for unknown types (reported apart)."""
    limits = VOLUME_LIMITS_GIB.get(instance_type)
    if limits is None or limits[0] <= volume_gib <= limits[1]:
        return None
    return (f"is {volume_gib} GiB; a {instance_type} data node takes a gp3 volume of {limits[0]:,} to "
            f"{limits[1]:,} GiB")


def dedicated_master_type(data_nodes: int) -> str:
    """The smallest dedicated master type AWS recommends for a domain of ``data_nodes`` data nodes."""
    for upper, instance_type in MASTER_TYPES_BY_INSTANCES:
        if data_nodes <= upper:
            return instance_type
    raise ValueError(f"{data_nodes} data nodes: AWS recommends no master type past {MASTER_TYPES_BY_INSTANCES[-1][0]}")


def domain_subnets(private_subnet_ids: list[str], subnet_zones: dict[str, str] | None = None) -> list[str]:
    """One private subnet in each of the first ``ZONES`` zones, in the order the subnets are listed.

    A zone-aware domain takes exactly one subnet per zone. A new VPC has one
    private subnet per zone (no ``subnet_zones`` needed); an existing VPC may
    have several, whose zones were looked up.
    """
    chosen: dict[str, str] = {}
    for index, subnet in enumerate(private_subnet_ids):
        zone = (subnet_zones or {}).get(subnet, f"zone-{index}")
        chosen.setdefault(zone, subnet)
    if len(chosen) < ZONES:
        raise ValueError(f"the private subnets span {len(chosen)} zone(s); the domain needs {ZONES}")
    return list(chosen.values())[:ZONES]


def subscription_filter_name(cluster_name: str) -> str:
    """The subscription filter a log group gets for the cluster's log search (a log group takes two filters)."""
    return f"{cluster_name}-log-search"
