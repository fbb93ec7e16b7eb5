import csv
import io
import os
import shutil
import struct
import subprocess

import pytest
import pyzipper
from openpyxl import load_workbook

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sevenzip():
    exe = os.environ.get("SEVENZIP_PATH") or shutil.which("7z") or shutil.which("7zz")
    if not exe:
        if IN_CI:
            pytest.fail("7-Zip introuvable : obligatoire en CI.")
        pytest.skip("7-ZIP ABSENT : archives non ouvertes avec 7-Zip (lancer tests/run_suite.py).")
    return exe


def run_7z(*args):
    return subprocess.run([sevenzip(), *args], capture_output=True, text=True, timeout=60)


def slt_entries(path, password):
    """``7z l -slt`` → list of dicts, one per member."""
    out = run_7z("l", "-slt", f"-p{password}", str(path)).stdout
    entries, current = [], None
    for line in out.splitlines():
        if line.startswith("Path = ") and current is not None:
            entries.append(current)
            current = {}
        if line.startswith("----------"):
            current = {}
            continue
        if current is not None and " = " in line:
            key, _, value = line.partition(" = ")
            current[key] = value
    if current:
        entries.append(current)
    return [e for e in entries if "Method" in e]


def aes_extra(zinfo):
    """(version, vendor, strength, method) from the WinZip AES extra field 0x9901."""
    extra = zinfo.extra
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack("<HH", extra[i:i + 4])
        if tag == 0x9901:
            return struct.unpack("<H2sBH", extra[i + 4:i + 4 + size])
        i += 4 + size
    return None


def read_members(path, password):
    with pyzipper.AESZipFile(path) as zf:
        zf.setpassword(password.encode())
        return {info.filename: zf.read(info.filename) for info in zf.infolist()}


def xlsx_rows(data):
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    return wb, ws


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf"), "CSV sans BOM UTF-8"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
