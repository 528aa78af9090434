"""What a secret's name looks like. Shared by the policy and the stack-config validation."""

import re

# PASSWORD, DB_SECRET, GITHUB_TOKEN, STRIPE_API_KEY, KEY; not KEYSPACE or MONKEY.
SECRET_NAME_PATTERN = r"(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL)|(^|_)(API_?|ACCESS_|PRIVATE_)?KEY(_|$)"


def looks_like_secret(name: str, pattern: str = SECRET_NAME_PATTERN) -> bool:
    return re.search(pattern, name, re.IGNORECASE) is not None
