"""The untangler's one root error."""

from __future__ import annotations

__all__ = ["UntangleError"]


class UntangleError(Exception):
    """Bad input to the untangler (unordered lines, a corpus file it cannot read) or a weights file
    that does not fit the feature layout; the message names the file or the offending value."""
