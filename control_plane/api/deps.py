"""FastAPI dependencies: a database session, the config hub, and the admin caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud
from control_plane.config_hub import ConfigHub
from control_plane.crypto import CredentialCipher

_bearer = HTTPBearer(auto_error=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


def get_hub(request: Request) -> ConfigHub:
    return request.app.state.hub  # type: ignore[no-any-return]


def get_cipher(request: Request) -> CredentialCipher:
    return request.app.state.cipher  # type: ignore[no-any-return]


HubDep = Annotated[ConfigHub, Depends(get_hub)]
CipherDep = Annotated[CredentialCipher, Depends(get_cipher)]


async def require_admin(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None or not await crud.admin_token_valid(session, credentials.credentials):
        raise HTTPException(
            status_code=401,
            detail="A valid admin token is required (Authorization: Bearer <token>).",
            headers={"WWW-Authenticate": "Bearer"},
        )


AdminDep = Depends(require_admin)
