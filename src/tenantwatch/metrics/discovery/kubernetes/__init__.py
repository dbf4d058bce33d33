"""kubernetes_sd_configs: list and watch the Kubernetes API, and turn its objects into target
groups with Prometheus' `__meta_kubernetes_*` labels."""
