"""chiso-web — the public dashboard (HTTP), a client of publish's public gRPC API.

Settings are ``CHISO_WEB_*`` (the common ones fall back to ``CHISO_*``). It holds no database: it
reads publish (rankings, scorecards, history, publications, keys, exports) and scoring (WhatIf for
the planner; ExplainIndicator with an official's own credential). Served by waitress; Prometheus
metrics on their own port; JSON logs; SIGTERM stops taking requests and lets those in flight end.
"""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from prometheus_client import start_http_server
from waitress.server import create_server

from services.shared.config import CommonSettings, ConfigError, check_setting, load_settings
from services.shared.logging import configure_logging
from services.web.app import create_app
from services.web.gateway import Gateway

ENV_PREFIX = "CHISO_WEB_"
HTTP_HEALTH_PATH = "/healthz"  # what probes ask (200 while the process serves)
log = structlog.get_logger("chiso.web")


@dataclass(frozen=True)
class WebSettings(CommonSettings):
    """The dashboard's settings (it uses no database: ``database_url`` is not read by anything here)."""

    port: int = field(default=8080, metadata={"doc": "HTTP port of the dashboard (0 = any free port)"})
    publish_target: str = field(default="127.0.0.1:50053", metadata={"doc": "host:port of the publish service"})
    scoring_target: str = field(default="127.0.0.1:50052",
                                metadata={"doc": "host:port of the scoring service (what-if, explanations)"})
    timeout_seconds: float = field(default=20.0, metadata={"doc": "deadline of each call to publish or scoring"})
    secure_cookies: bool = field(default=False, metadata={
        "doc": "mark the officials' sign-in cookie Secure (set it when the site is served over HTTPS)"})
    font_dir: str = field(default="/usr/share/fonts/truetype/dejavu", metadata={
        "doc": "folder with DejaVuSans.ttf and DejaVuSans-Bold.ttf, embedded in the PDF reports"})

    def __post_init__(self) -> None:
        super().__post_init__()
        check_setting(self.timeout_seconds > 0, "timeout_seconds", "must be positive")
        check_setting(":" in self.publish_target, "publish_target", "must be host:port")
        check_setting(":" in self.scoring_target, "scoring_target", "must be host:port")


class WebHandle:
    """A running dashboard: ``address`` ("http://host:port"), ``stop()``."""

    def __init__(self, settings: WebSettings) -> None:
        from services.web import report

        report.FONT_DIR = Path(settings.font_dir)
        self.gateway = Gateway(settings.publish_target, settings.scoring_target, settings.timeout_seconds,
                               settings.max_message_bytes)
        self.app = create_app(self.gateway, secure_cookies=settings.secure_cookies)
        self.server = create_server(self.app, host=settings.host, port=settings.port, threads=settings.max_workers,
                                    ident="chiso-web", clear_untrusted_proxy_headers=True)
        self.port = self.server.effective_port
        host = settings.host if settings.host not in ("0.0.0.0", "::") else "127.0.0.1"  # noqa: S104
        self.address = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.run, name="chiso-web", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.close()
        if self._thread is not None:
            self._thread.join(10)
        self.gateway.close()


def build(settings: WebSettings) -> WebHandle:
    return WebHandle(settings)


def main(argv: list[str] | None = None) -> int:
    try:
        settings = load_settings(WebSettings, ENV_PREFIX)
    except ConfigError as exc:
        print(f"chiso-web: {exc}", file=sys.stderr)
        return 2
    configure_logging("web", settings.log_level)
    handle = build(settings)
    metrics = None
    if settings.metrics_port >= 0:
        metrics, _ = start_http_server(settings.metrics_port, addr=settings.host)
    done = threading.Event()
    received: list[int] = []

    def on_signal(signum, _frame) -> None:
        received.append(signum)
        done.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    handle.start()
    log.info("listening", service="web", address=handle.address,
             metrics_port=metrics.server_port if metrics else None, publish=settings.publish_target,
             scoring=settings.scoring_target)
    while not done.wait(0.5):
        pass
    log.info("stopping", service="web", signal=signal.Signals(received[0]).name if received else None,
             grace_seconds=settings.grace_seconds)
    handle.stop()
    if metrics is not None:
        metrics.shutdown()
        metrics.server_close()
    log.info("stopped", service="web")
    return 0


if __name__ == "__main__":
    sys.exit(main())
