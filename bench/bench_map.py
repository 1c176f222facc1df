"""Benchmark: the web map of a generated ecosystem, served and drawn in headless Chromium.

An ecosystem of ``--participants`` participants (``glia.generate``, seed 1, ties
about 10x participants) is written as a CSV folder and imported into a SQLite
file once. Then, each time in a freshly started server (uvicorn on loopback, a
child process of its own, so its peak memory is its own):

- ``json``: the map document (``GET /api/v1/ecosystems/{eco}/map``, bearer
  token): the first request, which builds it (snapshot, measures, positions;
  in a fresh process that includes importing the graph libraries), then
  ``--repeat`` cached requests; its size as sent (gzip) and as JSON.
- ``browser``: Chromium (``/usr/bin/chromium``, headless, WebGL through
  SwiftShader: ``--use-angle=swiftshader --enable-unsafe-swiftshader``) signs in
  through the form and opens ``/e/{eco}/map``. *Time to first interactive
  frame* is ``window.gliaMap.firstFrameMs``: ``performance.now()`` (counted from
  the navigation's start) when sigma has drawn the first frame and the controls
  are live. The first load meets a server that has not built the map yet
  (cold); then the page is loaded ``--repeat`` more times (map cached on the
  server, nothing cached in the browser: ``Cache-Control: no-cache``).
  Then *frame times*: ``requestAnimationFrame`` deltas while the camera is
  animated by script (pans and zooms, ``camera.animate``) for ``--seconds``
  seconds; p50 and p95. SwiftShader draws on the CPU: a machine with a GPU
  draws much faster; these numbers are the floor of a machine without one.
- the server's peak resident memory (``VmHWM`` of its process) at the end.

Usage::

    python bench/bench_map.py --participants 5000 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_store import _machine, replace_section  # noqa: E402  (shared with the store bench)

START = "<!-- map benchmark: start -->"
END = "<!-- map benchmark: end -->"
ECO = "bench-map"
USER = "bench"
PASSWORD = "bench-map-password"
CHROMIUM = os.environ.get("GLIA_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]


# -- the server, in a child process -----------------------------------------------------
def _serve(url: str, port: int) -> None:
    import uvicorn

    from glia.api import create_app
    from glia.store import Store

    uvicorn.run(create_app(Store.open(url)), host="127.0.0.1", port=port, log_level="warning")


class Server:
    """``glia``'s app on loopback in a child process; its peak memory read from /proc."""

    def __init__(self, url: str) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, __file__, "--child", "serve", "--url", url, "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd)
        import httpx

        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- preparing the data -----------------------------------------------------------------
def _prepare(n: int, work: Path) -> tuple[str, str, dict[str, int]]:
    """Generate, import; an orchestrator account with a password and a token."""
    from glia.generate import write_generated
    from glia.store import Store

    data = work / f"eco-{n}"
    counts = write_generated(data, n, seed=1)
    url = f"sqlite:///{work / 'map.db'}"
    with Store.open(url) as store:
        store.import_file(data, name=ECO, replace=True)
        store.create_account(USER, PASSWORD, "Bench", admin=True)
        store.grant(USER, ECO, "orchestrator", None)
        token = store.issue_token(USER, "bench")
    shutil.rmtree(data, ignore_errors=True)
    return url, token, counts


# -- measuring --------------------------------------------------------------------------
def _json(url: str, token: str, repeat: int) -> dict[str, Any]:
    import httpx

    server = Server(url)
    try:
        path = f"{server.base}/api/v1/ecosystems/{ECO}/map"
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(timeout=300) as client:
            started = time.perf_counter()
            first = client.get(path, headers={**auth, "Accept-Encoding": "gzip"})
            cold = time.perf_counter() - started
            first.raise_for_status()
            warm = []
            for _ in range(repeat):
                started = time.perf_counter()
                again = client.get(path, headers={**auth, "Accept-Encoding": "gzip"})
                warm.append(time.perf_counter() - started)
            sent = int(again.headers["content-length"])
            plain = client.get(path, headers={**auth, "Accept-Encoding": "identity"})
            body = plain.json()
        return {
            "cold_s": cold,
            "warm_s": statistics.median(warm),
            "gzip_bytes": sent,
            "json_bytes": len(plain.content),
            "nodes": len(body["nodes"]),
            "edges": len(body["edges"]),
            "peak_mb": server.peak_mb(),
        }
    finally:
        server.stop()


_FRAMES = """
async (seconds) => {
  const renderer = window.gliaMapRenderer;
  const camera = renderer.getCamera();
  const deltas = [];
  let running = true;
  let last = null;
  function tick(t) {
    if (last !== null) deltas.push(t - last);
    last = t;
    if (running) requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
  const moves = [
    {x: 0.30, y: 0.35, ratio: 0.6}, {x: 0.70, y: 0.40, ratio: 0.35},
    {x: 0.60, y: 0.75, ratio: 0.2}, {x: 0.40, y: 0.55, ratio: 0.5},
    {x: 0.50, y: 0.50, ratio: 1.0}, {x: 0.25, y: 0.70, ratio: 0.3},
    {x: 0.55, y: 0.30, ratio: 0.8}, {x: 0.50, y: 0.50, ratio: 1.0},
  ];
  const each = (seconds * 1000) / moves.length;
  const started = performance.now();
  for (const move of moves) await camera.animate(move, {duration: each});
  running = false;
  const wall = performance.now() - started;
  const heap = performance.memory ? performance.memory.usedJSHeapSize : null;
  return {deltas, wall, heap};
}
"""


def _browser(url: str, repeat: int, seconds: float) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    server = Server(url)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            context = browser.new_context(
                viewport={"width": 1280, "height": 800}, base_url=server.base
            )
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto("/login")
            page.get_by_label("Username").fill(USER)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda u: "/login" not in u)
            loads = []
            for _ in range(repeat + 1):
                page.goto(f"/e/{ECO}/map")
                page.wait_for_function(
                    "window.gliaMap && window.gliaMap.ready === true", timeout=300_000
                )
                loads.append(page.evaluate("window.gliaMap"))
            page.wait_for_timeout(500)
            frames = page.evaluate(_FRAMES, seconds)
            # the same, drawing the edges in every frame of the movement too
            page.evaluate(
                "window.gliaMapRenderer.setSettings({hideEdgesOnMove: false, "
                "hideLabelsOnMove: false})"
            )
            page.wait_for_timeout(500)
            with_edges = page.evaluate(_FRAMES, seconds)
            if errors:
                raise RuntimeError(f"JavaScript errors on the page: {errors}")
            gpu = page.evaluate(
                """() => {
                  const gl = document.createElement('canvas').getContext('webgl2');
                  const ext = gl && gl.getExtension('WEBGL_debug_renderer_info');
                  return ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : null;
                }"""
            )
            version = browser.version
            browser.close()
        deltas = sorted(frames["deltas"])
        edged = sorted(with_edges["deltas"])
        return {
            "ttff_cold_ms": loads[0]["firstFrameMs"],
            "ttff_warm_ms": statistics.median(x["firstFrameMs"] for x in loads[1:]),
            "nodes": loads[0]["nodes"],
            "edges": loads[0]["edges"],
            "frames": len(deltas),
            "frame_p50_ms": _quantile(deltas, 0.50),
            "frame_p95_ms": _quantile(deltas, 0.95),
            "frame_max_ms": deltas[-1] if deltas else float("nan"),
            "animation_ms": frames["wall"],
            "edges_frames": len(edged),
            "edges_frame_p50_ms": _quantile(edged, 0.50),
            "edges_frame_p95_ms": _quantile(edged, 0.95),
            "edges_animation_ms": with_edges["wall"],
            "js_heap_mb": frames["heap"] / 2**20 if frames["heap"] else None,
            "renderer": gpu,
            "chromium": version,
            "peak_mb": server.peak_mb(),
        }
    finally:
        server.stop()


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


# -- writing ----------------------------------------------------------------------------
def _section(args: argparse.Namespace, counts: dict[str, int], res: dict[str, Any]) -> str:
    js, br = res["json"], res["browser"]
    return "\n".join(
        [
            START,
            "## Map",
            "",
            f"Machine: {_machine()}. Run of {res['when']}; Chromium {br['chromium']}, "
            f"WebGL by {br['renderer'] or 'SwiftShader'} (on the CPU: no GPU).",
            "",
            f"Command: `python bench/bench_map.py --participants {args.participants} "
            "--write docs/benchmarks.md`",
            "",
            f"Ecosystem: `glia.generate`, seed 1: {counts['participants']:,} participants, "
            f"{counts['ties']:,} ties, {counts['exchanges']:,} exchanges; the map has "
            f"{js['nodes']:,} nodes and {js['edges']:,} edges (ties, and exchanges carried "
            "onto each pair of participants they link).",
            "",
            "| measure | value |",
            "|---|---:|",
            f"| map JSON, first request (builds it: snapshot, measures, layout) "
            f"| {js['cold_s'] * 1000:,.0f} ms |",
            f"| map JSON, cached (median of {args.repeat}) | {js['warm_s'] * 1000:,.0f} ms |",
            f"| map JSON size, sent gzipped / as JSON | {js['gzip_bytes'] / 2**20:.2f} MiB "
            f"/ {js['json_bytes'] / 2**20:.2f} MiB |",
            f"| time to first interactive frame, server's first map "
            f"| {br['ttff_cold_ms']:,.0f} ms |",
            f"| time to first interactive frame, map cached on the server "
            f"(median of {args.repeat}) | {br['ttff_warm_ms']:,.0f} ms |",
            f"| frame time while panning and zooming, p50 ({br['frames']} frames in "
            f"{br['animation_ms'] / 1000:.1f} s) | {br['frame_p50_ms']:.1f} ms |",
            f"| frame time, p95 / max | {br['frame_p95_ms']:.1f} ms / "
            f"{br['frame_max_ms']:.1f} ms |",
            f"| the same with every edge drawn while moving, p50 / p95 ({br['edges_frames']} "
            f"frames in {br['edges_animation_ms'] / 1000:.1f} s) | "
            f"{br['edges_frame_p50_ms']:.1f} ms / {br['edges_frame_p95_ms']:.1f} ms |",
            f"| server peak memory (after the JSON runs / after the browser runs) "
            f"| {js['peak_mb']:,.0f} MB / {br['peak_mb']:,.0f} MB |",
            "| browser JS heap after the animation | "
            + (f"{br['js_heap_mb']:,.0f} MB |" if br["js_heap_mb"] else "- |"),
            "",
            "Time to first interactive frame counts from the navigation's start to the "
            "moment sigma.js has drawn the map and the controls answer "
            "(`window.gliaMap.firstFrameMs`): the page, the map JSON, building the "
            "graphology graph and the first WebGL frame. The first request in a fresh "
            "server process also loads the graph libraries (networkit's import alone "
            "takes seconds here); the map is then cached until the ecosystem is imported "
            "again. Frame times are `requestAnimationFrame` deltas during scripted camera "
            "animations (pans and zooms). On a map of more than 20,000 edges the page "
            "hides edges and labels while the camera moves (sigma's `hideEdgesOnMove`) and "
            "draws them when it stops; the next row keeps them in every frame. SwiftShader "
            "draws on the CPU, so a browser with a GPU draws far faster than this floor.",
            END,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3, help="Cached requests and reloads.")
    parser.add_argument("--seconds", type=float, default=2.0, help="Camera animation length.")
    parser.add_argument("--write", type=Path, help="Update this Markdown file's map section.")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "serve":
        _serve(args.url, args.port)
        return
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set GLIA_CHROMIUM)")

    work = Path(tempfile.mkdtemp(prefix="glia-bench-map-"))
    try:
        started = time.perf_counter()
        url, token, counts = _prepare(args.participants, work)
        print(f"generated and imported {counts} in {time.perf_counter() - started:.1f}s")
        res: dict[str, Any] = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
        res["json"] = _json(url, token, args.repeat)
        print("json:", json.dumps(res["json"]), flush=True)
        res["browser"] = _browser(url, args.repeat, args.seconds)
        print("browser:", json.dumps(res["browser"]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.write:
        replace_section(args.write, START, END, _section(args, counts, res))
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
