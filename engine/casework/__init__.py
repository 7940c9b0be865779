"""The application around the engine: people, access to case files, the inbox, attachments, documents.

May import: ``engine.run``, ``engine.deploy``, ``engine.time``, ``engine.store``, ``engine.errors``.
"""
