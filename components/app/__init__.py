"""An application stack on the shared cluster: services, scheduled tasks, event stream."""
