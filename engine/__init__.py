"""Tramita's workflow engine: deployments, instances, tasks, timers and their audit trail."""
