"""docs/contracts.md matches the server: every route it lists is served, and every served API route is listed.

Rows marked *planned* are the exception: they must not be served yet, so the
mark is removed in the same change that adds the route.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "contracts.md"
ROUTE = re.compile(r"^\| `(GET|POST) (/[^`?]*)[^`]*` \|(.*)$", re.MULTILINE)


def listed_routes() -> dict[tuple[str, str], bool]:
    """(method, path) → planned, from the HTTP API table."""
    text = CONTRACTS.read_text()
    table = text[text.index("## HTTP API"):text.index("\n## ", text.index("## HTTP API") + 1)]
    return {(method, path): "*planned*" in rest for method, path, rest in ROUTE.findall(table)}


def test_the_readme_links_the_contract_in_the_repository():
    readme = (CONTRACTS.parents[1] / "README.md").read_text()
    assert "(docs/contracts.md)" in readme and "shared/CONTRACTS.md" not in readme


def test_every_listed_route_is_served(sample_server):
    routes = listed_routes()
    assert len(routes) >= 10
    for (method, path), planned in routes.items():
        status = httpx.request(method, f"{sample_server.url}{path}", timeout=60).status_code
        served = status not in (404, 405)
        assert served != planned, f"{method} {path} answers {status} but the contract says {'planned' if planned else 'served'}"


def test_every_served_api_route_is_listed(sample_server):
    schema = httpx.get(f"{sample_server.url}/api/openapi.json").json()
    served = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert served - set(listed_routes()) == set()
