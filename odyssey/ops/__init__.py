"""The operator tools: never imported by the Pulumi program, and never importing its components.

``offline``: the plan under Pulumi's mock runtime, the policy gate over the
analyzer protocol, plan comparison. Reads files; changes nothing.
``live``: the Automation API (preview, up, deploy, destroy) and boto3
operations (status, cycle audit, rollout watching, shell). This is the code
that can change deployed resources.
``cli``: the ``odyssey`` command over both.
"""
