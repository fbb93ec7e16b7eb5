"""The headquarters' map: one SVG, drawn on the server from the shipped geometry
(exchanges/geo/departements.json, CC BY 4.0), coloured by each département's state for the
month. Métropole plus the five overseas départements as insets. No tiles, no JavaScript, no
request leaving the server; the table of the same page stays the full equivalent."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from django.urls import reverse

from . import services

GEOMETRY = Path(__file__).resolve().parent.parent / "geo" / "departements.json"
INSET_TOP, INSET_SIZE, INSET_GAP = 600, 100, 12
MAP_HEIGHT = INSET_TOP + INSET_SIZE + 24

# Legend order; every state has a fill pattern as well as a colour (not colour alone).
LEGEND = [services.ON_TIME, services.LATE, services.MISSING, services.AWAITING, services.NOT_STARTED]
OUTSIDE = "outside"


@lru_cache(maxsize=1)
def geometry():
    return json.loads(GEOMETRY.read_text(encoding="utf-8"))


@dataclass
class Shape:
    code: str
    name: str
    d: str
    state: str
    label: str
    url: str | None
    without_dt: bool
    inset: dict | None = None


def _label(code, name, month):
    if month is None:
        return f"{code} {name} : hors de la sélection"
    text = f"{code} {name} : {month.state_label.lower()}"
    if month.departement.dt_id is None:
        text += ", sans DT (siège de l’OFII seulement)"
    return text


def france_map(months):
    """Shapes for the template, from the dashboard's DepartementMonth list (already filtered)."""
    by_code = {m.departement.code: m for m in months}
    geo = geometry()
    shapes = []
    for item in geo["metropole"]:
        shapes.append(_shape(item, by_code.get(item["code"])))
    for i, item in enumerate(geo["overseas"]):
        shape = _shape(item, by_code.get(item["code"]))
        x, y, w, h = item["bbox"]
        margin = max(w, h) * 0.15
        side = max(w, h) + 2 * margin
        shape.inset = {
            "x": 10 + i * (INSET_SIZE + INSET_GAP), "y": INSET_TOP, "size": INSET_SIZE,
            "viewbox": f"{x + w / 2 - side / 2:.3f} {y + h / 2 - side / 2:.3f} {side:.3f} {side:.3f}",
        }
        # Pattern tiles are in the inset's own (tiny) units: scale them back to the map's.
        shape.inset["pattern_scale"] = f"{side / INSET_SIZE:.5f}"
        shape.inset["label_x"] = shape.inset["x"] + INSET_SIZE // 2  # integers: no locale decimal comma in SVG
        shape.inset["label_y"] = INSET_TOP + INSET_SIZE + 16
        shapes.append(shape)
    counts = {state: sum(1 for s in shapes if s.state == state) for state in LEGEND}
    return {
        "metropole": [s for s in shapes if s.inset is None],
        "overseas": [s for s in shapes if s.inset is not None],
        "legend": [(state, services.STATE_LABELS[state], counts[state]) for state in LEGEND],
        "without_dt": sum(1 for s in shapes if s.without_dt),
        "view_box": f"0 0 613 {MAP_HEIGHT}",
    }


def _shape(item, month):
    return Shape(
        code=item["code"], name=item["name"], d=item["d"],
        state=month.state if month is not None else OUTSIDE,
        label=_label(item["code"], month.departement.name if month else item["name"], month),
        url=reverse("exchanges:extract_departement", args=[item["code"]]) if month is not None else None,
        without_dt=month is not None and month.departement.dt_id is None,
    )
