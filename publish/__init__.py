"""The archive as a static site: every page from the viewer's routes and templates, searched with Pagefind."""

from __future__ import annotations

from publish.build import PublishReport, publish_site
from publish.errors import PublishError

__all__ = ["PublishError", "PublishReport", "publish_site"]
