"""The host-limit warnings of `hallway publish` name the limit, the site and the step that helps."""

from __future__ import annotations

from publish.build import FILE_LIMIT, LANDING_ADVICE, SIZE_LIMIT, limit_warnings, part_advice


def test_publish_limit_warnings_below_the_limits_are_silent() -> None:
    assert limit_warnings(SIZE_LIMIT, FILE_LIMIT) == []


def test_publish_limit_warnings_name_the_limit_and_suggest_a_split() -> None:
    assert limit_warnings(SIZE_LIMIT + 250_000_000, FILE_LIMIT + 1) == [
        "the site is 1.25 GB; GitHub Pages publishes at most 1 GB "
        "(publish with --split-by guild, year or month for one site per part)",
        f"the site has {FILE_LIMIT + 1:,} files; some hosts accept at most {FILE_LIMIT:,} per site "
        "(publish with --split-by guild, year or month for one site per part)",
    ]


def test_publish_limit_warnings_name_the_part_of_a_split_site() -> None:
    assert limit_warnings(1, FILE_LIMIT + 1, "2024") == [
        f"the site 2024 has {FILE_LIMIT + 1:,} files; some hosts accept at most {FILE_LIMIT:,} per site "
        "(publish with --split-by guild, year or month for one site per part)"
    ]
    assert limit_warnings(1, 30_000, "the landing folder", LANDING_ADVICE) == [
        "the landing folder has 30,000 files; some hosts accept at most 20,000 per site "
        "(one redirect per message: host the parts without it, or where file counts aren't limited)"
    ]


def test_publish_limit_warnings_of_a_part_do_not_suggest_the_split_it_already_is() -> None:
    assert limit_warnings(2_130_000_000, 1, "2022", part_advice("year")) == [
        "the site 2022 is 2.13 GB; GitHub Pages publishes at most 1 GB (it is already one year: "
        "--split-by month or guild may cut it further, or host it where this limit doesn't apply)"
    ]
    assert "already one guild: --split-by year or month may" in part_advice("guild")
    assert "already one month: --split-by guild may" in part_advice("month")
