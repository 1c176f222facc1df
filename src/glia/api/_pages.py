"""Pagination: ``?limit=&offset=`` on every list, answered as a :class:`Page`.

Lists are small enough to be read whole and sliced here (an ecosystem's
opportunities, commitments, events of one opportunity). ``next`` is the URL of
the following page, or ``null`` on the last one; ``total`` counts them all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

__all__ = ["Page", "PageQuery", "paginate"]

T = TypeVar("T")

MAX_LIMIT = 1000


class PageParams(BaseModel):
    limit: int
    offset: int


def _params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 100,
    offset: Annotated[int, Query(ge=0, le=2**31, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageQuery = Annotated[PageParams, Depends(_params)]


class Page(BaseModel, Generic[T]):
    """One page of a list."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next: str | None = None


def paginate(items: Sequence[T], page: PageParams, request: Request) -> Page[T]:
    """The page of ``items`` that ``page`` asks for, with a link to the next one."""
    chunk = list(items[page.offset : page.offset + page.limit])
    following = None
    if page.offset + page.limit < len(items):
        following = str(
            request.url.include_query_params(offset=page.offset + page.limit, limit=page.limit)
        )
    return Page[T](
        items=chunk, total=len(items), limit=page.limit, offset=page.offset, next=following
    )
