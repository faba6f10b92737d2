"""A crawler: a 16-thread pool fetches 2,000 pages from a local ThreadingHTTPServer.

The server (on 127.0.0.1, a free port, started by this program and stopped at its end) serves
page N with links to pages 3N+1..3N+3; the crawler starts at page 0, follows links it has not
seen, and stops at 2,000 pages. Only the standard library's names: run it plainly or under
``python -m threadkit`` (bench/programs/run.py does both).
"""

import concurrent.futures
import http.server
import re
import sys
import threading
import urllib.request

PAGES = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
WORKERS = 16
LINK = re.compile(rb'href="/page/(\d+)"')


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n = int(self.path.rsplit("/", 1)[1])
        links = "".join('<a href="/page/%d">%d</a>\n' % (c, c) for c in range(3 * n + 1, 3 * n + 4))
        body = ("<html><body><h1>Page %d</h1>\n%s%s</body></html>" % (n, links, "x" * 2000)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def fetch(base, n):
    with urllib.request.urlopen("%s/page/%d" % (base, n), timeout=30) as r:
        return [int(m) for m in LINK.findall(r.read())]


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, name="server")
    serving.start()
    base = "http://127.0.0.1:%d" % server.server_address[1]
    seen = {0}
    try:
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            pending = {pool.submit(fetch, base, 0)}
            while pending:
                done, pending = concurrent.futures.wait(
                    pending, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for f in done:
                    for link in f.result():
                        if link not in seen and len(seen) < PAGES:
                            seen.add(link)
                            pending.add(pool.submit(fetch, base, link))
    finally:
        server.shutdown()
        server.server_close()
        serving.join()
    assert len(seen) == PAGES, len(seen)
    print("crawler: %d pages" % len(seen))


if __name__ == "__main__":
    main()
