"""Offline: the plan under Pulumi's mock runtime, the policy gate, plan comparison. Changes nothing."""
