"""How both CLIs (`farmwatch-collector triage`, `farmwatch-analyst triage`) take a triage change, so the two
accept the same arguments (both show the answer through `views.TRIAGE`)."""
from __future__ import annotations


def add_arguments(parser, states) -> None:
    parser.add_argument("device_id", help="the device id (hardware serial) as `devices` shows it")
    parser.add_argument("--state", choices=states, help="move the device to this state")
    parser.add_argument("--assignee", metavar="WHO", help='who works on it ("" to clear)')
    parser.add_argument("--note", metavar="TEXT", help="a note kept in the history (what was found, decided)")


def changes_given(args) -> dict:
    """The change the arguments ask for ({} to only show)."""
    given = {"state": args.state, "assignee": args.assignee, "note": args.note}
    return {name: value for name, value in given.items() if value is not None}


def describe(device_id: str, changes: dict) -> str:
    """The audit record's detail: the device, then what was asked to change."""
    return " ".join([device_id, *(f"{name}={value!r}" for name, value in changes.items())])

