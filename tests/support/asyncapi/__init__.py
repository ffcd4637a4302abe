"""The AsyncAPI 3.0.0 JSON Schema, vendored to validate Flightdeck's document offline.

``asyncapi-3.0.0.schema.json`` is ``schemas/3.0.0.json`` of the asyncapi/spec-json-schemas
repository (Apache License 2.0), commit 7dd3990d9fff9df76e81c8d2ab544e0000f29aff,
unchanged. It bundles its definitions and refers only to draft-07 JSON Schema, which the
``jsonschema`` package ships.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMA = Path(__file__).parent / "asyncapi-3.0.0.schema.json"


@cache
def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def problems(document: dict[str, Any]) -> list[str]:
    """Every way ``document`` breaks the AsyncAPI 3.0.0 schema (empty when it is valid)."""
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
        for e in validator().iter_errors(document)
    ]
