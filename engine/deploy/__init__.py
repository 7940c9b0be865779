"""Deploying procedures: bundles, lint, immutable versions, the spec cache and the legal parameters.

May import: ``engine.bpmn``, ``engine.script``, ``engine.time``, ``engine.store``, ``engine.errors``.
"""
