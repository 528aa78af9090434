"""Physical names derived from the project and stack, so stacks sharing an account never collide."""

from __future__ import annotations

from dataclasses import dataclass

from odyssey.domain.naming import ALB_NAME_MAX, aws_name

ECS_CLUSTER_NAME_MAX = 255


@dataclass(frozen=True)
class StackNames:
    project: str
    stack: str

    @property
    def cluster_name(self) -> str:
        return aws_name(self.project, self.stack, max_length=ECS_CLUSTER_NAME_MAX)

    @property
    def load_balancer_name(self) -> str:
        return aws_name(self.project, self.stack, max_length=ALB_NAME_MAX)

    def log_group(self, purpose: str) -> str:
        return f"/{self.project}/{self.stack}/{purpose}"


def default_tags(project: str, stack: str, department: str, contact: str, extra: dict[str, str]) -> dict[str, str]:
    """Tags on every resource (the provider's default tags) and propagated to instances."""
    return {
        **extra,
        "Project": project,
        "Stack": stack,
        "BillingDepartment": department,
        "BillingContact": contact,
        "ManagedBy": "pulumi",
    }
