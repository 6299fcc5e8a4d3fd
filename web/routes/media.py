"""GET /media/{message_id}/{pos} (attachments) and /media/{message_id}/{kind}/{pos}: local --media files."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from web.deps import ConnDep
from web.errors import PageError, parse_id
from web.media import find_media_file, media_headers

router = APIRouter()


def _serve(conn: ConnDep, message_id: str, kind: str, pos: str) -> FileResponse:
    mid = parse_id(message_id, "message")
    if not pos.isdigit() or len(pos) > 6:
        raise PageError(404, f"{pos!r} is not a position", "Media positions are small numbers, from 0.")
    path = find_media_file(conn, mid, kind, int(pos))
    if path is None:
        raise PageError(
            404, "No such media file", "Only files saved with DCE --media inside the export's folder."
        )
    media_type, headers = media_headers(path)
    return FileResponse(path, media_type=media_type, headers=headers)


@router.get("/media/{message_id}/{pos}", summary="An attachment saved with --media", tags=["media"])
def attachment(conn: ConnDep, message_id: str, pos: str) -> FileResponse:
    """The file of attachment `pos` of a message (images inline, others as downloads)."""
    return _serve(conn, message_id, "attachment", pos)


@router.get(
    "/media/{message_id}/{kind}/{pos}",
    summary="A sticker, embed image or custom reaction emoji saved with --media",
    tags=["media"],
)
def other_media(conn: ConnDep, message_id: str, kind: str, pos: str) -> FileResponse:
    """`kind` is sticker, thumbnail, image or reaction."""
    if kind not in ("sticker", "thumbnail", "image", "reaction"):
        raise PageError(404, f"No media kind {kind!r}", "Use sticker, thumbnail, image or reaction.")
    return _serve(conn, message_id, kind, pos)
