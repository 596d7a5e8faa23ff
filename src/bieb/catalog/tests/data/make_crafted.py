"""Rebuild the crafted files in this directory: ``python make_crafted.py`` (needs pymarc).

bad-records.mrc, seven records in a row (1-based position, 001, what is wrong):
  1 good-1         nothing
  2 bad-leader     record length "00x19" in the leader is not a number
  3 bad-indicator  the 650 field has no indicators (a newline follows the record)
  4 bad-utf8       the title holds bytes FF FE FD, not UTF-8, in a UTF-8 record
  5 no-title       no 245 field
  6 good-2         nothing
  7 truncated      the file ends 40 bytes before the record does
marc8-cafe.mrc: one MARC-8 record (leader/09 blank) with combining accents: "Café de Flore",
"Müller, Jürgen", subject "Cafés -- Paris".
"""

from pathlib import Path

from pymarc import Field, Indicators, Record, Subfield

HERE = Path(__file__).parent


def _record(control: str, *, title: bool = True, extra: tuple[Field, ...] = ()) -> bytes:
    record = Record(force_utf8=True)
    record.leader = "00000nam a2200000 a 4500"
    record.add_field(Field(tag="001", data=control))
    record.add_field(Field(tag="008", data="200101s2020    ne            000 1 dut d"))
    record.add_field(
        Field(
            tag="020", indicators=Indicators(" ", " "), subfields=[Subfield("a", "9789021400815")]
        )
    )
    record.add_field(
        Field(
            tag="100",
            indicators=Indicators("1", " "),
            subfields=[Subfield("a", "Jansen, Anna,"), Subfield("e", "author.")],
        )
    )
    if title:
        record.add_field(
            Field(
                tag="245",
                indicators=Indicators("1", "0"),
                subfields=[Subfield("a", f"Boek {control} /"), Subfield("c", "Anna Jansen.")],
            )
        )
    for field in extra:
        record.add_field(field)
    return record.as_marc()


def _without_indicators(raw: bytes, tag: bytes, data: bytes) -> bytes:
    """Drop the two indicator bytes before ``data`` and fix the directory and leader."""
    at = raw.index(data) - 2
    out = bytearray(raw[:at] + raw[at + 2 :])
    entry = out.index(tag, 24)
    out[entry + 3 : entry + 7] = f"{int(out[entry + 3 : entry + 7]) - 2:04d}".encode()
    out[0:5] = f"{len(out):05d}".encode()
    return bytes(out)


def bad_records() -> bytes:
    bad_leader = bytearray(_record("bad-leader"))
    bad_leader[2:3] = b"x"
    subject = Field(tag="650", indicators=Indicators(" ", "0"), subfields=[Subfield("a", "Oorlog")])
    bad_indicator = _without_indicators(
        _record("bad-indicator", extra=(subject,)), b"650", b"\x1faOorlog"
    )
    undecodable = _record("bad-utf8").replace(b"Boek bad-utf8", b"Boek \xff\xfe\xfd-utf8")
    return b"".join(
        [
            _record("good-1"),
            bytes(bad_leader),
            bad_indicator + b"\n",
            undecodable,
            _record("no-title", title=False),
            _record("good-2"),
            _record("truncated")[:-40],
        ]
    )


def marc8_cafe() -> bytes:
    # pymarc writes str values as Latin-1 bytes when the record is not Unicode, so each
    # Latin-1 character here stands for one MARC-8 byte: E2 acute, E8 umlaut, both placed
    # before the letter they go on.
    record = Record(to_unicode=False)
    record.leader = "00000nam  2200000 a 4500"
    record.add_field(Field(tag="001", data="marc8-cafe"))
    record.add_field(Field(tag="008", data="200101s1999    fr            000 1 fre d"))
    record.add_field(
        Field(
            tag="100",
            indicators=Indicators("1", " "),
            subfields=[Subfield("a", "M\u00e8uller, J\u00e8urgen.")],
        )
    )
    record.add_field(
        Field(
            tag="245",
            indicators=Indicators("1", "0"),
            subfields=[Subfield("a", "Caf\u00e2e de Flore :"), Subfield("b", "r\u00e2ecit.")],
        )
    )
    record.add_field(
        Field(
            tag="650",
            indicators=Indicators(" ", "0"),
            subfields=[Subfield("a", "Caf\u00e2es"), Subfield("z", "Paris.")],
        )
    )
    return record.as_marc()


if __name__ == "__main__":
    (HERE / "bad-records.mrc").write_bytes(bad_records())
    (HERE / "marc8-cafe.mrc").write_bytes(marc8_cafe())
