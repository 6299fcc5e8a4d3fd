"""The host-limit warnings of `hallway publish` name only options and steps that exist."""

from __future__ import annotations

from publish.build import FILE_LIMIT, SIZE_LIMIT, limit_warnings


def test_publish_limit_warnings_below_the_limits_are_silent() -> None:
    assert limit_warnings(SIZE_LIMIT, FILE_LIMIT) == []


def test_publish_limit_warnings_name_the_limit_and_a_step_that_exists() -> None:
    assert limit_warnings(SIZE_LIMIT + 250_000_000, FILE_LIMIT + 1) == [
        "the site is 1.25 GB; GitHub Pages publishes at most 1 GB "
        "(splitting a site by guild or year is not built yet: choose a host without this limit)",
        f"the site has {FILE_LIMIT + 1:,} files; some hosts accept at most {FILE_LIMIT:,} per site "
        "(splitting a site by guild or year is not built yet: choose a host without this limit)",
    ]
