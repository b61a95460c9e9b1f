"""The issued-device roster: which laptop (by hardware serial) went to whom, and where it was shipped.

The roster is what the fleet rules compare reports with: a device that reports but is not on the
roster, a roster device that never reports, several devices of different people behind one
address, a time zone at odds with the ship-to country. It comes from the MDM's own CSV export, so
IT needs no new tooling: `parse(path, fmt)` reads one export, `import_roster(db, result)` upserts
it into the `roster` table.

Modules: `csv_input` (`parse`: bytes, encoding, CSV dialect, rows into entries), `columns` (the
header names each format is read from), `normalise` (serials, e-mail addresses, dates), `places`
(countries, regions, postal codes, `ship_to`), `households` (`same_household`), `entries` (what a
parse returns), `importer` (`import_roster`, `find`: what changes; the SQL is in
`farmwatch.collector.storage.roster`), `sync` (a whole MDM API listing against the rows that MDM
supplied: new, reassigned, updated, removed, and the history of who had which laptop when, used by
`farmwatch.collector.mdm`).

Formats (`fmt`)
---------------
``jamf``    Jamf Pro computer inventory export (an Advanced Computer Search exported as CSV). The
            display fields read are "Serial Number", "Full Name" (else "Username"), "Email
            Address", "Department", and, when no issue-date column is present, "Last Enrollment".
            "Building" and "Room" are office locations, not ship-to addresses, and are not used.
``intune``  Intune "Devices > All devices > Export" CSV: "Serial number", "Primary user display
            name", "Primary user email address" (else "Primary user UPN"), and "Enrollment date"
            as the issue-date fallback. Intune exports no department or address.
``kandji``  Kandji device list export: "Serial Number", "User Name", "User Email", and "First
            Enrollment"/"Last Enrollment" as the issue-date fallback. The API field names of
            Kandji's device report script (serial_number, user, first_enrollment …) are accepted
            too, including its `user` column holding a {'name': …, 'email': …} object.
``csv``     our plain format, below.

Every MDM format must have a serial column and at least one user column (name or e-mail): a
roster that does not say who has the laptop cannot tell one person's devices from another's, and
the check catches an export read with the wrong `fmt`.

Ship-to address and issue date
------------------------------
MDM exports rarely carry where a laptop was shipped. Add the columns and they are read under
these names (any format): "Ship To City"/"City", "Ship To State"/"State"/"Region"/"Province",
"Ship To Country"/"Country"/"Country/Region", "Ship To Postal Code"/"Postal Code"/"ZIP",
"Issue Date"/"Date Issued"/"Ship Date". How:

- Jamf Pro: create computer extension attributes (Settings > Computer management > Extension
  attributes, input type "Text field", inventory display "User and Location") named e.g. "Ship To
  City", "Ship To Country", "Issue Date"; fill them per computer (by hand, the MUT, or the API)
  and add them to the Advanced Computer Search's display fields before exporting.
- Intune: the export has no custom columns. Download the users (Entra ID > Users > Download
  users: department, city, state, country, postalCode) and append those columns to the device
  export, matched on the primary user's UPN, in a spreadsheet; they are read under those names.
- Kandji: add the columns to the exported CSV the same way (from the HR system or the shipping
  list), or keep the address in the plain format below.

The plain format (`csv`)
------------------------
A header row with any of these columns, in any order; only `serial` is required:

    serial        hardware serial number (as the agent reports it; compared upper-cased)
    user          the person the laptop was issued to (also accepted: user_name)
    email         their e-mail address
    department
    city          ship-to city
    region        ship-to state, province or region
    country       ship-to country: ISO 3166-1 alpha-2 code or an English name ("United States",
                  "USA", "Korea, Republic of")
    postal_code   ship-to postal or ZIP code
    issue_date    date the laptop was issued or shipped

Reading rules (all formats)
---------------------------
- Header names match ignoring case, spaces, underscores and hyphens. A column whose name is a near
  miss of one the format reads for a field the file has no column for ("usr" for "user", "Ship To
  Contry") is an error naming both: read on, it would leave that field empty in every row. Other
  columns are not read; MDM exports carry dozens, but a plain (`csv`) file is warned about each
  one, and about having neither a user nor an email column.
- UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode text"), else Windows-1252; comma,
  semicolon or tab separated (chosen from the header line); Excel-style quoting, including line
  breaks inside quoted cells. Line numbers in messages are the file's physical lines.
- A row without a serial, or with a placeholder such as "To be filled by O.E.M.", is skipped and
  reported with its line number; a blank row is skipped silently. A serial given twice in one
  file: the later row wins and the earlier one is reported.
- Serials are trimmed and upper-cased. E-mail addresses are lower-cased. Countries become ISO
  3166-1 alpha-2 codes. US states and Canadian provinces become their two-letter postal codes
  ("Oregon" → "OR", "Québec" → "QC"). Postal codes are upper-cased with spaces collapsed; US ZIP+4
  codes become the 5-digit ZIP, ZIP codes that lost their leading zero in Excel are padded again,
  and Canadian codes are written "A1A 1A1". `ship_to` puts ship-to addresses in that one
  spelling, also for rows imported before these rules, and `same_household` compares two of them,
  forgiving city spellings and a missing postal code.
- Dates become ISO dates (YYYY-MM-DD) from ISO forms (with or without time, fraction and zone),
  "Mar 5, 2024"/"5 March 2024", and numeric D/M/Y forms. Numeric dates are read month-first, as
  US-locale exports write them, unless a value in the same file only makes sense day-first
  (e.g. 25/03/2024). A value that cannot be read is left empty and reported.

Re-import
---------
`import_roster` upserts on the normalised serial: a known serial is updated, never duplicated.
A column present in the file is authoritative (an empty cell clears the stored value); a column
the file does not have leaves the stored value alone, so an Intune export does not wipe the
departments an earlier Jamf export supplied. `source_format`/`source_file` name the import that
last changed the row (or, for an MDM sync, `jamf-api` etc., the MDM that last listed it);
`imported_at` is when the serial was first imported. Every change an import or a sync makes is
kept in `roster_changes`: who had which laptop when (`farmwatch-collector mdm history SERIAL`).
"""
from farmwatch.collector.roster.columns import FORMATS, IDENTITY_FIELDS
from farmwatch.collector.roster.csv_input import parse
from farmwatch.collector.roster.entries import ParseResult, Problem, RosterEntry, RosterError
from farmwatch.collector.roster.households import same_household
from farmwatch.collector.roster.importer import Change, ImportSummary, find, import_roster
from farmwatch.collector.roster.normalise import normalise_date, normalise_email, normalise_serial
from farmwatch.collector.roster.places import normalise_country, normalise_postal_code, normalise_region, ship_to
from farmwatch.collector.roster.sync import history

__all__ = [
    "FORMATS", "IDENTITY_FIELDS", "parse", "ParseResult", "Problem", "RosterEntry", "RosterError",
    "same_household", "Change", "ImportSummary", "find", "import_roster", "normalise_date",
    "normalise_email", "normalise_serial", "normalise_country", "normalise_postal_code",
    "normalise_region", "ship_to", "history",
]
