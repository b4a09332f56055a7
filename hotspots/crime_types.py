"""data.police.uk crime types: the published names and the API's slugs for them.

The street CSVs publish crime types by name ("Violence and sexual offences"); the police API
uses slugs ("violent-crime"). :data:`CRIME_TYPE_SLUGS` maps one to the other,
:data:`CRIME_TYPES` lists the 14 current names, and :func:`crime_type_key` compares a name or a
slug typed by a user with either.
"""

from __future__ import annotations

import re

__all__ = ["CRIME_TYPES", "CRIME_TYPE_SLUGS", "crime_type_key"]

#: data.police.uk API category slugs and the crime type names published in the street CSVs.
CRIME_TYPE_SLUGS: dict[str, str] = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
    # used until 2013
    "public-disorder-weapons": "Public disorder and weapons",
}

#: The 14 current data.police.uk crime types, as published.
CRIME_TYPES: list[str] = [
    name for slug, name in CRIME_TYPE_SLUGS.items() if slug != "public-disorder-weapons"
]


def crime_type_key(name: str) -> str:
    """Crime type key: slugs resolved, case, hyphens and spaces ignored.

    >>> crime_type_key("violent-crime"), crime_type_key(" Anti-social  behaviour")
    ('violence and sexual offences', 'anti social behaviour')
    """
    text = str(name).strip()
    text = CRIME_TYPE_SLUGS.get(text.lower(), text)
    return " ".join(re.sub(r"[-_]", " ", text.lower()).split())
