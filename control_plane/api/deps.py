"""FastAPI dependencies: a database session, the config hub, the caller and its audit context."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from control_plane import crud_users
from control_plane.access import Caller
from control_plane.audit import AuditContext
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


async def get_caller(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The user behind the personal access token (Authorization: Bearer <token>)."""
    found = await crud_users.authenticate(session, credentials.credentials) if credentials else None
    if found is None:
        raise HTTPException(
            status_code=401,
            detail="A valid personal access token is required (Authorization: Bearer <token>); "
                   "it may have expired or been revoked.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token, user = found
    return await crud_users.load_caller(session, user, token.id)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_audit_context(request: Request, caller: CallerDep) -> AuditContext:
    return AuditContext(
        actor_id=caller.user_id,
        actor_name=caller.user_name,
        source_ip=request.client.host if request.client else "",
        request_id=getattr(request.state, "request_id", ""),
    )


AuditDep = Annotated[AuditContext, Depends(get_audit_context)]
