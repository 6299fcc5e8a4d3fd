"""GET /search?q=… (+ /search.json): results, filter chips, facets, month histogram, hints, paging."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from web import pages, urls
from web.deps import ConnDep, SettingsDep
from web.search import MAX_QUERY_CHARS, build_search_page

router = APIRouter()
Q = Query(
    "",
    max_length=MAX_QUERY_CHARS,
    description='The query: words, "phrases", and filters such as from: in: has:',
)
SORT = Query("relevance", description="relevance, newest or oldest")
PAGE = Query(1, ge=1, le=200, description="Result page, from 1")
# The conversation page's box sends its words with the conversation id apart, so the box need not show a raw
# `in:conversation:ID`; the results page then shows the whole query (and its chip).
CONVERSATION = Query(None, ge=0, le=(1 << 63) - 1, description="Search within this conversation")


@router.get("/search.json", summary="Search messages", tags=["search"])
def search_json(
    request: Request, conn: ConnDep, settings: SettingsDep, q: str = Q, sort: str = SORT, page: int = PAGE
) -> JSONResponse:
    """Hits (with HTML-escaped snippets), total, facets, hints and parsed filters."""
    data = build_search_page(request.app.state.search, conn, q, sort, page, settings.search_page_size)
    return pages.json(data)


@router.get("/search", include_in_schema=False)
def search_html(
    request: Request,
    conn: ConnDep,
    settings: SettingsDep,
    q: str = Q,
    sort: str = SORT,
    page: int = PAGE,
    conversation: int | None = CONVERSATION,
) -> Response:
    """The search page."""
    if conversation is not None:
        whole = f"in:conversation:{conversation} {q.strip()}".strip()
        return RedirectResponse(urls.search_url(whole, sort=sort), status_code=303)
    data = build_search_page(request.app.state.search, conn, q, sort, page, settings.search_page_size)
    return pages.html(
        request,
        "search.html",
        data,
        canonical=urls.search_url(data["query"], sort=data["sort"]),
        query=data["query"],
        feed_url=urls.feed_url("search", data["query"]) if data["query"] else None,
        feed_title=f"New results for {data['query']} (Atom)",
    )
