"""AlertTopic: an encrypted SNS topic that alarms and EventBridge rules publish to, with optional subscribers."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.encryption_key import KEY_DELETION_WINDOW_DAYS
from odyssey.domain.iam import alert_key_policy, topic_publish_policy


@dataclass(frozen=True)
class AlertTopicArgs:
    """Inputs of ``AlertTopic``.

    Attributes:
        description: what the topic carries; the KMS key's description and the topic's display name (first 100
            characters, the SNS limit).
        email: email address to subscribe; the subscription stays pending until confirmed. Default: none.
        https: HTTPS endpoint to subscribe, such as a chat webhook. Default: none.
    """

    description: str
    email: str | None = None
    https: str | None = None


class AlertTopic(pulumi.ComponentResource):
    """A KMS key (rotated), the topic encrypted with it, its publish policy and subscriptions.

    Output: ``topic_arn``. Email subscriptions stay pending until the
    recipient confirms them.
    """

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:alerts:AlertTopic", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self))
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self))
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Encrypts the {args.description} topic",
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(caller.account_id, partition.partition).apply(lambda v: alert_key_policy(*v)),
            opts=child,
        )
        topic = aws.sns.Topic(f"{name}-topic", display_name=args.description[:100], kms_master_key_id=key.arn,
                              opts=child)
        aws.sns.TopicPolicy(
            f"{name}-topic",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, caller.account_id).apply(lambda v: topic_publish_policy(*v)),
            opts=child,
        )
        for protocol, endpoint in (("email", args.email), ("https", args.https)):
            if endpoint:
                aws.sns.TopicSubscription(f"{name}-{protocol}", topic=topic.arn, protocol=protocol,
                                          endpoint=endpoint, opts=child)
        self.topic_arn = topic.arn
        self.register_outputs({"topicArn": self.topic_arn})
