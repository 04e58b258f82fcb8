"""A second web-worker process for the sign-in throttle tests.

``python -m tests.clocked <now> tests.signin_worker <db url> <username> <password> <count> <account limit>``
builds the app on the given database in this process (its own memory, as a
gunicorn worker has), posts ``count`` sign-ins and prints their HTTP statuses as
JSON.  Both the database throttle and Flask-Limiter are switched on, so the
test compares like with like whichever implementation the code has.
"""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    """Post the sign-ins described by ``argv`` and print ``[status, …]``."""
    uri, username, password, count, account_limit = argv
    from inventory import create_app

    app = create_app("test", SQLALCHEMY_DATABASE_URI=uri, LOGIN_THROTTLE_ENABLED=True, RATELIMIT_ENABLED=True,
                     LOGIN_RATE_LIMIT=account_limit)
    client = app.test_client()
    codes = [client.post("/login", data={"username": username, "password": password}).status_code
             for _ in range(int(count))]
    print(json.dumps(codes))


if __name__ == "__main__":
    main(sys.argv[1:])
