"""Running cases: transitions, the task and timer mirrors, messages, terms, the workflow cache.

May import: ``engine.bpmn``, ``engine.deploy``, ``engine.script``, ``engine.time``, ``engine.store``,
``engine.errors``.
"""
