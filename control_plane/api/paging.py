"""Pagination shared by every list endpoint: limit/offset over a stable order."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud
from control_plane.api.schemas import Page

Limit = Annotated[int, Query(ge=1, le=1000, description="page size")]
Offset = Annotated[int, Query(ge=0, description="rows to skip")]


def public(schema: type[BaseModel]) -> Callable[[Any], Any]:
    return lambda row: schema.model_validate(row, from_attributes=True)


async def list_page(
    session: AsyncSession, statement: Any, convert: Callable[[Any], Any], limit: int, offset: int
) -> Page:  # type: ignore[type-arg]
    rows, more = await crud.page(session, statement, limit=limit, offset=offset)
    return Page(data=[convert(r) for r in rows], limit=limit, offset=offset, has_more=more)
