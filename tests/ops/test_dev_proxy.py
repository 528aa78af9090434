"""Routing agreement: the real nginx, started on 127.0.0.1 with the rules `odyssey dev` generates for a stack and
one stub HTTP server per routed service (each answering with its name), receives the requests the shared ALB's
rules would route; the service that answers must be the one the ALB's evaluation (tests/alb.py) picks with the
program's own priorities, and an unmatched request must get the listener's fixed 404.

Skipped, with the reason, where nginx is not installed (Debian: apt-get install nginx-light)."""

from __future__ import annotations

import http.client
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from odyssey.config.checks import public_routes
from odyssey.domain.local_proxy import proxy_conf
from odyssey.domain.routing import NOT_FOUND_BODY, NOT_FOUND_CONTENT_TYPE, NOT_FOUND_STATUS, rules_in_order
from odyssey.ops.offline.dev import dev_files, load_config
from tests.alb import alb_target, probes
from tests.dev_stacks import GENERATED, generated_project
from tests.plans import ROOT

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian: apt-get install nginx-light)")
START_SECONDS = 10
REQUEST_SECONDS = 5


class Stub(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the http.server API
        body = self.server.service.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("X-Stub-Path", self.path)
        self.send_header("X-Stub-Host", self.headers.get("Host", ""))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def proxy(tmp_path):
    """Start nginx with a stack's generated rules and stub upstreams; yields a function (host, target) -> response."""
    started: list = []

    def start(config, names):
        routes = public_routes(config)
        for name in routes:
            server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
            server.service = name
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            started.append(server)
        upstreams = {s.service: f"127.0.0.1:{s.server_address[1]}" for s in started}
        port = _free_port()
        conf = proxy_conf(names.stack, routes.values(), upstreams, resolver="127.0.0.1", listen=port)
        # The same rules as the file `odyssey dev` writes, but for the upstreams and the container's resolver/port.
        generated = dev_files(config, names, ".env", "./rules.conf").proxy_conf
        assert _rules(conf) == _rules(generated)
        (tmp_path / "odyssey.conf").write_text(conf)
        (tmp_path / "nginx.conf").write_text(
            f"worker_processes 1;\npid {tmp_path}/nginx.pid;\nevents {{ worker_connections 64; }}\n"
            f"http {{\n    access_log off;\n    client_body_temp_path {tmp_path}/body;\n"
            f"    proxy_temp_path {tmp_path}/proxy;\n    fastcgi_temp_path {tmp_path}/fastcgi;\n"
            f"    uwsgi_temp_path {tmp_path}/uwsgi;\n    scgi_temp_path {tmp_path}/scgi;\n"
            f"    include {tmp_path}/odyssey.conf;\n}}\n")
        command = [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")]
        check = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        process = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.PIPE)
        started.append(process)
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "nginx did not listen in time"
                time.sleep(0.05)

        def request(host: str, target: str):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_SECONDS)
            connection.request("GET", target, headers={"Host": host})
            response = connection.getresponse()
            body = response.read().decode()
            connection.close()
            return response, body

        return request

    yield start
    for thing in started:
        if isinstance(thing, subprocess.Popen):
            thing.terminate()
            thing.wait(timeout=START_SECONDS)
        else:
            thing.shutdown()
            thing.server_close()


def _rules(conf: str) -> list[str]:
    """The configuration without the lines that name the machine it runs on (upstreams, resolver, port)."""
    upstreams = conf.split("map $odyssey_service $odyssey_upstream {", 1)
    body = upstreams[0] + upstreams[1].split("}", 1)[1]
    return [line for line in body.splitlines() if not line.lstrip().startswith(("resolver ", "listen "))]


def _agree(request, config, suffix: str = "localhost") -> int:
    routes = public_routes(config)
    ordered = rules_in_order(routes.values())
    checked = 0
    for host, target in probes(routes.values()):
        expected = alb_target(ordered, host, target)
        for local in (f"{host}.{suffix}", host):
            response, body = request(local, target)
            if expected is None:
                assert (response.status, body) == (NOT_FOUND_STATUS, NOT_FOUND_BODY), (local, target, body)
                assert response.getheader("Content-Type").startswith(NOT_FOUND_CONTENT_TYPE)
            else:
                assert (response.status, body) == (200, expected), (local, target, body)
                # Upstream unchanged: the raw target and the Host header the client sent.
                assert response.getheader("X-Stub-Path") == target
                assert response.getheader("X-Stub-Host") == local
            checked += 1
    return checked


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_nginx_routes_the_committed_stacks_as_the_alb(proxy, stack):
    config, names = load_config(ROOT, stack)
    assert _agree(proxy(config, names), config) > 20


def test_nginx_routes_a_generated_stack_of_50_services_as_the_alb(proxy, tmp_path):
    config, names = load_config(generated_project(tmp_path), GENERATED)
    assert len(config.services) == 50
    assert _agree(proxy(config, names), config) > 100


def test_nginx_routes_rules_of_every_kind_as_the_alb(proxy, tmp_path):
    """Host-only, wildcard hosts, several hosts and paths, `?`, overlapping prefixes, over the 50 services."""
    config, names = load_config(generated_project(tmp_path, mixed=True), GENERATED)
    request = proxy(config, names)
    assert _agree(request, config) > 100
    # The kinds each decide somewhere: a host+path rule before a host-only one, exact host before a wildcard.
    assert request("gen.example.com.localhost", "/svc-12/x")[1] == "svc-12"
    assert request("gen.example.com.localhost", "/svc-100/x")[1] == "svc-4"
    assert request("gen.example.com.localhost", "/elsewhere")[1] == "svc-1"
    assert request("admin.example.com.localhost", "/elsewhere")[1] == "svc-0"
    assert request("admin.example.com.localhost", "/static/a.css")[1] == "svc-5"
    assert request("api.example.net.localhost", "/v2/items")[1] == "svc-2"
    assert request("api.example.net.localhost", "/v22/items")[0].status == NOT_FOUND_STATUS


@pytest.mark.parametrize("stack", ["prod", "stage"])
def test_the_written_rules_are_valid_nginx_once_the_image_renders_them(tmp_path, stack):
    """The file as written, rendered as the nginx image's entrypoint renders a template: its resolvers (IPv6 in
    brackets, 15-local-resolvers.envsh) for ${NGINX_LOCAL_RESOLVERS}, the only variable it may substitute."""
    config, names = load_config(ROOT, stack)
    written = dev_files(config, names, ".env", "./rules.conf").proxy_conf
    assert written.count("${") == 1
    (tmp_path / "odyssey.conf").write_text(written.replace("${NGINX_LOCAL_RESOLVERS}", "127.0.0.11 [::1]"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\nhttp {{\n    include {tmp_path}/odyssey.conf;\n}}\n")
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"),
                            "-e", str(tmp_path / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
