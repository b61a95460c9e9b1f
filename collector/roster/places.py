"""Places of a ship-to address: countries, US states and Canadian provinces, postal codes, and
`ship_to`, the address in one spelling."""
from __future__ import annotations

import functools
import re
import unicodedata


# A US ZIP, maybe with its +4 part, maybe short of the leading zeros Excel drops (02134 → 2134).
_US_ZIP = re.compile(r"(\d{3,5})(?:[\s-]?\d{4})?")
_CA_POSTAL = re.compile(r"([A-Z]\d[A-Z])\s?(\d[A-Z]\d)")


def normalise_postal_code(value: str | None, country: str | None) -> str | None:
    """Upper case, spaces collapsed; a US ZIP as its 5 digits, a Canadian code as "A1A 1A1"."""
    if not value:
        return value
    text = " ".join(value.split()).upper()
    if country == "US" and (zip_code := _US_ZIP.fullmatch(text)):
        return zip_code[1].zfill(5)
    if country == "CA" and (postal := _CA_POSTAL.fullmatch(text)):
        return f"{postal[1]} {postal[2]}"
    return text


@functools.lru_cache(maxsize=4096)
def normalise_region(value: str | None, country: str | None) -> str | None:
    """A US state or Canadian province as its postal code ("Oregon", "or" → "OR"); other regions
    as given, spaces collapsed."""
    if not value:
        return value
    text = " ".join(value.split())
    return _REGION_CODES.get(country, {}).get(_name_key(text), text)


def ship_to(country: str | None, region: str | None, city: str | None, postal_code: str | None) -> tuple | None:
    """A ship-to address as (country, region, city, postal code) in one spelling for `same_household`:
    names compared without case, accents or punctuation ("Zürich" = "Zurich"), blanks as None."""
    if country:
        country = normalise_country(country) or country
    parts = (country, normalise_region(region, country), city, normalise_postal_code(postal_code, country))
    keyed = tuple(_name_key(part) or None if part and part.strip() else None for part in parts)
    return keyed if any(keyed) else None


@functools.lru_cache(maxsize=4096)  # a roster repeats a handful of countries thousands of times
def normalise_country(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code for a code or an English name ("USA", "Korea, Republic of"), else None."""
    text = value.strip()
    if len(text) == 2 and text.isalpha():
        code = text.upper()
        return code if code in _COUNTRY_CODES else _COUNTRY_NAMES.get(_name_key(text))
    for candidate in _country_name_forms(text):
        code = _COUNTRY_NAMES.get(_name_key(candidate))
        if code:
            return code
    return None


def _country_name_forms(text: str) -> list[str]:
    """The name as given, then ISO's inverted "Korea, Republic of" read as "Republic of Korea", then the head."""
    forms = [text]
    if "," in text:
        head, tail = (part.strip() for part in text.split(",", 1))
        forms += [f"{tail} {head}", head]
    return forms


def _name_key(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold().replace("&", " and ")
    text = re.sub(r"[’'`.]", "", text)  # "U.S." -> "us", "d’Ivoire" -> "divoire"
    words = ["saint" if word == "st" else word for word in re.sub(r"[^a-z0-9]+", " ", text).split()]
    if words[:1] == ["the"]:
        words = words[1:]
    return " ".join(words)


# Code, English short name, then other names in use (ISO's formal names, older or local ones).
_COUNTRY_TABLE = """
AD Andorra|AE United Arab Emirates; UAE|AF Afghanistan|AG Antigua and Barbuda|AI Anguilla|AL Albania
AM Armenia|AO Angola|AQ Antarctica|AR Argentina|AS American Samoa|AT Austria; Österreich|AU Australia
AW Aruba|AX Åland Islands|AZ Azerbaijan|BA Bosnia and Herzegovina; Bosnia|BB Barbados|BD Bangladesh
BE Belgium|BF Burkina Faso|BG Bulgaria|BH Bahrain|BI Burundi|BJ Benin|BL Saint Barthélemy|BM Bermuda
BN Brunei; Brunei Darussalam|BO Bolivia; Plurinational State of Bolivia
BQ Caribbean Netherlands; Bonaire, Sint Eustatius and Saba; Bonaire|BR Brazil; Brasil|BS Bahamas
BT Bhutan|BV Bouvet Island|BW Botswana|BY Belarus|BZ Belize|CA Canada|CC Cocos (Keeling) Islands
CD Democratic Republic of the Congo; DR Congo; DRC; Congo (Dem. Rep.); Congo-Kinshasa
CF Central African Republic|CG Congo; Republic of the Congo; Congo (Rep.); Congo-Brazzaville
CH Switzerland; Schweiz; Suisse|CI Côte d'Ivoire; Ivory Coast|CK Cook Islands|CL Chile|CM Cameroon
CN China; People's Republic of China; PRC|CO Colombia|CR Costa Rica|CU Cuba|CV Cabo Verde; Cape Verde
CW Curaçao|CX Christmas Island|CY Cyprus|CZ Czechia; Czech Republic|DE Germany; Deutschland|DJ Djibouti
DK Denmark|DM Dominica|DO Dominican Republic|DZ Algeria|EC Ecuador|EE Estonia|EG Egypt|EH Western Sahara
ER Eritrea|ES Spain; España|ET Ethiopia|FI Finland|FJ Fiji|FK Falkland Islands; Falkland Islands (Malvinas)
FM Micronesia; Federated States of Micronesia|FO Faroe Islands|FR France|GA Gabon
GB United Kingdom; UK; Great Britain; Britain; England; Scotland; Wales; Northern Ireland
GB United Kingdom of Great Britain and Northern Ireland
GD Grenada|GE Georgia|GF French Guiana|GG Guernsey|GH Ghana|GI Gibraltar|GL Greenland|GM Gambia
GN Guinea|GP Guadeloupe|GQ Equatorial Guinea|GR Greece|GS South Georgia and the South Sandwich Islands
GT Guatemala|GU Guam|GW Guinea-Bissau|GY Guyana|HK Hong Kong|HM Heard Island and McDonald Islands
HN Honduras|HR Croatia|HT Haiti|HU Hungary|ID Indonesia|IE Ireland|IL Israel|IM Isle of Man|IN India
IO British Indian Ocean Territory|IQ Iraq|IR Iran; Islamic Republic of Iran|IS Iceland|IT Italy; Italia
JE Jersey|JM Jamaica|JO Jordan|JP Japan|KE Kenya|KG Kyrgyzstan|KH Cambodia|KI Kiribati|KM Comoros
KN Saint Kitts and Nevis
KP North Korea; Democratic People's Republic of Korea; DPRK; Korea (North); Korea, North
KR South Korea; Republic of Korea; ROK; Korea (South); Korea, South
KW Kuwait|KY Cayman Islands|KZ Kazakhstan|LA Laos; Lao People's Democratic Republic|LB Lebanon
LC Saint Lucia|LI Liechtenstein|LK Sri Lanka|LR Liberia|LS Lesotho|LT Lithuania|LU Luxembourg|LV Latvia
LY Libya|MA Morocco|MC Monaco|MD Moldova; Republic of Moldova|ME Montenegro
MF Saint Martin; Saint Martin (French part)|MG Madagascar|MH Marshall Islands|MK North Macedonia; Macedonia
ML Mali|MM Myanmar; Burma|MN Mongolia|MO Macao; Macau|MP Northern Mariana Islands|MQ Martinique
MR Mauritania|MS Montserrat|MT Malta|MU Mauritius|MV Maldives|MW Malawi|MX Mexico|MY Malaysia
MZ Mozambique|NA Namibia|NC New Caledonia|NE Niger|NF Norfolk Island|NG Nigeria|NI Nicaragua
NL Netherlands; Holland; Nederland; Kingdom of the Netherlands|NO Norway|NP Nepal|NR Nauru|NU Niue
NZ New Zealand|OM Oman|PA Panama|PE Peru|PF French Polynesia|PG Papua New Guinea|PH Philippines
PK Pakistan|PL Poland; Polska|PM Saint Pierre and Miquelon|PN Pitcairn; Pitcairn Islands|PR Puerto Rico
PS Palestine; State of Palestine; Palestinian Territories|PT Portugal|PW Palau|PY Paraguay|QA Qatar
RE Réunion|RO Romania|RS Serbia|RU Russia; Russian Federation|RW Rwanda|SA Saudi Arabia
SB Solomon Islands|SC Seychelles|SD Sudan|SE Sweden; Sverige|SG Singapore
SH Saint Helena; Saint Helena, Ascension and Tristan da Cunha|SI Slovenia|SJ Svalbard and Jan Mayen
SK Slovakia; Slovak Republic|SL Sierra Leone|SM San Marino|SN Senegal|SO Somalia|SR Suriname
SS South Sudan|ST Sao Tome and Principe|SV El Salvador|SX Sint Maarten; Sint Maarten (Dutch part)
SY Syria; Syrian Arab Republic|SZ Eswatini; Swaziland|TC Turks and Caicos Islands|TD Chad
TF French Southern Territories|TG Togo|TH Thailand|TJ Tajikistan|TK Tokelau|TL Timor-Leste; East Timor
TM Turkmenistan|TN Tunisia|TO Tonga|TR Türkiye; Turkey|TT Trinidad and Tobago|TV Tuvalu
TW Taiwan; Republic of China|TZ Tanzania; United Republic of Tanzania|UA Ukraine|UG Uganda
UM United States Minor Outlying Islands
US United States; United States of America; USA; America|UY Uruguay|UZ Uzbekistan
VA Holy See; Vatican City; Vatican|VC Saint Vincent and the Grenadines
VE Venezuela; Bolivarian Republic of Venezuela
VG British Virgin Islands; Virgin Islands (British); Virgin Islands (UK)
VI U.S. Virgin Islands; Virgin Islands (U.S.); Virgin Islands (US)|VN Vietnam; Viet Nam|VU Vanuatu
WF Wallis and Futuna|WS Samoa|XK Kosovo|YE Yemen|YT Mayotte|ZA South Africa|ZM Zambia|ZW Zimbabwe
"""


# Postal code, then names in use, of the US states (with DC and the territories) and Canada's
# provinces and territories.
_REGION_TABLE = {
    "US": """
AL Alabama|AK Alaska|AZ Arizona|AR Arkansas|CA California|CO Colorado|CT Connecticut|DE Delaware
DC District of Columbia; Washington DC|FL Florida|GA Georgia|HI Hawaii|ID Idaho|IL Illinois|IN Indiana
IA Iowa|KS Kansas|KY Kentucky|LA Louisiana|ME Maine|MD Maryland|MA Massachusetts|MI Michigan|MN Minnesota
MS Mississippi|MO Missouri|MT Montana|NE Nebraska|NV Nevada|NH New Hampshire|NJ New Jersey|NM New Mexico
NY New York|NC North Carolina|ND North Dakota|OH Ohio|OK Oklahoma|OR Oregon|PA Pennsylvania
RI Rhode Island|SC South Carolina|SD South Dakota|TN Tennessee|TX Texas|UT Utah|VT Vermont|VA Virginia
WA Washington|WV West Virginia|WI Wisconsin|WY Wyoming|AS American Samoa|GU Guam
MP Northern Mariana Islands|PR Puerto Rico|VI U.S. Virgin Islands; Virgin Islands|UM Minor Outlying Islands
""",
    "CA": """
AB Alberta|BC British Columbia|MB Manitoba|NB New Brunswick|NL Newfoundland and Labrador; Newfoundland; NF
NS Nova Scotia|NT Northwest Territories|NU Nunavut|ON Ontario|PE Prince Edward Island; PEI
QC Quebec; Québec; PQ|SK Saskatchewan|YT Yukon; Yukon Territory
""",
}


def _region_index() -> dict[str, dict[str, str]]:
    """country → {name key of a code or name: code}."""
    index: dict[str, dict[str, str]] = {}
    for country, table in _REGION_TABLE.items():
        for item in table.replace("\n", "|").split("|"):
            if item.strip():
                code, _, names = item.strip().partition(" ")
                index.setdefault(country, {}).update({_name_key(name): code for name in [code, *names.split(";")]})
    return index


def _country_index() -> tuple[frozenset[str], dict[str, str]]:
    codes, names = set(), {}
    for item in _COUNTRY_TABLE.replace("\n", "|").split("|"):
        if not item.strip():
            continue
        code, _, aliases = item.strip().partition(" ")
        codes.add(code)
        for alias in aliases.split(";"):
            names[_name_key(alias)] = code
    return frozenset(codes), names


_COUNTRY_CODES, _COUNTRY_NAMES = _country_index()
_REGION_CODES = _region_index()
