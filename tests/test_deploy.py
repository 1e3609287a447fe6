"""deploy/: the HAProxy config, and a real HAProxy in front of two real workers against the sandbox."""

from __future__ import annotations

import asyncio
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest
from test_bot_main import TOKEN, bot_env, free_port

from bot.config import PROJECT_ROOT
from deploy import haproxy, local_postgres
from deploy.cluster import Cluster, cluster_env
from sandbox import start_server
from storage import open_store

needs_postgres = pytest.mark.skipif(not local_postgres.available(), reason="no PostgreSQL (apt-get install postgresql)")
needs_haproxy = pytest.mark.skipif(haproxy.binary() is None, reason="no HAProxy here (Debian: apt-get install haproxy)")


def free_ports_in_a_row(count: int) -> int:
    """The first of ``count`` consecutive free ports (the script numbers its workers from ``--first-worker-port``)."""
    while True:
        first = free_port()
        try:
            for port in range(first, first + count):
                with socket.create_server(("127.0.0.1", port)):
                    pass
        except OSError:
            continue
        return first


def test_the_config_has_one_checked_server_per_worker_and_only_passes_the_webhook_path() -> None:
    config = haproxy.ProxyConfig(8443, "hook/x", (("127.0.0.1", 9001), ("127.0.0.1", 9002)), bind="127.0.0.1")
    text = config.render()
    assert "bind 127.0.0.1:8443\n" in text
    assert "    server worker1 127.0.0.1:9001 check\n    server worker2 127.0.0.1:9002 check" in text
    assert "option httpchk GET /healthz" in text and "{ path /hook/x }" in text
    # Retried elsewhere only when no live worker got the request; never on a timeout (no racing workers).
    assert "retry-on conn-failure 503\n" in text and "option redispatch 1" in text
    tls = haproxy.ProxyConfig(443, "/hook", (("127.0.0.1", 9001),), tls_pem=Path("/etc/moodlens/bot.pem")).render()
    assert "bind 0.0.0.0:443 ssl crt /etc/moodlens/bot.pem\n" in tls


@needs_haproxy
def test_haproxy_accepts_the_rendered_config(tmp_path: Path) -> None:
    config = haproxy.ProxyConfig(8443, "/hook", (("127.0.0.1", 9001), ("127.0.0.1", 9002)))
    (tmp_path / "haproxy.cfg").write_text(config.render())
    haproxy.check(tmp_path / "haproxy.cfg")
    (tmp_path / "broken.cfg").write_text(config.render().replace("balance leastconn", "balance sideways"))
    with pytest.raises(ValueError, match="invalid HAProxy config"):
        haproxy.check(tmp_path / "broken.cfg")


def test_every_worker_shares_one_secret_and_the_database() -> None:
    env = cluster_env({"WEBHOOK_URL": "https://x.example/hook"}, "postgresql://u@127.0.0.1:5/db")
    assert len(env["WEBHOOK_SECRET_TOKEN"]) >= 32 and env["DATABASE_URL"] == "postgresql://u@127.0.0.1:5/db"
    assert cluster_env({"WEBHOOK_SECRET_TOKEN": "mine"}, None)["WEBHOOK_SECRET_TOKEN"] == "mine"


async def send_photo(http: aiohttp.ClientSession, user_id: int, data: bytes) -> int:
    form = aiohttp.FormData()
    form.add_field("user_id", str(user_id))
    form.add_field("file", data, filename="selfie.jpg", content_type="image/jpeg")
    async with http.post("/sandbox/send_photo", data=form) as resp:
        return (await resp.json())["message"]["message_id"]


@needs_haproxy
async def test_two_workers_behind_haproxy_answer_photos_and_one_killed_comes_back(
    tmp_path: Path, photos_dir: Path
) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    proxy = free_port()
    hook = f"http://127.0.0.1:{proxy}/hook"
    values = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url, WEBHOOK_URL=hook,
                     PHOTOS_PER_MINUTE="1000", RECOGNITION_WORKERS="1")  # fmt: skip
    store = await open_store(tmp_path / "bot.db")
    for user in (1, 2, 3):
        await store.set_consent(user)
    await store.close()
    log = (tmp_path / "cluster.log").open("wb")
    cluster = Cluster(cluster_env(values, None), port=proxy, bind="127.0.0.1",
                      worker_ports=[free_port(), free_port()], run_dir=tmp_path, output=log)  # fmt: skip
    stop = asyncio.Event()
    supervisor = None
    selfie = (photos_dir / "obama.jpg").read_bytes()

    def read(user: int, photo: int) -> bool:
        return any(m.reply_to_message_id == photo and m.reply_markup for m in server.state.transcript(user))

    try:
        await cluster.start()
        supervisor = asyncio.create_task(cluster.supervise(stop))
        # Registered once, at the proxy, with the one secret every worker checks.
        assert server.state.webhook["url"] == hook
        assert server.state.webhook["secret_token"] == cluster.env["WEBHOOK_SECRET_TOKEN"]
        # Forgeries through the public address: no or a wrong secret is refused by the worker; anything but a
        # POST to the webhook path, the workers' health route included, stops at the proxy.
        forged = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "from": {"id": 1, "is_bot": False, "first_name": "X"},
                "text": "/forget",
            },
        }
        wrong = {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        async with aiohttp.ClientSession() as outsider:
            for method, url, headers, status in [
                ("POST", hook, {}, 403),
                ("POST", hook, wrong, 403),
                ("GET", f"http://127.0.0.1:{proxy}/healthz", {}, 404),
                ("POST", f"http://127.0.0.1:{proxy}/other", wrong, 404),
            ]:
                async with outsider.request(method, url, json=forged, headers=headers) as resp:
                    assert resp.status == status, (method, url, headers)
        assert not server.state.transcript(1), "a forged update reached a handler"
        async with aiohttp.ClientSession(base_url=server.url) as http:
            first = await send_photo(http, 1, selfie)
            await server.state.wait_for(lambda: read(1, first), 30)
            # One worker dies hard: the proxy sends what comes next to the other; the supervisor restarts it.
            victim = cluster.worker_children[0]
            victim.process.send_signal(signal.SIGKILL)
            photos = {user: await send_photo(http, user, selfie) for user in (2, 3)}
            await server.state.wait_for(lambda: all(read(u, p) for u, p in photos.items()), 30)
            for _ in range(100):  # the supervisor notices within a fraction of a second
                if victim.restarts:
                    break
                await asyncio.sleep(0.1)
            assert victim.restarts == 1
            await cluster.wait_healthy(victim, 30)
    finally:
        stop.set()
        if supervisor is not None:
            await supervisor
        await cluster.stop()
        await server.stop()
        log.close()
    assert all(c.process.returncode is not None for c in cluster.children)
    assert cluster.env["WEBHOOK_SECRET_TOKEN"] not in (tmp_path / "cluster.log").read_text()


@needs_haproxy
@pytest.mark.skipif(
    not local_postgres.available(), reason="no PostgreSQL server here (Debian: apt-get install postgresql)"
)
async def test_the_script_on_postgresql_survives_a_rolling_restart_and_stops_on_sigterm(
    tmp_path: Path, photos_dir: Path
) -> None:
    server = await start_server("127.0.0.1", 0, token=TOKEN)
    proxy, first_worker = free_port(), free_ports_in_a_row(2)
    env = bot_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url,
                  WEBHOOK_URL=f"http://127.0.0.1:{proxy}/hook", PHOTOS_PER_MINUTE="1000")  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.cluster", "--workers", "2", "--port", str(proxy), "--bind", "127.0.0.1",
        "--first-worker-port", str(first_worker), "--postgres-dir", str(tmp_path / "pg"),
        cwd=PROJECT_ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    selfie = (photos_dir / "obama.jpg").read_bytes()

    def replied(user: int) -> bool:
        return any(m.sender == "bot" for m in server.state.transcript(user))

    try:
        await server.state.wait_for(lambda: server.state.webhook, 60)
        async with aiohttp.ClientSession(base_url=server.url) as http:
            await send_photo(http, 1, selfie)  # no consent yet: the bot asks, which needs the database
            await server.state.wait_for(lambda: replied(1), 30)
            process.send_signal(signal.SIGHUP)  # a deploy: worker 1 drains and restarts, then worker 2
            for user in range(2, 6):  # sent during the rolling restart: each one still answered
                await send_photo(http, user, selfie)
                await asyncio.sleep(0.5)
            await server.state.wait_for(lambda: all(replied(u) for u in range(2, 6)), 60)
        process.send_signal(signal.SIGTERM)
        out, _ = await asyncio.wait_for(process.communicate(), 60)
    except BaseException:
        if process.returncode is None:
            process.kill()
        out, _ = await process.communicate()
        print(out.decode()[-5000:])  # what the script said, for the failure report
        raise
    finally:
        await server.stop()
    text = out.decode()
    assert process.returncode == 0, text[-3000:]
    assert "restarting worker1" in text and "restarting worker2" in text and "stopping" in text
    assert "Traceback" not in text and TOKEN not in text
