"""A site's imported history in its settings (docs/imports.md): the imports listed (id, file,
days, pageviews), an upload form for Plausible's CSV export, and "remove" per import. Site
admins only; every change is audited; the upload is bounded (``MAX_FILE_BYTES``)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute

from ...audit import Actor, record
from ...auth.principal import require_user
from ...imports import list_imports, remove_import, write_import
from ...imports_cli import import_detail
from ...imports_csv import MAX_FILE_BYTES, ImportError_, read_export
from ...sites import Site
from ..dashboard.site_imports import forget_imports
from ..render import Renderer
from ..upload import parse_multipart
from .site_sections import admin_site as shared_admin_site
from .site_sections import section_template

__all__ = ["make_imports_router"]


def make_imports_router(*, render: Renderer, route_class: type[APIRoute]) -> APIRouter:
    """``/settings/sites/{domain}/imports`` and its actions (site admins)."""
    router = APIRouter(route_class=route_class)
    store, mount = render.store, render.settings.mount_path

    class UploadRoute(route_class):  # type: ignore[valid-type,misc]
        # The guard's body bound for this route: the file plus the form around it.
        max_body_bytes = MAX_FILE_BYTES + 64 * 1024

    async def admin_site(request: Request, domain: str) -> Site:
        return await shared_admin_site(store, request, domain)

    async def section(request: Request, site: Site, *, error: str = "", notice: str = "",
                      status: int = 200) -> Response:
        return render(request, section_template(request, "imports", status), {
            "site": site, "imports": await list_imports(render.site_store(site), site_id=site.id),
            "import_error": error, "import_notice": notice,
            "max_mb": MAX_FILE_BYTES // 2**20,
        }, status)

    @router.get("/settings/sites/{domain}/imports", name="analytics_941_site_imports")
    async def imports(request: Request, domain: str) -> Response:
        return await section(request, await admin_site(request, domain))

    async def import_add(request: Request, domain: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        fields = parse_multipart(await request.body(), request.headers.get("content-type", ""))
        upload = fields.get("file")
        if upload is None or not upload.content:
            return await section(request, site, error="Choose the export's zip file (or one of "
                                 "its CSV files).", status=400)
        if len(upload.content) > MAX_FILE_BYTES:
            return await section(request, site, status=413, error=f"The file is larger than "
                                 f"{MAX_FILE_BYTES // 2**20} MB.")
        name = (upload.filename or "export.zip").rsplit("/", 1)[-1][-200:]
        today = datetime.now(ZoneInfo(site.timezone)).date()
        try:
            data = read_export(upload.content, file_name=name, today=today)
            done = await write_import(render.site_store(site), site_id=site.id, data=data,
                                      file_name=name)
        except ImportError_ as exc:
            return await section(request, site, error=f"Not imported: {exc}.", status=400)
        forget_imports(render.site_store(site), site.id)
        if not done.written:
            return await section(request, site, notice="This export is already imported: "
                                 "nothing changed.")
        await record(store, "import_create", actor=Actor.of_user(user), sites=[site.id],
                     detail=import_detail(done.entry))
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#imports", status_code=303)

    router.add_api_route("/settings/sites/{domain}/imports", import_add, methods=["POST"],
                         name="analytics_941_import_add", route_class_override=UploadRoute)

    @router.post("/settings/sites/{domain}/imports/{import_id}/remove",
                 name="analytics_941_import_remove")
    async def import_drop(request: Request, domain: str, import_id: str) -> Response:
        site = await admin_site(request, domain)
        _principal, user = require_user(request)
        removed = await remove_import(render.site_store(site), site_id=site.id,
                                      import_id=import_id)
        forget_imports(render.site_store(site), site.id)
        if removed is not None:
            await record(store, "import_remove", actor=Actor.of_user(user), sites=[site.id],
                         detail=import_detail(removed))
        return RedirectResponse(f"{mount}/settings/sites/{site.domain}#imports", status_code=303)

    return router
