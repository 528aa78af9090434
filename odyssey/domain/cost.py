"""What a plan costs a month, from the resources it registers and a pinned price table.

Every line is quantity x unit price (x 730 hours for hourly prices): the
quantity comes from the planned resources' inputs, or, where only traffic can
tell (log volume, LCUs, bytes through NAT), from a stated assumption
(``Assumptions``). List prices only: on-demand, no free tier, no Savings Plans
or Reserved Instances, no taxes. Not estimated at all: data transfer (internet
egress, cross-zone), request charges (KMS, SNS, SQS, WAF requests, Cloud Map
API calls, EventBridge) and anything not in the plan.

``chargeback`` splits the shared cluster's cost across its tenants and
``one_alb_per_service`` prices the design the shared ALB replaced (003/004:
one load balancer per public service). Standard library only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HOURS_PER_MONTH = 730  # AWS's pricing pages and calculator bill a month as 730 hours (8,760 / 12)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24
NEVER_EXPIRES_HORIZON_DAYS = 365  # a log group or bucket kept forever is counted at one year of data
PRICES_FILE = Path(__file__).with_name("prices.json")

APP_STACK = "odyssey:app:AppStack"

# ---------------------------------------------------------------- prices


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    unit: str
    service_code: str
    usage_type: str | None
    page: str
    seen_in: str
    tier: str | None = None  # the tier of a tiered price this is (the first, what a stack this size pays)

    def to_json(self) -> dict[str, Any]:
        return {"usd": self.usd, "unit": self.unit, "tier": self.tier, "serviceCode": self.service_code,
                "usageType": self.usage_type, "page": self.page, "seenIn": self.seen_in}


@dataclass(frozen=True)
class PriceTable:
    region: str
    date: str
    prices: Mapping[str, Price]
    not_found: Mapping[str, str] = field(default_factory=dict)

    def get(self, key: str) -> Price | None:
        return self.prices.get(key)


class PriceTableError(Exception):
    """No price table for a region, or a malformed one."""


def price_tables(document: Mapping[str, Any]) -> dict[str, PriceTable]:
    """The tables of a prices document (``prices.json``'s shape), by region."""
    tables = {}
    for region, body in (document.get("regions") or {}).items():
        try:
            prices = {key: Price(key, float(p["usd"]), p["unit"], p["serviceCode"], p.get("usageType"), p["page"],
                                 p["seenIn"], p.get("tier")) for key, p in body["prices"].items()}
            tables[region] = PriceTable(region, body["date"], prices, dict(body.get("notFound") or {}))
        except (KeyError, TypeError, ValueError) as error:
            raise PriceTableError(f"prices for {region}: malformed ({type(error).__name__}: {error})") from None
    return tables


def pinned_prices(region: str, path: Path = PRICES_FILE) -> PriceTable:
    """The committed table for ``region``."""
    tables = price_tables(json.loads(path.read_text()))
    if region not in tables:
        raise PriceTableError(f"no pinned prices for {region} (pinned: {', '.join(sorted(tables))}); "
                              f"run `odyssey cost STACK --refresh-prices` with AWS credentials to add it")
    return tables[region]


# ---------------------------------------------------------------- assumptions


@dataclass(frozen=True)
class Assumptions:
    """What only traffic can tell, assumed; each figure is printed with the estimate."""

    lcu_per_alb: float = 1.0  # average LCUs an ALB bills each hour (1 LCU: 25 new conn/s, 1 GB/h, 1,000 rule evals/s)
    nat_gb_per_gateway_month: float = 30.0  # image pulls, ECS agent, SSM: about 1 GB a day through each NAT
    service_log_gb_per_day: float = 0.1  # what one ECS service's containers log
    other_log_gb_per_day: float = 0.01  # each other log group: ECS Exec sessions, host daemons, event audit, WAF
    flow_log_gb_per_day: float = 0.5  # one VPC's flow log records (ALL traffic, 60 s aggregation)
    bucket_gb_per_day: float = 0.1  # written to each S3 bucket (the ALB access logs)
    firehose_gb_per_day: float = 1.0  # ingested by each Firehose stream
    insights_metrics_per_cluster: int = 11  # Container Insights metrics at the cluster level
    insights_metrics_per_service: int = 21  # per service: its ServiceName metrics and its task family's
    insights_log_gb_per_service_day: float = 0.05  # Container Insights performance log events per service
    alarms_per_target_tracking_policy: int = 2  # AWS creates a high and a low alarm for each policy

    def lines(self) -> list[str]:
        return [
            f"ALB LCUs: {self.lcu_per_alb:g} LCU per ALB every hour (traffic-dependent; an idle ALB bills none)",
            f"NAT: {self.nat_gb_per_gateway_month:g} GB processed per gateway a month",
            f"logs: {self.service_log_gb_per_day:g} GB a day per ECS service, {self.other_log_gb_per_day:g} GB a "
            f"day per other log group, stored uncompressed for the group's retention "
            f"(never-expiring: {NEVER_EXPIRES_HORIZON_DAYS} days)",
            f"VPC flow logs: {self.flow_log_gb_per_day:g} GB a day per flow log",
            f"S3: {self.bucket_gb_per_day:g} GB a day into each bucket, kept until its lifecycle expiry",
            f"Firehose: {self.firehose_gb_per_day:g} GB a day per stream",
            f"Container Insights: {self.insights_metrics_per_cluster} metrics per cluster and "
            f"{self.insights_metrics_per_service} per service (custom metrics), "
            f"{self.insights_log_gb_per_service_day:g} GB of performance log events a day per service",
            f"target tracking: {self.alarms_per_target_tracking_policy} alarms per policy (created by AWS)",
        ]


NOT_ESTIMATED = (
    "data transfer: internet egress, cross-zone traffic, ALB and NAT bytes beyond the assumptions",
    "request charges: KMS requests, SNS deliveries, SQS requests, WAF requests, Cloud Map API calls, "
    "EventBridge and Scheduler invocations, CloudWatch API calls",
    "traffic-dependent ALB LCUs above the assumed average",
    "free tiers, Savings Plans, Reserved Instances, taxes",
    "instances between the group's minimum and maximum (both ends are shown)",
)

# ---------------------------------------------------------------- what each planned type costs

# Types priced by a line here, with the lines they feed.
PRICED: Mapping[str, str] = {
    "aws:autoscaling/group:Group": "EC2 instances and their root volumes, at min and max size",
    "awsx:ec2:Vpc": "NAT gateways (hours, data, their public IPv4 addresses)",
    "aws:lb/loadBalancer:LoadBalancer": "ALB hours, LCUs, public IPv4 addresses",
    "aws:kms/key:Key": "KMS key-months",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "CloudWatch alarm metrics",
    "aws:appautoscaling/policy:Policy": "the alarms AWS creates for target tracking",
    "aws:ecs/capacityProvider:CapacityProvider": "the alarms AWS creates for managed scaling",
    "aws:ecs/cluster:Cluster": "Container Insights (cluster metrics)",
    "aws:ecs/service:Service": "Container Insights (service metrics), logs, Cloud Map instances",
    "aws:cloudwatch/logGroup:LogGroup": "log ingestion and storage",
    "aws:ec2/flowLog:FlowLog": "VPC flow logs (vended logs)",
    "aws:wafv2/webAcl:WebAcl": "WAF web ACL and rules",
    "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace": "the namespace's Route 53 private hosted zone",
    "aws:servicediscovery/service:Service": "Cloud Map registered instances (from its ECS service's tasks)",
    "aws:opensearch/domain:Domain": "OpenSearch instance-hours and storage",
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "Firehose ingestion",
    "aws:s3/bucket:Bucket": "S3 storage",
}

FREE: Mapping[str, str] = {
    "pulumi:providers:aws": "a Pulumi provider, not an AWS resource",
    "pulumi:pulumi:StackReference": "reads another stack's outputs",
    "aws:ec2/launchTemplate:LaunchTemplate": "no charge; its instances and volumes are priced through the group",
    "aws:ec2/securityGroup:SecurityGroup": "no charge",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "no charge",
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": "no charge",
    "aws:iam/role:Role": "IAM has no charge",
    "aws:iam/rolePolicy:RolePolicy": "IAM has no charge",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "IAM has no charge",
    "aws:iam/instanceProfile:InstanceProfile": "IAM has no charge",
    "aws:iam/policy:Policy": "IAM has no charge",
    "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders": "no charge",
    "aws:ecs/taskDefinition:TaskDefinition": "no charge on EC2: tasks run on the priced instances",
    "aws:appautoscaling/target:Target": "Application Auto Scaling has no charge",
    "aws:lb/listener:Listener": "billed inside the ALB's hours and LCUs",
    "aws:lb/listenerRule:ListenerRule": "billed inside the ALB's LCUs (rule evaluations)",
    "aws:lb/targetGroup:TargetGroup": "billed inside the ALB's hours and LCUs",
    "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": "no charge",
    "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": "no charge; what it delivers is priced at the "
                                                                   "destination",
    "aws:cloudwatch/eventRule:EventRule": "AWS service events are free; custom events per request, not estimated",
    "aws:cloudwatch/eventTarget:EventTarget": "no charge beyond the rule's events",
    "aws:scheduler/schedule:Schedule": "per invocation (a few runs a day): not estimated",
    "aws:sns/topic:Topic": "per request and delivery: not estimated",
    "aws:sns/topicPolicy:TopicPolicy": "no charge",
    "aws:sns/topicSubscription:TopicSubscription": "per delivery: not estimated",
    "aws:sqs/queue:Queue": "per request: not estimated",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": "no charge; it bounds the bucket's storage",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "no charge",
    "aws:s3/bucketPolicy:BucketPolicy": "no charge",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "no charge",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": "no charge; with "
        "SSE-KMS its key is priced and its KMS requests are not estimated",
    "aws:kms/alias:Alias": "no charge",
    "aws:route53/record:Record": "alias records to an ALB: no charge for records or their queries",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "no charge; the web ACL is priced",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "no charge; its logs are priced at the "
                                                                         "log group",
    "aws:opensearch/domainPolicy:DomainPolicy": "no charge",
    "aws:kms/keyPolicy:KeyPolicy": "no charge; the key is priced",
    "aws:s3/bucketVersioning:BucketVersioning": "no charge; versions kept are S3 storage",
    "aws:s3/bucketNotification:BucketNotification": "no charge",
}


def is_cloud_resource(record: Mapping[str, Any]) -> bool:
    """A record that can cost money: a custom resource, or a remote component (awsx) whose children do."""
    return bool(record.get("custom") or record.get("remote"))


def unclassified_types(resources: Iterable[Mapping[str, Any]]) -> list[str]:
    """Types of cloud resources neither priced nor listed as free: a new type must be decided on."""
    return sorted({r["type"] for r in resources if is_cloud_resource(r)} - set(PRICED) - set(FREE))


# ---------------------------------------------------------------- lines


@dataclass(frozen=True)
class CostLine:
    key: str
    label: str
    scope: str  # "cluster": the shared machine layer; "stack": the application stack's own
    quantity_min: float
    quantity_max: float
    unit: str
    price_key: str
    unit_usd: float | None  # None: no price in the table
    monthly_min: float
    monthly_max: float
    formula: str
    resources: tuple[str, ...] = ()
    unpriced: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "scope": self.scope,
                "quantity": {"min": self.quantity_min, "max": self.quantity_max}, "unit": self.unit,
                "priceKey": self.price_key, "unitPrice": self.unit_usd,
                "monthly": {"min": round(self.monthly_min, 2), "max": round(self.monthly_max, 2)},
                "formula": self.formula, "resources": list(self.resources), "unpriced": self.unpriced}


def _line(key: str, label: str, quantity: float | tuple[float, float], unit: str, price_key: str,
          prices: PriceTable, factor: float, formula: str, resources: Iterable[str] = (),
          missing: str | None = None) -> CostLine:
    """quantity x price x factor (730 for hourly prices, 1 for monthly ones); unpriced when the table lacks it."""
    low, high = quantity if isinstance(quantity, tuple) else (quantity, quantity)
    price = prices.get(price_key)
    usd = price.usd if price else None
    reason = None if price else (missing or f"no price {price_key} in the {prices.region} table")
    return CostLine(key, label, "stack", low, high, unit, price_key, usd,
                    low * usd * factor if usd is not None else 0.0, high * usd * factor if usd is not None else 0.0,
                    formula, tuple(resources), reason)


def _number(value: Any, default: float = 0.0) -> float:
    return default if value is None else float(value)


def _of(resources: Sequence[Mapping[str, Any]], type_: str) -> list[Mapping[str, Any]]:
    return [r for r in resources if r["type"] == type_]


def _inputs(record: Mapping[str, Any]) -> Mapping[str, Any]:
    return record.get("inputs") or {}


def _depends(record: Mapping[str, Any], prop: str, candidates: Sequence[Mapping[str, Any]]) -> Mapping | None:
    """The candidate ``record``'s property ``prop`` was built from; the only candidate when the plan has one."""
    urns = set((record.get("propertyDependencies") or {}).get(prop) or ())
    found = [c for c in candidates if c.get("urn") in urns]
    if found:
        return found[0]
    return candidates[0] if len(candidates) == 1 else None


def instance_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable) -> list[CostLine]:
    """EC2 instances at the group's minimum and maximum size, and their root volumes."""
    templates = _of(resources, "aws:ec2/launchTemplate:LaunchTemplate")
    lines = []
    for group in _of(resources, "aws:autoscaling/group:Group"):
        low, high = _number(_inputs(group).get("minSize")), _number(_inputs(group).get("maxSize"))
        template = _depends(group, "launchTemplate", templates)
        inputs = _inputs(template) if template else {}
        kind = inputs.get("instanceType") or "unknown"
        lines.append(_line(
            "ec2Instances", f"EC2 {kind} instances", (low, high), "instances", f"ec2.instance.{kind}", prices,
            HOURS_PER_MONTH, f"instances x {kind} hourly price x {HOURS_PER_MONTH} h", [group["name"]]))
        for mapping in inputs.get("blockDeviceMappings") or ():
            ebs = mapping.get("ebs") or {}
            size, volume_type = _number(ebs.get("volumeSize")), ebs.get("volumeType") or "gp2"
            lines.append(_line(
                "ebsRootVolumes", f"EBS {volume_type} root volumes ({size:g} GiB)", (low * size, high * size),
                "GB", f"ebs.{volume_type}.gbMonth", prices, 1,
                f"instances x {size:g} GB x {volume_type} GB-month price", [group["name"]]))
    return lines


NAT_COUNT = {"OnePerAz": "zones", "Single": 1, "None": 0}
AWSX_DEFAULT_ZONES = 3  # awsx.ec2.Vpc's numberOfAvailabilityZones default


def nat_gateways(vpc_inputs: Mapping[str, Any]) -> int:
    """NAT gateways an awsx VPC creates: one per zone (OnePerAz, awsx's default), one (Single) or none."""
    strategy = (vpc_inputs.get("natGateways") or {}).get("strategy") or "OnePerAz"
    zones = len(vpc_inputs.get("availabilityZoneNames") or ()) or int(
        _number(vpc_inputs.get("numberOfAvailabilityZones"), AWSX_DEFAULT_ZONES))
    count = NAT_COUNT.get(strategy, "zones")
    return zones if count == "zones" else int(count)


def nat_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    lines = []
    for vpc in _of(resources, "awsx:ec2:Vpc"):
        count = nat_gateways(_inputs(vpc))
        if not count:
            continue
        names = [vpc["name"]]
        lines += [
            _line("natGatewayHours", "NAT gateways", count, "gateways", "vpc.natGateway.hour", prices,
                  HOURS_PER_MONTH, f"gateways x hourly price x {HOURS_PER_MONTH} h", names),
            _line("natGatewayData", f"NAT data (assumed {assume.nat_gb_per_gateway_month:g} GB/gateway)",
                  count * assume.nat_gb_per_gateway_month, "GB", "vpc.natGateway.gb", prices, 1,
                  "gateways x assumed GB x per-GB price", names),
            _line("natPublicIpv4", "NAT public IPv4 (one per gateway)", count, "addresses",
                  "vpc.publicIpv4.hour", prices, HOURS_PER_MONTH, f"one address per gateway x hourly price x "
                  f"{HOURS_PER_MONTH} h", names),
        ]
    return lines


def _is_alb(record: Mapping[str, Any]) -> bool:
    return (_inputs(record).get("loadBalancerType") or "application") == "application"


def alb_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    albs = [r for r in _of(resources, "aws:lb/loadBalancer:LoadBalancer") if _is_alb(r)]
    if not albs:
        return []
    names = [r["name"] for r in albs]
    # An internet-facing ALB holds a public IPv4 address in each of its subnets' zones (at least; it adds nodes
    # as it scales).
    addresses = sum(len(_inputs(r).get("subnets") or ()) for r in albs if not _inputs(r).get("internal"))
    lines = [
        _line("albHours", "Application Load Balancers", len(albs), "ALBs", "elb.alb.hour", prices, HOURS_PER_MONTH,
              f"ALBs x hourly price x {HOURS_PER_MONTH} h", names),
        _line("albLcus", f"ALB LCUs (assumed {assume.lcu_per_alb:g} per ALB)", len(albs) * assume.lcu_per_alb,
              "LCUs", "elb.alb.lcuHour", prices, HOURS_PER_MONTH,
              f"ALBs x assumed LCUs x LCU-hour price x {HOURS_PER_MONTH} h", names),
    ]
    if addresses:
        lines.append(_line("albPublicIpv4", "ALB public IPv4 (one per zone)", addresses, "addresses",
                           "vpc.publicIpv4.hour", prices, HOURS_PER_MONTH,
                           f"subnets of internet-facing ALBs x hourly price x {HOURS_PER_MONTH} h", names))
    return lines


def count_line(key: str, label: str, records: Sequence[Mapping[str, Any]], unit: str, price_key: str,
               prices: PriceTable) -> list[CostLine]:
    if not records:
        return []
    return [_line(key, label, len(records), unit, price_key, prices, 1, f"{unit} x monthly price",
                  [r["name"] for r in records])]


def kms_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable) -> list[CostLine]:
    keys = _of(resources, "aws:kms/key:Key")
    rotating = sum(1 for k in keys if _inputs(k).get("enableKeyRotation"))
    return [replace(line, formula=f"keys x monthly price, in their first year ({rotating} rotate yearly: each of "
                                  "the first two rotations adds the monthly price again)")
            for line in count_line("kmsKeys", "KMS keys", keys, "keys", "kms.key.month", prices)]


def alarm_metrics(alarm_inputs: Mapping[str, Any]) -> int:
    """Metrics an alarm is billed for: one, or each metric its metric-math queries list."""
    queries = alarm_inputs.get("metricQueries") or ()
    return sum(1 for q in queries if q.get("metric") is not None) if queries else 1


def alarm_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    alarms = _of(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
    tracking = [r for r in _of(resources, "aws:appautoscaling/policy:Policy")
                if _inputs(r).get("policyType") == "TargetTrackingScaling"]
    managed = [r for r in _of(resources, "aws:ecs/capacityProvider:CapacityProvider")
               if ((_inputs(r).get("autoScalingGroupProvider") or {}).get("managedScaling") or {}).get("status")
               == "ENABLED"]
    metrics = (sum(alarm_metrics(_inputs(a)) for a in alarms)
               + assume.alarms_per_target_tracking_policy * (len(tracking) + len(managed)))
    if not metrics:
        return []
    return [_line("alarms", "CloudWatch alarm metrics", metrics, "alarm metrics",
                  "cloudwatch.alarm.metricMonth", prices, 1,
                  f"metrics of {len(alarms)} alarms + {assume.alarms_per_target_tracking_policy} per target-tracking "
                  f"policy ({len(tracking)}) and managed-scaling capacity provider ({len(managed)}) x price",
                  [r["name"] for r in alarms + tracking + managed])]


def _insights_on(resources: Sequence[Mapping[str, Any]]) -> bool:
    clusters = _of(resources, "aws:ecs/cluster:Cluster")
    # A stack on another's cluster: the owner's policy (logging-enabled) makes Container Insights mandatory.
    return not clusters or any(s.get("name") == "containerInsights" and s.get("value") in ("enabled", "enhanced")
                               for c in clusters for s in _inputs(c).get("settings") or ())


def insights_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    if not _insights_on(resources):
        return []
    clusters = _of(resources, "aws:ecs/cluster:Cluster")
    services = _of(resources, "aws:ecs/service:Service")
    metrics = assume.insights_metrics_per_cluster * len(clusters) + assume.insights_metrics_per_service * len(services)
    if not metrics:
        return []
    names = [r["name"] for r in clusters + services]
    lines = [_line("containerInsightsMetrics", "Container Insights metrics", metrics, "metrics",
                   "cloudwatch.metric.month", prices, 1,
                   f"{assume.insights_metrics_per_cluster} x clusters ({len(clusters)}) + "
                   f"{assume.insights_metrics_per_service} x services ({len(services)}) x custom-metric price", names)]
    if services:
        gb = len(services) * assume.insights_log_gb_per_service_day * DAYS_PER_MONTH
        lines.append(_line("containerInsightsLogs", "Container Insights performance logs", gb, "GB",
                           "cloudwatch.logs.ingestGb", prices, 1,
                           f"services x {assume.insights_log_gb_per_service_day:g} GB/day x {DAYS_PER_MONTH:.3g} days"
                           " x ingestion price", names))
    return lines


def _log_groups_of_services(resources: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Log group name -> how many ECS services log to it (through their task definitions' awslogs options)."""
    families = {}
    for task in _of(resources, "aws:ecs/taskDefinition:TaskDefinition"):
        groups = {((c.get("logConfiguration") or {}).get("options") or {}).get("awslogs-group")
                  for c in json.loads(_inputs(task).get("containerDefinitions") or "[]")}
        families[_inputs(task).get("family")] = groups - {None}
    counts: dict[str, int] = {}
    for service in _of(resources, "aws:ecs/service:Service"):
        family = (_inputs(service).get("taskDefinition") or "").rsplit("/", 1)[-1].rsplit(":", 1)[0]
        for group in families.get(family, ()):
            counts[group] = counts.get(group, 0) + 1
    return counts


def _retention_days(group: Mapping[str, Any]) -> float:
    return _number(_inputs(group).get("retentionInDays")) or NEVER_EXPIRES_HORIZON_DAYS


def log_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    """Ingestion and steady-state storage of every log group but the flow logs' (priced as vended logs)."""
    flow_destinations = [_inputs(f).get("logDestination") or "" for f in _of(resources, "aws:ec2/flowLog:FlowLog")]
    services = _log_groups_of_services(resources)
    per_day, stored, names = 0.0, 0.0, []
    for group in _of(resources, "aws:cloudwatch/logGroup:LogGroup"):
        name = _inputs(group).get("name") or group["name"]
        if any(destination.endswith(name) for destination in flow_destinations):
            continue
        gb = (services[name] * assume.service_log_gb_per_day if name in services else assume.other_log_gb_per_day)
        per_day += gb
        stored += gb * _retention_days(group)
        names.append(group["name"])
    if not names:
        return []
    return [
        _line("logIngestion", "CloudWatch Logs ingestion", per_day * DAYS_PER_MONTH, "GB", "cloudwatch.logs.ingestGb",
              prices, 1, f"assumed GB/day of {len(names)} groups x {DAYS_PER_MONTH:.3g} days x ingestion price",
              names),
        _line("logStorage", "CloudWatch Logs stored (at retention)", stored, "GB", "cloudwatch.logs.storeGbMonth",
              prices, 1, "assumed GB/day x each group's retention days x GB-month price", names),
    ]


def flow_log_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    flows = _of(resources, "aws:ec2/flowLog:FlowLog")
    if not flows:
        return []
    groups = _of(resources, "aws:cloudwatch/logGroup:LogGroup")
    retention = [next((_retention_days(g) for g in groups
                       if (_inputs(f).get("logDestination") or "").endswith(_inputs(g).get("name") or "\0")),
                      NEVER_EXPIRES_HORIZON_DAYS) for f in flows]
    names = [f["name"] for f in flows]
    per_day = assume.flow_log_gb_per_day
    return [
        _line("flowLogDelivery", "VPC flow logs delivered (vended)", len(flows) * per_day * DAYS_PER_MONTH, "GB",
              "cloudwatch.vendedLogs.ingestGb", prices, 1,
              f"flow logs x {per_day:g} GB/day x {DAYS_PER_MONTH:.3g} days x vended-log price", names),
        _line("flowLogStorage", "VPC flow logs stored (at retention)", sum(per_day * days for days in retention),
              "GB", "cloudwatch.logs.storeGbMonth", prices, 1,
              f"{per_day:g} GB/day x the log group's retention days x GB-month price", names),
    ]


def waf_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable) -> list[CostLine]:
    acls = _of(resources, "aws:wafv2/webAcl:WebAcl")
    if not acls:
        return []
    # WAF bills each entry of a web ACL's rules as one rule: a rule, or a reference to a rule group, which counts
    # as one rule however many rules the group holds (the table's waf.rule.month source).
    rules = sum(len(_inputs(a).get("rules") or ()) for a in acls)
    names = [a["name"] for a in acls]
    return [
        _line("wafWebAcls", "WAF web ACLs", len(acls), "web ACLs", "waf.webAcl.month", prices, 1,
              "web ACLs x monthly price", names),
        _line("wafRules", "WAF rules and rule groups", rules, "rules", "waf.rule.month", prices, 1,
              "entries of every web ACL's rules (a rule group counts as one) x monthly price", names),
    ]


def _desired_tasks(service: Mapping[str, Any], resources: Sequence[Mapping[str, Any]]) -> float:
    inputs = _inputs(service)
    if inputs.get("desiredCount") is not None:
        return _number(inputs["desiredCount"])
    name = inputs.get("name") or ""
    targets = [t for t in _of(resources, "aws:appautoscaling/target:Target")
               if (_inputs(t).get("resourceId") or "").endswith(f"/{name}")]
    return _number(_inputs(targets[0]).get("minCapacity")) if targets else 0.0


def cloud_map_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable) -> list[CostLine]:
    lines = count_line("cloudMapNamespaces", "Cloud Map namespaces (Route 53 private zones)",
                       _of(resources, "aws:servicediscovery/privateDnsNamespace:PrivateDnsNamespace"),
                       "hosted zones", "route53.hostedZone.month", prices)
    registered = [s for s in _of(resources, "aws:ecs/service:Service") if _inputs(s).get("serviceRegistries")]
    if registered:
        tasks = sum(_desired_tasks(s, resources) for s in registered)
        lines.append(_line("cloudMapInstances", "Cloud Map instances (tasks at desired count)", tasks,
                           "instances", "cloudmap.resource.month", prices, 1,
                           "tasks of services with discovery x monthly price", [s["name"] for s in registered]))
    return lines


def opensearch_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable) -> list[CostLine]:
    lines = []
    for domain in _of(resources, "aws:opensearch/domain:Domain"):
        cluster = _inputs(domain).get("clusterConfig") or {}
        nodes = [(cluster.get("instanceType") or "unknown", _number(cluster.get("instanceCount"), 1))]
        if cluster.get("dedicatedMasterEnabled"):
            nodes.append((cluster.get("dedicatedMasterType") or "unknown", _number(cluster.get("dedicatedMasterCount"))))
        missing = "OpenSearch prices were not found in a source (see the table's notFound)"
        for kind, count in nodes:
            lines.append(_line("opensearchInstances", f"OpenSearch {kind} instances", count, "instances",
                               f"opensearch.instance.{kind}", prices, HOURS_PER_MONTH,
                               f"instances x hourly price x {HOURS_PER_MONTH} h", [domain["name"]], missing))
        ebs = _inputs(domain).get("ebsOptions") or {}
        if ebs.get("ebsEnabled", True) and ebs.get("volumeSize"):
            volume_type = ebs.get("volumeType") or "gp3"
            size = _number(ebs["volumeSize"]) * nodes[0][1]
            lines.append(_line("opensearchStorage", f"OpenSearch {volume_type} storage", size, "GB",
                               f"opensearch.storage.{volume_type}", prices, 1,
                               "volume size x data nodes x GB-month price", [domain["name"]], missing))
    return lines


def firehose_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    streams = _of(resources, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    if not streams:
        return []
    return [_line("firehoseIngestion", f"Firehose ingestion (assumed {assume.firehose_gb_per_day:g} GB/day each)",
                  len(streams) * assume.firehose_gb_per_day * DAYS_PER_MONTH, "GB", "firehose.ingestGb", prices, 1,
                  f"streams x GB/day x {DAYS_PER_MONTH:.3g} days x per-GB price", [s["name"] for s in streams])]


def _expiry_days(bucket: Mapping[str, Any], resources: Sequence[Mapping[str, Any]]) -> float:
    for config in _of(resources, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"):
        if bucket.get("urn") in ((config.get("propertyDependencies") or {}).get("bucket") or ()):
            days = [_number((r.get("expiration") or {}).get("days")) for r in _inputs(config).get("rules") or ()
                    if r.get("status") == "Enabled" and (r.get("expiration") or {}).get("days")]
            if days:
                return max(days)
    return NEVER_EXPIRES_HORIZON_DAYS


def _access_log_buckets(resources: Sequence[Mapping[str, Any]]) -> set[str]:
    """URNs of the buckets an ALB writes its access logs to (its accessLogs input was built from them)."""
    return {urn for alb in _of(resources, "aws:lb/loadBalancer:LoadBalancer")
            for urn in (alb.get("propertyDependencies") or {}).get("accessLogs") or ()}


def s3_lines(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    """S3 storage at lifecycle expiry: the ALBs' access logs apart (the chargeback splits them with the ALB)."""
    access_logs = _access_log_buckets(resources)
    lines = []
    for key, label, chosen in (
        ("albAccessLogs", "ALB access logs in S3 (at lifecycle expiry)", True),
        ("s3Storage", "S3 storage (at lifecycle expiry)", False),
    ):
        buckets = [b for b in _of(resources, "aws:s3/bucket:Bucket") if (b.get("urn") in access_logs) == chosen]
        if buckets:
            stored = sum(assume.bucket_gb_per_day * _expiry_days(b, resources) for b in buckets)
            lines.append(_line(key, label, stored, "GB", "s3.standard.gbMonth", prices, 1,
                               f"{assume.bucket_gb_per_day:g} GB/day x each bucket's expiry days x GB-month price",
                               [b["name"] for b in buckets]))
    return lines


def lines_of(resources: Sequence[Mapping[str, Any]], prices: PriceTable, assume: Assumptions) -> list[CostLine]:
    """Every priced line of one set of planned resources."""
    return [
        *instance_lines(resources, prices),
        *nat_lines(resources, prices, assume),
        *alb_lines(resources, prices, assume),
        *kms_lines(resources, prices),
        *alarm_lines(resources, prices, assume),
        *insights_lines(resources, prices, assume),
        *log_lines(resources, prices, assume),
        *flow_log_lines(resources, prices, assume),
        *waf_lines(resources, prices),
        *cloud_map_lines(resources, prices),
        *opensearch_lines(resources, prices),
        *firehose_lines(resources, prices, assume),
        *s3_lines(resources, prices, assume),
    ]


def split_scopes(resources: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping], list[Mapping]]:
    """(the shared machine layer, the application stack's own): own is everything under an AppStack component."""
    by_urn = {r["urn"]: r for r in resources}

    def in_app(record: Mapping[str, Any]) -> bool:
        parent = record.get("parent")
        while parent in by_urn:
            if by_urn[parent]["type"] == APP_STACK:
                return True
            parent = by_urn[parent].get("parent")
        return record["type"] == APP_STACK

    own = [r for r in resources if in_app(r)]
    own_urns = {r["urn"] for r in own}
    return [r for r in resources if r["urn"] not in own_urns], own


@dataclass(frozen=True)
class Estimate:
    stack: str
    region: str
    price_date: str
    lines: tuple[CostLine, ...]
    unpriced_types: tuple[tuple[str, int, str], ...]  # (type, count, why it has no line)

    def total(self, scope: str | None = None) -> tuple[float, float]:
        """The priced lines' sum; ``unpriced`` names what it leaves out."""
        chosen = [line for line in self.lines if scope is None or line.scope == scope]
        return sum(line.monthly_min for line in chosen), sum(line.monthly_max for line in chosen)

    def unpriced(self, scope: str | None = None) -> list[CostLine]:
        """The lines the table has no price for: the total leaves them out, so every total names them."""
        return [line for line in self.lines if line.unpriced and (scope is None or line.scope == scope)]


def estimate(stack: str, resources: Sequence[Mapping[str, Any]], prices: PriceTable,
             assume: Assumptions = Assumptions()) -> Estimate:
    """A stack's monthly lines: its shared machine layer's (scope 'cluster') and its application stack's ('stack')."""
    shared, own = split_scopes(resources)
    lines = ([replace(line, scope="cluster") for line in lines_of(shared, prices, assume)]
             + lines_of(own, prices, assume))
    counts: dict[str, int] = {}
    for record in resources:
        if is_cloud_resource(record) and record["type"] in FREE:
            counts[record["type"]] = counts.get(record["type"], 0) + 1
    return Estimate(stack, prices.region, prices.date, tuple(lines),
                    tuple((t, n, FREE[t]) for t, n in sorted(counts.items())))


# ---------------------------------------------------------------- chargeback

# Split by rules, per ALB: what each ALB of the pool costs, its web ACL included (one per ALB).
ALB_LINES = frozenset({"albHours", "albLcus", "albPublicIpv4", "albAccessLogs", "wafWebAcls", "wafRules"})

CHARGEBACK_FORMULA = (
    "each tenant pays its own application stack's lines, plus a share of the owner's shared machine layer "
    "(every line outside the owner's AppStack): the load balancer lines (ALB hours, LCUs, public IPv4, access-log "
    "storage, the ALB's WAF web ACL and its rules) by its listener rules on the ALB it routes on (each ALB of the "
    "pool costs the same), and every other shared line (instances, root volumes, NAT, cluster alarms, Container "
    "Insights, logs (WAF logs among them), flow logs, keys, log search) by "
    "half its share of the tenants' reserved CPU units plus half its share of their reserved MiB "
    "(the quotas the owner's registry reserves for them, which the cluster is sized to guarantee)"
)


@dataclass(frozen=True)
class TenantWeight:
    stack: str
    cpu: int  # CPU units reserved for it (its quota)
    memory: int  # MiB reserved for it
    rules: Mapping[int, int]  # listener rules it has on each ALB of the pool, by 1-based index


def compute_shares(tenants: Sequence[TenantWeight]) -> dict[str, float]:
    """Each tenant's share of the compute: (cpu_i / sum cpu + memory_i / sum memory) / 2."""
    cpu, memory = sum(t.cpu for t in tenants), sum(t.memory for t in tenants)
    if not cpu or not memory:
        return {t.stack: 1 / len(tenants) for t in tenants} if tenants else {}
    return {t.stack: (t.cpu / cpu + t.memory / memory) / 2 for t in tenants}


def alb_shares(tenants: Sequence[TenantWeight], pool_size: int) -> dict[str, float]:
    """Each tenant's share of the ALB pool: on each ALB, its rules over all rules there; an ALB is 1/pool_size.

    An ALB no tenant has rules on is shared by compute share.
    """
    shares = dict.fromkeys((t.stack for t in tenants), 0.0)
    compute = compute_shares(tenants)
    for index in range(1, max(pool_size, 1) + 1):
        total = sum(t.rules.get(index, 0) for t in tenants)
        for tenant in tenants:
            part = tenant.rules.get(index, 0) / total if total else compute[tenant.stack]
            shares[tenant.stack] += part / max(pool_size, 1)
    return shares


@dataclass(frozen=True)
class TenantCharge:
    stack: str
    compute_share: float
    alb_share: float
    shared: tuple[float, float]
    own: tuple[float, float] | None  # None: not planned here

    @property
    def total(self) -> tuple[float, float]:
        own = self.own or (0.0, 0.0)
        return self.shared[0] + own[0], self.shared[1] + own[1]

    def to_json(self) -> dict[str, Any]:
        def pair_json(pair: tuple[float, float] | None) -> dict[str, float] | None:
            return None if pair is None else {"min": round(pair[0], 2), "max": round(pair[1], 2)}

        return {"stack": self.stack, "computeShare": round(self.compute_share, 4),
                "albShare": round(self.alb_share, 4), "shared": pair_json(self.shared), "own": pair_json(self.own),
                "total": pair_json(self.total)}


def chargeback(shared_lines: Sequence[CostLine], tenants: Sequence[TenantWeight], pool_size: int,
               own: Mapping[str, tuple[float, float]]) -> list[TenantCharge]:
    """Split ``shared_lines`` over ``tenants`` (``CHARGEBACK_FORMULA``) and add each tenant's ``own`` total."""
    compute, albs = compute_shares(tenants), alb_shares(tenants, pool_size)
    alb_low = sum(line.monthly_min for line in shared_lines if line.key in ALB_LINES)
    alb_high = sum(line.monthly_max for line in shared_lines if line.key in ALB_LINES)
    rest_low = sum(line.monthly_min for line in shared_lines if line.key not in ALB_LINES)
    rest_high = sum(line.monthly_max for line in shared_lines if line.key not in ALB_LINES)
    return [TenantCharge(t.stack, compute[t.stack], albs[t.stack],
                         (rest_low * compute[t.stack] + alb_low * albs[t.stack],
                          rest_high * compute[t.stack] + alb_high * albs[t.stack]),
                         own.get(t.stack)) for t in tenants]


# ---------------------------------------------------------------- the counterfactual


@dataclass(frozen=True)
class Counterfactual:
    public_services: int
    per_alb: float  # what one more ALB costs a month
    one_per_service: float
    shared: float  # what the shared design's ALB lines cost

    def to_json(self) -> dict[str, Any]:
        return {"publicServices": self.public_services, "perAlbMonthly": round(self.per_alb, 2),
                "oneAlbPerServiceMonthly": round(self.one_per_service, 2),
                "sharedDesignMonthly": round(self.shared, 2),
                "savingMonthly": round(self.one_per_service - self.shared, 2),
                "model": "003/004: one load balancer per public service (003 ran 70+ ELBs for 90+ services, 004 one "
                         "per app per environment); each priced as the shared ALB is: hours, the assumed LCUs and a "
                         "public IPv4 address per zone. Traffic LCUs would be about the same in total, but each "
                         "ALB bills its own, so this understates the separate ALBs"}


def one_alb_per_service(public_services: int, zones: int, prices: PriceTable, assume: Assumptions,
                        shared: float) -> Counterfactual:
    """What ``public_services`` ALBs of their own would cost a month, next to the shared design's ``shared``."""
    def hourly(key: str) -> float:
        price = prices.get(key)
        return price.usd if price else 0.0

    per_alb = HOURS_PER_MONTH * (hourly("elb.alb.hour") + assume.lcu_per_alb * hourly("elb.alb.lcuHour")
                                 + zones * hourly("vpc.publicIpv4.hour"))
    return Counterfactual(public_services, per_alb, public_services * per_alb, shared)


def not_counted(lines: Sequence[CostLine]) -> str:
    """What a total leaves out, for the sentence that prints it: '' when every line is priced."""
    if not lines:
        return ""
    return (f"not counted: {len(lines)} unpriced line{'' if len(lines) == 1 else 's'} "
            f"({', '.join(line.label for line in lines)})")


def money(value: float) -> str:
    """Dollars for people: no cents from 1,000 up."""
    return f"${value:,.0f}" if value >= 1000 else f"${value:,.2f}"


def money_range(low: float, high: float) -> str:
    return money(low) if math.isclose(low, high) else f"{money(low)}-{money(high)}"
