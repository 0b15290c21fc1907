"""A stand-in ``llama-server`` executable that starts healthy and dies of SIGILL at its first
completion, as a llama.cpp build using AMX does on a CPU that reports AMX (issue #14).

Tests copy it next to a shebang of the running Python and point ``$TICKMIND_LLAMA_SERVER`` at
it. It takes llama-server's command line (only ``--host`` and ``--port`` matter), answers
``/health`` and ``/v1/models``, and on any POST kills itself with SIGILL, the way the kernel
does at an illegal instruction. Standard library only: it runs outside the test's venv path.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        sys.stdout.write("standin: " + format % args + "\n")
        sys.stdout.flush()

    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "data": [{"id": "local"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        sys.stdout.write("standin: ggml_compute_forward_mul_mat: tilezero\n")
        sys.stdout.flush()
        os.kill(os.getpid(), signal.SIGILL)


def main(argv: list[str]) -> None:
    host = argv[argv.index("--host") + 1] if "--host" in argv else "127.0.0.1"
    port = int(argv[argv.index("--port") + 1])
    signal.signal(signal.SIGILL, signal.SIG_DFL)
    sys.stdout.write(f"standin: listening on http://{host}:{port}\n")
    sys.stdout.flush()
    HTTPServer((host, port), Handler).serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
