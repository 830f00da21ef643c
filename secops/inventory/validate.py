"""Validate raw entries: fields (pydantic), passwords, duplicates, references and component cycles.

Known agencies and systems are those of the same import plus those already in the database. Every problem
is collected with its location; if there is any, ``InventoryError`` carries them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import Session, select

from secops.i18n import _
from secops.inventory.parse import password_message
from secops.inventory.problems import InventoryError, Problem, RawEntry
from secops.inventory.queries import component_map
from secops.inventory.schema import KEYS, KINDS, MODELS, PASSWORD_KEYS, SshIn
from secops.models import Agency, System

PATTERN_HINTS = {
    r"^[a-z0-9-]+$": "use only lower-case letters a-z, digits and '-'",
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$": "use letters, digits, '.', '_' and '-', starting with a letter or digit",
    r"^[a-z0-9_]+$": "use only lower-case letters a-z, digits and '_'",
}


@dataclass
class Valid:
    """A validated entry: the model, which fields the file gave (upsert touches only those), its origin."""

    kind: str
    model: Any
    given: frozenset[str]
    raw: RawEntry

    @property
    def key(self) -> str:
        return str(getattr(self.model, KEYS[self.kind]))


Plan = dict[str, list[Valid]]


def _password_paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).lower() in PASSWORD_KEYS:
                yield (*path, key)
            else:
                yield from _password_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _password_paths(value, (*path, index))


def _without_passwords(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_passwords(v) for k, v in node.items() if str(k).lower() not in PASSWORD_KEYS}
    if isinstance(node, list):
        return [_without_passwords(v) for v in node]
    return node


def _field(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text


def _message(kind: str, err: ErrorDetails) -> str:
    loc = tuple(p for p in err["loc"] if p != "[key]")
    field, value, ctx = _field(loc), err.get("input"), err.get("ctx") or {}
    kind_of = err["type"]
    if kind_of == "extra_forbidden":
        model: type[BaseModel] = SshIn if loc[:1] == ("ssh",) and len(loc) > 1 else MODELS[kind]
        return _("unknown field {name!r} (allowed: {allowed})").format(
            name=str(loc[-1]), allowed=", ".join(model.model_fields)
        )
    if kind_of == "missing":
        return _("missing required field {name!r}").format(name=field)
    if kind_of in ("literal_error", "enum"):
        return _("{field}: {value!r} is not allowed (use {expected})").format(
            field=field, value=value, expected=str(ctx.get("expected", "")).replace("' or '", "', '")
        )
    if kind_of == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), str(ctx.get("pattern")))
        return _("{field}: {value!r} is not valid ({hint})").format(field=field, value=value, hint=_(hint))
    if kind_of == "value_error":
        return f"{field}: {ctx.get('error', err['msg'])}"
    shown = f" (got {value!r})" if isinstance(value, str | int | float | bool) or value is None else ""
    return f"{field}: {err['msg']}{shown}"


def _check_fields(entries: list[RawEntry], problems: list[Problem]) -> list[Valid]:
    valid: list[Valid] = []
    for raw in entries:
        bad = list(_password_paths(raw.data))
        for path in bad:
            problems.append(Problem(raw.location(path), password_message(str(path[-1])), raw.order))
        try:
            model = MODELS[raw.kind].model_validate(_without_passwords(raw.data))
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if p != "[key]")
                problems.append(Problem(raw.location(loc), _message(raw.kind, err), raw.order))
            continue
        if not bad:
            valid.append(Valid(raw.kind, model, frozenset(model.model_fields_set), raw))
    return valid


def _check_duplicates(entries: list[RawEntry], problems: list[Problem]) -> None:
    first: dict[tuple[str, str], RawEntry] = {}
    for raw in entries:
        key = KEYS[raw.kind]
        value = raw.data.get(key)
        if not isinstance(value, str):
            continue
        if (raw.kind, value) in first:
            earlier = first[(raw.kind, value)].location((key,))
            message = _("duplicate {key} {value!r} in {kind} (first at {where})")
            problems.append(
                Problem(
                    raw.location((key,)),
                    message.format(key=key, value=value, kind=raw.kind, where=earlier),
                    raw.order,
                )
            )
        else:
            first[(raw.kind, value)] = raw


def _known(entries: list[RawEntry], kind: str, in_db: set[str]) -> set[str]:
    return in_db | {str(r.data[KEYS[kind]]) for r in entries if r.kind == kind and KEYS[kind] in r.data}


REFERENCES: dict[str, tuple[tuple[str, str], ...]] = {
    "agencies": (("parent", "agencies"),),
    "systems": (("owner", "agencies"), ("operator", "agencies"), ("components", "systems")),
    "hosts": (("system", "systems"),),
    "scopes": (("owner", "agencies"),),
}
WHAT = {"agencies": "agency", "systems": "system"}


def _check_references(session: Session, entries: list[RawEntry], problems: list[Problem]) -> None:
    """Every reference must name an agency/system of this import or of the database (even in an entry
    with other problems, so one run reports them all)."""
    known = {
        "agencies": _known(entries, "agencies", set(session.exec(select(Agency.code)).all())),
        "systems": _known(entries, "systems", set(session.exec(select(System.code)).all())),
    }
    message = _("{field}: unknown {what} {value!r} (not in this import nor in the database)")
    for raw in entries:
        for field, target in REFERENCES[raw.kind]:
            value = raw.data.get(field)
            values = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
            for index, item in values:
                if isinstance(item, str) and item.strip() and item.strip() not in known[target]:
                    path = (field,) if index is None else (field, index)
                    text = message.format(field=field, what=_(WHAT[target]), value=item.strip())
                    problems.append(Problem(raw.location(path), text, raw.order))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every distinct cycle reachable in ``graph`` (node → successors), each as a closed path."""
    found: list[list[str]] = []
    seen_sets: set[frozenset[str]] = set()
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path: list[str] = [start]
        stack: list[Iterator[str]] = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                if frozenset(cycle) not in seen_sets:
                    seen_sets.add(frozenset(cycle))
                    found.append(cycle)
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return found


def _check_cycles(session: Session, plan: Plan, problems: list[Problem]) -> None:
    graph = {code: set(children) for code, children in component_map(session).items()}
    imported = {v.key: v for v in plan["systems"] if "components" in v.given}
    for code, v in imported.items():
        graph[code] = set(v.model.components)
    for cycle in _cycles(graph):
        owner = next((imported[c] for c in cycle if c in imported), None)
        if owner is None:
            continue
        message = _("components form a cycle: {cycle}").format(cycle=" → ".join(cycle))
        problems.append(Problem(owner.raw.location(("components",)), message, owner.raw.order))

    parents = {a.code: p for a, p in _agency_parents(session)}
    given = {v.key: v for v in plan["agencies"] if "parent" in v.given}
    for code, v in given.items():
        parents[code] = v.model.parent
    agency_graph = {code: {p} for code, p in parents.items() if p is not None}
    for cycle in _cycles(agency_graph):
        owner = next((given[c] for c in cycle if c in given), None)
        if owner is not None:
            message = _("parent agencies form a cycle: {cycle}").format(cycle=" → ".join(cycle))
            problems.append(Problem(owner.raw.location(("parent",)), message, owner.raw.order))


def _agency_parents(session: Session) -> list[tuple[Agency, str | None]]:
    agencies = list(session.exec(select(Agency)).all())
    by_id = {a.id: a.code for a in agencies}
    return [(a, by_id.get(a.parent_id) if a.parent_id is not None else None) for a in agencies]


def validate(session: Session, entries: list[RawEntry], problems: list[Problem]) -> Plan:
    """Check everything; return validated entries per kind, or raise ``InventoryError`` with all problems."""
    problems = list(problems)
    valid = _check_fields(entries, problems)
    _check_duplicates(entries, problems)
    plan: Plan = {kind: [v for v in valid if v.kind == kind] for kind in KINDS}
    _check_references(session, entries, problems)
    _check_cycles(session, plan, problems)
    if problems:
        raise InventoryError(problems)
    return plan
