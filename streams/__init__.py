"""The streaming side: the Faust app, topics, agents, state and recovery, metrics, web views, the local broker and
the `coi-risk` CLI. This is the only package that talks to Kafka; it feeds `scoring` and publishes `schemas`."""
