"""Identity of a person across months and across départements: a deterministic key.

The key is the SHA-256 of either
- ``A|<AGDREF number>`` when the row carries an AGDREF number (digits only), or
- ``N|<last name>|<first name>|<birth date>|<sex>`` with names normalised: upper case, accents
  removed, every character that is not a letter dropped ("Marie-Claire" = "MARIE CLAIRE"
  = "marie claire"), so that spelling of case, accents, hyphens, apostrophes and spaces
  does not split a person in two.

``derive`` matches first on ``identity_key`` and, for rows still unmatched, on the name key
(``name_key``), which covers the month where an AGDREF number first appears.

Known limits (matching is deliberately exact, never fuzzy: a wrong merge would attach one
person's history — and ADA flag — to another):
- typing errors, transliteration variants (Mohamed / Mohammed / Muhammad), a name written
  in another order (first and last name swapped) or a usage name instead of the birth name
  give a different key: the person appears as "new" and the previous one as "left";
- a corrected birth date or sex also gives a different key;
- two different persons with the same normalised names, birth date and sex (conventional
  birth dates such as 01/01/YYYY are frequent in asylum files) get the same key: in one file
  this shows as a "same person twice" warning, across months as one person;
- an AGDREF number with a typo is a different person; an AGDREF present one month and absent
  the next falls back to the name key.
The key is not a pseudonym: the same inputs always give the same key and the inputs are
guessable; it is stored next to the clear data it is computed from, never published alone.
"""

import functools
import hashlib
import re
import unicodedata

_NOT_LETTER = re.compile(r"[^A-Z]+")


@functools.lru_cache(maxsize=65536)  # names repeat a lot in a list
def normalise_name(value):
    text = unicodedata.normalize("NFKD", str(value or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).upper()
    text = text.replace("Œ", "OE").replace("Æ", "AE").replace("ß", "SS")
    return _NOT_LETTER.sub("", text)


_NOT_DIGIT = re.compile(r"\D+")


def normalise_agdref(value):
    if not value:
        return ""
    return _NOT_DIGIT.sub("", str(value))


def digest(payload):
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def name_payload(last_name, first_name, birth_iso, sex):
    """What ``name_key`` hashes, from names already normalised, the ISO birth date and the sex
    as text (also built column by column by ``validation._identity_keys``)."""
    return f"N|{last_name}|{first_name}|{birth_iso}|{sex}"


def agdref_payload(digits):
    """What ``identity_key`` hashes for a row with an AGDREF number (digits only)."""
    return f"A|{digits}"


def name_key(last_name, first_name, birth_date, sex):
    if not (last_name and birth_date):
        return ""
    return digest(name_payload(normalise_name(last_name), normalise_name(first_name), birth_date.isoformat(), sex or ""))


def person_key(name, first_name, birth_date):
    """Name + first name + birth date, normalised as ``name_key`` (no sex: the return flow's
    cross-check matches on "birth name or usage name + first name + birth date", instruction
    II.B / exchanges.returns.crosscheck). Same exact-matching limits as above."""
    if not (name and first_name and birth_date):
        return ""
    return digest(f"P|{normalise_name(name)}|{normalise_name(first_name)}|{birth_date.isoformat()}")


def identity_key(last_name, first_name, birth_date, sex, agdref=""):
    agdref = normalise_agdref(agdref)
    if agdref:
        return digest(agdref_payload(agdref))
    return name_key(last_name, first_name, birth_date, sex)
