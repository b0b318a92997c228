"""``aftersales ops calendar validate FILE``: what ops run before shipping a year's calendar file."""

import json
from pathlib import Path

from typer.testing import CliRunner

from infra.cli.main import app

NOTICE_2026 = Path(__file__).parent.parent / "fixtures" / "calendars" / "2026.yaml"
runner = CliRunner()


def test_a_valid_file_lists_its_days() -> None:
    result = runner.invoke(app, ["ops", "calendar", "validate", str(NOTICE_2026), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["valid"], report["year"]) == (True, 2026)
    assert len(report["days_off"]) == 33 and "2026-10-10" in report["working_days"]
    assert report["library_has_year"] is True  # chinesecalendar already covers 2026: a worked example


def test_the_table_says_when_the_library_shadows_the_file() -> None:
    result = runner.invoke(app, ["ops", "calendar", "validate", str(NOTICE_2026)])
    assert result.exit_code == 0
    assert "valid" in result.stdout and "its data is used, not this file" in result.stdout


def test_an_invalid_file_exits_1_with_every_problem(tmp_path: Path) -> None:
    broken = tmp_path / "2027.yaml"
    broken.write_text(
        "year: 2027\nnotice: x\npublished: 2026-11-01\n"
        "holidays: [{name: a, first: 2027-02-05, last: 2027-02-01}]\nworking_days: [2027-02-03]\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["ops", "calendar", "validate", str(broken), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)["problems"]
    assert any("before first day" in p for p in problems)
    assert any("2027-02-03 is a Wednesday" in p for p in problems)


def test_a_file_for_another_year_than_its_name_is_refused(tmp_path: Path) -> None:
    misnamed = tmp_path / "2027.yaml"
    misnamed.write_text(NOTICE_2026.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(app, ["ops", "calendar", "validate", str(misnamed), "--json"])
    assert result.exit_code == 1
    assert "year: the file says 2026 but is named for 2027" in json.loads(result.stdout)["problems"]


def test_a_missing_file_exits_2(tmp_path: Path) -> None:
    assert runner.invoke(app, ["ops", "calendar", "validate", str(tmp_path / "2030.yaml")]).exit_code == 2
