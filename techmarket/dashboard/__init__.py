"""The bureau's dashboard: targets, statistics, the innovation registry, the policy tasks and exports."""
