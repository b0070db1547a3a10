"""Amazon's vendored models (tests/contracts/amazon-sp-api) as strict JSON schemas for contract tests.

Schemas are taken from an operation's declared response for the status code, $refs resolved inside
the model. The models' objects allow extra properties; here they do not, so a misspelt or invented
field fails too. date-time and date strings are checked as well (jsonschema alone would not).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS = Path(__file__).resolve().parent.parent / "contracts" / "amazon-sp-api"
FORMATS = FormatChecker([])


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


def _strict(node: Any) -> Any:
    if isinstance(node, dict):
        node = {key: _strict(value) for key, value in node.items()}
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
        return node
    if isinstance(node, list):
        return [_strict(item) for item in node]
    return node


class Model:
    """One vendored model file: its operations, declared responses and usage plans."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.spec = json.loads((SPECS / filename).read_text())
        self.urn = f"urn:{filename}"
        strict = {**self.spec, "definitions": _strict(copy.deepcopy(self.spec["definitions"]))}
        self.registry = Registry().with_resource(self.urn, Resource(contents=strict, specification=DRAFT4))

    def operations(self) -> dict[str, tuple[str, str]]:
        """operationId -> (path, method)."""
        return {
            op["operationId"]: (path, method)
            for path, item in self.spec["paths"].items()
            for method, op in item.items()
            if method != "parameters"
        }

    def operation(self, operation_id: str) -> dict[str, Any]:
        path, method = self.operations()[operation_id]
        return self.spec["paths"][path][method]

    def path_of(self, operation_id: str) -> str:
        return self.operations()[operation_id][0]

    def declared(self, operation_id: str, status: int) -> dict[str, Any]:
        responses = self.operation(operation_id)["responses"]
        assert str(status) in responses, f"{operation_id} does not declare HTTP {status}"
        return responses[str(status)]

    def validator(self, operation_id: str, status: int) -> Draft4Validator:
        ref = self.declared(operation_id, status)["schema"]["$ref"]
        return Draft4Validator({"$ref": self.urn + ref}, registry=self.registry, format_checker=FORMATS)

    def definition_validator(self, name: str) -> Draft4Validator:
        return Draft4Validator(
            {"$ref": f"{self.urn}#/definitions/{name}"}, registry=self.registry, format_checker=FORMATS
        )

    def assert_conforms(self, operation_id: str, response) -> None:
        spec = self.declared(operation_id, response.status_code)
        self.validator(operation_id, response.status_code).validate(response.json())
        assert response["Content-Type"].startswith("application/json")
        for header, about in spec.get("headers", {}).items():
            if "no longer returned" in about.get("description", ""):
                assert header not in response, f"{header} is no longer returned with {response.status_code}"
            else:
                assert response.get(header), f"{operation_id} {response.status_code} lacks {header}"
        if "x-amzn-RateLimit-Limit" not in spec.get("headers", {}):
            assert "x-amzn-RateLimit-Limit" not in response

    def usage_plan(self, operation_id: str) -> tuple[str, int]:
        """The rate (as the model writes it) and burst of the operation's Usage Plan table."""
        description = self.operation(operation_id)["description"]
        rate, burst = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", description).groups()
        return rate, int(burst)


@cache
def model(filename: str) -> Model:
    return Model(filename)
