"""Login, first-run setup, invites and logout: the pages and the WebAuthn JSON endpoints.

The browser side is ``static/src/auth.js``: it asks ``…/options`` for a challenge, hands it to
``navigator.credentials``, posts the answer to ``…/verify`` and follows the returned redirect.
Every endpoint here is rate limited per client.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, entry_statements
from ...auth.ceremonies import (
    RelyingParty,
    login_options,
    registration_options,
    verify_login,
    verify_registration,
)
from ...auth.crypto import hash_token
from ...auth.errors import AuthError
from ...auth.invites import find_invite, redeem_invite_statements
from ...auth.passkeys import add_passkey_statement, list_passkeys
from ...auth.principal import require_user
from ...auth.rate_limit import hit
from ...auth.roles import set_role_statement
from ...auth.sessions import create_session, revoke_session
from ...auth.setup_tokens import (
    clear_setup_tokens_statement,
    setup_token_hash_valid,
    setup_token_valid,
)
from ...auth.users import User, count_users, create_user_statement, get_user, new_user
from ...exceptions import StoreError
from ...settings import Settings
from ...sites import list_sites
from ...store import Statement, Store
from ..authn import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_key,
    relying_party,
    set_session_cookie,
)
from ..render import Renderer

__all__ = ["make_auth_router", "make_logout_router", "safe_next"]

_log = logging.getLogger("analytics_941")


def safe_next(value: str | None, mount: str) -> str:
    """Where to go after login: a path inside the dashboard, never another site."""
    if value and value.startswith(f"{mount}/") and not value.startswith("//") and "\\" not in value:
        return value
    return f"{mount}/"


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise AuthError(code="invalid_body", message="The browser sent an unreadable request. "
                        "Reload the page and try again.")
    return body


async def _start_ceremony(request: Request, *, store: Store, settings: Settings) -> RelyingParty:
    """Where every passkey ceremony starts: the caller's rate limit, then the relying party,
    before any token or invite is looked at (without a trusted origin nothing works)."""
    await hit(store, key=f"auth:{client_key(request)}", limit=settings.login_rate_limit,
              window_s=600)
    return relying_party(request, settings)


def make_auth_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """Routes that work without a session: setup, login, invite and the ceremonies."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings
    mount = settings.mount_path
    auth = render.auth
    configured = settings.setup_token.get_secret_value() if settings.setup_token else None

    async def logged_in(request: Request, user: User, extra: list[Statement],
                        redirect: str) -> Response:
        token = await create_session(
            store, user_id=user.id, user_agent=request.headers.get("user-agent", ""),
            max_ms=auth.max_ms, extra=extra,
        )
        # The user must really exist now (a lost race for the first-user slot leaves nothing).
        if await get_user(store, user_id=user.id) is None:
            await revoke_session(store, token=token)
            raise AuthError(code="setup_done", status=409,
                            message="Setup is already done. Sign in instead.")
        response = JSONResponse({"redirect": redirect})
        set_session_cookie(response, request, settings, token, auth.max_ms // 1000)
        return response

    # ---- pages -------------------------------------------------------------------------------

    @router.get("/setup", name="analytics_941_setup")
    async def setup_page(request: Request) -> Response:
        if await count_users(store) > 0:
            return RedirectResponse(f"{mount}/login", status_code=303)
        return render(request, "auth/setup.html", {
            "token": request.query_params.get("token", ""),
        })

    @router.get("/login", name="analytics_941_login")
    async def login_page(request: Request) -> Response:
        if await count_users(store) == 0:
            return RedirectResponse(f"{mount}/setup", status_code=303)
        target = safe_next(request.query_params.get("next"), mount)
        principal = getattr(request.state, "analytics_941_principal", None)
        if principal is not None and principal.kind == "user":
            return RedirectResponse(target, status_code=303)
        return render(request, "auth/login.html", {"next": target})

    @router.get("/invite/{secret}", name="analytics_941_invite")
    async def invite_page(request: Request, secret: str) -> Response:
        invite = await find_invite(store, secret=secret)
        sites = {s.id: s for s in await list_sites(store)}
        grants = [(sites[sid], role) for sid, role in invite.roles.items() if sid in sites]
        return render(request, "auth/invite.html", {"secret": secret, "grants": grants})

    # ---- ceremonies --------------------------------------------------------------------------

    async def _new_user_options(
        rp: RelyingParty, body: dict[str, Any], *, is_admin: bool, mode: str, **context: str
    ) -> Response:
        """Registration options for a user who does not exist yet (setup, invite): the user
        is made once the ceremony verifies, from what the stored challenge remembers."""
        user = new_user(name=str(body.get("name", "")), is_admin=is_admin)
        remembered = {"mode": mode, "user_id": user.id, "name": user.name,
                      "handle": user.handle, **context}
        options = await registration_options(
            store, rp=rp, user=user, exclude=[], context=remembered)
        return JSONResponse(options)

    @router.post("/auth/setup/options", name="analytics_941_setup_options")
    async def setup_options(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        body = await _json(request)
        # Setup exists only while nobody can log in; afterwards it must not mint owners.
        if await count_users(store) > 0:
            raise AuthError(code="setup_done", status=409,
                            message="Setup is already done. Sign in instead.")
        if not await setup_token_valid(store, token=str(body.get("token", "")),
                                       configured=configured):
            raise AuthError(code="setup_token_invalid", status=403,
                            message="The setup token is wrong or expired. Run "
                                    "`analytics-941 setup-link` for a new link.")
        # Only the token's hash goes into the stored challenge: the secret is never written down.
        return await _new_user_options(rp, body, is_admin=True, mode="setup",
                                       token_hash=hash_token(str(body["token"])))

    @router.post("/auth/invite/options", name="analytics_941_invite_options")
    async def invite_options(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        body = await _json(request)
        invite = await find_invite(store, secret=str(body.get("secret", "")))
        return await _new_user_options(rp, body, is_admin=False, mode="invite",
                                       invite_id=invite.id)

    @router.post("/auth/register/verify", name="analytics_941_register_verify")
    async def register_verify(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        body = await _json(request)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise AuthError(code="invalid_body", message="The browser sent no passkey. Try again.")
        new = await verify_registration(
            store, rp=rp,
            challenge_id=str(body.get("challenge_id", "")), credential=credential,
            name=str(body.get("passkey_name", "")) or "Passkey",
        )
        ctx = new.context
        mode = ctx.get("mode")
        if mode == "add":
            _principal, user = require_user(request)
            # The challenge was issued to this user's session; another session cannot finish it.
            if user.id != ctx.get("user_id"):
                raise AuthError(code="forbidden", status=403,
                                message="This passkey was started in another browser. "
                                        "Start again.")
            sql, params = add_passkey_statement(new.passkey)
            await store.batch([(sql, params), *entry_statements(
                "passkey_add", actor=Actor.of_user(user), detail={"name": new.passkey.name})])
            return JSONResponse({"redirect": f"{mount}/settings/account"})
        user = User(id=str(ctx["user_id"]), name=str(ctx["name"]), handle=str(ctx["handle"]),
                    is_admin=mode == "setup", created_at=new.passkey.created_at)
        pk_statement = add_passkey_statement(new.passkey)
        if mode == "setup":
            # Re-checked at the finish line: the token may have been used meanwhile.
            if not await setup_token_hash_valid(store, token_hash=str(ctx.get("token_hash", "")),
                                                configured=configured):
                raise AuthError(code="setup_token_invalid", status=403,
                                message="The setup token expired; get a new setup link.")
            # Inserted only while no user exists: two racing setups cannot both win.
            user_sql, user_params = create_user_statement(user)
            first_user: Statement = (
                user_sql.replace("VALUES (?, ?, ?, ?, ?)",
                                 "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)"),
                user_params,
            )
            extra = [first_user, pk_statement, clear_setup_tokens_statement(),
                     *entry_statements("setup", actor=Actor.of_user(user))]
            _log.info("analytics_941: setup complete; %s is the administrator", user.name)
            return await logged_in(request, user, extra, f"{mount}/")
        if mode == "invite":
            invite = await find_invite(store, invite_id=str(ctx.get("invite_id", "")))
            # One link, one new user: the claim is in the same transaction as the signup, so a
            # failed signup leaves the link unspent and a lost race creates nobody.
            extra = [*redeem_invite_statements(invite_id=invite.id, user=user), pk_statement]
            extra += [set_role_statement(site_id=s, user_id=user.id, role=r)
                      for s, r in invite.roles.items()]
            for site_id, role in invite.roles.items():
                extra += entry_statements("invite_use", actor=Actor.of_user(user),
                                          sites=[site_id], detail={"role": role})
            try:
                return await logged_in(request, user, extra, f"{mount}/")
            except StoreError:
                # A lost race aborts the batch too: say so (404) rather than "store unavailable".
                await find_invite(store, invite_id=invite.id)
                raise
        raise AuthError(code="invalid_body",
                        message="This passkey step is not known. Start again.")

    @router.post("/auth/login/options", name="analytics_941_login_options")
    async def login_opts(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        return JSONResponse(await login_options(store, rp=rp))

    @router.post("/auth/login/verify", name="analytics_941_login_verify")
    async def login_verify(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        body = await _json(request)
        credential = body.get("credential")
        if not isinstance(credential, dict):
            raise AuthError(code="invalid_body", message="The browser sent no passkey. Try again.")
        user, passkey = await verify_login(
            store, rp=rp,
            challenge_id=str(body.get("challenge_id", "")), credential=credential,
        )
        audited = entry_statements("login", actor=Actor.of_user(user),
                                   detail={"passkey": passkey.name})
        return await logged_in(request, user, audited, safe_next(str(body.get("next", "")), mount))

    return router


def make_logout_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``POST /logout`` and adding a passkey: they need the session (and its CSRF token)."""
    router = APIRouter(route_class=route_class)
    store, settings = render.store, render.settings

    @router.post("/logout", name="analytics_941_logout")
    async def logout(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await revoke_session(store, token=token)
        response = RedirectResponse(f"{settings.mount_path}/login", status_code=303)
        clear_session_cookie(response, request, settings)
        return response

    @router.post("/settings/passkeys/options", name="analytics_941_passkey_options")
    async def add_passkey_options(request: Request) -> Response:
        rp = await _start_ceremony(request, store=store, settings=settings)
        _principal, user = require_user(request)
        mine = await list_passkeys(store, user_id=user.id)
        options = await registration_options(
            store, rp=rp, user=user, exclude=mine,
            context={"mode": "add", "user_id": user.id},
        )
        return JSONResponse(options)

    return router
