"""A short real training run (a few hundred images, one epoch), its export, resume and evaluation."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fer_engine.datasets import data_dir

pytest.importorskip("tensorflow", reason="training needs the [train] extra (tensorflow-cpu)")

ROOT = Path(__file__).resolve().parents[1]
DATA = data_dir()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fer_engine", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, train_npz, val_npz):
    root = tmp_path_factory.mktemp("training")
    run, out = root / "run", root / "weights"
    common = ["train", "--recipe", "fer2013", "--train-data", str(train_npz), "--val-data", str(val_npz),
              "--limit", "320", "--val-limit", "400", "--batch-size", "64",
              "--average-from", "1", "--run-dir", str(run), "--out", str(out)]  # fmt: skip
    first = _cli(*common, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    return {"run": run, "out": out, "common": common, "first": first}


def test_training_writes_model_and_metadata(trained):
    out = trained["out"]
    assert (out / "fer_cnn.tflite").stat().st_size > 100_000
    assert (out / "fer_cnn.weights.h5").exists()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["classes"] == ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    assert meta["epochs"] == 1 and meta["data"]["train"]["images"] == 320
    assert meta["input"]["size"] == 48 and meta["train_seconds"] > 0 and meta["hardware"]["cores"]
    assert meta["tflite_check"]["top1_agreement_with_keras"] >= 0.97
    assert meta["exported_weights"] == "epoch 1 (best)", "one kept epoch: nothing to average"
    for report in meta["validation"]["served_tflite"].values():
        assert 0 <= report["accuracy"] <= 1 and len(report["confusion"]) == 7


def test_trained_model_serves_through_the_analyzer(trained, photos_dir):
    from fer_engine import Analyzer

    analysis = Analyzer(trained["out"]).analyze_file(photos_dir / "obama.jpg")
    assert len(analysis.faces) == 1 and len(analysis.faces[0].probabilities) == 7


def test_training_resumes_from_its_checkpoint(trained):
    state = json.loads((trained["run"] / "state.json").read_text())
    assert state["epochs_done"] == 1
    second = _cli(*trained["common"], "--epochs", "2")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "resuming after epoch 1" in second.stderr
    state = json.loads((trained["run"] / "state.json").read_text())
    assert state["epochs_done"] == 2 and [e["epoch"] for e in state["history"]] == [1, 2]


def test_stochastic_weight_averaging_exports_the_mean_of_the_kept_epochs(trained):
    from fer_engine.training.model import DEFAULT_STAGES, load_keras_model

    if json.loads((trained["run"] / "state.json").read_text())["epochs_done"] < 2:
        # Run alone, without the resume test before it: train the second epoch here.
        assert _cli(*trained["common"], "--epochs", "2").returncode == 0
    meta = json.loads((trained["out"] / "metadata.json").read_text())
    assert meta["exported_weights"] == "mean of the weights of epochs 1-2 (stochastic weight averaging)"
    epochs = [load_keras_model(trained["run"] / "epochs" / f"epoch_00{n}.weights.h5", DEFAULT_STAGES) for n in (1, 2)]
    exported = load_keras_model(trained["out"] / "fer_cnn.weights.h5").get_weights()
    for mean, first, second in zip(exported, *(model.get_weights() for model in epochs), strict=True):
        assert np.allclose(mean, (first + second) / 2, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(*(model.get_weights() for model in epochs), strict=True))


def test_averaging_names_the_epoch_weights_it_cannot_find(trained, tmp_path):
    import shutil

    from fer_engine.training.train import TrainSettings, _exported_weights

    run = tmp_path / "run"
    shutil.copytree(trained["run"], run)
    (run / "epochs" / "epoch_001.weights.h5").unlink()  # as if averaging began only on resuming
    with pytest.raises(FileNotFoundError, match="weights to average are missing: .*epoch_001.weights.h5"):
        _exported_weights(TrainSettings(average_from_epoch=1), run, {"epochs_done": 2, "best_epoch": 2})


@pytest.fixture(scope="module")
def fine_tuned(trained, tmp_path_factory, val_npz):
    """The 'mixed' recipe on a slice: starts from the first model, adds AffectNet, scores dev-set slices."""
    affectnet, dev = DATA / "affectnet" / "train.npz", DATA / "dev"
    if not affectnet.exists() or not dev.exists():
        pytest.skip("shared data missing: affectnet/ or dev/")
    root = tmp_path_factory.mktemp("mixed")
    result = _cli("train", "--recipe", "mixed", "--init", str(trained["out"] / "fer_cnn.weights.h5"),
                  "--val-data", str(val_npz), "--limit", "200", "--val-limit", "300", "--dev-per-class", "3",
                  "--batch-size", "64", "--epochs", "1", "--mixup", "0.2", "--cutmix", "1.0",
                  "--run-dir", str(root / "run"), "--out", str(root / "out"))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return root


def test_mixed_recipe_fine_tunes_on_both_sources_and_scores_the_dev_sets(fine_tuned, trained):
    meta = json.loads((fine_tuned / "out" / "metadata.json").read_text())
    assert meta["data"]["train"]["images"] == 200 and meta["data"]["affectnet"]["images"] == 200
    assert meta["init"]["weights"] == str(trained["out"] / "fer_cnn.weights.h5") and meta["init"]["epochs"] >= 1
    assert meta["settings"]["augment"]["lowres_prob"] > 0, "camera augmentations on"
    assert meta["settings"]["mixup_alpha"] == 0.2 and meta["settings"]["cutmix_alpha"] == 1.0
    [epoch] = meta["history"]
    for name in ("posed_tw", "sfew_train"):
        assert 0 <= epoch[f"dev_{name}_accuracy"] <= 1 and 0 <= epoch[f"dev_{name}_neutral_share"] <= 1
    with np.load(fine_tuned / "run" / "dev_crops.npz") as crops:
        assert crops["posed_tw.x"].shape[1:] == (48, 48) and len(crops["sfew_train.y"]) == 3 * 7
        assert int(crops["posed_tw.missed"]) + len(crops["posed_tw.y"]) == 3 * 7
    start = json.loads((trained["out"] / "metadata.json").read_text())
    assert "affectnet" not in start["data"] or start["data"]["affectnet"] is None


def test_dev_set_evaluation_on_a_slice(tmp_path):
    dev = DATA / "dev"
    if not dev.exists():
        pytest.skip("shared data missing: dev/")
    for name, extra in (("posed_tw", []), ("sfew_train", ["--crops"])):
        out = tmp_path / name
        result = _cli("evaluate", str(dev / name), "--per-class", "4", "--out", str(out), "--no-feature-maps", *extra)
        assert result.returncode == 0, result.stderr[-3000:]
        report = json.loads((out / "report.json").read_text())
        assert report["images"] + report["photos_without_face"] == 4 * 7
        assert 0 <= report["accuracy_over_all_photos"] <= 1
        assert sum(map(sum, report["reports"]["labels"]["confusion"])) == report["images"]
        assert "accuracy over all photos" in result.stdout


def test_evaluate_on_a_slice_writes_table_json_and_pngs(trained, val_npz, tmp_path):
    data = np.load(val_npz)
    index = np.arange(0, len(data["y"]), 40)
    slice_path = tmp_path / "slice.npz"
    np.savez(slice_path, x=data["x"][index], y=data["y"][index], votes=data["votes"][index])
    out = tmp_path / "eval"
    result = _cli("evaluate", str(slice_path), "--model", str(trained["out"]), "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "FER2013 label" in result.stdout and "FER+ majority" in result.stdout and "macro-F1" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["images"] == len(index)
    assert sum(map(sum, report["reports"]["fer2013"]["confusion"])) == len(index)
    for name in ("confusion_fer2013.png", "confusion_ferplus.png", "feature_maps.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG"


def test_ensemble_serves_the_mean_of_its_members(trained, val_npz, tmp_path):
    import shutil

    from fer_engine.classifier import DEFAULT_MODEL_DIR, EmotionClassifier, member_dirs

    served = tmp_path / "served"
    shutil.copytree(trained["out"], served / "fresh")
    shutil.copytree(member_dirs(DEFAULT_MODEL_DIR)[0], served / "committed")
    val = np.load(val_npz)
    scored = tmp_path / "val_slice.npz"  # every tenth face: the scores are recorded, not judged here
    np.savez(scored, **{key: val[key][::10] for key in ("x", "y", "votes")})
    result = _cli("ensemble", str(served / "fresh"), str(served / "committed"), "--out", str(served),
                  "--val-data", str(scored))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((served / "ensemble.json").read_text())
    assert record["members"] == ["fresh", "committed"] and "ferplus" in record["validation"]["ensemble"]
    assert sum(map(sum, record["validation"]["ensemble"]["fer2013"]["confusion"])) == len(val["y"][::10])
    crops = val["x"][::400]
    together = EmotionClassifier(served).predict(crops)
    alone = [EmotionClassifier(served / name).predict(crops) for name in ("fresh", "committed")]
    assert np.allclose(together, (alone[0] + alone[1]) / 2, atol=1e-6)


def test_calibrate_writes_a_decision_rule_the_classifier_applies(tmp_path, val_npz):
    import shutil

    from fer_engine.classifier import DEFAULT_MODEL_DIR, EmotionClassifier, member_dirs
    from fer_engine.training.calibrate import TAUS, decision_weights

    if not (DATA / "dev").exists():
        pytest.skip("shared data missing: dev/")
    model = tmp_path / "model"
    shutil.copytree(member_dirs(DEFAULT_MODEL_DIR)[0], model)
    meta = json.loads((model / "metadata.json").read_text())
    meta.pop("decision", None)
    (model / "metadata.json").write_text(json.dumps(meta))
    result = _cli("calibrate", "--model", str(model), "--per-class", "3", "--val-data", str(val_npz))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "<- chosen" in result.stdout
    decision = json.loads((model / "metadata.json").read_text())["decision"]
    assert ("no tau keeps" in result.stdout) != decision["neutral_limit_met"]
    assert decision["tau"] in TAUS and len(decision["table"]) == len(TAUS)
    unruled = decision["table"][0]  # tau 0: the plain mirrored probabilities
    val = np.load(val_npz)
    plain = EmotionClassifier(model).predict(val["x"], flip=True, decide=False).argmax(axis=1)
    # One batch of faces and mirror images against two batches: int8 kernels may break a tie differently.
    assert np.isclose(unruled["val_fer2013_accuracy"], (plain == val["y"]).mean(), atol=1e-3)
    accuracies = [unruled[f"{name}_accuracy"] for name in decision["chosen_on"]]
    assert len(accuracies) == 4 and np.isclose(unruled["mean_accuracy"], np.mean(accuracies))
    assert np.isclose(sum(decision["prior"]), 1, atol=1e-3) and max(decision["class_weights"]) == 1
    assert np.allclose(decision["class_weights"], decision_weights(np.array(decision["prior"]), decision["tau"]),
                       atol=1e-3)  # fmt: skip
    crops = np.load(val_npz)["x"][::500]
    classifier = EmotionClassifier(model)
    raw, decided = classifier.predict(crops, decide=False), classifier.predict(crops)
    expected = raw * np.array(decision["class_weights"])
    assert np.allclose(decided, expected / expected.sum(axis=1, keepdims=True), atol=1e-5)


def test_calibrate_can_choose_single_pass_serving(tmp_path, val_npz):
    import shutil

    from fer_engine import Analyzer
    from fer_engine.classifier import DEFAULT_MODEL_DIR, member_dirs

    if not (DATA / "dev").exists():
        pytest.skip("shared data missing: dev/")
    model = tmp_path / "model"
    shutil.copytree(member_dirs(DEFAULT_MODEL_DIR)[0], model)
    assert Analyzer(model).flip, "metadata without a serving mode: mirrored, as before"
    result = _cli("calibrate", "--model", str(model), "--per-class", "2", "--val-data", str(val_npz), "--no-flip")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((model / "metadata.json").read_text())
    assert meta["serving"] == {"mirror": False}
    analyzer = Analyzer(model)
    crops = np.load(val_npz)["x"][::700]
    assert not analyzer.flip and np.allclose(analyzer.classify_crops(crops), analyzer.classifier.predict(crops))
    assert Analyzer(model, flip=True).flip, "an explicit choice still wins"


def test_fine_tuning_without_its_starting_model_says_how_to_make_it(tmp_path):
    result = _cli("train", "--recipe", "mixed", "--init", str(tmp_path / "missing.weights.h5"), "--limit", "64",
                  "--run-dir", str(tmp_path / "run"), "--out", str(tmp_path / "out"))  # fmt: skip
    assert result.returncode == 2
    assert "missing.weights.h5 is missing" in result.stderr and "--recipe fer2013" in result.stderr
    assert "Traceback" not in result.stderr


def test_slimming_keeps_the_channels_with_the_largest_batch_norm_scale():
    import keras

    from fer_engine.training.model import build_model, resize_weights

    wide_stages, narrow_stages = ((8, 1, True), (16, 2, False)), ((4, 1, True), (6, 2, False))
    wide, narrow = build_model(wide_stages), build_model(narrow_stages)
    rng = np.random.default_rng(0)
    for layer in wide.layers:  # trained-looking weights: distinct scales, non-trivial statistics
        layer.set_weights([rng.normal(0, 1, w.shape).astype("float32") + (1.5 if "var" in v.name else 0)
                           for w, v in zip(layer.get_weights(), layer.weights, strict=True)])  # fmt: skip
    resize_weights(wide, narrow)
    gamma = np.abs(wide.get_layer("s0_bn0").get_weights()[0])
    keep = np.sort(np.argsort(gamma)[::-1][:4])
    faces = rng.integers(0, 255, (3, 48, 48, 1)).astype("float32")
    first = [keras.Model(m.input, m.get_layer("s0_relu0").output)(faces).numpy() for m in (wide, narrow)]
    assert np.allclose(first[0][..., keep], first[1], atol=1e-5), "the first stage is cut exactly"
    assert narrow.get_layer("fc").get_weights()[0].shape == (6, 256)
    assert np.array_equal(narrow.get_layer("emotion").get_weights()[0], wide.get_layer("emotion").get_weights()[0])


def test_widening_starts_the_wider_net_as_the_same_function():
    from fer_engine.training.model import build_model, resize_weights

    narrow_stages, wide_stages = ((4, 1, True), (6, 2, False)), ((4, 1, True), (10, 2, False))
    narrow, wide = build_model(narrow_stages), build_model(wide_stages)
    rng = np.random.default_rng(1)
    for layer in narrow.layers:  # trained-looking weights: distinct scales, positive variances
        layer.set_weights([rng.uniform(0.5, 2, w.shape).astype("float32") if "var" in v.name
                           else rng.normal(0, 0.3, w.shape).astype("float32")
                           for w, v in zip(layer.get_weights(), layer.weights, strict=True)])  # fmt: skip
    resize_weights(narrow, wide, seed=3)
    faces = rng.integers(0, 255, (4, 48, 48, 1)).astype("float32")
    assert np.allclose(narrow.predict(faces, verbose=0), wide.predict(faces, verbose=0), atol=1e-5)
    kernel = wide.get_layer("s1_conv1").get_weights()[0]
    assert kernel.shape == (3, 3, 10, 10)
    # The copies of a channel are not clones: the next layer reads them with different weights.
    fc = wide.get_layer("fc").get_weights()[0]
    copies = [np.flatnonzero(np.all(np.isclose(kernel[..., c : c + 1], kernel), axis=(0, 1, 2))) for c in range(6)]
    copied = next(c for c in copies if len(c) > 1)
    assert not np.allclose(fc[copied[0]], fc[copied[1]])


def test_wide_recipe_trains_a_wider_net_from_a_served_model(trained, tmp_path, train_npz, val_npz, photos_dir):
    from fer_engine import Analyzer
    from fer_engine.training.model import WIDE_STAGES, stages_of
    from fer_engine.training.train import recipe, train

    start = str(trained["out"] / "fer_cnn.weights.h5")
    settings = recipe("wide", train_path=str(train_npz), val_path=str(val_npz), init_weights=start, affectnet_path=None,
                      limit=160, val_limit=300, batch_size=64, epochs=1, dev_sets=())  # fmt: skip
    out = tmp_path / "out"
    meta = train(settings, tmp_path / "run", out)
    assert stages_of(out / "fer_cnn.weights.h5") == WIDE_STAGES
    narrow = json.loads((trained["out"] / "metadata.json").read_text())["parameters"]
    assert meta["parameters"] > 1.5 * narrow
    [face] = Analyzer(out).analyze_file(photos_dir / "obama.jpg").faces
    assert len(face.probabilities) == 7


def test_slim_recipe_distils_teachers_into_a_narrower_net(trained, tmp_path, train_npz, val_npz, photos_dir):
    from fer_engine import Analyzer
    from fer_engine.training.model import SLIM_STAGES, load_keras_model, stages_of
    from fer_engine.training.train import TEACHER_TARGETS, recipe, train

    start = str(trained["out"] / "fer_cnn.weights.h5")
    settings = recipe("slim", train_path=str(train_npz), val_path=str(val_npz), init_weights=start, teachers=(start,),
                      limit=160, val_limit=300, batch_size=64, epochs=1, dev_sets=())  # fmt: skip
    out = tmp_path / "out"
    meta = train(settings, tmp_path / "run", out)
    assert stages_of(out / "fer_cnn.weights.h5") == SLIM_STAGES
    wide = json.loads((trained["out"] / "metadata.json").read_text())["parameters"]
    assert meta["parameters"] < 0.6 * wide and meta["settings"]["teacher_weight"] == 0.7
    taught = np.load(tmp_path / "run" / TEACHER_TARGETS)
    affectnet = meta["data"]["affectnet"]["images"] if meta["data"]["affectnet"] else 0
    assert taught.shape == (160 + affectnet, 7) and np.allclose(taught.sum(axis=1), 1, atol=1e-4)
    assert load_keras_model(out / "fer_cnn.weights.h5").count_params() == meta["parameters"]
    [face] = Analyzer(out).analyze_file(photos_dir / "obama.jpg").faces
    assert len(face.probabilities) == 7


def test_distilling_without_the_teachers_says_how_to_make_them(tmp_path):
    from fer_engine.training.train import recipe, train

    with pytest.raises(FileNotFoundError, match="teacher weights missing"):
        train(recipe("slim", teachers=(str(tmp_path / "nope.weights.h5"),)), tmp_path / "run", None)


def test_soup_serves_the_mean_of_its_ingredients_weights(trained, fine_tuned, tmp_path, photos_dir):
    from fer_engine import Analyzer
    from fer_engine.training.model import load_keras_model

    members = [trained["out"], fine_tuned / "out"]
    result = _cli("soup", *map(str, members), "--out", str(tmp_path / "soup"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "validation accuracy" in result.stdout
    meta = json.loads((tmp_path / "soup" / "metadata.json").read_text())
    assert [i["folder"] for i in meta["soup"]] == [str(m) for m in members]
    weights = [load_keras_model(m / "fer_cnn.weights.h5").get_weights() for m in [*members, tmp_path / "soup"]]
    for first, second, soup in zip(*weights, strict=True):
        assert np.allclose(soup, (first + second) / 2, atol=1e-6)
    assert "history" not in meta and "epochs" not in meta and meta["soup"][1]["epochs"] == 1
    assert meta["tflite_check"]["top1_agreement_with_keras"] >= 0.97
    [face] = Analyzer(tmp_path / "soup").analyze_file(photos_dir / "obama.jpg").faces
    assert len(face.probabilities) == 7


def test_soup_refuses_models_of_different_shapes(trained, tmp_path):
    import shutil

    other = tmp_path / "other"
    shutil.copytree(trained["out"], other)
    meta = json.loads((other / "metadata.json").read_text())
    meta["settings"]["stages"] = [[8, 1, True]]
    (other / "metadata.json").write_text(json.dumps(meta))
    for greedy in ((), ("--greedy",)):  # the greedy choice refuses them before scoring anything
        result = _cli("soup", *greedy, str(trained["out"]), str(other), "--out", str(tmp_path / "soup"))
        assert result.returncode == 2 and "one architecture" in result.stderr
    alone = _cli("soup", str(trained["out"]), "--out", str(tmp_path / "soup"))
    assert alone.returncode == 2 and "at least two" in alone.stderr
    unchosen = _cli("soup", "--search", "forward", str(trained["out"]), str(trained["out"]), "--out",
                    str(tmp_path / "soup"))  # fmt: skip
    assert unchosen.returncode == 2 and "add --greedy" in unchosen.stderr
    assert not (tmp_path / "soup").exists()


def test_greedy_selection_keeps_a_candidate_only_when_the_soup_does_not_get_worse():
    from fer_engine.training.soup import greedy_selection

    quality = {Path("a"): 0.60, Path("b"): 0.50, Path("c"): 0.30, Path("d"): 0.55}

    def score(members):  # in a soup, b and d each add 0.1 (they complement a); c only drags it down
        bonus = 0.1 * len({Path("b"), Path("d")} & set(members)) if len(members) > 1 else 0.0
        mean = float(np.mean([quality[m] for m in members])) + bonus
        return {"easy": mean + 0.2, "hard": mean - 0.2}  # per set; the choice follows their mean

    kept, table = greedy_selection(list(quality), score)
    assert kept == [Path("a"), Path("d"), Path("b")]
    assert [row["folder"] for row in table] == ["a", "d", "b", "c"]  # ranked by their own score
    assert [row["kept"] for row in table] == [True, True, True, False]
    assert table[1]["soup_score"] == pytest.approx(0.675) and table[3]["own_score"] == pytest.approx(0.30)
    assert table[1]["soup"] == {"easy": pytest.approx(0.875), "hard": pytest.approx(0.475)}


def test_forward_selection_finds_the_soup_that_the_ranked_path_passes_by():
    from fer_engine.training.soup import forward_selection, greedy_selection

    a, b, c = Path("a"), Path("b"), Path("c")
    # b hurts a alone but helps once c is in: the ranked path tries b too early and never again.
    means = {frozenset(m): v for m, v in (((a,), 0.60), ((b,), 0.58), ((c,), 0.50), ((a, b), 0.59),
                                          ((a, c), 0.62), ((b, c), 0.55), ((a, b, c), 0.66))}  # fmt: skip

    def score(members):
        mean = means[frozenset(members)]
        return {"easy": mean + 0.1, "hard": mean - 0.1}

    assert greedy_selection([a, b, c], score)[0] == [a, c]
    kept, table = forward_selection([a, b, c], score)
    assert kept == [a, c, b]
    assert [(row["folder"], row["kept"]) for row in table] == [("a", True), ("c", True), ("b", True)]
    assert [row["soup_score"] for row in table] == pytest.approx([0.60, 0.62, 0.66])
    assert table[2]["own_score"] == pytest.approx(0.58)
    # Stops when no candidate raises the soup: without c, b is tried once and left out.
    kept, table = forward_selection([a, b], score)
    assert kept == [a] and [(row["folder"], row["kept"]) for row in table] == [("a", True), ("b", False)]
    assert table[1]["soup_score"] == pytest.approx(0.59)


def test_greedy_soup_scores_candidates_on_val_and_dev_and_records_the_choice(trained, fine_tuned, tmp_path):
    # One CLI run (each scores val.npz several times); the two searches' logic is tested above.
    candidates = [str(trained["out"]), str(fine_tuned / "out")]
    result = _cli("soup", "--greedy", "--search", "forward", *candidates, "--per-class", "2",
                  "--out", str(tmp_path / "soup"))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((tmp_path / "soup" / "metadata.json").read_text())
    assert meta["soup_selection"]["method"].startswith("forward")
    table = meta["soup_selection"]["table"]
    assert sorted(row["folder"] for row in table) == sorted(candidates)
    assert table[0]["own_score"] >= table[1]["own_score"] and table[0]["kept"]
    assert all(0 <= row["own_score"] <= 1 and 0 <= row["soup_score"] <= 1 for row in table)
    assert set(table[0]["own"]) == {"val_ferplus", "val_fer2013", "posed_tw", "sfew_train"}
    assert table[0]["own_score"] == pytest.approx(np.mean(list(table[0]["own"].values())))
    assert [i["folder"] for i in meta["soup"]] == [row["folder"] for row in table if row["kept"]]
    assert f"{table[1]['folder']}: alone" in result.stdout


def test_mixup_blends_each_face_its_target_and_its_weight_with_one_partner():
    import tensorflow as tf

    from fer_engine.training.train import mixup_batch

    rng = np.random.default_rng(0)
    faces = rng.uniform(0, 255, (7, 48, 48, 1)).astype(np.float32)
    targets = np.eye(7, dtype=np.float32)  # one class per face: the blended target names share and partner
    weights = np.arange(1, 8, dtype=np.float32)
    mixed, mixed_targets, mixed_weights = (t.numpy() for t in mixup_batch(tf.constant(faces), tf.constant(targets),
                                                                          tf.constant(weights), 0.4))  # fmt: skip
    assert np.allclose(mixed_targets.sum(axis=1), 1.0)
    for i, target in enumerate(mixed_targets):
        share = target[i]  # the row is share x (face i's class) + (1 - share) x (its partner's class)
        others = np.where(np.arange(7) == i, -1.0, target)
        partner = i if np.isclose(share, 1.0) else int(np.argmax(others))
        assert np.allclose(mixed[i], share * faces[i] + (1 - share) * faces[partner], atol=1e-2)
        assert np.isclose(mixed_weights[i], share * weights[i] + (1 - share) * weights[partner], atol=1e-4)


def test_cutmix_pastes_one_rectangle_of_one_partner_and_blends_targets_by_its_area():
    import tensorflow as tf

    from fer_engine.training.train import cutmix_batch

    tf.random.set_seed(3)
    rng = np.random.default_rng(0)
    count = 64
    faces = rng.uniform(0, 255, (count, 48, 48, 1)).astype(np.float32)
    faces += np.arange(count, dtype=np.float32)[:, None, None, None] * 1000  # each pixel names its face
    targets = np.eye(count, dtype=np.float32)
    weights = np.arange(1, count + 1, dtype=np.float32)
    mixed, mixed_targets, mixed_weights = (t.numpy() for t in cutmix_batch(tf.constant(faces), tf.constant(targets),
                                                                           tf.constant(weights), 1.0))  # fmt: skip
    untouched = 0
    for i in range(count):
        source = (mixed[i, ..., 0] // 1000).astype(int)
        own = source == i
        share = own.mean()
        assert np.isclose(mixed_targets[i, i], share, atol=1e-5), "the target keeps the face's own area"
        if share == 1.0:
            untouched += 1
            assert np.array_equal(mixed[i], faces[i])
            continue
        [partner] = set(source[~own].tolist())
        rows, cols = np.nonzero(~own)
        assert (~own)[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all(), "the patch is one rectangle"
        assert np.array_equal(mixed[i][~own], faces[partner][~own]), "pasted where it sits in the partner"
        assert np.isclose(mixed_targets[i, partner], 1 - share, atol=1e-5)
        assert np.isclose(mixed_weights[i], share * weights[i] + (1 - share) * weights[partner], rtol=1e-5)
    assert 0 < untouched < count, "only some of the faces get a patch"
