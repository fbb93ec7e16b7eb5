"""Row checks of the return file, with the monthly list's parsers and message style
(``exchanges.services.validation.BaseRowValidator``: French, naming row and column).

Errors (the file is refused as a whole, nothing stored): missing birth name, first name or
birth date; impossible date; unknown sex; value too long; birth date in the future; exit
before entry; no date of refusal, non-presentation or exit (the person is then outside the
flow of L.744-7 / R744-48 2°). Warnings: refusal or non-presentation before the notification
of the offer; a date after the end of the month of the file; the same person twice.
"""

from exchanges.services.identity import person_key
from exchanges.services.parsing import clean_text, parse_date, parse_sex
from exchanges.services.validation import BaseRowValidator

from .columns import DATE_FIELDS, FIELD_NAMES, LABELS, MANDATORY, MAX_LENGTHS, REASON_FIELDS


class ReturnRowValidator(BaseRowValidator):
    labels = LABELS

    def __init__(self, period, *, column_names=None, today=None):
        super().__init__(period, column_names=column_names, today=today)
        self.seen = {}

    def validate(self, line_number, raw):
        errors, warnings = [], []
        texts = {f: clean_text(v) for f, v in raw.items()}
        row = {"line_number": line_number, "errors": errors, "warnings": warnings}
        for f in FIELD_NAMES:
            if f not in DATE_FIELDS and f != "sex":
                row[f] = texts.get(f, "")
        for f in MANDATORY:
            if not texts.get(f):
                self._err(errors, f, "valeur manquante")
        for f, limit in MAX_LENGTHS.items():
            if len(row[f]) > limit:
                self._err(errors, f, f"valeur trop longue ({len(row[f])} caractères, {limit} au plus)")
                row[f] = row[f][:limit]
        row["sex"] = self._parse(parse_sex, raw, texts, "sex", errors) or ""
        for f in DATE_FIELDS:
            row[f] = self._parse(parse_date, raw, texts, f, errors)

        birth, entry, exit_ = row["birth_date"], row["entry_date"], row["exit_date"]
        if birth and birth > self.today:
            self._err(errors, "birth_date", f"date de naissance dans le futur ({birth:%d/%m/%Y})")
        if entry and exit_ and exit_ < entry:
            self._err(errors, "exit_date", f"date de sortie ({exit_:%d/%m/%Y}) antérieure à la date d’entrée "
                      f"({entry:%d/%m/%Y})")
        if not any(row[f] for f in REASON_FIELDS) and not any(
                e["field"] in REASON_FIELDS for e in errors):
            self._err(errors, "refused_on", "aucune date de refus, de non-présentation ni de sortie : cette personne "
                      "ne relève pas du flux retour (article L.744-7 du CESEDA) ; retirez cette ligne")
        notified = row["offer_notified_on"]
        for f in ("refused_on", "non_presentation_on"):
            if notified and row[f] and row[f] < notified:
                self._err(warnings, f, f"date ({row[f]:%d/%m/%Y}) antérieure à la notification de l’offre "
                          f"({notified:%d/%m/%Y}) : à vérifier")
        for f in DATE_FIELDS:
            if f != "certificate_valid_until" and row[f] and row[f] > self.period_end:
                self._err(warnings, f, f"date ({row[f]:%d/%m/%Y}) postérieure à la fin du mois du fichier "
                          f"({self.period_end:%d/%m/%Y}) : à vérifier")

        row["birth_name_key"] = person_key(row["birth_name"], row["first_name"], birth)
        row["usage_name_key"] = person_key(row["usage_name"], row["first_name"], birth)
        key = row["birth_name_key"]
        if key:
            first = self.seen.setdefault(key, line_number)
            if first != line_number:
                self._err(warnings, "birth_name", f"même personne qu’à la ligne {first} (doublon dans le fichier)")
        return row
