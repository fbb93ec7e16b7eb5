import json

import pytest
from django.core.management import call_command

from exchanges.models import ListState, MonthlyList
from tests.exchanges import samples


def run(capsys, *args):
    code = 0
    try:
        call_command("import_list", *args)
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().out


def test_errors_json_and_nonzero_exit(demo, tmp_path, capsys):
    f = tmp_path / "liste.csv"
    f.write_bytes(samples.csv_bytes(samples.GOOD + samples.BAD))
    code, out = run(capsys, "--departement", "69", "--period", "2026-11", str(f), "--validate", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["rows_read"] == 5 and report["rows_valid"] == 3 and report["status"] == "draft"
    assert {"row": 5, "level": "error", "column": "Date de naissance", "message": "date impossible « 31/02/1990 »"} in report["issues"]
    assert not MonthlyList.objects.filter(state=ListState.VALIDATED).exists()


def test_clean_file_validates_with_text_report(demo, tmp_path, capsys):
    f = tmp_path / "liste.xlsx"
    f.write_bytes(samples.xlsx_bytes(samples.GOOD))
    code, out = run(capsys, "--departement", "69", "--period", "2026-11", str(f), "--validate")
    assert code == 0, out
    assert "Lignes lues : 3 — lignes valides : 3" in out and "Liste validée (version 1)" in out
    ml = MonthlyList.objects.get(state=ListState.VALIDATED)
    assert ml.departement.code == "69" and ml.row_count == 3


def test_refused_file_and_agent_outside_perimeter(demo, tmp_path, capsys):
    f = tmp_path / "liste.csv"
    f.write_bytes(b"%PDF-1.7 nothing")
    code, out = run(capsys, "--departement", "69", "--period", "2026-11", str(f))
    assert code == 1 and "FICHIER REFUSÉ" in out
    f.write_bytes(samples.csv_bytes(samples.GOOD))
    code, out = run(capsys, "--departement", "69", "--period", "2026-11", str(f), "--validate",
                    "--agent", "siao.75@demo.test")
    assert code == 2 and "VALIDATION REFUSÉE" in out


@pytest.mark.parametrize("period", ["2026-13", "26-11"])
def test_bad_period(demo, tmp_path, period):
    from django.core.management.base import CommandError

    f = tmp_path / "l.csv"
    f.write_bytes(b"x")
    with pytest.raises(CommandError):
        call_command("import_list", "--departement", "69", "--period", period, str(f))
