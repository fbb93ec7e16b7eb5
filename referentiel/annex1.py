"""Load Annex 1 of the instruction (DT OFII ↔ départements) from ``fixtures/``.

Idempotent. The data migration calls it with historical models; ``load_referentiel`` calls
it with the current ones. A département's DT is only set when the département is created
(or with ``reset_dt``), so that an administrator's later choice survives a reload.
"""

import csv
from pathlib import Path

from django.conf import settings

from .models import departement_sort_key

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "annexe1_departements.csv"

SIEGE_NAME = "Siège de l’OFII"


def read_rows(path=FIXTURE):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def load(get_model, reset_dt=False, path=FIXTURE):
    Region = get_model("referentiel", "Region")
    FormerRegion = get_model("referentiel", "FormerRegion")
    DT = get_model("referentiel", "DirectionTerritoriale")
    Departement = get_model("referentiel", "Departement")
    Organisation = get_model("referentiel", "Organisation")

    counts = {"departements_created": 0, "departements_updated": 0}
    for row in read_rows(path):
        region, _ = Region.objects.get_or_create(name=row["region"])
        former, _ = FormerRegion.objects.get_or_create(name=row["ancienne_region"], defaults={"region": region})
        dt = None
        if row["dt"]:
            dt, _ = DT.objects.get_or_create(name=row["dt"], defaults={"city": row["dt"].removeprefix("DT ")})
            Organisation.objects.get_or_create(
                name=f"OFII — {row['dt']}", defaults={"kind": "DT", "dt": dt}
            )
        dep = Departement.objects.filter(code=row["code"]).first()
        fields = {
            "name": row["departement"],
            "prefecture_town": row["prefecture"],
            "region": region,
            "former_region": former,
            "sort_key": departement_sort_key(row["code"]),
        }
        if dep is None:
            dep = Departement.objects.create(code=row["code"], dt=dt, **fields)
            counts["departements_created"] += 1
        else:
            changed = [k for k, v in fields.items() if getattr(dep, k) != v]
            if reset_dt and dep.dt_id != (dt.pk if dt else None):
                dep.dt = dt
                changed.append("dt")
            if changed:
                for k in changed:
                    if k != "dt":
                        setattr(dep, k, fields[k])
                dep.save()
                counts["departements_updated"] += 1
        Organisation.objects.get_or_create(
            name=f"SIAO {dep.code} — {dep.name}", defaults={"kind": "SIAO", "departement": dep}
        )
        Organisation.objects.get_or_create(
            name=f"Préfecture et DDETS {dep.code} — {dep.name}",
            defaults={"kind": "PREFECTURE", "departement": dep},
        )
    Organisation.objects.get_or_create(name=SIEGE_NAME, defaults={"kind": "SIEGE"})
    return counts
