"""``newsdesk serve``: the FastAPI server, HTTP API, Gradio chat UI and origin policy.

May import ``app.service`` and everything below it; never ``app.eval`` or ``app.cli``.
"""
