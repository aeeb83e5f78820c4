"""`skillbot web`: the console under uvicorn, logging through the bot's redacting handlers."""

from __future__ import annotations

import logging

from bot.settings import Settings
from bot.web.config import WebSettings


class NoQuery(logging.Filter):
    """Access log lines without query strings: a search may hold a caller's name or numbers."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            args = list(record.args)
            args[2] = str(args[2]).split("?", 1)[0]
            record.args = tuple(args)
        return True


def run(settings: Settings, host: str, port: int, web: WebSettings | None = None) -> None:
    import uvicorn

    from bot.web.app import create_app

    logging.getLogger("uvicorn.access").addFilter(NoQuery())
    # log_config=None: uvicorn's loggers go to the root handlers cli_settings() set up,
    # which redact personal numbers from every line.
    config = uvicorn.Config(
        create_app(settings, web),
        host=host,
        port=port,
        log_config=None,
        proxy_headers=True,
        server_header=False,
        timeout_graceful_shutdown=30,
    )
    uvicorn.Server(config).run()
