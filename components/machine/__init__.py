"""The shared machine layer: network, load balancer, cluster, node group, host daemons, and the reference to an owner's."""
