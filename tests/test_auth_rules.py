"""The auth rules, module by module: challenge lifetime and single use, session expiry and
revocation, API tokens, invites, roles, rate limits, passkeys and setup tokens.

Every rule runs against SQLite twice: with typed parameters and with every parameter a string,
as D1's HTTP API may deliver them.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from auth_support import add_user, new_session
from conftest import StringParamStore
from seeding import apply_schema

from analytics_941 import SqliteStore
from analytics_941.auth.api_tokens import authenticate_token, create_token, revoke_token
from analytics_941.auth.challenges import CHALLENGE_TTL_MS, consume_challenge, issue_challenge
from analytics_941.auth.crypto import hash_password, hash_token, now_ms, verify_password
from analytics_941.auth.errors import AuthError, RateLimited
from analytics_941.auth.invites import create_invite, find_invite, redeem_invite_statements
from analytics_941.auth.passkeys import Passkey, add_passkey_statement, remove_passkey
from analytics_941.auth.principal import Principal
from analytics_941.auth.rate_limit import PURGE_CHANCE, hit
from analytics_941.auth.roles import at_least, check_role, roles_for_user, set_role
from analytics_941.auth.sessions import list_sessions, load_session, revoke_session
from analytics_941.auth.setup_tokens import (
    SETUP_TTL_MS,
    issue_setup_token,
    setup_token_hash_valid,
    setup_token_valid,
)
from analytics_941.auth.users import new_user
from analytics_941.exceptions import StoreError
from analytics_941.store import Store

HOUR = 3_600_000


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return apply_schema(tmp_path / "d1.sqlite")


@pytest.fixture(params=["typed", "strings"])
def store(request: pytest.FixtureRequest, db: Path) -> Store:
    inner = SqliteStore(path=db)
    return inner if request.param == "typed" else StringParamStore(inner)  # type: ignore[return-value]


async def test_challenges_are_single_use(store: Store) -> None:
    challenge = await issue_challenge(store, purpose="login", context={"a": 1})
    got = await consume_challenge(store, challenge_id=challenge.id, purpose="login")
    assert got.challenge == challenge.challenge and got.context == {"a": 1}
    with pytest.raises(AuthError) as reused:
        await consume_challenge(store, challenge_id=challenge.id, purpose="login")
    assert reused.value.code == "challenge_invalid"


async def test_challenges_expire_after_five_minutes(store: Store) -> None:
    now = now_ms()
    challenge = await issue_challenge(store, purpose="register", context={}, now=now)
    assert challenge.expires_at - now == CHALLENGE_TTL_MS == 300_000
    with pytest.raises(AuthError) as late:
        await consume_challenge(store, challenge_id=challenge.id, purpose="register",
                                now=now + CHALLENGE_TTL_MS + 1)
    assert late.value.code == "challenge_expired"


async def test_challenges_are_bound_to_their_purpose(store: Store) -> None:
    challenge = await issue_challenge(store, purpose="register", context={})
    with pytest.raises(AuthError):
        await consume_challenge(store, challenge_id=challenge.id, purpose="login")


async def test_sessions_expire_when_idle_or_old_and_when_revoked(store: Store, db: Path) -> None:
    user = add_user(db)
    fresh = new_session(db, user_id=user)
    assert (await load_session(store, token=fresh, idle_ms=HOUR)) is not None
    idle = new_session(db, user_id=user, idle_ms=2 * HOUR)
    assert await load_session(store, token=idle, idle_ms=HOUR) is None
    old = new_session(db, user_id=user, age_ms=2 * HOUR, lifetime_ms=HOUR)
    assert await load_session(store, token=old, idle_ms=10 * HOUR) is None
    # The sessions page lists exactly the sessions that would still open.
    assert len(await list_sessions(store, user_id=user, idle_ms=HOUR)) == 1
    assert len(await list_sessions(store, user_id=user, idle_ms=3 * HOUR)) == 2
    await revoke_session(store, token=fresh)
    assert await load_session(store, token=fresh, idle_ms=HOUR) is None
    assert await load_session(store, token="a941_s_forged", idle_ms=HOUR) is None  # noqa: S106


async def test_revoked_and_unknown_tokens_are_refused(store: Store) -> None:
    secret, token = await create_token(store, name="ci", user_id=None, site_ids=["s1"],
                                       scopes=["stats", "bogus"])
    assert token.scopes == ("stats",)
    assert secret.startswith("a941_t_") and secret not in token.prefix + "…"
    used = await authenticate_token(store, secret=secret)
    assert used.id == token.id and used.site_ids == ("s1",)
    await revoke_token(store, token_id=token.id, user_id=None)
    for bad in (secret, secret + "x", "not-a-token"):
        with pytest.raises(AuthError) as refused:
            await authenticate_token(store, secret=bad)
        assert refused.value.status == 401
    with pytest.raises(AuthError):
        await create_token(store, name="x", user_id=None, site_ids=[], scopes=["stats"])


async def test_invites_are_single_use_and_expire(store: Store, db: Path) -> None:
    secret, invite = await create_invite(store, roles={"s1": "viewer"}, created_by=None)
    assert (await find_invite(store, secret=secret)).roles == {"s1": "viewer"}
    first, second = new_user(name="A", is_admin=False), new_user(name="B", is_admin=False)
    await store.batch(redeem_invite_statements(invite_id=invite.id, user=first))
    with pytest.raises(AuthError):
        await find_invite(store, secret=secret)
    # A second signup through the same link (a race both sides passed find_invite in) aborts
    # its whole batch: no user, nothing else from that batch.
    marker = ("INSERT INTO setup_tokens (token_hash, expires_at) VALUES ('marker', 0)", [])
    with pytest.raises(StoreError):
        await store.batch([*redeem_invite_statements(invite_id=invite.id, user=second), marker])
    old_secret, old = await create_invite(store, roles={"s1": "admin"}, created_by=None, ttl_ms=1)
    with pytest.raises(AuthError):
        await find_invite(store, secret=old_secret, now=now_ms() + 10)
    with pytest.raises(StoreError):
        await store.batch(redeem_invite_statements(invite_id=old.id, user=second,
                                                   now=now_ms() + 10))
    with sqlite3.connect(db) as conn:
        users = conn.execute("SELECT name FROM users").fetchall()
        markers = conn.execute("SELECT COUNT(*) FROM setup_tokens").fetchone()[0]
        used = conn.execute("SELECT used_by FROM invites ORDER BY created_at").fetchall()
    conn.close()
    assert (users, markers) == ([("A",)], 0)
    assert sorted(used, key=str) == sorted([(first.id,), (None,)], key=str)
    with pytest.raises(AuthError):
        await create_invite(store, roles={"s1": "superuser"}, created_by=None)


async def test_roles_rank_and_principals(store: Store) -> None:
    assert at_least("owner", "admin") and at_least("admin", "viewer")
    assert not at_least("viewer", "admin") and not at_least(None, "viewer")
    with pytest.raises(AuthError):
        check_role("root")
    await set_role(store, site_id="s1", user_id="u", role="viewer")
    await set_role(store, site_id="s1", user_id="u", role="admin")
    assert await roles_for_user(store, user_id="u") == {"s1": "admin"}
    user = Principal(kind="user", roles={"s1": "admin"})
    assert user.can("s1", "admin") and not user.can("s1", "owner") and not user.can("s2")
    # Tokens and share links read, whatever role they carry.
    token = Principal(kind="token", roles={"s1": "owner"})
    assert token.can("s1") and not token.can("s1", "admin")
    admin = Principal(kind="user", all_sites=True)
    assert admin.can("anything", "owner") and admin.is_admin


async def test_rate_limit_answers_with_retry_after(store: Store) -> None:
    start = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000
    for i in range(3):
        await hit(store, key="t", limit=3, window_s=3600, now=start + i)
    with pytest.raises(RateLimited) as limited:
        await hit(store, key="t", limit=3, window_s=3600, now=start + 1000)
    assert limited.value.retry_after == 3599 and limited.value.status == 429
    # A new window starts from zero; other keys are independent.
    await hit(store, key="t", limit=3, window_s=3600, now=start + 3_600_000)
    await hit(store, key="other", limit=1, window_s=3600, now=start)


async def test_hits_now_and_then_purge_counters_of_long_gone_windows(
    store: Store, db: Path
) -> None:
    now = 1_700_000_000_000
    # No purge yet (by default a hit purges now and then: this test must not depend on luck).
    await hit(store, key="old", limit=9, window_s=600, now=now - 2 * 86_400_000, purge_chance=0.0)
    await hit(store, key="recent", limit=9, window_s=600, now=now - 3_600_000, purge_chance=0.0)
    await hit(store, key="t", limit=9, window_s=600, now=now, purge_chance=0.0)

    def keys() -> list[str]:
        with sqlite3.connect(db) as conn:
            found = [k for (k,) in conn.execute("SELECT key FROM rate_limits ORDER BY key")]
        conn.close()
        return found

    assert keys() == ["old", "recent", "t"]
    # The purge rides in the same batch as the upsert, which still counts.
    await hit(store, key="t", limit=9, window_s=600, now=now, purge_chance=1.0)
    assert keys() == ["recent", "t"]
    with pytest.raises(RateLimited):
        for _ in range(9):
            await hit(store, key="t", limit=9, window_s=600, now=now, purge_chance=1.0)
    assert 0 < PURGE_CHANCE < 0.1  # cheap: a small fraction of hits


async def test_the_last_passkey_cannot_be_removed(store: Store, db: Path) -> None:
    user = add_user(db)
    for pid in ("k1", "k2"):
        sql, params = add_passkey_statement(Passkey(
            id=pid, user_id=user, name=pid, public_key="x", sign_count=0, backed_up=False,
            created_at=1, last_used_at=None))
        await store.execute(sql, params)
    await remove_passkey(store, user_id=user, passkey_id="k1")
    with pytest.raises(AuthError) as last:
        await remove_passkey(store, user_id=user, passkey_id="k2")
    assert last.value.code == "last_passkey"


async def test_setup_tokens(store: Store) -> None:
    now = now_ms()
    secret = await issue_setup_token(store, now=now)
    assert await setup_token_valid(store, token=secret, configured=None)
    assert not await setup_token_valid(store, token=secret, configured=None,
                                       now=now + SETUP_TTL_MS + 1)
    assert not await setup_token_valid(store, token="guess", configured=None)  # noqa: S106
    assert await setup_token_valid(store, token="fixed", configured="fixed")  # noqa: S106
    assert not await setup_token_valid(store, token="", configured="")
    # By hash: what the registration challenge keeps instead of the secret.
    assert await setup_token_hash_valid(store, token_hash=hash_token(secret), configured=None)
    assert await setup_token_hash_valid(store, token_hash=hash_token("fixed"), configured="fixed")
    # The raw secret in place of its hash does not pass.
    assert not await setup_token_hash_valid(store, token_hash="fixed",  # noqa: S106
                                            configured="fixed")
    assert not await setup_token_hash_valid(store, token_hash="", configured=None)


def test_share_passwords_are_scrypt() -> None:
    stored = hash_password("hunter2")
    assert stored.startswith("scrypt$") and "hunter2" not in stored
    assert verify_password("hunter2", stored) and not verify_password("hunter3", stored)
    assert not verify_password("x", "garbage")
