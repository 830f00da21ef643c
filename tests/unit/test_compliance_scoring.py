"""Scoring rules on fixed inputs: met / not met / not evaluated, score, coverage, achieved level, gap."""

from __future__ import annotations

from dataclasses import dataclass, field

from secops.compliance.scoring import HostResult, score_system


@dataclass(frozen=True)
class Req:
    id: str
    min_level: int
    checks: list[str] = field(default_factory=list)


REQS = [
    Req("T-1", 1, ["c1"]),
    Req("T-2", 2, ["c2"]),
    Req("T-3", 3, ["c3"]),
    Req("M-1", 3, []),
    Req("T-4", 4, ["c1"]),
    Req("T-5", 5, ["c4"]),
]
HOSTS = ["h1", "h2"]


def results(**statuses: str) -> list[HostResult]:
    """``c1_h1="pass"`` → HostResult(h1, c1, pass)."""
    out = []
    for key, status in statuses.items():
        check, host = key.split("_")
        out.append(HostResult(host=host, check=check, status=status))
    return out


def test_level_3_system_with_one_failure_and_a_waiver() -> None:
    rs = results(c1_h1="pass", c1_h2="pass", c2_h1="pass", c2_h2="fail", c3_h1="waived", c3_h2="pass")
    score = score_system("S", 3, REQS, rs, HOSTS, {"M-1": "met"})
    states = {r.id: (r.state, r.via) for r in score.requirements}
    assert states == {
        "T-1": ("met", "checks"),
        "T-2": ("not_met", "checks"),
        "T-3": ("met", "checks"),
        "M-1": ("met", "attestation"),
        "T-4": ("met", "checks"),
        "T-5": ("not_evaluated", None),
    }
    assert (score.met, score.not_met, score.not_evaluated, score.applicable) == (3, 1, 0, 4)
    assert score.score == 0.75 and score.coverage == 1.0
    assert score.achieved_level == 1
    assert score.gap == {
        "level": 2,
        "requirements": [
            {
                "id": "T-2",
                "min_level": 2,
                "status": "not_met",
                "via": "checks",
                "checks": [{"check": "c2", "host": "h2", "status": "fail"}],
                "waived": [],
            },
        ],
    }
    t3 = next(r for r in score.requirements if r.id == "T-3")
    assert t3.waived == [{"check": "c3", "host": "h1", "status": "waived"}]
    assert score.formula() == (
        "score = met / (met + not met) = 3 / (3 + 1) = 75.0%; "
        "coverage = (met + not met) / applicable = (3 + 1) / 4 = 100.0%"
    )


def test_errors_missing_hosts_and_skips_are_never_passing() -> None:
    rs = results(c1_h1="pass", c1_h2="error", c2_h1="pass", c3_h1="skipped", c3_h2="pass")
    score = score_system("S", 3, REQS, rs, HOSTS, {})
    states = {r.id: r.state for r in score.requirements}
    assert states["T-1"] == "not_evaluated"  # error on h2
    assert states["T-2"] == "not_evaluated"  # no result on h2
    assert states["T-3"] == "not_evaluated"  # skipped on h1
    assert states["M-1"] == "not_evaluated"  # manual, no attestation
    assert (score.met, score.not_met, score.not_evaluated) == (0, 0, 4)
    assert score.score is None and score.coverage == 0.0
    assert score.achieved_level == 0
    gap = score.gap
    assert gap is not None and gap["level"] == 1
    assert gap["requirements"][0]["checks"] == [{"check": "c1", "host": "h2", "status": "error"}]
    t2 = next(r for r in score.requirements if r.id == "T-2")
    assert t2.blocking == [{"check": "c2", "host": "h2", "status": "missing"}]


def test_attestations_and_not_applicable() -> None:
    rs = results(c1_h1="pass", c1_h2="not_applicable", c2_h1="pass", c2_h2="pass", c3_h1="fail", c3_h2="fail")
    # A failing check beats a paper saying "met"; a "not_met" paper beats passing checks.
    score = score_system("S", 2, REQS, rs, HOSTS, {"T-3": "met", "T-2": "not_met", "M-1": "met"})
    states = {r.id: (r.state, r.via) for r in score.requirements}
    assert states["T-1"] == ("met", "checks")  # not applicable on h2 is neutral
    assert states["T-2"] == ("not_met", "attestation")
    assert states["T-3"] == ("not_met", "checks")
    # Level 2: T-1 and T-2 apply.
    assert (score.met, score.not_met, score.not_evaluated) == (1, 1, 0)
    assert score.score == 0.5 and score.coverage == 1.0 and score.achieved_level == 1


def test_all_met_reaches_level_5_and_has_no_gap() -> None:
    rs = [HostResult(h, c, "pass") for h in HOSTS for c in ("c1", "c2", "c3", "c4")]
    score = score_system("S", 5, REQS, rs, HOSTS, {"M-1": "met"})
    assert score.achieved_level == 5 and score.gap is None
    assert (score.score, score.coverage) == (1.0, 1.0)


def test_system_without_level_scores_nothing_but_still_has_an_achieved_level() -> None:
    rs = [HostResult(h, "c1", "pass") for h in HOSTS]
    score = score_system("S", None, REQS, rs, HOSTS, {})
    assert (score.applicable, score.score, score.coverage) == (0, None, None)
    assert score.achieved_level == 1
    data = score.to_json()
    assert data["level"] is None and data["achieved_level"] == 1 and data["gap_to_next_level"]["level"] == 2


def test_system_without_hosts_is_not_evaluated_unless_attested() -> None:
    score = score_system("S", 1, REQS, [], [], {"T-1": "met"})
    assert [(r.id, r.state) for r in score.requirements if r.min_level == 1] == [("T-1", "met")]
    assert (score.met, score.not_met, score.not_evaluated) == (1, 0, 0)
