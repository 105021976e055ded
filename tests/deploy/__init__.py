"""Tests of the deployment artifacts: Prometheus rules, Grafana dashboard, Dockerfile and docker-compose.yml."""
