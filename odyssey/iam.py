"""IAM policy documents, as plain JSON text the components attach."""

from __future__ import annotations

import json
from collections.abc import Sequence


def assume_role_policy(service: str) -> str:
    """A trust policy letting one AWS service principal (``ec2.amazonaws.com``) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def allow_policy(actions: Sequence[str], resources: Sequence[str]) -> str:
    """A policy allowing ``actions`` on ``resources`` and nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": list(resources)}],
        }
    )
