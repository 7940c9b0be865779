"""Dry runs on real dates: legal scenarios run on a throwaway engine with a frozen clock.

``scenario`` reads and checks a scenario file (TOML, in the law's terms: dates, acts, expected
deadlines and ends); ``runner`` runs it on its own temporary database with the procedure's files,
advancing a frozen clock act by act and firing timers as the scheduler would, and returns a
timeline. Nothing touches the real database or the server's clock.

May import: ``engine.run``, ``engine.deploy``, ``engine.time``, ``engine.store``, ``engine.errors``.
"""
