"""DCE HTML, CSV and TXT exports: the real ones in ../shared, generated ones of every layout, bad ones."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archive import Ingester
from archive.normalize import iso_utc, snowflake_ms
from archive.sources import find_source
from archive.sources._identity import text_key
from archive.sources.dce_csv import CsvExportReader
from archive.sources.dce_html import HtmlExportReader
from archive.sources.dce_txt import TxtExportReader
from bench import dce_render
from bench.corpus import START_MS, Corpus, header_for, write_export
from tests.conftest import REAL, rows
from tests.ingesting import ingest_archive

Make = Callable[..., Ingester]
KOMODO = REAL / "gcharang__discord-archive-komodo" / "after-2019-Dec-05" / "2019-Dec-06"
FORMATS = {"csv": "csv", "txt": "plaintext", "dark": "htmldark", "light": "htmllight"}
real = pytest.mark.skipif(not KOMODO.exists(), reason=f"real exports not found at {KOMODO}")


def _file(kind: str, part: int) -> Path:
    ext = {"csv": "csv", "txt": "txt"}.get(kind, "html")
    return KOMODO / FORMATS[kind] / "feeds" / "feed-telegram" / f"{part}.{ext}"


def _messages(path: Path) -> list[dict[str, Any]]:
    source, verdict = find_source(path)
    assert source is not None, verdict
    reader = source.open(path)
    try:
        return [m for batch in reader.batches() for _, _, m in batch]
    finally:
        reader.close()


@real
@pytest.mark.parametrize("part", [1, 2])
def test_real_four_formats_agree_on_message_count_and_text(part: int) -> None:
    got = {kind: _messages(_file(kind, part)) for kind in FORMATS}
    assert {k: len(v) for k, v in got.items()} == {k: (100, 48)[part - 1] for k in FORMATS}
    for kind in ("csv", "txt", "light"):
        assert [text_key(m["content"]) for m in got[kind]] == [text_key(m["content"]) for m in got["dark"]]
    with HtmlExportReader(_file("dark", part)) as reader:
        assert [m for b in reader.batches() for m in b] and reader.declared_count == len(got["dark"])
        channel = reader.header.channel
        assert (channel.id, channel.name, channel.guild_id, channel.guild_name) == (
            454632720212033537,  # from the attachment URLs: DCE 2.15 HTML names no channel id
            "feed-telegram",
            412898016371015680,  # from the guild icon URL
            "Komodo",
        )


@real
def test_real_html_themes_yield_same_ids_and_text() -> None:
    for part in (1, 2):
        dark, light = _messages(_file("dark", part)), _messages(_file("light", part))
        assert [(m["id"], m["content"]) for m in dark] == [(m["id"], m["content"]) for m in light]
    first = _messages(_file("dark", 1))[0]
    assert first["id"] == "651988205197066240"
    assert iso_utc(snowflake_ms(int(first["id"]))) == "2019-12-05T03:28:21.474Z"  # not the locale string
    assert first["content"] == "[telegram] <Abhittttt> Deposits opened on binance?"
    assert first["author"]["id"] == "455021680935436290"
    assert (first["author"]["name"], first["author"]["discriminator"], first["author"]["isBot"]) == (
        "Gateway",
        "3763",
        True,
    )


@real
def test_real_csv_and_txt_ids_are_stable_and_shared() -> None:
    csv_ids = [m["id"] for m in _messages(_file("csv", 1))]
    assert csv_ids == [m["id"] for m in _messages(_file("csv", 1))]
    assert csv_ids == [m["id"] for m in _messages(_file("txt", 1))]
    assert len(set(csv_ids)) == 100


@real
@pytest.mark.parametrize(
    "order",
    [
        ["csv", "plaintext", "htmldark", "htmllight"],
        ["htmldark", "csv", "plaintext"],
        ["plaintext", "htmllight"],
    ],
)
def test_real_csv_and_txt_merge_into_html_without_duplicates(
    conn: sqlite3.Connection, ingester: Make, order: list[str]
) -> None:
    ing = ingester()
    added = []
    for folder in order:
        summary = ingest_archive(ing, [KOMODO / folder])
        assert [f.status for f in summary.files] == ["ok", "ok"], summary.files
        added.append(summary.added)
    # Net counts: only the first export of these 148 messages adds any.
    assert added == [148] + [0] * (len(order) - 1)
    assert rows(conn, "SELECT count(*), sum(fidelity <= 2) FROM messages") == [(148, 0)]
    # CSV and TXT copies of one message share one made-up id: one alias each.
    assert rows(conn, "SELECT count(*) FROM aliases") == [(148,)]
    assert rows(conn, "SELECT id, name FROM channels") == [(454632720212033537, "feed-telegram")]
    # Guilds and users known only by name (CSV, TXT) go once merged: the real ones remain.
    assert rows(conn, "SELECT id, name FROM guilds") == [(412898016371015680, "Komodo")]
    assert rows(conn, "SELECT count(*) FROM users WHERE id >= ?", 1 << 62) == [(0,)]
    # Every export that attests a message is in its provenance.
    per_message = rows(conn, "SELECT count(*) FROM provenance GROUP BY message_id")
    assert set(per_message) == {(len(order),)}
    formats = rows(conn, "SELECT DISTINCT format FROM exports ORDER BY format")
    assert formats == sorted(
        {({"htmldark": "html", "htmllight": "html", "plaintext": "txt"}.get(f, f),) for f in order}
    )


@real
def test_real_csv_alone_is_flagged_low_fidelity(conn: sqlite3.Connection, ingester: Make) -> None:
    ingest_archive(ingester(), [KOMODO / "csv"])
    assert rows(conn, "SELECT count(*), min(fidelity), max(fidelity) FROM messages") == [(148, 2, 2)]
    again = ingest_archive(ingester(), [_file("csv", 1)], force=True)
    assert again.files[0].added == 0
    assert rows(conn, "SELECT count(*) FROM messages") == [(148,)]


@functools.cache
def _generated(n: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    # The fallback vocabulary: training the text model on the IRC logs takes seconds.
    corpus = Corpus(n, seed=3, channels=1, authors=5, irc=False)
    cid, name = corpus.channels[0]
    return header_for(cid, name, START_MS + 2 * 86_400_000), list(
        corpus.messages(n, cid, START_MS, 86_400_000)
    )


def _corpus(tmp_path: Path, n: int = 60) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Path]]:
    header, messages = _generated(n)
    name, cid = header["channel"]["name"], header["channel"]["id"]
    return (
        header,
        messages,
        dce_render.write_all(tmp_path / f"Bench Lab - Text Channels - {name} [{cid}]", header, messages),
    )


def test_generated_html_every_layout_reads_ids_text_replies_pins(tmp_path: Path) -> None:
    _, messages, paths = _corpus(tmp_path)
    want = [(m["id"], m["content"].strip()) for m in messages]
    for kind in ("html", "html-light", "html-2.33"):
        got = _messages(paths[kind])
        assert [(m["id"], m["content"]) for m in got] == want, kind
    got = _messages(paths["html"])
    assert [m.get("reference", {}).get("messageId") for m in got] == [
        m["reference"]["messageId"] if m["type"] == "Reply" else None for m in messages
    ]
    assert [m["isPinned"] for m in got] == [m["isPinned"] for m in messages]
    assert [len(m.get("reactions", [])) for m in got] == [len(m["reactions"]) for m in messages]
    assert [[a["url"] for a in m.get("attachments", [])] for m in got] == [
        [a["url"] for a in m["attachments"]] for m in messages
    ]
    assert (
        "data-message-id=" in paths["html"].read_text()
        and 'data-message-id="' not in paths["html"].read_text()
    )


def test_generated_json_and_html_dedupe_by_id_json_wins(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    header, messages, paths = _corpus(tmp_path)
    json_path = tmp_path / "export.json"
    write_export(json_path, header, messages)
    ing = ingester()
    assert [f.status for f in ingest_archive(ing, [paths["html"]]).files] == ["ok"]
    assert rows(conn, "SELECT count(*), min(fidelity) FROM messages") == [(60, 3)]
    assert [f.status for f in ingest_archive(ing, [json_path, paths["csv"], paths["txt"]]).files] == [
        "ok"
    ] * 3
    assert rows(conn, "SELECT count(*), min(fidelity), max(fidelity) FROM messages") == [(60, 4, 4)]
    assert rows(conn, "SELECT count(*) FROM revisions") == [(0,)]  # a richer copy is not an edit
    assert set(rows(conn, "SELECT count(*) FROM provenance GROUP BY message_id")) == {(4,)}
    # HTML seen again after JSON changes nothing: JSON's fields win.
    ingest_archive(ing, [paths["html-light"]])
    assert rows(conn, "SELECT count(*), min(fidelity) FROM messages") == [(60, 4)]


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# (file, bytes, status, the error line after the path). Files no source claims are `unsupported`
# when named (the run says what they are); damaged exports are `failed` at a byte or line.
BAD = [
    (
        "page.html",
        b"<!DOCTYPE html><html><body><p>hello</p></body></html>",
        "unsupported",
        ": an HTML page: not a DiscordChatExporter export",
    ),
    (
        "other.csv",
        b"id,name,text\n1,a,b\n",
        "unsupported",
        ": a CSV file with another header: line 1 is 'id,name,text'; DCE writes 'AuthorID,Author,Date,Content,Attachments,Reactions'",
    ),
    ("notes.txt", b"just some notes\n", "unsupported", ": a text file: not a DiscordChatExporter export"),
    (
        "latin1.csv",
        b'AuthorID,Author,Date,Content,Attachments,Reactions\n"1","a","5/16/2023 8:50 PM","caf\xe9","",""\n',
        "failed",
        " at byte 83 (line 2): invalid UTF-8 (invalid continuation byte)",
    ),
    (
        "cut.csv",
        b'AuthorID,Author,Date,Content,Attachments,Reactions\n"1","a","5/16/2023 8:50 PM","never clo',
        "failed",
        " at line 2 (message 1): damaged CSV (unexpected end of data); truncated?",
    ),
    (
        "baddate.csv",
        b'AuthorID,Author,Date,Content,Attachments,Reactions\n"1","a","yesterday","x","",""\n',
        "failed",
        " at line 2 (message 1): date 'yesterday' is not a date",
    ),
    (
        "cut.txt",
        (
            "=" * 62 + "\nGuild: G\nChannel: c\n" + "=" * 62 + "\n\n[5/16/2023 8:50 PM] bob\nhello\n\n"
        ).encode(),
        "failed",
        " at byte 178 (line 8): truncated: no 'Exported N message(s)' footer (the export was cut short); "
        "`hallway ingest --salvage` keeps the complete messages before the damage",
    ),
    (
        "bad-utf8.txt",
        ("=" * 62 + "\nGuild: G\nChannel: c\n" + "=" * 62 + "\n\n[5/16/2023 8:50 PM] bob\n").encode()
        + b"caf\xe9\n",
        "failed",
        " at byte 174 (line 7): invalid UTF-8 (invalid continuation byte)",
    ),
    (
        "cut.html",
        b"<!DOCTYPE html><html><head><style>.chatlog{}</style></head><body><div class=chatlog>"
        b"<div class=chatlog__message-group><div class=chatlog__message-container data-message-id=1100000000000000001>",
        "failed",
        " at byte 84 (message 1): truncated: the file ends inside a message group (after 0 complete messages)",
    ),
]


@pytest.mark.parametrize(("name", "data", "status", "error"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_file_and_place(
    tmp_path: Path, ingester: Make, name: str, data: bytes, status: str, error: str
) -> None:
    path = _write(tmp_path, name, data)
    good = _corpus(tmp_path)[2]["html"]
    summary = ingest_archive(ingester(), [path, good])
    results = {Path(f.path).name: f for f in summary.files}
    assert (results[name].status, results[name].error) == (status, f"{path}{error}")
    assert results[good.name].status == "ok"  # one bad file never costs the others


def test_truncated_html_salvage_keeps_complete_groups(
    tmp_path: Path, ingester: Make, conn: sqlite3.Connection
) -> None:
    paths = _corpus(tmp_path)[2]
    data = paths["html"].read_bytes()
    cut = _write(tmp_path, "cut [900].html", data[: len(data) * 2 // 3])
    failed = ingest_archive(ingester(), [cut]).files[0]
    assert failed.status == "failed"
    assert (
        failed.error is not None and "truncated: the file ends inside a message group (after " in failed.error
    )
    partial = ingest_archive(ingester(), [cut], salvage=True).files[0]
    assert partial.status == "partial" and 0 < partial.messages < 60
    assert rows(conn, "SELECT count(*) FROM messages") == [(partial.messages,)]


def test_txt_content_with_brackets_and_blank_lines_stays_content(tmp_path: Path) -> None:
    text = (
        "=" * 62 + "\nGuild: G\nChannel: Text / c\n" + "=" * 62 + "\n\n"
        "[5/16/2023 8:50 PM] bob#1234 (pinned)\nfirst line\n\n[not a date] still content\n\n"
        "{Reactions}\n\U0001f44d (5) \U0001f525\n\n\n"
        "[5/16/2023 8:51 PM] alice\nsecond\n\n\n" + "=" * 62 + "\nExported 2 message(s)\n" + "=" * 62 + "\n"
    )
    path = _write(tmp_path, "log.txt", text.encode())
    with TxtExportReader(path) as reader:
        got = [m for b in reader.batches() for _, _, m in b]
        assert reader.declared_count == 2
        assert (reader.header.channel.name, reader.header.channel.category) == ("c", "Text")
    assert [m["content"] for m in got] == ["first line\n\n[not a date] still content", "second"]
    assert got[0]["isPinned"] is True and got[0]["author"]["name"] == "bob"
    assert [(r["emoji"]["name"], r["count"]) for r in got[0]["reactions"]] == [
        ("\U0001f44d", 5),
        ("\U0001f525", 1),
    ]


def test_csv_semicolon_dialect(tmp_path: Path) -> None:
    _, messages, _ = _corpus(tmp_path, 5)
    path = tmp_path / "old.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        dce_render.write_csv(fh, messages, legacy=True)
    with CsvExportReader(path) as reader:
        assert reader.delimiter == ";"
        got = [m for b in reader.batches() for _, _, m in b]
    assert [m["content"] for m in got] == [m["content"] for m in messages]
    assert [m["author"]["id"] for m in got] == [m["author"]["id"] for m in messages]


# DCE 2.4x markup, minified as WebMarkupMin writes it (unquoted attributes): a reply, a custom emoji,
# a mention, a pin, an embed with a field, a sticker, a reaction, a --media local attachment, and
# system notifications.
MODERN = (
    "<!DOCTYPE html><html lang=en><head><title>Lab - general</title><style>.chatlog{}</style></head><body>"
    "<div class=preamble><img class=preamble__guild-icon src=https://cdn.discordapp.com/icons/300000000000000001/a.png>"
    "<div class=preamble__entry>Lab</div><div class=preamble__entry>Text Channels / general</div>"
    '<div class="preamble__entry preamble__entry--small">the topic</div></div><div class=chatlog>'
    "<div class=chatlog__message-group>"
    '<div id=chatlog__message-container-1100000000000000001 class="chatlog__message-container chatlog__message-container--pinned" data-message-id=1100000000000000001>'
    "<div class=chatlog__message><div class=chatlog__message-aside><img class=chatlog__avatar src=a.png></div>"
    "<div class=chatlog__message-primary><div class=chatlog__header>"
    '<span class=chatlog__author style="color:rgb(46, 204, 113)" title=alice data-user-id=100000000000000001>Alice A</span>'
    '<span class=chatlog__timestamp title="Tuesday"><a>5/16/2023 8:50 PM</a></span></div>'
    '<div class="chatlog__content chatlog__markdown"><span class=chatlog__markdown-preserve>hi <strong>all</strong> '
    "<img class=chatlog__emoji alt=:blob: src=https://cdn.discordapp.com/emojis/400000000000000001.png> "
    "<span class=chatlog__markdown-mention title=bob>@bob</span></span>"
    "<span class=chatlog__edited-timestamp title=x>(edited)</span></div>"
    '<div class=chatlog__attachment><a href="Lab%20-%20general%20%5B200%5D.html_Files/plot%20one-62AE1.png">'
    '<img class=chatlog__attachment-media src="Lab%20-%20general%20%5B200%5D.html_Files/plot%20one-62AE1.png"></a></div>'
    "<div class=chatlog__embed><div class=chatlog__embed-color-pill style=background-color:rgb(255,0,0)></div>"
    "<div class=chatlog__embed-title><a class=chatlog__embed-title-link href=https://example.org>Paper</a></div>"
    "<div class=chatlog__embed-description>An abstract</div>"
    '<div class="chatlog__embed-field chatlog__embed-field--inline"><div class=chatlog__embed-field-name>Year</div>'
    "<div class=chatlog__embed-field-value>2023</div></div></div>"
    "<div class=chatlog__sticker title=Wave><img class=chatlog__sticker--media src=https://media.discordapp.net/stickers/1.png></div>"
    "<div class=chatlog__reactions><div class=chatlog__reaction title=thumbsup><img class=chatlog__emoji alt=👍 src=x.svg>"
    "<span class=chatlog__reaction-count>3</span></div></div></div></div></div></div>"
    "<div class=chatlog__message-group>"
    "<div id=chatlog__message-container-1100000000000000002 class=chatlog__message-container data-message-id=1100000000000000002>"
    "<div class=chatlog__message><div class=chatlog__reply><div class=chatlog__reply-content>"
    "<span class=chatlog__reply-link onclick=\"scrollToMessage(event, '1100000000000000001')\">hi all</span></div></div>"
    "<div class=chatlog__message-primary><div class=chatlog__header>"
    "<span class=chatlog__author title=bob#1234 data-user-id=100000000000000002>bob</span>"
    "<span class=chatlog__author-tag>BOT</span></div>"
    '<div class="chatlog__content chatlog__markdown"><span class=chatlog__markdown-preserve>'
    '<div class="chatlog__markdown-pre chatlog__markdown-pre--multiline language-py">x = 1</div></span></div>'
    "</div></div></div></div>"
    "<div class=chatlog__message-group>"
    "<div id=chatlog__message-container-1100000000000000003 class=chatlog__message-container data-message-id=1100000000000000003>"
    "<div class=chatlog__message><div class=chatlog__message-aside><svg class=chatlog__system-notification-icon></svg></div>"
    "<div class=chatlog__message-primary><span class=chatlog__system-notification-author title=alice data-user-id=100000000000000001>Alice A</span> "
    "<span class=chatlog__system-notification-content>pinned <a>a message</a> to this channel.</span></div></div></div>"
    "<div id=chatlog__message-container-1100000000000000004 class=chatlog__message-container data-message-id=1100000000000000004>"
    "<div class=chatlog__message><div class=chatlog__message-primary>"
    "<span class=chatlog__system-notification-author title=carol data-user-id=100000000000000003>Carol</span> "
    "<span class=chatlog__system-notification-content>joined the server.</span></div></div></div></div>"
    "</div><div class=postamble><div class=postamble__entry>Exported 4 message(s)</div></div></body></html>"
)


def test_modern_minified_html_keeps_every_part(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    path = _write(tmp_path, "Lab - Text Channels - general [200000000000000001].html", MODERN.encode())
    got = _messages(path)
    assert [(m["id"], m["type"], m["content"]) for m in got] == [
        ("1100000000000000001", "Default", "hi **all** <:blob:400000000000000001> @bob"),
        ("1100000000000000002", "Reply", "```py\nx = 1\n```"),
        ("1100000000000000003", "ChannelPinnedMessage", "pinned a message to this channel."),
        ("1100000000000000004", "GuildMemberJoin", "joined the server."),
    ]
    first = got[0]
    assert first["isPinned"] is True and first["editedInExport"] is True
    assert first["author"]["color"] == "#2ECC71" and first["author"]["nickname"] == "Alice A"
    assert first["attachments"] == [
        {"id": None, "url": "Lab - general [200].html_Files/plot one-62AE1.png", "fileName": "plot one-62AE1.png",
         "fileSizeBytes": None}
    ]  # fmt: skip
    (embed,) = first["embeds"]
    assert (embed["title"], embed["url"], embed["description"], embed["color"]) == (
        "Paper", "https://example.org", "An abstract", "#FF0000"
    )  # fmt: skip
    assert embed["fields"] == [{"name": "Year", "value": "2023", "isInline": True}]
    assert first["stickers"][0]["name"] == "Wave"
    assert first["reactions"][0]["emoji"]["name"] == "👍" and first["reactions"][0]["count"] == 3
    assert got[1]["reference"] == {"messageId": "1100000000000000001"} and got[1]["author"]["isBot"] is True
    result = ingest_archive(ingester(), [path]).files[0]
    assert (result.status, result.messages) == ("ok", 4)
    assert rows(conn, "SELECT name, category, topic, guild_id FROM channels") == [
        ("general", "Text Channels", "the topic", 300000000000000001)
    ]
    assert rows(conn, "SELECT path, file_name FROM attachments") == [
        ("Lab - general [200].html_Files/plot one-62AE1.png", "plot one-62AE1.png")
    ]
    assert rows(conn, "SELECT declared_count, format FROM exports") == [(4, "html")]
    assert rows(conn, "SELECT reply_to FROM messages WHERE id = 1100000000000000002") == [
        (1100000000000000001,)
    ]


def test_html_234_to_237_reference_classes_are_replies(tmp_path: Path) -> None:
    old_names = MODERN.replace("chatlog__reply-link", "chatlog__reference-link").replace(
        "chatlog__reply", "chatlog__reference"
    )
    path = _write(tmp_path, "x [200000000000000001].html", old_names.encode())
    assert _messages(path)[1]["reference"] == {"messageId": "1100000000000000001"}


def test_txt_and_html_hierarchical_names_make_threads(tmp_path: Path) -> None:
    rule = "=" * 62
    text = f"{rule}\nGuild: G\nChannel: Text / general / A thread\n{rule}\n\n{rule}\nExported 0 message(s)\n{rule}\n"
    with TxtExportReader(_write(tmp_path, "t.txt", text.encode())) as reader:
        c = reader.header.channel
        assert (c.name, c.is_thread, c.parent_name, c.category, c.type) == (
            "A thread", True, "general", None, "GuildPublicThread"
        )  # fmt: skip
    page = MODERN.replace("Text Channels / general", "Text Channels / general / A thread")
    with HtmlExportReader(_write(tmp_path, "t [200000000000000001].html", page.encode())) as html:
        assert (html.header.channel.name, html.header.channel.parent_name) == ("A thread", "general")


def test_html_streams_in_bounded_stretches_even_inside_one_long_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import archive.sources.dce_html as dce_html

    header, messages = _generated(60)
    one_author = [{**m, "author": messages[0]["author"], "type": "Default"} for m in messages]
    for m in one_author:
        m.pop("reference", None)
    path = tmp_path / "long [926206341939200000].html"
    with path.open("w", encoding="utf-8") as fh:
        # One group: DCE joins messages of one author within 7 minutes.
        dce_render.write_html(fh, header, _one_group(one_author))
    assert path.read_bytes().count(b"<div class=chatlog__message-group>") == 1
    whole = _messages(path)
    monkeypatch.setattr(dce_html, "CHUNK_SIZE", 4096)
    monkeypatch.setattr(dce_html, "GROUP_LIMIT", 8192)
    with dce_html.HtmlExportReader(path) as reader:
        stretches = [len(data) for _, data, _ in reader._stretches()]
    assert max(stretches) < 8192 + 4096 and len(stretches) >= 3
    assert _messages(path) == whole
    assert [m["id"] for m in whole] == [m["id"] for m in _one_group(one_author)]


def _one_group(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages a minute apart, so DCE's 7-minute rule keeps them in one group."""
    base = int(messages[0]["id"]) >> 22
    return [{**m, "id": str(((base + i * 60_000) << 22) | i)} for i, m in enumerate(messages)]


def test_html_without_a_channel_id_joins_the_channel_a_json_export_names(
    tmp_path: Path, conn: sqlite3.Connection, ingester: Make
) -> None:
    html = _write(tmp_path, "general.html", MODERN.encode())  # no [id] in the name, no CDN attachment URL
    author = {"id": "100000000000000001", "name": "alice", "discriminator": "0000", "nickname": "Alice A"}
    messages = [
        {"id": f"110000000000000000{i}", "type": "Default", "content": f"m{i}", "author": author}
        for i in (1, 2)
    ]
    header = header_for("200000000000000001", "general", START_MS)
    write_export(tmp_path / "general.json", header, messages)
    ing = ingester()
    ingest_archive(ing, [html])
    (made_up,) = rows(conn, "SELECT id FROM channels")
    assert made_up[0] >= 1 << 62
    ingest_archive(ing, [tmp_path / "general.json"])
    assert rows(conn, "SELECT DISTINCT channel_id FROM messages") == [(200000000000000001,)]
    assert rows(conn, "SELECT id FROM channels") == [(200000000000000001,)]
