"""The one aiohttp application every HTTP route is mounted on."""

from __future__ import annotations

from aiohttp import web

from chatops.service import Service

SERVICE_KEY = web.AppKey("service", Service)


def build_web_app(service: Service) -> web.Application:
    app = web.Application(client_max_size=1024**2)
    app[SERVICE_KEY] = service
    app.router.add_get("/healthz", healthz)
    return app


async def healthz(request: web.Request) -> web.Response:
    """200 when the database answers; 503 naming what is degraded otherwise."""
    service = request.app[SERVICE_KEY]
    checks: dict[str, str] = {"network": service.core.network_label.lower()}
    status = 200
    try:
        await service.db.ping()
        checks["database"] = "ok"
    except Exception as error:
        checks["database"] = f"unreachable: {type(error).__name__}"
        status = 503
    body = {"status": "ok" if status == 200 else "degraded", "checks": checks}
    return web.json_response(body, status=status)
