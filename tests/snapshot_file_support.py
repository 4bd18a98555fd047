"""The gateway's snapshot file read as a restarted gateway reads it, written here from its
documented format (src/gateway/snapshot_file.h) rather than from the gateway's code: the file,
then each intact record of the journal beside it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

# The file's lists, and the field that ties an item to its application.
_APPLICATION_LISTS = (("keyMappings", "applicationId"), ("subscriptions", "applicationId"))
_POLICY_LISTS = {"subscription": "subscriptionPolicies", "application": "applicationPolicies",
                 "advanced": "advancedPolicies", "deny": "denyPolicies"}


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _apply(content: dict, change: dict) -> None:
    if "api" in change:
        content["runtimeArtifacts"] = [a for a in content["runtimeArtifacts"]
                                       if a.get("apiId") != change["api"]]
        if change["artifact"] is not None:
            content["runtimeArtifacts"].append(change["artifact"])
    elif "application" in change:
        app_id, items = change["application"], change["items"]
        content["applications"] = [a for a in content["applications"] if a.get("id") != app_id]
        for key, field in _APPLICATION_LISTS:
            content[key] = [i for i in content[key] if i.get(field) != app_id]
        if items is not None:
            application = {k: v for k, v in items.items() if k not in ("keyMappings", "subscriptions")}
            if application:
                content["applications"].append(application)
            for key, _ in _APPLICATION_LISTS:
                content[key].extend(items.get(key, []))
    elif "policies" in change:
        for name, key in _POLICY_LISTS.items():
            content[key] = change["policies"][name]


def read_snapshot(path: Path) -> tuple[dict, dict]:
    """(header, content) of the snapshot file at `path` with its journal replayed. The file's
    checksum is checked (AssertionError when it does not match)."""
    header_line, body = path.read_text().split("\n", 1)
    header = json.loads(header_line)
    assert header["checksum"] == _sha256(body), f"{path}: checksum does not match"
    content = json.loads(body)
    journal = path.with_name(path.name + ".journal")
    if not journal.exists():
        return header, content
    first, *records = journal.read_text().split("\n")
    if json.loads(first).get("base") != header["checksum"]:
        return header, content  # a journal left beside another file
    for line in records[:-1]:  # the text after the last newline is a torn record or ""
        digest, _, record = line.partition(" ")
        if digest != _sha256(record):
            break
        record = json.loads(record)
        for change in record["changes"]:
            _apply(content, change)
        content["position"] = record["position"]
        for key in ("jwks", "revokedTokens"):
            if key in record:
                content[key] = record[key]
    return header, content
