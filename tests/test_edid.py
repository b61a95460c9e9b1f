"""EDID decoding on real-world dumps (linuxhw/EDID), a KVM identity and malformed blobs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from farmwatch.common.edid import EDID_HEADER, EdidError, EdidInfo, parse_edid
from sysroot_builder import edid_fixture


def test_laptop_panel_without_name_takes_size_from_the_detailed_timing():
    assert parse_edid(edid_fixture("auo_b140han04_laptop")) == EdidInfo(
        manufacturer_id="AUO", product_code=0x403D, serial_number=0, serial_string="", monitor_name="",
        width_mm=309, height_mm=173, manufacture_year=2016, checksum_ok=True, extension_count=0,
    )


def test_external_monitor_with_serial_descriptor_and_cta_extension():
    assert parse_edid(edid_fixture("dell_d2721h_external")) == EdidInfo(
        manufacturer_id="DEL", product_code=0x2013, serial_number=0x30445A45, serial_string="FJ3HQ23",
        monitor_name="DELL D2721H", width_mm=598, height_mm=336, manufacture_year=2020, checksum_ok=True,
        extension_count=1,
    )


def test_monitor_whose_name_descriptor_comes_after_the_range_limits():
    info = parse_edid(edid_fixture("lg_27gl850_external"))
    assert (info.manufacturer_id, info.product_code, info.monitor_name, info.serial_string) == (
        "GSM", 0x5B7F, "27GL850", "908NTQDCE428")
    assert (info.width_mm, info.height_mm, info.manufacture_year) == (597, 336, 2019)


def test_capture_edid_with_variable_size_still_reports_the_timing_size():
    # TC358743 reference EDID: bytes 21-22 are 0 ("variable"), the DTD says 708 x 398 mm.
    info = parse_edid(edid_fixture("toshiba_h2c_capture"))
    assert (info.manufacturer_id, info.product_code, info.serial_number) == ("TSB", 0x8888, 0x88888800)
    assert (info.monitor_name, info.manufacture_year) == ("Toshiba-H2C", 2011)
    assert (info.width_mm, info.height_mm) == (708, 398)


def test_pikvm_identity():
    info = parse_edid(edid_fixture("pikvm_v4plus_kvm"))
    assert (info.manufacturer_id, info.product_code, info.serial_number) == ("LNX", 0x7773, 0x01010101)
    assert (info.monitor_name, info.serial_string, info.manufacture_year) == ("PiKVM V4 Plus", "CAFEBABE", 2016)
    assert (info.width_mm, info.height_mm) == (0, 0)  # no size anywhere: a capture input


def test_size_falls_back_to_centimetres_of_the_base_block():
    blob = bytearray(edid_fixture("dell_d2721h_external")[:128])
    blob[54:56] = b"\x00\x00"  # the first descriptor is no longer a timing
    assert (parse_edid(bytes(blob)).width_mm, parse_edid(bytes(blob)).height_mm) == (600, 340)


def test_a_timing_size_that_contradicts_the_base_block_is_not_trusted():
    blob = bytearray(edid_fixture("dell_d2721h_external")[:128])
    blob[66:69] = bytes([16, 9, 0])  # the timing descriptor holds an aspect ratio, not millimetres
    info = parse_edid(bytes(blob))
    assert (info.width_mm, info.height_mm) == (600, 340)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [("malformed_truncated", "too short: 100 bytes"), ("malformed_bad_header", "header is 00ffffffff00ff00")],
)
def test_bytes_that_are_not_an_edid_are_refused(fixture, message):
    with pytest.raises(EdidError, match=message):
        parse_edid(edid_fixture(fixture))


def test_bad_checksum_is_reported_not_refused():
    info = parse_edid(edid_fixture("malformed_bad_checksum"))
    assert info.checksum_ok is False
    assert (info.manufacturer_id, info.monitor_name, info.serial_string) == ("DEL", "DELL D2721H", "FJ3HQ23")


def test_control_and_high_bytes_in_descriptor_text_are_dropped():
    info = parse_edid(edid_fixture("malformed_garbage_descriptor"))
    assert info.monitor_name == "DELL"
    assert info.checksum_ok is True and info.extension_count == 0


def test_nul_padded_text_ends_at_the_first_nul():
    blob = bytearray(edid_fixture("dell_d2721h_external")[:128])
    blob[95:108] = b"ACME\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    assert parse_edid(bytes(blob)).monitor_name == "ACME"


def test_an_impossible_pnp_id_is_left_empty():
    blob = bytearray(edid_fixture("dell_d2721h_external")[:128])
    blob[8:10] = b"\x00\x00"
    assert parse_edid(bytes(blob)).manufacturer_id == ""


@given(st.binary(min_size=120, max_size=256))
def test_any_bytes_after_a_header_decode_or_refuse_cleanly(tail):
    try:
        info = parse_edid(EDID_HEADER + tail)
    except EdidError:
        assert len(EDID_HEADER + tail) < 128
        return
    assert len(info.manufacturer_id) in (0, 3)
    assert info.monitor_name.isprintable() and info.serial_string.isprintable()
