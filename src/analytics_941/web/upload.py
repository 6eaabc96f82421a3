"""Reading ``multipart/form-data`` bodies (a file upload) with the standard library only.

The body is already read and bounded by the guard (a route may raise its bound with
``max_body_bytes``); this only splits it into fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP

__all__ = ["Part", "parse_multipart"]


@dataclass(frozen=True)
class Part:
    """One field of the form: its file name (None for a plain field) and its bytes."""

    filename: str | None
    content: bytes


def parse_multipart(body: bytes, content_type: str) -> dict[str, Part]:
    """The fields of a ``multipart/form-data`` body (the first of each name); {} if not one."""
    if not content_type.lower().startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return {}
    fields: dict[str, Part] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in fields:
            continue
        payload = part.get_payload(decode=True)
        fields[name] = Part(filename=part.get_filename(),
                            content=payload if isinstance(payload, bytes) else b"")
    return fields
