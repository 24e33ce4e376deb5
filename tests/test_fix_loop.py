"""The host-agnostic fix loop through recording fakes of its ports (decisions, not pixels)."""

from __future__ import annotations

import numpy as np
import pytest

from lib_qfix.fix.infotext import (
    ERROR,
    FIXED,
    NEGATIVE,
    ROUNDS_USED,
    SCORE_AFTER,
    SCORE_BEFORE,
    outcome_infotext,
)
from lib_qfix.fix.loop import run_fix_loop
from lib_qfix.fix.merit import FINDING_PENALTY, merit
from lib_qfix.fix.plan import plan_round, select_regions
from lib_qfix.options import DEFAULTS, from_infotext
from lib_qfix.protocols import Inpainter, InpaintParams, PassStopped, RestoreParams
from lib_qfix.types import DEFECT, OK, ImageReport, Region

H, W = 128, 160
HAND = Region("hand", (10, 20, 50, 70), 0.9, DEFECT, ("6 fingers",), ("extra_fingers",), "hand")
FACE_OK = Region("face", (80, 10, 130, 60), 0.95, OK, (), (), "face")
FACE_BAD = Region("face", (80, 10, 130, 60), 0.95, DEFECT, ("blurry",), ("blurry_face",), "face")
BLUR = Region("blur", None, 0.8, DEFECT, ("blurry",), ("blur",), "offline")


def report(quality, *regions):
    return ImageReport(None, W, H, quality, "fake", regions=tuple(regions), negative="bad hands")


class ScriptedDiagnose:
    """Diagnoses images by a tag painted into pixel (0, 0): tag -> report."""

    def __init__(self, table):
        self.table, self.calls = table, []

    def __call__(self, image):
        tag = int(image[0, 0, 0])
        self.calls.append(tag)
        return self.table[tag]


class RecordingInpainter:
    """Each pass paints the next tag into pixel (0, 0) and records what it was asked."""

    def __init__(self, tags, fail_on=()):
        self.tags, self.fail_on, self.calls = list(tags), set(fail_on), []

    def inpaint(self, image, mask, prompt, negative, seed, params):
        self.calls.append({"mask": mask.copy(), "prompt": prompt, "negative": negative, "seed": seed,
                           "params": params})
        if len(self.calls) in self.fail_on:
            raise RuntimeError("NaN in latents")
        out = image.copy()
        out[0, 0, 0] = self.tags.pop(0)
        return out


def image(tag=0):
    img = np.full((H, W, 3), 100, np.uint8)
    img[0, 0, 0] = tag
    return img


def opts(**kw):
    return DEFAULTS.replace(enable=True, **kw)


def test_best_not_last_and_rounds_start_from_best():
    diag = ScriptedDiagnose({0: report(0.6, HAND), 1: report(0.8, HAND), 2: report(0.5, HAND)})
    inp = RecordingInpainter([1, 2])
    out = run_fix_loop(image(0), opts(rounds=2), diagnose=diag, inpainter=inp, prompt="a cat", seed=7)
    assert out.changed and int(out.image[0, 0, 0]) == 1  # round 1's result, not round 2's (worse)
    assert [r.kept for r in out.rounds] == [True, False]
    assert [c["seed"] for c in inp.calls] == [7, 8]  # a retry differs
    assert out.quality_before == 0.6 and out.quality_after == 0.8
    assert out.fixed_summary() == "hand"


def test_never_worse_than_the_original():
    diag = ScriptedDiagnose({0: report(0.7, HAND), 1: report(0.5, HAND), 2: report(0.6, HAND)})
    out = run_fix_loop(image(0), opts(rounds=2), diagnose=diag, inpainter=RecordingInpainter([1, 2]))
    assert not out.changed and out.image[0, 0, 0] == 0 and out.fixed_summary() == ""
    # keep_best off keeps the last result, as documented
    diag2 = ScriptedDiagnose({0: report(0.7, HAND), 1: report(0.5, HAND), 2: report(0.6, HAND)})
    last = run_fix_loop(image(0), opts(rounds=2, keep_best=False), diagnose=diag2,
                        inpainter=RecordingInpainter([1, 2]))
    assert last.changed and last.image[0, 0, 0] == 2


def test_fixed_defect_never_bought_with_a_lower_score_than_the_original():
    # the hand is gone (merit 0.68 > 0.65) but the score fell below the original's 0.70: not kept
    diag = ScriptedDiagnose({0: report(0.70, HAND), 1: report(0.68)})
    out = run_fix_loop(image(0), opts(rounds=1), diagnose=diag, inpainter=RecordingInpainter([1]))
    assert not out.changed and out.rounds[0].kept is False
    # the same fix at an equal-or-better score is kept
    diag = ScriptedDiagnose({0: report(0.70, HAND), 1: report(0.70)})
    out = run_fix_loop(image(0), opts(rounds=1), diagnose=diag, inpainter=RecordingInpainter([1]))
    assert out.changed


def test_stops_early_when_nothing_is_left():
    diag = ScriptedDiagnose({0: report(0.6, HAND), 1: report(0.9, Region("hand", HAND.box, 0.9))})
    inp = RecordingInpainter([1, 2, 3])
    out = run_fix_loop(image(0), opts(rounds=5), diagnose=diag, inpainter=inp)
    assert len(inp.calls) == 1 and out.stopped == "nothing to fix" and out.rounds_used == 1


def test_min_improvement_and_merit():
    diag = ScriptedDiagnose({0: report(0.6, HAND), 1: report(0.63, HAND)})
    out = run_fix_loop(image(0), opts(rounds=1, min_improvement=0.05), diagnose=diag,
                       inpainter=RecordingInpainter([1]))
    assert not out.changed
    # a fixed hand is worth a small quality dip: merit counts local defects
    assert merit(report(0.6)) > merit(report(0.6 + FINDING_PENALTY / 2, HAND))


def test_modes_select_regions():
    rep = report(0.9, HAND, FACE_OK, BLUR)
    assert select_regions(rep, opts(mode="fix")) == [HAND]
    assert select_regions(rep, opts(mode="fix_all")) == [HAND, FACE_OK]
    assert select_regions(rep, opts(mode="score_only")) == []
    diag = ScriptedDiagnose({0: rep})
    inp = RecordingInpainter([1])
    out = run_fix_loop(image(0), opts(mode="score_only"), diagnose=diag, inpainter=inp)
    assert inp.calls == [] and out.stopped == "score_only" and not out.changed


def test_plan_prompts_negatives_masks_and_merge():
    rep = report(0.5, HAND, Region("hand", (100, 80, 140, 120), 0.8, DEFECT, (), ("fused_fingers",)), FACE_BAD)
    groups = plan_round(rep, opts(mask_merge="none"), "a knight", "lowres")
    assert [g.kind for g in groups] == ["face", "hand", "hand"]
    face, hand = groups[0], groups[1]
    assert face.prompt.startswith("a knight") and "detailed face" in face.prompt
    assert "a knight" in hand.prompt and "five fingers" in hand.prompt
    assert "lowres" in hand.negative and "finger" in hand.negative  # the catalogue's weighted terms
    x0, y0, x1, y1 = HAND.box
    assert hand.mask[(y0 + y1) // 2, (x0 + x1) // 2] == 255 and hand.mask[H - 1, W - 1] == 0
    merged = plan_round(rep, opts(mask_merge="merge"), "a knight", "")
    assert [g.kind for g in merged] == ["face", "hand"] and len(merged[1].regions) == 2
    top1 = plan_round(rep, opts(mask_top_k=1), "", "")
    assert [g.kind for g in top1] == ["face", "hand"] and top1[1].regions[0].box == HAND.box  # largest


def test_failed_pass_is_skipped_with_reason_and_others_run():
    two = report(0.5, HAND, Region("hand", (100, 80, 140, 120), 0.8, DEFECT, (), ("fused_fingers",)))
    diag = ScriptedDiagnose({0: two, 2: report(0.9)})
    inp = RecordingInpainter([2], fail_on={1})
    out = run_fix_loop(image(0), opts(rounds=1), diagnose=diag, inpainter=inp)
    acts = out.rounds[0].actions
    assert [a.status for a in acts] == ["failed", "done"] and "NaN" in acts[0].reason
    assert out.changed and "hand: RuntimeError: NaN in latents" in outcome_infotext(out, opts())[ERROR]


def test_should_stop_is_honoured():
    diag = ScriptedDiagnose({0: report(0.5, HAND)})
    inp = RecordingInpainter([1])
    out = run_fix_loop(image(0), opts(), diagnose=diag, inpainter=inp, should_stop=lambda: "interrupted")
    assert inp.calls == [] and out.stopped == "interrupted" and not out.changed


def test_an_interrupt_inside_a_pass_ends_the_loop_and_is_no_error():
    # the user pressed Interrupt while the second pass sampled: nothing of that round is judged or kept
    class Interrupting(RecordingInpainter):
        def inpaint(self, image, mask, prompt, negative, seed, params):
            if len(self.calls) == 1:
                self.calls.append({})
                raise PassStopped("interrupted")
            return super().inpaint(image, mask, prompt, negative, seed, params)

    face = Region("face", (40, 40, 60, 60), 0.9, DEFECT, defects=("asymmetric_eyes",))
    diag = ScriptedDiagnose({0: report(0.5, HAND, face), 1: report(0.9)})
    inp = Interrupting([1, 2])
    out = run_fix_loop(image(0), opts(), diagnose=diag, inpainter=inp)
    assert out.stopped == "interrupted" and not out.changed and len(inp.calls) == 2
    assert [a.status for a in out.rounds[0].actions] == ["done", "skipped"]
    assert ERROR not in outcome_infotext(out, opts()) and diag.calls == [0]  # only the input was diagnosed
    regen = run_fix_loop(image(0), opts(regenerate=True), diagnose=ScriptedDiagnose({0: report(0.3, BLUR)}),
                         inpainter=RecordingInpainter([]),
                         regenerate=lambda *a, **k: (_ for _ in ()).throw(PassStopped("skipped")))
    assert regen.stopped == "skipped" and not regen.changed


def test_face_restorer_only_for_faces():
    class Restorer:
        calls = []

        def restore(self, img, mask, params):
            self.calls.append(mask.copy())
            self.params = params
            return img

    diag = ScriptedDiagnose({0: report(0.5, HAND, FACE_BAD), 2: report(0.9)})
    r = Restorer()
    out = run_fix_loop(image(0), opts(face_restorer="GFPGAN", rounds=1), diagnose=diag,
                       inpainter=RecordingInpainter([1, 2]), restorer=r)
    assert len(r.calls) == 1 and [a.restored for a in out.rounds[0].actions] == [True, False]
    assert r.params == RestoreParams("GFPGAN", 1.0, 0.5)  # a parameter record, not the options


def test_ports_receive_parameter_records_built_from_the_options():
    diag = ScriptedDiagnose({0: report(0.5, HAND), 1: report(0.9)})
    inp = RecordingInpainter([1])
    o = opts(rounds=1, denoise=0.55, inpaint_padding=48, inpaint_resolution=768, steps=12, sampler="Euler")
    run_fix_loop(image(0), o, diagnose=diag, inpainter=inp)
    assert inp.calls[0]["params"] == InpaintParams(48, 768, 0.55, 12, 0.0, "Euler", "")
    assert isinstance(inp, Inpainter)


def test_disabled_run_diagnoses_nothing():
    diag = ScriptedDiagnose({0: report(0.1, HAND)})
    out = run_fix_loop(image(0), DEFAULTS, diagnose=diag, inpainter=RecordingInpainter([1]))
    assert diag.calls == [] and out.stopped == "disabled" and not out.changed


def test_regenerate_for_global_defects_bounded():
    diag = ScriptedDiagnose({0: report(0.3, BLUR), 5: report(0.4, BLUR), 6: report(0.35, BLUR)})
    calls = []

    def regen(negative, seed, **kw):  # kw: prompt, steps_scale (the fix strategy's)
        calls.append((negative, seed))
        return image(5 + len(calls) - 1)

    out = run_fix_loop(image(0), opts(regenerate=True, regenerate_rounds=2), diagnose=diag,
                       inpainter=RecordingInpainter([]), regenerate=regen, negative="lowres", seed=3)
    assert len(calls) == 2 and all(s == 3 for _, s in calls) and "lowres" in calls[0][0]
    assert "blur" in calls[0][0].lower()
    assert out.image[0, 0, 0] == 5  # the better regeneration, not the last
    off = run_fix_loop(image(0), opts(), diagnose=ScriptedDiagnose({0: report(0.3, BLUR)}),
                       inpainter=RecordingInpainter([]), regenerate=regen)
    assert len(calls) == 2 and not off.changed  # off by default


def test_infotext_round_trips_options():
    diag = ScriptedDiagnose({0: report(0.5, HAND, HAND), 1: report(0.9)})
    o = opts(hand_confidence=0.7, hand_prompt="[PROMPT], hands, 5 fingers")
    out = run_fix_loop(image(0), o, diagnose=diag, inpainter=RecordingInpainter([7, 1]), prompt="p")
    info = outcome_infotext(out, o, DEFAULTS)
    assert info[SCORE_BEFORE] == "0.500" and info[SCORE_AFTER] == "0.900" and info[ROUNDS_USED] == 1
    assert info[FIXED] == "hand×2" and info[NEGATIVE] == "bad hands"
    assert info["QFix found"] == "hand 2 (2 defects)"  # what was seen, also when nothing is kept
    back = from_infotext({k: str(v) for k, v in info.items()})
    assert back["hand_confidence"] == 0.7 and back["hand_prompt"] == o.hand_prompt and back["enable"] is True


@pytest.mark.parametrize("mode", ["fix", "fix_all"])
def test_disabled_does_nothing(mode):
    diag = ScriptedDiagnose({0: report(0.1, HAND)})
    inp = RecordingInpainter([1])
    out = run_fix_loop(image(0), DEFAULTS.replace(mode=mode), diagnose=diag, inpainter=inp)
    assert out.stopped == "disabled" and inp.calls == []


def test_inpaint_prompt_carries_the_catalogue_positives_once():
    extra = Region("hand", (10, 20, 50, 70), 0.9, DEFECT, (), ("extra_fingers", "fused_fingers"), "hand")
    groups = plan_round(report(0.5, extra), opts(), "a knight", "")
    prompt = groups[0].prompt
    assert prompt.startswith("a knight") and "separated fingers" in prompt
    assert prompt.lower().count("five fingers") == 1 and prompt.lower().count("detailed hand") == 1
    ok = plan_round(report(0.5, FACE_OK), opts(mode="fix_all"), "a knight", "")[0].prompt
    assert ok == "a knight, detailed face, symmetric eyes"  # regions judged ok add no positives


def test_result_keys_are_never_read_back_as_options():
    from lib_qfix.fix.infotext import RESULT_KEYS
    from lib_qfix.options import FIELDS

    option_keys = {f.infotext_key for f in FIELDS}
    assert option_keys.isdisjoint(RESULT_KEYS)
    # mode "fix" with the default 2 rounds stops after 1: what was used must not paste back as the setting
    diag = ScriptedDiagnose({0: report(0.5, HAND), 1: report(0.9)})
    out = run_fix_loop(image(0), opts(), diagnose=diag, inpainter=RecordingInpainter([1]))
    info = outcome_infotext(out, opts(), DEFAULTS)
    assert out.rounds_used == 1 and info[ROUNDS_USED] == 1
    assert "rounds" not in from_infotext({k: str(v) for k, v in info.items()})
    assert set(info) - option_keys <= set(RESULT_KEYS)


def test_infotext_says_kept_or_unchanged_and_why():
    from lib_qfix.fix.infotext import REJECTED, RESULT

    kept = run_fix_loop(image(0), opts(rounds=1), diagnose=ScriptedDiagnose({0: report(0.5, HAND), 1: report(0.9)}),
                        inpainter=RecordingInpainter([1]))
    assert outcome_infotext(kept, opts())[RESULT] == "kept"
    clean = run_fix_loop(image(0), opts(), diagnose=ScriptedDiagnose({0: report(0.9)}), inpainter=RecordingInpainter([]))
    info = outcome_infotext(clean, opts())
    assert info[RESULT] == "unchanged (nothing to fix)" and REJECTED not in info
    worse = run_fix_loop(image(0), opts(rounds=1), diagnose=ScriptedDiagnose({0: report(0.7, HAND), 1: report(0.5)}),
                         inpainter=RecordingInpainter([1]))
    info = outcome_infotext(worse, opts())
    assert info[RESULT] == "unchanged (results rejected)"
    assert info[REJECTED] == "score below the original (0.500 < 0.700)"
    failed = run_fix_loop(image(0), opts(rounds=1), diagnose=ScriptedDiagnose({0: report(0.5, HAND)}),
                          inpainter=RecordingInpainter([1], fail_on={1}))
    assert outcome_infotext(failed, opts())[RESULT] == "unchanged (every pass failed)"
