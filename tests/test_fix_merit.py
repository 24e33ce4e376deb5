"""Keep-best rules (lib_qfix.fix.merit) through the loop, with scripted diagnoses and scripted region
checks: a lost face, a blob hand, a better hand, a noise band, a worse seam."""

from __future__ import annotations

import pytest

from lib_qfix.fix.infotext import FIXED, REJECTED, RESULT, SCORE_AFTER, outcome_infotext
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.merit import FINDING_PENALTY, REGION_WEIGHT, SCORE_RESOLUTION, decide, merit
from lib_qfix.fix.outcome import NO_RESULT, RegionCheck
from lib_qfix.types import DEFECT, OK, Region
from tests.test_fix_loop import HAND, RecordingInpainter, ScriptedDiagnose, image, opts, report

SMALL_FACE = Region("face", (80, 10, 130, 60), 0.87, DEFECT, ("small face",), ("small_face",), "face")
FACE_OK = Region("face", (80, 10, 130, 60), 0.9, OK, (), (), "face")
HAND_OK = Region("hand", HAND.box, 0.9, OK, (), (), "hand")
BLOB = Region("hand", HAND.box, 0.6, DEFECT, ("malformed",), ("malformed_hand",), "hand")
MARK = Region("watermark", (20, 100, 140, 120), 0.8, DEFECT, ("overlay",), ("watermark",), "text")


class ScriptedChecks:
    """Region checks by the tag of the image after the round: tag -> (score, reason) for every
    repainted region (default: passed with score 1); records the groups it was shown."""

    def __init__(self, table=None):
        self.table, self.groups = dict(table or {}), []

    def __call__(self, before, after, groups):
        self.groups.append([g.kind for g in groups])
        score, reason = self.table.get(int(after[0, 0, 0]), (1.0, ""))
        return tuple(RegionCheck(r.kind, r.box, score, reason) for g in groups for r in g.regions)


def fix(table, tags, checks, **kw):
    diag = ScriptedDiagnose(table)
    inp = RecordingInpainter(tags)
    o = opts(**kw)
    out = run_fix_loop(image(0), o, diagnose=diag, inpainter=inp, check_regions=checks)
    return out, outcome_infotext(out, o), diag, inp


def test_lost_face_is_rejected_whatever_the_score():
    # the issue: noise painted over a small face; no face is found any more and the score rises
    checks = ScriptedChecks({1: (0.0, "face lost"), 2: (0.0, "face lost")})
    out, info, diag, inp = fix({0: report(0.851, SMALL_FACE), 1: report(0.859), 2: report(0.861)}, [1, 2], checks)
    assert not out.changed and out.image[0, 0, 0] == 0
    assert info[REJECTED] == "face lost" and info[RESULT] == "unchanged (results rejected)"
    assert SCORE_AFTER not in info and FIXED not in info
    assert len(inp.calls) == 2  # round 2 repairs the original again: the noise never became "the best"
    assert diag.calls == [0]  # a result that failed its checks is not even diagnosed
    assert checks.groups == [["face"], ["face"]]


def test_blob_hand_is_not_a_fix():
    # still judged a malformed hand, a hair better globally, a little softer: not better
    checks = ScriptedChecks({1: (0.6, "")})
    out, info, _, _ = fix({0: report(0.800, HAND), 1: report(0.803, BLOB)}, [1], checks, rounds=1)
    assert not out.changed and info[REJECTED].startswith("not better")
    # a blob the detector no longer calls a hand: one finding fewer, but the hand is lost
    checks = ScriptedChecks({1: (0.0, "hand lost")})
    out, info, _, _ = fix({0: report(0.800, HAND), 1: report(0.820)}, [1], checks, rounds=1)
    assert not out.changed and info[REJECTED] == "hand lost"


def test_better_hand_is_kept():
    checks = ScriptedChecks({1: (1.0, "")})
    out, info, _, _ = fix({0: report(0.800, HAND), 1: report(0.800, HAND_OK)}, [1], checks, rounds=1)
    assert out.changed and info[RESULT] == "kept" and info[FIXED] == "hand" and REJECTED not in info


def test_noise_band_is_rejected():
    checks = ScriptedChecks({1: (0.0, "watermark band noisier than its surroundings")})
    out, info, _, _ = fix({0: report(0.880, MARK), 1: report(0.895)}, [1], checks, rounds=1)
    assert not out.changed and info[REJECTED] == "watermark band noisier than its surroundings"


def test_worse_seam_rejected_faint_seam_costs_merit():
    table = {0: report(0.70, SMALL_FACE), 1: report(0.72, FACE_OK)}
    out, info, _, _ = fix(table, [1], ScriptedChecks({1: (0.0, "seam around the face")}), rounds=1)
    assert not out.changed and info[REJECTED] == "seam around the face"
    # a faint seam passes its check; its region score lowers the merit, the fixed face outweighs it
    out, _, _, _ = fix(table, [1], ScriptedChecks({1: (0.5, "")}), rounds=1)
    assert out.changed
    assert out.rounds[0].merit_after == pytest.approx(0.72 - REGION_WEIGHT * 0.5)


def test_failed_check_rejects_even_without_keep_best():
    out, info, _, _ = fix({0: report(0.6, HAND), 1: report(0.9)}, [1], ScriptedChecks({1: (0.0, "hand lost")}),
                          rounds=1, keep_best=False)
    assert not out.changed and info[REJECTED] == "hand lost"


def test_score_resolution_tolerates_no_loss_and_no_wobble_gain():
    # a fixed hand with a score 0.003 under the original's: never worse-scoring, by any margin
    out, info, _, _ = fix({0: report(0.700, HAND), 1: report(0.697)}, [1], ScriptedChecks(), rounds=1)
    assert not out.changed and info[REJECTED].startswith("score below the original")
    out, _, _, _ = fix({0: report(0.700, HAND), 1: report(0.700)}, [1], ScriptedChecks(), rounds=1)
    assert out.changed
    # a repaint that fixes nothing and "gains" 0.003: not kept
    out, info, _, _ = fix({0: report(0.700, BLOB), 1: report(0.703, BLOB)}, [1], ScriptedChecks(), rounds=1)
    assert not out.changed and info[REJECTED].startswith("not better")
    # a real drop is still refused
    out, info, _, _ = fix({0: report(0.70, HAND), 1: report(0.68)}, [1], ScriptedChecks(), rounds=1)
    assert not out.changed and info[REJECTED].startswith("score below the original")


def test_merit_weights_and_rule_order():
    checks = (RegionCheck("hand", HAND.box, 0.6), RegionCheck("face", (0, 0, 9, 9), 1.0))
    assert merit(report(0.8, HAND)) == pytest.approx(0.8 - FINDING_PENALTY)
    assert merit(report(0.8), checks) == pytest.approx(0.8 - REGION_WEIGHT * 0.4)
    assert merit(report(None)) == float("-inf")
    base, better = report(0.7, HAND), report(0.7)
    assert decide(base, base, better).kept
    assert decide(base, base, better, produced=False).reason == NO_RESULT
    lost = (RegionCheck("face", (0, 0, 9, 9), 0.0, "face lost"), RegionCheck("hand", HAND.box, 0.0, "hand blurred"))
    assert decide(base, base, better, lost).reason == "face lost; hand blurred"
    assert decide(base, base, None).reason == "not scored"
    assert decide(base, base, report(0.7 - SCORE_RESOLUTION / 5)).reason.startswith("score below")
    assert not decide(base, base, better, min_improvement=FINDING_PENALTY).kept
