"""Time: the injectable clock, the legal calendar (días hábiles in Hermosillo) and the timer service.

``clock`` and ``calendar`` import nothing of Tramita's but ``engine.config``; ``scheduler`` drives
``engine.run`` and is the only module here that may.
"""
