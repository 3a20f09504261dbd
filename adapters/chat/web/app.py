"""The one aiohttp application every HTTP route is mounted on."""

from __future__ import annotations

from aiohttp import web

from chatops.service import Service

SERVICE_KEY = web.AppKey("service", Service)


def build_web_app(service: Service) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app[SERVICE_KEY] = service
    app.router.add_get("/healthz", healthz)
    if service.slack is not None:
        service.slack.mount(app)
    if service.teams is not None:
        service.teams.mount(app)
    app.on_startup.append(_start_integrations)
    app.on_cleanup.append(_stop_integrations)
    return app


async def _start_integrations(app: web.Application) -> None:
    await app[SERVICE_KEY].start_integrations()


async def _stop_integrations(app: web.Application) -> None:
    await app[SERVICE_KEY].stop_integrations()


async def healthz(request: web.Request) -> web.Response:
    """503 when the database does not answer; 200 otherwise, with every degraded part
    (a failing job, a stopped poller, a chat platform refusing alerts) named in `checks`."""
    service = request.app[SERVICE_KEY]
    checks: dict[str, str] = {"network": ", ".join(service.networks.networks())}
    status = 200
    try:
        await service.db.ping()
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
        status = 503
    problems = service.health.snapshot() if service.health is not None else {}
    for pollers, _ in service.pollers:
        if pollers.stopped:
            problems[f"listening:{pollers.source}"] = f"stopped: {pollers.stopped}"
    checks.update(problems)
    healthy = status == 200 and not problems
    body = {"status": "ok" if healthy else "degraded", "checks": checks}
    return web.json_response(body, status=status)
