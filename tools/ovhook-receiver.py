#!/usr/bin/python3
"""ovhook-receiver: a minimal webhook endpoint that prints what it gets.

For trying ovhook out (the Quick start demo uses it), not for production:
it answers 200 to every POST and prints one line per request, the JSON
body as received. Standard library only.

    python3 tools/ovhook-receiver.py [--port 8080] [--quiet-headers]
"""
import argparse
import http.server
import json
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"          # keep-alive, as the bridge expects
    show_headers = False
    count = 0
    lock = threading.Lock()     # one whole line per event, even from many threads

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            event = json.loads(body).get("event", "?")
        except ValueError:
            event = "(not JSON)"
        with Handler.lock:
            Handler.count += 1
            line = "#%d %s %s" % (Handler.count, event, body.decode("utf-8", "replace"))
            if Handler.show_headers:
                line += "\n    " + " | ".join("%s: %s" % kv for kv in self.headers.items())
            print(line, flush=True)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass                                # one line per event is enough


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--headers", action="store_true", help="print request headers too")
    args = parser.parse_args()
    Handler.show_headers = args.headers
    server = http.server.ThreadingHTTPServer((args.bind, args.port), Handler)
    print("ovhook-receiver listening on http://%s:%d/" % (args.bind, args.port), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
