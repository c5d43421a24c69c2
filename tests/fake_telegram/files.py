"""Files both ways: documents the bot sends (``sendDocument``, uploaded or by file id), and
documents users send that the bot fetches (``getFile``, then a download from
``/file/bot<token>/<file_path>``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fake_telegram.model import ApiCall, ApiError, UploadedFile

if TYPE_CHECKING:
    from tests.fake_telegram.server import FakeTelegram


def register_file(fake: FakeTelegram, upload: UploadedFile) -> dict[str, Any]:
    """Keep a file for getFile and download; return its Document fields."""
    n = next(fake._file_ids)
    file_id = f"BQACAgFake{n}"
    suffix = re.search(r"\.[A-Za-z0-9]{1,8}$", upload.filename)
    fake._files[file_id] = (f"documents/file_{n}{suffix.group() if suffix else ''}", upload)
    return {
        "file_id": file_id,
        "file_unique_id": f"AgADFake{n}",
        "file_name": upload.filename,
        "mime_type": upload.content_type,
        "file_size": len(upload.content),
    }


def send_document(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    document = call.params.get("document")
    if document is None or document == "":
        raise ApiError(400, "Bad Request: there is no document in the request", record=True)
    if isinstance(document, UploadedFile):
        info = register_file(fake, document)
    else:  # a file_id or URL
        n = next(fake._file_ids)
        info = {"file_id": str(document), "file_unique_id": f"AgADFake{n}"}
    result = fake.store_bot_message(call.params, text_key="caption", document=info)
    if isinstance(document, UploadedFile):
        fake._chats[result["chat"]["id"]][result["message_id"]].file = document
    return result


def get_file(fake: FakeTelegram, call: ApiCall) -> dict[str, Any]:
    file_id = str(call.params.get("file_id", ""))
    if file_id not in fake._files:
        raise ApiError(400, "Bad Request: invalid file_id", record=True)
    path, upload = fake._files[file_id]
    n = file_id.removeprefix("BQACAgFake")
    return {
        "file_id": file_id,
        "file_unique_id": f"AgADFake{n}",
        "file_size": len(upload.content),
        "file_path": path,
    }


def download(fake: FakeTelegram, request: web.Request) -> web.Response:
    """``GET /file/bot<token>/<file_path>``: the bytes of a file ``getFile`` described."""
    path = request.match_info["file_path"]
    if request.match_info["token"] != fake.token:
        fake.errors.append(f"file download with a wrong token: {path}")
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )
    found = next((f for p, f in fake._files.values() if p == path), None)
    if found is None:
        fake.errors.append(f"download of unknown file path {path!r} (call getFile first)")
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )
    fake.downloads.append(path)
    fake._changes.notify()
    return web.Response(body=found.content, content_type=found.content_type)


METHODS = {"sendDocument": send_document, "getFile": get_file}
