"""The simulator over plain HTTP, as its own tests drive it."""

import dataclasses
import json
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

# Fast enough for a short suite, slow enough that the states can be observed.
DEFAULT_OPTIONS = {
    "qr_rotate_seconds": 30.0,
    "qr_max_rotations": 6,
    "loading_seconds": 0.2,
    "send_ack_seconds": 0.2,
}


@dataclasses.dataclass
class Response:
    status: int
    body: dict
    headers: dict[str, str]


def _request(opener: urllib.request.OpenerDirector, request: urllib.request.Request) -> Response:
    try:
        with opener.open(request, timeout=10) as reply:
            raw, status, headers = reply.read(), reply.status, dict(reply.headers)
    except urllib.error.HTTPError as error:
        raw, status, headers = error.read(), error.code, dict(error.headers)
    is_json = headers.get("Content-Type", "").startswith("application/json")
    return Response(status, json.loads(raw) if is_json else {"html": raw.decode()}, headers)


@dataclasses.dataclass
class Simulator:
    """A running simulator and a plain HTTP client for its control API."""

    base_url: str
    opener: urllib.request.OpenerDirector = dataclasses.field(default_factory=urllib.request.build_opener)

    def get(self, path: str) -> Response:
        return _request(self.opener, urllib.request.Request(self.base_url + path))

    def post(self, path: str, body: object = None, *, raw: bytes | None = None) -> Response:
        data = raw if raw is not None else json.dumps(body if body is not None else {}).encode()
        request = urllib.request.Request(
            self.base_url + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        return _request(self.opener, request)

    def control(self, path: str, body: object = None) -> dict:
        """POST to the control API and insist it worked."""
        response = self.post("/sim/control" + path, body)
        assert response.status == 200, response.body
        return response.body

    def sessions(self) -> list[dict]:
        return self.get("/sim/control/sessions").body["sessions"]

    def session(self, ref: str) -> dict:
        response = self.get(f"/sim/control/sessions/{ref}")
        assert response.status == 200, response.body
        return response.body

    def page_client(self) -> "Simulator":
        """A cookie-keeping client that talks to the page API like a browser would."""
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        return Simulator(self.base_url, opener)
