"""The return-flow archive: every II.B.2 field round-trips, nothing else; AES-256 (AE-2) opened
with pyzipper and 7-Zip; a wrong password is refused. Same writer as the monthly list's."""

import datetime

import pytest
import pyzipper

from exchanges.models import ReturnRow
from tests.helpers import archive_file
from tests.exchanges_extracts.helpers import aes_extra, csv_rows, read_members, run_7z, slt_entries, xlsx_rows
from tests.exchanges_returns.helpers import FULL_DATES, FULL_ROW, HEADERS, to_csv, upload_and_process

NAME = "DNA_069_2026-11_v1"


@pytest.fixture
def built(demo):
    # Columns in another order than the archive's, to prove the mapping by header.
    order = list(reversed(range(len(HEADERS))))
    data = to_csv([HEADERS[i] for i in order], [[FULL_ROW[i] for i in order]])
    rf, archive = upload_and_process("69", "2026-11", data, demo["dt.lyon"])
    assert rf.state == "stored", rf.report
    return rf, archive


def test_every_field_round_trips_and_nothing_else(built):
    rf, archive = built
    members = read_members(archive_file(archive), archive.reveal_password())
    assert set(members) == {f"{NAME}.xlsx", f"{NAME}.csv"}
    wb, ws = xlsx_rows(members[f"{NAME}.xlsx"])
    assert wb.sheetnames == ["Flux retour"]
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS  # the 21 fields of II.B.2, no other column
    assert len(rows) == 2
    xlsx = dict(zip(HEADERS, rows[1]))
    for header, expected in zip(HEADERS, FULL_ROW):
        if header in FULL_DATES:
            assert xlsx[header] == datetime.datetime.combine(FULL_DATES[header], datetime.time()), header
        else:
            assert xlsx[header] == expected, header
    table = csv_rows(members[f"{NAME}.csv"])
    assert table[0] == HEADERS and table[1] == FULL_ROW
    # Matching keys and line numbers stay in the database.
    row = ReturnRow.objects.get(return_file=rf)
    blob = (members[f"{NAME}.csv"] + members[f"{NAME}.xlsx"]).decode("utf-8", "replace")
    assert row.birth_name_key not in blob and row.usage_name_key not in blob


def test_aes256_ae2_and_wrong_password_with_pyzipper(built):
    _, archive = built
    with pyzipper.AESZipFile(archive_file(archive)) as zf:
        infos = zf.infolist()
    for info in infos:
        assert info.flag_bits & 0x1
        version, vendor, strength, _ = aes_extra(info)
        assert (version, vendor, strength) == (2, b"AE", 3)
    with pytest.raises(RuntimeError, match="Bad password"):
        read_members(archive_file(archive), "Wrong-Pass-Word-Xxxx-Yyyy")


def test_7zip_opens_it_and_refuses_a_wrong_password(built, tmp_path):
    _, archive = built
    password = archive.reveal_password()
    entries = {e["Path"]: e for e in slt_entries(archive_file(archive), password)}
    assert entries[f"{NAME}.xlsx"]["Method"] == "AES-256 Store"
    assert entries[f"{NAME}.csv"]["Method"] == "AES-256 Deflate"
    bad = run_7z("t", "-pWrong-Pass-Word-Xxxx-Yyyy", str(archive_file(archive)))
    assert bad.returncode != 0 and "Wrong password" in (bad.stdout + bad.stderr)
    out = tmp_path / "out"
    done = run_7z("x", f"-p{password}", f"-o{out}", str(archive_file(archive)))
    assert done.returncode == 0, done.stdout + done.stderr
    assert csv_rows((out / f"{NAME}.csv").read_bytes())[1] == FULL_ROW


def test_password_scheme_and_storage_are_the_monthly_lists(built):
    import re

    _, archive = built
    password = archive.reveal_password()
    assert re.fullmatch(r"([A-HJ-NP-Za-km-z2-9]{4}-){4}[A-HJ-NP-Za-km-z2-9]{4}", password)
    assert password not in archive.password_encrypted
    assert archive.file_path == f"returns/2026-11/{NAME}.zip"
