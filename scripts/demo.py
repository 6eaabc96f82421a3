"""`make demo`: the whole system on this machine, offline.

Applies the D1 migrations locally, registers the demo site, starts the collector in
`wrangler dev` and the demo FastAPI site with the dashboard mounted, sends demo traffic through
the real collector, prints the URLs and runs until Ctrl-C, which stops both servers.
Ports: COLLECTOR_PORT (default 8787) and DEMO_PORT (default 8000).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.demo_traffic import send_demo_traffic
from scripts.devstack import BIN, ROOT, apply_migrations, running, start_collector, start_site

DOMAIN = "localhost"


def ensure_demo_site() -> None:
    """Register the demo site through the admin CLI, the way an owner would (idempotent)."""
    cli = str(BIN / "analytics-941")
    listed = subprocess.run([cli, "sites", "list"], cwd=ROOT, capture_output=True, text=True,
                            check=True)
    # `sites list` prints one tab-separated row per site: id, domain, timezone, name.
    if any(line.split("\t")[1:2] == [DOMAIN] for line in listed.stdout.splitlines()):
        return
    # The CLI prints the new site's id for scripts; the demo says in words what it did.
    subprocess.run([cli, "sites", "add", DOMAIN, "--name", "Demo site", "--also-domain",
                    "127.0.0.1"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    print(f"→ registered the demo site {DOMAIN} (also 127.0.0.1)")


def setup_token(site_port: int) -> str | None:
    """A one-time setup token while nobody can sign in yet, else None.

    Issued here and handed to the site as ANALYTICS_941_SETUP_TOKEN, so the banner's link and the
    site's own start-up log name the same token (the site then logs where to use it, not a
    second token of its own).
    """
    done = subprocess.run([str(BIN / "analytics-941"), "setup-link", "--base-url",
                           f"http://localhost:{site_port}"], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode != 0:
        return None
    return parse_qs(urlsplit(done.stdout.strip()).query)["token"][0]


def dashboard_link(site_port: int, token: str | None) -> str:
    """The setup link while nobody can log in yet, else the login page (on localhost)."""
    base = f"http://localhost:{site_port}/admin/analytics"
    if token:
        return (f"Set up:      {base}/setup?token={token}\n"
                "                 (one-time link: registers your passkey as the owner)")
    return f"Dashboard:   {base}/  (sign in with your passkey)"


def main() -> None:
    collector_port = int(os.environ.get("COLLECTOR_PORT", "8787"))
    site_port = int(os.environ.get("DEMO_PORT", "8000"))
    log_dir = ROOT / ".wrangler" / "demo-logs"
    collector_url = f"http://127.0.0.1:{collector_port}"
    site_url = f"http://127.0.0.1:{site_port}"

    print("→ applying D1 migrations to the local database", flush=True)
    apply_migrations()
    ensure_demo_site()
    # Ctrl-C must stop the servers even when SIGINT was inherited as ignored (a background job
    # of a non-interactive shell), and SIGTERM (e.g. from a supervisor) does the same.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    print(f"→ starting the collector (wrangler dev) on {collector_url}", flush=True)
    collector = start_collector(port=collector_port, log_dir=log_dir)
    with running(collector):
        print(f"→ starting the demo site on {site_url}", flush=True)
        token = setup_token(site_port)
        site = start_site(port=site_port, log_dir=log_dir,
                          env={"ANALYTICS_941_COLLECTOR_URL": collector_url,
                               **({"ANALYTICS_941_SETUP_TOKEN": token} if token else {})})
        with running(site):
            accepted = send_demo_traffic(collector_url=collector_url, domain=DOMAIN,
                                         site_url=site_url)
            print(f"→ sent demo traffic: {accepted} events accepted by the collector", flush=True)
            print(f"""
  941 Analytics demo is running (logs in {log_dir.relative_to(ROOT)}/)

    Demo site:   {site_url}/
    {dashboard_link(site_port, token)}
    Collector:   {collector_url}/script.js

  Browse the demo site to add visits; the dashboard shows them within a couple of seconds.
  Press Ctrl-C to stop.
""", flush=True)
            try:
                while collector.process.poll() is None and site.process.poll() is None:
                    time.sleep(1)
                print("a server stopped unexpectedly; see the logs above", file=sys.stderr)
                sys.exit(1)
            except KeyboardInterrupt:
                print("\n→ stopping", flush=True)


if __name__ == "__main__":
    main()
