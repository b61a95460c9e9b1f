"""MDM roster import: the example exports under fixtures/roster, odd files, and re-imports into real SQLite."""
from __future__ import annotations

import codecs
import io
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from farmwatch.collector import roster
from farmwatch.collector.ingest import Store
from farmwatch.collector.storage import roster as roster_storage

FIXTURES = Path(__file__).parent / "fixtures" / "roster"
JAMF, INTUNE, KANDJI, PLAIN = (FIXTURES / f"{name}.csv" for name in ("jamf", "intune", "kandji", "plain"))


@pytest.fixture
def db(tmp_path) -> sqlite_utils.Database:
    database = sqlite_utils.Database(tmp_path / "roster.db")
    yield database
    database.close()


def rows(db) -> dict[str, dict]:
    return {row["serial"]: row for row in db.query("SELECT * FROM roster")}


def write(tmp_path: Path, text: str, name: str = "roster.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# -- each format ---------------------------------------------------------------------------

@pytest.mark.parametrize("path, fmt, serials", [
    (JAMF, "jamf", {"C02ZK1ABMD6R", "FVFXC2JHQ6L4", "C02FL5YXQ6LC", "C02YD0DJT90K", "FVFZM7LNKLHG",
                    "G8WN0X9NHTD5", "C02XK1JKLVCG", "FVFHX3Q1P3YW", "C02DR4ZTMD6M", "H4TQ9V2XJ1", "C02MQ7WPFVH3"}),
    (INTUNE, "intune", {"7XK2M93", "PF3KQ8ZB", "5CG3214XYZ", "028193754953", "PF4BX2LM", "C02FL5YXQ6LC",
                        "5CG3301ABC", "PF4CD7QR"}),
    (KANDJI, "kandji", {"C02GH5VXMD6T", "FVFGK2LMQ6L7", "C02JW8RTMD6V", "FVFKL3MNQ6L9", "C02KM9STMD6W",
                        "C02LN1UVMD6X", "C02MP2WXMD6Y", "FVFMN4PQQ6M1", "C02NQ3XYMD6Z"}),
    (PLAIN, "csv", {"C02YD0DJT90K", "F7KQ2LMN9X", "JX4RT8PL2W", "K9MW3ZQ7TR", "L2PV6YH8QS", "M5NB1XC4DF",
                    "N8QE2RT5GH", "P3WS7UV9JK"}),
])
def test_each_format_parses_its_example_export(path, fmt, serials):
    result = roster.parse(path, fmt)
    assert {entry.serial for entry in result.entries} == serials
    assert result.source_format == fmt and result.source_file == str(path)


def test_jamf_rows_carry_person_department_ship_to_and_enrollment_date():
    entries = {e.serial: e for e in roster.parse(JAMF, "jamf").entries}
    amara = entries["C02ZK1ABMD6R"]
    assert (amara.user_name, amara.email) == ("Amara Okafor", "amara.okafor@example.com")
    assert amara.department == "Engineering"
    assert (amara.city, amara.region, amara.country, amara.postal_code) == ("San Francisco", "CA", "US", "94107")
    assert amara.issue_date == "2024-01-08"  # "Last Enrollment", as no issue-date column is present
    assert entries["C02FL5YXQ6LC"].department == "Research, Analytics"  # quoted comma
    assert entries["C02YD0DJT90K"].postal_code == "02134"  # Excel dropped the leading zero
    assert entries["C02MQ7WPFVH3"].country == "DE"  # lower-case serial in the export, upper-cased


def test_intune_takes_display_name_email_and_falls_back_to_the_upn():
    result = roster.parse(INTUNE, "intune")
    entries = {e.serial: e for e in result.entries}
    assert entries["7XK2M93"].user_name == "Mateo Alvarez"
    assert entries["PF4BX2LM"].email == "priya.nair@example.com"  # e-mail cell empty, UPN used
    assert entries["028193754953"].issue_date == "2024-02-07"  # "2024-02-07 10:02:44.0040000"
    assert entries["PF4CD7QR"].user_name == "Tomáš Novák"  # UTF-8 with BOM
    assert "department" not in result.provided  # Intune exports none; a re-import must not clear it
    assert result.columns["email"] == ["Primary user email address", "Primary user UPN"]


def test_kandji_prefers_an_explicit_issue_date_over_enrollment():
    entries = {e.serial: e for e in roster.parse(KANDJI, "kandji").entries}
    assert entries["C02GH5VXMD6T"].issue_date == "2024-01-08"  # "Jan 8, 2024", not First Enrollment (Jan 9)
    assert (entries["C02NQ3XYMD6Z"].user_name, entries["C02NQ3XYMD6Z"].country) == ("Deepak Rao", "IN")


def test_kandji_api_report_with_a_user_object_column(tmp_path):
    path = write(tmp_path, "serial_number,device_name,user,first_enrollment,blueprint_name\n"
                           "c02ab1cdmd6r,Uma's Mac,\"{'email': 'Uma.Patel@example.com', 'name': 'Uma Patel', "
                           "'id': 7, 'is_archived': False}\",2024-01-09 16:20:05.000000+00:00,Engineering\n"
                           "c02ab2cdmd6r,Vic's Mac,\"{\"\"email\"\": \"\"vic@example.com\"\", "
                           "\"\"name\"\": \"\"Vic Hale\"\", \"\"is_archived\"\": false}\","
                           "2024-01-10 09:00:00.000000+00:00,Sales\n")
    result = roster.parse(path, "kandji")
    assert [(e.serial, e.user_name, e.email, e.issue_date) for e in result.entries] == [
        ("C02AB1CDMD6R", "Uma Patel", "uma.patel@example.com", "2024-01-09"),
        ("C02AB2CDMD6R", "Vic Hale", "vic@example.com", "2024-01-10"),  # the same object as JSON
    ]
    assert "email" in result.provided


def test_plain_format_reads_quotes_us_dates_and_country_codes():
    entries = {e.serial: e for e in roster.parse(PLAIN, "csv").entries}
    assert entries["F7KQ2LMN9X"].city == "Washington, D.C."
    assert entries["M5NB1XC4DF"].department == 'Sales "Enterprise"'
    assert entries["C02YD0DJT90K"].issue_date == "2024-02-05"  # 2/5/2024, month first
    assert {entries[s].country for s in ("F7KQ2LMN9X", "JX4RT8PL2W", "K9MW3ZQ7TR")} == {"US", "GB", "JP"}
    assert entries["P3WS7UV9JK"].postal_code == "07102"


# -- rows that are skipped ----------------------------------------------------------------

@pytest.mark.parametrize("path, fmt, skipped", [
    (JAMF, "jamf", ["line 7: no serial number"]),
    (INTUNE, "intune", ["line 7: placeholder serial 'To be filled by O.E.M.' is not a hardware serial",
                        "line 8: no serial number"]),
    # Victor's note spans lines 3-4, so Xavier's row starts on line 6
    (KANDJI, "kandji", ["line 6: no serial number"]),
    (PLAIN, "csv", ["line 5: no serial number"]),
])
def test_rows_without_a_serial_are_reported_with_their_line(path, fmt, skipped):
    assert [str(problem) for problem in roster.parse(path, fmt).skipped] == skipped


def test_impossible_serials_are_reported_as_such(tmp_path):
    path = write(tmp_path, "serial,user\nC02 ZK1 ABM,Ann\n000-000,Bo\n")
    assert [str(p) for p in roster.parse(path, "csv").skipped] == [
        "line 2: serial 'C02 ZK1 ABM' has characters a hardware serial cannot have",
        "line 3: placeholder serial '000-000' is not a hardware serial",
    ]


def test_blank_rows_are_skipped_silently_and_repeated_serials_keep_the_last(tmp_path):
    path = write(tmp_path, "serial,user,department\nAAA111,Ann,Sales\n,,\n\nBBB222,Bo,Legal\naaa111,Ann,Support\n")
    result = roster.parse(path, "csv")
    assert [(e.serial, e.department, e.line) for e in result.entries] == [
        ("BBB222", "Legal", 5), ("AAA111", "Support", 6)]
    assert [str(p) for p in result.skipped] == ["line 2: serial AAA111 appears again on line 6; the later row is used"]


@pytest.mark.parametrize("value, expected", [
    ("  c02zk1abmd6r ", "C02ZK1ABMD6R"), ("7XK2M93", "7XK2M93"), ("", None), ("0", None), ("000000", None),
    ("To be filled by O.E.M.", None), ("Default string", None), ("System Serial Number", None),
    ("N/A", None), ("has space", None), ("-", None),
])
def test_serial_normalisation(value, expected):
    assert roster.normalise_serial(value) == expected


@pytest.mark.parametrize("region, postal_code, country, expected", [
    ("Oregon", "97401-2345", "US", ("OR", "97401")), (" or ", "974012345", "US", ("OR", "97401")),
    ("New  York", "2134-0001", "US", ("NY", "02134")), ("Washington, D.C.", "20001", "US", ("DC", "20001")),
    ("Québec", "h2x1y4", "CA", ("QC", "H2X 1Y4")), ("ON", "K1A  0B1", "CA", ("ON", "K1A 0B1")),
    ("Bavaria", "80331", "DE", ("Bavaria", "80331")),
    ("Greater  London", "sw1a 1aa", "GB", ("Greater London", "SW1A 1AA")),
])
def test_regions_and_postal_codes_are_imported_in_one_spelling(tmp_path, region, postal_code, country, expected):
    path = write(tmp_path, f'serial,region,postal_code,country\nK9MW3ZQ7TR,"{region}","{postal_code}",{country}\n')
    entry = roster.parse(path, "csv").entries[0]
    assert (entry.region, entry.postal_code) == expected


def test_household_addresses_match_however_an_older_import_spelled_them():
    assert roster.same_household(roster.ship_to("US", "Oregon", " Eugene", "97401-2345"),
                                 roster.ship_to("US", "OR", "eugene", "97401"))
    assert not roster.same_household(roster.ship_to("US", "OR", "Eugene", "97402"),
                                     roster.ship_to("US", "OR", "Eugene", "97401"))
    assert roster.ship_to(None, None, " ", None) is None


# -- columns ------------------------------------------------------------------------------

def test_unknown_columns_are_ignored_and_header_case_and_spacing_do_not_matter(tmp_path):
    path = write(tmp_path, " SERIAL ,User Name,E-mail,Favourite Colour,POSTAL CODE,Country\n"
                           "k9mw3zq7tr,Hana Suzuki,Hana.Suzuki@Example.com,teal,100-0005,Japan\n")
    result = roster.parse(path, "csv")
    assert result.entries == [roster.RosterEntry(line=2, serial="K9MW3ZQ7TR", user_name="Hana Suzuki",
                                                 email="hana.suzuki@example.com", postal_code="100-0005",
                                                 country="JP")]
    assert result.ignored_columns == ["Favourite Colour"]
    assert result.provided == ("serial", "user_name", "email", "country", "postal_code")


def test_the_plain_example_lists_its_extra_columns_as_ignored():
    assert roster.parse(PLAIN, "csv").ignored_columns == ["laptop_model", "notes"]


def test_a_misspelt_user_column_is_refused_naming_it_and_what_was_meant(tmp_path, db):
    path = write(tmp_path, "serial,usr,email\nAAA111,Ann Lee,ann@example.com\n")
    with pytest.raises(roster.RosterError) as error:
        roster.parse(path, "csv")
    assert str(error.value) == (f'{path}: column "usr" (did you mean "user"?) is not one format csv reads; '
                                "rename it (or remove it) and import again")


@pytest.mark.parametrize("header, column, meant", [
    ("Serial Number,Full Name,Ship To Contry", "Ship To Contry", "Ship To Country"),
    ("Serial Number,Usename", "Usename", "Username"),
])
def test_a_near_miss_in_an_mdm_export_is_refused_too(tmp_path, header, column, meant):
    with pytest.raises(roster.RosterError, match=f'"{column}" \\(did you mean "{meant}"\\?\\)'):
        roster.parse(write(tmp_path, header + "\nC02ZK1ABMD6R,Amara Okafor,Nigeria\n"), "jamf")


def test_the_plain_format_warns_about_columns_it_does_not_read():
    [warning] = [str(w) for w in roster.parse(PLAIN, "csv").warnings if w.line == 1]
    assert warning.startswith('line 1: column(s) "laptop_model", "notes" not read; the plain format reads serial, user')


def test_a_plain_roster_without_a_user_column_says_so_and_keeps_names_already_imported(tmp_path, db):
    roster.import_roster(db, roster.parse(PLAIN, "csv"))
    result = roster.parse(write(tmp_path, "serial,city\nC02YD0DJT90K,Cambridge\n"), "csv")
    assert [str(w) for w in result.warnings] == [
        "line 1: no user or email column: this file does not say who has each laptop (names already imported are kept)"]
    roster.import_roster(db, result)
    assert rows(db)["C02YD0DJT90K"]["user_name"] == "Dana Whitfield"


def test_mdm_exports_are_not_warned_about_the_columns_farmwatch_does_not_use():
    for path, fmt in ((JAMF, "jamf"), (INTUNE, "intune"), (KANDJI, "kandji")):
        result = roster.parse(path, fmt)
        assert result.ignored_columns and not [w for w in result.warnings if w.line == 1]


def test_unreadable_values_are_left_empty_and_reported(tmp_path):
    path = write(tmp_path, "serial,email,country,issue_date\nAAA111,not-an-address,Atlantis,someday\n")
    result = roster.parse(path, "csv")
    [entry] = result.entries
    assert (entry.email, entry.country, entry.issue_date) == (None, None, None)
    assert [str(p) for p in result.warnings] == [
        "line 2: e-mail address 'not-an-address' not recognised; left empty",
        "line 2: country 'Atlantis' not recognised; left empty",
        "line 2: date 'someday' not recognised; left empty",
    ]


# -- encodings and separators ---------------------------------------------------------------

def test_excel_unicode_text_utf16_tab_separated(tmp_path):
    text = PLAIN.read_text(encoding="utf-8").replace(",", "\t")
    path = tmp_path / "roster.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"))
    entries = {e.serial: e for e in roster.parse(path, "csv").entries}
    assert entries["M5NB1XC4DF"].city == "São Paulo" and len(entries) == 8


def test_windows_1252_semicolon_separated(tmp_path):
    path = write(tmp_path, "serial;user;city;country\r\nAAA111;Tomás Ruiz;Málaga;España\r\n", encoding="cp1252")
    [entry] = roster.parse(path, "csv").entries
    assert (entry.user_name, entry.city, entry.country) == ("Tomás Ruiz", "Málaga", "ES")


def test_reads_from_open_files_binary_and_text():
    with JAMF.open("rb") as binary:
        assert len(roster.parse(binary, "jamf").entries) == 11
    text = io.StringIO("\ufeffserial,user\nAAA111,Ann\n")
    assert [e.serial for e in roster.parse(text, "csv").entries] == ["AAA111"]


# -- broken files and the wrong format --------------------------------------------------------

def test_an_intune_export_read_as_jamf_names_the_missing_user_columns_and_the_likely_format():
    with pytest.raises(roster.RosterError) as error:
        roster.parse(INTUNE, "jamf")
    message = str(error.value)
    assert message.startswith(f"{INTUNE}: no user column")
    assert '"Full Name", "Username", "Email Address"' in message
    assert 'look like format "intune"' in message


def test_the_plain_file_read_as_jamf_has_no_serial_number_column():
    with pytest.raises(roster.RosterError, match=r'plain\.csv: no serial number column; expected one of '
                                                 r'"Serial Number" \(the columns look like format "csv"\)'):
        roster.parse(PLAIN, "jamf")


def test_a_jamf_export_read_as_plain_csv_points_to_jamf():
    with pytest.raises(roster.RosterError, match=r'no serial number column; expected one of "serial" '
                                                 r'\(the columns look like format "jamf", "kandji"\)'):
        roster.parse(JAMF, "csv")


@pytest.mark.parametrize("content, complaint", [
    (b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "spreadsheet workbook, not CSV"),
    (b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, "binary data, not a CSV text file"),
    (b"", "the file is empty"),
    (b"\r\n\r\n", "the file is empty"),
    (b'{"devices": [{"serial": "AAA111"}]}\n', "no serial number column"),
    (b'serial,user\nAAA111,Ann\n"BBB222,Bo\nCCC333,Cy\n', "line 3: not valid CSV (unexpected end of data)"),
    (b'serial,user\n"AAA111"x,Ann\n', "line 2: not valid CSV"),
])
def test_files_that_are_not_a_roster_give_a_clear_error_naming_the_file(tmp_path, content, complaint):
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(roster.RosterError) as error:
        roster.parse(path, "csv")
    assert str(error.value).startswith(f"{path}: ") and complaint in str(error.value)


def test_a_missing_file_and_an_unknown_format(tmp_path):
    with pytest.raises(roster.RosterError, match="nope.csv: cannot read the file"):
        roster.parse(tmp_path / "nope.csv", "csv")
    with pytest.raises(roster.RosterError, match="unknown roster format 'airwatch'"):
        roster.parse(PLAIN, "airwatch")


# -- countries and dates ----------------------------------------------------------------------

@pytest.mark.parametrize("value, code", [
    ("United States", "US"), ("USA", "US"), ("US", "US"), ("u.s.a.", "US"), ("United States of America", "US"),
    ("Korea, Republic of", "KR"), ("Republic of Korea", "KR"), ("South Korea", "KR"),
    ("Korea, Democratic People's Republic of", "KP"), ("Iran, Islamic Republic of", "IR"),
    ("Virgin Islands, British", "VG"), ("Virgin Islands, U.S.", "VI"),
    ("Congo, The Democratic Republic of the", "CD"), ("Congo", "CG"), ("Taiwan, Province of China", "TW"),
    ("Côte d’Ivoire", "CI"), ("Cote d'Ivoire", "CI"), ("St. Kitts & Nevis", "KN"), ("UK", "GB"), ("gb", "GB"),
    ("Türkiye", "TR"), ("Turkey", "TR"), ("Viet Nam", "VN"), ("the Netherlands", "NL"), ("Czech Republic", "CZ"),
    ("Åland Islands", "AX"), ("Namibia", "NA"),
    ("Korea", None), ("Atlantis", None), ("XX", None), ("", None),
])
def test_country_normalisation(value, code):
    assert roster.normalise_country(value) == code


def test_korea_republic_of_in_the_intune_example_becomes_kr():
    entries = {e.serial: e for e in roster.parse(INTUNE, "intune").entries}
    assert entries["028193754953"].country == "KR"


@pytest.mark.parametrize("value, day_first, iso", [
    ("2024-02-12 17:41:07.3590000", False, "2024-02-12"), ("2024-06-03T18:02:44Z", False, "2024-06-03"),
    ("2024-01-09 16:20:05.000000+00:00", False, "2024-01-09"), ("2024/3/7", False, "2024-03-07"),
    ("2/5/2024", False, "2024-02-05"), ("2/5/2024 3:04 PM", False, "2024-02-05"), ("2/5/24", False, "2024-02-05"),
    ("2/5/2024", True, "2024-05-02"), ("31.12.2024", True, "2024-12-31"),
    ("Mar 4, 2024", False, "2024-03-04"), ("March 4th, 2024", False, "2024-03-04"),
    ("4 March 2024", False, "2024-03-04"), ("Sept 9, 2024", False, "2024-09-09"),
    ("2024-02-30", False, None), ("13/13/2024", False, None), ("someday", False, None), ("Smarch 4, 2024", False, None),
])
def test_date_normalisation(value, day_first, iso):
    assert roster.normalise_date(value, day_first=day_first) == iso


def test_a_file_whose_dates_only_read_day_first_is_read_day_first(tmp_path):
    path = write(tmp_path, "serial,issue_date\nAAA111,05/03/2024\nBBB222,25/03/2024\n")
    assert [e.issue_date for e in roster.parse(path, "csv").entries] == ["2024-03-05", "2024-03-25"]


# -- import ---------------------------------------------------------------------------------

def test_create_schema_makes_the_table_and_person_indexes(db):
    roster_storage.create_schema(db)
    roster_storage.create_schema(db)  # idempotent
    assert db["roster"].pks == ["serial"]
    indexed = {tuple(index.columns) for index in db["roster"].indexes}
    assert {("email",), ("user_name",), ("country",)} <= indexed


def test_import_inserts_every_parsed_row(db):
    summary = roster.import_roster(db, roster.parse(JAMF, "jamf"), now="2024-06-04T10:00:00.000Z")
    assert (summary.inserted, summary.updated, summary.unchanged) == (11, 0, 0)
    assert [str(p) for p in summary.skipped] == ["line 7: no serial number"]
    dana = rows(db)["C02YD0DJT90K"]
    assert dana == {"serial": "C02YD0DJT90K", "user_name": "Dana Whitfield", "email": "dana.whitfield@example.com",
                    "department": "Sales", "city": "Boston", "region": "MA", "country": "US", "postal_code": "02134",
                    "issue_date": "2024-02-05", "source_format": "jamf", "source_file": str(JAMF),
                    "imported_at": "2024-06-04T10:00:00.000Z", "updated_at": "2024-06-04T10:00:00.000Z"}


def test_reimport_updates_a_changed_department_without_duplicating(db):
    roster.import_roster(db, roster.parse(JAMF, "jamf"), now="2024-06-04T10:00:00.000Z")
    summary = roster.import_roster(db, roster.parse(PLAIN, "csv"), now="2024-06-05T10:00:00.000Z")
    assert (summary.inserted, summary.updated, summary.unchanged) == (7, 1, 0)
    assert summary.changes == [roster.Change("C02YD0DJT90K", ("department",))]
    dana = rows(db)["C02YD0DJT90K"]
    assert dana["department"] == "Customer Success"
    assert (dana["source_format"], dana["imported_at"], dana["updated_at"]) == (
        "csv", "2024-06-04T10:00:00.000Z", "2024-06-05T10:00:00.000Z")
    assert db["roster"].count == 18
    assert db.execute("SELECT count(*) FROM roster WHERE serial = 'C02YD0DJT90K'").fetchone()[0] == 1


def test_importing_the_same_file_again_changes_nothing(db):
    roster.import_roster(db, roster.parse(KANDJI, "kandji"), now="2024-06-04T10:00:00.000Z")
    again = roster.import_roster(db, roster.parse(KANDJI, "kandji"), now="2024-06-09T10:00:00.000Z")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 9)
    assert {row["updated_at"] for row in rows(db).values()} == {"2024-06-04T10:00:00.000Z"}


def test_a_column_the_file_lacks_keeps_the_stored_value(db):
    roster.import_roster(db, roster.parse(JAMF, "jamf"))
    summary = roster.import_roster(db, roster.parse(INTUNE, "intune"))
    chen = rows(db)["C02FL5YXQ6LC"]
    assert chen["department"] == "Research, Analytics"  # Intune has no department column
    assert (chen["issue_date"], chen["source_format"]) == ("2024-05-20", "intune")
    assert summary.changes == [roster.Change("C02FL5YXQ6LC", ("issue_date",))]
    assert db["roster"].count == 11 + 7


def test_an_empty_cell_in_a_present_column_clears_the_value(db, tmp_path):
    roster.import_roster(db, roster.parse(PLAIN, "csv"))
    cleared = write(tmp_path, "serial,user,department\nc02yd0djt90k,Dana Whitfield,\n")
    summary = roster.import_roster(db, roster.parse(cleared, "csv"))
    assert summary.changes == [roster.Change("C02YD0DJT90K", ("department",))]
    dana = rows(db)["C02YD0DJT90K"]
    assert dana["department"] is None and dana["city"] == "Boston"


def test_import_into_the_collector_store_and_a_plain_connection(tmp_path):
    store = Store(tmp_path / "collector.db")
    try:
        summary = roster.import_roster(store, roster.parse(KANDJI, "kandji"))
        assert summary.inserted == 9 and store.count("roster") == 9
    finally:
        store.close()
    conn = sqlite3.connect(tmp_path / "collector.db")
    try:
        assert roster.import_roster(conn, roster.parse(KANDJI, "kandji")).unchanged == 9
    finally:
        conn.close()
    with pytest.raises(TypeError, match="not str"):
        roster.import_roster("collector.db", roster.parse(KANDJI, "kandji"))


def test_find_looks_a_reporting_device_up_by_its_serial(db):
    assert roster.find(db, "C02ZK1ABMD6R") is None  # no roster imported yet
    roster.import_roster(db, roster.parse(JAMF, "jamf"))
    amara = roster.find(db, " c02zk1abmd6r ")
    assert (amara["serial"], amara["email"], amara["country"]) == ("C02ZK1ABMD6R", "amara.okafor@example.com", "US")
    assert roster.find(db, "NOT1ONROSTER") is None
    assert roster.find(db, "To be filled by O.E.M.") is None


def test_an_import_inside_the_callers_transaction_is_rolled_back_with_it(db):
    roster_storage.create_schema(db)
    db.conn.execute("BEGIN")
    roster.import_roster(db, roster.parse(KANDJI, "kandji"))
    db.conn.execute("ROLLBACK")
    assert db["roster"].count == 0


def test_summary_describes_totals_skips_and_warnings(db, tmp_path):
    path = write(tmp_path, "serial,user,country\nAAA111,Ann,Atlantis\n,Bo,US\n")
    summary = roster.import_roster(db, roster.parse(path, "csv"))
    assert summary.describe() == [
        f"{path}: 1 new, 0 updated, 0 unchanged, 1 skipped",
        "  skipped line 3: no serial number",
        "  warning line 2: country 'Atlantis' not recognised; left empty",
    ]
