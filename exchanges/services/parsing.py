"""Cell parsers: dates, sex, status, header names, as SIAO extractions write them.

Plain functions, no Django form (a Form costs ~0.27 ms per row, i.e. 27 s per 100k rows).
Each parser returns the clean value or raises ``ParseError`` with a French message that
the validation report shows next to the row number and the column name.
"""

import datetime
import functools
import re
import unicodedata

from exchanges.models import Sex, Status


class ParseError(ValueError):
    pass


@functools.lru_cache(maxsize=65536)  # the same few values (F, DA…) on every row
def fold(value):
    """Lower case, no accents, no punctuation, single spaces: 'Date d’entrée' → 'date d entree'."""
    text = unicodedata.normalize("NFKD", str(value))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return text.strip()


def clean_text(value):
    """A cell as text: None → '', numbers without a spurious '.0', inner whitespace collapsed.

    Cells starting with =, +, -, @ are kept as plain text (they are never evaluated; exports
    neutralise them with ``siao_ofii.csvsafe.neutralize``)."""
    if value is None:
        return ""
    if value.__class__ is str:
        # Already clean (the usual cell): printable means no control character and no space
        # but U+0020 (tabs, line breaks and no-break spaces are not printable).
        if value.isprintable() and "  " not in value and not value.startswith(" ") and not value.endswith(" "):
            return value
        return " ".join(_CONTROL_CHARS.sub("", value).split())
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        value = value.date() if value.time() == datetime.time() else value
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    return " ".join(_CONTROL_CHARS.sub("", str(value)).split())


# NUL and other control characters (a stray byte from an export) are dropped: PostgreSQL
# refuses NUL in text, and none of them is meaningful in a name or an address.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --- headers -------------------------------------------------------------------------------

MANDATORY_FIELDS = ["last_name", "first_name", "birth_date", "sex", "status", "shelter_address", "entry_date"]
OPTIONAL_FIELDS = ["address_postcode", "address_town", "agdref", "nationality"]
FIELD_LABELS = {
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "status": "Statut",
    "shelter_address": "Adresse de l’hébergement",
    "address_postcode": "Code postal",
    "address_town": "Commune",
    "entry_date": "Date d’entrée",
    "agdref": "Numéro AGDREF",
    "nationality": "Nationalité",
}

# Folded synonyms (see ``fold``). A header matches a field when its folded form is one of them.
HEADER_SYNONYMS = {
    "last_name": [
        "nom", "nom de naissance", "nom de famille", "nom d usage", "nom usage", "nom patronymique",
        "noms", "nom personne", "nom du beneficiaire", "nom beneficiaire", "nom de l usager", "nom usager",
        "last name", "lastname", "surname", "name",
    ],
    "first_name": [
        "prenom", "prenoms", "prenom usuel", "premier prenom", "prenom du beneficiaire", "prenom beneficiaire",
        "prenom de l usager", "prenom usager", "first name", "firstname", "given name",
    ],
    "birth_date": [
        "date de naissance", "ddn", "date naissance", "naissance", "ne le", "ne e le", "nee le", "date de naiss",
        "dt naissance", "date naiss", "birth date", "birthdate", "date of birth", "dob",
    ],
    "sex": ["sexe", "genre", "sexe f m", "sexe m f", "sexe h f", "sex", "gender", "civilite"],
    "status": [
        "statut", "situation administrative", "statut administratif", "situation", "statut administratif de la personne",
        "situation au regard du sejour", "statut au regard du droit d asile", "statut asile", "categorie",
        "statut da bpi", "status",
    ],
    "shelter_address": [
        "adresse", "adresse de l hebergement", "adresse hebergement", "adresse du lieu d hebergement",
        "lieu d hebergement", "hebergement", "adresse de la structure", "adresse structure", "structure",
        "structure d hebergement", "centre d hebergement", "adresse du centre", "address", "rue", "voie",
    ],
    "address_postcode": ["code postal", "cp", "code postal hebergement", "postcode", "zip"],
    "address_town": ["ville", "commune", "localite", "ville hebergement", "commune de l hebergement", "town", "city"],
    "entry_date": [
        "date d entree", "date entree", "entree", "date d arrivee", "date arrivee", "arrivee",
        "date d entree dans l hebergement", "date entree hebergement", "date d entree en hebergement",
        "date d admission", "date admission", "debut de prise en charge", "date de debut de prise en charge",
        "debut hebergement", "date debut hebergement", "entry date",
    ],
    "agdref": ["agdref", "numero agdref", "n agdref", "no agdref", "num agdref", "n etranger", "numero etranger",
               "numero d etranger"],
    "nationality": ["nationalite", "pays de nationalite", "nationality"],
}
_SYNONYM_INDEX = {syn: field for field, syns in HEADER_SYNONYMS.items() for syn in syns}


def match_header(name):
    """The field a header cell names, or None."""
    return _SYNONYM_INDEX.get(fold(name))


def match_headers(header, mapping=None, *, with_agdref=False):
    """Map file columns to fields.

    ``mapping`` ({field: column index}) is what the agent chose in the mapping step; it wins.
    Returns (columns {field: index}, missing mandatory fields, ignored headers).
    """
    columns = {}
    for index, name in enumerate(header):
        field = match_header(name)
        if field and field not in columns:
            columns[field] = index
    for field, index in (mapping or {}).items():
        if index is None or index == "":
            continue
        columns[field] = int(index)
    if not with_agdref:
        columns.pop("agdref", None)
        columns.pop("nationality", None)
    missing = [f for f in MANDATORY_FIELDS if f not in columns]
    if "shelter_address" in missing and "address_town" in columns:
        missing.remove("shelter_address")  # address split over postcode/town columns only
    used = set(columns.values())
    ignored = [h for i, h in enumerate(header) if i not in used and str(h).strip()]
    return columns, missing, ignored


# --- dates ---------------------------------------------------------------------------------

EXCEL_EPOCH = datetime.date(1899, 12, 30)
_DMY = re.compile(r"^(\d{1,2})[/.\- ](\d{1,2})[/.\- ](\d{2}|\d{4})$")
_YMD = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_TIME_SUFFIX = re.compile(r"[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SERIAL = re.compile(r"^\d{5}([.,]\d+)?$")  # as text, only 5-digit serials (from 1927)


def _two_digit_year(yy, today):
    """'3/2/24' → 2024; a two-digit year later than this year means the previous century."""
    year = 2000 + yy
    return year if year <= today.year else year - 100


def parse_date(value, *, today=None):
    """A date cell: a date object (XLSX formatted date), an Excel serial number (XLSX cell
    without date format, or its text), or text 'JJ/MM/AAAA', 'J/M/AA', 'AAAA-MM-JJ',
    'JJ-MM-AAAA', 'JJ.MM.AAAA' (with or without a time)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ParseError("valeur manquante")
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, bool):
        raise ParseError(f"« {value} » n’est pas une date")
    if isinstance(value, (int, float)):
        return _from_serial(value)
    text = clean_text(value)  # NUL and other control characters dropped, as in every cell
    text = _TIME_SUFFIX.sub("", text)
    m = _DMY.match(text)
    if m:
        day, month, year = (int(g) for g in m.groups())
        if len(m.group(3)) == 2:
            year = _two_digit_year(year, today or datetime.date.today())
        return _make(year, month, day, text)
    m = _YMD.match(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return _make(year, month, day, text)
    if _SERIAL.match(text):
        return _from_serial(float(text.replace(",", ".")))
    raise ParseError(f"« {text[:40]} » n’est pas une date (format attendu JJ/MM/AAAA)")


def _make(year, month, day, text):
    if year < 1900:
        raise ParseError(f"date impossible « {text} » (année {year})")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise ParseError(f"date impossible « {text} »") from None


def _from_serial(number):
    # Excel's 1900 date system (with its fictitious 29/02/1900: serials from 61 on are right).
    if 1900 <= number <= 2100 and float(number).is_integer():
        raise ParseError(f"« {int(number)} » ressemble à une année seule : indiquez la date complète (JJ/MM/AAAA)")
    if not 61 <= number < 2958466:
        raise ParseError(f"« {number} » n’est pas une date")
    return EXCEL_EPOCH + datetime.timedelta(days=int(number))


# --- sex -----------------------------------------------------------------------------------

_SEX = {
    "f": Sex.F, "femme": Sex.F, "feminin": Sex.F, "fem": Sex.F, "mme": Sex.F, "madame": Sex.F, "mlle": Sex.F,
    "w": Sex.F, "female": Sex.F, "2": Sex.F,
    "m": Sex.M, "h": Sex.M, "homme": Sex.M, "masculin": Sex.M, "masc": Sex.M, "mr": Sex.M, "m r": Sex.M,
    "monsieur": Sex.M, "male": Sex.M, "1": Sex.M,
}


def parse_sex(value):
    key = fold(clean_text(value))
    if not key:
        raise ParseError("valeur manquante")
    if key in _SEX:
        return _SEX[key]
    raise ParseError(f"sexe inconnu « {clean_text(value)[:40]} » (valeurs admises : F, M, H, Femme, Homme)")


# --- status --------------------------------------------------------------------------------

_STATUS_EXACT = {
    "da": Status.DA, "dda": Status.DA, "demandeur d asile": Status.DA, "demandeuse d asile": Status.DA,
    "demandeur asile": Status.DA, "demande d asile": Status.DA, "demande d asile en cours": Status.DA,
    "asile en cours": Status.DA, "en demande d asile": Status.DA, "da en cours": Status.DA,
    "procedure normale": Status.DA, "procedure acceleree": Status.DA, "dublin": Status.DA,
    "procedure dublin": Status.DA, "da dublin": Status.DA, "da procedure normale": Status.DA,
    "da procedure acceleree": Status.DA, "recours cnda": Status.DA, "da recours cnda": Status.DA,
    "refugie": Status.REFUGIE, "refugiee": Status.REFUGIE, "statut de refugie": Status.REFUGIE,
    "refugie statutaire": Status.REFUGIE, "bpi refugie": Status.REFUGIE,
    "ps": Status.PROTECTION_SUBSIDIAIRE, "protection subsidiaire": Status.PROTECTION_SUBSIDIAIRE,
    "beneficiaire de la protection subsidiaire": Status.PROTECTION_SUBSIDIAIRE,
    "bpi protection subsidiaire": Status.PROTECTION_SUBSIDIAIRE, "bps": Status.PROTECTION_SUBSIDIAIRE,
    "bpi": Status.BPI, "beneficiaire d une protection internationale": Status.BPI,
    "beneficiaire de la protection internationale": Status.BPI, "protection internationale": Status.BPI,
    "protege": Status.BPI, "protegee": Status.BPI,
}
# Statuses that exist in SIAO systems but must not be transmitted (the law covers DA and BPI only).
_NOT_TRANSMITTED = (
    "deboute", "debout", "rejet", "refus", "ofpra rejet", "irregulier", "sans papier", "sans titre",
    "titre de sejour", "carte de sejour", "regulier", "francais", "francaise", "ue", "union europeenne",
    "apatride", "oqtf", "mineur", "autre", "inconnu", "ne sait pas", "nsp",
)

# Words that make a status non-transmissible wherever they appear ('DA débouté').
_NEVER = ("deboute", "rejet", "oqtf", "irregulier", "sans papier")


class NotTransmitted(ParseError):
    pass


def parse_status(value):
    text = clean_text(value)
    key = fold(text)
    if not key:
        raise ParseError("valeur manquante")
    if key in _STATUS_EXACT:
        return _STATUS_EXACT[key]
    if any(key.startswith(prefix) for prefix in _NOT_TRANSMITTED) or any(w in key for w in _NEVER):
        raise NotTransmitted(
            f"statut « {text[:40]} » non transmissible : seuls les demandeurs d’asile et les bénéficiaires "
            "d’une protection internationale sont transmis à l’OFII (article L.744-6 du CESEDA) ; retirez cette ligne"
        )
    if "subsidiaire" in key:
        return Status.PROTECTION_SUBSIDIAIRE
    if key.startswith("refugi"):
        return Status.REFUGIE
    if key.startswith(("demandeur d asile", "demandeuse d asile", "da ")):
        return Status.DA
    raise ParseError(
        f"statut inconnu « {text[:40]} » (valeurs admises : DA, demandeur d’asile, réfugié, protection subsidiaire, BPI)"
    )
