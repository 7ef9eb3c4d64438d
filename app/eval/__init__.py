"""``newsdesk eval``: question sets, expectations, scoring and reports.

May import ``app.service`` and everything below it; never ``app.web`` or ``app.cli``.
"""
