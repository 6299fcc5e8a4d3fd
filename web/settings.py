"""The viewer's settings: a frozen dataclass built once by the caller and passed to `create_app`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

ENV_PREFIX = "HALLWAY_SERVE_"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the data lives and how the viewer presents it."""

    data_dir: Path
    base_url: str = "http://127.0.0.1:8000"
    page_size: int = 50  # messages per timeline page
    search_page_size: int = 25  # hits per search page, as in Discord
    context_size: int = 8
    site_name: str = "Hallway"
    mcp: bool = False  # also serve the Model Context Protocol over streamable HTTP at /mcp

    def __post_init__(self) -> None:
        object.__setattr__(self, "data_dir", Path(self.data_dir))
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    def to_env(self) -> dict[str, str]:
        """The settings as environment variables, for `hallway serve` worker processes."""
        return {
            ENV_PREFIX + "DATA_DIR": str(self.data_dir.resolve()),
            ENV_PREFIX + "BASE_URL": self.base_url,
            ENV_PREFIX + "PAGE_SIZE": str(self.page_size),
            ENV_PREFIX + "SEARCH_PAGE_SIZE": str(self.search_page_size),
            ENV_PREFIX + "MCP": "1" if self.mcp else "0",
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings written by `to_env` (used only by the uvicorn factory that `hallway serve` starts)."""
        env = os.environ if env is None else env
        return cls(
            data_dir=Path(env.get(ENV_PREFIX + "DATA_DIR", "./hallway-data")),
            base_url=env.get(ENV_PREFIX + "BASE_URL", "http://127.0.0.1:8000"),
            page_size=int(env.get(ENV_PREFIX + "PAGE_SIZE", "50")),
            search_page_size=int(env.get(ENV_PREFIX + "SEARCH_PAGE_SIZE", "25")),
            mcp=env.get(ENV_PREFIX + "MCP", "0") == "1",
        )
