"""EncryptionKey: a customer-managed KMS key with an alias, rotated, protected where the stack protects data.

A key that encrypts logs or sessions holds the ability to read them: losing it
loses the data, so it is protected and retained like the data itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.shared.stateful import stateful_options

# KMS waits 7-30 days before deleting a key; the longest window leaves time to notice a mistaken destroy.
KEY_DELETION_WINDOW_DAYS = 30


@dataclass(frozen=True)
class EncryptionKeyArgs:
    """Inputs of ``EncryptionKey``.

    Attributes:
        description: what the key encrypts, as KMS lists it.
        alias: its alias (``alias/...``), so operators find it by purpose.
        policy: its key policy from the account id and partition (a document of ``odyssey.domain.iam``).
        protect: protect and retain the key (``odyssey:protectStatefulResources``).
    """

    description: str
    alias: str
    policy: Callable[[str, str], str]
    protect: bool


class EncryptionKey(pulumi.ComponentResource):
    """The key (rotated yearly by KMS) and its alias. Output: ``arn``."""

    def __init__(self, name: str, args: EncryptionKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("odyssey:security:EncryptionKey", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        caller = aws.get_caller_identity_output(opts=invoke)
        partition = aws.get_partition_output(opts=invoke)
        key = aws.kms.Key(
            f"{name}-key",
            description=args.description,
            enable_key_rotation=True,
            deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(caller.account_id, partition.partition).apply(lambda v: args.policy(*v)),
            opts=stateful_options(self, args.protect),
        )
        aws.kms.Alias(f"{name}-alias", name=args.alias, target_key_id=key.key_id,
                      opts=pulumi.ResourceOptions(parent=self))
        self.arn = key.arn
        self.register_outputs({"arn": self.arn})
