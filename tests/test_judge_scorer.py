"""The ``llm-judge`` scorer against a real local server: weights, regions that feed masks and
negatives, a judge that is down or talks nonsense, the verdict cache, the per-image call budget of
the fix loop, and the prompt A1111 stores in its files."""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from lib_qfix import registry
from lib_qfix.diagnose import diagnose, judge_quality
from lib_qfix.fix.plan import plan_round
from lib_qfix.judge import setup as judge
from lib_qfix.judge.pnginfo import parse_infotext, read_infotext, stored_prompt
from lib_qfix.judge.scorer import LLMJudge, create_llm_judge
from lib_qfix.judge.setup import JudgeSetup
from lib_qfix.judge.stats import STATS
from lib_qfix.judge.verdicts import CARRIED, MATCH, QUALITY, SCORE, UNKNOWN_KIND, region_kind
from lib_qfix.options import DEFAULTS
from lib_qfix.prompts.catalogue import CATALOGUE
from lib_qfix.prompts.negatives import negative_for_regions
from lib_qfix.types import GLOBAL_KINDS, LOCAL_KINDS, ImageReport
from testkit.judge_server import GOOD, JudgeServer, Reply, verdict_reply

KEY = "sk-scorer-KEY-987"


@pytest.fixture(autouse=True)
def clean(monkeypatch):
    for name in (judge.ENV_URL, judge.ENV_MODEL, judge.ENV_KEY, judge.ENV_CACHE):
        monkeypatch.delenv(name, raising=False)
    judge.configure(None)
    STATS.reset()
    yield
    judge.configure(None)


@pytest.fixture()
def image() -> np.ndarray:
    rng = np.random.default_rng(1)
    return (rng.random((120, 200, 3)) * 255).astype(np.uint8)


def make(srv_or_url, cache=None, **kw) -> LLMJudge:
    url = srv_or_url if isinstance(srv_or_url, str) else srv_or_url.url
    kw.setdefault("timeout", 1.0)
    kw.setdefault("retries", 0)
    return create_llm_judge(setup=JudgeSetup(url, "test-vlm", KEY, str(cache) if cache else ""), **kw)


def test_judge_alone_and_combined_by_weight(image):
    with JudgeServer() as srv:
        alone = make(srv).score([image], ["a cat"])[0]
        both = make(srv, base="offline", weight=0.25, match_weight=1.0).score([image], ["a cat"])[0]
    assert alone.scorer == "llm-judge" and alone.warnings == ()
    assert alone.quality == pytest.approx(0.5 * 7 / 9 + 0.5 * 5 / 9)  # match 8, quality 6
    assert alone.signals[MATCH] == 8 and alone.signals[QUALITY] == 6
    offline = registry.create_scorer("offline").score([image])[0].quality
    assert both.quality == pytest.approx(0.25 * 7 / 9 + 0.75 * offline)
    assert both.signals[SCORE] == pytest.approx(7 / 9) and "blur" in both.signals  # the base's signals too
    assert srv.requests[0].user_text.endswith("a cat")


def test_findings_become_regions_that_feed_masks_and_negatives(image):
    with JudgeServer() as srv:
        res = make(srv).score([image])[0]
    hand, mark = [r for r in res.regions if r.detector == "llm-judge"]
    assert (hand.kind, hand.box, hand.defects, hand.is_defect) == ("hand", (20, 60, 60, 96), ("extra_fingers",), True)
    assert hand.reasons == ("judge: six fingers on the left hand",)
    assert mark.kind == "watermark" and mark.box is None  # no box: negatives only
    report = ImageReport(None, 200, 120, res.quality, res.scorer, regions=judge_quality(res, DEFAULTS))
    groups = plan_round(report, DEFAULTS)
    assert [g.kind for g in groups] == ["hand"] and groups[0].mask[78, 40] > 0 and groups[0].mask[5, 5] == 0
    neg = negative_for_regions(report.regions, DEFAULTS)
    assert "extra fingers" in neg and "watermark" in neg
    # boxed judge findings stay even with the global checks off; its global ones follow the switch
    off = judge_quality(res, DEFAULTS.replace(detect_global=False))
    assert [r.kind for r in off if r.detector == "llm-judge"] == ["hand"]


def test_unknown_kinds_are_text_never_a_crash_or_a_negative(image):
    answer = {"prompt_match": 4, "quality": 4, "defects": [{"kind": "purple elephant", "reason": "odd",
                                                            "box": [0.1, 0.1, 0.5, 0.5]}]}
    with JudgeServer(lambda req: verdict_reply(answer)) as srv, warnings.catch_warnings():
        warnings.simplefilter("error")
        res = make(srv).score([image])[0]
        (r,) = res.regions
        assert r.kind == UNKNOWN_KIND and r.defects == () and "purple elephant: odd" in r.reasons[0]
        assert negative_for_regions([r], DEFAULTS) == ""
        report = ImageReport(None, 200, 120, res.quality, res.scorer, regions=(r,))
        assert plan_round(report, DEFAULTS) == []
    assert "judge: unknown kind kept as text: purple elephant" in res.reasons


def test_every_catalogue_defect_has_a_region_kind():
    for name in CATALOGUE:
        assert region_kind(name) in LOCAL_KINDS + GLOBAL_KINDS, name
    assert region_kind("extra_fingers") == "hand" and region_kind("overexposed") == "exposure"


@pytest.mark.parametrize("reply, words", [
    (Reply(500, {"error": "down"}), "HTTP 500"),
    (verdict_reply("I think it's a nice picture."), "no JSON object"),
    (verdict_reply('{"defects": []}'), "no rating"),
    (Reply(200, "<html>gateway</html>", {"Content-Type": "text/html"}), "not a chat completion"),
])
def test_a_judge_talking_nonsense_or_failing_leaves_the_base_score(image, reply, words):
    with JudgeServer(lambda req: reply) as srv:
        res = make(srv, base="offline").score([image])[0]
    offline = registry.create_scorer("offline").score([image])[0]
    assert res.quality == pytest.approx(offline.quality) and res.scorer == "llm-judge"
    (w,) = res.warnings
    assert words in w and "quality from the offline score" in w and KEY not in w


def test_a_judge_that_is_down_falls_back_to_the_offline_score_without_a_base(image):
    with JudgeServer() as srv:
        url = srv.url
    res = make(url).score([image, image])  # nothing listens any more
    offline = registry.create_scorer("offline").score([image])[0].quality
    assert [r.quality for r in res] == pytest.approx([offline, offline])
    assert all("unreachable" in r.warnings[0] and url not in r.warnings[0] for r in res)


def test_not_configured_is_one_warning(image):
    res = create_llm_judge(setup=JudgeSetup()).score([image])[0]
    assert "not configured" in res.warnings[0] and res.quality > 0


def test_cache_answers_a_rerun_and_keys_on_prompt_model_and_judge_prompt(image, tmp_path):
    with JudgeServer() as srv:
        make(srv, tmp_path).score([image], ["a cat"])
        assert srv.count == 1
        again = make(srv, tmp_path).score([image], ["a cat"])[0]
        assert srv.count == 1 and again.signals[MATCH] == 8 and STATS.snapshot().cache_hits == 1
        make(srv, tmp_path).score([image], ["a dog"])
        make(srv, tmp_path, instructions="Be lenient.").score([image], ["a cat"])
        create_llm_judge(setup=JudgeSetup(srv.url, "other-vlm", KEY, str(tmp_path)), timeout=1.0).score(
            [image], ["a cat"])
        assert srv.count == 4
    stored = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert stored and KEY not in stored and "test-vlm" not in stored and "127.0.0.1" not in stored
    assert "a cat" not in stored  # keys are digests; files hold verdicts only


def test_concurrent_scoring_of_a_batch(image):
    imgs = [np.roll(image, i, axis=1) for i in range(8)]
    with JudgeServer(lambda req: verdict_reply(GOOD, delay=0.15)) as srv:
        import time

        t0 = time.monotonic()
        out = make(srv, concurrency=4).score(imgs)
        took = time.monotonic() - t0
    assert len(out) == 8 and all(r.signals[MATCH] == 8 for r in out)
    assert took < 8 * 0.15 * 0.75  # overlapped, not one after another


def test_the_fix_loop_session_spends_at_most_the_budget_and_carries_the_first_verdict(image):
    answers = iter([{"prompt_match": 4, "quality": 3, "defects": []}, {"prompt_match": 9, "quality": 9, "defects": []}])
    with JudgeServer(lambda req: verdict_reply(next(answers, GOOD))) as srv:
        session = make(srv, calls=2).for_image()
        first = session.score([image])[0]
        second = session.score([np.flipud(image)])[0]
        third = session.score([np.fliplr(image)])[0]
        assert srv.count == 2
        again = session.score([np.flipud(image)])[0]  # nothing cached without a cache folder: carried
    assert (first.signals[MATCH], second.signals[MATCH]) == (4, 9)
    assert third.signals[MATCH] == 4 and third.signals[CARRIED] == 1 and "budget spent" in third.warnings[0]
    assert again.signals[CARRIED] == 1 and STATS.snapshot().skipped == 2


def test_a_session_whose_first_version_failed_compares_by_the_base_alone(image):
    with JudgeServer(lambda req: Reply(500, {})) as srv:
        session = make(srv, base="offline", calls=3).for_image()
        a, b = session.score([image])[0], session.score([np.flipud(image)])[0]
        assert srv.count == 1 and SCORE not in a.signals and SCORE not in b.signals
        assert "no verdict on the first version" in b.warnings[0]


def test_zero_calls_never_asks(image):
    with JudgeServer() as srv:
        res = make(srv, calls=0, base="offline").score([image])[0]
        assert srv.count == 0 and "judge_calls is 0" in res.warnings[0]


def test_diagnose_with_the_judge_scorer_from_options(image):
    with JudgeServer() as srv:
        judge.configure(JudgeSetup(srv.url, "test-vlm", KEY))
        options = DEFAULTS.replace(scorer="llm-judge", judge_base="none", detect_faces=False, detect_hands=False,
                                   detect_text=False, judge_timeout=2.0)
        report = diagnose(image, options, prompt="a cat")
    assert report.scorer == "llm-judge" and report.signals[MATCH] == 8
    assert [r.kind for r in report.defects if r.detector == "llm-judge"] == ["hand", "watermark"]
    assert "extra fingers" in report.negative
    assert KEY not in json.dumps(report.to_json())


def test_the_registry_builds_a_new_judge_when_the_setup_changes():
    a = registry.create_scorer("llm-judge", setup=JudgeSetup("http://127.0.0.1:9/v1", "m1"), base="none")
    b = registry.create_scorer("llm-judge", setup=JudgeSetup("http://127.0.0.1:9/v1", "m2"), base="none")
    assert a is not b and a.version != b.version and "m1" not in a.version


# ---------------------------------------------------------------- the prompt stored in A1111 files

INFOTEXT = ("a portrait of a violinist,\nsoft light\nNegative prompt: blurry, (extra fingers:1.2)\n"
            "bad hands\nSteps: 20, Sampler: DPM++ 2M, CFG scale: 7, Seed: 42, Size: 512x512, Model: x")


def test_parse_infotext():
    assert parse_infotext(INFOTEXT) == ("a portrait of a violinist,\nsoft light",
                                        "blurry, (extra fingers:1.2)\nbad hands")
    assert parse_infotext("just a prompt") == ("just a prompt", "")
    assert parse_infotext("a cat\nSteps: 20, Sampler: Euler, Seed: 1") == ("a cat", "")
    assert parse_infotext("") == ("", "")


def test_prompt_from_png_text_and_jpeg_exif(tmp_path, image):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", INFOTEXT)
    Image.fromarray(image).save(tmp_path / "a.png", pnginfo=info)
    assert stored_prompt(tmp_path / "a.png") == "a portrait of a violinist,\nsoft light"
    exif = Image.Exif()  # A1111 writes the EXIF UserComment (piexif, "unicode": UTF-16 big-endian)
    exif[0x8769] = {0x9286: b"UNICODE\0" + INFOTEXT.encode("utf-16-be")}
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", exif=exif.tobytes())
    (tmp_path / "b.jpg").write_bytes(buf.getvalue())
    assert read_infotext(tmp_path / "b.jpg") == INFOTEXT
    Image.fromarray(image).save(tmp_path / "c.png")
    assert stored_prompt(tmp_path / "c.png") == "" and stored_prompt(tmp_path / "missing.png") == ""


def test_a_judge_finding_over_a_detected_hand_is_merged_into_it():
    from lib_qfix.judge.verdicts import merge_findings
    from lib_qfix.types import OK, Region

    hand = Region("hand", (40, 60, 80, 100), 0.9, OK, ("5 fingers",), (), "hand", polygon=((40, 60), (80, 100), (40, 100)))
    judged = Region("hand", (30, 50, 90, 110), 0.7, "defect", ("judge: six fingers",), ("extra_fingers",), "llm-judge")
    elsewhere = Region("hand", (150, 10, 190, 50), 0.7, "defect", ("judge: claw",), ("malformed_hand",), "llm-judge")
    face = Region("face", (40, 60, 80, 100), 0.7, "defect", ("judge: eyes",), ("asymmetric_eyes",), "llm-judge")
    out = merge_findings([hand, judged, elsewhere, face])
    assert out[0].box == hand.box and out[0].polygon == hand.polygon and out[0].is_defect
    assert out[0].defects == ("extra_fingers",) and out[0].reasons == ("5 fingers", "judge: six fingers")
    assert out[1:] == [elsewhere, face]  # no hand there; another kind
