"""The Pulumi components: each turns decisions from ``odyssey.domain`` and models from ``odyssey.config`` into resources.

``machine``: the shared machine layer (network, load balancer, cluster, node
group, host daemons) and the reference a tenant stack reads it through.
``app``: an application stack (services, scheduled tasks, event stream).
``shared``: small AWS building blocks both use (log groups, alert topics,
stateful-resource options). One component per module.
"""
