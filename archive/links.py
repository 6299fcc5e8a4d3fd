"""Conversation links in the archive: run the untangler over each channel's new messages and store the links.

Explicit structure (Discord replies, threads and forum posts) comes first; the untangler infers the
rest with a confidence (the `untangle` package; see bench/DISENTANGLE.md). Links are recomputed
incrementally: from a channel's earliest message without a link onwards, with the preceding
`WINDOW` messages and their stored links as context.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

from archive.conversation_views import link_rows
from archive.normalizer import is_system_type
from archive.store import connect
from untangle import WINDOW, ChatLine, Link, Model, load_model, untangle

CHUNK = 5_000  # lines per untangle call: ~230 MB peak in the worker (20k lines: ~700 MB)

_LINES = """
SELECT m.id, m.ts, m.author_id, coalesce(m.content, ''), m.type, m.reply_to, c.is_thread, m.channel_id,
       u.name, u.nickname, (SELECT group_concat(user_id) FROM mentions WHERE message_id = m.id)
FROM messages m
JOIN channels c ON c.id = m.channel_id
LEFT JOIN users u ON u.id = m.author_id
WHERE m.channel_id = ? AND m.id {op} ?
ORDER BY m.id {order}
LIMIT ?
"""


def _line(row: tuple[object, ...]) -> ChatLine:
    mid, ts, author_id, content, kind, reply_to, is_thread, cid, name, nick, mentions = row
    names = tuple(n.lower() for n in (name, nick) if isinstance(n, str) and n)
    return ChatLine(
        id=int(mid),  # type: ignore[call-overload]
        ts=int(ts) / 1000.0,  # type: ignore[call-overload]
        author=str(author_id) if author_id is not None else "?",
        text=str(content),
        is_system=is_system_type(str(kind)),
        reply_to=int(reply_to) if reply_to is not None else None,  # type: ignore[call-overload]
        thread_id=int(cid) if is_thread else None,  # type: ignore[call-overload]
        mentions=tuple(str(mentions).split(",")) if mentions else (),
        names=names,
    )


def _known(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Link]:
    if not ids:
        return {}
    return {
        mid: Link(mid, parent, confidence, bool(explicit), conversation)
        for mid, (conversation, parent, confidence, explicit) in link_rows(conn, ids).items()
    }


def channels_needing_links(conn: sqlite3.Connection) -> list[tuple[int, int]]:
    """(channel id, earliest message id without a link) for every channel with new messages."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT m.channel_id, min(m.id) FROM messages m LEFT JOIN links l ON l.message_id = m.id"
            " WHERE l.message_id IS NULL GROUP BY m.channel_id"
        )
    ]


LinkRow = tuple[int, int | None, int, float, int]
"""(message id, parent id, conversation id, confidence, explicit) as stored in `links`."""
RECENT_LINKS = 50_000


def compute_channel_links(
    conn: sqlite3.Connection, channel_id: int, start_id: int, model: Model
) -> Iterator[list[LinkRow]]:
    """Links of one channel from start_id on, chunk by chunk. Only reads: safe in a worker process.

    Links computed earlier in this run are kept in memory (the last RECENT_LINKS of them) because
    they are not in the database yet; older ones come from the `links` table.
    """
    recent: dict[int, Link] = {}
    cursor = start_id
    first = True
    while True:
        context_rows = conn.execute(
            _LINES.format(op="<", order="DESC"), (channel_id, cursor, WINDOW)
        ).fetchall()
        context = [_line(r) for r in reversed(context_rows)]
        op = ">=" if first else ">"
        rows = conn.execute(_LINES.format(op=op, order="ASC"), (channel_id, cursor, CHUNK)).fetchall()
        first = False
        if not rows:
            return
        new = [_line(r) for r in rows]
        wanted = [ln.id for ln in context]
        wanted += [ln.reply_to for ln in new if ln.reply_to is not None and ln.reply_to < new[0].id]
        known = _known(conn, [i for i in wanted if i not in recent])
        known.update((i, recent[i]) for i in wanted if i in recent)
        for ln in new:
            known.pop(ln.id, None)
        links = untangle(context + new, known=known, model=model)[len(context) :]
        for k in links:
            recent[k.id] = k
        if len(recent) > RECENT_LINKS:
            for key in list(recent)[: len(recent) - RECENT_LINKS]:
                del recent[key]
        yield [(k.id, k.parent, k.conversation, round(k.confidence, 4), int(k.explicit)) for k in links]
        cursor = new[-1].id
        if len(rows) < CHUNK:
            return


def compute_links(
    db_path: str,
    out_path: str,
    progress: Callable[[int], None] | None = None,
    channels: list[tuple[int, int]] | None = None,
) -> int:
    """A worker process's work: write every channel's new links to out_path, chunk by chunk.

    Chunks are pickled one after another, so neither process ever holds a whole channel's links.
    ``channels``: the (channel id, first message id) pairs to link, instead of every channel with new
    messages (the caller shares channels out between workers).
    Returns the number of links written (``progress`` hears the count so far after each chunk, once that
    chunk is flushed to out_path, so a reader may store the chunks while later ones are computed).
    """
    conn = connect(Path(db_path), readonly=True)
    total = 0
    try:
        model = load_model()
        with open(out_path, "wb") as fh:
            for channel_id, start in channels if channels is not None else channels_needing_links(conn):
                for chunk in compute_channel_links(conn, channel_id, start, model):
                    pickle.dump((channel_id, chunk), fh, protocol=pickle.HIGHEST_PROTOCOL)
                    total += len(chunk)
                    if progress:
                        fh.flush()  # the reader stores every chunk up to the count it hears
                        progress(total)
    finally:
        conn.close()
    return total


def store_links(conn: sqlite3.Connection, rows: list[LinkRow]) -> None:
    """Write a chunk of links in one transaction (the archive's writer only).

    A crash between chunks is harmless: the next run starts again at the channel's earliest
    message without a link.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(
            "INSERT OR REPLACE INTO links(message_id, parent_id, conversation_id, confidence, explicit)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def update_links(conn: sqlite3.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Link every message that has no link yet (and the ones after it in its channel); return lines linked."""
    work = channels_needing_links(conn)
    if not work:
        return 0
    model = load_model()
    total = 0
    for channel_id, start in work:
        for chunk in compute_channel_links(conn, channel_id, start, model):
            store_links(conn, chunk)
            total += len(chunk)
            if progress:
                progress(total)
    return total
