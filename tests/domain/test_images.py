import pytest

from odyssey.domain.images import pinned_image_problem

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "reference",
    [
        "nginx:1.27.2",
        "public.ecr.aws/nginx/nginx:1.27.2",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:2024-11-25.3",
        "registry.example.com:5000/team/app:v1",
        f"nginx@{DIGEST}",
        f"nginx:1.27@{DIGEST}",
    ],
)
def test_pinned_references_pass(reference):
    assert pinned_image_problem(reference) is None


@pytest.mark.parametrize(
    "reference, reason",
    [
        ("nginx", "no tag"),
        ("registry.example.com:5000/team/app", "no tag"),
        ("nginx:latest", "'latest'"),
        ("public.ecr.aws/nginx/nginx:latest", "'latest'"),
        ("Nginx:1.0", "not a valid image reference"),
        ("nginx:", "not a valid image reference"),
        ("nginx@sha256:abc", "not a valid image reference"),
        ("", "not a valid image reference"),
    ],
)
def test_unpinned_references_are_named(reference, reason):
    assert reason in pinned_image_problem(reference)
