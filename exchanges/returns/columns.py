"""The columns of the return file: exactly those of instruction II.B.2 (R744-48 2°), no other.

Headers are matched like the monthly list's (``exchanges.services.parsing.fold``: case,
accents and punctuation ignored) against the synonyms below. A column that matches none of
them is an *extra* column: the whole file is refused (data minimisation, R744-48 2° lists
"les seules données" OFII may send), see ``exchanges.returns.services``.
"""

from dataclasses import dataclass

from exchanges.services.parsing import fold


@dataclass(frozen=True)
class ReturnField:
    name: str  # ReturnRow field
    label: str  # header of the archive, and of the sample file
    kind: str  # text | date | sex
    synonyms: tuple
    width: int = 16


FIELDS = [
    # a) État civil (annexe 7-2, I, 1° à 5°)
    ReturnField("birth_name", "Nom de naissance", "text",
                ("nom de naissance", "nom", "nom patronymique", "nom de famille", "birth name", "last name"), 22),
    ReturnField("usage_name", "Nom d’usage", "text", ("nom d usage", "nom usage", "nom marital", "usage name"), 20),
    ReturnField("first_name", "Prénom", "text", ("prenom", "prenoms", "first name"), 20),
    ReturnField("birth_date", "Date de naissance", "date",
                ("date de naissance", "date naissance", "ddn", "ne le", "nee le", "birth date")),
    ReturnField("sex", "Sexe", "sex", ("sexe", "genre", "sex"), 6),
    ReturnField("birth_place", "Lieu de naissance", "text",
                ("lieu de naissance", "lieu naissance", "ville de naissance", "pays de naissance", "birth place"), 20),
    ReturnField("nationality", "Nationalité", "text", ("nationalite", "pays de nationalite", "nationality"), 18),
    # b) Situation administrative (annexe 7-2, II, 4° à 6°)
    ReturnField("certificate_issued_on", "Date de délivrance de l’attestation de demande d’asile", "date",
                ("date de delivrance de l attestation de demande d asile", "date de delivrance de l attestation",
                 "date delivrance attestation", "delivrance attestation", "date de delivrance ada",
                 "date de delivrance")),
    ReturnField("certificate_valid_until", "Fin de validité de l’attestation", "date",
                ("fin de validite de l attestation", "date de fin de validite de l attestation",
                 "duree de validite de l attestation", "validite de l attestation", "validite attestation",
                 "fin de validite", "date de fin de validite", "valable jusqu au")),
    ReturnField("certificate_renewed_on", "Date de renouvellement de l’attestation", "date",
                ("date de renouvellement de l attestation", "date de renouvellement", "renouvellement attestation",
                 "date renouvellement")),
    ReturnField("certificate_withdrawn_on", "Date de retrait de l’attestation", "date",
                ("date de retrait de l attestation", "date de retrait", "retrait attestation", "date retrait")),
    # c) Conditions d'accueil (annexe 7-2, III, 5° à 8°)
    ReturnField("offer_place", "Lieu de l’hébergement proposé", "text",
                ("lieu de l hebergement propose", "lieu hebergement propose", "hebergement propose",
                 "lieu de l hebergement", "lieu d hebergement propose"), 30),
    ReturnField("offer_type", "Typologie de l’hébergement proposé", "text",
                ("typologie de l hebergement propose", "typologie de l hebergement", "typologie",
                 "type d hebergement", "type de l hebergement propose", "type hebergement"), 14),
    ReturnField("offer_notified_on", "Date de notification de l’offre d’hébergement", "date",
                ("date de notification de l offre d hebergement", "date de notification de l offre",
                 "date notification offre", "notification de l offre", "date de l offre")),
    ReturnField("accepted_on", "Date d’acceptation", "date",
                ("date d acceptation", "date acceptation", "date de la decision d acceptation", "acceptation")),
    ReturnField("non_presentation_on", "Date du constat de non-présentation", "date",
                ("date du constat de non presentation", "date de non presentation", "date non presentation",
                 "non presentation", "constat de non presentation")),
    ReturnField("refused_on", "Date de refus", "date",
                ("date de refus", "date refus", "date du refus", "refus", "date de refus du demandeur")),
    ReturnField("entry_date", "Date d’entrée dans l’hébergement", "date",
                ("date d entree dans l hebergement", "date d entree dans le lieu d hebergement", "date d entree",
                 "date entree", "entree")),
    ReturnField("exit_date", "Date de sortie de l’hébergement", "date",
                ("date de sortie de l hebergement", "date de sortie du lieu d hebergement", "date de sortie",
                 "date sortie", "sortie")),
    ReturnField("entry_modality", "Modalités d’entrée", "text",
                ("modalites d entree", "modalite d entree", "modalite entree", "motif d entree"), 20),
    ReturnField("exit_modality", "Modalités de sortie", "text",
                ("modalites de sortie", "modalite de sortie", "modalite sortie", "motif de sortie"), 20),
]
BY_NAME = {f.name: f for f in FIELDS}
FIELD_NAMES = [f.name for f in FIELDS]
LABELS = {f.name: f.label for f in FIELDS}
MANDATORY = ["birth_name", "first_name", "birth_date"]
DATE_FIELDS = [f.name for f in FIELDS if f.kind == "date"]
# Why a person is in the file (L.744-7): one of these dates must be given.
REASON_FIELDS = ["refused_on", "non_presentation_on", "exit_date"]
MAX_LENGTHS = {"birth_name": 150, "usage_name": 150, "first_name": 150, "birth_place": 150, "nationality": 100,
               "offer_place": 300, "offer_type": 100, "entry_modality": 200, "exit_modality": 200}

_INDEX = {}
for _f in FIELDS:
    for _syn in (_f.synonyms + (fold(_f.label),)):
        _INDEX.setdefault(_syn, _f.name)


def match_header(name):
    return _INDEX.get(fold(name))


def match_headers(header):
    """Map the file's columns to the II.B.2 fields.

    Returns (columns {field: index}, missing mandatory fields, extra columns). An extra column
    is a header that names no II.B.2 field, a second column for the same field, or an
    untitled column (its content cannot be checked against the list)."""
    columns, extra = {}, []
    for index, name in enumerate(header):
        text = str(name or "").strip()
        field = match_header(text) if text else None
        if field is None:
            extra.append(text or f"colonne {index + 1} (sans titre)")
        elif field in columns:
            extra.append(f"{text} (deuxième colonne « {LABELS[field]} »)")
        else:
            columns[field] = index
    missing = [f for f in MANDATORY if f not in columns]
    return columns, missing, extra
