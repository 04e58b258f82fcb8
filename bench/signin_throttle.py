"""Benchmark: does the sign-in throttle hold across gunicorn worker processes?

Starts ``gunicorn -w 4 app:app`` on a temporary SQLite database with one user,
then fires wrong-password POSTs at ``/login`` from several threads and counts
how many the app *evaluated* (401 "wrong username or password") and how many it
*refused as locked* (429), then tries the right password while locked.  Two
scenarios:

* ``account`` — every attempt names the one real user (the per-account lock,
  ``LOGIN_RATE_LIMIT``, default 10 per minute and 50 per hour);
* ``address`` — every attempt names another user (``guess-1``, ``guess-2`` …),
  all from this address (the per-address lock, ``LOGIN_ADDRESS_RATE_LIMIT``,
  default 200 per hour); the right password of the real user follows.

With ``--baseline REV`` the same scenarios run first against that git revision
(exported with ``git archive``, using this checkout's ``.venv``), so the table
compares before and after in one run.  CSRF stays on: each client fetches the
sign-in page once for its session cookie and token.

Usage (from the repository root)::

    python bench/signin_throttle.py [--attempts 400] [--threads 8] [--workers 4] [--baseline HEAD~5]
"""
from __future__ import annotations

import argparse
import concurrent.futures
import http.cookiejar
import os
import re
import secrets
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "bench-admin"
PASSWORD = "bench-password-1"


@dataclass
class Outcome:
    """What one scenario measured: answers to the wrong-password posts and to the right one."""

    scenario: str
    attempts: int
    evaluated: int  # 401: the password was checked and found wrong
    refused: int  # 429: refused as locked, the password not even checked
    other: dict
    right_password: int  # status of the right password afterwards (302 = signed in)


class Client:
    """A browser: its own cookie jar, the CSRF token of its session."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        page = self.opener.open(base + "/login", timeout=30).read().decode()
        match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        self.token = match.group(1) if match else ""

    def login(self, username: str, password: str) -> int:
        """POST the sign-in form; return the HTTP status."""
        data = urllib.parse.urlencode({"csrf_token": self.token, "username": username,
                                       "password": password}).encode()
        try:
            with self.opener.open(self.base + "/login", data=data, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 302 after sign-in is the answer itself
        return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _export(rev: str, into: Path) -> Path:
    """The tree of git revision ``rev`` under ``into``, sharing this checkout's .venv."""
    archive = into / "src.tar"
    subprocess.run(["git", "-C", str(ROOT), "archive", "-o", str(archive), rev], check=True)
    code = into / "src"
    code.mkdir()
    with tarfile.open(archive) as tar:
        tar.extractall(code, filter="data")
    (code / ".venv").symlink_to(ROOT / ".venv")
    if (ROOT / "translations").is_dir():  # compiled catalogues are not in git
        subprocess.run([str(ROOT / ".venv/bin/flask"), "--app", "app", "i18n", "compile"], cwd=code,
                       env=_env(code, "sqlite://"), check=False, capture_output=True)
    return code


def _env(code: Path, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("FLASK_APP", "INVENTORY_ENV")}
    env.update(DATABASE_URL=database_url, SECRET_KEY=secrets.token_hex(32), PYTHONPATH=str(code))
    return env


def run(code: Path, label: str, args) -> list[Outcome]:
    """Both scenarios against the app in ``code``, each on a fresh database and server."""
    results = []
    for scenario in ("account", "address"):
        with tempfile.TemporaryDirectory() as tmp:
            env = _env(code, f"sqlite:///{Path(tmp) / 'bench.db'}")
            flask = [str(ROOT / ".venv/bin/flask"), "--app", "app"]
            subprocess.run(flask + ["db", "upgrade"], cwd=code, env=env, check=True, capture_output=True)
            subprocess.run(flask + ["users", "create", USERNAME, "--role", "admin", "--password", PASSWORD],
                           cwd=code, env=env, check=True, capture_output=True)
            port = _free_port()
            server = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                 "--log-level", "warning", "app:app"],
                cwd=code, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            try:
                base = f"http://127.0.0.1:{port}"
                _wait(base, server)
                results.append(_scenario(base, scenario, label, args))
            finally:
                server.terminate()
                server.wait(timeout=30)
    return results


def _wait(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped:\n" + server.stderr.read().decode()[-2000:])
        try:
            urllib.request.urlopen(base + "/login", timeout=2).read()
            return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer within 60 s")


def _scenario(base: str, scenario: str, label: str, args) -> Outcome:
    clients = [Client(base) for _ in range(args.threads)]

    def attempt(i: int) -> int:
        username = USERNAME if scenario == "account" else f"guess-{i}"
        return clients[i % len(clients)].login(username, f"wrong-{i}")

    with concurrent.futures.ThreadPoolExecutor(args.threads) as pool:
        codes = list(pool.map(attempt, range(args.attempts)))
    other: dict[int, int] = {}
    for code in codes:
        if code not in (401, 429):
            other[code] = other.get(code, 0) + 1
    right = Client(base).login(USERNAME, PASSWORD)
    return Outcome(f"{label}: {scenario}", args.attempts, codes.count(401), codes.count(429), other, right)


def main() -> None:
    """Parse the options, run the scenarios (baseline first) and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=400)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--baseline", metavar="REV", help="also measure this git revision first")
    args = parser.parse_args()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.baseline:
            outcomes += run(_export(args.baseline, Path(tmp)), f"baseline {args.baseline}", args)
        outcomes += run(ROOT, "this checkout", args)
    print(f"\ngunicorn -w {args.workers}, {args.threads} clients in parallel, SQLite; limits as configured "
          "(default: 10 per minute and 50 per hour per account, 200 per hour per address)\n")
    print(f"{'scenario':<34} {'attempts':>8} {'evaluated':>9} {'refused':>7}  {'other':<10} right password")
    for o in outcomes:
        verdict = {302: "ACCEPTED (signed in)", 429: "refused (locked)", 401: "evaluated, refused"}.get(
            o.right_password, str(o.right_password))
        print(f"{o.scenario:<34} {o.attempts:>8} {o.evaluated:>9} {o.refused:>7}  {str(o.other or '-'):<10} "
              f"{verdict}")


if __name__ == "__main__":
    sys.exit(main())
