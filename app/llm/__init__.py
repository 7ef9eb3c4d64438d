"""Everything a language model needs: backends, prompts, LLM condensing, the generative answerer and its checker.

May import ``app.answer`` and everything below it; never ``app.service``, ``app.web`` or ``app.eval``.
"""
