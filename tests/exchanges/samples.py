"""Messy real-world samples, generated: what SIAO information systems and French Excel write."""

import datetime
import io

import openpyxl

HEADER_FR = ["NOM", "Prénom", "Date de naissance", "Sexe", "Situation administrative",
             "Adresse de l'hébergement", "Date d'entrée"]

GOOD = [
    ["DUPONT", "Élodie", "03/02/1990", "F", "demandeur d'asile", "12 rue des Lilas, 69003 Lyon", "01/10/2026"],
    ["N'DIAYE", "Moussa", "15/07/1985", "H", "réfugié", "CHU Gerland, 69007 Lyon", "15/09/2026"],
    ["HÖFFER", "Anne-Marie", "1/1/01", "Femme", "protection subsidiaire", "3 quai Perrache, 69002 Lyon", "2026-11-02"],
]
BAD = [
    ["MARTIN", "Paul", "31/02/1990", "M", "DA", "5 rue Sala, 69002 Lyon", "01/11/2026"],  # impossible date
    ["", "Sans", "01/01/1980", "X", "débouté", "5 rue Sala, 69002 Lyon", "01/12/2026"],  # 4 errors
]


def csv_bytes(rows, header=HEADER_FR, *, delimiter=";", encoding="cp1252", bom=False, trailing_blank=3):
    lines = [delimiter.join(header)] + [delimiter.join(r) for r in rows] + [delimiter * (len(header) - 1)] * trailing_blank
    text = "\r\n".join(lines) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows, header=HEADER_FR, *, serial_dates=False, date_objects=True, blank_rows=2, extra=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Liste"
    ws.append(header)
    for r in rows:
        r = list(r)
        for i in (2, 6):
            try:
                d = datetime.datetime.strptime(r[i], "%d/%m/%Y").date()
            except (ValueError, TypeError):
                continue
            if serial_dates:
                r[i] = (d - datetime.date(1899, 12, 30)).days
            elif date_objects:
                r[i] = d
        ws.append(r)
    for _ in range(blank_rows):
        ws.append([" "] + [None] * (len(header) - 1))
    if extra:
        extra(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
