"""The one root error of the static site builder."""

from __future__ import annotations


class PublishError(Exception):
    """The site can't be written (the message names the folder or the step and what to do)."""
