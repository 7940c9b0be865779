"""Diagram code: the restricted sandbox and the helpers diagrams call (``plazo_habil``, ``ahora`` …).

May import: ``engine.time``, ``engine.errors``.
"""
