"""I/O-bound work: several HTTP requests to a local server that answers each one after a
1-second delay. One thread per request: all of them finish in about 1 second, where one after
the other they would take N seconds. (Threads help here because waiting for the network
releases the GIL.)"""

import http.server
import time
import urllib.request

import threadkit.threading as threading

N = 5
DELAY = 1.0


class SlowHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(DELAY)
        body = f"page {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowHandler)
server_thread = threading.Thread(target=server.serve_forever, daemon=True)
server_thread.start()
url = f"http://127.0.0.1:{server.server_address[1]}"

pages = {}


def download(i):
    with urllib.request.urlopen(f"{url}/{i}", timeout=30) as r:
        pages[i] = r.read().decode()


start = time.monotonic()
threads = [threading.Thread(target=download, args=(i,)) for i in range(N)]
for t in threads:
    t.start()
for t in threads:
    t.join()
took = time.monotonic() - start
server.shutdown()

print(f"{N} requests, each delayed {DELAY:.0f} s by the server")
print(f"got: {[pages[i] for i in range(N)]}")
print(f"with {N} threads: {took:.1f} s (one after the other: about {N * DELAY:.0f} s)")
print("faster with threads:", took < N * DELAY / 2)
