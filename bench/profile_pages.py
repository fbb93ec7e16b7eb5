"""Where a page's server time goes (issue 15, goal 3): production settings (DEBUG=false), the
demo sessions of bench_pages.py, in process through the whole middleware stack.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/siao_ofii_bench python bench/profile_pages.py [--top 40] [--source DIR]

Prints, for each page the load of bench_pages.py walks: server time per request and SQL queries;
then the time spent in each middleware (inclusive, i.e. itself and everything after it in
MIDDLEWARE, as a cumulative profile reads); then the cProfile of all those pages, sorted by
own time and by cumulative time.
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_pages  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--source", default=str(bench_pages.ROOT))
    parser.add_argument("--dump", default="", help="write the raw profile there (pstats)")
    parser.add_argument("--only", default="", help="ACCOUNT:URL, e.g. siege:/mentions-legales/ (one page only)")
    args = parser.parse_args()
    bench_pages.setup_django(Path(args.source).resolve())
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    cookies = bench_pages.demo_sessions(7)
    walks = []
    for name, cookie in cookies:
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = cookie
        for url in dict.fromkeys(bench_pages.pages_for(name)):
            if not args.only or args.only == f"{name}:{url}":
                walks.append((name, url, client))
    print(f"{'account':15s} {'page':45s} {'ms':>7s} {'queries':>7s}")
    for name, url, client in walks:
        for _ in range(3):
            assert client.get(url).status_code == 200, (name, url)
        with CaptureQueriesContext(connection) as ctx:
            client.get(url)
        queries = len(ctx.captured_queries)
        t = time.perf_counter()
        for _ in range(args.repeat):
            client.get(url)
        ms = (time.perf_counter() - t) / args.repeat * 1000
        print(f"{name:15s} {url:45s} {ms:7.2f} {queries:7d}")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat // 5 or 1):
        for name, url, client in walks:
            client.get(url)
    profiler.disable()
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler)
    total = next(v[3] for k, v in stats.stats.items() if k[2] == "get_response" and k[0].endswith("handlers/base.py"))
    print("\nMiddleware, inclusive (share of all the requests profiled):")
    for (filename, line, func), (cc, nc, tt, ct, callers) in sorted(stats.stats.items(), key=lambda kv: -kv[1][3]):
        if func == "__call__" and ("middleware" in filename or "axes" in filename) and nc:
            print(f"  {ct / total * 100:5.1f} %  {filename.split('site-packages/')[-1]}:{line}")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(key).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
